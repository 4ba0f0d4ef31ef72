//! Feature `redis`: the fleet keeps its promises under overload, against a real
//! `redis-server` and the fake DingTalk server: a full egress IP window is never skipped,
//! reservations go no further than the caller's deadline, the refresh lock's lease follows the
//! token fetch's bound, and storing the token is fenced by the lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dingtalk_conference::{
    AccessToken, CallOptions, Error, RateLimit, RedisStore, TokenFuture, TokenProvider, TokenStore,
};
use dingtalk_conference_mock::{MockConfig, MockServer, seeded};

use crate::common::{all_call, fleet};
use dingtalk_conference_testkit::redis::RedisServer;

/// A store on `redis` whose commands may take long on a loaded machine: these tests are about
/// the fleet's promises, not a slow Redis, and must not fall back to the clients' own limiters.
fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::open(&redis.url())
        .expect("redis url")
        .with_prefix("fleet-test")
        .with_timeout(Duration::from_secs(2))
}

/// Three members calling far more than a window of 20 calls in 2 s allows, each call with a
/// short deadline: the calls that get no slot of the window before their deadline fail with
/// `IpWindowFull`, retryable, naming the egress; none is sent unreserved, so the fake server,
/// which counts the IP's calls in a sliding window, bans nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_ip_window_fails_calls_with_a_typed_error_and_never_bans_the_ip() {
    let redis = RedisServer::start();
    let window = Duration::from_secs(2);
    let mock = MockServer::start_with(
        MockConfig::default()
            .with_ip_limit(20, window)
            .with_ip_ban(Duration::from_secs(60)),
    )
    .await
    .expect("fake server");
    let store = store(&redis).with_ip_limit(20, window).with_egress("nat-1");
    // The APIs' own budgets are far above the window's: the window is what binds.
    let clients = fleet(&mock, &redis, 3, |b| {
        b.redis_store(store.clone())
            .rate_limit(RateLimit::per_second(1000))
    });
    let mut tasks = Vec::new();
    for client in &clients {
        for i in 0..30 {
            let client = client.with_options(
                CallOptions::new()
                    .coalesce(false)
                    .timeout(Duration::from_millis(400)),
            );
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
    let (mut answered, mut window_full, mut other) = (0, 0, Vec::new());
    for task in tasks {
        match task.await.expect("task ran") {
            Ok(()) => answered += 1,
            Err(error @ Error::IpWindowFull { .. }) => {
                window_full += 1;
                assert!(error.is_retryable(), "{error}");
                assert!(error.retry_after().is_some(), "{error}");
                let Error::IpWindowFull { egress, .. } = &error else {
                    unreachable!("matched above");
                };
                assert_eq!(egress, "nat-1");
                assert!(error.to_string().contains("nat-1"), "{error}");
                assert!(error.to_string().contains("with_egress"), "{error}");
            }
            Err(error) => other.push(error.report()),
        }
    }
    let counters = mock.counters();
    assert_eq!(counters.ip_banned, 0, "{counters:?}");
    assert!(other.is_empty(), "calls failed otherwise: {other:?}");
    assert!(answered > 0, "some calls had a slot");
    assert!(window_full > 0, "90 calls cannot fit 20 slots");
    assert_eq!(answered + window_full, 90);
    // Every request the fake server saw is a call that was answered, and the token fetch.
    assert_eq!(mock.requests().len(), answered + 1, "{counters:?}");
}

/// A burst of calls with a short deadline against a fleet's per-API budget (20/s) reserves
/// only the slots they can use: what is left of the budget then serves the calls after them.
/// Reserving up to the client's `call_timeout` (30 s) instead took 5 s of slots for calls dead
/// within 300 ms, and the calls after them timed out too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_deadlines_under_overload_reserve_no_slot_past_their_deadline() {
    let redis = RedisServer::start();
    let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server");
    let store = store(&redis).with_ip_limit(0, Duration::ZERO);
    let clients = fleet(&mock, &redis, 2, |b| {
        b.redis_store(store.clone())
            .call_timeout(Duration::from_secs(30))
    });
    // The token first: it is not what this test is about.
    all_call(&clients, 1).await;
    let before = mock.requests().len();

    let mut burst = Vec::new();
    for client in &clients {
        for _ in 0..50 {
            let client = client.with_options(
                CallOptions::new()
                    .coalesce(false)
                    .timeout(Duration::from_millis(300)),
            );
            burst.push(tokio::spawn(async move {
                client.conference_info(seeded::STARTED).await.is_ok()
            }));
        }
    }
    let mut burst_answered = 0;
    for task in burst {
        burst_answered += usize::from(task.await.expect("task ran"));
    }
    // Every slot taken was used: the fake server saw exactly the calls that were answered.
    assert_eq!(mock.requests().len() - before, burst_answered);
    assert!(burst_answered < 100, "the burst overloads the budget");

    // The calls after the burst find the budget free, not reserved for the dead.
    let mut after = Vec::new();
    for client in &clients {
        for _ in 0..5 {
            let client = client.with_options(
                CallOptions::new()
                    .coalesce(false)
                    .timeout(Duration::from_secs(3)),
            );
            after.push(tokio::spawn(async move {
                client.conference_info(seeded::STARTED).await.is_ok()
            }));
        }
    }
    let mut after_answered = 0;
    for task in after {
        after_answered += usize::from(task.await.expect("task ran"));
    }
    assert_eq!(after_answered, 10, "every call after the burst is answered");
    assert_eq!(mock.counters().qps_throttled, 0, "{:?}", mock.counters());
}

/// A provider that takes `delay` and counts its fetches; it may wait for a signal instead.
struct Provider {
    token: &'static str,
    delay: Duration,
    release: Option<Arc<tokio::sync::Notify>>,
    fetches: Arc<AtomicUsize>,
}

