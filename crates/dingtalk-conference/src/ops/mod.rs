//! The operations the facade wraps, one module each: argument checks, the call through the
//! client's single call path, and the typed answer.
//!
//! Adding an operation: a module here, its `OPERATION_ID` in [`WRAPPED_OPERATIONS`] (a test
//! refuses a spec operation that is neither wrapped nor listed in [`UNWRAPPED_OPERATIONS`]).

mod conference_info;

// The fuzz entry point decodes answers the way the operation does.
#[cfg(feature = "fuzzing")]
pub(crate) use conference_info::conference_from_answer;

/// The spec's operations the facade calls, by `operationId`: each module's own, and the token
/// endpoints, which the built-in token providers call (`auth.rs`). Only the guard test reads
/// the two lists.
#[cfg(test)]
pub(crate) const WRAPPED_OPERATIONS: &[&str] = &[
    conference_info::OPERATION_ID,
    "getAccessToken",
    "getCorpAccessToken",
];

/// The spec's operations the facade deliberately does not wrap, each with the reason; they
/// stay reachable through [`Client::api`](crate::Client::api).
#[cfg(test)]
pub(crate) const UNWRAPPED_OPERATIONS: &[(&str, &str)] = &[];

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

    #[test]
    fn every_spec_operation_is_wrapped_or_listed_as_unwrapped_with_a_reason() {
        let mut known: Vec<String> = WRAPPED_OPERATIONS
            .iter()
            .chain(UNWRAPPED_OPERATIONS.iter().map(|(id, _)| id))
            .map(|id| id.to_string())
            .collect();
        known.sort();
        assert_eq!(
            spec_operation_ids(),
            known,
            "wrap each new operation in a module under src/ops/ (and list it in \
             WRAPPED_OPERATIONS), or list it in UNWRAPPED_OPERATIONS with the reason"
        );
        for (id, reason) in UNWRAPPED_OPERATIONS {
            assert!(
                !reason.trim().is_empty(),
                "{id} is unwrapped without a reason"
            );
        }
    }
}
