//! `dingtalk-conference` end to end, as a process: output, `--json` and exit codes, against the
//! fake server (in-process with `--mock`, or started here and reached with `--base-url`).

use std::collections::BTreeSet;
use std::process::{Command, Output};

use dingtalk_conference::{ConferenceInfo, ConferenceStatus, env};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, MockServer, seeded,
};

/// The keys of `confInfo` in the spec (`spec/dingtalk-conference.yaml`, `ConferenceInfo`), as
/// DingTalk documents them: `--json` may print no other.
const SPEC_CONF_INFO_KEYS: [&str; 20] = [
    "activeNum",
    "attendNum",
    "bizType",
    "cloudRecordOwnerUnionId",
    "cloudRecordStatus",
    "confDuration",
    "conferenceId",
    "creatorId",
    "creatorNick",
    "endTime",
    "extensionAppSettings",
    "externalLinkUrl",
    "invitedNum",
    "minutesOwnerUnionId",
    "minutesStatus",
    "roomCode",
    "scheduleConferenceId",
    "startTime",
    "status",
    "title",
];

/// Beijing time, as a POSIX TZ string: chrono's `Local` honours `TZ`, and this form needs no
/// time zone database on the machine (`Asia/Shanghai` would fall back to UTC without one).
const BEIJING: &str = "CST-8";

/// Runs the binary with `args`, in Beijing time (so times print the same everywhere) and with
/// no `DINGTALK_*` variable from the test's own environment.
fn run(args: &[&str]) -> Output {
    run_with_env(args, &[])
}

fn run_with_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference"));
    command.args(args).env("TZ", BEIJING);
    for name in [
        env::ACCESS_TOKEN,
        env::APP_KEY,
        env::APP_SECRET,
        env::SUITE_KEY,
        env::SUITE_SECRET,
        env::AUTH_CORP_ID,
        env::SUITE_TICKET,
        env::EDITION,
        env::BASE_URL,
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn exit_code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// A fake server started by the test, running on its own runtime while the binary runs.
struct Fake {
    // Declared first: dropped (shut down) before the runtime it runs on.
    server: MockServer,
    _runtime: tokio::runtime::Runtime,
}

impl Fake {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let server = runtime
            .block_on(MockServer::start())
            .expect("the fake server starts");
        Self {
            server,
            _runtime: runtime,
        }
    }

    /// Runs the binary against this server with the default app's credentials.
    fn run(&self, args: &[&str]) -> Output {
        let base_url = self.server.base_url();
        let mut all = vec![
            "--base-url",
            &base_url,
            "--app-key",
            DEFAULT_APP_KEY,
            "--app-secret",
            DEFAULT_APP_SECRET,
        ];
        all.extend_from_slice(args);
        run(&all)
    }
}

#[test]
fn info_on_the_embedded_fake_server_shows_an_ended_conference() {
    let output = run(&["info", "--mock", seeded::ENDED]);
    let text = stdout(&output);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(text.contains("Quarterly planning review"), "{text}");
    assert!(text.contains("status           ended"), "{text}");
    assert!(text.contains("duration         1h 23m 45s"), "{text}");
}

