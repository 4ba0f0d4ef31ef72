//! Metrics through the [`metrics`](https://docs.rs/metrics) facade, behind the `metrics`
//! feature: install any exporter (Prometheus, StatsD, OpenTelemetry…) in the application and
//! these appear. Without the feature every function here is empty and compiles away.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `dingtalk_calls_total` | counter | `operation`, `outcome` | calls as the caller sees them (one per facade call, retries included), by outcome: `ok`, `throttled`, `quota` (DingTalk's, or the client's own monthly budget), `api_error`, `transport`, `timeout`, `decode`, `invalid_input`, `auth`, `other` |
//! | `dingtalk_call_duration_seconds` | histogram | `operation` | a call's time, rate-limit waits, retries and back-offs included |
//! | `dingtalk_requests_total` | counter | `operation` | HTTP requests sent to DingTalk (attempts) |
//! | `dingtalk_retries_total` | counter | `operation` | attempts after the first (retries and the token replay) |
//! | `dingtalk_throttled_total` | counter | `operation` | throttling answers received (403 `Qps*`/`Qpm*`, 429) |
//! | `dingtalk_rate_limit_wait_seconds` | histogram | `operation` | how long an attempt waited for the client's own rate limit (only attempts that waited) |
//! | `dingtalk_coalesced_total` | counter | `operation` | reads that shared an identical read's request |
//! | `dingtalk_cache_hits_total` | counter | `operation` | reads answered from a recent answer (`max_age`) |
//! | `dingtalk_token_fetches_total` | counter | `outcome` (`ok`/`error`) | access-token fetches |
//! | `dingtalk_redis_fallbacks_total` | counter | `use` (`token`/`rate`/`month`/`events`) | Redis commands not made or failed (down, slow, restarting): the client used its own cache, limiter or count instead, or kept an event local until Redis was back (feature `redis`) |
//! | `dingtalk_events_total` | counter | `event_type` | EVENT frames received over Stream mode, redeliveries included (feature `events`) |
//! | `dingtalk_event_duplicates_total` | counter | – | EVENT frames ACKed `SUCCESS` and not handed to the application again: already handled (feature `events`) |
//! | `dingtalk_event_acks_total` | counter | `status` (`success`/`later`) | ACKs answered to the gateway. `later`: the handler asked for it, panicked, or was busy, or the event's first copy was still being handled; DingTalk sends it again (feature `events`) |
//! | `dingtalk_stream_connects_total` | counter | `outcome` (`opened`/`failed`) | attempts to open a Stream mode connection (feature `events`) |
//! | `dingtalk_stream_connections` | gauge | – | Stream mode connections open now: two during a make-before-break (feature `events`) |
//!
//! `operation` is the spec's `operationId` (such as `queryConferenceInfo`), a small fixed set.
//! `event_type` is one of DingTalk's eight conference event types, or `other`.

use std::time::Duration;

use tokio::time::Instant;

use crate::{Error, ErrorCode};

/// The `outcome` label of a call's result.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) fn outcome(result: Result<(), &Error>) -> &'static str {
    let Err(error) = result else {
        return "ok";
    };
    match error {
        _ if error.is_throttled() => "throttled",
        // Refused before sending, by the fleet's own window: throttled, by us.
        Error::IpWindowFull { .. } => "throttled",
        Error::Api(api) if api.code == ErrorCode::ApiCountLimitForOrg => "quota",
        Error::MonthlyBudgetSpent { .. } => "quota",
        Error::Api(_) => "api_error",
        Error::Transport(_) | Error::UnexpectedResponse { .. } | Error::BodyTooLarge { .. } => {
            "transport"
        }
        Error::Timeout { .. } => "timeout",
        Error::Decode { .. } | Error::RepeatedPageToken { .. } | Error::TooManyPages { .. } => {
            "decode"
        }
        Error::InvalidInput(_) | Error::Config(_) => "invalid_input",
        Error::Auth { .. } | Error::Custom { .. } => "auth",
        _ => "other",
    }
}

#[cfg(feature = "metrics")]
mod enabled {
    use super::{Duration, Error, Instant};

