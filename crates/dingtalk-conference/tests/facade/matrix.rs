//! The fault matrix: every fault the fake server can script, run through the facade, with the
//! exact outcome, the number of attempts and token requests, and a hang guard. The same run
//! checks that no secret reaches any error or trace, and that `docs/RELIABILITY.md` shows this
//! very table.

use std::fmt::Write as _;
use std::time::Duration;

use dingtalk_conference::{Client, ConferenceInfo, Error, RetryPolicy};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, Fault, FaultScope, IpLimit, MockServer,
    seeded,
};

use crate::common::with_trace_capture;

/// The request timeout of the matrix's client: short, so that slow faults (3 s) finish
/// quickly, yet long enough that a loaded machine never times out a normal answer.
const TIMEOUT: Duration = Duration::from_secs(1);
/// No case may take longer than this: the client must never hang.
const HANG_GUARD: Duration = Duration::from_secs(20);
const RELIABILITY_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/RELIABILITY.md");
const TABLE_START: &str = "<!-- fault-matrix:start -->";
const TABLE_END: &str = "<!-- fault-matrix:end -->";

/// Which client a case uses.
#[derive(Clone, Copy)]
enum Creds {
    App,
    WrongSecret,
    UnknownStaticToken,
    /// A custom token provider that never answers.
    HungProvider,
    /// App credentials, and a call deadline shorter than one request's timeout.
    AppShortDeadline,
}

struct Case {
    fault: &'static str,
    creds: Creds,
    /// Scripts the server; runs after the warm-up call, so counts exclude it.
    setup: Box<dyn Fn(&MockServer)>,
    /// The outcome, as [`describe`] prints it.
    outcome: &'static str,
    /// Conference requests the call made (attempts, replays included).
    attempts: u64,
    /// Token requests the call made.
    token_requests: u64,
}

fn case(
    fault: &'static str,
    setup: impl Fn(&MockServer) + 'static,
    outcome: &'static str,
    attempts: u64,
    token_requests: u64,
) -> Case {
    Case {
        fault,
        creds: Creds::App,
        setup: Box::new(setup),
        outcome,
        attempts,
        token_requests,
    }
}

fn on_conference(n: u32, fault: Fault) -> impl Fn(&MockServer) {
    move |mock| mock.push_fault(FaultScope::NextConferenceRequests(n), fault.clone())
}

fn on_token(n: u32, fault: Fault) -> impl Fn(&MockServer) {
    move |mock| {
        // Force a token fetch: the warm-up token is no longer accepted.
        mock.expire_all_tokens();
        mock.push_fault(FaultScope::NextTokenRequests(n), fault.clone());
    }
}

fn error(status: u16, code: &str, message: &str) -> Fault {
    Fault::Error {
        status,
        code: code.into(),
        message: message.into(),
    }
}

fn body(status: u16, json: &str) -> Fault {
    Fault::Body {
        status,
        content_type: "application/json".into(),
        body: json.as_bytes().to_vec(),
    }
}

/// A DingTalk error body padded past the client's 1 MiB limit.
fn big_json() -> String {
    format!(
        r#"{{"code":"systemError","message":"{}"}}"#,
        "x".repeat(2 << 20)
    )
}

/// A token provider whose fetch never finishes, like a vault call that hangs.
struct Hung;

