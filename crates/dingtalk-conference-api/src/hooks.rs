//! The seam between the generated [`Client`] and whoever drives it.
//!
//! Progenitor builds each request and decodes each response; these hooks run in between: they
//! add the access token, keep undocumented headers off the wire, bound the response body and
//! record what the response looked like, so that a caller can still report the status of an
//! error whose body was not JSON.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, InvalidHeaderValue};

use crate::{ACCESS_TOKEN_HEADER, Client, REQUEST_ID_HEADER, UNAUTHENTICATED_OPERATIONS};

/// Parsed once at compile time rather than on every request.
const TOKEN_HEADER_NAME: HeaderName = HeaderName::from_static(ACCESS_TOKEN_HEADER);
const REQUEST_ID_HEADER_NAME: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

/// The largest response body read by default. A conference answer is a few KiB; anything near
/// this is not DingTalk, and reading it whole would let a broken proxy exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A redirect policy that follows same-origin redirects only (at most 5).
///
/// The access token travels in a custom header, which reqwest does not strip when a redirect
/// leads to another host (it strips only `Authorization`, cookies and the like), and a 307/308
/// to a token endpoint would re-send the app secret. Build every `reqwest::Client` that this
/// crate's [`Client`] uses with it:
///
/// ```
/// let http = reqwest::Client::builder()
///     .redirect(dingtalk_conference_api::hooks::same_origin_redirects())
///     .build()?;
/// # Ok::<(), reqwest::Error>(())
/// ```
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Per-request context for the generated client: the access token to send, the body limit,
/// and a slot where the hooks record what the response looked like.
///
/// Clones share the record slot, so a caller keeps one clone and reads
/// [`RequestContext::response_meta`] after the call. Its `Debug` output never shows the token.
#[derive(Clone)]
pub struct RequestContext {
    token: Option<HeaderValue>,
    timeout: Option<Duration>,
    max_response_bytes: usize,
    record: Arc<Mutex<Option<Seen>>>,
    /// Set by [`RequestContext::keeping_body`]: where the body of the response is kept.
    kept: Option<Arc<Mutex<Option<Bytes>>>>,
}

/// What the hooks kept of a response: for a success whose body passed through, only its status
/// and request id (a header map would cost every call two allocations for nothing); otherwise
/// the whole [`ResponseMeta`].
#[derive(Clone)]
enum Seen {
    Success {
        status: StatusCode,
        request_id: Option<HeaderValue>,
    },
    Whole(ResponseMeta),
}

impl Seen {
    fn into_meta(self) -> ResponseMeta {
        match self {
            Self::Success { status, request_id } => {
                let mut headers = HeaderMap::new();
                if let Some(id) = request_id {
                    headers.insert(REQUEST_ID_HEADER_NAME, id);
                }
                ResponseMeta::new(status, headers)
            }
            Self::Whole(meta) => meta,
        }
    }
}

/// What a response looked like before the generated client decoded it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (DingTalk's `x-acs-request-id`, `Retry-After`, …). For a success
    /// status whose body was passed through unread, only `x-acs-request-id` is kept.
    pub headers: HeaderMap,
    /// Set when the body was larger than the limit and was not read; the limit in bytes.
    pub body_limit_exceeded: Option<usize>,
}

impl ResponseMeta {
    /// A record of a response with this status and these headers, whose body was read.
    pub fn new(status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            status,
            headers,
            body_limit_exceeded: None,
        }
    }
}

impl RequestContext {
    /// A context with no token and the default body limit.
    pub fn new() -> Self {
        Self {
            token: None,
            timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            record: Arc::default(),
            kept: None,
        }
    }

    /// Sends `token` in the `x-acs-dingtalk-access-token` header of operations that need it.
    ///
    /// The header value is marked sensitive, so HTTP-level logging does not print it. Fails if
    /// the token contains characters a header cannot carry.
    pub fn with_access_token(mut self, token: &str) -> Result<Self, InvalidHeaderValue> {
        let mut value = HeaderValue::from_str(token)?;
        value.set_sensitive(true);
        self.token = Some(value);
        Ok(self)
    }

    /// Like [`with_access_token`](Self::with_access_token), for a header value already built
    /// (it is marked sensitive here in any case).
    pub fn with_access_token_header(mut self, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.token = Some(value);
        self
    }

    /// Sets the timeout of the whole request, body included; it overrides the
    /// `reqwest::Client`'s own, so it holds whatever client the caller brings.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Refuses response bodies longer than `limit` bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Keeps the body of the response, as received, for [`RequestContext::kept_body`] (a
    /// body over the limit is not kept). For callers that show the answer exactly as DingTalk
    /// sent it beside its decoded form; other calls pay nothing for it. The body may hold a
    /// secret (the token operations' answers): whoever reads it must not log it.
    pub fn keeping_body(mut self) -> Self {
        self.kept = Some(Arc::default());
        self
    }

