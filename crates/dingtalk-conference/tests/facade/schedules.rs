//! Scheduled conferences (预约会议) end to end through the facade against the fake server's
//! state: create, read, update, cancel, settings written and read back (in the read's shape),
//! short links, the conferences held under a schedule once people join, and the documented
//! errors, typed.

use dingtalk_conference::{
    ConferenceStatus, Error, ErrorCode, Kick, MuteOnJoin, NewSchedule, NewShortLink,
    ScheduleCancellation, ScheduleSettingsUpdate, ScheduleSwitch, ScheduleUpdate,
};
use dingtalk_conference_api::types::{
    ScheduleConfSettingModel, ScheduleExtensionAppSetting, ScheduleVirtualExtraSetting,
};
use dingtalk_conference_mock::{MockServer, seeded};
use serde_json::{Map, Value, json};

use crate::common::{app_client, at, mock};

const CREATOR: &str = "iPOLschedulerxxxxiEiE";
const COHOST: &str = "Ab3schedulecohostiEiE";
const GUEST: &str = "Zz9scheduleguestxiEiE";
const HOUR_MS: i64 = 3_600_000;

/// Now, in epoch milliseconds (only to plan a window around; nothing asserts on it).
fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

fn code_of(error: &Error) -> Option<&ErrorCode> {
    error.code()
}

/// Settings with a co-host, everyone muted on joining, a locked room and one extension app.
fn settings() -> ScheduleConfSettingModel {
    ScheduleConfSettingModel {
        cohost_union_ids: vec![COHOST.to_owned()],
        lock_room: Some(1),
        mute_on_join: Some(-1),
        mozi_conf_virtual_extra_setting: Some(ScheduleVirtualExtraSetting {
            waiting_room: Some(1),
            join_before_host: Some(0),
            mozi_conf_extension_app_settings: vec![ScheduleExtensionAppSetting {
                cool_app_code: Some("COOLAPP-1-ABC".to_owned()),
                auto_open_mode: Some(1),
                extension_app_biz_data: Some("agenda".to_owned()),
            }],
            push_minutes_card: Some(false),
            ..ScheduleVirtualExtraSetting::default()
        }),
        ..ScheduleConfSettingModel::default()
    }
}

