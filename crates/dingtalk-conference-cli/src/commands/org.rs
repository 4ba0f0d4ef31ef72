//! `ongoing`: the conferences in progress, the organisation's or one user's; `nick` and
//! `subtitles`: a member's nickname and a conference's subtitle events.

use std::fmt;

use chrono::{DateTime, Local, TimeZone, Utc};
use clap::Subcommand;
use dingtalk_conference::{
    AttendStatus, ConferenceSummary, MemberNick, OrgConference, SubtitleEvents, UserConferences,
};

use super::Context;
use crate::Failure;
use crate::cli::{conference_id, union_id};
use crate::render::{self, ABSENT, clean};

/// The organisation's commands.
#[derive(Subcommand)]
pub(crate) enum Org {
    /// List the conferences in progress: the organisation's, or one user's.
    #[command(long_about = "\
List the conferences in progress in the organisation, one row each: title, conference id, room
code, start (local time) and how many people are in it now (from the batch status query, one
more request per 20 conferences). All pages are read.

With --user-id, the conferences in progress that this user takes part in instead, with the
user's status and role in each.

With --json, prints DingTalk's onGoingConfList objects (every page's) as a JSON array; with
--user-id, DingTalk's answer to queryUserOnGoingConference (onGoingConfIdList and
memberModelMap).")]
    Ongoing {
        /// Only the conferences this user (a unionId) takes part in.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: Option<String>,

        /// Ask DingTalk for pages of N conferences (default: DingTalk's); all pages are read.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "user_id")]
        page_size: Option<u32>,
    },

    /// Change a member's nickname in a conference.
    #[command(long_about = "\
Change how a member is shown in a conference (DingTalk's updateMemberNick, undocumented by
DingTalk). Someone who is not a member gets DingTalk's unknownUserError (exit code 2); an ended
conference gets confClosed (exit code 9). Setting the same nickname again changes nothing.

With --json, prints {\"success\": true}.")]
    Nick {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// unionId of the member to rename.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        member: String,

        /// The new nickname.
        #[arg(long, value_name = "NICK", value_parser = nick)]
        nick: String,
    },

    /// Turn a conference's subtitle events on or off.
    #[command(long_about = "\
Turn the push of a conference's subtitle events (speech-to-text results) to the app on or off
(DingTalk's setSubtitleEvent, undocumented by DingTalk). An ended conference gets confClosed
(exit code 9).

With --json, prints {\"success\": true}.")]
    Subtitles {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// Turn them on.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,

        /// Turn them off.
        #[arg(long)]
        off: bool,
    },
}

/// A nickname: the spec's check of `updateMemberNick`'s `nick` (not blank).
fn nick(value: &str) -> Result<String, String> {
    let request = dingtalk_conference_api::types::UpdateMemberNickRequest {
        nick: value.to_string(),
        union_id: "u".to_string(),
    };
    dingtalk_conference_api::checks::update_member_nick::body(&request)
        .map(|()| value.to_string())
        .map_err(|error| error.to_string())
}

impl Org {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::Ongoing {
                user_id: Some(user),
                ..
            } => {
                let answer = cx.call(cx.client().user_ongoing_conferences(user)).await?;
                if cx.json() {
                    cx.out.json(&answer)
                } else {
                    cx.out.print(&user_table(&answer, &Local))
                }
            }
            Self::Ongoing {
                user_id: None,
                page_size,
            } => {
                let mut listing = cx.client().org_ongoing_conferences();
                if let Some(size) = page_size {
                    listing = listing.page_size(*size);
                }
                let conferences = cx.call(listing.collect()).await?;
                if cx.json() {
                    return cx.out.json(&conferences);
                }
                let ids: Vec<&str> = conferences
                    .iter()
                    .filter_map(|c| c.conference_id.as_deref())
                    .collect();
                let status = if ids.is_empty() {
                    Vec::new()
                } else {
                    cx.call(cx.client().conferences_status(&ids)).await?
                };
                cx.out.print(&org_table(&conferences, &status, &Local))
            }
            Self::Nick {
                conference_id,
                member,
                nick,
            } => {
                cx.call(
                    cx.client()
                        .rename_member(conference_id, MemberNick::new(member, nick)),
                )
                .await?;
                if cx.json() {
                    cx.out.json(&serde_json::json!({"success": true}))
                } else {
                    cx.out.print(&format!(
                        "{} is now shown as {}\n",
                        clean(member),
                        clean(nick)
                    ))
                }
            }
            Self::Subtitles {
                conference_id, on, ..
            } => {
                cx.call(
                    cx.client()
                        .set_subtitle_events(conference_id, SubtitleEvents::new(*on)),
                )
                .await?;
                if cx.json() {
                    cx.out.json(&serde_json::json!({"success": true}))
                } else {
                    let state = if *on { "on" } else { "off" };
                    cx.out.print(&format!(
                        "subtitle events of {} are {state}\n",
                        clean(conference_id)
                    ))
                }
            }
        }
    }
}

