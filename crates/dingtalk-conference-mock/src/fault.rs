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
    /// Requests to one operation of the spec, by its `operationId` (e.g.
    /// `"queryConferenceInfo"`, `"getAccessToken"`), optionally only those whose resource id
    /// (the first path parameter, percent-decoded: a conference id, or the room code of
    /// `queryConferenceInfoByRoomCode`) is `id`; the next `times`
    /// of them, or with `None` every one until
    /// [`MockServer::clear_faults`](crate::MockServer::clear_faults).
    Operation {
        /// The operation's `operationId`.
        operation_id: String,
        /// Only requests for this resource id, if set.
        id: Option<String>,
        /// How many requests; `None` for all.
        times: Option<u32>,
    },
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
            Self::Operation { times, .. } => *times,
            Self::Conference(_) => None,
        }
    }

    /// Whether this scope selects a request to `route`.
    pub(crate) fn matches(&self, route: &RouteKind) -> bool {
        let operation = route.operation_id;
        match self {
            Self::NextRequests(_) => true,
            Self::NextConferenceRequests(_) => operation == Some(QUERY_CONFERENCE_INFO),
            Self::NextTokenRequests(_) => TOKEN_OPERATIONS.iter().any(|t| operation == Some(*t)),
            Self::Conference(id) | Self::ConferenceTimes(id, _) => {
                operation == Some(QUERY_CONFERENCE_INFO) && route.id.as_deref() == Some(id)
            }
            Self::Operation {
                operation_id, id, ..
            } => {
                operation == Some(operation_id.as_str())
                    && id.as_ref().is_none_or(|id| route.id.as_ref() == Some(id))
            }
        }
    }

    /// Uses up one request; returns whether the scope is now exhausted.
    pub(crate) fn consume(&mut self) -> bool {
        match self {
            Self::NextRequests(n)
            | Self::NextConferenceRequests(n)
            | Self::NextTokenRequests(n)
            | Self::ConferenceTimes(_, n)
            | Self::Operation { times: Some(n), .. } => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            Self::Conference(_) | Self::Operation { times: None, .. } => false,
        }
    }
}

/// The `operationId` of query conference info, which the conference scopes select.
const QUERY_CONFERENCE_INFO: &str = "queryConferenceInfo";
/// The token operations, which [`FaultScope::NextTokenRequests`] selects.
const TOKEN_OPERATIONS: [&str; 2] = ["getAccessToken", "getCorpAccessToken"];

/// What a fault scope sees of a request: the spec operation it was routed to (none for an
/// unknown route) and its resource id (the first path parameter), if it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RouteKind {
    pub(crate) operation_id: Option<&'static str>,
    pub(crate) id: Option<String>,
}
