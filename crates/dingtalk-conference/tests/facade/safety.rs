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
        trace.contains("dingtalk.conference_info"),
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
