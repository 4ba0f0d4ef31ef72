//! The Stream protocol's frames as the SDK reads and writes them (DingTalk's open-source
//! protocol page and its Go SDK: docs/EVENTS.md, part stream).
//!
//! Inbound: `{specVersion, type: SYSTEM|EVENT|CALLBACK, headers: {topic, messageId, …}, data:
//! "<JSON string>"}`. An EVENT carries its envelope (`eventId`, `eventType`, `eventCorpId`,
//! `eventBornTime`) as string headers and its payload as a JSON string, parsed a second time.
//! Outbound: one answer per frame that needs one, naming the frame's `messageId`.

use std::collections::HashMap;

use serde::Deserialize;

use crate::events::Event;
use crate::events::hub::MAX_EVENT_ID_BYTES;

/// What the application answered for an event: DingTalk redelivers an event answered
/// [`AckStatus::Later`] (or not answered at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// Consumed: DingTalk does not send it again (though it may anyway: duplicates are
    /// dropped by the SDK).
    Success,
    /// Not consumed: DingTalk sends it again later.
    Later,
}

impl AckStatus {
    fn wire(self) -> &'static str {
        match self {
            Self::Success => r#"{"status":"SUCCESS","message":"success"}"#,
            Self::Later => r#"{"status":"LATER","message":"later"}"#,
        }
    }
}

/// A frame from the gateway, as far as the SDK reads it.
#[derive(Debug, PartialEq)]
pub(crate) enum Inbound {
    /// SYSTEM `ping`: answer with its `data`.
    Ping { message_id: String, data: String },
    /// SYSTEM `disconnect`: the gateway will close this connection soon.
    Disconnect,
    /// Another SYSTEM topic: nothing to do.
    OtherSystem { topic: String },
    /// An event, its envelope read from the headers and its payload parsed.
    Event {
        message_id: String,
        event: Box<Event>,
    },
    /// A CALLBACK (robot messages, cards): this SDK subscribes to none.
    Callback { message_id: String, topic: String },
}

