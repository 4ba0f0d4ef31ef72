//! Feature `redis`, third-party apps: the "token is not the latest" race.
//!
//! Fetching a corp token again returns a new one, and DingTalk does not document whether the
//! earlier one stays valid. The fake server here takes the worst case
//! (`MockConfig::with_corp_token_invalidation`): each new corp token invalidates the earlier
//! ones at once. Processes that refresh on their own then invalidate each other's tokens; a
//! fleet sharing one token through a real `redis-server` refreshes once for all and switches
//! to the new token together.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dingtalk_conference::{CallOptions, Client, ClientBuilder, RateLimit};
use dingtalk_conference_mock::{
    Counters, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET,
    MockConfig, MockServer, seeded,
};

use crate::common::fast_retries;
use dingtalk_conference_testkit::redis::RedisServer;

/// The processes of the fleet.
const CLIENTS: usize = 8;
/// Calls each client has in flight at once, back to back.
const CONCURRENCY: usize = 2;
/// Tokens live 3 s and are refreshed 1 s before they expire: one refresh every 2 s.
const LIFETIME: Duration = Duration::from_secs(3);
const MARGIN: Duration = Duration::from_secs(1);
/// How long the fleet calls: four refreshes' worth.
const RUN_FOR: Duration = Duration::from_secs(8);

/// A fake server that invalidates a corp token whenever it issues a newer one.
async fn invalidating_server(lifetime: Duration) -> MockServer {
    MockServer::start_with(
        MockConfig::new()
            .with_token_lifetime(lifetime)
            .with_corp_token_invalidation(),
    )
    .await
    .expect("fake server")
}

/// One process of the fleet: the fake server's third-party app, for its organisation; its
/// token shared on `redis` if given, its own otherwise. No rate limit: the calls come as
/// densely as the fake server answers them, so that some are always in flight at a refresh.
fn third_party_client(mock: &MockServer, redis: Option<&RedisServer>) -> Client {
    third_party_client_with_margin(mock, redis, MARGIN)
}

fn third_party_client_with_margin(
    mock: &MockServer,
    redis: Option<&RedisServer>,
    margin: Duration,
) -> Client {
    built(third_party_builder(mock, redis, margin).rate_limit(RateLimit::none()))
}

/// The fake server's third-party app for its organisation, refreshing `margin` early, on
/// `redis` if given.
fn third_party_builder(
    mock: &MockServer,
    redis: Option<&RedisServer>,
    margin: Duration,
) -> ClientBuilder {
    let builder = Client::builder()
        .base_url(mock.base_url())
        .suite_credentials(
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        )
        .retry_policy(fast_retries())
        .token_refresh_margin(margin);
    match redis {
        Some(redis) => builder.redis(redis.url()).redis_prefix("fleet-test"),
        None => builder,
    }
}

/// Each call its own request, never one shared with a concurrent caller's.
fn built(builder: ClientBuilder) -> Client {
    builder
        .build()
        .expect("client")
        .with_options(CallOptions::new().coalesce(false))
}

/// What the fleet saw: calls answered, calls failed (with the first failure), and the fake
/// server's counters.
struct Outcome {
    answered: u64,
    failed: u64,
    first_failure: Option<String>,
    counters: Counters,
}

/// [`CLIENTS`] clients call for [`RUN_FOR`], [`CONCURRENCY`] calls each at a time.
async fn run_fleet(mock: &MockServer, redis: Option<&RedisServer>) -> Outcome {
    let clients: Vec<Client> = (0..CLIENTS)
        .map(|_| third_party_client(mock, redis))
        .collect();
    call_for(mock, &clients, RUN_FOR).await
}

