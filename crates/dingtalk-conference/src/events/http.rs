//! HTTP push: the encrypted callback DingTalk POSTs to the app's URL (internal apps only, for
//! the conference events), received by a framework-neutral [`Receiver`].
//!
//! Mount [`Receiver::receive`] on any web framework's route: give it the request's query
//! ([`Query`]) and body, send back [`Reply::to_json`] with status 200 **at once**, then handle
//! the [`Push`]. DingTalk wants the reply within 2500 ms (1500 ms and 1200 ms on older pages);
//! `receive` takes microseconds, so the only risk is handling the event before replying.
//! `examples/http_push.rs` does this with axum.
//!
//! The scheme is DingTalk's `DingCallbackCrypto` (docs/EVENTS.md, part push):
//!
//! - **Signature first.** `signature` (or `msg_signature`) must equal the lower-case hex SHA-1
//!   of the token, `timestamp`, `nonce` and the ciphertext, sorted and joined; it is checked,
//!   in constant time, before anything is decrypted, so nothing unauthenticated reaches the
//!   AES or padding code.
//! - **Decryption.** The key is the 43-character EncodingAESKey plus `=`, base64-decoded (32
//!   bytes); AES-256-CBC with the key's first 16 bytes as IV and no padding in the cipher;
//!   then DingTalk's own PKCS#7 with **32-byte** blocks, stripped here by hand.
//! - **Layout.** 16 random bytes, the message length (4 bytes, big-endian), the message (UTF-8
//!   JSON), the owner key (the app's AppKey for events subscribed in the console), which must
//!   match.
//!
//! No error carries the token, the key, the owner key or any plaintext.
//!
//! ```
//! use dingtalk_conference::events::http::{Push, Query, Receiver};
//!
//! // DingTalk's published test vector (its page on the callback crypto).
//! let receiver = Receiver::new(
//!     "123456",
//!     "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
//!     "suite4xxxxxxxxxxxxxxx",
//! )?;
//! let query = Query::parse(
//!     "signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067&nonce=nEXhMP4r",
//! );
//! let body = br#"{"encrypt":"1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="}"#;
//! let received = receiver.receive(&query, body)?;
//! // First the reply (status 200, JSON), then the handling.
//! let reply: String = received.reply.to_json();
//! assert!(reply.contains("\"msg_signature\""));
//! match received.push {
//!     Push::UrlCheck { event_type } => assert_eq!(event_type, "check_create_suite_url"),
//!     Push::Event(event) => println!("{} {}", event.event_type, event.id),
//!     _ => {}
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::Event;
use crate::{Error, Secret};

/// The length of an EncodingAESKey: 43 characters of `[A-Za-z0-9]`.
pub const AES_KEY_LEN: usize = 43;

/// DingTalk's padding block: 32 bytes (not AES's 16), as its reference `PKCS7Padding` has it.
const PAD_BLOCK: usize = 32;

/// The random prefix of every plaintext.
const RANDOM_LEN: usize = 16;

/// The prefix and the length field.
const HEADER_LEN: usize = RANDOM_LEN + 4;

/// What DingTalk must read back, encrypted, to count a push as delivered.
const SUCCESS: &str = "success";

/// The `EventType`s of DingTalk's URL checks (console save, 验证有效性, a suite's URLs).
const URL_CHECKS: [&str; 3] = [
    "check_url",
    "check_create_suite_url",
    "check_update_suite_url",
];

/// The EncodingAESKey plus `=` is canonical base64 only when its last character's two low bits
/// are zero; DingTalk's Java (commons-codec) ignores them, and so must we: DingTalk's own test
/// key `1234…0123` ends in `3`.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

type Encryptor = cbc::Encryptor<Aes256>;
type Decryptor = cbc::Decryptor<Aes256>;

