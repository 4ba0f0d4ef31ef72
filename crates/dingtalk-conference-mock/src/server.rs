//! The HTTP side: the accept loop, one task per connection, routing to the operations'
//! handlers ([`crate::handlers`]), and the faults around them.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Sleep;

use crate::RecordedRequest;
use crate::events::gateway;
use crate::fault::{Fault, RouteKind};
use crate::handlers::{self, Call, Handler};
use crate::reply::{JSON, Reply, to_json};
use crate::routes::{Matched, match_operation};
use crate::state::Shared;
use dingtalk_conference_api::spec_constants::OPERATIONS;

/// How long in-flight requests may still run once shutdown has begun.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Request bodies larger than this are refused with `413`.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// The largest body of `/__mock/gateway/...` control requests (a raw frame to send).
const MAX_ADMIN_GATEWAY_BODY: usize = 8 * 1024 * 1024;

/// How long a truncated body waits after its partial data before the connection is cut, so the
/// partial data is flushed to the client first.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(20);

/// Control routes for driving the binary from another process (outside DingTalk's API).
pub(crate) const ADMIN_COUNTERS_PATH: &str = "/__mock/counters";
pub(crate) const ADMIN_EXPIRE_TOKENS_PATH: &str = "/__mock/expire-tokens";
pub(crate) const ADMIN_RESET_QUOTA_PATH: &str = "/__mock/reset-quota";
/// part control: someone joins a conference ([`crate::MockServer::join`]).
pub(crate) const ADMIN_JOIN_PATH: &str = "/__mock/join";
// part schedule
pub(crate) const ADMIN_JOIN_SCHEDULE_PATH: &str = "/__mock/join-schedule";

/// Accepts connections until shutdown is signalled (or the sender is dropped), then lets every
/// connection finish (within [`SHUTDOWN_GRACE`]).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Small JSON answers: do not let Nagle hold them back.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(
                        stream,
                        peer.ip(),
                        Arc::clone(&shared),
                        shutdown.clone(),
                    ));
                }
                // Transient (a peer that gave up, or out of file descriptors under load):
                // keep serving after a breath.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Serves one connection (HTTP/1.1 with keep-alive) until the client closes it, a
/// [`Fault::DropConnection`] kills it, or shutdown closes it.
async fn serve_connection(
    stream: TcpStream,
    peer: IpAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let kill = Arc::new(Notify::new());
    let service_kill = Arc::clone(&kill);
    // The gateway's open endpoint names the WebSocket endpoint on this same listener.
    let local = stream.local_addr().ok();
    let service = service_fn(move |request| {
        handle(
            Arc::clone(&shared),
            Arc::clone(&service_kill),
            Peer { ip: peer, local },
            request,
        )
    });
    // With upgrades: the Stream gateway's WebSocket leaves HTTP on this connection.
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut grace: Option<Pin<Box<Sleep>>> = None;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            // Dropping the connection closes the socket without another byte.
            () = kill.notified() => return,
            _ = shutdown.changed(), if grace.is_none() => {
                connection.as_mut().graceful_shutdown();
                grace = Some(Box::pin(tokio::time::sleep(SHUTDOWN_GRACE)));
            }
            () = async {
                if let Some(grace) = grace.as_mut() {
                    grace.await;
                }
            }, if grace.is_some() => return,
        }
    }
}

/// Which operation a request asks for.
enum Route {
    /// An operation of the spec, with its handler.
    Operation(Matched, Handler),
    /// An operation of the spec that this fake does not serve yet: answered `501`, so that the
    /// conformance run fails until it does.
    Unserved(Matched),
    NotFound,
    /// `GET /__mock/counters`: the counters as JSON.
    AdminCounters,
    /// `POST /__mock/expire-tokens`: every issued token stops working.
    AdminExpireTokens,
    /// `POST /__mock/reset-quota`: a new month for the monthly quota.
    AdminResetQuota,
    /// `POST /__mock/join`: someone joins a conference.
    AdminJoin,
    /// `POST /__mock/join-schedule` with `{"scheduleConferenceId", "unionId", "nick"}`:
    /// someone joins a scheduled conference; answers `{"conferenceId"}`.
    AdminJoinSchedule,
    // part gateway
    /// `POST /v1.0/gateway/connections/open`: a Stream mode ticket (DingTalk traffic: logged,
    /// limited per IP and faultable like an operation, by [`gateway::GATEWAY_OPEN_OPERATION`]).
    GatewayOpen,
    /// `/__mock/gateway/…`: the gateway's controls and counters.
    AdminGateway,
    /// `POST /__mock/events/emit`: an event, as `MockServer::emit_event` emits it.
    AdminEmit,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operation(matched, _) => f.debug_tuple("Operation").field(matched).finish(),
            Self::Unserved(matched) => f.debug_tuple("Unserved").field(matched).finish(),
            Self::NotFound => f.write_str("NotFound"),
            Self::AdminCounters => f.write_str("AdminCounters"),
            Self::AdminExpireTokens => f.write_str("AdminExpireTokens"),
            Self::AdminResetQuota => f.write_str("AdminResetQuota"),
            Self::AdminJoin => f.write_str("AdminJoin"),
            Self::AdminJoinSchedule => f.write_str("AdminJoinSchedule"),
            Self::GatewayOpen => f.write_str("GatewayOpen"),
            Self::AdminGateway => f.write_str("AdminGateway"),
            Self::AdminEmit => f.write_str("AdminEmit"),
        }
    }
}

