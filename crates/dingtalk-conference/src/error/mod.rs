//! The one error type of the crate, and the single place where responses become errors.
//!
//! Every failure, whether DingTalk's, the network's or the caller's, is an [`Error`] that says
//! what happened, what to do, and (where DingTalk gave one) the request id for its support.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference_api::{REQUEST_ID_HEADER, ResponseMeta, types::ErrorBody};

use crate::text::shown;

mod api;
mod code;
mod transport;

pub use api::ApiError;
pub use code::ErrorCode;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
pub use transport::{TransportError, TransportErrorKind};

/// How many bytes of an unexpected body an error keeps, for a person to read.
const SNIPPET_BYTES: usize = 256;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was refused before any request was made.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The client is misconfigured (builder or environment).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// DingTalk answered with its error body.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The answer was not DingTalk's: an error status whose body is not DingTalk's error body
    /// (DingTalk's IP-ban page is HTML), a redirect, or a status the API does not use.
    #[error(
        "unexpected HTTP {status} response{}{}: {snippet:?}{}",
        content_type.as_deref().map(|c| format!(" ({})", shown(c))).unwrap_or_default(),
        request_id.as_deref().map(|r| format!(", request id {}", shown(r))).unwrap_or_default(),
        hint_for_unexpected(*status, location.as_deref())
    )]
    UnexpectedResponse {
        /// The HTTP status.
        status: StatusCode,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The request id header, if any.
        request_id: Option<String>,
        /// The redirect target, for 3xx answers.
        location: Option<String>,
        /// How long the server asked us to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
        /// The start of the body (lossy UTF-8).
        snippet: String,
    },

    /// A success status whose body does not decode as the API's answer.
    #[error(
        "DingTalk's HTTP {status} answer does not match the API{}: {}; body starts {snippet:?}",
        request_id.as_deref().map(|r| format!(" (request id {})", shown(r))).unwrap_or_default(),
        shown(message)
    )]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// The request id header, if any.
        request_id: Option<String>,
        /// What did not match.
        message: String,
        /// The start of the body (lossy UTF-8).
        snippet: String,
    },

    /// A success response's body was larger than the configured limit and was not read. (An
    /// error status with an oversized body is classified by its status instead: see
    /// [`Error::UnexpectedResponse`].)
    #[error(
        "HTTP {status} response body is larger than the {limit}-byte limit and was not read{}",
        request_id.as_deref().map(|r| format!(" (request id {})", shown(r))).unwrap_or_default()
    )]
    BodyTooLarge {
        /// The HTTP status.
        status: StatusCode,
        /// The limit in bytes.
        limit: usize,
        /// The request id header, if any.
        request_id: Option<String>,
    },

    /// The request did not complete: connect failure, timeout, reset, truncated body. The
    /// underlying `reqwest` error is the [`source`](std::error::Error::source).
    #[error(transparent)]
    Transport(TransportError),

    /// No access token could be had; `source` says why (DingTalk's code is on it).
    #[error("could not get an access token from {provider}")]
    Auth {
        /// Where the token was to come from, e.g. `getAccessToken`.
        provider: Cow<'static, str>,
        /// The failure of the token request.
        source: Box<Error>,
    },

    /// [`Client::wait_for_status`](crate::Client::wait_for_status) ran out of time.
    #[error(
        "gave up waiting after {waited:.1?}; {}",
        last_status.map_or_else(
            || "no poll succeeded".to_string(),
            |status| format!("the conference's last status was {status}")
        )
    )]
    WaitTimedOut {
        /// How long it waited.
        waited: Duration,
        /// The status at the last successful poll.
        last_status: Option<crate::ConferenceStatus>,
    },

    /// The organisation's monthly call budget
    /// ([`ClientBuilder::monthly_budget`](crate::ClientBuilder::monthly_budget)) is spent: the
    /// call was not sent. DingTalk would have refused it with `ApiCountLimitForOrg` once its own
    /// quota was spent; do not retry before the next month (or a larger budget).
    #[error(
        "the monthly call budget of organisation {organisation:?} is spent ({used} of {limit} calls in {month}, UTC+8): the call was not sent"
    )]
    MonthlyBudgetSpent {
        /// The organisation whose budget it is.
        organisation: String,
        /// The month, `YYYY-MM` in UTC+8.
        month: String,
        /// Calls counted this month.
        used: u64,
        /// The budget.
        limit: u64,
    },

    /// The fleet's window of calls per egress IP
    /// ([`RedisStore::with_ip_limit`](crate::RedisStore::with_ip_limit), DingTalk's 10,000
    /// calls in 20 s by default) had no free slot for this call, or for the token fetch it
    /// needed, before its deadline: nothing was sent. Sending it anyway could get every process
    /// behind that IP banned for 5 minutes. Retry after `retry_after`, give the call a longer
    /// deadline, or send from more egress IPs, each named with
    /// [`RedisStore::with_egress`](crate::RedisStore::with_egress).
    #[error(
        "the call was not sent: the window of calls of egress IP {:?} has no free slot before the call's deadline (the next one is {retry_after:.1?} away); retry later, give the call a longer deadline, or spread the calls over more egress IPs (RedisStore::with_egress)",
        shown(egress)
    )]
    IpWindowFull {
        /// The egress whose window is full, as named with `RedisStore::with_egress`
        /// (`shared` by default).
        egress: String,
        /// How long until the window's next free slot, when it was asked.
        retry_after: Duration,
    },

    /// One of the client's own time limits ran out: the whole call's deadline, or the token
    /// fetch timeout. `last_error` (the [`source`](std::error::Error::source)) is the failure
    /// of the last attempt, if one failed before time ran out.
    #[error("{}", timeout_message(*kind, *limit))]
    Timeout {
        /// Which limit ran out.
        kind: TimeoutKind,
        /// The limit.
        limit: Duration,
        /// What the last attempt failed with, if it failed before time ran out.
        #[source]
        last_error: Option<Box<Error>>,
    },

    /// A paged listing could not go on: DingTalk handed back a page token it had already
    /// given, and following it would loop for ever. The items before it were delivered.
    #[error(
        "{operation}: DingTalk repeated the page token {}; the listing stops here instead of looping",
        shown(token)
    )]
    RepeatedPageToken {
        /// The operation's `operationId`.
        operation: &'static str,
        /// The repeated token.
        token: String,
    },

    /// A paged listing could not go on: it reached its page cap
    /// ([`Listing::max_pages`](crate::Listing::max_pages), default
    /// [`DEFAULT_MAX_PAGES`](crate::DEFAULT_MAX_PAGES)) and DingTalk still handed out a new
    /// page token. A server that does that for ever would otherwise be followed for ever.
    /// The items of the pages read were delivered.
    #[error(
        "{operation}: DingTalk still gave a next page token after {pages} pages (the listing's \
         max_pages); the listing stops here instead of following it for ever"
    )]
    TooManyPages {
        /// The operation's `operationId`.
        operation: &'static str,
        /// The pages read: the cap.
        pages: u32,
    },

    /// A Stream mode connection (feature `events`) could not be used: the WebSocket did not
    /// open or broke, or the gateway gave an endpoint that may not be used. The event
    /// stream's runner tries again with its back-off.
    #[error("the event stream's connection failed: {0}")]
    EventStream(String),

    /// A failure inside a user-supplied [`TokenProvider`](crate::TokenProvider), which is the
    /// [`source`](std::error::Error::source). Made with [`Error::custom`] (final) or
    /// [`Error::transient`] (retried).
    #[error("{}", if *transient { "a custom token provider failed (transient)" } else { "a custom token provider failed" })]
    Custom {
        /// The provider's own error.
        source: Arc<dyn std::error::Error + Send + Sync>,
        /// Whether trying again later may succeed.
        transient: bool,
    },
}