/// Why a push was refused. None of them carries the token, the key or any plaintext; answer
/// any of them with an error status (DingTalk then retries after 10 s and 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The query lacks `signature` (or `msg_signature`), `timestamp` or `nonce`.
    #[error("the push's query has no `{0}`")]
    MissingParameter(&'static str),
    /// The body is not DingTalk's `{"encrypt": "..."}`.
    #[error("the push's body is not a JSON object with an `encrypt` string")]
    BadBody,
    /// The signature does not match this receiver's token: a forged push, or the wrong token.
    #[error("the push's signature does not match (wrong token, or not from DingTalk)")]
    WrongSignature,
    /// The ciphertext is not base64.
    #[error("the push's ciphertext is not base64")]
    BadBase64,
    /// The ciphertext is not whole AES blocks, or the decrypted length field points past the
    /// end.
    #[error("the push's ciphertext or its message length is malformed")]
    WrongLength,
    /// The decrypted padding is not DingTalk's 32-byte PKCS#7 (usually: the wrong AES key).
    #[error("the push's padding is malformed (wrong AES key?)")]
    BadPadding,
    /// The decrypted owner key is not this receiver's (another app's push, or the wrong key).
    #[error("the push's owner key is not this app's")]
    OwnerKeyMismatch,
    /// The decrypted message is not UTF-8 JSON with an `EventType`.
    #[error("the push's decrypted message is not JSON with an EventType")]
    BadMessage,
}

/// The query of a push: DingTalk sends `signature`, `timestamp` and `nonce` (its Java samples
/// read `msg_signature`, so that name is accepted too). Deserializes from a framework's query
/// extractor, or parse the raw query string with [`Query::parse`].
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Query {
    signature: Option<String>,
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("signature", &self.signature())
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .finish()
    }
}

impl Query {
    /// A query from its three values.
    pub fn new(
        signature: impl Into<String>,
        timestamp: impl Into<String>,
        nonce: impl Into<String>,
    ) -> Self {
        Self {
            signature: Some(signature.into()),
            msg_signature: None,
            timestamp: Some(timestamp.into()),
            nonce: Some(nonce.into()),
        }
    }

    /// Parses a raw query string (`signature=…&timestamp=…&nonce=…`, with or without the
    /// leading `?`, percent-encoded or not); other parameters are ignored.
    pub fn parse(query: &str) -> Self {
        let mut parsed = Self::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = Some(percent_decode(value));
            match percent_decode(name).as_str() {
                "signature" => parsed.signature = value,
                "msg_signature" => parsed.msg_signature = value,
                "timestamp" => parsed.timestamp = value,
                "nonce" => parsed.nonce = value,
                _ => {}
            }
        }
        parsed
    }

    /// The signature, under either name (`msg_signature` wins when both are given).
    pub fn signature(&self) -> Option<&str> {
        self.msg_signature.as_deref().or(self.signature.as_deref())
    }

    /// `timestamp`, exactly as sent (its unit is undocumented: the signature uses the text).
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a malformed
/// escape stays as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a push carried, once verified and decrypted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Push {
    /// DingTalk checks the URL (when the console saves it, or on 验证有效性): nothing to
    /// handle, only the reply to send. `event_type` is `check_url` (or a suite's
    /// `check_create_suite_url` / `check_update_suite_url`).
    UrlCheck {
        /// `EventType` as sent.
        event_type: String,
    },
    /// An event (boxed: an event is large beside a URL check). Its [`Event::id`] is
    /// `eventId`, or `BizId` when DingTalk sent no `eventId`; a push with neither is
    /// [`PushError::BadMessage`].
    Event(Box<Event>),
}

/// The answer DingTalk expects: `{"msg_signature", "timeStamp", "nonce", "encrypt"}`, the
/// string `success` encrypted and signed. Send it as the response body (JSON, status 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    msg_signature: String,
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    nonce: String,
    encrypt: String,
}

impl Reply {
    /// The reply as a JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `msg_signature`.
    pub fn msg_signature(&self) -> &str {
        &self.msg_signature
    }

    /// `timeStamp`: milliseconds since the epoch, as DingTalk's current Java sample sends.
    pub fn time_stamp(&self) -> &str {
        &self.time_stamp
    }

    /// `nonce`: 16 fresh random letters and digits.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// `encrypt`: the ciphertext of `success`.
    pub fn encrypt(&self) -> &str {
        &self.encrypt
    }
}

