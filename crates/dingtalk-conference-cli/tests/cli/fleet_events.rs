//! A fleet shares its events (issue 23 §5): three `watch --events --redis` processes, one real
//! redis-server, and the fake gateway giving each event to one of the three connections at
//! random. Each process waits for conferences of its own; every one of them ends on events,
//! whichever process's connection received them, with no poll after the ends.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStderr, Stdio};
use std::time::{Duration, Instant};

use dingtalk_conference_mock::seeded;
use dingtalk_conference_testkit::redis::RedisServer;

use crate::{Fake, command};

/// The batch query's path: the only poll of a watch of several conferences.
const BATCH_PATH: &str = "/v1.0/conference/videoConferences/query";

/// One `watch` process, killed if the test fails before it exits.
struct Watcher {
    child: Child,
    stderr: BufReader<ChildStderr>,
}

impl Watcher {
    fn start(fake: &Fake, redis: &RedisServer, ids: &[String]) -> Self {
        let mut args = fake.cli_args();
        args.extend(["--redis".to_owned(), redis.url()]);
        args.extend(["--timeout".to_owned(), "30".to_owned(), "watch".to_owned()]);
        args.extend(ids.iter().cloned());
        // Polls ten minutes apart, a safety poll every five: only events end it in time.
        args.extend(["--events", "--interval", "600"].map(str::to_owned));
        let mut child = command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        Self { child, stderr }
    }

    /// Reads stderr up to a line holding `text`; everything read.
    fn stderr_until(&mut self, text: &str) -> String {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let read = self.stderr.read_line(&mut line).expect("reads stderr");
            seen.push_str(&line);
            assert!(read > 0, "stderr ended before {text:?}: {seen}");
            if line.contains(text) {
                return seen;
            }
        }
    }

    /// Waits for the exit (the watch's own `--timeout` bounds it): the code, stdout, stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let status = self.child.wait().expect("exits");
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let mut rest = String::new();
        let _ = self.stderr.read_to_string(&mut rest);
        (status.code(), out, rest)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many batch queries the fake has answered.
fn batch_polls(fake: &Fake) -> usize {
    fake.server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with(BATCH_PATH))
        .count()
}

/// Until no batch query has come for `quiet` (every process's reconciling poll is done).
fn until_polls_settle(fake: &Fake, quiet: Duration) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = batch_polls(fake);
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let now = batch_polls(fake);
        if now != seen {
            seen = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return seen;
        }
    }
    panic!("the processes never stopped polling");
}

#[test]
fn three_processes_each_see_their_conferences_end_whichever_received_the_events() {
    let fake = Fake::start();
    let redis = RedisServer::start();
    // Six conferences in progress, two per process.
    let template = fake.server.conference(seeded::STARTED).expect("seeded");
    let ids: Vec<String> = (0..6).map(|n| format!("6a0f{n:020x}")).collect();
    for id in &ids {
        let mut info = template.clone();
        info.conference_id = Some(id.clone());
        fake.server.upsert_conference(info);
    }
    let mut watchers: Vec<Watcher> = ids
        .chunks(2)
        .map(|mine| Watcher::start(&fake, &redis, mine))
        .collect();
    for watcher in &mut watchers {
        watcher.stderr_until("stream connected: reacting to events");
    }
    assert_eq!(fake.server.gateway_connections(), 3);
    let polls_before = until_polls_settle(&fake, Duration::from_millis(700));

    // The fake ends them all: each close event goes to one of the three connections, so
    // most processes hear of some of their own conferences only through Redis.
    for id in &ids {
        fake.server.script_status(id, vec![(Duration::ZERO, 1)]);
    }
    // The fake's script ticker applies the ends (on its own runtime) as they fall due.
    let closes = || {
        fake.server
            .emitted_events()
            .iter()
            .filter(|e| e.data["changeScene"] == "conference_closed")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while closes() < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(closes(), 6);

    for (n, watcher) in watchers.into_iter().enumerate() {
        let (code, out, err) = watcher.finish();
        assert_eq!(code, Some(0), "process {n}: {err}");
        for id in &ids[n * 2..n * 2 + 2] {
            assert!(out.contains(id.as_str()), "process {n} shows {id}: {out}");
        }
    }
    assert_eq!(
        batch_polls(&fake),
        polls_before,
        "every waiter ended on events, none by polling"
    );
    // The events went through the fleet's stream, each once.
    let streams: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|key| key.starts_with("dingtalk:events:"))
        .collect();
    assert_eq!(streams.len(), 1, "{streams:?}");
    let shared: usize = redis
        .cli(&["XLEN", &streams[0]])
        .and_then(|len| len.parse().ok())
        .expect("a length");
    assert_eq!(shared, 6, "each close event once");
}
