//! In-meeting control end to end (issue 20, part control): each write changes the fake
//! server's state, and the change shows through the reads (members, the batch status, joins).

use dingtalk_conference::{
    AttendStatus, CohostChange, ConferenceMember, ConferenceSettings, DeviceStatus, Error,
    ErrorCode, Focus, Invitation, Kick, LockAction, McuInvitation, MediaStatus, MuteAll,
    MuteMember, NewConference,
};
use dingtalk_conference_mock::{JoinRefusal, MockServer, seeded};
use serde_json::{Map, Value, json};

use crate::common::{app_client, mock};

const HOST: &str = seeded::STARTED_HOST;
const COHOST: &str = seeded::STARTED_COHOST;
const ALICE: &str = seeded::STARTED_PARTICIPANTS[0];
const BOB: &str = seeded::STARTED_PARTICIPANTS[1];
const CAROL: &str = seeded::STARTED_PARTICIPANTS[2];

/// The member record of `union_id` in the seeded conference in progress, through the
/// facade's paged members read (small pages, so paging is exercised too).
async fn member(client: &dingtalk_conference::Client, union_id: &str) -> ConferenceMember {
    client
        .conference_members(seeded::STARTED)
        .page_size(4)
        .collect()
        .await
        .expect("the members")
        .into_iter()
        .find(|m| m.union_id.as_deref() == Some(union_id))
        .unwrap_or_else(|| panic!("{union_id} is a member"))
}

/// `union_id`'s microphone in the batch status query.
async fn mic(client: &dingtalk_conference::Client, union_id: &str) -> Option<DeviceStatus> {
    let status = client
        .conferences_status(&[seeded::STARTED])
        .await
        .expect("the status");
    status[0]
        .user_list
        .iter()
        .find(|p| p.user_id.as_deref() == Some(union_id))
        .and_then(|p| p.mic_status)
}

async fn media_status(client: &dingtalk_conference::Client) -> Option<MediaStatus> {
    let status = client
        .conferences_status(&[seeded::STARTED])
        .await
        .expect("the status");
    status[0].media_status
}

fn code(error: &Error) -> Option<&ErrorCode> {
    error.code()
}

#[tokio::test]
async fn cohosts_are_added_and_removed_and_show_in_the_member_list() {
    let mock = mock().await;
    let client = app_client(&mock);
    assert_eq!(member(&client, ALICE).await.co_host, Some(false));
    client
        .set_cohosts(seeded::STARTED, CohostChange::add([ALICE, BOB, ALICE]))
        .await
        .expect("added");
    assert_eq!(member(&client, ALICE).await.co_host, Some(true));
    assert_eq!(member(&client, BOB).await.co_host, Some(true));
    // Safe to repeat: the same roles.
    client
        .set_cohosts(seeded::STARTED, CohostChange::add([ALICE]))
        .await
        .expect("again");
    client
        .set_cohosts(seeded::STARTED, CohostChange::remove([BOB]))
        .await
        .expect("removed");
    assert_eq!(member(&client, BOB).await.co_host, Some(false));
    assert_eq!(member(&client, HOST).await.host, Some(true));

    // Someone not in the conference, and the host, are refused; nothing changes.
    let error = client
        .set_cohosts(
            seeded::STARTED,
            CohostChange::add([CAROL, "iPOLnobodyxxxxxxiEiE"]),
        )
        .await
        .expect_err("unknown user");
    assert_eq!(code(&error), Some(&ErrorCode::UnknownUserError), "{error}");
    assert_eq!(member(&client, CAROL).await.co_host, Some(false));
    let error = client
        .set_cohosts(seeded::STARTED, CohostChange::add([HOST]))
        .await
        .expect_err("the host");
    assert_eq!(code(&error), Some(&ErrorCode::ParamsError), "{error}");

    // Refused before any request: no users, a blank one, a bad conference id.
    for (id, change) in [
        (seeded::STARTED, CohostChange::add(Vec::<String>::new())),
        (seeded::STARTED, CohostChange::add([" "])),
        ("", CohostChange::add([ALICE])),
    ] {
        let before = mock.requests().len();
        let error = client.set_cohosts(id, change).await.expect_err("refused");
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
        assert_eq!(mock.requests().len(), before);
    }
}

