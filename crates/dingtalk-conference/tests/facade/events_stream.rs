//! Stream mode against the fake gateway over real sockets: typed events and their ACKs,
//! redelivery after `LATER`, duplicates, make-before-break on `disconnect`, silent connections,
//! an unreachable gateway, refused tickets, malformed and oversized frames, bounded handlers,
//! and the end of a stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingtalk_conference::events::stream::{EventStream, StreamOptions};
use dingtalk_conference::events::{AckStatus, ConferenceEvent, Event};
use dingtalk_conference::{Client, Error};
use dingtalk_conference_mock::{
    DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET, DEFAULT_SUITE_TICKET, Fault,
    FaultScope, GATEWAY_OPEN_OPERATION, GatewayAcks, MockConfig, MockServer,
};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::common::{app_builder, with_trace_capture};

/// A fake whose gateway sends no pings unless asked, and redelivers un-ACKed events after
/// `redelivery`.
async fn gateway(redelivery: Duration) -> MockServer {
    MockServer::start_with(
        MockConfig::new()
            .with_gateway_ping(None)
            .with_event_redelivery(redelivery),
    )
    .await
    .expect("fake server")
}

fn client(mock: &MockServer, options: StreamOptions) -> Client {
    app_builder(mock)
        .event_options(options)
        .build()
        .expect("valid client")
}

fn created(conference_id: &str, seq: i64) -> Value {
    json!({
        "openConfModel": {"conferenceId": conference_id, "title": "Weekly", "status": 2},
        "statusSeqNum": seq,
        "changeScene": "conference_created",
    })
}

/// Polls `done` until it holds (10 s at most, on whichever clock the test runs).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn next(events: &mut EventStream) -> Event {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream goes on")
}

async fn connected(events: &EventStream, mock: &MockServer) {
    until("a connection", || {
        events.is_connected() && mock.gateway_connections() == 1
    })
    .await;
}

#[tokio::test]
async fn events_arrive_typed_and_are_acked_success() {
    let mock = gateway(Duration::from_secs(5)).await;
    let mut events = client(&mock, StreamOptions::default())
        .events()
        .expect("a stream");
    connected(&events, &mock).await;
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    let event = next(&mut events).await;
    assert_eq!(event.id, sent.event_id);
    assert_eq!(event.event_type, "meeting_status_change");
    assert_eq!(event.corp_id.as_deref(), Some(DEFAULT_CORP_ID));
    assert_eq!(
        event.born_at.map(|at| at.timestamp_millis()),
        Some(sent.born_ms)
    );
    assert!(
        matches!(
            event.kind,
            ConferenceEvent::StatusChanged { seq: Some(1), .. }
        ),
        "{:?}",
        event.kind
    );
    assert_eq!(event.kind.conference_id(), Some("conf-1"));
    until("the ACK", || mock.gateway_acks().success == 1).await;
    assert_eq!(mock.gateway_acks().later, 0);
}

#[tokio::test]
async fn a_third_party_app_connects_with_its_suite_key_and_secret() {
    let mock = gateway(Duration::from_secs(5)).await;
    let client = Client::builder()
        .base_url(mock.base_url())
        .suite_credentials(
            DEFAULT_SUITE_KEY,
            DEFAULT_SUITE_SECRET,
            DEFAULT_CORP_ID,
            DEFAULT_SUITE_TICKET,
        )
        .build()
        .expect("valid client");
    let mut events = client.events().expect("a stream");
    connected(&events, &mock).await;
    let sent = mock.emit_event("meeting_status_change", created("conf-3p", 1));
    assert_eq!(next(&mut events).await.id, sent.event_id);
}

#[tokio::test]
async fn a_handler_answering_later_gets_the_event_again() {
    let mock = gateway(Duration::from_millis(200)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let handle = client(&mock, StreamOptions::default())
        .on_events(move |_event| {
            let call = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if call == 0 {
                    AckStatus::Later
                } else {
                    AckStatus::Success
                }
            }
        })
        .expect("a handler");
    until("a connection", || mock.gateway_connections() == 1).await;
    mock.emit_event("meeting_status_change", created("conf-1", 1));
    until("LATER then SUCCESS", || {
        let acks = mock.gateway_acks();
        acks.later >= 1 && acks.success >= 1
    })
    .await;
    assert_eq!(
        mock.gateway_acks(),
        GatewayAcks {
            success: 1,
            later: 1,
            unanswered: 0,
        }
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "handled again after LATER");
    handle.stop().await;
}

