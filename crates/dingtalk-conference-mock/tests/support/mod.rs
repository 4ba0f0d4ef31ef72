//! What the tests of the conference operations share: a server, the generated client pointed
//! at it with a valid token, and a way to read a DingTalk error.

#![allow(dead_code)]

use dingtalk_conference_api::types::ErrorBody;
use dingtalk_conference_api::{Client, Error, RequestContext};
use dingtalk_conference_mock::MockServer;

/// A reqwest client that never goes through a proxy (a proxy from the environment must not
/// carry loopback requests).
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

/// The generated client for `server`, sending `token`.
pub(crate) fn api_with_token(server: &MockServer, token: &str) -> Client {
    let context = RequestContext::new()
        .with_access_token(token)
        .expect("a token that fits a header");
    Client::new_with_client(&server.base_url(), http(), context)
}

/// A seeded server and the generated client for it, with a valid token.
pub(crate) async fn start() -> (MockServer, Client) {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let api = api_with_token(&server, &token);
    (server, api)
}

/// The status and DingTalk code of an error answer; panics on a success.
pub(crate) fn error<T: std::fmt::Debug>(result: Result<T, Error<ErrorBody>>) -> (u16, String) {
    match result {
        Err(Error::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            (status, response.into_inner().code)
        }
        other => panic!("expected a DingTalk error, got {other:?}"),
    }
}

/// A raw GET of `path_and_query` with a valid token: for requests the typed client cannot
/// express (a `maxResults` of 0, a cursor that is not a number).
pub(crate) async fn raw_get(server: &MockServer, path_and_query: &str) -> (u16, serde_json::Value) {
    let token = server.issue_token();
    let response = http()
        .get(format!("{}{path_and_query}", server.base_url()))
        .header("x-acs-dingtalk-access-token", token)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A raw DELETE of conference `id` with a valid token, no query and no body.
pub(crate) async fn raw_delete(server: &MockServer, id: &str) -> (u16, serde_json::Value) {
    let token = server.issue_token();
    let response = http()
        .delete(format!(
            "{}/v1.0/conference/videoConferences/{id}",
            server.base_url()
        ))
        .header("x-acs-dingtalk-access-token", token)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}
