//! `watch`: poll a conference until it ends (or starts, or changes), then show it.

use std::cell::Cell;
use std::time::Duration;

use chrono::{Local, Utc};
use clap::{Subcommand, ValueEnum};
use dingtalk_conference::events::AckStatus;
use dingtalk_conference::{Error, WaitEvent, WaitOptions, WaitUntil};
use dingtalk_conference_mock::{MockServer, seeded};

use super::{Context, conferences::print_conference};
use crate::cli::{conference_id, parse_seconds};
use crate::{Failure, render, say};

/// `WaitOptions`' default interval, for the progress note (a test keeps the two equal).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The default `watch` interval under `--mock`, where scripted changes come within seconds.
const MOCK_INTERVAL: Duration = Duration::from_secs(1);
/// Under `--mock`, how soon a watched initialised conference starts.
const MOCK_START_AFTER: Duration = Duration::from_secs(2);
/// Under `--mock`, how soon a watched started conference ends (after starting, if it had not).
const MOCK_END_AFTER: Duration = Duration::from_secs(3);

/// The watch command.
#[derive(Subcommand)]
pub(crate) enum Watch {
    /// Poll conferences until they end (or start, or change), then show them.
    #[command(long_about = "\
Poll a conference until it ends (or starts, or changes), then show it as info does.

With several ids, they are polled together with DingTalk's batch query: one call per poll for
every 20 ids (plus one look at each conference as it ends), instead of one call per id. The batch
lists only conferences in progress, so each one not in progress is also looked at on its own every
4 polls, at most one look per batch call of a poll (one that starts and ends between two polls is
seen ended within 20 polls). The interval doubles while nothing changes (up to 60 s), and
conferences that start later are polled every 5 minutes until 2 minutes before their start. Each
conference is shown when all are done (with --json, an array).

Progress goes to stderr: one line per poll with the time and status, and a line for each back-off
when DingTalk throttles or a poll fails. The final conference goes to stdout (with --json, the
confInfo object as info --json prints it). --timeout SECS gives up after SECS seconds (exit
code 8).

With --events, the watch also opens a Stream-mode connection to DingTalk's gateway (the app needs
Stream mode and the conference events ticked in DingTalk's console) and reacts to the conferences'
events at once: while connected it polls only to reconcile, once when the connection opens (and
again after every reconnection), once when an event's statusSeqNum shows a gap, and every 5
minutes; while not connected it polls at the interval as without --events. It says on stderr
which it is doing, and each event that changes a status. Without --events nothing is opened.

With --mock, a seeded conference that has not ended is scripted to change on its own: an
initialised one starts after 2 s and ends 3 s later, a started one ends after 3 s; and the
default interval is 1 s.")]
    Watch {
        /// The conference ids, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID", required = true, num_args = 1..)]
        conference_ids: Vec<String>,

        /// What to wait for
        #[arg(long, value_enum, default_value_t = UntilArg::Ended)]
        until: UntilArg,

        /// Seconds between polls [default: 5, or 1 with --mock]
        ///
        /// Fractions are allowed, up to a year (31536000). When DingTalk throttles or a poll
        /// fails, the wait doubles, up to 60 s.
        #[arg(
            long,
            value_name = "SECS",
            value_parser = parse_seconds,
            allow_negative_numbers = true,
            verbatim_doc_comment
        )]
        interval: Option<Duration>,

        /// React to the conferences' events over Stream mode; poll only to reconcile
        #[arg(long)]
        events: bool,
    },
}

/// `watch --until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum UntilArg {
    /// The conference has ended.
    Ended,
    /// The conference is in progress or already over.
    Started,
    /// The status differs from the first one seen.
    Change,
}

impl From<UntilArg> for WaitUntil {
    fn from(until: UntilArg) -> Self {
        match until {
            UntilArg::Ended => WaitUntil::Ended,
            UntilArg::Started => WaitUntil::Started,
            UntilArg::Change => WaitUntil::Change,
        }
    }
}

