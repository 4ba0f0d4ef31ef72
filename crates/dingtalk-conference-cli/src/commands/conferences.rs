//! Conferences as a whole: `info` (by id, or every conference with a room code), `status` of
//! several, `create` and `close`.

use std::fmt;

use chrono::{DateTime, Local, TimeZone, Utc};
use clap::{ArgGroup, Subcommand};
use dingtalk_conference::{
    AttendStatus, ConferenceInfo, ConferenceSummary, NewConference, RoomConference,
};
use futures_util::StreamExt as _;

use dingtalk_conference_api::checks;
use dingtalk_conference_api::types::CreateVideoConferenceRequest;

use super::Context;
use crate::cli::{checked, conference_id, union_id};
use crate::render::{self, ABSENT, clean};
use crate::{Failure, say};

/// How many characters of a title DingTalk keeps (it cuts the rest).
const TITLE_KEPT_CHARS: usize = 50;

/// The conference commands.
#[derive(Subcommand)]
pub(crate) enum Conferences {
    /// Show a conference (status, times, people, link, recording), or all with a room code.
    #[command(group = ArgGroup::new("which").required(true).args(["conference_id", "room_code"]))]
    #[command(long_about = "\
Show a conference: title, id, status, type, start and end (local time and UTC), duration, people
(active, attended, invited), creator, room code, join link, cloud recording and extension apps.
Fields DingTalk did not send print as '-'. With --json, prints the conference in DingTalk's JSON
form (the confInfo object) and nothing else.

With --room-code CODE instead of an id: every conference that uses that room code (a recurring
meeting's instances share one), oldest first, one block each, all pages fetched. With --json, a
JSON array of DingTalk's conferenceList objects (empty when no conference uses the code).")]
    Info {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: Option<String>,

        /// List the conferences with this room code (the digits people type to join) instead.
        #[arg(long, value_name = "CODE", value_parser = room_code)]
        room_code: Option<String>,

        /// With --room-code: ask DingTalk for pages of N conferences (all pages are read).
        #[arg(
            long,
            value_name = "N",
            // Not `requires = "room_code"`: clap takes any member of the group for it
            // (clap-rs/clap#4707).
            conflicts_with = "conference_id",
            value_parser = clap::value_parser!(u32).range(1..)
        )]
        page_size: Option<u32>,

        /// Query this many times and show the last answer (for measuring the client's
        /// footprint; see BENCHMARKS.md).
        #[arg(
            long,
            default_value_t = 1,
            value_parser = clap::value_parser!(u32).range(1..),
            conflicts_with = "room_code",
            hide = true
        )]
        repeat: u32,
    },

    /// Show which of several conferences are in progress, with their people.
    #[command(long_about = "\
Show which of several conferences are in progress: one line per id, in the order given, with the
status, title, start (local time) and people (active: in the conference now; attended: joined at
some point, including those who left or were removed). DingTalk answers only for conferences in
progress, so an ended, not yet started or unknown id prints as 'not in progress (or unknown)'.

With --json, prints the JSON array of conferences exactly as DingTalk sends them (its infos
list): only those in progress, each with its userList.")]
    Status {
        /// The conference ids, e.g. 6323d7568777190142ab9d10 65c6f2a1e4b0c7d93a1f0e27.
        #[arg(
            value_parser = conference_id,
            value_name = "CONFERENCE_ID",
            required = true,
            num_args = 1..
        )]
        conference_ids: Vec<String>,
    },

    /// Create an instant conference, which starts at once; prints its id.
    #[command(long_about = "\
Create an instant conference, which starts at once, with --user-id as its organiser and host, and
print its id alone on stdout (for scripts: ID=$(dingtalk-conference create ...)). Its room code
and join link go to stderr.

With --json, prints every field DingTalk returned, in its JSON form: conferenceId, roomCode,
externalLinkUrl, phoneNumbers, and the meeting's secrets conferencePassword and hostPassword.
Those two are printed nowhere else: not in the text output, not in errors or logs; keep the JSON
where only those who may host the meeting can read it.

