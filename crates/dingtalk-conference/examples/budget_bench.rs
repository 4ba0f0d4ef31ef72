//! How many calls the facade spends, and whether it stays inside DingTalk's per-second limit:
//! the figures of BENCHMARKS.md section 4. Not an example to copy: a benchmark that runs the
//! fake DingTalk server in-process (a runtime and thread of its own) and the client on another.
//!
//! ```text
//! cargo run --release -p dingtalk-conference --example budget_bench [coalescing|watch|burst]...
//! ```
//!
//! With no argument it runs all three, each side by side in the same run:
//!
//! - `coalescing`: 1,000 asks at once for 50 distinct conferences, the server holding each
//!   answer 200 ms (so that asks overlap, as they do against DingTalk's tens of milliseconds);
//!   the default client (coalescing on) against `coalesce_reads(false)` without a rate limit
//!   (so that every ask is answered), and `coalesce_reads(false)` with the default 20 calls/s
//!   (whose asks still waiting after the 30 s call deadline fail).
//! - `watch`: watching 100 conferences in progress for 10 simulated minutes at a 5 s interval,
//!   that is 120 polls, counted rather than slept: `conference_info` for each id against one
//!   `conferences_status(&ids)` per poll. No rate limit on either side here (it would only make
//!   the per-id side take the 10 minutes): what is measured is the calls.
//! - `burst`: 2,000 `conference_info` calls by 50 workers at once (each call its own request:
//!   `CallOptions::coalesce(false)`; the default retry policy) against the server enforcing
//!   20 calls/s per app and API; the default rate limit against `RateLimit::none()`. The
//!   limited side takes about 100 s.
//!
//! Prints one JSON line per measurement, then a summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dingtalk_conference::{
    CONFERENCES_PER_BATCH_REQUEST, CallOptions, Client, ClientBuilder, RateLimit,
};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, MockConfig, MockServer, seeded,
};
use tokio::runtime::Runtime;

/// The fake server on a runtime of its own, and the client's runtime.
struct Bench {
    server_runtime: Runtime,
    runtime: Runtime,
}

impl Bench {
    fn new() -> Self {
        let runtime = |name: &str| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(name)
                .enable_all()
                .build()
                .expect("runtime")
        };
        Self {
            server_runtime: runtime("fake-dingtalk"),
            runtime: runtime("client"),
        }
    }

    /// A fake server with `config`, holding `n` conferences in progress (copies of the seeded
    /// started one), and their ids.
    fn server(&self, config: MockConfig, n: usize) -> (MockServer, Vec<String>) {
        let mock = self
            .server_runtime
            .block_on(MockServer::start_with(config))
            .expect("fake server");
        let template = mock.conference(seeded::STARTED).expect("seeded conference");
        let ids: Vec<String> = (0..n).map(|i| format!("b0d9e7a1{i:016x}")).collect();
        for id in &ids {
            let mut info = template.clone();
            info.conference_id = Some(id.clone());
            mock.upsert_conference(info);
        }
        (mock, ids)
    }
}

fn builder(mock: &MockServer) -> ClientBuilder {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
}

/// Requests the server saw for the batch status operation.
fn batch_requests(mock: &MockServer) -> u64 {
    mock.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1.0/conference/videoConferences/query")
        .count() as u64
}

fn coalescing(bench: &Bench) -> [serde_json::Value; 3] {
    const ASKS: usize = 1_000;
    let run = |coalesce: bool, limit: RateLimit, label: &str| {
        let (mock, ids) = bench.server(MockConfig::new(), 50);
        mock.push_fault(
            FaultScope::Operation {
                operation_id: "queryConferenceInfo".into(),
                id: None,
                times: None,
            },
            Fault::Delay(Duration::from_millis(200)),
        );
        let client = builder(&mock)
            .coalesce_reads(coalesce)
            .rate_limit(limit)
            .build()
            .expect("client");
        bench
            .runtime
            .block_on(client.access_token())
            .expect("token");
        let start = Instant::now();
        let answered = bench.runtime.block_on(async {
            let asks: Vec<_> = (0..ASKS)
                .map(|i| {
                    let (client, id) = (client.clone(), ids[i % ids.len()].clone());
                    tokio::spawn(async move { client.conference_info(&id).await.is_ok() })
                })
                .collect();
            let mut answered = 0u64;
            for ask in asks {
                answered += u64::from(ask.await.expect("task ran"));
            }
            answered
        });
        let seconds = start.elapsed().as_secs_f64();
        let calls = mock.counters().conference_requests;
        serde_json::json!({
            "measure": "coalescing",
            "coalesce": coalesce,
            "rate_limit": label,
            "asks": ASKS,
            "distinct": ids.len(),
            "answered": answered,
            "calls": calls,
            "calls_per_answered_question": calls as f64 / answered as f64,
            "seconds": seconds,
        })
    };
    [
        run(true, RateLimit::default(), "default"),
        run(false, RateLimit::none(), "none"),
        // Without coalescing, the default 20 calls/s cannot answer 1,000 asks within the
        // default 30 s call deadline: the asks still waiting fail with Timeout(Deadline).
        run(false, RateLimit::default(), "default"),
    ]
}

