//! Staying inside DingTalk's budget: a rate limit per API that makes callers wait instead of
//! being refused, and a pause of an API after a throttling answer that got through anyway.
//!
//! DingTalk allows about 20 calls per second per app per API and answers 403
//! `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` beyond that. The limiter is governor's
//! GCRA (the ecosystem's standard rate limiter), one per API (`operationId`), shared by every
//! clone of a client; the wait is asynchronous and bounded by the call's deadline.

pub(crate) mod month;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use governor::Quota;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};

/// Governor's clock on Tokio's time: the limiter runs on the same clock as every other wait,
/// so a test that pauses time pauses the limiter too. Its instants are the time since the
/// lane was made.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: tokio::time::Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

type Limiter = governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

use crate::Error;

/// DingTalk's documented limit: calls per second, per app, per API.
pub const DINGTALK_CALLS_PER_SECOND: u32 = 20;

/// DingTalk's limit per egress IP, over all apps and APIs: this many calls in any
/// [`DINGTALK_IP_WINDOW`], past which the IP is banned for 5 minutes. A fleet on Redis shares
/// it (`RedisStore::with_ip_limit`); one process, at 20 calls/s per API, stays far below it.
pub const DINGTALK_CALLS_PER_IP: NonZeroU32 = NonZeroU32::new(10_000).expect("not zero");

/// The window of [`DINGTALK_CALLS_PER_IP`]: 20 seconds, sliding.
pub const DINGTALK_IP_WINDOW: Duration = Duration::from_secs(20);

/// How long an API pauses after a throttling answer, as DingTalk advises (1 s), unless the
/// answer asked for longer (`Retry-After`).
pub const PAUSE_AFTER_THROTTLING: Duration = Duration::from_secs(1);

/// How many calls per second the client sends, per API (`operationId`).
///
/// The default is DingTalk's own limit, [`DINGTALK_CALLS_PER_SECOND`] for every API. Callers
/// over the budget wait (asynchronously, within their call's deadline) instead of being
/// refused. The budget is per client: clones share it; separate clients (or processes) with
/// the same app do not, so give each a share of the 20 calls/s.
///
/// ```
/// use dingtalk_conference::RateLimit;
///
/// // Half of DingTalk's budget for this process, and 2/s for the batch query.
/// let limit = RateLimit::per_second(10).for_operation("queryConferenceInfoBatch", 2);
/// // One 50th of it, for each of 50 processes while their shared budget is away: 24 calls a
/// // minute, one every 2.5 s.
/// let share = RateLimit::per_minute(20 * 60 / 50);
/// # let _ = (limit, share);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RateLimit {
    /// The time between two calls; `None`: no limit.
    default: Option<Duration>,
    per_operation: HashMap<String, Option<Duration>>,
}

/// The time between two of `calls` evenly spaced over `per`; `None` for zero calls.
fn interval(calls: u32, per: Duration) -> Option<Duration> {
    let calls = NonZeroU32::new(calls)?;
    Some((per / calls.get()).max(Duration::from_nanos(1)))
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::per_second(DINGTALK_CALLS_PER_SECOND)
    }
}

impl RateLimit {
    /// `calls` per second for every API; zero means no limit.
    pub fn per_second(calls: u32) -> Self {
        Self {
            default: interval(calls, Duration::from_secs(1)),
            per_operation: HashMap::new(),
        }
    }

    /// `calls` per minute for every API, evenly spaced: for a share of DingTalk's budget
    /// smaller than one call per second (zero means no limit).
    pub fn per_minute(calls: u32) -> Self {
        Self {
            default: interval(calls, Duration::from_secs(60)),
            per_operation: HashMap::new(),
        }
    }

    /// No limit at all: every call is sent at once (DingTalk may then refuse some), and a
    /// throttling answer pauses nothing.
    pub fn none() -> Self {
        Self::per_second(0)
    }

    /// `calls` per second for one API, by its `operationId` (zero: no limit for it).
    pub fn for_operation(mut self, operation_id: impl Into<String>, calls: u32) -> Self {
        self.per_operation
            .insert(operation_id.into(), interval(calls, Duration::from_secs(1)));
        self
    }

    /// The time between two calls of `operation_id` (50 ms for 20 calls/s); `None` for no
    /// limit.
    pub fn interval(&self, operation_id: &str) -> Option<Duration> {
        self.per_operation
            .get(operation_id)
            .copied()
            .unwrap_or(self.default)
    }

