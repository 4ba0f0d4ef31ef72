//! `dingtalk-conference` end to end, as a process: output, `--json` and exit codes, against the
//! fake server (in-process with `--mock`, or started here and reached with `--base-url`).
//!
//! One test binary: a new test file goes beside this one as a module (`mod name;` here), and
//! uses the helpers below (`crate::run`, `crate::Fake`, …) and `dingtalk-conference-testkit`.

mod api;
mod control;
mod data;
mod events;
mod fleet_events;
mod minutes;
mod org;
mod record_stream;
mod same_checks;
mod schedules;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use dingtalk_conference::{ConferenceInfo, ConferenceStatus, env};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, seeded};
use dingtalk_conference_testkit::fake::FakeOnItsOwnRuntime;
use dingtalk_conference_testkit::redis::RedisServer;
// The spec, parsed once: `--json` may print no key its schemas do not declare.
use dingtalk_conference_testkit::spec::spec;

/// Asserts that `value` holds no key the spec's schema `schema` (a name under
/// `components.schemas`) does not declare, at any depth: through `$ref`s, arrays and nested
/// objects. Returns the keys `value` has at its top level.
fn assert_spec_keys(value: &serde_json::Value, schema: &str) -> BTreeSet<String> {
    let node = &spec()["components"]["schemas"][schema];
    assert!(node.is_object(), "the spec has no schema {schema}");
    check_spec_keys(value, node, schema);
    value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default()
}

fn check_spec_keys(value: &serde_json::Value, node: &serde_json::Value, at: &str) {
    if let Some(reference) = node["$ref"].as_str() {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{at}: unexpected $ref {reference}"));
        return check_spec_keys(value, &spec()["components"]["schemas"][name], name);
    }
    match value {
        serde_json::Value::Object(object) => {
            let properties = node["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: the spec declares no properties here"));
            for (key, inner) in object {
                let declared = properties.get(key).unwrap_or_else(|| {
                    panic!(
                        "{at}: `{key}` is not in the spec (it declares {:?})",
                        properties.keys().collect::<Vec<_>>()
                    )
                });
                check_spec_keys(inner, declared, &format!("{at}.{key}"));
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                check_spec_keys(item, &node["items"], &format!("{at}[]"));
            }
        }
        _ => {}
    }
}

/// Beijing time, as a POSIX TZ string: chrono's `Local` honours `TZ`, and this form needs no
/// time zone database on the machine (`Asia/Shanghai` would fall back to UTC without one).
const BEIJING: &str = "CST-8";

/// Runs the binary with `args`, in Beijing time (so times print the same everywhere) and with
/// no `DINGTALK_*` variable from the test's own environment.
fn run(args: &[&str]) -> Output {
    run_with_env(args, &[])
}

fn run_with_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    command(args)
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs")
}

/// The binary with `args`, in Beijing time and with no `DINGTALK_*` variable from the test's
/// own environment.
fn command(args: &[&str]) -> Command {
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
        env::REDIS_URL,
        env::REDIS_CLUSTER,
        "DINGTALK_REDIS_CA_FILE",
    ] {
        command.env_remove(name);
    }
    command
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

/// A fake server started by the test, on a runtime of its own while the binary runs.
type Fake = FakeOnItsOwnRuntime;

/// Runs the binary against a fake server of the test's own.
trait RunAgainst {
    /// Runs the binary with `args` against this server, with the default app's credentials.
    fn run(&self, args: &[&str]) -> Output;
}

