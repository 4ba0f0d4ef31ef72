//! HTTP push (`--push-url`): the fake posts every event it emits to the app's URL, encrypted as
//! DingTalk does, and checks the encrypted `success` the app must answer with.
//!
//! This is DingTalk's side of the scheme, written here on its own (the facade's receiver is
//! the other side; the two share no code, so a mistake in one shows against the other):
//!
//! - **Request.** `POST {url}?signature=…&timestamp=…&nonce=…` (DingTalk's URL examples use
//!   `signature`; its Java samples read `msg_signature`: the fake sends `signature`), with
//!   `Content-Type: application/json` and the body `{"encrypt": "<base64>"}`. `timestamp` is
//!   milliseconds since the epoch (DingTalk's examples mix 10 and 13 digits), `nonce` 8 random
//!   letters and digits.
//! - **Plaintext.** The flat JSON of DingTalk's HTTP examples: `EventType`, `EventTime` (epoch
//!   ms), `CorpId`, `BizId` (undocumented beyond "idempotent": the fake uses the `eventId`),
//!   `eventId`, then the payload's fields side by side (a payload that is not an object goes
//!   under `data`).
//! - **Encryption.** random 16 bytes | length (u32, big-endian) | message | owner key, padded
//!   to 32-byte blocks with PKCS#7, AES-256-CBC with key = base64(aes_key + "=") and IV = the
//!   key's first 16 bytes, base64; signature = hex SHA-1 of the sorted token, timestamp, nonce
//!   and ciphertext.
//! - **Reply.** Status 200 with `{"msg_signature", "timeStamp", "nonce", "encrypt"}` whose
//!   signature matches and whose ciphertext decrypts to `success` with the owner key, within
//!   [`DEFAULT_PUSH_REPLY_TIMEOUT`] (DingTalk's current page: 2500 ms).
//! - **Retries.** A push that fails goes again after 10 s, then after 30 s more (DingTalk's
//!   failed-push page; [`PushConfig::retry_delays`] makes them shorter for tests), then lands in
//!   the failed list ([`crate::MockServer::push_failures`]), as DingTalk keeps it for its
//!   `get_call_back_failed_result` API. Each event is pushed by a task of its own, so one
//!   event's retries hold back no other; at most 64 posts are in flight at once (each holds a
//!   socket).
//! - **URL check.** [`crate::MockServer::push_check_url`] posts `{"EventType":"check_url"}` once,
//!   as DingTalk does when the console saves the URL (no retry: the console shows the error).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use bytes::Bytes;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, broadcast, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::MockEvent;

/// The default 签名 token of the fake's HTTP push (`--push-token`).
pub const DEFAULT_PUSH_TOKEN: &str = "mockpushtoken";
/// The default 加密 aes_key (EncodingAESKey, 43 letters and digits) of the fake's HTTP push
/// (`--push-aes-key`).
pub const DEFAULT_PUSH_AES_KEY: &str = "mockPushAesKey0123456789abcdefghijklmnopqrs";
/// The default owner key the fake's pushes end with (`--push-owner-key`): the default app's
/// key, as DingTalk uses the app's AppKey for events subscribed in the console.
pub const DEFAULT_PUSH_OWNER_KEY: &str = crate::DEFAULT_APP_KEY;
/// DingTalk's retries of a failed push: 10 s after the failure, then 30 s after that.
pub const DEFAULT_PUSH_RETRY_DELAYS: [Duration; 2] =
    [Duration::from_secs(10), Duration::from_secs(30)];
/// How long the fake waits for the app's reply: DingTalk's current page says 2500 ms (older
/// ones 1500 ms and 1200 ms).
pub const DEFAULT_PUSH_REPLY_TIMEOUT: Duration = Duration::from_millis(2500);

/// Pushes in flight at once (each holds a socket): a burst of events must not run a test
/// process out of file descriptors. DingTalk documents no figure.
const MAX_IN_FLIGHT: usize = 64;

/// Events being pushed or waiting for a retry at once. Beyond it a new event is lost (counted
/// in [`Pusher::lost`]), so a hung receiver cannot grow the fake without bound.
const MAX_PUSHES: usize = 4096;

/// Failed pushes listed (the latest); the count of failures goes on beyond it.
const MAX_FAILURES_LISTED: usize = 10_000;