impl Route {
    /// A control request of the fake's own (`/__mock/...`), not DingTalk traffic.
    fn is_admin(&self) -> bool {
        matches!(
            self,
            Self::AdminCounters
                | Self::AdminExpireTokens
                | Self::AdminResetQuota
                | Self::AdminJoin
                | Self::AdminJoinSchedule
                | Self::AdminGateway
                | Self::AdminEmit
        )
    }

    fn of(method: &Method, path: &str) -> Self {
        match (method, path) {
            (&Method::GET, ADMIN_COUNTERS_PATH) => return Self::AdminCounters,
            (&Method::POST, ADMIN_EXPIRE_TOKENS_PATH) => return Self::AdminExpireTokens,
            (&Method::POST, ADMIN_RESET_QUOTA_PATH) => return Self::AdminResetQuota,
            (&Method::POST, ADMIN_JOIN_PATH) => return Self::AdminJoin,
            (&Method::POST, ADMIN_JOIN_SCHEDULE_PATH) => return Self::AdminJoinSchedule,
            (&Method::POST, gateway::OPEN_PATH) => return Self::GatewayOpen,
            (&Method::POST, gateway::ADMIN_EMIT_PATH) => return Self::AdminEmit,
            _ if path
                .strip_prefix(gateway::ADMIN_PREFIX)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) =>
            {
                return Self::AdminGateway;
            }
            _ => {}
        }
        match match_operation(OPERATIONS, method, path) {
            Some(matched) => Self::for_operation(matched),
            None => Self::NotFound,
        }
    }

    /// The handler of a spec operation ([`handlers::find`]); one the fake does not serve yet
    /// is [`Route::Unserved`].
    fn for_operation(matched: Matched) -> Self {
        match handlers::find(matched.operation_id) {
            Some(handler) => Self::Operation(matched, handler),
            None => Self::Unserved(matched),
        }
    }

    /// The operation and the resource id (its first path parameter), for fault scopes.
    fn kind(&self) -> RouteKind {
        match self {
            Self::Operation(matched, _) | Self::Unserved(matched) => RouteKind {
                operation_id: Some(matched.operation_id),
                id: matched.first_param().map(str::to_string),
            },
            Self::GatewayOpen => RouteKind {
                operation_id: Some(gateway::GATEWAY_OPEN_OPERATION),
                id: None,
            },
            Self::NotFound
            | Self::AdminCounters
            | Self::AdminExpireTokens
            | Self::AdminResetQuota
            | Self::AdminJoin
            | Self::AdminJoinSchedule
            | Self::AdminGateway
            | Self::AdminEmit => RouteKind::default(),
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is, and bytes that
/// are not UTF-8 become U+FFFD.
pub(crate) fn percent_decode(segment: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            b'A'..=b'F' => Some(byte - b'A' + 10),
            _ => None,
        }
    }
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(index + 1).copied().and_then(hex),
                bytes.get(index + 2).copied().and_then(hex),
            )
        {
            decoded.push(high << 4 | low);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// How the body of a response is sent.
#[derive(Debug)]
pub(crate) enum MockBody {
    /// All at once.
    Full(Option<Bytes>),
    /// After a pause.
    Slow {
        delay: Pin<Box<Sleep>>,
        data: Option<Bytes>,
    },
    /// Part of it, then a short pause (so it is flushed), then an error that makes hyper close
    /// the connection short of the declared `Content-Length`.
    Truncated {
        data: Option<Bytes>,
        pause: Pin<Box<Sleep>>,
    },
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            Self::Slow { delay, data } => {
                if data.is_some() {
                    ready!(delay.as_mut().poll(cx));
                }
                Poll::Ready(data.take().map(|data| Ok(Frame::data(data))))
            }
            Self::Truncated { data, pause } => {
                if let Some(data) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                ready!(pause.as_mut().poll(cx));
                Poll::Ready(Some(Err(io::Error::other(
                    "body truncated on purpose (Fault::TruncatedBody)",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) | Self::Slow { data, .. } => data.is_none(),
            Self::Truncated { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) | Self::Slow { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
            }
            // Unknown: the explicit `Content-Length` header then decides what hyper promises.
            Self::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// The ids that go into this request's response headers and error body.
struct Ids {
    request_id: String,
    trace_id: String,
    /// The local address the request came in on (for the gateway's endpoint).
    local: Option<SocketAddr>,
}

/// Who a connection is with, and on which local address it came in.
#[derive(Debug, Clone, Copy)]
struct Peer {
    ip: IpAddr,
    local: Option<SocketAddr>,
}

/// Handles one request: record it, count it, answer the ban page if `peer` is banned
/// ([`crate::limits`]), serve a fault if one is due, else the operation.
async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    peer: Peer,
    mut request: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    if request.uri().path() == gateway::CONNECT_PATH {
        return Ok(gateway_connect(shared, &mut request));
    }
    let local = peer.local;
    let peer = peer.ip;
    let (parts, body) = request.into_parts();
    let route = Route::of(&parts.method, parts.uri.path());
    // The gateway's control route takes more, so that a test in another process can send a
    // frame over the SDK's 1 MiB limit (`send-raw`).
    let limit = match route {
        Route::AdminGateway => MAX_ADMIN_GATEWAY_BODY,
        _ => MAX_REQUEST_BODY,
    };
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => Err(error.downcast_ref::<LengthLimitError>().is_some()),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    // A control request whose body is too large or broke off is refused, never taken as an
    // empty body (which would, say, send an empty frame and answer 200).
    if route.is_admin()
        && let Err(too_large) = body
    {
        let (status, why) = if too_large {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
        };
        return Ok(admin_reply(
            status,
            to_json(&serde_json::json!({ "error": why })),
        ));
    }
    // Control requests are not DingTalk traffic: not logged, not counted, never faulted.
    match route {
        Route::AdminCounters => {
            let counters = shared.lock().counters();
            return Ok(admin_reply(StatusCode::OK, to_json(&counters)));
        }
        Route::AdminExpireTokens => {
            shared.lock().expire_all_tokens();
            return Ok(admin_reply(StatusCode::OK, b"{}".to_vec()));
        }
        Route::AdminResetQuota => {
            shared.lock().limits_mut().reset_quota();
            return Ok(admin_reply(StatusCode::OK, b"{}".to_vec()));
        }
        Route::AdminJoin => return Ok(admin_join(&shared, body.as_deref().unwrap_or_default())),
        Route::AdminJoinSchedule => return Ok(admin_join_schedule(&shared, body.as_deref())),
        Route::AdminGateway => {
            let (status, answer) = gateway::admin(
                &shared,
                &parts.method,
                parts.uri.path(),
                body.as_deref().unwrap_or_default(),
            );
            return Ok(admin_json(status, &answer));
        }
        Route::AdminEmit => {
            let (status, answer) =
                gateway::admin_emit(&shared, body.as_deref().unwrap_or_default());
            return Ok(admin_json(status, &answer));
        }
        _ => {}
    }
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body
            .as_ref()
            .map(|bytes| bytes.to_vec())
            .unwrap_or_default(),
    };

    let (ids, banned, fault) = {
        let mut state = shared.lock();
        state.record(recorded);
        let kind = route.kind();
        let counters = state.counters_mut();
        match kind.operation_id {
            Some("getAccessToken") => counters.token_requests += 1,
            Some("getCorpAccessToken") => counters.corp_token_requests += 1,
            Some("queryConferenceInfo") => counters.conference_requests += 1,
            _ => {}
        }
        // The IP limit is DingTalk's edge, in front of everything else: a banned request uses
        // up no fault.
        let banned = !state.admit_ip(peer);
        let fault = if banned {
            None
        } else {
            state.take_fault(&kind)
        };
        let (request_id, trace_id) = state.request_ids();
        (
            Ids {
                request_id,
                trace_id,
                local,
            },
            banned,
            fault,
        )
    };
    if banned {
        return Ok(respond(ip_ban_html(), &ids, Shape::Normal));
    }

    let body = match body {
        Ok(body) => body,
        Err(too_large) => {
            let reply = if too_large {
                Reply::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "request body is too large",
                    &ids.request_id,
                )
            } else {
                Reply::error(
                    StatusCode::BAD_REQUEST,
                    "paramError",
                    "the request body could not be read",
                    &ids.request_id,
                )
            };
            return Ok(respond(reply, &ids, Shape::Normal));
        }
    };

    let Some(fault) = fault else {
        let reply = operate(&shared, &route, &parts, &body, &ids);
        return Ok(respond(reply, &ids, Shape::Normal));
    };

    let reply = match fault {
        Fault::Error {
            status,
            code,
            message,
        } => Reply::error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &code,
            &message,
            &ids.request_id,
        ),
        Fault::Throttle(code) => Reply::throttle(&code, &ids.request_id),
        Fault::TooManyRequests { retry_after } => {
            let reply = Reply::error(
                StatusCode::TOO_MANY_REQUESTS,
                "system.busy",
                "系统繁忙",
                &ids.request_id,
            );
            match retry_after {
                Some(seconds) => reply.header(RETRY_AFTER, seconds.to_string()),
                None => reply,
            }
        }
        Fault::IpBanHtml => ip_ban_html(),
        Fault::IpBanJson => Reply {
            acs_headers: false,
            ..Reply::raw(403, "application/json;charset=utf-8", IP_BAN_JSON)
        },
        Fault::NonJson200 => Reply::raw(200, JSON, NON_JSON_BODY),
        Fault::TruncatedBody => {
            let reply = operate(&shared, &route, &parts, &body, &ids);
            return Ok(respond(reply, &ids, Shape::Truncated));
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            let reply = operate(&shared, &route, &parts, &body, &ids);
            return Ok(respond(reply, &ids, Shape::Normal));
        }
        Fault::SlowBody(delay) => {
            let reply = operate(&shared, &route, &parts, &body, &ids);
            return Ok(respond(reply, &ids, Shape::Slow(delay)));
        }
        Fault::DropConnection => {
            // The connection task drops the connection (and with it the socket); this request
            // never gets an answer.
            kill.notify_one();
            let never: Infallible = std::future::pending().await;
            match never {}
        }
        Fault::RedirectTo(location) => Reply {
            content_type: None,
            ..Reply::raw(302, JSON, Bytes::new())
        }
        .header(LOCATION, location),
        Fault::Body {
            status,
            content_type,
            body,
        } => Reply::raw(status, &content_type, body),
        Fault::BodyWithHeaders {
            status,
            content_type,
            headers,
            body,
        } => headers
            .into_iter()
            .filter_map(|(name, value)| {
                Some((HeaderName::from_bytes(name.as_bytes()).ok()?, value))
            })
            .fold(
                Reply::raw(status, &content_type, body),
                |reply, (name, value)| reply.header(name, value),
            ),
    };
    Ok(respond(reply, &ids, Shape::Normal))
}

const IP_BAN_HTML: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>访问被拒绝</title></head>\
<body><h1>访问被拒绝 Access Denied</h1><p>您的IP访问过于频繁，已被暂时限制访问，请5分钟后再试。</p>\
<p>Your IP has sent too many requests and is temporarily blocked. Try again in 5 minutes.</p></body></html>\n";

/// The anti-abuse ban page: what [`Fault::IpBanHtml`] sends and what a banned IP gets.
fn ip_ban_html() -> Reply {
    Reply {
        acs_headers: false,
        ..Reply::raw(403, "text/html;charset=utf-8", IP_BAN_HTML)
    }
}

const IP_BAN_JSON: &str = r#"{"status":1111,"wait":5,"msg":"ip is blocked, please retry later"}"#;

const NON_JSON_BODY: &str = "<html><body>upstream OK</body></html>";

/// The normal answer to a request.
fn operate(
    shared: &Shared,
    route: &Route,
    parts: &http::request::Parts,
    body: &[u8],
    ids: &Ids,
) -> Reply {
    let request_id = ids.request_id.as_str();
    match route {
        Route::GatewayOpen => {
            let host = ids
                .local
                .map_or_else(|| "127.0.0.1".to_owned(), |addr| addr.to_string());
            match gateway::open(shared, &host, body) {
                Ok(answer) => Reply::ok(&answer),
                Err((code, message)) => {
                    Reply::error(StatusCode::BAD_REQUEST, code, &message, request_id)
                }
            }
        }
        Route::Operation(matched, handler) => {
            let call = Call {
                matched,
                query: handlers::parse_query(parts.uri.query()),
                headers: &parts.headers,
                body,
                request_id,
            };
            handlers::serve(shared, *handler, &call)
        }
        Route::Unserved(matched) => Reply::error(
            StatusCode::NOT_IMPLEMENTED,
            "mock.notImplemented",
            &format!(
                "the fake server does not serve {} yet: add its handler in crates/dingtalk-conference-mock",
                matched.operation_id
            ),
            request_id,
        ),
        Route::NotFound
        | Route::AdminCounters
        | Route::AdminExpireTokens
        | Route::AdminResetQuota
        | Route::AdminJoin
        | Route::AdminJoinSchedule
        | Route::AdminGateway
        | Route::AdminEmit => Reply::error(
            StatusCode::NOT_FOUND,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
            request_id,
        ),
    }
}

/// `POST /__mock/join` with `{"conferenceId", "unionId", "nick"}` (part control): `200 {}`
/// when the person is in, `400` with `{"code", "message"}` for a body that is not that, `409`
/// with the [`JoinRefusal`](crate::JoinRefusal)'s code and words when the conference refuses.
fn admin_join(shared: &Shared, body: &[u8]) -> Response<MockBody> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Join {
        conference_id: String,
        union_id: String,
        nick: Option<String>,
    }
    let refuse = |status: StatusCode, code: &str, message: &str| {
        admin_reply(
            status,
            to_json(&serde_json::json!({"code": code, "message": message})),
        )
    };
    let join: Join = match serde_json::from_slice(body) {
        Ok(join) => join,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "paramsError",
                "the body must be {\"conferenceId\", \"unionId\", \"nick\"}",
            );
        }
    };
    if join.union_id.trim().is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "paramsError", "unionId is empty");
    }
    let nick = join.nick.unwrap_or_else(|| join.union_id.clone());
    match shared.lock().join(
        &join.conference_id,
        &join.union_id,
        &nick,
        crate::state::now_millis(),
    ) {
        Ok(()) => admin_reply(StatusCode::OK, b"{}".to_vec()),
        Err(refusal) => refuse(StatusCode::CONFLICT, refusal.code(), &refusal.to_string()),
    }
}