    /// The body of the last response seen through this context (or a clone of it), as
    /// received, if it was built with [`RequestContext::keeping_body`].
    pub fn kept_body(&self) -> Option<Bytes> {
        self.kept
            .as_ref()?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What the last response seen through this context (or a clone of it) looked like.
    pub fn response_meta(&self) -> Option<ResponseMeta> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .map(Seen::into_meta)
    }

    fn set_seen(&self, seen: Seen) {
        *self.record.lock().unwrap_or_else(PoisonError::into_inner) = Some(seen);
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("access_token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl ClientHooks<RequestContext> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        if let Some(timeout) = self.inner().timeout {
            *request.timeout_mut() = Some(timeout);
        }
        // (Progenitor's `api-version` header, which DingTalk does not document, is removed
        // from the generated code by `cargo xtask codegen`: xtask/src/wire.rs.)
        if let Some(token) = &self.inner().token
            && !UNAUTHENTICATED_OPERATIONS.contains(&info.operation_id)
        {
            request
                .headers_mut()
                .insert(TOKEN_HEADER_NAME, token.clone());
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.client().execute(request).await?;
        read_bounded(response, self.inner()).await
    }
}

/// Decodes a JSON answer: what progenitor-client's `ResponseValue::from_response` does, with
/// the response's header map moved into the value instead of copied (the generated code calls
/// this in its place; see `xtask/src/wire.rs`).
#[doc(hidden)]
pub async fn decode<T: serde::de::DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
    let inner =
        serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
    Ok(ResponseValue::new(inner, status, headers))
}

/// Builds a request URL: `base`, then each of `pieces` followed by the path parameter of the
/// same place, percent-encoded as one path segment. The generated code calls this where
/// progenitor formats the URL (`cargo xtask codegen`; see `xtask/src/wire.rs`): the same URL
/// as progenitor's `format!("{}…{}…", baseurl, encode_path(&param.to_string()))`, in one
/// allocation of the right size, where that copied each parameter into a `String`, encoded it
/// into another and grew the URL as it went. A parameter that needs encoding is encoded by
/// progenitor-client's own `encode_path`, so both agree on every input by construction.
#[doc(hidden)]
pub fn url(base: &str, pieces: &[&str], params: &[&str]) -> String {
    let capacity = base.len()
        + pieces.iter().map(|piece| piece.len()).sum::<usize>()
        + params.iter().map(|param| param.len()).sum::<usize>();
    let mut url = String::with_capacity(capacity);
    url.push_str(base);
    for (at, piece) in pieces.iter().enumerate() {
        url.push_str(piece);
        if let Some(param) = params.get(at) {
            if param.bytes().all(stays_in_path) {
                url.push_str(param);
            } else {
                url.push_str(&progenitor_client::encode_path(param));
            }
        }
    }
    url
}

/// Whether a byte of a path parameter goes into the URL as it is: printable ASCII outside the
/// set progenitor-client encodes (the WHATWG path-segment set, with `/` and `%`).
fn stays_in_path(byte: u8) -> bool {
    byte.is_ascii_graphic()
        && !matches!(
            byte,
            b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'/' | b'%'
        )
}

