//! The server as a whole: request log, counters, status scripting, shutdown and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use dingtalk_conference_mock::{
    Counters, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, MockServer, seeded,
};
use dingtalk_conference_testkit::fake::http as client;
use serde_json::{Value, json};

const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

async fn get_conference(
    client: &reqwest::Client,
    base_url: &str,
    id: &str,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("{base_url}/v1.0/conference/videoConferences/{id}"))
        .header(TOKEN_HEADER, token)
        .send()
        .await
}

async fn status_of(server: &MockServer, id: &str, token: &str) -> Option<i64> {
    let response = get_conference(&client(), &server.base_url(), id, token)
        .await
        .expect("a response");
    let body: Value = response.json().await.expect("JSON");
    body["confInfo"]["status"].as_i64()
}

#[tokio::test]
async fn request_log_records_method_raw_path_headers_and_body() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    client()
        .post(format!("{}/v1.0/oauth2/accessToken", server.base_url()))
        .json(&json!({"appKey": DEFAULT_APP_KEY, "appSecret": DEFAULT_APP_SECRET}))
        .send()
        .await
        .expect("a response");
    client()
        .get(format!(
            "{}/v1.0/conference/videoConferences/x%2Fy?trace=1",
            server.base_url()
        ))
        .header(TOKEN_HEADER, &token)
        .header("X-Custom", "Value")
        .send()
        .await
        .expect("a response");

    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/v1.0/oauth2/accessToken");
    let body: Value = serde_json::from_slice(&log[0].body).expect("JSON body");
    assert_eq!(body["appKey"], DEFAULT_APP_KEY);
    assert_eq!(log[0].header("Content-Type"), Some("application/json"));

    assert_eq!(log[1].method, "GET");
    assert_eq!(
        log[1].path,
        "/v1.0/conference/videoConferences/x%2Fy?trace=1"
    );
    assert_eq!(log[1].header(TOKEN_HEADER), Some(token.as_str()));
    assert!(
        log[1]
            .headers
            .iter()
            .any(|(name, value)| name == "x-custom" && value == "Value")
    );
    assert!(log[1].body.is_empty());
}

#[tokio::test]
async fn counters_count_each_route_and_every_fault() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    for _ in 0..3 {
        get_conference(&client(), &server.base_url(), seeded::STARTED, &token)
            .await
            .expect("a response");
    }
    client()
        .post(format!("{}/v1.0/oauth2/corpAccessToken", server.base_url()))
        .json(&json!({}))
        .send()
        .await
        .expect("a response");
    assert_eq!(
        server.counters(),
        Counters {
            token_requests: 0,
            corp_token_requests: 1,
            conference_requests: 3,
            faults_served: 1,
            qps_throttled: 0,
            ip_banned: 0,
            quota_refused: 0,
            rejected_tokens: 0,
        }
    );
}

#[tokio::test]
async fn reset_log_clears_requests_and_counters() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    get_conference(&client(), &server.base_url(), seeded::STARTED, &token)
        .await
        .expect("a response");
    server.reset_log();
    assert!(server.requests().is_empty());
    assert_eq!(server.counters(), Counters::default());
}

// Tokio's clock is paused: the script's steps fall due exactly when the test advances the
// clock, so the started state in between is always seen, however slow the machine.
#[tokio::test(start_paused = true)]
async fn status_script_starts_then_ends_a_conference() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.script_status(
        seeded::INITIALISED,
        vec![
            (Duration::from_millis(100), 2),
            (Duration::from_millis(100), 1),
        ],
    );
    // Nothing changes before the first step is due.
    tokio::time::advance(Duration::from_millis(99)).await;
    assert_eq!(
        server
            .conference(seeded::INITIALISED)
            .and_then(|info| info.status),
        Some(0)
    );

    tokio::time::advance(Duration::from_millis(1)).await;
    let started = server.conference(seeded::INITIALISED).expect("present");
    assert_eq!(started.status, Some(2));
    assert!(started.active_num.is_some_and(|n| n > 0));
    assert_eq!(started.end_time, None);

    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(
        status_of(&server, seeded::INITIALISED, &token).await,
        Some(1)
    );
    let ended = server.conference(seeded::INITIALISED).expect("present");
    let (start, end) = (
        ended.start_time.expect("a start time"),
        ended.end_time.expect("an end time"),
    );
    assert_eq!(ended.conf_duration, Some(end - start));
    assert_eq!(ended.active_num, Some(0));
}

