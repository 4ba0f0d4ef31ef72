//! The three commands. Each returns what goes to stdout; progress and notes go to stderr as
//! they happen.

use std::cell::Cell;
use std::time::Duration;

use chrono::{Local, SecondsFormat, Utc};
use dingtalk_conference::{ConferenceInfo, Error, WaitEvent, WaitOptions, WaitUntil};
use dingtalk_conference_mock::{MockServer, seeded};

use crate::cli::{Command, GlobalArgs};
use crate::connect::Connection;
use crate::{Failure, render, say};

/// `WaitOptions`' default interval, for the progress note (a test keeps the two equal).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The default `watch` interval under `--mock`, where scripted changes come within seconds.
const MOCK_INTERVAL: Duration = Duration::from_secs(1);
/// Under `--mock`, how soon a watched initialised conference starts.
const MOCK_START_AFTER: Duration = Duration::from_secs(2);
/// Under `--mock`, how soon a watched started conference ends (after starting, if it had not).
const MOCK_END_AFTER: Duration = Duration::from_secs(3);

/// Runs `command`; the text for stdout.
pub(crate) async fn run(
    command: &Command,
    global: &GlobalArgs,
    connection: &Connection,
) -> Result<String, Failure> {
    match command {
        Command::Info {
            conference_id,
            repeat,
        } => {
            let query = async {
                for _ in 1..*repeat {
                    connection.client.conference_info(conference_id).await?;
                }
                connection.client.conference_info(conference_id).await
            };
            let info = within(global.timeout, query)
                .await?
                .map_err(Failure::Dingtalk)?;
            conference(&info, global.json)
        }
        Command::Watch {
            conference_id,
            until,
            interval,
        } => {
            if let Some(mock) = &connection.mock {
                script_seeded_conference(mock, conference_id);
            }
            let interval = interval.or(connection.mock.as_ref().map(|_| MOCK_INTERVAL));
            let info = watch(
                connection,
                conference_id,
                (*until).into(),
                interval,
                global.timeout,
            )
            .await?;
            conference(&info, global.json)
        }
        Command::Token { show_token } => {
            let token = within(global.timeout, connection.client.access_token())
                .await?
                .map_err(Failure::Dingtalk)?;
            token_report(connection, token, *show_token, global.json)
        }
    }
}

/// Runs `work`, giving up after `timeout` if there is one.
async fn within<T>(timeout: Option<Duration>, work: impl Future<Output = T>) -> Result<T, Failure> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| Failure::TimedOut(limit)),
        None => Ok(work.await),
    }
}

/// The conference as text or as DingTalk's JSON.
fn conference(info: &ConferenceInfo, json: bool) -> Result<String, Failure> {
    if json {
        serde_json::to_string_pretty(info)
            .map(|text| text + "\n")
            .map_err(|e| Failure::Other(format!("could not write JSON: {e}")))
    } else {
        Ok(render::conference_summary(info, &Local, Utc::now()))
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
    connection: &Connection,
    id: &str,
    until: WaitUntil,
    interval: Option<Duration>,
    timeout: Option<Duration>,
) -> Result<ConferenceInfo, Failure> {
    let mut options = WaitOptions::default();
    if let Some(interval) = interval {
        options = options.interval(interval);
    }
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
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
    let wait = connection
        .client
        .wait_for_status_with(id, until, options, progress);
    // The wait checks its timeout between polls; this also bounds a poll that hangs.
    let result = match within(timeout, wait).await {
        Ok(result) => result,
        Err(_) => Err(Error::WaitTimedOut {
            waited: timeout.unwrap_or_default(),
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

fn token_report(
    connection: &Connection,
    token: dingtalk_conference::AccessToken,
    show_token: bool,
    json: bool,
) -> Result<String, Failure> {
    let now = Utc::now();
    let expires_in = token.expires_in();
    let expires_at = expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .and_then(|d| now.checked_add_signed(d));
    if json {
        let mut object = serde_json::json!({
            "credentials": connection.credentials_kind,
            "expiresIn": expires_in.map(|d| d.as_secs()),
            "expiresAt": expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        });
        if show_token {
            object["token"] = serde_json::Value::from(token.secret().expose());
        }
        return serde_json::to_string_pretty(&object)
            .map(|text| text + "\n")
            .map_err(|e| Failure::Other(format!("could not write JSON: {e}")));
    }
    let expiry = match (expires_in, expires_at) {
        (Some(left), Some(at)) => format!(
            "in {}, at {}",
            render::human_duration(left),
            render::time_in(at, &Local)
        ),
        _ => "unknown: a fixed token is used as given until DingTalk rejects it".to_string(),
    };
    let shown = if show_token {
        render::clean(token.secret().expose())
    } else {
        "hidden; add --show-token to print it".to_string()
    };
    Ok(format!(
        "credentials  {}\nexpires      {expiry}\ntoken        {shown}\n",
        connection.credentials_description
    ))
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
