//! DingTalk's HTTP push received with axum: `events::http::Receiver` mounted on
//! `POST /dingtalk/events`.
//!
//! The receiver verifies the signature, decrypts, checks the owner key and builds the encrypted
//! `success` reply in microseconds; the handler replies **at once** (DingTalk wants the answer
//! within 2500 ms) and hands the event to a task of the application's, never handling it first.
//!
//! Settings, from the environment (the defaults are those of the fake server's HTTP push, so
//! `dingtalk-conference-mock --push-url …` reaches it as it is):
//!
//! - `DINGTALK_PUSH_TOKEN`, `DINGTALK_PUSH_AES_KEY`, `DINGTALK_PUSH_OWNER_KEY`: the console's
//!   签名 token and 加密 aes_key, and the app's AppKey;
//! - `HTTP_PUSH_PORT`: the port on 127.0.0.1 (default 0: a free one, printed);
//! - `HTTP_PUSH_EVENTS`: exit 0 once this many events arrived (default: serve until killed);
//! - `HTTP_PUSH_TIMEOUT_SECS`: exit 1 if they have not arrived by then.
//!
//! ```sh
//! HTTP_PUSH_EVENTS=2 HTTP_PUSH_TIMEOUT_SECS=60 cargo run -p dingtalk-conference --features events --example http_push
//! # prints `listening on http://127.0.0.1:PORT/dingtalk/events`; then, elsewhere:
//! dingtalk-conference-mock --push-url http://127.0.0.1:PORT/dingtalk/events --push-check-url
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use dingtalk_conference::events::Event;
use dingtalk_conference::events::http::{Push, Query, Receiver};
use tokio::sync::mpsc;

/// The fake server's defaults (`dingtalk-conference-mock --help`).
const FAKE_TOKEN: &str = "mockpushtoken";
const FAKE_AES_KEY: &str = "mockPushAesKey0123456789abcdefghijklmnopqrs";
const FAKE_OWNER_KEY: &str = "mock-app-key";

#[derive(Clone)]
struct App {
    receiver: Receiver,
    events: mpsc::UnboundedSender<Event>,
}

/// Verifies and answers one push; the event goes to the application's task afterwards.
async fn on_push(
    State(app): State<App>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> impl IntoResponse {
    let query = Query::parse(query.as_deref().unwrap_or(""));
    match app.receiver.receive(&query, &body) {
        Ok(received) => {
            match received.push {
                Push::UrlCheck { event_type } => println!("url check: {event_type}"),
                Push::Event(event) => {
                    let _ = app.events.send(*event);
                }
                other => println!("push: {other:?}"),
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                received.reply.to_json(),
            )
        }
        // Never the token, key or plaintext: the error says only what was wrong.
        Err(error) => {
            eprintln!("refused a push: {error}");
            (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain")],
                error.to_string(),
            )
        }
    }
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}: `{raw}` is not a whole number")),
        Err(_) => Ok(None),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<ExitCode, String> {
    let receiver = Receiver::new(
        setting("DINGTALK_PUSH_TOKEN", FAKE_TOKEN),
        setting("DINGTALK_PUSH_AES_KEY", FAKE_AES_KEY),
        setting("DINGTALK_PUSH_OWNER_KEY", FAKE_OWNER_KEY),
    )
    .map_err(|error| error.to_string())?;
    let port = number("HTTP_PUSH_PORT")?.unwrap_or(0);
    let port = u16::try_from(port).map_err(|_| format!("HTTP_PUSH_PORT: {port} is not a port"))?;
    let wanted = number("HTTP_PUSH_EVENTS")?;
    let timeout = number("HTTP_PUSH_TIMEOUT_SECS")?.map(Duration::from_secs);

    let (events, mut arrived) = mpsc::unbounded_channel();
    let router = axum::Router::new()
        .route("/dingtalk/events", post(on_push))
        .with_state(App { receiver, events });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|error| format!("cannot listen on 127.0.0.1:{port}: {error}"))?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    // Printed and flushed at once: a script waits for this line to learn the port.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{addr}/dingtalk/events");
    let _ = stdout.flush();
    drop(stdout);
    tokio::spawn(async move { axum::serve(listener, router).await });

    // The application's side: handles the events after the replies went out.
    let handle = async {
        let mut count = 0u64;
        while let Some(event) = arrived.recv().await {
            count += 1;
            println!(
                "event {} {} conference={} corp={}",
                event.event_type,
                event.id,
                event.kind.conference_id().unwrap_or("-"),
                event.corp_id.as_deref().unwrap_or("-")
            );
            if wanted.is_some_and(|wanted| count >= wanted) {
                return true;
            }
        }
        false
    };
    let done = match timeout {
        Some(timeout) => tokio::time::timeout(timeout, handle).await.unwrap_or(false),
        None => handle.await,
    };
    if done {
        Ok(ExitCode::SUCCESS)
    } else {
        match wanted {
            Some(wanted) => eprintln!("timed out before {wanted} events arrived"),
            None => eprintln!("served until the timeout"),
        }
        Ok(ExitCode::FAILURE)
    }
}
