//! `schedule`: scheduled conferences (预约会议): create, show, update, cancel, and their
//! settings.

use chrono::{DateTime, FixedOffset, Local, Utc};
use clap::Subcommand;
use dingtalk_conference::{
    NewSchedule, Schedule, ScheduleCancellation, ScheduleSettings, ScheduleSwitch, ScheduleUpdate,
};
use dingtalk_conference_api::checks;
use dingtalk_conference_api::types::{ScheduleConfSettingModel, UpdateScheduleConferenceRequest};

use super::Context;
use crate::cli::{checked, union_id};
use crate::render::{self, ABSENT, clean};
use crate::time_arg::{TIME_HELP, epoch_millis, parse_time, utc_of_millis};
use crate::{Failure, say};

/// How many characters of a title DingTalk keeps (it cuts the rest).
const TITLE_KEPT_CHARS: usize = 50;

/// The schedule command and its subcommands.
#[derive(Subcommand)]
pub(crate) enum Schedules {
    /// Scheduled conferences (预约会议): create, show, update, cancel, settings.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
}

/// What `schedule` does.
#[derive(Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Schedule a conference for later; prints its schedule id.
    #[command(long_about = "\
Schedule a conference for later and print its schedule id (the room code and link go to stderr).
Whoever joins at or after --start holds the conference. --user-id is the creator: the only one who
may update or cancel it. DingTalk keeps the first 50 characters of the title and refuses over 256.

With --json, prints DingTalk's answer: scheduleConferenceId, roomCode, url, phones.

Scheduling is not retried after a timeout or a server error (a second schedule could result).")]
    Create {
        /// The title.
        #[arg(long, value_name = "TITLE", value_parser = title)]
        title: String,

        /// unionId of the creator.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,

        /// When it starts.
        #[arg(long, value_name = "TIME", value_parser = parse_time, help = time_help("When it starts"))]
        start: DateTime<FixedOffset>,

        /// When it ends (after the start).
        #[arg(long, value_name = "TIME", value_parser = parse_time, help = time_help("When it ends"))]
        end: DateTime<FixedOffset>,

        /// unionId of a co-host; repeat for several.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        cohost: Vec<String>,

        /// Mute everyone as they join.
        #[arg(long)]
        mute_on_join: bool,

        /// Lock the room: once someone is in, only the host and co-hosts may join.
        #[arg(long)]
        lock: bool,
    },

    /// Show a scheduled conference: title, window, room code, link.
    #[command(long_about = "\
Show a scheduled conference: title, schedule id, start and end (local time and UTC), room code,
link and dial-in numbers, as the user --user-id may see it (its creator, host or co-hosts, or
someone who took part). A cancelled schedule is DingTalk's resourceCancel.

With --json, prints DingTalk's answer.")]
    Show {
        /// The schedule id (scheduleConferenceId).
        #[arg(value_parser = schedule_id, value_name = "SCHEDULE_ID")]
        schedule_id: String,

        /// unionId of the user asking.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
    },

    /// Change a scheduled conference's title, start or end (creator only).
    #[command(long_about = "\
Change a scheduled conference's title, start or end. DingTalk needs all of them, so what is not
given is read first and sent unchanged. Only the creator (--user-id) may (permissionError). Sending
the same values twice is harmless, so a failure is retried.

Prints the schedule as it reads afterwards (with --json, DingTalk's answer to reading it).")]
    Update {
        /// The schedule id (scheduleConferenceId).
        #[arg(value_parser = schedule_id, value_name = "SCHEDULE_ID")]
        schedule_id: String,

        /// unionId of the creator.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,

        /// The new title.
        #[arg(long, value_name = "TITLE", value_parser = title)]
        title: Option<String>,

        /// The new start.
        #[arg(long, value_name = "TIME", value_parser = parse_time, help = time_help("The new start"))]
        start: Option<DateTime<FixedOffset>>,

        /// The new end.
        #[arg(long, value_name = "TIME", value_parser = parse_time, help = time_help("The new end"))]
        end: Option<DateTime<FixedOffset>>,
    },

    /// Cancel a scheduled conference (creator only).
    #[command(long_about = "\
Cancel a scheduled conference and print a confirmation line. Only the creator (--user-id) may
(permissionError). A schedule already cancelled is DingTalk's resourceCancel: after a cancel whose
answer was lost, that means it is done. With --json, prints nothing: the exit code says.

Cancelling is not retried after a timeout or a server error.")]
    Cancel {
        /// The schedule id (scheduleConferenceId).
        #[arg(value_parser = schedule_id, value_name = "SCHEDULE_ID")]
        schedule_id: String,

        /// unionId of the creator.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
    },

    /// Show a scheduled conference's settings.
    #[command(long_about = "\
Show a scheduled conference's settings as DingTalk reads them back: host, co-hosts, allowed
organisation, room lock, screen sharing, mute on join, waiting room, joining before the host, chat,
nick and microphone locks, anonymous web join, extension apps. (Recording, AI, push and owner
settings are not returned by DingTalk.)

With --json, prints DingTalk's scheduleConfSettingModel.")]
    Settings {
        /// The schedule id (scheduleConferenceId).
        #[arg(value_parser = schedule_id, value_name = "SCHEDULE_ID")]
        schedule_id: String,
    },
}

