//! `record start|stop` and `stream start|stop` against a fake server of the test's own, whose
//! state shows what each command did.

use dingtalk_conference_mock::seeded;

use crate::{Fake, RunAgainst as _, exit_code, json_of, ok, stderr};

/// The host of the seeded SCHEDULED conference (in progress, not recorded), as seeded.
const SCHEDULED_HOST: &str = "Nb4KsV7gQe1tYx9hMa3pDliE";

#[test]
fn record_start_and_stop_change_the_conferences_recording_status() {
    let fake = Fake::start();
    let out = ok(&fake.run(&[
        "record",
        "start",
        seeded::SCHEDULED,
        "--user-id",
        SCHEDULED_HOST,
        "--layout",
        "grid",
    ]));
    assert_eq!(
        out,
        format!(
            "started the cloud recording of conference {}\n",
            seeded::SCHEDULED
        )
    );
    let info = fake.server.conference(seeded::SCHEDULED).expect("held");
    assert_eq!(info.cloud_record_status, Some(1));

    // Again: DingTalk's recordStartError, exit code 7.
    let again = fake.run(&[
        "record",
        "start",
        seeded::SCHEDULED,
        "--user-id",
        SCHEDULED_HOST,
    ]);
    assert_eq!(exit_code(&again), 7, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("recordStartError"),
        "{}",
        stderr(&again)
    );

    // Not the host: exit code 4.
    let stranger = fake.run(&[
        "record",
        "stop",
        seeded::SCHEDULED,
        "--user-id",
        seeded::STARTED_HOST,
    ]);
    assert_eq!(exit_code(&stranger), 4, "{}", stderr(&stranger));

    // --json prints nothing; the recording is then readable.
    let stopped = ok(&fake.run(&[
        "--json",
        "record",
        "stop",
        seeded::SCHEDULED,
        "--user-id",
        SCHEDULED_HOST,
    ]));
    assert_eq!(stopped, "");
    let info = fake.server.conference(seeded::SCHEDULED).expect("held");
    assert_eq!(info.cloud_record_status, Some(3));
    let videos = json_of(&fake.run(&[
        "--json",
        "recordings",
        seeded::SCHEDULED,
        "--union-id",
        SCHEDULED_HOST,
    ]));
    assert_eq!(videos.as_array().map(Vec::len), Some(2), "{videos}");
}

#[test]
fn record_start_of_an_ended_conference_exits_9() {
    let fake = Fake::start();
    let ended = fake.run(&[
        "record",
        "start",
        seeded::ENDED,
        "--user-id",
        seeded::ENDED_HOST,
    ]);
    assert_eq!(exit_code(&ended), 9, "{}", stderr(&ended));
    assert!(stderr(&ended).contains("roomClosed"), "{}", stderr(&ended));
}

#[test]
fn record_start_refuses_a_layout_dingtalk_does_not_know() {
    let fake = Fake::start();
    let bad = fake.run(&[
        "record",
        "start",
        seeded::SCHEDULED,
        "--user-id",
        SCHEDULED_HOST,
        "--layout",
        "grip",
    ]);
    assert_eq!(exit_code(&bad), 2, "{}", stderr(&bad));
    assert!(
        fake.server
            .requests()
            .iter()
            .all(|r| !r.path.contains("cloudRecords"))
    );
}

#[test]
fn stream_start_prints_each_urls_outcome_and_stream_stop_ends_them() {
    let fake = Fake::start();
    let out = ok(&fake.run(&[
        "stream",
        "start",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--name",
        "Weekly live",
        "--url",
        "rtmp://live.example.com/app/a",
        "--url",
        "https://not-rtmp.example.com/b",
    ]));
    let live = fake.server.live_streams(seeded::STARTED);
    assert_eq!(live.len(), 1);
    let (stream_id, url, name) = &live[0];
    assert_eq!(
        (url.as_str(), name.as_str()),
        ("rtmp://live.example.com/app/a", "Weekly live")
    );
    assert_eq!(
        out,
        format!(
            "rtmp://live.example.com/app/a  stream {stream_id}\n\
             https://not-rtmp.example.com/b  failed: stream url must start with rtmp://\n"
        )
    );

    // --json: DingTalk's answer.
    let answer = json_of(&fake.run(&[
        "--json",
        "stream",
        "start",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--name",
        "Backup",
        "--url",
        "rtmp://backup.example.com/app/c",
    ]));
    // Only the two maps of the spec (whose keys are the addresses).
    let keys: Vec<&String> = answer.as_object().expect("an object").keys().collect();
    assert_eq!(keys, vec!["failStreamMap", "successStreamMap"], "{answer}");
    let second = answer["successStreamMap"]["rtmp://backup.example.com/app/c"]
        .as_str()
        .expect("a stream id")
        .to_owned();

    // Stop one by id, then an unknown id (exit 2), then all.
    let stopped = ok(&fake.run(&[
        "stream",
        "stop",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--stream",
        stream_id,
    ]));
    assert_eq!(
        stopped,
        format!(
            "stopped live push {stream_id} of conference {}\n",
            seeded::STARTED
        )
    );
    let gone = fake.run(&[
        "stream",
        "stop",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--stream",
        stream_id,
    ]);
    assert_eq!(exit_code(&gone), 2, "{}", stderr(&gone));
    assert_eq!(fake.server.live_streams(seeded::STARTED).len(), 1);
    assert_eq!(fake.server.live_streams(seeded::STARTED)[0].0, second);
    ok(&fake.run(&[
        "stream",
        "stop",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--all",
    ]));
    assert!(fake.server.live_streams(seeded::STARTED).is_empty());
}

#[test]
fn stream_start_with_no_address_pushed_exits_1_and_stop_needs_a_stream_or_all() {
    let fake = Fake::start();
    let none = fake.run(&[
        "stream",
        "start",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
        "--name",
        "x",
        "--url",
        "http://example.com/not-rtmp",
    ]);
    assert_eq!(exit_code(&none), 1, "{}", stderr(&none));
    assert!(crate::stdout(&none).contains("failed: "));
    let neither = fake.run(&[
        "stream",
        "stop",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_HOST,
    ]);
    assert_eq!(exit_code(&neither), 2, "{}", stderr(&neither));
}
