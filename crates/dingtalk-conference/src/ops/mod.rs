//! The operations the facade wraps, one module per theme: argument checks, the call through
//! the client's single call path, the typed answer, and the blocking mirror.
//!
//! Adding an operation: a function in the theme's module (or a new module here), with its
//! descriptor as a `const ..: Operation = Operation::read("operationId")` (or
//! `Operation::write("operationId", retry_safe)`) in that module, handed to the pipeline; a test
//! reads the modules' sources and refuses a spec operation that is neither wrapped nor listed
//! in [`UNWRAPPED_OPERATIONS`].

mod conference_info;
mod conferences;
mod members;
pub(crate) mod paging;
mod recordings;

pub use conferences::{CONFERENCES_PER_BATCH_REQUEST, MAX_TITLE_CHARS, NewConference};
pub use recordings::{MAX_TRANSCRIPT_PAGE_SIZE, TranscriptQuery};

// The fuzz entry point decodes answers the way the operation does.
#[cfg(feature = "fuzzing")]
pub(crate) use conference_info::conference_from_answer;

use crate::Error;

/// The token endpoints, which the built-in token providers call (`auth.rs`). The operations
/// of the modules here are found by the guard test in their source: each declares its
/// descriptor as an `Operation` constant.
#[cfg(test)]
pub(crate) const TOKEN_OPERATIONS: &[&str] = &["getAccessToken", "getCorpAccessToken"];

/// The spec's operations the facade deliberately does not wrap, each with the reason; they
/// stay reachable through [`Client::api`](crate::Client::api).
#[cfg(test)]
pub(crate) const UNWRAPPED_OPERATIONS: &[(&str, &str)] = &[];

// The checks are the spec's (`components.x-ids`, generated into
// `dingtalk_conference_api::checks`), shared with the CLI and the fake server; these wrappers
// keep the names the operation modules call.
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
/// `x-id: union`), naming the parameter `unionId`. `_what` was the phrase for the message
/// before the spec named the parameter; the operation modules still pass it.
pub(crate) fn check_union_id(_what: &str, id: &str) -> Result<(), Error> {
    ids::union("unionId", id).map_err(Error::from)
}

/// Refuses a room code that is not a non-empty string of ASCII digits (the spec's
/// `x-id: room-code`), naming the parameter `roomCode`.
pub(crate) fn check_room_code(code: &str) -> Result<(), Error> {
    ids::room_code("roomCode", code).map_err(Error::from)
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

    /// The `operationId`s the operation modules declare: every
    /// `const NAME: Operation = Operation::read("..")` (or `::write("..", ..)`) in
    /// `src/ops/*.rs` whose value is an operationId of the spec.
    fn wrapped_operations(spec_ids: &[String]) -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("src/ops is readable") {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a module is readable");
            for line in text.lines() {
                let line = line.trim();
                let declares = line.starts_with("pub(super) const ")
                    || line.starts_with("pub(crate) const ")
                    || line.starts_with("const ");
                let describes = line.contains(": Operation = Operation::read(\"")
                    || line.contains(": Operation = Operation::write(\"");
                if !declares || !describes {
                    continue;
                }
                if let Some(value) = line.split('"').nth(1)
                    && spec_ids.iter().any(|id| id == value)
                {
                    found.push(value.to_string());
                }
            }
        }
        found
    }

    #[test]
    fn every_spec_operation_is_wrapped_or_listed_as_unwrapped_with_a_reason() {
        let spec_ids = spec_operation_ids();
        let mut known: Vec<String> = wrapped_operations(&spec_ids)
            .into_iter()
            .chain(TOKEN_OPERATIONS.iter().map(|id| id.to_string()))
            .chain(UNWRAPPED_OPERATIONS.iter().map(|(id, _)| id.to_string()))
            .collect();
        known.sort();
        assert_eq!(
            spec_ids, known,
            "wrap each new operation in a module under src/ops/ (declaring it as a \
             `const ..: Operation = Operation::read(..)`), or list it in UNWRAPPED_OPERATIONS \
             with the reason"
        );
        for (id, reason) in UNWRAPPED_OPERATIONS {
            assert!(
                !reason.trim().is_empty(),
                "{id} is unwrapped without a reason"
            );
        }
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
        assert!(message(check_union_id("union id", " ")).starts_with("unionId: the union id"));
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
        assert!(check_union_id("union id", "iPOLxxxxiEiE").is_ok());
        for bad in ["", "  ", "a\nb"] {
            assert!(
                matches!(check_union_id("union id", bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }
}
