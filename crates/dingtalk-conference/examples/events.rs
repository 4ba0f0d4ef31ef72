//! Print conference events as DingTalk pushes them, over Stream mode (no public endpoint
//! needed), then stop.
//!
//! ```text
//! DINGTALK_APP_KEY=... DINGTALK_APP_SECRET=... \
//!     cargo run -p dingtalk-conference --features events --example events -- --count 3 --timeout 600
//! ```
//!
//! Prints `--count` events (default 1), then closes the connection and exits 0; exits 1 if
//! they have not all come within `--timeout` seconds (default 60), saying why the connection
//! failed if it did. A third-party app uses `DINGTALK_SUITE_KEY`/`DINGTALK_SUITE_SECRET` (and
//! the other `DINGTALK_*` variables of `Client::from_env`). The app must have Stream mode
//! enabled and the conference events ticked in DingTalk's developer console. CI points
//! `DINGTALK_BASE_URL` at the fake server, whose gateway delivers the events emitted there.

use std::time::Duration;

use dingtalk_conference::Client;
use futures_util::StreamExt;

struct Args {
    count: usize,
    timeout: Duration,
}

fn args() -> Result<Args, String> {
    let usage = "usage: events [--count N] [--timeout SECONDS]";
    let mut parsed = Args {
        count: 1,
        timeout: Duration::from_secs(60),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(usage)?;
        match flag.as_str() {
            "--count" => parsed.count = value.parse().map_err(|_| usage)?,
            "--timeout" => parsed.timeout = Duration::from_secs(value.parse().map_err(|_| usage)?),
            _ => return Err(usage.to_string()),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { count, timeout } = args()?;
    let client = Client::from_env()?;
    // Connects in the background, and again after any loss; each event is ACKed once queued.
    let mut events = client.events()?;
    let printing = async {
        let mut printed = 0;
        while printed < count {
            let Some(event) = events.next().await else {
                break;
            };
            println!(
                "{} {} conference={} {:?}",
                event.event_type,
                event.id,
                event.kind.conference_id().unwrap_or("-"),
                event.kind
            );
            printed += 1;
        }
        printed
    };
    let printed = tokio::time::timeout(timeout, printing).await;
    match printed {
        Ok(printed) if printed == count => Ok(()),
        _ => {
            let why = events
                .last_error()
                .map(|error| format!(": the connection failed: {}", error.report()))
                .unwrap_or_default();
            Err(format!("fewer than {count} events within {timeout:?}{why}").into())
        }
    }
}