    /// A call `started` then, ended now with `result`.
    pub(crate) fn call(operation: &'static str, result: Result<(), &Error>, started: Instant) {
        let outcome = super::outcome(result);
        metrics::counter!("dingtalk_calls_total", "operation" => operation, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("dingtalk_call_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
    }

    pub(crate) fn request(operation: &'static str, attempt: u32) {
        metrics::counter!("dingtalk_requests_total", "operation" => operation).increment(1);
        if attempt > 1 {
            metrics::counter!("dingtalk_retries_total", "operation" => operation).increment(1);
        }
    }

    pub(crate) fn throttled(operation: &'static str) {
        metrics::counter!("dingtalk_throttled_total", "operation" => operation).increment(1);
    }

    pub(crate) fn rate_limit_wait(operation: &'static str, waited: Duration) {
        metrics::histogram!("dingtalk_rate_limit_wait_seconds", "operation" => operation)
            .record(waited.as_secs_f64());
    }

    pub(crate) fn coalesced(operation: &'static str) {
        metrics::counter!("dingtalk_coalesced_total", "operation" => operation).increment(1);
    }

    pub(crate) fn cache_hit(operation: &'static str) {
        metrics::counter!("dingtalk_cache_hits_total", "operation" => operation).increment(1);
    }

    pub(crate) fn token_fetch(ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        metrics::counter!("dingtalk_token_fetches_total", "outcome" => outcome).increment(1);
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn redis_fallback(what: &'static str) {
        metrics::counter!("dingtalk_redis_fallbacks_total", "use" => what).increment(1);
    }

    #[cfg(feature = "events")]
    pub(crate) fn event_received(event_type: &str) {
        // A label from the network only when it is one of the known types: bounded labels.
        let label = crate::events::EVENT_TYPES
            .iter()
            .find(|known| **known == event_type)
            .copied()
            .unwrap_or("other");
        metrics::counter!("dingtalk_events_total", "event_type" => label).increment(1);
    }

    #[cfg(feature = "events")]
    pub(crate) fn event_duplicate() {
        metrics::counter!("dingtalk_event_duplicates_total").increment(1);
    }

    #[cfg(feature = "events")]
    pub(crate) fn event_ack(status: crate::events::AckStatus) {
        let status = match status {
            crate::events::AckStatus::Success => "success",
            crate::events::AckStatus::Later => "later",
        };
        metrics::counter!("dingtalk_event_acks_total", "status" => status).increment(1);
    }

    #[cfg(feature = "events")]
    pub(crate) fn stream_connect(opened: bool) {
        let outcome = if opened { "opened" } else { "failed" };
        metrics::counter!("dingtalk_stream_connects_total", "outcome" => outcome).increment(1);
    }

    #[cfg(feature = "events")]
    pub(crate) fn stream_connections(change: f64) {
        metrics::gauge!("dingtalk_stream_connections").increment(change);
    }
}

#[cfg(not(feature = "metrics"))]
#[allow(clippy::missing_const_for_fn)]
mod enabled {
    use super::{Duration, Error, Instant};

    // Without the feature nothing is computed for a call: not its outcome, not its time (no
    // clock read).
    pub(crate) fn call(_: &'static str, _: Result<(), &Error>, _: Instant) {}
    pub(crate) fn request(_: &'static str, _: u32) {}
    pub(crate) fn throttled(_: &'static str) {}
    pub(crate) fn rate_limit_wait(_: &'static str, _: Duration) {}
    pub(crate) fn coalesced(_: &'static str) {}
    pub(crate) fn cache_hit(_: &'static str) {}
    pub(crate) fn token_fetch(_: bool) {}
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn redis_fallback(_: &'static str) {}
    #[cfg(feature = "events")]
    pub(crate) fn event_received(_: &str) {}
    #[cfg(feature = "events")]
    pub(crate) fn event_duplicate() {}
    #[cfg(feature = "events")]
    pub(crate) fn event_ack(_: crate::events::AckStatus) {}
    #[cfg(feature = "events")]
    pub(crate) fn stream_connect(_: bool) {}
    #[cfg(feature = "events")]
    pub(crate) fn stream_connections(_: f64) {}
}

pub(crate) use enabled::*;
