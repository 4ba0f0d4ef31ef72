//! Cloud recording and live pushes: `record start|stop` and `stream start|stop`.

use clap::{ArgGroup, Subcommand};
use dingtalk_conference::{CloudRecording, StopCloudRecording, StreamOut, StreamStop};
use serde_json::Value;

use super::Context;
use crate::Failure;
use crate::cli::{checked, conference_id, union_id};
use crate::render::clean;

/// DingTalk's layouts (`mode`).
const LAYOUTS: [&str; 3] = ["grid", "speech", "full_screen"];
/// DingTalk's small-window positions (`smallWindowPosition`).
const SMALL_WINDOWS: [&str; 3] = ["relative_right", "float_right", "float_bottom"];

/// The recording and streaming commands.
#[derive(Subcommand)]
pub(crate) enum RecordStream {
    /// Start or stop a conference's cloud recording (host only).
    #[command(subcommand)]
    Record(Record),
    /// Push a conference live to RTMP addresses, or stop pushing.
    #[command(subcommand)]
    Stream(Stream),
}

/// `record start|stop`.
#[derive(Subcommand)]
pub(crate) enum Record {
    /// Start the cloud recording of a conference in progress (host only).
    #[command(long_about = "\
Start the cloud recording of a conference in progress and print a confirmation line. Only the
conference's host may: --user-id is the host's unionId (otherwise DingTalk's
recordStartPermissionError, exit code 4). A recording already running is DingTalk's
recordStartError (exit code 7); an ended conference roomClosed (exit code 9). With --json, prints
nothing: the exit code says whether it started.

Starting is not retried after a timeout or a server error: check the conference (info) first.")]
    Start {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the conference's host.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
        /// The layout (DingTalk's default when not given).
        #[arg(long, value_parser = LAYOUTS)]
        layout: Option<String>,
        /// Where the small window goes (DingTalk's default when not given).
        #[arg(long, value_parser = SMALL_WINDOWS)]
        small_window: Option<String>,
    },
    /// Stop the cloud recording of a conference (host only); the conference goes on.
    #[command(long_about = "\
Stop the cloud recording of a conference and print a confirmation line; the conference goes on,
and the recording's videos and transcript can then be read (recordings, transcript). Only the
host may: --user-id is the host's unionId (otherwise recordStopPermissionError, exit code 4).
Nothing being recorded is recordStopError (exit code 7). With --json, prints nothing.")]
    Stop {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the conference's host.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
    },
}

/// `stream start|stop`.
#[derive(Subcommand)]
pub(crate) enum Stream {
    /// Push a conference live to RTMP addresses; prints each address's stream id or failure.
    #[command(long_about = "\
Push a conference live to 1 to 10 RTMP addresses and print one line per address, in the order
given: its stream id (for `stream stop --stream`), or why DingTalk would not push to it (an
address that is not rtmp, for example). Some addresses failing is no failure of the command;
none pushed to is (exit code 1). With --json, prints DingTalk's answer: successStreamMap
(address → stream id) and failStreamMap (address → reason).

Starting is not retried after a timeout or a server error: each success starts new pushes.")]
    Start {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user starting the push.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
        /// The live stream's name.
        #[arg(long, value_name = "NAME", value_parser = stream_name)]
        name: String,
        /// An RTMP address to push to (rtmp://...); repeat for several, at most 10.
        #[arg(long = "url", value_name = "URL", required = true, num_args = 1..)]
        urls: Vec<String>,
        /// The layout (DingTalk requires one).
        #[arg(long, value_parser = LAYOUTS, default_value = "speech")]
        layout: String,
        /// Where the small window goes (DingTalk requires one).
        #[arg(long, value_parser = SMALL_WINDOWS, default_value = "float_right")]
        small_window: String,
        /// Push only once the host has joined.
        #[arg(long)]
        wait_for_host: bool,
    },
    /// Stop one live push (--stream ID) or all of a conference's (--all).
    #[command(group = ArgGroup::new("which").required(true).args(["stream", "all"]))]
    #[command(long_about = "\
Stop one live push, by the stream id `stream start` printed, or with --all every push of the
conference, and print a confirmation line. A stream id that is not pushing is DingTalk's
paramsError (exit code 2). With --json, prints nothing.")]
    Stop {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user stopping the push.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
        /// The stream id to stop.
        #[arg(long, value_name = "STREAM_ID", value_parser = stream_id)]
        stream: Option<String>,
        /// Stop every push of the conference.
        #[arg(long)]
        all: bool,
    },
}

/// A stream name: not blank (the spec's `streamName`).
fn stream_name(value: &str) -> Result<String, String> {
    checked(value, |name| {
        dingtalk_conference_api::input::not_blank("streamName", "stream name", None, name)
    })
}