/// The answer to a control request: plain JSON, none of DingTalk's headers.
// part schedule
/// `POST /__mock/join-schedule`: `{"conferenceId"}`, or `400 {"error": why}` for a body that
/// is not `{"scheduleConferenceId", "unionId", "nick"}` (strings) or a join refused.
fn admin_join_schedule(shared: &Shared, body: Result<&[u8], &bool>) -> Response<MockBody> {
    let refuse = |why: String| {
        admin_reply(
            StatusCode::BAD_REQUEST,
            to_json(&serde_json::json!({ "error": why })),
        )
    };
    let Ok(body) = body else {
        return refuse("the body could not be read".to_owned());
    };
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
        return refuse("the body must be a JSON object".to_owned());
    };
    let text = |name: &str| fields.get(name).and_then(serde_json::Value::as_str);
    let (Some(schedule), Some(union_id), Some(nick)) =
        (text("scheduleConferenceId"), text("unionId"), text("nick"))
    else {
        return refuse("scheduleConferenceId, unionId and nick must be strings".to_owned());
    };
    match crate::handlers::join_schedule(&mut shared.lock(), schedule, union_id, nick) {
        Ok(conference_id) => admin_reply(
            StatusCode::OK,
            to_json(&serde_json::json!({ "conferenceId": conference_id })),
        ),
        Err(why) => refuse(why),
    }
}