/// A verified, decrypted push and the reply to send for it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Received {
    /// What the push carried.
    pub push: Push,
    /// The reply to send, at once, before handling the push.
    pub reply: Reply,
}

/// Receives DingTalk's HTTP pushes for one app: verifies, decrypts and answers them. Cheap to
/// clone; `Debug` shows none of its secrets.
#[derive(Clone)]
pub struct Receiver {
    token: Secret,
    key: Arc<[u8; 32]>,
    owner_key: Secret,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("token", &self.token)
            .field("aes_key", &"[redacted]")
            .field("owner_key", &self.owner_key)
            .finish()
    }
}

impl Receiver {
    /// A receiver for the console's 签名 token and 加密 aes_key (the EncodingAESKey), and the
    /// owner key the pushes end with: the app's AppKey (Client ID) for the events subscribed in
    /// the developer console (DingTalk's older pages say the CorpId; a third-party app's is its
    /// SuiteKey).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the token is not 3 to 63 ASCII letters and digits (the console
    /// asks for 3 to 32, DingTalk's older API for 6 to 63), the key not 43 characters of
    /// `[A-Za-z0-9]`, or the owner key blank. The message never contains the values.
    pub fn new(
        token: impl Into<String>,
        aes_key: impl Into<String>,
        owner_key: impl Into<String>,
    ) -> Result<Receiver, Error> {
        let token = token.into();
        let aes_key = aes_key.into();
        let owner_key = owner_key.into();
        if !(3..=63).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::Config(
                "HTTP push: the token must be 3 to 63 ASCII letters and digits (the console's \
                 签名 token)"
                    .to_owned(),
            ));
        }
        let key = decode_key(&aes_key).ok_or_else(|| {
            Error::Config(format!(
                "HTTP push: the aes_key must be {AES_KEY_LEN} ASCII letters and digits (the \
                 console's 加密 aes_key)"
            ))
        })?;
        if owner_key.trim().is_empty() {
            return Err(Error::Config(
                "HTTP push: the owner key is blank (give the app's AppKey)".to_owned(),
            ));
        }
        Ok(Receiver {
            token: Secret::new(token),
            key: Arc::new(key),
            owner_key: Secret::new(owner_key),
        })
    }

    /// Verifies, decrypts and answers one push: `query` is the request's query, `body` its
    /// body. Takes microseconds; send [`Received::reply`] before handling
    /// [`Received::push`].
    ///
    /// # Errors
    ///
    /// A [`PushError`] for a push that is malformed, signed with another token, encrypted
    /// with another key or meant for another owner key: answer it with an error status.
    pub fn receive(&self, query: &Query, body: &[u8]) -> Result<Received, PushError> {
        let ciphertext = encrypted_body(body)?;
        let message = self.open(query, &ciphertext)?;
        let push = push_of(&message)?;
        Ok(Received {
            push,
            reply: self.reply(),
        })
    }

    /// A fresh reply: `success`, encrypted and signed, stamped now.
    pub fn reply(&self) -> Reply {
        let encrypt = self.seal(SUCCESS, &random_bytes());
        let time_stamp = now_millis().to_string();
        let nonce: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(16)
            .collect();
        let msg_signature = signature(self.token.expose(), &time_stamp, &nonce, &encrypt);
        Reply {
            msg_signature,
            time_stamp,
            nonce,
            encrypt,
        }
    }

    /// Checks the signature, then decrypts `ciphertext` and checks the owner key: the message.
    fn open(&self, query: &Query, ciphertext: &str) -> Result<String, PushError> {
        let given = query
            .signature()
            .ok_or(PushError::MissingParameter("signature"))?;
        let timestamp = query
            .timestamp()
            .ok_or(PushError::MissingParameter("timestamp"))?;
        let nonce = query.nonce().ok_or(PushError::MissingParameter("nonce"))?;
        let expected = signature(self.token.expose(), timestamp, nonce, ciphertext);
        if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Err(PushError::WrongSignature);
        }
        self.decrypt(ciphertext)
    }

    /// Decrypts base64 `ciphertext` into its message, checking the owner key.
    fn decrypt(&self, ciphertext: &str) -> Result<String, PushError> {
        let mut buffer = STANDARD
            .decode(ciphertext)
            .map_err(|_| PushError::BadBase64)?;
        if buffer.is_empty() || buffer.len() % 16 != 0 {
            return Err(PushError::WrongLength);
        }
        let plain = Decryptor::new_from_slices(&self.key[..], &self.key[..16])
            .map_err(|_| PushError::WrongLength)?
            .decrypt_padded::<NoPadding>(&mut buffer)
            .map_err(|_| PushError::WrongLength)?;
        let unpadded = unpad(plain)?;
        let (message, owner) = split_plaintext(unpadded)?;
        if !constant_time_eq(owner, self.owner_key.expose().as_bytes()) {
            return Err(PushError::OwnerKeyMismatch);
        }
        String::from_utf8(message.to_vec()).map_err(|_| PushError::BadMessage)
    }

    /// Encrypts `message` after `random`, as DingTalk does: base64 of AES-256-CBC over
    /// random | length | message | owner key | 32-byte padding.
    fn seal(&self, message: &str, random: &[u8; RANDOM_LEN]) -> String {
        let mut plain = Vec::with_capacity(HEADER_LEN + message.len() + PAD_BLOCK + 64);
        plain.extend_from_slice(random);
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.owner_key.expose().as_bytes());
        pad(&mut plain);
        // The key is 32 bytes and the IV 16 by construction, and the padded text whole
        // blocks: encryption cannot fail.
        let Ok(cipher) = Encryptor::new_from_slices(&self.key[..], &self.key[..16]) else {
            return String::new();
        };
        STANDARD.encode(cipher.encrypt_padded_vec::<NoPadding>(&plain))
    }
}

