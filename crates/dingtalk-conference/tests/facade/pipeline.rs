//! The call pipeline's promises to concurrent callers, over real HTTP: a caller that is
//! dropped never stalls another, and each caller keeps its own deadline when it shares a read.
//! On Tokio's paused clock: the fake server runs on the test's runtime and waits on the same
//! clock.

use std::time::Duration;

use dingtalk_conference::{CallOptions, Error, RateLimit, TimeoutKind};
use dingtalk_conference_mock::{Fault, FaultScope, seeded};

use crate::common::{app_builder, mock};

fn within(timeout: Duration) -> CallOptions {
    CallOptions::new().timeout(timeout)
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_read_never_jams_its_api() {
    let mock = mock().await;
    // Two calls a second: the second read waits half a second for its slot.
    let client = app_builder(&mock)
        .rate_limit(RateLimit::per_second(2))
        .build()
        .expect("client");
    client
        .conference_info(seeded::STARTED)
        .await
        .expect("first read");
    // Its caller gives up while it waits in the limiter (a timeout, a select!, a web
    // handler whose client went away).
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        client.conference_info(seeded::ENDED),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up");
    // Every later read of that API, for any id, still goes through.
    for id in [seeded::INITIALISED, seeded::ENDED] {
        client
            .with_options(within(Duration::from_secs(5)))
            .conference_info(id)
            .await
            .unwrap_or_else(|e| panic!("a read after the cancelled one: {e}"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_joiner_with_a_shorter_deadline_times_out_at_its_own_while_the_read_goes_on() {
    let mock = mock().await;
    let client = app_builder(&mock).build().expect("client");
    client.access_token().await.expect("token first");
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Delay(Duration::from_millis(1500)),
    );
    let first = {
        let client = client.clone();
        tokio::spawn(async move { client.conference_info(seeded::STARTED).await })
    };
    // The joiner comes once the first read is in flight.
    while mock.counters().conference_requests == 0 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let joiner = client
        .with_options(within(Duration::from_millis(200)))
        .conference_info(seeded::STARTED)
        .await;
    match joiner {
        Err(Error::Timeout {
            kind: TimeoutKind::Deadline,
            limit,
            ..
        }) => assert_eq!(limit, Duration::from_millis(200)),
        other => panic!("the joiner should time out at its own deadline: {other:?}"),
    }
    first
        .await
        .expect("ran")
        .expect("the first read goes on and is answered");
    assert_eq!(mock.counters().conference_requests, 1, "one request shared");
}

#[tokio::test(start_paused = true)]
async fn a_joiner_with_more_time_is_answered_when_the_read_it_joined_runs_out_of_time() {
    let mock = mock().await;
    let client = app_builder(&mock).build().expect("client");
    client.access_token().await.expect("token first");
    mock.push_fault(
        FaultScope::NextConferenceRequests(1),
        Fault::Delay(Duration::from_millis(1000)),
    );
    let hurried = {
        let client = client.with_options(within(Duration::from_millis(300)));
        tokio::spawn(async move { client.conference_info(seeded::STARTED).await })
    };
    while mock.counters().conference_requests == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let patient = client
        .with_options(within(Duration::from_secs(10)))
        .conference_info(seeded::STARTED)
        .await;
    assert!(
        matches!(
            hurried.await.expect("ran"),
            Err(Error::Timeout { limit, .. }) if limit == Duration::from_millis(300)
        ),
        "the hurried caller keeps its deadline"
    );
    let patient = patient.expect("the patient caller is answered with its own time");
    assert_eq!(patient.conference_id.as_deref(), Some(seeded::STARTED));
}

#[tokio::test(start_paused = true)]
async fn videos_whose_ids_hold_a_separator_never_share_a_read() {
    let mock = mock().await;
    let client = app_builder(&mock).build().expect("client");
    let videos = client
        .recordings(seeded::ENDED, seeded::ENDED_HOST)
        .await
        .expect("videos");
    // Joined with a separator, as read keys once were, the two would be the same question.
    // (A printable one: the spec's media and region id checks refuse control characters.)
    let (mut one, mut other) = (videos[0].clone(), videos[0].clone());
    one.media_id = Some("m|r".to_string());
    one.region_id = Some("x".to_string());
    other.media_id = Some("m".to_string());
    other.region_id = Some("r|x".to_string());
    // The first read is held on the server so that the second comes while it is in flight.
    mock.push_fault(
        FaultScope::Operation {
            operation_id: "queryCloudRecordVideoPlayInfo".to_string(),
            id: None,
            times: Some(1),
        },
        Fault::Delay(Duration::from_millis(300)),
    );
    let asked = || {
        mock.requests()
            .iter()
            .filter(|r| r.path.contains("getPlayInfos"))
            .count()
    };
    let (a, b) = tokio::join!(
        client.recording_play_info(seeded::ENDED, &one, seeded::ENDED_HOST),
        client.recording_play_info(seeded::ENDED, &other, seeded::ENDED_HOST),
    );
    // Neither video exists on the server: what matters is that each was asked for.
    assert!(a.is_err() && b.is_err(), "{a:?} {b:?}");
    assert_eq!(asked(), 2, "each video asked for on its own");
}