/// A control answer with `status` and `answer` as its JSON body.
fn admin_json(status: u16, answer: &serde_json::Value) -> Response<MockBody> {
    admin_reply(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        to_json(answer),
    )
}

/// `GET /connect?ticket=…`: the Stream gateway's WebSocket upgrade. A request that is not a
/// WebSocket handshake gets `400`; a ticket unknown, used, expired or refused on purpose gets
/// `401` `{"code": "invalidTicket", "message"}` (DingTalk documents no answer for it); a valid
/// one is used up and the connection switches to the WebSocket, served by its own task.
fn gateway_connect(shared: Arc<Shared>, request: &mut Request<Incoming>) -> Response<MockBody> {
    let refuse = |status: StatusCode, code: &str, message: &str| {
        admin_reply(
            status,
            to_json(&serde_json::json!({"code": code, "message": message})),
        )
    };
    let headers = request.headers();
    let has = |name: http::header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .unwrap_or_default()
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    };
    let key = headers
        .get(http::header::SEC_WEBSOCKET_KEY)
        .map(|key| key.as_bytes().to_vec());
    let handshake = request.method() == Method::GET
        && has(http::header::CONNECTION, "upgrade")
        && has(http::header::UPGRADE, "websocket")
        && has(http::header::SEC_WEBSOCKET_VERSION, "13");
    let Some(key) = key.filter(|_| handshake) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "notWebSocket",
            "GET /connect?ticket=… is a WebSocket upgrade (version 13)",
        );
    };
    let ticket = handlers::parse_query(request.uri().query())
        .into_iter()
        .find(|(name, _)| name == "ticket")
        .map(|(_, ticket)| ticket)
        .unwrap_or_default();
    let Some(subscriber) = shared.gateway.take_ticket(&ticket) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalidTicket",
            "the ticket is unknown, already used or expired",
        );
    };
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        // The client may go away before the switch completes: nothing to serve then.
        if let Ok(upgraded) = upgrade.await {
            gateway::serve_socket(shared, subscriber, upgraded).await;
        }
    });
    let mut response = Response::new(MockBody::Full(None));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("upgrade"),
    );
    headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) =
        HeaderValue::try_from(tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key))
    {
        headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

fn admin_reply(status: StatusCode, body: Vec<u8>) -> Response<MockBody> {
    let ids = Ids {
        request_id: String::new(),
        trace_id: String::new(),
        local: None,
    };
    respond(
        Reply {
            acs_headers: false,
            ..Reply::json(status, body)
        },
        &ids,
        Shape::Normal,
    )
}

/// How a reply's body goes on the wire.
enum Shape {
    Normal,
    Slow(Duration),
    Truncated,
}

fn respond(reply: Reply, ids: &Ids, shape: Shape) -> Response<MockBody> {
    let full_length = reply.body.len();
    let body = match shape {
        Shape::Normal => MockBody::Full((!reply.body.is_empty()).then_some(reply.body)),
        Shape::Slow(delay) => MockBody::Slow {
            delay: Box::pin(tokio::time::sleep(delay)),
            data: Some(reply.body),
        },
        Shape::Truncated => MockBody::Truncated {
            data: Some(reply.body.slice(..full_length / 2)),
            pause: Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)),
        },
    };
    let is_truncated = matches!(body, MockBody::Truncated { .. });
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    if let Some(content_type) = reply.content_type
        && let Ok(value) = HeaderValue::try_from(content_type)
    {
        headers.insert(CONTENT_TYPE, value);
    }
    if reply.acs_headers {
        if let Ok(value) = HeaderValue::try_from(ids.request_id.as_str()) {
            headers.insert(HeaderName::from_static("x-acs-request-id"), value);
        }
        if let Ok(value) = HeaderValue::try_from(ids.trace_id.as_str()) {
            headers.insert(HeaderName::from_static("x-acs-trace-id"), value);
        }
    }
    for (name, value) in reply.headers {
        // A value that cannot be a header (e.g. a redirect target with a newline) is left out.
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.append(name, value);
        }
    }
    if is_truncated {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(full_length));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_operation_is_routed_and_one_without_a_handler_is_refused_as_unserved() {
        for (operation_id, method, template) in OPERATIONS {
            let path = template.replace("{conferenceId}", "x");
            let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
            let route = Route::of(&method, &path);
            assert_eq!(route.kind().operation_id, Some(*operation_id), "{path}");
            assert!(
                !matches!(route, Route::Unserved(_)),
                "{operation_id} has no handler"
            );
        }
        let unserved = Route::for_operation(Matched {
            operation_id: "listSomethingNew",
            params: vec![("conferenceId", "x".into())],
        });
        assert!(matches!(unserved, Route::Unserved(_)));
        assert_eq!(unserved.kind().id.as_deref(), Some("x"));
    }

    #[test]
    fn percent_decode_decodes_escapes_of_either_case() {
        assert_eq!(percent_decode("a%2Fb%2fc%20d"), "a/b/c d");
        assert_eq!(percent_decode("%E4%BC%9A"), "会");
    }

    #[test]
    fn percent_decode_keeps_malformed_escapes_literally() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn percent_decode_replaces_invalid_utf8() {
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }
}
