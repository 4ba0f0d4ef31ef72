//! Tokens: lazy, cached, single-flight, evicted with care, replayed once.

use std::time::Duration;

use dingtalk_conference::{Client, Error, ErrorCode, RateLimit};
use dingtalk_conference_mock::{
    DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET, Fault,
    FaultScope, MockConfig, MockServer, seeded,
};

use crate::common::{
    app_builder, app_client, call_concurrently, call_concurrently_holding, many_sockets, mock,
};

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
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .build()
        .expect("valid");
    call_concurrently(&client, 1000).await;
    assert_eq!(mock.counters().token_requests, 1);
}

#[tokio::test]
async fn a_thousand_concurrent_calls_on_an_expired_cache_make_one_token_request() {
    // On Tokio's paused clock, which the fake server's token expiry keeps too: the sleep below
    // takes no real time, and no slow machine can stretch the thousand calls into the next
    // refresh. The sockets' budget first, on real time (see `many_sockets`).
    let sockets = many_sockets().await;
    tokio::time::pause();
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(4)))
            .await
            .expect("fake server starts");
    // Lifetime 4 s: after 4.1 s the cached token has expired, so every call needs the new one;
    // that one is not due for refresh for 3 s.
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .token_refresh_margin(Duration::from_secs(1))
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    assert_eq!(mock.counters().token_requests, 1);
    tokio::time::sleep(Duration::from_millis(4100)).await;

    call_concurrently_holding(&sockets, &client, 1000).await;
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
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Error {
            status: 400,
            code: "InvalidAuthentication".into(),
            message: "token invalid".into(),
        },
    );
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("rejected");
    assert_eq!(error.code(), Some(&ErrorCode::InvalidAuthentication));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert!(!error.is_retryable());
    assert_eq!(mock.counters().conference_requests, 2);
    assert_eq!(mock.counters().token_requests, 2);
}

#[tokio::test]
async fn a_rejected_static_token_is_reported_at_once_without_a_doomed_replay() {
    let mock = mock().await;
    let client = Client::builder()
        .rate_limit(RateLimit::none())
        .base_url(mock.base_url())
        .static_token("not-a-token-the-server-issued")
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("rejected");
    assert_eq!(error.code(), Some(&ErrorCode::InvalidAuthentication));
    assert_eq!(mock.counters().conference_requests, 1);
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
        .rate_limit(RateLimit::none())
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
        error.report().contains("invalidClientIdOrSecret"),
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
    assert!(error.report().contains("no accessToken"), "{error}");
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
        .rate_limit(RateLimit::none())
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

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_keeps_using_the_current_token_until_it_expires() {
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(6)))
            .await
            .expect("fake server starts");
    // Lifetime 6 s, margin 3 s: due for refresh after 3 s, expired after 6 s.
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .token_refresh_margin(Duration::from_secs(3))
        .retry_policy(dingtalk_conference::RetryPolicy::none())
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    tokio::time::sleep(Duration::from_millis(3100)).await;
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
    wait_for_token_requests(&mock, 2).await;
    // The failed refresh is retried after a back-off of at least 1 s, not by the next call.
    for _ in 0..20 {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("the still-valid token carries the call");
    }
    assert_eq!(mock.counters().token_requests, 2, "refresh backed off");
}

/// Waits (at most 10 s of Tokio's time) until the server has seen `n` token requests: a refresh runs in the
/// background, so the call that started it does not wait for it.
async fn wait_for_token_requests(mock: &MockServer, n: u64) {
    for _ in 0..1000 {
        let seen = mock.counters().token_requests + mock.counters().corp_token_requests;
        if seen >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server never saw {n} token requests");
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
        .rate_limit(RateLimit::none())
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

/// A third-party app client (a new token on every fetch) whose token, of lifetime 10 s with a
/// 5 s margin, is due for refresh: the calls that follow happen inside the margin, which
/// leaves them almost 5 s of the paused clock (the first waits 2 s of it: the pause and the
/// bounded wait of the hand-over of a third-party app's token).
async fn suite_client_inside_the_refresh_margin(mock: &MockServer) -> Client {
    let client = Client::builder()
        .rate_limit(RateLimit::none())
        .base_url(mock.base_url())
        .suite_credentials(
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        )
        .token_refresh_margin(Duration::from_secs(5))
        // Longer than the hang below: a caller that waited for the refresh would wait 30 s.
        .token_fetch_timeout(Duration::from_secs(60))
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("found");
    tokio::time::sleep(Duration::from_millis(5100)).await;
    client
}

#[tokio::test]
async fn a_token_endpoint_hung_inside_the_refresh_margin_delays_no_call() {
    // Paused clock: the fake server's 30 s hang, the refresh margin and the guard all keep
    // Tokio's time, so a caller that waited for the refresh would meet the guard at once, not
    // after 10 s. The sockets' budget first, on real time (see `many_sockets`).
    let sockets = many_sockets().await;
    tokio::time::pause();
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(10)))
            .await
            .expect("fake server starts");
    let client = suite_client_inside_the_refresh_margin(&mock).await;
    // From now on the token endpoint takes 30 s to answer.
    mock.push_fault(
        FaultScope::NextTokenRequests(1000),
        Fault::Delay(Duration::from_secs(30)),
    );
    let first_token = mock
        .requests()
        .iter()
        .find_map(|r| r.header(TOKEN_HEADER).map(str::to_string))
        .expect("the first call carried a token");
    let before = mock.counters().conference_requests;
    // A caller that waited for the hung refresh would hit this guard (a third of the hang).
    let calls = async {
        for _ in 0..20 {
            client
                .conference_info(seeded::STARTED)
                .await
                .expect("the still-valid token carries the call");
        }
        call_concurrently_holding(&sockets, &client, 200).await;
    };
    tokio::time::timeout(Duration::from_secs(10), calls)
        .await
        .expect("no call waited for the hung refresh");
    assert_eq!(mock.counters().conference_requests - before, 220);
    // Every call carried the first token, and exactly one refresh is in flight: the bound is
    // one fetch per back-off step, and this refresh has not ended yet.
    let tokens: std::collections::HashSet<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header(TOKEN_HEADER).map(str::to_string))
        .collect();
    assert_eq!(tokens.into_iter().collect::<Vec<_>>(), vec![first_token]);
    wait_for_token_requests(&mock, 2).await;
    assert_eq!(mock.counters().corp_token_requests, 2);
}

