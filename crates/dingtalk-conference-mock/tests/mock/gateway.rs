//! The Stream mode gateway, over real sockets: the open endpoint, the WebSocket, EVENT frames
//! and their ACKs, redelivery, duplicates, the random choice among connections, pings,
//! `disconnect`, silence, and the controls of the binary.

use std::time::Duration;

use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    GatewayAcks, MockConfig, MockServer,
};
use dingtalk_conference_testkit::fake::http as client;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server whose gateway sends no pings unless a test asks (so frames are only events).
async fn quiet_server() -> MockServer {
    MockServer::start_with(MockConfig::new().with_gateway_ping(None))
        .await
        .expect("server")
}

fn open_body(key: &str, secret: &str) -> Value {
    json!({
        "clientId": key,
        "clientSecret": secret,
        "subscriptions": [{"type": "EVENT", "topic": "*"}],
        "ua": "gateway-test/1.0",
        "localIp": "127.0.0.1",
    })
}

/// `POST /v1.0/gateway/connections/open` with `body`: the status and the JSON answer.
async fn open_with(server: &MockServer, body: &Value) -> (u16, Value) {
    let response = client()
        .post(format!(
            "{}/v1.0/gateway/connections/open",
            server.base_url()
        ))
        .json(body)
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// A ticket's WebSocket URL, from the open endpoint's answer.
fn connect_url(answer: &Value) -> String {
    format!(
        "{}?ticket={}",
        answer["endpoint"].as_str().expect("an endpoint"),
        answer["ticket"].as_str().expect("a ticket")
    )
}

/// A connection of the default app.
async fn connect(server: &MockServer) -> Socket {
    connect_as(server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await
}

async fn connect_as(server: &MockServer, key: &str, secret: &str) -> Socket {
    let (status, answer) = open_with(server, &open_body(key, secret)).await;
    assert_eq!(status, 200, "{answer}");
    let (socket, _) = tokio_tungstenite::connect_async(connect_url(&answer))
        .await
        .expect("the WebSocket opens");
    socket
}

/// Waits until the gateway counts `n` open connections (the server registers a connection
/// just after the switch, so right after `connect` it may not count yet).
async fn until_connections(server: &MockServer, n: usize) {
    for _ in 0..500 {
        if server.gateway_connections() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{} connections, expected {n}", server.gateway_connections());
}

/// Waits (briefly) until `done` holds: the gateway's task takes events from the bus on its
/// own time.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("never happened: {what}");
}

/// The next text frame, as JSON.
async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("a frame in time")
            .expect("the connection is open")
            .expect("a readable frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("a JSON frame");
        }
    }
}

/// Whether a frame arrives within `wait`.
async fn frame_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    tokio::time::timeout(wait, next_frame(socket)).await.ok()
}

/// Answers an EVENT frame with the documented ACK.
async fn ack(socket: &mut Socket, frame: &Value, status: &str) {
    let ack = json!({
        "code": 200,
        "headers": {
            "messageId": frame["headers"]["messageId"],
            "contentType": "application/json",
        },
        "message": "OK",
        "data": json!({"status": status, "message": "ok"}).to_string(),
    });
    socket
        .send(Message::text(ack.to_string()))
        .await
        .expect("the ACK goes out");
}

/// Waits until the gateway has counted `expected` ACKs.
async fn until_acks(server: &MockServer, expected: GatewayAcks) {
    for _ in 0..500 {
        if server.gateway_acks() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(server.gateway_acks(), expected);
}

fn event_id(frame: &Value) -> &str {
    frame["headers"]["eventId"].as_str().expect("an eventId")
}

fn status_change() -> Value {
    json!({
        "openConfModel": {"conferenceId": "conf-1", "title": "Weekly", "status": 2},
        "statusSeqNum": 1,
        "changeScene": "conference_created",
    })
}

#[tokio::test]
async fn open_answers_an_endpoint_on_the_same_listener_and_a_ticket() {
    let server = quiet_server().await;
    let (status, answer) =
        open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["endpoint"],
        format!("ws://{}/connect", server.addr())
    );
    let ticket = answer["ticket"].as_str().expect("a ticket");
    assert!(ticket.len() >= 16, "{ticket}");
    // A third-party app connects with its suite's key and secret.
    let (status, answer) =
        open_with(&server, &open_body(DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET)).await;
    assert_eq!(status, 200, "{answer}");
    assert_ne!(answer["ticket"].as_str(), Some(ticket));
}