Creating is not retried after a timeout or a server error (the conference may exist): look for
it (info --room-code, or status) before creating again.")]
    Create {
        /// The title; DingTalk keeps the first 50 characters and refuses over 256.
        #[arg(long, value_name = "TITLE", value_parser = title)]
        title: String,

        /// unionId of the organiser, who becomes the host (and the one who may close it).
        #[arg(long, value_name = "UNION_ID", value_parser = user_id)]
        user_id: String,

        /// unionId of a colleague to call into the conference; repeat for several.
        #[arg(long, value_name = "UNION_ID", value_parser = invitee)]
        invite: Vec<String>,

        /// Do not call the organiser's own DingTalk (DingTalk calls it by default).
        #[arg(long)]
        no_call_organiser: bool,
    },

    /// Close a conference for everyone (host only).
    #[command(long_about = "\
Close a conference for everyone and print a confirmation line. Only the conference's host may
close it: --union-id is the host's unionId (otherwise DingTalk's noPermission, exit code 4). A
conference that has already ended is DingTalk's resourceClose (exit code 9); an unknown one
roomNotFound (exit code 3). With --json, prints nothing: the exit code says whether it closed.

Closing is not retried after a timeout or a server error: check the conference's status (info)
before closing again.")]
    Close {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// unionId of the host.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        union_id: String,
    },
}

impl Conferences {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::Info {
                room_code: Some(code),
                page_size,
                ..
            } => by_room_code(cx, code, *page_size).await,
            Self::Info {
                conference_id,
                repeat,
                ..
            } => {
                // clap requires the id when there is no room code.
                let Some(id) = conference_id else {
                    return Err(Failure::Usage(
                        "give a conference id or --room-code".to_string(),
                    ));
                };
                let client = cx.client();
                let info = cx
                    .call(async {
                        for _ in 1..*repeat {
                            client.conference_info(id).await?;
                        }
                        client.conference_info(id).await
                    })
                    .await?;
                print_conference(cx, &info)
            }
            Self::Status { conference_ids } => {
                let found = cx
                    .call(cx.client().conferences_status(conference_ids))
                    .await?;
                if cx.json() {
                    cx.out.json(&found)
                } else {
                    let text = status_lines(conference_ids, &found, &Local);
                    cx.out.print(&text)
                }
            }
            Self::Create {
                title,
                user_id,
                invite,
                no_call_organiser,
            } => {
                if title.chars().count() > TITLE_KEPT_CHARS {
                    say(&format!(
                        "note: DingTalk keeps only the first {TITLE_KEPT_CHARS} characters of \
                         the title"
                    ));
                }
                let mut conference = NewConference::new(user_id, title);
                for invitee in invite {
                    conference = conference.invite(invitee);
                }
                if *no_call_organiser {
                    conference = conference.call_organiser(false);
                }
                let created = cx.call(cx.client().create_conference(conference)).await?;
                let Some(id) = created.conference_id.as_deref() else {
                    // The facade refuses such an answer; kept out of reach of a panic anyway.
                    return Err(Failure::Other(
                        "DingTalk answered without the new conference's id".to_string(),
                    ));
                };
                // Never the passwords: only --json prints them.
                say(&clean(&format!(
                    "created conference {id}: room code {}, join link {}",
                    created.room_code.as_deref().unwrap_or(ABSENT),
                    created.join_url.as_deref().unwrap_or(ABSENT)
                )));
                if cx.json() {
                    cx.out.json(&created)
                } else {
                    cx.out.print(&format!("{}\n", clean(id)))
                }
            }
            Self::Close {
                conference_id,
                union_id,
            } => {
                cx.call(cx.client().close_conference(conference_id, union_id))
                    .await?;
                if cx.json() {
                    Ok(())
                } else {
                    cx.out
                        .print(&format!("closed conference {}\n", clean(conference_id)))
                }
            }
        }
    }
}

/// Prints a conference as `info` and `watch` do: the summary, or DingTalk's JSON.
pub(crate) fn print_conference(cx: &mut Context<'_>, info: &ConferenceInfo) -> Result<(), Failure> {
    if cx.json() {
        cx.out.json(info)
    } else {
        cx.out
            .print(&render::conference_summary(info, &Local, Utc::now()))
    }
}