/// A time argument's help: what it is, then [`TIME_HELP`].
fn time_help(what: &str) -> String {
    format!("{what}: {TIME_HELP}")
}

/// A schedule id: the spec's `x-id: schedule`.
fn schedule_id(value: &str) -> Result<String, String> {
    checked(value, |value| {
        checks::ids::schedule("scheduleConferenceId", value)
    })
}

/// `--title`: the body's `title` as the spec constrains it (not blank, at most 256
/// characters), checked by the generated body check with stand-ins for the other fields.
fn title(value: &str) -> Result<String, String> {
    checked(value, |value| {
        let request = UpdateScheduleConferenceRequest {
            creator_union_id: "creator".to_string(),
            schedule_conference_id: "schedule".to_string(),
            title: value.to_string(),
            start_time: 0,
            end_time: 1,
        };
        checks::update_schedule_conference::body(&request)
    })
}

fn note_title(title: &str) {
    if title.chars().count() > TITLE_KEPT_CHARS {
        say(&format!(
            "note: DingTalk keeps only the first {TITLE_KEPT_CHARS} characters of the title"
        ));
    }
}

/// `end` after `start`, or a clear error before any request.
fn check_window(start: i64, end: i64) -> Result<(), Failure> {
    if end <= start {
        return Err(Failure::Usage("--end must be after --start".to_string()));
    }
    Ok(())
}

impl Schedules {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Schedule { command } = self;
        match command {
            ScheduleCommand::Create {
                title,
                user_id,
                start,
                end,
                cohost,
                mute_on_join,
                lock,
            } => {
                let (start, end) = (epoch_millis(start), epoch_millis(end));
                check_window(start, end)?;
                note_title(title);
                let mut schedule =
                    NewSchedule::new(user_id, title, utc_of_millis(start)?, utc_of_millis(end)?);
                if !cohost.is_empty() || *mute_on_join || *lock {
                    schedule = schedule.settings(ScheduleConfSettingModel {
                        cohost_union_ids: cohost.clone(),
                        mute_on_join: mute_on_join.then_some(-1),
                        lock_room: lock.then_some(1),
                        ..ScheduleConfSettingModel::default()
                    });
                }
                let created = cx.call(cx.client().schedule_conference(schedule)).await?;
                let Some(id) = created.schedule_id.as_deref() else {
                    return Err(Failure::Other(
                        "DingTalk answered without the new schedule's id".to_string(),
                    ));
                };
                say(&clean(&format!(
                    "scheduled conference {id}: room code {}, link {}",
                    created.room_code.as_deref().unwrap_or(ABSENT),
                    created.join_url.as_deref().unwrap_or(ABSENT)
                )));
                if cx.json() {
                    cx.out.json(&created)
                } else {
                    cx.out.print(&format!("{}\n", clean(id)))
                }
            }
            ScheduleCommand::Show {
                schedule_id,
                user_id,
            } => {
                let schedule = cx.call(cx.client().schedule(schedule_id, user_id)).await?;
                if cx.json() {
                    cx.out.json(&schedule)
                } else {
                    cx.out.print(&schedule_text(&schedule, &Local))
                }
            }
            ScheduleCommand::Update {
                schedule_id,
                user_id,
                title,
                start,
                end,
            } => {
                let current = if title.is_some() && start.is_some() && end.is_some() {
                    None
                } else {
                    Some(cx.call(cx.client().schedule(schedule_id, user_id)).await?)
                };
                let known = |given: Option<i64>, read: Option<DateTime<Utc>>, flag: &str| {
                    given
                        .or_else(|| read.map(|t| t.timestamp_millis()))
                        .ok_or_else(|| {
                            Failure::Other(format!(
                                "DingTalk did not say the schedule's {flag}; give --{flag}"
                            ))
                        })
                };
                let new_start = known(
                    start.as_ref().map(epoch_millis),
                    current.as_ref().and_then(|c| c.start_time),
                    "start",
                )?;
                let new_end = known(
                    end.as_ref().map(epoch_millis),
                    current.as_ref().and_then(|c| c.end_time),
                    "end",
                )?;
                check_window(new_start, new_end)?;
                let new_title = match (title, current.as_ref().and_then(|c| c.title.clone())) {
                    (Some(title), _) => title.clone(),
                    (None, Some(title)) => title,
                    (None, None) => {
                        return Err(Failure::Other(
                            "DingTalk did not say the schedule's title; give --title".to_string(),
                        ));
                    }
                };
                note_title(&new_title);
                cx.call(cx.client().update_schedule(ScheduleUpdate::new(
                    user_id,
                    schedule_id,
                    new_title,
                    utc_of_millis(new_start)?,
                    utc_of_millis(new_end)?,
                )))
                .await?;
                let after = cx.call(cx.client().schedule(schedule_id, user_id)).await?;
                if cx.json() {
                    cx.out.json(&after)
                } else {
                    say(&format!("updated schedule {}", clean(schedule_id)));
                    cx.out.print(&schedule_text(&after, &Local))
                }
            }
            ScheduleCommand::Cancel {
                schedule_id,
                user_id,
            } => {
                cx.call(
                    cx.client()
                        .cancel_schedule(ScheduleCancellation::new(user_id, schedule_id)),
                )
                .await?;
                if cx.json() {
                    Ok(())
                } else {
                    cx.out
                        .print(&format!("cancelled schedule {}\n", clean(schedule_id)))
                }
            }
            ScheduleCommand::Settings { schedule_id } => {
                let settings = cx.call(cx.client().schedule_settings(schedule_id)).await?;
                if cx.json() {
                    cx.out.json(&settings)
                } else {
                    cx.out.print(&settings_text(&settings))
                }
            }
        }
    }
}