/// The 32 bytes of a valid EncodingAESKey, or `None`.
fn decode_key(aes_key: &str) -> Option<[u8; 32]> {
    if aes_key.len() != AES_KEY_LEN || !aes_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    KEY_BASE64
        .decode(format!("{aes_key}="))
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

/// The `encrypt` string of a push's body.
fn encrypted_body(body: &[u8]) -> Result<String, PushError> {
    #[derive(Deserialize)]
    struct Body {
        encrypt: String,
    }
    serde_json::from_slice::<Body>(body)
        .map(|body| body.encrypt)
        .map_err(|_| PushError::BadBody)
}

/// DingTalk's signature: the lower-case hex SHA-1 of the four strings sorted and joined.
fn signature(token: &str, timestamp: &str, nonce: &str, ciphertext: &str) -> String {
    let mut parts = [token, timestamp, nonce, ciphertext];
    parts.sort_unstable();
    let digest = Sha1::digest(parts.concat().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares without stopping at the first difference (the lengths are not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Pads to whole 32-byte blocks with DingTalk's PKCS#7: 1 to 32 bytes, each the count.
fn pad(plain: &mut Vec<u8>) {
    let count = PAD_BLOCK - plain.len() % PAD_BLOCK;
    // `count` is 1..=32 by construction.
    let byte = u8::try_from(count).unwrap_or(PAD_BLOCK as u8);
    plain.resize(plain.len() + count, byte);
}

/// Strips DingTalk's 32-byte PKCS#7 padding, checking every pad byte.
fn unpad(plain: &[u8]) -> Result<&[u8], PushError> {
    let count = usize::from(*plain.last().ok_or(PushError::BadPadding)?);
    if !(1..=PAD_BLOCK).contains(&count) || count > plain.len() {
        return Err(PushError::BadPadding);
    }
    let (text, padding) = plain.split_at(plain.len() - count);
    if padding.iter().any(|&byte| usize::from(byte) != count) {
        return Err(PushError::BadPadding);
    }
    Ok(text)
}

/// Splits random | length | message | owner key into the message and the owner key.
fn split_plaintext(text: &[u8]) -> Result<(&[u8], &[u8]), PushError> {
    let Some((length, rest)) = text
        .get(RANDOM_LEN..)
        .and_then(|after_random| after_random.split_first_chunk::<4>())
    else {
        return Err(PushError::WrongLength);
    };
    let len = usize::try_from(u32::from_be_bytes(*length)).map_err(|_| PushError::WrongLength)?;
    if len > rest.len() {
        return Err(PushError::WrongLength);
    }
    Ok(rest.split_at(len))
}

/// The typed push of a decrypted message: DingTalk's HTTP plaintext is flat (`EventType`,
/// `EventTime`, `CorpId`, `BizId`, `eventId` and the payload's fields side by side).
fn push_of(message: &str) -> Result<Push, PushError> {
    let json: serde_json::Value =
        serde_json::from_str(message).map_err(|_| PushError::BadMessage)?;
    let text = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
    let event_type = text("EventType").ok_or(PushError::BadMessage)?.to_owned();
    if URL_CHECKS.contains(&event_type.as_str()) {
        return Ok(Push::UrlCheck { event_type });
    }
    // The model reads the flat envelope (`eventId`, else `BizId`; `CorpId`; `EventTime`) and
    // the payload beside it.
    Event::from_http_plaintext(message)
        .map(|event| Push::Event(Box::new(event)))
        .map_err(|_| PushError::BadMessage)
}

/// Milliseconds since the epoch (0 on a clock before 1970).
fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
}

/// 16 random bytes for a plaintext's prefix (a salt, not a secret: DingTalk's Java draws it
/// from `java.util.Random`).
fn random_bytes() -> [u8; RANDOM_LEN] {
    std::array::from_fn(|_| fastrand::u8(..))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ConferenceEvent;
    use proptest::prelude::*;

    // DingTalk's published vectors (docs/EVENTS.md, part push).
    const V1_TOKEN: &str = "123456";
    const V1_KEY: &str = "1234567890123456789012345678901234567890123";
    const V1_OWNER: &str = "dingsnotzck6pm5veliw";
    const V1_SIGNATURE: &str = "9a95a004dd16f5c307e849b994173f76aa26e5eb";
    const V1_TIMESTAMP: &str = "1614767836";
    const V1_NONCE: &str = "A7Co0cJLMzIDtMMI";
    const V1_ENCRYPT: &str =
        "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==";

    const V2_KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
    const V2_OWNER: &str = "suite4xxxxxxxxxxxxxxx";
    const V2_QUERY: &str =
        "signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067&nonce=nEXhMP4r";
    const V2_BODY: &str = r#"{"encrypt":"1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="}"#;

    const TOKEN: &str = "pushToken1";
    const KEY: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456";
    const OWNER: &str = "dingappkey123";

    fn receiver() -> Receiver {
        Receiver::new(TOKEN, KEY, OWNER).expect("valid receiver settings")
    }

    /// A push as DingTalk would send it: the query and the body for `ciphertext`.
    fn signed(token: &str, ciphertext: &str) -> (Query, Vec<u8>) {
        let query = Query::new(
            signature(token, "1700000000000", "n0nce", ciphertext),
            "1700000000000",
            "n0nce",
        );
        let body = serde_json::json!({ "encrypt": ciphertext })
            .to_string()
            .into_bytes();
        (query, body)
    }

    /// Encrypts raw plaintext bytes (already padded) with `key`, base64.
    fn raw_encrypt(key: &str, plain: &[u8]) -> String {
        let key = decode_key(key).expect("test input");
        let cipher = Encryptor::new_from_slices(&key, &key[..16]).expect("test input");
        STANDARD.encode(cipher.encrypt_padded_vec::<NoPadding>(plain))
    }

    #[test]
    fn dingtalk_vector_v1_decrypts_to_success_after_its_signature_matches() {
        let receiver = Receiver::new(V1_TOKEN, V1_KEY, V1_OWNER).expect("valid receiver settings");
        let query = Query::new(V1_SIGNATURE, V1_TIMESTAMP, V1_NONCE);
        assert_eq!(
            receiver.open(&query, V1_ENCRYPT).expect("a valid push"),
            "success"
        );
        let wrong_owner =
            Receiver::new(V1_TOKEN, V1_KEY, "dingsomeoneelse").expect("valid receiver settings");
        assert_eq!(
            wrong_owner.open(&query, V1_ENCRYPT),
            Err(PushError::OwnerKeyMismatch)
        );
    }

    #[test]
    fn dingtalk_vector_v2_is_a_suite_url_check() {
        let receiver = Receiver::new(V1_TOKEN, V2_KEY, V2_OWNER).expect("valid receiver settings");
        let received = receiver
            .receive(&Query::parse(V2_QUERY), V2_BODY.as_bytes())
            .expect("a valid push");
        assert_eq!(
            received.push,
            Push::UrlCheck {
                event_type: "check_create_suite_url".to_owned()
            }
        );
        assert_eq!(
            receiver
                .decrypt(&encrypted_body(V2_BODY.as_bytes()).expect("decrypts"))
                .expect("test input"),
            r#"{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}"#
        );
    }

    #[test]
    fn the_reply_is_success_encrypted_and_signed_with_camel_case_timestamp() {
        let receiver = receiver();
        let reply = receiver.reply();
        let json: serde_json::Value = serde_json::from_str(&reply.to_json()).expect("test input");
        for field in ["msg_signature", "timeStamp", "nonce", "encrypt"] {
            assert!(json[field].is_string(), "{field} in {json}");
        }
        assert_eq!(reply.time_stamp().len(), 13, "milliseconds");
        let query = Query::parse(&format!(
            "msg_signature={}&timestamp={}&nonce={}",
            reply.msg_signature(),
            reply.time_stamp(),
            reply.nonce()
        ));
        assert_eq!(
            receiver
                .open(&query, reply.encrypt())
                .expect("a valid push"),
            "success"
        );
    }

    #[test]
    fn a_flat_event_arrives_typed_with_its_envelope() {
        let receiver = receiver();
        let message = r#"{"EventType":"meeting_status_change","EventTime":1663143335567,"CorpId":"dingcorp","BizId":"biz1","eventId":"ev1","openConfModel":{"conferenceId":"c1","status":1},"statusSeqNum":1,"changeScene":"conference_created"}"#;
        let (query, body) = signed(TOKEN, &receiver.seal(message, &[7; 16]));
        let received = receiver.receive(&query, &body).expect("a valid push");
        let Push::Event(event) = received.push else {
            panic!("not an event: {:?}", received.push)
        };
        assert_eq!(event.id, "ev1");
        assert_eq!(event.event_type, "meeting_status_change");
        assert_eq!(event.corp_id.as_deref(), Some("dingcorp"));
        assert_eq!(
            event.born_at.map(|t| t.timestamp_millis()),
            Some(1_663_143_335_567)
        );
        assert_eq!(
            event.kind,
            ConferenceEvent::parse("meeting_status_change", message)
        );
    }

    #[test]
    fn an_event_without_an_event_id_falls_back_to_its_biz_id() {
        let receiver = receiver();
        let message = r#"{"EventType":"x","BizId":"biz9","EventTime":"1663143335567"}"#;
        let (query, body) = signed(TOKEN, &receiver.seal(message, &[0; 16]));
        let Push::Event(event) = receiver.receive(&query, &body).expect("a valid push").push else {
            panic!("not an event")
        };
        assert_eq!((event.id.as_str(), event.born_at.is_some()), ("biz9", true));
    }

    #[test]
    fn check_url_is_its_own_case() {
        let receiver = receiver();
        let (query, body) = signed(
            TOKEN,
            &receiver.seal(r#"{"EventType" : "check_url"}"#, &[1; 16]),
        );
        assert_eq!(
            receiver.receive(&query, &body).expect("a valid push").push,
            Push::UrlCheck {
                event_type: "check_url".to_owned()
            }
        );
    }

    #[test]
    fn tampering_with_any_signed_input_is_a_wrong_signature() {
        let receiver = receiver();
        let ciphertext = receiver.seal(r#"{"EventType":"check_url"}"#, &[1; 16]);
        let (query, body) = signed(TOKEN, &ciphertext);
        assert!(receiver.receive(&query, &body).is_ok());
        let sig = query.signature().expect("test input").to_owned();
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let cases = [
            Query::new(
                String::from_utf8(flipped).expect("test input"),
                "1700000000000",
                "n0nce",
            ),
            Query::new(sig.clone(), "1700000000001", "n0nce"),
            Query::new(sig.clone(), "1700000000000", "n0ncf"),
            Query::new(sig.to_uppercase(), "1700000000000", "n0nce"),
            Query::new("", "1700000000000", "n0nce"),
        ];
        for query in cases {
            assert_eq!(
                receiver.receive(&query, &body),
                Err(PushError::WrongSignature),
                "{query:?}"
            );
        }
        let mut other = ciphertext.into_bytes();
        other[5] = if other[5] == b'A' { b'B' } else { b'A' };
        let other = serde_json::json!({ "encrypt": String::from_utf8(other).expect("test input") })
            .to_string();
        assert_eq!(
            receiver.receive(&query, other.as_bytes()),
            Err(PushError::WrongSignature)
        );
        let wrong_token = Receiver::new("otherToken", KEY, OWNER).expect("valid receiver settings");
        assert_eq!(
            wrong_token.receive(&query, &body),
            Err(PushError::WrongSignature)
        );
    }

    #[test]
    fn a_wrong_aes_key_or_owner_key_is_refused_after_the_signature() {
        let receiver = receiver();
        let (query, body) = signed(
            TOKEN,
            &receiver.seal(r#"{"EventType":"check_url"}"#, &[3; 16]),
        );
        let wrong_key = Receiver::new(TOKEN, "ZbcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456", OWNER)
            .expect("valid receiver settings");
        let refused = wrong_key.receive(&query, &body);
        assert!(
            matches!(
                refused,
                Err(PushError::BadPadding | PushError::WrongLength | PushError::OwnerKeyMismatch)
            ),
            "{refused:?}"
        );
        let wrong_owner =
            Receiver::new(TOKEN, KEY, "dingotherapp").expect("valid receiver settings");
        assert_eq!(
            wrong_owner.receive(&query, &body),
            Err(PushError::OwnerKeyMismatch)
        );
    }

    #[test]
    fn malformed_pushes_get_their_own_errors() {
        let receiver = receiver();
        let (query, _) = signed(TOKEN, "x");
        assert_eq!(
            receiver.receive(&query, b"not json"),
            Err(PushError::BadBody)
        );
        assert_eq!(
            receiver.receive(&query, br#"{"encrypt": 5}"#),
            Err(PushError::BadBody)
        );
        let (query, body) = signed(TOKEN, "not*base64");
        assert_eq!(receiver.receive(&query, &body), Err(PushError::BadBase64));
        let (query, body) = signed(TOKEN, &STANDARD.encode([0u8; 15]));
        assert_eq!(receiver.receive(&query, &body), Err(PushError::WrongLength));
        let (query, body) = signed(TOKEN, "");
        assert_eq!(receiver.receive(&query, &body), Err(PushError::WrongLength));
        // A length field pointing past the end.
        let mut plain = vec![0u8; 16];
        plain.extend_from_slice(&1000u32.to_be_bytes());
        plain.extend_from_slice(b"short");
        pad(&mut plain);
        let (query, body) = signed(TOKEN, &raw_encrypt(KEY, &plain));
        assert_eq!(receiver.receive(&query, &body), Err(PushError::WrongLength));
        // Padding: a count of 0, of 33, and bytes that disagree.
        for last in [[0u8, 0], [33, 33], [2, 3]] {
            let mut plain = vec![9u8; 62];
            plain.extend_from_slice(&last);
            let (query, body) = signed(TOKEN, &raw_encrypt(KEY, &plain));
            assert_eq!(
                receiver.receive(&query, &body),
                Err(PushError::BadPadding),
                "{last:?}"
            );
        }
        // Decrypted, but not JSON with an EventType.
        for message in ["success", "[1]", r#"{"eventId":"e"}"#] {
            let (query, body) = signed(TOKEN, &receiver.seal(message, &[0; 16]));
            assert_eq!(
                receiver.receive(&query, &body),
                Err(PushError::BadMessage),
                "{message}"
            );
        }
        for (query, missing) in [
            ("timestamp=1&nonce=n", "signature"),
            ("signature=s&nonce=n", "timestamp"),
            ("signature=s&timestamp=1", "nonce"),
        ] {
            let (_, body) = signed(TOKEN, "x");
            assert_eq!(
                receiver.receive(&Query::parse(query), &body),
                Err(PushError::MissingParameter(missing))
            );
        }
    }

    #[test]
    fn padding_covers_1_to_32_bytes_and_round_trips() {
        let receiver = receiver();
        let mut seen = std::collections::BTreeSet::new();
        for len in 0..64 {
            let message = format!(r#"{{"EventType":"check_url","p":"{}"}}"#, "a".repeat(len));
            let mut plain = vec![0u8; HEADER_LEN + message.len() + OWNER.len()];
            let before = plain.len();
            pad(&mut plain);
            seen.insert(plain.len() - before);
            assert_eq!(plain.len() % PAD_BLOCK, 0);
            assert_eq!(unpad(&plain).expect("test input").len(), before);
            let (query, body) = signed(TOKEN, &receiver.seal(&message, &[5; 16]));
            assert!(receiver.receive(&query, &body).is_ok(), "{len}");
        }
        assert_eq!(seen, (1..=32).collect());
    }

    #[test]
    fn construction_checks_the_key_and_token_without_showing_them() {
        for key in [
            &KEY[..42],
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ01234+/",
            &format!("{KEY}a"),
        ] {
            let error = Receiver::new(TOKEN, key, OWNER)
                .expect_err("refused")
                .to_string();
            assert!(error.contains("aes_key") && !error.contains(key), "{error}");
        }
        for token in ["ab", "has space", "semi;colon", &"t".repeat(64)] {
            let error = Receiver::new(token, KEY, OWNER)
                .expect_err("refused")
                .to_string();
            assert!(error.contains("token") && !error.contains(token), "{error}");
        }
        assert!(Receiver::new(TOKEN, KEY, " ").is_err());
        let shown = format!("{:?}", receiver());
        for secret in [TOKEN, KEY, OWNER] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn errors_never_show_secrets_or_plaintext() {
        let all = [
            PushError::MissingParameter("nonce"),
            PushError::BadBody,
            PushError::WrongSignature,
            PushError::BadBase64,
            PushError::WrongLength,
            PushError::BadPadding,
            PushError::OwnerKeyMismatch,
            PushError::BadMessage,
        ];
        for error in all {
            let shown = format!("{error} {error:?}");
            for secret in [TOKEN, KEY, OWNER, "success"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
    }

    #[test]
    fn the_query_takes_either_signature_name_and_decodes_percent_escapes() {
        let query = Query::parse("?msg_signature=abc&timestamp=1%32&nonce=a+b%2Bc&x=%zz");
        assert_eq!(
            (query.signature(), query.timestamp(), query.nonce()),
            (Some("abc"), Some("12"), Some("a b+c"))
        );
        assert_eq!(Query::parse("signature=def").signature(), Some("def"));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        let from_serde: Query = serde_json::from_value(
            serde_json::json!({"msg_signature": "s", "timestamp": "t", "nonce": "n"}),
        )
        .expect("test input");
        assert_eq!(
            from_serde,
            Query::new("s", "t", "n").with_msg_signature_only()
        );
    }

    impl Query {
        fn with_msg_signature_only(mut self) -> Self {
            self.msg_signature = self.signature.take();
            self
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_message_and_owner_key_round_trip(
            message in ".{0,300}",
            owner in "[A-Za-z0-9]{1,40}",
            random in any::<[u8; 16]>(),
        ) {
            let receiver = Receiver::new(TOKEN, KEY, owner).expect("valid receiver settings");
            let ciphertext = receiver.seal(&message, &random);
            let (query, _) = signed(TOKEN, &ciphertext);
            prop_assert_eq!(receiver.open(&query, &ciphertext).expect("a valid push"), message);
        }
    }
}