#[tokio::test]
async fn open_refuses_wrong_credentials_and_malformed_bodies() {
    let server = quiet_server().await;
    for (key, secret) in [
        (DEFAULT_APP_KEY, "wrong"),
        ("unknown-app", DEFAULT_APP_SECRET),
        (DEFAULT_SUITE_KEY, DEFAULT_APP_SECRET),
    ] {
        let (status, answer) = open_with(&server, &open_body(key, secret)).await;
        assert_eq!(status, 400, "{key}: {answer}");
        assert_eq!(answer["code"], "invalidClientIdOrSecret", "{answer}");
        assert!(answer.get("ticket").is_none());
    }
    let mut event_topic = open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET);
    event_topic["subscriptions"] = json!([{"type": "EVENT", "topic": "meeting_status_change"}]);
    let (status, answer) = open_with(&server, &event_topic).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("invalidSubscription"))
    );
    let (status, answer) = open_with(&server, &json!({"clientId": DEFAULT_APP_KEY})).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("paramError")));
    let (status, _) = open_with(&server, &json!([1, 2])).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_ticket_opens_one_connection_only() {
    let server = quiet_server().await;
    let (_, answer) = open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    let url = connect_url(&answer);
    let (_first, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("the first use opens");
    let second = tokio_tungstenite::connect_async(&url).await;
    match second {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("the second use must be refused, got {other:?}"),
    }
    let unknown = tokio_tungstenite::connect_async(format!(
        "ws://{}/connect?ticket=never-issued",
        server.addr()
    ))
    .await;
    assert!(unknown.is_err());
    until_connections(&server, 1).await;
    assert_eq!(server.gateway_stats().refused_tickets, 2);
}

#[tokio::test(start_paused = true)]
async fn a_ticket_expires_after_90_seconds() {
    let server = quiet_server().await;
    let (_, answer) = open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    tokio::time::sleep(Duration::from_secs(91)).await;
    assert!(
        tokio_tungstenite::connect_async(connect_url(&answer))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn refused_tickets_are_refused_until_allowed_again() {
    let server = quiet_server().await;
    server.gateway_refuse_tickets(true);
    let (status, answer) =
        open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    assert_eq!(status, 200, "the open endpoint still answers");
    assert!(
        tokio_tungstenite::connect_async(connect_url(&answer))
            .await
            .is_err()
    );
    server.gateway_refuse_tickets(false);
    let _socket = connect(&server).await;
    until_connections(&server, 1).await;
}

#[tokio::test]
async fn a_plain_get_of_the_websocket_endpoint_is_refused() {
    let server = quiet_server().await;
    let response = client()
        .get(format!("{}/connect?ticket=x", server.base_url()))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_emitted_event_arrives_as_a_well_formed_event_frame() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["specVersion"], "1.0");
    assert_eq!(frame["type"], "EVENT");
    let headers = &frame["headers"];
    assert_eq!(headers["topic"], "*");
    assert_eq!(headers["contentType"], "application/json");
    assert_eq!(headers["eventType"], "meeting_status_change");
    assert_eq!(headers["eventId"], emitted.event_id.as_str());
    assert_eq!(headers["eventCorpId"], DEFAULT_CORP_ID);
    assert_eq!(headers["eventBornTime"], emitted.born_ms.to_string());
    for name in ["messageId", "time", "eventUnifiedAppId"] {
        assert!(
            headers[name]
                .as_str()
                .is_some_and(|value| !value.is_empty()),
            "{name}: {headers}"
        );
    }
    // The payload is a JSON string, to be parsed a second time.
    let data = frame["data"].as_str().expect("data is a string");
    assert_eq!(
        serde_json::from_str::<Value>(data).expect("JSON"),
        status_change()
    );
    assert_eq!(server.gateway_deliveries(), 1);
}

#[tokio::test]
async fn an_event_emitted_before_any_connection_waits_for_one() {
    let server = quiet_server().await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    until("the event waits", || server.gateway_stats().pending == 1).await;
    let mut socket = connect(&server).await;
    let frame = next_frame(&mut socket).await;
    assert_eq!(event_id(&frame), emitted.event_id);
    assert_eq!(server.gateway_stats().pending, 0);
}

#[tokio::test]
async fn acks_are_counted_and_success_ends_an_event() {
    let server = MockServer::start_with(
        MockConfig::new()
            .with_gateway_ping(None)
            .with_event_redelivery(Duration::from_millis(300)),
    )
    .await
    .expect("server");
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    server.emit_event("meeting_status_change", status_change());
    let frame = next_frame(&mut socket).await;
    ack(&mut socket, &frame, "SUCCESS").await;
    until_acks(
        &server,
        GatewayAcks {
            success: 1,
            later: 0,
            unanswered: 0,
        },
    )
    .await;
    // Well past the redelivery time: nothing comes again.
    assert!(
        frame_within(&mut socket, Duration::from_millis(900))
            .await
            .is_none()
    );
    assert_eq!(server.gateway_deliveries(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_event_acked_later_is_sent_again_with_the_same_event_id() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    server.emit_event(
        "meeting_member_status_change",
        json!({"changeScene": "user_join"}),
    );
    let first = next_frame(&mut socket).await;
    ack(&mut socket, &first, "LATER").await;
    let again = next_frame(&mut socket).await;
    assert_eq!(event_id(&again), event_id(&first));
    assert_ne!(again["headers"]["messageId"], first["headers"]["messageId"]);
    ack(&mut socket, &again, "SUCCESS").await;
    until_acks(
        &server,
        GatewayAcks {
            success: 1,
            later: 1,
            unanswered: 0,
        },
    )
    .await;
    assert!(
        frame_within(&mut socket, Duration::from_secs(30))
            .await
            .is_none()
    );
    assert_eq!(server.gateway_deliveries(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_event_not_acked_is_sent_again_after_the_redelivery_time() {
    let server = MockServer::start_with(
        MockConfig::new()
            .with_gateway_ping(None)
            .with_event_redelivery(Duration::from_secs(7)),
    )
    .await
    .expect("server");
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    server.emit_event("meeting_status_change", status_change());
    let first = next_frame(&mut socket).await;
    let sent = tokio::time::Instant::now();
    // Not before the redelivery time…
    assert!(
        frame_within(&mut socket, Duration::from_secs(6))
            .await
            .is_none()
    );
    // …but once it has passed.
    let again = next_frame(&mut socket).await;
    assert!(sent.elapsed() >= Duration::from_secs(7));
    assert_eq!(event_id(&again), event_id(&first));
    assert_eq!(server.gateway_acks().unanswered, 1);
    ack(&mut socket, &again, "SUCCESS").await;
    until_acks(
        &server,
        GatewayAcks {
            success: 1,
            later: 0,
            unanswered: 1,
        },
    )
    .await;
}
