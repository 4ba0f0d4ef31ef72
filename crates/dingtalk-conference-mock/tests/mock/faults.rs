//! Every kind of scripted fault, and how fault scopes select requests, seen from a real client.

use std::time::Duration;

use dingtalk_conference_mock::{Fault, FaultScope, MockServer, seeded};
use serde_json::Value;

const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

fn conference_url(server: &MockServer, id: &str) -> String {
    format!(
        "{}/v1.0/conference/videoConferences/{id}",
        server.base_url()
    )
}

/// Starts a server and mints a token for it.
async fn server_and_token() -> (MockServer, String) {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    (server, token)
}

async fn get_with(
    client: &reqwest::Client,
    server: &MockServer,
    id: &str,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .get(conference_url(server, id))
        .header(TOKEN_HEADER, token)
        .send()
        .await
}

async fn get(server: &MockServer, id: &str, token: &str) -> reqwest::Response {
    get_with(&client(), server, id, token)
        .await
        .expect("a response")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn token_request(server: &MockServer) -> u16 {
    client()
        .post(format!("{}/v1.0/oauth2/accessToken", server.base_url()))
        .json(&serde_json::json!({
            "appKey": dingtalk_conference_mock::DEFAULT_APP_KEY,
            "appSecret": dingtalk_conference_mock::DEFAULT_APP_SECRET,
        }))
        .send()
        .await
        .expect("a response")
        .status()
        .as_u16()
}

#[tokio::test]
async fn error_fault_returns_a_dingtalk_error_body() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "SYSTEM ERROR".into(),
        },
    );
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 500);
    let request_id = header(&response, "x-acs-request-id").expect("request id header");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "systemError");
    assert_eq!(body["message"], "SYSTEM ERROR");
    assert_eq!(body["requestid"], request_id.as_str());
    assert_eq!(server.counters().faults_served, 1);
}

#[tokio::test]
async fn throttle_fault_returns_403_with_its_code() {
    let (server, token) = server_and_token().await;
    let code = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi";
    server.push_fault(FaultScope::NextRequests(1), Fault::Throttle(code.into()));
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], code);
}

#[tokio::test]
async fn too_many_requests_fault_sets_retry_after_when_asked() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::TooManyRequests {
            retry_after: Some(3),
        },
    );
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    let first = get(&server, seeded::STARTED, &token).await;
    assert_eq!(first.status(), 429);
    assert_eq!(header(&first, "retry-after").as_deref(), Some("3"));
    let body: Value = first.json().await.expect("JSON");
    assert_eq!(body["code"], "system.busy");
    let second = get(&server, seeded::STARTED, &token).await;
    assert_eq!(second.status(), 429);
    assert_eq!(header(&second, "retry-after"), None);
}

#[tokio::test]
async fn ip_ban_html_fault_is_an_html_page() {
    let (server, token) = server_and_token().await;
    server.push_fault(FaultScope::NextRequests(1), Fault::IpBanHtml);
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "content-type").is_some_and(|value| value.starts_with("text/html")));
    let body = response.text().await.expect("text");
    assert!(body.contains("<html"));
    assert!(serde_json::from_str::<Value>(&body).is_err());
}

#[tokio::test]
async fn ip_ban_json_fault_is_json_without_a_code() {
    let (server, token) = server_and_token().await;
    server.push_fault(FaultScope::NextRequests(1), Fault::IpBanJson);
    let response = get(&server, seeded::STARTED, &token).await;
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["status"], 1111);
    assert_eq!(body["wait"], 5);
    assert!(body.get("code").is_none());
}

#[tokio::test]
async fn non_json_200_fault_is_a_200_that_does_not_parse() {
    let (server, token) = server_and_token().await;
    server.push_fault(FaultScope::NextRequests(1), Fault::NonJson200);
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("a body");
    assert!(serde_json::from_slice::<Value>(&body).is_err());
}

#[tokio::test]
async fn truncated_body_fault_gives_a_body_read_error() {
    let (server, token) = server_and_token().await;
    server.push_fault(FaultScope::NextRequests(1), Fault::TruncatedBody);
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err());
}

#[tokio::test]
async fn delay_fault_trips_a_shorter_client_timeout() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Delay(Duration::from_secs(5)),
    );
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let error = get_with(&impatient, &server, seeded::STARTED, &token)
        .await
        .expect_err("the delay outlasts the timeout");
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn delay_fault_still_answers_normally_after_the_delay() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Delay(Duration::from_millis(50)),
    );
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn slow_body_fault_sends_headers_before_the_body() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::SlowBody(Duration::from_secs(5)),
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let response = get_with(&client, &server, seeded::STARTED, &token)
        .await
        .expect("headers arrive at once");
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(Duration::from_millis(300), response.bytes()).await;
    assert!(body.is_err(), "the body is held back");
}

