//! The Stream mode gateway, over real sockets: the open endpoint, the WebSocket, EVENT frames
//! and their ACKs, redelivery, duplicates, the random choice among connections, pings,
//! `disconnect`, silence, and the controls of the binary.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    Fault, FaultScope, GATEWAY_OPEN_OPERATION, GatewayAcks, MockConfig, MockServer,
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

/// Opens a WebSocket to `url` without Nagle's algorithm, as the server's side: two small
/// frames in a row (two ACKs) must not wait for the peer's delayed TCP acknowledgement.
async fn ws_connect(
    url: impl AsRef<str>,
) -> Result<
    (
        Socket,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    tokio_tungstenite::connect_async_with_config(url.as_ref(), None, true).await
}

/// A connection of the default app.
async fn connect(server: &MockServer) -> Socket {
    connect_as(server, DEFAULT_APP_KEY, DEFAULT_APP_SECRET).await
}

async fn connect_as(server: &MockServer, key: &str, secret: &str) -> Socket {
    let (status, answer) = open_with(server, &open_body(key, secret)).await;
    assert_eq!(status, 200, "{answer}");
    let (socket, _) = ws_connect(connect_url(&answer))
        .await
        .expect("the WebSocket opens");
    socket
}

/// Lets the kernel move bytes between the test's sockets and the server's (a real
/// millisecond) and the runtime run what they woke, without moving Tokio's clock: in the
/// paused-clock tests a virtual sleep here would bring the server's redelivery timers closer.
async fn settle() {
    std::thread::sleep(Duration::from_millis(1));
    tokio::task::yield_now().await;
}

/// Waits until the gateway counts `n` open connections (the server registers a connection
/// just after the switch, so right after `connect` it may not count yet).
async fn until_connections(server: &MockServer, n: usize) {
    for _ in 0..5000 {
        if server.gateway_connections() == n {
            return;
        }
        settle().await;
    }
    panic!("{} connections, expected {n}", server.gateway_connections());
}

/// Waits (briefly) until `done` holds: the gateway's task takes events from the bus on its
/// own time.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..5000 {
        if done() {
            return;
        }
        settle().await;
    }
    panic!("never happened: {what}");
}

/// The next text frame, as JSON (other frames skipped).
async fn read_frame(socket: &mut Socket) -> Value {
    loop {
        let message = socket
            .next()
            .await
            .expect("the connection is open")
            .expect("a readable frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("a JSON frame");
        }
    }
}

/// The next text frame, within a minute (of the paused clock, for most tests).
async fn next_frame(socket: &mut Socket) -> Value {
    tokio::time::timeout(Duration::from_secs(60), read_frame(socket))
        .await
        .expect("a frame in time")
}

