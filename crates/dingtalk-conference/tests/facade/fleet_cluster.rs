//! Feature `redis`, on a Redis Cluster: the fleet's token, budget and egress window through a
//! real 6-node cluster on loopback (3 masters, 3 replicas; [`dingtalk_conference_testkit::redis_cluster`]), started
//! once for this test binary. Each test has its own fake DingTalk server (so its own keys);
//! the tests that kill a master or move a slot have the cluster to themselves.
//!
//! Real time throughout: the GCRA's clock is Redis's `TIME`, and a failover needs the nodes to
//! see their peer silent for real.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dingtalk_conference::{CallOptions, Client, ClientBuilder, RateLimit, RedisStore};
use dingtalk_conference_mock::{
    Counters, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY,
    DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET, MockConfig, MockServer, seeded,
};

use crate::common::all_call;
use crate::common::fast_retries;
use dingtalk_conference_testkit::redis_cluster::{RedisCluster, cluster};

const PREFIX: &str = "fleet-cluster";

/// The hash tag, and so the slot, of the fake server's internal app at `base_url`.
fn app_tag(base_url: &str) -> String {
    format!(
        "{{{PREFIX}:{}:{DEFAULT_APP_KEY}}}",
        base_url.trim_start_matches("http://")
    )
}

/// A client of `mock`'s internal app at `base_url`, in the fleet on the cluster.
fn member_at(base_url: &str, cluster: &RedisCluster) -> ClientBuilder {
    app_client(base_url)
        .redis_cluster(cluster.urls())
        .redis_prefix(PREFIX)
}

/// A client of the fake server's internal app at `base_url`, its Redis not set yet.
fn app_client(base_url: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(fast_retries())
}

fn fleet_at(base_url: &str, cluster: &RedisCluster, n: usize) -> Vec<Client> {
    (0..n)
        .map(|_| {
            member_at(base_url, cluster)
                .rate_limit(RateLimit::per_second(20))
                .build()
                .expect("client")
        })
        .collect()
}

/// What a fleet calling for a while saw.
struct Outcome {
    answered: u64,
    failed: u64,
    first_failure: Option<String>,
}