/// Which time limit an [`Error::Timeout`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The whole call's deadline: attempts, retries, waits, the token replay and token
    /// fetches together ([`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout),
    /// [`CallOptions::timeout`](crate::CallOptions::timeout)).
    Deadline,
    /// Fetching an access token
    /// ([`ClientBuilder::token_fetch_timeout`](crate::ClientBuilder::token_fetch_timeout)).
    TokenFetch,
}

fn timeout_message(kind: TimeoutKind, limit: Duration) -> String {
    match kind {
        TimeoutKind::Deadline => format!(
            "the call did not finish within its {limit:.1?} deadline (retries and waits \
             included); raise it with call_timeout() or CallOptions::timeout()"
        ),
        TimeoutKind::TokenFetch => format!(
            "fetching an access token took longer than {limit:.1?} \
             (token_fetch_timeout); the next call starts a new fetch"
        ),
    }
}

/// A value the spec's constraints refuse ([`dingtalk_conference_api::checks`]), before any
/// request: [`Error::InvalidInput`] naming the spec's parameter, e.g. `conferenceId: the
/// conference id is empty; pass the id returned when the conference was created`.
impl From<dingtalk_conference_api::InputError> for Error {
    fn from(error: dingtalk_conference_api::InputError) -> Self {
        Self::InvalidInput(error.to_string())
    }
}

