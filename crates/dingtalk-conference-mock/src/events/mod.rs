//! The events the fake pushes, as DingTalk documents them: made from the fake's own state by
//! the handlers (through [`EventBus::emit`]), then delivered by the Stream gateway
//! ([`gateway`]) and, with `--push-url`, by HTTP push ([`push`]).

pub(crate) mod emit;
pub(crate) mod gateway;
pub(crate) mod push;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

/// How many events a slow deliverer may fall behind before it lags (and counts them lost).
const CHANNEL_CAPACITY: usize = 4096;

/// How many of the latest events [`crate::MockServer::emitted_events`] keeps: a fake that runs
/// for days must not grow without bound.
pub const EMITTED_EVENTS_KEPT: usize = 100_000;

/// One event the fake emitted: DingTalk's envelope fields and the business payload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MockEvent {
    /// `eventId`: 32 lower-case hex digits, unique per event (kept on redelivery).
    pub event_id: String,
    /// `eventType`, for example `meeting_status_change`.
    pub event_type: String,
    /// `eventCorpId`.
    pub corp_id: String,
    /// `eventBornTime`, epoch milliseconds.
    pub born_ms: i64,
    /// The business payload (Stream mode's `data`, before it is encoded as a JSON string).
    pub data: serde_json::Value,
}

/// Where handlers put the events their state changes make, kept in the [`crate::state::State`]
/// so that a handler emits under the same lock as its change: events leave in the order the
/// changes happened.
#[derive(Debug)]
pub(crate) struct EventBus {
    sender: broadcast::Sender<Arc<MockEvent>>,
    /// The latest [`EMITTED_EVENTS_KEPT`] events emitted, in order
    /// ([`crate::MockServer::emitted_events`]).
    log: std::collections::VecDeque<Arc<MockEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            sender,
            log: std::collections::VecDeque::new(),
        }
    }
}

impl EventBus {
    /// Emits an event of `event_type` for organisation `corp_id` with payload `data`, born
    /// now, with a fresh `eventId` drawn from `rng`.
    pub(crate) fn emit(
        &mut self,
        rng: &mut impl rand::Rng,
        event_type: &str,
        corp_id: &str,
        data: serde_json::Value,
    ) -> Arc<MockEvent> {
        let event = Arc::new(MockEvent {
            event_id: format!("{:032x}", rng.random::<u128>()),
            event_type: event_type.to_owned(),
            corp_id: corp_id.to_owned(),
            born_ms: now_ms(),
            data,
        });
        if self.log.len() == EMITTED_EVENTS_KEPT {
            self.log.pop_front();
        }
        self.log.push_back(Arc::clone(&event));
        // No deliverer listening (no gateway task, no push URL) is not an error.
        let _ = self.sender.send(Arc::clone(&event));
        event
    }

    /// Every event from now on, for a deliverer.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<MockEvent>> {
        self.sender.subscribe()
    }

    /// The events emitted so far (the latest [`EMITTED_EVENTS_KEPT`]), in order.
    pub(crate) fn emitted(&self) -> Vec<MockEvent> {
        self.log
            .iter()
            .map(|event| MockEvent::clone(event))
            .collect()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
