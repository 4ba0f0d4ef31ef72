//! The facade's own fixtures: clients of a fake server, many calls at once, fleet members.
//! What other test crates share (the fake server, redis-server, trace capture) comes from
//! `dingtalk-conference-testkit`; the two used everywhere here are re-exported.

use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference::{Client, ClientBuilder, RetryPolicy};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer};
pub(crate) use dingtalk_conference_testkit::fake::mock;
pub(crate) use dingtalk_conference_testkit::trace::with_trace_capture;

/// A fast retry policy: the same decisions as the default, without the waiting.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// A builder for an internal-app client of `mock`, with fast retries.
pub(crate) fn app_builder(mock: &MockServer) -> ClientBuilder {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(fast_retries())
}

/// An internal-app client of `mock` that makes every call once: for errors as first seen.
pub(crate) fn no_retry_client(mock: &MockServer) -> Client {
    app_builder(mock)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid client")
}

/// An internal-app client of `mock`, with fast retries.
pub(crate) fn app_client(mock: &MockServer) -> Client {
    app_builder(mock).build().expect("valid client")
}

/// Open files left to the rest of this test binary (runtimes, fake servers and connections of
/// the tests running beside) while many calls run at once.
const RESERVED_FDS: usize = 160;

/// Serialises the tests that open many sockets at once, so that two never share one budget.
static MANY_SOCKETS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many calls this process can have in flight at once. It first raises its soft limit on
/// open files to the hard limit (Debian's default soft limit is 1024). Each connection takes
/// two: a socket of the client and one of the fake server, both in this process. And the pool
/// holds more connections than calls: a call that finds no idle connection starts a connect,
/// which goes on into the pool even when an idle connection comes back first. Three
/// connections per call leave room for that.
#[cfg(unix)]
fn calls_the_open_files_limit_holds() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((mut soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return usize::MAX;
    };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        soft = hard;
    }
    let in_use = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count());
    let free = usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(in_use + RESERVED_FDS);
    free / 6
}

#[cfg(not(unix))]
fn calls_the_open_files_limit_holds() -> usize {
    usize::MAX
}

/// The open-files budget of [`call_concurrently`], held alone. A test on Tokio's paused clock
/// takes it *before* it pauses the clock: waiting for it on a paused clock, idle while another
/// test's calls run, would let the clock jump ahead to the next timer.
pub(crate) async fn many_sockets() -> tokio::sync::MutexGuard<'static, ()> {
    MANY_SOCKETS.lock().await
}

/// Queries the seeded started conference `n` times through clones of `client`, all at once
/// where the open-files limit allows, else as many at once as it holds (said on stderr);
/// every call must succeed.
pub(crate) async fn call_concurrently(client: &Client, n: usize) {
    let alone = many_sockets().await;
    call_concurrently_holding(&alone, client, n).await;
}

/// [`call_concurrently`] for a caller that already holds [`many_sockets`].
pub(crate) async fn call_concurrently_holding(
    _alone: &tokio::sync::MutexGuard<'static, ()>,
    client: &Client,
    n: usize,
) {
    let at_once = calls_the_open_files_limit_holds().min(n);
    assert!(
        at_once >= n.min(50),
        "the open-files limit holds only {at_once} calls at once"
    );
    if at_once < n {
        eprintln!(
            "the open-files limit holds {at_once} calls at once: {n} calls, {at_once} at a time"
        );
    }
    let in_flight = Arc::new(tokio::sync::Semaphore::new(at_once));
    // Each call its own request: identical reads would otherwise share one.
    let client = client.with_options(dingtalk_conference::CallOptions::new().coalesce(false));
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(async move {
                let _permit = in_flight.acquire().await.expect("never closed");
                client
                    .conference_info(dingtalk_conference_mock::seeded::STARTED)
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task ran").expect("call succeeded");
    }
}

/// A client of `mock` in the fleet on `redis`: one process of it.
#[cfg(feature = "redis")]
pub(crate) fn member(
    mock: &MockServer,
    redis: &dingtalk_conference_testkit::redis::RedisServer,
) -> ClientBuilder {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(fast_retries())
        .redis(redis.url())
        .redis_prefix("fleet-test")
}

/// `n` members of the fleet on `redis`, each built from [`member`] as `configure` leaves it.
#[cfg(feature = "redis")]
pub(crate) fn fleet(
    mock: &MockServer,
    redis: &dingtalk_conference_testkit::redis::RedisServer,
    n: usize,
    configure: impl Fn(ClientBuilder) -> ClientBuilder,
) -> Vec<Client> {
    (0..n)
        .map(|_| configure(member(mock, redis)).build().expect("client"))
        .collect()
}

/// `calls` conference queries by each client at once, each its own request; every one must
/// succeed.
#[cfg(feature = "redis")]
pub(crate) async fn all_call(clients: &[Client], calls: usize) {
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..calls {
            let client =
                client.with_options(dingtalk_conference::CallOptions::new().coalesce(false));
            tasks.push(tokio::spawn(async move {
                client
                    .conference_info(dingtalk_conference_mock::seeded::STARTED)
                    .await
            }));
        }
    }
    for task in tasks {
        task.await.expect("task ran").expect("call answered");
    }
}

/// A time given in epoch milliseconds, as the facade's time arguments take it.
pub(crate) fn at(millis: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(millis).expect("a time chrono can hold")
}
