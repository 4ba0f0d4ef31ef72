//! The values `conformance/schemathesis.toml` feeds schemathesis are the seeds' own: a seed that
//! changes without the config would quietly turn the conformance run's success answers into
//! `404`s and `cloudRecordNotFound`s (which `conformance/exercised.py` would then report as
//! operations never answered 2xx, long after the change).

use dingtalk_conference_mock::seeded;
use dingtalk_conference_testkit::fake::start;

fn config() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/schemathesis.toml");
    std::fs::read_to_string(path).expect("conformance/schemathesis.toml")
}

fn assert_listed(config: &str, value: &str) {
    assert!(
        config.contains(&format!("\"{value}\"")),
        "conformance/schemathesis.toml does not list {value}"
    );
}

#[tokio::test]
async fn the_conformance_dictionaries_hold_the_seeded_ids_hosts_codes_and_media() {
    let config = config();
    let (server, api) = start().await;
    for id in seeded::ALL {
        assert_listed(&config, id);
        let info = server.conference(id).expect("seeded");
        assert_listed(&config, info.room_code.as_deref().expect("room code"));
    }
    for host in [seeded::STARTED_HOST, seeded::ENDED_HOST] {
        assert_listed(&config, host);
    }
    assert_listed(&config, seeded::RECURRING_ROOM_CODE);
    // part schedule
    for value in [
        seeded::SCHEDULE_DESIGN_REVIEW,
        seeded::SCHEDULE_PLANNED,
        seeded::SCHEDULE_MONTHLY,
        seeded::SCHEDULE_CREATOR,
        seeded::MONTHLY_CREATOR,
    ] {
        assert_listed(&config, value);
    }
    // part org: the share link createAutoLoginUrl accepts.
    assert_listed(
        &config,
        &format!(
            "https://meeting.dingtalk.com/j/{}",
            seeded::STARTED_ROOM_CODE
        ),
    );
    let videos = api
        .query_cloud_record_video(seeded::ENDED, seeded::ENDED_HOST)
        .await
        .expect("videos")
        .into_inner()
        .video_list
        .unwrap_or_default();
    for video in videos {
        assert_listed(&config, video.media_id.as_deref().expect("mediaId"));
        assert_listed(&config, video.region_id.as_deref().expect("regionId"));
    }
}
