//! Opening one connection: `POST {base}/v1.0/gateway/connections/open` for an endpoint and a
//! single-use ticket, then the WebSocket to `endpoint?ticket=…`. A new ticket every time:
//! DingTalk's ticket is valid 90 s and for one connection only.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::StreamOptions;
use crate::error::{request_id_header, snippet};
use crate::{Error, Secret, TransportError};

/// The open endpoint's path under the base URL.
pub(crate) const OPEN_PATH: &str = "/v1.0/gateway/connections/open";

/// The largest answer to the open request read (DingTalk's is about 200 bytes).
const MAX_OPEN_ANSWER_BYTES: usize = 64 * 1024;

/// A connected WebSocket.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What opening a connection needs, fixed when the client is built, and what the client's
/// runners share.
#[derive(Clone)]
pub(crate) struct Setup {
    /// `clientId` and `clientSecret`: the app's key and secret (internal app) or the suite's
    /// (third-party app); `None` for a fixed token or a custom provider, which have no secret.
    pub(crate) credentials: Option<(String, Secret)>,
    /// Where `connections/open` goes: the builder's base URL if one was given, else
    /// [`super::DINGTALK_GATEWAY`] for every edition.
    pub(crate) base_url: String,
    /// Whether a plain `ws://` endpoint on a non-loopback host is accepted.
    pub(crate) allow_insecure: bool,
    /// The `ua` the gateway is told.
    pub(crate) user_agent: String,
    pub(crate) options: StreamOptions,
    /// Which deliveries of the client's events are handled (see the runner): shared by the
    /// client's runners.
    pub(crate) claims: Arc<super::runner::Claims>,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("client_id", &self.credentials.as_ref().map(|(id, _)| id))
            .field("base_url", &self.base_url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The gateway's answer: where to connect, with which ticket.
struct Ticket {
    endpoint: Url,
    ticket: Secret,
}

#[derive(Deserialize)]
struct OpenAnswer {
    endpoint: Option<String>,
    ticket: Option<String>,
}

/// Opens one connection: a fresh ticket, then the WebSocket. `timeout` bounds each of the
/// two steps (the client's request timeout).
pub(crate) async fn connect(
    http: &reqwest::Client,
    setup: &Setup,
    timeout: Duration,
) -> Result<Socket, Error> {
    let ticket = open(http, setup, timeout).await?;
    websocket(ticket, setup, timeout).await
}

/// `POST connections/open`: DingTalk's error for a refused one, typed like any call's.
async fn open(http: &reqwest::Client, setup: &Setup, timeout: Duration) -> Result<Ticket, Error> {
    let Some((client_id, secret)) = &setup.credentials else {
        return Err(no_credentials());
    };
    let base = Url::parse(&setup.base_url)
        .map_err(|e| Error::Config(format!("the gateway URL is not a URL: {e}")))?;
    let body = serde_json::json!({
        "clientId": client_id,
        "clientSecret": secret.expose(),
        "subscriptions": [{"type": "EVENT", "topic": "*"}],
        "ua": setup.user_agent,
        "localIp": local_ip(&base).await,
    });
    let mut response = http
        .post(format!("{}{OPEN_PATH}", setup.base_url))
        .timeout(timeout)
        .json(&body)
        .send()
        .await
        .map_err(|e| Error::Transport(TransportError::new(e)))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut answer = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Transport(TransportError::new(e)))?
    {
        if answer.len() + chunk.len() > MAX_OPEN_ANSWER_BYTES {
            return Err(Error::BodyTooLarge {
                status,
                limit: MAX_OPEN_ANSWER_BYTES,
                request_id: request_id_header(&headers),
            });
        }
        answer.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(
            crate::ApiError::from_lenient_json(status, &headers, &answer)
                .map(|api| Error::Api(Box::new(api)))
                .unwrap_or_else(|| Error::unexpected(status, &headers, snippet(&answer))),
        );
    }
    let decoded: OpenAnswer = serde_json::from_slice(&answer).map_err(|e| Error::Decode {
        status,
        request_id: request_id_header(&headers),
        message: format!("connections/open: {e}"),
        snippet: "[withheld: the body may hold a ticket]".to_string(),
    })?;
    let missing = |what: &str| Error::Decode {
        status,
        request_id: request_id_header(&headers),
        message: format!("connections/open answered without {what}"),
        snippet: "[withheld: the body may hold a ticket]".to_string(),
    };
    let endpoint = decoded
        .endpoint
        .filter(|e| !e.is_empty())
        .ok_or_else(|| missing("an endpoint"))?;
    let ticket = decoded
        .ticket
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| missing("a ticket"))?;
    Ok(Ticket {
        endpoint: checked_endpoint(&endpoint, setup.allow_insecure)?,
        ticket,
    })
}

