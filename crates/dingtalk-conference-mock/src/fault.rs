//! Scripted faults: what the fake server answers instead of (or around) the normal response.

use std::time::Duration;

/// Which requests a [`Fault`] pushed with [`MockServer::push_fault`](crate::MockServer::push_fault)
/// applies to.
///
/// Faults wait in one first-in, first-out queue. Every request is matched against the queue in
/// order; the first entry whose scope matches is served (one fault per request) and its count is
/// decremented; an entry whose count reaches zero leaves the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultScope {
    /// The next `n` requests to any route, including the token routes and unknown routes.
    NextRequests(u32),
    /// The next `n` requests to the conference route
    /// (`GET /v1.0/conference/videoConferences/{conferenceId}`), whatever the id.
    NextConferenceRequests(u32),
    /// The next `n` requests to either token route (`/v1.0/oauth2/accessToken` or
    /// `/v1.0/oauth2/corpAccessToken`).
    NextTokenRequests(u32),
    /// Every request for this conference id (after percent-decoding) until
    /// [`MockServer::clear_faults`](crate::MockServer::clear_faults).
    Conference(String),
    /// The next `n` requests for this conference id (after percent-decoding).
    ConferenceTimes(String, u32),
}

/// What the fake server does to a request that a [`FaultScope`] selected.
///
/// A `status` that is not a valid HTTP status code (outside 100–999) is sent as `500`.
/// Unless said otherwise, a fault's response carries the usual `x-acs-request-id` and
/// `x-acs-trace-id` headers, and a DingTalk error body carries the same id as `requestid`.
/// Faults are served before normal handling: a request answered by an error fault issues no
/// token and reads no conference. [`Fault::Delay`], [`Fault::SlowBody`] and
/// [`Fault::TruncatedBody`] wrap the normal response instead, so the request is handled as
/// usual (a token request still issues a token).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// A DingTalk error: `status` with the body `{"code","requestid","message"}`.
    Error {
        /// The HTTP status, e.g. `500`.
        status: u16,
        /// The error code, e.g. `systemError`.
        code: String,
        /// The human-readable message.
        message: String,
    },
    /// Gateway throttling: `403` with the given code, e.g.
    /// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`.
    Throttle(String),
    /// `429` with the code `system.busy`, and a `Retry-After` header (seconds) when `Some`.
    TooManyRequests {
        /// Value of the `Retry-After` header, in seconds; no header when `None`.
        retry_after: Option<u64>,
    },
    /// DingTalk's anti-abuse IP ban as an HTML page: `403`, `content-type: text/html`, no
    /// `x-acs-*` headers (it does not come from the API gateway), and a body that is not a
    /// DingTalk error body.
    IpBanHtml,
    /// DingTalk's anti-abuse IP ban as JSON that is *not* a DingTalk error body:
    /// `403` with `{"status":1111,"wait":5,...}` and no `x-acs-*` headers.
    IpBanJson,
    /// `200` labelled `application/json` whose body is not JSON at all.
    NonJson200,
    /// The normal response, but its `Content-Length` promises the whole body while only the
    /// first half is sent before the connection closes.
    TruncatedBody,
    /// Waits this long before sending the normal response (slow headers). The request is
    /// handled after the wait.
    Delay(Duration),
    /// Sends the normal response's headers at once, and its body only after this long.
    SlowBody(Duration),
    /// Closes the TCP connection without sending any response.
    DropConnection,
    /// `302 Found` with `Location: <url>` and an empty body.
    RedirectTo(String),
    /// Anything raw: this status, `content-type` and body (wrong JSON types, `null` fields, huge
    /// bodies, a missing `confInfo`, ...). The `x-acs-*` headers are added as usual.
    Body {
        /// The HTTP status.
        status: u16,
        /// The `content-type` header value.
        content_type: String,
        /// The body, sent as is.
        body: Vec<u8>,
    },
    /// Like [`Fault::Body`], with extra response headers, e.g. `Retry-After` in its HTTP-date
    /// form. A header whose name or value HTTP cannot carry is left out.
    BodyWithHeaders {
        /// The HTTP status.
        status: u16,
        /// The `content-type` header value.
        content_type: String,
        /// Extra headers, as (name, value).
        headers: Vec<(String, String)>,
        /// The body, sent as is.
        body: Vec<u8>,
    },
}

impl FaultScope {
    /// How many requests this scope still covers; `None` for [`FaultScope::Conference`], which
    /// has no count.
    pub(crate) fn remaining(&self) -> Option<u32> {
        match self {
            Self::NextRequests(n)
            | Self::NextConferenceRequests(n)
            | Self::NextTokenRequests(n)
            | Self::ConferenceTimes(_, n) => Some(*n),
            Self::Conference(_) => None,
        }
    }

    /// Whether this scope selects a request to `route`.
    pub(crate) fn matches(&self, route: &RouteKind) -> bool {
        match self {
            Self::NextRequests(_) => true,
            Self::NextConferenceRequests(_) => matches!(route, RouteKind::Conference(_)),
            Self::NextTokenRequests(_) => matches!(route, RouteKind::Token),
            Self::Conference(id) | Self::ConferenceTimes(id, _) => {
                matches!(route, RouteKind::Conference(requested) if requested == id)
            }
        }
    }

    /// Uses up one request; returns whether the scope is now exhausted.
    pub(crate) fn consume(&mut self) -> bool {
        match self {
            Self::NextRequests(n)
            | Self::NextConferenceRequests(n)
            | Self::NextTokenRequests(n)
            | Self::ConferenceTimes(_, n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            Self::Conference(_) => false,
        }
    }
}

/// What a request is, as far as fault scopes care.
#[derive(Debug)]
pub(crate) enum RouteKind {
    /// One of the two token routes.
    Token,
    /// The conference route, with the decoded id.
    Conference(String),
    /// Anything else.
    Other,
}