#[tokio::test]
async fn muting_everyone_turns_microphones_off_and_a_forced_mute_shows_in_the_media_status() {
    let mock = mock().await;
    let client = app_client(&mock);
    assert_eq!(media_status(&client).await, Some(MediaStatus::Normal));
    client
        .mute_all(seeded::STARTED, MuteAll::on().forced())
        .await
        .expect("muted");
    assert_eq!(
        media_status(&client).await,
        Some(MediaStatus::AllMutedByForce)
    );
    for participant in [ALICE, BOB, CAROL] {
        assert_eq!(mic(&client, participant).await, Some(DeviceStatus::Off));
    }
    // The host keeps the floor.
    assert_eq!(mic(&client, HOST).await, Some(DeviceStatus::On));

    // One member unmuted, then muted again; more than one at once is DingTalk's paramsError.
    client
        .mute_member(seeded::STARTED, MuteMember::unmute(ALICE))
        .await
        .expect("unmuted");
    assert_eq!(mic(&client, ALICE).await, Some(DeviceStatus::On));
    client
        .mute_member(seeded::STARTED, MuteMember::mute(ALICE).device("1"))
        .await
        .expect("muted");
    assert_eq!(mic(&client, ALICE).await, Some(DeviceStatus::Off));
    let mut two = Map::new();
    two.insert("conferenceId".into(), seeded::STARTED.into());
    two.insert(
        "body".into(),
        json!({"action": "mute", "userList": [{"unionId": ALICE}, {"unionId": BOB}]}),
    );
    let error = client
        .call("muteMembers", &two)
        .await
        .expect_err("two users");
    assert_eq!(code(&error), Some(&ErrorCode::ParamsError), "{error}");
    let error = client
        .mute_member(seeded::STARTED, MuteMember::mute("iPOLnobodyxxxxxxiEiE"))
        .await
        .expect_err("not a member");
    assert_eq!(code(&error), Some(&ErrorCode::UnknownUserError), "{error}");

    client
        .mute_all(seeded::STARTED, MuteAll::off())
        .await
        .expect("unmuted");
    assert_eq!(media_status(&client).await, Some(MediaStatus::Normal));
    assert_eq!(mic(&client, BOB).await, Some(DeviceStatus::On));

    // A plain mute lets people unmute themselves: microphones muted, not by force.
    client
        .mute_all(seeded::STARTED, MuteAll::on())
        .await
        .expect("muted");
    assert_eq!(media_status(&client).await, Some(MediaStatus::MicMuted));
}

#[tokio::test]
async fn a_kicked_member_leaves_and_cannot_rejoin_when_rejoining_is_forbidden() {
    let mock = mock().await;
    let client = app_client(&mock);
    let active_before = client
        .conference_info(seeded::STARTED)
        .await
        .expect("info")
        .active_count;
    client
        .kick_members(seeded::STARTED, Kick::members([ALICE]).forbid_rejoin(true))
        .await
        .expect("kicked");
    client
        .kick_members(seeded::STARTED, Kick::members([BOB]))
        .await
        .expect("kicked");
    for kicked in [ALICE, BOB] {
        let record = member(&client, kicked).await;
        assert_eq!(record.attend_status, Some(AttendStatus::Removed));
        assert!(record.leave_time.is_some(), "{record:?}");
    }
    let active_after = client
        .conference_info(seeded::STARTED)
        .await
        .expect("info")
        .active_count;
    assert_eq!(active_after, active_before.map(|n| n - 2));

    assert_eq!(
        mock.join(seeded::STARTED, ALICE, "Alice"),
        Err(JoinRefusal::Barred)
    );
    mock.join(seeded::STARTED, BOB, "Bob")
        .expect("Bob may come back");
    assert_eq!(
        member(&client, BOB).await.attend_status,
        Some(AttendStatus::InMeeting)
    );

    // Gone members cannot be kicked again; the host cannot be kicked.
    let error = client
        .kick_members(seeded::STARTED, Kick::members([ALICE]))
        .await
        .expect_err("already gone");
    assert_eq!(code(&error), Some(&ErrorCode::UnknownUserError), "{error}");
    let error = client
        .kick_members(seeded::STARTED, Kick::members([HOST]))
        .await
        .expect_err("the host");
    assert_eq!(code(&error), Some(&ErrorCode::ParamsError), "{error}");

    // The host's invitation lifts the bar: Alice is called again.
    client
        .invite_users(
            seeded::STARTED,
            Invitation::new().by(HOST).user(ALICE, "Alice"),
        )
        .await
        .expect("invited");
    assert_eq!(
        member(&client, ALICE).await.attend_status,
        Some(AttendStatus::Calling)
    );
    mock.join(seeded::STARTED, ALICE, "Alice")
        .expect("Alice answers the call");
}

