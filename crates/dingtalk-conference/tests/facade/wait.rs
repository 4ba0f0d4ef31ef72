//! Waiting for a status: polls until the condition holds, backs off on throttling, gives up
//! on time.

use std::time::Duration;

use dingtalk_conference::{
    Client, ConferenceStatus, Error, RateLimit, WaitEvent, WaitOptions, WaitUntil,
};
use dingtalk_conference_mock::{Fault, FaultScope, seeded};

use crate::common::{app_builder, app_client, mock, no_retry_client};

fn fast() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(20))
        .max_interval(Duration::from_millis(40))
}

/// The next status of a conference whose status was `status` when polled: initialised, then
/// started, then ended. The test moves the conference on from the poll itself, so no poll can
/// miss a status however slow the machine.
fn next_status(status: Option<ConferenceStatus>) -> Option<i32> {
    match status {
        Some(ConferenceStatus::Initialised) => Some(2),
        Some(ConferenceStatus::Started) => Some(1),
        _ => None,
    }
}

#[tokio::test]
async fn waiting_follows_scripted_status_changes_until_the_conference_ends() {
    let mock = mock().await;
    let mut seen = Vec::new();
    let info = app_client(&mock)
        .wait_for_status_with(seeded::INITIALISED, WaitUntil::Ended, fast(), |event| {
            if let WaitEvent::Polled { info, .. } = event {
                seen.push(info.status);
                if let Some(next) = next_status(info.status) {
                    mock.script_status(seeded::INITIALISED, vec![(Duration::ZERO, next)]);
                }
            }
        })
        .await
        .expect("ends");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    seen.dedup();
    assert_eq!(
        seen,
        [
            Some(ConferenceStatus::Initialised),
            Some(ConferenceStatus::Started),
            Some(ConferenceStatus::Ended)
        ]
    );
}

#[tokio::test]
async fn waiting_for_a_change_returns_at_the_first_new_status() {
    let mock = mock().await;
    let mut polls = 0;
    let info = app_client(&mock)
        .wait_for_status_with(seeded::STARTED, WaitUntil::Change, fast(), |event| {
            if let WaitEvent::Polled { .. } = event {
                polls += 1;
                // Two polls of the unchanged status, then it ends.
                if polls == 2 {
                    mock.script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
                }
            }
        })
        .await
        .expect("changes");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert_eq!(polls, 3);
}

