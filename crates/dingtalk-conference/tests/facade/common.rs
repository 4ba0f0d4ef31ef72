//! Shared set-up: a fake server and a client pointed at it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingtalk_conference::{Client, ClientBuilder, RetryPolicy};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer};

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

/// A started fake server.
pub(crate) async fn mock() -> MockServer {
    MockServer::start().await.expect("fake server starts")
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Writes to this thread's capture buffer, if one is active.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(buffer) = &*c.borrow() {
                buffer.lock().expect("not poisoned").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lets through what the capturing thread emits, decided at each span and event.
struct CapturingThread;

impl<S> tracing_subscriber::layer::Filter<S> for CapturingThread {
    fn enabled(
        &self,
        _: &tracing::Metadata<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        CAPTURE.with(|c| c.borrow().is_some())
    }

    // Never cache a verdict per callsite: tracing caches interest across threads, so the
    // first thread to hit a callsite (capturing or not) would decide for every test after
    // it. `filter_fn` does cache it, which made the capture tests fail when run in parallel.
    fn callsite_enabled(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
}

/// One global TRACE subscriber whose output goes to the capturing thread's buffer.
///
/// A global subscriber with a per-thread filter, rather than `set_default` per test: tracing
/// caches each callsite's interest across threads, and scoped subscribers coming and going in
/// parallel tests make that cache race.
fn install_global_capture() {
    use tracing_subscriber::prelude::*;
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| ThreadWriter)
            .with_filter(CapturingThread);
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("no other global subscriber in this test binary");
    });
}

/// Runs `body` (on this thread: use a current-thread runtime) capturing everything `tracing`
/// emits at TRACE level, and returns it.
pub(crate) async fn with_trace_capture<F: Future>(body: F) -> (F::Output, String) {
    install_global_capture();
    let buffer = Arc::new(Mutex::new(Vec::new()));
    CAPTURE.with(|c| *c.borrow_mut() = Some(Arc::clone(&buffer)));
    let output = body.await;
    CAPTURE.with(|c| *c.borrow_mut() = None);
    let text = String::from_utf8_lossy(&buffer.lock().expect("not poisoned")).into_owned();
    (output, text)
}
