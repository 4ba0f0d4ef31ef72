//! The process's exit codes, and the one place where an error becomes one.
//!
//! Scripts branch on these codes, so they are part of the interface: `--help` prints
//! [`help_text`], built from the same table as the codes themselves.

use dingtalk_conference::{Error, ErrorCode};

/// What a run of `dingtalk-conference` ended with, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// 0: the command did what was asked.
    Success = 0,
    /// 1: anything else, e.g. missing or contradictory configuration.
    Other = 1,
    /// 2: bad input or usage: unknown flag, empty conference id, seconds out of range, or
    /// DingTalk's `missingRoomId`/`paramError`.
    Usage = 2,
    /// 3: no such conference (DingTalk's `roomNotFound`), no cloud recording
    /// (`cloudRecordNotFound`), or no data of that person in it (`memberNotFound`).
    NotFound = 3,
    /// 4: authentication or permission refused, or a token that cannot be sent. A failed token
    /// request counts only when the credentials are at fault, not for a network failure, a
    /// DingTalk outage or an answer that is not DingTalk's.
    Auth = 4,
    /// 5: throttled, still after retries, or a quota spent.
    Throttled = 5,
    /// 6: network: no connection, a timeout, a connection that broke off.
    Network = 6,
    /// 7: any other answer from DingTalk (the token endpoint's too), or an answer that is not
    /// DingTalk's.
    Api = 7,
    /// 8: `watch` gave up at `--timeout` before the condition held.
    WaitTimedOut = 8,
    /// 9: the conference has already ended (DingTalk's `resourceClose`, or `confClosed` for an
    /// in-meeting operation), e.g. `close` of a
    /// closed conference: a script may take it as done.
    Ended = 9,
    /// 130: interrupted with Ctrl-C (the shell convention, 128 + SIGINT).
    Interrupted = 130,
}

/// Every exit code with what it means to a person, in the order `--help` lists them.
pub(crate) const EXIT_CODES: [(Exit, &str); 11] = [
    (Exit::Success, "success"),
    (
        Exit::Other,
        "other failure, e.g. missing or contradictory configuration",
    ),
    (
        Exit::Usage,
        "bad input or usage: unknown flag, empty conference id or union id, a room code that \
         is not digits, a number of seconds out of range, DingTalk's missingRoomId, \
         paramError, paramsError, paramsTitleError, unknownUserError, invalidRoomCode or \
         missingRoomCode",
    ),
    (
        Exit::NotFound,
        "no such conference (roomNotFound), no cloud recording (cloudRecordNotFound), or no \
         data of that person in it (memberNotFound)",
    ),
    (
        Exit::Auth,
        "authentication or permission: the token endpoint refused the credentials \
         (invalidClientIdOrSecret, invalidSuiteKey, invalidSuiteTicket, invalidAuthInfo, or \
         another DingTalk error with HTTP 401/403), the token was rejected \
         (InvalidAuthentication, HTTP 401) or holds characters a header cannot carry, or the \
         app or user may not do this (noPermission, e.g. close by someone not the host; \
         AccessTokenPermissionDenied, IpNotInWhiteList, orgAccessForbidden, permissionError)",
    ),
    (
        Exit::Throttled,
        "throttled (Forbidden.AccessDenied.Qps*/Qpm*, 429 system.busy) even after retries, or \
         a limit is reached: the organisation's monthly quota (ApiCountLimitForOrg), the \
         number of participants (waterLimitError)",
    ),
    (
        Exit::Network,
        "network: could not connect, a request or --timeout ran out, or the answer broke off",
    ),
    (
        Exit::Api,
        "any other DingTalk error (e.g. 500 systemError), also from the token endpoint (e.g. a \
         404 from a wrong --base-url), or an answer that is not DingTalk's (not JSON, an HTML \
         page such as a 403 ban page, a redirect, a body over the size limit, a listing whose \
         page token repeats)",
    ),
    (
        Exit::WaitTimedOut,
        "watch: --timeout ran out before the condition held",
    ),
    (
        Exit::Ended,
        "the conference has already ended (resourceClose, confClosed), e.g. close of a closed conference",
    ),
    (Exit::Interrupted, "interrupted (Ctrl-C)"),
];

