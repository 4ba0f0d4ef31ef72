//! The in-meeting control commands (part control): `invite`, `mute`, `kick`, `lock`, against
//! a fake server of the test's own, whose state shows what each did.

use dingtalk_conference_mock::{JoinRefusal, seeded};

use crate::{Fake, RunAgainst as _, exit_code, json_of, ok, stderr};

const HOST: &str = seeded::STARTED_HOST;
const ALICE: &str = seeded::STARTED_PARTICIPANTS[0];
const BOB: &str = seeded::STARTED_PARTICIPANTS[1];

fn member(fake: &Fake, union_id: &str) -> dingtalk_conference_api::types::ConferenceMember {
    fake.server
        .members(seeded::STARTED)
        .into_iter()
        .find(|m| m.union_id.as_deref() == Some(union_id))
        .unwrap_or_else(|| panic!("{union_id} is a member"))
}

#[test]
fn invite_calls_people_in_and_json_prints_dingtalks_answer() {
    let fake = Fake::start();
    let text = ok(&fake.run(&[
        "invite",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--invite",
        "iPOLnewcomerxxxxiEiE=Newcomer",
        "iPOLsecondxxxxxxiEiE",
    ]));
    assert_eq!(
        text,
        format!("Calling 2 people into {}.\n", seeded::STARTED)
    );
    let newcomer = member(&fake, "iPOLnewcomerxxxxiEiE");
    assert_eq!(
        (newcomer.attend_status, newcomer.user_nick.as_deref()),
        (Some(2), Some("Newcomer"))
    );
    let output = fake.run(&[
        "--json",
        "invite",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--invite",
        "iPOLthirdxxxxxxxiEiE",
    ]);
    let _ = ok(&output);
    assert_eq!(json_of(&output), serde_json::json!({"success": true}));

    // DingTalk's refusal of an inviter who is not the host or a co-host: exit 4.
    let refused = fake.run(&[
        "invite",
        seeded::STARTED,
        "--user-id",
        ALICE,
        "--invite",
        "iPOLotherxxxxxxxiEiE",
    ]);
    assert_eq!(exit_code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("noPermission"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn mute_mutes_members_or_everyone_and_off_unmutes() {
    let fake = Fake::start();
    let text = ok(&fake.run(&[
        "mute",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--member",
        ALICE,
        BOB,
    ]));
    assert_eq!(
        text,
        format!("Muted {ALICE}, {BOB} in {}.\n", seeded::STARTED)
    );
    let text = ok(&fake.run(&[
        "mute",
        seeded::STARTED,
        "--user-id",
        seeded::STARTED_COHOST,
        "--all",
        "--force",
    ]));
    assert!(text.contains("cannot unmute themselves"), "{text}");
    let output = fake.run(&[
        "--json",
        "mute",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--all",
        "--off",
    ]);
    let _ = ok(&output);
    assert_eq!(json_of(&output), serde_json::json!({"success": true}));

    // Neither --all nor --member: a usage error; a participant may not mute anyone.
    let usage = fake.run(&["mute", seeded::STARTED, "--user-id", HOST]);
    assert_eq!(exit_code(&usage), 2, "{}", stderr(&usage));
    let refused = fake.run(&["mute", seeded::STARTED, "--user-id", ALICE, "--all"]);
    assert_eq!(exit_code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("not the host or a co-host"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn kick_removes_members_and_no_rejoin_keeps_them_out() {
    let fake = Fake::start();
    let text = ok(&fake.run(&[
        "kick",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--member",
        ALICE,
        "--no-rejoin",
    ]));
    assert_eq!(
        text,
        format!(
            "Removed {ALICE} from {}; they cannot join again.\n",
            seeded::STARTED
        )
    );
    assert_eq!(member(&fake, ALICE).attend_status, Some(5));
    assert_eq!(
        fake.server.join(seeded::STARTED, ALICE, "Alice"),
        Err(JoinRefusal::Barred)
    );
    // Someone no longer in the conference: DingTalk's unknownUserError, a usage error.
    let again = fake.run(&[
        "kick",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--member",
        ALICE,
    ]);
    assert_eq!(exit_code(&again), 2, "{}", stderr(&again));
    // An ended conference has nobody in it to act (exit 4 before any control request);
    // `invite`, which DingTalk checks itself, gets its confClosed: exit 9, like `close`.
    let ended = fake.run(&[
        "kick",
        seeded::ENDED,
        "--user-id",
        seeded::ENDED_HOST,
        "--member",
        ALICE,
    ]);
    assert_eq!(exit_code(&ended), 4, "{}", stderr(&ended));
    let ended = fake.run(&[
        "invite",
        seeded::ENDED,
        "--user-id",
        seeded::ENDED_HOST,
        "--invite",
        ALICE,
    ]);
    assert_eq!(exit_code(&ended), 9, "{}", stderr(&ended));
    assert!(stderr(&ended).contains("confClosed"), "{}", stderr(&ended));
}

#[test]
fn lock_locks_and_off_unlocks() {
    let fake = Fake::start();
    let text = ok(&fake.run(&["lock", seeded::STARTED, "--user-id", HOST]));
    assert_eq!(
        text,
        format!("Locked {}: nobody else can join.\n", seeded::STARTED)
    );
    assert_eq!(
        fake.server
            .join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late"),
        Err(JoinRefusal::Locked)
    );
    let output = fake.run(&[
        "--json",
        "lock",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--off",
    ]);
    let _ = ok(&output);
    assert_eq!(json_of(&output), serde_json::json!({"success": true}));
    fake.server
        .join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late")
        .expect("unlocked");
    let unknown = fake.run(&["lock", "6323d7568777190142ab9d99", "--user-id", HOST]);
    assert_eq!(exit_code(&unknown), 3, "{}", stderr(&unknown));
}
