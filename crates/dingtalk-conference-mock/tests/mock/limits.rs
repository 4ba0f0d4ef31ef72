//! DingTalk's limits as the fake server enforces them, seen from the generated client over real
//! HTTP: calls per second per app and API, requests per IP then a ban, the monthly quota per
//! organisation, their counters, and that none of them is on by default.
//!
//! The limits count time by a [`ManualClock`] here, so no test sleeps and none depends on how
//! fast the machine is: a "burst" is every call made before the test advances the clock.

use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference_api::types::{
    ErrorBody, GetAccessTokenRequest, GetCorpAccessTokenRequest, QueryConferenceInfoBatchRequest,
};
use dingtalk_conference_api::{Client, Error, RequestContext};
use dingtalk_conference_mock::{
    Counters, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY,
    DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET, DINGTALK_IP_BAN, DINGTALK_IP_LIMIT,
    DINGTALK_MONTHLY_QUOTA, DINGTALK_QPS_LIMIT, Fault, FaultScope, IpLimit, ManualClock,
    MockConfig, MockServer, QPS_LIMIT_CODE, QUOTA_CODE, SUITE_QPS_LIMIT_CODE, seeded,
};
use dingtalk_conference_testkit::fake::{api_with_token, http};
use serde_json::Value;

const QPS_MESSAGE: &str = "too many calls per second: slow down";
const QUOTA_MESSAGE: &str = "the organisation's monthly API quota is used up";

/// A server with `config`, its limits on a manual clock, and the generated client with a token
/// of the default app.
async fn start(config: MockConfig) -> (MockServer, ManualClock, Client) {
    let clock = ManualClock::new();
    let server = MockServer::start_with(config.with_limit_clock(clock.clone()))
        .await
        .expect("server");
    let api = api_with_token(&server, &server.issue_token());
    (server, clock, api)
}

/// The generated client without a token, for the token operations.
fn anonymous(server: &MockServer) -> Client {
    Client::new_with_client(&server.base_url(), http(), RequestContext::new())
}

/// A token of internal app `key` over HTTP.
async fn app_token(server: &MockServer, key: &str, secret: &str) -> String {
    anonymous(server)
        .get_access_token(&GetAccessTokenRequest {
            app_key: key.to_owned(),
            app_secret: secret.to_owned(),
        })
        .await
        .expect("a token")
        .into_inner()
        .access_token
        .expect("accessToken")
}

/// A token of suite `key` for organisation `corp` over HTTP.
async fn corp_token(server: &MockServer, corp: &str) -> String {
    anonymous(server)
        .get_corp_access_token(&GetCorpAccessTokenRequest {
            suite_key: DEFAULT_SUITE_KEY.to_owned(),
            suite_secret: DEFAULT_SUITE_SECRET.to_owned(),
            auth_corp_id: corp.to_owned(),
            suite_ticket: DEFAULT_SUITE_TICKET.to_owned(),
        })
        .await
        .expect("a corp token")
        .into_inner()
        .access_token
        .expect("accessToken")
}

/// What one call came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A success, with its status.
    Ok(u16),
    /// A DingTalk error answer: its status, its `x-acs-request-id` header and its body.
    Refused(u16, Option<String>, ErrorBody),
}

impl Outcome {
    fn is_refused(&self) -> bool {
        matches!(self, Self::Refused(..))
    }
}