#[tokio::test]
async fn a_locked_conference_refuses_joins_until_it_is_unlocked() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .lock_conference(seeded::STARTED, LockAction::Lock)
        .await
        .expect("locked");
    assert_eq!(
        mock.join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late"),
        Err(JoinRefusal::Locked)
    );
    client
        .lock_conference(seeded::STARTED, LockAction::Unlock)
        .await
        .expect("unlocked");
    mock.join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late")
        .expect("joined");
    assert_eq!(
        member(&client, "iPOLlatecomerxxxiEiE").await.attend_status,
        Some(AttendStatus::InMeeting)
    );

    // An action DingTalk does not know is its commandError; an ended conference confClosed.
    let error = client
        .lock_conference(seeded::STARTED, LockAction::Unknown("bolt".into()))
        .await
        .expect_err("unknown action");
    assert_eq!(code(&error), Some(&ErrorCode::CommandError), "{error}");
    let error = client
        .lock_conference(seeded::ENDED, LockAction::Lock)
        .await
        .expect_err("ended");
    assert_eq!(code(&error), Some(&ErrorCode::ConfClosed), "{error}");
}

#[tokio::test]
async fn settings_are_kept_and_a_setting_left_out_is_not_changed() {
    let mock = mock().await;
    let client = app_client(&mock);
    let answer = client
        .update_conference_settings(
            seeded::STARTED,
            ConferenceSettings::new()
                .lock(true)
                .allow_unmute_self(false),
        )
        .await
        .expect("set");
    assert_eq!(answer.code.as_deref(), Some("200"));
    assert_eq!(
        mock.join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late"),
        Err(JoinRefusal::Locked)
    );
    // Muting everyone now is forced: self-unmuting was turned off; the lock stays.
    client
        .update_conference_settings(seeded::STARTED, ConferenceSettings::new().mute_all(true))
        .await
        .expect("set");
    assert_eq!(
        media_status(&client).await,
        Some(MediaStatus::AllMutedByForce)
    );
    assert_eq!(mic(&client, CAROL).await, Some(DeviceStatus::Off));
    assert_eq!(
        mock.join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late"),
        Err(JoinRefusal::Locked)
    );
    client
        .update_conference_settings(
            seeded::STARTED,
            ConferenceSettings::new()
                .lock(false)
                .only_internal_employees(true),
        )
        .await
        .expect("set");
    // The sixth member is from another organisation (`outerOrgMember`).
    let outsider = mock
        .members(seeded::STARTED)
        .into_iter()
        .find(|m| m.outer_org_member == Some(true))
        .and_then(|m| m.union_id)
        .expect("an outsider is seeded");
    client
        .kick_members(seeded::STARTED, Kick::members([outsider.as_str()]))
        .await
        .expect("kicked");
    assert_eq!(
        mock.join(seeded::STARTED, &outsider, "Outsider"),
        Err(JoinRefusal::InternalOnly)
    );
    mock.join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late")
        .expect("an employee joins, muted");
    assert_eq!(
        mic(&client, "iPOLlatecomerxxxiEiE").await,
        Some(DeviceStatus::Off)
    );

    let error = client
        .update_conference_settings(seeded::ENDED, ConferenceSettings::new().mute_all(true))
        .await
        .expect_err("ended");
    assert_eq!(code(&error), Some(&ErrorCode::ConfClosed), "{error}");
}

