//! Cloud recording control, the recording allow-list and live pushes, end to end: the fake
//! server's state decides, and each write shows through the reads (`conference_info`,
//! `recordings`, `transcript`) or the fake's own view of its state.

use dingtalk_conference::{
    CloudRecordStatus, CloudRecording, Error, NewConference, RecordAllowListChange,
    StopCloudRecording, StreamOut, StreamStop, TranscriptQuery,
};
use dingtalk_conference_mock::{MockServer, seeded};
use serde_json::{Map, Value, json};

use crate::common::{app_client, mock, no_retry_client};

const HOST: &str = "iPOLrecordhostxxxxiEiE";
const GUEST: &str = "Ab3recordguestxxxxiEiE";
const RTMP: &str = "rtmp://live.example.com/app/key-1";
const RTMP_2: &str = "rtmp://backup.example.com/app/key-2";

/// The wire code of an API error, and its status.
fn api_code(error: &Error) -> (Option<&str>, Option<u16>) {
    (
        error.code().map(|code| code.as_str()),
        error.status().map(|status| status.as_u16()),
    )
}

/// A conference in progress hosted by [`HOST`] with [`GUEST`] being called.
async fn conference(client: &dingtalk_conference::Client) -> String {
    client
        .create_conference(NewConference::new(HOST, "Recorded").invite(GUEST))
        .await
        .expect("created")
        .conference_id
        .expect("an id")
}

#[tokio::test]
async fn starting_and_stopping_a_cloud_recording_shows_in_the_info_the_videos_and_the_transcript() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let id = conference(&client).await;
    let info = client.conference_info(&id).await.expect("info");
    assert_eq!(
        info.cloud_record_status,
        Some(CloudRecordStatus::NotRecording)
    );

    // Only the host may start.
    let refused = client
        .start_cloud_recording(&id, CloudRecording::new(GUEST))
        .await
        .expect_err("not the host");
    assert_eq!(
        api_code(&refused),
        (Some("recordStartPermissionError"), Some(404))
    );

    client
        .start_cloud_recording(
            &id,
            CloudRecording::new(HOST)
                .layout("speech")
                .small_window("float_right"),
        )
        .await
        .expect("started");
    let info = client.conference_info(&id).await.expect("info");
    assert_eq!(info.cloud_record_status, Some(CloudRecordStatus::Recording));
    assert_eq!(info.cloud_record_owner_union_id.as_deref(), Some(HOST));

    // A second start is DingTalk's recordStartError; nothing is readable while recording.
    let again = client
        .start_cloud_recording(&id, CloudRecording::new(HOST))
        .await
        .expect_err("running already");
    assert_eq!(api_code(&again), (Some("recordStartError"), Some(404)));
    let none_yet = client
        .recordings(&id, HOST)
        .await
        .expect_err("still recording");
    assert_eq!(
        api_code(&none_yet),
        (Some("cloudRecordNotFound"), Some(400))
    );

    // Only the host may stop; then the videos and the transcript of the members in it appear.
    let refused = client
        .stop_cloud_recording(&id, StopCloudRecording::new(GUEST))
        .await
        .expect_err("not the host");
    assert_eq!(
        api_code(&refused),
        (Some("recordStopPermissionError"), Some(400))
    );
    client
        .stop_cloud_recording(&id, StopCloudRecording::new(HOST))
        .await
        .expect("stopped");
    let info = client.conference_info(&id).await.expect("info");
    assert_eq!(info.cloud_record_status, Some(CloudRecordStatus::Finished));
    let videos = client.recordings(&id, GUEST).await.expect("videos");
    assert_eq!(videos.len(), 2, "{videos:?}");
    assert!(videos.iter().all(|v| v.union_id.as_deref() == Some(HOST)));
    let paragraphs = client
        .transcript(TranscriptQuery::new(&id, GUEST))
        .collect()
        .await
        .expect("transcript");
    // Only the host is in the conference (the guest is still being called).
    assert_eq!(paragraphs.len(), 1, "{paragraphs:?}");
    assert_eq!(paragraphs[0].union_id.as_deref(), Some(HOST));
    assert!(
        paragraphs[0]
            .paragraph
            .as_deref()
            .is_some_and(|p| !p.is_empty())
    );

    // Stopping again: nothing is being recorded.
    let again = client
        .stop_cloud_recording(&id, StopCloudRecording::new(HOST))
        .await
        .expect_err("nothing recording");
    assert_eq!(api_code(&again), (Some("recordStopError"), Some(400)));

    // A second stretch adds to the recording.
    client
        .start_cloud_recording(&id, CloudRecording::new(HOST))
        .await
        .expect("started again");
    client
        .stop_cloud_recording(&id, StopCloudRecording::new(HOST))
        .await
        .expect("stopped again");
    assert_eq!(client.recordings(&id, HOST).await.expect("videos").len(), 4);

    // Once the conference has ended: roomClosed.
    client.close_conference(&id, HOST).await.expect("closed");
    let closed = client
        .start_cloud_recording(&id, CloudRecording::new(HOST))
        .await
        .expect_err("ended");
    assert_eq!(api_code(&closed), (Some("roomClosed"), Some(400)));
    let closed = client
        .stop_cloud_recording(&id, StopCloudRecording::new(HOST))
        .await
        .expect_err("ended");
    assert_eq!(api_code(&closed), (Some("roomClosed"), Some(400)));
}