#[tokio::test]
async fn throttling_while_waiting_backs_off_and_carries_on() {
    let mock = mock().await;
    // Five throttled answers: more than one call's retries, so the wait itself backs off.
    mock.push_fault(
        FaultScope::NextConferenceRequests(5),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    let client = no_retry_client(&mock);
    let mut backoffs = 0;
    let info = client
        .wait_for_status_with(seeded::ENDED, WaitUntil::Ended, fast(), |event| {
            if let WaitEvent::BackingOff { error, .. } = event {
                assert!(error.is_throttled());
                backoffs += 1;
            }
        })
        .await
        .expect("ends after the throttling");
    assert!(info.has_ended());
    assert_eq!(backoffs, 5);
}

#[tokio::test]
async fn waiting_gives_up_after_its_timeout_with_the_last_status() {
    let mock = mock().await;
    let client = app_client(&mock);
    // Token and connection ready, so the first poll needs no fetch within the timeout.
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("warm-up");
    let error = client
        .wait_for_status(
            seeded::STARTED,
            WaitUntil::Ended,
            fast().timeout(Duration::from_secs(1)),
        )
        .await
        .expect_err("never ends");
    assert!(
        matches!(
            error,
            Error::WaitTimedOut {
                last_status: Some(ConferenceStatus::Started),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn throttling_that_never_ends_stops_the_wait() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.into()),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    let client = no_retry_client(&mock);
    let error = client
        .wait_for_status(
            seeded::STARTED,
            WaitUntil::Ended,
            fast().no_timeout().max_consecutive_throttled(4),
        )
        .await
        .expect_err("gave up");
    assert!(error.is_throttled(), "{error:?}");
    assert_eq!(mock.counters().conference_requests, 4);
}

#[tokio::test]
async fn the_default_wait_has_a_timeout_of_a_day() {
    assert_eq!(
        WaitOptions::default(),
        WaitOptions::default().timeout(dingtalk_conference::DEFAULT_WAIT_TIMEOUT)
    );
    assert_ne!(WaitOptions::default(), WaitOptions::default().no_timeout());
}

#[tokio::test]
async fn a_final_error_ends_the_wait_at_once() {
    let mock = mock().await;
    let error = app_client(&mock)
        .wait_for_status("000000000000000000000000", WaitUntil::Ended, fast())
        .await
        .expect_err("no such conference");
    assert!(error.is_not_found());
    assert_eq!(mock.counters().conference_requests, 1);
}

#[tokio::test]
async fn an_absurd_retry_after_or_timeout_never_overflows_the_clock() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::TooManyRequests {
            retry_after: Some(u64::MAX),
        },
    );
    let info = app_client(&mock)
        .wait_for_status(
            seeded::ENDED,
            WaitUntil::Ended,
            fast().timeout(Duration::MAX),
        )
        .await
        .expect("waits at most max_interval, then finds it ended");
    assert!(info.has_ended());
}

#[tokio::test]
async fn the_timeout_bounds_a_poll_that_is_still_retrying() {
    let mock = mock().await;
    mock.push_fault(
        FaultScope::Conference(seeded::STARTED.to_string()),
        Fault::Delay(Duration::from_secs(30)),
    );
    let error = app_client(&mock)
        .wait_for_status(
            seeded::STARTED,
            WaitUntil::Ended,
            fast().timeout(Duration::from_millis(300)),
        )
        .await
        .expect_err("gives up");
    assert!(
        matches!(
            error,
            Error::WaitTimedOut {
                last_status: None,
                ..
            }
        ),
        "{error:?}"
    );
}

/// Requests the fake server saw whose method and path start as given.
fn requests(mock: &dingtalk_conference_mock::MockServer, method: &str, prefix: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn waiting_for_many_conferences_costs_one_batch_per_poll_not_one_call_per_id() {
    let mock = mock().await;
    let ids = [
        seeded::STARTED,
        seeded::SCHEDULED,
        seeded::AUDIO,
        seeded::WITH_EXTENSION_APPS,
        seeded::INITIALISED,
    ];
    let mut last_poll = 0;
    let mut seen: Vec<(String, Option<ConferenceStatus>)> = Vec::new();
    let infos = app_client(&mock)
        .wait_for_all_with(&ids, WaitUntil::Ended, fast(), |event| {
            if let WaitEvent::Polled { info, polls } = event {
                last_poll = polls;
                let id = info.conference_id.clone().unwrap_or_default();
                seen.push((id.clone(), info.status));
                // Each conference moves on once it has been seen: started ones end, the
                // initialised one starts.
                if let Some(next) = next_status(info.status) {
                    mock.script_status(&id, vec![(Duration::ZERO, next)]);
                }
            }
        })
        .await
        .expect("all end");
    assert_eq!(infos.len(), ids.len());
    for (info, id) in infos.iter().zip(ids) {
        assert_eq!(info.conference_id.as_deref(), Some(id));
        assert!(info.has_ended(), "{id}: {:?}", info.status);
        assert!(
            info.end_time.is_some(),
            "{id}: the ended conference comes with its end"
        );
    }
    let batches = requests(&mock, "POST", "/v1.0/conference/videoConferences/query");
    let singles = requests(&mock, "GET", "/v1.0/conference/videoConferences/");
    assert_eq!(
        batches, last_poll as usize,
        "one batch request per poll for five ids"
    );
    // One look at the conference that had not started, and one per conference that left
    // the batch answer (it ended): never one per id per poll.
    assert_eq!(singles, 1 + ids.len(), "{seen:?}");
    assert!(batches + singles < ids.len() * last_poll as usize);
}

#[tokio::test]
async fn two_watchers_of_one_conference_share_their_polls() {
    let mock = mock().await;
    let client = app_client(&mock);
    let options = WaitOptions::default()
        .interval(Duration::from_millis(200))
        .max_interval(Duration::from_millis(200));
    let (mut polls_a, mut polls_b) = (0u32, 0u32);
    let a = client.wait_for_status_with(
        seeded::STARTED,
        WaitUntil::Ended,
        options.clone(),
        |event| {
            if let WaitEvent::Polled { polls, .. } = event {
                polls_a = polls;
                if polls == 5 {
                    mock.script_status(seeded::STARTED, vec![(Duration::ZERO, 1)]);
                }
            }
        },
    );
    let b = client.wait_for_status_with(seeded::STARTED, WaitUntil::Ended, options, |event| {
        if let WaitEvent::Polled { polls, .. } = event {
            polls_b = polls;
        }
    });
    let (a, b) = tokio::join!(a, b);
    assert!(a.expect("a").has_ended() && b.expect("b").has_ended());
    let asked = requests(&mock, "GET", "/v1.0/conference/videoConferences/");
    assert!(
        asked < (polls_a + polls_b) as usize,
        "two watchers, {polls_a} + {polls_b} polls, {asked} requests"
    );
    assert!(
        asked <= polls_a.max(polls_b) as usize + 1,
        "{asked} requests for {polls_a}/{polls_b} polls"
    );
}

#[tokio::test]
async fn waiting_for_many_refuses_bad_ids_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for ids in [vec![], vec![seeded::STARTED, ""]] {
        let error = client
            .wait_for_all(&ids, WaitUntil::Ended, fast())
            .await
            .expect_err("refused");
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    }
    assert!(mock.requests().is_empty());
}

/// A client of `mock` for Tokio's paused clock: the polls fall exactly where the wait's
/// intervals put them, however slow the machine, and no rate limit spaces them out.
fn paused_clock_client(mock: &dingtalk_conference_mock::MockServer) -> Client {
    app_builder(mock)
        .rate_limit(RateLimit::none())
        .build()
        .expect("valid client")
}

#[tokio::test(start_paused = true)]
async fn a_conference_that_starts_and_ends_between_two_polls_ends_the_wait() {
    let mock = mock().await;
    let mut scripted = false;
    let infos = paused_clock_client(&mock)
        .wait_for_all_with(
            &[seeded::INITIALISED],
            WaitUntil::Ended,
            fast().timeout(Duration::from_secs(10)),
            |event| {
                // At the first poll (not started yet), it starts and ends before the next
                // one: the batch answer, which lists conferences in progress only, never
                // shows it.
                if matches!(event, WaitEvent::Polled { .. }) && !scripted {
                    scripted = true;
                    mock.script_status(
                        seeded::INITIALISED,
                        vec![(Duration::ZERO, 2), (Duration::ZERO, 1)],
                    );
                }
            },
        )
        .await
        .expect("the wait sees it ended");
    assert!(infos[0].has_ended(), "{:?}", infos[0].status);
    let batches = requests(&mock, "POST", "/v1.0/conference/videoConferences/query");
    let singles = requests(&mock, "GET", "/v1.0/conference/videoConferences/");
    // The first poll reads it once (not in progress); polls 2 to 4 ask the batch only; the
    // fifth reads it again, and finds it ended.
    assert_eq!((batches, singles), (5, 2));
}

#[tokio::test(start_paused = true)]
async fn conferences_absent_from_the_batch_are_read_every_four_polls_and_never_more_than_the_batch()
{
    let mock = mock().await;
    // 25 conferences that never start: two batch requests per poll.
    let ids: Vec<String> = (0..25).map(|n| format!("{n:024x}")).collect();
    for id in &ids {
        mock.upsert_conference_with_id(
            id,
            dingtalk_conference::dingtalk_conference_api::types::ConferenceInfo {
                status: Some(0),
                ..Default::default()
            },
        );
    }
    // Polls at 0 and 20 ms, then every 40 ms (nothing changes): 26 polls within the second,
    // the next one due after it.
    let error = paused_clock_client(&mock)
        .wait_for_all(
            &ids,
            WaitUntil::Ended,
            fast().timeout(Duration::from_secs(1)),
        )
        .await
        .expect_err("never ends");
    assert!(matches!(error, Error::WaitTimedOut { .. }), "{error:?}");
    let batches = requests(&mock, "POST", "/v1.0/conference/videoConferences/query");
    let singles = requests(&mock, "GET", "/v1.0/conference/videoConferences/");
    assert_eq!(batches, 2 * 26);
    // The first poll reads each once. From the fifth, the conferences are due every fourth
    // poll, but each poll reads at most as many as it sends batch requests: 2 a poll.
    assert_eq!(singles, 25 + 2 * (26 - 4));

    // One conference alone: one read every four polls.
    mock.reset_log();
    let error = paused_clock_client(&mock)
        .wait_for_all(
            &[seeded::INITIALISED],
            WaitUntil::Ended,
            fast().timeout(Duration::from_secs(1)),
        )
        .await
        .expect_err("never ends");
    assert!(matches!(error, Error::WaitTimedOut { .. }), "{error:?}");
    let batches = requests(&mock, "POST", "/v1.0/conference/videoConferences/query");
    let singles = requests(&mock, "GET", "/v1.0/conference/videoConferences/");
    assert_eq!(batches, 26);
    // Polls 1, 5, 9, …, 25.
    assert_eq!(singles, 1 + (26 - 1) / 4);
}
