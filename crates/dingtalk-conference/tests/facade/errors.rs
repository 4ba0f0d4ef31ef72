//! Errors: typed, carrying status, code, message and request id, telling a person what to do.

use std::time::Duration;

use dingtalk_conference::{Client, Error, ErrorCode, RetryPolicy, TransportErrorKind};
use dingtalk_conference_mock::{Fault, FaultScope, seeded};

use crate::common::{app_builder, app_client, mock, no_retry_client};

#[tokio::test]
async fn an_empty_or_blank_id_is_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for id in ["", "   ", "\t", ".", ".."] {
        let error = client.conference_info(id).await.expect_err("refused");
        assert!(matches!(error, Error::InvalidInput(_)), "{id:?}: {error:?}");
    }
    assert!(mock.requests().is_empty(), "no token request either");
}

#[tokio::test]
async fn room_not_found_carries_status_code_message_and_request_id() {
    let mock = mock().await;
    let error = app_client(&mock)
        .conference_info("000000000000000000000000")
        .await
        .expect_err("not found");
    let api = error.api_error().expect("an API error");
    assert_eq!(api.status.as_u16(), 404);
    assert_eq!(api.code, ErrorCode::RoomNotFound);
    assert_eq!(api.message.as_deref(), Some("ROOM NOT FOUND"));
    assert!(error.is_not_found());
    assert!(!error.is_retryable());
    let request_id = error.request_id().expect("a request id");
    let served = mock.requests().last().cloned().expect("logged");
    assert!(!request_id.is_empty());
    let message = error.to_string();
    assert!(
        message.contains("404") && message.contains("roomNotFound"),
        "{message}"
    );
    assert!(message.contains(request_id), "{message}");
    assert!(served.path.ends_with("000000000000000000000000"));
}

#[tokio::test]
async fn the_request_id_comes_from_the_header_when_the_body_has_none() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Body {
            status: 400,
            content_type: "application/json".into(),
            body: br#"{"code":"paramError","message":"PARAM ERROR"}"#.to_vec(),
        },
    );
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("param error");
    assert_eq!(error.code(), Some(&ErrorCode::ParamError));
    assert!(
        error.request_id().is_some_and(|id| !id.is_empty()),
        "{error:?}"
    );
}

#[tokio::test]
async fn access_denied_detail_is_kept_and_permission_errors_are_final() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(3),
        Fault::Body {
            status: 403,
            content_type: "application/json".into(),
            body: br#"{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","requestid":"r-1","message":"denied","accessdenieddetail":{"requiredScopes":["VideoConference.Conference.Read"]}}"#.to_vec(),
        },
    );
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("denied");
    let api = error.api_error().expect("api error");
    assert_eq!(api.code, ErrorCode::AccessTokenPermissionDenied);
    assert_eq!(api.request_id.as_deref(), Some("r-1"));
    let detail = api.access_denied_detail.as_ref().expect("detail kept");
    assert!(detail.contains_key("requiredScopes"));
    assert!(
        error
            .to_string()
            .contains("VideoConference.Conference.Read"),
        "{error}"
    );
    assert_eq!(mock.counters().conference_requests, 1, "not retried");
}

#[tokio::test]
async fn an_html_ip_ban_page_is_reported_with_status_and_a_snippet() {
    let mock = mock().await;
    mock.push_fault(FaultScope::NextConferenceRequests(1), Fault::IpBanHtml);
    let error = no_retry_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("banned");
    let Error::UnexpectedResponse {
        status,
        snippet,
        content_type,
        ..
    } = &error
    else {
        panic!("expected an unexpected response, got {error:?}");
    };
    assert_eq!(status.as_u16(), 403);
    assert!(
        content_type
            .as_deref()
            .is_some_and(|c| c.contains("text/html"))
    );
    assert!(snippet.contains('<'), "{snippet}");
    assert!(error.to_string().contains("banned"), "{error}");
}

#[tokio::test]
async fn a_json_ip_ban_that_is_not_dingtalks_error_body_is_not_mistaken_for_one() {
    let mock = mock().await;
    mock.push_fault(FaultScope::NextConferenceRequests(1), Fault::IpBanJson);
    let error = no_retry_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("banned");
    assert!(
        matches!(&error, Error::UnexpectedResponse { status, snippet, .. } if status.as_u16() == 403 && snippet.contains("1111")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_200_that_is_not_json_is_a_decode_error_with_a_snippet() {
    let mock = mock().await;
    mock.push_fault(FaultScope::NextConferenceRequests(1), Fault::NonJson200);
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("garbage");
    assert!(
        matches!(&error, Error::Decode { snippet, .. } if !snippet.is_empty()),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn wrong_json_types_are_a_decode_error_naming_the_problem() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"confInfo":{"status":"started"}}"#.to_vec(),
        },
    );
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("wrong type");
    let Error::Decode {
        message,
        snippet,
        request_id,
        ..
    } = &error
    else {
        panic!("expected a decode error, got {error:?}");
    };
    assert!(message.contains("invalid type"), "{message}");
    assert!(snippet.contains("started"));
    assert!(request_id.is_some());
}

#[tokio::test]
async fn a_missing_conf_info_is_a_decode_error() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
        },
    );
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("empty");
    assert!(error.to_string().contains("no confInfo"), "{error}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_a_clear_error() {
    let mock = mock().await;
    let huge = format!(
        r#"{{"confInfo":{{"title":"{}"}}}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: huge.into_bytes(),
        },
    );
    let error = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("too large");
    assert!(
        matches!(error, Error::BodyTooLarge { limit, .. } if limit == 1024 * 1024),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_headers_and_a_slow_body_are_timeout_errors() {
    let mock = mock().await;
    let builder = || {
        app_builder(&mock)
            .timeout(Duration::from_millis(250))
            .retry_policy(RetryPolicy::none())
    };
    // The client's own `reqwest::Client` times requests out itself; one brought by the caller
    // has no timeout, so each request carries it.
    let own = builder().build().expect("valid");
    let brought = builder()
        .http_client(
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("a reqwest client"),
        )
        .build()
        .expect("valid");
    for (client, fault) in [
        (&own, Fault::Delay(Duration::from_secs(5))),
        (&own, Fault::SlowBody(Duration::from_secs(5))),
        (&brought, Fault::Delay(Duration::from_secs(5))),
        (&brought, Fault::SlowBody(Duration::from_secs(5))),
    ] {
        mock.push_fault(FaultScope::NextConferenceRequests(1), fault.clone());
        let error = client
            .conference_info(seeded::STARTED)
            .await
            .expect_err("timed out");
        assert!(
            matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Timeout),
            "{fault:?}: {error:?}"
        );
        assert!(error.is_retryable());
        assert!(error.to_string().contains("timed out"), "{error}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind and drop a listener: nothing listens on the port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let error = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .static_token("t")
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid")
        .conference_info(seeded::STARTED)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect),
        "{error:?}"
    );
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test]
async fn a_truncated_body_and_a_dropped_connection_are_transport_errors() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm-up");
    for fault in [Fault::TruncatedBody, Fault::DropConnection] {
        mock.push_fault(FaultScope::NextConferenceRequests(1), fault.clone());
        let error = client
            .conference_info(seeded::STARTED)
            .await
            .expect_err("broken");
        assert!(matches!(error, Error::Transport(_)), "{fault:?}: {error:?}");
        assert!(error.is_retryable(), "{fault:?}");
    }
}
