//! The write matrix: create and close are not idempotent, so a failure is retried only when
//! the request cannot have been processed (throttling, a failed connect, a rejected token);
//! after a timeout, a reset or a 5xx once the request was sent, the error is returned. Each row
//! runs over HTTP against the fake server, whose answers are scripted per operation; the table
//! in docs/RELIABILITY.md is checked against what the test measured.

use std::fmt::Write as _;
use std::time::Duration;

use dingtalk_conference::{Client, Error, NewConference, RetryPolicy};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, MockServer,
};

use crate::matrix::check_reliability_doc;

const TABLE_START: &str = "<!-- write-matrix:start -->";
const TABLE_END: &str = "<!-- write-matrix:end -->";
const TIMEOUT: Duration = Duration::from_secs(1);
const CONFERENCE: &str = "6323d7568777190142ab9d10";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Write {
    Create,
    Close,
}

impl Write {
    fn operation(self) -> &'static str {
        match self {
            Self::Create => "createVideoConference",
            Self::Close => "closeVideoConference",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::Create => "POST",
            Self::Close => "DELETE",
        }
    }

    fn success(self) -> Fault {
        let body = match self {
            Self::Create => {
                r#"{"conferenceId":"607452e01401526ee39609e1","roomCode":"68550708396"}"#
            }
            Self::Close => r#"{"code":200,"cause":"success"}"#,
        };
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    async fn run(self, client: &Client) -> Result<(), Error> {
        match self {
            Self::Create => client
                .create_conference(NewConference::new("iPOLxxxxiEiE", "Weekly sync"))
                .await
                .map(drop),
            Self::Close => client.close_conference(CONFERENCE, "iPOLxxxxiEiE").await,
        }
    }
}

struct Case {
    fault: &'static str,
    /// Faults for the write's next requests, in order; after them the write succeeds.
    faults: Vec<Fault>,
}

fn case(fault: &'static str, faults: Vec<Fault>) -> Case {
    Case { fault, faults }
}

fn error(status: u16, code: &str) -> Fault {
    Fault::Error {
        status,
        code: code.into(),
        message: code.to_uppercase(),
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("none", vec![]),
        case(
            "500 systemError after the request was sent",
            vec![error(500, "systemError")],
        ),
        case("502 from the gateway", vec![error(502, "badGateway")]),
        case("503, always", vec![error(503, "serviceUnavailable"); 5]),
        case(
            "no answer within the timeout",
            vec![Fault::Delay(TIMEOUT + Duration::from_millis(500))],
        ),
        case(
            "connection reset before an answer",
            vec![Fault::DropConnection],
        ),
        case("body cut short", vec![Fault::TruncatedBody]),
        case(
            "403 QpsLimitForAppkeyAndApi, once",
            vec![Fault::Throttle(
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into(),
            )],
        ),
        case(
            "429 system.busy, once",
            vec![Fault::TooManyRequests { retry_after: None }],
        ),
        case(
            "403 QpmLimitForAppkeyAndApi, always",
            vec![Fault::Throttle("Forbidden.AccessDenied.QpmLimitForAppkeyAndApi".into()); 5],
        ),
        case(
            "400 resourceClose (already ended)",
            vec![error(400, "resourceClose")],
        ),
        // The gateway refuses the token before the service sees the request.
        case(
            "token expired (400 InvalidAuthentication)",
            vec![error(400, "InvalidAuthentication")],
        ),
    ]
}

fn write_client(base_url: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .timeout(TIMEOUT)
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build()
        .expect("valid client")
}

fn describe(result: &Result<(), Error>) -> String {
    match result {
        Ok(()) => "ok".to_string(),
        Err(Error::Api(api)) => format!("Api({} {})", api.status.as_u16(), api.code),
        Err(Error::Transport(t)) => format!("Transport({:?})", t.kind()),
        Err(Error::Decode { status, .. }) => format!("Decode({})", status.as_u16()),
        Err(other) => format!("{other:?}"),
    }
}

