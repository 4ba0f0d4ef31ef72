//! What the facade adds to a call, measured against a floor in the same run.
//!
//! The floor is a hand-written `reqwest` + `serde_json` call of the same endpoint, on the same
//! keep-alive connection pool (the facade's own `reqwest::Client`), into a plain struct. Both
//! talk to the fake DingTalk server on 127.0.0.1, which runs on a runtime of its own. Rounds
//! alternate facade and floor so that drift in the machine's load hits both alike.
//!
//! ```text
//! cargo bench -p dingtalk-conference --bench overhead
//! ```
//!
//! Two facade clients are measured. The *bench client* (rows without a prime) has no rate limit
//! and no shared reads: the client's own overhead per request. The *default client* (rows
//! marked ′) is built as an application would build it (shared reads on, default retry
//! policy, the rate limiter on), with a budget far above what the bench sends
//! (`RateLimit::per_second(u32::MAX)`: one call per nanosecond), so that the limiter runs on
//! every call but never makes one wait. In the concurrent rows every worker reads a
//! conference of its own (the fake server holds 256 copies of the seed's), so that no read
//! joins another's: those rows measure what sharing costs a read nobody joins.
//!
//! Prints a Markdown table for `BENCHMARKS.md`. `BENCH_QUICK=1` runs a few iterations only (CI
//! compiles and smoke-runs it; CI machines are too noisy for the figures to mean anything).
//! `BENCH_PROFILE=facade` (or `default`, the default client; `generated`, the generated client
//! under the facade; or `floor`) makes only 2,000 sequential calls of one side, for
//! `valgrind --tool=callgrind`; `BENCH_PROFILE_CALLS=N` makes N, and
//! `BENCH_PROFILE_IN_FLIGHT=256` keeps that many in flight. `BENCH_FUTURE_SIZES=1` prints the
//! size of one call's future on each side (what a call in flight holds before anything it
//! boxes) and nothing else. `BENCH_EXTRA_ALLOC=N` makes each call of the bench client also
//! allocate (and free) N bytes, such as the box a shared read's request takes: what one
//! allocation of that size costs a call, measured against the same run's floor.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dingtalk_conference::dingtalk_conference_api::types as wire;
use dingtalk_conference::{Client, ConferenceInfo, RetryPolicy};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer, seeded};
use serde::Deserialize;

