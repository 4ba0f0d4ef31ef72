//! Load: rounds of 10,000 concurrent `conference_info` calls through one client against the fake
//! server (a separate process), with the tokens expiring during each round. Every call
//! succeeds, the client makes exactly one token request per expiry, and open file descriptors
//! and tasks come back to where they started.
//!
//! One expiry per round, not several in one burst: the client replays a rejected call once
//! (never in a loop), so a call that is still waiting for a connection when a second expiry
//! lands would rightly fail. Each call may meet at most one expiry.
//!
//! Open files: every call in flight holds a socket in this process and one in the fake server.
//! Debian's default soft limit is 1024, so the test first raises its soft limit to the hard
//! limit (the fake server, started after that, inherits it). Where even the hard limit cannot
//! hold 10,000 connections, each round still makes 10,000 calls but lets only as many run at
//! once as the limit allows, and says so on stderr.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dingtalk_conference::Client;
use tokio::sync::Semaphore;

const CALLS: usize = 10_000;
const ROUNDS: usize = 4;
/// In each round, tokens are expired when this many of its calls have completed.
const EXPIRE_AFTER: usize = 2_000;
const STARTED: &str = "6323d7568777190142ab9d10";

/// Descriptors kept free for everything but the calls' sockets: the runtime, the control
/// client, stdio, the test harness, and sockets on their way back into the pool.
const RESERVED_FDS: usize = 128;

/// Raises this process's soft limit on open files to its hard limit, if it can, and returns the
/// soft limit in force. Children started afterwards inherit it.
fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit(RLIMIT_NOFILE)");
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => eprintln!("load: open-files soft limit raised from {soft} to {hard}"),
            // macOS, for one, reports an unlimited hard limit that setrlimit refuses.
            Err(error) => eprintln!("load: cannot raise the open-files limit to {hard}: {error}"),
        }
    }
    getrlimit(Resource::RLIMIT_NOFILE)
        .expect("getrlimit(RLIMIT_NOFILE)")
        .0
}

/// How many calls may be in flight at once under a soft limit of `limit` open files, with
/// `in_use` open already. All of a round at once need a socket each (a tenth more is kept in
/// hand), and later rounds reuse them from the pool. Fewer at once need more sockets than
/// calls: a call that finds no idle connection starts a connect, which goes on into the pool
/// even when an idle connection comes back first. Three sockets per call leave room for that.
fn concurrency_for(limit: u64, in_use: usize) -> usize {
    let free = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(in_use + RESERVED_FDS);
    if free >= CALLS + CALLS / 10 {
        CALLS
    } else {
        free / 3
    }
}

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

    /// The server's soft limit on open files, from `/proc/PID/limits`.
    fn open_files_limit(&self) -> u64 {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id()))
            .expect("/proc/PID/limits");
        let line = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .expect("a `Max open files` line");
        let soft = line["Max open files".len()..].split_whitespace().next();
        match soft {
            Some("unlimited") => u64::MAX,
            soft => soft
                .and_then(|soft| soft.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {line:?}")),
        }
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
    let fd_limit = raise_open_files_limit();
    let concurrency = concurrency_for(fd_limit, open_fds());
    assert!(
        concurrency >= 100,
        "a soft limit of {fd_limit} open files leaves room for only {concurrency} calls at once"
    );
    if concurrency < CALLS {
        eprintln!(
            "load: a limit of {fd_limit} open files holds {concurrency} calls at once, \
             not {CALLS}: each round makes {CALLS} calls, {concurrency} at a time"
        );
    }
    let server = FakeServer::start();
    let server_limit = server.open_files_limit();
    assert!(
        server_limit >= fd_limit,
        "the fake server runs with a soft limit of {server_limit} open files, not {fd_limit}"
    );
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
            // Load, not budget: every call its own request, none held back by the rate limit
            // (the fake server enforces no limit here either).
            .rate_limit(dingtalk_conference::RateLimit::none())
            .coalesce_reads(false)
            .build()
            .expect("valid client");

        let started = Instant::now();
        let mut calls = Vec::with_capacity(CALLS * ROUNDS);
        let in_flight = Arc::new(Semaphore::new(concurrency));
        for _ in 0..ROUNDS {
            let done = Arc::new(AtomicUsize::new(0));
            let round: Vec<_> = (0..CALLS)
                .map(|_| {
                    let client = client.clone();
                    let done = Arc::clone(&done);
                    let in_flight = Arc::clone(&in_flight);
                    tokio::spawn(async move {
                        let _permit = in_flight.acquire().await.expect("never closed");
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
            "load: {ROUNDS} rounds of {CALLS} calls, {concurrency} at once (+{ROUNDS} probes), \
             in {elapsed:?}; \
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
