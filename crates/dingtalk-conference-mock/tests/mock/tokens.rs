//! The two token endpoints of the fake server, seen from a real HTTP client.

use std::time::Duration;

use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, MockConfig, MockServer,
};
use dingtalk_conference_testkit::fake::http as client;
use serde_json::{Value, json};

/// POSTs `body` as JSON to `path`; returns the status and the JSON body.
async fn post_json(server: &MockServer, path: &str, body: &Value) -> (u16, Value) {
    let response = client()
        .post(format!("{}{path}", server.base_url()))
        .json(body)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

async fn app_token(server: &MockServer, key: &str, secret: &str) -> (u16, Value) {
    post_json(
        server,
        "/v1.0/oauth2/accessToken",
        &json!({"appKey": key, "appSecret": secret}),
    )
    .await
}

async fn corp_token(
    server: &MockServer,
    key: &str,
    secret: &str,
    corp: &str,
    ticket: &str,
) -> (u16, Value) {
    post_json(
        server,
        "/v1.0/oauth2/corpAccessToken",
        &json!({"suiteKey": key, "suiteSecret": secret, "authCorpId": corp, "suiteTicket": ticket}),
    )
    .await
}

fn code(body: &Value) -> &str {
    body["code"].as_str().expect("an error code")
}

#[tokio::test]
async fn internal_token_is_issued_with_its_lifetime() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    assert_eq!(status, 200);
    assert_eq!(body["expireIn"], 7200);
    let token = body["accessToken"].as_str().expect("a token");
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(server.counters().token_requests, 1);
}

#[tokio::test]
async fn internal_token_is_the_same_within_its_lifetime() {
    let server = MockServer::start().await.expect("server");
    let (_, first) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    let (_, second) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    assert_eq!(first["accessToken"], second["accessToken"]);
}

#[tokio::test]
async fn internal_token_is_new_once_the_old_one_expired() {
    let server = MockServer::start().await.expect("server");
    let (_, first) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    server.expire_all_tokens();
    let (status, second) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    assert_eq!(status, 200);
    assert_ne!(first["accessToken"], second["accessToken"]);
}

#[tokio::test]
async fn expire_in_follows_the_configured_lifetime() {
    let server = MockServer::start().await.expect("server");
    server.set_token_lifetime(Duration::from_secs(90));
    let (_, body) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    assert_eq!(body["expireIn"], 90);
}

#[tokio::test]
async fn corp_token_is_new_every_time() {
    let server = MockServer::start().await.expect("server");
    let ask = || {
        corp_token(
            &server,
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        )
    };
    let (status, first) = ask().await;
    assert_eq!(status, 200);
    assert_eq!(first["expireIn"], 7200);
    let (_, second) = ask().await;
    assert_ne!(first["accessToken"], second["accessToken"]);
    assert_eq!(server.counters().corp_token_requests, 2);
    assert_eq!(server.counters().token_requests, 0);
}

#[tokio::test]
async fn wrong_app_secret_is_invalid_client_id_or_secret() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = app_token(&server, DEFAULT_APP_KEY, "wrong").await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "invalidClientIdOrSecret");
    let (status, body) = app_token(&server, "unknown-key", DEFAULT_APP_SECRET).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "invalidClientIdOrSecret");
}