/// The floor's model: the same fields, plain types, no conversion.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PlainResponse {
    conf_info: Option<PlainInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PlainInfo {
    active_num: Option<i32>,
    attend_num: Option<i32>,
    conf_duration: Option<i64>,
    conference_id: Option<String>,
    creator_id: Option<String>,
    creator_nick: Option<String>,
    external_link_url: Option<String>,
    invited_num: Option<i32>,
    start_time: Option<i64>,
    status: Option<i32>,
    title: Option<String>,
    room_code: Option<String>,
    end_time: Option<i64>,
    schedule_conference_id: Option<String>,
    biz_type: Option<String>,
    cloud_record_status: Option<i32>,
    cloud_record_owner_union_id: Option<String>,
    minutes_status: Option<i32>,
    minutes_owner_union_id: Option<String>,
    extension_app_settings: Option<Vec<PlainSetting>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PlainSetting {
    app_id: Option<String>,
    app_code: Option<String>,
    auto_open_mode: Option<i32>,
    extension_app_biz_data: Option<String>,
}

/// The example answer of the endpoint's documentation (the spec's `example`), as DingTalk sends it.
const SEED_BODY: &str = r#"{"confInfo":{"activeNum":10,"attendNum":15,"confDuration":1000000,"conferenceId":"6323dxxxxx","creatorId":"2iPOLxxxxx","creatorNick":"小钉","externalLinkUrl":"https://meeting.dingtalk.io/app?roomCode=42726xxx&token=1_7ac9xxx","invitedNum":20,"startTime":1664175001000,"status":1,"title":"标题","roomCode":"4272xxxxx","endTime":1663294270000,"scheduleConferenceId":"4331d******","bizType":"0","cloudRecordStatus":0,"cloudRecordOwnerUnionId":"A***EiE","minutesStatus":0,"minutesOwnerUnionId":"A***EiE","extensionAppSettings":[{"appId":"29****","appCode":"Coo*****","autoOpenMode":0,"extensionAppBizData":"****"}]}}"#;

struct Setup {
    client: Client,
    /// `BENCH_EXTRA_ALLOC`: bytes the bench client's calls allocate beside the call.
    extra_alloc: usize,
    /// The default client: shared reads on, the limiter on but never binding.
    default: Client,
    http: reqwest::Client,
    /// The conferences the workers read (the first is the seed's), and their URLs.
    ids: Vec<String>,
    urls: Vec<String>,
    token: String,
    /// The generated client with the token attached: the layer under the facade.
    generated: dingtalk_conference::dingtalk_conference_api::Client,
}

impl Setup {
    async fn facade(&self, client: &Client, which: usize) {
        let extra = (self.extra_alloc > 0 && std::ptr::eq(client, &self.client))
            .then(|| black_box(vec![0u8; self.extra_alloc].into_boxed_slice()));
        let info = client
            .conference_info(&self.ids[which])
            .await
            .expect("facade call");
        black_box(info);
        drop(extra);
    }

    async fn generated(&self, which: usize) {
        let answer = self
            .generated
            .query_conference_info(&self.ids[which])
            .await
            .expect("generated call");
        black_box(answer);
    }

    /// What a careful hand-written call does, and no less than the facade checks: the status is
    /// a success and the answer holds `confInfo`.
    async fn floor(&self, which: usize) {
        let response = self
            .http
            .get(&self.urls[which])
            .header("x-acs-dingtalk-access-token", &self.token)
            .send()
            .await
            .expect("floor call");
        let status = response.status();
        assert!(status.is_success(), "floor call: HTTP {status}");
        let body = response.bytes().await.expect("floor body");
        let answer: PlainResponse = serde_json::from_slice(&body).expect("floor decode");
        let info = answer.conf_info.expect("floor: the answer has no confInfo");
        black_box(info);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    /// The bench client: no rate limit, no shared reads.
    Facade,
    /// The default client: shared reads, the limiter on but not binding.
    Default,
    Generated,
    Floor,
}

/// One call of `side`, reading conference `which` (0: the seed's).
async fn call(setup: &Setup, side: Side, which: usize) {
    match side {
        Side::Facade => setup.facade(&setup.client, which).await,
        Side::Default => setup.facade(&setup.default, which).await,
        Side::Generated => setup.generated(which).await,
        Side::Floor => setup.floor(which).await,
    }
}

/// The sides the timed rows compare, in the order of their results.
const COMPARED: [Side; 3] = [Side::Facade, Side::Default, Side::Floor];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

struct Sequential {
    calls_per_s: f64,
    p50: Duration,
    p99: Duration,
}

/// Sequential calls of the [`COMPARED`] sides, their order rotating per round.
async fn sequential(setup: &Setup, rounds: usize, per_round: usize) -> [Sequential; 3] {
    let mut latencies = [Vec::new(), Vec::new(), Vec::new()];
    let mut rates = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds {
        for turn in 0..COMPARED.len() {
            let slot = (round + turn) % COMPARED.len();
            let side = COMPARED[slot];
            let mut busy = Duration::ZERO;
            for _ in 0..per_round {
                let start = Instant::now();
                call(setup, side, 0).await;
                let took = start.elapsed();
                latencies[slot].push(took);
                busy += took;
            }
            rates[slot].push(per_round as f64 / busy.as_secs_f64());
        }
    }
    // Throughput is the median of the rounds' rates: a burst of load elsewhere on the
    // machine spoils one round, not the figure.
    let mut slot = 0;
    latencies.map(|mut latencies| {
        latencies.sort();
        let summary = Sequential {
            calls_per_s: median(&mut rates[slot]),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
        };
        slot += 1;
        summary
    })
}

/// Throughput with `in_flight` calls at all times, `total` calls per measurement.
async fn concurrent(setup: &Arc<Setup>, side: Side, in_flight: usize, total: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let setup = Arc::clone(setup);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                // Each worker reads a conference of its own: no read joins another's.
                let which = worker % setup.ids.len();
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    call(&setup, side, which).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker ran");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Nanoseconds per call of `f`, median of `rounds` rounds of `iterations`.
fn time_per_op(rounds: usize, iterations: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    median(&mut samples)
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let scale = |full: usize, small: usize| if quick { small } else { full };

    // The fake server gets a runtime (and thread) of its own.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let mock = server_runtime
        .block_on(MockServer::start())
        .expect("fake server");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime");

    let client = Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(RetryPolicy::none())
        // The client's own overhead per request: no rate limit, no shared reads.
        .rate_limit(dingtalk_conference::RateLimit::none())
        .coalesce_reads(false)
        .build()
        .expect("client");
    // As an application builds it, but with a rate budget far above what the bench sends: the
    // limiter runs on every call and never makes one wait.
    let default = Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .rate_limit(dingtalk_conference::RateLimit::per_second(u32::MAX))
        .build()
        .expect("default client");
    runtime.block_on(default.access_token()).expect("token");
    // 256 copies of the seed's conference under ids of the same length, one per worker.
    let seed = mock
        .conference(seeded::STARTED)
        .expect("the seed's conference");
    let ids: Vec<String> = std::iter::once(seeded::STARTED.to_string())
        .chain((1..256u32).map(|i| format!("6323d7568777190142{i:06x}")))
        .collect();
    for id in &ids[1..] {
        let mut info = seed.clone();
        info.conference_id = Some(id.clone());
        mock.upsert_conference(info);
    }
    let token = runtime
        .block_on(client.access_token())
        .expect("token")
        .secret()
        .expose()
        .to_string();
    let generated = runtime.block_on(client.api()).expect("generated client");
    let urls = ids
        .iter()
        .map(|id| format!("{}/v1.0/conference/videoConferences/{id}", mock.base_url()))
        .collect();
    let setup = Arc::new(Setup {
        extra_alloc: std::env::var("BENCH_EXTRA_ALLOC")
            .ok()
            .and_then(|bytes| bytes.parse().ok())
            .unwrap_or(0),
        generated,
        http: client.http_client().clone(),
        ids,
        urls,
        client,
        default,
        token,
    });

    // `BENCH_FUTURE_SIZES=1`: how large one call's future is on each side.
    if std::env::var_os("BENCH_FUTURE_SIZES").is_some() {
        println!(
            "future sizes: facade {} / generated {} / floor {} bytes",
            std::mem::size_of_val(&setup.facade(&setup.client, 0)),
            std::mem::size_of_val(&setup.generated(0)),
            std::mem::size_of_val(&setup.floor(0))
        );
        return;
    }
    // `BENCH_PROFILE=facade|default|generated|floor`: only that side's calls, for a
    // profiler (`valgrind --tool=callgrind`); prints nothing else.
    if let Ok(side) = std::env::var("BENCH_PROFILE") {
        let side = match side.as_str() {
            "floor" => Side::Floor,
            "generated" => Side::Generated,
            "default" => Side::Default,
            _ => Side::Facade,
        };
        // `BENCH_PROFILE_IN_FLIGHT=256`: that many calls in flight instead (each worker
        // reading its own conference); `BENCH_PROFILE_CALLS`: how many calls in all.
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse::<usize>().ok())
        };
        let calls = number("BENCH_PROFILE_CALLS").unwrap_or(scale(2_000, 50));
        match number("BENCH_PROFILE_IN_FLIGHT") {
            Some(in_flight) if in_flight > 1 => {
                runtime.block_on(concurrent(&setup, side, in_flight, calls));
            }
            _ => runtime.block_on(async {
                for _ in 0..calls {
                    call(&setup, side, 0).await;
                }
            }),
        }
        return;
    }

    println!("| measure | facade | floor | facade / floor |");
    println!("|---|---|---|---|");

    // (a) Sequential calls.
    runtime.block_on(async {
        for _ in 0..scale(200, 5) {
            for side in COMPARED {
                call(&setup, side, 0).await;
            }
        }
        let [facade, default, floor] = sequential(&setup, scale(20, 2), scale(500, 10)).await;
        println!(
            "| (a) sequential throughput | {:.0} calls/s | {:.0} calls/s | {:.3} |",
            facade.calls_per_s,
            floor.calls_per_s,
            facade.calls_per_s / floor.calls_per_s
        );
        println!(
            "| (a) sequential p50 latency | {:.1} µs | {:.1} µs | {:.3} |",
            facade.p50.as_secs_f64() * 1e6,
            floor.p50.as_secs_f64() * 1e6,
            facade.p50.as_secs_f64() / floor.p50.as_secs_f64()
        );
        println!(
            "| (a) sequential p99 latency | {:.1} µs | {:.1} µs | {:.3} |",
            facade.p99.as_secs_f64() * 1e6,
            floor.p99.as_secs_f64() * 1e6,
            facade.p99.as_secs_f64() / floor.p99.as_secs_f64()
        );
        println!(
            "| (a′) default client: sequential throughput | {:.0} calls/s | {:.0} calls/s | {:.3} (÷ bench client: {:.3}) |",
            default.calls_per_s,
            floor.calls_per_s,
            default.calls_per_s / floor.calls_per_s,
            default.calls_per_s / facade.calls_per_s
        );
        println!(
            "| (a′) default client: sequential p50 latency | {:.1} µs | {:.1} µs | {:.3} |",
            default.p50.as_secs_f64() * 1e6,
            floor.p50.as_secs_f64() * 1e6,
            default.p50.as_secs_f64() / floor.p50.as_secs_f64()
        );
    });

    // (b) Concurrent calls.
    runtime.block_on(async {
        for in_flight in [1usize, 16, 256] {
            let total = scale(in_flight.max(16) * 200, in_flight * 2).min(scale(20_000, 600));
            // Untimed: opens the connections this level needs, for every side alike.
            for side in COMPARED {
                concurrent(&setup, side, in_flight, in_flight * 2).await;
            }
            let mut rates = [Vec::new(), Vec::new(), Vec::new()];
            for round in 0..scale(5, 1) {
                for turn in 0..COMPARED.len() {
                    let slot = (round + turn) % COMPARED.len();
                    rates[slot].push(concurrent(&setup, COMPARED[slot], in_flight, total).await);
                }
            }
            let [facade, default, floor] = rates.map(|mut rates| median(&mut rates));
            println!(
                "| (b) {in_flight} in flight | {facade:.0} calls/s | {floor:.0} calls/s | {:.3} |",
                facade / floor
            );
            println!(
                "| (b′) default client: {in_flight} in flight | {default:.0} calls/s | {floor:.0} calls/s | {:.3} (÷ bench client: {:.3}) |",
                default / floor,
                default / facade
            );
        }
    });

    // (c) Decoding the seed's answer.
    let body = SEED_BODY.as_bytes();
    let (rounds, iterations) = (scale(15, 2), scale(20_000, 100));
    let facade_ns = time_per_op(rounds, iterations, || {
        let answer: wire::QueryConferenceInfoResponse =
            serde_json::from_slice(black_box(body)).expect("wire decode");
        let info = answer.conf_info.map(ConferenceInfo::from_wire);
        black_box(info);
    });
    let floor_ns = time_per_op(rounds, iterations, || {
        let answer: PlainResponse = serde_json::from_slice(black_box(body)).expect("plain decode");
        black_box(answer.conf_info.expect("plain decode: confInfo"));
    });
    println!(
        "| (c) decode the seed's answer | {:.0} ns | {:.0} ns | {:.3} |",
        facade_ns,
        floor_ns,
        facade_ns / floor_ns
    );

    // (d) Tokens: a cache hit, and a refresh while 256 calls wait.
    let hit_ns = runtime.block_on(async {
        let mut samples = Vec::new();
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(setup.client.access_token().await.expect("cached"));
            }
            samples.push(start.elapsed().as_nanos() as f64 / iterations as f64);
        }
        median(&mut samples)
    });
    println!("| (d) token cache hit (`access_token()`) | {hit_ns:.0} ns | - | - |");

    let refresh = runtime.block_on(refresh_under_load(&mock, scale(5, 1)));
    println!(
        "| (d) refresh while 256 calls wait: token requests per refresh | {} | - | - |",
        refresh.token_requests_per_refresh
    );
    println!(
        "| (d) refresh while 256 calls wait: batch time, fresh vs refreshing cache | {:.2} ms refreshing | {:.2} ms fresh | {:.3} |",
        refresh.refreshing_ms,
        refresh.fresh_ms,
        refresh.refreshing_ms / refresh.fresh_ms
    );
    drop(setup);
    server_runtime.block_on(mock.shutdown());
}

