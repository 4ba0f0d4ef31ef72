//! The operations the facade wraps. `generated.rs` is written by `cargo xtask codegen` from
//! each operation's `x-facade-op` in the spec: the descriptors the pipeline takes, the async
//! methods (argument checks, read key, the call, the typed answer or a `Listing`) and their
//! blocking mirrors. The theme modules hold only what the spec cannot declare: request
//! builders, answer hooks, and the methods marked `hand`.
//!
//! Adding an operation: its `x-facade-op` in the spec (`docs/ARCHITECTURE.md`, "Adding an
//! operation"); a test refuses a spec operation that is neither declared nor listed in
//! [`UNWRAPPED_OPERATIONS`].

mod call;
mod call_generated;
mod conferences;
mod control;
mod generated;
mod minutes;
pub(crate) mod paging;
mod record_stream;
mod recordings;

pub use call::Answer;
pub use conferences::{CONFERENCES_PER_BATCH_REQUEST, MAX_TITLE_CHARS};
pub use control::{CohostChange, Focus, Invitation, Kick, MuteAll, MuteMember, PhoneCall};
pub use generated::NewConference;
// part record-stream
pub use generated::{CloudRecording, StopCloudRecording, StreamOut, StreamStop};
pub use record_stream::RecordAllowListChange;
// part data
pub use generated::MetricMembers;
// part control
pub use generated::{ConferenceSettings, McuInvitation};
// part schedule: the request builders of the scheduled-conference operations.
pub use generated::{
    NewSchedule, NewShortLink, ScheduleCancellation, ScheduleSettingsUpdate, ScheduleUpdate,
};
// part org
pub use generated::{AutoLogin, MemberNick, SubtitleEvents};
// part minutes
pub use generated::{MinutesPause, MinutesShare, NewMinutes};
pub use recordings::{MAX_TRANSCRIPT_PAGE_SIZE, TranscriptQuery};

// The fuzz entry point decodes answers the way the operation does.
#[cfg(feature = "fuzzing")]
pub(crate) use generated::query_conference_info_answer as conference_from_answer;

use crate::Error;

/// The token endpoints, which the built-in token providers call (`auth.rs`). The operations
/// the facade wraps are `generated::OPERATIONS`, one per `x-facade-op` of the spec.
#[cfg(test)]
pub(crate) const TOKEN_OPERATIONS: &[&str] = &["getAccessToken", "getCorpAccessToken"];

/// The spec's operations the facade deliberately does not wrap, each with the reason; they
/// stay reachable through [`Client::call`](crate::Client::call).
#[cfg(test)]
pub(crate) const UNWRAPPED_OPERATIONS: &[(&str, &str)] = &[];

// The checks are the spec's (`components.x-ids`, generated into
// `dingtalk_conference_api::checks`), shared with the CLI and the fake server. The generated
// methods call them per parameter; these wrappers serve the hand-written methods.
use dingtalk_conference_api::checks::ids;

/// Refuses ids that cannot be a conference id or cannot travel as one path segment (the spec's
/// `x-id: conference`), naming the parameter `conferenceId`.
///
/// DingTalk's ids (ASCII letters and digits) pass with one look at each byte: the generated
/// check is inlined with that fast path first.
#[inline]
pub(crate) fn check_conference_id(id: &str) -> Result<(), Error> {
    ids::conference("conferenceId", id).map_err(Error::from)
}

/// Refuses an empty or blank unionId, or one with control characters (the spec's
/// `x-id: union`), naming the parameter `unionId`.
pub(crate) fn check_union_id(id: &str) -> Result<(), Error> {
    ids::union("unionId", id).map_err(Error::from)
}