fn watch(bench: &Bench) -> [serde_json::Value; 2] {
    const CONFERENCES: usize = 100;
    // 10 minutes at a 5 s interval.
    const POLLS: u64 = 10 * 60 / 5;
    let (mock, ids) = bench.server(MockConfig::new(), CONFERENCES);
    let client = builder(&mock)
        .rate_limit(RateLimit::none())
        .build()
        .expect("client");
    bench
        .runtime
        .block_on(client.access_token())
        .expect("token");

    mock.reset_log();
    let start = Instant::now();
    let in_progress = bench.runtime.block_on(async {
        let mut in_progress = 0;
        for _ in 0..POLLS {
            let polls: Vec<_> = ids
                .iter()
                .map(|id| {
                    let (client, id) = (client.clone(), id.clone());
                    tokio::spawn(async move { client.conference_info(&id).await })
                })
                .collect();
            in_progress = 0;
            for poll in polls {
                let info = poll.await.expect("task ran").expect("info");
                in_progress += usize::from(info.status.is_some());
            }
        }
        in_progress
    });
    let per_id_seconds = start.elapsed().as_secs_f64();
    let per_id_calls = mock.counters().conference_requests;

    mock.reset_log();
    let start = Instant::now();
    let found = bench.runtime.block_on(async {
        let mut found = 0;
        for _ in 0..POLLS {
            found = client.conferences_status(&ids).await.expect("status").len();
        }
        found
    });
    let batch_seconds = start.elapsed().as_secs_f64();
    let batch_calls = batch_requests(&mock);
    assert_eq!((in_progress, found), (CONFERENCES, CONFERENCES));
    let row = |way: &str, calls: u64, seconds: f64| {
        serde_json::json!({
            "measure": "watch",
            "way": way,
            "conferences": CONFERENCES,
            "polls": POLLS,
            "calls": calls,
            "calls_per_poll": calls as f64 / POLLS as f64,
            // DingTalk's budget for one API over one 5 s interval: 100 calls.
            "share_of_the_apis_budget": calls as f64 / POLLS as f64 / 100.0,
            "seconds_for_all_polls": seconds,
        })
    };
    [
        row("conference_info per id", per_id_calls, per_id_seconds),
        row(
            &format!("conferences_status (chunks of {CONFERENCES_PER_BATCH_REQUEST})"),
            batch_calls,
            batch_seconds,
        ),
    ]
}

fn burst(bench: &Bench) -> [serde_json::Value; 2] {
    const CALLS: usize = 2_000;
    const WORKERS: usize = 50;
    let run = |limit: RateLimit, label: &str| {
        let (mock, _) = bench.server(MockConfig::new().with_qps_limit(Some(20)), 0);
        let client = builder(&mock)
            .rate_limit(limit)
            .build()
            .expect("client")
            .with_options(CallOptions::new().coalesce(false));
        bench
            .runtime
            .block_on(client.access_token())
            .expect("token");
        let ok = Arc::new(AtomicU64::new(0));
        let throttled_errors = Arc::new(AtomicU64::new(0));
        let other_errors = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        bench.runtime.block_on(async {
            let workers: Vec<_> = (0..WORKERS)
                .map(|_| {
                    let client = client.clone();
                    let (ok, throttled_errors, other_errors, next) = (
                        Arc::clone(&ok),
                        Arc::clone(&throttled_errors),
                        Arc::clone(&other_errors),
                        Arc::clone(&next),
                    );
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < CALLS {
                            match client.conference_info(seeded::STARTED).await {
                                Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                                Err(e) if e.is_throttled() => {
                                    throttled_errors.fetch_add(1, Ordering::Relaxed)
                                }
                                Err(e) => {
                                    eprintln!("budget_bench: {}", e.report());
                                    other_errors.fetch_add(1, Ordering::Relaxed)
                                }
                            };
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await.expect("worker ran");
            }
        });
        let seconds = start.elapsed().as_secs_f64();
        let counters = mock.counters();
        let ok = ok.load(Ordering::Relaxed);
        serde_json::json!({
            "measure": "burst",
            "client": label,
            "calls": CALLS,
            "workers": WORKERS,
            "succeeded": ok,
            "throttled_errors": throttled_errors.load(Ordering::Relaxed),
            "other_errors": other_errors.load(Ordering::Relaxed),
            "requests": counters.conference_requests,
            "throttled_answers": counters.qps_throttled,
            "retries": counters.conference_requests.saturating_sub(CALLS as u64),
            "seconds": seconds,
            "rate_of_successes_per_s": ok as f64 / seconds,
            "share_of_20_per_s": ok as f64 / seconds / 20.0,
        })
    };
    [
        run(RateLimit::default(), "default (RateLimit 20/s)"),
        run(RateLimit::none(), "RateLimit::none()"),
    ]
}

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let runs = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let bench = Bench::new();
    let mut lines = Vec::new();
    if runs("coalescing") {
        lines.extend(coalescing(&bench));
    }
    if runs("watch") {
        lines.extend(watch(&bench));
    }
    if runs("burst") {
        lines.extend(burst(&bench));
    }
    for line in &lines {
        println!("{line}");
    }
    let pair = |measure: &str, field: &str| -> Option<f64> {
        let values: Vec<f64> = lines
            .iter()
            .filter(|l| l["measure"] == measure)
            .filter_map(|l| l[field].as_f64())
            .collect();
        match values.as_slice() {
            [a, b, ..] if *a != 0.0 => Some(b / a),
            _ => None,
        }
    };
    if let Some(ratio) = pair("coalescing", "calls") {
        println!("coalescing: off spends {ratio:.1}× the calls of on");
    }
    if let Some(ratio) = pair("watch", "calls") {
        println!(
            "watch: per-id polling spends {:.1}× the calls of the batch",
            1.0 / ratio
        );
    }
    if let Some(ratio) = pair("burst", "throttled_answers") {
        println!("burst: limit off gets {ratio:.1}× the throttled answers of limit on");
    }
}