    /// The calls per second for `operation_id` (below 1 for a limit per minute); `None` for
    /// no limit.
    pub fn calls_per_second(&self, operation_id: &str) -> Option<f64> {
        self.interval(operation_id)
            .map(|interval| 1.0 / interval.as_secs_f64())
    }
}

/// What a shared budget answered to a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
// Only the fleet on Redis (feature `redis`) makes reservations.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Reservation {
    /// Reserved: send after `wait`; for `keep_to_share` from now (the shared budget's keys
    /// were just taken over by another node, a failover), keep to this client's own share too.
    Granted {
        wait: Duration,
        keep_to_share: Duration,
    },
    /// The API's next slot is further than the longest wait asked for; nothing reserved.
    Later(Duration),
    /// The egress IP's window has no slot within the longest wait asked for: the call must
    /// not be sent ([`Error::IpWindowFull`]).
    IpWindowFull {
        /// The egress, as named with `RedisStore::with_egress`.
        egress: String,
        /// How long until the window's next slot.
        retry_after: Duration,
    },
}

/// A rate budget shared beyond this client (a fleet's, on Redis): the alternative backend of
/// the per-API limiter. The client's own limiter takes over whenever it cannot answer.
pub(crate) trait SharedRate: Send + Sync + fmt::Debug {
    /// Reserves one call of `operation_id`, `interval` after the previous one, waiting at most
    /// `max_wait` (the time left to the caller's deadline); `None` when the shared budget
    /// cannot be reached.
    fn reserve<'a>(
        &'a self,
        operation_id: &'static str,
        interval: Duration,
        max_wait: Duration,
    ) -> BoxFuture<'a, Option<Reservation>>;

    /// How many times longer the interval between two calls is while this client goes on
    /// alone, the shared budget unreachable: the fleet's size when last seen (at least 1), so
    /// that the fleet together stays within the budget through an outage.
    fn share_when_alone(&self) -> f64;
}

/// How long after the shared budget was last unreachable a client back on it still keeps to
/// its own share too. A member tries Redis again a second after its own last failure, and the
/// others' last failures may come a second or so after this one's (a cluster's members learn
/// a failover's new master one by one): by then every member that went alone is back. The
/// fleet loses nothing meanwhile, as long as its members are about equally busy: their shares
/// add up to the budget.
pub(crate) const BACK_FROM_ALONE: Duration = Duration::from_secs(3);

/// The longest a caller sleeps at once for a slot too far to reserve, before asking again.
const SHARED_RECHECK: Duration = Duration::from_secs(1);

/// One API's limiter, and the queue of callers waiting for it.
#[derive(Debug)]
struct Lane {
    /// The interval the limiter keeps (the fleet's size may change it).
    period: Duration,
    limiter: Limiter,
    clock: TokioClock,
    /// Held by the caller whose turn it is while it waits for the limiter. Tokio's mutex is
    /// fair (first come, first served), so waiting callers are served in arrival order and
    /// none starves past its deadline while later callers go first.
    turn: tokio::sync::Mutex<()>,
}

/// FNV-1a, for the maps keyed by `operationId`: a handful of short, fixed names looked up on
/// every call, where SipHash (the default, resistant to chosen keys, which these are not)
/// cost more than the rest of the lookup.
#[derive(Debug, Clone, Copy)]
struct OperationHasher(u64);

impl Default for OperationHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for OperationHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type ByOperation<V> = HashMap<&'static str, V, BuildHasherDefault<OperationHasher>>;

