//! Reads that spend fewer calls: identical reads in flight share one request, and a read may
//! be answered from a recent answer to the same question (`max_age`).
//!
//! A request that others wait for belongs to no caller. While nobody else waits for it, its
//! starter runs it in its own task (no task spawned, no channel made, the answer moved rather
//! than copied); the first caller that joins it moves it to a task of its own, as does the
//! starter if it is dropped first. The table knows each request by its key, and the request
//! removes itself from the table when it ends, however it ends (answer, error, panic, runtime
//! shutdown). Callers only wait for it, each until its own deadline: a caller that is dropped,
//! or whose deadline passes first, or that is no longer polled, leaves the request to the
//! others. A caller whose deadline is later than the request's, and which saw the request run
//! out of time, asks again with the time it has left.
//!
//! Callers share a request only when they would have made the same one: the same operation
//! and arguments (the [`ReadKey`]) and the same retry policy. The request runs with the
//! deadline of the caller that started it. Errors are shared by the waiters of one request
//! but never cached. Writes go through neither.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::Deadline;
use crate::Error;

/// How many answers the freshness cache keeps by default; the least recently used go first.
pub const DEFAULT_ANSWER_CACHE_ENTRIES: usize = 1024;

/// The arguments of a read, as its operation takes them: anything comparable and hashable.
/// Each operation uses a type of its own (a tuple of its arguments, say); two keys are equal
/// only when their types and values are.
trait Arguments: Any + Send + Sync {
    fn equals(&self, other: &dyn Arguments) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Hash + Eq + Send + Sync + 'static> Arguments for T {
    fn equals(&self, other: &dyn Arguments) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The question a read asks, as its operation builds it: its operation and its arguments,
/// typed. It becomes a [`Key`] (allocated, with the retry policy's fingerprint) only when the
/// read is shared or cached; a read that is neither never builds one.
pub(crate) struct ReadKey<A> {
    operation: &'static str,
    arguments: A,
}

impl<A: Hash + Eq + Send + Sync + 'static> ReadKey<A> {
    /// The key of a read of `operation` with `arguments` (typed: a tuple of the arguments).
    pub(crate) const fn new(operation: &'static str, arguments: A) -> Self {
        Self {
            operation,
            arguments,
        }
    }

    /// The key of the table and the cache, for a read sent with the retry policy whose
    /// fingerprint is `policy`.
    pub(crate) fn erase(self, policy: u64) -> Key {
        // Hashed once, here, with std's keyed hash (the arguments may come from anyone); the
        // table and the cache use this hash instead of hashing the key again on each look-up.
        static KEYS: OnceLock<RandomState> = OnceLock::new();
        let mut hasher = KEYS.get_or_init(RandomState::new).build_hasher();
        self.operation.hash(&mut hasher);
        policy.hash(&mut hasher);
        self.arguments.hash(&mut hasher);
        Key {
            hash: hasher.finish(),
            operation: self.operation,
            arguments: Arc::new(self.arguments),
            policy,
        }
    }
}

