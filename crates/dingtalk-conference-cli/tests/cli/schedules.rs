//! The `schedule` commands against the embedded fake server (`--mock`, seeded) and a fake of the
//! test's own (to carry state from one command to the next).

use dingtalk_conference_mock::seeded;
use serde_json::Value;

use crate::{Fake, RunAgainst as _, exit_code, run, stderr, stdout};

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn schedule_show_prints_the_seeded_schedule_in_local_time_and_as_json() {
    let output = run(&[
        "--mock",
        "schedule",
        "show",
        seeded::SCHEDULE_PLANNED,
        "--user-id",
        seeded::SCHEDULE_CREATOR,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Offsite planning 团建策划"), "{text}");
    assert!(
        text.contains("2027-06-01 10:00:00 +08:00 (02:00:00 UTC)"),
        "{text}"
    );
    assert!(text.contains("508163942"), "{text}");

    let output = run(&[
        "--mock",
        "--json",
        "schedule",
        "show",
        seeded::SCHEDULE_PLANNED,
        "--user-id",
        seeded::SCHEDULE_CREATOR,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let answer = json(&output);
    assert_eq!(answer["startTime"], Value::from(1_811_815_200_000_i64));
    assert_eq!(answer["scheduleConferenceId"], seeded::SCHEDULE_PLANNED);
}

#[test]
fn schedule_settings_reads_the_seeded_settings() {
    let output = run(&["--mock", "schedule", "settings", seeded::SCHEDULE_PLANNED]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(seeded::PLANNED_COHOST), "{text}");
    assert!(text.contains("COOLAPP-1-3A9C0E5B7D21F486"), "{text}");
    let output = run(&[
        "--mock",
        "--json",
        "schedule",
        "settings",
        seeded::SCHEDULE_PLANNED,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let answer = json(&output);
    assert_eq!(answer["muteOnJoin"], Value::from(-1));
    assert_eq!(
        answer["moziConfVirtualExtraSetting"]["moziConfExtensionAppSettings"][0]["autoOpenMode"],
        "2"
    );
}

#[test]
fn a_schedule_is_created_updated_and_cancelled_from_the_command_line() {
    let fake = Fake::start();
    let creator = "iPOLclischedulerxiEiE";
    let created = fake.run(&[
        "schedule",
        "create",
        "--title",
        "CLI review",
        "--user-id",
        creator,
        "--start",
        "2027-03-01 10:00 +08:00",
        "--end",
        "2027-03-01T03:00:00Z",
        "--cohost",
        "Ab3clicohostxxxxiEiE",
        "--mute-on-join",
        "--lock",
    ]);
    assert_eq!(exit_code(&created), 0, "{}", stderr(&created));
    let id = stdout(&created).trim().to_string();
    assert!(!id.is_empty() && !id.contains(' '), "{id}");
    assert!(
        stderr(&created).contains("room code"),
        "{}",
        stderr(&created)
    );

    let settings = fake.run(&["--json", "schedule", "settings", &id]);
    assert_eq!(exit_code(&settings), 0, "{}", stderr(&settings));
    let settings = json(&settings);
    assert_eq!(settings["lockRoom"], Value::from(1));
    assert_eq!(settings["muteOnJoin"], Value::from(-1));
    assert_eq!(settings["cohostUnionIds"][0], "Ab3clicohostxxxxiEiE");

    // Only the title: the window is read and sent unchanged.
    let updated = fake.run(&[
        "--json",
        "schedule",
        "update",
        &id,
        "--user-id",
        creator,
        "--title",
        "CLI review (moved)",
    ]);
    assert_eq!(exit_code(&updated), 0, "{}", stderr(&updated));
    let after = json(&updated);
    assert_eq!(after["title"], "CLI review (moved)");
    assert_eq!(after["startTime"], Value::from(1_803_866_400_000_i64));
    assert_eq!(after["endTime"], Value::from(1_803_870_000_000_i64));

    // Someone else may not cancel it (exit 4); the creator may, once; again is resourceCancel
    // (exit 9).
    let refused = fake.run(&[
        "schedule",
        "cancel",
        &id,
        "--user-id",
        "Zz9someoneelsexxiEiE",
    ]);
    assert_eq!(exit_code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("permissionError"),
        "{}",
        stderr(&refused)
    );
    let cancelled = fake.run(&["schedule", "cancel", &id, "--user-id", creator]);
    assert_eq!(exit_code(&cancelled), 0, "{}", stderr(&cancelled));
    assert_eq!(stdout(&cancelled), format!("cancelled schedule {id}\n"));
    let again = fake.run(&["schedule", "cancel", &id, "--user-id", creator]);
    assert_eq!(exit_code(&again), 9, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("resourceCancel"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn bad_times_are_refused_before_any_request() {
    for (start, end, expect) in [
        ("2027-03-01 10:00", "2027-03-01 11:00 +08:00", "has no zone"),
        (
            "2027-03-01 11:00 +08:00",
            "2027-03-01 10:00 +08:00",
            "--end must be after --start",
        ),
    ] {
        let output = run(&[
            "--mock",
            "schedule",
            "create",
            "--title",
            "t",
            "--user-id",
            "u",
            "--start",
            start,
            "--end",
            end,
        ]);
        assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
        assert!(stderr(&output).contains(expect), "{}", stderr(&output));
    }
}

#[test]
fn schedule_create_help_explains_the_time_format() {
    let output = run(&["schedule", "create", "--help"]);
    assert_eq!(exit_code(&output), 0);
    assert!(stdout(&output).contains("RFC 3339"), "{}", stdout(&output));
}
