//! The typed events: DingTalk's envelope ([`Event`]) around a typed payload
//! ([`ConferenceEvent`]).
//!
//! The payload types, the `changeScene` enums and the dispatch from `eventType` to variant are
//! generated from the spec by `cargo xtask codegen` (`generated.rs`, from the event schemas and
//! `components.x-events`). This module holds what the generated code calls, the envelope, and
//! the accessors the waits use.
//!
//! **Tolerant parsing.** DingTalk's own examples break the obvious model (docs/EVENTS.md,
//! "DingTalk's oddities"), so a payload is read as a JSON value first and each field is taken
//! from it leniently:
//!
//! - a key repeated inside one object keeps its last value (serde_json's `Value` does; a
//!   derived `Deserialize` would refuse the whole payload with "duplicate field");
//! - a number sent as a string (`"33790"`) reads as the number, and a string field sent as a
//!   number (`bizType: 0`) as its decimal text;
//! - `null` reads as absent, like a missing key;
//! - a time out of the years 0000-9999 or a negative duration reads as absent, with a warning,
//!   as in the rest of the model.
//!
//! What still does not fit (a list where an object belongs, text where a number belongs, a
//! payload that is not a JSON object) makes the whole event [`ConferenceEvent::Unknown`] with
//! its raw JSON: delivered, never dropped.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

#[path = "generated.rs"]
mod generated;

pub use generated::*;

use crate::ConferenceStatus;

/// One event as delivered: the envelope DingTalk wraps around every event, and the typed
/// payload.
///
/// Serde reads and writes it in the shape of DingTalk's Stream-mode examples: `eventId`,
/// `eventType`, `eventCorpId`, `eventBornTime` (epoch milliseconds) and the payload as the
/// object `data`; reading it back types the payload again. Reading also takes `data` as a
/// JSON-encoded string (Stream mode's wire form) and `eventBornTime` as a string of digits
/// (the wire's headers are strings).
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
    /// The payload as sent (Stream mode's `data`, HTTP push's fields other than the envelope's),
    /// parsed as JSON: for fields the typed payload does not have. Text that is not JSON is
    /// kept as a JSON string.
    pub data: Arc<Value>,
}

impl Event {
    /// An event from the parts of DingTalk's envelope (Stream mode sends them as the EVENT
    /// frame's headers) and its payload `data`, the JSON text Stream mode sends as a string.
    /// Never fails: a payload that does not fit is [`ConferenceEvent::Unknown`].
    pub fn from_parts(
        id: impl Into<String>,
        event_type: impl Into<String>,
        corp_id: Option<String>,
        born_at_millis: Option<i64>,
        data: &str,
    ) -> Event {
        let data = serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_owned()));
        Event::from_value(id, event_type, corp_id, born_at_millis, data)
    }

    /// As [`Event::from_parts`], with the payload already parsed.
    pub fn from_value(
        id: impl Into<String>,
        event_type: impl Into<String>,
        corp_id: Option<String>,
        born_at_millis: Option<i64>,
        data: Value,
    ) -> Event {
        let event_type = event_type.into();
        let data = Arc::new(data);
        Event {
            id: id.into(),
            kind: ConferenceEvent::from_json(&event_type, &data),
            event_type,
            corp_id,
            born_at: born_at_millis.and_then(|ms| crate::model::timestamp("eventBornTime", ms)),
            data,
        }
    }

    /// An event from HTTP push's decrypted plaintext: one flat JSON object with the envelope
    /// `EventType`, `EventTime`, `CorpId`, `BizId`, `eventId` and the payload's fields beside
    /// them (no `data` wrapper). The id is `eventId`, or `BizId` ("no business meaning,
    /// idempotent") when `eventId` is missing.
    ///
    /// Fails with [`Error::InvalidInput`](crate::Error::InvalidInput) when the text is not a
    /// JSON object, has no `EventType`, or has neither `eventId` nor `BizId`. `check_url` (the
    /// URL check DingTalk posts when the callback is saved) is not an event: answer it before
    /// calling this.
    pub fn from_http_plaintext(plaintext: &str) -> Result<Event, crate::Error> {
        let refuse = |why: &str| crate::Error::InvalidInput(format!("HTTP push plaintext {why}"));
        let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(plaintext) else {
            return Err(refuse("is not a JSON object"));
        };
        let Some(Value::String(event_type)) = object.remove("EventType") else {
            return Err(refuse("has no `EventType` text"));
        };
        let event_id = object.remove("eventId");
        let biz_id = object.remove("BizId");
        let id = [event_id, biz_id]
            .into_iter()
            .flatten()
            .find_map(|id| match id {
                Value::String(id) if !id.is_empty() => Some(id),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            })
            .ok_or_else(|| refuse("has neither `eventId` nor `BizId`"))?;
        let corp_id = match object.remove("CorpId") {
            Some(Value::String(corp_id)) => Some(corp_id),
            _ => None,
        };
        let born_at_millis = object.remove("EventTime").and_then(|time| integer(&time));
        Ok(Event::from_value(
            id,
            event_type,
            corp_id,
            born_at_millis,
            Value::Object(object),
        ))
    }

    /// The conference this event is about, if it names one (see
    /// [`ConferenceEvent::conference_id`]).
    pub fn conference_id(&self) -> Option<&str> {
        self.kind.conference_id()
    }
}

