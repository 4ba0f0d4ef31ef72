//! The low-level DingTalk video conference client, **generated** by progenitor from
//! `spec/dingtalk-conference.yaml` with `cargo xtask codegen`.
//!
//! Most applications want the `dingtalk-conference` facade crate instead: it fetches and caches
//! access tokens, retries throttled calls, and turns DingTalk's raw integers and strings into
//! typed enums, times and errors. This crate is its engine room and its escape hatch.
//!
//! - [`Client`] and the [`types`] are generated (`src/generated.rs`, never edited by hand).
//! - [`hooks`] is hand-written: the per-request [`RequestContext`] through which a caller
//!   supplies the access token, bounds the response size and reads back the response's status
//!   and headers.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dingtalk_conference_api::{Client, RequestContext};
//!
//! // Never follow a redirect to another host: the token header would go with it.
//! let http = reqwest::Client::builder()
//!     .redirect(dingtalk_conference_api::hooks::same_origin_redirects())
//!     .build()?;
//! let context = RequestContext::new().with_access_token("<access token>")?;
//! let client = Client::new_with_client("https://api.dingtalk.io", http, context);
//! let info = client.query_conference_info("6323d7568777190142ab9d10").await?;
//! println!("{:?}", info.into_inner().conf_info);
//! # Ok(()) }
//! ```
//!
//! Cautions for direct users, which the facade takes care of:
//!
//! - Build the `reqwest::Client` with [`hooks::same_origin_redirects`]; [`Client::new`] does
//!   not, and it panics if the TLS backend cannot start.
//! - Refuse conference ids that are empty, `.`, `..` or contain `\`: the generated code
//!   percent-encodes the id, but URL parsing still resolves those as path steps. The
//!   [`checks`] do this, and every other constraint of the spec, before you send.
//! - [`types::GetAccessTokenRequest`] and [`types::GetCorpAccessTokenRequest`] derive `Debug`
//!   with the app secret, suite secret and suite ticket in plain text: never log them.

#![forbid(unsafe_code)]

// The generated file is exempt from documentation and style lints only: its shape is
// progenitor's, and it is guarded by `cargo xtask codegen --check` and snapshot tests instead.
// `unreachable_patterns`: progenitor sorts the `4XX` range arm before the `403`/`404` arms;
// all of them decode the same `ErrorBody`, so the order changes nothing.
#[allow(
    missing_docs,
    unreachable_pub,
    unreachable_patterns,
    clippy::style,
    clippy::unwrap_used
)]
mod generated;

pub mod hooks;

/// Facts of the spec that hand-written code needs: the editions' base URLs, the token header,
/// the unauthenticated operations and the schemas' bounds. **Generated** by `cargo xtask
/// codegen` from `spec/dingtalk-conference.yaml` (`src/spec_constants.rs`, never edited by
/// hand), so a spec change reaches them like any other.
pub mod spec_constants;

/// Input checks, **generated** by `cargo xtask codegen` from the spec's constraints
/// (`minLength`, `maxLength`, `pattern`, `minimum`/`maximum`, `enum`, `minItems`/`maxItems`)
/// and its id formats (`x-id`, declared in `components.x-ids`): one module per operation
/// (its operationId in snake case), one function per parameter (its name in snake case, taking
/// the client method's argument type) and `body` for the request body. A refusal is an
/// [`InputError`] naming the spec's parameter.
///
/// ```
/// use dingtalk_conference_api::checks;
///
/// assert!(checks::query_conference_info::conference_id("6323d7568777190142ab9d10").is_ok());
/// let error = checks::query_conference_info::conference_id("..").unwrap_err();
/// assert_eq!(error.parameter, "conferenceId");
/// ```
#[allow(missing_docs)]
pub mod checks;
/// What the generated [`checks`] mean, and [`InputError`]. Hand-written.
pub mod input;

pub use generated::*;
pub use hooks::{RequestContext, ResponseMeta};
pub use input::InputError;
/// The header that carries the access token (the spec's `accessToken` security scheme), and the
/// operations that must never carry it (`security: []` in the spec).
pub use spec_constants::{ACCESS_TOKEN_HEADER, UNAUTHENTICATED_OPERATIONS};

/// The header in which DingTalk returns the request id.
pub const REQUEST_ID_HEADER: &str = "x-acs-request-id";
