//! DingTalk's error codes, typed: [`ErrorCode`].
//!
//! The codes DingTalk documents (their variants, wire values and aliases, and whether each is
//! throttling, final, and what a person should do) are declared once in the spec's
//! `components.x-error-codes`; `cargo xtask codegen` writes the enum and its methods into
//! `code_generated.rs`. What stays here is the rule for codes the spec does not list.

#[path = "code_generated.rs"]
mod generated;

pub use generated::ErrorCode;

/// The prefix of DingTalk's gateway refusals (throttling, quota, permission, IP whitelist).
const THROTTLE_PREFIX: &str = "Forbidden.AccessDenied.";

/// Whether a code the spec does not list is still a throttling code: one DingTalk adds later
/// follows its naming scheme (`Forbidden.AccessDenied.QpsLimit…` or `…QpmLimit…`).
fn is_unlisted_throttling(code: &str) -> bool {
    code.strip_prefix(THROTTLE_PREFIX)
        .is_some_and(|rest| rest.starts_with("QpsLimit") || rest.starts_with("QpmLimit"))
}
