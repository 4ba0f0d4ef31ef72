//! HTTP push over real sockets: the fake server posts its events, encrypted as DingTalk does,
//! to a small axum app on 127.0.0.1 that answers with `events::http::Receiver`; the fake checks
//! each reply, retries what fails and lists what never succeeds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::post;
use dingtalk_conference::events::ConferenceEvent;
use dingtalk_conference::events::http::{Push, PushError, Query, Receiver};
use dingtalk_conference_mock::{
    DEFAULT_CORP_ID, DEFAULT_PUSH_AES_KEY, DEFAULT_PUSH_OWNER_KEY, DEFAULT_PUSH_TOKEN, MockConfig,
    MockServer, PushError as FakePushError,
};
use tokio::sync::mpsc;

/// Short retries, so a failing push is listed within a test's patience (DingTalk: 10 s, 30 s).
const QUICK_RETRIES: [Duration; 2] = [Duration::from_millis(20), Duration::from_millis(40)];

/// How the test app answers.
#[derive(Clone, Copy)]
enum Answer {
    /// What the receiver says: its reply, or 400 for a refused push.
    Receiver,
    /// 503 to the first request, then as `Receiver`.
    FailFirst,
    /// 200 with the plain text `success` (the archived SyncHTTP sample's mistake).
    PlainSuccess,
}

#[derive(Clone)]
struct AppState {
    receiver: Receiver,
    answer: Answer,
    requests: Arc<AtomicUsize>,
    refusals: Arc<Mutex<Vec<PushError>>>,
    pushes: mpsc::UnboundedSender<Push>,
}

struct App {
    url: String,
    requests: Arc<AtomicUsize>,
    refusals: Arc<Mutex<Vec<PushError>>>,
    pushes: mpsc::UnboundedReceiver<Push>,
}