#[tokio::test]
async fn invitations_call_people_and_only_a_host_or_co_host_may_invite() {
    let mock = mock().await;
    let client = app_client(&mock);
    let invited_before = client
        .conference_info(seeded::STARTED)
        .await
        .expect("info")
        .invited_count;
    client
        .invite_users(
            seeded::STARTED,
            Invitation::new()
                .by(COHOST)
                .user("iPOLnewcomerxxxxiEiE", "Newcomer")
                .phone_in("86", "13800000000", "By phone"),
        )
        .await
        .expect("invited");
    let newcomer = member(&client, "iPOLnewcomerxxxxiEiE").await;
    assert_eq!(newcomer.attend_status, Some(AttendStatus::Calling));
    assert_eq!(newcomer.user_nick.as_deref(), Some("Newcomer"));
    let members = client
        .conference_members(seeded::STARTED)
        .collect()
        .await
        .expect("members");
    assert!(
        members
            .iter()
            .any(|m| m.user_nick.as_deref() == Some("By phone") && m.pstn_join == Some(true)),
        "{members:?}"
    );
    let invited_after = client
        .conference_info(seeded::STARTED)
        .await
        .expect("info")
        .invited_count;
    assert_eq!(invited_after, invited_before.map(|n| n + 2));
    // The invitee's ongoing conferences show it.
    let ongoing = client
        .user_ongoing_conferences("iPOLnewcomerxxxxiEiE")
        .await
        .expect("ongoing");
    assert_eq!(ongoing.conference_ids, vec![seeded::STARTED.to_owned()]);

    // A participant who is neither host nor co-host may not invite; a stranger is unknown.
    let error = client
        .invite_users(
            seeded::STARTED,
            Invitation::new()
                .by(ALICE)
                .user("iPOLotherxxxxxxxiEiE", "Other"),
        )
        .await
        .expect_err("not a host");
    assert_eq!(code(&error), Some(&ErrorCode::NoPermission), "{error}");
    let error = client
        .invite_users(
            seeded::STARTED,
            Invitation::new()
                .by("iPOLnobodyxxxxxxiEiE")
                .user("iPOLotherxxxxxxxiEiE", "Other"),
        )
        .await
        .expect_err("a stranger");
    assert_eq!(code(&error), Some(&ErrorCode::UnknownUserError), "{error}");
    // Without an inviter the app acts.
    client
        .invite_users(
            seeded::STARTED,
            Invitation::new().user("iPOLotherxxxxxxxiEiE", "Other"),
        )
        .await
        .expect("the app invites");
    // Nobody to call is refused before any request.
    let error = client
        .invite_users(seeded::STARTED, Invitation::new().by(HOST))
        .await
        .expect_err("nobody");
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn a_room_system_is_called_in_by_room_code_by_the_host() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .invite_mcu(McuInvitation::new(
            seeded::STARTED_ROOM_CODE,
            "123456",
            HOST,
        ))
        .await
        .expect("called");
    let members = mock.members(seeded::STARTED);
    assert!(
        members
            .iter()
            .any(|m| m.user_nick.as_deref() == Some("MCU 123456") && m.attend_status == Some(2)),
        "{members:?}"
    );
    let error = client
        .invite_mcu(McuInvitation::new(
            seeded::STARTED_ROOM_CODE,
            "123456",
            ALICE,
        ))
        .await
        .expect_err("not a host");
    assert_eq!(code(&error), Some(&ErrorCode::NoPermission), "{error}");
    let error = client
        .invite_mcu(McuInvitation::new("999999999", "123456", HOST))
        .await
        .expect_err("no such room");
    assert_eq!(error.code().map(ErrorCode::as_str), Some("invalidRoomCode"));
}

#[tokio::test]
async fn focus_is_set_on_members_in_the_conference_and_cleared() {
    let mock = mock().await;
    let client = app_client(&mock);
    client
        .focus(seeded::STARTED, Focus::on(ALICE))
        .await
        .expect("focused");
    client
        .focus(seeded::STARTED, Focus::on(ALICE))
        .await
        .expect("again");
    client
        .focus(seeded::STARTED, Focus::off(ALICE))
        .await
        .expect("cleared");
    let error = client
        .focus(seeded::STARTED, Focus::on("iPOLnobodyxxxxxxiEiE"))
        .await
        .expect_err("unknown");
    assert_eq!(code(&error), Some(&ErrorCode::UnknownUserError), "{error}");
    let error = client
        .focus(seeded::ENDED, Focus::on(ALICE))
        .await
        .expect_err("ended");
    assert_eq!(code(&error), Some(&ErrorCode::ConfClosed), "{error}");
    let error = client
        .focus("6323d7568777190142ab9d99", Focus::on(ALICE))
        .await
        .expect_err("no such conference");
    assert_eq!(code(&error), Some(&ErrorCode::RoomNotFound), "{error}");
}