/// The client's rate limiters and pauses, one per API.
#[derive(Debug)]
pub(crate) struct Limits {
    config: RateLimit,
    lanes: Mutex<ByOperation<Arc<Lane>>>,
    paused_until: Mutex<ByOperation<tokio::time::Instant>>,
    /// Whether any API was ever paused: until then, no caller looks for a pause.
    any_paused: AtomicBool,
    /// The fleet's budget, if shared; each caller reserves no further than its own deadline.
    shared: Option<Box<dyn SharedRate>>,
    /// This client's own budget while the shared one is unreachable (default: `config`).
    alone: Option<RateLimit>,
    /// Per API, the latest slot the shared budget granted this client: going on alone, the
    /// client's first call comes one of its own intervals after it, not at once beside the
    /// calls still waiting for their shared slots (which would overrun the budget at the
    /// switch, when Redis or a cluster's master fails).
    shared_until: Mutex<ByOperation<tokio::time::Instant>>,
    /// Per API, until when a call granted a shared slot also keeps to this client's own
    /// limiter: [`BACK_FROM_ALONE`] after the shared budget last could not be reached, since
    /// other members may still be going alone (each tries the shared budget again on its own
    /// time), and one back on the shared budget could otherwise take all of it beside them;
    /// or as long as the shared budget says after a failover it saw (a member that never saw
    /// the failure itself must not take all of it beside the others going alone either).
    keep_to_share_until: Mutex<ByOperation<tokio::time::Instant>>,
    /// Per API, when the shared budget last could not be reached. Within [`SHARED_RECHECK`]
    /// of it the budget is taken for down: a call's own turn comes after its attempt at the
    /// shared budget, which may wait out Redis's timeout, so that the call is not sent that
    /// long after its turn.
    unreachable_at: Mutex<ByOperation<tokio::time::Instant>>,
}

impl Limits {
    pub(crate) fn new(config: RateLimit) -> Self {
        Self {
            config,
            lanes: Mutex::new(ByOperation::default()),
            paused_until: Mutex::new(ByOperation::default()),
            any_paused: AtomicBool::new(false),
            shared: None,
            alone: None,
            shared_until: Mutex::new(ByOperation::default()),
            keep_to_share_until: Mutex::new(ByOperation::default()),
            unreachable_at: Mutex::new(ByOperation::default()),
        }
    }

    /// While the shared budget is unreachable, this client keeps to `alone` (its share of the
    /// fleet's budget) instead of the whole budget.
    pub(crate) fn with_budget_alone(mut self, alone: Option<RateLimit>) -> Self {
        self.alone = alone;
        self
    }

    /// Limits whose budget is `shared` with other clients while it answers; a reservation
    /// further away than the caller's deadline is not made.
    pub(crate) fn with_shared(mut self, shared: Box<dyn SharedRate>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The interval this client's own limiter keeps for `operation_id`.
    fn own_period(&self, operation_id: &'static str) -> Option<Duration> {
        Some(match (&self.alone, &self.shared) {
            (Some(alone), _) => alone.interval(operation_id)?,
            // Without a share set, a fleet member alone keeps to the fleet's budget divided
            // by the fleet's size when last seen.
            (None, Some(shared)) => self
                .config
                .interval(operation_id)?
                .mul_f64(shared.share_when_alone().max(1.0)),
            (None, None) => self.config.interval(operation_id)?,
        })
    }

    fn lane(&self, operation_id: &'static str) -> Option<Arc<Lane>> {
        let period = self.own_period(operation_id)?;
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        match lanes.get(operation_id) {
            Some(lane) if lane.period == period => return Some(Arc::clone(lane)),
            Some(_) => {
                lanes.remove(operation_id);
            }
            None => {}
        }
        Some(Arc::clone(lanes.entry(operation_id).or_insert_with(|| {
            if self.shared.is_some() {
                tracing::info!(
                    operation_id,
                    interval_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
                    "the fleet's rate budget is unreachable; this client keeps to its share alone"
                );
            }
            // Evenly spaced, no burst: 20/s is one call every 50 ms, so no window of one
            // second (DingTalk counts whole seconds) ever holds more than 20. A burst of a
            // second's budget would let up to 39 through across a second boundary.
            let quota = Quota::with_period(period)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                .allow_burst(NonZeroU32::MIN);
            let clock = TokioClock {
                origin: tokio::time::Instant::now(),
            };
            Arc::new(Lane {
                period,
                limiter: governor::RateLimiter::direct_with_clock(quota, clock.clone()),
                clock,
                turn: tokio::sync::Mutex::new(()),
            })
        })))
    }

    fn pause_of(&self, operation_id: &'static str) -> Option<tokio::time::Instant> {
        if !self.any_paused.load(Ordering::Acquire) {
            return None;
        }
        self.paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation_id)
            .copied()
            .filter(|until| *until > tokio::time::Instant::now())
    }

