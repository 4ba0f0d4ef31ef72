//! Staying inside DingTalk's limits and spending fewer calls, proven against the fake server
//! *enforcing* DingTalk's limits (`MockConfig::with_qps_limit`, `with_ip_limit`,
//! `with_monthly_quota`): callers over the rate wait instead of being refused, each API has its
//! own budget, a throttling answer pauses the API instead of starting a storm, identical reads
//! in flight share one request, and recent answers are reused within `max_age`.
//!
//! Every assertion is a count (requests the server saw, answers it refused, calls that
//! succeeded), never a time. The per-second scenarios also fill a table of
//! `docs/RELIABILITY.md`, checked like the fault matrix.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference::{CallOptions, Client, Error, RateLimit, RetryPolicy};
use dingtalk_conference_mock::{
    Fault, FaultScope, ManualClock, MockConfig, MockServer, QPS_LIMIT_CODE, QUOTA_CODE, seeded,
};

use crate::common::{app_builder, with_trace_capture};
use crate::matrix::check_reliability_doc;

const TABLE_START: &str = "<!-- limits-matrix:start -->";
const TABLE_END: &str = "<!-- limits-matrix:end -->";
/// DingTalk's limit per app and API, which the fake server enforces in these tests.
const PER_SECOND: u32 = 20;
/// No scenario may take longer than this: the client must never hang, even when refused.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A server enforcing `config`'s limits, holding `n` conferences in progress (copies of the
/// seeded started one) whose ids it returns.
async fn server_with(config: MockConfig, n: usize) -> (MockServer, Vec<String>) {
    let mock = MockServer::start_with(config)
        .await
        .expect("fake server starts");
    let template = mock.conference(seeded::STARTED).expect("seeded conference");
    let ids: Vec<String> = (0..n).map(|i| format!("b0d9e7a1{i:016x}")).collect();
    for id in &ids {
        let mut info = template.clone();
        info.conference_id = Some(id.clone());
        mock.upsert_conference(info);
    }
    (mock, ids)
}

/// Queries every id in `ids` at once, each in a task of its own, through clones of `client`.
async fn info_at_once(client: &Client, ids: &[String]) -> Vec<Result<(), Error>> {
    let calls: Vec<_> = ids
        .iter()
        .map(|id| {
            let (client, id) = (client.clone(), id.clone());
            tokio::spawn(async move {
                let info = client.conference_info(&id).await?;
                assert_eq!(info.conference_id.as_deref(), Some(id.as_str()));
                Ok(())
            })
        })
        .collect();
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        results.push(call.await.expect("task ran"));
    }
    results
}

fn all_ok(results: &[Result<(), Error>]) -> usize {
    for result in results {
        if let Err(error) = result {
            panic!("a call failed: {}", error.report());
        }
    }
    results.len()
}

/// Requests the server saw for one operation, by its path (the counters count
/// `queryConferenceInfo` only).
fn batch_requests(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1.0/conference/videoConferences/query")
        .count()
}

/// One row of the per-second table in `docs/RELIABILITY.md`.
struct Row {
    situation: &'static str,
    client: &'static str,
    calls: usize,
    succeeded: String,
    requests: u64,
    refused: String,
}

/// A burst of 60 calls against the server's 20 calls/s, with the default client: all wait
/// their turn, none is refused.
async fn burst_with_the_default_limit() -> Row {
    let (mock, ids) = server_with(MockConfig::new().with_qps_limit(Some(PER_SECOND)), 60).await;
    let client = app_builder(&mock).build().expect("valid client");
    let results = info_at_once(&client, &ids).await;
    let counters = mock.counters();
    let succeeded = all_ok(&results);
    assert_eq!(
        counters.qps_throttled, 0,
        "the client went over the server's {PER_SECOND} calls/s"
    );
    assert_eq!(counters.conference_requests, 60, "one request per call");
    Row {
        situation: "60 calls at once (distinct conferences), server enforcing 20 calls/s",
        client: "default (`RateLimit` 20/s per API)",
        calls: ids.len(),
        succeeded: succeeded.to_string(),
        requests: counters.conference_requests,
        refused: counters.qps_throttled.to_string(),
    }
}