#[tokio::test]
async fn an_event_answered_later_by_one_handler_is_handled_again_whichever_connection_it_returns_to()
 {
    let mock = gateway(Duration::from_millis(300)).await;
    let client = client(&mock, StreamOptions::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = |calls: Arc<AtomicUsize>| {
        move |_event: Event| {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if call == 0 {
                    AckStatus::Later
                } else {
                    AckStatus::Success
                }
            }
        }
    };
    // Two connections of one client: the gateway picks one at random for each delivery.
    let first = client
        .on_events(handler(Arc::clone(&calls)))
        .expect("a handler");
    let second = client
        .on_events(handler(Arc::clone(&calls)))
        .expect("a handler");
    until("two connections", || mock.gateway_connections() == 2).await;
    for n in 0..4 {
        calls.store(0, Ordering::SeqCst);
        let before = mock.gateway_acks();
        mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1));
        until("LATER then SUCCESS", || {
            let acks = mock.gateway_acks();
            acks.later > before.later && acks.success > before.success
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "event {n}: handled again");
    }
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_handler_that_panics_is_answered_later_and_the_runner_goes_on() {
    let mock = gateway(Duration::from_millis(200)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let handle = client(&mock, StreamOptions::default())
        .on_events(move |_event| {
            let call = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(call > 0, "the first call fails");
                AckStatus::Success
            }
        })
        .expect("a handler");
    until("a connection", || mock.gateway_connections() == 1).await;
    mock.emit_event("meeting_status_change", created("conf-1", 1));
    until("LATER then SUCCESS", || {
        let acks = mock.gateway_acks();
        acks.later == 1 && acks.success == 1
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    handle.stop().await;
}

/// The EVENT frame the fake gateway sends for `event`, with a message id of its own: a
/// redelivery DingTalk makes on its own schedule.
fn redelivered_frame(event: &dingtalk_conference_mock::MockEvent, message_id: &str) -> String {
    json!({
        "specVersion": "1.0",
        "type": "EVENT",
        "headers": {
            "topic": "*",
            "contentType": "application/json",
            "messageId": message_id,
            "eventType": event.event_type,
            "eventId": event.event_id,
            "eventCorpId": event.corp_id,
            "eventBornTime": event.born_ms.to_string(),
        },
        "data": event.data.to_string(),
    })
    .to_string()
}

#[tokio::test]
async fn a_duplicate_after_the_handling_is_acked_and_not_handled_again() {
    let mock = gateway(Duration::from_secs(5)).await;
    let handled = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let counts = Arc::clone(&handled);
    let handle = client(&mock, StreamOptions::default())
        .on_events(move |event| {
            *counts
                .lock()
                .expect("not poisoned")
                .entry(event.id)
                .or_default() += 1;
            async { AckStatus::Success }
        })
        .expect("a handler");
    until("a connection", || mock.gateway_connections() == 1).await;
    let event = mock.emit_event("meeting_status_change", created("conf-1", 1));
    until("its ACK", || mock.gateway_acks().success == 1).await;
    // DingTalk redelivers even after an ACK.
    mock.gateway_send_raw(&redelivered_frame(&event, "again"));
    until("the duplicate's ACK", || mock.gateway_acks().success == 2).await;
    assert_eq!(mock.gateway_acks().later, 0);
    let handled = handled.lock().expect("not poisoned").clone();
    assert_eq!(handled, HashMap::from([(event.event_id, 1)]));
    handle.stop().await;
}

#[tokio::test]
async fn a_duplicate_while_the_first_is_handled_is_answered_later_not_success() {
    let mock = gateway(Duration::from_secs(60)).await;
    let handled = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let (count, gate) = (Arc::clone(&handled), Arc::clone(&release));
    let handle = client(&mock, StreamOptions::default())
        .on_events(move |_event| {
            count.fetch_add(1, Ordering::SeqCst);
            let gate = Arc::clone(&gate);
            async move {
                // Still being handled when the duplicate comes.
                gate.notified().await;
                AckStatus::Success
            }
        })
        .expect("a handler");
    until("a connection", || mock.gateway_connections() == 1).await;
    mock.gateway_duplicate_next();
    mock.emit_event("meeting_status_change", created("conf-1", 1));
    // A SUCCESS for the copy would tell DingTalk the event is done while its handling may
    // still fail.
    until("the copy answered LATER", || mock.gateway_acks().later == 1).await;
    assert_eq!(mock.gateway_acks().success, 0);
    release.notify_one();
    until("the first answered SUCCESS", || {
        mock.gateway_acks().success == 1
    })
    .await;
    assert_eq!(handled.load(Ordering::SeqCst), 1, "handled once");
    handle.stop().await;
}

// Several workers: a task per event would let them overtake each other here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_gives_the_events_of_a_connection_in_the_order_they_arrived() {
    let mock = gateway(Duration::from_secs(5)).await;
    let mut events = client(&mock, StreamOptions::default())
        .events()
        .expect("a stream");
    connected(&events, &mock).await;
    let sent: Vec<String> = (0..40)
        .map(|n| {
            mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1))
                .event_id
        })
        .collect();
    let mut received = Vec::new();
    for _ in 0..sent.len() {
        received.push(next(&mut events).await.id);
    }
    assert_eq!(received, sent);
}