struct Refresh {
    token_requests_per_refresh: String,
    refreshing_ms: f64,
    fresh_ms: f64,
}

/// 256 concurrent calls on a cache that is due for refresh, against 256 on a fresh cache, each
/// batch after the same second of idleness (an idle pool and cold caches cost as much as the
/// refresh could: comparing against a batch right after another one measured that instead).
async fn refresh_under_load(mock: &MockServer, rounds: usize) -> Refresh {
    // The fresh side: a token that outlives the benchmark, issued before lifetimes shrink.
    let fresh_client = Client::builder()
        .base_url(mock.base_url())
        .static_token(mock.issue_token())
        .retry_policy(RetryPolicy::none())
        // The client's own overhead per request: no rate limit, no shared reads.
        .rate_limit(dingtalk_conference::RateLimit::none())
        .coalesce_reads(false)
        .build()
        .expect("client");
    // The refreshing side: a 4 s lifetime with a 2 s margin, so the token is due for refresh
    // 2 s after it was fetched and valid until 4 s.
    mock.set_token_lifetime(Duration::from_secs(4));
    let client = Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .token_refresh_margin(Duration::from_secs(2))
        .retry_policy(RetryPolicy::none())
        // The client's own overhead per request: no rate limit, no shared reads.
        .rate_limit(dingtalk_conference::RateLimit::none())
        .coalesce_reads(false)
        .build()
        .expect("client");
    let batch = |client: Client| async move {
        let start = Instant::now();
        let calls: Vec<_> = (0..256)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.conference_info(seeded::STARTED).await })
            })
            .collect();
        for call in calls {
            call.await.expect("ran").expect("call");
        }
        start.elapsed().as_secs_f64() * 1e3
    };
    client.conference_info(seeded::STARTED).await.expect("warm");
    fresh_client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm");
    let idle = Duration::from_millis(1100);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (mut refreshing, mut fresh, mut per_refresh) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        // Due for refresh (2 to 4 s old): the refresh runs beside the batch.
        let before = mock.counters().token_requests;
        refreshing.push(batch(client.clone()).await);
        for _ in 0..200 {
            if mock.counters().token_requests > before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        per_refresh.push(mock.counters().token_requests - before);
        tokio::time::sleep(idle).await;
        let before = mock.counters().token_requests;
        fresh.push(batch(fresh_client.clone()).await);
        assert_eq!(
            mock.counters().token_requests,
            before,
            "a fresh cache fetches nothing"
        );
        // The refreshed token is 2.2 s old when the next round starts: due again, not expired.
        tokio::time::sleep(idle).await;
    }
    mock.set_token_lifetime(Duration::from_secs(7200));
    per_refresh.sort_unstable();
    per_refresh.dedup();
    Refresh {
        token_requests_per_refresh: per_refresh
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        refreshing_ms: median(&mut refreshing),
        fresh_ms: median(&mut fresh),
    }
}