impl RunAgainst for Fake {
    fn run(&self, args: &[&str]) -> Output {
        let mut all = self.cli_args();
        all.extend(args.iter().map(|arg| (*arg).to_string()));
        run(&all.iter().map(String::as_str).collect::<Vec<_>>())
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
    let keys = assert_spec_keys(&value, "ConferenceInfo");
    assert!(keys.contains("confDuration"), "{keys:?}");
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
fn watch_of_several_conferences_polls_them_together_and_prints_each() {
    let output = run(&[
        "--mock",
        "--json",
        "watch",
        seeded::STARTED,
        seeded::INITIALISED,
        "--interval",
        "0.2",
    ]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(exit_code(&output), 0, "{err}");
    assert!(
        err.contains("watching 2 conferences with the batch query"),
        "{err}"
    );
    let infos: Vec<ConferenceInfo> = serde_json::from_str(&out).expect("a JSON array");
    let ids: Vec<_> = infos
        .iter()
        .filter_map(|i| i.conference_id.as_deref())
        .collect();
    assert_eq!(
        ids,
        [seeded::STARTED, seeded::INITIALISED],
        "in the order given"
    );
    assert!(
        infos
            .iter()
            .all(|i| i.status == Some(ConferenceStatus::Ended)),
        "{out}"
    );
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
        "9  the conference has already ended",
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

// ---------------------------------------------------------------------------------------------
// The operations beyond `info`: status, info --room-code, members, create, close, recordings,
// transcript.

/// stdout as one JSON document.
fn json_of(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// Runs and asserts exit code 0; stdout.
fn ok(output: &Output) -> String {
    assert_eq!(exit_code(output), 0, "{}", stderr(output));
    stdout(output)
}

#[test]
fn the_spec_key_check_refuses_an_undeclared_key_at_any_depth() {
    let top = std::panic::catch_unwind(|| {
        assert_spec_keys(
            &serde_json::json!({"title": "t", "bogus": 1}),
            "ConferenceInfo",
        )
    });
    assert!(top.is_err(), "an undeclared top-level key passed");
    let nested = std::panic::catch_unwind(|| {
        assert_spec_keys(
            &serde_json::json!({"userList": [{"nick": "n", "bogus": 1}]}),
            "ConferenceSummary",
        )
    });
    assert!(nested.is_err(), "an undeclared nested key passed");
    let fine = assert_spec_keys(
        &serde_json::json!({"userList": [{"nick": "n"}], "status": 2}),
        "ConferenceSummary",
    );
    assert_eq!(fine.len(), 2);
}

#[test]
fn status_prints_one_line_per_id_in_the_order_given() {
    let text = ok(&run(&[
        "--mock",
        "status",
        seeded::ENDED,
        seeded::STARTED,
        "no-such-conference",
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with(seeded::ENDED), "{text}");
    assert!(lines[0].ends_with("not in progress (or unknown)"), "{text}");
    assert!(lines[1].starts_with(seeded::STARTED), "{text}");
    for part in ["started", "产品周会", "+08:00", "active", "attended"] {
        assert!(lines[1].contains(part), "{part:?} missing: {text}");
    }
    assert!(lines[2].starts_with("no-such-conference"), "{text}");
    assert!(lines[2].ends_with("not in progress (or unknown)"), "{text}");
}

#[test]
fn status_json_is_dingtalks_infos_array_of_the_conferences_in_progress() {
    let output = run(&["--mock", "--json", "status", seeded::STARTED, seeded::ENDED]);
    let _ = ok(&output);
    let value = json_of(&output);
    let infos = value.as_array().expect("an array");
    assert_eq!(infos.len(), 1, "{value}");
    let keys = assert_spec_keys(&infos[0], "ConferenceSummary");
    assert!(keys.contains("userList"), "{keys:?}");
    assert_eq!(infos[0]["conferenceId"], seeded::STARTED);
    assert_eq!(infos[0]["status"], 2, "DingTalk's wire value");
}

#[test]
fn info_by_room_code_lists_every_instance_across_pages() {
    let fake = Fake::start();
    let whole = ok(&fake.run(&["info", "--room-code", seeded::RECURRING_ROOM_CODE]));
    let ids: Vec<&str> = whole
        .lines()
        .filter_map(|line| line.strip_prefix("conference id"))
        .map(str::trim)
        .collect();
    assert_eq!(
        ids,
        [
            seeded::RECURRING_JANUARY,
            seeded::RECURRING_FEBRUARY,
            seeded::SCHEDULED
        ],
        "{whole}"
    );
    assert!(whole.contains(&format!("room code      {}", seeded::RECURRING_ROOM_CODE)));

    // One a page: the same conferences, from three requests.
    fake.server.reset_log();
    let paged = ok(&fake.run(&[
        "info",
        "--room-code",
        seeded::RECURRING_ROOM_CODE,
        "--page-size",
        "1",
    ]));
    let pages = fake
        .server
        .requests()
        .iter()
        .filter(|request| request.path.contains("/roomCodes/"))
        .count();
    assert_eq!(pages, 3);
    let without_durations = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with("duration"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_durations(&paged), without_durations(&whole));

    let output = fake.run(&["--json", "info", "--room-code", seeded::RECURRING_ROOM_CODE]);
    let _ = ok(&output);
    let value = json_of(&output);
    let list = value.as_array().expect("an array");
    assert_eq!(list.len(), 3);
    for conference in list {
        assert_spec_keys(conference, "RoomConference");
    }

    let none = fake.run(&["--json", "info", "--room-code", "1"]);
    assert_eq!(json_of(&none), serde_json::json!([]), "{}", stderr(&none));
    assert!(stderr(&none).contains("no conference uses room code 1"));
}

#[test]
fn members_is_a_table_of_every_page_and_json_the_member_models() {
    let fake = Fake::start();
    let table = ok(&fake.run(&["members", seeded::STARTED]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NICK"), "{table}");
    for column in [
        "UNION ID",
        "STATUS",
        "ROLE",
        "JOINED",
        "LEFT",
        "TIME IN MEETING",
    ] {
        assert!(lines[0].contains(column), "{table}");
    }
    assert_eq!(lines.len(), 1 + seeded::STARTED_MEMBERS, "{table}");
    assert!(
        lines.iter().any(|line| line.contains(seeded::STARTED_HOST)
            && line.contains("host")
            && line.contains("in the conference")),
        "{table}"
    );
    assert!(lines.iter().any(|line| line.contains("left")), "{table}");

    let paged = ok(&fake.run(&["members", seeded::STARTED, "--page-size", "4"]));
    assert_eq!(paged, table, "four to a page, the same members");

    let output = fake.run(&["--json", "members", seeded::STARTED]);
    let _ = ok(&output);
    let value = json_of(&output);
    let members = value.as_array().expect("an array");
    assert_eq!(members.len(), seeded::STARTED_MEMBERS);
    for member in members {
        assert_spec_keys(member, "ConferenceMember");
    }

    let unknown = fake.run(&["members", "no-such-conference"]);
    assert_eq!(exit_code(&unknown), 3, "{}", stderr(&unknown));
}

#[test]
fn a_listing_whose_page_token_repeats_stops_with_exit_7() {
    let fake = Fake::start();
    let page =
        br#"{"memberModels":[{"unionId":"u1","userNick":"n"}],"nextToken":"again","totalCount":9}"#;
    fake.server.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceMembers".into(),
            id: None,
            times: None,
        },
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: page.to_vec(),
        },
    );
    let output = fake.run(&["members", seeded::STARTED]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 7, "{err}");
    assert!(err.contains("repeated the page token"), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
}

#[test]
fn create_prints_only_the_id_and_its_secrets_only_with_json() {
    let fake = Fake::start();
    let output = fake.run(&[
        "create",
        "--title",
        "CLI test 命令行",
        "--user-id",
        "organiser-union-id",
        "--invite",
        "guest-union-id",
    ]);
    let id = ok(&output);
    let id = id.strip_suffix('\n').expect("one line");
    assert!(
        !id.is_empty() && !id.contains(char::is_whitespace),
        "{id:?}"
    );
    let created = fake.server.conference(id).expect("the fake server has it");
    assert_eq!(created.title.as_deref(), Some("CLI test 命令行"));
    assert_eq!(created.creator_id.as_deref(), Some("organiser-union-id"));
    assert!(stderr(&output).contains("room code"), "{}", stderr(&output));

    let output = fake.run(&[
        "--json",
        "create",
        "--title",
        "second",
        "--user-id",
        "organiser-union-id",
        "--no-call-organiser",
    ]);
    let _ = ok(&output);
    let value = json_of(&output);
    let keys = assert_spec_keys(&value, "CreateVideoConferenceResponse");
    for key in [
        "conferenceId",
        "conferencePassword",
        "hostPassword",
        "roomCode",
    ] {
        assert!(keys.contains(key), "{key} missing: {value}");
    }
    let body: serde_json::Value = fake
        .server
        .requests()
        .iter()
        .rev()
        .find(|request| request.method == "POST" && request.path.ends_with("/videoConferences"))
        .map(|request| serde_json::from_slice(&request.body).expect("a JSON body"))
        .expect("the create request");
    assert_eq!(body["inviteCaller"], false, "{body}");
}

#[test]
fn create_never_prints_the_passwords_in_text() {
    let fake = Fake::start();
    let answer = serde_json::json!({
        "conferenceId": "607452e01401526ee39609e1",
        "conferencePassword": "conf-secret-1151302294",
        "hostPassword": "host-secret-2142817614",
        "externalLinkUrl": "https://meeting.dingtalk.io/app?roomCode=68550708396",
        "roomCode": "68550708396",
    });
    for args in [&["create"][..], &["--json", "create"][..]] {
        fake.server.push_fault(
            FaultScope::Operation {
                operation_id: "createVideoConference".into(),
                id: None,
                times: Some(1),
            },
            Fault::Body {
                status: 200,
                content_type: "application/json".into(),
                body: answer.to_string().into_bytes(),
            },
        );
        let mut all = args.to_vec();
        all.extend(["--title", "t", "--user-id", "u"]);
        let output = fake.run(&all);
        let (out, err) = (ok(&output), stderr(&output));
        let json = args[0] == "--json";
        for secret in ["conf-secret-1151302294", "host-secret-2142817614"] {
            assert_eq!(out.contains(secret), json, "{args:?}: {out}");
            assert!(!err.contains(secret), "{args:?}: {err}");
        }
        if !json {
            assert_eq!(out, "607452e01401526ee39609e1\n");
        }
    }
}

#[test]
fn close_confirms_and_closing_again_or_as_someone_else_has_its_exit_code() {
    let fake = Fake::start();
    let not_host = fake.run(&["close", seeded::STARTED, "--union-id", "someone-else"]);
    assert_eq!(exit_code(&not_host), 4, "{}", stderr(&not_host));
    assert!(stderr(&not_host).contains("code: noPermission"));

    let closed = ok(&fake.run(&["close", seeded::STARTED, "--union-id", seeded::STARTED_HOST]));
    assert_eq!(closed, format!("closed conference {}\n", seeded::STARTED));
    let again = fake.run(&["close", seeded::STARTED, "--union-id", seeded::STARTED_HOST]);
    let err = stderr(&again);
    assert_eq!(exit_code(&again), 9, "{err}");
    assert!(err.contains("code: resourceClose"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1);

    let unknown = fake.run(&["close", "no-such-conference", "--union-id", "u"]);
    assert_eq!(exit_code(&unknown), 3, "{}", stderr(&unknown));

    let id = ok(&fake.run(&["create", "--title", "t", "--user-id", "host-u"]));
    let quiet = ok(&fake.run(&["--json", "close", id.trim(), "--union-id", "host-u"]));
    assert!(quiet.is_empty(), "--json close prints nothing: {quiet}");
}

#[test]
fn recordings_show_each_video_with_its_links() {
    let text = ok(&run(&[
        "--mock",
        "recordings",
        seeded::ENDED,
        "--union-id",
        seeded::ENDED_HOST,
    ]));
    let videos: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(videos.len(), seeded::ENDED_VIDEOS, "{text}");
    assert!(videos[0].starts_with("recording  "), "{text}");
    assert!(
        videos[0].contains("  2026-02-10 14:01:00 +08:00  "),
        "{text}"
    );
    // The columns line up: each video's start is at the same place.
    let starts: Vec<Option<usize>> = videos.iter().map(|v| v.find("2026-")).collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{text}");
    assert!(
        videos.iter().any(|v| v.starts_with("composed file")),
        "{text}"
    );
    assert!(videos.iter().all(|v| v.contains("iB")), "sizes: {text}");
    assert_eq!(text.matches("\n  play  https://").count(), 2, "{text}");
    assert_eq!(text.matches(".m3u8\n").count(), 2, "{text}");
    assert_eq!(text.matches(".mp4\n").count(), 2, "{text}");

    let none = run(&[
        "--mock",
        "recordings",
        seeded::STARTED,
        "--union-id",
        seeded::STARTED_HOST,
    ]);
    let err = stderr(&none);
    assert_eq!(exit_code(&none), 3, "{err}");
    assert!(err.contains("code: cloudRecordNotFound"), "{err}");
}

#[test]
fn recordings_json_pairs_each_video_with_its_play_info() {
    let output = run(&[
        "--mock",
        "--json",
        "recordings",
        seeded::ENDED,
        "--union-id",
        seeded::ENDED_HOST,
    ]);
    let _ = ok(&output);
    let value = json_of(&output);
    let items = value.as_array().expect("an array");
    assert_eq!(items.len(), seeded::ENDED_VIDEOS);
    for item in items {
        let keys: BTreeSet<&str> = item
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["video", "playInfo"]), "{item}");
        assert_spec_keys(&item["video"], "CloudRecordVideo");
        let play = assert_spec_keys(&item["playInfo"], "QueryCloudRecordVideoPlayInfoResponse");
        assert!(
            play.contains("playUrl") && play.contains("mp4FileUrl"),
            "{item}"
        );
        assert_eq!(item["video"]["fileSize"], item["playInfo"]["fileSize"]);
    }
}

/// The `[hh:mm:ss]` of a transcript line, in seconds.
fn line_seconds(line: &str) -> u64 {
    let time = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .map(|(time, _)| time)
        .unwrap_or_else(|| panic!("not a transcript line: {line:?}"));
    time.split(':')
        .map(|part| part.parse::<u64>().expect("digits"))
        .fold(0, |seconds, part| seconds * 60 + part)
}

#[test]
fn transcript_lines_order_paging_and_start() {
    let fake = Fake::start();
    let args = [
        "transcript",
        seeded::ENDED,
        "--union-id",
        seeded::ENDED_HOST,
    ];
    let text = ok(&fake.run(&args));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), seeded::ENDED_PARAGRAPHS, "{text}");
    for line in &lines {
        let (_, said) = line.split_once("] ").expect("time first");
        let (nick, words) = said.split_once(": ").expect("nick: text");
        assert!(!nick.is_empty() && !words.is_empty(), "{line}");
    }
    let times: Vec<u64> = lines.iter().map(|l| line_seconds(l)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{text}");

    let paged = ok(&fake.run(&[&args[..], &["--page-size", "3"]].concat()));
    assert_eq!(paged, text, "three to a page, the same transcript");

    let newest = ok(&fake.run(&[&args[..], &["--newest-first"]].concat()));
    let mut reversed = lines.clone();
    reversed.reverse();
    assert_eq!(newest.lines().collect::<Vec<_>>(), reversed);

    let from = times[3].to_string();
    let later = ok(&fake.run(&[&args[..], &["--from", &from]].concat()));
    assert_eq!(later.lines().collect::<Vec<_>>(), lines[3..].to_vec());

    let output = fake.run(&[&["--json"][..], &args[..]].concat());
    let json_lines = ok(&output);
    let paragraphs: Vec<serde_json::Value> = json_lines
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON value per line"))
        .collect();
    assert_eq!(paragraphs.len(), seeded::ENDED_PARAGRAPHS);
    for paragraph in &paragraphs {
        let keys = assert_spec_keys(paragraph, "TranscriptParagraph");
        assert!(keys.contains("sentenceList"), "{paragraph}");
    }
}

#[test]
fn transcript_prints_a_page_before_the_next_one_arrives() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let fake = Fake::start();
    let texts = |times| FaultScope::Operation {
        operation_id: "queryCloudRecordText".into(),
        id: None,
        times: Some(times),
    };
    // The first page comes at once; the second is held back (until the client's 10 s request
    // timeout gives up on it and asks again), so the first page's lines can only show while
    // the command still runs if they are written as they arrive.
    fake.server
        .push_fault(texts(1), Fault::Delay(std::time::Duration::ZERO));
    fake.server
        .push_fault(texts(1), Fault::Delay(std::time::Duration::from_secs(600)));
    let base_url = fake.server.base_url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference"))
        .args([
            "--base-url",
            &base_url,
            "--app-key",
            DEFAULT_APP_KEY,
            "--app-secret",
            DEFAULT_APP_SECRET,
            "transcript",
            seeded::ENDED,
            "--union-id",
            seeded::ENDED_HOST,
            "--page-size",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first_page = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        assert!(
            lines.read_line(&mut line).expect("reads") > 0,
            "ended early"
        );
        first_page.push(line);
    }
    let still_running = child.try_wait().expect("status").is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running, "the first page was printed only at the end");
    assert!(
        first_page.iter().all(|l| l.starts_with("[")),
        "{first_page:?}"
    );
}

#[test]
fn bad_input_is_refused_before_any_request_with_exit_2() {
    let fake = Fake::start();
    for (args, message) in [
        (&["status"][..], "required"),
        (
            &["status", seeded::STARTED, ""][..],
            "conference id is empty",
        ),
        (&["info", "--room-code", "12a4"][..], "not all digits"),
        (&["info", "--room-code", ""][..], "room code is empty"),
        (&["info"][..], "--room-code"),
        (
            &["info", seeded::ENDED, "--room-code", "1"][..],
            "cannot be used with",
        ),
        (&["members", " "][..], "conference id is empty"),
        (&["members", seeded::STARTED, "--page-size", "0"][..], "0"),
        (
            &["close", seeded::STARTED, "--union-id", " "][..],
            "union id is empty",
        ),
        (&["close", seeded::STARTED][..], "--union-id"),
        (
            &["create", "--title", " ", "--user-id", "u"][..],
            "title is empty",
        ),
        (
            &["create", "--title", "t", "--user-id", ""][..],
            "union id is empty",
        ),
        (
            &["create", "--title", "t", "--user-id", "u", "--invite", " "][..],
            "union id is empty",
        ),
        (
            &["recordings", seeded::ENDED, "--union-id", ""][..],
            "union id is empty",
        ),
        (
            &[
                "transcript",
                seeded::ENDED,
                "--union-id",
                "u",
                "--from",
                "-1",
            ][..],
            "zero or more seconds",
        ),
        (
            &[
                "transcript",
                seeded::ENDED,
                "--union-id",
                "u",
                "--page-size",
                "2001",
            ][..],
            "2001",
        ),
    ] {
        let output = fake.run(args);
        let err = stderr(&output);
        assert_eq!(exit_code(&output), 2, "{args:?}: {err}");
        assert!(
            err.contains(message),
            "{args:?}: {message:?} missing from {err}"
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    let title = "x".repeat(257);
    let output = fake.run(&["create", "--title", &title, "--user-id", "u"]);
    assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("257 characters"));
    // The facade's own checks come before any request too.
    let output = fake.run(&["status", ".."]);
    assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
    assert!(
        fake.server.requests().is_empty(),
        "no request, not even for a token: {:?}",
        fake.server.requests()
    );
}

/// The closing note's lifecycle, on one fake server reached with `--base-url` (each `--mock`
/// process would have its own): create, look it up three ways, its members, close it, see it
/// ended; then a finished recording's videos and transcript.
#[test]
fn lifecycle_create_info_status_members_close_recordings_transcript() {
    let fake = Fake::start();
    let organiser = "lifecycle-organiser";

    let id = ok(&fake.run(&[
        "create",
        "--title",
        "Lifecycle 生命周期",
        "--user-id",
        organiser,
        "--invite",
        "lifecycle-guest",
    ]));
    let id = id.trim().to_string();

    let info = ok(&fake.run(&["info", &id]));
    assert!(info.contains("status           started"), "{info}");
    assert!(info.contains("Lifecycle 生命周期"), "{info}");
    let room_code = info
        .lines()
        .find_map(|line| line.strip_prefix("room code"))
        .map(str::trim)
        .expect("a room code")
        .to_string();

    let by_code = ok(&fake.run(&["info", "--room-code", &room_code]));
    assert!(
        by_code.contains(&format!("conference id  {id}")),
        "{by_code}"
    );
    assert_eq!(by_code.matches("conference id").count(), 1, "{by_code}");

    let status = ok(&fake.run(&["status", &id, seeded::STARTED, seeded::ENDED]));
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 3, "{status}");
    assert!(
        lines[0].starts_with(id.as_str()) && lines[0].contains("started"),
        "{status}"
    );
    assert!(lines[0].contains("1 active, 1 attended"), "{status}");
    assert!(lines[1].starts_with(seeded::STARTED) && lines[1].contains("started"));
    assert!(
        lines[2].ends_with("not in progress (or unknown)"),
        "{status}"
    );

    let members = ok(&fake.run(&["members", &id]));
    assert_eq!(
        members.lines().count(),
        3,
        "header, organiser, guest: {members}"
    );
    assert!(
        members
            .lines()
            .any(|l| l.contains(organiser) && l.contains("host"))
    );
    assert!(
        members
            .lines()
            .any(|l| l.contains("lifecycle-guest") && l.contains("being called"))
    );

    let closed = ok(&fake.run(&["close", &id, "--union-id", organiser]));
    assert_eq!(closed, format!("closed conference {id}\n"));

    let info = ok(&fake.run(&["info", &id]));
    assert!(info.contains("status           ended"), "{info}");
    let status = ok(&fake.run(&["status", &id]));
    assert!(status.contains("not in progress (or unknown)"), "{status}");

    let recordings = ok(&fake.run(&[
        "recordings",
        seeded::ENDED,
        "--union-id",
        seeded::ENDED_HOST,
    ]));
    assert_eq!(
        recordings.matches("  play  ").count(),
        seeded::ENDED_VIDEOS,
        "{recordings}"
    );
    let transcript = ok(&fake.run(&[
        "transcript",
        seeded::ENDED,
        "--union-id",
        seeded::ENDED_HOST,
    ]));
    assert_eq!(
        transcript.lines().count(),
        seeded::ENDED_PARAGRAPHS,
        "{transcript}"
    );
}

#[test]
fn processes_given_one_redis_fetch_one_token() {
    let redis = RedisServer::start();
    let fake = Fake::start();
    let url = redis.url();
    for _ in 0..3 {
        let output = fake.run(&["--redis", &url, "info", seeded::ENDED]);
        assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    }
    // The variable does the same.
    let base_url = fake.server.base_url();
    let output = run_with_env(
        &["--base-url", &base_url, "info", seeded::ENDED],
        &[
            (env::APP_KEY, DEFAULT_APP_KEY),
            (env::APP_SECRET, DEFAULT_APP_SECRET),
            (env::REDIS_URL, &url),
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        fake.server.counters().token_requests,
        1,
        "four processes, one token"
    );
}

#[test]
fn processes_given_one_redis_cluster_fetch_one_token() {
    let redis = RedisServer::start_one_node_cluster();
    let fake = Fake::start();
    // One reachable node and one where nothing listens: the cluster is found from either.
    let urls = format!("redis://127.0.0.1:9,{}", redis.url());
    for _ in 0..2 {
        let output = fake.run(&["--redis-cluster", &urls, "info", seeded::ENDED]);
        assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    }
    let base_url = fake.server.base_url();
    let output = run_with_env(
        &["--base-url", &base_url, "info", seeded::ENDED],
        &[
            (env::APP_KEY, DEFAULT_APP_KEY),
            (env::APP_SECRET, DEFAULT_APP_SECRET),
            (env::REDIS_CLUSTER, &urls),
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        fake.server.counters().token_requests,
        1,
        "three processes, one token"
    );
    let keys = redis.keys();
    assert!(
        keys.iter()
            .any(|k| k.starts_with("{dingtalk:") && k.ends_with("}:token")),
        "the token is kept under the app's hash tag: {keys:?}"
    );

    // Both: moving from the one Redis onto the cluster; the token is the one Redis's.
    let old = RedisServer::start();
    let output = fake.run(&[
        "--redis",
        &old.url(),
        "--redis-cluster",
        &urls,
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        fake.server.counters().token_requests,
        2,
        "a token on the one Redis"
    );
    let old_keys = old.keys();
    assert!(
        old_keys.iter().any(|k| k.starts_with("dingtalk:token:"))
            && old_keys.iter().any(|k| k.starts_with("dingtalk:rate:")),
        "the token and a rate key on the one Redis: {old_keys:?}"
    );
}

#[test]
fn an_unreachable_redis_cluster_costs_no_call_and_its_password_is_never_printed() {
    let fake = Fake::start();
    let with_password = "redis://fleet:pw-that-must-not-leak@127.0.0.1:9";
    let output = fake.run(&["--redis-cluster", with_password, "info", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let warning = stderr(&output);
    assert!(
        warning.contains("warning: --redis-cluster") && warning.contains(env::REDIS_CLUSTER),
        "{warning}"
    );
    assert!(!warning.contains("pw-that-must-not-leak"), "{warning}");
    assert!(!stdout(&output).contains("pw-that-must-not-leak"));
}

#[test]
fn an_unreachable_redis_costs_no_call_and_its_password_is_never_printed() {
    let fake = Fake::start();
    // Nothing listens on port 9 of the loopback.
    let output = fake.run(&[
        "--redis",
        "redis://fleet:pw-that-must-not-leak@127.0.0.1:9",
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(!stderr(&output).contains("pw-that-must-not-leak"));
    assert!(!stdout(&output).contains("pw-that-must-not-leak"));
}

#[test]
fn a_redis_ca_file_that_cannot_be_used_is_a_clear_error_before_any_call() {
    let fake = Fake::start();
    let dir = std::env::temp_dir().join(format!("dingtalk-cli-redis-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let missing = dir.join("missing.pem");
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").expect("a file");
    let url = "rediss://fleet:pw-that-must-not-leak@127.0.0.1:9";
    for (file, says) in [(&missing, "cannot read it"), (&not_pem, "no certificate")] {
        let file = file.to_str().expect("a UTF-8 path");
        let output = fake.run(&[
            "--redis",
            url,
            "--redis-ca-file",
            file,
            "info",
            seeded::ENDED,
        ]);
        assert_eq!(exit_code(&output), 1, "{}", stderr(&output));
        let text = stderr(&output);
        assert!(
            text.contains("--redis-ca-file") && text.contains(file),
            "{text}"
        );
        assert!(text.contains(says), "{text}");
        assert!(!text.contains("pw-that-must-not-leak"), "{text}");
    }
    // The variable does the same; a CA for a plain redis:// URL is refused too.
    let base_url = fake.server.base_url();
    let output = run_with_env(
        &["--base-url", &base_url, "info", seeded::ENDED],
        &[
            (env::APP_KEY, DEFAULT_APP_KEY),
            (env::APP_SECRET, DEFAULT_APP_SECRET),
            (env::REDIS_URL, "redis://127.0.0.1:9"),
            (
                "DINGTALK_REDIS_CA_FILE",
                not_pem.to_str().expect("a UTF-8 path"),
            ),
        ],
    );
    assert_eq!(exit_code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no certificate"),
        "{}",
        stderr(&output)
    );
    // Without a Redis, a CA file is a usage error.
    let output = fake.run(&[
        "--redis-ca-file",
        not_pem.to_str().expect("a UTF-8 path"),
        "info",
        seeded::ENDED,
    ]);
    assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--redis URL"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fake.server.counters().token_requests, 0, "nothing was sent");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mock_reads_no_dingtalk_variable_not_even_the_fleets_redis() {
    let dir = std::env::temp_dir().join(format!("dingtalk-cli-mock-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").expect("a file");
    let not_pem = not_pem.to_str().expect("a UTF-8 path");
    // What a production host may have set: each alone, then all at once. Read, each would
    // join the production fleet or fail the demo.
    let production: [&[(&str, &str)]; 5] = [
        &[(
            env::REDIS_URL,
            "redis://fleet:pw-that-must-not-leak@127.0.0.1:9",
        )],
        &[(env::REDIS_URL, "not a redis url")],
        &[("DINGTALK_REDIS_CA_FILE", not_pem)],
        &[
            (
                env::REDIS_URL,
                "rediss://fleet:pw-that-must-not-leak@127.0.0.1:9",
            ),
            ("DINGTALK_REDIS_CA_FILE", not_pem),
        ],
        &[
            (env::EDITION, "no such edition"),
            (env::BASE_URL, "ftp://production.example"),
            (env::APP_KEY, "production-key"),
            (env::APP_SECRET, "production-secret"),
            (env::ACCESS_TOKEN, "production-token"),
        ],
    ];
    let all: Vec<(&str, &str)> = production[2..]
        .iter()
        .flat_map(|vars| vars.iter().copied())
        .collect();
    for vars in production.iter().copied().chain([all.as_slice()]) {
        let output = run_with_env(&["--mock", "info", seeded::ENDED], vars);
        assert_eq!(exit_code(&output), 0, "{vars:?}: {}", stderr(&output));
        assert!(
            stdout(&output).contains("Quarterly planning review"),
            "{}",
            stdout(&output)
        );
        assert!(!stderr(&output).contains("pw-that-must-not-leak"));
    }
    // Flags still apply under --mock.
    let output = run_with_env(
        &["--mock", "--redis-ca-file", not_pem, "info", seeded::ENDED],
        &[],
    );
    assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_redis_password_given_as_a_flag_warns_like_a_secret_flag_without_showing_it() {
    let fake = Fake::start();
    let with_password = "redis://fleet:pw-that-must-not-leak@127.0.0.1:9";
    let output = fake.run(&["--redis", with_password, "info", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let warning = stderr(&output);
    assert!(
        warning.contains("warning: --redis") && warning.contains(env::REDIS_URL),
        "{warning}"
    );
    assert!(!warning.contains("pw-that-must-not-leak"), "{warning}");
    assert!(!stdout(&output).contains("pw-that-must-not-leak"));

    // No password, or the URL from the variable: nothing to warn about.
    let output = fake.run(&["--redis", "redis://127.0.0.1:9", "info", seeded::ENDED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("warning: --redis"),
        "{}",
        stderr(&output)
    );
    let base_url = fake.server.base_url();
    let output = run_with_env(
        &["--base-url", &base_url, "info", seeded::ENDED],
        &[
            (env::APP_KEY, DEFAULT_APP_KEY),
            (env::APP_SECRET, DEFAULT_APP_SECRET),
            (env::REDIS_URL, with_password),
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("warning: --redis"),
        "{}",
        stderr(&output)
    );
}
