//! `history` and `quality`: the conferences of a time window with their statistics, and one
//! person's call-quality samples in a conference.

use std::fmt;

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use clap::Subcommand;
use dingtalk_conference::{ConferenceData, MetricSample};

use super::Context;
use crate::Failure;
use crate::cli::conference_id;
use crate::render::{self, ABSENT, clean};
use crate::time_arg::{TIME_HELP, epoch_millis, parse_time, utc_of_millis};

/// The data commands.
#[derive(Subcommand)]
pub(crate) enum Data {
    /// List the conferences that started in a time window, with their statistics.
    #[command(long_about = "\
List the conferences that started between --from and --to, oldest first, one row each: title,
creator, start (local time), length and how many people took part. All pages are read.

With --json, prints a JSON array of DingTalk's rows (GetHistoryConfDataList), every page's.
DingTalk does not document this operation; its real-time data is asked for (realData=true).")]
    History {
        /// The window's start
        #[arg(long, value_name = "TIME", value_parser = parse_time, long_help = time_help("The window's start"))]
        from: DateTime<FixedOffset>,

        /// The window's end
        #[arg(long, value_name = "TIME", value_parser = parse_time, long_help = time_help("The window's end"))]
        to: DateTime<FixedOffset>,

        /// Only conferences whose title contains this text (DingTalk does not say how it matches).
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,

        /// Ask DingTalk for pages of N conferences; all pages are read.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        page_size: Option<u32>,
    },

    /// Show one person's call-quality samples in a conference.
    #[command(long_about = "\
Show one person's call-quality samples in a conference (GetUserMetricData), one row each: time
(local), bit-rates sent and received, packet loss, round-trip time, and the camera's resolution
and frame rate sent and received, as DingTalk reports them (its units are not documented).
Without --from/--to, the window is the conference's start to its end (or to now while it runs).

With --json, prints a JSON array of DingTalk's samples.")]
    Quality {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// The person's unionId.
        #[arg(long, value_name = "UNION_ID")]
        member: String,

        /// The window's start [default: the conference's start]
        #[arg(long, value_name = "TIME", value_parser = parse_time, long_help = time_help("The window's start [default: the conference's start]"))]
        from: Option<DateTime<FixedOffset>>,

        /// The window's end [default: the conference's end, or now]
        #[arg(long, value_name = "TIME", value_parser = parse_time, long_help = time_help("The window's end [default: the conference's end, or now]"))]
        to: Option<DateTime<FixedOffset>>,
    },
}

/// A time argument's long help: what it is, then [`TIME_HELP`].
fn time_help(what: &str) -> String {
    format!("{what}\n\n{TIME_HELP}.")
}

impl Data {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::History {
                from,
                to,
                title,
                page_size,
            } => history(cx, from, to, title.as_deref(), *page_size).await,
            Self::Quality {
                conference_id,
                member,
                from,
                to,
            } => quality(cx, conference_id, member, from.as_ref(), to.as_ref()).await,
        }
    }
}

async fn history(
    cx: &mut Context<'_>,
    from: &DateTime<FixedOffset>,
    to: &DateTime<FixedOffset>,
    title: Option<&str>,
    page_size: Option<u32>,
) -> Result<(), Failure> {
    let mut listing = cx.client().conference_history(
        None,
        to.with_timezone(&Utc),
        None,
        true,
        None,
        from.with_timezone(&Utc),
        title,
    );
    if let Some(size) = page_size {
        listing = listing.page_size(size);
    }
    let rows = cx.call(listing.collect()).await?;
    if cx.json() {
        cx.out.json(&rows)
    } else {
        cx.out.print(&history_table(&rows, &Local))
    }
}