#[tokio::test]
async fn slow_body_fault_delivers_the_whole_body_eventually() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::SlowBody(Duration::from_millis(50)),
    );
    let response = get(&server, seeded::STARTED, &token).await;
    let body: Value = response.json().await.expect("the full JSON body");
    assert_eq!(body["confInfo"]["conferenceId"], seeded::STARTED);
}

#[tokio::test]
async fn drop_connection_fault_gives_a_connection_error() {
    let (server, token) = server_and_token().await;
    server.push_fault(FaultScope::NextRequests(1), Fault::DropConnection);
    let error = get_with(&client(), &server, seeded::STARTED, &token)
        .await
        .expect_err("no response");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.status().is_none());
    // The server itself keeps serving.
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
}

#[tokio::test]
async fn redirect_fault_returns_a_location() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::RedirectTo("https://evil.example/steal".into()),
    );
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        header(&response, "location").as_deref(),
        Some("https://evil.example/steal")
    );
}

#[tokio::test]
async fn raw_body_fault_is_sent_verbatim() {
    let (server, token) = server_and_token().await;
    let raw = br#"{"confInfo":{"status":"2","activeNum":null}}"#.to_vec();
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: raw.clone(),
        },
    );
    let response = get(&server, seeded::STARTED, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        raw.as_slice()
    );
}

#[tokio::test]
async fn next_requests_scope_affects_exactly_that_many_requests() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(2),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForApi".into()),
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            get(&server, seeded::STARTED, &token)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [403, 403, 200, 200]);
    assert_eq!(server.counters().faults_served, 2);
}

#[tokio::test]
async fn next_requests_scope_covers_token_requests_too() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    assert_eq!(token_request(&server).await, 429);
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
}

#[tokio::test]
async fn conference_scope_skips_token_requests() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    assert_eq!(token_request(&server).await, 200);
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 429);
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
}

#[tokio::test]
async fn token_scope_skips_conference_requests() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
    assert_eq!(token_request(&server).await, 429);
    assert_eq!(token_request(&server).await, 200);
}

#[tokio::test]
async fn conference_id_scope_applies_until_cleared() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::Conference(seeded::ENDED.into()),
        Fault::Throttle("Forbidden.AccessDenied.ApiCountLimitForOrg".into()),
    );
    for _ in 0..3 {
        assert_eq!(get(&server, seeded::ENDED, &token).await.status(), 403);
    }
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
    server.clear_faults();
    assert_eq!(get(&server, seeded::ENDED, &token).await.status(), 200);
}

#[tokio::test]
async fn conference_times_scope_applies_to_that_id_that_many_times() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::ConferenceTimes(seeded::AUDIO.into(), 2),
        Fault::Error {
            status: 503,
            code: "ServiceUnavailable".into(),
            message: "try later".into(),
        },
    );
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
    assert_eq!(get(&server, seeded::AUDIO, &token).await.status(), 503);
    assert_eq!(get(&server, seeded::AUDIO, &token).await.status(), 503);
    assert_eq!(get(&server, seeded::AUDIO, &token).await.status(), 200);
}

#[tokio::test]
async fn faults_are_served_in_the_order_they_were_pushed() {
    let (server, token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForApi".into()),
    );
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 429);
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 403);
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
}

#[tokio::test]
async fn faulted_token_request_counts_as_a_token_request_and_a_fault() {
    let (server, _token) = server_and_token().await;
    server.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "SYSTEM ERROR".into(),
        },
    );
    assert_eq!(token_request(&server).await, 500);
    let counters = server.counters();
    assert_eq!((counters.token_requests, counters.faults_served), (1, 1));
}

#[tokio::test]
async fn an_operation_scope_selects_by_operation_id_then_by_id_and_counts() {
    let (server, token) = server_and_token().await;
    let busy = Fault::TooManyRequests { retry_after: None };
    server.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceInfo".into(),
            id: Some(seeded::ENDED.into()),
            times: Some(2),
        },
        busy.clone(),
    );
    // Another id and the token operation pass; the named id is faulted twice, then served.
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
    assert_eq!(token_request(&server).await, 200);
    assert_eq!(get(&server, seeded::ENDED, &token).await.status(), 429);
    assert_eq!(get(&server, seeded::ENDED, &token).await.status(), 429);
    assert_eq!(get(&server, seeded::ENDED, &token).await.status(), 200);

    // Any id, until cleared; an operation of another name is never selected.
    server.push_fault(
        FaultScope::Operation {
            operation_id: "getAccessToken".into(),
            id: None,
            times: None,
        },
        busy,
    );
    for _ in 0..3 {
        assert_eq!(token_request(&server).await, 429);
    }
    assert_eq!(get(&server, seeded::STARTED, &token).await.status(), 200);
    server.clear_faults();
    assert_eq!(token_request(&server).await, 200);
}