/// The next text frame if one arrives within `wait`.
async fn frame_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    tokio::time::timeout(wait, read_frame(socket)).await.ok()
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
    for _ in 0..5000 {
        if server.gateway_acks() == expected {
            return;
        }
        settle().await;
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
    let (_first, _) = ws_connect(&url).await.expect("the first use opens");
    let second = ws_connect(&url).await;
    match second {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("the second use must be refused, got {other:?}"),
    }
    let unknown = ws_connect(format!(
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
    assert!(ws_connect(connect_url(&answer)).await.is_err());
}

#[tokio::test]
async fn refused_tickets_are_refused_until_allowed_again() {
    let server = quiet_server().await;
    server.gateway_refuse_tickets(true);
    let (status, answer) =
        open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    assert_eq!(status, 200, "the open endpoint still answers");
    assert!(ws_connect(connect_url(&answer)).await.is_err());
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
async fn huge_redelivery_and_ping_settings_are_capped_not_a_panic() {
    // `--event-redelivery 1e19` / `--gateway-ping 1e19`: an `Instant` that far ahead would
    // overflow and panic the connection's and the delivery's tasks.
    let server = MockServer::start_with(
        MockConfig::new()
            .with_event_redelivery(Duration::MAX)
            .with_gateway_ping(Some(Duration::MAX)),
    )
    .await
    .expect("the fake server starts");
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    for _ in 0..2 {
        let emitted = server.emit_event("meeting_status_change", status_change());
        let frame = next_frame(&mut socket).await;
        assert_eq!(event_id(&frame), emitted.event_id);
        ack(&mut socket, &frame, "LATER").await;
    }
    until("both LATERs counted", || {
        server.gateway_stats().acks.later == 2
    })
    .await;
    assert_eq!(server.gateway_connections(), 1, "the connection lives on");
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

#[tokio::test(start_paused = true)]
async fn acks_are_counted_and_success_ends_an_event() {
    let server = quiet_server().await;
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
        frame_within(&mut socket, Duration::from_secs(60))
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

#[tokio::test(start_paused = true)]
async fn a_duplicate_on_demand_sends_the_next_event_twice() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    server.gateway_duplicate_next();
    let emitted = server.emit_event("meeting_status_change", status_change());
    let first = next_frame(&mut socket).await;
    let second = next_frame(&mut socket).await;
    assert_eq!(event_id(&first), emitted.event_id);
    assert_eq!(event_id(&second), emitted.event_id);
    assert_ne!(
        first["headers"]["messageId"],
        second["headers"]["messageId"]
    );
    assert_eq!(first["data"], second["data"]);
    ack(&mut socket, &first, "SUCCESS").await;
    ack(&mut socket, &second, "SUCCESS").await;
    // Only the next one: the event after it goes once.
    let next = server.emit_event("meeting_status_change", status_change());
    let frame = next_frame(&mut socket).await;
    assert_eq!(event_id(&frame), next.event_id);
    ack(&mut socket, &frame, "SUCCESS").await;
    until_acks(
        &server,
        GatewayAcks {
            success: 3,
            later: 0,
            unanswered: 0,
        },
    )
    .await;
    assert_eq!(server.gateway_deliveries(), 3);
}

#[tokio::test]
async fn each_event_goes_to_one_of_three_connections_at_random() {
    const EVENTS: usize = 60;
    let server = quiet_server().await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(connect(&server).await);
    }
    until_connections(&server, 3).await;
    let mut emitted = HashSet::new();
    for _ in 0..EVENTS {
        emitted.insert(
            server
                .emit_event("meeting_status_change", status_change())
                .event_id,
        );
    }
    // Each connection ACKs what it gets until every event has come, once.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (index, mut socket) in sockets.into_iter().enumerate() {
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(frame) = frame_within(&mut socket, Duration::from_secs(2)).await {
                ack(&mut socket, &frame, "SUCCESS").await;
                if sender.send((index, event_id(&frame).to_owned())).is_err() {
                    break;
                }
            }
        }));
    }
    drop(sender);
    let mut per_connection: HashMap<usize, usize> = HashMap::new();
    let mut seen = HashSet::new();
    while let Some((index, id)) = received.recv().await {
        assert!(seen.insert(id.clone()), "{id} came twice");
        *per_connection.entry(index).or_default() += 1;
    }
    for task in tasks {
        task.await.expect("the reader ends");
    }
    assert_eq!(seen, emitted);
    // 60 events over 3 connections: each gets some (all to two of them: 3·(2/3)^60 ≈ 1e-10).
    assert_eq!(per_connection.len(), 3, "{per_connection:?}");
    assert_eq!(server.gateway_deliveries(), EVENTS as u64);
    assert_eq!(server.gateway_acks().success, EVENTS as u64);
}

#[tokio::test]
async fn events_go_only_to_apps_of_their_organisation() {
    let server = quiet_server().await;
    server.add_suite("other-suite", "other-secret", "other-corp", "other-ticket");
    let mut other = connect_as(&server, "other-suite", "other-secret").await;
    until_connections(&server, 1).await;
    server.emit_event("meeting_status_change", status_change());
    assert!(
        frame_within(&mut other, Duration::from_millis(300))
            .await
            .is_none()
    );
    // The default organisation's own app takes it.
    let mut own = connect(&server).await;
    let frame = next_frame(&mut own).await;
    assert_eq!(frame["headers"]["eventCorpId"], DEFAULT_CORP_ID);
}