#[tokio::test]
async fn disconnect_mid_stream_loses_no_event_and_makes_before_it_breaks() {
    let mock = gateway(Duration::from_secs(5)).await;
    let options = StreamOptions::default().drain_after_disconnect(Duration::from_millis(500));
    let mut events = client(&mock, options).events().expect("a stream");
    connected(&events, &mock).await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1)));
    }
    mock.gateway_disconnect();
    for n in 5..10 {
        sent.push(mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1)));
    }
    until("the next connection beside the old one", || {
        mock.gateway_connections() == 2
    })
    .await;
    let mut received = Vec::new();
    while received.len() < sent.len() {
        received.push(next(&mut events).await.id);
    }
    received.sort();
    let mut expected: Vec<_> = sent.into_iter().map(|event| event.event_id).collect();
    expected.sort();
    assert_eq!(received, expected, "every event, once");
    until("the old connection closed", || {
        mock.gateway_connections() == 1
    })
    .await;
    assert!(events.is_connected(), "connected throughout");
    let after = mock.emit_event("meeting_status_change", created("after", 1));
    assert_eq!(next(&mut events).await.id, after.event_id);
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_is_replaced() {
    let mock = gateway(Duration::from_secs(5)).await;
    let options = StreamOptions::default()
        .ping_after_idle(Duration::from_secs(5))
        .dead_after_silence(Duration::from_secs(8));
    let mut events = client(&mock, options).events().expect("a stream");
    connected(&events, &mock).await;
    mock.gateway_silence(true);
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    // The silenced connection takes no event; the one replacing it gets it.
    assert_eq!(next(&mut events).await.id, sent.event_id);
    // The fake reads nothing on a silenced connection, so it sees the client's close only
    // once it speaks again.
    mock.gateway_silence(false);
    until("the silent connection closed", || {
        mock.gateway_connections() == 1
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn pings_on_idle_keep_a_quiet_connection_alive() {
    // The fake sends nothing of its own (no pings, no events) but answers WebSocket pings.
    let mock = gateway(Duration::from_secs(5)).await;
    let options = StreamOptions::default()
        .ping_after_idle(Duration::from_secs(5))
        .dead_after_silence(Duration::from_secs(8));
    let mut events = client(&mock, options).events().expect("a stream");
    connected(&events, &mock).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(opens(&mock), 1, "never taken for dead");
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    assert_eq!(next(&mut events).await.id, sent.event_id);
}

#[tokio::test]
async fn a_full_stream_holds_events_unacked_then_answers_later_and_loses_none() {
    let mock = gateway(Duration::from_millis(300)).await;
    let options = StreamOptions::default().buffer(1).max_in_flight(1);
    let mut events = client(&mock, options).events().expect("a stream");
    connected(&events, &mock).await;
    let sent: Vec<_> = (0..3)
        .map(|n| mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1)))
        .collect();
    // One queued (ACKed), one waiting for room (not ACKed), the rest answered LATER.
    until("the queue full and the rest answered LATER", || {
        let acks = mock.gateway_acks();
        acks.success == 1 && acks.later >= 1
    })
    .await;
    let mut received = Vec::new();
    while received.len() < sent.len() {
        received.push(next(&mut events).await.id);
    }
    received.sort();
    let mut expected: Vec<_> = sent.into_iter().map(|event| event.event_id).collect();
    expected.sort();
    assert_eq!(received, expected, "every event, once");
    until("every event ACKed", || mock.gateway_acks().success >= 3).await;
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_gateway_is_tried_again_with_backoff_until_it_answers() {
    let mock = gateway(Duration::from_secs(5)).await;
    mock.push_fault(
        FaultScope::Operation {
            operation_id: GATEWAY_OPEN_OPERATION.to_owned(),
            id: None,
            times: Some(3),
        },
        Fault::DropConnection,
    );
    let started = tokio::time::Instant::now();
    let mut events = client(&mock, StreamOptions::default())
        .events()
        .expect("a stream");
    until("the first failure", || events.last_error().is_some()).await;
    assert!(
        matches!(events.last_error(), Some(Error::Transport(_))),
        "{:?}",
        events.last_error()
    );
    connected(&events, &mock).await;
    // Three failures waited 0.5–1 s, then 1–2 s, then 2–4 s (Tokio's paused clock; the upper
    // bound leaves room for the clock jumping while a socket is idle).
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(3500) && waited <= Duration::from_secs(20),
        "{waited:?}"
    );
    assert!(events.last_error().is_none(), "cleared once connected");
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    assert_eq!(next(&mut events).await.id, sent.event_id);
}

#[tokio::test]
async fn refused_credentials_surface_as_dingtalks_error() {
    let mock = gateway(Duration::from_secs(5)).await;
    let events = Client::builder()
        .base_url(mock.base_url())
        .app_credentials("mock-app-key", "wrong secret")
        .build()
        .expect("valid client")
        .events()
        .expect("a stream");
    until("the refusal", || events.last_error().is_some()).await;
    let error = events.last_error().expect("an error");
    assert_eq!(
        error.code().map(|code| code.as_str().to_owned()),
        Some("invalidClientIdOrSecret".to_owned()),
        "{error:?}"
    );
    assert!(
        !error.report().contains("wrong secret"),
        "{}",
        error.report()
    );
    assert!(!events.is_connected());
}

#[tokio::test(start_paused = true)]
async fn a_refused_ticket_is_reported_and_tried_again_with_a_new_one() {
    let mock = gateway(Duration::from_secs(5)).await;
    mock.gateway_refuse_tickets(true);
    let mut events = client(&mock, StreamOptions::default())
        .events()
        .expect("a stream");
    until("the refusal", || events.last_error().is_some()).await;
    let error = events.last_error().expect("an error");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401), "{error:?}");
    until("a second refusal", || {
        mock.gateway_stats().refused_tickets >= 2
    })
    .await;
    mock.gateway_refuse_tickets(false);
    connected(&events, &mock).await;
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    assert_eq!(next(&mut events).await.id, sent.event_id);
}

