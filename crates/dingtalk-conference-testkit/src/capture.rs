//! A capture server: a real HTTP/1.1 listener on 127.0.0.1 that records each request exactly as
//! it arrived (method, target, headers, body) and answers every one with the same canned response.
//!
//! It serves one connection at a time and closes each after one exchange (`connection: close`),
//! which is all a client making one call at a time needs. It stops when dropped.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::BoxError;

/// Requests whose head is larger than this are refused: the clients under test send a few
/// hundred bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Likewise for bodies.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long [`CaptureServer::next_request`] waits before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// What the server answers.
#[derive(Debug, Clone)]
pub struct CannedResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl CannedResponse {
    /// A JSON response with `status` and `body`.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            body: body.to_string().into_bytes(),
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        let _ = write!(
            head,
            "content-length: {}\r\nconnection: close\r\n\r\n",
            self.body.len()
        );
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// One request as it arrived on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target as sent: path and query, still percent-encoded.
    pub target: String,
    /// The protocol version, e.g. `HTTP/1.1`.
    pub version: String,
    /// The headers in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (as many bytes as `content-length` said).
    pub body: Vec<u8>,
}

impl CapturedRequest {
    /// The values of header `name` (case-insensitive), in arrival order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The path part of the target (before any `?`), still percent-encoded.
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    /// A stable text rendering for snapshots: the request line, the headers sorted by name
    /// (values of `redacted_headers` replaced by `[REDACTED]`, the `host` port by `[PORT]`), a
    /// blank line, and the body pretty-printed if it is JSON (object keys sorted; the
    /// generated types serialize their fields in that order anyway).
    pub fn render(&self, redacted_headers: &[&str]) -> String {
        let mut out = format!("{} {} {}\n", self.method, self.target, self.version);
        let mut headers: Vec<&(String, String)> = self.headers.iter().collect();
        // Stable: repeated headers keep their order.
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in headers {
            let value = if redacted_headers
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                "[REDACTED]".to_string()
            } else if name == "host" {
                redact_port(value)
            } else {
                value.clone()
            };
            let _ = writeln!(out, "{name}: {value}");
        }
        out.push('\n');
        if self.body.is_empty() {
            out.push_str("(no body)\n");
        } else {
            match serde_json::from_slice::<Value>(&self.body) {
                Ok(json) => {
                    let pretty =
                        serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string());
                    let _ = writeln!(out, "{pretty}");
                }
                Err(_) => {
                    let _ = writeln!(
                        out,
                        "(not JSON, {} bytes)\n{}",
                        self.body.len(),
                        String::from_utf8_lossy(&self.body)
                    );
                }
            }
        }
        out
    }
}

/// The server. Each request is recorded; read them in order with
/// [`next_request`](Self::next_request).
#[derive(Debug)]
pub struct CaptureServer {
    base_url: String,
    requests: mpsc::UnboundedReceiver<Result<CapturedRequest, String>>,
    task: JoinHandle<()>,
}

impl CaptureServer {
    /// Listens on an ephemeral port of 127.0.0.1 and answers every request with `response`.
    pub async fn start(response: CannedResponse) -> Result<Self, BoxError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (sender, requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let answer = response.to_bytes();
            while let Ok((stream, _)) = listener.accept().await {
                let captured = exchange(stream, &answer).await;
                if sender.send(captured).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            base_url,
            requests,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`, to hand to the client as its base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The next request the server received, waiting up to 10 s for it.
    pub async fn next_request(&mut self) -> Result<CapturedRequest, BoxError> {
        match tokio::time::timeout(WAIT, self.requests.recv()).await {
            Ok(Some(Ok(request))) => Ok(request),
            Ok(Some(Err(problem))) => Err(format!("malformed request: {problem}").into()),
            Ok(None) => Err("the capture server stopped".into()),
            Err(_) => Err(format!("no request arrived within {WAIT:?}").into()),
        }
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request from `stream`, answers it with `answer`, and returns what was read.
async fn exchange(mut stream: TcpStream, answer: &[u8]) -> Result<CapturedRequest, String> {
    let mut buffer = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(format!("request head larger than {MAX_HEAD_BYTES} bytes"));
        }
        let mut chunk = [0_u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the end of the request head".to_string());
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buffer[..head_end])
        .map_err(|e| format!("request head is not UTF-8: {e}"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("bad request line {request_line:?}"));
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let content_length = match headers.iter().find(|(n, _)| n == "content-length") {
        Some((_, v)) => v
            .parse::<usize>()
            .map_err(|e| format!("bad content-length {v:?}: {e}"))?,
        None => 0,
    };
    if headers.iter().any(|(n, _)| n == "transfer-encoding") {
        return Err("chunked request bodies are not supported by the capture server".to_string());
    }
    if content_length > MAX_BODY_BYTES {
        return Err(format!("request body larger than {MAX_BODY_BYTES} bytes"));
    }
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < content_length {
        let mut chunk = [0_u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the end of the body".to_string());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(content_length);

    stream.write_all(answer).await.map_err(|e| e.to_string())?;
    stream.shutdown().await.map_err(|e| e.to_string())?;

    Ok(CapturedRequest {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `127.0.0.1:41234` becomes `127.0.0.1:[PORT]`: the port changes on every run.
fn redact_port(host: &str) -> String {
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
            format!("{name}:[PORT]")
        }
        _ => host.to_string(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