#[tokio::test(start_paused = true)]
async fn the_gateway_pings_and_counts_the_replies() {
    let server =
        MockServer::start_with(MockConfig::new().with_gateway_ping(Some(Duration::from_secs(20))))
            .await
            .expect("server");
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    let start = tokio::time::Instant::now();
    let ping = next_frame(&mut socket).await;
    assert!(
        start.elapsed() >= Duration::from_secs(19),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(ping["type"], "SYSTEM");
    assert_eq!(ping["headers"]["topic"], "ping");
    let data: Value =
        serde_json::from_str(ping["data"].as_str().expect("data is a string")).expect("JSON");
    assert!(data["opaque"].as_str().is_some(), "{data}");
    // The reply: the ping's messageId and data.
    let reply = json!({
        "code": 200,
        "headers": {"messageId": ping["headers"]["messageId"], "contentType": "application/json"},
        "message": "OK",
        "data": ping["data"],
    });
    socket
        .send(Message::text(reply.to_string()))
        .await
        .expect("sent");
    until("the reply is counted", || {
        server.gateway_stats().ping_replies == 1
    })
    .await;
    // A reply with other data is not one.
    let ping = next_frame(&mut socket).await;
    let wrong = json!({
        "code": 200,
        "headers": {"messageId": ping["headers"]["messageId"]},
        "data": "{\"opaque\":\"not it\"}",
    });
    socket
        .send(Message::text(wrong.to_string()))
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.gateway_stats().ping_replies, 1);
    assert_eq!(server.gateway_acks(), GatewayAcks::default());
}

#[tokio::test]
async fn the_gateway_answers_websocket_pings() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    socket
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("sent");
    let pong = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("readable");
    assert_eq!(pong, Message::Pong(b"are you there".to_vec().into()));
}

#[tokio::test(start_paused = true)]
async fn disconnect_is_sent_then_the_connection_closes_ten_seconds_later() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    server.gateway_disconnect();
    let start = tokio::time::Instant::now();
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["type"], "SYSTEM");
    assert_eq!(frame["headers"]["topic"], "disconnect");
    // It takes no new event meanwhile: one emitted now waits for the next connection.
    let emitted = server.emit_event("meeting_status_change", status_change());
    // The connection ends (a close frame, or the end of the stream), with no frame before.
    match tokio::time::timeout(Duration::from_secs(60), socket.next())
        .await
        .expect("the gateway closes it")
    {
        Some(Ok(Message::Close(_)) | Err(_)) | None => {}
        Some(Ok(other)) => panic!("no frame after disconnect: {other:?}"),
    }
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    until_connections(&server, 0).await;
    let mut next = connect(&server).await;
    assert_eq!(event_id(&next_frame(&mut next).await), emitted.event_id);
}

#[tokio::test]
async fn after_disconnect_a_client_may_close_first() {
    let server = quiet_server().await;
    let mut old = connect(&server).await;
    until_connections(&server, 1).await;
    server.gateway_disconnect();
    assert_eq!(next_frame(&mut old).await["headers"]["topic"], "disconnect");
    // Make before break: the new connection first, then the old one closes.
    let mut new = connect(&server).await;
    until_connections(&server, 2).await;
    old.close(None).await.expect("closed");
    until_connections(&server, 1).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    assert_eq!(event_id(&next_frame(&mut new).await), emitted.event_id);
}

#[tokio::test(start_paused = true)]
async fn a_silenced_connection_sends_and_answers_nothing_and_its_events_go_elsewhere() {
    let server = MockServer::start_with(
        MockConfig::new()
            .with_gateway_ping(Some(Duration::from_secs(5)))
            .with_event_redelivery(Duration::from_secs(5)),
    )
    .await
    .expect("server");
    let mut silent = connect(&server).await;
    until_connections(&server, 1).await;
    // One event in flight on it when it goes silent, unACKed.
    let before = server.emit_event("meeting_status_change", status_change());
    assert_eq!(event_id(&next_frame(&mut silent).await), before.event_id);
    server.gateway_silence(true);
    // No pings, no events, no pong: nothing at all, and the socket stays open.
    silent
        .send(Message::Ping(b"hello".to_vec().into()))
        .await
        .expect("the socket is open");
    let during = server.emit_event("meeting_status_change", status_change());
    assert!(
        frame_within(&mut silent, Duration::from_secs(60))
            .await
            .is_none()
    );
    assert_eq!(server.gateway_connections(), 1);
    // A new connection is served: the event emitted meanwhile, then the one in flight once
    // its redelivery time has passed.
    let mut fresh = connect(&server).await;
    let mut got = HashSet::new();
    while got.len() < 2 {
        let frame = next_frame(&mut fresh).await;
        if frame["type"] == "EVENT" {
            ack(&mut fresh, &frame, "SUCCESS").await;
            got.insert(event_id(&frame).to_owned());
        }
    }
    assert_eq!(
        got,
        HashSet::from([before.event_id.clone(), during.event_id.clone()])
    );
    // Speaking again: the pong it owed, then pings.
    server.gateway_silence(false);
    let mut pong = false;
    while !pong {
        let message = silent.next().await.expect("open").expect("readable");
        pong = message == Message::Pong(b"hello".to_vec().into());
    }
}