#[tokio::test]
async fn a_schedule_is_created_read_updated_and_cancelled_and_reads_so() {
    let mock = mock().await;
    let client = app_client(&mock);
    let start = now_ms() + 24 * HOUR_MS;
    let long_title = "季".repeat(60);
    let created = client
        .schedule_conference(
            NewSchedule::new(CREATOR, long_title.clone(), at(start), at(start + HOUR_MS))
                .settings(settings()),
        )
        .await
        .expect("scheduled");
    let id = created.schedule_id.clone().expect("an id");
    let room_code = created.room_code.clone().expect("a room code");
    assert!(room_code.bytes().all(|b| b.is_ascii_digit()), "{room_code}");
    assert!(created.join_url.is_some() && !created.phones.is_empty());

    // Read back: the title cut to 50 characters, the window as given.
    let read = client.schedule(&id, CREATOR).await.expect("read");
    assert_eq!(read.title.as_deref(), Some("季".repeat(50).as_str()));
    assert_eq!(read.start_time.map(|t| t.timestamp_millis()), Some(start));
    assert_eq!(
        read.end_time.map(|t| t.timestamp_millis()),
        Some(start + HOUR_MS)
    );
    assert_eq!(read.room_code.as_deref(), Some(room_code.as_str()));

    // The co-host named in the settings may read it; a stranger may not.
    client
        .schedule(&id, COHOST)
        .await
        .expect("the co-host reads");
    let stranger = client.schedule(&id, GUEST).await.expect_err("a stranger");
    assert_eq!(code_of(&stranger), Some(&ErrorCode::PermissionError));

    // Update: only the creator; same values twice leave the same state.
    let update = ScheduleUpdate::new(
        CREATOR,
        id.clone(),
        "Moved",
        at(start + HOUR_MS),
        at(start + 2 * HOUR_MS),
    );
    client
        .update_schedule(update.clone())
        .await
        .expect("updated");
    client.update_schedule(update).await.expect("updated again");
    let read = client.schedule(&id, CREATOR).await.expect("read");
    assert_eq!(read.title.as_deref(), Some("Moved"));
    assert_eq!(
        read.start_time.map(|t| t.timestamp_millis()),
        Some(start + HOUR_MS)
    );
    let not_creator = client
        .update_schedule(ScheduleUpdate::new(
            GUEST,
            id.clone(),
            "x",
            at(start),
            at(start + 1),
        ))
        .await
        .expect_err("not the creator");
    assert_eq!(code_of(&not_creator), Some(&ErrorCode::PermissionError));
    let backwards = client
        .update_schedule(ScheduleUpdate::new(
            CREATOR,
            id.clone(),
            "x",
            at(start),
            at(start),
        ))
        .await
        .expect_err("end not after start");
    assert_eq!(code_of(&backwards), Some(&ErrorCode::ParamsError));

    // Cancel: others refused; once cancelled, reads, updates and a second cancel answer
    // resourceCancel.
    let refused = client
        .cancel_schedule(ScheduleCancellation::new(GUEST, id.clone()))
        .await
        .expect_err("not the creator");
    assert_eq!(code_of(&refused), Some(&ErrorCode::PermissionError));
    client
        .cancel_schedule(ScheduleCancellation::new(CREATOR, id.clone()))
        .await
        .expect("cancelled");
    let again = client
        .cancel_schedule(ScheduleCancellation::new(CREATOR, id.clone()))
        .await
        .expect_err("cancelled twice");
    assert_eq!(code_of(&again), Some(&ErrorCode::ResourceCancel));
    let read = client.schedule(&id, CREATOR).await.expect_err("cancelled");
    assert_eq!(code_of(&read), Some(&ErrorCode::ResourceCancel));
    let update = client
        .update_schedule(ScheduleUpdate::new(
            CREATOR,
            id.clone(),
            "x",
            at(start),
            at(start + 1),
        ))
        .await
        .expect_err("cancelled");
    assert_eq!(code_of(&update), Some(&ErrorCode::ResourceCancel));
    assert!(mock.join_schedule(&id, GUEST, "Guest").is_err());

    // An unknown schedule.
    let unknown = client
        .schedule("4331dnosuchschedule", CREATOR)
        .await
        .expect_err("unknown");
    assert_eq!(code_of(&unknown), Some(&ErrorCode::ParamsError));
}

