//! Any operation of the spec by its `operationId`, with JSON arguments: [`Client::call`]. The
//! per-operation dispatch is generated (`call_generated.rs`, by `cargo xtask codegen`); this
//! module holds what every arm shares.

use std::fmt;

use dingtalk_conference_api::{RequestContext, ResponseValue};
use serde_json::{Map, Value};

use super::call_generated::OPERATION_IDS;
use crate::{Client, Error};

/// What [`Client::call`] got back: DingTalk's answer decoded through the generated client's
/// typed response and serialized back, and the body exactly as received.
///
/// Its `Debug` shows neither: the token operations' answers hold an access token.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Answer {
    /// The answer as the spec knows it: decoded into the typed response, then serialized back
    /// to DingTalk's JSON. A field the spec does not declare is not in it, so a spec mistake
    /// shows beside [`Answer::raw`].
    pub json: Value,
    /// The body exactly as DingTalk sent it.
    pub raw: Vec<u8>,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("raw_bytes", &self.raw.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Calls the spec's operation `operation_id` with `args`: each path or query parameter
    /// under its name in the spec (`conferenceId`), the request body under `body`, as JSON.
    ///
    /// The call runs through the same pipeline as the typed methods: token, rate limit,
    /// monthly budget, retries (a write is retried only when the spec marks it retry-safe in
    /// `x-facade-op`, or when DingTalk cannot have processed it), the call's deadline, and the
    /// fleet with feature `redis`. Reads are not shared or cached. The token operations
    /// (`getAccessToken`, `getCorpAccessToken`) are sent without a token, with the
    /// credentials in `body`.
    ///
    /// An unknown operation, an argument it does not take, a missing required one, a value
    /// that does not decode into the generated type, or a path parameter that cannot travel as
    /// one path segment is refused with [`Error::InvalidInput`] before any request.
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk_conference::Client) -> Result<(), dingtalk_conference::Error> {
    /// let mut args = serde_json::Map::new();
    /// args.insert("conferenceId".into(), "6323d7568777190142ab9d10".into());
    /// let answer = client.call("queryConferenceInfo", &args).await?;
    /// println!("{}", answer.json);
    /// # Ok(()) }
    /// ```
    pub async fn call(
        &self,
        operation_id: &str,
        args: &Map<String, Value>,
    ) -> Result<Answer, Error> {
        self.call_operation(operation_id, args).await
    }

    /// Every `operationId` [`Client::call`] takes, in the spec's order.
    pub fn operation_ids() -> &'static [&'static str] {
        OPERATION_IDS
    }
}

/// What one attempt's answer became: the typed response serialized back (or why it could not
/// be), and the body as received. The body may hold a token: never printed by `Debug`.
pub(super) struct Fetched {
    json: Result<Value, String>,
    raw: Option<Vec<u8>>,
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fetched { .. }")
    }
}

impl Fetched {
    pub(super) fn answer(self) -> Result<Answer, Error> {
        let json = self.json.map_err(|message| Error::Decode {
            status: reqwest::StatusCode::OK,
            request_id: None,
            message: format!("the typed answer does not serialize back to JSON: {message}"),
            snippet: String::new(),
        })?;
        Ok(Answer {
            json,
            raw: self.raw.unwrap_or_default(),
        })
    }
}

/// The typed answer of one attempt, serialized back, with the body `context` kept.
pub(super) fn fetched<T: serde::Serialize>(
    response: ResponseValue<T>,
    context: &RequestContext,
) -> ResponseValue<Fetched> {
    let json = serde_json::to_value(&*response).map_err(|e| e.to_string());
    let raw = context.kept_body().map(|body| body.to_vec());
    let Ok(fetched) = response.map::<_, _, std::convert::Infallible>(|_| Fetched { json, raw });
    fetched
}

