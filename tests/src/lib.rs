//! Helpers shared by the cross-crate tests in `tests/tests/`.
//!
//! - [`api_listing`] renders the generated client's public API, one line per item.
//! - [`facade_listing`] renders the facade crate's public API by public path, whatever the file
//!   layout.
//! - [`event_listing`] renders the typed events: each `eventType`'s variant, and their items.
//! - [`spec`] loads the hand-written OpenAPI document and finds every example in it.
//! - [`schema`] validates a JSON value against the subset of OpenAPI 3.0 schemas the spec uses.
//! - [`operations`] turns every operation of the spec into arguments for [`dispatch`].
//! - [`dispatch`] calls any operation of the generated client by its operationId, with JSON
//!   arguments (**generated** by `cargo xtask codegen`, never edited by hand).
//!
//! What every test crate shares (the capture server, scratch directories, the fake-server
//! fixtures, redis-server, trace capture) is in `dingtalk-conference-testkit`.

#![forbid(unsafe_code)]

pub mod api_listing;
/// Calls any operation of the generated client by its operationId (**generated** by
/// `cargo xtask codegen` from the spec and the generated client: never edit it by hand).
pub mod dispatch;
pub mod event_listing;
pub mod facade_listing;
pub mod operations;
pub mod schema;
pub mod spec;

/// The error type of these helpers (the test kit's): they are test support, and every failure
/// ends a test.
pub use dingtalk_conference_testkit::BoxError;

/// The Rust examples of the workspace README, compiled as doctests so that the README stays
/// true (`cargo test --doc -p dingtalk-conference-tests`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