impl TokenProvider for Provider {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            if let Some(release) = &self.release {
                release.notified().await;
            }
            tokio::time::sleep(self.delay).await;
            Ok(AccessToken::new(
                self.token,
                Some(Duration::from_secs(7200)),
            ))
        })
    }
}

/// Two members need the token while a provider takes 10.5 s, within a fetch bound of 20 s:
/// the lock is held for the bound, so the second waits for the first's token instead of
/// fetching a second one (a fixed 10 s lease let it in mid-fetch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_provider_within_its_bound_is_fetched_once() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let fetches = Arc::new(AtomicUsize::new(0));
    let provider = Arc::new(Provider {
        token: "slow-token",
        delay: Duration::from_millis(10_500),
        release: None,
        fetches: Arc::clone(&fetches),
    });
    let bound = Duration::from_secs(20);
    let members: Vec<_> = (0..2)
        .map(|_| {
            // Each member has its own connection, as separate processes would.
            let (store, provider) = (
                RedisStore::open(&redis.url())
                    .expect("redis url")
                    .with_prefix("fleet-test")
                    .with_timeout(Duration::from_secs(2)),
                Arc::clone(&provider),
            );
            tokio::spawn(async move {
                store
                    .token_within("token:slow", provider.as_ref(), Duration::ZERO, bound)
                    .await
            })
        })
        .collect();
    for member in members {
        let token = member.await.expect("task ran").expect("a token");
        assert_eq!(token.secret().expose(), "slow-token");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "one fetch, not two");
    drop(store);
}

/// A holder whose lease ran out mid-fetch (here: its lock deleted, as an expiry would) while
/// another member fetched and stored a newer token: the late holder's store is refused, the
/// newer token stays, and the late holder hands out the newer one too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_ran_out_cannot_overwrite_a_newer_token() {
    let redis = RedisServer::start();
    let release = Arc::new(tokio::sync::Notify::new());
    let late = Provider {
        token: "old-token",
        delay: Duration::ZERO,
        release: Some(Arc::clone(&release)),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let late_fetches = Arc::clone(&late.fetches);
    let late_store = store(&redis);
    let holder = tokio::spawn(async move {
        late_store
            .token_within("token:lease", &late, Duration::ZERO, Duration::from_secs(5))
            .await
    });
    // The holder has the lock and is fetching.
    let lock = "fleet-test:lock:token:lease";
    for _ in 0..200 {
        if late_fetches.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        late_fetches.load(Ordering::SeqCst),
        1,
        "the holder is fetching"
    );
    assert_eq!(redis.cli(&["EXISTS", lock]).as_deref(), Some("1"));
    // Its lease runs out.
    assert_eq!(redis.cli(&["DEL", lock]).as_deref(), Some("1"));
    // Another member takes the lock, fetches and stores a newer token.
    let newer = Provider {
        token: "new-token",
        delay: Duration::ZERO,
        release: None,
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let token = store(&redis)
        .token_within(
            "token:lease",
            &newer,
            Duration::ZERO,
            Duration::from_secs(5),
        )
        .await
        .expect("a token");
    assert_eq!(token.secret().expose(), "new-token");
    // The late holder's fetch ends now.
    release.notify_one();
    let token = holder.await.expect("task ran").expect("a token");
    assert_eq!(
        token.secret().expose(),
        "new-token",
        "the newer token is handed out"
    );
    let stored = redis
        .cli(&["GET", "fleet-test:token:lease"])
        .expect("stored");
    assert!(stored.ends_with(":new-token"), "the newer token is kept");
    // The other member's lock was released, and the late holder deleted nothing of it.
    assert_eq!(redis.cli(&["EXISTS", lock]).as_deref(), Some("0"));
}

/// A provider that fails while Redis has a hiccup (paused by `CLIENT PAUSE`), just when the
/// holder of the refresh lock is to release it.
struct FailsDuringARedisHiccup {
    redis: Arc<RedisServer>,
}

impl TokenProvider for FailsDuringARedisHiccup {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.redis
                .cli(&["CLIENT", "PAUSE", "700", "ALL"])
                .expect("redis-cli paused the server");
            Err(Error::transient("the vault is down"))
        })
    }
}

/// The holder's fetch fails and its release of the lock is lost in a Redis hiccup: the
/// release is tried again once Redis answers, so another member takes the lock and fetches
/// within its 5 s, instead of waiting out the lease (the fetch bound of 30 s and a margin).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_lost_in_a_redis_hiccup_is_sent_again_and_nobody_waits_out_the_lease() {
    let redis = Arc::new(RedisServer::start());
    let bound = Duration::from_secs(30);
    let holder = RedisStore::open(&redis.url())
        .expect("redis url")
        .with_prefix("fleet-test")
        .with_timeout(Duration::from_millis(200));
    let failing = FailsDuringARedisHiccup {
        redis: Arc::clone(&redis),
    };
    let failed = holder
        .token_within("token:hiccup", &failing, Duration::ZERO, bound)
        .await;
    assert!(failed.is_err(), "the holder's fetch failed");
    let fetches = Arc::new(AtomicUsize::new(0));
    let provider = Provider {
        token: "fresh-token",
        delay: Duration::ZERO,
        release: None,
        fetches: Arc::clone(&fetches),
    };
    let other = store(&redis);
    let token = tokio::time::timeout(
        Duration::from_secs(5),
        other.token_within("token:hiccup", &provider, Duration::ZERO, bound),
    )
    .await
    .expect("the other member took the lock within its 5 s, not after the lease")
    .expect("a token");
    assert_eq!(token.secret().expose(), "fresh-token");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}