#[tokio::test]
async fn status_script_sets_start_time_when_unset() {
    let server = MockServer::start().await.expect("server");
    server.upsert_conference(dingtalk_conference_api::types::ConferenceInfo {
        conference_id: Some("no-start".into()),
        status: Some(0),
        ..Default::default()
    });
    server.script_status("no-start", vec![(Duration::from_millis(50), 2)]);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let info = server.conference("no-start").expect("present");
    assert_eq!(info.status, Some(2));
    assert!(info.start_time.is_some_and(|ms| ms > 1_700_000_000_000));
}

#[tokio::test]
async fn shutdown_releases_the_port() {
    let server = MockServer::start().await.expect("server");
    let addr = server.addr();
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    std::net::TcpListener::bind(addr).expect("the port is free again");
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let base_url = server.base_url();
    // One pooled client: its connection is idle and kept alive after this request.
    let client = client();
    let response = get_conference(&client, &base_url, seeded::STARTED, &token)
        .await
        .expect("a response");
    response.bytes().await.expect("body");
    server.shutdown().await;
    let after = get_conference(&client, &base_url, seeded::STARTED, &token).await;
    assert!(after.is_err(), "{after:?}");
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_long_delay_fault() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Delay(Duration::from_secs(3600)),
    );
    let base_url = server.base_url();
    let pending =
        tokio::spawn(
            async move { get_conference(&client(), &base_url, seeded::STARTED, &token).await },
        );
    while server.counters().conference_requests == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(60), server.shutdown())
        .await
        .expect("shutdown cuts the delayed request off");
    let outcome = pending.await.expect("the client task");
    assert!(outcome.is_err());
}