/// Hands a [`Key`]'s hash, computed once when the key was built, to the table.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (by `Key::hash`); anything else is still mixed in.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// The question a read asks, as the table and the cache know it: its operation, its
/// arguments, and the retry policy it would send them with.
#[derive(Clone)]
pub(crate) struct Key {
    /// The hash of the operation, the policy and the arguments.
    hash: u64,
    operation: &'static str,
    arguments: Arc<dyn Arguments>,
    /// The retry policy's fingerprint: reads with different policies do not share a request.
    policy: u64,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.operation == other.operation
            && self.policy == other.policy
            && self.arguments.equals(other.arguments.as_ref())
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for Key {
    // The arguments may hold user ids: they are not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

type Answer = Arc<dyn Any + Send + Sync>;
type Outcome = Option<Result<Answer, Error>>;
type Cache = quick_cache::sync::Cache<Key, (Instant, Answer)>;

/// A request in flight: who started it (to tell it from a later one under the same key), its
/// deadline, where its outcome is published, and how a caller that joins it moves it to a
/// task of its own.
struct InFlight {
    id: u64,
    deadline: Option<Instant>,
    /// Made by the first caller that joins, under the table's lock, and taken by the landing
    /// with the entry: a flight nobody joins makes no channel.
    publish: Option<watch::Sender<Outcome>>,
    request: Arc<dyn HandOver>,
}

type Table = Arc<Mutex<HashMap<Key, InFlight, BuildHasherDefault<KeyHash>>>>;

/// The shared reads and the freshness cache of one client (clones share them).
pub(crate) struct SharedReads {
    table: Table,
    next_id: AtomicU64,
    cache: Arc<Cache>,
    /// The fingerprint of the client's own retry policy, which never changes.
    client_policy: OnceLock<u64>,
}

impl fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedReads")
            .field("in_flight", &self.in_flight())
            .field("cached", &self.cache.len())
            .field("capacity", &self.cache.capacity())
            .finish()
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

/// Removes a flight from the table and publishes its outcome, however it ends: an outcome it
/// was given, or an error if it is dropped without one (a panic in the request, a runtime
/// shutting down). Removal comes first, so that nobody joins a flight that ended.
struct Landing {
    table: Table,
    key: Key,
    id: u64,
    /// The flight's channel, taken from its entry when it leaves the table (`None`: nobody
    /// joined it).
    publish: Option<watch::Sender<Outcome>>,
    /// Where a successful answer is kept, for reads with a `max_age`.
    cache: Option<Arc<Cache>>,
    /// Whether the flight has left the table.
    left: bool,
    /// Whether the outcome was dealt with (published, or nobody was waiting for it).
    landed: bool,
}

impl Landing {
    fn leave_table(&mut self) {
        if self.left {
            return;
        }
        self.left = true;
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if table
            .get(&self.key)
            .is_some_and(|flight| flight.id == self.id)
        {
            self.publish = table.remove(&self.key).and_then(|flight| flight.publish);
        }
    }

    fn publish(&self, outcome: Result<Answer, Error>) {
        if let Some(publish) = &self.publish {
            // Nobody may be waiting any more: that is fine.
            let _ = publish.send(Some(outcome));
        }
    }

    fn keep(&self, answer: &Answer) {
        if let Some(cache) = &self.cache {
            cache.insert(self.key.clone(), (Instant::now(), Arc::clone(answer)));
        }
    }

    /// Ends a flight that ran in a task of its own with `result`.
    fn land<T: Send + Sync + 'static>(mut self, result: Result<T, Error>) {
        let outcome = result.map(|value| Arc::new(value) as Answer);
        if let Ok(answer) = &outcome {
            self.keep(answer);
        }
        self.leave_table();
        self.landed = true;
        self.publish(outcome);
    }

    /// Ends a flight that its starter ran to the end itself with `result`, which the starter
    /// gets back; a shared copy goes to the cache (with a `max_age`) and to the callers that
    /// joined meanwhile, if any.
    fn land_here<T: Clone + Send + Sync + 'static>(
        mut self,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        let mut shared = None;
        if let (Ok(value), Some(_)) = (&result, &self.cache) {
            let answer: Answer = Arc::new(value.clone());
            self.keep(&answer);
            shared = Some(answer);
        }
        self.leave_table();
        self.landed = true;
        // Callers that joined before the flight left the table (none can join after), and
        // still wait for it.
        if self
            .publish
            .as_ref()
            .is_some_and(|publish| publish.receiver_count() > 0)
        {
            self.publish(match &result {
                Ok(value) => Ok(shared.unwrap_or_else(|| Arc::new(value.clone()) as Answer)),
                Err(error) => Err(error.clone()),
            });
        }
        result
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.leave_table();
        if !self.landed {
            self.publish(Err(ended_without_an_answer()));
        }
    }
}

fn ended_without_an_answer() -> Error {
    Error::custom("a shared read ended without an answer: it panicked, or its runtime shut down")
}

/// A shared request. Its starter runs it in its own task for as long as nobody else waits
/// for it, which costs no task and no copy of the answer; the first caller that joins it
/// moves it to a task of its own, as does the starter if it is dropped first. So no caller
/// ever owns a request another waits for: a starter that is dropped, or that is no longer
/// polled (a `select!` gone elsewhere, a stream nobody reads), stalls nobody else.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
    runtime: tokio::runtime::Handle,
    /// The starter's span: a request moved to a task stays under the caller that started it.
    span: tracing::Span,
}