#[tokio::test]
async fn a_recording_running_when_the_conference_closes_is_finished_from_its_start() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let id = conference(&client).await;
    client
        .start_cloud_recording(&id, CloudRecording::new(HOST))
        .await
        .expect("started");
    client.close_conference(&id, HOST).await.expect("closed");
    let info = client.conference_info(&id).await.expect("info");
    assert_eq!(info.cloud_record_status, Some(CloudRecordStatus::Finished));
    let videos = client.recordings(&id, HOST).await.expect("videos");
    assert_eq!(videos.len(), 2, "{videos:?}");
    let paragraphs = client
        .transcript(TranscriptQuery::new(&id, HOST))
        .collect()
        .await
        .expect("transcript");
    assert_eq!(
        paragraphs.len(),
        1,
        "the host, who was in it: {paragraphs:?}"
    );
}

#[tokio::test]
async fn a_bad_layout_or_a_blank_host_is_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for recording in [
        CloudRecording::new(" "),
        CloudRecording::new(HOST).layout("grip"),
        CloudRecording::new(HOST).small_window("left"),
    ] {
        match client
            .start_cloud_recording(seeded::STARTED, recording)
            .await
        {
            Err(Error::InvalidInput(_)) => {}
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    assert!(
        !mock
            .requests()
            .iter()
            .any(|r| r.path.contains("cloudRecords"))
    );
}

#[tokio::test]
async fn live_pushes_answer_each_url_and_stop_by_id_or_all() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let id = conference(&client).await;
    let answer = client
        .start_stream_out(
            &id,
            StreamOut::new(HOST, "Weekly live", "speech", "float_right", false)
                .url(RTMP)
                .url("http://not-rtmp.example.com/live")
                .url(RTMP_2)
                .url(RTMP),
        )
        .await
        .expect("started");
    let success = answer.success_stream_map.expect("successes");
    let fail = answer.fail_stream_map.expect("failures");
    assert_eq!(success.len(), 2, "{success:?}");
    assert_eq!(
        fail.keys().collect::<Vec<_>>(),
        vec!["http://not-rtmp.example.com/live"]
    );
    let first = success[RTMP].as_str().expect("an id").to_owned();
    let second = success[RTMP_2].as_str().expect("an id").to_owned();
    assert_ne!(first, second);
    let live: Vec<String> = mock.live_streams(&id).into_iter().map(|s| s.0).collect();
    assert_eq!(live, vec![first.clone(), second.clone()]);

    // The same address again fails while it is pushed to.
    let again = client
        .start_stream_out(
            &id,
            StreamOut::new(HOST, "Weekly live", "grid", "float_bottom", true).url(RTMP),
        )
        .await
        .expect("answered");
    assert!(again.fail_stream_map.expect("failures").contains_key(RTMP));

    // Someone not in the conference: unknownUserError.
    let stranger = client
        .start_stream_out(
            &id,
            StreamOut::new("iPOLstrangerxxxxiEiE", "x", "grid", "float_bottom", false).url(RTMP),
        )
        .await
        .expect_err("a stranger");
    assert_eq!(api_code(&stranger), (Some("unknownUserError"), Some(400)));

    // Stop one by id; stopping it again is an error; stop all.
    client
        .stop_stream_out(&id, StreamStop::new(GUEST, &first, false))
        .await
        .expect("stopped one");
    assert_eq!(mock.live_streams(&id).len(), 1);
    let gone = client
        .stop_stream_out(&id, StreamStop::new(HOST, &first, false))
        .await
        .expect_err("stopped already");
    assert_eq!(api_code(&gone), (Some("paramsError"), Some(400)));
    client
        .stop_stream_out(&id, StreamStop::new(HOST, "any", true))
        .await
        .expect("stopped all");
    assert!(mock.live_streams(&id).is_empty());

    // An ended conference pushes nothing.
    client.close_conference(&id, HOST).await.expect("closed");
    let ended = client
        .start_stream_out(
            &id,
            StreamOut::new(HOST, "x", "grid", "float_bottom", false).url(RTMP),
        )
        .await
        .expect_err("ended");
    assert_eq!(api_code(&ended), (Some("paramsError"), Some(400)));
}