#[tokio::test]
async fn malformed_and_oversized_frames_are_skipped_and_the_stream_goes_on() {
    let mock = gateway(Duration::from_secs(5)).await;
    let options = StreamOptions::default()
        .max_frame_bytes(4096)
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(100));
    let mut events = client(&mock, options).events().expect("a stream");
    connected(&events, &mock).await;
    for garbage in [
        "not json",
        "[1,2,3]",
        r#"{"type":"EVENT","headers":{"messageId":"m"},"data":"{}"}"#,
        r#"{"type":"WHAT","headers":{}}"#,
        r#"{"type":"CALLBACK","headers":{"messageId":"cb","topic":"/v1.0/im/bot/messages/get"},"data":"{}"}"#,
    ] {
        mock.gateway_send_raw(garbage);
    }
    let sent = mock.emit_event("meeting_status_change", created("conf-1", 1));
    assert_eq!(next(&mut events).await.id, sent.event_id);
    assert_eq!(
        opens(&mock),
        1,
        "malformed frames leave the connection as it is"
    );
    // Too large for the WebSocket layer: refused unread, the connection replaced.
    mock.gateway_send_raw(&format!(
        r#"{{"type":"EVENT","pad":"{}"}}"#,
        "x".repeat(8192)
    ));
    let after = mock.emit_event("meeting_status_change", created("conf-2", 2));
    assert_eq!(next(&mut events).await.id, after.event_id);
    assert!(events.is_connected());
    assert_eq!(
        opens(&mock),
        2,
        "one connection before the oversized frame, one after"
    );
}

/// How many connections the client asked the gateway for.
fn opens(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.path.starts_with("/v1.0/gateway/connections/open"))
        .count()
}