    /// Takes `operation_id`'s slot if [`Self::acquire`] would grant it without waiting: no
    /// shared budget, no pause, nobody queued for the turn, and the limiter's slot free now.
    /// `false` takes nothing; the caller then goes through [`Self::acquire`]. Spares a call
    /// that is not held back the future and the clock reads of a wait.
    pub(crate) fn acquire_at_once(&self, operation_id: &'static str) -> bool {
        if self.shared.is_some() || self.pause_of(operation_id).is_some() {
            return false;
        }
        match self.lane(operation_id) {
            None => true,
            Some(lane) => match lane.turn.try_lock() {
                // The turn is released at once: the slot is taken or nothing is.
                Ok(_turn) => lane.limiter.check().is_ok(),
                Err(_) => false,
            },
        }
    }

    /// Waits until `operation_id` may send one request: past any pause, then within its rate,
    /// callers in arrival order. Returns how long it waited (zero when it did not wait).
    ///
    /// A shared budget reserves no slot further away than `deadline` (the caller's; `None`:
    /// none), so that no slot is taken for a call that would be dead by then.
    ///
    /// # Errors
    ///
    /// [`Error::IpWindowFull`] when the fleet's egress IP window has no slot before
    /// `deadline`: the call must not be sent.
    pub(crate) async fn acquire(
        &self,
        operation_id: &'static str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Duration, Error> {
        // When the caller started waiting: read from the clock only before a wait, so that a
        // caller that never waits never reads it.
        let mut started = None;
        let mut waited = false;
        // The fleet's shared budget first, while it answers.
        if let (Some(shared), Some(interval)) = (&self.shared, self.config.interval(operation_id)) {
            let since = *started.get_or_insert_with(tokio::time::Instant::now);
            // Known to keep to its own share too (other members may still be going alone):
            // this client's own turn first, then the shared slot, so that the call goes out at
            // its shared slot, the time the shared budget counts it at. Taken the other way
            // round, calls would go out after their slots, and those slots, already counted as
            // spent, would be granted to nobody while the late calls went out beside the next.
            let mut own_turn_taken =
                self.keeps_to_share(operation_id) && !self.lately_unreachable(operation_id);
            if own_turn_taken {
                self.own_turn(operation_id, &mut started, &mut waited).await;
            }
            loop {
                if let Some(until) = self.pause_of(operation_id) {
                    waited = true;
                    tokio::time::sleep_until(until).await;
                    continue;
                }
                let max_wait = deadline.map_or(Duration::MAX, |deadline| {
                    deadline.saturating_duration_since(tokio::time::Instant::now())
                });
                match shared.reserve(operation_id, interval, max_wait).await {
                    Some(Reservation::Granted {
                        wait,
                        keep_to_share,
                    }) => {
                        let now = tokio::time::Instant::now();
                        let slot = now + wait;
                        self.granted_shared(operation_id, slot);
                        if !keep_to_share.is_zero() {
                            self.keep_to_share(operation_id, now, keep_to_share);
                        }
                        if !own_turn_taken && self.keeps_to_share(operation_id) {
                            // Told just now to keep to its share (or back from going alone):
                            // its own turn first, then a slot after it. This one goes unused,
                            // counted but never sent: one slot lost at the switch, where a call
                            // sent after it would go out beside the next.
                            self.own_turn(operation_id, &mut started, &mut waited).await;
                            own_turn_taken = true;
                            waited = true;
                            continue;
                        }
                        tokio::time::sleep_until(slot).await;
                        return Ok(since.elapsed());
                    }
                    Some(Reservation::Later(wait)) => {
                        tokio::time::sleep(wait.min(SHARED_RECHECK)).await;
                    }
                    Some(Reservation::IpWindowFull {
                        egress,
                        retry_after,
                    }) => {
                        return Err(Error::IpWindowFull {
                            egress,
                            retry_after,
                        });
                    }
                    // The shared budget is unreachable: this client's own limiter decides.
                    None => {
                        let now = tokio::time::Instant::now();
                        self.keep_to_share(operation_id, now, BACK_FROM_ALONE);
                        self.unreachable_at
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(operation_id, now);
                        if own_turn_taken {
                            return Ok(since.elapsed());
                        }
                        break;
                    }
                }
            }
        }
        self.own_turn(operation_id, &mut started, &mut waited).await;
        Ok(match started {
            Some(started) if waited || started.elapsed() >= Duration::from_millis(1) => {
                started.elapsed()
            }
            _ => Duration::ZERO,
        })
    }

