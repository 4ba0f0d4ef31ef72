//! Retries: bounded, on throttling, 5xx and transport failures only; Retry-After honoured.

use std::time::Duration;

use dingtalk_conference::{
    CallOptions, Error, ErrorCode, RetryPolicy, TimeoutKind, TransportErrorKind,
};
use dingtalk_conference_mock::{Fault, FaultScope, seeded};

use crate::common::{
    app_builder, app_client, fast_retries, mock, no_retry_client, with_trace_capture,
};

const THROTTLE_CODES: [&str; 5] = [
    "Forbidden.AccessDenied.QpsLimitForApi",
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
    "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
    "Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi",
    "Forbidden.AccessDenied.QpmLimitForSuitekeyAndOrgAndApi",
];

#[tokio::test(start_paused = true)]
async fn each_throttling_code_is_retried_and_then_succeeds() {
    for code in THROTTLE_CODES {
        let mock = mock().await;
        mock.push_fault(
            FaultScope::NextConferenceRequests(1),
            Fault::Throttle(code.into()),
        );
        let info = app_client(&mock)
            .conference_info(seeded::STARTED)
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(info.conference_id.as_deref(), Some(seeded::STARTED));
        assert_eq!(mock.counters().conference_requests, 2, "{code}");
    }
}

#[tokio::test]
async fn server_errors_are_retried_up_to_the_bound_then_returned() {
    for status in [500u16, 502, 503, 504] {
        let mock = mock().await;
        mock.push_fault(
            FaultScope::NextConferenceRequests(10),
            Fault::Error {
                status,
                code: "systemError".into(),
                message: "SYSTEM ERROR".into(),
            },
        );
        let error = app_client(&mock)
            .conference_info(seeded::STARTED)
            .await
            .expect_err("always failing");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(mock.counters().conference_requests, 3, "HTTP {status}");
    }
}

#[tokio::test]
async fn other_4xx_quota_permission_and_whitelist_errors_are_never_retried() {
    let faults = [
        Fault::Error {
            status: 400,
            code: "paramError".into(),
            message: "PARAM ERROR".into(),
        },
        Fault::Error {
            status: 403,
            code: "noPermission".into(),
            message: "NO PERMISSION".into(),
        },
        Fault::Throttle("Forbidden.AccessDenied.ApiCountLimitForOrg".into()),
        Fault::Throttle("Forbidden.AccessDenied.AccessTokenPermissionDenied".into()),
        Fault::Throttle("Forbidden.AccessDenied.IpNotInWhiteList".into()),
    ];
    for fault in faults {
        let mock = mock().await;
        mock.push_fault(FaultScope::NextConferenceRequests(10), fault.clone());
        let error = app_client(&mock)
            .conference_info(seeded::STARTED)
            .await
            .expect_err("final");
        assert!(!error.is_retryable(), "{fault:?}");
        assert_eq!(mock.counters().conference_requests, 1, "{fault:?}");
    }
    let mock = mock().await;
    app_client(&mock)
        .conference_info("unknown-id")
        .await
        .expect_err("404");
    assert_eq!(mock.counters().conference_requests, 1, "404");
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_without_retry_after() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests { retry_after: None },
    );
    app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect("retried");
    assert_eq!(mock.counters().conference_requests, 2);
}

#[tokio::test]
async fn retry_after_is_read_and_a_wait_longer_than_allowed_is_not_taken() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests {
            retry_after: Some(120),
        },
    );
    let error = app_builder(&mock)
        .retry_policy(fast_retries().with_max_retry_after(Duration::from_secs(30)))
        .build()
        .expect("valid")
        .conference_info(seeded::STARTED)
        .await
        .expect_err("asked to wait too long");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(error.code(), Some(&ErrorCode::SystemBusy));
    assert!(error.is_throttled());
    assert_eq!(mock.counters().conference_requests, 1);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_one_second_delays_the_retry_by_at_least_a_second() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm-up: token and connection ready");
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    // The backoff of `app_client` is at most 5 ms: only Retry-After can make the call last a
    // second of Tokio's paused clock, which only the client's own waits move.
    let started = tokio::time::Instant::now();
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("retried");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.counters().conference_requests, 3);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_http_date_is_waited_out_too() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm-up: token and connection ready");
    // Two seconds ahead, to the second: between 1 and 2 s from when the client reads it.
    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::BodyWithHeaders {
            status: 503,
            content_type: "application/json".into(),
            headers: vec![("retry-after".into(), at)],
            body: br#"{"code":"systemError","message":"busy"}"#.to_vec(),
        },
    );
    // Tokio's paused clock: only the client's own waits move it.
    let started = tokio::time::Instant::now();
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("retried");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.counters().conference_requests, 3);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_that_would_end_past_the_deadline_is_returned_not_waited() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests {
            retry_after: Some(20),
        },
    );
    // 20 s is within the policy's 30 s cap, but not within the call's 2 s deadline.
    let error = app_builder(&mock)
        .call_timeout(Duration::from_secs(2))
        .build()
        .expect("valid")
        .conference_info(seeded::STARTED)
        .await
        .expect_err("not waited");
    assert_eq!(error.code(), Some(&ErrorCode::SystemBusy));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(20)));
    assert_eq!(mock.counters().conference_requests, 1);
}