#[tokio::test]
async fn raw_frames_reach_every_connection_as_they_are() {
    let server = quiet_server().await;
    let mut first = connect(&server).await;
    let mut second = connect(&server).await;
    until_connections(&server, 2).await;
    let oversized = "x".repeat(2 * 1024 * 1024);
    server.gateway_send_raw("{not json");
    server.gateway_send_raw(&oversized);
    for socket in [&mut first, &mut second] {
        for expected in ["{not json", oversized.as_str()] {
            let message = socket.next().await.expect("open").expect("readable");
            assert_eq!(message, Message::text(expected));
        }
    }
}

#[tokio::test]
async fn garbage_from_a_client_never_hurts_the_gateway() {
    let server = quiet_server().await;
    let mut garbage = connect(&server).await;
    let mut good = connect(&server).await;
    until_connections(&server, 2).await;
    for text in [
        "not json",
        "{}",
        "[]",
        "{\"headers\":{\"messageId\":42}}",
        "{\"code\":200,\"headers\":{\"messageId\":\"unknown\"},\"data\":\"{\\\"status\\\":\\\"SUCCESS\\\"}\"}",
        "{\"code\":200,\"headers\":{\"messageId\":\"x\"},\"data\":\"not json\"}",
    ] {
        garbage.send(Message::text(text)).await.expect("sent");
    }
    garbage
        .send(Message::Binary(vec![0xff; 100].into()))
        .await
        .expect("sent");
    // A message over the size limit ends that connection only.
    let _ = garbage
        .send(Message::text(
            "y".repeat(dingtalk_conference_mock::MAX_CLIENT_MESSAGE + 1),
        ))
        .await;
    until_connections(&server, 1).await;
    // An ACK for a frame nobody sent counts as an ACK and ends nothing.
    assert_eq!(server.gateway_acks().success, 1);
    let emitted = server.emit_event("meeting_status_change", status_change());
    let frame = next_frame(&mut good).await;
    assert_eq!(event_id(&frame), emitted.event_id);
}

#[tokio::test]
async fn a_fault_on_the_open_endpoint_makes_the_gateway_unreachable() {
    let server = quiet_server().await;
    server.push_fault(
        FaultScope::Operation {
            operation_id: GATEWAY_OPEN_OPERATION.to_owned(),
            id: None,
            times: Some(1),
        },
        Fault::Error {
            status: 503,
            code: "ServiceUnavailable".to_owned(),
            message: "the gateway is down".to_owned(),
        },
    );
    let body = open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET);
    let (status, answer) = open_with(&server, &body).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    let (status, _) = open_with(&server, &body).await;
    assert_eq!(status, 200);
    // The open requests are DingTalk traffic: in the log.
    let opens = server
        .requests()
        .iter()
        .filter(|request| request.path == "/v1.0/gateway/connections/open")
        .count();
    assert_eq!(opens, 2);
}

#[tokio::test]
async fn shutdown_closes_the_connections() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown ends");
    match tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("the socket ends")
    {
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {}
        Some(Ok(other)) => panic!("unexpected {other:?}"),
    }
}

/// `POST` to an admin route of `server` with `body`: the status and JSON answer.
async fn admin(server: &MockServer, path: &str, body: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{}{path}", server.base_url()))
        .body(body.to_owned())
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn an_oversized_raw_frame_can_be_sent_over_http_and_a_body_too_large_is_refused() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;
    // Over the SDK's 1 MiB frame limit, from another process: sent as it is.
    let oversized = "x".repeat(2 * 1024 * 1024);
    assert_eq!(
        admin(&server, "/__mock/gateway/send-raw", &oversized)
            .await
            .0,
        200
    );
    assert_eq!(
        socket.next().await.expect("open").expect("readable"),
        Message::text(oversized.as_str())
    );
    // Over a control route's limit: refused, never taken as an empty body.
    let (status, answer) =
        admin(&server, "/__mock/events/emit", &"y".repeat(2 * 1024 * 1024)).await;
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = admin(
        &server,
        "/__mock/gateway/send-raw",
        &"z".repeat(9 * 1024 * 1024),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        frame_within(&mut socket, Duration::from_millis(300))
            .await
            .is_none(),
        "nothing sent for a refused body"
    );
}