/// The same burst without the client's limit and without retries: the server refuses some,
/// which shows the burst above would have been refused had the client not waited.
async fn burst_without_a_limit() -> Row {
    let (mock, ids) = server_with(MockConfig::new().with_qps_limit(Some(PER_SECOND)), 60).await;
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid client");
    let results = info_at_once(&client, &ids).await;
    let counters = mock.counters();
    let mut succeeded = 0;
    let mut throttled = 0;
    for result in &results {
        match result {
            Ok(()) => succeeded += 1,
            Err(Error::Api(api)) if api.status == 403 && api.code.to_string() == QPS_LIMIT_CODE => {
                throttled += 1
            }
            Err(other) => panic!("unexpected error: {}", other.report()),
        }
    }
    assert!(
        counters.qps_throttled > 0,
        "60 calls at once must go over 20 calls/s"
    );
    assert_eq!(throttled, counters.qps_throttled, "each refusal reported");
    assert!(succeeded > 0 && succeeded + throttled == 60);
    assert_eq!(counters.conference_requests, 60, "no retries");
    Row {
        situation: "the same burst",
        client: "`RateLimit::none()`, `RetryPolicy::none()`",
        calls: ids.len(),
        // How many get through depends on where the server's second boundaries fall.
        succeeded: "some".to_string(),
        requests: counters.conference_requests,
        refused: "≥ 1, each returned as `Api(403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi)`"
            .to_string(),
    }
}