#[test]
fn info_human_output_is_stable() {
    let output = run(&["--mock", "info", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    insta::assert_snapshot!("info_ended_conference", stdout(&output));
}

#[test]
fn info_json_is_the_conference_in_dingtalks_form_and_nothing_else() {
    let output = run(&["--mock", "--json", "info", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));

    let value: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    let keys: BTreeSet<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    let spec: BTreeSet<&str> = SPEC_CONF_INFO_KEYS.into_iter().collect();
    assert!(
        keys.is_subset(&spec),
        "keys outside the spec: {:?}",
        keys.difference(&spec).collect::<Vec<_>>()
    );
    assert_eq!(value["status"], 1, "DingTalk's wire value, not a word");

    let info: ConferenceInfo = serde_json::from_value(value).expect("decodes as the model");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert_eq!(info.conference_id.as_deref(), Some(seeded::ENDED));
}

#[test]
fn unknown_conference_exits_3_with_dingtalks_code_and_request_id() {
    let output = run(&["--mock", "info", "no-such-conference"]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 3, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("code: roomNotFound"), "{err}");
    assert!(err.contains("request id: "), "{err}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn wrong_app_secret_exits_4_and_never_prints_the_secret() {
    let fake = Fake::start();
    let secret = "s3cret-that-must-not-leak";
    let output = run(&[
        "--base-url",
        &fake.server.base_url(),
        "--app-key",
        DEFAULT_APP_KEY,
        "--app-secret",
        secret,
        "info",
        seeded::ENDED,
    ]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 4, "{err}");
    assert!(err.contains("invalidClientIdOrSecret"), "{err}");
    assert!(!err.contains(secret) && !stdout(&output).contains(secret));
}

#[test]
fn throttling_that_outlasts_the_retries_exits_5() {
    let fake = Fake::start();
    fake.server.push_fault(
        FaultScope::Conference(seeded::ENDED.to_string()),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    let output = fake.run(&["info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 5, "{err}");
    assert!(
        err.contains("code: Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"),
        "{err}"
    );
    assert!(
        fake.server.counters().conference_requests > 1,
        "retried first"
    );
}

#[test]
fn unreachable_server_exits_6() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let base_url = format!("http://127.0.0.1:{closed_port}");
    let output = run(&[
        "--base-url",
        &base_url,
        "--app-key",
        "k",
        "--app-secret",
        "s",
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&output), 6, "{}", stderr(&output));
}

#[test]
fn empty_conference_id_exits_2() {
    for args in [&["info", ""][..], &["--mock", "info", " "][..]] {
        let output = run(args);
        assert_eq!(exit_code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("conference id is empty"));
    }
}

#[test]
fn dingtalk_system_error_exits_7() {
    let fake = Fake::start();
    fake.server.push_fault(
        FaultScope::NextRequests(1_000),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "system error".into(),
        },
    );
    let output = fake.run(&["info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 7, "{err}");
    assert!(err.contains("code: systemError"), "{err}");
}

#[test]
fn token_is_printed_only_with_show_token() {
    let fake = Fake::start();

    let shown = fake.run(&["--json", "token", "--show-token"]);
    assert_eq!(exit_code(&shown), 0, "{}", stderr(&shown));
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    let token = json["token"].as_str().expect("the token").to_string();
    assert_eq!(json["credentials"], "app");
    let expires_in = json["expiresIn"].as_u64().expect("expiresIn");
    assert!((7_100..=7_200).contains(&expires_in), "{json}");
    assert!(json["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z')));

    // It is the token the fake server issued: the server accepts it.
    let with_it = run(&[
        "--base-url",
        &fake.server.base_url(),
        "--access-token",
        &token,
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&with_it), 0, "{}", stderr(&with_it));
    assert!(
        fake.server.requests().iter().any(|request| {
            request.header("x-acs-dingtalk-access-token") == Some(token.as_str())
        })
    );

    // An internal app gets the same token again within its lifetime; it must not show.
    for args in [&["token"][..], &["--json", "token"][..]] {
        let hidden = fake.run(args);
        assert_eq!(exit_code(&hidden), 0, "{}", stderr(&hidden));
        let (out, err) = (stdout(&hidden), stderr(&hidden));
        assert!(!out.contains(&token) && !err.contains(&token), "{out}");
        assert!(out.contains("expires"), "{out}");
    }
    let text = stdout(&fake.run(&["token"]));
    assert!(text.contains("internal app"), "{text}");
    assert!(text.contains("--show-token"), "{text}");
}

#[test]
fn watch_polls_until_the_conference_ends() {
    let output = run(&[
        "--mock",
        "watch",
        seeded::STARTED,
        "--until",
        "ended",
        "--interval",
        "0.2",
    ]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(exit_code(&output), 0, "{err}");
    assert!(err.contains("poll 1: started"), "{err}");
    assert!(err.contains(": ended"), "{err}");
    assert!(out.contains("status           ended"), "{out}");
    assert!(!out.contains("poll"), "progress stays off stdout: {out}");
}

#[test]
fn watch_that_runs_out_of_time_exits_8() {
    let output = run(&[
        "--mock",
        "watch",
        seeded::STARTED,
        "--interval",
        "0.1",
        "--timeout",
        "0.5",
    ]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 8, "{err}");
    assert!(err.contains("last status was started"), "{err}");
}

#[test]
fn help_lists_the_exit_codes() {
    let output = run(&["--help"]);
    let help = stdout(&output);
    assert_eq!(exit_code(&output), 0);
    for line in [
        "Exit codes:",
        "0  success",
        "2  bad input or usage",
        "3  no such conference",
        "4  authentication or permission",
        "5  throttled",
        "6  network",
        "7  any other DingTalk error",
        "8  watch: --timeout ran out",
    ] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
}

#[test]
fn without_credentials_the_error_names_the_variables_and_suggests_mock() {
    let output = run(&["info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 1, "{err}");
    for name in [env::APP_KEY, env::APP_SECRET, env::ACCESS_TOKEN, "--mock"] {
        assert!(err.contains(name), "{name} missing from {err}");
    }
}

#[test]
fn flags_override_environment_variables() {
    let fake = Fake::start();
    let base_url = fake.server.base_url();
    let vars = [
        (env::APP_KEY, DEFAULT_APP_KEY),
        (env::APP_SECRET, "wrong secret from the environment"),
        (env::BASE_URL, base_url.as_str()),
    ];
    let from_env_only = run_with_env(&["info", seeded::ENDED], &vars);
    assert_eq!(exit_code(&from_env_only), 4, "{}", stderr(&from_env_only));

    let flag_wins = run_with_env(
        &["info", seeded::ENDED, "--app-secret", DEFAULT_APP_SECRET],
        &vars,
    );
    assert_eq!(exit_code(&flag_wins), 0, "{}", stderr(&flag_wins));
}

#[test]
fn timeout_bounds_a_slow_answer_and_exits_6() {
    let fake = Fake::start();
    fake.server.push_fault(
        FaultScope::Conference(seeded::ENDED.to_string()),
        Fault::Delay(std::time::Duration::from_secs(30)),
    );
    let started = std::time::Instant::now();
    let output = fake.run(&["--timeout", "0.5", "info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 6, "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn watch_reports_throttling_on_stderr_and_carries_on() {
    let fake = Fake::start();
    // Enough to outlast one poll's own retries (3 attempts), so that watch backs off.
    fake.server.push_fault(
        FaultScope::ConferenceTimes(seeded::ENDED.to_string(), 3),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    let output = fake.run(&["watch", seeded::ENDED, "--interval", "0.2"]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 0, "{err}");
    assert!(err.contains("throttled, waiting"), "{err}");
    assert!(err.contains("poll 1: ended"), "{err}");
}

#[test]
fn watch_progress_escapes_what_the_network_sent() {
    let fake = Fake::start();
    // A terminal title change and a right-to-left override in a throttling code, then a screen
    // clear and a zero-width space in an error message; each outlasts one poll's 3 attempts.
    fake.server.push_fault(
        FaultScope::ConferenceTimes(seeded::ENDED.to_string(), 3),
        Fault::Error {
            status: 429,
            code: "busy\u{1b}]0;pwned\u{7}\u{202e}".into(),
            message: "slow down".into(),
        },
    );
    fake.server.push_fault(
        FaultScope::ConferenceTimes(seeded::ENDED.to_string(), 3),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "boom\u{1b}[2J\u{200b}\nfake: poll 9: ended".into(),
        },
    );
    let output = fake.run(&["watch", seeded::ENDED, "--interval", "0.2"]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 0, "{err}");
    assert!(err.contains("throttled, waiting"), "{err}");
    assert!(err.contains("poll failed, waiting"), "{err}");
    for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{200b}'] {
        assert!(!err.contains(raw), "{raw:?} reached the terminal: {err:?}");
    }
    assert!(err.contains(r"busy\u{1b}]0;pwned\u{7}\u{202e}"), "{err}");
    assert!(
        err.contains(r"boom\u{1b}[2J\u{200b}\nfake: poll 9"),
        "{err}"
    );
    assert!(
        !err.lines().any(|line| line.starts_with("fake:")),
        "a line break from the network started a line: {err}"
    );
}

#[test]
fn seconds_out_of_range_are_usage_errors_not_a_crash() {
    for args in [
        &["--timeout", "1e19", "watch", seeded::STARTED][..],
        &["watch", seeded::STARTED, "--interval", "1e19"][..],
        &["watch", seeded::STARTED, "--interval", "inf"][..],
        &["--timeout", "-1", "info", seeded::ENDED][..],
        &["--timeout", "31536001", "info", seeded::ENDED][..],
    ] {
        let mut all = vec!["--mock"];
        all.extend_from_slice(args);
        let output = run(&all);
        let err = stderr(&output);
        assert_eq!(exit_code(&output), 2, "{args:?}: {err}");
        assert!(err.contains("invalid value"), "{args:?}: {err}");
        assert!(
            err.contains("at most 31536000") || err.contains("positive number"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn edition_takes_the_librarys_words_from_flag_and_variable() {
    let fake = Fake::start();
    // --base-url decides where the calls go; the edition only has to be accepted.
    for word in ["io", "com", "CN", "international"] {
        let output = fake.run(&["--edition", word, "info", seeded::ENDED]);
        assert_eq!(exit_code(&output), 0, "{word}: {}", stderr(&output));
    }
    let base_url = fake.server.base_url();
    for word in ["io", "com", ""] {
        let output = run_with_env(
            &[
                "--base-url",
                &base_url,
                "--app-key",
                DEFAULT_APP_KEY,
                "--app-secret",
                DEFAULT_APP_SECRET,
                "info",
                seeded::ENDED,
            ],
            &[(env::EDITION, word)],
        );
        assert_eq!(exit_code(&output), 0, "{word:?}: {}", stderr(&output));
    }
    let output = fake.run(&["--edition", "mars", "info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 2, "{err}");
    assert!(
        err.contains("international") && err.contains("china"),
        "{err}"
    );

    let help = stdout(&run(&["--help"]));
    for word in ["international (or intl, io)", "china (or cn, com)"] {
        assert!(help.contains(word), "{word:?} missing from:\n{help}");
    }
}

#[test]
fn token_endpoint_not_found_from_a_wrong_base_url_exits_7_not_4() {
    let fake = Fake::start();
    fake.server.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::Error {
            status: 404,
            code: "InvalidAction.NotFound".into(),
            message: "Specified api is not found".into(),
        },
    );
    let output = fake.run(&["info", seeded::ENDED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 7, "{err}");
    assert!(err.contains("code: InvalidAction.NotFound"), "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_watch_with_exit_130() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    /// Kills the watch if the test fails before it exits, so that it cannot run on forever.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    // An ended conference never "changes": this watch runs until it is interrupted.
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_dingtalk-conference"))
            .args(["--mock", "watch", seeded::ENDED, "--until", "change"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );
    let mut lines = BufReader::new(child.0.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("poll 1") {
        line.clear();
        assert!(lines.read_line(&mut line).expect("reads") > 0, "no poll");
    }
    // kill(2) itself, not /bin/kill: procps is missing on minimal images.
    let pid = i32::try_from(child.0.id()).expect("a pid fits in pid_t");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGINT)
        .expect("SIGINT sent");
    let status = child.0.wait().expect("exits");
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut lines, &mut rest);
    assert_eq!(
        status.code(),
        Some(130),
        "{status:?}; stderr after poll 1: {rest}"
    );
}

#[test]
fn info_repeat_makes_that_many_calls_with_one_token() {
    let fake = Fake::start();
    let output = fake.run(&["info", "--repeat", "25", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(fake.server.counters().conference_requests, 25);
    assert_eq!(fake.server.counters().token_requests, 1);
    assert_eq!(
        exit_code(&fake.run(&["info", "--repeat", "0", seeded::ENDED])),
        2
    );
}

#[test]
fn a_system_proxy_never_carries_loopback_traffic() {
    // Nothing listens on port 9: a request sent to the proxy would fail.
    let proxy = [
        ("HTTP_PROXY", "http://127.0.0.1:9"),
        ("http_proxy", "http://127.0.0.1:9"),
        ("ALL_PROXY", "http://127.0.0.1:9"),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ];
    let output = run_with_env(&["--mock", "info", seeded::ENDED], &proxy);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
}

/// A file holding `content`, removed when dropped.
struct SecretFile(std::path::PathBuf);

impl SecretFile {
    fn new(name: &str, content: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "dingtalk-conference-cli-test-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, content).expect("temp file written");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn secrets_come_from_files_or_standard_input_and_a_plain_flag_warns() {
    let fake = Fake::start();
    let base_url = fake.server.base_url();
    let file = SecretFile::new("app-secret", &format!("{DEFAULT_APP_SECRET}\n"));
    let common = ["--base-url", &base_url, "--app-key", DEFAULT_APP_KEY];

    let from_file = run(&[&common[..], &["--app-secret-file", file.path(), "token"]].concat());
    assert_eq!(exit_code(&from_file), 0, "{}", stderr(&from_file));
    assert!(
        !stderr(&from_file).contains("warning"),
        "{}",
        stderr(&from_file)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference"))
        .args(common)
        .args(["--app-secret-file", "-", "token"])
        .env_remove(env::APP_SECRET)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("piped");
        writeln!(stdin, "{DEFAULT_APP_SECRET}").expect("written");
    }
    let from_stdin = child.wait_with_output().expect("exits");
    assert_eq!(exit_code(&from_stdin), 0, "{}", stderr(&from_stdin));

    let as_flag = run(&[&common[..], &["--app-secret", DEFAULT_APP_SECRET, "token"]].concat());
    assert_eq!(exit_code(&as_flag), 0, "{}", stderr(&as_flag));
    let warning = stderr(&as_flag);
    assert!(
        warning.contains("warning: --app-secret") && warning.contains("--app-secret-file"),
        "{warning}"
    );
    assert!(!warning.contains(DEFAULT_APP_SECRET), "{warning}");
}

#[test]
fn a_secret_file_is_refused_with_its_flag_and_a_wrong_one_never_prints() {
    let fake = Fake::start();
    let base_url = fake.server.base_url();
    let wrong = SecretFile::new("wrong-secret", "s3cret-from-a-file-must-not-leak\n");
    let both = run(&[
        "--base-url",
        &base_url,
        "--app-key",
        DEFAULT_APP_KEY,
        "--app-secret",
        "x",
        "--app-secret-file",
        wrong.path(),
        "token",
    ]);
    assert_eq!(exit_code(&both), 2, "{}", stderr(&both));
    assert!(stderr(&both).contains("not both"), "{}", stderr(&both));

    let refused = run(&[
        "--base-url",
        &base_url,
        "--app-key",
        DEFAULT_APP_KEY,
        "--app-secret-file",
        wrong.path(),
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&refused), 4, "{}", stderr(&refused));
    assert!(
        !stderr(&refused).contains("must-not-leak") && !stdout(&refused).contains("must-not-leak")
    );

    let missing = run(&[
        "--base-url",
        &base_url,
        "--app-key",
        DEFAULT_APP_KEY,
        "--app-secret-file",
        "/nonexistent/dingtalk-secret",
        "token",
    ]);
    assert_eq!(exit_code(&missing), 1, "{}", stderr(&missing));
    assert!(stderr(&missing).contains("--app-secret-file /nonexistent/dingtalk-secret"));
}