#[tokio::test(start_paused = true)]
async fn admin_routes_drive_the_gateway_from_another_process() {
    let server = quiet_server().await;
    let mut socket = connect(&server).await;
    until_connections(&server, 1).await;

    let (status, answer) = admin(
        &server,
        "/__mock/events/emit",
        &json!({"eventType": "meeting_status_change", "data": status_change()}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["headers"]["eventId"], answer["eventId"]);
    ack(&mut socket, &frame, "SUCCESS").await;

    assert_eq!(
        admin(&server, "/__mock/gateway/duplicate-next", "").await.0,
        200
    );
    server.emit_event("meeting_status_change", status_change());
    let (first, second) = (next_frame(&mut socket).await, next_frame(&mut socket).await);
    assert_eq!(event_id(&first), event_id(&second));
    ack(&mut socket, &first, "SUCCESS").await;

    assert_eq!(
        admin(&server, "/__mock/gateway/send-raw", "raw!").await.0,
        200
    );
    assert_eq!(
        socket.next().await.expect("open").expect("readable"),
        Message::text("raw!")
    );

    assert_eq!(
        admin(&server, "/__mock/gateway/silence", "{\"on\": 1}")
            .await
            .0,
        400
    );
    assert_eq!(
        admin(&server, "/__mock/gateway/silence", "{\"on\": true}")
            .await
            .0,
        200
    );
    assert_eq!(
        admin(&server, "/__mock/gateway/silence", "{\"on\": false}")
            .await
            .0,
        200
    );
    assert_eq!(
        admin(&server, "/__mock/gateway/refuse-tickets", "{\"on\": true}")
            .await
            .0,
        200
    );
    let (_, opened) = open_with(&server, &open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)).await;
    assert!(ws_connect(connect_url(&opened)).await.is_err());
    assert_eq!(
        admin(&server, "/__mock/gateway/disconnect", "").await.0,
        200
    );
    assert_eq!(
        next_frame(&mut socket).await["headers"]["topic"],
        "disconnect"
    );
    assert_eq!(admin(&server, "/__mock/gateway/nonsense", "").await.0, 404);

    until_acks(
        &server,
        GatewayAcks {
            success: 2,
            later: 0,
            unanswered: 0,
        },
    )
    .await;
    let stats: Value = client()
        .get(format!("{}/__mock/gateway", server.base_url()))
        .send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        stats["acks"],
        json!({"success": 2, "later": 0, "unanswered": 0})
    );
    assert_eq!(stats["connections"], 1);
    assert_eq!(stats["deliveries"], 3);
    assert_eq!(stats["refusedTickets"], 1);
    // Control requests are not DingTalk traffic.
    assert!(
        server
            .requests()
            .iter()
            .all(|request| !request.path.starts_with("/__mock"))
    );
}

/// The binary, killed when dropped.
struct Binary(std::process::Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_serves_the_gateway_with_its_flags() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Binary(
        Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
            .args([
                "--no-seed",
                "--gateway-ping",
                "0.2",
                "--event-redelivery",
                "0.3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("one line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("`listening on URL`")
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let opened: Value = client()
            .post(format!("{base_url}/v1.0/gateway/connections/open"))
            .json(&open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET))
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("JSON");
        let (mut socket, _) = ws_connect(connect_url(&opened))
            .await
            .expect("the WebSocket opens");
        let emitted: Value = client()
            .post(format!("{base_url}/__mock/events/emit"))
            .body(
                json!({"eventType": "meeting_status_change", "data": status_change()}).to_string(),
            )
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("JSON");
        // The event, pings every 0.2 s, and the event again after 0.3 s without an ACK.
        let mut deliveries = 0;
        let mut pings = 0;
        while deliveries < 2 || pings < 1 {
            let frame = next_frame(&mut socket).await;
            match frame["type"].as_str() {
                Some("EVENT") => {
                    assert_eq!(frame["headers"]["eventId"], emitted["eventId"]);
                    deliveries += 1;
                }
                Some("SYSTEM") => {
                    assert_eq!(frame["headers"]["topic"], "ping");
                    pings += 1;
                }
                other => panic!("unexpected frame type {other:?}"),
            }
        }
        let stats: Value = client()
            .get(format!("{base_url}/__mock/gateway"))
            .send()
            .await
            .expect("a response")
            .json()
            .await
            .expect("JSON");
        assert_eq!(stats["connections"], 1);
        assert!(stats["acks"]["unanswered"].as_u64() >= Some(1), "{stats}");
    });
}

