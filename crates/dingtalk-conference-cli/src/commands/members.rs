//! `members`: everyone invited to or in a conference.

use std::fmt;

use chrono::{DateTime, Local, TimeZone, Utc};
use clap::Subcommand;
use dingtalk_conference::ConferenceMember;

use super::Context;
use crate::Failure;
use crate::cli::conference_id;
use crate::render::{self, ABSENT, clean};

/// The members command.
#[derive(Subcommand)]
pub(crate) enum Members {
    /// List everyone invited to or in a conference, with their status and time in it.
    #[command(long_about = "\
List everyone invited to or in a conference, one row each: nick, unionId, attend status (being
called, in the conference, failed to join, removed, left, ...), role (host, co-host or -), when
they joined and left (local time), and their time in the conference. All pages are read.

With --json, prints a JSON array of DingTalk's memberModels objects, every page's.")]
    Members {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// Ask DingTalk for pages of N members (default: DingTalk's, 128); all pages are read.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        page_size: Option<u32>,
    },
}

impl Members {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Members {
            conference_id,
            page_size,
        } = self;
        let mut listing = cx.client().conference_members(conference_id);
        if let Some(size) = page_size {
            listing = listing.page_size(*size);
        }
        let members = cx.call(listing.collect()).await?;
        if cx.json() {
            cx.out.json(&members)
        } else {
            cx.out.print(&members_table(&members, &Local))
        }
    }
}

/// The members as an aligned table with a header.
fn members_table<Tz: TimeZone>(members: &[ConferenceMember], tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let time = |value: Option<DateTime<Utc>>| {
        value.map_or(ABSENT.to_string(), |t| {
            t.with_timezone(tz).format("%Y-%m-%d %H:%M:%S").to_string()
        })
    };
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|member| {
            vec![
                member
                    .user_nick
                    .as_deref()
                    .map_or(ABSENT.to_string(), clean),
                member.union_id.as_deref().map_or(ABSENT.to_string(), clean),
                member
                    .attend_status
                    .map_or(ABSENT.to_string(), |s| s.to_string()),
                role(member).to_string(),
                time(member.join_time),
                time(member.leave_time),
                member
                    .duration
                    .map_or(ABSENT.to_string(), render::human_duration),
            ]
        })
        .collect();
    render::table(
        &[
            "NICK",
            "UNION ID",
            "STATUS",
            "ROLE",
            "JOINED",
            "LEFT",
            "TIME IN MEETING",
        ],
        &rows,
    )
}

fn role(member: &ConferenceMember) -> &'static str {
    if member.host == Some(true) {
        "host"
    } else if member.co_host == Some(true) {
        "co-host"
    } else {
        ABSENT
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::FixedOffset;
    use dingtalk_conference::AttendStatus;

    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn members_show_role_status_times_and_dashes_for_what_is_missing() {
        let mut host = ConferenceMember::default();
        host.user_nick = Some("张三".to_string());
        host.union_id = Some("u-host".to_string());
        host.attend_status = Some(AttendStatus::Left);
        host.host = Some(true);
        host.join_time = Some(at("2026-03-02T02:00:00Z"));
        host.leave_time = Some(at("2026-03-02T03:02:03Z"));
        host.duration = Some(Duration::from_secs(3_723));
        let mut co_host = ConferenceMember::default();
        co_host.user_nick = Some("Li\u{1b}[2J".to_string());
        co_host.co_host = Some(true);
        co_host.attend_status = Some(AttendStatus::Calling);
        let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let text = members_table(&[host, co_host, ConferenceMember::default()], &beijing);
        assert_eq!(
            text,
            "NICK         UNION ID  STATUS        ROLE     JOINED               LEFT                 TIME IN MEETING\n\
             张三         u-host    left          host     2026-03-02 10:00:00  2026-03-02 11:02:03  1h 02m 03s\n\
             Li\\u{1b}[2J  -         being called  co-host  -                    -                    -\n\
             -            -         -             -        -                    -                    -\n"
        );
    }
}