#[tokio::test]
async fn settings_read_back_what_was_written_in_the_reads_shape_and_update_partially() {
    let mock = mock().await;
    let client = app_client(&mock);
    let start = now_ms() + 24 * HOUR_MS;
    let id = client
        .schedule_conference(
            NewSchedule::new(CREATOR, "Settings", at(start), at(start + HOUR_MS))
                .settings(settings()),
        )
        .await
        .expect("scheduled")
        .schedule_id
        .expect("an id");
    let read = client.schedule_settings(&id).await.expect("settings");
    assert_eq!(read.cohosts, vec![COHOST.to_owned()]);
    assert_eq!(read.lock_room, Some(ScheduleSwitch::On));
    assert_eq!(read.mute_on_join, Some(MuteOnJoin::Always));
    let extra = read
        .mozi_conf_virtual_extra_setting
        .expect("extra settings");
    assert_eq!(extra.waiting_room, Some(ScheduleSwitch::On));
    let app = extra.extension_apps.first().expect("the app");
    assert_eq!(app.cool_app_code.as_deref(), Some("COOLAPP-1-ABC"));
    assert_eq!(
        app.auto_open_mode,
        Some(dingtalk_conference::AutoOpenModeText::HostsOnly)
    );
    assert!(app.client_id.is_some(), "the read side carries a clientId");

    // A partial update: what is sent changes, the rest stays.
    let change = ScheduleConfSettingModel {
        lock_room: Some(0),
        ..ScheduleConfSettingModel::default()
    };
    let update = ScheduleSettingsUpdate::new(CREATOR, id.clone()).settings(change);
    client
        .update_schedule_settings(update.clone())
        .await
        .expect("changed");
    client
        .update_schedule_settings(update)
        .await
        .expect("changed again (retry-safe)");
    let read = client.schedule_settings(&id).await.expect("settings");
    assert_eq!(read.lock_room, Some(ScheduleSwitch::Off));
    assert_eq!(read.mute_on_join, Some(MuteOnJoin::Always));
    assert_eq!(read.cohosts, vec![COHOST.to_owned()]);

    // Only the creator; too many extension apps; an unknown schedule.
    let refused = client
        .update_schedule_settings(ScheduleSettingsUpdate::new(GUEST, id.clone()))
        .await
        .expect_err("not the creator");
    assert_eq!(code_of(&refused), Some(&ErrorCode::CreatorUidError));
    let many = ScheduleConfSettingModel {
        mozi_conf_virtual_extra_setting: Some(ScheduleVirtualExtraSetting {
            mozi_conf_extension_app_settings: (0
                ..=dingtalk_conference_mock::MAX_SCHEDULE_EXTENSION_APPS)
                .map(|n| ScheduleExtensionAppSetting {
                    cool_app_code: Some(format!("COOLAPP-{n}")),
                    ..ScheduleExtensionAppSetting::default()
                })
                .collect(),
            ..ScheduleVirtualExtraSetting::default()
        }),
        ..ScheduleConfSettingModel::default()
    };
    let too_many = client
        .update_schedule_settings(ScheduleSettingsUpdate::new(CREATOR, id.clone()).settings(many))
        .await
        .expect_err("too many apps");
    assert_eq!(
        code_of(&too_many),
        Some(&ErrorCode::ExtensionAppSettingError)
    );
    let unknown = client
        .schedule_settings("nosuchschedule")
        .await
        .expect_err("unknown");
    assert_eq!(
        code_of(&unknown),
        Some(&ErrorCode::ScheduleConferenceIdError)
    );

    // Short links: the creator gets a new one each time; others are refused.
    let link = NewShortLink::new(CREATOR, id.clone(), "COOLAPP-1-ABC").biz_data("seat A1");
    let first = client
        .custom_short_link(link.clone())
        .await
        .expect("a link");
    let second = client.custom_short_link(link).await.expect("another link");
    let url = first.url.clone().expect("a url");
    assert!(url.starts_with("https://meeting.dingtalk.com/j/"), "{url}");
    assert_ne!(first.url, second.url);
    let refused = client
        .custom_short_link(NewShortLink::new(GUEST, id, "COOLAPP-1-ABC"))
        .await
        .expect_err("not the creator");
    assert_eq!(code_of(&refused), Some(&ErrorCode::CreatorUidError));
}