impl Error {
    /// Wraps an error from your own [`TokenProvider`](crate::TokenProvider) that retrying
    /// will not fix (bad configuration, a refused credential).
    pub fn custom(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Custom {
            source: Arc::from(error.into()),
            transient: false,
        }
    }

    /// Wraps an error from your own [`TokenProvider`](crate::TokenProvider) that may go away
    /// if tried again (a vault that is restarting, a network blip): the call is retried per
    /// its [`RetryPolicy`](crate::RetryPolicy), as DingTalk's own 5xx answers are.
    pub fn transient(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Custom {
            source: Arc::from(error.into()),
            transient: true,
        }
    }

    /// This error and each of its causes, joined by `": "`: for a person to read (the CLI
    /// prints it). Text from the network is escaped and bounded as in `Display`.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            text.push_str(": ");
            text.push_str(&crate::text::shown(&error.to_string()));
            cause = error.source();
        }
        text
    }

    /// DingTalk's error, if this is one, looking through [`Error::Auth`] and the last
    /// failure of an [`Error::Timeout`].
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            Self::Auth { source, .. } => source.api_error(),
            Self::Timeout {
                last_error: Some(last),
                ..
            } => last.api_error(),
            _ => None,
        }
    }

    /// DingTalk's error code, if any (also for token endpoint failures).
    pub fn code(&self) -> Option<&ErrorCode> {
        self.api_error().map(|api| &api.code)
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::UnexpectedResponse { status, .. }
            | Self::Decode { status, .. }
            | Self::BodyTooLarge { status, .. } => Some(*status),
            Self::Auth { source, .. } => source.status(),
            Self::Timeout {
                last_error: Some(last),
                ..
            } => last.status(),
            _ => None,
        }
    }

    /// DingTalk's request id, from the body's `requestid` or the `x-acs-request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.request_id.as_deref(),
            Self::UnexpectedResponse { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::BodyTooLarge { request_id, .. } => request_id.as_deref(),
            Self::Auth { source, .. } => source.request_id(),
            Self::Timeout {
                last_error: Some(last),
                ..
            } => last.request_id(),
            _ => None,
        }
    }

    /// Whether the same call may succeed if made again later: throttling, 5xx, timeouts and
    /// connection failures. Other 4xx answers, quota, permission and whitelist errors are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(api) => api.is_retryable(),
            Self::UnexpectedResponse { status, .. } => is_retryable_status(*status),
            Self::Transport(t) => t.is_retryable(),
            Self::Auth { source, .. } => source.is_retryable(),
            // A hung token source is as transient as a request that timed out; a spent
            // deadline is final for this call.
            Self::Timeout { kind, .. } => *kind == TimeoutKind::TokenFetch,
            Self::Custom { transient, .. } => *transient,
            // The window frees a slot every few milliseconds; the call was never sent.
            Self::IpWindowFull { .. } => true,
            Self::EventStream(_) => true,
            Self::InvalidInput(_)
            | Self::Config(_)
            | Self::Decode { .. }
            | Self::BodyTooLarge { .. }
            | Self::RepeatedPageToken { .. }
            | Self::TooManyPages { .. }
            | Self::WaitTimedOut { .. }
            | Self::MonthlyBudgetSpent { .. } => false,
        }
    }

    /// Whether DingTalk throttled the call (403 `Forbidden.AccessDenied.Qps*`/`Qpm*`, 429).
    pub fn is_throttled(&self) -> bool {
        match self {
            Self::Api(api) => {
                api.code.is_throttling() || api.status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::UnexpectedResponse { status, .. } => *status == StatusCode::TOO_MANY_REQUESTS,
            Self::Auth { source, .. } => source.is_throttled(),
            _ => false,
        }
    }

    /// Whether the failed request cannot have been processed by DingTalk, so that sending a
    /// write (create, close) again cannot do it twice: the gateway throttled it (403
    /// `Qps*`/`Qpm*`, 429), the connection was never made, or no token could be had (nothing
    /// was sent, nor for a full egress IP window). A timeout, a reset or a 5xx after the request was sent is not one of these.
    pub(crate) fn was_not_processed(&self) -> bool {
        match self {
            Self::Transport(t) => t.kind() == TransportErrorKind::Connect,
            Self::Auth { .. } | Self::Custom { .. } | Self::IpWindowFull { .. } => true,
            Self::Timeout { kind, .. } => *kind == TimeoutKind::TokenFetch,
            other => other.is_throttled(),
        }
    }

    /// Whether DingTalk reported no such conference (404 `roomNotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self.code(), Some(ErrorCode::RoomNotFound))
    }

    /// How long DingTalk asked us to wait (`Retry-After`), if it did, or how long until the
    /// egress IP's window has a free slot ([`Error::IpWindowFull`]).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(api) => api.retry_after,
            Self::UnexpectedResponse { retry_after, .. } => *retry_after,
            Self::Auth { source, .. } => source.retry_after(),
            Self::IpWindowFull { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the access token was rejected (400 `InvalidAuthentication`, or 401).
    pub(crate) fn is_token_rejected(&self) -> bool {
        match self {
            Self::Api(api) => {
                api.code == ErrorCode::InvalidAuthentication
                    || api.status == StatusCode::UNAUTHORIZED
            }
            Self::UnexpectedResponse { status, .. } => *status == StatusCode::UNAUTHORIZED,
            _ => false,
        }
    }

    /// Turns what the generated client returned into an [`Error`]. `meta` is what the hooks
    /// recorded of the response; `withhold_body` keeps success bodies out of messages (a token
    /// endpoint's body may hold a token).
    pub(crate) async fn from_api(
        error: progenitor_client::Error<ErrorBody>,
        meta: Option<ResponseMeta>,
        withhold_body: bool,
    ) -> Self {
        use progenitor_client::Error as E;

        if let Some(meta) = &meta
            && let Some(limit) = meta.body_limit_exceeded
        {
            // An error status means what it says whatever its body: a 503 or 429 stays
            // retryable (with its Retry-After), a 401 still triggers the token replay.
            if !meta.status.is_success() {
                return Self::unexpected(
                    meta.status,
                    &meta.headers,
                    format!("[a body of more than {limit} bytes, not read]"),
                );
            }
            return Self::BodyTooLarge {
                status: meta.status,
                limit,
                request_id: request_id_header(&meta.headers),
            };
        }
        match error {
            E::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Self::Api(Box::new(ApiError::new(
                    status,
                    &headers,
                    response.into_inner(),
                )))
            }
            E::InvalidResponsePayload(body, serde_error) => {
                // Without a record (a caller's own hooks) the status is unknown; 200 is the
                // only status whose body is decoded as a success.
                let (status, headers) = meta
                    .map(|m| (m.status, m.headers))
                    .unwrap_or((StatusCode::OK, HeaderMap::new()));
                if !status.is_success()
                    && let Some(api) = ApiError::from_lenient_json(status, &headers, &body)
                {
                    return Self::Api(Box::new(api));
                }
                let snippet = body_snippet(&body, status, withhold_body);
                if status.is_success() {
                    Self::Decode {
                        status,
                        request_id: request_id_header(&headers),
                        message: serde_error.to_string(),
                        snippet,
                    }
                } else {
                    Self::unexpected(status, &headers, snippet)
                }
            }
            E::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                // A status the API does not use (3xx, 1xx, a 2xx other than 200): its body,
                // usually short, is read for the report, within the request's timeout.
                let snippet = match response.bytes().await {
                    Ok(body) => body_snippet(&body, status, withhold_body),
                    Err(e) => format!("[the body could not be read: {}]", e.without_url()),
                };
                Self::unexpected(status, &headers, snippet)
            }
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Self::Transport(TransportError::new(e))
            }
            E::InvalidRequest(message) => Self::InvalidInput(message),
            E::Custom(message) => Self::custom(message),
        }
    }
}

