//! The token operations: `getAccessToken` (internal apps) and `getCorpAccessToken`
//! (third-party apps), which the spec marks `security: []`.

use std::time::Duration;

use dingtalk_conference_api::types::{
    AccessTokenResponse, GetAccessTokenRequest, GetCorpAccessTokenRequest,
};

use super::{Handler, typed};
use crate::requests::Failure;
use crate::requests_generated::{GetAccessToken, GetCorpAccessToken};
use crate::state::{State, TokenError};

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "getAccessToken" => typed!(get_access_token),
        "getCorpAccessToken" => typed!(get_corp_access_token),
        _ => return None,
    })
}

/// An internal app's token: the same one while it is valid (its expiry extended).
fn get_access_token(
    request: GetAccessToken,
    state: &mut State,
) -> Result<AccessTokenResponse, Failure> {
    let GetAccessTokenRequest {
        app_key,
        app_secret,
    } = request.body;
    let lifetime = state.token_lifetime();
    state
        .app_token(&app_key, &app_secret)
        .map(|token| token_reply(token, lifetime))
        .map_err(token_error)
}

/// A third-party app's token for one authorised organisation: a new one every time.
fn get_corp_access_token(
    request: GetCorpAccessToken,
    state: &mut State,
) -> Result<AccessTokenResponse, Failure> {
    let GetCorpAccessTokenRequest {
        suite_key,
        suite_secret,
        auth_corp_id,
        suite_ticket,
    } = request.body;
    let lifetime = state.token_lifetime();
    state
        .corp_token(&suite_key, &suite_secret, &auth_corp_id, &suite_ticket)
        .map(|token| token_reply(token, lifetime))
        .map_err(token_error)
}

fn token_reply(token: String, lifetime: Duration) -> AccessTokenResponse {
    AccessTokenResponse {
        access_token: Some(token),
        expire_in: Some(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
    }
}

/// The body is read by the parse step, the way DingTalk's gateway checks it: not JSON (wrong
/// content type, a form, not an object) is `Missingbody`, a missing field `Missing<name>`, a
/// field that is not a string `paramError` (`crate::requests`).
fn token_error(error: TokenError) -> Failure {
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
    Failure::bad_request(code, message)
}