struct SlotState<T> {
    /// The request and its landing, while its starter runs it.
    request: Option<(BoxFuture<'static, Result<T, Error>>, Landing)>,
    /// The starter, woken when its request moves to a task.
    starter: Option<Waker>,
    /// Where the starter waits for the outcome once the request moved.
    outcome: Option<watch::Receiver<Outcome>>,
}

/// Moves a request its starter runs to a task of its own.
trait HandOver: Send + Sync {
    /// `outcome`: where the starter is to wait for it (`None`: the starter is gone).
    fn hand_over(&self, outcome: Option<watch::Receiver<Outcome>>);
}

impl<T: Send + Sync + 'static> HandOver for Slot<T> {
    fn hand_over(&self, outcome: Option<watch::Receiver<Outcome>>) {
        // The starter holds this lock only while it polls the request once.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some((request, landing)) = state.request.take() else {
            return;
        };
        state.outcome = outcome;
        let starter = state.starter.take();
        drop(state);
        self.runtime.spawn(
            async move {
                let result = request.await;
                landing.land(result);
            }
            .instrument(self.span.clone()),
        );
        if let Some(starter) = starter {
            starter.wake();
        }
    }
}

/// The starter's side of a shared request: runs it until it ends (`Ok`: its result) or
/// moves to a task of its own (`Err`: where its outcome is published).
struct Run<T: Send + Sync + 'static> {
    slot: Arc<Slot<T>>,
}

impl<T: Clone + Send + Sync + 'static> Future for Run<T> {
    type Output = Result<Result<T, Error>, watch::Receiver<Outcome>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self
            .slot
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some((request, _)) = state.request.as_mut() else {
            // Moved to a task; the caller that joined left a receiver for the starter.
            return Poll::Ready(match state.outcome.take() {
                Some(outcome) => Err(outcome),
                None => Ok(Err(Error::custom(
                    "a shared read moved without its outcome (a bug: please report it)",
                ))),
            });
        };
        // A panic in the request is its waiters' error (the landing's), as in a task of its
        // own; it does not unwind through the lock.
        match std::panic::catch_unwind(AssertUnwindSafe(|| request.as_mut().poll(cx))) {
            Ok(Poll::Pending) => {
                if !state
                    .starter
                    .as_ref()
                    .is_some_and(|starter| starter.will_wake(cx.waker()))
                {
                    state.starter = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Ok(Poll::Ready(result)) => {
                let taken = state.request.take();
                drop(state);
                Poll::Ready(Ok(match taken {
                    Some((_, landing)) => landing.land_here(result),
                    None => result,
                }))
            }
            Err(_) => {
                let taken = state.request.take();
                drop(state);
                // The landing publishes the error to the callers that joined.
                drop(taken);
                Poll::Ready(Ok(Err(ended_without_an_answer())))
            }
        }
    }
}

impl<T: Send + Sync + 'static> Drop for Run<T> {
    fn drop(&mut self) {
        // A starter dropped before its request ended leaves it to a task: others may have
        // joined it, or may yet.
        self.slot.hand_over(None);
    }
}

/// The flight a read waits for.
enum Flight<T: Send + Sync + 'static> {
    /// One in flight, started by another caller, ending by `until`.
    Joined {
        outcome: watch::Receiver<Outcome>,
        until: Option<Instant>,
    },
    /// One this caller started and runs.
    Started(Run<T>),
}