    /// Whether `operation_id`'s calls keep to this client's own limiter as well as the shared
    /// budget just now.
    fn keeps_to_share(&self, operation_id: &'static str) -> bool {
        self.keep_to_share_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation_id)
            .is_some_and(|until| *until > tokio::time::Instant::now())
    }

    /// Whether the shared budget could not be reached for `operation_id` within the last
    /// [`SHARED_RECHECK`]: it is taken for down until then.
    fn lately_unreachable(&self, operation_id: &'static str) -> bool {
        self.unreachable_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation_id)
            .is_some_and(|at| at.elapsed() < SHARED_RECHECK)
    }

    /// Waits for `operation_id`'s turn on this client's own limiter: past any pause, callers
    /// in arrival order, and (gone alone from a shared budget) not before this client's last
    /// shared slot and one of its own intervals. Notes in `started` when it began waiting and
    /// in `waited` whether it did.
    async fn own_turn(
        &self,
        operation_id: &'static str,
        started: &mut Option<tokio::time::Instant>,
        waited: &mut bool,
    ) {
        let lane = self.lane(operation_id);
        let _turn = match &lane {
            // Free at once only when nobody is queued (Tokio's mutex hands a released turn
            // to the first waiter), so taking it without queueing keeps the arrival order.
            Some(lane) => Some(match lane.turn.try_lock() {
                Ok(turn) => turn,
                Err(_) => {
                    started.get_or_insert_with(tokio::time::Instant::now);
                    lane.turn.lock().await
                }
            }),
            None => None,
        };
        loop {
            if let Some(until) = self.pause_of(operation_id) {
                *waited = true;
                started.get_or_insert_with(tokio::time::Instant::now);
                tokio::time::sleep_until(until).await;
                continue;
            }
            let Some(lane) = &lane else {
                break;
            };
            // Gone alone from a shared budget: not before this client's last shared slot and
            // one of its own intervals.
            if self.shared.is_some() {
                let not_before = self
                    .shared_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(operation_id)
                    .map(|slot| *slot + lane.period)
                    .filter(|at| *at > tokio::time::Instant::now());
                if let Some(at) = not_before {
                    *waited = true;
                    started.get_or_insert_with(tokio::time::Instant::now);
                    tokio::time::sleep_until(at).await;
                    continue;
                }
            }
            match lane.limiter.check() {
                Ok(()) => break,
                Err(not_until) => {
                    *waited = true;
                    let now = lane.clock.now();
                    started.get_or_insert_with(tokio::time::Instant::now);
                    let wait = not_until.wait_time_from(now);
                    tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                }
            }
        }
    }

    /// Keeps `operation_id`'s calls to this client's own limiter too, for `period` from `now`.
    fn keep_to_share(
        &self,
        operation_id: &'static str,
        now: tokio::time::Instant,
        period: Duration,
    ) {
        let Some(until) = now.checked_add(period) else {
            return;
        };
        let mut keep = self
            .keep_to_share_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let latest = keep.entry(operation_id).or_insert(until);
        *latest = (*latest).max(until);
    }

    /// Notes a slot of the shared budget granted to this client for `operation_id`.
    fn granted_shared(&self, operation_id: &'static str, slot: tokio::time::Instant) {
        let mut until = self
            .shared_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let latest = until.entry(operation_id).or_insert(slot);
        *latest = (*latest).max(slot);
    }

    /// After a throttling answer: no request of `operation_id` for `pause`, from any caller.
    /// An API without a limit has no budget to pause.
    pub(crate) fn pause(&self, operation_id: &'static str, pause: Duration) {
        if self.config.interval(operation_id).is_none() {
            return;
        }
        let Some(until) = tokio::time::Instant::now().checked_add(pause) else {
            return;
        };
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = paused.entry(operation_id).or_insert(until);
        if *entry < until {
            *entry = until;
        }
        self.any_paused.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn acquired(limits: &Limits, operation_id: &'static str) -> Duration {
        limits
            .acquire(operation_id, None)
            .await
            .expect("no shared budget")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_waiting_for_the_limit_take_turns() {
        // Four callers share 10 calls/s for 40 calls, each calling again as soon as it got
        // through. In line, each gets about a quarter; racing for each slot, some got half
        // again as many as others, and one waited 10 s.
        let limits = Arc::new(Limits::new(RateLimit::per_second(10)));
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let (limits, taken) = (Arc::clone(&limits), Arc::clone(&taken));
                tokio::spawn(async move {
                    let mut mine = 0usize;
                    loop {
                        limits.acquire("op", None).await.expect("no shared budget");
                        if taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 40 {
                            return mine;
                        }
                        mine += 1;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let mut counts = Vec::new();
        for caller in callers {
            counts.push(caller.await.expect("caller ran"));
        }
        let (fewest, most) = (
            counts.iter().min().copied().unwrap_or(0),
            counts.iter().max().copied().unwrap_or(0),
        );
        assert!(most - fewest <= 3, "{counts:?}");
    }

    /// A shared budget in memory, on Tokio's clock: slots `interval` apart, every grant saying
    /// "keep to your own share too" (as after a failover), each granted slot noted. What this
    /// tests is the limiter's order of its two limits; the Redis scripts behind the real
    /// budget are tested against real Redis servers and a real cluster (tests/facade).
    #[derive(Debug, Default)]
    struct CautiousBudget {
        next: Mutex<Option<tokio::time::Instant>>,
        granted: Mutex<Vec<tokio::time::Instant>>,
    }

    impl SharedRate for Arc<CautiousBudget> {
        fn reserve<'a>(
            &'a self,
            _operation_id: &'static str,
            interval: Duration,
            _max_wait: Duration,
        ) -> BoxFuture<'a, Option<Reservation>> {
            Box::pin(async move {
                let now = tokio::time::Instant::now();
                let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
                let slot = next.map_or(now, |next| next.max(now));
                *next = Some(slot + interval);
                self.granted
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(slot);
                Some(Reservation::Granted {
                    wait: slot - now,
                    keep_to_share: Duration::from_secs(60),
                })
            })
        }

        fn share_when_alone(&self) -> f64 {
            4.0
        }
    }

    #[tokio::test(start_paused = true)]
    async fn keeping_to_its_share_a_call_goes_out_at_its_shared_slot_not_after_it() {
        // After a failover each member keeps to its own share (here a quarter of the budget)
        // as well as the shared slot. The shared budget counts each call at the slot it
        // granted; a call sent later than that goes out beside the next slots' calls, and
        // DingTalk counts both. Taking the shared slot first and the own turn after, the
        // calls of 4 callers went out 150 ms and more after their slots.
        let budget = Arc::new(CautiousBudget::default());
        let limits = Arc::new(
            Limits::new(RateLimit::per_second(20)).with_shared(Box::new(Arc::clone(&budget))),
        );
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let limits = Arc::clone(&limits);
                tokio::spawn(async move {
                    let mut sent = Vec::new();
                    for _ in 0..5 {
                        limits.acquire("op", None).await.expect("a slot");
                        sent.push(tokio::time::Instant::now());
                    }
                    sent
                })
            })
            .collect();
        let mut sent = Vec::new();
        for caller in callers {
            sent.extend(caller.await.expect("caller ran"));
        }
        let granted = budget
            .granted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // Every call went out at a slot granted to it: none sent late.
        for at in &sent {
            assert!(
                granted.contains(at),
                "a call went out {:?} after the last slot before it",
                granted
                    .iter()
                    .filter(|slot| *slot <= at)
                    .map(|slot| *at - *slot)
                    .min()
            );
        }
        assert_eq!(sent.len(), 20);
        // One slot per call, and at most one unused per caller: the slot of its first call,
        // granted before it knew to keep to its share.
        assert!((20..=24).contains(&granted.len()), "{}", granted.len());
        // And the own share held: 20 calls at a quarter of 20/s take about 4 s, not 1 s.
        let (first, last) = (sent.iter().min(), sent.iter().max());
        if let (Some(first), Some(last)) = (first, last) {
            assert!(
                *last - *first >= Duration::from_millis(3_700),
                "{:?}",
                *last - *first
            );
        }
    }

    #[test]
    fn the_default_is_dingtalks_limit_for_every_api_and_each_can_be_set() {
        let limit = RateLimit::default();
        assert_eq!(limit.calls_per_second("queryConferenceInfo"), Some(20.0));
        assert_eq!(
            limit.interval("queryConferenceInfo"),
            Some(Duration::from_millis(50))
        );
        let limit = RateLimit::per_second(10)
            .for_operation("queryConferenceInfoBatch", 2)
            .for_operation("queryConferenceMembers", 0);
        assert_eq!(limit.calls_per_second("queryConferenceInfo"), Some(10.0));
        assert_eq!(
            limit.calls_per_second("queryConferenceInfoBatch"),
            Some(2.0)
        );
        assert_eq!(limit.calls_per_second("queryConferenceMembers"), None);
        assert_eq!(
            RateLimit::none().calls_per_second("queryConferenceInfo"),
            None
        );
        assert_eq!(RateLimit::per_minute(0), RateLimit::none());
        // A share below one call per second: 12 a minute, one every 5 s.
        assert_eq!(
            RateLimit::per_minute(12).interval("queryConferenceInfo"),
            Some(Duration::from_secs(5))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_evenly_with_no_burst_and_each_api_has_its_own_budget() {
        let limits = Limits::new(RateLimit::per_second(5));
        let lane = limits.lane("op").expect("limited");
        let passed = (0..5).filter(|_| lane.limiter.check().is_ok()).count();
        assert_eq!(
            passed, 1,
            "one call, then the next a fifth of a second later"
        );
        // The next caller waits for the limiter; that it waited at all is asserted, never
        // how long.
        assert!(acquired(&limits, "op").await > Duration::ZERO);
        // Another API has its own budget; a caller that does not wait reports no wait.
        assert_eq!(acquired(&limits, "other").await, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_callers_are_served_in_arrival_order() {
        let limits = Arc::new(Limits::new(RateLimit::per_second(50)));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut callers = Vec::new();
        for i in 0..20 {
            let (limits, order) = (Arc::clone(&limits), Arc::clone(&order));
            callers.push(tokio::spawn(async move {
                limits.acquire("op", None).await.expect("no shared budget");
                order.lock().unwrap_or_else(PoisonError::into_inner).push(i);
            }));
            // Each caller queues before the next one arrives.
            tokio::task::yield_now().await;
        }
        for caller in callers {
            caller.await.expect("a caller");
        }
        let order = order.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_is_taken_at_once_only_when_free_with_nobody_waiting_and_no_pause() {
        let limits = Arc::new(Limits::new(RateLimit::per_second(20)));
        assert!(limits.acquire_at_once("op"), "the first slot is free");
        // The next slot is 50 ms away: nothing is taken, so the waiting path gets it then.
        assert!(!limits.acquire_at_once("op"));
        let waiter = {
            let limits = Arc::clone(&limits);
            tokio::spawn(async move { limits.acquire("op", None).await })
        };
        tokio::task::yield_now().await;
        // Past the slot, but the waiter (queued first) has not taken it yet: a call arriving
        // now must not go before it.
        tokio::time::advance(Duration::from_millis(60)).await;
        assert!(
            !limits.acquire_at_once("op"),
            "went ahead of a waiting caller"
        );
        let waited = waiter.await.expect("the waiter").expect("no shared budget");
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        // Another API has its own slot; a pause holds this one's.
        assert!(limits.acquire_at_once("other"));
        tokio::time::advance(Duration::from_millis(60)).await;
        limits.pause("op", Duration::from_secs(1));
        assert!(!limits.acquire_at_once("op"));
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(
            limits.acquire_at_once("op"),
            "free again once the pause is over"
        );
        // Without a limit every call is admitted at once.
        assert!(Limits::new(RateLimit::none()).acquire_at_once("op"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_keeps_tokios_time_so_tests_can_pause_it() {
        // Five calls at 10/s: the first at once, then one every 100 ms of Tokio's (paused)
        // time. On the system clock the limiter would have seen no time pass while Tokio's
        // sleeps ran ahead, and waited far longer in Tokio's time.
        let limits = Limits::new(RateLimit::per_second(10));
        let started = tokio::time::Instant::now();
        for _ in 0..5 {
            limits.acquire("op", None).await.expect("no shared budget");
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(410),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_caller_of_that_api_only() {
        let limits = Limits::new(RateLimit::per_second(1000).for_operation("unlimited", 0));
        limits.pause("op", Duration::from_secs(1));
        let waited = limits.acquire("op", None).await.expect("no shared budget");
        assert!(waited >= Duration::from_secs(1), "{waited:?}");
        assert_eq!(acquired(&limits, "other").await, Duration::ZERO);
        // A shorter pause does not shorten a longer one.
        limits.pause("op", Duration::from_secs(5));
        limits.pause("op", Duration::from_secs(1));
        assert!(acquired(&limits, "op").await >= Duration::from_secs(5));
        // An API without a limit is never paused.
        limits.pause("unlimited", Duration::from_secs(1));
        assert_eq!(acquired(&limits, "unlimited").await, Duration::ZERO);
    }
}