async fn quality(
    cx: &mut Context<'_>,
    conference_id: &str,
    member: &str,
    from: Option<&DateTime<FixedOffset>>,
    to: Option<&DateTime<FixedOffset>>,
) -> Result<(), Failure> {
    let (begin, end) = match (from, to) {
        (Some(from), Some(to)) => (epoch_millis(from), epoch_millis(to)),
        _ => {
            // The conference's own span fills in what is not given.
            let info = cx.call(cx.client().conference_info(conference_id)).await?;
            let start = info.start_time.map_or(0, |t| t.timestamp_millis());
            let end = info.end_time.unwrap_or_else(Utc::now).timestamp_millis();
            (
                from.map_or(start, epoch_millis),
                to.map_or(end, epoch_millis),
            )
        }
    };
    let samples = cx
        .call(cx.client().member_metrics(
            conference_id,
            utc_of_millis(begin)?,
            utc_of_millis(end)?,
            member,
        ))
        .await?;
    if cx.json() {
        cx.out.json(&samples)
    } else {
        cx.out.print(&quality_table(&samples, &Local))
    }
}

fn text(value: Option<&str>) -> String {
    value.map_or(ABSENT.to_string(), clean)
}

/// The conferences as an aligned table with a header.
fn history_table<Tz: TimeZone>(rows: &[ConferenceData], tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                text(row.title.as_deref()),
                text(row.creator_nick.as_deref()),
                row.start_time
                    .map_or(ABSENT.to_string(), |t| render::local_time(t, tz)),
                row.length
                    .map_or(ABSENT.to_string(), render::human_duration),
                row.people.map_or(ABSENT.to_string(), |n| n.to_string()),
            ]
        })
        .collect();
    render::table(&["TITLE", "CREATOR", "START", "LENGTH", "PEOPLE"], &rows)
}

/// A resolution and frame rate as DingTalk gives them: `1920*1080@30`.
fn video(resolution: Option<&str>, frames: Option<&str>) -> String {
    match (resolution, frames) {
        (None, None) => ABSENT.to_string(),
        (resolution, frames) => format!("{}@{}", text(resolution), text(frames)),
    }
}

/// The samples as an aligned table with a header.
fn quality_table<Tz: TimeZone>(samples: &[MetricSample], tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let rows: Vec<Vec<String>> = samples
        .iter()
        .map(|s| {
            vec![
                s.timestamp
                    .map_or(ABSENT.to_string(), |t| render::local_time(t, tz)),
                text(s.send_bit_rate.as_deref()),
                text(s.recv_bit_rate.as_deref()),
                text(s.lost_rate.as_deref()),
                text(s.round_trip_time.as_deref()),
                video(
                    s.camera_send_resolution_actual.as_deref(),
                    s.camera_send_frame.as_deref(),
                ),
                video(
                    s.camera_recv_resolution_actual.as_deref(),
                    s.camera_recv_frame.as_deref(),
                ),
            ]
        })
        .collect();
    render::table(
        &[
            "TIME",
            "SENT BIT/S",
            "RECEIVED BIT/S",
            "LOSS",
            "RTT",
            "CAMERA SENT",
            "CAMERA RECEIVED",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn history_rows_show_title_creator_local_start_length_and_people() {
        let mut row = ConferenceData::default();
        row.title = Some("周会".to_string());
        row.creator_nick = Some("张三\u{1b}[2J".to_string());
        row.start_time = Some(at("2026-03-02T02:00:00Z"));
        row.length = Some(Duration::from_secs(600));
        row.people = Some(2);
        let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let text = history_table(&[row, ConferenceData::default()], &beijing);
        assert_eq!(
            text,
            "TITLE  CREATOR        START                       LENGTH   PEOPLE\n\
             周会   张三\\u{1b}[2J  2026-03-02 10:00:00 +08:00  10m 00s  2\n\
             -      -              -                           -        -\n"
        );
    }

    #[test]
    fn quality_rows_keep_dingtalks_values() {
        let mut sample = MetricSample::default();
        sample.timestamp = Some(at("2026-03-02T02:01:00Z"));
        sample.send_bit_rate = Some("1145172".to_string());
        sample.camera_send_resolution_actual = Some("1920*1080".to_string());
        sample.camera_send_frame = Some("30".to_string());
        let text = quality_table(&[sample], &FixedOffset::east_opt(0).expect("utc"));
        assert!(
            text.contains("2026-03-02 02:01:00 +00:00  1145172"),
            "{text}"
        );
        assert!(text.contains("1920*1080@30"), "{text}");
    }
}
