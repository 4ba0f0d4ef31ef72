//! Telling DingTalk's answers apart: not found, throttled, permission, auth, network.
//!
//! ```text
//! DINGTALK_APP_KEY=... DINGTALK_APP_SECRET=... \
//!     cargo run -p dingtalk-conference --example error_handling -- <conference-id>
//! ```

use std::process::ExitCode;

use dingtalk_conference::{Client, Error, ErrorCode, TransportErrorKind};

#[tokio::main]
async fn main() -> ExitCode {
    let Some(conference_id) = std::env::args().nth(1) else {
        eprintln!("usage: error_handling <conference-id>");
        return ExitCode::from(2);
    };
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("configuration: {e}");
            return ExitCode::from(2);
        }
    };

    match client.conference_info(&conference_id).await {
        Ok(info) => {
            println!("found: {}", info.title.as_deref().unwrap_or("-"));
            ExitCode::SUCCESS
        }
        Err(e) if e.is_not_found() => {
            println!(
                "no conference {conference_id:?} (request id {:?})",
                e.request_id()
            );
            ExitCode::from(3)
        }
        Err(e) if e.is_throttled() => {
            // Already retried with backoff; DingTalk is still throttling this app.
            println!("throttled, try later: {e}");
            ExitCode::from(5)
        }
        Err(e @ Error::Auth { .. }) => {
            // `report()` shows the error with its causes: here, why the token was refused.
            println!("{}", e.report());
            ExitCode::from(4)
        }
        Err(e)
            if matches!(
                e.code(),
                Some(ErrorCode::AccessTokenPermissionDenied | ErrorCode::NoPermission)
            ) =>
        {
            println!("permission missing: {e}");
            ExitCode::from(4)
        }
        Err(Error::Transport(t)) if t.kind() == TransportErrorKind::Timeout => {
            println!("DingTalk is slow: {t}");
            ExitCode::from(6)
        }
        Err(e @ Error::Timeout { .. }) => {
            // The whole call's deadline (30 s by default) passed, retries included.
            println!("{}", e.report());
            ExitCode::from(6)
        }
        Err(e) => {
            println!("failed: {} (retryable: {})", e.report(), e.is_retryable());
            ExitCode::FAILURE
        }
    }
}