/// A stream id: not blank (the spec's `streamId`).
fn stream_id(value: &str) -> Result<String, String> {
    checked(value, |id| {
        dingtalk_conference_api::input::not_blank("streamId", "stream id", None, id)
    })
}

impl RecordStream {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::Record(Record::Start {
                conference_id,
                user_id,
                layout,
                small_window,
            }) => {
                let mut recording = CloudRecording::new(user_id);
                if let Some(layout) = layout {
                    recording = recording.layout(layout.clone());
                }
                if let Some(position) = small_window {
                    recording = recording.small_window(position.clone());
                }
                cx.call(cx.client().start_cloud_recording(conference_id, recording))
                    .await?;
                confirm(cx, "started the cloud recording of", conference_id)
            }
            Self::Record(Record::Stop {
                conference_id,
                user_id,
            }) => {
                let stop = StopCloudRecording::new(user_id);
                cx.call(cx.client().stop_cloud_recording(conference_id, stop))
                    .await?;
                confirm(cx, "stopped the cloud recording of", conference_id)
            }
            Self::Stream(Stream::Start {
                conference_id,
                user_id,
                name,
                urls,
                layout,
                small_window,
                wait_for_host,
            }) => {
                let mut push = StreamOut::new(user_id, name, layout, small_window, *wait_for_host);
                for url in urls {
                    push = push.url(url);
                }
                let answer = cx
                    .call(cx.client().start_stream_out(conference_id, push))
                    .await?;
                if cx.json() {
                    cx.out.json(&answer)?;
                } else {
                    let text = outcome_lines(
                        urls,
                        answer.success_stream_map.as_ref(),
                        answer.fail_stream_map.as_ref(),
                    );
                    cx.out.print(&text)?;
                }
                let pushed = answer
                    .success_stream_map
                    .as_ref()
                    .is_some_and(|map| !map.is_empty());
                if pushed {
                    Ok(())
                } else {
                    Err(Failure::Other(
                        "DingTalk pushed to none of the addresses".to_string(),
                    ))
                }
            }
            Self::Stream(Stream::Stop {
                conference_id,
                user_id,
                stream,
                all,
            }) => {
                // DingTalk wants a stream id even with --all, and ignores it then.
                let id = stream.as_deref().unwrap_or("all");
                let stop = StreamStop::new(user_id, id, *all);
                cx.call(cx.client().stop_stream_out(conference_id, stop))
                    .await?;
                if *all {
                    confirm(cx, "stopped every live push of", conference_id)
                } else {
                    confirm(
                        cx,
                        &format!("stopped live push {} of", clean(id)),
                        conference_id,
                    )
                }
            }
        }
    }
}

/// `what conference ID`, unless `--json` (which prints nothing for these).
fn confirm(cx: &mut Context<'_>, what: &str, conference_id: &str) -> Result<(), Failure> {
    if cx.json() {
        Ok(())
    } else {
        cx.out
            .print(&format!("{what} conference {}\n", clean(conference_id)))
    }
}

/// One line per address, in the order given (each once): `URL  stream ID`, `URL  failed:
/// REASON`, or `URL  no answer` for an address DingTalk did not mention.
fn outcome_lines(
    urls: &[String],
    success: Option<&serde_json::Map<String, Value>>,
    fail: Option<&serde_json::Map<String, Value>>,
) -> String {
    let shown = |value: &Value| match value {
        Value::String(text) => clean(text),
        other => clean(&other.to_string()),
    };
    let mut text = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for url in urls {
        if seen.contains(&url.as_str()) {
            continue;
        }
        seen.push(url);
        let outcome = match (
            success.and_then(|map| map.get(url)),
            fail.and_then(|map| map.get(url)),
        ) {
            (Some(id), _) => format!("stream {}", shown(id)),
            (None, Some(reason)) => format!("failed: {}", shown(reason)),
            (None, None) => "no answer".to_string(),
        };
        text.push_str(&format!("{}  {outcome}\n", clean(url)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_address_gets_one_line_in_the_order_given() {
        let success = json!({"rtmp://a/1": "id1"});
        let fail = json!({"http://b/2": "stream url must start with rtmp://"});
        let urls = ["rtmp://a/1", "http://b/2", "rtmp://a/1", "rtmp://c/3"].map(String::from);
        let text = outcome_lines(&urls, success.as_object(), fail.as_object());
        assert_eq!(
            text,
            "rtmp://a/1  stream id1\n\
             http://b/2  failed: stream url must start with rtmp://\n\
             rtmp://c/3  no answer\n"
        );
    }
}