/// `clients` call back to back, `concurrency` calls each at a time, until `stop` is set.
fn call_until(
    clients: &[Client],
    concurrency: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Outcome> {
    let answered = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..concurrency {
            let client = client.with_options(CallOptions::new().coalesce(false));
            let (answered, failures, stop) = (
                Arc::clone(&answered),
                Arc::clone(&failures),
                Arc::clone(stop),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match client.conference_info(seeded::STARTED).await {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => failures
                            .lock()
                            .expect("not poisoned")
                            .push(error.report().to_string()),
                    }
                }
            }));
        }
    }
    tokio::spawn(async move {
        for task in tasks {
            task.await.expect("task ran");
        }
        let failures = failures.lock().expect("not poisoned");
        Outcome {
            answered: answered.load(Ordering::Relaxed),
            failed: failures.len() as u64,
            first_failure: failures.first().cloned(),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_the_fleet_fetches_one_token_and_each_apps_keys_share_one_slot() {
    let cluster = cluster();
    let _shared = cluster.shared().await;
    let mock = MockServer::start().await.expect("fake server");
    let clients: Vec<Client> = (0..6)
        .map(|_| {
            member_at(&mock.base_url(), cluster)
                .build()
                .expect("client")
        })
        .collect();
    all_call(&clients, 20).await;
    assert_eq!(
        mock.counters().token_requests,
        1,
        "one fetch for six clients"
    );
    let token = clients[0].access_token().await.expect("token");
    for client in &clients {
        assert_eq!(
            client.access_token().await.expect("token").secret(),
            token.secret()
        );
    }
    let tag = app_tag(&mock.base_url());
    let keys = cluster.keys(&tag);
    for wanted in ["token", "fleet", "rate:queryConferenceInfo", "ip:shared"] {
        assert!(
            keys.contains(&format!("{tag}:{wanted}")),
            "{wanted} missing: {keys:?}"
        );
    }
    let slot = cluster.slot(&tag);
    for key in &keys {
        assert_eq!(cluster.slot(key), slot, "{key} is in another slot");
        assert!(!key.contains(token.secret().expose()), "a token in {key}");
        assert!(!key.contains(DEFAULT_APP_SECRET), "the secret in {key}");
    }
    // The apps sharing the egress window are counted in a key of its own.
    assert!(
        !cluster
            .keys(&format!("{{{PREFIX}:ip:shared}}:apps"))
            .is_empty(),
        "the egress window's apps are not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_the_shared_budget_keeps_the_fleet_under_dingtalks_limit() {
    let cluster = cluster();
    let _shared = cluster.shared().await;
    let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server");
    // Four processes, each allowed DingTalk's whole 20 calls/s: only the shared budget keeps
    // them under it together.
    let clients = fleet_at(&mock.base_url(), cluster, 4);
    all_call(&clients, 25).await;
    let counters = mock.counters();
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    assert_eq!(counters.conference_requests, 100);
    assert_eq!(counters.token_requests, 1, "{counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_apps_in_different_slots_share_one_egress_window() {
    let cluster = cluster();
    let _shared = cluster.shared().await;
    // One egress IP allowing 60 calls in any 2 s, banning it for a minute past that. (Each
    // app's share keeps its own even spacing: a window of `n` shares may hold up to `n` calls
    // more than the spacing says, which the 5 % headroom covers from 20 calls per share; at
    // DingTalk's 10,000 calls per window that is 25 apps' shares of 400.)
    let window = Duration::from_secs(2);
    let mock = MockServer::start_with(
        MockConfig::default()
            .with_ip_limit(60, window)
            .with_ip_ban(Duration::from_secs(60)),
    )
    .await
    .expect("fake server");
    // Two apps as the store sees them (the key scope names the host): the same fake server
    // through 127.0.0.1 and through localhost, so two hash tags, in two slots.
    let port = mock
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let apps = [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ];
    let slots: Vec<u16> = apps.iter().map(|a| cluster.slot(&app_tag(a))).collect();
    assert_ne!(
        slots[0], slots[1],
        "the two apps' keys must be in two slots"
    );
    let store = RedisStore::cluster(cluster.urls())
        .expect("cluster urls")
        .with_prefix(PREFIX)
        // This test is about the window, not a slow Redis.
        .with_timeout(Duration::from_secs(2))
        .with_ip_limit(60, window);
    let clients: Vec<Vec<Client>> = apps
        .iter()
        .map(|base_url| {
            (0..2)
                .map(|_| {
                    member_at(base_url, cluster)
                        .redis_store(store.clone())
                        .build()
                        .expect("client")
                })
                .collect()
        })
        .collect();
    // Each app says it is there, then waits until every member has counted both apps (one
    // second): from then on each keeps to half the window.
    for app in &clients {
        all_call(&app[..1], 1).await;
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // 100 calls: each app alone would send its 50 in under a second, and together they
    // would be banned; sharing the window, they take over 3 s.
    let all: Vec<Client> = clients.into_iter().flatten().collect();
    let started = std::time::Instant::now();
    all_call(&all, 25).await;
    let counters = mock.counters();
    assert_eq!(counters.ip_banned, 0, "{counters:?}");
    assert_eq!(counters.conference_requests, 102, "{counters:?}");
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "the window was not kept: {:?}",
        started.elapsed()
    );
    assert_eq!(counters.token_requests, 2, "one per app: {counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_third_party_token_is_handed_over_once_per_refresh() {
    let cluster = cluster();
    let _shared = cluster.shared().await;
    // Corp tokens live 3 s, refreshed 1 s early; each new one invalidates the earlier ones.
    let mock = MockServer::start_with(
        MockConfig::new()
            .with_token_lifetime(Duration::from_secs(3))
            .with_corp_token_invalidation()
            .with_qps_limit(Some(20)),
    )
    .await
    .expect("fake server");
    let clients: Vec<Client> = (0..6)
        .map(|_| {
            Client::builder()
                .base_url(mock.base_url())
                .suite_credentials(
                    DEFAULT_SUITE_KEY,
                    DEFAULT_SUITE_SECRET,
                    DEFAULT_CORP_ID,
                    DEFAULT_SUITE_TICKET,
                )
                .retry_policy(fast_retries())
                .token_refresh_margin(Duration::from_secs(1))
                .redis_cluster(cluster.urls())
                .redis_prefix(PREFIX)
                .build()
                .expect("client")
        })
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = call_until(&clients, 2, &stop);
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let outcome = run.await.expect("run");
    let Counters {
        corp_token_requests: fetches,
        rejected_tokens: rejected,
        qps_throttled,
        ..
    } = mock.counters();
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert!(outcome.answered > 0);
    // 5 s of a token shared for 2 s: the fetch and two refreshes, once for the fleet (six
    // processes refreshing alone would fetch six times as often).
    assert!((2..=4).contains(&fetches), "{fetches} corp token fetches");
    assert!(
        rejected <= fetches,
        "{rejected} rejected for {fetches} fetches"
    );
    assert_eq!(qps_throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_master_killed_mid_run_loses_no_call() {
    let cluster = cluster();
    let _alone = cluster.exclusive().await;
    let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server");
    let clients = fleet_at(&mock.base_url(), cluster, 4);
    // The fleet is sharing through the cluster before the master goes.
    all_call(&clients, 2).await;
    let tag = app_tag(&mock.base_url());
    let (victim, _) = cluster.master_of(cluster.slot(&tag));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = call_until(&clients, 2, &stop);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    cluster.kill_node(victim);
    let killed_at = std::time::Instant::now();
    // The replica takes over after the node timeout (0.5 s) and an election.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    stop.store(true, Ordering::Relaxed);
    let outcome = run.await.expect("run");
    let counters = mock.counters();
    eprintln!(
        "master killed: {} answered, {} failed, {counters:?}",
        outcome.answered, outcome.failed
    );
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    // Each process's own cache keeps the token through the failover.
    assert!(counters.token_requests <= 2, "{counters:?}");
    // The new master serves the app's slot, and the fleet shares through it again.
    cluster.wait_for_new_master(cluster.slot(&tag), victim, Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    all_call(&clients, 3).await;
    let keys = cluster.keys(&tag);
    assert!(
        keys.contains(&format!("{tag}:rate:queryConferenceInfo")),
        "the budget is shared again on the new master ({:?} after the kill): {keys:?}",
        killed_at.elapsed()
    );
    // The killed node comes back as the new master's replica, for the tests after this one.
    cluster.start_node(victim);
    cluster.wait_until_settled(Duration::from_secs(20));
}

/// The member the bench found overrunning: idle when the master dies, so it never sees the
/// failure, and its next command goes straight to the promoted replica. The others went alone
/// meanwhile with their shares, which the new master never recorded; this one must keep to
/// its share too for a while (the budget script sees the node that last wrote the app's keys
/// changed), or it takes the whole shared budget beside them and DingTalk throttles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_member_idle_through_a_failover_keeps_to_its_share_after_it() {
    let cluster = cluster();
    let _alone = cluster.exclusive().await;
    let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server");
    let clients = fleet_at(&mock.base_url(), cluster, 4);
    // All four counted as members, the budget shared on the app's master.
    all_call(&clients, 2).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    all_call(&clients, 2).await;
    let tag = app_tag(&mock.base_url());
    let slot = cluster.slot(&tag);
    let (victim, _) = cluster.master_of(slot);
    let (busy, idle) = clients.split_at(3);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = call_until(busy, 2, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill_node(victim);
    tokio::task::spawn_blocking(move || {
        cluster.wait_for_new_master(slot, victim, Duration::from_secs(10))
    })
    .await
    .expect("waited");
    // The idle member's first command after the failover: the promoted replica answers it.
    // Its answers in the next 1.5 s, 4 callers at once: its share (4 members: 4.75 calls/s)
    // gives about 8; the whole shared budget beside the others' keeping to theirs, 15-20.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let in_time = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let client = idle[0].with_options(CallOptions::new().coalesce(false));
            let in_time = Arc::clone(&in_time);
            tokio::spawn(async move {
                while tokio::time::Instant::now() < deadline {
                    let answer = client.conference_info(seeded::STARTED).await;
                    assert!(
                        answer.is_ok(),
                        "{:?}",
                        answer.err().map(|e| e.report().to_string())
                    );
                    if tokio::time::Instant::now() <= deadline {
                        in_time.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("caller ran");
    }
    stop.store(true, Ordering::Relaxed);
    let busy = run.await.expect("run");
    let counters = mock.counters();
    let back = in_time.load(Ordering::Relaxed);
    eprintln!(
        "idle through the failover: {back} answered in 1.5 s after it; the others {} answered, {} failed; {counters:?}",
        busy.answered, busy.failed
    );
    assert_eq!(busy.failed, 0, "{:?}", busy.first_failure);
    assert!(
        (1..=10).contains(&back),
        "the member idle through the failover kept to its share after it: {back} answers in 1.5 s"
    );
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    cluster.start_node(victim);
    cluster.wait_until_settled(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_slot_migrated_mid_run_loses_no_call() {
    let cluster = cluster();
    let _alone = cluster.exclusive().await;
    let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
        .await
        .expect("fake server");
    let clients = fleet_at(&mock.base_url(), cluster, 4);
    all_call(&clients, 2).await;
    let tag = app_tag(&mock.base_url());
    let slot = cluster.slot(&tag);
    let (from, from_id) = cluster.master_of(slot);
    let (to, to_id) = cluster
        .masters()
        .into_iter()
        .find(|(node, _)| *node != from)
        .expect("another master");
    let (from_port, to_port) = (cluster.ports[from], cluster.ports[to]);
    let slot_text = slot.to_string();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = call_until(&clients, 2, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The slot moves as `redis-cli --cluster reshard --cluster-pipeline 1` moves it, while the
    // fleet calls: marked migrating, its keys moved one by one (split between the two nodes
    // meanwhile: TRYAGAIN), then served by the new node through ASK until it is its own.
    let ok = |port: u16, args: &[&str]| {
        let answer = cluster.cli(port, args);
        assert!(
            answer.as_deref().is_some_and(|a| !a.starts_with("ERR")),
            "{args:?} on {port}: {answer:?}"
        );
    };
    ok(
        to_port,
        &["CLUSTER", "SETSLOT", &slot_text, "IMPORTING", &from_id],
    );
    ok(
        from_port,
        &["CLUSTER", "SETSLOT", &slot_text, "MIGRATING", &to_id],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut moved = 0;
    loop {
        let keys = cluster
            .cli(from_port, &["CLUSTER", "GETKEYSINSLOT", &slot_text, "1"])
            .unwrap_or_default();
        let Some(key) = keys.lines().next().filter(|k| !k.is_empty()) else {
            break;
        };
        let key = key.to_string();
        // The key may have expired (or moved) since: MIGRATE then answers NOKEY.
        let _ = cluster.cli(
            from_port,
            &[
                "MIGRATE",
                "127.0.0.1",
                &to_port.to_string(),
                &key,
                "0",
                "5000",
            ],
        );
        moved += 1;
        assert!(moved < 50, "the slot's keys never ran out");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The new owner first, then the old, then the other masters.
    let mut masters: Vec<usize> = cluster.masters().into_iter().map(|(m, _)| m).collect();
    masters.sort_by_key(|m| (*m != to, *m != from));
    for node in masters {
        ok(
            cluster.ports[node],
            &["CLUSTER", "SETSLOT", &slot_text, "NODE", &to_id],
        );
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    stop.store(true, Ordering::Relaxed);
    let outcome = run.await.expect("run");
    let counters = mock.counters();
    eprintln!(
        "slot {slot} moved ({moved} keys): {} answered, {} failed, {counters:?}",
        outcome.answered, outcome.failed
    );
    assert!(moved > 0, "the slot held none of the fleet's keys");
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_failure);
    assert_eq!(counters.qps_throttled, 0, "{counters:?}");
    assert_eq!(counters.token_requests, 1, "{counters:?}");
    assert_eq!(
        cluster.master_of(slot).0,
        to,
        "the slot is served by its new master"
    );
    let on_new = cluster
        .cli(to_port, &["CLUSTER", "COUNTKEYSINSLOT", &slot_text])
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(on_new > 0, "the fleet's keys are on the new master");
    cluster.wait_until_settled(Duration::from_secs(20));
}

/// Moving a fleet from one Redis onto the cluster: members still on the one Redis (its key
/// names and scripts are those of the versions before clusters, unchanged) and members on the
/// cluster never have a budget each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_from_one_redis_onto_a_cluster_never_doubles_the_budget() {
    use dingtalk_conference_testkit::redis::RedisServer;

    let cluster = cluster();
    let _shared = cluster.shared().await;
    let old = RedisServer::start();
    // Commands may take long on a loaded machine: this test is about the budgets of a fleet
    // half moved, not a slow Redis, and no member may fall back to its own limiter for that
    // (a new client that has not yet seen the fleet would take the whole budget alone).
    let old_store = || {
        RedisStore::open(&old.url())
            .expect("redis url")
            .with_prefix(PREFIX)
            .with_timeout(Duration::from_secs(5))
    };
    let cluster_store = || {
        RedisStore::cluster(cluster.urls())
            .expect("cluster urls")
            .with_prefix(PREFIX)
            .with_timeout(Duration::from_secs(5))
    };
    let migrating_store = || {
        cluster_store()
            .migrating_from(old_store())
            .expect("a cluster moving from one Redis")
    };
    // 2 + 2 processes, each allowed 12 calls/s, 25 calls each, against a fake server enforcing
    // DingTalk's 20 calls/s: the calls answered (of 100) and the server's counters. One shared
    // budget (11.4 calls/s after the fleet's headroom, a slot every 88 ms) stays under the
    // limit with 8 calls a second to spare: a second DingTalk counts may also hold the calls
    // a loaded machine woke ~0.7 s late, bunched with those on time, and none is throttled.
    // Two budgets, 22.8 calls/s, are still over it in every second. (At 20 against 20 this
    // test failed about one run in three under the whole suite, 17 throttled with one budget;
    // at 16 against 20, ~0.3 s to spare, it still failed once in CI, and once with 11
    // throttled beside a valgrind run.)
    async fn run(stores: [RedisStore; 4]) -> (usize, Counters) {
        let mock = MockServer::start_with(MockConfig::new().with_qps_limit(Some(20)))
            .await
            .expect("fake server");
        let mut tasks = Vec::new();
        for store in stores {
            let client = Client::builder()
                .base_url(mock.base_url())
                .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
                .retry_policy(fast_retries())
                .rate_limit(RateLimit::per_second(12))
                .redis_store(store)
                .build()
                .expect("client")
                .with_options(CallOptions::new().coalesce(false));
            for _ in 0..25 {
                let client = client.clone();
                tasks.push(tokio::spawn(async move {
                    client.conference_info(seeded::STARTED).await.is_ok()
                }));
            }
        }
        let mut answered = 0;
        for task in tasks {
            answered += usize::from(task.await.expect("task ran"));
        }
        (answered, mock.counters())
    }

    // One fleet after the other, each with its own fake server (so its own keys): run at once,
    // their 12 clients starved each other on two cores and calls went out late, bunched.
    // Half the fleet still on the one Redis, half moved to the cluster without
    // migrating_from: a budget each, and DingTalk throttles. (What the two steps prevent.)
    let doubled = run([old_store(), old_store(), cluster_store(), cluster_store()]).await;
    // Step one: half still on the one Redis, half moving.
    let step_one = run([
        old_store(),
        old_store(),
        migrating_store(),
        migrating_store(),
    ])
    .await;
    // Step two: half moving, half on the cluster alone.
    let step_two = run([
        migrating_store(),
        migrating_store(),
        cluster_store(),
        cluster_store(),
    ])
    .await;
    let (doubled, step_one, (step_two_answered, step_two)) = (doubled.1, step_one, step_two);
    assert!(doubled.qps_throttled > 0, "{doubled:?}");
    let (step_one_answered, step_one) = step_one;
    assert_eq!(step_one_answered, 100, "{step_one:?}");
    assert_eq!(step_one.qps_throttled, 0, "{step_one:?}");
    assert_eq!(
        step_one.token_requests, 1,
        "one token, on the one Redis: {step_one:?}"
    );
    assert_eq!(step_two_answered, 100, "{step_two:?}");
    assert_eq!(step_two.qps_throttled, 0, "{step_two:?}");
    // The token is the one Redis's for the moving members, the cluster's for the others.
    assert!(step_two.token_requests <= 2, "{step_two:?}");
}

#[test]
fn only_a_cluster_moves_from_only_one_redis() {
    let one = || RedisStore::open("redis://127.0.0.1:6379").expect("redis url");
    let cluster = || RedisStore::cluster(["redis://127.0.0.1:7000"]).expect("cluster url");
    assert!(one().migrating_from(one()).is_err());
    assert!(cluster().migrating_from(cluster()).is_err());
    let moving = cluster()
        .migrating_from(RedisStore::open("redis://:pw-secret@127.0.0.1:6379").expect("url"))
        .expect("a cluster moving from one Redis");
    let debug = format!("{moving:?}");
    assert!(debug.contains("127.0.0.1:6379"), "{debug}");
    assert!(!debug.contains("pw-secret"), "{debug}");
}

/// A managed cluster edition in proxy mode: one endpoint in front of the shards, refusing a
/// script whose keys are in two slots. Stood in for by one real cluster node that serves
/// every slot, reached as one Redis (`RedisStore::open`): it refuses such a script
/// (`CROSSSLOT`) as a proxy does. Today's key names put the rate script's two keys in two slots;
/// `with_cluster_keys` puts them in one.
#[tokio::test]
async fn behind_a_cluster_proxy_the_cluster_key_names_keep_each_script_in_one_slot() {
    use crate::common::with_trace_capture;
    use dingtalk_conference_testkit::redis::{RedisOptions, RedisServer};

    let node = RedisServer::start_with(RedisOptions {
        args: vec!["--cluster-enabled".to_string(), "yes".to_string()],
        ..RedisOptions::default()
    });
    assert_eq!(
        node.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            .as_deref(),
        Some("OK")
    );
    for _ in 0..500 {
        if node
            .cli(&["CLUSTER", "INFO"])
            .is_some_and(|info| info.contains("cluster_state:ok"))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let run = |store: RedisStore| async move {
        let mock = MockServer::start().await.expect("fake server");
        let clients: Vec<Client> = (0..3)
            .map(|_| {
                app_client(&mock.base_url())
                    .redis_store(store.clone())
                    .build()
                    .expect("client")
            })
            .collect();
        let ((), logs) = with_trace_capture(all_call(&clients, 5)).await;
        (logs, mock.counters())
    };
    let one_redis = || {
        RedisStore::open(&node.url())
            .expect("redis url")
            .with_prefix(PREFIX)
    };

    // Today's names: the rate script's keys are in two slots, refused; each client alone.
    let (logs, _) = run(one_redis()).await;
    assert!(
        logs.contains("Redis failed") && logs.contains("CrossSlot"),
        "{logs}"
    );

    // The cluster's names through the one endpoint: every script in one slot.
    let (logs, counters) = run(one_redis().with_cluster_keys()).await;
    assert!(!logs.contains("Redis failed"), "{logs}");
    assert_eq!(counters.token_requests, 1, "{counters:?}");
    assert!(
        node.keys()
            .iter()
            .any(|k| k.starts_with(&format!("{{{PREFIX}:")) && k.ends_with("}:token")),
        "{:?}",
        node.keys()
    );
}