impl Watch {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Watch {
            conference_ids,
            until,
            interval,
            events,
        } = self;
        if let Some(mock) = &cx.connection.mock {
            for id in conference_ids {
                script_seeded_conference(mock, id);
            }
        }
        let interval = interval.or(cx.connection.mock.as_ref().map(|_| MOCK_INTERVAL));
        let stream = if *events {
            let handle = cx
                .client()
                .on_events(|_event| async { AckStatus::Success })
                .map_err(Failure::Dingtalk)?;
            say(
                "events: opening a Stream-mode connection; polling at the interval until it connects",
            );
            Some(handle)
        } else {
            None
        };
        let result = watch_all(cx, conference_ids, *until, interval).await;
        if let Some(handle) = stream {
            handle.stop().await;
        }
        result
    }
}

/// Watches the conferences, one with `wait_for_status`, several with `wait_for_all`, and prints
/// them.
async fn watch_all(
    cx: &mut Context<'_>,
    conference_ids: &[String],
    until: UntilArg,
    interval: Option<Duration>,
) -> Result<(), Failure> {
    let until = until.into();
    match conference_ids {
        [one] => {
            let info = watch(cx, one, until, interval).await?;
            print_conference(cx, &info)
        }
        many => {
            let infos = watch_many(cx, many, until, interval).await?;
            if cx.json() {
                cx.out.json(&infos)
            } else {
                for info in &infos {
                    print_conference(cx, info)?;
                }
                Ok(())
            }
        }
    }
}

/// Under `--mock`, makes a seeded conference that has not ended change soon, so that `watch`
/// has something to show.
fn script_seeded_conference(mock: &MockServer, id: &str) {
    if !seeded::ALL.contains(&id) {
        return;
    }
    // The fake server's wire values: 0 initialised, 1 ended, 2 started.
    let (steps, note) = match mock.conference(id).and_then(|c| c.status) {
        Some(0) => (
            vec![(MOCK_START_AFTER, 2), (MOCK_END_AFTER, 1)],
            format!(
                "starts in {} and ends {} later",
                render::short_delay(MOCK_START_AFTER),
                render::short_delay(MOCK_END_AFTER)
            ),
        ),
        Some(2) => (
            vec![(MOCK_END_AFTER, 1)],
            format!("ends in {}", render::short_delay(MOCK_END_AFTER)),
        ),
        _ => return,
    };
    if let Some(mut planned) = mock.conference(id).filter(|c| c.status == Some(0)) {
        // An initialised conference's startTime is its plan; clearing it lets the scripted
        // start stamp the real time, so the duration shown at the end is the few seconds the
        // demo meeting lasted.
        planned.start_time = None;
        mock.upsert_conference(planned);
    }
    mock.script_status(id, steps);
    say(&format!("mock: conference {id} is scripted: it {note}"));
}

async fn watch(
    cx: &Context<'_>,
    id: &str,
    until: WaitUntil,
    interval: Option<Duration>,
) -> Result<dingtalk_conference::ConferenceInfo, Failure> {
    let options = wait_options(interval, cx.global.timeout);
    let goal = match until {
        WaitUntil::Started => "it has started",
        WaitUntil::Change => "its status changes",
        _ => "it has ended",
    };
    say(&render::clean(&format!(
        "watching {id} until {goal}, polling every {}",
        render::short_delay(interval.unwrap_or(DEFAULT_INTERVAL))
    )));

    let last_status = Cell::new(None);
    let progress = |event: WaitEvent<'_>| {
        if let WaitEvent::Polled { info, .. } = &event {
            last_status.set(info.status);
        }
        if let Some(line) = progress_line(&event) {
            say(&format!("{}  {line}", render::clock(Utc::now(), &Local)));
        }
    };
    let wait = cx
        .client()
        .wait_for_status_with(id, until, options, progress);
    bounded(cx, wait, &last_status).await
}