fn outcome<T>(
    result: Result<dingtalk_conference_api::ResponseValue<T>, Error<ErrorBody>>,
) -> Outcome {
    match result {
        Ok(response) => Outcome::Ok(response.status().as_u16()),
        Err(Error::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            let request_id = response
                .headers()
                .get("x-acs-request-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            Outcome::Refused(status, request_id, response.into_inner())
        }
        Err(other) => panic!("expected a DingTalk answer, got {other:?}"),
    }
}

async fn info(api: &Client) -> Outcome {
    outcome(api.query_conference_info(seeded::STARTED).await)
}

async fn members(api: &Client) -> Outcome {
    outcome(
        api.query_conference_members(seeded::STARTED, None, None)
            .await,
    )
}

async fn batch(api: &Client) -> Outcome {
    let body = QueryConferenceInfoBatchRequest {
        conference_id_list: vec![seeded::STARTED.to_owned()],
    };
    outcome(api.query_conference_info_batch(&body).await)
}

async fn by_room_code(api: &Client) -> Outcome {
    outcome(
        api.query_conference_info_by_room_code(seeded::RECURRING_ROOM_CODE, None, None)
            .await,
    )
}

/// `n` calls of `info`, all sent at once (each on its own connection), in no particular order.
async fn burst(api: &Arc<Client>, n: usize) -> Vec<Outcome> {
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..n {
        let api = Arc::clone(api);
        calls.spawn(async move { info(&api).await });
    }
    calls.join_all().await
}

/// Checks that `outcome` is DingTalk's `403` with `code` and `message`, its `requestid` the
/// `x-acs-request-id` header, and nothing else in the body.
#[track_caller]
fn assert_refused(outcome: &Outcome, code: &str, message: &str) {
    let Outcome::Refused(status, header_id, body) = outcome else {
        panic!("expected a refusal, got {outcome:?}");
    };
    assert_eq!(*status, 403, "{body:?}");
    assert!(header_id.is_some(), "x-acs-request-id is sent");
    let expected = ErrorBody {
        accessdenieddetail: serde_json::Map::new(),
        code: code.to_owned(),
        message: Some(message.to_owned()),
        requestid: header_id.clone(),
    };
    assert_eq!(body, &expected);
}

/// The raw answer to one GET of the started conference: status, headers, body.
async fn raw_info(server: &MockServer, token: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = http()
        .get(format!(
            "{}/v1.0/conference/videoConferences/{}",
            server.base_url(),
            seeded::STARTED
        ))
        .header("x-acs-dingtalk-access-token", token)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, headers, body)
}

/// A body as JSON, its `requestid` blanked (it differs on every answer).
fn without_request_id(body: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(body).expect("a JSON body");
    value["requestid"] = Value::from("");
    value
}

/// What the same server answers for a scripted `fault`.
async fn fault_answer(fault: Fault) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.push_fault(FaultScope::NextRequests(1), fault);
    raw_info(&server, &token).await
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[tokio::test]
async fn a_burst_over_the_qps_limit_gets_exactly_the_calls_beyond_it_refused() {
    let (server, clock, api) = start(MockConfig::new().with_qps_limit(Some(20))).await;
    let api = Arc::new(api);

    let outcomes = burst(&api, 25).await;
    let admitted = outcomes.iter().filter(|o| **o == Outcome::Ok(200)).count();
    assert_eq!(admitted, 20, "{outcomes:?}");
    let refused: Vec<_> = outcomes.iter().filter(|o| o.is_refused()).collect();
    assert_eq!(refused.len(), 5);
    for outcome in refused {
        assert_refused(outcome, QPS_LIMIT_CODE, QPS_MESSAGE);
    }
    // Still the same second: every call is refused.
    clock.advance(Duration::from_millis(999));
    assert_refused(&info(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE);

    // The next second, the whole budget is back.
    clock.advance(Duration::from_millis(1));
    let outcomes = burst(&api, 25).await;
    assert_eq!(
        outcomes.iter().filter(|o| **o == Outcome::Ok(200)).count(),
        20
    );

    let counters = server.counters();
    assert_eq!(counters.qps_throttled, 5 + 1 + 5);
    assert_eq!(counters.conference_requests, 51);
}

#[tokio::test]
async fn the_qps_answer_is_exactly_the_scripted_throttle_answer() {
    let (server, _clock, _api) = start(MockConfig::new().with_qps_limit(Some(1))).await;
    let token = server.issue_token();
    assert_eq!(raw_info(&server, &token).await.0, 200);
    let (status, headers, body) = raw_info(&server, &token).await;
    let (fault_status, fault_headers, fault_body) =
        fault_answer(Fault::Throttle(QPS_LIMIT_CODE.into())).await;

    assert_eq!((status, fault_status), (403, 403));
    assert_eq!(without_request_id(&body), without_request_id(&fault_body));
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        body.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["code".into(), "message".into(), "requestid".into()])
    );
    assert_eq!(
        body["requestid"],
        header(&headers, "x-acs-request-id").expect("request id")
    );
    for name in ["content-type", "x-acs-request-id", "x-acs-trace-id"] {
        assert!(header(&headers, name).is_some(), "{name}");
    }
    assert_eq!(
        header(&headers, "content-type"),
        header(&fault_headers, "content-type")
    );
    let names = |headers: &reqwest::header::HeaderMap| {
        let mut names: Vec<String> = headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .filter(|name| name != "date")
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&headers), names(&fault_headers));
}