#[tokio::test]
async fn joining_a_started_schedule_holds_a_conference_that_every_read_shows() {
    let mock = mock().await;
    let client = app_client(&mock);
    let start = now_ms() - 60_000;
    let mut unlocked = settings();
    unlocked.lock_room = Some(0);
    let created = client
        .schedule_conference(
            NewSchedule::new(CREATOR, "Standup", at(start), at(start + HOUR_MS)).settings(unlocked),
        )
        .await
        .expect("scheduled");
    let id = created.schedule_id.expect("an id");
    let room_code = created.room_code.expect("a room code");

    // Nothing held yet.
    let held = client
        .schedule_conferences(&id)
        .collect()
        .await
        .expect("listed");
    assert!(held.is_empty(), "{held:?}");

    let conference = mock.join_schedule(&id, GUEST, "Guest").expect("joined");
    let again = mock.join_schedule(&id, COHOST, "Co").expect("joined");
    assert_eq!(
        conference, again,
        "later joins add members to the same conference"
    );

    let info = client
        .conference_info(&conference)
        .await
        .expect("the instance");
    assert_eq!(info.status, Some(ConferenceStatus::Started));
    assert_eq!(info.room_code.as_deref(), Some(room_code.as_str()));
    let members = client
        .conference_members(&conference)
        .collect()
        .await
        .expect("members");
    assert_eq!(members.len(), 2);
    let guest = members
        .iter()
        .find(|m| m.union_id.as_deref() == Some(GUEST))
        .expect("the guest");
    assert_eq!(
        guest.host,
        Some(true),
        "the first joiner hosts without a hostUnionId"
    );
    let cohost = members
        .iter()
        .find(|m| m.union_id.as_deref() == Some(COHOST))
        .expect("the co-host");
    assert_eq!(cohost.co_host, Some(true));
    let by_code = client
        .conferences_by_room_code(&room_code)
        .collect()
        .await
        .expect("by room code");
    assert!(
        by_code
            .iter()
            .any(|c| c.conference_id.as_deref() == Some(conference.as_str()))
    );

    // Closing it makes it read as ended in the schedule's history; a new join holds another.
    client
        .close_conference(&conference, CREATOR)
        .await
        .expect("closed");
    let next = mock
        .join_schedule(&id, GUEST, "Guest")
        .expect("joined again");
    assert_ne!(next, conference);
    let held = client
        .schedule_conferences(&id)
        .page_size(1)
        .collect()
        .await
        .expect("listed over pages of one");
    let statuses: Vec<_> = held
        .iter()
        .map(|c| (c.conference_id.clone(), c.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (Some(conference), Some(ConferenceStatus::Ended)),
            (Some(next), Some(ConferenceStatus::Started)),
        ]
    );

    // A schedule that has not started cannot be joined (no joinBeforeHost); an unknown one
    // answers invalidScheduleConferenceId.
    let later = now_ms() + 24 * HOUR_MS;
    let future = client
        .schedule_conference(NewSchedule::new(
            CREATOR,
            "Later",
            at(later),
            at(later + HOUR_MS),
        ))
        .await
        .expect("scheduled")
        .schedule_id
        .expect("an id");
    let refused = mock
        .join_schedule(&future, GUEST, "Guest")
        .expect_err("too early");
    assert!(refused.reason.contains("starts at"), "{refused}");
    let unknown = client
        .schedule_conferences("nosuchschedule")
        .collect()
        .await
        .expect_err("unknown");
    assert_eq!(
        code_of(&unknown),
        Some(&ErrorCode::InvalidScheduleConferenceId)
    );
}

#[tokio::test]
async fn someone_kicked_with_no_rejoin_cannot_come_back_through_the_schedule() {
    let mock = mock().await;
    let client = app_client(&mock);
    let start = now_ms() - 60_000;
    let mut unlocked = settings();
    unlocked.lock_room = Some(0);
    let created = client
        .schedule_conference(
            NewSchedule::new(CREATOR, "Review", at(start), at(start + HOUR_MS)).settings(unlocked),
        )
        .await
        .expect("scheduled");
    let id = created.schedule_id.expect("an id");
    let conference = mock.join_schedule(&id, COHOST, "Co").expect("joined");
    mock.join_schedule(&id, GUEST, "Guest").expect("joined");

    client
        .kick_members(&conference, Kick::members([GUEST]).forbid_rejoin(true))
        .await
        .expect("kicked");
    let refused = mock
        .join_schedule(&id, GUEST, "Guest")
        .expect_err("barred from rejoining");
    assert!(refused.to_string().contains("forbiddenRejoin"), "{refused}");
    // Someone else still may.
    mock.join_schedule(&id, "Yy8scheduleotherxiEiE", "Other")
        .expect("joined");
}