async fn watch_many(
    cx: &Context<'_>,
    ids: &[String],
    until: WaitUntil,
    interval: Option<Duration>,
) -> Result<Vec<dingtalk_conference::ConferenceInfo>, Failure> {
    let options = wait_options(interval, cx.global.timeout);
    say(&render::clean(&format!(
        "watching {} conferences with the batch query, polling every {} (longer while nothing changes)",
        ids.len(),
        render::short_delay(interval.unwrap_or(DEFAULT_INTERVAL))
    )));
    let last_status = Cell::new(None);
    let progress = |event: WaitEvent<'_>| {
        let id = match &event {
            WaitEvent::Polled { info, .. } => {
                last_status.set(info.status);
                info.conference_id.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        if let Some(line) = progress_line(&event) {
            let line = if id.is_empty() {
                line
            } else {
                format!("{line}  ({})", render::clean(&id))
            };
            say(&format!("{}  {line}", render::clock(Utc::now(), &Local)));
        }
    };
    let wait = cx.client().wait_for_all_with(ids, until, options, progress);
    bounded(cx, wait, &last_status).await
}

/// The wait's options from `--interval` and `--timeout`.
fn wait_options(interval: Option<Duration>, timeout: Option<Duration>) -> WaitOptions {
    let mut options = WaitOptions::default();
    if let Some(interval) = interval {
        options = options.interval(interval);
    }
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
    options
}

/// Runs `wait` within `--timeout`. The wait checks its timeout between polls; this also bounds
/// a poll that hangs, reported as the wait's own timeout with the last status seen.
async fn bounded<T>(
    cx: &Context<'_>,
    wait: impl Future<Output = Result<T, Error>>,
    last_status: &Cell<Option<dingtalk_conference::ConferenceStatus>>,
) -> Result<T, Failure> {
    let result = match cx.within(wait).await {
        Ok(result) => result,
        Err(_) => Err(Error::WaitTimedOut {
            waited: cx.global.timeout.unwrap_or_default(),
            last_status: last_status.get(),
        }),
    };
    result.map_err(Failure::Dingtalk)
}

/// The progress line for one event of a watch, without the time; `None` for events it does
/// not report. The error's text and DingTalk's code come from the network: the line is escaped
/// for the terminal.
fn progress_line(event: &WaitEvent<'_>) -> Option<String> {
    let line = match event {
        WaitEvent::Polled { info, polls } => {
            let status = info.status.map_or("-".to_string(), |s| s.to_string());
            let active = info
                .active_count
                .map(|n| format!(", {n} active"))
                .unwrap_or_default();
            format!("poll {polls}: {status}{active}")
        }
        WaitEvent::Pushed { info, event_type } => {
            let status = info.status.map_or("-".to_string(), |s| s.to_string());
            format!("event {event_type}: {status}")
        }
        WaitEvent::Stream { connected: true } => {
            format!(
                "stream connected: reacting to events, polling every {} to reconcile",
                render::short_delay(dingtalk_conference::DEFAULT_SAFETY_POLL)
            )
        }
        WaitEvent::Stream { connected: false } => {
            "stream not connected: polling at the interval".to_string()
        }
        WaitEvent::BackingOff { error, delay } => {
            let delay = render::short_delay(*delay);
            if error.is_throttled() {
                let code = error.code().map(|c| format!(" ({c})")).unwrap_or_default();
                format!("throttled, waiting {delay}{code}")
            } else {
                format!("poll failed, waiting {delay}: {}", error.report())
            }
        }
        _ => return None,
    };
    Some(render::clean(&line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_escape_the_errors_text() {
        let error = Error::custom("reset\u{1b}[2J\u{202e}by peer\nnext");
        let event = WaitEvent::BackingOff {
            error: &error,
            delay: Duration::from_millis(400),
        };
        assert_eq!(
            progress_line(&event).as_deref(),
            Some(
                r"poll failed, waiting 400ms: a custom token provider failed: reset\u{1b}[2J\u{202e}by peer\nnext"
            )
        );
    }

    #[test]
    fn the_announced_default_interval_is_the_facades() {
        assert_eq!(
            WaitOptions::default(),
            WaitOptions::default().interval(DEFAULT_INTERVAL)
        );
    }
}
