//! Tokens: lazy, cached, single-flight, evicted with care, replayed once.

use std::time::Duration;

use dingtalk_conference::{Client, Error, ErrorCode};
use dingtalk_conference_mock::{
    DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET, Fault,
    FaultScope, MockConfig, MockServer, seeded,
};

use crate::common::{app_builder, app_client, call_concurrently, mock};

const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

#[tokio::test]
async fn building_a_client_makes_no_request() {
    let mock = mock().await;
    let _client = app_client(&mock);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_token_is_fetched_once_and_reused_across_calls_and_clones() {
    let mock = mock().await;
    let client = app_client(&mock);
    let clone = client.clone();
    for _ in 0..5 {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("found");
        clone.conference_info(seeded::ENDED).await.expect("found");
    }
    assert_eq!(mock.counters().token_requests, 1);
    assert_eq!(mock.counters().conference_requests, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_an_empty_cache_make_one_token_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    call_concurrently(&client, 1000).await;
    assert_eq!(mock.counters().token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_an_expired_cache_make_one_token_request() {
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(2)))
            .await
            .expect("fake server starts");
    // Lifetime 2 s and a margin of 1 s: the cached token is due for refresh after 1 s.
    let client = app_builder(&mock)
        .token_refresh_margin(Duration::from_secs(1))
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(mock.counters().token_requests, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    call_concurrently(&client, 1000).await;
    assert_eq!(mock.counters().token_requests, 2);
}

#[tokio::test]
async fn expired_token_is_refetched_once_and_the_call_replayed() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    mock.expire_all_tokens();

    let info = client
        .conference_info(seeded::ENDED)
        .await
        .expect("replayed");
    assert_eq!(info.conference_id.as_deref(), Some(seeded::ENDED));
    let counters = mock.counters();
    assert_eq!(counters.token_requests, 2);
    assert_eq!(counters.conference_requests, 3);
    // The replay carried the new token, not the rejected one.
    let sent: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header(TOKEN_HEADER).map(str::to_string))
        .collect();
    assert_eq!(sent[0], sent[1]);
    assert_ne!(sent[1], sent[2]);
}

#[tokio::test]
async fn a_token_rejected_every_time_is_replayed_once_never_in_a_loop() {
    let mock = mock().await;
    let client = Client::builder()
        .base_url(mock.base_url())
        .static_token("not-a-token-the-server-issued")
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("rejected");
    assert_eq!(error.code(), Some(&ErrorCode::InvalidAuthentication));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert!(!error.is_retryable());
    assert_eq!(mock.counters().conference_requests, 2);
}

#[tokio::test]
async fn a_401_also_triggers_one_refetch_and_replay() {
    let mock = mock().await;
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Error {
            status: 401,
            code: "Unauthorized".into(),
            message: "unauthorised".into(),
        },
    );
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("replayed");
    assert_eq!(mock.counters().conference_requests, 2);
    // Internal-app tokens come back the same within their lifetime, but it was asked again.
    assert_eq!(mock.counters().token_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rejections_of_one_token_evict_it_once() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    mock.expire_all_tokens();

    call_concurrently(&client, 50).await;
    // One token for the first call, exactly one more after the rejection: a caller whose
    // rejected token was already replaced does not evict the new one.
    assert_eq!(mock.counters().token_requests, 2);
}

#[tokio::test]
async fn bad_app_credentials_are_an_auth_error_with_dingtalks_code_and_not_retried() {
    let mock = mock().await;
    let client = Client::builder()
        .base_url(mock.base_url())
        .app_credentials("mock-app-key", "wrong secret")
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert_eq!(error.code(), Some(&ErrorCode::InvalidClientIdOrSecret));
    assert!(
        error.to_string().contains("invalidClientIdOrSecret"),
        "{error}"
    );
    assert_eq!(mock.counters().token_requests, 1);
    assert_eq!(mock.counters().conference_requests, 0);
}

#[tokio::test]
async fn a_token_endpoint_5xx_is_an_auth_error_and_is_retried() {
    let mock = mock().await;
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::NextTokenRequests(5),
        Fault::Error {
            status: 503,
            code: "ServiceUnavailable".into(),
            message: "down".into(),
        },
    );
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("down");
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        mock.counters().token_requests,
        3,
        "bounded by the retry policy"
    );
}

#[tokio::test]
async fn a_token_endpoint_answer_that_is_not_json_is_an_auth_error() {
    let mock = mock().await;
    let client = app_client(&mock);
    mock.push_fault(FaultScope::NextTokenRequests(1), Fault::NonJson200);
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("garbage");
    let Error::Auth { source, .. } = &error else {
        panic!("expected an auth error, got {error:?}");
    };
    assert!(matches!(**source, Error::Decode { .. }), "{source:?}");
}