/// `info --room-code`: every page, printed block by block as pages arrive (text), or as one
/// array (JSON).
async fn by_room_code(
    cx: &mut Context<'_>,
    code: &str,
    page_size: Option<u32>,
) -> Result<(), Failure> {
    let mut listing = cx.client().conferences_by_room_code(code);
    if let Some(size) = page_size {
        listing = listing.page_size(size);
    }
    let json = cx.json();
    let timeout = cx.global.timeout;
    let out = &mut *cx.out;
    let mut all = Vec::new();
    let mut count = 0_usize;
    super::within(timeout, async {
        let mut stream = std::pin::pin!(listing.stream());
        while let Some(conference) = stream.next().await {
            let conference = conference.map_err(Failure::Dingtalk)?;
            if json {
                all.push(conference);
            } else {
                let separator = if count == 0 { "" } else { "\n" };
                let block = room_conference_block(&conference, &Local, Utc::now());
                out.print(&format!("{separator}{block}"))?;
                if out.is_closed() {
                    break;
                }
            }
            count += 1;
        }
        Ok::<_, Failure>(())
    })
    .await??;
    if count == 0 {
        say(&format!("no conference uses room code {code}"));
    }
    if json { out.json(&all) } else { Ok(()) }
}

/// A room code's conference as a label/value block, like `info`'s.
fn room_conference_block<Tz: TimeZone>(
    conference: &RoomConference,
    tz: &Tz,
    now: DateTime<Utc>,
) -> String
where
    Tz::Offset: fmt::Display,
{
    let text = |value: &Option<String>| value.as_deref().map_or(ABSENT.to_string(), clean);
    let time =
        |value: Option<DateTime<Utc>>| value.map_or(ABSENT.to_string(), |t| render::time_in(t, tz));
    let mut rows: Vec<(&str, String)> = vec![
        ("title", text(&conference.title)),
        ("conference id", text(&conference.conference_id)),
        (
            "status",
            conference
                .status
                .map_or(ABSENT.to_string(), |s| s.to_string()),
        ),
        (
            "type",
            conference
                .biz_type
                .as_ref()
                .map_or(ABSENT.to_string(), |b| clean(&b.to_string())),
        ),
    ];
    if let Some(id) = &conference.schedule_conference_id {
        rows.push(("scheduled as", clean(id)));
    }
    rows.extend([
        ("start", time(conference.start_time)),
        ("end", time(conference.end_time)),
        (
            "duration",
            render::conference_duration(
                conference.duration,
                conference.status,
                conference.start_time,
                now,
            ),
        ),
        (
            "creator",
            render::person(
                conference.creator_nick.as_deref(),
                conference.creator_id.as_deref(),
            ),
        ),
        ("room code", text(&conference.room_code)),
        ("join link", text(&conference.join_url)),
    ]);
    render::rows(&rows)
}

/// `status`: one line per requested id, in the order given, aligned in columns.
fn status_lines<Tz: TimeZone>(requested: &[String], found: &[ConferenceSummary], tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let rows: Vec<Vec<String>> = requested
        .iter()
        .map(|id| {
            let Some(conference) = found
                .iter()
                .find(|c| c.conference_id.as_deref() == Some(id.as_str()))
            else {
                return vec![clean(id), "not in progress (or unknown)".to_string()];
            };
            let (active, attended) = people(conference);
            vec![
                clean(id),
                conference
                    .status
                    .map_or(ABSENT.to_string(), |s| s.to_string()),
                conference
                    .title
                    .as_deref()
                    .map_or(ABSENT.to_string(), clean),
                conference
                    .start_time
                    .map_or(ABSENT.to_string(), |t| render::local_time(t, tz)),
                format!("{active} active, {attended} attended"),
            ]
        })
        .collect();
    render::columns(&rows)
}

/// People in a conference in progress: (in it now, ever joined: in it, left or removed).
fn people(conference: &ConferenceSummary) -> (usize, usize) {
    let count = |wanted: &[AttendStatus]| {
        conference
            .user_list
            .iter()
            .filter(|p| p.attend_status.is_some_and(|s| wanted.contains(&s)))
            .count()
    };
    (
        count(&[AttendStatus::InMeeting]),
        count(&[
            AttendStatus::InMeeting,
            AttendStatus::Left,
            AttendStatus::Removed,
        ]),
    )
}

/// `--room-code`: the spec's `x-id: room-code`, digits only (a leading zero is kept).
fn room_code(value: &str) -> Result<String, String> {
    checked(value, checks::query_conference_info_by_room_code::room_code)
}

/// `--user-id`: the organiser's unionId, the body's `userId`.
fn user_id(value: &str) -> Result<String, String> {
    checked(value, |value| checks::ids::union("userId", value))
}

/// `--invite`: an invitee's unionId, an item of the body's `inviteUserIds`.
fn invitee(value: &str) -> Result<String, String> {
    checked(value, |value| checks::ids::union("inviteUserIds", value))
}