fn time<Tz: TimeZone>(value: Option<DateTime<Utc>>, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    value.map_or(ABSENT.to_string(), |t| render::local_time(t, tz))
}

/// The organisation's conferences as a table; PEOPLE counts the participants in each now,
/// from `status` (the batch answer), `-` for a conference it does not cover.
fn org_table<Tz: TimeZone>(
    conferences: &[OrgConference],
    status: &[ConferenceSummary],
    tz: &Tz,
) -> String
where
    Tz::Offset: fmt::Display,
{
    let people = |id: Option<&str>| {
        status
            .iter()
            .find(|s| s.conference_id.is_some() && s.conference_id.as_deref() == id)
            .map_or(ABSENT.to_string(), |s| {
                s.user_list
                    .iter()
                    .filter(|p| p.attend_status == Some(AttendStatus::InMeeting))
                    .count()
                    .to_string()
            })
    };
    let text = |value: Option<&str>| value.map_or(ABSENT.to_string(), clean);
    let rows: Vec<Vec<String>> = conferences
        .iter()
        .map(|c| {
            vec![
                text(c.title.as_deref()),
                text(c.conference_id.as_deref()),
                text(c.room_code.as_deref()),
                time(c.start_time, tz),
                people(c.conference_id.as_deref()),
            ]
        })
        .collect();
    render::table(
        &["TITLE", "CONFERENCE ID", "ROOM CODE", "STARTED", "PEOPLE"],
        &rows,
    )
}

/// One user's conferences in progress, with their status and role in each.
fn user_table<Tz: TimeZone>(answer: &UserConferences, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let rows: Vec<Vec<String>> = answer
        .conference_ids
        .iter()
        .map(|id| {
            let member = answer.members.get(id);
            let role = match member {
                Some(m) if m.host == Some(true) => "host",
                Some(m) if m.co_host == Some(true) => "co-host",
                _ => ABSENT,
            };
            vec![
                clean(id),
                member
                    .and_then(|m| m.attend_status)
                    .map_or(ABSENT.to_string(), |s| s.to_string()),
                role.to_string(),
                time(member.and_then(|m| m.join_time), tz),
            ]
        })
        .collect();
    render::table(&["CONFERENCE ID", "STATUS", "ROLE", "JOINED"], &rows)
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn the_organisation_table_shows_local_start_times_people_and_dashes() {
        let mut weekly = OrgConference::default();
        weekly.title = Some("周会".to_string());
        weekly.conference_id = Some("c1".to_string());
        weekly.room_code = Some("042726118".to_string());
        weekly.start_time = Some(
            DateTime::parse_from_rfc3339("2026-03-02T02:00:00Z")
                .expect("valid")
                .with_timezone(&Utc),
        );
        let summary: ConferenceSummary = serde_json::from_value(serde_json::json!({
            "conferenceId": "c1",
            "userList": [{"attendStatus": 3}, {"attendStatus": 3}, {"attendStatus": 2}],
        }))
        .expect("a summary");
        let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let text = org_table(&[weekly, OrgConference::default()], &[summary], &beijing);
        assert_eq!(
            text,
            "TITLE  CONFERENCE ID  ROOM CODE  STARTED                     PEOPLE\n\
             周会   c1             042726118  2026-03-02 10:00:00 +08:00  2\n\
             -      -              -          -                           -\n"
        );
    }
}
