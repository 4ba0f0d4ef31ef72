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

// The tree follows the call: configuration builds a client, whose calls run through the
// pipeline (admission by auth and limits, a fleet's shared state), for the operations in ops/
// and the waiters built on them; docs/ARCHITECTURE.md draws it.
mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod config;
mod endpoint;
mod error;
#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "redis")]
mod fleet;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod model;
mod ops;
mod pipeline;
mod secret;
mod telemetry;
mod text;
mod waiters;

pub use auth::store::{InProcessTokenStore, TokenStore};
pub use auth::{AccessToken, DEFAULT_TOKEN_LIFETIME, TokenFuture, TokenProvider};
pub use client::Client;
pub use config::builder::{
    ClientBuilder, Credentials, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_REFRESH_MARGIN, DEFAULT_USER_AGENT, Edition,
};
pub use config::env;
pub use config::options::CallOptions;
pub use config::retry::RetryPolicy;
pub use error::{ApiError, Error, ErrorCode, TimeoutKind, TransportError, TransportErrorKind};
#[cfg(feature = "redis")]
pub use fleet::{DEFAULT_EGRESS, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisStore};
pub use limits::month::MonthlyBudget;
pub use limits::{
    DINGTALK_CALLS_PER_IP, DINGTALK_CALLS_PER_SECOND, DINGTALK_IP_WINDOW, PAUSE_AFTER_THROTTLING,
    RateLimit,
};
pub use model::*;
#[cfg(feature = "blocking")]
pub use ops::paging::BlockingListing;
pub use ops::paging::{DEFAULT_MAX_PAGES, Listing, Page};
pub use ops::{
    Answer, AutoLogin, CONFERENCES_PER_BATCH_REQUEST, MAX_TITLE_CHARS, MAX_TRANSCRIPT_PAGE_SIZE,
    MemberNick, NewConference, SubtitleEvents, TranscriptQuery,
};
// part record-stream
pub use ops::{CloudRecording, RecordAllowListChange, StopCloudRecording, StreamOut, StreamStop};
// part data: the builder of `last_metrics`.
pub use ops::MetricMembers;
// part control: the in-meeting control builders.
pub use ops::{
    CohostChange, ConferenceSettings, Focus, Invitation, Kick, McuInvitation, MuteAll, MuteMember,
    PhoneCall,
};
// part schedule
pub use ops::{MinutesPause, MinutesShare, NewMinutes};
pub use ops::{
    NewSchedule, NewShortLink, ScheduleCancellation, ScheduleSettingsUpdate, ScheduleUpdate,
};
pub use pipeline::shared::DEFAULT_ANSWER_CACHE_ENTRIES;
pub use secret::Secret;
pub use text::{MAX_SHOWN_CHARS, escape_untrusted};
pub use waiters::many::SCHEDULED_LEAD;
pub use waiters::{DEFAULT_SAFETY_POLL, DEFAULT_WAIT_TIMEOUT, WaitEvent, WaitOptions, WaitUntil};

/// The generated low-level client this crate is built on.
pub use dingtalk_conference_api;
