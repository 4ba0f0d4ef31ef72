//! The client: configuration reaches the wire, clones share state, the escape hatch works.

use std::time::Duration;

use dingtalk_conference::{Client, DEFAULT_USER_AGENT};
use dingtalk_conference_mock::seeded;

use crate::common::{app_builder, app_client, mock};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn the_client_is_send_sync_and_cheap_to_clone() {
    assert_send_sync_clone::<Client>();
}

#[tokio::test]
async fn the_user_agent_is_sent_and_can_be_changed() {
    let mock = mock().await;
    app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(
        mock.requests()
            .last()
            .and_then(|r| r.header("user-agent").map(str::to_string)),
        Some(DEFAULT_USER_AGENT.to_string())
    );
    app_builder(&mock)
        .user_agent("my-app/2.0")
        .build()
        .expect("valid")
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(
        mock.requests()
            .last()
            .and_then(|r| r.header("user-agent").map(str::to_string)),
        Some("my-app/2.0".to_string())
    );
}

#[tokio::test(start_paused = true)]
async fn a_custom_reqwest_client_is_used_and_still_gets_the_timeout() {
    let mock = mock().await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-custom", reqwest::header::HeaderValue::from_static("yes"));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("reqwest client");
    let client = app_builder(&mock)
        .http_client(http)
        .timeout(Duration::from_millis(200))
        .retry_policy(dingtalk_conference::RetryPolicy::none())
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(
        mock.requests()
            .last()
            .and_then(|r| r.header("x-custom").map(str::to_string)),
        Some("yes".into())
    );

    mock.push_fault(
        dingtalk_conference_mock::FaultScope::NextConferenceRequests(1),
        dingtalk_conference_mock::Fault::Delay(Duration::from_secs(5)),
    );
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("timeout");
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[tokio::test]
async fn the_escape_hatch_is_the_generated_client_with_the_token_attached() {
    let mock = mock().await;
    let client = app_client(&mock);
    let api = client.api().await.expect("token fetched");
    let raw = api
        .query_conference_info(seeded::STARTED)
        .await
        .expect("raw call")
        .into_inner();
    assert_eq!(
        raw.conf_info.and_then(|c| c.conference_id).as_deref(),
        Some(seeded::STARTED)
    );
    assert_eq!(mock.counters().token_requests, 1);
}

#[tokio::test]
async fn the_access_token_and_its_expiry_are_available() {
    let mock = mock().await;
    let token = app_client(&mock).access_token().await.expect("fetched");
    let expires_in = token.expires_in().expect("known lifetime");
    assert!(expires_in > Duration::from_secs(7000) && expires_in <= Duration::from_secs(7200));
    assert_eq!(token.to_owned().secret().to_string(), "[redacted]");
}

#[tokio::test]
async fn no_undocumented_header_reaches_dingtalk() {
    let mock = mock().await;
    app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    for request in mock.requests() {
        assert_eq!(request.header("api-version"), None, "{request:?}");
    }
}
