//! One process of the fleet benchmark (`benches/fleet/run.sh`, BENCHMARKS.md "A fleet on one
//! Redis"). Not an example to copy: a benchmark client that uses the public API only.
//!
//! ```text
//! fleet_worker BASE_URL REDIS_URL|cluster:URL,URL...|none CALLS CONCURRENCY REFRESH_MARGIN_SECS ID...
//! ```
//!
//! Makes `CALLS` `queryConferenceInfo` calls, `CONCURRENCY` at a time, cycling through the ids,
//! with the default client (20 calls/s per API, default retries and 30 s deadline) of the fake
//! server's default app; with a Redis URL (or `cluster:` and a Redis Cluster's node URLs), the
//! token and that budget are the fleet's. Prints
//! one JSON line: calls answered (a conference, or DingTalk's "not found"), failed throttled,
//! timed out, failed otherwise; the wall seconds and the slowest call in milliseconds.
//! `FLEET_RATE_ALONE=N` gives the process N calls/s per API while Redis is unreachable
//! (`ClientBuilder::rate_limit_without_redis`). `FLEET_APP=third-party` makes the calls as the
//! fake server's third-party app for its organisation (suite credentials) instead of its
//! internal app. `FLEET_RATE=N` gives the process N calls/s per API instead of 20 (its share
//! of the budget when it runs without Redis).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dingtalk_conference::{CallOptions, Client, Error, RateLimit};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: fleet_worker BASE_URL REDIS_URL|cluster:URL,URL...|none CALLS CONCURRENCY REFRESH_MARGIN_SECS ID...";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, redis_url, calls, concurrency, margin, ids @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    if ids.is_empty() {
        return Err(usage.into());
    }
    let calls: usize = calls.parse().map_err(|_| usage)?;
    let concurrency: usize = concurrency.parse().map_err(|_| usage)?;
    let margin: f64 = margin.parse().map_err(|_| usage)?;

    let mut builder = Client::builder();
    builder = match std::env::var("FLEET_APP").as_deref() {
        Ok("third-party") => builder.suite_credentials(
            "mock-suite-key",
            "mock-suite-secret",
            "mock-corp-id",
            "mock-suite-ticket",
        ),
        Ok("internal") | Err(_) => builder.app_credentials("mock-app-key", "mock-app-secret"),
        Ok(other) => {
            return Err(format!("FLEET_APP: `{other}` is not internal or third-party").into());
        }
    };
    if let Some(rate) = std::env::var("FLEET_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.rate_limit(RateLimit::per_second(rate));
    }
    let mut builder = builder
        .base_url(base_url.as_str())
        .token_refresh_margin(Duration::from_secs_f64(margin));
    if redis_url != "none" {
        builder = match redis_url.strip_prefix("cluster:") {
            Some(urls) => builder.redis_cluster(urls.split(',')),
            None => builder.redis(redis_url.as_str()),
        };
        // FLEET_RATE_ALONE: this process's calls/s per API while Redis is unreachable.
        if let Some(alone) = std::env::var("FLEET_RATE_ALONE")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            builder = builder.rate_limit_without_redis(RateLimit::per_second(alone));
        }
    }
    // Every call its own request: identical reads in flight would otherwise share one.
    let client = builder
        .build()?
        .with_options(CallOptions::new().coalesce(false));

    let ids = Arc::new(ids.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let counts: Arc<[AtomicU64; 5]> = Arc::new(Default::default());
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (client, ids, next, counts) = (
                client.clone(),
                Arc::clone(&ids),
                Arc::clone(&next),
                Arc::clone(&counts),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= calls {
                        break;
                    }
                    let call = Instant::now();
                    let result = client.conference_info(&ids[n % ids.len()]).await;
                    let took = u64::try_from(call.elapsed().as_millis()).unwrap_or(u64::MAX);
                    counts[4].fetch_max(took, Ordering::Relaxed);
                    let slot = match result {
                        Ok(_) => 0,
                        Err(e) if e.is_not_found() => 0,
                        Err(e) if e.is_throttled() => 1,
                        Err(Error::Timeout { .. }) => 2,
                        Err(e) => {
                            eprintln!("fleet_worker: {}", e.report());
                            3
                        }
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let report = serde_json::json!({
        "calls": calls,
        "answered": counts[0].load(Ordering::Relaxed),
        "throttled": counts[1].load(Ordering::Relaxed),
        "timed_out": counts[2].load(Ordering::Relaxed),
        "other_errors": counts[3].load(Ordering::Relaxed),
        "seconds": started.elapsed().as_secs_f64(),
        "slowest_call_ms": counts[4].load(Ordering::Relaxed),
    });
    println!("{report}");
    Ok(())
}
