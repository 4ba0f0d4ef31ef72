//! Cloud recordings: `recordings` (the videos with their play links) and `transcript`.

use std::fmt;
use std::time::Duration;

use chrono::{Local, TimeZone};
use clap::Subcommand;
use dingtalk_conference::{
    CloudRecordPlayInfo, CloudRecordVideo, MAX_TRANSCRIPT_PAGE_SIZE, TranscriptDirection,
    TranscriptParagraph, TranscriptQuery,
};
use futures_util::StreamExt as _;

use super::Context;
use crate::Failure;
use crate::cli::{conference_id, union_id};
use crate::render::{self, ABSENT, clean};

/// The recording commands.
#[derive(Subcommand)]
pub(crate) enum Recordings {
    /// List the videos of a conference's cloud recording, with their play and download links.
    #[command(long_about = "\
List the videos of a conference's cloud recording: for each, what it is (a recording or a file
composed from recordings), when it starts (local time), how long it runs and its size, then its
play link (HLS) and MP4 download link, asked for video by video. A conference without a finished
cloud recording is DingTalk's cloudRecordNotFound (exit code 3).

With --json, prints a JSON array with one object per video: {\"video\": <DingTalk's videoList
object>, \"playInfo\": <DingTalk's getPlayInfos answer, or null for a video without a media id
or region>}. The two wrapper keys are this tool's; everything inside is DingTalk's form.")]
    Recordings {
        /// The conference id, e.g. 65c6f2a1e4b0c7d93a1f0e27.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// unionId of the user asking (DingTalk requires one).
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        union_id: String,
    },

    /// Print the transcript of a conference's cloud recording, paragraph by paragraph.
    #[command(long_about = "\
Print the transcript of a conference's cloud recording, one paragraph per line as
'[hh:mm:ss] nick: text', the time being how far into the recording the paragraph starts. Lines
are printed as DingTalk's pages arrive. A conference without a finished cloud recording is
DingTalk's cloudRecordNotFound (exit code 3).

With --json, prints JSON Lines: one DingTalk paragraphList object per line (with its sentences
and words), also as the pages arrive.")]
    Transcript {
        /// The conference id, e.g. 65c6f2a1e4b0c7d93a1f0e27.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,

        /// unionId of the user asking.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        union_id: String,

        /// Start this many seconds into the recording (fractions allowed).
        #[arg(
            long,
            value_name = "SECONDS",
            value_parser = parse_offset,
            allow_negative_numbers = true
        )]
        from: Option<Duration>,

        /// Newest paragraphs first.
        #[arg(long)]
        newest_first: bool,

        /// Ask DingTalk for pages of N paragraphs (at most 2000, the default); all are read.
        #[arg(
            long,
            value_name = "N",
            value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TRANSCRIPT_PAGE_SIZE))
        )]
        page_size: Option<u32>,
    },
}

impl Recordings {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::Recordings {
                conference_id,
                union_id,
            } => recordings(cx, conference_id, union_id).await,
            Self::Transcript {
                conference_id,
                union_id,
                from,
                newest_first,
                page_size,
            } => {
                let mut query = TranscriptQuery::new(conference_id, union_id);
                if let Some(from) = from {
                    query = query.start_at(*from);
                }
                if *newest_first {
                    query = query.direction(TranscriptDirection::Descending);
                }
                let mut listing = cx.client().transcript(query);
                if let Some(size) = page_size {
                    listing = listing.page_size(*size);
                }
                let json = cx.json();
                let out = &mut *cx.out;
                super::within(cx.global.timeout, async {
                    let mut stream = std::pin::pin!(listing.stream());
                    while let Some(paragraph) = stream.next().await {
                        let paragraph = paragraph.map_err(Failure::Dingtalk)?;
                        if json {
                            out.json_line(&paragraph)?;
                        } else {
                            out.print(&paragraph_line(&paragraph))?;
                        }
                        if out.is_closed() {
                            break;
                        }
                    }
                    Ok(())
                })
                .await?
            }
        }
    }
}

/// `recordings`: the videos, then each one's play info, one request per video.
async fn recordings(
    cx: &mut Context<'_>,
    conference_id: &str,
    union_id: &str,
) -> Result<(), Failure> {
    let client = cx.client();
    let videos = cx
        .call(async {
            let videos = client.recordings(conference_id, union_id).await?;
            let mut with_links = Vec::with_capacity(videos.len());
            for video in videos {
                // The facade refuses a video without them; such a video is shown without links.
                let play_info = if has_media(&video) {
                    Some(
                        client
                            .recording_play_info(conference_id, &video, union_id)
                            .await?,
                    )
                } else {
                    None
                };
                with_links.push((video, play_info));
            }
            Ok(with_links)
        })
        .await?;
    if videos.is_empty() {
        crate::say("the cloud recording has no videos");
    }
    if cx.json() {
        let array: Vec<serde_json::Value> = videos
            .iter()
            .map(|(video, play_info)| serde_json::json!({"video": video, "playInfo": play_info}))
            .collect();
        cx.out.json(&array)
    } else {
        cx.out.print(&videos_text(&videos, &Local))
    }
}

