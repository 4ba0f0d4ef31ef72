//! A request that did not complete: [`TransportError`].

use std::fmt;

use std::sync::Arc;

/// A request that did not complete.
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Arc<reqwest::Error>,
}

/// What kind of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// The connect or request timeout ran out.
    Timeout,
    /// The connection closed or was reset before the answer arrived.
    Closed,
    /// The response body broke off (connection reset, truncated body).
    Body,
    /// Anything else (e.g. a redirect loop, a malformed response).
    Other,
}

impl TransportError {
    pub(crate) fn new(error: reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            TransportErrorKind::Timeout
        } else if error.is_connect() {
            TransportErrorKind::Connect
        } else if error.is_body() || error.is_decode() {
            TransportErrorKind::Body
        } else if error.is_request() {
            TransportErrorKind::Closed
        } else {
            TransportErrorKind::Other
        };
        Self {
            kind,
            source: Arc::new(error.without_url()),
        }
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the call may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        // Only GETs and idempotent token requests go through here, so replaying a request
        // that may have reached DingTalk is safe.
        !matches!(self.kind, TransportErrorKind::Other)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => {
                "could not connect to DingTalk; check the network, proxy and base URL"
            }
            TransportErrorKind::Timeout => {
                "the request timed out; DingTalk or the network is slow (timeouts are configurable)"
            }
            TransportErrorKind::Closed => {
                "the connection closed before DingTalk answered (reset by a proxy or the server)"
            }
            TransportErrorKind::Body => "the response broke off before it was complete",
            TransportErrorKind::Other => "the request failed",
        };
        // The cause is the `source()`, not part of this text: reporters that walk the chain
        // (anyhow's `{:#}`, `Error::report`) show each cause once.
        f.write_str(what)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