#[cfg(unix)]
#[test]
fn binary_prints_its_address_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .args(["--port", "0", "--token-lifetime", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("one line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("`listening on URL`")
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let body: Value = runtime.block_on(async {
        client()
            .post(format!("{base_url}/v1.0/oauth2/accessToken"))
            .json(&json!({"appKey": DEFAULT_APP_KEY, "appSecret": DEFAULT_APP_SECRET}))
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("JSON")
    });
    assert_eq!(body["expireIn"], 60);

    // kill(2) itself, not /bin/kill: procps is missing on minimal images.
    let pid = i32::try_from(child.id()).expect("a pid fits in pid_t");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM)
        .expect("SIGTERM sent");
    let status = child.wait().expect("the binary exits");
    assert!(status.success(), "{status:?}");
}

#[cfg(unix)]
#[test]
fn binary_enforces_the_limits_its_flags_ask_for() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .args([
            "--monthly-quota",
            "1",
            "--ip-limit=5/3600",
            "--ip-ban-secs",
            "600",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("one line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("`listening on URL`")
        .to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (statuses, counters) = runtime.block_on(async {
        let http = client();
        let token: Value = http
            .post(format!("{base_url}/v1.0/oauth2/accessToken"))
            .json(&json!({"appKey": DEFAULT_APP_KEY, "appSecret": DEFAULT_APP_SECRET}))
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("JSON");
        let token = token["accessToken"].as_str().expect("a token").to_owned();
        let mut statuses = Vec::new();
        for reset in [false, false, true, false, false] {
            if reset {
                let response = http
                    .post(format!("{base_url}/__mock/reset-quota"))
                    .send()
                    .await
                    .expect("a response");
                assert_eq!(response.status(), 200);
                continue;
            }
            let response = get_conference(&http, &base_url, seeded::STARTED, &token)
                .await
                .expect("a response");
            let status = response.status().as_u16();
            let body = response.text().await.expect("a body");
            let kind = if body.starts_with("<!DOCTYPE html>") {
                "ban page".to_owned()
            } else {
                serde_json::from_str::<Value>(&body).expect("JSON")["code"]
                    .as_str()
                    .unwrap_or("ok")
                    .to_owned()
            };
            statuses.push((status, kind));
        }
        // The sixth request within the hour is banned.
        let banned = get_conference(&http, &base_url, seeded::STARTED, &token)
            .await
            .expect("a response");
        let status = banned.status().as_u16();
        let page = banned.text().await.expect("a body");
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        statuses.push((status, "ban page".to_owned()));
        let counters: Counters = http
            .get(format!("{base_url}/__mock/counters"))
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("counters");
        (statuses, counters)
    });
    let quota = "Forbidden.AccessDenied.ApiCountLimitForOrg".to_owned();
    assert_eq!(
        statuses,
        [
            (200, "ok".to_owned()),
            (403, quota.clone()),
            (200, "ok".to_owned()),
            (403, quota),
            (403, "ban page".to_owned()),
        ]
    );
    assert_eq!(
        (
            counters.quota_refused,
            counters.ip_banned,
            counters.qps_throttled
        ),
        (2, 1, 0)
    );

    let pid = i32::try_from(child.id()).expect("a pid fits in pid_t");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM)
        .expect("SIGTERM sent");
    let status = child.wait().expect("the binary exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn binary_rejects_bad_arguments_with_exit_code_2() {
    for args in [
        &["--port", "http"][..],
        &["--bogus"],
        &["--port"],
        &["--qps-limit", "0"],
        &["--qps-limit", "many"],
        &["--ip-limit", "10000"],
        &["--ip-limit", "10000/0"],
        &["--ip-ban-secs", "300"],
        &["--monthly-quota", "-1"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
            .args(args)
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("error:"));
    }
}

#[test]
fn binary_help_exits_0() {
    let output = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--token-lifetime"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_are_all_answered() {
    // 300 at once: a socket of the client and one of the server each, both in this process, so
    // 600 open files, within Debian's default limit of 1024 beside the other tests.
    const REQUESTS: u64 = 300;
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let client = client();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, base_url, token) = (client.clone(), server.base_url(), token.clone());
        calls.spawn(async move {
            get_conference(&client, &base_url, seeded::STARTED, &token)
                .await
                .map(|response| response.status().as_u16())
        });
    }
    let mut answered = 0;
    while let Some(outcome) = calls.join_next().await {
        assert_eq!(outcome.expect("task").expect("a response"), 200);
        answered += 1;
    }
    assert_eq!(answered, REQUESTS);
    assert_eq!(server.counters().conference_requests, REQUESTS);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = MockServer::start().await.expect("server");
    let addr = server.addr();
    drop(server);
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "the listener is closed soon after the handle is dropped"
    );
}

#[tokio::test]
async fn control_routes_expire_tokens_and_report_counters_without_counting_themselves() {
    let server = MockServer::start().await.expect("server starts");
    let http = client();
    let token = server.issue_token();
    let url = format!(
        "{}/v1.0/conference/videoConferences/{}",
        server.base_url(),
        dingtalk_conference_mock::seeded::STARTED
    );
    let ok = http
        .get(&url)
        .header("x-acs-dingtalk-access-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(ok.status(), 200);

    let expired = http
        .post(format!("{}/__mock/expire-tokens", server.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(expired.status(), 200);
    let rejected = http
        .get(&url)
        .header("x-acs-dingtalk-access-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(rejected.status(), 400);

    let counters: dingtalk_conference_mock::Counters = http
        .get(format!("{}/__mock/counters", server.base_url()))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("counters as JSON");
    assert_eq!(counters, server.counters());
    assert_eq!(counters.conference_requests, 2);
    assert_eq!(
        server.requests().len(),
        2,
        "control requests are not logged"
    );
}
