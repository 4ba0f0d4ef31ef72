//! Feature `redis`: several clients (standing in for the processes of a fleet) sharing one
//! token and one rate budget through a real `redis-server`, against the fake DingTalk server.
//! No Redis is mocked: each test starts its own server on a free loopback port.

use std::process::{Command, Stdio};
use std::time::Duration;

use dingtalk_conference::{CallOptions, Client, RateLimit};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockConfig, MockServer, seeded,
};

use crate::common::{all_call, fleet, member};
use dingtalk_conference_testkit::redis::RedisServer;

/// A fake server enforcing DingTalk's 20 calls/s per app per API.
async fn mock_enforcing_dingtalks_limit() -> MockServer {
    MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_fetches_one_token_and_its_keys_hold_no_secret() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let clients = fleet(&mock, &redis, 6, |b| b);
    all_call(&clients, 20).await;
    assert_eq!(
        mock.counters().token_requests,
        1,
        "one fetch for six clients"
    );
    let token = clients[0].access_token().await.expect("token");
    let keys = redis.keys();
    let token_key = format!(
        "fleet-test:token:{}:{DEFAULT_APP_KEY}",
        mock.base_url().trim_start_matches("http://")
    );
    assert!(keys.contains(&token_key), "{keys:?}");
    for key in &keys {
        assert!(key.starts_with("fleet-test:"), "{key}");
        assert!(!key.contains(token.secret().expose()), "a token in {key}");
        assert!(!key.contains(DEFAULT_APP_SECRET), "the secret in {key}");
    }
    // Every client sends the one token.
    for client in &clients {
        assert_eq!(
            client.access_token().await.expect("token").secret(),
            token.secret()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_refreshes_once_per_lifetime() {
    // Tokens live 3 s and are refreshed 1 s before they expire: the shared key lives 2 s.
    let redis = RedisServer::start();
    let mock =
        MockServer::start_with(MockConfig::new().with_token_lifetime(Duration::from_secs(3)))
            .await
            .expect("fake server");
    let clients = fleet(&mock, &redis, 4, |b| {
        b.token_refresh_margin(Duration::from_secs(1))
    });
    let started = std::time::Instant::now();
    for _ in 0..28 {
        all_call(&clients, 2).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let lifetimes = started.elapsed().as_secs() / 2;
    let fetches = mock.counters().token_requests;
    // Per-process caches would fetch four times per lifetime.
    assert!(
        (1..=lifetimes + 1).contains(&fetches),
        "{fetches} token fetches in {lifetimes} shared lifetimes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lock_holder_is_taken_over() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    // A process took the refresh lock and died before storing a token.
    let lock = format!(
        "fleet-test:lock:token:{}:{DEFAULT_APP_KEY}",
        mock.base_url().trim_start_matches("http://")
    );
    assert_eq!(
        redis
            .cli(&["SET", &lock, "dead-process", "NX", "PX", "1500"])
            .as_deref(),
        Some("OK")
    );
    let clients = fleet(&mock, &redis, 3, |b| b);
    all_call(&clients, 5).await;
    assert_eq!(
        mock.counters().token_requests,
        1,
        "one taker-over fetched for all"
    );
    assert_eq!(redis.cli(&["EXISTS", &lock]).as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_rejection_does_not_delete_a_newer_token() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let early = member(&mock, &redis).build().expect("client");
    let late = member(&mock, &redis).build().expect("client");
    all_call(&[early.clone(), late.clone()], 1).await;
    let first = early.access_token().await.expect("token");
    mock.expire_all_tokens();
    // `early` sees the rejection first: it evicts the shared token and stores a new one.
    early
        .conference_info(seeded::STARTED)
        .await
        .expect("replayed with a new token");
    let second = early.access_token().await.expect("token");
    assert_ne!(first.secret(), second.secret());
    // `late` still holds the first token; its rejection must not delete the second.
    late.conference_info(seeded::STARTED)
        .await
        .expect("replayed with the stored token");
    assert_eq!(
        late.access_token().await.expect("token").secret(),
        second.secret()
    );
    assert_eq!(
        mock.counters().token_requests,
        2,
        "the late client fetched nothing"
    );
    let key = format!(
        "fleet-test:token:{}:{DEFAULT_APP_KEY}",
        mock.base_url().trim_start_matches("http://")
    );
    let stored = redis.cli(&["GET", &key]).expect("stored");
    assert!(
        stored.ends_with(second.secret().expose()),
        "the newer token is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_budget_keeps_the_fleet_under_dingtalks_limit() {
    let redis = RedisServer::start();
    let mock = mock_enforcing_dingtalks_limit().await;
    // Four processes, each allowed DingTalk's whole 20 calls/s: alone, each would use all of
    // it, and together they would be refused.
    let clients = fleet(&mock, &redis, 4, |b| {
        b.rate_limit(RateLimit::per_second(20))
    });
    all_call(&clients, 25).await;
    let counters = mock.counters();
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    assert_eq!(counters.conference_requests, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_run_then_restarted_every_call_is_answered_and_redis_is_used_again() {
    let mut redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let clients = fleet(&mock, &redis, 3, |b| b);
    all_call(&clients, 10).await;
    assert_eq!(mock.counters().token_requests, 1);
    // Redis goes away mid-run: every call is still answered, from each client's own cache and
    // limiter.
    redis.stop();
    for _ in 0..5 {
        all_call(&clients, 10).await;
    }
    // A client that starts during the outage fetches its own token.
    let newcomer = member(&mock, &redis).build().expect("client");
    all_call(std::slice::from_ref(&newcomer), 10).await;
    assert_eq!(mock.counters().token_requests, 2);
    // Redis is back (empty, as after a restart without persistence): the clients use it again
    // once their second without Redis has passed.
    redis.restart();
    assert!(redis.keys().is_empty());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    all_call(&clients, 5).await;
    let keys = redis.keys();
    assert!(
        keys.iter().any(|k| k.starts_with("fleet-test:rate:")),
        "the shared budget is used again: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_costs_a_bounded_wait_and_no_call() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    // Calls must finish within 2 s, while Redis sleeps 3 s.
    let clients = fleet(&mock, &redis, 3, |b| b.call_timeout(Duration::from_secs(2)));
    all_call(&clients, 2).await;
    let sleeper = {
        let port = redis.port.to_string();
        std::thread::spawn(move || {
            Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &port, "DEBUG", "SLEEP", "3"])
                .stdout(Stdio::null())
                .status()
        })
    };
    // Let the DEBUG SLEEP reach Redis before the calls do.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        all_call(&clients, 5).await;
    }
    let _ = sleeper.join();
    assert_eq!(mock.counters().token_requests, 1);
}

/// Without Redis, each call's Redis use that fell back is counted in
/// `dingtalk_redis_fallbacks_total`, and the calls are answered.
#[cfg(feature = "metrics")]
#[test]
fn fallbacks_are_counted() {
    let mut redis = RedisServer::start();
    redis.stop();
    let snapshot = crate::metrics::recorded(false, async {
        let mock = MockServer::start().await.expect("fake server");
        let client = member(&mock, &redis).build().expect("client");
        for _ in 0..3 {
            client
                .conference_info(seeded::STARTED)
                .await
                .expect("answered without Redis");
        }
    });
    let fallbacks = crate::metrics::counter(&snapshot, "dingtalk_redis_fallbacks_total", &[]);
    // At least the token's and each call's rate reservation.
    assert!(fallbacks >= 4, "{fallbacks} fallbacks counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_shares_one_monthly_budget_and_refuses_past_it_before_sending() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let budget = dingtalk_conference::MonthlyBudget::new("mock-corp-id")
        .warn_at(8)
        .limit(10);
    let clients = fleet(&mock, &redis, 2, |b| b.monthly_budget(budget.clone()));
    let (mut answered, mut refused) = (0, 0);
    for _ in 0..6 {
        for client in &clients {
            match client.conference_info(seeded::STARTED).await {
                Ok(_) => answered += 1,
                Err(dingtalk_conference::Error::MonthlyBudgetSpent { used, limit, .. }) => {
                    assert_eq!((used, limit), (10, 10));
                    refused += 1;
                }
                Err(other) => panic!("{other}"),
            }
        }
    }
    assert_eq!((answered, refused), (10, 2));
    assert_eq!(
        mock.counters().conference_requests,
        10,
        "refused calls are not sent"
    );
    let month = redis
        .keys()
        .into_iter()
        .find(|k| k.starts_with("fleet-test:month:mock-corp-id:"));
    let month = month.expect("the month's key");
    assert_eq!(redis.cli(&["GET", &month]).as_deref(), Some("10"));
    let ttl: i64 = redis
        .cli(&["TTL", &month])
        .and_then(|t| t.parse().ok())
        .expect("a TTL");
    assert!(
        ttl > 30 * 24 * 3600,
        "the month's key expires after the month: {ttl}"
    );
}

#[tokio::test]
async fn without_redis_the_monthly_budget_is_the_clients_own() {
    let mock = MockServer::start().await.expect("fake server");
    let client = crate::common::app_builder(&mock)
        .monthly_budget(dingtalk_conference::MonthlyBudget::new("mock-corp-id").limit(3))
        .build()
        .expect("client");
    for _ in 0..3 {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("within the budget");
    }
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("spent");
    assert!(
        matches!(error, dingtalk_conference::Error::MonthlyBudgetSpent { .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("was not sent"), "{error}");
    assert_eq!(mock.counters().conference_requests, 3);
}

#[test]
fn a_redis_password_never_shows_in_debug_output() {
    let builder = Client::builder()
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .redis("redis://fleet:pw-that-must-not-leak@127.0.0.1:6379/0");
    let shown = format!("{builder:?}");
    assert!(shown.contains("127.0.0.1:6379"), "{shown}");
    assert!(!shown.contains("pw-that-must-not-leak"), "{shown}");
    let store =
        dingtalk_conference::RedisStore::open("redis://fleet:pw-that-must-not-leak@127.0.0.1:6379")
            .expect("a Redis URL");
    assert!(!format!("{store:?}").contains("pw-that-must-not-leak"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_client_keeps_to_its_share_of_the_budget() {
    // Four clients whose Redis is gone, each given 240 calls a minute (one every 250 ms, no
    // burst; 16 calls/s together, leaving room for arrival jitter): together they stay within
    // the fake server's 20 calls/s, where four whole budgets would be refused.
    let mut redis = RedisServer::start();
    redis.stop();
    let mock = mock_enforcing_dingtalks_limit().await;
    let clients = fleet(&mock, &redis, 4, |b| {
        b.rate_limit_without_redis(RateLimit::per_minute(240))
    });
    all_call(&clients, 6).await;
    let counters = mock.counters();
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    assert_eq!(counters.conference_requests, 24);
}

/// Redis paused by `CLIENT PAUSE` (commands accepted, never answered): like a slow Redis,
/// each command gives up after its timeout and the calls are answered by each client alone;
/// once the pause ends, Redis is used again: a newcomer reads the shared token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_costs_a_bounded_wait_and_is_used_again_afterwards() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let clients = fleet(&mock, &redis, 3, |b| b.call_timeout(Duration::from_secs(2)));
    all_call(&clients, 2).await;
    assert_eq!(
        redis.cli(&["CLIENT", "PAUSE", "2500", "ALL"]).as_deref(),
        Some("OK")
    );
    for _ in 0..3 {
        all_call(&clients, 5).await;
    }
    // Past the pause, a client with an empty cache finds the fleet's token in Redis.
    tokio::time::sleep(Duration::from_millis(2_700)).await;
    let newcomer = member(&mock, &redis).build().expect("client");
    all_call(&[newcomer], 3).await;
    assert_eq!(mock.counters().token_requests, 1);
}

/// DingTalk's window per egress IP (10,000 calls in 20 s, scaled down here to 20 in 2 s),
/// shared by a fleet calling two APIs whose own budgets (20/s each) add up to four times the
/// IP's: the calls wait for their slot, token fetch included, and the IP is never banned.
/// The same fleet without the window gets the IP banned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_shares_one_window_per_egress_ip() {
    async fn fleet_run(ip_window: bool) -> (usize, usize, dingtalk_conference_mock::Counters) {
        let redis = RedisServer::start();
        let window = Duration::from_secs(2);
        let mock = MockServer::start_with(
            MockConfig::default()
                .with_ip_limit(20, window)
                .with_ip_ban(Duration::from_secs(60)),
        )
        .await
        .expect("fake server");
        let store = dingtalk_conference::RedisStore::open(&redis.url())
            .expect("redis url")
            .with_prefix("fleet-test")
            // This test is about the window, not a slow Redis: a loaded machine must not
            // make it fall back to the clients' own limiters.
            .with_timeout(Duration::from_secs(2))
            .with_ip_limit(if ip_window { 20 } else { 0 }, window);
        let clients = fleet(&mock, &redis, 3, |b| b.redis_store(store.clone()));
        let mut tasks = Vec::new();
        for client in &clients {
            for i in 0..10 {
                let client = client.with_options(CallOptions::new().coalesce(false));
                tasks.push(tokio::spawn(async move {
                    if i % 2 == 0 {
                        client.conference_info(seeded::STARTED).await.map(drop)
                    } else {
                        client
                            .conferences_status(&[seeded::STARTED])
                            .await
                            .map(drop)
                    }
                }));
            }
        }
        let mut answered = 0;
        for task in tasks {
            answered += usize::from(task.await.expect("task ran").is_ok());
        }
        (answered, mock.requests().len(), mock.counters())
    }

    let (answered, requests, counters) = fleet_run(true).await;
    assert_eq!(answered, 30, "{counters:?}");
    assert_eq!(counters.ip_banned, 0, "{counters:?}");
    assert_eq!(requests, 31, "30 calls and one token fetch");

    let (_, _, counters) = fleet_run(false).await;
    assert!(counters.ip_banned > 0, "{counters:?}");
}

/// The monthly budget's warning: logged when the fleet's count (not the client's own) reaches
/// the threshold, once per client per month, naming the organisation and the count.
#[tokio::test]
async fn the_monthly_warning_is_logged_at_the_fleets_threshold_once_per_client() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let budget = dingtalk_conference::MonthlyBudget::new("mock-corp-id").warn_at(5);
    let first = member(&mock, &redis)
        .monthly_budget(budget.clone())
        .build()
        .expect("client");
    let second = member(&mock, &redis)
        .monthly_budget(budget)
        .build()
        .expect("client");
    let warning = "the organisation's monthly call budget is running out";
    let ((), below) = crate::common::with_trace_capture(async {
        for client in [&first, &second, &first, &second] {
            client
                .conference_info(seeded::STARTED)
                .await
                .expect("answered");
        }
    })
    .await;
    assert!(
        !below.contains(warning),
        "4 calls of 5: no warning yet\n{below}"
    );
    let ((), reached) = crate::common::with_trace_capture(async {
        // The fleet's 5th, 6th and 7th calls: the second client warns at 5 (its own 3rd
        // call), the first at 7; neither again.
        for client in [&second, &second, &first, &first, &second] {
            client
                .conference_info(seeded::STARTED)
                .await
                .expect("answered");
        }
    })
    .await;
    let warnings: Vec<&str> = reached.lines().filter(|l| l.contains(warning)).collect();
    assert_eq!(warnings.len(), 2, "{reached}");
    assert!(warnings[0].contains("used=5"), "{}", warnings[0]);
    assert!(warnings[1].contains("used=7"), "{}", warnings[1]);
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("WARN") && w.contains("mock-corp-id"))
    );
}

/// Without a share set (`rate_limit_without_redis`), each client that loses Redis keeps to the
/// budget divided by the fleet's size when it last saw it (each member says so once a second):
/// four clients that each had the whole 20 calls/s stay within the fake server's 20/s
/// together, where four whole budgets would be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_client_keeps_to_the_share_of_the_fleet_it_last_saw() {
    let mut redis = RedisServer::start();
    let mock = mock_enforcing_dingtalks_limit().await;
    let clients = fleet(&mock, &redis, 4, |b| b);
    // Two rounds a second apart: each client has said it is a member, and seen all four.
    all_call(&clients, 2).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    all_call(&clients, 2).await;
    let members = redis.cli(&[
        "ZCARD",
        &redis
            .keys()
            .into_iter()
            .find(|k| k.starts_with("fleet-test:fleet:"))
            .expect("the fleet's members key"),
    ]);
    assert_eq!(members.as_deref(), Some("4"));
    redis.stop();
    // The second in which Redis spaced the last calls is over.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let before = mock.counters();
    all_call(&clients, 8).await;
    let after = mock.counters();
    assert_eq!(after.qps_throttled, 0, "{after:?}");
    assert_eq!(after.conference_requests - before.conference_requests, 32);
}

/// `redis_prefix` and `redis_timeout` apply to a store given with `redis_store` too, rather
/// than replacing it.
#[tokio::test]
async fn the_prefix_applies_to_a_store_given_whole() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let store = dingtalk_conference::RedisStore::open(&redis.url()).expect("redis url");
    let client = member(&mock, &redis)
        .redis_store(store)
        .redis_prefix("given-whole")
        .redis_timeout(Duration::from_secs(1))
        .build()
        .expect("a store, then its prefix");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("answered");
    let keys = redis.keys();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.starts_with("given-whole:")),
        "{keys:?}"
    );
}

/// The fleet's token never reaches the logs, at TRACE level: not when it is fetched and
/// stored, read by another member, or rejected and evicted.
#[tokio::test]
async fn the_fleets_token_is_never_logged() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let stored_token = || {
        let key = redis
            .keys()
            .into_iter()
            .find(|k| k.starts_with("fleet-test:token:"))
            .expect("the token's key");
        let stored = redis.cli(&["GET", &key]).expect("the stored token");
        let (_, token) = stored.split_once(':').expect("{margin_ms}:{token}");
        token.to_string()
    };
    let (tokens, trace) = crate::common::with_trace_capture(async {
        let first = member(&mock, &redis).build().expect("client");
        let second = member(&mock, &redis).build().expect("client");
        first
            .conference_info(seeded::STARTED)
            .await
            .expect("answered");
        second
            .conference_info(seeded::STARTED)
            .await
            .expect("answered");
        let old = stored_token();
        // A rejected token: evicted from Redis, a new one fetched and stored.
        mock.expire_all_tokens();
        second
            .conference_info(seeded::STARTED)
            .await
            .expect("answered");
        [old, stored_token()]
    })
    .await;
    assert_ne!(tokens[0], tokens[1]);
    assert!(
        trace.contains("fetching the fleet's token"),
        "the capture saw the fleet's logs:\n{trace}"
    );
    for token in &tokens {
        assert!(token.len() >= 16, "{token}");
        assert!(!trace.contains(token.as_str()), "{trace}");
    }
    assert_eq!(mock.counters().token_requests, 2);
}

/// One organisation's own token source, as a multi-tenant service has one per organisation.
struct Organisation {
    token: String,
    tenant: Option<&'static str>,
}

impl dingtalk_conference::TokenProvider for Organisation {
    fn fetch_token(&self) -> dingtalk_conference::TokenFuture<'_> {
        let token = self.token.clone();
        Box::pin(async move {
            Ok(dingtalk_conference::AccessToken::new(
                token,
                Some(Duration::from_secs(7200)),
            ))
        })
    }

    fn cache_key(&self) -> Option<&str> {
        self.tenant
    }
}

fn tenant_client(mock: &MockServer, redis: &RedisServer, organisation: Organisation) -> Client {
    Client::builder()
        .base_url(mock.base_url())
        .token_provider(organisation)
        .redis(redis.url())
        .redis_prefix("fleet-test")
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_organisations_providers_never_share_a_token() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("fake server");
    let (token_a, token_b) = (mock.issue_token(), mock.issue_token());
    let org_a = tenant_client(
        &mock,
        &redis,
        Organisation {
            token: token_a.clone(),
            tenant: Some("corp-a:app"),
        },
    );
    let org_b = tenant_client(
        &mock,
        &redis,
        Organisation {
            token: token_b.clone(),
            tenant: Some("corp-b:app"),
        },
    );
    org_a
        .conference_info(seeded::STARTED)
        .await
        .expect("organisation A's call");
    org_b
        .conference_info(seeded::STARTED)
        .await
        .expect("organisation B's call");
    let sent: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header("x-acs-dingtalk-access-token").map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        [token_a.clone(), token_b.clone()],
        "each sent its own"
    );
    assert_eq!(
        org_b.access_token().await.expect("token").secret().expose(),
        token_b
    );
    let keys = redis.keys();
    for tenant in ["corp-a:app", "corp-b:app"] {
        assert!(
            keys.iter()
                .any(|k| k.starts_with("fleet-test:token:") && k.ends_with(tenant)),
            "{tenant} has a token key of its own: {keys:?}"
        );
    }
}

#[test]
fn a_provider_that_names_no_tenant_is_refused_with_a_shared_store() {
    let organisation = || Organisation {
        token: "unused".to_string(),
        tenant: None,
    };
    let shared = Client::builder()
        .base_url("http://127.0.0.1:9")
        .token_provider(organisation())
        .redis("redis://127.0.0.1:9")
        .build();
    match shared {
        Err(dingtalk_conference::Error::Config(message)) => {
            assert!(message.contains("TokenProvider::cache_key"), "{message}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // Alone, with nothing shared, it needs none.
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .token_provider(organisation())
        .build()
        .expect("a provider kept to one client");
}
