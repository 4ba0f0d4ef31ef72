//! `history` and `quality` (issue 21), against the bundled fake server: the fake derives both
//! from its seeded conferences and members.

use dingtalk_conference_mock::seeded;
use serde_json::Value;

use crate::{assert_spec_keys, exit_code, run, stderr, stdout};

fn json(args: &[&str]) -> Value {
    let output = run(args);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

#[test]
fn history_lists_the_conferences_of_the_window_as_a_table_of_every_page() {
    let output = run(&[
        "--mock",
        "history",
        "--from",
        "2020-01-01 +08:00",
        "--to",
        "2100-01-01 +08:00",
        "--page-size",
        "2",
    ]);
    let text = stdout(&output);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(text.starts_with("TITLE"), "{text}");
    assert!(text.contains("Quarterly planning review"), "{text}");
    assert!(text.contains("Alice Chen"), "{text}");
    assert!(text.contains("1h 23m 45s"), "{text}");
    // Not started yet: no statistics.
    assert!(!text.contains("Design review"), "{text}");

    let all = json(&[
        "--mock",
        "--json",
        "history",
        "--from",
        "2020-01-01 +08:00",
        "--to",
        "2100-01-01T00:00:00Z",
    ]);
    let rows = all.as_array().expect("an array");
    // Every seeded conference but the one not yet started, over all pages.
    assert_eq!(rows.len(), seeded::ALL.len() - 1, "{all}");
    for row in rows {
        assert_spec_keys(row, "ConferenceData");
    }

    let planning = json(&[
        "--mock",
        "--json",
        "history",
        "--from",
        "2020-01-01 +08:00",
        "--to",
        "2100-01-01 +08:00",
        "--title",
        "planning",
    ]);
    assert_eq!(planning.as_array().map(Vec::len), Some(1), "{planning}");
    assert_eq!(planning[0]["conferenceId"], seeded::ENDED);

    // A window before every conference is empty, not an error.
    let none = json(&[
        "--mock",
        "--json",
        "history",
        "--from",
        "2000-01-01 UTC",
        "--to",
        "2000-01-02 UTC",
    ]);
    assert_eq!(none, serde_json::json!([]));
}

#[test]
fn a_time_without_a_zone_is_refused_and_the_help_says_why() {
    let output = run(&[
        "--mock",
        "history",
        "--from",
        "2026-01-01",
        "--to",
        "2026-02-01 +08:00",
    ]);
    assert_eq!(exit_code(&output), 2);
    assert!(
        stderr(&output).contains("has no zone"),
        "{}",
        stderr(&output)
    );
    let help = run(&["history", "--help"]);
    assert_eq!(exit_code(&help), 0);
    assert!(stdout(&help).contains("a date alone"), "{}", stdout(&help));
}

#[test]
fn quality_shows_the_members_samples_over_the_conference_by_default() {
    let info = json(&["--mock", "--json", "info", seeded::ENDED]);
    let minutes = info["confDuration"].as_i64().expect("ended") / 60_000;
    let samples = json(&[
        "--mock",
        "--json",
        "quality",
        seeded::ENDED,
        "--member",
        seeded::ENDED_HOST,
    ]);
    let samples = samples.as_array().expect("an array");
    assert_eq!(samples.len() as i64, minutes + 1);
    assert_eq!(samples[0]["timestamp"], info["startTime"]);
    assert_spec_keys(&samples[0], "MetricSample");

    // A window of two minutes from the start, as a table.
    let output = run(&[
        "--mock",
        "quality",
        seeded::ENDED,
        "--member",
        seeded::ENDED_HOST,
        "--from",
        "2026-02-10 14:00 +08:00",
        "--to",
        "2026-02-10T06:02:00Z",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("TIME"), "{text}");
    assert_eq!(
        text.lines().count(),
        4,
        "a header and three samples: {text}"
    );
    assert!(
        text.contains("2026-02-10 14:02:00 +08:00"),
        "in local time: {text}"
    );
    assert!(text.contains('*'), "a resolution: {text}");

    // Someone who did not attend: DingTalk's error, exit 3.
    let output = run(&[
        "--mock",
        "quality",
        seeded::ENDED,
        "--member",
        "Ab3neverattendedxxiEiE",
    ]);
    assert_eq!(exit_code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("memberNotFound"),
        "{}",
        stderr(&output)
    );
}