#[tokio::test]
async fn the_qps_limit_counts_each_api_and_each_app_apart() {
    let (server, clock, api) = start(MockConfig::new().with_qps_limit(Some(3))).await;
    server.add_app("second-app", "second-secret");
    server.add_suite(
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        "second-corp",
        DEFAULT_SUITE_TICKET,
    );
    // Token requests are not limited: ten in the same second.
    for _ in 0..10 {
        app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    }
    let second_app = api_with_token(
        &server,
        &app_token(&server, "second-app", "second-secret").await,
    );
    let suite = api_with_token(&server, &corp_token(&server, DEFAULT_CORP_ID).await);
    let suite_elsewhere = api_with_token(&server, &corp_token(&server, "second-corp").await);

    for _ in 0..3 {
        assert_eq!(info(&api).await, Outcome::Ok(200));
    }
    assert_refused(&info(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE);
    // Other APIs of the same app have budgets of their own.
    for _ in 0..3 {
        assert_eq!(members(&api).await, Outcome::Ok(200));
        assert_eq!(batch(&api).await, Outcome::Ok(200));
    }
    assert_refused(&members(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE);
    // Other apps too, and a third-party app per authorising organisation.
    for client in [&second_app, &suite, &suite_elsewhere] {
        for _ in 0..3 {
            assert_eq!(info(client).await, Outcome::Ok(200));
        }
    }
    assert_refused(&info(&second_app).await, QPS_LIMIT_CODE, QPS_MESSAGE);
    assert_refused(&info(&suite).await, SUITE_QPS_LIMIT_CODE, QPS_MESSAGE);
    assert_refused(
        &info(&suite_elsewhere).await,
        SUITE_QPS_LIMIT_CODE,
        QPS_MESSAGE,
    );

    clock.advance(Duration::from_secs(1));
    for client in [&api, &second_app, &suite, &suite_elsewhere] {
        assert_eq!(info(client).await, Outcome::Ok(200));
    }
    assert_eq!(server.counters().qps_throttled, 5);
}

#[tokio::test]
async fn a_call_with_a_bad_token_is_not_limited_and_spends_nothing() {
    let (server, _clock, api) = start(
        MockConfig::new()
            .with_qps_limit(Some(1))
            .with_monthly_quota(Some(1)),
    )
    .await;
    let stranger = api_with_token(&server, "not-a-token");
    for _ in 0..3 {
        let Outcome::Refused(status, _, body) = info(&stranger).await else {
            panic!("a bad token is refused");
        };
        assert_eq!((status, body.code.as_str()), (400, "InvalidAuthentication"));
    }
    assert_eq!(server.quota_used(DEFAULT_CORP_ID), 0);
    assert_eq!(info(&api).await, Outcome::Ok(200));
}

#[tokio::test]
async fn the_ip_window_bans_with_the_html_page_for_the_ban_and_lifts_after_it() {
    let config = MockConfig::new()
        .with_ip_limit(5, Duration::from_secs(20))
        .with_ip_ban(Duration::from_secs(300));
    let (server, clock, api) = start(config).await;
    let token = server.issue_token();

    // Five requests of any kind within 20 s: a token request and conference calls.
    app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    for _ in 0..2 {
        assert_eq!(info(&api).await, Outcome::Ok(200));
    }
    clock.advance(Duration::from_secs(19));
    assert_eq!(members(&api).await, Outcome::Ok(200));
    assert_eq!(raw_info(&server, &token).await.0, 200);

    // The sixth is banned, with the page Fault::IpBanHtml sends.
    let (_, fault_headers, fault_page) = fault_answer(Fault::IpBanHtml).await;
    let (status, headers, page) = raw_info(&server, &token).await;
    assert_eq!(status, 403);
    assert_eq!(page, fault_page);
    assert!(header(&headers, "content-type").is_some_and(|value| value.starts_with("text/html")));
    assert_eq!(
        header(&headers, "content-type"),
        header(&fault_headers, "content-type")
    );
    assert_eq!(header(&headers, "x-acs-request-id"), None);
    assert_eq!(header(&headers, "x-acs-trace-id"), None);

    // Every request during the ban gets the page, even a token request and a fault that is
    // due (it waits for the ban to end); the generated client cannot read it as JSON.
    server.push_fault(
        FaultScope::NextRequests(1),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "SYSTEM ERROR".into(),
        },
    );
    clock.advance(Duration::from_secs(299));
    match api.query_conference_info(seeded::STARTED).await {
        Err(Error::InvalidResponsePayload(body, _)) => assert_eq!(body.as_ref(), &fault_page[..]),
        other => panic!("expected the ban page, got {other:?}"),
    }
    match anonymous(&server)
        .get_access_token(&GetAccessTokenRequest {
            app_key: DEFAULT_APP_KEY.to_owned(),
            app_secret: DEFAULT_APP_SECRET.to_owned(),
        })
        .await
    {
        Err(Error::InvalidResponsePayload(body, _)) => assert_eq!(body.as_ref(), &fault_page[..]),
        other => panic!("expected the ban page, got {other:?}"),
    }
    assert_eq!(server.counters().faults_served, 0);

    // 300 s after it began, the ban is over and the window starts afresh.
    clock.advance(Duration::from_secs(1));
    let Outcome::Refused(status, _, body) = info(&api).await else {
        panic!("the queued fault is served first");
    };
    assert_eq!((status, body.code.as_str()), (500, "systemError"));
    for _ in 0..4 {
        assert_eq!(info(&api).await, Outcome::Ok(200));
    }
    assert_eq!(raw_info(&server, &token).await.0, 403, "banned again");

    let counters = server.counters();
    assert_eq!((counters.ip_banned, counters.faults_served), (4, 1));
    assert_eq!((counters.qps_throttled, counters.quota_refused), (0, 0));

    // Lifting the bans by hand.
    server.lift_ip_bans();
    assert_eq!(info(&api).await, Outcome::Ok(200));
}

#[tokio::test]
async fn the_quota_refuses_every_conference_call_once_spent_but_not_token_calls() {
    let (server, _clock, api) = start(MockConfig::new().with_monthly_quota(Some(4))).await;
    server.add_app("second-app", "second-secret");
    server.add_suite(
        DEFAULT_SUITE_KEY,
        DEFAULT_SUITE_SECRET,
        "second-corp",
        DEFAULT_SUITE_TICKET,
    );
    // Token calls do not count.
    let second_app = api_with_token(
        &server,
        &app_token(&server, "second-app", "second-secret").await,
    );
    let suite = api_with_token(&server, &corp_token(&server, DEFAULT_CORP_ID).await);
    let suite_elsewhere = api_with_token(&server, &corp_token(&server, "second-corp").await);
    assert_eq!(server.quota_used(DEFAULT_CORP_ID), 0);

    // Four calls of the organisation, whatever the app (internal or third-party) and the API.
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_eq!(members(&second_app).await, Outcome::Ok(200));
    assert_eq!(batch(&suite).await, Outcome::Ok(200));
    assert_eq!(by_room_code(&api).await, Outcome::Ok(200));
    assert_eq!(server.quota_used(DEFAULT_CORP_ID), 4);

    // Spent: every conference call of the organisation is refused, token calls are not.
    for client in [&api, &second_app, &suite] {
        assert_refused(&info(client).await, QUOTA_CODE, QUOTA_MESSAGE);
        assert_refused(&members(client).await, QUOTA_CODE, QUOTA_MESSAGE);
        assert_refused(&batch(client).await, QUOTA_CODE, QUOTA_MESSAGE);
        assert_refused(&by_room_code(client).await, QUOTA_CODE, QUOTA_MESSAGE);
    }
    let fresh = api_with_token(
        &server,
        &app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await,
    );
    assert_refused(&info(&fresh).await, QUOTA_CODE, QUOTA_MESSAGE);
    assert_eq!(
        server.quota_used(DEFAULT_CORP_ID),
        4,
        "refused calls spend nothing"
    );
    // Another organisation has a quota of its own.
    assert_eq!(info(&suite_elsewhere).await, Outcome::Ok(200));
    assert_eq!(server.quota_used("second-corp"), 1);
    assert_eq!(server.counters().quota_refused, 13);

    // A new month.
    server.reset_quota();
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_eq!(server.quota_used(DEFAULT_CORP_ID), 1);

    // Raising the quota at runtime; and the control route that resets it.
    server.set_monthly_quota(Some(2));
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_refused(&info(&api).await, QUOTA_CODE, QUOTA_MESSAGE);
    let reset = http()
        .post(format!("{}/__mock/reset-quota", server.base_url()))
        .send()
        .await
        .expect("a response");
    assert_eq!(reset.status(), 200);
    assert_eq!(info(&api).await, Outcome::Ok(200));
    server.set_monthly_quota(None);
    for _ in 0..5 {
        assert_eq!(info(&api).await, Outcome::Ok(200));
    }
}

#[tokio::test]
async fn the_quota_is_checked_before_the_qps_limit() {
    let (server, _clock, api) = start(
        MockConfig::new()
            .with_qps_limit(Some(2))
            .with_monthly_quota(Some(1)),
    )
    .await;
    assert_eq!(info(&api).await, Outcome::Ok(200));
    for _ in 0..3 {
        assert_refused(&info(&api).await, QUOTA_CODE, QUOTA_MESSAGE);
    }
    let counters = server.counters();
    assert_eq!((counters.quota_refused, counters.qps_throttled), (3, 0));
}

#[tokio::test]
async fn counters_report_each_kind_of_refusal_beside_the_other_counts() {
    let config = MockConfig::new()
        .with_qps_limit(Some(2))
        .with_monthly_quota(Some(3))
        .with_ip_limit(12, Duration::from_secs(60));
    let (server, clock, api) = start(config).await;
    // A scripted throttle is a fault, not a limit's answer.
    server.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Throttle(QPS_LIMIT_CODE.into()),
    );
    assert_refused(&info(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE); // fault
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_refused(&info(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE); // QPS
    clock.advance(Duration::from_secs(1));
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert_refused(&info(&api).await, QUOTA_CODE, QUOTA_MESSAGE); // quota
    assert_refused(&members(&api).await, QUOTA_CODE, QUOTA_MESSAGE); // quota
    app_token(&server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await;
    for _ in 0..4 {
        assert_refused(&info(&api).await, QUOTA_CODE, QUOTA_MESSAGE); // quota
    }
    // Twelve requests so far: the thirteenth and fourteenth are banned.
    assert!(matches!(
        api.query_conference_info(seeded::STARTED).await,
        Err(Error::InvalidResponsePayload(..))
    ));
    assert!(matches!(
        api.query_conference_info(seeded::STARTED).await,
        Err(Error::InvalidResponsePayload(..))
    ));

    let expected = Counters {
        token_requests: 1,
        corp_token_requests: 0,
        conference_requests: 12,
        faults_served: 1,
        qps_throttled: 1,
        ip_banned: 2,
        quota_refused: 6,
        rejected_tokens: 0,
    };
    assert_eq!(server.counters(), expected);

    // The control route serves the same, with these field names.
    let json: Value = http()
        .get(format!("{}/__mock/counters", server.base_url()))
        .send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("JSON");
    assert_eq!(json["qps_throttled"], 1);
    assert_eq!(json["ip_banned"], 2);
    assert_eq!(json["quota_refused"], 6);
    let parsed: Counters = serde_json::from_value(json).expect("counters");
    assert_eq!(parsed, expected);

    server.reset_log();
    assert_eq!(server.counters(), Counters::default());
}

#[tokio::test]
async fn limits_are_off_by_default() {
    // A burst of 500 calls of one app and API, and 500 of another, with the default
    // configuration: none is refused. 25 connections at a time, 20 calls each.
    let server = MockServer::start().await.expect("server");
    let api = Arc::new(api_with_token(&server, &server.issue_token()));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let api = Arc::clone(&api);
        calls.spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..20 {
                outcomes.push(info(&api).await);
                outcomes.push(members(&api).await);
            }
            outcomes
        });
    }
    let outcomes: Vec<Outcome> = calls.join_all().await.into_iter().flatten().collect();
    assert_eq!(outcomes.len(), 1000);
    assert!(
        outcomes.iter().all(|o| *o == Outcome::Ok(200)),
        "no call refused"
    );
    let counters = server.counters();
    assert_eq!(
        (
            counters.qps_throttled,
            counters.ip_banned,
            counters.quota_refused
        ),
        (0, 0, 0)
    );
    assert_eq!(counters.conference_requests, 500);
    let config = MockConfig::default();
    assert_eq!(
        (config.qps_limit, config.ip_limit, config.monthly_quota),
        (None, None, None)
    );
}