impl Error {
    pub(crate) fn unexpected(status: StatusCode, headers: &HeaderMap, snippet: String) -> Self {
        Self::UnexpectedResponse {
            status,
            content_type: header_string(headers, CONTENT_TYPE.as_str()),
            request_id: request_id_header(headers),
            location: header_string(headers, LOCATION.as_str()),
            retry_after: retry_after_header(headers),
            snippet,
        }
    }
}

/// The start of a body for an error report; a token endpoint's success body is withheld,
/// since it may hold a token.
fn body_snippet(body: &[u8], status: StatusCode, withhold: bool) -> String {
    if withhold && status.is_success() {
        "[withheld: the body may hold a token]".to_string()
    } else {
        snippet(body)
    }
}

fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn hint_for_unexpected(status: StatusCode, location: Option<&str>) -> String {
    if status.is_redirection() {
        match location {
            Some(to) => format!(
                "; refused to follow a redirect to {}: the access token must not leave the API host",
                shown(to)
            ),
            None => "; DingTalk's API does not redirect: check the base URL".to_string(),
        }
    } else if status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS {
        "; this is not DingTalk's error body: the caller's IP may be banned for making too many calls (wait 5 minutes)".to_string()
    } else {
        String::new()
    }
}

pub(crate) fn request_id_header(headers: &HeaderMap) -> Option<String> {
    header_string(headers, REQUEST_ID_HEADER)
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}