#[tokio::test]
async fn the_admin_route_joins_a_schedule_over_http() {
    let mock = mock().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let url = format!("{}/__mock/join-schedule", mock.base_url());
    let answer: Value = http
        .post(&url)
        .json(&json!({
            "scheduleConferenceId": seeded::SCHEDULE_DESIGN_REVIEW,
            "unionId": GUEST,
            "nick": "Guest",
        }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    // The seeded instance nobody had joined starts now.
    assert_eq!(answer["conferenceId"], json!(seeded::INITIALISED));
    assert_eq!(
        mock.conference(seeded::INITIALISED).and_then(|c| c.status),
        Some(2)
    );
    let refused = http
        .post(&url)
        .json(&json!({"scheduleConferenceId": "nosuch", "unionId": GUEST, "nick": "G"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("nosuch")),
        "{body}"
    );
}

#[tokio::test]
async fn a_blank_or_malformed_schedule_id_is_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for bad in ["", "  ", "a\\b", "..", "id\n"] {
        match client.schedule(bad, CREATOR).await {
            Err(Error::InvalidInput(message)) => {
                assert!(message.starts_with("scheduleConferenceId: "), "{message}");
            }
            other => panic!("{bad:?}: expected InvalidInput, got {other:?}"),
        }
    }
    let title = "x".repeat(257);
    let too_long = client
        .schedule_conference(NewSchedule::new(CREATOR, title, at(1), at(2)))
        .await;
    assert!(
        matches!(too_long, Err(Error::InvalidInput(_))),
        "{too_long:?}"
    );
    assert!(
        mock.requests()
            .iter()
            .all(|r| !r.path.contains("scheduleConferences"))
    );
}

/// For the lead's write-retry matrix: each write of this part in `Client::call` form, with
/// arguments that succeed on a freshly started seeded fake server.
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    let body = |value: Value| {
        let mut args = Map::new();
        args.insert("body".to_owned(), value);
        args
    };
    vec![
        (
            "createScheduleConference",
            body(json!({
                "creatorUnionId": CREATOR,
                "title": "Retry matrix",
                "startTime": 1_811_815_200_000_i64,
                "endTime": 1_811_818_800_000_i64,
            })),
        ),
        (
            "updateScheduleConference",
            body(json!({
                "creatorUnionId": seeded::SCHEDULE_CREATOR,
                "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
                "title": "Offsite planning 团建策划",
                "startTime": 1_811_815_200_000_i64,
                "endTime": 1_811_822_400_000_i64,
            })),
        ),
        (
            "updateScheduleConfSettings",
            body(json!({
                "creatorUnionId": seeded::SCHEDULE_CREATOR,
                "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
                "scheduleConfSettingModel": {"lockRoom": 1},
            })),
        ),
        (
            "createCustomShortLink",
            body(json!({
                "creatorUnionId": seeded::SCHEDULE_CREATOR,
                "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
                "coolAppCode": "COOLAPP-1-3A9C0E5B7D21F486",
            })),
        ),
        (
            "cancelScheduleConference",
            body(json!({
                "creatorUnionId": seeded::SCHEDULE_CREATOR,
                "scheduleConferenceId": seeded::SCHEDULE_DESIGN_REVIEW,
            })),
        ),
    ]
}

#[tokio::test]
async fn each_seeded_write_succeeds_once_through_call_on_a_fresh_fake() {
    let mock: MockServer = mock().await;
    let client = app_client(&mock);
    for (operation, args) in seeded_writes() {
        client
            .call(operation, &args)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e:?}"));
    }
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_mirror_reads_a_seeded_schedule() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(crate::common::mock());
    let client = dingtalk_conference::blocking::Client::new(crate::common::app_builder(&mock))
        .expect("blocking client");
    let schedule = client
        .schedule(seeded::SCHEDULE_PLANNED, seeded::SCHEDULE_CREATOR)
        .expect("the planned schedule");
    assert_eq!(schedule.title.as_deref(), Some("Offsite planning 团建策划"));
    let settings = client
        .schedule_settings(seeded::SCHEDULE_PLANNED)
        .expect("its settings");
    assert_eq!(settings.cohosts, vec![seeded::PLANNED_COHOST.to_owned()]);
    let held = client
        .schedule_conferences(seeded::SCHEDULE_MONTHLY, None)
        .collect::<Result<Vec<_>, _>>()
        .expect("the monthly meeting's conferences");
    assert_eq!(held.len(), 3);
}