/// Bounds the body at the context's limit and records what the response looked like.
///
/// A body whose `Content-Length` is within the limit passes through untouched (hyper refuses
/// more bytes than declared), so the common case costs nothing. A body declared larger is
/// dropped unread; one of unknown length (or any, for a context [keeping its
/// body](RequestContext::keeping_body)) is read here up to the limit. In those cases
/// the generated code gets a rebuilt response, empty if the limit was exceeded, and the record
/// says why.
async fn read_bounded(
    mut response: reqwest::Response,
    context: &RequestContext,
) -> reqwest::Result<reqwest::Response> {
    let limit = context.max_response_bytes;
    let status = response.status();
    let declared = response.content_length();
    let record = |headers: &HeaderMap, exceeded: bool| ResponseMeta {
        status,
        headers: headers.clone(),
        body_limit_exceeded: exceeded.then_some(limit),
    };

    if declared.is_some_and(|len| len <= limit as u64) && context.kept.is_none() {
        // A success answer that fails to decode needs only its request id for the error;
        // keeping just that spares every call a copy of all the headers.
        context.set_seen(if status.is_success() {
            Seen::Success {
                status,
                request_id: response.headers().get(&REQUEST_ID_HEADER_NAME).cloned(),
            }
        } else {
            Seen::Whole(ResponseMeta::new(status, response.headers().clone()))
        });
        return Ok(response);
    }

    let mut exceeded = declared.is_some_and(|len| len > limit as u64);
    let mut body = BytesMut::new();
    if !exceeded {
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > limit {
                exceeded = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
    }
    let body = if exceeded {
        Bytes::new()
    } else {
        body.freeze()
    };
    if let Some(kept) = &context.kept {
        *kept.lock().unwrap_or_else(PoisonError::into_inner) = (!exceeded).then(|| body.clone());
    }
    let meta = record(response.headers(), exceeded);
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = response.version();
    *rebuilt.headers_mut() = meta.headers.clone();
    context.set_seen(Seen::Whole(meta));
    Ok(reqwest::Response::from(rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> reqwest::Request {
        reqwest::Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1:1/v1.0/conference/videoConferences/x"
                .parse()
                .expect("valid URL"),
        )
    }

    async fn pre(context: RequestContext, operation_id: &'static str) -> reqwest::Request {
        let client = Client::new_with_client("http://127.0.0.1:1", reqwest::Client::new(), context);
        let mut request = request();
        client
            .pre::<()>(&mut request, &OperationInfo { operation_id })
            .await
            .expect("pre hook");
        request
    }

    /// The hooks' `pre` (and reading a body already in memory) never awaits anything real: one
    /// poll finishes it.
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the pre hook waited on something"),
        }
    }

    #[test]
    fn urls_are_built_as_progenitor_formats_them() {
        let progenitor = |base: &str, pieces: &[&str], params: &[&str]| {
            let mut url = base.to_string();
            for (at, piece) in pieces.iter().enumerate() {
                url.push_str(piece);
                if let Some(param) = params.get(at) {
                    url.push_str(&progenitor_client::encode_path(param));
                }
            }
            url
        };
        // Every byte alone, every char of the first 1,024 alone, and mixtures.
        let mut inputs: Vec<String> = (0u8..=127).map(|b| char::from(b).to_string()).collect();
        inputs.extend((0u32..1024).filter_map(char::from_u32).map(String::from));
        inputs.extend(
            [
                "",
                "6323d7568777190142000001",
                "a/b c",
                "..",
                "%2F",
                "id?x=1#frag",
                "{conferenceId}",
                "标题",
                "tab\tnew\nline",
                "back`tick\"quote<>",
                "~!@$&'()*+,;=:-._",
            ]
            .map(String::from),
        );
        let base = "https://api.dingtalk.com";
        for input in &inputs {
            for (pieces, params) in [
                (
                    &["/v1.0/conference/videoConferences/"][..],
                    &[input.as_str()][..],
                ),
                (
                    &["/v1.0/conference/videoConferences/", "/members"][..],
                    &[input.as_str()][..],
                ),
                (
                    &["/a/", "/b/", ""][..],
                    &[input.as_str(), input.as_str()][..],
                ),
                (&["/v1.0/conference/customShortLinks"][..], &[][..]),
            ] {
                let built = url(base, pieces, params);
                assert_eq!(built, progenitor(base, pieces, params), "{input:?}");
                assert!(built.len() >= base.len());
            }
        }
    }

    #[test]
    fn a_context_keeping_the_body_keeps_it_as_received_and_others_keep_nothing() {
        let body = br#"{"a":1,"notInTheSpec":true}"#;
        let response = || reqwest::Response::from(http::Response::new(Bytes::from_static(body)));

        let keeping = RequestContext::new().keeping_body();
        let passed = ready(read_bounded(response(), &keeping)).expect("read");
        assert_eq!(keeping.kept_body().as_deref(), Some(&body[..]));
        // The generated code still gets the whole body to decode.
        assert_eq!(ready(passed.bytes()).expect("the body").as_ref(), body);

        let plain = RequestContext::new();
        ready(read_bounded(response(), &plain)).expect("read");
        assert_eq!(plain.kept_body(), None);

        let small = RequestContext::new()
            .keeping_body()
            .with_max_response_bytes(4);
        ready(read_bounded(response(), &small)).expect("read");
        assert_eq!(small.kept_body(), None, "a body over the limit is not kept");
    }

    #[test]
    fn the_token_header_is_sensitive_and_only_on_authenticated_operations() {
        let context = RequestContext::new()
            .with_access_token("secret-token")
            .expect("valid header")
            .with_timeout(Duration::from_secs(3));
        let query = ready(pre(context.clone(), "query_conference_info"));
        let token = query
            .headers()
            .get(ACCESS_TOKEN_HEADER)
            .expect("token sent");
        assert!(token.is_sensitive());
        assert_eq!(token, "secret-token");
        assert_eq!(query.timeout(), Some(&Duration::from_secs(3)));
        for operation in UNAUTHENTICATED_OPERATIONS {
            let request = ready(pre(context.clone(), operation));
            assert!(
                request.headers().get(ACCESS_TOKEN_HEADER).is_none(),
                "{operation}"
            );
        }
        assert!(!format!("{context:?}").contains("secret-token"));
    }
}