impl Exit {
    /// The numeric code.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// The exit code for a failure of the facade.
pub(crate) fn exit_for(error: &Error) -> Exit {
    match error {
        Error::InvalidInput(_) => Exit::Usage,
        Error::Config(_) => Exit::Other,
        Error::Api(api) => exit_for_code(&api.code, api.status.as_u16(), error.is_throttled()),
        Error::UnexpectedResponse { status, .. } if status.as_u16() == 401 => Exit::Auth,
        Error::UnexpectedResponse { .. } if error.is_throttled() => Exit::Throttled,
        // The server broke the protocol: an answer that does not decode, one too large, a
        // listing that hands back a page token it already gave, or new ones past the cap.
        Error::UnexpectedResponse { .. }
        | Error::Decode { .. }
        | Error::BodyTooLarge { .. }
        | Error::RepeatedPageToken { .. }
        | Error::TooManyPages { .. } => Exit::Api,
        Error::Transport(_) => Exit::Network,
        Error::Auth { source, .. } => exit_for_token_failure(source),
        Error::WaitTimedOut { .. } => Exit::WaitTimedOut,
        // Out of time: what the last attempt failed with says most (throttled, 5xx, …);
        // with no failure yet, the network was too slow.
        Error::Timeout {
            last_error: Some(last),
            ..
        } => exit_for(last),
        Error::Timeout { .. } => Exit::Network,
        _ => Exit::Other,
    }
}

/// The exit code for a failed token request. It is an auth failure only when the credentials
/// or the token are at fault: DingTalk refused them with its error body (a credentials or
/// permission code, or HTTP 401/403 that is not throttling), or the token cannot be sent at
/// all. Anything else says nothing about the credentials and is reported as what it is, by the
/// same rules as any other call: a network failure, throttling, a DingTalk outage, a 404 from a
/// wrong `--base-url`, an HTML ban page, a body too large.
fn exit_for_token_failure(source: &Error) -> Exit {
    match source {
        Error::Api(api) => match exit_for(source) {
            exit @ (Exit::Auth | Exit::Throttled) => exit,
            _ if matches!(api.status.as_u16(), 401 | 403) => Exit::Auth,
            exit => exit,
        },
        // A token with characters an HTTP header cannot carry: the token is bad, not the
        // command line.
        Error::InvalidInput(_) => Exit::Auth,
        other => exit_for(other),
    }
}

fn exit_for_code(code: &ErrorCode, status: u16, throttled: bool) -> Exit {
    match code {
        ErrorCode::RoomNotFound | ErrorCode::MemberNotFound => Exit::NotFound,
        ErrorCode::MissingRoomId | ErrorCode::ParamError => Exit::Usage,
        // part control: the conference service's codes, typed since the in-meeting operations.
        ErrorCode::ParamsError | ErrorCode::UnknownUserError | ErrorCode::CommandError => {
            Exit::Usage
        }
        ErrorCode::ConfClosed => Exit::Ended,
        ErrorCode::InvalidAuthentication
        | ErrorCode::InvalidClientIdOrSecret
        | ErrorCode::InvalidSuiteKey
        | ErrorCode::InvalidSuiteTicket
        | ErrorCode::InvalidAuthInfo
        | ErrorCode::NoPermission
        | ErrorCode::AccessTokenPermissionDenied
        | ErrorCode::IpNotInWhiteList => Exit::Auth,
        ErrorCode::ApiCountLimitForOrg => Exit::Throttled,
        // The cloud recording operations' spellings of "ended" and "not the host".
        ErrorCode::RoomClosed => Exit::Ended,
        ErrorCode::RecordStartPermissionError | ErrorCode::RecordStopPermissionError => Exit::Auth,
        // part schedule: the codes the scheduled-conference operations document, typed since.
        ErrorCode::ExtensionAppSettingError => Exit::Usage,
        ErrorCode::PermissionError | ErrorCode::CreatorUidError | ErrorCode::UserNotInOrg => {
            Exit::Auth
        }
        ErrorCode::InvalidScheduleConferenceId | ErrorCode::ScheduleConferenceIdError => {
            Exit::NotFound
        }
        // A cancelled schedule is over, as an ended conference is.
        ErrorCode::ResourceCancel => Exit::Ended,
        // Codes of the conference operations beyond query-info, which the facade keeps as
        // they came (docs/conference-operations.md lists them).
        ErrorCode::Other(other) => match other.as_str() {
            "paramsError" | "paramsTitleError" | "unknownUserError" | "invalidRoomCode"
            | "missingRoomCode" => Exit::Usage,
            "orgAccessForbidden" | "permissionError" => Exit::Auth,
            "cloudRecordNotFound" => Exit::NotFound,
            "resourceClose" => Exit::Ended,
            "waterLimitError" => Exit::Throttled,
            _ if throttled => Exit::Throttled,
            _ if status == 401 => Exit::Auth,
            _ => Exit::Api,
        },
        _ if throttled => Exit::Throttled,
        _ if status == 401 => Exit::Auth,
        _ => Exit::Api,
    }
}

/// The exit code table for `--help`, wrapped by hand (clap wraps only with a terminal-size
/// dependency this tool does without).
pub(crate) fn help_text() -> String {
    const WIDTH: usize = 92;
    const INDENT: &str = "       ";
    let mut text = String::from("Exit codes:\n");
    for (exit, meaning) in EXIT_CODES {
        let mut line = format!("  {:>3} ", exit.code());
        for word in meaning.split(' ') {
            if line.len() + 1 + word.len() > WIDTH {
                text.push_str(&line);
                text.push('\n');
                line = INDENT.to_string();
            } else {
                line.push(' ');
            }
            line.push_str(word);
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    //! The mapping is tested on errors the facade really produces, from the fake server, so a
    //! change in how the facade classifies an answer shows up here.

    use std::time::Duration;

    use dingtalk_conference::{Client, ClientBuilder, ConferenceStatus, RetryPolicy};
    use dingtalk_conference_mock::{
        DEFAULT_APP_KEY, DEFAULT_APP_SECRET, Fault, FaultScope, MockServer, seeded,
    };

    use super::*;

    /// The error of one query of `id` at `base_url`, by a client with the fake server's app and
    /// no retries, changed by `configure`.
    async fn query_error(
        base_url: &str,
        id: &str,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Error {
        let builder = Client::builder()
            .base_url(base_url)
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
            .retry_policy(RetryPolicy::none());
        configure(builder)
            .build()
            .expect("valid client")
            .conference_info(id)
            .await
            .expect_err("the call fails")
    }

    /// The exit code for a query after `fault` was queued for `scope`.
    async fn exit_after(scope: FaultScope, fault: Fault) -> Exit {
        let server = MockServer::start().await.expect("mock starts");
        server.push_fault(scope, fault);
        exit_for(&query_error(&server.base_url(), seeded::STARTED, |b| b).await)
    }

    /// The exit code for DingTalk's error body with `status` and `code` on every query.
    async fn exit_for_conference_error(status: u16, code: &str) -> Exit {
        let fault = Fault::Error {
            status,
            code: code.into(),
            message: "message".into(),
        };
        // Every request: a 401 makes the client fetch a new token and replay once.
        exit_after(FaultScope::Conference(seeded::STARTED.to_string()), fault).await
    }

    fn throttle(code: &str) -> Fault {
        Fault::Throttle(format!("Forbidden.AccessDenied.{code}"))
    }

    #[tokio::test]
    async fn unknown_conference_is_not_found() {
        let server = MockServer::start().await.expect("mock starts");
        let error = query_error(&server.base_url(), "no-such-conference", |b| b).await;
        assert_eq!(exit_for(&error), Exit::NotFound);
    }

    #[tokio::test]
    async fn dingtalks_input_errors_are_usage_errors() {
        for code in ["missingRoomId", "paramError"] {
            assert_eq!(exit_for_conference_error(400, code).await, Exit::Usage);
        }
    }

    #[tokio::test]
    async fn permission_errors_are_auth_errors() {
        for (status, code) in [
            (403, "noPermission"),
            (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied"),
            (403, "Forbidden.AccessDenied.IpNotInWhiteList"),
            (401, "somethingNew"),
        ] {
            let exit = exit_for_conference_error(status, code).await;
            assert_eq!(exit, Exit::Auth, "{code}");
        }
    }

    #[tokio::test]
    async fn rejected_token_and_refused_credentials_are_auth_errors() {
        let server = MockServer::start().await.expect("mock starts");
        let url = server.base_url();
        let error = query_error(&url, seeded::STARTED, |b| b.static_token("not issued")).await;
        assert_eq!(error.code(), Some(&ErrorCode::InvalidAuthentication));
        assert_eq!(exit_for(&error), Exit::Auth);

        let wrong_secret = |b: ClientBuilder| b.app_credentials(DEFAULT_APP_KEY, "wrong");
        let error = query_error(&url, seeded::STARTED, wrong_secret).await;
        assert_eq!(error.code(), Some(&ErrorCode::InvalidClientIdOrSecret));
        assert_eq!(exit_for(&error), Exit::Auth);
    }

    #[tokio::test]
    async fn throttling_and_spent_quota_are_throttled() {
        let once = || FaultScope::NextConferenceRequests(1);
        let too_many = Fault::TooManyRequests {
            retry_after: Some(1),
        };
        assert_eq!(
            exit_after(once(), throttle("QpsLimitForAppkeyAndApi")).await,
            Exit::Throttled
        );
        assert_eq!(exit_after(once(), too_many).await, Exit::Throttled);
        assert_eq!(
            exit_for_conference_error(403, "Forbidden.AccessDenied.ApiCountLimitForOrg").await,
            Exit::Throttled
        );
    }

    #[tokio::test]
    async fn throttled_token_request_is_throttled_not_auth() {
        let scope = FaultScope::NextTokenRequests(1);
        assert_eq!(
            exit_after(scope, throttle("QpsLimitForApi")).await,
            Exit::Throttled
        );
    }

    /// The exit code for a query whose token request got `fault`.
    async fn exit_after_token_fault(fault: Fault) -> Exit {
        exit_after(FaultScope::NextTokenRequests(1), fault).await
    }

    fn dingtalk_error(status: u16, code: &str) -> Fault {
        Fault::Error {
            status,
            code: code.into(),
            message: "message".into(),
        }
    }

    #[tokio::test]
    async fn token_endpoint_refusing_the_credentials_is_an_auth_error() {
        for (status, code) in [
            (400, "invalidClientIdOrSecret"),
            (400, "invalidSuiteKey"),
            (400, "invalidSuiteTicket"),
            (400, "invalidAuthInfo"),
            (400, "InvalidAuthentication"),
            (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied"),
            (401, "somethingNew"),
            (403, "somethingNew"),
        ] {
            let exit = exit_after_token_fault(dingtalk_error(status, code)).await;
            assert_eq!(exit, Exit::Auth, "{status} {code}");
        }
    }

    #[tokio::test]
    async fn token_endpoint_failures_that_are_not_about_credentials_are_not_auth_errors() {
        // A wrong --base-url: a gateway that knows no such route.
        let not_found = dingtalk_error(404, "InvalidAction.NotFound");
        assert_eq!(exit_after_token_fault(not_found).await, Exit::Api);
        // The client sent no body DingTalk could read: a bug, not the credentials.
        let missing_body = dingtalk_error(400, "Missingbody");
        assert_eq!(exit_after_token_fault(missing_body).await, Exit::Api);
        // An unknown 4xx code that is neither 401 nor 403.
        let other = dingtalk_error(400, "somethingNew");
        assert_eq!(exit_after_token_fault(other).await, Exit::Api);
        // DingTalk's IP-ban pages are 403, but not DingTalk's error body.
        for fault in [Fault::IpBanHtml, Fault::IpBanJson] {
            assert_eq!(
                exit_after_token_fault(fault.clone()).await,
                Exit::Api,
                "{fault:?}"
            );
        }
    }

    #[tokio::test]
    async fn token_answer_over_the_size_limit_is_an_api_error() {
        let server = MockServer::start().await.expect("mock starts");
        let huge = Fault::Body {
            status: 400,
            content_type: "application/json".into(),
            body: vec![b' '; 64 * 1024],
        };
        server.push_fault(FaultScope::NextTokenRequests(1), huge);
        let small = |b: ClientBuilder| b.max_response_bytes(1024);
        let error = query_error(&server.base_url(), seeded::STARTED, small).await;
        // An error status keeps its meaning whatever the size of its body.
        assert!(
            matches!(&error, Error::Auth { source, .. } if matches!(**source, Error::UnexpectedResponse { status, .. } if status.as_u16() == 400)),
            "{error:?}"
        );
        assert_eq!(exit_for(&error), Exit::Api);
    }

    #[tokio::test]
    async fn token_a_header_cannot_carry_is_an_auth_error_not_usage() {
        let server = MockServer::start().await.expect("mock starts");
        let bad_token = |b: ClientBuilder| b.static_token("line\nbreak");
        let error = query_error(&server.base_url(), seeded::STARTED, bad_token).await;
        assert!(
            matches!(&error, Error::Auth { source, .. } if matches!(**source, Error::InvalidInput(_))),
            "{error:?}"
        );
        assert_eq!(exit_for(&error), Exit::Auth);
    }

    #[tokio::test]
    async fn dingtalk_outage_is_an_api_error_even_at_the_token_endpoint() {
        assert_eq!(
            exit_for_conference_error(500, "systemError").await,
            Exit::Api
        );
        let outage = Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "system error".into(),
        };
        assert_eq!(
            exit_after(FaultScope::NextTokenRequests(1), outage).await,
            Exit::Api
        );
    }

    #[tokio::test]
    async fn answers_that_are_not_dingtalks_are_api_errors() {
        for fault in [Fault::NonJson200, Fault::IpBanHtml, Fault::IpBanJson] {
            let scope = FaultScope::NextConferenceRequests(1);
            assert_eq!(
                exit_after(scope, fault.clone()).await,
                Exit::Api,
                "{fault:?}"
            );
        }
    }

    #[tokio::test]
    async fn closed_port_dropped_connection_and_timeout_are_network_errors() {
        let closed_port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let url = format!("http://127.0.0.1:{closed_port}");
        let error = query_error(&url, seeded::STARTED, |b| b).await;
        assert!(matches!(error, Error::Auth { .. }), "{error:?}");
        assert_eq!(exit_for(&error), Exit::Network);

        let scope = FaultScope::NextConferenceRequests(1);
        assert_eq!(
            exit_after(scope, Fault::DropConnection).await,
            Exit::Network
        );

        let server = MockServer::start().await.expect("mock starts");
        let slow = Fault::Delay(Duration::from_secs(5));
        server.push_fault(FaultScope::NextConferenceRequests(1), slow);
        let short = |b: ClientBuilder| b.timeout(Duration::from_millis(200));
        let error = query_error(&server.base_url(), seeded::STARTED, short).await;
        assert_eq!(exit_for(&error), Exit::Network);
    }

    #[tokio::test]
    async fn the_new_operations_codes_map_like_their_kin() {
        for (status, code, expected) in [
            (400, "resourceClose", Exit::Ended),
            (400, "cloudRecordNotFound", Exit::NotFound),
            (400, "paramsError", Exit::Usage),
            (400, "paramsTitleError", Exit::Usage),
            (400, "unknownUserError", Exit::Usage),
            (400, "invalidRoomCode", Exit::Usage),
            (400, "orgAccessForbidden", Exit::Auth),
            (404, "permissionError", Exit::Auth),
            (404, "waterLimitError", Exit::Throttled),
            (400, "resourceCancel", Exit::Ended),
            (400, "creatorUidError", Exit::Auth),
            (400, "userNotInOrg", Exit::Auth),
            (400, "scheduleConferenceIdError", Exit::NotFound),
            (400, "invalidScheduleConferenceId", Exit::NotFound),
            (400, "extensionAppSettingError", Exit::Usage),
            (400, "somethingNew", Exit::Api),
        ] {
            let exit = exit_for_conference_error(status, code).await;
            assert_eq!(exit, expected, "{status} {code}");
        }
    }

    #[test]
    fn a_repeated_page_token_is_the_servers_fault_like_a_decode_error() {
        let error = Error::RepeatedPageToken {
            operation: "queryConferenceMembers",
            token: "t1".to_string(),
        };
        assert_eq!(exit_for(&error), Exit::Api);
        let error = Error::TooManyPages {
            operation: "queryConferenceMembers",
            pages: 1_000,
        };
        assert_eq!(exit_for(&error), Exit::Api);
    }

    #[test]
    fn errors_before_any_request_are_usage_or_other() {
        let empty_id = Error::InvalidInput("empty id".into());
        assert_eq!(exit_for(&empty_id), Exit::Usage);
        let no_credentials = Error::Config("no credentials".into());
        assert_eq!(exit_for(&no_credentials), Exit::Other);
        assert_eq!(exit_for(&Error::custom("a provider failed")), Exit::Other);
    }

    #[test]
    fn watch_timeout_has_its_own_code() {
        let deadline = |last_error: Option<Error>| Error::Timeout {
            kind: dingtalk_conference::TimeoutKind::Deadline,
            limit: Duration::from_secs(30),
            last_error: last_error.map(Box::new),
        };
        assert_eq!(exit_for(&deadline(None)), Exit::Network);
        // With a failure before time ran out, that failure decides.
        let refused = Error::InvalidInput("refused".into());
        assert_eq!(exit_for(&deadline(Some(refused))), Exit::Usage);
        let error = Error::WaitTimedOut {
            waited: Duration::from_secs(3),
            last_status: Some(ConferenceStatus::Started),
        };
        assert_eq!(exit_for(&error), Exit::WaitTimedOut);
    }

    #[test]
    fn codes_are_distinct_and_all_listed_in_the_help() {
        let help = help_text();
        let mut seen = std::collections::HashSet::new();
        for (exit, _) in EXIT_CODES {
            assert!(seen.insert(exit.code()), "{exit:?} repeats a code");
            assert!(help.contains(&format!(" {}  ", exit.code())), "{help}");
        }
    }
}