#[tokio::test(start_paused = true)]
async fn an_event_left_unacked_by_a_closed_connection_goes_to_another_one() {
    let server = quiet_server().await;
    let mut gone = connect(&server).await;
    until_connections(&server, 1).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    assert_eq!(event_id(&next_frame(&mut gone).await), emitted.event_id);
    gone.close(None).await.expect("closed");
    until_connections(&server, 0).await;
    let mut next = connect(&server).await;
    let start = tokio::time::Instant::now();
    let frame = next_frame(&mut next).await;
    assert_eq!(event_id(&frame), emitted.event_id);
    // Once its redelivery time (5 s by default) has passed since it was sent.
    assert!(start.elapsed() <= dingtalk_conference_mock::DEFAULT_EVENT_REDELIVERY);
    assert_eq!(server.gateway_acks().unanswered, 1);
}

#[tokio::test]
async fn a_connection_without_an_event_subscription_gets_no_events() {
    let server = quiet_server().await;
    let mut body = open_body(DEFAULT_APP_KEY, DEFAULT_APP_SECRET);
    body["subscriptions"] = json!([{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}]);
    let (status, answer) = open_with(&server, &body).await;
    assert_eq!(status, 200, "{answer}");
    let (mut socket, _) = ws_connect(connect_url(&answer))
        .await
        .expect("the WebSocket opens");
    until_connections(&server, 1).await;
    server.emit_event("meeting_status_change", status_change());
    assert!(
        frame_within(&mut socket, Duration::from_millis(300))
            .await
            .is_none()
    );
    assert_eq!(server.gateway_stats().pending, 1);
}

#[tokio::test]
async fn a_client_that_vanishes_without_a_close_frame_is_forgotten() {
    let server = quiet_server().await;
    let socket = connect(&server).await;
    until_connections(&server, 1).await;
    // The TCP connection drops with no WebSocket close: a killed process.
    drop(socket);
    until_connections(&server, 0).await;
    let mut next = connect(&server).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    assert_eq!(event_id(&next_frame(&mut next).await), emitted.event_id);
}

/// Reads `socket` until the server ends it (a close frame, or the stream ending); false if it
/// is still open after a minute.
async fn ends_within_a_minute(socket: &mut Socket) -> bool {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_a_full_queue_is_dropped_and_its_events_go_to_the_next_one() {
    let server = quiet_server().await;
    let mut slow = connect(&server).await;
    until_connections(&server, 1).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    until("the event is sent", || {
        server.gateway_stats().deliveries == 1
    })
    .await;
    // More frames than may wait for one connection, handed over before its task can take
    // any: the last one finds the queue full.
    for _ in 0..=dingtalk_conference_mock::CONNECTION_QUEUE {
        server.gateway_send_raw("{}");
    }
    until_connections(&server, 0).await;
    assert_eq!(server.gateway_stats().slow_connections, 1);
    assert!(
        ends_within_a_minute(&mut slow).await,
        "the slow connection is closed"
    );
    // The gateway goes on: the event the dropped connection never ACKed goes to the next.
    let mut next = connect(&server).await;
    assert_eq!(event_id(&next_frame(&mut next).await), emitted.event_id);
    assert_eq!(server.gateway_stats().slow_connections, 1);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_after_the_send_timeout() {
    let server = quiet_server().await;
    let _stalled = connect(&server).await;
    until_connections(&server, 1).await;
    // Far more than the loopback socket's buffers hold: the server's writes stall, since the
    // client reads nothing.
    let big = "x".repeat(1024 * 1024);
    for _ in 0..32 {
        server.gateway_send_raw(&big);
    }
    // The paused clock, moved on a second at a time until the server's send timeout fires.
    for _ in 0..120 {
        if server.gateway_connections() == 0 {
            break;
        }
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    let stats = server.gateway_stats();
    assert_eq!(stats.connections, 0, "the stalled connection is closed");
    assert_eq!(stats.slow_connections, 1);
    // Nothing else is held up: a new connection gets events at once.
    let mut next = connect(&server).await;
    let emitted = server.emit_event("meeting_status_change", status_change());
    assert_eq!(event_id(&next_frame(&mut next).await), emitted.event_id);
}