/// Requests of `write` the server saw.
fn attempts(mock: &MockServer, write: Write) -> usize {
    mock.requests()
        .iter()
        .filter(|r| {
            r.method == write.method() && r.path.starts_with("/v1.0/conference/videoConferences")
        })
        .count()
}

async fn run_case(case: &Case, write: Write) -> (String, usize) {
    let mock = MockServer::start().await.expect("fake server starts");
    let client = write_client(&mock.base_url());
    client
        .access_token()
        .await
        .expect("a token before the write");
    let scope = |times| FaultScope::Operation {
        operation_id: write.operation().into(),
        id: None,
        times: Some(times),
    };
    for fault in &case.faults {
        mock.push_fault(scope(1), fault.clone());
    }
    mock.push_fault(scope(10), write.success());
    let result = tokio::time::timeout(Duration::from_secs(20), write.run(&client))
        .await
        .unwrap_or_else(|_| panic!("{}: the write hung", case.fault));
    let made = attempts(&mock, write);
    mock.shutdown().await;
    (describe(&result), made)
}

#[tokio::test(start_paused = true)]
async fn writes_are_retried_only_when_the_request_cannot_have_been_processed() {
    let mut table = String::from(
        "| fault | create: outcome | create: requests | close: outcome | close: requests |\n\
         |---|---|---|---|---|\n",
    );
    for case in cases() {
        let (create, create_attempts) = run_case(&case, Write::Create).await;
        let (close, close_attempts) = run_case(&case, Write::Close).await;
        let _ = writeln!(
            table,
            "| {} | `{create}` | {create_attempts} | `{close}` | {close_attempts} |",
            case.fault
        );
    }
    // A write that was sent is sent once, whatever happened to it. The exact outcomes are in
    // the table below, and in docs/RELIABILITY.md.
    for line in table.lines().skip(2) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let fault = cells[0].trim_start_matches("| ");
        let resend_allowed = fault.contains("Qp")
            || fault.contains("429")
            || fault.contains("InvalidAuthentication");
        for requests in [cells[2], cells[4].trim_end_matches(" |")] {
            let requests: usize = requests.parse().expect("a count");
            if resend_allowed {
                assert!(requests > 1, "{fault}: must be retried\n{table}");
            } else {
                assert_eq!(requests, 1, "{fault}: must not be sent again\n{table}");
            }
        }
    }
    check_reliability_doc(TABLE_START, TABLE_END, &table);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_cannot_connect_is_retried_a_read_that_times_out_is_retried_too() {
    // Nothing listens on a port just released: every connect fails, so the write was never
    // sent and retrying it is safe.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .static_token("static-token-for-connect-test")
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build()
        .expect("valid client");
    let (result, trace) = crate::common::with_trace_capture(
        client.create_conference(NewConference::new("iPOLxxxxiEiE", "Weekly sync")),
    )
    .await;
    match result {
        Err(Error::Transport(t)) => {
            assert_eq!(t.kind(), dingtalk_conference::TransportErrorKind::Connect)
        }
        other => panic!("expected a connect failure, got {other:?}"),
    }
    assert_eq!(trace.matches("retrying").count(), 2, "{trace}");

    // Reads stay retried after a timeout: the same fault as the write matrix's timeout row.
    let mock = MockServer::start().await.expect("fake server starts");
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceMembers".into(),
            id: None,
            times: Some(1),
        },
        Fault::Delay(TIMEOUT + Duration::from_millis(500)),
    );
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceMembers".into(),
            id: None,
            times: Some(1),
        },
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"memberModels":[{"unionId":"u1"}]}"#.to_vec(),
        },
    );
    let members = write_client(&mock.base_url())
        .conference_members(CONFERENCE)
        .collect()
        .await
        .expect("retried after the timeout");
    assert_eq!(members.len(), 1);
}