#[tokio::test]
async fn a_token_answer_without_access_token_is_an_auth_error_saying_so() {
    let mock = mock().await;
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"expireIn":7200}"#.to_vec(),
        },
    );
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("no token");
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert!(error.to_string().contains("no accessToken"), "{error}");
}

#[tokio::test]
async fn a_zero_expire_in_is_used_but_not_believed() {
    let mock = mock().await;
    let client = app_client(&mock);
    let token = mock.issue_token();
    mock.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: format!(r#"{{"accessToken":"{token}","expireIn":0}}"#).into_bytes(),
        },
    );
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("works");
    let token = client.access_token().await.expect("cached");
    assert!(
        token
            .expires_in()
            .is_some_and(|d| d <= Duration::from_secs(1))
    );
}

#[tokio::test]
async fn the_token_never_goes_to_the_token_endpoints() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    mock.expire_all_tokens();
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("replayed");
    let requests = mock.requests();
    let token_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path.contains("oauth2"))
        .collect();
    assert_eq!(token_requests.len(), 2);
    for request in token_requests {
        assert_eq!(request.header(TOKEN_HEADER), None, "{request:?}");
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_never_carries_the_token() {
    let mock = mock().await;
    let elsewhere = MockServer::start().await.expect("second server");
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::RedirectTo(format!(
            "{}/v1.0/conference/videoConferences/{}",
            elsewhere.base_url().replace("127.0.0.1", "localhost"),
            seeded::STARTED
        )),
    );
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, Error::UnexpectedResponse { status, location: Some(_), .. } if status.as_u16() == 302),
        "{error:?}"
    );
    assert!(error.to_string().contains("redirect"), "{error}");
    assert!(
        elsewhere.requests().is_empty(),
        "the other host saw a request"
    );
}

#[tokio::test]
async fn a_third_party_app_gets_a_corp_token_and_takes_a_new_suite_ticket() {
    let mock = mock().await;
    let client = Client::builder()
        .base_url(mock.base_url())
        .suite_credentials(
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        )
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(mock.counters().corp_token_requests, 1);

    // DingTalk pushes a new ticket; the old one stops working.
    mock.set_suite_ticket(DEFAULT_SUITE_KEY, "ticket-2");
    mock.expire_all_tokens();
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("stale ticket");
    assert_eq!(error.code(), Some(&ErrorCode::InvalidSuiteTicket));

    client.set_suite_ticket("ticket-2").expect("suite client");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("new ticket works");
}

#[tokio::test]
async fn set_suite_ticket_on_an_internal_app_client_is_a_config_error() {
    let mock = mock().await;
    let error = app_client(&mock)
        .set_suite_ticket("t")
        .expect_err("not a suite client");
    assert!(matches!(error, Error::Config(_)));
}

#[tokio::test]
async fn a_failed_refresh_keeps_using_the_current_token_until_it_expires() {
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(3)))
            .await
            .expect("fake server starts");
    // Lifetime 3 s, margin 1 s: due for refresh after 2 s, expired after 3 s.
    let client = app_builder(&mock)
        .token_refresh_margin(Duration::from_secs(1))
        .retry_policy(dingtalk_conference::RetryPolicy::none())
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    mock.push_fault(
        FaultScope::NextTokenRequests(1),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "SYSTEM ERROR".into(),
        },
    );
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("the still-valid token carries the call");
    assert_eq!(mock.counters().token_requests, 2, "the refresh was tried");
    // The next call tries the refresh again, and this time it works.
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(mock.counters().token_requests, 3);
}

/// Hands out a token the fake server issued, claiming it lives zero seconds.
struct ZeroLifetime(String, std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl dingtalk_conference::TokenProvider for ZeroLifetime {
    fn fetch_token(&self) -> dingtalk_conference::TokenFuture<'_> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = dingtalk_conference::AccessToken::new(self.0.clone(), Some(Duration::ZERO));
        Box::pin(async move { Ok(token) })
    }
}

#[tokio::test]
async fn a_custom_providers_absurd_lifetime_is_clamped_too() {
    let mock = mock().await;
    let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = Client::builder()
        .base_url(mock.base_url())
        .token_provider(ZeroLifetime(mock.issue_token(), fetches.clone()))
        .build()
        .expect("valid");
    for _ in 0..5 {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("found");
    }
    assert_eq!(fetches.load(std::sync::atomic::Ordering::Relaxed), 1);
}
