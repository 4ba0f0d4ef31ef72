//! The Rust side of `benches/official-sdks/run.sh`: the facade's `queryConferenceInfo` calls
//! against a running fake DingTalk server, measured the way the scripts for DingTalk's official
//! Python and Node SDKs measure theirs. Not an example to copy: a benchmark client that uses the
//! public API only (the default client, as a user builds it).
//!
//! ```text
//! bench_calls sequential BASE_URL CONFERENCE_ID CALLS WARMUP
//! bench_calls burst      BASE_URL CONFERENCE_ID CALLS CONCURRENCY
//! ```
//!
//! - `sequential`: one token fetch (`Client::access_token`), `WARMUP` calls not measured, then
//!   `CALLS` calls one after another, timed. The client's rate limit is off for this step
//!   (`RateLimit::none()`): the official SDKs have none, and the default client would hold
//!   the calls to DingTalk's 20 calls/s, which measures DingTalk's limit, not the client.
//! - `burst`: one token fetch, then `CALLS` calls made by `CONCURRENCY` workers at once, as fast
//!   as they go, with the default retry policy (and whatever else the default client does).
//!
//! Prints one JSON line on stdout: the counts of calls that succeeded, failed throttled
//! (`Error::is_throttled`) or failed otherwise, the measured seconds (wall and CPU, all threads),
//! and the process's peak resident set size (`VmHWM` from `/proc/self/status`, in kB), read at
//! the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use dingtalk_conference::{Client, ConferenceInfo, Error};

#[derive(Default)]
struct Outcomes {
    ok: AtomicU64,
    throttled: AtomicU64,
    other: AtomicU64,
}

impl Outcomes {
    fn record(&self, result: Result<ConferenceInfo, Error>) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(error) if error.is_throttled() => self.throttled.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                if self.other.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("bench_calls: first unexpected error: {}", error.report());
                }
                1
            }
        };
    }
}

/// CPU time this process's threads have run so far, in seconds: the sum over
/// `/proc/self/task/*/schedstat` (nanoseconds on a CPU), 0 where /proc is missing. Unlike the
/// wall time, it hardly moves when other processes compete for the cores.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// Peak resident set size of this process in kB (`VmHWM`), 0 where /proc is missing.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage =
        "usage: bench_calls sequential|burst BASE_URL CONFERENCE_ID CALLS WARMUP|CONCURRENCY";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, base_url, conference_id, calls, extra] = args.as_slice() else {
        return Err(usage.into());
    };
    let calls: usize = calls.parse().map_err(|_| usage)?;
    let extra: usize = extra.parse().map_err(|_| usage)?;

    let mut builder = Client::builder()
        .app_credentials("mock-app-key", "mock-app-secret")
        .base_url(base_url.as_str());
    if mode == "sequential" {
        builder = builder.rate_limit(dingtalk_conference::RateLimit::none());
    }
    let client = builder.build()?;
    // The one token fetch, through the facade's own token client, before anything is timed.
    client.access_token().await?;

    let outcomes = Arc::new(Outcomes::default());
    let (seconds, cpu_seconds) = match mode.as_str() {
        "sequential" => {
            for _ in 0..extra {
                client.conference_info(conference_id).await?;
            }
            let (start, cpu_start) = (Instant::now(), cpu_seconds());
            for _ in 0..calls {
                outcomes.record(client.conference_info(conference_id).await);
            }
            (start.elapsed().as_secs_f64(), cpu_seconds() - cpu_start)
        }
        "burst" => {
            let next = Arc::new(AtomicUsize::new(0));
            let (start, cpu_start) = (Instant::now(), cpu_seconds());
            let workers: Vec<_> = (0..extra.max(1))
                .map(|_| {
                    let (client, outcomes, next) = (client.clone(), outcomes.clone(), next.clone());
                    let conference_id = conference_id.clone();
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < calls {
                            outcomes.record(client.conference_info(&conference_id).await);
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await?;
            }
            (start.elapsed().as_secs_f64(), cpu_seconds() - cpu_start)
        }
        _ => return Err(usage.into()),
    };

    let (ok, throttled, other) = (
        outcomes.ok.load(Ordering::Relaxed),
        outcomes.throttled.load(Ordering::Relaxed),
        outcomes.other.load(Ordering::Relaxed),
    );
    let report = serde_json::json!({
        "client": "rust",
        "mode": mode,
        "calls": calls,
        "ok": ok,
        "throttled": throttled,
        "other_errors": other,
        "seconds": seconds,
        "calls_per_s": calls as f64 / seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_kb": peak_rss_kb(),
    });
    println!("{report}");
    Ok(())
}