impl dingtalk_conference::TokenProvider for Hung {
    fn fetch_token(&self) -> dingtalk_conference::TokenFuture<'_> {
        Box::pin(std::future::pending())
    }
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        case("none (the seeded conference)", |_| {}, "ok", 1, 0),
        // The seed's documented errors.
        case(
            "400 missingRoomId",
            on_conference(9, error(400, "missingRoomId", "MISSING ROOM ID")),
            "Api(400 missingRoomId)",
            1,
            0,
        ),
        case(
            "400 paramError",
            on_conference(9, error(400, "paramError", "PARAM ERROR")),
            "Api(400 paramError)",
            1,
            0,
        ),
        case(
            "403 noPermission",
            on_conference(9, error(403, "noPermission", "NO PERMISSION")),
            "Api(403 noPermission)",
            1,
            0,
        ),
        case(
            "404 roomNotFound",
            on_conference(9, error(404, "roomNotFound", "ROOM NOT FOUND")),
            "Api(404 roomNotFound)",
            1,
            0,
        ),
        case(
            "500 systemError, always",
            on_conference(9, error(500, "systemError", "SYSTEM ERROR")),
            "Api(500 systemError)",
            3,
            0,
        ),
        case(
            "500 systemError, once",
            on_conference(1, error(500, "systemError", "SYSTEM ERROR")),
            "ok",
            2,
            0,
        ),
        // Tokens.
        case(
            "token expired (InvalidAuthentication once)",
            |m| m.expire_all_tokens(),
            "ok",
            2,
            1,
        ),
        case(
            "token never accepted (InvalidAuthentication always)",
            on_conference(9, error(400, "InvalidAuthentication", "token invalid")),
            "Api(400 InvalidAuthentication)",
            2,
            1,
        ),
        case(
            "401 with a body over the limit, once",
            on_conference(1, body(401, &big_json())),
            "ok",
            2,
            1,
        ),
        Case {
            creds: Creds::HungProvider,
            ..case(
                "custom token provider never answers",
                |_| {},
                "Auth(Timeout(TokenFetch))",
                0,
                0,
            )
        },
        Case {
            creds: Creds::AppShortDeadline,
            ..case(
                "call deadline reached (slow headers, deadline below the request timeout)",
                on_conference(9, Fault::Delay(Duration::from_secs(3))),
                "Timeout(Deadline)",
                1,
                0,
            )
        },
        Case {
            creds: Creds::UnknownStaticToken,
            ..case(
                "static token rejected (reported at once: no doomed replay)",
                |_| {},
                "Api(400 InvalidAuthentication)",
                1,
                0,
            )
        },
        case(
            "401 from the API",
            on_conference(1, error(401, "Unauthorized", "unauthorised")),
            "ok",
            2,
            1,
        ),
        Case {
            creds: Creds::WrongSecret,
            ..case(
                "token endpoint: bad credentials",
                |_| {},
                "Auth(Api(400 invalidClientIdOrSecret))",
                0,
                1,
            )
        },
        case(
            "token endpoint: 503, always",
            on_token(9, error(503, "ServiceUnavailable", "down")),
            "Auth(Api(503 ServiceUnavailable))",
            1,
            3,
        ),
        case(
            "token endpoint: down (connection dropped)",
            on_token(9, Fault::DropConnection),
            "Auth(Transport(Closed))",
            1,
            3,
        ),
        case(
            "token endpoint: not JSON",
            on_token(1, Fault::NonJson200),
            "Auth(Decode(200))",
            1,
            1,
        ),
        case(
            "token endpoint: no accessToken",
            on_token(1, body(200, r#"{"expireIn":7200}"#)),
            "Auth(Decode(200))",
            1,
            1,
        ),
        case(
            "token endpoint: expireIn 0",
            |m| {
                m.expire_all_tokens();
                let token = m.issue_token();
                m.push_fault(
                    FaultScope::NextTokenRequests(1),
                    body(200, &format!(r#"{{"accessToken":"{token}","expireIn":0}}"#)),
                );
            },
            "ok",
            2,
            1,
        ),
    ];
    for code in [
        "QpsLimitForApi",
        "QpsLimitForAppkeyAndApi",
        "QpmLimitForAppkeyAndApi",
        "QpsLimitForSuitekeyAndOrgAndApi",
        "QpmLimitForSuitekeyAndOrgAndApi",
    ] {
        let full = format!("Forbidden.AccessDenied.{code}");
        let name: &'static str = Box::leak(format!("403 {code}, once").into_boxed_str());
        cases.push(case(
            name,
            on_conference(1, Fault::Throttle(full)),
            "ok",
            2,
            0,
        ));
    }
    cases.extend([
        case(
            "403 QpsLimitForApi, always",
            on_conference(
                9,
                Fault::Throttle("Forbidden.AccessDenied.QpsLimitForApi".into()),
            ),
            "Api(403 Forbidden.AccessDenied.QpsLimitForApi)",
            3,
            0,
        ),
        case(
            "403 ApiCountLimitForOrg (quota)",
            on_conference(
                9,
                Fault::Throttle("Forbidden.AccessDenied.ApiCountLimitForOrg".into()),
            ),
            "Api(403 Forbidden.AccessDenied.ApiCountLimitForOrg)",
            1,
            0,
        ),
        case(
            "403 AccessTokenPermissionDenied",
            on_conference(
                9,
                Fault::Throttle("Forbidden.AccessDenied.AccessTokenPermissionDenied".into()),
            ),
            "Api(403 Forbidden.AccessDenied.AccessTokenPermissionDenied)",
            1,
            0,
        ),
        case(
            "403 IpNotInWhiteList",
            on_conference(
                9,
                Fault::Throttle("Forbidden.AccessDenied.IpNotInWhiteList".into()),
            ),
            "Api(403 Forbidden.AccessDenied.IpNotInWhiteList)",
            1,
            0,
        ),
        case(
            "429 without Retry-After, once",
            on_conference(1, Fault::TooManyRequests { retry_after: None }),
            "ok",
            2,
            0,
        ),
        case(
            "429 with Retry-After: 1, once",
            on_conference(
                1,
                Fault::TooManyRequests {
                    retry_after: Some(1),
                },
            ),
            "ok",
            2,
            0,
        ),
        case(
            "429 with Retry-After: 120",
            on_conference(
                9,
                Fault::TooManyRequests {
                    retry_after: Some(120),
                },
            ),
            "Api(429 system.busy)",
            1,
            0,
        ),
    ]);
    for status in [500u16, 502, 503, 504] {
        let name: &'static str = Box::leak(format!("{status}, always").into_boxed_str());
        let outcome: &'static str =
            Box::leak(format!("Api({status} systemError)").into_boxed_str());
        cases.push(case(
            name,
            on_conference(9, error(status, "systemError", "SYSTEM ERROR")),
            outcome,
            3,
            0,
        ));
    }
    cases.extend([
        case("HTML IP-ban page", on_conference(9, Fault::IpBanHtml), "UnexpectedResponse(403 text/html)", 1, 0),
        case("JSON IP-ban page (not an error body)", on_conference(9, Fault::IpBanJson), "UnexpectedResponse(403 application/json)", 1, 0),
        case("200 whose body is not JSON", on_conference(9, Fault::NonJson200), "Decode(200)", 1, 0),
        case("truncated body, once", on_conference(1, Fault::TruncatedBody), "ok", 2, 0),
        case("truncated body, always", on_conference(9, Fault::TruncatedBody), "Transport(Body)", 3, 0),
        case("wrong JSON types", on_conference(9, body(200, r#"{"confInfo":{"activeNum":"ten"}}"#)), "Decode(200)", 1, 0),
        case("unknown fields", on_conference(9, body(200, r#"{"confInfo":{"conferenceId":"x","brandNew":{"a":[1]}},"extra":true}"#)), "ok", 1, 0),
        case("unknown enum values", on_conference(9, body(200, r#"{"confInfo":{"status":9,"bizType":"webinar","cloudRecordStatus":7,"extensionAppSettings":[{"autoOpenMode":4}]}}"#)), "ok", 1, 0),
        case("null fields", on_conference(9, body(200, r#"{"confInfo":{"title":null,"status":null,"startTime":null,"extensionAppSettings":null}}"#)), "ok", 1, 0),
        case("missing confInfo", on_conference(9, body(200, "{}")), "Decode(200)", 1, 0),
        case("very large body (2 MiB)", on_conference(9, body(200, &format!(r#"{{"confInfo":{{"title":"{}"}}}}"#, "x".repeat(2 << 20)))), "BodyTooLarge(1048576)", 1, 0),
        case("503 with a body over the limit, once", on_conference(1, body(503, &big_json())), "ok", 2, 0),
        case("503 with a body over the limit, always", on_conference(9, body(503, &big_json())), "UnexpectedResponse(503 application/json)", 3, 0),
        case("429 with a body over the limit, once", on_conference(1, body(429, &big_json())), "ok", 2, 0),
        case("403 throttled, accessdenieddetail null, once", on_conference(1, body(403, r#"{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","requestid":null,"message":null,"accessdenieddetail":null}"#)), "ok", 2, 0),
        case("403 throttled, accessdenieddetail null, always", on_conference(9, body(403, r#"{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","requestid":null,"message":null,"accessdenieddetail":null}"#)), "Api(403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi)", 3, 0),
        case("slow headers, always", on_conference(9, Fault::Delay(Duration::from_secs(3))), "Transport(Timeout)", 3, 0),
        case("slow body, always", on_conference(9, Fault::SlowBody(Duration::from_secs(3))), "Transport(Timeout)", 3, 0),
        case("connection reset, once", on_conference(1, Fault::DropConnection), "ok", 2, 0),
        case("connection reset, always", on_conference(9, Fault::DropConnection), "Transport(Closed)", 3, 0),
        case("redirect to another host", on_conference(9, Fault::RedirectTo("http://localhost:9/elsewhere".into())), "UnexpectedResponse(302)", 1, 0),
        // DingTalk's limits as the fake server enforces them (not scripted faults).
        case(
            "fake server: per-second limit spent, always (0 calls/s left)",
            |m| m.set_qps_limit(Some(0)),
            "Api(403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi)",
            3,
            0,
        ),
        case(
            "fake server: IP limit reached (ban page for 5 minutes)",
            |m| {
                m.set_ip_limit(Some(IpLimit {
                    calls: 0,
                    window: Duration::from_secs(20),
                }))
            },
            "UnexpectedResponse(403 text/html)",
            1,
            0,
        ),
        case(
            "fake server: monthly quota spent",
            |m| m.set_monthly_quota(Some(m.quota_used(DEFAULT_CORP_ID))),
            "Api(403 Forbidden.AccessDenied.ApiCountLimitForOrg)",
            1,
            0,
        ),
    ]);
    cases
}

/// A short, stable description of an outcome.
fn describe(result: &Result<ConferenceInfo, Error>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(e) => describe_error(e),
    }
}

fn describe_error(error: &Error) -> String {
    match error {
        Error::Api(api) => format!("Api({} {})", api.status.as_u16(), api.code),
        Error::Auth { source, .. } => format!("Auth({})", describe_error(source)),
        Error::Transport(t) => format!("Transport({:?})", t.kind()),
        Error::Decode { status, .. } => format!("Decode({})", status.as_u16()),
        Error::BodyTooLarge { limit, .. } => format!("BodyTooLarge({limit})"),
        Error::Timeout { kind, .. } => format!("Timeout({kind:?})"),
        Error::UnexpectedResponse {
            status,
            content_type,
            ..
        } => match content_type.as_deref().and_then(|c| c.split(';').next()) {
            Some(c) if !status.is_redirection() => {
                format!("UnexpectedResponse({} {c})", status.as_u16())
            }
            _ => format!("UnexpectedResponse({})", status.as_u16()),
        },
        other => format!("{other:?}"),
    }
}

fn client(mock: &MockServer, creds: Creds) -> Client {
    let builder = Client::builder()
        .base_url(mock.base_url())
        .timeout(TIMEOUT)
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5))
                .with_max_retry_after(Duration::from_secs(2)),
        );
    match creds {
        Creds::App => builder.app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET),
        Creds::WrongSecret => builder.app_credentials(DEFAULT_APP_KEY, "wrong-app-secret-value"),
        Creds::UnknownStaticToken => builder.static_token("never-issued-static-token"),
        Creds::HungProvider => builder.token_provider(Hung),
        Creds::AppShortDeadline => builder
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
            .call_timeout(Duration::from_millis(500)),
    }
    .build()
    .expect("valid client")
}

struct Row {
    fault: &'static str,
    outcome: String,
    attempts: u64,
    token_requests: u64,
    retryable: String,
}

async fn run_case(case: &Case, printed: &mut String) -> Row {
    let mock = MockServer::start().await.expect("fake server starts");
    let client = client(&mock, case.creds);
    if matches!(case.creds, Creds::App | Creds::AppShortDeadline) {
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("warm-up call");
    }
    (case.setup)(&mock);
    let before = mock.counters();
    let result = tokio::time::timeout(HANG_GUARD, client.conference_info(seeded::STARTED))
        .await
        .unwrap_or_else(|_| panic!("{}: the call hung", case.fault));
    let after = mock.counters();
    if let Err(e) = &result {
        let _ = write!(printed, "{e}\n{e:?}\n{e:#?}\n");
    }
    let _ = writeln!(printed, "{client:?}");
    let row = Row {
        fault: case.fault,
        outcome: describe(&result),
        attempts: after.conference_requests - before.conference_requests,
        token_requests: (after.token_requests + after.corp_token_requests)
            - (before.token_requests + before.corp_token_requests),
        retryable: match &result {
            Ok(_) => "-".to_string(),
            Err(e) => if e.is_retryable() { "yes" } else { "no" }.to_string(),
        },
    };
    for request in mock.requests() {
        if let Some(token) = request.header("x-acs-dingtalk-access-token") {
            printed.push_str("\u{0}TOKEN:");
            printed.push_str(token);
            printed.push('\n');
        }
    }
    mock.shutdown().await;
    row
}

fn render(rows: &[Row]) -> String {
    let mut table = String::from(
        "| fault | outcome | attempts | token requests | retryable |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            table,
            "| {} | `{}` | {} | {} | {} |",
            row.fault, row.outcome, row.attempts, row.token_requests, row.retryable
        );
    }
    table
}

#[tokio::test(start_paused = true)]
async fn every_fault_has_the_exact_outcome_and_leaks_no_secret() {
    let cases = cases();
    let mut printed = String::new();
    let (rows, trace) = with_trace_capture(async {
        let mut rows = Vec::new();
        for case in &cases {
            rows.push(run_case(case, &mut printed).await);
        }
        rows
    })
    .await;

    let mut mismatches = Vec::new();
    for (case, row) in cases.iter().zip(&rows) {
        let expected = (case.outcome, case.attempts, case.token_requests);
        let actual = (row.outcome.as_str(), row.attempts, row.token_requests);
        if expected != actual {
            mismatches.push(format!(
                "{}: expected {expected:?}, got {actual:?}",
                case.fault
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));

    // Secrets: the credentials, and every token the server saw on the wire.
    let (text, tokens): (Vec<&str>, Vec<&str>) = printed
        .split('\n')
        .partition(|line| !line.starts_with("\u{0}TOKEN:"));
    let mut secrets: Vec<String> = tokens
        .iter()
        .map(|t| t.trim_start_matches("\u{0}TOKEN:").to_string())
        .collect();
    assert!(!secrets.is_empty());
    secrets.extend(
        [
            DEFAULT_APP_SECRET,
            "wrong-app-secret-value",
            "never-issued-static-token",
        ]
        .map(String::from),
    );
    let text = text.join("\n") + &trace;
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "secret {secret:?} leaked");
    }

    check_reliability_doc(TABLE_START, TABLE_END, &render(&rows));
}

/// `docs/RELIABILITY.md` must hold exactly this table between the markers `table_start` and
/// `table_end`. `UPDATE_RELIABILITY_DOC=1` rewrites it (then review the diff like a snapshot).
pub(crate) fn check_reliability_doc(table_start: &str, table_end: &str, table: &str) {
    let doc = std::fs::read_to_string(RELIABILITY_DOC).expect("docs/RELIABILITY.md exists");
    let (Some(start), Some(end)) = (doc.find(table_start), doc.find(table_end)) else {
        panic!("docs/RELIABILITY.md lacks the {table_start} / {table_end} markers");
    };
    let current = &doc[start + table_start.len()..end];
    let wanted = format!("\n{table}");
    if current == wanted {
        return;
    }
    if std::env::var_os("UPDATE_RELIABILITY_DOC").is_some() {
        let updated = format!(
            "{}{wanted}{}",
            &doc[..start + table_start.len()],
            &doc[end..]
        );
        std::fs::write(RELIABILITY_DOC, updated).expect("docs/RELIABILITY.md writable");
        return;
    }
    panic!(
        "docs/RELIABILITY.md is out of date with the fault matrix. Run\n  \
         UPDATE_RELIABILITY_DOC=1 cargo test -p dingtalk-conference --test facade -- matrix writes budget\n\
         and review the diff. The table should be:\n{table}"
    );
}