/// `clients` call for `run_for`, [`CONCURRENCY`] calls each at a time, back to back.
async fn call_for(mock: &MockServer, clients: &[Client], run_for: Duration) -> Outcome {
    let answered = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..CONCURRENCY {
            let (client, answered, failures) =
                (client.clone(), Arc::clone(&answered), Arc::clone(&failures));
            tasks.push(tokio::spawn(async move {
                while started.elapsed() < run_for {
                    match client.conference_info(seeded::STARTED).await {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => failures
                            .lock()
                            .expect("not poisoned")
                            .push(error.report().to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("task ran");
    }
    let failures = failures.lock().expect("not poisoned");
    Outcome {
        answered: answered.load(Ordering::Relaxed),
        failed: failures.len() as u64,
        first_failure: failures.first().cloned(),
        counters: mock.counters(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_redis_sees_at_most_one_rejected_token_per_refresh() {
    let redis = RedisServer::start();
    let mock = invalidating_server(LIFETIME).await;
    let outcome = run_fleet(&mock, Some(&redis)).await;
    let Counters {
        corp_token_requests: fetches,
        rejected_tokens: rejected,
        ..
    } = outcome.counters;
    eprintln!(
        "redis: {} answered, {} failed, {fetches} corp token fetches, {rejected} rejected tokens",
        outcome.answered, outcome.failed
    );
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert!(outcome.answered > 0);
    // The run spans several lifetimes: the fleet did refresh, and invalidate, its token.
    assert!(fetches >= 2, "{fetches} corp token fetches");
    assert!(
        rejected <= fetches,
        "{rejected} rejected tokens for {fetches} corp token fetches"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_process_caches_invalidate_each_others_tokens() {
    let mock = invalidating_server(LIFETIME).await;
    let outcome = run_fleet(&mock, None).await;
    let Counters {
        corp_token_requests: fetches,
        rejected_tokens: rejected,
        ..
    } = outcome.counters;
    eprintln!(
        "per-process: {} answered, {} failed, {fetches} corp token fetches, {rejected} rejected \
         tokens; first failure: {:?}",
        outcome.answered, outcome.failed, outcome.first_failure
    );
    // Each client's first refresh alone invalidates the tokens of the others.
    assert!(
        rejected > fetches,
        "{rejected} rejected tokens for {fetches} corp token fetches"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_reads_the_token_late_in_its_life_switches_with_the_fleet() {
    // Tokens live 4 s, refreshed 2 s before they expire: the shared copy lives 2 s.
    let margin = Duration::from_secs(2);
    let redis = RedisServer::start();
    let mock = invalidating_server(Duration::from_secs(4)).await;
    let early = third_party_client_with_margin(&mock, Some(&redis), margin);
    early
        .conference_info(seeded::STARTED)
        .await
        .expect("answered");
    tokio::time::sleep(Duration::from_millis(1800)).await;
    // Joins when the shared copy has 0.2 s left: it must be replaced then, with everyone's,
    // not when this member's own margin says (its cache would keep it 0.9 s longer, while
    // the fleet's new token has already invalidated it).
    let late = third_party_client_with_margin(&mock, Some(&redis), margin);
    let outcome = call_for(&mock, &[early, late], Duration::from_secs(2)).await;
    let Counters {
        corp_token_requests: fetches,
        rejected_tokens: rejected,
        ..
    } = outcome.counters;
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert_eq!(fetches, 2, "one fetch, one refresh");
    assert_eq!(
        rejected, 0,
        "the late member sent the old token after the refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_over_under_the_shared_budget_costs_no_throttled_answer() {
    // The fake server enforces DingTalk's 20 calls/s; the clients keep their default budget
    // (20/s per API, shared on Redis), saturated by calls back to back.
    let redis = RedisServer::start();
    let mock = MockServer::start_with(
        MockConfig::new()
            .with_token_lifetime(LIFETIME)
            .with_corp_token_invalidation()
            .with_qps_limit(Some(20)),
    )
    .await
    .expect("fake server");
    let clients: Vec<Client> = (0..CLIENTS)
        .map(|_| built(third_party_builder(&mock, Some(&redis), MARGIN)))
        .collect();
    let outcome = call_for(&mock, &clients, Duration::from_secs(6)).await;
    let counters = outcome.counters;
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert!(counters.corp_token_requests >= 2, "{counters:?}");
    assert!(
        counters.rejected_tokens <= counters.corp_token_requests,
        "{counters:?}"
    );
    // Calls that waited for the new token take a new slot of the budget rather than go out
    // in a burst with the calls on time.
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
}
