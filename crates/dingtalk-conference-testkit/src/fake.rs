//! Fake-server fixtures: the fake DingTalk server started for a test, the generated client
//! pointed at it with a valid token, raw requests for what the typed client cannot express,
//! DingTalk's error of an answer, and a fake server on a runtime of its own for a test that runs
//! a process (the CLI) against it.
//!
//! ```no_run
//! # async fn example() {
//! use dingtalk_conference_testkit::fake;
//!
//! let (server, api) = fake::start().await;
//! let missing = api.query_conference_info("no-such-conference").await;
//! assert_eq!(fake::error(missing).0, 404);
//! # drop(server);
//! # }
//! ```

use dingtalk_conference_api::types::ErrorBody;
use dingtalk_conference_api::{Client, Error, RequestContext};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer};

/// A reqwest client that never goes through a proxy (a proxy from the environment must not
/// carry loopback requests).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

/// A started fake server, seeded (`dingtalk_conference_mock::seeded`).
pub async fn mock() -> MockServer {
    MockServer::start().await.expect("fake server starts")
}

/// The generated client for `server`, sending `token`.
pub fn api_with_token(server: &MockServer, token: &str) -> Client {
    let context = RequestContext::new()
        .with_access_token(token)
        .expect("a token that fits a header");
    Client::new_with_client(&server.base_url(), http(), context)
}

/// A seeded server and the generated client for it, with a valid token.
pub async fn start() -> (MockServer, Client) {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let api = api_with_token(&server, &token);
    (server, api)
}

/// The status and DingTalk code of an error answer; panics on a success.
pub fn error<T: std::fmt::Debug>(result: Result<T, Error<ErrorBody>>) -> (u16, String) {
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
pub async fn raw_get(server: &MockServer, path_and_query: &str) -> (u16, serde_json::Value) {
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
pub async fn raw_delete(server: &MockServer, id: &str) -> (u16, serde_json::Value) {
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

/// A fake server started by a test that is not async itself, running on a runtime of its own
/// while the test runs a process against it (the CLI with `--base-url`). Shut down when
/// dropped, before its runtime.
pub struct FakeOnItsOwnRuntime {
    /// The server: its base URL, counters, faults, tokens. Declared first: dropped (shut
    /// down) before the runtime it runs on.
    pub server: MockServer,
    _runtime: tokio::runtime::Runtime,
}

impl FakeOnItsOwnRuntime {
    /// Starts a seeded fake server on a new multi-threaded runtime.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let server = runtime
            .block_on(MockServer::start())
            .expect("the fake server starts");
        Self {
            server,
            _runtime: runtime,
        }
    }

    /// The arguments that point the CLI at this server with the default app's credentials:
    /// `--base-url URL --app-key KEY --app-secret SECRET`.
    pub fn cli_args(&self) -> Vec<String> {
        [
            "--base-url",
            &self.server.base_url(),
            "--app-key",
            DEFAULT_APP_KEY,
            "--app-secret",
            DEFAULT_APP_SECRET,
        ]
        .map(str::to_string)
        .to_vec()
    }
}
