//! Where a client's events meet its waits: the Stream runner (and, with `redis`, the fleet's
//! shared stream) deliver each event here once; the waits subscribe.
//!
//! - **Once.** [`Hub::deliver`] drops an event whose `eventId` it saw among the last
//!   [`DEDUPE_WINDOW`] ids: DingTalk redelivers even after an ACK, and a fleet hears an event
//!   both from the gateway and from its shared stream.
//! - **Connected or not.** The runner calls [`Hub::connection_opened`] /
//!   [`Hub::connection_closed`] per WebSocket (two may be open at once during a
//!   make-before-break); a wait uses events only while [`Hub::is_connected`], and polls once
//!   on every [`Signal::Connected`] to reconcile what it may have missed.
//! - **Never blocks a sender.** Signals go through a bounded broadcast channel; a subscriber
//!   that falls behind gets `Lagged` and must reconcile by polling, as after a reconnection.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::broadcast;

use super::Event;

/// How many recent `eventId`s the hub remembers to drop duplicates.
pub(crate) const DEDUPE_WINDOW: usize = 4096;

/// The longest `eventId` taken from the network, in bytes. DingTalk's are 32 characters; the
/// windows above keep thousands of ids, so a longer one (a broken or hostile peer) is refused
/// rather than remembered.
pub(crate) const MAX_EVENT_ID_BYTES: usize = 256;

/// How many signals a subscriber may fall behind before it lags.
const CHANNEL_CAPACITY: usize = 1024;

/// What the hub tells its subscribers.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    /// An event seen for the first time.
    Event(Arc<Event>),
    /// A connection opened (the first, or a new one after a loss): anything may have
    /// happened while none was.
    Connected,
    /// The last open connection closed: events stop until the next [`Signal::Connected`].
    Disconnected,
}

/// Where an event reached this process from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// This client's own connection to DingTalk's gateway.
    Gateway,
    /// Another member of the fleet, through the shared stream (feature `redis`).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Fleet,
}

/// Called once for each fresh event that came from this client's own gateway connection: a
/// fleet publishes it for its other members.
pub(crate) type Forwarder = Box<dyn Fn(&Arc<Event>) + Send + Sync>;

/// One client's event hub (cheap when no stream ever runs: nobody sends, nobody listens).
pub(crate) struct Hub {
    signals: broadcast::Sender<Signal>,
    open: AtomicUsize,
    /// `eventId`s handed to the application (the Stream runner's check).
    handled: Mutex<Seen>,
    /// `eventId`s handed to the waits.
    delivered: Mutex<Seen>,
    /// Set once by a fleet ([`Hub::set_forwarder`]).
    forwarder: OnceLock<Forwarder>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("open", &self.open)
            .field("forwarding", &self.forwarder.get().is_some())
            .finish_non_exhaustive()
    }
}

/// A bounded set of recent ids, at most `N`, the oldest forgotten first: the hub's windows of
/// ids handed over and delivered, and the runner's of ids answered `LATER`.
#[derive(Debug)]
pub(crate) struct RecentIds<const N: usize> {
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl<const N: usize> Default for RecentIds<N> {
    fn default() -> Self {
        Self {
            order: VecDeque::new(),
            ids: HashSet::new(),
        }
    }
}

impl<const N: usize> RecentIds<N> {
    /// Adds `id` (nothing if it is there already); the id forgotten to make room, if any.
    pub(crate) fn insert(&mut self, id: &str) -> Option<String> {
        if !self.ids.insert(id.to_owned()) {
            return None;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > N {
            let oldest = self.order.pop_front()?;
            self.ids.remove(&oldest);
            return Some(oldest);
        }
        None
    }

    /// Records `id`; `false` when it was among the window already.
    fn first_time(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        self.insert(id);
        true
    }

    /// Forgets `id`; `false` if it was not there. It counts as new when it comes again.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        if self.ids.remove(id) {
            self.order.retain(|kept| kept != id);
            true
        } else {
            false
        }
    }
}

