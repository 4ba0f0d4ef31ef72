//! Safe defaults: HTTPS only, secrets never printed, ids as one path segment.

use dingtalk_conference::{Client, Error, Secret};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, Fault, FaultScope, seeded,
};

use crate::common::{app_builder, app_client, mock, with_trace_capture};

#[test]
fn plain_http_is_refused_except_on_loopback_or_by_opt_in() {
    let build = |url: &str| Client::builder().static_token("t").base_url(url).build();
    assert!(matches!(
        build("http://api.dingtalk.io"),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        build("http://10.0.0.1:8080"),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        build("ftp://api.dingtalk.io"),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        build("https://user:pw@api.dingtalk.io"),
        Err(Error::Config(_))
    ));
    for loopback in [
        "http://127.0.0.1:1",
        "http://localhost:1",
        "http://[::1]:1",
        "http://127.1.2.3",
    ] {
        assert!(build(loopback).is_ok(), "{loopback}");
    }
    let opted_in = Client::builder()
        .static_token("t")
        .base_url("http://10.0.0.1:8080")
        .allow_insecure_http(true)
        .build();
    assert!(opted_in.is_ok());
}

#[test]
fn the_default_host_is_the_international_edition_over_https() {
    let client = Client::builder().static_token("t").build().expect("valid");
    // The URLs themselves come from the spec's `servers` (generated constants); what the
    // facade decides is which one is the default, and that both are HTTPS.
    assert_eq!(
        client.base_url(),
        dingtalk_conference::Edition::International.base_url()
    );
    assert!(
        client.base_url().starts_with("https://"),
        "{}",
        client.base_url()
    );
    let china = Client::builder()
        .static_token("t")
        .edition(dingtalk_conference::Edition::China)
        .build()
        .expect("valid");
    assert_eq!(
        china.base_url(),
        dingtalk_conference::Edition::China.base_url()
    );
    assert!(
        china.base_url().starts_with("https://"),
        "{}",
        china.base_url()
    );
    assert_ne!(client.base_url(), china.base_url());
}

#[test]
fn builder_refuses_blank_credentials_and_says_which() {
    let error = Client::builder()
        .app_credentials("key", "  ")
        .build()
        .expect_err("blank secret");
    assert!(error.to_string().contains("app secret"), "{error}");
    let error = Client::builder().build().expect_err("no credentials");
    assert!(error.to_string().contains("no credentials"), "{error}");
}

#[tokio::test]
async fn the_id_travels_as_exactly_one_percent_encoded_path_segment() {
    let mock = mock().await;
    let client = app_client(&mock);
    let cases = [
        ("a/b", "a%2Fb"),
        ("a?b=c", "a%3Fb=c"),
        ("a#b", "a%23b"),
        ("../admin", "..%2Fadmin"),
        ("a b", "a%20b"),
        ("会议", "%E4%BC%9A%E8%AE%AE"),
        ("100%", "100%25"),
    ];
    for (id, encoded) in cases {
        let error = client.conference_info(id).await.expect_err("no such room");
        assert!(error.is_not_found(), "{id}: {error:?}");
        let last = mock.requests().last().cloned().expect("logged");
        assert_eq!(
            last.path,
            format!("/v1.0/conference/videoConferences/{encoded}"),
            "{id}"
        );
    }
}

/// Every secret of the test, to look for in the output.
fn secrets(extra_tokens: &[String]) -> Vec<String> {
    let mut all: Vec<String> = [
        DEFAULT_APP_SECRET,
        DEFAULT_SUITE_SECRET,
        DEFAULT_SUITE_TICKET,
        "static-token-secret-value",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.extend(extra_tokens.iter().cloned());
    all
}

#[tokio::test]
async fn debug_display_errors_and_traces_never_contain_a_secret() {
    let mock = mock().await;
    let mut printed = String::new();

    let app = app_builder(&mock);
    let suite = Client::builder()
        .base_url(mock.base_url())
        .suite_credentials(
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        );
    let fixed = Client::builder()
        .base_url(mock.base_url())
        .static_token("static-token-secret-value");
    printed += &format!("{app:?}\n{suite:?}\n{fixed:?}\n");

    let (_, trace) = with_trace_capture(async {
        for builder in [app, suite, fixed] {
            let client = builder.build().expect("valid");
            printed += &format!("{client:?}\n{client:#?}\n");
            let _ = client.conference_info(seeded::STARTED).await;
            mock.expire_all_tokens();
            let _ = client.conference_info(seeded::ENDED).await;
            for fault in [
                Fault::NonJson200,
                Fault::IpBanHtml,
                Fault::Throttle("Forbidden.AccessDenied.QpsLimitForApi".into()),
                Fault::TruncatedBody,
            ] {
                mock.push_fault(FaultScope::NextRequests(3), fault);
                if let Err(e) = client.conference_info(seeded::STARTED).await {
                    printed += &format!("{e}\n{e:?}\n{e:#?}\n");
                }
            }
            if let Ok(token) = client.access_token().await {
                printed += &format!("{token:?}\n{}\n", token.secret());
            }
        }
        let bad = Client::builder()
            .base_url(mock.base_url())
            .app_credentials(DEFAULT_APP_KEY, "wrong-app-secret-value")
            .build()
            .expect("valid");
        if let Err(e) = bad.conference_info(seeded::STARTED).await {
            printed += &format!("{e}\n{e:?}\n");
        }
    })
    .await;
    printed += &trace;

    // Every token the server issued, read off the wire.
    let tokens: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header("x-acs-dingtalk-access-token").map(str::to_string))
        .collect();
    assert!(tokens.len() > 3, "the scenario sent tokens");
    let mut all = secrets(&tokens);
    all.push("wrong-app-secret-value".to_string());
    for secret in all {
        assert!(
            !printed.contains(&secret),
            "leaked {secret:?} in:\n{printed}"
        );
    }
    assert!(
        trace.contains("operation=\"queryConferenceInfo\""),
        "tracing was captured"
    );
}