#[test]
fn the_preset_has_dingtalks_numbers() {
    let config = MockConfig::dingtalk_limits();
    assert_eq!(config.qps_limit, Some(20));
    assert_eq!(
        config.ip_limit,
        Some(IpLimit {
            calls: 10_000,
            window: Duration::from_secs(20)
        })
    );
    assert_eq!(config.ip_ban, Duration::from_secs(300));
    assert_eq!(config.monthly_quota, Some(5_000));
    assert_eq!(
        (
            DINGTALK_QPS_LIMIT,
            DINGTALK_IP_LIMIT.calls,
            DINGTALK_IP_BAN,
            DINGTALK_MONTHLY_QUOTA
        ),
        (20, 10_000, Duration::from_secs(300), 5_000)
    );
    // Everything else is the default.
    let plain = MockConfig {
        qps_limit: None,
        ip_limit: None,
        monthly_quota: None,
        ..config
    };
    assert_eq!(plain, MockConfig::default());
}

#[tokio::test]
async fn the_preset_refuses_the_21st_call_in_a_second() {
    let (server, _clock, api) = start(MockConfig::dingtalk_limits()).await;
    let api = Arc::new(api);
    let outcomes = burst(&api, 21).await;
    assert_eq!(
        outcomes.iter().filter(|o| **o == Outcome::Ok(200)).count(),
        20
    );
    assert_eq!(server.counters().qps_throttled, 1);
    assert_eq!(server.quota_used(DEFAULT_CORP_ID), 20);
}

#[tokio::test]
async fn limits_change_at_runtime() {
    let (server, _clock, api) = start(MockConfig::new()).await;
    assert_eq!(info(&api).await, Outcome::Ok(200));
    server.set_qps_limit(Some(1));
    assert_eq!(info(&api).await, Outcome::Ok(200), "counting starts afresh");
    assert_refused(&info(&api).await, QPS_LIMIT_CODE, QPS_MESSAGE);
    server.set_qps_limit(None);
    assert_eq!(info(&api).await, Outcome::Ok(200));

    server.set_ip_limit(Some(IpLimit {
        calls: 1,
        window: Duration::from_secs(60),
    }));
    server.set_ip_ban(Duration::from_secs(1));
    assert_eq!(info(&api).await, Outcome::Ok(200));
    assert!(matches!(
        api.query_conference_info(seeded::STARTED).await,
        Err(Error::InvalidResponsePayload(..))
    ));
    server.set_ip_limit(None);
    assert_eq!(info(&api).await, Outcome::Ok(200));
}