/// The largest reply the fake reads (DingTalk's reply is about 200 bytes).
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// The EncodingAESKey plus `=` is canonical base64 only when the last character's low two bits
/// are zero; DingTalk's Java ignores them.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// How the fake pushes events over HTTP ([`crate::MockConfig::push`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushConfig {
    /// Where to post every event (`http://` only). `None` (the default): no HTTP push.
    pub url: Option<String>,
    /// The 签名 token. Default: [`DEFAULT_PUSH_TOKEN`].
    pub token: String,
    /// The 加密 aes_key: 43 ASCII letters and digits. Default: [`DEFAULT_PUSH_AES_KEY`].
    pub aes_key: String,
    /// The owner key appended to every plaintext. Default: [`DEFAULT_PUSH_OWNER_KEY`].
    pub owner_key: String,
    /// The waits before each retry of a failed push. Default: [`DEFAULT_PUSH_RETRY_DELAYS`].
    pub retry_delays: Vec<Duration>,
    /// How long a reply may take. Default: [`DEFAULT_PUSH_REPLY_TIMEOUT`].
    pub reply_timeout: Duration,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            url: None,
            token: DEFAULT_PUSH_TOKEN.to_owned(),
            aes_key: DEFAULT_PUSH_AES_KEY.to_owned(),
            owner_key: DEFAULT_PUSH_OWNER_KEY.to_owned(),
            retry_delays: DEFAULT_PUSH_RETRY_DELAYS.to_vec(),
            reply_timeout: DEFAULT_PUSH_REPLY_TIMEOUT,
        }
    }
}

/// Why one push (or URL check) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// No push URL is configured.
    NoUrl,
    /// The URL is not `http://host[:port]/…`.
    BadUrl(String),
    /// The app could not be reached, or the connection failed mid-request.
    Unreachable(String),
    /// No complete reply within [`PushConfig::reply_timeout`].
    Timeout,
    /// The app answered a status other than 200.
    Status(u16),
    /// The app answered 200 with something other than the encrypted, signed `success`.
    BadReply(&'static str),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoUrl => f.write_str("no push URL is configured"),
            Self::BadUrl(why) => write!(f, "the push URL is not usable: {why}"),
            Self::Unreachable(why) => write!(f, "the push URL could not be reached: {why}"),
            Self::Timeout => f.write_str("the app did not reply in time"),
            Self::Status(status) => write!(f, "the app answered HTTP {status}"),
            Self::BadReply(why) => write!(f, "the app's reply is not the encrypted success: {why}"),
        }
    }
}

impl std::error::Error for PushError {}

/// An event whose push and retries all failed, as DingTalk's failed list keeps it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PushFailure {
    /// The event.
    pub event: MockEvent,
    /// How many times it was posted (1 + the retries).
    pub attempts: u32,
    /// Why the last attempt failed.
    pub error: PushError,
}

#[derive(Debug, Default)]
struct Stats {
    delivered: u64,
    retries: u64,
    /// Events the pusher fell too far behind the bus to see, or had no room for.
    lost: u64,
    /// Events whose every attempt failed.
    failed: u64,
    /// The latest [`MAX_FAILURES_LISTED`] of them.
    failures: std::collections::VecDeque<PushFailure>,
    /// Events being pushed or waiting for a retry.
    unfinished: usize,
}

/// The fake's HTTP pusher: one per server, idle without a URL.
pub(crate) struct Pusher {
    config: PushConfig,
    key: [u8; 32],
    rng: Mutex<StdRng>,
    stats: Mutex<Stats>,
    in_flight: Semaphore,
    /// [`MAX_PUSHES`]; smaller in a test.
    max_pushes: usize,
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// A pusher for `config`; an error names the setting that is wrong (never its value).
    pub(crate) fn new(config: &PushConfig) -> std::io::Result<Self> {
        let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
        let key = decode_key(&config.aes_key)
            .ok_or_else(|| invalid("push aes_key: 43 ASCII letters and digits expected"))?;
        if config.token.is_empty() {
            return Err(invalid("push token: empty"));
        }
        if let Some(url) = &config.url {
            target(url).map_err(|error| invalid(&error.to_string()))?;
        }
        Ok(Self {
            config: config.clone(),
            key,
            rng: Mutex::new(StdRng::from_os_rng()),
            stats: Mutex::new(Stats::default()),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            max_pushes: MAX_PUSHES,
        })
    }

    /// Starts pushing the events `events` yields (subscribed before the server serves, so no
    /// event is missed) until `shutdown`; `None` without a push URL.
    pub(crate) fn start(
        self: &Arc<Self>,
        events: broadcast::Receiver<Arc<MockEvent>>,
        shutdown: watch::Receiver<bool>,
    ) -> Option<JoinHandle<()>> {
        self.config.url.as_ref()?;
        Some(tokio::spawn(Arc::clone(self).run(events, shutdown)))
    }

