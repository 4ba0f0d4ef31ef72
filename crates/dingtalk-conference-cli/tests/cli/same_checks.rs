//! The facade, the CLI and the fake server run the same checks, generated from the spec
//! (`dingtalk_conference_api::checks`): each refuses the same bad value naming the same spec
//! parameter. The facade and the CLI refuse it before any request; the fake server, sent it
//! anyway by the generated client (which does not check), answers DingTalk's error naming it.

use std::process::Command;

use dingtalk_conference::{Client, Error, NewConference};
use dingtalk_conference_api::Error as ApiError;
use dingtalk_conference_api::types::CreateVideoConferenceRequest;
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer, seeded};

/// One bad value: the spec's parameter that should be named, and how each side is asked.
struct Case {
    parameter: &'static str,
    cli: Vec<String>,
}

fn facade(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .build()
        .expect("a client of the fake server")
}

/// The generated client with a valid token, on a reqwest client that ignores proxies.
fn api(mock: &MockServer) -> dingtalk_conference_api::Client {
    dingtalk_conference_testkit::fake::api_with_token(mock, &mock.issue_token())
}

/// The CLI's refusal (exit code 2 and its message), with no request made: the base URL is a
/// port nothing listens on.
fn cli_refusal(args: &[String]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference"))
        .args(["--base-url", "http://127.0.0.1:9", "--access-token", "t"])
        .args(args)
        .env_remove("DINGTALK_REDIS_URL")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The fake server's error code and message for a call of the generated client.
fn mock_refusal<T: std::fmt::Debug>(
    result: Result<
        dingtalk_conference_api::ResponseValue<T>,
        ApiError<dingtalk_conference_api::types::ErrorBody>,
    >,
) -> (u16, String, String) {
    match result {
        Err(ApiError::ErrorResponse(answer)) => (
            answer.status().as_u16(),
            answer.code.clone(),
            answer.message.clone().unwrap_or_default(),
        ),
        other => panic!("expected DingTalk's error, got {other:?}"),
    }
}

fn facade_refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::InvalidInput(message)) => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_conference_id_is_named_conference_id_by_all_three() {
    let mock = MockServer::start().await.expect("the fake server starts");
    let bad = "6323d7568777\u{7}190142ab9d10";
    let case = Case {
        parameter: "conferenceId",
        cli: vec!["members".into(), bad.into()],
    };
    let from_facade = facade_refusal(facade(&mock).conference_members(bad).collect().await);
    let from_cli = cli_refusal(&case.cli);
    let (status, code, message) =
        mock_refusal(api(&mock).query_conference_members(bad, None, None).await);
    let prefix = format!("{}: ", case.parameter);
    assert!(from_facade.starts_with(&prefix), "{from_facade}");
    assert!(from_cli.contains(&prefix), "{from_cli}");
    assert_eq!((status, code.as_str()), (400, "paramError"));
    assert!(message.contains(&prefix), "{message}");
    // The same words everywhere.
    let phrase = "the conference id contains control characters";
    for said in [&from_facade, &from_cli, &message] {
        assert!(said.contains(phrase), "{said}");
    }
}

#[tokio::test]
async fn a_blank_union_id_is_named_union_id_by_all_three() {
    let mock = MockServer::start().await.expect("the fake server starts");
    let case = Case {
        parameter: "unionId",
        cli: vec![
            "close".into(),
            seeded::STARTED.into(),
            "--union-id".into(),
            " ".into(),
        ],
    };
    let from_facade = facade_refusal(facade(&mock).close_conference(seeded::STARTED, " ").await);
    let from_cli = cli_refusal(&case.cli);
    let (status, code, message) = mock_refusal(
        api(&mock)
            .close_video_conference(seeded::STARTED, " ")
            .await,
    );
    let prefix = format!("{}: the union id is empty", case.parameter);
    assert!(from_facade.starts_with(&prefix), "{from_facade}");
    assert!(from_cli.contains(&prefix), "{from_cli}");
    assert_eq!((status, code.as_str()), (400, "paramsError"));
    assert!(message.contains(&prefix), "{message}");
}

#[tokio::test]
async fn a_title_too_long_is_named_conf_title_by_all_three() {
    let mock = MockServer::start().await.expect("the fake server starts");
    let title = "会".repeat(257);
    let case = Case {
        parameter: "confTitle",
        cli: vec![
            "create".into(),
            "--title".into(),
            title.clone(),
            "--user-id".into(),
            "u".into(),
        ],
    };
    let from_facade = facade_refusal(
        facade(&mock)
            .create_conference(NewConference::new("u", title.clone()))
            .await,
    );
    let from_cli = cli_refusal(&case.cli);
    let body = CreateVideoConferenceRequest {
        conf_title: title,
        invite_caller: None,
        invite_user_ids: Vec::new(),
        user_id: "u".into(),
    };
    let (status, code, message) = mock_refusal(api(&mock).create_video_conference(&body).await);
    let prefix = format!(
        "{}: the conference title has 257 characters; at most 256 are allowed",
        case.parameter
    );
    assert!(from_facade.starts_with(&prefix), "{from_facade}");
    assert!(from_cli.contains(&prefix), "{from_cli}");
    assert_eq!((status, code.as_str()), (400, "paramsTitleError"));
    assert!(message.contains(&prefix), "{message}");
}
