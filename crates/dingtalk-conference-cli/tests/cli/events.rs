//! `events` and `watch --events`, as a process against a fake server of the test's own: its
//! gateway pushes the events over a real WebSocket; Ctrl-C ends `events` with exit code 130.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
use std::time::Duration;

use dingtalk_conference_mock::seeded;

use crate::{Fake, command};

/// The binary running against `fake`, killed if the test fails before it exits.
struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: BufReader<ChildStderr>,
}

impl Running {
    fn start(fake: &Fake, args: &[&str]) -> Self {
        let mut all = fake.cli_args();
        all.extend(args.iter().map(|arg| (*arg).to_string()));
        Self::start_with(&all.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The binary with exactly these arguments.
    fn start_with(args: &[&str]) -> Self {
        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// The next line on stdout (empty at the end).
    fn stdout_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("reads stdout");
        line
    }

    /// Reads stderr up to a line holding `text`; everything read, for messages.
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

    #[cfg(unix)]
    fn interrupt(&self) {
        let pid = i32::try_from(self.child.id()).expect("a pid fits in pid_t");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGINT)
            .expect("SIGINT sent");
    }

    /// Waits for the exit; its code and the rest of stderr.
    fn finish(&mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("exits");
        let mut rest = String::new();
        let _ = self.stderr.read_to_string(&mut rest);
        (status.code(), rest)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the binary's Stream connection is open at the fake gateway.
fn until_connected(fake: &Fake) {
    for _ in 0..1000 {
        if fake.server.gateway_connections() > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the binary never connected to the fake gateway");
}

#[cfg(unix)]
#[test]
fn events_json_prints_each_event_as_a_json_line_until_ctrl_c_exits_130() {
    let fake = Fake::start();
    let mut run = Running::start(&fake, &["events", "--json"]);
    until_connected(&fake);
    // The conference ends: the fake emits `conference_closed` through its gateway.
    fake.server
        .script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
    // The members leave and it closes: several events (member, minutes, status), in no order
    // this test relies on.
    let mut types = Vec::new();
    let (line, event) = loop {
        let line = run.stdout_line();
        assert!(!line.is_empty(), "stdout ended after {types:?}");
        let event: serde_json::Value = serde_json::from_str(&line).expect("one JSON object a line");
        types.push(event["eventType"].as_str().unwrap_or_default().to_owned());
        if event["eventType"] == "meeting_status_change" {
            break (line, event);
        }
    };

    assert!(event["eventId"].is_string(), "{line}");
    assert_eq!(event["data"]["changeScene"], "conference_closed", "{line}");
    assert_eq!(
        event["data"]["openConfModel"]["conferenceId"],
        seeded::STARTED,
        "{line}"
    );
    run.interrupt();
    let (code, rest) = run.finish();
    assert_eq!(code, Some(130), "stderr: {rest}");
}

#[cfg(unix)]
#[test]
fn events_type_keeps_only_those_types_as_readable_lines() {
    let fake = Fake::start();
    let mut run = Running::start(&fake, &["events", "--type", "meeting_member_status_change"]);
    until_connected(&fake);
    fake.server.emit_event(
        "meeting_status_change",
        serde_json::json!({
            "openConfModel": { "conferenceId": seeded::STARTED },
            "statusSeqNum": 1,
            "changeScene": "conference_created",
        }),
    );
    fake.server.emit_event(
        "meeting_member_status_change",
        serde_json::json!({
            "openMemberModels": [{
                "conferenceId": seeded::STARTED,
                "userId": "u-alice",
                "userNick": "Alice\u{1b}[2J",
            }],
            "statusSeqNum": 2,
            "changeScene": "user_join",
        }),
    );
    let line = run.stdout_line();
    assert!(line.contains("meeting_member_status_change"), "{line}");
    assert!(line.contains(seeded::STARTED), "{line}");
    assert!(line.contains("user_join"), "{line}");
    assert!(
        line.contains(r"Alice\u{1b}[2J (u-alice)"),
        "the nick escaped: {line}"
    );
    run.interrupt();
    let (code, rest) = run.finish();
    assert_eq!(code, Some(130), "stderr: {rest}");
}

#[test]
fn events_needs_credentials_that_can_open_a_stream() {
    let output = command(&["events", "--access-token", "t0k3n"])
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error:") && err.contains("Stream mode") && err.contains("secret"),
        "{err}"
    );
}

#[test]
fn events_with_a_wrong_secret_says_why_it_cannot_connect_and_fails_at_its_timeout() {
    let fake = Fake::start();
    let base_url = fake.server.base_url();
    let mut run = Running::start_with(&[
        "--base-url",
        &base_url,
        "--app-key",
        dingtalk_conference_mock::DEFAULT_APP_KEY,
        "--app-secret",
        "not-the-secret",
        "--timeout",
        "4",
        "events",
    ]);
    let said = run.stderr_until("not connected:");
    assert!(said.contains("invalidClientIdOrSecret"), "{said}");
    assert!(
        !said.contains("not-the-secret"),
        "the secret is never shown: {said}"
    );
    let (code, rest) = run.finish();
    assert_eq!(code, Some(4), "refused credentials exit 4: {said}{rest}");
}

#[test]
fn events_says_when_it_connects() {
    let fake = Fake::start();
    let mut run = Running::start(&fake, &["--timeout", "3", "events"]);
    run.stderr_until("connected to DingTalk's gateway");
    let (code, rest) = run.finish();
    assert_eq!(
        code,
        Some(0),
        "a listen that connected ends well at its timeout: {rest}"
    );
}

#[test]
fn watch_events_ends_on_the_close_event_and_says_so() {
    let fake = Fake::start();
    // Polls a minute apart: only an event can end this watch within the test.
    let mut run = Running::start(
        &fake,
        &[
            "--timeout",
            "30",
            "watch",
            seeded::STARTED,
            "--events",
            "--interval",
            "60",
        ],
    );
    let mut before = run.stderr_until("stream connected: reacting to events");
    // The poll that reconciles (the first, or the one after connecting), then it ends.
    before.push_str(&run.stderr_until(": started"));
    fake.server
        .script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
    let (code, rest) = run.finish();
    assert_eq!(code, Some(0), "{before}{rest}");
    assert!(
        rest.contains("event meeting_status_change: ended"),
        "{before}{rest}"
    );
    assert!(
        before.contains("events: opening a Stream-mode connection"),
        "{before}"
    );
    let info_reads = fake
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1.0/conference/videoConferences/"))
        .count();
    // The first poll, and one more if the stream connected after it.
    assert!(info_reads <= 2, "{info_reads}");
    let mut out = String::new();
    run.stdout.read_to_string(&mut out).expect("reads stdout");
    assert!(!out.is_empty(), "the conference is shown at the end");
}