/// DingTalk's Stream-mode example shape, for serde.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    #[serde(rename = "eventId")]
    id: String,
    #[serde(rename = "eventType")]
    event_type: String,
    #[serde(
        rename = "eventCorpId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    corp_id: Option<String>,
    #[serde(
        rename = "eventBornTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    born_at: Option<Value>,
    #[serde(default)]
    data: Value,
}

impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Envelope {
            id: self.id.clone(),
            event_type: self.event_type.clone(),
            corp_id: self.corp_id.clone(),
            born_at: self.born_at.map(|t| Value::from(t.timestamp_millis())),
            // A payload that is itself a JSON string is written encoded, as Stream mode sends
            // every payload, so that reading it back (which decodes a string `data`) gives it
            // back unchanged.
            data: match self.data.as_ref() {
                Value::String(_) => Value::String(self.data.to_string()),
                other => other.clone(),
            },
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let envelope = Envelope::deserialize(deserializer)?;
        let born_at_millis = envelope.born_at.as_ref().and_then(integer);
        Ok(match envelope.data {
            // Stream mode's own form: the payload as a JSON-encoded string.
            Value::String(text) => Event::from_parts(
                envelope.id,
                envelope.event_type,
                envelope.corp_id,
                born_at_millis,
                &text,
            ),
            data => Event::from_value(
                envelope.id,
                envelope.event_type,
                envelope.corp_id,
                born_at_millis,
                data,
            ),
        })
    }
}

impl ConferenceEvent {
    /// Parses the payload of an event of type `event_type` (Stream mode's `data` string, or
    /// HTTP push's decrypted plaintext). Never fails: a payload that does not fit is
    /// [`ConferenceEvent::Unknown`] with its raw JSON (or its raw text as a JSON string when
    /// it is not JSON at all).
    pub fn parse(event_type: &str, data: &str) -> ConferenceEvent {
        let raw = serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_owned()));
        ConferenceEvent::from_json(event_type, &Arc::new(raw))
    }

    /// Types `data` for `event_type`; `Unknown` (sharing `data`) for an undocumented type or a
    /// payload that does not fit.
    fn from_json(event_type: &str, data: &Arc<Value>) -> ConferenceEvent {
        let typed = match data.as_ref() {
            Value::Object(object) => ConferenceEvent::from_documented(event_type, object),
            _ => Some(Err(Mismatch::at("", "the payload is not a JSON object"))),
        };
        match typed {
            Some(Ok(event)) => event,
            Some(Err(mismatch)) => {
                tracing::debug!(
                    event_type = %crate::text::shown(event_type),
                    field = %crate::text::shown(&mismatch.path),
                    why = mismatch.why,
                    "an event payload does not fit its documented type; delivered as Unknown"
                );
                ConferenceEvent::unknown(event_type, data)
            }
            None => ConferenceEvent::unknown(event_type, data),
        }
    }

    fn unknown(event_type: &str, data: &Arc<Value>) -> ConferenceEvent {
        ConferenceEvent::Unknown {
            event_type: event_type.to_owned(),
            raw: Arc::clone(data),
        }
    }

    /// The conference this event is about, if it names one: `openConfModel.conferenceId`,
    /// or for member events the first member's `conferenceId` (the payload has no
    /// conference of its own). For [`ConferenceEvent::Unknown`] the same two places are
    /// looked up in the raw JSON, so that a wait still hears of a conference whose event did
    /// not fit.
    pub fn conference_id(&self) -> Option<&str> {
        match self {
            ConferenceEvent::StatusChanged { conference, .. }
            | ConferenceEvent::TranscriptionResult { conference, .. }
            | ConferenceEvent::MinutesReady { conference, .. } => {
                conference.as_ref()?.conference_id.as_deref()
            }
            ConferenceEvent::MemberStatusChanged { members, .. } => members
                .iter()
                .find_map(|member| member.conference_id.as_deref()),
            ConferenceEvent::Unknown { raw, .. } => raw
                .pointer("/openConfModel/conferenceId")
                .or_else(|| raw.pointer("/openMemberModels/0/conferenceId"))
                .and_then(Value::as_str),
        }
    }

    /// `statusSeqNum`, the ordering number DingTalk gives conference and member events
    /// together ("会议、成员信息总体序列号"), if it has one. DingTalk does not document its
    /// scope (per conference, organisation or app), start or whether it has gaps.
    pub fn seq(&self) -> Option<i64> {
        match self {
            ConferenceEvent::StatusChanged { seq, .. }
            | ConferenceEvent::MemberStatusChanged { seq, .. } => *seq,
            _ => None,
        }
    }

    /// The conference's status after this event, if the event says: `Some(Ended)` for
    /// `conference_closed`, `Some(Started)` for `conference_created`, `None` otherwise.
    ///
    /// The scene decides, not `openConfModel.status`: DingTalk's own `conference_created`
    /// examples carry `status: 1`, which in the query API means *ended*, and no event page
    /// documents the status codes. A scene this crate does not know gives `None`.
    pub fn conference_status(&self) -> Option<ConferenceStatus> {
        match self {
            ConferenceEvent::StatusChanged {
                scene: Some(ConferenceScene::Created),
                ..
            } => Some(ConferenceStatus::Started),
            ConferenceEvent::StatusChanged {
                scene: Some(ConferenceScene::Closed),
                ..
            } => Some(ConferenceStatus::Ended),
            _ => None,
        }
    }
}

