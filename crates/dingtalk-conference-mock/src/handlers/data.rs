//! The operations of conference data and call-quality metrics.
//!
//! (Empty until issue 21 fills it: each operation is one arm of [`find`] and one handler.)

use super::Handler;

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    // Its operations' arms, as in the other modules:
    // `Some(match operation_id { "opId" => typed!(op_id), _ => return None })`.
    let _ = operation_id;
    None
}
