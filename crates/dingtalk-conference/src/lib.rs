//! A DingTalk video conference API client.
//!
//! [`Client::conference_info`] queries a conference (`GET
//! /v1.0/conference/videoConferences/{conferenceId}`) and returns a typed [`ConferenceInfo`].
//! The client takes care of the rest:
//!
//! - **Tokens**: give it app credentials once; it fetches the access token lazily, caches it
//!   until shortly before it expires, fetches it once however many calls wait, and replaces it
//!   and replays the call once when DingTalk rejects it.
//! - **Types**: status, business type, recording states and auto-open modes are enums with an
//!   `Unknown(raw)` variant; times are [`chrono::DateTime`]s and durations [`Duration`]s.
//! - **Errors**: one [`Error`] with DingTalk's code ([`ErrorCode`]), message and request id.
//! - **Retries**: throttling, 5xx and network failures are retried with jittered backoff.
//! - **Safety**: HTTPS only (except loopback), secrets never printed, ids percent-encoded.
//!
//! ```no_run
//! use dingtalk_conference::{Client, Error};
//!
//! # async fn run() -> Result<(), Error> {
//! let client = Client::builder()
//!     .app_credentials("dingxxxxxxxx", "app secret")
//!     .build()?;
//! match client.conference_info("6323d7568777190142ab9d10").await {
//!     Ok(info) => println!("{:?}: {:?}", info.title, info.status),
//!     Err(e) if e.is_not_found() => println!("no such conference"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! The low-level generated client is reachable through [`Client::api`] and the
//! [`dingtalk_conference_api`] re-export.
//!
//! [`Duration`]: std::time::Duration

#![forbid(unsafe_code)]

mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod budget;
mod builder;
mod client;
pub mod env;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod model;
mod ops;
mod options;
mod paging;
mod pipeline;
#[cfg(feature = "redis")]
mod redis;
mod retry;
mod secret;
mod store;
mod telemetry;
mod text;
mod wait;
mod watch_many;

pub use auth::{AccessToken, DEFAULT_TOKEN_LIFETIME, TokenFuture, TokenProvider};
pub use budget::MonthlyBudget;
pub use builder::{
    ClientBuilder, Credentials, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_REFRESH_MARGIN, DEFAULT_USER_AGENT, Edition,
};
pub use client::Client;
pub use error::{ApiError, Error, ErrorCode, TimeoutKind, TransportError, TransportErrorKind};
pub use limits::{
    DINGTALK_CALLS_PER_IP, DINGTALK_CALLS_PER_SECOND, DINGTALK_IP_WINDOW, PAUSE_AFTER_THROTTLING,
    RateLimit,
};
pub use model::*;
pub use ops::{
    CONFERENCES_PER_BATCH_REQUEST, MAX_TITLE_CHARS, MAX_TRANSCRIPT_PAGE_SIZE, NewConference,
    TranscriptQuery,
};
pub use options::CallOptions;
#[cfg(feature = "blocking")]
pub use paging::BlockingListing;
pub use paging::{DEFAULT_MAX_PAGES, Listing, Page};
pub use pipeline::shared::DEFAULT_ANSWER_CACHE_ENTRIES;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_EGRESS, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisStore};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use store::{InProcessTokenStore, TokenStore};
pub use text::{MAX_SHOWN_CHARS, escape_untrusted};
pub use wait::{DEFAULT_WAIT_TIMEOUT, WaitEvent, WaitOptions, WaitUntil};
pub use watch_many::SCHEDULED_LEAD;

/// The generated low-level client this crate is built on.
pub use dingtalk_conference_api;
