//! Load: rounds of 10,000 concurrent `conference_info` calls through one client against the fake
//! server (a separate process), with the tokens expiring during each round. Every call
//! succeeds, the client makes exactly one token request per expiry, and open file descriptors
//! and tasks come back to where they started.
//!
//! One expiry per round, not several in one burst: the client replays a rejected call once
//! (never in a loop), so a call that is still waiting for a connection when a second expiry
//! lands would rightly fail. Each call may meet at most one expiry.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dingtalk_conference::Client;

const CALLS: usize = 10_000;
const ROUNDS: usize = 4;
/// In each round, tokens are expired when this many of its calls have completed.
const EXPIRE_AFTER: usize = 2_000;
const STARTED: &str = "6323d7568777190142ab9d10";

/// The fake server process; killed on drop.
struct FakeServer {
    child: Child,
    base_url: String,
}

impl FakeServer {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-dingtalk-server"))
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("fake server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("fake server prints its address");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self { child, base_url }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
struct Counters {
    token_requests: u64,
    conference_requests: u64,
}

async fn counters(http: &reqwest::Client, base_url: &str) -> Counters {
    http.get(format!("{base_url}/__mock/counters"))
        .send()
        .await
        .expect("counters answered")
        .json()
        .await
        .expect("counters are JSON")
}

#[test]
fn ten_thousand_concurrent_calls_with_expiring_tokens_all_succeed_with_one_fetch_per_expiry() {
    let server = FakeServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fds_before = open_fds();
        let tasks_before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        let control = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .expect("control client");

        let client = Client::builder()
            .base_url(&server.base_url)
            .app_credentials("mock-app-key", "mock-app-secret")
            // 10,000 connections at once overflow the listen backlog; the kernel's SYN
            // retries then take seconds, which is load, not failure.
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("valid client");

        let started = Instant::now();
        let mut calls = Vec::with_capacity(CALLS * ROUNDS);
        for _ in 0..ROUNDS {
            let done = Arc::new(AtomicUsize::new(0));
            let round: Vec<_> = (0..CALLS)
                .map(|_| {
                    let client = client.clone();
                    let done = Arc::clone(&done);
                    tokio::spawn(async move {
                        let result = client.conference_info(STARTED).await;
                        done.fetch_add(1, Ordering::Relaxed);
                        result
                    })
                })
                .collect();

            // Expire every token mid-round, then make one probe call that is sure to meet
            // the expired token, so that the expiry is noticed.
            while done.load(Ordering::Relaxed) < EXPIRE_AFTER {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            control
                .post(format!("{}/__mock/expire-tokens", server.base_url))
                .send()
                .await
                .expect("tokens expired");
            client
                .conference_info(STARTED)
                .await
                .expect("probe after expiry");
            // The round ends before the next expiry.
            for call in round {
                calls.push(call.await.expect("task ran"));
            }
        }

        let failures: Vec<String> = calls
            .into_iter()
            .filter_map(|result| result.err().map(|e| e.to_string()))
            .collect();
        let elapsed = started.elapsed();
        assert!(
            failures.is_empty(),
            "{} calls failed, e.g. {:?}",
            failures.len(),
            failures.first()
        );

        let counters = counters(&control, &server.base_url).await;
        eprintln!(
            "load: {ROUNDS} rounds of {CALLS} concurrent calls (+{ROUNDS} probes) in {elapsed:?}; \
             {} conference requests, {} token requests for {ROUNDS} expiries",
            counters.conference_requests, counters.token_requests,
        );
        assert_eq!(
            counters.token_requests,
            1 + ROUNDS as u64,
            "one token for the start, then exactly one per expiry"
        );

        drop(client);
        drop(control);
        // Connections close and their tasks end shortly after the last handle goes.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut fds, mut tasks) = (usize::MAX, usize::MAX);
        while Instant::now() < deadline {
            fds = open_fds();
            tasks = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            if fds <= fds_before && tasks <= tasks_before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("load: fds {fds_before} -> {fds}, tasks {tasks_before} -> {tasks}");
        assert!(
            fds <= fds_before,
            "file descriptors leaked: {fds_before} -> {fds}"
        );
        assert!(
            tasks <= tasks_before,
            "tasks leaked: {tasks_before} -> {tasks}"
        );
    });
}