#[test]
fn secrets_print_redacted() {
    let secret = Secret::new("s3cr3t");
    assert_eq!(format!("{secret} {secret:?}"), "[redacted] [redacted]");
}

#[tokio::test]
async fn a_backslash_in_an_id_is_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for id in ["..\\..\\oauth2\\accessToken", "..\\x", "a\\b"] {
        let error = client.conference_info(id).await.expect_err("refused");
        assert!(matches!(error, Error::InvalidInput(_)), "{id}: {error:?}");
    }
    assert!(mock.requests().is_empty());
}

#[test]
fn the_builder_and_its_errors_never_show_url_user_info_or_query() {
    // The example, https://user:pass@host/?key=secret, with words that cannot occur
    // elsewhere in the output by chance.
    let url = "https://alice:hunter2@host.example/?key=s3cr3t";
    let builder = Client::builder()
        .app_credentials("key", "app-secret")
        .base_url(url);
    let shown = format!("{builder:?} {builder:#?}");
    for secret in ["alice", "hunter2", "s3cr3t", "app-secret"] {
        assert!(!shown.contains(secret), "{secret:?} in {shown}");
    }
    assert!(
        shown.contains("https://[redacted]@host.example/?[redacted]"),
        "{shown}"
    );
    let error = builder.build().expect_err("user info refused");
    let error = format!("{error} {error:?}");
    for secret in ["alice", "hunter2", "s3cr3t"] {
        assert!(!error.contains(secret), "{secret:?} in {error}");
    }
    let error = Client::builder()
        .app_credentials("key", "app-secret")
        .base_url("https://host.example/?key=s3cr3t#h1dd3n")
        .build()
        .expect_err("query refused");
    let error = format!("{error} {error:?}");
    assert!(
        !error.contains("s3cr3t") && !error.contains("h1dd3n"),
        "{error}"
    );
    assert!(error.contains("query"), "{error}");
}

#[test]
fn limits_that_would_fail_every_call_are_refused_when_the_client_is_built() {
    use std::time::Duration;
    let builder = || Client::builder().app_credentials("key", "secret");
    let refused = [
        ("timeout", builder().timeout(Duration::ZERO)),
        ("connect timeout", builder().connect_timeout(Duration::ZERO)),
        ("call deadline", builder().call_timeout(Duration::ZERO)),
        (
            "token fetch timeout",
            builder().token_fetch_timeout(Duration::ZERO),
        ),
        ("max_response_bytes", builder().max_response_bytes(0)),
    ];
    for (what, builder) in refused {
        let error = builder.build().expect_err(what);
        assert!(matches!(error, Error::Config(_)), "{what}: {error:?}");
        assert!(error.to_string().contains(what), "{what}: {error}");
    }
    builder()
        .timeout(Duration::from_millis(1))
        .max_response_bytes(1)
        .build()
        .expect("tiny but not zero");
}

#[tokio::test]
async fn text_from_the_network_is_escaped_and_bounded_in_errors_and_logs() {
    let mock = mock().await;
    let hostile = format!("boom\u{1b}[2J\r\nFAKE LOG LINE {}", "x".repeat(5000));
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Error {
            status: 500,
            code: "systemError\u{202e}".into(),
            message: hostile.clone(),
        },
    );
    let client = app_client(&mock);
    let (result, trace) = with_trace_capture(client.conference_info(seeded::STARTED)).await;
    let error = result.expect_err("500");
    // The raw text stays reachable for programs...
    assert_eq!(
        error.api_error().and_then(|a| a.message.as_deref()),
        Some(hostile.as_str())
    );
    // ...but what is printed is escaped and cut.
    let shown = error.to_string();
    assert!(
        shown.contains("boom\\u{1b}[2J\\r\\nFAKE LOG LINE"),
        "{shown}"
    );
    assert!(shown.contains("…[cut]"), "{shown}");
    assert!(
        shown.chars().count() < 800,
        "{} chars",
        shown.chars().count()
    );
    assert!(shown.contains("systemError\\u{202e}"), "{shown}");
    for text in [&shown, &error.report(), &trace] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(!text.contains("\r\nFAKE"), "a forged log line: {text}");
    }
    assert!(
        trace.contains("retrying"),
        "the retries were logged: {trace}"
    );
}