#[tokio::test]
async fn a_close_answered_with_another_code_than_200_is_an_error_and_a_create_without_an_id_too() {
    let mock = MockServer::start().await.expect("fake server starts");
    let client = write_client(&mock.base_url());
    let answer = |operation: &str, body: &str| {
        mock.push_fault(
            FaultScope::Operation {
                operation_id: operation.into(),
                id: None,
                times: Some(1),
            },
            Fault::Body {
                status: 200,
                content_type: "application/json".into(),
                body: body.as_bytes().to_vec(),
            },
        );
    };
    answer(
        "closeVideoConference",
        r#"{"code":500,"cause":"host busy"}"#,
    );
    let error = client
        .close_conference(CONFERENCE, "iPOLxxxxiEiE")
        .await
        .expect_err("code 500");
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert!(error.to_string().contains("code 500"), "{error}");
    assert!(error.to_string().contains("host busy"), "{error}");

    answer("createVideoConference", r#"{"roomCode":"68550708396"}"#);
    let error = client
        .create_conference(NewConference::new("iPOLxxxxiEiE", "Weekly sync"))
        .await
        .expect_err("no conferenceId");
    assert!(error.to_string().contains("conferenceId"), "{error}");
}

#[tokio::test]
async fn meeting_passwords_never_show_in_debug_output() {
    let mock = MockServer::start().await.expect("fake server starts");
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "createVideoConference".into(),
            id: None,
            times: Some(1),
        },
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"conferenceId":"607452e01401526ee39609e1","conferencePassword":"1151302294","hostPassword":"2142817614"}"#.to_vec(),
        },
    );
    let created = write_client(&mock.base_url())
        .create_conference(NewConference::new("iPOLxxxxiEiE", "Weekly sync"))
        .await
        .expect("created");
    let debug = format!("{created:?} {created:#?}");
    assert!(
        !debug.contains("1151302294") && !debug.contains("2142817614"),
        "{debug}"
    );
    assert!(debug.contains("[redacted]"), "{debug}");
    // The caller still has them, and `--json`-style output still carries them.
    assert_eq!(created.host_password.as_deref(), Some("2142817614"));
    let json = serde_json::to_string(&created).expect("serializes");
    assert!(json.contains("\"hostPassword\":\"2142817614\""), "{json}");
}

// ---------------------------------------------------------------------------------------------
// Every write of the spec: its declared retry safety, measured.

const EVERY_WRITE_START: &str = "<!-- every-write-matrix:start -->";
const EVERY_WRITE_END: &str = "<!-- every-write-matrix:end -->";

/// Every write of the spec with arguments (in `Client::call` form) that the freshly seeded fake
/// server accepts: create and close here, each part's writes from its own test module.
fn every_write() -> Vec<(&'static str, serde_json::Map<String, serde_json::Value>)> {
    use dingtalk_conference_mock::seeded;
    let args = |value: serde_json::Value| {
        value
            .as_object()
            .cloned()
            .expect("the arguments are written as objects")
    };
    let mut writes = vec![
        (
            "createVideoConference",
            args(serde_json::json!({
                "body": {"confTitle": "Weekly sync", "userId": seeded::STARTED_HOST},
            })),
        ),
        (
            "closeVideoConference",
            args(serde_json::json!({
                "conferenceId": seeded::STARTED,
                "unionId": seeded::STARTED_HOST,
            })),
        ),
    ];
    writes.extend(crate::org::seeded_writes());
    writes.extend(crate::control::seeded_writes());
    writes.extend(crate::schedules::seeded_writes());
    writes.extend(crate::record_stream::seeded_writes());
    writes.extend(crate::minutes::seeded_writes());
    writes.extend(crate::data::seeded_writes());
    writes
}

