//! DingTalk's conference events (feature `events`): pushed to the app instead of polled.
//!
//! - [`Event`] and [`ConferenceEvent`]: the typed events, generated from the spec's event
//!   schemas and parsed tolerantly (a payload that does not fit arrives as
//!   [`ConferenceEvent::Unknown`] with its raw JSON, never dropped).
//! - [`stream`]: Stream mode, a WebSocket the app opens itself ([`Client::events`],
//!   [`Client::on_events`]); no public endpoint is needed.
//! - [`http`]: HTTP push, the encrypted callback DingTalk posts to the app's URL.
//!
//! While a stream is connected, the client's waits ([`Client::wait_for_status`],
//! [`Client::wait_for_all`]) react to events and poll only to reconcile.
//!
//! [`Client::events`]: crate::Client::events
//! [`Client::on_events`]: crate::Client::on_events
//! [`Client::wait_for_status`]: crate::Client::wait_for_status
//! [`Client::wait_for_all`]: crate::Client::wait_for_all

#[cfg(feature = "redis")]
pub(crate) mod fleet;
pub mod http;
pub(crate) mod hub;
mod model;
pub mod stream;

pub use model::*;
pub use stream::AckStatus;
