//! Spending fewer calls on reads: concurrent identical reads share one request (coalescing),
//! and a read may be answered from a recent answer to the same question (freshness,
//! `max_age`).
//!
//! A question's key is the operation and its arguments; the credentials are the client's own
//! (clones share the coalescing table and the cache; separate clients do not). Errors are
//! shared by the waiters of one request but never cached. Writes go through neither.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

use crate::Error;

/// How many answers the freshness cache keeps by default; the least recently used go first.
pub const DEFAULT_ANSWER_CACHE_ENTRIES: usize = 1024;

type Answer = Arc<dyn Any + Send + Sync>;
type InFlight = Shared<BoxFuture<'static, Result<Answer, Error>>>;

/// The coalescing table and the freshness cache of one client.
pub(crate) struct Answers {
    in_flight: Arc<Mutex<HashMap<String, InFlight>>>,
    cache: quick_cache::sync::Cache<String, (tokio::time::Instant, Answer)>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("cached", &self.cache.len())
            .field("capacity", &self.cache.capacity())
            .finish_non_exhaustive()
    }
}

/// How one read may be answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadPolicy {
    /// Share a request with identical concurrent reads.
    pub(crate) coalesce: bool,
    /// Accept an answer this recent without a request.
    pub(crate) max_age: Option<Duration>,
}

/// Where an answer came from, for the trace and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Request,
    Coalesced,
    Cache,
}

impl Answers {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// The answer to `key`: from the cache if one is younger than `policy.max_age`, else from a
    /// request already in flight for the same key (if `policy.coalesce`), else from `fetch`.
    pub(crate) async fn read<T, F>(
        &self,
        key: String,
        policy: ReadPolicy,
        fetch: F,
    ) -> (Result<T, Error>, Source)
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> BoxFuture<'static, Result<T, Error>>,
    {
        if let Some(max_age) = policy.max_age
            && let Some((at, answer)) = self.cache.get(&key)
            && at.elapsed() <= max_age
            && let Some(value) = answer.downcast_ref::<T>()
        {
            return (Ok(value.clone()), Source::Cache);
        }
        let (shared, source) = if policy.coalesce {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match in_flight.get(&key) {
                Some(shared) => (shared.clone(), Source::Coalesced),
                None => {
                    let shared = self.start(key.clone(), fetch);
                    in_flight.insert(key.clone(), shared.clone());
                    (shared, Source::Request)
                }
            }
        } else {
            (
                fetch()
                    .map(|r| r.map(|v| Arc::new(v) as Answer))
                    .boxed()
                    .shared(),
                Source::Request,
            )
        };
        let result = shared.await;
        let result = match result {
            Ok(answer) => {
                if policy.max_age.is_some() && source == Source::Request {
                    self.cache
                        .insert(key, (tokio::time::Instant::now(), Arc::clone(&answer)));
                }
                match answer.downcast_ref::<T>() {
                    Some(value) => Ok(value.clone()),
                    // One key is only ever read as one type; a mismatch is a bug here.
                    None => Err(Error::custom(
                        "an answer shared between calls had an unexpected type (a bug: please report it)",
                    )),
                }
            }
            Err(error) => Err(error),
        };
        (result, source)
    }

    /// A shared request for `key` that leaves the table when it ends, whoever polls it.
    fn start<T, F>(&self, key: String, fetch: F) -> InFlight
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> BoxFuture<'static, Result<T, Error>>,
    {
        let table = Arc::clone(&self.in_flight);
        let request = fetch();
        async move {
            let result = request.await.map(|v| Arc::new(v) as Answer);
            table
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
            result
        }
        .boxed()
        .shared()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting(
        calls: &Arc<AtomicUsize>,
        answer: Result<u32, Error>,
    ) -> BoxFuture<'static, Result<u32, Error>> {
        let calls = Arc::clone(calls);
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            answer
        }
        .boxed()
    }

    const SHARE: ReadPolicy = ReadPolicy {
        coalesce: true,
        max_age: None,
    };

    #[tokio::test]
    async fn concurrent_identical_reads_share_one_request_and_its_error() {
        let answers = Arc::new(Answers::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        // The request is held open until every reader has joined it.
        let gate = Arc::new(tokio::sync::Notify::new());
        let readers: Vec<_> = (0..10)
            .map(|_| {
                let (answers, calls, gate) =
                    (Arc::clone(&answers), Arc::clone(&calls), Arc::clone(&gate));
                tokio::spawn(async move {
                    answers
                        .read("k".to_string(), SHARE, move || {
                            async move {
                                calls.fetch_add(1, Ordering::SeqCst);
                                gate.notified().await;
                                Err::<u32, _>(Error::InvalidInput("refused".into()))
                            }
                            .boxed()
                        })
                        .await
                })
            })
            .collect();
        // On this single-threaded runtime, yielding lets every reader run up to its wait.
        tokio::task::yield_now().await;
        gate.notify_one();
        let mut results = Vec::new();
        for reader in readers {
            results.push(reader.await.expect("a reader"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            results
                .iter()
                .all(|(r, _)| matches!(r, Err(Error::InvalidInput(m)) if m == "refused"))
        );
        assert_eq!(
            results
                .iter()
                .filter(|(_, s)| *s == Source::Request)
                .count(),
            1
        );
        // The error was not kept: the next read asks again.
        let (again, source) = answers
            .read("k".to_string(), SHARE, || counting(&calls, Ok(7)))
            .await;
        assert_eq!((again.ok(), source), (Some(7), Source::Request));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn coalescing_off_sends_each_read() {
        let answers = Answers::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let policy = ReadPolicy {
            coalesce: false,
            max_age: None,
        };
        let reads =
            (0..3).map(|_| answers.read("k".to_string(), policy, || counting(&calls, Ok(1))));
        futures_util::future::join_all(reads).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_recent_answer_is_reused_within_max_age_only() {
        let answers = Answers::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let fresh = ReadPolicy {
            coalesce: true,
            max_age: Some(Duration::from_secs(5)),
        };
        let (first, _) = answers
            .read("k".to_string(), fresh, || counting(&calls, Ok(1)))
            .await;
        tokio::time::advance(Duration::from_secs(4)).await;
        let (second, source) = answers
            .read("k".to_string(), fresh, || counting(&calls, Ok(2)))
            .await;
        assert_eq!(
            (first.ok(), second.ok(), source),
            (Some(1), Some(1), Source::Cache)
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        let (third, source) = answers
            .read("k".to_string(), fresh, || counting(&calls, Ok(3)))
            .await;
        assert_eq!((third.ok(), source), (Some(3), Source::Request));
        // Without max_age the cache is not read.
        let (fourth, _) = answers
            .read("k".to_string(), SHARE, || counting(&calls, Ok(4)))
            .await;
        assert_eq!(fourth.ok(), Some(4));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "first, third and fourth asked"
        );
    }

    #[tokio::test]
    async fn the_cache_is_bounded_in_entries() {
        let answers = Answers::new(4);
        let fresh = ReadPolicy {
            coalesce: true,
            max_age: Some(Duration::from_secs(60)),
        };
        let calls = Arc::new(AtomicUsize::new(0));
        for i in 0..100u32 {
            let _ = answers
                .read(format!("k{i}"), fresh, || counting(&calls, Ok(i)))
                .await;
        }
        assert!(answers.cache.len() <= 4, "{}", answers.cache.len());
    }
}