/// `Retry-After`, in either of its forms (RFC 9110 §10.2.3): delay-seconds, or an HTTP date,
/// which counts from now (a date in the past means "now").
fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of a body, lossy UTF-8, cut at a character boundary.
pub(crate) fn snippet(body: &[u8]) -> String {
    let mut cut = body.len().min(SNIPPET_BYTES);
    if let Err(e) = std::str::from_utf8(&body[..cut])
        && e.error_len().is_none()
    {
        // The cut fell inside a character: end before it rather than print U+FFFD.
        cut = e.valid_up_to();
    }
    let mut text = String::from_utf8_lossy(&body[..cut]).into_owned();
    if body.len() > cut {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips_through_its_wire_value() {
        let codes = [
            ErrorCode::MissingRoomId,
            ErrorCode::ParamError,
            ErrorCode::NoPermission,
            ErrorCode::RoomNotFound,
            ErrorCode::SystemError,
            ErrorCode::InvalidAuthentication,
            ErrorCode::QpsLimitForApi,
            ErrorCode::QpsLimitForAppkeyAndApi,
            ErrorCode::QpmLimitForAppkeyAndApi,
            ErrorCode::QpsLimitForSuitekeyAndOrgAndApi,
            ErrorCode::QpmLimitForSuitekeyAndOrgAndApi,
            ErrorCode::ApiCountLimitForOrg,
            ErrorCode::AccessTokenPermissionDenied,
            ErrorCode::IpNotInWhiteList,
            ErrorCode::SystemBusy,
            ErrorCode::InvalidClientIdOrSecret,
            ErrorCode::InvalidSuiteKey,
            ErrorCode::InvalidSuiteTicket,
            ErrorCode::InvalidAuthInfo,
            ErrorCode::MissingBody,
        ];
        for code in codes {
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
        }
        assert_eq!(ErrorCode::from_wire("systemBusy"), ErrorCode::SystemBusy);
        assert_eq!(
            ErrorCode::from_wire("brandNew"),
            ErrorCode::Other("brandNew".into())
        );
    }

    #[test]
    fn throttling_codes_retry_and_quota_permission_whitelist_do_not() {
        let api = |status: u16, code: &str| ApiError {
            status: StatusCode::from_u16(status).expect("valid status"),
            code: ErrorCode::from_wire(code),
            message: None,
            request_id: None,
            access_denied_detail: None,
            retry_after: None,
        };
        assert!(api(403, "Forbidden.AccessDenied.QpsLimitForApi").is_retryable());
        assert!(api(403, "Forbidden.AccessDenied.QpmLimitForNewThing").is_retryable());
        assert!(api(429, "system.busy").is_retryable());
        assert!(api(500, "systemError").is_retryable());
        assert!(api(503, "whatever").is_retryable());
        assert!(!api(403, "Forbidden.AccessDenied.ApiCountLimitForOrg").is_retryable());
        assert!(!api(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied").is_retryable());
        assert!(!api(403, "Forbidden.AccessDenied.IpNotInWhiteList").is_retryable());
        assert!(!api(403, "noPermission").is_retryable());
        assert!(!api(404, "roomNotFound").is_retryable());
        assert!(!api(400, "paramError").is_retryable());
    }

    /// One error of each variant, with a real `reqwest` error for the transport failure.
    async fn one_of_each() -> Vec<Error> {
        let refused = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get("http://127.0.0.1:1/")
            .send()
            .await
            .expect_err("nothing listens on port 1");
        let transport = Error::Transport(TransportError::new(refused));
        let api = Error::Api(Box::new(ApiError {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::RoomNotFound,
            message: Some("ROOM NOT FOUND".into()),
            request_id: Some("req-1".into()),
            access_denied_detail: None,
            retry_after: None,
        }));
        vec![
            Error::InvalidInput("empty id".into()),
            Error::Config("no credentials".into()),
            api.clone(),
            Error::unexpected(StatusCode::FORBIDDEN, &HeaderMap::new(), "<html>".into()),
            Error::Decode {
                status: StatusCode::OK,
                request_id: None,
                message: "missing field".into(),
                snippet: "{}".into(),
            },
            Error::BodyTooLarge {
                status: StatusCode::OK,
                limit: 1,
                request_id: None,
            },
            transport.clone(),
            Error::Auth {
                provider: "getAccessToken".into(),
                source: Box::new(api),
            },
            Error::WaitTimedOut {
                waited: Duration::from_secs(1),
                last_status: None,
            },
            Error::Timeout {
                kind: TimeoutKind::Deadline,
                limit: Duration::from_secs(30),
                last_error: Some(Box::new(transport)),
            },
            Error::custom(std::io::Error::other("the vault said no")),
            Error::transient(std::io::Error::other("the vault is restarting")),
        ]
    }

    #[tokio::test]
    async fn every_variant_shows_each_cause_once_and_hands_over_its_source() {
        use std::error::Error as _;
        for error in one_of_each().await {
            let own = error.to_string();
            if let Some(source) = error.source() {
                // A cause is the source's to show, not repeated in the text above it.
                assert!(
                    !own.contains(&source.to_string()),
                    "{own:?} repeats its source"
                );
            }
            let expects_source = matches!(
                error,
                Error::Transport(_)
                    | Error::Custom { .. }
                    | Error::Auth { .. }
                    | Error::Timeout {
                        last_error: Some(_),
                        ..
                    }
            );
            assert_eq!(error.source().is_some(), expects_source, "{error:?}");
            let mut chain = Vec::new();
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            while let Some(e) = cause {
                chain.push(e.to_string());
                cause = e.source();
            }
            let anyhow_report = format!("{:#}", anyhow::Error::from(error.clone()));
            assert_eq!(anyhow_report, chain.join(": "));
            assert_eq!(error.report(), anyhow_report);
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_each_http_date_form() {
        let after = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().expect("header value"));
            retry_after_header(&headers)
        };
        assert_eq!(after("7"), Some(Duration::from_secs(7)));
        assert_eq!(after(" 0 "), Some(Duration::ZERO));
        let soon = std::time::SystemTime::now() + Duration::from_secs(120);
        let imf = httpdate::fmt_http_date(soon);
        let left = after(&imf).expect("IMF-fixdate");
        assert!(left > Duration::from_secs(100) && left <= Duration::from_secs(120));
        // The obsolete RFC 850 and asctime forms, which RFC 9110 says to accept; in the past.
        assert_eq!(
            after("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(after("Sun Nov  6 08:49:37 1994"), Some(Duration::ZERO));
        assert_eq!(after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(after("soon"), None);
        assert_eq!(after("-1"), None);
    }

    #[test]
    fn an_error_body_with_null_or_odd_optional_fields_is_still_dingtalks() {
        let api = ApiError::from_lenient_json(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            br#"{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","requestid":null,"message":7,"accessdenieddetail":null}"#,
        )
        .expect("DingTalk's error");
        assert!(api.is_retryable());
        assert_eq!((api.message, api.request_id), (None, None));
        for not_dingtalks in [
            &b"{}"[..],
            br#"{"code":null}"#,
            br#"{"code":""}"#,
            b"[1]",
            b"<html>",
        ] {
            assert!(
                ApiError::from_lenient_json(
                    StatusCode::FORBIDDEN,
                    &HeaderMap::new(),
                    not_dingtalks
                )
                .is_none()
            );
        }
    }

    #[test]
    fn snippet_is_cut_at_a_character_boundary() {
        let body = "钉".repeat(200);
        let s = snippet(body.as_bytes());
        assert!(s.ends_with('…'));
        assert!(s.len() <= SNIPPET_BYTES + '…'.len_utf8());
    }
}
