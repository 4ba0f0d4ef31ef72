//! The waits with a real Stream connection to the fake gateway: events end them, polls only
//! reconcile. Counts are of requests in the fake's log; real time (a WebSocket and the fake's
//! ticker), but nothing asserts a time.

use std::time::Duration;

use dingtalk_conference::events::AckStatus;
use dingtalk_conference::events::stream::EventsHandle;
use dingtalk_conference::{Client, ConferenceStatus, WaitEvent, WaitOptions, WaitUntil};
use dingtalk_conference_mock::{MockServer, seeded};

use crate::common::{app_client, mock};

const INFO: (&str, &str) = ("GET", "/v1.0/conference/videoConferences/");

fn count(mock: &MockServer, (method, prefix): (&str, &str)) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

/// Starts a Stream connection for `client` and waits until it is open.
async fn connected(client: &Client) -> EventsHandle {
    let handle = client
        .on_events(|_event| async { AckStatus::Success })
        .expect("the app can open a stream");
    for _ in 0..500 {
        if handle.is_connected() {
            return handle;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stream did not connect: {:?}", handle.last_error());
}

/// Long enough that no interval or safety poll falls within a test.
fn patient() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_secs(60))
        .timeout(Duration::from_secs(30))
}

#[tokio::test]
async fn a_wait_ends_on_the_gateways_close_event_with_no_poll_after_the_first() {
    let mock = mock().await;
    let client = app_client(&mock);
    let handle = connected(&client).await;
    let mut seen = Vec::new();
    let info = client
        .wait_for_status_with(seeded::STARTED, WaitUntil::Ended, patient(), |event| {
            match event {
                WaitEvent::Polled { .. } => {
                    // It ends now: the fake emits `conference_closed` through its gateway.
                    mock.script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
                    seen.push("polled".to_string());
                }
                WaitEvent::Pushed { event_type, .. } => seen.push(event_type.to_string()),
                WaitEvent::Stream { connected } => seen.push(format!("stream {connected}")),
                _ => {}
            }
        })
        .await
        .expect("ends on the event");
    handle.stop().await;
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert_eq!(count(&mock, INFO), 1, "the first reconciliation only");
    assert_eq!(seen, ["stream true", "polled", "meeting_status_change"]);
}

#[tokio::test]
async fn a_make_before_break_reconnection_polls_once_and_events_still_end_the_wait() {
    let mock = mock().await;
    let client = app_client(&mock);
    let handle = connected(&client).await;
    let mut polls = 0;
    let info = client
        .wait_for_status_with(seeded::STARTED, WaitUntil::Ended, patient(), |event| {
            if let WaitEvent::Polled { polls: n, .. } = event {
                polls = n;
                match n {
                    // DingTalk asks the client to move: a new connection opens before the old
                    // one closes.
                    1 => mock.gateway_disconnect(),
                    _ => mock.script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]),
                }
            }
        })
        .await
        .expect("ends on the event after the reconnection");
    handle.stop().await;
    assert!(info.has_ended());
    assert_eq!(polls, 2, "the first poll and one for the new connection");
    assert_eq!(count(&mock, INFO), 2);
}

#[tokio::test]
async fn a_gap_in_the_gateways_seq_numbers_polls_once() {
    let mock = mock().await;
    let client = app_client(&mock);
    let handle = connected(&client).await;
    let status = |scene: &str, seq: i64| {
        serde_json::json!({
            "openConfModel": { "conferenceId": seeded::STARTED },
            "statusSeqNum": seq,
            "changeScene": scene,
        })
    };
    let created = |seq| status("conference_created", seq);
    let info = client
        .wait_for_status_with(seeded::STARTED, WaitUntil::Ended, patient(), |event| {
            if let WaitEvent::Polled { polls, .. } = event {
                if polls == 1 {
                    // 2 in order after 1; 3 never comes.
                    mock.emit_event("meeting_status_change", created(1));
                    mock.emit_event("meeting_status_change", created(2));
                    mock.emit_event("meeting_status_change", created(4));
                } else {
                    mock.emit_event("meeting_status_change", status("conference_closed", 5));
                }
            }
        })
        .await
        .expect("ends");
    handle.stop().await;
    assert!(info.has_ended());
    assert_eq!(count(&mock, INFO), 2, "one poll for the gap");
}

#[tokio::test]
async fn when_the_stream_stops_the_wait_polls_at_its_interval_again() {
    let mock = mock().await;
    let client = app_client(&mock);
    let handle = connected(&client).await;
    let options = WaitOptions::default()
        .interval(Duration::from_millis(50))
        .max_interval(Duration::from_millis(50))
        .timeout(Duration::from_secs(30));
    let mut handle = Some(handle);
    let mut stream_changes = Vec::new();
    let mut polls_after_the_drop = 0;
    let info = client
        .wait_for_status_with(seeded::STARTED, WaitUntil::Ended, options, |event| {
            match event {
                WaitEvent::Stream { connected } => stream_changes.push(connected),
                WaitEvent::Polled { .. } if stream_changes == [true, false] => {
                    polls_after_the_drop += 1;
                    // Ended with no event anyone hears: only polls can see it.
                    if polls_after_the_drop == 3 {
                        mock.script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
                    }
                }
                _ => {}
            }
            if let Some(handle) = handle.take() {
                // The app stops its stream: the last connection closes.
                handle.stopper().stop();
            }
        })
        .await
        .expect("polling sees it end");
    assert!(info.has_ended());
    assert_eq!(stream_changes, [true, false]);
    assert!(polls_after_the_drop >= 4, "{polls_after_the_drop}");
}