type Seen = RecentIds<DEDUPE_WINDOW>;

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub(crate) fn new() -> Self {
        let (signals, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            signals,
            open: AtomicUsize::new(0),
            handled: Mutex::new(Seen::default()),
            delivered: Mutex::new(Seen::default()),
            forwarder: OnceLock::new(),
        }
    }

    /// Subscribes to every signal from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    /// Whether at least one connection is open now.
    pub(crate) fn is_connected(&self) -> bool {
        self.open.load(Ordering::Acquire) > 0
    }

    /// A connection is open and receiving.
    pub(crate) fn connection_opened(&self) {
        self.open.fetch_add(1, Ordering::AcqRel);
        let _ = self.signals.send(Signal::Connected);
    }

    /// A connection that [`Hub::connection_opened`] announced has closed.
    pub(crate) fn connection_closed(&self) {
        let was = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                Some(open.saturating_sub(1))
            })
            .unwrap_or(0);
        if was == 1 {
            let _ = self.signals.send(Signal::Disconnected);
        }
    }

    /// Whether `event_id` is new (and records it): the Stream runner asks before handing an
    /// event to the application, so a redelivered event is ACKed but not handled twice.
    pub(crate) fn first_time(&self, event_id: &str) -> bool {
        self.handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_time(event_id)
    }

    /// Forgets that `event_id` was handed to the application: its next delivery is handled as
    /// new. For an id answered `LATER` that the runner can no longer remember as such.
    pub(crate) fn forget_handled(&self, event_id: &str) {
        self.handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(event_id);
    }

    /// Sets what forwards this client's own events to a fleet; `false` if one was set.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_forwarder(&self, forwarder: Forwarder) -> bool {
        self.forwarder.set(forwarder).is_ok()
    }

    /// Hands an event to the waits, once: `false` (and nothing sent) for an `eventId` seen
    /// already through [`Hub::deliver`]. A fresh event from this client's own gateway
    /// connection also goes to the forwarder, if a fleet set one.
    pub(crate) fn deliver(&self, event: Arc<Event>, origin: Origin) -> bool {
        let fresh = self.first_time_delivered(&event.id);
        if fresh {
            if origin == Origin::Gateway
                && let Some(forward) = self.forwarder.get()
            {
                forward(&event);
            }
            let _ = self.signals.send(Signal::Event(event));
        }
        fresh
    }

    fn first_time_delivered(&self, event_id: &str) -> bool {
        // Deliveries keep a window of their own, apart from `first_time`'s, so that the
        // runner's check before the handler does not hide the event from the waits.
        self.delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_time(event_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> Arc<Event> {
        Arc::new(Event::from_parts(
            id,
            "meeting_status_change",
            None,
            None,
            "{}",
        ))
    }

    #[test]
    fn an_event_id_is_delivered_once_within_the_window_and_again_after_it() {
        let hub = Hub::new();
        let mut signals = hub.subscribe();
        assert!(hub.deliver(event("a"), Origin::Gateway));
        assert!(!hub.deliver(event("a"), Origin::Gateway));
        assert!(matches!(signals.try_recv(), Ok(Signal::Event(e)) if e.id == "a"));
        assert!(signals.try_recv().is_err());
        for n in 0..DEDUPE_WINDOW {
            assert!(hub.deliver(event(&format!("filler-{n}")), Origin::Fleet));
        }
        assert!(
            hub.deliver(event("a"), Origin::Gateway),
            "forgotten once the window passed it"
        );
    }

    #[test]
    fn the_handler_check_and_the_waits_keep_separate_windows() {
        let hub = Hub::new();
        assert!(hub.first_time("a"));
        assert!(!hub.first_time("a"));
        assert!(hub.deliver(event("a"), Origin::Gateway));
    }

    #[test]
    fn only_fresh_events_from_the_gateway_are_forwarded() {
        let hub = Hub::new();
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&forwarded);
        assert!(hub.set_forwarder(Box::new(move |event: &Arc<Event>| {
            sink.lock().expect("not poisoned").push(event.id.clone());
        })));
        assert!(hub.deliver(event("mine"), Origin::Gateway));
        assert!(!hub.deliver(event("mine"), Origin::Gateway));
        assert!(hub.deliver(event("theirs"), Origin::Fleet));
        assert_eq!(
            *forwarded.lock().expect("not poisoned"),
            vec!["mine".to_owned()]
        );
    }

    #[test]
    fn connected_while_any_connection_is_open_across_a_make_before_break() {
        let hub = Hub::new();
        let mut signals = hub.subscribe();
        assert!(!hub.is_connected());
        hub.connection_opened();
        hub.connection_opened();
        hub.connection_closed();
        assert!(hub.is_connected());
        hub.connection_closed();
        assert!(!hub.is_connected());
        hub.connection_closed();
        assert!(matches!(signals.try_recv(), Ok(Signal::Connected)));
        assert!(matches!(signals.try_recv(), Ok(Signal::Connected)));
        assert!(matches!(signals.try_recv(), Ok(Signal::Disconnected)));
        assert!(
            signals.try_recv().is_err(),
            "one Disconnected, at the last close"
        );
    }
}