    async fn run(
        self: Arc<Self>,
        mut events: broadcast::Receiver<Arc<MockEvent>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut pushes = JoinSet::new();
        loop {
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => {
                        let mut stats = self.stats();
                        if stats.unfinished >= self.max_pushes {
                            stats.lost += 1;
                        } else {
                            stats.unfinished += 1;
                            drop(stats);
                            pushes.spawn(Arc::clone(&self).deliver(event));
                        }
                    }
                    // Fell behind the bus: those events are lost, as DingTalk's HTTP push may
                    // lose events ("会出现数据丢失").
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        self.stats().lost += missed;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                // A shutdown, or the server's handle dropped.
                _ = shutdown.changed() => break,
                Some(_) = pushes.join_next(), if !pushes.is_empty() => {}
            }
        }
        pushes.shutdown().await;
    }

    /// Pushes `event`, retrying after each of the configured delays, then lists it as failed.
    async fn deliver(self: Arc<Self>, event: Arc<MockEvent>) {
        self.push(&event).await;
        self.stats().unfinished -= 1;
    }

    async fn push(&self, event: &MockEvent) {
        let plaintext = flat_plaintext(event);
        let mut attempts = 0;
        let mut delays = self.config.retry_delays.iter();
        loop {
            attempts += 1;
            let attempt = async {
                // Never closed, so the permit always comes.
                let _permit = self.in_flight.acquire().await;
                self.post(&plaintext).await
            };
            let error = match attempt.await {
                Ok(()) => {
                    self.stats().delivered += 1;
                    return;
                }
                Err(error) => error,
            };
            let Some(delay) = delays.next() else {
                let mut stats = self.stats();
                stats.failed += 1;
                if stats.failures.len() == MAX_FAILURES_LISTED {
                    stats.failures.pop_front();
                }
                stats.failures.push_back(PushFailure {
                    event: event.clone(),
                    attempts,
                    error,
                });
                return;
            };
            self.stats().retries += 1;
            tokio::time::sleep(*delay).await;
        }
    }

    /// Posts `{"EventType":"check_url"}` once and checks the reply.
    pub(crate) async fn check_url(&self) -> Result<(), PushError> {
        self.post(r#"{"EventType":"check_url"}"#).await
    }

    /// Events pushed and acknowledged with the encrypted `success`.
    pub(crate) fn delivered(&self) -> u64 {
        self.stats().delivered
    }

    /// Retries made (attempts after an event's first).
    pub(crate) fn retries(&self) -> u64 {
        self.stats().retries
    }

    /// Events never pushed: the pusher fell behind the bus by more than its capacity.
    pub(crate) fn lost(&self) -> u64 {
        self.stats().lost
    }

    /// The latest events whose every attempt failed (at most [`MAX_FAILURES_LISTED`]), in
    /// the order they failed.
    pub(crate) fn failures(&self) -> Vec<PushFailure> {
        self.stats().failures.iter().cloned().collect()
    }

    /// How many events failed on every attempt.
    pub(crate) fn failed(&self) -> u64 {
        self.stats().failed
    }

    /// Events being pushed or waiting for a retry now.
    pub(crate) fn unfinished(&self) -> usize {
        self.stats().unfinished
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One attempt: encrypt, sign, post, check the reply.
    async fn post(&self, plaintext: &str) -> Result<(), PushError> {
        let url = self.config.url.as_deref().ok_or(PushError::NoUrl)?;
        let (authority, path) = target(url)?;
        let (random, nonce) = self.fresh();
        let encrypt = self.encrypt(plaintext, &random);
        let timestamp = now_millis().to_string();
        let signature = sign(&self.config.token, &timestamp, &nonce, &encrypt);
        let separator = if path.contains('?') { '&' } else { '?' };
        let uri =
            format!("{path}{separator}signature={signature}&timestamp={timestamp}&nonce={nonce}");
        let body = serde_json::json!({ "encrypt": encrypt }).to_string();
        let reply =
            tokio::time::timeout(self.config.reply_timeout, exchange(&authority, &uri, body))
                .await
                .map_err(|_| PushError::Timeout)??;
        self.check_reply(&reply)
    }

    /// 16 random bytes and an 8-character nonce.
    fn fresh(&self) -> ([u8; 16], String) {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let random = rng.random::<[u8; 16]>();
        let nonce = (0..8)
            .map(|_| {
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                char::from(alphabet[rng.random_range(0..alphabet.len())])
            })
            .collect();
        (random, nonce)
    }

    /// DingTalk's encryption of `message` (base64).
    fn encrypt(&self, message: &str, random: &[u8; 16]) -> String {
        let mut plain = random.to_vec();
        plain.extend_from_slice(
            &u32::try_from(message.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.config.owner_key.as_bytes());
        let pad = 32 - plain.len() % 32;
        plain.resize(plain.len() + pad, u8::try_from(pad).unwrap_or(32));
        match cbc::Encryptor::<Aes256>::new_from_slices(&self.key, &self.key[..16]) {
            Ok(cipher) => STANDARD.encode(cipher.encrypt_padded_vec::<NoPadding>(&plain)),
            Err(_) => String::new(),
        }
    }

    /// The app's reply must be 200 with the signed, encrypted `success` for this owner key.
    fn check_reply(&self, (status, body): &(StatusCode, Bytes)) -> Result<(), PushError> {
        if *status != StatusCode::OK {
            return Err(PushError::Status(status.as_u16()));
        }
        #[derive(serde::Deserialize)]
        struct Reply {
            msg_signature: String,
            #[serde(rename = "timeStamp")]
            time_stamp: String,
            nonce: String,
            encrypt: String,
        }
        let reply: Reply = serde_json::from_slice(body)
            .map_err(|_| PushError::BadReply("not {msg_signature, timeStamp, nonce, encrypt}"))?;
        let expected = sign(
            &self.config.token,
            &reply.time_stamp,
            &reply.nonce,
            &reply.encrypt,
        );
        if expected != reply.msg_signature {
            return Err(PushError::BadReply(
                "msg_signature does not match the token",
            ));
        }
        match self.decrypt(&reply.encrypt) {
            Some((message, owner)) if owner == self.config.owner_key.as_bytes() => {
                if message == b"success" {
                    Ok(())
                } else {
                    Err(PushError::BadReply(
                        "the decrypted message is not `success`",
                    ))
                }
            }
            Some(_) => Err(PushError::BadReply("the owner key does not match")),
            None => Err(PushError::BadReply(
                "encrypt does not decrypt with the aes_key",
            )),
        }
    }

    /// The message and owner key of DingTalk-encrypted `encrypt`, or `None`.
    fn decrypt(&self, encrypt: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut buffer = STANDARD.decode(encrypt).ok()?;
        let plain = cbc::Decryptor::<Aes256>::new_from_slices(&self.key, &self.key[..16])
            .ok()?
            .decrypt_padded::<NoPadding>(&mut buffer)
            .ok()?;
        let pad = usize::from(*plain.last()?);
        if !(1..=32).contains(&pad) || pad > plain.len() {
            return None;
        }
        let text = &plain[..plain.len() - pad];
        let length = text.get(16..20)?;
        let len = usize::try_from(u32::from_be_bytes(length.try_into().ok()?)).ok()?;
        let rest = text.get(20..)?;
        (len <= rest.len()).then(|| (rest[..len].to_vec(), rest[len..].to_vec()))
    }
}

/// The 32-byte AES key of a valid aes_key.
fn decode_key(aes_key: &str) -> Option<[u8; 32]> {
    if aes_key.len() != 43 || !aes_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    KEY_BASE64
        .decode(format!("{aes_key}="))
        .ok()?
        .try_into()
        .ok()
}

/// DingTalk's signature: hex SHA-1 of the sorted, joined strings.
fn sign(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    Sha1::digest(parts.concat().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// DingTalk's flat HTTP plaintext of `event`.
fn flat_plaintext(event: &MockEvent) -> String {
    let mut flat = serde_json::Map::new();
    flat.insert("EventType".into(), event.event_type.clone().into());
    flat.insert("EventTime".into(), event.born_ms.into());
    flat.insert("CorpId".into(), event.corp_id.clone().into());
    flat.insert("BizId".into(), event.event_id.clone().into());
    flat.insert("eventId".into(), event.event_id.clone().into());
    match &event.data {
        serde_json::Value::Object(fields) => {
            for (name, value) in fields {
                flat.insert(name.clone(), value.clone());
            }
        }
        other => {
            flat.insert("data".into(), other.clone());
        }
    }
    serde_json::Value::Object(flat).to_string()
}

/// The `host:port` and the path (with its query) of an `http://` URL.
fn target(url: &str) -> Result<(String, String), PushError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| PushError::BadUrl("not a URL".to_owned()))?;
    if uri.scheme_str() != Some("http") {
        return Err(PushError::BadUrl(
            "only http:// URLs are supported".to_owned(),
        ));
    }
    let host = uri
        .host()
        .ok_or_else(|| PushError::BadUrl("no host".to_owned()))?;
    let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned());
    Ok((authority, path))
}

/// One HTTP/1.1 POST of `body` to `uri` on `authority`: the reply's status and body.
async fn exchange(
    authority: &str,
    uri: &str,
    body: String,
) -> Result<(StatusCode, Bytes), PushError> {
    let unreachable = |error: &dyn fmt::Display| PushError::Unreachable(error.to_string());
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| unreachable(&e))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(&e))?;
    let connection = tokio::spawn(connection);
    let request = Request::post(uri)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| PushError::BadUrl(e.to_string()))?;
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_REPLY_BYTES)
            .collect()
            .await
            .map_err(|e| unreachable(&*e))?
            .to_bytes();
        Ok((status, body))
    }
    .await;
    connection.abort();
    result
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_signs_dingtalk_vector_v1_as_dingtalk_did() {
        let encrypt = "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==";
        assert_eq!(
            sign("123456", "1614767836", "A7Co0cJLMzIDtMMI", encrypt),
            "9a95a004dd16f5c307e849b994173f76aa26e5eb"
        );
        let pusher = Pusher::new(&PushConfig {
            token: "123456".to_owned(),
            aes_key: "1234567890123456789012345678901234567890123".to_owned(),
            owner_key: "dingsnotzck6pm5veliw".to_owned(),
            ..PushConfig::default()
        })
        .expect("valid push settings");
        let (message, owner) = pusher.decrypt(encrypt).expect("decrypts");
        assert_eq!(
            (&message[..], &owner[..]),
            (&b"success"[..], &b"dingsnotzck6pm5veliw"[..])
        );
        let again = pusher.encrypt("success", &[1; 16]);
        assert_eq!(pusher.decrypt(&again).expect("decrypts").0, b"success");
    }

    #[test]
    fn the_plaintext_is_flat_with_dingtalk_s_envelope() {
        let event = MockEvent {
            event_id: "e1".into(),
            event_type: "meeting_status_change".into(),
            corp_id: "corp".into(),
            born_ms: 1_663_143_335_567,
            data: serde_json::json!({"changeScene": "conference_closed", "statusSeqNum": 2}),
        };
        let flat: serde_json::Value =
            serde_json::from_str(&flat_plaintext(&event)).expect("test input");
        assert_eq!(
            flat,
            serde_json::json!({
                "EventType": "meeting_status_change", "EventTime": 1_663_143_335_567_i64,
                "CorpId": "corp", "BizId": "e1", "eventId": "e1",
                "changeScene": "conference_closed", "statusSeqNum": 2
            })
        );
    }

    #[test]
    fn only_http_urls_with_a_host_are_targets() {
        assert_eq!(
            target("http://127.0.0.1:8080/cb?x=1").expect("test input"),
            ("127.0.0.1:8080".to_owned(), "/cb?x=1".to_owned())
        );
        assert_eq!(
            target("http://localhost").expect("test input").0,
            "localhost:80"
        );
        assert!(target("https://example.com/").is_err());
        assert!(target("not a url").is_err());
        assert!(
            Pusher::new(&PushConfig {
                aes_key: "short".into(),
                ..PushConfig::default()
            })
            .is_err()
        );
    }

    #[tokio::test]
    async fn pushes_under_way_are_bounded_and_counted_until_they_end() {
        // A receiver that refuses every connection, and a retry an hour away: each event
        // stays unfinished. Beyond the bound, new events are lost (counted), not queued.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/cb", closed.local_addr().expect("an address"));
        drop(closed);
        let mut pusher = Pusher::new(&PushConfig {
            url: Some(url),
            retry_delays: vec![Duration::from_secs(3600)],
            ..PushConfig::default()
        })
        .expect("valid push settings");
        pusher.max_pushes = 3;
        let pusher = Arc::new(pusher);
        let (events, receiver) = broadcast::channel(16);
        let (stop, shutdown) = watch::channel(false);
        let run = pusher.start(receiver, shutdown).expect("a push URL");
        for n in 0..5u32 {
            events
                .send(Arc::new(MockEvent {
                    event_id: format!("{n:032x}"),
                    event_type: "meeting_status_change".to_owned(),
                    corp_id: crate::DEFAULT_CORP_ID.to_owned(),
                    born_ms: 0,
                    data: serde_json::json!({}),
                }))
                .expect("the pusher listens");
        }
        for _ in 0..500 {
            if pusher.retries() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            (
                pusher.unfinished(),
                pusher.lost(),
                pusher.retries(),
                pusher.failed()
            ),
            (3, 2, 3, 0)
        );
        let _ = stop.send(true);
        run.await.expect("the pusher ends");
        assert_eq!(pusher.delivered(), 0);
    }
}