/// The spec's writes (`x-facade-op` kind `write`) and whether each is declared retry-safe.
fn spec_writes() -> Vec<(String, bool)> {
    let spec = dingtalk_conference_testkit::spec::spec();
    let mut writes = Vec::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let declaration = &operation["x-facade-op"];
            if declaration["kind"].as_str() == Some("write") {
                let safe = declaration["retry-safe"].as_bool().unwrap_or(false);
                writes.push((id.to_string(), safe));
            }
        }
    }
    writes.sort();
    writes
}

/// The faults of the every-write matrix: one that can only be retried if a repeat is harmless,
/// one that may be retried always, and the outcome with none.
fn every_write_faults() -> Vec<(&'static str, Vec<Fault>)> {
    vec![
        ("none", vec![]),
        (
            "500 once, after the request was sent",
            vec![error(500, "systemError")],
        ),
        (
            "no answer within the timeout, once",
            vec![Fault::Delay(TIMEOUT + Duration::from_millis(500))],
        ),
        (
            "403 QpsLimitForAppkeyAndApi, once",
            vec![Fault::Throttle(
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into(),
            )],
        ),
    ]
}

/// Runs `operation` once with `args` after `faults`, on a fresh seeded fake server: the
/// outcome and how many requests of it the server saw.
async fn run_write(
    operation: &str,
    args: &serde_json::Map<String, serde_json::Value>,
    faults: &[Fault],
) -> (String, usize) {
    let mock = MockServer::start().await.expect("fake server starts");
    let client = write_client(&mock.base_url());
    client
        .access_token()
        .await
        .expect("a token before the write");
    mock.reset_log();
    for fault in faults {
        mock.push_fault(
            FaultScope::Operation {
                operation_id: operation.into(),
                id: None,
                times: Some(1),
            },
            fault.clone(),
        );
    }
    let result = tokio::time::timeout(Duration::from_secs(20), client.call(operation, args))
        .await
        .unwrap_or_else(|_| panic!("{operation}: the write hung"));
    let made = mock
        .requests()
        .iter()
        .filter(|r| !r.path.starts_with("/v1.0/oauth2") && !r.path.starts_with("/gettoken"))
        .count();
    mock.shutdown().await;
    (describe(&result.map(drop)), made)
}

#[tokio::test(start_paused = true)]
async fn every_write_is_retried_as_its_spec_declares_it_and_no_further() {
    let writes = every_write();
    let declared = spec_writes();
    let mut listed: Vec<&str> = writes.iter().map(|(id, _)| *id).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        declared
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        "every write of the spec needs arguments here (each part's `seeded_writes`)"
    );
    let faults = every_write_faults();
    let mut table = String::from("| write | retry-safe |");
    for (fault, _) in &faults {
        let _ = write!(table, " {fault} |");
    }
    table.push_str("\n|---|---|");
    table.push_str(&"---|".repeat(faults.len()));
    table.push('\n');
    for (id, safe) in &declared {
        let args = &writes
            .iter()
            .find(|(write, _)| write == id)
            .expect("listed above")
            .1;
        let _ = write!(table, "| `{id}` | {} |", if *safe { "yes" } else { "no" });
        for (fault, scripted) in &faults {
            let (outcome, requests) = run_write(id, args, scripted).await;
            // What the spec's declaration promises: a write is sent again after it may have
            // been processed only when a repeat is harmless; throttling is always retried.
            let expected = match (*fault, *safe) {
                ("none", _) => ("ok", 1),
                (f, _) if f.starts_with("403") => ("ok", 2),
                (_, true) => ("ok", 2),
                (_, false) => ("", 1),
            };
            if expected.0 == "ok" {
                assert_eq!(outcome, "ok", "{id}, {fault}");
            } else {
                assert_ne!(outcome, "ok", "{id}, {fault}");
            }
            assert_eq!(requests, expected.1, "{id}, {fault}: requests");
            let _ = write!(table, " `{outcome}`, {requests} |");
        }
        table.push('\n');
    }
    check_reliability_doc(EVERY_WRITE_START, EVERY_WRITE_END, &table);
}