/// Another client of the same app has spent the second's budget (the server's clock is held
/// still, so that second lasts until the test moves it on). Ten callers at once: the first is
/// refused, which pauses the API for a second; the others wait instead of being refused too,
/// and the refused call's retry succeeds after the pause.
async fn second_spent_by_another_client() -> Row {
    let clock = ManualClock::new();
    let config = MockConfig::new()
        .with_qps_limit(Some(PER_SECOND))
        .with_limit_clock(clock.clone());
    let (mock, ids) = server_with(config, 10).await;
    let other = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .build()
        .expect("valid client");
    for _ in 0..PER_SECOND {
        other
            .conference_info(seeded::STARTED)
            .await
            .expect("within the budget");
    }
    let spent = mock.counters();
    assert_eq!((spent.conference_requests, spent.qps_throttled), (20, 0));

    let client = app_builder(&mock).build().expect("valid client");
    let callers = {
        let client = client.clone();
        let ids = ids.clone();
        tokio::spawn(async move { info_at_once(&client, &ids).await })
    };
    // As soon as the server has refused one call, its next second begins: every caller that
    // waits out the pause finds the budget whole.
    tokio::time::timeout(HANG_GUARD, async {
        while mock.counters().qps_throttled == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the first call reached the server");
    clock.advance(Duration::from_secs(1));
    let results = callers.await.expect("callers ran");
    let counters = mock.counters();
    let succeeded = all_ok(&results);
    assert_eq!(
        counters.qps_throttled, 1,
        "after the first refusal the others must wait for the pause, not storm"
    );
    assert_eq!(
        counters.conference_requests - spent.conference_requests,
        11,
        "ten calls and one retry"
    );
    Row {
        situation: "10 calls at once after another client of the app spent the second's 20",
        client: "default",
        calls: ids.len(),
        succeeded: succeeded.to_string(),
        requests: counters.conference_requests - spent.conference_requests,
        refused: counters.qps_throttled.to_string(),
    }
}

fn render(rows: &[Row]) -> String {
    let mut table = String::from(
        "| situation | client | calls | succeeded | requests | refused by the server |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} |",
            row.situation, row.client, row.calls, row.succeeded, row.requests, row.refused
        );
    }
    table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_per_second_limit_callers_wait_instead_of_being_refused() {
    let rows = tokio::time::timeout(HANG_GUARD, async {
        vec![
            burst_with_the_default_limit().await,
            burst_without_a_limit().await,
            second_spent_by_another_client().await,
        ]
    })
    .await
    .expect("no scenario hangs");
    check_reliability_doc(TABLE_START, TABLE_END, &render(&rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_two_apis_at_once_is_limited_per_api() {
    let (mock, ids) = server_with(MockConfig::new().with_qps_limit(Some(PER_SECOND)), 40).await;
    let client = app_builder(&mock)
        .coalesce_reads(false)
        .build()
        .expect("valid client");
    let statuses: Vec<_> = ids
        .iter()
        .map(|id| {
            let (client, id) = (client.clone(), id.clone());
            tokio::spawn(async move { client.conferences_status(&[id]).await.map(|s| s.len()) })
        })
        .collect();
    let infos = info_at_once(&client, &ids).await;
    assert_eq!(all_ok(&infos), 40);
    for status in statuses {
        let found = status.await.expect("task ran").expect("status succeeded");
        assert_eq!(found, 1, "each conference is in progress");
    }
    let counters = mock.counters();
    assert_eq!(
        counters.qps_throttled, 0,
        "either API went over its 20 calls/s"
    );
    assert_eq!(counters.conference_requests, 40);
    assert_eq!(batch_requests(&mock), 40);
}

/// Which operation each "waited for the rate limit" event in `trace` belongs to.
fn waits(trace: &str) -> Vec<&'static str> {
    trace
        .lines()
        // The client logs a wait of 0 ms too; only a real wait counts here.
        .filter(|line| line.contains("waited for the rate limit") && !line.contains("waited_ms=0"))
        .map(|line| {
            if line.contains("operation=\"queryConferenceInfoBatch\"") {
                "status"
            } else if line.contains("operation=\"queryConferenceInfo\"") {
                "info"
            } else {
                "other"
            }
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn one_apis_calls_do_not_spend_another_apis_budget() {
    let (mock, ids) = server_with(MockConfig::new(), 2).await;
    // One call per second per API: a second call of the same API must wait, whatever the
    // machine's speed; a call of another API must not.
    let client = app_builder(&mock)
        .rate_limit(RateLimit::per_second(1))
        .build()
        .expect("valid client");
    let ((first, second, status), trace) = with_trace_capture(async {
        let (first, second) = tokio::join!(
            client.conference_info(&ids[0]),
            client.conference_info(&ids[1])
        );
        let status = client.conferences_status(&ids[..1]).await;
        (first, second, status)
    })
    .await;
    first.expect("first info");
    second.expect("second info");
    assert_eq!(status.expect("status").len(), 1);
    assert_eq!(
        waits(&trace),
        ["info"],
        "only the second call of queryConferenceInfo waits:\n{trace}"
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_asks_for_the_same_conferences_share_their_requests() {
    const ASKS: usize = 1_000;
    let (mock, ids) = server_with(MockConfig::new(), 50).await;
    // The server holds every answer for a second, so that all the asks are in flight together.
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceInfo".into(),
            id: None,
            times: None,
        },
        Fault::Delay(Duration::from_secs(1)),
    );
    let asked: Vec<String> = (0..ASKS).map(|i| ids[i % ids.len()].clone()).collect();
    let client = app_builder(&mock).build().expect("valid client");
    assert_eq!(all_ok(&info_at_once(&client, &asked).await), ASKS);
    assert_eq!(
        mock.counters().conference_requests,
        50,
        "one request per distinct conference"
    );

    // Coalescing off: every ask is a request of its own (no delay, a bounded number at once,
    // and no rate limit, so that this part takes well under a second).
    mock.clear_faults();
    mock.reset_log();
    let client = app_builder(&mock)
        .coalesce_reads(false)
        .rate_limit(RateLimit::none())
        .build()
        .expect("valid client");
    let at_once = Arc::new(tokio::sync::Semaphore::new(64));
    let calls: Vec<_> = asked
        .iter()
        .map(|id| {
            let (client, id, at_once) = (client.clone(), id.clone(), Arc::clone(&at_once));
            tokio::spawn(async move {
                let _permit = at_once.acquire().await.expect("never closed");
                client.conference_info(&id).await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task ran").expect("call succeeded");
    }
    assert_eq!(mock.counters().conference_requests, ASKS as u64);
}

#[tokio::test(start_paused = true)]
async fn within_max_age_a_read_costs_no_request_and_errors_are_never_reused() {
    let mock = MockServer::start().await.expect("fake server starts");
    let requests = || mock.counters().conference_requests;

    // The client's max_age: five reads, one request.
    let fresh = app_builder(&mock)
        .max_age(Duration::from_secs(3600))
        .build()
        .expect("valid client");
    for _ in 0..5 {
        fresh.conference_info(seeded::STARTED).await.expect("read");
    }
    assert_eq!(requests(), 1);

    // Without max_age, every read asks.
    let plain = app_builder(&mock).build().expect("valid client");
    for _ in 0..3 {
        plain.conference_info(seeded::STARTED).await.expect("read");
    }
    assert_eq!(requests(), 4);

    // Per call: CallOptions::max_age on a client without one.
    let per_call = plain.with_options(CallOptions::new().max_age(Duration::from_secs(3600)));
    for _ in 0..3 {
        per_call.conference_info(seeded::ENDED).await.expect("read");
    }
    assert_eq!(requests(), 5);

    // An error is not kept: a 404 read twice is two requests.
    let missing = "0000000000000000deadbeef";
    for _ in 0..2 {
        let error = fresh
            .conference_info(missing)
            .await
            .expect_err("no such conference");
        assert!(error.is_not_found(), "{}", error.report());
    }
    assert_eq!(requests(), 7);

    // An answer older than max_age is asked again.
    let brief = app_builder(&mock)
        .max_age(Duration::from_millis(50))
        .build()
        .expect("valid client");
    brief.conference_info(seeded::STARTED).await.expect("read");
    tokio::time::sleep(Duration::from_millis(100)).await;
    brief.conference_info(seeded::STARTED).await.expect("read");
    assert_eq!(requests(), 9);
}

#[tokio::test]
async fn the_answer_cache_is_bounded_in_entries() {
    let (mock, ids) = server_with(MockConfig::new(), 10).await;
    let requests = || mock.counters().conference_requests;
    let read_all = |client: Client| {
        let ids = ids.clone();
        async move {
            for id in &ids {
                client.conference_info(id).await.expect("read");
            }
        }
    };
    let small = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .max_age(Duration::from_secs(3600))
        .answer_cache_entries(4);
    let client = small.build().expect("valid client");
    read_all(client.clone()).await;
    assert_eq!(requests(), 10);
    read_all(client).await;
    assert!(
        requests() >= 16,
        "at most 4 of 10 answers kept, yet {} of the second 10 reads were answered from the cache",
        20 - requests()
    );

    mock.reset_log();
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .max_age(Duration::from_secs(3600))
        .build()
        .expect("valid client");
    read_all(client.clone()).await;
    read_all(client).await;
    assert_eq!(requests(), 10, "the default cache keeps all ten");
}

#[tokio::test(start_paused = true)]
async fn one_throttling_answer_is_seen_once_and_the_other_callers_succeed() {
    let (mock, ids) = server_with(MockConfig::new(), 10).await;
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceInfo".into(),
            id: None,
            times: Some(1),
        },
        Fault::Throttle(QPS_LIMIT_CODE.into()),
    );
    let client = app_builder(&mock).build().expect("valid client");
    assert_eq!(all_ok(&info_at_once(&client, &ids).await), 10);
    let counters = mock.counters();
    assert_eq!(counters.faults_served, 1, "one throttling answer");
    assert_eq!(counters.conference_requests, 11, "ten calls and one retry");
}

#[tokio::test]
async fn an_ip_ban_page_is_reported_at_once_not_retried() {
    // Two requests per IP in a minute: the token request and one call, then the ban.
    let config = MockConfig::new()
        .with_ip_limit(2, Duration::from_secs(60))
        .with_ip_ban(Duration::from_secs(300));
    let mock = MockServer::start_with(config)
        .await
        .expect("fake server starts");
    let client = app_builder(&mock).build().expect("valid client");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("admitted");
    for n in 1..=3u64 {
        let error = client
            .conference_info(seeded::STARTED)
            .await
            .expect_err("banned");
        match &error {
            Error::UnexpectedResponse {
                status,
                content_type,
                ..
            } => {
                assert_eq!(status.as_u16(), 403);
                assert!(
                    content_type
                        .as_deref()
                        .is_some_and(|c| c.starts_with("text/html")),
                    "{content_type:?}"
                );
            }
            other => panic!("expected the ban page, got {}", other.report()),
        }
        assert!(!error.is_retryable() && !error.is_throttled());
        let counters = mock.counters();
        assert_eq!(counters.ip_banned, n, "one request per banned call");
        assert_eq!(counters.conference_requests, 1 + n);
    }
    // Once the ban is lifted, the same client works again.
    mock.lift_ip_bans();
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("ban lifted");
}

#[tokio::test]
async fn a_spent_monthly_quota_is_reported_at_once_not_retried() {
    let config = MockConfig::new().with_monthly_quota(Some(3));
    let mock = MockServer::start_with(config)
        .await
        .expect("fake server starts");
    let client = app_builder(&mock).build().expect("valid client");
    for _ in 0..3 {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("within the quota");
    }
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("quota spent");
    match &error {
        Error::Api(api) => {
            assert_eq!(api.status.as_u16(), 403);
            assert_eq!(api.code.to_string(), QUOTA_CODE);
        }
        other => panic!("expected the quota error, got {}", other.report()),
    }
    assert!(!error.is_retryable() && !error.is_throttled());
    let counters = mock.counters();
    assert_eq!(
        (counters.conference_requests, counters.quota_refused),
        (4, 1)
    );
    // Not a throttling answer: the API is not paused, and a new month answers at once.
    mock.reset_quota();
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("new month");
    assert_eq!(mock.counters().conference_requests, 5);
}