impl SharedReads {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            table: Arc::new(Mutex::new(HashMap::default())),
            next_id: AtomicU64::new(0),
            cache: Arc::new(quick_cache::sync::Cache::new(capacity.max(1))),
            client_policy: OnceLock::new(),
        }
    }

    /// The fingerprint of the client's own retry policy, computed by `fingerprint` once.
    pub(crate) fn client_policy(&self, fingerprint: impl FnOnce() -> u64) -> u64 {
        *self.client_policy.get_or_init(fingerprint)
    }

    /// How many shared requests are in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The answer to `key`: from the cache if one is younger than `policy.max_age`, else from
    /// a request already in flight for the same key (if `policy.coalesce`), else from
    /// `fetch`, which makes the request within `deadline`. Waits at most until `deadline`.
    pub(crate) async fn read<T, F>(
        &self,
        key: Key,
        policy: ReadPolicy,
        deadline: Deadline,
        fetch: F,
    ) -> (Result<T, Error>, Source)
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(Deadline) -> BoxFuture<'static, Result<T, Error>>,
    {
        if let Some(max_age) = policy.max_age
            && let Some((at, answer)) = self.cache.get(&key)
            && at.elapsed() <= max_age
            && let Some(value) = answer.downcast_ref::<T>()
        {
            return (Ok(value.clone()), Source::Cache);
        }
        if !policy.coalesce {
            // Nobody else waits for it: the caller runs it, and dropping the caller ends it.
            let result = fetch(deadline).await;
            if let (Ok(value), Some(_)) = (&result, policy.max_age) {
                self.cache
                    .insert(key, (Instant::now(), Arc::new(value.clone()) as Answer));
            }
            return (result, Source::Request);
        }
        loop {
            let flight = match self.join_or_start(&key, policy, deadline, &fetch) {
                Ok(flight) => flight,
                Err(error) => return (Err(error), Source::Request),
            };
            let (mut outcome, until, source) = match flight {
                Flight::Joined { outcome, until } => (outcome, until, Source::Coalesced),
                Flight::Started(run) => match run.await {
                    Ok(result) => return (result, Source::Request),
                    // Moved to a task: wait for its outcome like the callers that joined.
                    Err(outcome) => (outcome, deadline.at, Source::Request),
                },
            };
            // A flight ending no later than this caller's deadline is waited for whole, so
            // that its own timeout error (with the last failure) is the one returned.
            let own = deadline
                .at
                .filter(|own| until.is_none_or(|until| *own < until));
            let published = match own {
                Some(own) => {
                    match tokio::time::timeout_at(own, outcome.wait_for(Option::is_some)).await {
                        Ok(published) => published.map(|o| o.clone()),
                        Err(_) => return (Err(deadline.timeout(None)), source),
                    }
                }
                None => outcome.wait_for(Option::is_some).await.map(|o| o.clone()),
            };
            let result = match published {
                Ok(Some(result)) => result,
                // The landing always publishes before the sender goes: unreachable, but an
                // error rather than a panic.
                Ok(None) | Err(_) => Err(Error::custom(
                    "a shared read ended without an answer (a bug: please report it)",
                )),
            };
            match result {
                Ok(answer) => {
                    return match answer.downcast_ref::<T>() {
                        Some(value) => (Ok(value.clone()), source),
                        // One key is only ever read as one type; a mismatch is a bug here.
                        None => (
                            Err(Error::custom(
                                "an answer shared between calls had an unexpected type (a bug: please report it)",
                            )),
                            source,
                        ),
                    };
                }
                // The request this caller joined ran out of its starter's time; this caller
                // has some left, and asks again with it.
                Err(Error::Timeout {
                    kind: crate::TimeoutKind::Deadline,
                    ..
                }) if source == Source::Coalesced && !deadline.has_passed() => {}
                Err(error) => return (Err(error), source),
            }
        }
    }

    /// The flight for `key`: one in flight (moved to a task of its own if its starter still
    /// ran it), or one started now, which this caller runs until another joins it.
    fn join_or_start<T, F>(
        &self,
        key: &Key,
        policy: ReadPolicy,
        deadline: Deadline,
        fetch: &F,
    ) -> Result<Flight<T>, Error>
    where
        T: Send + Sync + 'static,
        F: Fn(Deadline) -> BoxFuture<'static, Result<T, Error>>,
    {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = table.get_mut(key) {
            // The first caller to join makes the channel. Each joiner brings a receiver for
            // the starter too: whichever of them moves the request leaves one for it (the
            // one that made the channel may come second).
            let publish = flight.publish.get_or_insert_with(|| watch::channel(None).0);
            let (outcome, starter) = (publish.subscribe(), publish.subscribe());
            let until = flight.deadline;
            let request = Arc::clone(&flight.request);
            drop(table);
            // Waited for by two callers now: the request must belong to neither.
            request.hand_over(Some(starter));
            return Ok(Flight::Joined { outcome, until });
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Config("the client must be used inside a Tokio runtime".to_string())
        })?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let landing = Landing {
            table: Arc::clone(&self.table),
            key: key.clone(),
            id,
            publish: None,
            cache: policy.max_age.map(|_| Arc::clone(&self.cache)),
            left: false,
            landed: false,
        };
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                request: Some((fetch(deadline), landing)),
                starter: None,
                outcome: None,
            }),
            runtime,
            span: tracing::Span::current(),
        });
        table.insert(
            key.clone(),
            InFlight {
                id,
                deadline: deadline.at,
                publish: None,
                request: Arc::clone(&slot) as Arc<dyn HandOver>,
            },
        );
        drop(table);
        Ok(Flight::Started(Run { slot }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures_util::FutureExt as _;

    use super::*;

    fn key(name: &'static str) -> Key {
        ReadKey::new("op", name).erase(0)
    }

    fn within(seconds: u64) -> Deadline {
        Deadline::after(Duration::from_secs(seconds))
    }

    fn counting(
        calls: &Arc<AtomicUsize>,
        answer: Result<u32, Error>,
    ) -> impl Fn(Deadline) -> BoxFuture<'static, Result<u32, Error>> {
        let calls = Arc::clone(calls);
        move |_| {
            let (calls, answer) = (Arc::clone(&calls), answer.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                answer
            }
            .boxed()
        }
    }

    const SHARE: ReadPolicy = ReadPolicy {
        coalesce: true,
        max_age: None,
    };

    #[test]
    fn keys_are_equal_only_for_the_same_operation_arguments_and_policy() {
        let key = |operation, arguments: (String, Option<u32>), policy| {
            ReadKey::new(operation, arguments).erase(policy)
        };
        let a = key("op", ("id".to_string(), Some(3u32)), 0);
        assert_eq!(a, key("op", ("id".to_string(), Some(3u32)), 0));
        assert_ne!(a, key("other", ("id".to_string(), Some(3u32)), 0));
        assert_ne!(a, key("op", ("id".to_string(), None::<u32>), 0));
        assert_ne!(a, key("op", ("id".to_string(), Some(3u32)), 1));
        // Same values, different types: not the same question.
        assert_ne!(
            ReadKey::new("op", 1u32).erase(0),
            ReadKey::new("op", 1u64).erase(0)
        );
        // Arguments that contain a separator character stay apart.
        assert_ne!(
            ReadKey::new("op", ("a\u{1f}b".to_string(), "c".to_string())).erase(0),
            ReadKey::new("op", ("a".to_string(), "b\u{1f}c".to_string())).erase(0)
        );
    }

    #[tokio::test]
    async fn concurrent_identical_reads_share_one_request_and_its_error() {
        let reads = Arc::new(SharedReads::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        // The request is held open until every reader has joined it.
        let gate = Arc::new(tokio::sync::Notify::new());
        let readers: Vec<_> = (0..10)
            .map(|_| {
                let (reads, calls, gate) =
                    (Arc::clone(&reads), Arc::clone(&calls), Arc::clone(&gate));
                tokio::spawn(async move {
                    reads
                        .read(key("k"), SHARE, within(30), move |_| {
                            let (calls, gate) = (Arc::clone(&calls), Arc::clone(&gate));
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
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
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
        assert_eq!(
            reads.in_flight(),
            0,
            "the table is empty once the request ended"
        );
        // The error was not kept: the next read asks again.
        let (again, source) = reads
            .read(key("k"), SHARE, within(30), counting(&calls, Ok(7)))
            .await;
        assert_eq!((again.ok(), source), (Some(7), Source::Request));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_starter_leaves_the_request_to_the_others_and_the_table_empties() {
        let reads = Arc::new(SharedReads::new(8));
        let fetch = |_| {
            async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Ok::<u32, Error>(5)
            }
            .boxed()
        };
        // The starter gives up after 1 s (its own timeout, a select!, a dropped handler).
        let starter = tokio::time::timeout(
            Duration::from_secs(1),
            reads.read(key("k"), SHARE, within(30), fetch),
        );
        let joiner = {
            let reads = Arc::clone(&reads);
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                reads.read(key("k"), SHARE, within(30), fetch).await
            })
        };
        assert!(starter.await.is_err(), "the starter gave up");
        let (answer, source) = joiner.await.expect("the joiner ran");
        assert_eq!((answer.ok(), source), (Some(5), Source::Coalesced));
        assert_eq!(reads.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_starter_no_longer_polled_stalls_no_joiner() {
        // The starter runs its request itself until another caller joins; then the request
        // moves to a task of its own, so a starter that is not polled (a select! gone
        // elsewhere, a stream nobody reads) holds nobody up.
        let reads = Arc::new(SharedReads::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let fetch = {
            let calls = Arc::clone(&calls);
            move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok::<u32, Error>(6)
                }
                .boxed()
            }
        };
        let mut starter = Box::pin(reads.read(key("k"), SHARE, within(30), fetch.clone()));
        let mut context = Context::from_waker(Waker::noop());
        assert!(starter.as_mut().poll(&mut context).is_pending());
        // Never polled again until the joiner has its answer.
        let (joined, source) = tokio::time::timeout(
            Duration::from_secs(5),
            reads.read(key("k"), SHARE, within(30), fetch),
        )
        .await
        .expect("the joiner was not held up by the starter");
        assert_eq!((joined.ok(), source), (Some(6), Source::Coalesced));
        let (started, source) = starter.await;
        assert_eq!((started.ok(), source), (Some(6), Source::Request));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(reads.in_flight(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readers_that_join_leave_and_start_at_random_never_stall() {
        // Many rounds of readers of one key on four threads, some of which give up at random
        // points (the starter included): every reader that stays gets the answer, and the
        // table empties.
        let reads = Arc::new(SharedReads::new(8));
        let mut joined = 0;
        for round in 0..200u32 {
            let readers: Vec<_> = (0..8u32)
                .map(|i| {
                    let reads = Arc::clone(&reads);
                    tokio::spawn(async move {
                        let read = reads.read(key("k"), SHARE, within(30), move |_| {
                            async move {
                                for _ in 0..(round % 4) {
                                    tokio::task::yield_now().await;
                                }
                                Ok::<u32, Error>(round)
                            }
                            .boxed()
                        });
                        if (round + i) % 3 == 0 {
                            // Gives up after a few polls, or never starts waiting.
                            let _ = tokio::time::timeout(Duration::from_micros(u64::from(i)), read)
                                .await;
                            None
                        } else {
                            Some(read.await)
                        }
                    })
                })
                .collect();
            for reader in readers {
                if let Some((answer, source)) =
                    tokio::time::timeout(Duration::from_secs(10), reader)
                        .await
                        .expect("no reader stalls")
                        .expect("a reader")
                {
                    assert_eq!(answer.as_ref().ok(), Some(&round), "{answer:?} {source:?}");
                    joined += usize::from(source == Source::Coalesced);
                }
            }
        }
        // Requests handed to tasks by readers that gave up may still be landing on the other
        // threads: let them run, without waiting in real time.
        for _ in 0..100_000 {
            if reads.in_flight() == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(reads.in_flight(), 0);
        assert!(joined > 0, "some readers joined another's request");
    }

    #[tokio::test]
    async fn a_read_nobody_joins_runs_in_its_callers_task() {
        let reads = SharedReads::new(8);
        let caller = tokio::task::try_id();
        let (ran_in, source) = reads
            .read(key("k"), SHARE, within(30), move |_| {
                async move { Ok::<_, Error>(tokio::task::try_id() == caller) }.boxed()
            })
            .await;
        assert_eq!((ran_in.ok(), source), (Some(true), Source::Request));
        assert_eq!(reads.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_joiner_times_out_at_its_own_deadline_while_the_request_goes_on() {
        let reads = Arc::new(SharedReads::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = {
            let calls = Arc::clone(&calls);
            move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok::<u32, Error>(9)
                }
                .boxed()
            }
        };
        let starter = {
            let (reads, slow) = (Arc::clone(&reads), slow.clone());
            tokio::spawn(async move { reads.read(key("k"), SHARE, within(30), slow).await })
        };
        tokio::task::yield_now().await;
        let (quick, source) = reads
            .read(
                key("k"),
                SHARE,
                Deadline::after(Duration::from_millis(200)),
                slow,
            )
            .await;
        assert_eq!(source, Source::Coalesced);
        assert!(
            matches!(quick, Err(Error::Timeout { limit, .. }) if limit == Duration::from_millis(200)),
            "{quick:?}"
        );
        let (answer, _) = starter.await.expect("the starter ran");
        assert_eq!(answer.ok(), Some(9));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_joiner_with_more_time_asks_again_when_the_request_runs_out_of_its_starters() {
        let reads = Arc::new(SharedReads::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        // Each request takes 3 s; it times out at its starter's deadline, as the pipeline's.
        let fetch = {
            let calls = Arc::clone(&calls);
            move |deadline: Deadline| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    match deadline.at {
                        Some(at) if at < Instant::now() + Duration::from_secs(3) => {
                            tokio::time::sleep_until(at).await;
                            Err(deadline.timeout(None))
                        }
                        _ => {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            Ok::<u32, Error>(4)
                        }
                    }
                }
                .boxed()
            }
        };
        let hurried = {
            let (reads, fetch) = (Arc::clone(&reads), fetch.clone());
            tokio::spawn(async move {
                reads
                    .read(
                        key("k"),
                        SHARE,
                        Deadline::after(Duration::from_secs(1)),
                        fetch,
                    )
                    .await
            })
        };
        tokio::task::yield_now().await;
        let (patient, source) = reads.read(key("k"), SHARE, within(30), fetch).await;
        let (hurried, _) = hurried.await.expect("ran");
        assert!(matches!(hurried, Err(Error::Timeout { .. })), "{hurried:?}");
        assert_eq!((patient.ok(), source), (Some(4), Source::Request));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_panic_in_the_request_is_an_error_for_its_waiters_and_poisons_nothing() {
        let reads = Arc::new(SharedReads::new(8));
        let panicking = |_| -> BoxFuture<'static, Result<u32, Error>> {
            async {
                tokio::task::yield_now().await;
                panic!("the request panicked")
            }
            .boxed()
        };
        let (first, _) = reads.read(key("k"), SHARE, within(30), panicking).await;
        assert!(matches!(first, Err(Error::Custom { .. })), "{first:?}");
        assert_eq!(reads.in_flight(), 0);
        let calls = Arc::new(AtomicUsize::new(0));
        let (again, source) = reads
            .read(key("k"), SHARE, within(30), counting(&calls, Ok(1)))
            .await;
        assert_eq!((again.ok(), source), (Some(1), Source::Request));
    }

    #[tokio::test]
    async fn different_retry_policies_do_not_share_a_request() {
        let reads = Arc::new(SharedReads::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let gated = {
            let (calls, gate) = (Arc::clone(&calls), Arc::clone(&gate));
            move |_| {
                let (calls, gate) = (Arc::clone(&calls), Arc::clone(&gate));
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Ok::<u32, Error>(1)
                }
                .boxed()
            }
        };
        let a = {
            let (reads, gated) = (Arc::clone(&reads), gated.clone());
            tokio::spawn(async move { reads.read(key("k"), SHARE, within(30), gated).await })
        };
        let b = {
            let (reads, gated) = (Arc::clone(&reads), gated.clone());
            tokio::spawn(async move {
                reads
                    .read(ReadKey::new("op", "k").erase(7), SHARE, within(30), gated)
                    .await
            })
        };
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        gate.notify_waiters();
        assert_eq!(a.await.expect("a").1, Source::Request);
        assert_eq!(b.await.expect("b").1, Source::Request);
    }

    #[tokio::test]
    async fn coalescing_off_sends_each_read() {
        let reads = SharedReads::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let policy = ReadPolicy {
            coalesce: false,
            max_age: None,
        };
        let fetches =
            (0..3).map(|_| reads.read(key("k"), policy, within(30), counting(&calls, Ok(1))));
        futures_util::future::join_all(fetches).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_recent_answer_is_reused_within_max_age_only() {
        let reads = SharedReads::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let fresh = ReadPolicy {
            coalesce: true,
            max_age: Some(Duration::from_secs(5)),
        };
        let (first, _) = reads
            .read(key("k"), fresh, within(30), counting(&calls, Ok(1)))
            .await;
        tokio::time::advance(Duration::from_secs(4)).await;
        let (second, source) = reads
            .read(key("k"), fresh, within(30), counting(&calls, Ok(2)))
            .await;
        assert_eq!(
            (first.ok(), second.ok(), source),
            (Some(1), Some(1), Source::Cache)
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        let (third, source) = reads
            .read(key("k"), fresh, within(30), counting(&calls, Ok(3)))
            .await;
        assert_eq!((third.ok(), source), (Some(3), Source::Request));
        // Without max_age the cache is not read.
        let (fourth, _) = reads
            .read(key("k"), SHARE, within(30), counting(&calls, Ok(4)))
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
        let reads = SharedReads::new(4);
        let fresh = ReadPolicy {
            coalesce: true,
            max_age: Some(Duration::from_secs(60)),
        };
        let calls = Arc::new(AtomicUsize::new(0));
        for i in 0..100u32 {
            let _ = reads
                .read(
                    ReadKey::new("op", i).erase(0),
                    fresh,
                    within(30),
                    counting(&calls, Ok(i)),
                )
                .await;
        }
        assert!(reads.cache.len() <= 4, "{}", reads.cache.len());
    }
}