/// Why a payload does not fit its type: the path of the field (`openConfModel.status`) and
/// what was wrong. Only logged (at debug), never shown with the value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mismatch {
    path: String,
    why: &'static str,
}

impl Mismatch {
    fn at(key: &str, why: &'static str) -> Mismatch {
        Mismatch {
            path: key.to_owned(),
            why,
        }
    }

    /// The same mismatch, one level further out (`key.` before its path).
    fn within(mut self, key: &str) -> Mismatch {
        self.path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{key}.{}", self.path)
        };
        self
    }
}

/// A JSON object of the payload.
type Object = Map<String, Value>;

/// The value at `key`, `None` when absent or `null`.
fn present<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|value| !value.is_null())
}

/// An integer, also when sent as a string (`"33790"`) or as a float with no fraction.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f <= i64::MAX as f64)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string field: text, or a number's decimal text (`bizType: 0` reads as `"0"`).
fn text(object: &Object, key: &str) -> Result<Option<String>, Mismatch> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Mismatch::at(key, "expected text")),
    }
}

/// An `int64` field; empty text reads as absent.
fn int(object: &Object, key: &str) -> Result<Option<i64>, Mismatch> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(value) => integer(value)
            .map(Some)
            .ok_or_else(|| Mismatch::at(key, "expected an integer")),
    }
}

/// An `int32` field.
fn int32(object: &Object, key: &str) -> Result<Option<i32>, Mismatch> {
    int(object, key)?
        .map(|n| i32::try_from(n).map_err(|_| Mismatch::at(key, "an integer out of int32's range")))
        .transpose()
}

/// A boolean field, also sent as `"true"`/`"false"` or `1`/`0`.
fn flag(object: &Object, key: &str) -> Result<Option<bool>, Mismatch> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(value) => match integer(value) {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(Mismatch::at(key, "expected a boolean")),
        },
    }
}

/// Epoch milliseconds (`x-unit: epoch-millis`) as a time; out of range reads as absent.
fn time(object: &Object, key: &str) -> Result<Option<DateTime<Utc>>, Mismatch> {
    Ok(int(object, key)?.and_then(|ms| crate::model::timestamp(key, ms)))
}

/// Milliseconds (`x-unit: millis`) as a duration; negative reads as absent.
fn span(object: &Object, key: &str) -> Result<Option<std::time::Duration>, Mismatch> {
    Ok(int(object, key)?.and_then(|ms| crate::model::duration(key, ms)))
}

/// A nested object, typed by `parse`.
fn nested<T>(
    object: &Object,
    key: &str,
    parse: fn(&Object) -> Result<T, Mismatch>,
) -> Result<Option<T>, Mismatch> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::Object(inner)) => parse(inner).map(Some).map_err(|m| m.within(key)),
        Some(_) => Err(Mismatch::at(key, "expected an object")),
    }
}

/// A list of objects, each typed by `parse`; absent or `null` reads as empty.
fn list<T>(
    object: &Object,
    key: &str,
    parse: fn(&Object) -> Result<T, Mismatch>,
) -> Result<Vec<T>, Mismatch> {
    match present(object, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(inner) => parse(inner).map_err(|m| m.within(&i.to_string())),
                _ => Err(Mismatch::at(&i.to_string(), "expected an object")),
            })
            .collect::<Result<_, _>>()
            .map_err(|m| m.within(key)),
        Some(_) => Err(Mismatch::at(key, "expected a list")),
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