#[tokio::test]
async fn handlers_in_flight_are_bounded_and_pings_are_answered_meanwhile() {
    let mock = MockServer::start_with(
        MockConfig::new()
            .with_gateway_ping(Some(Duration::from_millis(50)))
            .with_event_redelivery(Duration::from_millis(200)),
    )
    .await
    .expect("fake server");
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let handled = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let (r, m, h, gate) = (
        Arc::clone(&running),
        Arc::clone(&most),
        Arc::clone(&handled),
        Arc::clone(&release),
    );
    let handle = client(&mock, StreamOptions::default().max_in_flight(2))
        .on_events(move |event| {
            let (r, m, h, gate) = (
                Arc::clone(&r),
                Arc::clone(&m),
                Arc::clone(&h),
                Arc::clone(&gate),
            );
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                gate.acquire().await.expect("open").forget();
                h.lock().expect("not poisoned").push(event.id);
                r.fetch_sub(1, Ordering::SeqCst);
                AckStatus::Success
            }
        })
        .expect("a handler");
    until("a connection", || mock.gateway_connections() == 1).await;
    let sent: Vec<_> = (0..5)
        .map(|n| mock.emit_event("meeting_status_change", created(&format!("c{n}"), 1)))
        .collect();
    until("two handlers busy and the rest answered LATER", || {
        running.load(Ordering::SeqCst) == 2 && mock.gateway_acks().later >= 3
    })
    .await;
    let pings = mock.gateway_stats().ping_replies;
    until("pings answered while the handlers are busy", || {
        mock.gateway_stats().ping_replies >= pings + 3
    })
    .await;
    release.add_permits(100);
    until("every event handled", || {
        handled.lock().expect("not poisoned").len() == 5
    })
    .await;
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "never more than two at once"
    );
    let mut handled = handled.lock().expect("not poisoned").clone();
    handled.sort();
    let mut expected: Vec<_> = sent.into_iter().map(|event| event.event_id).collect();
    expected.sort();
    assert_eq!(handled, expected, "each once");
    handle.stop().await;
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let mock = gateway(Duration::from_secs(5)).await;
    let events = client(&mock, StreamOptions::default())
        .events()
        .expect("a stream");
    connected(&events, &mock).await;
    drop(events);
    until("the connection closed", || mock.gateway_connections() == 0).await;
}

#[tokio::test]
async fn a_stopped_stream_ends_and_a_stopped_handler_closes_its_connection() {
    let mock = gateway(Duration::from_secs(5)).await;
    let client = client(&mock, StreamOptions::default());
    let mut events = client.events().expect("a stream");
    connected(&events, &mock).await;
    events.stopper().stop();
    let end = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    assert!(matches!(end, Ok(None)), "the stream ends");
    until("the connection closed", || mock.gateway_connections() == 0).await;

    let handle = client
        .on_events(|_| async { AckStatus::Success })
        .expect("a handler");
    until("a connection", || handle.is_connected()).await;
    handle.stop().await;
    until("the connection closed", || mock.gateway_connections() == 0).await;
}

#[tokio::test]
async fn stopping_a_handler_waits_for_the_handlers_running() {
    let mock = gateway(Duration::from_secs(5)).await;
    let release = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(tokio::sync::Notify::new());
    let (gate, begun) = (Arc::clone(&release), Arc::clone(&started));
    let handle = client(&mock, StreamOptions::default())
        .on_events(move |_| {
            let (gate, begun) = (Arc::clone(&gate), Arc::clone(&begun));
            async move {
                begun.notify_one();
                gate.notified().await;
                AckStatus::Success
            }
        })
        .expect("a handler");
    until("a connection", || handle.is_connected()).await;
    mock.emit_event("meeting_status_change", created("conf-1", 1));
    started.notified().await;
    let mut stopping = tokio::spawn(handle.stop());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut stopping)
            .await
            .is_err(),
        "stop waits while a handler runs"
    );
    release.notify_one();
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stop returns once the handler has")
        .expect("no panic");
}

#[tokio::test]
async fn a_client_without_a_secret_cannot_open_a_stream() {
    let mock = gateway(Duration::from_secs(5)).await;
    let client = Client::builder()
        .base_url(mock.base_url())
        .static_token("a-token")
        .build()
        .expect("valid client");
    assert!(matches!(client.events(), Err(Error::Config(_))));
    assert!(matches!(
        client.on_events(|_| async { AckStatus::Success }),
        Err(Error::Config(_))
    ));
}