#[tokio::test]
async fn control_works_on_a_created_conference_too() {
    let mock = mock().await;
    let client = app_client(&mock);
    let created = client
        .create_conference(
            NewConference::new("iPOLorganiserxxiEiE", "Control").invite("iPOLguestxxxxxxxiEiE"),
        )
        .await
        .expect("created");
    let id = created.conference_id.expect("an id");
    mock.join(&id, "iPOLguestxxxxxxxiEiE", "Guest")
        .expect("the guest answers");
    client
        .set_cohosts(&id, CohostChange::add(["iPOLguestxxxxxxxiEiE"]))
        .await
        .expect("co-host");
    let guest = mock
        .members(&id)
        .into_iter()
        .find(|m| m.union_id.as_deref() == Some("iPOLguestxxxxxxxiEiE"))
        .expect("the guest");
    assert_eq!((guest.attend_status, guest.co_host), (Some(3), Some(true)));
    client
        .close_conference(&id, "iPOLorganiserxxiEiE")
        .await
        .expect("closed");
    let error = client
        .mute_all(&id, MuteAll::on())
        .await
        .expect_err("closed");
    assert_eq!(code(&error), Some(&ErrorCode::ConfClosed), "{error}");
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_mutes_a_member() {
    use dingtalk_conference::{Client, blocking};
    use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET};
    use dingtalk_conference_testkit::fake::FakeOnItsOwnRuntime;

    let fake = FakeOnItsOwnRuntime::start();
    let client = blocking::Client::new(
        Client::builder()
            .base_url(fake.server.base_url())
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET),
    )
    .expect("valid");
    client
        .mute_member(seeded::STARTED, MuteMember::mute(CAROL))
        .expect("muted");
    client
        .lock_conference(seeded::STARTED, LockAction::Lock)
        .expect("locked");
    assert_eq!(
        fake.server
            .join(seeded::STARTED, "iPOLlatecomerxxxiEiE", "Late"),
        Err(JoinRefusal::Locked)
    );
}

/// For each write of this part, arguments in [`Client::call`] form that succeed on a freshly
/// started seeded fake server (for the lead's write-retry matrix).
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    let args = |conference: Option<&str>, body: Value| {
        let mut map = Map::new();
        if let Some(id) = conference {
            map.insert("conferenceId".into(), id.into());
        }
        map.insert("body".into(), body);
        map
    };
    let started = Some(seeded::STARTED);
    vec![
        (
            "updateVideoConferenceSetting",
            args(started, json!({"muteAll": true, "allowUnmuteSelf": true})),
        ),
        (
            "cohosts",
            args(
                started,
                json!({"action": "add", "userList": [{"unionId": ALICE}]}),
            ),
        ),
        (
            "focus",
            args(started, json!({"action": "focus", "unionId": ALICE})),
        ),
        (
            "inviteUsers",
            args(
                started,
                json!({"unionId": HOST, "inviteeList": [{"unionId": "iPOLinviteexxxxxiEiE", "nick": "Invitee"}]}),
            ),
        ),
        (
            "inviteMcu",
            args(
                None,
                json!({"roomCode": seeded::STARTED_ROOM_CODE, "mcuRoomCode": "123456", "unionId": HOST}),
            ),
        ),
        (
            "kickMembers",
            args(
                started,
                json!({"userList": [{"unionId": CAROL}], "forbiddenRejoin": false}),
            ),
        ),
        ("lockConference", args(started, json!({"action": "lock"}))),
        (
            "muteAll",
            args(started, json!({"action": "mute", "forceMute": true})),
        ),
        (
            "muteMembers",
            args(
                started,
                json!({"action": "mute", "userList": [{"unionId": BOB}]}),
            ),
        ),
    ]
}

#[tokio::test]
async fn each_seeded_write_succeeds_once_on_a_fresh_fake_server() {
    let mock: MockServer = mock().await;
    let client = app_client(&mock);
    for (operation, args) in seeded_writes() {
        client
            .call(operation, &args)
            .await
            .unwrap_or_else(|error| panic!("{operation}: {error}"));
    }
}