/// `--title`: the body's `confTitle` as the spec constrains it (not blank, at most
/// [`MAX_TITLE_CHARS`](dingtalk_conference::MAX_TITLE_CHARS) characters), checked by the generated body check with a stand-in
/// organiser, whose own check is `--user-id`'s.
fn title(value: &str) -> Result<String, String> {
    checked(value, |value| {
        let request = CreateVideoConferenceRequest {
            conf_title: value.to_string(),
            invite_caller: None,
            invite_user_ids: Vec::new(),
            user_id: "organiser".to_string(),
        };
        checks::create_video_conference::body(&request)
    })
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use dingtalk_conference::MAX_TITLE_CHARS;
    use dingtalk_conference::{ConferenceParticipant, ConferenceStatus};

    use super::*;

    fn beijing() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("valid offset")
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    fn participant(status: i64) -> ConferenceParticipant {
        let mut participant = ConferenceParticipant::default();
        participant.attend_status = Some(AttendStatus::from(status));
        participant
    }

    #[test]
    fn status_keeps_the_order_given_and_names_the_ids_left_out() {
        let mut weekly = ConferenceSummary::default();
        weekly.conference_id = Some("c-weekly".to_string());
        weekly.status = Some(ConferenceStatus::Started);
        weekly.title = Some("产品周会".to_string());
        weekly.start_time = Some(at("2026-03-02T02:00:00Z"));
        // In it, left, removed, being called, declined.
        weekly.user_list = [3, 3, 6, 5, 2, 4].into_iter().map(participant).collect();
        let mut bare = ConferenceSummary::default();
        bare.conference_id = Some("c2".to_string());

        let requested = ["gone", "c-weekly", "c2"].map(String::from);
        let text = status_lines(&requested, &[bare, weekly], &beijing());
        assert_eq!(
            text,
            "gone      not in progress (or unknown)\n\
             c-weekly  started  产品周会  2026-03-02 10:00:00 +08:00  2 active, 4 attended\n\
             c2        -        -         -                           0 active, 0 attended\n"
        );
    }

    #[test]
    fn status_escapes_what_the_network_sent() {
        let mut odd = ConferenceSummary::default();
        odd.conference_id = Some("c1".to_string());
        odd.title = Some("a\u{1b}[2Jb".to_string());
        let text = status_lines(&["c1".to_string()], &[odd], &beijing());
        assert!(text.contains(r"a\u{1b}[2Jb"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn a_room_conference_block_has_infos_rows_it_can_fill() {
        let mut conference = RoomConference::default();
        conference.conference_id = Some("c1".to_string());
        conference.title = Some("研发部月度例会".to_string());
        conference.status = Some(ConferenceStatus::Ended);
        conference.start_time = Some(at("2026-02-02T02:00:00Z"));
        conference.duration = Some(std::time::Duration::from_secs(3_600));
        conference.room_code = Some("042726118".to_string());
        conference.schedule_conference_id = Some("s1".to_string());
        let block = room_conference_block(&conference, &beijing(), Utc::now());
        assert_eq!(
            block,
            "title          研发部月度例会\n\
             conference id  c1\n\
             status         ended\n\
             type           -\n\
             scheduled as   s1\n\
             start          2026-02-02 10:00:00 +08:00 (02:00:00 UTC)\n\
             end            -\n\
             duration       1h 00m 00s\n\
             creator        -\n\
             room code      042726118\n\
             join link      -\n"
        );
    }

    #[test]
    fn room_codes_are_digits_and_titles_not_blank_nor_too_long() {
        assert_eq!(room_code("042726118"), Ok("042726118".to_string()));
        for bad in ["", "12a", " 123", "１２３", "-1"] {
            assert!(room_code(bad).is_err(), "{bad:?}");
        }
        assert!(title(" ").is_err());
        assert!(title(&"x".repeat(MAX_TITLE_CHARS + 1)).is_err());
        assert!(title(&"钉".repeat(MAX_TITLE_CHARS)).is_ok());
        // The spec's parameter names, as the facade and the fake server give them.
        assert!(title("").is_err_and(|e| e.starts_with("confTitle: ")));
        assert!(user_id(" ").is_err_and(|e| e.starts_with("userId: ")));
        assert!(invitee("").is_err_and(|e| e.starts_with("inviteUserIds: ")));
        assert!(room_code("x").is_err_and(|e| e.starts_with("roomCode: ")));
    }
}
