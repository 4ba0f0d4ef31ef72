//! Trace capture: what `tracing` emits while a test body runs, at TRACE level, as text.
//!
//! One global subscriber per test binary, whose output goes to the buffer of the thread that is
//! capturing, rather than `set_default` per test: tracing caches each callsite's interest across
//! threads, and scoped subscribers coming and going in parallel tests make that cache race. So a
//! test binary that captures must not install a global subscriber of its own.
//!
//! ```no_run
//! # async fn example() {
//! let ((), trace) = dingtalk_conference_testkit::trace::with_trace_capture(async {
//!     tracing::info!(answer = 42, "something happened");
//! })
//! .await;
//! assert!(trace.contains("answer=42"));
//! # }
//! ```

use std::sync::{Arc, Mutex};

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
pub async fn with_trace_capture<F: Future>(body: F) -> (F::Output, String) {
    install_global_capture();
    let buffer = Arc::new(Mutex::new(Vec::new()));
    CAPTURE.with(|c| *c.borrow_mut() = Some(Arc::clone(&buffer)));
    let output = body.await;
    CAPTURE.with(|c| *c.borrow_mut() = None);
    let text = String::from_utf8_lossy(&buffer.lock().expect("not poisoned")).into_owned();
    (output, text)
}

#[cfg(test)]
mod tests {
    use super::with_trace_capture;

    #[test]
    fn captures_the_capturing_threads_events_and_no_other_threads() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let ((), trace) = runtime.block_on(with_trace_capture(async {
            tracing::info!(mine = 1, "on the capturing thread");
            std::thread::spawn(|| tracing::info!(theirs = 2, "on another thread"))
                .join()
                .expect("the other thread ran");
        }));
        assert!(trace.contains("mine=1"), "{trace}");
        assert!(!trace.contains("theirs=2"), "{trace}");
        // Nothing is captured once the body is done.
        tracing::info!(after = 3, "after the capture");
        let ((), next) = runtime.block_on(with_trace_capture(async {}));
        assert!(!next.contains("after=3"), "{next}");
    }
}