async fn on_push(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> (StatusCode, String) {
    let n = app.requests.fetch_add(1, Ordering::SeqCst);
    if matches!(app.answer, Answer::FailFirst) && n == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    if matches!(app.answer, Answer::PlainSuccess) {
        return (StatusCode::OK, "success".to_owned());
    }
    match app
        .receiver
        .receive(&Query::parse(query.as_deref().unwrap_or("")), &body)
    {
        Ok(received) => {
            let _ = app.pushes.send(received.push);
            (StatusCode::OK, received.reply.to_json())
        }
        Err(error) => {
            app.refusals.lock().expect("not poisoned").push(error);
            (StatusCode::BAD_REQUEST, error.to_string())
        }
    }
}

/// Serves `receiver` on `POST /dingtalk/events` of a free port.
async fn app(receiver: Receiver, answer: Answer) -> App {
    let (sender, pushes) = mpsc::unbounded_channel();
    let state = AppState {
        receiver,
        answer,
        requests: Arc::default(),
        refusals: Arc::default(),
        pushes: sender,
    };
    let (requests, refusals) = (Arc::clone(&state.requests), Arc::clone(&state.refusals));
    let router = axum::Router::new()
        .route("/dingtalk/events", post(on_push))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!(
        "http://{}/dingtalk/events",
        listener.local_addr().expect("bound")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    App {
        url,
        requests,
        refusals,
        pushes,
    }
}

fn good_receiver() -> Receiver {
    Receiver::new(
        DEFAULT_PUSH_TOKEN,
        DEFAULT_PUSH_AES_KEY,
        DEFAULT_PUSH_OWNER_KEY,
    )
    .expect("valid receiver settings")
}

async fn fake(url: &str) -> MockServer {
    MockServer::start_with(
        MockConfig::new()
            .with_push_url(url)
            .with_push_retry_delays(QUICK_RETRIES.to_vec()),
    )
    .await
    .expect("the fake starts")
}

/// Waits (real time: real sockets) until `done`, for at most 10 s.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not done within 10 s");
}

async fn next_push(app: &mut App) -> Push {
    tokio::time::timeout(Duration::from_secs(10), app.pushes.recv())
        .await
        .expect("a push within 10 s")
        .expect("the app is running")
}

#[tokio::test]
async fn pushed_events_arrive_typed_and_the_fake_accepts_the_replies() {
    let mut app = app(good_receiver(), Answer::Receiver).await;
    let server = fake(&app.url).await;
    let closed = server.emit_event(
        "meeting_status_change",
        serde_json::json!({
            "openConfModel": {"conferenceId": "conf-1", "title": "t", "status": 1},
            "statusSeqNum": 2,
            "changeScene": "conference_closed"
        }),
    );
    let mut received = Vec::new();
    received.push(next_push(&mut app).await);
    let joined = server.emit_event(
        "meeting_member_status_change",
        serde_json::json!({"openMemberModels": [], "statusSeqNum": 3, "changeScene": "user_join"}),
    );
    received.push(next_push(&mut app).await);
    for (push, emitted) in received.iter().zip([&closed, &joined]) {
        let Push::Event(event) = push else {
            panic!("not an event: {push:?}")
        };
        assert_eq!(event.id, emitted.event_id);
        assert_eq!(event.event_type, emitted.event_type);
        assert_eq!(event.corp_id.as_deref(), Some(DEFAULT_CORP_ID));
        assert_eq!(
            event.born_at.map(|at| at.timestamp_millis()),
            Some(emitted.born_ms)
        );
    }
    // The flat plaintext goes through the model like Stream's `data`: typed once the model
    // knows the event, else Unknown with the whole flat JSON.
    let Push::Event(first) = &received[0] else {
        unreachable!()
    };
    match &first.kind {
        ConferenceEvent::Unknown { raw, .. } => {
            assert_eq!(raw["changeScene"], "conference_closed");
            assert_eq!(raw["eventId"], closed.event_id.as_str());
        }
        typed => assert_eq!(typed.conference_id(), Some("conf-1"), "{typed:?}"),
    }
    until(|| server.push_delivered() == 2).await;
    assert_eq!(
        (server.push_failed(), server.push_retries()),
        (0, 0),
        "{:?}",
        server.push_failures()
    );
    assert!(app.refusals.lock().expect("not poisoned").is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_aes_key_or_owner_key_is_refused_retried_and_listed_as_failed() {
    let wrong = [
        (
            Receiver::new("othertoken", DEFAULT_PUSH_AES_KEY, DEFAULT_PUSH_OWNER_KEY)
                .expect("valid receiver settings"),
            "token",
        ),
        (
            Receiver::new(
                DEFAULT_PUSH_TOKEN,
                "otherAesKey0123456789abcdefghijklmnopqrstuv",
                DEFAULT_PUSH_OWNER_KEY,
            )
            .expect("valid receiver settings"),
            "aes key",
        ),
        (
            Receiver::new(DEFAULT_PUSH_TOKEN, DEFAULT_PUSH_AES_KEY, "another-app-key")
                .expect("valid receiver settings"),
            "owner key",
        ),
    ];
    for (receiver, what) in wrong {
        let app = app(receiver, Answer::Receiver).await;
        let server = fake(&app.url).await;
        let event = server.emit_event("meeting_status_change", serde_json::json!({}));
        until(|| server.push_failed() == 1).await;
        let failures = server.push_failures();
        assert_eq!(failures[0].event, event, "{what}");
        assert_eq!(failures[0].attempts, 3, "{what}: the push and 2 retries");
        assert_eq!(failures[0].error, FakePushError::Status(400), "{what}");
        assert_eq!((server.push_delivered(), server.push_retries()), (0, 2));
        let refusals = app.refusals.lock().expect("not poisoned").clone();
        assert_eq!(refusals.len(), 3, "{what}");
        for refusal in refusals {
            let expected = match what {
                "token" => matches!(refusal, PushError::WrongSignature),
                "owner key" => matches!(refusal, PushError::OwnerKeyMismatch),
                _ => matches!(
                    refusal,
                    PushError::BadPadding | PushError::WrongLength | PushError::OwnerKeyMismatch
                ),
            };
            assert!(expected, "{what}: {refusal:?}");
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_push_that_fails_once_is_delivered_by_the_retry() {
    let mut app = app(good_receiver(), Answer::FailFirst).await;
    let server = fake(&app.url).await;
    let event = server.emit_event("flash_minutes_open_event", serde_json::json!({}));
    let Push::Event(received) = next_push(&mut app).await else {
        panic!("not an event")
    };
    assert_eq!(received.id, event.event_id);
    until(|| server.push_delivered() == 1).await;
    assert_eq!((server.push_retries(), server.push_failed()), (1, 0));
    assert_eq!(app.requests.load(Ordering::SeqCst), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_plain_success_is_not_the_reply_dingtalk_wants() {
    let app = app(good_receiver(), Answer::PlainSuccess).await;
    let server = fake(&app.url).await;
    server.emit_event("meeting_status_change", serde_json::json!({}));
    until(|| server.push_failed() == 1).await;
    assert!(matches!(
        server.push_failures()[0].error,
        FakePushError::BadReply(_)
    ));
    assert_eq!(
        server
            .push_check_url()
            .await
            .map_err(|e| matches!(e, FakePushError::BadReply(_))),
        Err(true)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn check_url_is_answered_and_accepted_and_a_wrong_token_fails_it() {
    let mut app = app(good_receiver(), Answer::Receiver).await;
    let server = fake(&app.url).await;
    server.push_check_url().await.expect("check_url answered");
    assert_eq!(
        next_push(&mut app).await,
        Push::UrlCheck {
            event_type: "check_url".to_owned()
        }
    );
    assert_eq!(server.push_delivered(), 0, "a URL check is not an event");
    server.shutdown().await;

    let wrong = app_with_wrong_token().await;
    let server = fake(&wrong.url).await;
    assert_eq!(
        server.push_check_url().await,
        Err(FakePushError::Status(400))
    );
    assert_eq!(
        server.push_retries(),
        0,
        "DingTalk's console does not retry a check"
    );
    server.shutdown().await;

    let no_url = MockServer::start().await.expect("the fake starts");
    assert_eq!(no_url.push_check_url().await, Err(FakePushError::NoUrl));
    no_url.shutdown().await;
}

async fn app_with_wrong_token() -> App {
    app(
        Receiver::new("othertoken", DEFAULT_PUSH_AES_KEY, DEFAULT_PUSH_OWNER_KEY)
            .expect("valid receiver settings"),
        Answer::Receiver,
    )
    .await
}

#[tokio::test]
async fn an_unreachable_url_is_retried_then_listed() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}/gone", listener.local_addr().expect("bound"));
    drop(listener);
    let server = fake(&url).await;
    server.emit_event("meeting_status_change", serde_json::json!({}));
    until(|| server.push_failed() == 1).await;
    let failure = &server.push_failures()[0];
    assert!(
        matches!(failure.error, FakePushError::Unreachable(_)),
        "{failure:?}"
    );
    assert_eq!(failure.attempts, 3);
    server.shutdown().await;
}

#[tokio::test]
async fn a_pusher_that_falls_behind_the_bus_counts_what_it_lost() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}/gone", listener.local_addr().expect("bound"));
    drop(listener);
    let server = MockServer::start_with(
        MockConfig::new()
            .with_push_url(url)
            .with_push_retry_delays(Vec::new()),
    )
    .await
    .expect("the fake starts");
    // 5000 events before the pusher runs once (this test's runtime has one thread): the bus
    // keeps the last 4096.
    for _ in 0..5000 {
        server.emit_event("meeting_status_change", serde_json::json!({}));
    }
    until(|| server.push_failed() + server.push_lost() == 5000).await;
    assert_eq!(server.push_lost(), 5000 - 4096);
    server.shutdown().await;
}