/// A provider whose fetches never finish, counting them.
struct NeverAnswers(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl dingtalk_conference::TokenProvider for NeverAnswers {
    fn fetch_token(&self) -> dingtalk_conference::TokenFuture<'_> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_token_provider_is_bounded_by_the_request_timeout_and_waits_end() {
    let mock = mock().await;
    let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // No token_fetch_timeout: it defaults to the request timeout.
    let client = Client::builder()
        .rate_limit(RateLimit::none())
        .base_url(mock.base_url())
        .token_provider(NeverAnswers(fetches.clone()))
        .timeout(Duration::from_millis(200))
        .retry_policy(dingtalk_conference::RetryPolicy::none())
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("no token");
    let Error::Auth { source, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(
        matches!(**source, Error::Timeout { kind: dingtalk_conference::TimeoutKind::TokenFetch, limit, .. } if limit == Duration::from_millis(200)),
        "{source:?}"
    );
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The next call starts a fresh fetch.
    client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("no token");
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    // And waiting with the default options ends too, after its failed polls.
    let error = client
        .wait_for_status(
            seeded::STARTED,
            dingtalk_conference::WaitUntil::Ended,
            dingtalk_conference::WaitOptions::default().interval(Duration::from_millis(10)),
        )
        .await
        .expect_err("gave up");
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert_eq!(mock.counters().conference_requests, 0);
}

/// A provider over the fake server's own token issuing, which records what it is told of
/// rejected tokens and can fail its first fetch.
struct Recording {
    mock_token: std::sync::Mutex<Vec<String>>,
    invalidated: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    first_failure: std::sync::Mutex<Option<Error>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Recording {
    fn new(tokens: Vec<String>, first_failure: Option<Error>) -> Self {
        Self {
            mock_token: std::sync::Mutex::new(tokens),
            invalidated: std::sync::Arc::default(),
            first_failure: std::sync::Mutex::new(first_failure),
            fetches: std::sync::Arc::default(),
        }
    }
}

impl dingtalk_conference::TokenProvider for Recording {
    fn fetch_token(&self) -> dingtalk_conference::TokenFuture<'_> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let failure = self.first_failure.lock().expect("not poisoned").take();
        let token = if failure.is_none() {
            self.mock_token.lock().expect("not poisoned").pop()
        } else {
            None
        };
        Box::pin(async move {
            if let Some(error) = failure {
                return Err(error);
            }
            let token = token.ok_or_else(|| Error::custom("out of tokens"))?;
            Ok(dingtalk_conference::AccessToken::with_expiry_time(
                token,
                std::time::SystemTime::now() + Duration::from_secs(3600),
            ))
        })
    }

    fn invalidate(&self, token: &dingtalk_conference::Secret) {
        self.invalidated
            .lock()
            .expect("not poisoned")
            .push(token.expose().to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_hears_of_a_rejected_token_once_however_many_calls_saw_it() {
    let mock = mock().await;
    let first = mock.issue_token();
    mock.expire_all_tokens();
    let second = mock.issue_token();
    let provider = Recording::new(vec![second, first.clone()], None);
    let invalidated = provider.invalidated.clone();
    let client = Client::builder()
        .rate_limit(RateLimit::none())
        .base_url(mock.base_url())
        .token_provider(provider)
        .build()
        .expect("valid");
    call_concurrently(&client, 20).await;
    assert_eq!(*invalidated.lock().expect("not poisoned"), vec![first]);
    // The absolute expiry came through as the token's expiry.
    let left = client
        .access_token()
        .await
        .expect("token")
        .expires_in()
        .expect("known");
    assert!(left > Duration::from_secs(3000) && left <= Duration::from_secs(3600));
}

#[tokio::test]
async fn a_providers_transient_error_is_retried_and_a_final_one_is_not() {
    let mock = mock().await;
    let provider = Recording::new(
        vec![mock.issue_token()],
        Some(Error::transient("the vault is restarting")),
    );
    let fetches = provider.fetches.clone();
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .token_provider(provider)
        .build()
        .expect("valid");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("retried");
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);

    let provider = Recording::new(
        vec![mock.issue_token()],
        Some(Error::custom("no such vault entry")),
    );
    let fetches = provider.fetches.clone();
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .token_provider(provider)
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("final");
    assert!(!error.is_retryable());
    assert!(
        error.report().contains("no such vault entry"),
        "{}",
        error.report()
    );
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
}