/// The error of a client with nothing to open a connection with.
pub(crate) fn no_credentials() -> Error {
    Error::Config(
        "a Stream mode connection needs the app's key and secret (app_credentials) or the \
         suite's (suite_credentials): a fixed token or a custom token provider has no secret \
         to open one with"
            .to_string(),
    )
}

/// The endpoint, if it may be used: `wss`, or `ws` on a loopback host (or by opt-in, as for
/// the base URL). The ticket goes in its query, so a plain connection would show it.
fn checked_endpoint(raw: &str, allow_insecure: bool) -> Result<Url, Error> {
    let url = Url::parse(raw).map_err(|e| {
        Error::EventStream(format!(
            "the gateway gave an endpoint that is not a URL: {e}"
        ))
    })?;
    match url.scheme() {
        "wss" => Ok(url),
        "ws" if allow_insecure || is_loopback(&url) => Ok(url),
        "ws" => Err(Error::EventStream(format!(
            "the gateway gave a plain ws:// endpoint on {}: the ticket would cross the network \
             unencrypted; allow_insecure_http(true) accepts it on a trusted network",
            crate::text::shown(url.host_str().unwrap_or_default())
        ))),
        other => Err(Error::EventStream(format!(
            "the gateway gave an endpoint with scheme {:?}; expected wss",
            crate::text::shown(other)
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// Connects the WebSocket, refusing frames over the configured size before they are read.
async fn websocket(ticket: Ticket, setup: &Setup, timeout: Duration) -> Result<Socket, Error> {
    let mut url = ticket.endpoint;
    url.query_pairs_mut()
        .append_pair("ticket", ticket.ticket.expose());
    let request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::EventStream(format!("the endpoint cannot be requested: {e}")))?;
    let limit = setup.options.max_frame_bytes;
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let connecting =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, None);
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(Error::EventStream(format!(
            "the WebSocket did not open within {timeout:?}"
        ))),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(websocket_error(error)),
    }
}

/// A failed WebSocket opening as an [`Error`]: a refused upgrade keeps its status (a refused
/// ticket is an HTTP 4xx); anything else is [`Error::EventStream`]. Never holds the URL, whose
/// query is the ticket.
fn websocket_error(error: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as Ws;
    match error {
        Ws::Http(response) => {
            let body = response.body().as_deref().unwrap_or_default();
            Error::unexpected(response.status(), response.headers(), snippet(body))
        }
        other => Error::EventStream(format!("the WebSocket did not open: {other}")),
    }
}

/// The local address of the route to the gateway, for the open request's `localIp` (DingTalk
/// shows it in the console's connection list); empty when it cannot be told. A UDP socket's
/// `connect` sends nothing: it only picks the route.
async fn local_ip(base: &Url) -> String {
    let Some(host) = base.host_str() else {
        return String::new();
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = base.port_or_known_default().unwrap_or(443);
    let Ok(Some(remote)) = tokio::net::lookup_host((host, port))
        .await
        .map(|mut addrs| addrs.next())
    else {
        return String::new();
    };
    let any = if remote.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    std::net::UdpSocket::bind(any)
        .and_then(|socket| {
            socket.connect(remote)?;
            socket.local_addr()
        })
        .map(|local| local.ip().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_wss_or_plain_on_loopback_only() {
        assert!(checked_endpoint("wss://wss-open-connection.dingtalk.com/connect", false).is_ok());
        assert!(checked_endpoint("ws://127.0.0.1:4000/connect", false).is_ok());
        assert!(checked_endpoint("ws://[::1]:4000/connect", false).is_ok());
        assert!(matches!(
            checked_endpoint("ws://gateway.example/connect", false),
            Err(Error::EventStream(_))
        ));
        assert!(checked_endpoint("ws://gateway.example/connect", true).is_ok());
        assert!(checked_endpoint("https://gateway.example/connect", true).is_err());
        assert!(checked_endpoint("not a url", true).is_err());
    }

    #[test]
    fn setup_debug_shows_no_secret() {
        let setup = Setup {
            credentials: Some(("app-key".into(), Secret::new("hunter2"))),
            base_url: "http://127.0.0.1:1".into(),
            allow_insecure: false,
            user_agent: "ua".into(),
            options: StreamOptions::default(),
            claims: Arc::default(),
        };
        let shown = format!("{setup:?}");
        assert!(
            shown.contains("app-key") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