/// Why a frame was skipped. Never holds the frame itself, which may be large or hostile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Malformed {
    #[error("not a JSON frame: {0}")]
    NotJson(String),
    #[error("the frame has no {0}")]
    Missing(&'static str),
    #[error("the frame's {0} is too long")]
    TooLong(&'static str),
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
}

#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    headers: HashMap<String, serde_json::Value>,
    /// A JSON string as documented; anything else is kept as its JSON text.
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// A header as text: DingTalk sends strings; a number is taken as its digits.
fn header(headers: &HashMap<String, serde_json::Value>, name: &str) -> Option<String> {
    match headers.get(name)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
    .filter(|text| !text.is_empty())
}

impl Inbound {
    /// Reads one text frame. Never panics: whatever does not fit is [`Malformed`].
    pub(crate) fn parse(text: &str) -> Result<Self, Malformed> {
        let wire: Wire =
            // The kind and place of the error only: serde_json's message may quote the frame.
            serde_json::from_str(text).map_err(|e| {
                Malformed::NotJson(format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ))
            })?;
        let kind = wire.kind.ok_or(Malformed::Missing("type"))?;
        let data = match wire.data {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let topic = header(&wire.headers, "topic").unwrap_or_default();
        let message_id =
            || header(&wire.headers, "messageId").ok_or(Malformed::Missing("messageId"));
        match kind.as_str() {
            "SYSTEM" => Ok(match topic.as_str() {
                "ping" => Self::Ping {
                    message_id: message_id()?,
                    data,
                },
                "disconnect" => Self::Disconnect,
                _ => Self::OtherSystem { topic },
            }),
            "EVENT" => {
                let message_id = message_id()?;
                let id = header(&wire.headers, "eventId").ok_or(Malformed::Missing("eventId"))?;
                if id.len() > MAX_EVENT_ID_BYTES {
                    return Err(Malformed::TooLong("eventId"));
                }
                let event_type =
                    header(&wire.headers, "eventType").ok_or(Malformed::Missing("eventType"))?;
                let born_at_millis = header(&wire.headers, "eventBornTime")
                    .and_then(|ms| ms.trim().parse::<i64>().ok());
                Ok(Self::Event {
                    message_id,
                    event: Box::new(Event::from_parts(
                        id,
                        event_type,
                        header(&wire.headers, "eventCorpId"),
                        born_at_millis,
                        &data,
                    )),
                })
            }
            "CALLBACK" => Ok(Self::Callback {
                message_id: message_id()?,
                topic,
            }),
            _ => Err(Malformed::UnknownType(
                crate::text::shown(&kind).into_owned(),
            )),
        }
    }
}

/// An answer frame: `{code, headers: {messageId, contentType}, message, data}`.
fn answer(code: u16, message_id: &str, message: &str, data: &str) -> String {
    serde_json::json!({
        "code": code,
        "headers": {"messageId": message_id, "contentType": "application/json"},
        "message": message,
        "data": data,
    })
    .to_string()
}

/// The ACK of an EVENT.
pub(crate) fn ack(message_id: &str, status: AckStatus) -> String {
    answer(200, message_id, "OK", status.wire())
}

/// The answer to a SYSTEM `ping`: its own data back.
pub(crate) fn pong(message_id: &str, data: &str) -> String {
    answer(200, message_id, "OK", data)
}

/// The answer to a CALLBACK: 404, the protocol's code for a topic with no handler here.
pub(crate) fn no_handler(message_id: &str) -> String {
    answer(404, message_id, "no handler for this topic", "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ConferenceEvent;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_or_frame_shaped_json_parses_without_panicking(
            text in ".{0,200}",
            kind in prop::sample::select(vec!["SYSTEM", "EVENT", "CALLBACK", "", "x"]),
            header in prop::collection::hash_map(
                prop::sample::select(vec!["topic", "messageId", "eventId", "eventType", "eventBornTime", "eventCorpId"]),
                prop_oneof![".{0,20}".prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::Value::Null)],
                0..6,
            ),
        ) {
            let _ = Inbound::parse(&text);
            let frame = serde_json::json!({"type": kind, "headers": header, "data": text});
            let _ = Inbound::parse(&frame.to_string());
        }
    }

    fn event_frame(data: &str) -> String {
        serde_json::json!({
            "specVersion": "1.0",
            "type": "EVENT",
            "headers": {
                "topic": "*",
                "messageId": "m-1",
                "contentType": "application/json",
                "eventId": "e-1",
                "eventType": "meeting_status_change",
                "eventCorpId": "ding-corp",
                "eventBornTime": "1683533823336",
                "eventUnifiedAppId": "app"
            },
            "data": data,
        })
        .to_string()
    }

    #[test]
    fn an_event_frame_gives_its_envelope_and_its_payload_parsed_a_second_time() {
        let Ok(Inbound::Event { message_id, event }) =
            Inbound::parse(&event_frame(r#"{"changeScene":"conference_closed"}"#))
        else {
            panic!("an event");
        };
        assert_eq!(message_id, "m-1");
        assert_eq!(event.id, "e-1");
        assert_eq!(event.event_type, "meeting_status_change");
        assert_eq!(event.corp_id.as_deref(), Some("ding-corp"));
        assert_eq!(
            event.born_at.map(|at| at.timestamp_millis()),
            Some(1_683_533_823_336)
        );
        assert_eq!(
            event.kind,
            ConferenceEvent::parse(
                "meeting_status_change",
                r#"{"changeScene":"conference_closed"}"#
            )
        );
    }

    #[test]
    fn system_frames_are_ping_disconnect_or_ignored() {
        let ping = r#"{"type":"SYSTEM","headers":{"topic":"ping","messageId":"p"},"data":"{\"opaque\":\"x\"}"}"#;
        assert_eq!(
            Inbound::parse(ping),
            Ok(Inbound::Ping {
                message_id: "p".into(),
                data: r#"{"opaque":"x"}"#.into()
            })
        );
        let disconnect =
            r#"{"type":"SYSTEM","headers":{"topic":"disconnect","messageId":"d"},"data":"{}"}"#;
        assert_eq!(Inbound::parse(disconnect), Ok(Inbound::Disconnect));
        let other = r#"{"type":"SYSTEM","headers":{"topic":"KEEPALIVE"}}"#;
        assert!(matches!(
            Inbound::parse(other),
            Ok(Inbound::OtherSystem { .. })
        ));
    }

    #[test]
    fn malformed_frames_are_errors_never_panics() {
        for text in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"type":7}"#,
            r#"{"type":"EVENT","headers":{"messageId":"m"}}"#,
            r#"{"type":"EVENT","headers":{"eventId":"e","eventType":"t"}}"#,
            r#"{"type":"SYSTEM","headers":{"topic":"ping"}}"#,
            r#"{"type":"NEW","headers":{}}"#,
            r#"{"type":"EVENT","headers":[1,2]}"#,
        ] {
            assert!(Inbound::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn why_a_frame_was_skipped_never_quotes_it() {
        let secret_looking = "x".repeat(10_000);
        for text in [
            format!("\"{secret_looking}\""),
            format!(r#"{{"type":"EVENT","headers":"{secret_looking}"}}"#),
            format!(r#"{{"type":["{secret_looking}"]}}"#),
        ] {
            let Err(why) = Inbound::parse(&text) else {
                panic!("a malformed frame");
            };
            let shown = why.to_string();
            assert!(shown.len() < 100 && !shown.contains("xxx"), "{shown}");
        }
    }

    #[test]
    fn an_event_id_longer_than_a_gateways_is_refused() {
        let frame = |id: &str| {
            format!(
                r#"{{"type":"EVENT","headers":{{"messageId":"m","eventId":"{id}","eventType":"t"}},"data":"{{}}"}}"#
            )
        };
        assert!(Inbound::parse(&frame(&"e".repeat(MAX_EVENT_ID_BYTES))).is_ok());
        assert_eq!(
            Inbound::parse(&frame(&"e".repeat(MAX_EVENT_ID_BYTES + 1))).err(),
            Some(Malformed::TooLong("eventId"))
        );
    }

    #[test]
    fn a_payload_that_is_not_json_still_makes_an_event() {
        let Ok(Inbound::Event { event, .. }) = Inbound::parse(&event_frame("{{ not json")) else {
            panic!("an event");
        };
        assert_eq!(event.id, "e-1");
    }

    #[test]
    fn answers_name_the_message_and_say_the_status() {
        let json = |text: &str| -> serde_json::Value { serde_json::from_str(text).expect("JSON") };
        let ack = json(&ack("m-1", AckStatus::Later));
        assert_eq!(ack["code"], 200);
        assert_eq!(ack["headers"]["messageId"], "m-1");
        assert_eq!(ack["headers"]["contentType"], "application/json");
        let data = json(ack["data"].as_str().expect("data is text"));
        assert_eq!(data["status"], "LATER");
        let pong = json(&pong("p", "{\"opaque\":1}"));
        assert_eq!(pong["data"], "{\"opaque\":1}");
        let callback = json(&no_handler("c"));
        assert_eq!(callback["code"], 404);
    }
}