/// A page size for a generated `int32` parameter: larger values are sent as `i32::MAX`.
pub(crate) fn page_size_i32(size: Option<u32>) -> Option<i32> {
    size.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

/// The error for a success answer that lacks what the operation promises.
pub(crate) fn missing<T>(
    response: &dingtalk_conference_api::ResponseValue<T>,
    what: &str,
) -> Error {
    Error::Decode {
        status: response.status(),
        request_id: crate::error::request_id_header(response.headers()),
        message: format!("the answer has no {what}"),
        snippet: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `operationId` of the spec, read from the file itself.
    fn spec_operation_ids() -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../spec/dingtalk-conference.yaml"
        );
        let text = std::fs::read_to_string(path).expect("the spec is readable");
        let spec: serde_json::Value = serde_saphyr::from_str(&text).expect("the spec parses");
        let paths = spec["paths"].as_object().expect("the spec has paths");
        let mut ids: Vec<String> = paths
            .values()
            .filter_map(serde_json::Value::as_object)
            .flat_map(|item| item.values())
            .filter_map(|operation| operation.get("operationId")?.as_str())
            .map(str::to_string)
            .collect();
        ids.sort();
        ids
    }

    /// The spec's `x-facade-op` of every operation that has one, by `operationId`.
    fn spec_declarations() -> Vec<(String, String, serde_json::Value)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../spec/dingtalk-conference.yaml"
        );
        let text = std::fs::read_to_string(path).expect("the spec is readable");
        let spec: serde_json::Value = serde_saphyr::from_str(&text).expect("the spec parses");
        let paths = spec["paths"].as_object().expect("the spec has paths");
        let mut found = Vec::new();
        for item in paths.values().filter_map(serde_json::Value::as_object) {
            for (method, operation) in item {
                if let (Some(id), Some(decl)) = (
                    operation
                        .get("operationId")
                        .and_then(serde_json::Value::as_str),
                    operation.get("x-facade-op"),
                ) {
                    found.push((id.to_string(), method.clone(), decl.clone()));
                }
            }
        }
        found
    }

    #[test]
    fn every_spec_operation_is_wrapped_or_listed_as_unwrapped_with_a_reason() {
        let spec_ids = spec_operation_ids();
        let mut known: Vec<String> = generated::OPERATIONS
            .iter()
            .map(|op| op.id.to_string())
            .chain(TOKEN_OPERATIONS.iter().map(|id| id.to_string()))
            .chain(UNWRAPPED_OPERATIONS.iter().map(|(id, _)| id.to_string()))
            .collect();
        known.sort();
        assert_eq!(
            spec_ids, known,
            "declare each new operation's facade method with `x-facade-op` in the spec and run \
             `cargo xtask codegen` (docs/ARCHITECTURE.md, \"Adding an operation\"), or list it \
             in UNWRAPPED_OPERATIONS with the reason"
        );
        for (id, reason) in UNWRAPPED_OPERATIONS {
            assert!(
                !reason.trim().is_empty(),
                "{id} is unwrapped without a reason"
            );
        }
    }

    /// The descriptors the pipeline gets say what the spec says: read or write, and for a
    /// write whether a retry is safe (by default a GET reads, anything else is a write that
    /// is not retry-safe), so a stale generated file or a generator bug cannot make a create
    /// retried like a read.
    #[test]
    fn the_generated_descriptors_match_the_spec() {
        use crate::pipeline::Kind;
        let declarations = spec_declarations();
        assert_eq!(declarations.len(), generated::OPERATIONS.len());
        for (id, method, decl) in declarations {
            let operation = generated::OPERATIONS
                .iter()
                .find(|op| op.id == id)
                .unwrap_or_else(|| panic!("{id} has x-facade-op but no generated descriptor"));
            let kind =
                decl["kind"]
                    .as_str()
                    .unwrap_or(if method == "get" { "read" } else { "write" });
            let expected = match kind {
                "read" => Kind::Read,
                _ => Kind::Write {
                    retry_safe: decl["retry-safe"].as_bool().unwrap_or(false),
                },
            };
            assert_eq!(operation.kind, expected, "{id}");
        }
        let mut ids: Vec<&str> = generated::OPERATIONS.iter().map(|op| op.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            generated::OPERATIONS.len(),
            "an operation is declared twice"
        );
    }

    /// The room-code check as the generated methods run it.
    fn check_room_code(code: &str) -> Result<(), Error> {
        ids::room_code("roomCode", code).map_err(Error::from)
    }

    #[test]
    fn room_codes_are_digits() {
        assert!(check_room_code("068550708396").is_ok());
        for bad in ["", "12a4", " 123", "１２３", "12 3"] {
            assert!(
                matches!(check_room_code(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refusals_name_the_spec_parameter_and_say_what_to_pass() {
        let message = |result: Result<(), Error>| match result {
            Err(Error::InvalidInput(message)) => message,
            other => panic!("expected InvalidInput, got {other:?}"),
        };
        assert_eq!(
            message(check_conference_id("")),
            "conferenceId: the conference id is empty; pass the id returned when the \
             conference was created"
        );
        assert_eq!(
            message(check_conference_id("..")),
            "conferenceId: \"..\" is not a conference id; pass the id returned when the \
             conference was created"
        );
        assert!(message(check_room_code("12a")).starts_with("roomCode: the room code"));
        assert!(message(check_union_id(" ")).starts_with("unionId: the union id"));
        assert!(check_conference_id("6323d7568777190142ab9d10").is_ok());
    }

    #[test]
    fn the_title_limit_is_the_specs() {
        let titled = |chars: usize| {
            dingtalk_conference_api::checks::create_video_conference::body(
                &dingtalk_conference_api::types::CreateVideoConferenceRequest {
                    conf_title: "标".repeat(chars),
                    invite_caller: None,
                    invite_user_ids: Vec::new(),
                    user_id: "u".to_string(),
                },
            )
        };
        assert!(titled(MAX_TITLE_CHARS).is_ok());
        let refused = titled(MAX_TITLE_CHARS + 1).expect_err("one character too many");
        assert_eq!(refused.parameter, "confTitle");
    }

    #[test]
    fn union_ids_are_not_blank() {
        assert!(check_union_id("iPOLxxxxiEiE").is_ok());
        for bad in ["", "  ", "a\nb"] {
            assert!(
                matches!(check_union_id(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }
}
