//! The typed events. PLACEHOLDER of the lead's skeleton: the model helper replaces this file
//! (and adds the generated part) keeping every public item below with the same signature.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// One event as delivered: the envelope DingTalk wraps around every event, and the typed
/// payload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// `eventId`: DingTalk's unique id of the event, the same on every redelivery.
    pub id: String,
    /// `eventType`, as sent (for example `meeting_status_change`).
    pub event_type: String,
    /// `eventCorpId`: the organisation the event belongs to.
    pub corp_id: Option<String>,
    /// `eventBornTime`: when DingTalk made the event.
    pub born_at: Option<DateTime<Utc>>,
    /// The payload.
    pub kind: ConferenceEvent,
}

/// The payload of a conference event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConferenceEvent {
    /// Placeholder variant; the model helper defines the real ones.
    Unknown {
        /// `eventType` as sent.
        event_type: String,
        /// The payload (`data`) as sent.
        raw: Arc<serde_json::Value>,
    },
}

impl ConferenceEvent {
    /// Parses the payload of an event of type `event_type` (Stream mode's `data` string, or
    /// HTTP push's decrypted plaintext). Never fails: a payload that does not fit is
    /// [`ConferenceEvent::Unknown`] with its raw JSON (or its raw text as a JSON string when
    /// it is not JSON at all).
    pub fn parse(event_type: &str, data: &str) -> ConferenceEvent {
        let raw = serde_json::from_str(data)
            .unwrap_or_else(|_| serde_json::Value::String(data.to_owned()));
        ConferenceEvent::Unknown {
            event_type: event_type.to_owned(),
            raw: Arc::new(raw),
        }
    }

    /// The conference this event is about, if it names one.
    pub fn conference_id(&self) -> Option<&str> {
        None
    }

    /// `statusSeqNum`, the ordering number of conference and member events, if it has one.
    pub fn seq(&self) -> Option<i64> {
        None
    }

    /// The conference's status after this event, if the event says: `Some(Ended)` for
    /// `conference_closed`, `Some(Started)` for `conference_created`.
    pub fn conference_status(&self) -> Option<crate::ConferenceStatus> {
        None
    }
}