#[tokio::test]
async fn wrong_suite_key_or_secret_is_invalid_suite_key() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = corp_token(
        &server,
        DEFAULT_SUITE_KEY,
        "wrong",
        DEFAULT_CORP_ID,
        DEFAULT_SUITE_TICKET,
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalidSuiteKey"));
    let (status, body) = corp_token(
        &server,
        "unknown",
        DEFAULT_SUITE_SECRET,
        DEFAULT_CORP_ID,
        DEFAULT_SUITE_TICKET,
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalidSuiteKey"));
}

#[tokio::test]
async fn replaced_suite_ticket_makes_the_old_one_invalid_suite_ticket() {
    let server = MockServer::start().await.expect("server");
    server.set_suite_ticket(DEFAULT_SUITE_KEY, "fresh-ticket");
    let (status, body) = corp_token(
        &server,
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        DEFAULT_CORP_ID,
        DEFAULT_SUITE_TICKET,
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalidSuiteTicket"));
    let (status, _) = corp_token(
        &server,
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        DEFAULT_CORP_ID,
        "fresh-ticket",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unauthorised_corp_is_invalid_auth_info() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = corp_token(
        &server,
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        "some-other-corp",
        DEFAULT_SUITE_TICKET,
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalidAuthInfo"));
}

#[tokio::test]
async fn form_body_is_missingbody() {
    let server = MockServer::start().await.expect("server");
    let response = client()
        .post(format!("{}/v1.0/oauth2/accessToken", server.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "appKey={DEFAULT_APP_KEY}&appSecret={DEFAULT_APP_SECRET}"
        ))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 400);
    let request_id = response
        .headers()
        .get("x-acs-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .expect("a request id header");
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(code(&body), "Missingbody");
    assert_eq!(body["message"], "body is mandatory for this action.");
    assert_eq!(body["requestid"], request_id.as_str());
}

#[tokio::test]
async fn json_body_without_a_field_is_missing_that_field() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = post_json(
        &server,
        "/v1.0/oauth2/accessToken",
        &json!({"appKey": DEFAULT_APP_KEY}),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "MissingappSecret"));
}

#[tokio::test]
async fn added_app_and_suite_get_tokens() {
    let server = MockServer::start().await.expect("server");
    server.add_app("ding-app", "s3cret");
    server.add_suite("suite-2", "suite-secret", "ding-corp-2", "ticket-2");
    let (status, _) = app_token(&server, "ding-app", "s3cret").await;
    assert_eq!(status, 200);
    let (status, _) = corp_token(
        &server,
        "suite-2",
        "suite-secret",
        "ding-corp-2",
        "ticket-2",
    )
    .await;
    assert_eq!(status, 200);
}

/// `GET /v1.0/conference/videoConferences/{STARTED}` with `token`: the status and the body.
async fn query_with(server: &MockServer, token: &str) -> (u16, Value) {
    let response = client()
        .get(format!(
            "{}/v1.0/conference/videoConferences/{}",
            server.base_url(),
            dingtalk_conference_mock::seeded::STARTED
        ))
        .header("x-acs-dingtalk-access-token", token)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn default_corp_token(server: &MockServer) -> String {
    let (status, body) = corp_token(
        server,
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        DEFAULT_CORP_ID,
        DEFAULT_SUITE_TICKET,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["accessToken"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn earlier_corp_tokens_stay_valid_by_default() {
    let server = MockServer::start().await.expect("server");
    let first = default_corp_token(&server).await;
    let second = default_corp_token(&server).await;
    assert_eq!(query_with(&server, &first).await.0, 200);
    assert_eq!(query_with(&server, &second).await.0, 200);
    assert_eq!(server.counters().rejected_tokens, 0);
}

#[tokio::test]
async fn with_invalidation_a_new_corp_token_invalidates_the_earlier_ones_of_its_pair_only() {
    let server = MockServer::start_with(MockConfig::new().with_corp_token_invalidation())
        .await
        .expect("server");
    server.add_suite("suite-2", "suite-secret", DEFAULT_CORP_ID, "ticket-2");
    let (_, other_suite) = corp_token(
        &server,
        "suite-2",
        "suite-secret",
        DEFAULT_CORP_ID,
        "ticket-2",
    )
    .await;
    let other_suite = other_suite["accessToken"].as_str().expect("a token");
    let (_, app) = app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    let app = app["accessToken"].as_str().expect("a token");

    let first = default_corp_token(&server).await;
    let second = default_corp_token(&server).await;
    assert_eq!(query_with(&server, &second).await.0, 200);
    let third = default_corp_token(&server).await;
    // Every earlier token of the pair is refused as an expired one is.
    for earlier in [&first, &second] {
        let (status, body) = query_with(&server, earlier).await;
        assert_eq!(status, 400);
        assert_eq!(code(&body), "InvalidAuthentication");
    }
    assert_eq!(query_with(&server, &third).await.0, 200);
    // Another suite for the same organisation, and the internal app, keep theirs.
    assert_eq!(query_with(&server, other_suite).await.0, 200);
    assert_eq!(query_with(&server, app).await.0, 200);

    let counters = server.counters();
    assert_eq!(counters.rejected_tokens, 2);
    assert_eq!(counters.corp_token_requests, 4);
    // The same count for another process.
    let served: Value = client()
        .get(format!("{}/__mock/counters", server.base_url()))
        .send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("JSON");
    assert_eq!(served["rejected_tokens"], 2);
}

#[tokio::test]
async fn corp_token_invalidation_can_be_turned_on_and_off_while_running() {
    let server = MockServer::start().await.expect("server");
    let kept = default_corp_token(&server).await;
    server.set_corp_token_invalidation(true);
    let latest = default_corp_token(&server).await;
    assert_eq!(query_with(&server, &kept).await.0, 400);
    server.set_corp_token_invalidation(false);
    let newer = default_corp_token(&server).await;
    assert_eq!(query_with(&server, &latest).await.0, 200);
    assert_eq!(query_with(&server, &newer).await.0, 200);
    // A missing token is counted too.
    let (status, _) = query_with(&server, "").await;
    assert_eq!(status, 400);
    assert_eq!(server.counters().rejected_tokens, 2);
}