#[tokio::test]
async fn a_push_without_addresses_or_with_more_than_ten_is_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    let none = StreamOut::new(HOST, "x", "grid", "float_bottom", false);
    let eleven = (0..11).fold(none.clone(), |push, n| push.url(format!("rtmp://h/{n}")));
    for push in [none, eleven] {
        match client.start_stream_out(seeded::STARTED, push).await {
            Err(Error::InvalidInput(message)) => {
                assert!(message.contains("streamUrlList"), "{message}")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    assert!(
        !mock
            .requests()
            .iter()
            .any(|r| r.path.contains("streamOuts"))
    );
}

#[tokio::test]
async fn the_recording_allow_list_is_a_set_kept_by_business_type() {
    let mock = mock().await;
    let client = app_client(&mock);
    let add = RecordAllowListChange::new(HOST, "cloud_record", 1)
        .range(GUEST, 3)
        .range(HOST, 3);
    client
        .change_record_allow_list(add.clone())
        .await
        .expect("added");
    // Retried like a setting: a repeat leaves the list as it was.
    client.change_record_allow_list(add).await.expect("again");
    assert_eq!(
        mock.record_allow_list("cloud_record"),
        vec![(GUEST.to_owned(), 3), (HOST.to_owned(), 3)]
    );
    assert!(mock.record_allow_list("local_record").is_empty());
    client
        .change_record_allow_list(
            RecordAllowListChange::new(HOST, "cloud_record", 2).range(GUEST, 3),
        )
        .await
        .expect("removed");
    assert_eq!(
        mock.record_allow_list("cloud_record"),
        vec![(HOST.to_owned(), 3)]
    );
    // The change travelled as JSON in the query, with no body.
    let sent = mock
        .requests()
        .into_iter()
        .rfind(|r| r.path.contains("whiteAccount"))
        .expect("sent");
    assert!(sent.body.is_empty(), "no body");
    let url = reqwest::Url::parse(&format!("http://fake{}", sent.path)).expect("a path");
    let text = url
        .query_pairs()
        .find(|(k, _)| k == "requestBody")
        .map(|(_, v)| v.into_owned())
        .expect("a requestBody parameter");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["operation"], 2);
    assert_eq!(json["settingRangeList"][0]["settingRangeId"], GUEST);

    // DingTalk documents no value set: the fake adds on any operation but 2 (remove). An empty
    // change never leaves.
    no_retry_client(&mock)
        .change_record_allow_list(
            RecordAllowListChange::new(HOST, "cloud_record", 9).range(GUEST, 3),
        )
        .await
        .expect("an operation other than 2 adds");
    assert!(
        mock.record_allow_list("cloud_record")
            .contains(&(GUEST.to_string(), 3))
    );
    match client
        .change_record_allow_list(RecordAllowListChange::new(HOST, "cloud_record", 1))
        .await
    {
        Err(Error::InvalidInput(_)) => {}
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_mirror_starts_and_stops_a_recording() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(crate::common::mock());
    let client = dingtalk_conference::blocking::Client::new(crate::common::app_builder(&mock))
        .expect("blocking client");
    let host = scheduled_host(&mock);
    client
        .start_cloud_recording(seeded::SCHEDULED, CloudRecording::new(&host))
        .expect("started");
    client
        .stop_cloud_recording(seeded::SCHEDULED, StopCloudRecording::new(&host))
        .expect("stopped");
    assert_eq!(
        client
            .recordings(seeded::SCHEDULED, &host)
            .expect("videos")
            .len(),
        2
    );
}

/// The host of the seeded [`seeded::SCHEDULED`] conference (in progress, not recorded).
fn scheduled_host(mock: &MockServer) -> String {
    mock.conference(seeded::SCHEDULED)
        .and_then(|info| info.creator_id)
        .expect("a seeded host")
}

/// For the lead's write-retry matrix: each write of this part with arguments, in
/// [`Client::call`](dingtalk_conference::Client::call) form, that succeed on a freshly started
/// seeded fake server.
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    // The host of seeded::SCHEDULED (in progress, not recorded), as seeded.
    let scheduled_host = "Nb4KsV7gQe1tYx9hMa3pDliE";
    let change = json!({
        "bizType": "cloud_record",
        "operation": 1,
        "unionId": seeded::STARTED_HOST,
        "settingRangeList": [{"settingRangeId": seeded::ENDED_HOST, "settingRangeType": 3}],
    });
    vec![
        (
            "startCloudRecord",
            object(json!({
                "conferenceId": seeded::SCHEDULED,
                "body": {"unionId": scheduled_host, "mode": "grid"},
            })),
        ),
        (
            "stopCloudRecord",
            object(json!({
                "conferenceId": seeded::STARTED,
                "body": {"unionId": seeded::STARTED_HOST},
            })),
        ),
        (
            "optRecordWhiteAccount",
            object(json!({"requestBody": change.to_string()})),
        ),
        (
            "startStreamOut",
            object(json!({
                "conferenceId": seeded::STARTED,
                "body": {
                    "unionId": seeded::STARTED_HOST,
                    "streamName": "live",
                    "mode": "speech",
                    "smallWindowPosition": "float_right",
                    "needHostJoin": false,
                    "streamUrlList": [RTMP],
                },
            })),
        ),
        (
            "stopStreamOut",
            object(json!({
                "conferenceId": seeded::STARTED,
                "body": {"unionId": seeded::STARTED_HOST, "streamId": "any", "stopAllStream": true},
            })),
        ),
    ]
}

#[tokio::test]
async fn each_seeded_write_succeeds_once_through_call_on_a_fresh_seeded_fake() {
    let mock = mock().await;
    assert_eq!(
        scheduled_host(&mock),
        "Nb4KsV7gQe1tYx9hMa3pDliE",
        "seeded_writes names SCHEDULED's host"
    );
    let client = no_retry_client(&mock);
    for (operation, args) in seeded_writes() {
        client
            .call(operation, &args)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
    }
}