#[test]
fn a_stream_outside_a_tokio_runtime_is_a_config_error_not_a_panic() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(gateway(Duration::from_secs(5)));
    let client = client(&mock, StreamOptions::default());
    assert!(matches!(client.events(), Err(Error::Config(_))));
    assert!(matches!(
        client.on_events(|_| async { AckStatus::Success }),
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn options_no_connection_could_work_with_are_refused_at_build() {
    let mock = gateway(Duration::from_secs(5)).await;
    let built = app_builder(&mock)
        .event_options(StreamOptions::default().max_in_flight(0))
        .build();
    assert!(matches!(built, Err(Error::Config(_))), "{built:?}");
    // Too large for the runtime's timers and semaphores: refused, never a panic later.
    for options in [
        StreamOptions::default().drain_after_disconnect(Duration::MAX),
        StreamOptions::default().dead_after_silence(Duration::MAX),
        StreamOptions::default().max_in_flight(usize::MAX),
        StreamOptions::default().buffer(usize::MAX),
    ] {
        let built = app_builder(&mock).event_options(options).build();
        assert!(matches!(built, Err(Error::Config(_))), "{built:?}");
    }
}

#[test]
fn neither_the_secret_nor_the_ticket_is_ever_logged() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ((), trace) = runtime.block_on(with_trace_capture(async {
        let mock = gateway(Duration::from_secs(5)).await;
        let mut events = client(&mock, StreamOptions::default())
            .events()
            .expect("a stream");
        connected(&events, &mock).await;
        mock.emit_event("meeting_status_change", created("conf-1", 1));
        next(&mut events).await;
        mock.gateway_refuse_tickets(true);
        mock.gateway_disconnect();
        until("a refused ticket", || events.last_error().is_some()).await;
    }));
    assert!(trace.contains("event stream connected"), "{trace}");
    assert!(
        !trace.contains(dingtalk_conference_mock::DEFAULT_APP_SECRET),
        "{trace}"
    );
    assert!(!trace.contains("ticket="), "{trace}");
}

/// The `metrics` feature: what a stream emits, read back with metrics-util's debugging
/// recorder. A single-threaded runtime inside the recorder's scope, so every task of the
/// runner (and the fake's) records into it.
#[cfg(feature = "metrics")]
#[test]
fn events_acks_duplicates_and_connections_are_counted() {
    use metrics_util::debugging::DebugValue;

    use crate::metrics::{counter, recorded};

    let snapshot = recorded(false, async {
        let mock = gateway(Duration::from_secs(60)).await;
        // A status change's first handling answers LATER; everything else SUCCESS.
        let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let handle = client(&mock, StreamOptions::default())
            .on_events(move |event| {
                let mut seen = seen.lock().expect("not poisoned");
                let first_status_change = event.event_type == "meeting_status_change"
                    && seen.insert(event.id, 1).is_none();
                let status = if first_status_change {
                    AckStatus::Later
                } else {
                    AckStatus::Success
                };
                async move { status }
            })
            .expect("a handler");
        until("a connection", || mock.gateway_connections() == 1).await;
        let event = mock.emit_event("meeting_status_change", created("conf-1", 1));
        until("its LATER", || mock.gateway_acks().later == 1).await;
        // DingTalk's redelivery (sent here at once): handled again, SUCCESS.
        mock.gateway_send_raw(&redelivered_frame(&event, "again"));
        until("its SUCCESS", || mock.gateway_acks().success == 1).await;
        // A duplicate after the SUCCESS, and an event of a type the SDK does not know.
        mock.gateway_send_raw(&redelivered_frame(&event, "once-more"));
        mock.emit_event("some_new_event", json!({"x": 1}));
        until("both ACKed", || mock.gateway_acks().success == 3).await;
        handle.stop().await;
    });
    let status_change = ("event_type", "meeting_status_change");
    assert_eq!(
        counter(&snapshot, "dingtalk_events_total", &[status_change]),
        3,
        "{snapshot:?}"
    );
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_events_total",
            &[("event_type", "other")]
        ),
        1
    );
    assert_eq!(
        counter(&snapshot, "dingtalk_event_duplicates_total", &[]),
        1
    );
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_event_acks_total",
            &[("status", "later")]
        ),
        1
    );
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_event_acks_total",
            &[("status", "success")]
        ),
        3
    );
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_stream_connects_total",
            &[("outcome", "opened")]
        ),
        1
    );
    let open_after = snapshot
        .iter()
        .find(|(name, _, _)| name == "dingtalk_stream_connections")
        .map(|(_, _, value)| value);
    assert_eq!(
        open_after,
        Some(&DebugValue::Gauge(0.0.into())),
        "none after stop"
    );
}