#[tokio::test(start_paused = true)]
async fn the_call_deadline_ends_a_call_whose_answer_is_late() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Delay(Duration::from_secs(5)),
    );
    let client = app_builder(&mock)
        .timeout(Duration::from_secs(3))
        .call_timeout(Duration::from_millis(500))
        .build()
        .expect("valid");
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("deadline");
    let Error::Timeout {
        kind,
        limit,
        last_error,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*kind, TimeoutKind::Deadline);
    assert_eq!(*limit, Duration::from_millis(500));
    assert!(last_error.is_none(), "the first attempt was still running");
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("deadline"), "{error}");
}

/// A deadline far beyond the request timeout arms no timer of the call's own while the
/// request is out: the request's timeout ends each hung attempt, the retries go on, and the
/// deadline still ends the call, never later than it says.
#[tokio::test(start_paused = true)]
async fn hung_requests_end_by_their_own_timeout_and_the_call_by_its_deadline() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Delay(Duration::from_secs(3600)),
    );
    let client = app_builder(&mock)
        .timeout(Duration::from_secs(2))
        .call_timeout(Duration::from_secs(9))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(100)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_millis(100))
                .with_jitter(false),
        )
        .build()
        .expect("valid");
    let start = tokio::time::Instant::now();
    let error = client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("never answered");
    let took = start.elapsed();
    // Attempts end at 2 s each (their own timeout), retried 100 ms later: four in 8.3 s, and
    // the fifth is cut by the deadline at 9 s.
    assert_eq!(mock.counters().conference_requests, 5);
    let Error::Timeout {
        kind, last_error, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*kind, TimeoutKind::Deadline);
    assert!(
        matches!(
            last_error.as_deref(),
            Some(Error::Transport(transport)) if transport.kind() == TransportErrorKind::Timeout
        ),
        "{error:?}"
    );
    assert!(took >= Duration::from_secs(9), "{took:?}");
    assert!(took < Duration::from_millis(9_100), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn call_options_override_the_deadline_and_retry_policy_for_some_calls_only() {
    let mock = mock().await;
    let client = app_client(&mock);
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Error {
            status: 503,
            code: "systemError".into(),
            message: "down".into(),
        },
    );
    let once = client.with_options(CallOptions::new().retry_policy(RetryPolicy::none()));
    once.conference_info(seeded::STARTED)
        .await
        .expect_err("down");
    assert_eq!(mock.counters().conference_requests, 1);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect_err("down");
    assert_eq!(
        mock.counters().conference_requests,
        4,
        "the client's own policy"
    );

    mock.clear_faults();
    mock.push_fault(
        FaultScope::Conference(seeded::ENDED.into()),
        Fault::Delay(Duration::from_secs(5)),
    );
    let quick = once.with_options(CallOptions::new().timeout(Duration::from_millis(200)));
    let error = quick
        .conference_info(seeded::ENDED)
        .await
        .expect_err("deadline");
    assert!(
        matches!(error, Error::Timeout { kind: TimeoutKind::Deadline, limit, .. } if limit == Duration::from_millis(200)),
        "{error:?}"
    );
    let zero = client.with_options(CallOptions::new().timeout(Duration::ZERO));
    assert!(matches!(
        zero.conference_info(seeded::STARTED).await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Throttle(THROTTLE_CODES[1].into()),
    );
    let error = no_retry_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect_err("no retry");
    assert!(error.is_throttled());
    assert_eq!(mock.counters().conference_requests, 1);
}

#[tokio::test]
async fn transport_failures_are_retried() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm-up");
    mock.push_fault(FaultScope::NextConferenceRequests(1), Fault::DropConnection);
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("retried");
    assert_eq!(mock.counters().conference_requests, 3);
}

#[tokio::test(start_paused = true)]
async fn every_retry_is_traced_with_the_call_span() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(2),
        Fault::Throttle(THROTTLE_CODES[0].into()),
    );
    let client = app_client(&mock);
    let (result, trace) =
        with_trace_capture(async { client.conference_info(seeded::STARTED).await }).await;
    result.expect("third attempt succeeds");
    let retries: Vec<&str> = trace.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 2, "{trace}");
    for line in retries {
        assert!(line.contains("dingtalk.call"), "{line}");
        assert!(line.contains("operation=\"queryConferenceInfo\""), "{line}");
        assert!(
            line.contains(&format!("conference_id={}", seeded::STARTED)),
            "{line}"
        );
        assert!(line.contains("http.status=403"), "{line}");
        assert!(line.contains("request_id="), "{line}");
    }
}