/// A schedule as `label  value` rows, times in `tz` and UTC.
fn schedule_text<Tz: chrono::TimeZone>(schedule: &Schedule, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let text = |value: Option<&str>| value.map_or(ABSENT.to_string(), clean);
    let time =
        |value: Option<DateTime<Utc>>| value.map_or(ABSENT.to_string(), |t| render::time_in(t, tz));
    render::rows(&[
        ("title", text(schedule.title.as_deref())),
        ("schedule id", text(schedule.schedule_id.as_deref())),
        ("start", time(schedule.start_time)),
        ("end", time(schedule.end_time)),
        ("room code", text(schedule.room_code.as_deref())),
        ("link", text(schedule.join_url.as_deref())),
        (
            "dial-in",
            if schedule.phones.is_empty() {
                ABSENT.to_string()
            } else {
                clean(&schedule.phones.join(", "))
            },
        ),
    ])
}

/// A 0/1 switch as `on`/`off` (or its raw value).
fn switch(value: Option<ScheduleSwitch>) -> String {
    value.map_or(ABSENT.to_string(), |v| v.to_string())
}

/// The settings as `label  value` rows.
fn settings_text(settings: &ScheduleSettings) -> String {
    let text = |value: Option<&str>| value.map_or(ABSENT.to_string(), clean);
    let list = |items: &[String]| {
        if items.is_empty() {
            ABSENT.to_string()
        } else {
            clean(&items.join(", "))
        }
    };
    let extra = settings
        .mozi_conf_virtual_extra_setting
        .clone()
        .unwrap_or_default();
    let apps: Vec<String> = extra
        .extension_apps
        .iter()
        .map(|app| {
            format!(
                "{} (opens: {})",
                app.cool_app_code.as_deref().unwrap_or(ABSENT),
                app.auto_open_mode
                    .as_ref()
                    .map_or(ABSENT.to_string(), ToString::to_string)
            )
        })
        .collect();
    render::rows(&[
        ("host", text(settings.host.as_deref())),
        ("co-hosts", list(&settings.cohosts)),
        (
            "allowed organisation",
            text(settings.allowed_corp_id.as_deref()),
        ),
        ("room locked", switch(settings.lock_room)),
        (
            "screen sharing forbidden",
            switch(settings.screen_share_forbidden),
        ),
        (
            "mute on join",
            settings
                .mute_on_join
                .as_ref()
                .map_or(ABSENT.to_string(), ToString::to_string),
        ),
        ("waiting room", switch(extra.waiting_room)),
        ("join before host", switch(extra.join_before_host)),
        ("chat", switch(extra.enable_chat)),
        ("nick locked", switch(extra.lock_nick)),
        (
            "unmuting self forbidden",
            switch(extra.lock_media_status_mic_mute),
        ),
        (
            "anonymous web join",
            extra
                .enable_web_anonymous_join
                .map_or(ABSENT.to_string(), |on| {
                    if on { "yes" } else { "no" }.to_string()
                }),
        ),
        ("extension apps", list(&apps)),
    ])
}
