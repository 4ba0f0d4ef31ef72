//! The token operations: `getAccessToken` (internal apps) and `getCorpAccessToken`
//! (third-party apps), which the spec marks `security: []`.

use std::time::Duration;

use dingtalk_conference_api::types::AccessTokenResponse;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::Value;

use super::{Call, Handler};
use crate::reply::Reply;
use crate::state::{State, TokenError};

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "getAccessToken" => get_access_token,
        "getCorpAccessToken" => get_corp_access_token,
        _ => return None,
    })
}

/// An internal app's token: the same one while it is valid (its expiry extended).
fn get_access_token(call: &Call<'_>, state: &mut State) -> Reply {
    let fields = match json_fields(call, &["appKey", "appSecret"]) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let [key, secret] = fields.as_slice() else {
        return system_error(call);
    };
    let lifetime = state.token_lifetime();
    match state.app_token(key, secret) {
        Ok(token) => token_reply(token, lifetime),
        Err(error) => token_error(call, error),
    }
}

/// A third-party app's token for one authorised organisation: a new one every time.
fn get_corp_access_token(call: &Call<'_>, state: &mut State) -> Reply {
    let names = ["suiteKey", "suiteSecret", "authCorpId", "suiteTicket"];
    let fields = match json_fields(call, &names) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let [key, secret, corp, ticket] = fields.as_slice() else {
        return system_error(call);
    };
    let lifetime = state.token_lifetime();
    match state.corp_token(key, secret, corp, ticket) {
        Ok(token) => token_reply(token, lifetime),
        Err(error) => token_error(call, error),
    }
}

fn system_error(call: &Call<'_>) -> Reply {
    call.error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "systemError",
        "SYSTEM ERROR",
    )
}

/// Reads the string fields `names` from a JSON object body, the way DingTalk's gateway checks
/// it: a body that is not JSON (wrong content type, a form, not an object) is `Missingbody`, a
/// missing field is `Missing<name>`, a field that is not a string is `paramError`.
fn json_fields(call: &Call<'_>, names: &[&str]) -> Result<Vec<String>, Reply> {
    let missing_body = || call.bad_request("Missingbody", "body is mandatory for this action.");
    let is_json = call
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(missing_body());
    }
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(call.body) else {
        return Err(missing_body());
    };
    names
        .iter()
        .map(|name| match object.get(*name) {
            None | Some(Value::Null) => Err(call.bad_request(
                &format!("Missing{name}"),
                &format!("{name} is mandatory for this action."),
            )),
            Some(Value::String(value)) => Ok(value.clone()),
            Some(_) => Err(call.bad_request("paramError", &format!("{name} must be a string"))),
        })
        .collect()
}

fn token_reply(token: String, lifetime: Duration) -> Reply {
    Reply::ok(&AccessTokenResponse {
        access_token: Some(token),
        expire_in: Some(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
    })
}

fn token_error(call: &Call<'_>, error: TokenError) -> Reply {
    let (code, message) = match error {
        TokenError::ClientIdOrSecret => {
            ("invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        }
        TokenError::SuiteKey => ("invalidSuiteKey", "suiteKey or suiteSecret is invalid"),
        TokenError::SuiteTicket => ("invalidSuiteTicket", "suiteTicket is invalid"),
        TokenError::AuthInfo => (
            "invalidAuthInfo",
            "the organisation has not authorised this app",
        ),
    };
    call.bad_request(code, message)
}
