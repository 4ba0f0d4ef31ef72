//! `ongoing`, `nick` and `subtitles`, end to end as a process against the fake server.

use dingtalk_conference_mock::seeded;
use serde_json::Value;

use crate::{Fake, RunAgainst as _, exit_code, run, stderr, stdout};

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text}"))
}

#[test]
fn ongoing_lists_the_organisations_conferences_in_progress_over_every_page() {
    let fake = Fake::start();
    let output = fake.run(&["ongoing", "--page-size", "1"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("TITLE"), "{text}");
    assert!(lines[0].contains("PEOPLE"), "{text}");
    assert_eq!(
        lines.len(),
        1 + 4,
        "a header and the four seeded conferences in progress: {text}"
    );
    assert!(
        text.contains(seeded::STARTED) && text.contains(seeded::STARTED_ROOM_CODE),
        "{text}"
    );
    assert!(!text.contains(seeded::ENDED), "{text}");
    let pages = fake
        .server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0/conference/orgConferences"))
        .count();
    assert_eq!(pages, 4, "one request per page of one");

    let json = fake.run(&["ongoing", "--json"]);
    assert_eq!(exit_code(&json), 0, "{}", stderr(&json));
    let listed = json_of(&stdout(&json));
    let items = listed.as_array().expect("a JSON array");
    assert_eq!(items.len(), 4, "{listed}");
    assert!(
        items
            .iter()
            .all(|c| c["status"] == 2 && c["conferenceId"].is_string()),
        "DingTalk's wire form: {listed}"
    );
    crate::assert_spec_keys(&items[0], "OrgConference");
}

#[test]
fn ongoing_with_a_user_lists_that_users_conferences() {
    let output = run(&["--mock", "ongoing", "--user-id", seeded::STARTED_HOST]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(seeded::STARTED), "{text}");
    assert!(text.contains("host"), "{text}");

    let json = run(&[
        "--mock",
        "--json",
        "ongoing",
        "--user-id",
        seeded::STARTED_HOST,
    ]);
    assert_eq!(exit_code(&json), 0, "{}", stderr(&json));
    let answer = json_of(&stdout(&json));
    assert!(
        answer["onGoingConfIdList"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == seeded::STARTED)),
        "{answer}"
    );

    let blank = run(&["--mock", "ongoing", "--user-id", " "]);
    assert_eq!(exit_code(&blank), 2, "{}", stderr(&blank));
}

#[test]
fn nick_renames_a_member_as_members_then_shows_and_a_stranger_exits_2() {
    let fake = Fake::start();
    let output = fake.run(&[
        "nick",
        seeded::STARTED,
        "--member",
        seeded::STARTED_HOST,
        "--nick",
        "Renamed host",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Renamed host"),
        "{}",
        stdout(&output)
    );
    let members = fake.run(&["members", seeded::STARTED]);
    assert!(
        stdout(&members).contains("Renamed host"),
        "{}",
        stdout(&members)
    );

    let stranger = fake.run(&[
        "nick",
        seeded::STARTED,
        "--member",
        "iPOLstrangerxxxxxiEiE",
        "--nick",
        "Nobody",
    ]);
    assert_eq!(exit_code(&stranger), 2, "{}", stderr(&stranger));
    assert!(
        stderr(&stranger).contains("unknownUserError"),
        "{}",
        stderr(&stranger)
    );

    let blank = fake.run(&[
        "nick",
        seeded::STARTED,
        "--member",
        seeded::STARTED_HOST,
        "--nick",
        " ",
    ]);
    assert_eq!(exit_code(&blank), 2, "{}", stderr(&blank));
}

#[test]
fn subtitles_switch_on_and_off_and_need_one_of_the_two() {
    let fake = Fake::start();
    let on = fake.run(&["subtitles", seeded::STARTED, "--on"]);
    assert_eq!(exit_code(&on), 0, "{}", stderr(&on));
    assert_eq!(fake.server.subtitle_events(seeded::STARTED), Some(true));
    let off = fake.run(&["--json", "subtitles", seeded::STARTED, "--off"]);
    assert_eq!(exit_code(&off), 0, "{}", stderr(&off));
    assert_eq!(json_of(&stdout(&off))["success"], true);
    assert_eq!(fake.server.subtitle_events(seeded::STARTED), Some(false));

    let neither = fake.run(&["subtitles", seeded::STARTED]);
    assert_eq!(exit_code(&neither), 2, "{}", stderr(&neither));
    let ended = fake.run(&["subtitles", seeded::ENDED, "--on"]);
    assert_eq!(exit_code(&ended), 9, "{}", stderr(&ended));
    assert!(stderr(&ended).contains("confClosed"), "{}", stderr(&ended));
}