fn has_media(video: &CloudRecordVideo) -> bool {
    let present = |value: &Option<String>| value.as_deref().is_some_and(|s| !s.trim().is_empty());
    present(&video.media_id) && present(&video.region_id)
}

/// Each video on a line (type, start, length, size; aligned across videos), with its links
/// indented below it.
fn videos_text<Tz: TimeZone>(
    videos: &[(CloudRecordVideo, Option<CloudRecordPlayInfo>)],
    tz: &Tz,
) -> String
where
    Tz::Offset: fmt::Display,
{
    let rows: Vec<Vec<String>> = videos
        .iter()
        .map(|(video, _)| {
            vec![
                video
                    .record_type
                    .map_or(ABSENT.to_string(), |t| t.to_string()),
                video
                    .start_time
                    .map_or(ABSENT.to_string(), |t| render::local_time(t, tz)),
                video
                    .duration
                    .map_or(ABSENT.to_string(), render::human_duration),
                video
                    .file_size
                    .and_then(|n| u64::try_from(n).ok())
                    .map_or(ABSENT.to_string(), render::human_size),
            ]
        })
        .collect();
    let link = |value: Option<&String>| value.map_or(ABSENT.to_string(), |s| clean(s));
    let mut out = String::new();
    for (line, (_, play_info)) in render::columns(&rows).lines().zip(videos) {
        let info = play_info.as_ref();
        out.push_str(&format!(
            "{line}\n  play  {}\n  mp4   {}\n",
            link(info.and_then(|i| i.play_url.as_ref())),
            link(info.and_then(|i| i.mp4_file_url.as_ref()))
        ));
    }
    out
}

/// One paragraph as `[hh:mm:ss] nick: text`.
fn paragraph_line(paragraph: &TranscriptParagraph) -> String {
    let time = paragraph
        .start_time
        .map_or("--:--:--".to_string(), render::offset);
    let nick = paragraph
        .nick_name
        .as_deref()
        .or(paragraph.union_id.as_deref())
        .map_or(ABSENT.to_string(), clean);
    let text = paragraph.paragraph.as_deref().map_or(String::new(), clean);
    format!("[{time}] {nick}: {text}\n")
}

/// The most `--from` takes: a year into a recording, far beyond any.
const MAX_OFFSET_SECONDS: u64 = 365 * 24 * 60 * 60;

/// `--from`: zero or more seconds (fractions allowed), at most a year.
fn parse_offset(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if seconds.is_nan() || seconds < 0.0 {
        return Err(format!("{value:?}: give zero or more seconds"));
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d <= Duration::from_secs(MAX_OFFSET_SECONDS))
        .ok_or_else(|| format!("{value:?} seconds is too far: give at most {MAX_OFFSET_SECONDS}"))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, Utc};
    use dingtalk_conference::RecordType;

    use super::*;

    #[test]
    fn paragraphs_are_time_nick_and_text_escaped() {
        let mut paragraph = TranscriptParagraph::default();
        paragraph.start_time = Some(Duration::from_millis(3_725_400));
        paragraph.nick_name = Some("张三".to_string());
        paragraph.paragraph = Some("大家好\u{1b}[2J\nfake: line".to_string());
        assert_eq!(
            paragraph_line(&paragraph),
            "[01:02:05] 张三: 大家好\\u{1b}[2J\\nfake: line\n"
        );
        assert_eq!(
            paragraph_line(&TranscriptParagraph::default()),
            "[--:--:--] -: \n"
        );
    }

    #[test]
    fn videos_show_type_start_length_size_and_links() {
        let mut video = CloudRecordVideo::default();
        video.record_type = Some(RecordType::Composed);
        video.start_time = DateTime::parse_from_rfc3339("2026-03-02T02:05:00Z")
            .ok()
            .map(|t| t.with_timezone(&Utc));
        video.duration = Some(Duration::from_secs(3_723));
        video.file_size = Some(129_394_278);
        let mut info = CloudRecordPlayInfo::default();
        info.play_url = Some("https://x/a.m3u8".to_string());
        let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let text = videos_text(
            &[(video, Some(info)), (CloudRecordVideo::default(), None)],
            &beijing,
        );
        assert_eq!(
            text,
            "composed file  2026-03-02 10:05:00 +08:00  1h 02m 03s  123.4 MiB\n  \
             play  https://x/a.m3u8\n  mp4   -\n\
             -              -                           -           -\n  play  -\n  mp4   -\n"
        );
    }

    #[test]
    fn from_takes_zero_or_more_seconds() {
        assert_eq!(parse_offset("0"), Ok(Duration::ZERO));
        assert_eq!(parse_offset("2.5"), Ok(Duration::from_millis(2_500)));
        for bad in ["-1", "NaN", "inf", "x", "31536001"] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }
}