/// Argument `name` of `args`, decoded into the generated method's type; absent is `null`
/// (which an optional argument takes as `None`).
pub(super) fn arg<T: serde::de::DeserializeOwned>(
    args: &Map<String, Value>,
    name: &str,
) -> Result<T, Error> {
    match args.get(name) {
        Some(value) => T::deserialize(value).map_err(|e| {
            let message = without_values(&e.to_string());
            Error::InvalidInput(format!("{name}: {}", crate::text::shown(&message)))
        }),
        None => T::deserialize(&Value::Null)
            .map_err(|_| Error::InvalidInput(format!("{name} is required"))),
    }
}

/// serde's message without the values it quotes: a body may hold a secret in the wrong
/// place. `invalid type: string "…", expected …` and `invalid value: integer `…`, expected …`
/// keep the kind of value and what was expected; any other message loses what it puts in
/// double quotes (escapes included). Field names, which serde quotes with backticks, stay.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or_default();
            let expected = rest.find(", expected").map_or("", |at| &rest[at..]);
            return format!("{prefix}{kind} …{expected}");
        }
    }
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in message.chars() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            out.push_str("\"…\"");
            quoted = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// Refuses an argument `operation_id` does not take: a misspelt name would otherwise be
/// dropped silently.
pub(super) fn only(
    operation_id: &str,
    args: &Map<String, Value>,
    names: &[&str],
) -> Result<(), Error> {
    match args.keys().find(|key| !names.contains(&key.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(Error::InvalidInput(format!(
            "{operation_id} takes no argument {}; it takes {}",
            crate::text::shown(unknown),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_decode_or_say_which_is_wrong() {
        let args: Map<String, Value> =
            serde_json::from_str(r#"{"n": "x", "s": "a"}"#).expect("JSON");
        assert_eq!(arg::<String>(&args, "s").ok(), Some("a".to_string()));
        assert_eq!(arg::<Option<i64>>(&args, "absent").ok(), Some(None));
        let error = arg::<i64>(&args, "n").expect_err("not a number");
        assert!(error.to_string().contains("n: "), "{error}");
        let error = arg::<String>(&args, "absent").expect_err("required");
        assert!(error.to_string().contains("absent is required"), "{error}");
        let error = arg::<i64>(&args, "s").expect_err("a string");
        assert!(!error.to_string().contains("\"a\""), "{error}");
        // A secret in the wrong place never shows, whatever serde quotes it with.
        let secrets: Map<String, Value> = serde_json::from_str(
            r#"{"quoted": "ab\"cd-secret", "number": 918273645, "list": ["s3cr3t"]}"#,
        )
        .expect("JSON");
        for (name, secret) in [("quoted", "cd-secret"), ("number", "918273645")] {
            let error = arg::<bool>(&secrets, name).expect_err("not a boolean");
            assert!(!error.to_string().contains(secret), "{error}");
            assert!(error.to_string().contains("expected a boolean"), "{error}");
        }
        let error = arg::<Vec<bool>>(&secrets, "list").expect_err("not booleans");
        assert!(!error.to_string().contains("s3cr3t"), "{error}");
        let error = only("op", &args, &["s"]).expect_err("n is unknown");
        assert!(error.to_string().contains("takes no argument"), "{error}");
    }

    #[test]
    fn the_typed_answer_drops_what_the_spec_does_not_know_and_raw_keeps_it() {
        use dingtalk_conference_api::types::AccessTokenResponse;
        let body = br#"{"accessToken":"t0k3n","expireIn":7200,"unknownField":1}"#;
        let typed: AccessTokenResponse = serde_json::from_slice(body).expect("decodes");
        let response = ResponseValue::new(
            typed,
            reqwest::StatusCode::OK,
            reqwest::header::HeaderMap::new(),
        );
        let context = RequestContext::new();
        let answer = fetched(response, &context)
            .into_inner()
            .answer()
            .expect("an answer");
        assert_eq!(
            answer.json,
            serde_json::json!({"accessToken": "t0k3n", "expireIn": 7200})
        );
        assert!(!format!("{answer:?}").contains("t0k3n"));
    }
}
