//! The events the fake emits from its own state changes, after real HTTP calls: which change
//! emits which event, with payloads filled from the state and `statusSeqNum` gap-free per
//! conference.

use std::collections::HashSet;
use std::time::Duration;

use dingtalk_conference_api::types::{
    AddRecordPermissionRequest, CreateVideoConferenceRequest, GetCorpAccessTokenRequest,
    InviteUsersRequest, Invitee, KickMembersRequest, MemberDevice, StartMinutesRequest,
    StopMinutesRequest,
};
use dingtalk_conference_mock::{DEFAULT_CORP_ID, MockEvent, MockServer, seeded};
use dingtalk_conference_testkit::fake::{api_with_token, start};
use serde_json::Value;

const ORGANISER: &str = "Org4nIsErUn10nIdAbCdEiE";
const GUEST: &str = "GuestUn10nId000000000aiE";
const LATECOMER: &str = "LateComerUn10nId00000biE";

const STATUS: &str = "meeting_status_change";
const STATUS_TARGET: &str = "meeting_status_change_target_push";
const MEMBERS: &str = "meeting_member_status_change";
const MEMBERS_TARGET: &str = "meeting_member_status_change_target_push";
const MINUTES: &str = "flash_minutes_open_event";

fn create_request(title: &str, invitees: &[&str]) -> CreateVideoConferenceRequest {
    CreateVideoConferenceRequest {
        user_id: ORGANISER.to_owned(),
        conf_title: title.to_owned(),
        invite_user_ids: invitees.iter().map(|id| (*id).to_owned()).collect(),
        invite_caller: Some(true),
    }
}

/// The events of conference `id`, as (event type, changeScene, statusSeqNum), in order.
fn of_conference(events: &[MockEvent], id: &str) -> Vec<(String, String, i64)> {
    events
        .iter()
        .filter(|event| conference_of(event).as_deref() == Some(id))
        .map(|event| {
            (
                event.event_type.clone(),
                event.data["changeScene"].as_str().unwrap_or("").to_owned(),
                event.data["statusSeqNum"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The conference an event is about, from whichever model it carries.
fn conference_of(event: &MockEvent) -> Option<String> {
    let data = &event.data;
    data["openConfModel"]["conferenceId"]
        .as_str()
        .or_else(|| data["openMemberModels"][0]["conferenceId"].as_str())
        .map(str::to_owned)
}

fn ev(kind: &str, scene: &str, seq: i64) -> (String, String, i64) {
    (kind.to_owned(), scene.to_owned(), seq)
}

#[tokio::test]
async fn creating_a_conference_emits_created_the_organiser_joining_and_the_invitees_invited() {
    let (server, api) = start().await;
    let before = server.emitted_events().len();
    let created = api
        .create_video_conference(&create_request("Events 周会", &[GUEST, LATECOMER]))
        .await
        .expect("created")
        .into_inner();
    let id = created.conference_id.expect("conferenceId");
    let events: Vec<MockEvent> = server.emitted_events().split_off(before);

    // Made through the open API: each change also goes as the target push, with the same
    // payload and sequence number.
    assert_eq!(
        of_conference(&events, &id),
        vec![
            ev(STATUS, "conference_created", 1),
            ev(STATUS_TARGET, "conference_created", 1),
            ev(MEMBERS, "user_join", 2),
            ev(MEMBERS_TARGET, "user_join", 2),
            ev(MEMBERS, "user_invited", 3),
            ev(MEMBERS_TARGET, "user_invited", 3),
        ]
    );
    assert_eq!(events[0].data, events[1].data);
    let ids: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own eventId");
    for event in &events {
        assert_eq!(event.event_id.len(), 32);
        assert!(event.event_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(event.corp_id, DEFAULT_CORP_ID);
        assert!(event.born_ms > 1_700_000_000_000);
    }

    // The snapshot is the conference as the query API serves it.
    let info = api
        .query_conference_info(&id)
        .await
        .expect("found")
        .into_inner()
        .conf_info
        .expect("confInfo");
    let model = &events[0].data["openConfModel"];
    assert_eq!(model["conferenceId"], id.as_str());
    assert_eq!(model["title"], info.title.as_deref().expect("title"));
    assert_eq!(
        model["roomCode"],
        info.room_code.as_deref().expect("roomCode")
    );
    assert_eq!(
        model["externalLinkUrl"],
        info.external_link_url.as_deref().expect("link")
    );
    assert_eq!(model["status"], 2);
    assert_eq!(model["startTime"], info.start_time.expect("startTime"));
    assert_eq!(model["invitedNum"], 2);
    assert_eq!(model["activeNum"], 1);
    assert_eq!(model["attendNum"], 1);
    assert_eq!(model["creatorId"], ORGANISER);
    assert_eq!(
        model["creatorNick"],
        info.creator_nick.as_deref().expect("nick")
    );
    assert_eq!(model["bizType"], "0");
    assert!(model.get("endTime").is_none(), "no end while it runs");

    let organiser = &events[2].data["openMemberModels"];
    assert_eq!(organiser.as_array().map(Vec::len), Some(1));
    assert_eq!(organiser[0]["userId"], ORGANISER);
    assert_eq!(organiser[0]["conferenceId"], id.as_str());
    assert_eq!(organiser[0]["attendStatus"], 3);
    assert_eq!(organiser[0]["host"], true);
    assert_eq!(
        organiser[0]["joinTime"],
        info.start_time.expect("startTime")
    );
    let invited = &events[4].data["openMemberModels"];
    let users: Vec<&str> = invited
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["userId"].as_str().expect("userId"))
        .collect();
    assert_eq!(users, [GUEST, LATECOMER]);
    assert_eq!(invited[0]["attendStatus"], 2, "being called");
}

#[tokio::test]
async fn joins_invitations_kicks_and_the_close_follow_in_order_with_a_gap_free_sequence() {
    let (server, api) = start().await;
    let created = api
        .create_video_conference(&create_request("Events", &[GUEST]))
        .await
        .expect("created")
        .into_inner();
    let id = created.conference_id.expect("conferenceId");

    server.join(&id, GUEST, "Guest").expect("joins");
    api.invite_users(
        &id,
        &InviteUsersRequest {
            invitee_list: vec![Invitee {
                nick: "Late".to_owned(),
                union_id: Some(LATECOMER.to_owned()),
            }],
            phone_invitee_list: Vec::new(),
            union_id: Some(ORGANISER.to_owned()),
        },
    )
    .await
    .expect("invited");
    api.kick_members(
        &id,
        &KickMembersRequest {
            forbidden_rejoin: None,
            user_list: vec![MemberDevice {
                participant_id: None,
                union_id: GUEST.to_owned(),
            }],
        },
    )
    .await
    .expect("kicked");
    api.close_video_conference(&id, ORGANISER)
        .await
        .expect("closed");

    let events = server.emitted_events();
    let plain: Vec<_> = of_conference(&events, &id)
        .into_iter()
        .filter(|(kind, _, _)| kind == STATUS || kind == MEMBERS)
        .collect();
    assert_eq!(
        plain,
        vec![
            ev(STATUS, "conference_created", 1),
            ev(MEMBERS, "user_join", 2),
            ev(MEMBERS, "user_invited", 3),
            ev(MEMBERS, "user_join", 4),
            ev(MEMBERS, "user_invited", 5),
            ev(MEMBERS, "user_kicked", 6),
            ev(MEMBERS, "user_leave", 7),
            ev(STATUS, "conference_closed", 8),
        ]
    );
    let find = |kind: &str, seq: i64| {
        events
            .iter()
            .find(|e| {
                e.event_type == kind
                    && conference_of(e).as_deref() == Some(id.as_str())
                    && e.data["statusSeqNum"] == seq
            })
            .map(|e| e.data.clone())
            .expect("the event")
    };
    let joined = find(MEMBERS, 4);
    assert_eq!(joined["openMemberModels"][0]["userId"], GUEST);
    assert_eq!(joined["openMemberModels"][0]["attendStatus"], 3);
    let kicked = find(MEMBERS, 6);
    assert_eq!(kicked["openMemberModels"][0]["userId"], GUEST);
    assert_eq!(kicked["openMemberModels"][0]["attendStatus"], 5);
    assert!(kicked["openMemberModels"][0]["leaveTime"].is_i64());
    // Only the organiser was still in: the latecomer was being called and never came.
    let left = find(MEMBERS, 7);
    let leavers = left["openMemberModels"].as_array().expect("a list");
    assert_eq!(leavers.len(), 1);
    assert_eq!(leavers[0]["userId"], ORGANISER);
    assert_eq!(leavers[0]["attendStatus"], 6);
    let closed = find(STATUS, 8)["openConfModel"].clone();
    let info = server.conference(&id).expect("held");
    assert_eq!(closed["status"], 1);
    assert_eq!(closed["endTime"], info.end_time.expect("endTime"));
    assert_eq!(
        closed["confDuration"],
        info.conf_duration.expect("duration")
    );
    assert_eq!(closed["activeNum"], 0);
    assert_eq!(closed["attendNum"], 2);
}

#[tokio::test(start_paused = true)]
async fn a_scripted_end_emits_when_it_comes_without_anyone_reading() {
    let server = MockServer::start().await.expect("server");
    let closed = |server: &MockServer| {
        of_conference(&server.emitted_events(), seeded::STARTED)
            .into_iter()
            .filter(|(kind, _, _)| kind == STATUS)
            .collect::<Vec<_>>()
    };
    server.script_status(seeded::STARTED, vec![(Duration::from_secs(60), 1)]);
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert!(closed(&server).is_empty(), "not before the end");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = server.emitted_events();
    let kinds: Vec<(String, String)> = of_conference(&events, seeded::STARTED)
        .into_iter()
        .map(|(kind, scene, _)| (kind, scene))
        .collect();
    // The members in it leave, its running minutes have their summary, then it closes (a
    // seeded conference was not made through the open API: no target push).
    assert_eq!(
        kinds,
        [
            (MEMBERS.to_owned(), "user_leave".to_owned()),
            (MINUTES.to_owned(), String::new()),
            (STATUS.to_owned(), "conference_closed".to_owned()),
        ]
    );
    let last = events.last().expect("an event");
    assert_eq!(last.data["statusSeqNum"], 2, "user_leave was 1");
    assert_eq!(last.data["openConfModel"]["status"], 1);
    // The state agrees without a read having applied the script first.
    let info = server.conference(seeded::STARTED).expect("held");
    assert_eq!(
        last.data["openConfModel"]["endTime"],
        info.end_time.expect("end")
    );
}

#[tokio::test(start_paused = true)]
async fn a_script_set_before_its_conference_exists_waits_for_it() {
    let server = MockServer::start().await.expect("server");
    let info = server.conference(seeded::STARTED).expect("seeded");
    server.remove_conference(seeded::STARTED);
    server.script_status(seeded::STARTED, vec![(Duration::from_secs(10), 1)]);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(of_conference(&server.emitted_events(), seeded::STARTED).is_empty());
    server.upsert_conference(info);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let scenes: Vec<String> = of_conference(&server.emitted_events(), seeded::STARTED)
        .into_iter()
        .map(|(_, scene, _)| scene)
        .collect();
    assert_eq!(scenes.last().map(String::as_str), Some("conference_closed"));
}

#[tokio::test]
async fn skip_seq_leaves_one_number_out_once() {
    let (server, api) = start().await;
    let created = api
        .create_video_conference(&create_request("Gap", &[GUEST, LATECOMER]))
        .await
        .expect("created")
        .into_inner();
    let id = created.conference_id.expect("conferenceId");
    server.skip_seq(&id);
    server.join(&id, GUEST, "Guest").expect("joins");
    server.join(&id, LATECOMER, "Late").expect("joins");
    let seqs: Vec<i64> = of_conference(&server.emitted_events(), &id)
        .into_iter()
        .filter(|(kind, _, _)| kind == STATUS || kind == MEMBERS)
        .map(|(_, _, seq)| seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 5, 6]);
}

#[tokio::test]
async fn pausing_running_minutes_emits_their_summary_once() {
    let (server, api) = start().await;
    let created = api
        .create_video_conference(&create_request("Minutes", &[]))
        .await
        .expect("created")
        .into_inner();
    let id = created.conference_id.expect("conferenceId");
    let start = StartMinutesRequest {
        owner_union_id: None,
        record_audio: None,
        union_id: Some(ORGANISER.to_owned()),
    };
    api.start_minutes(&id, &start).await.expect("started");
    let stop = StopMinutesRequest {
        union_id: ORGANISER.to_owned(),
    };
    api.stop_minutes(&id, &stop).await.expect("paused");
    api.stop_minutes(&id, &stop).await.expect("paused again");
    let minutes: Vec<Value> = server
        .emitted_events()
        .into_iter()
        .filter(|e| e.event_type == MINUTES)
        .map(|e| e.data)
        .collect();
    assert_eq!(minutes.len(), 1, "pausing paused minutes makes no summary");
    let task = api
        .add_record_permission(
            &id,
            &AddRecordPermissionRequest {
                biz_type: "minutes".to_owned(),
                owner_union_id: ORGANISER.to_owned(),
                role_sub_resource_ids: Vec::new(),
                share_scope: None,
                union_id: GUEST.to_owned(),
            },
        )
        .await
        .expect("granted")
        .into_inner()
        .task_uuid
        .expect("taskUuid");
    let data = &minutes[0];
    assert_eq!(data["openConfModel"]["conferenceId"], id.as_str());
    assert_eq!(data["minutesEventType"], "summary_generated");
    assert_eq!(data["bizType"], "minutes");
    assert_eq!(data["minutesTaskId"], task.as_str());
    assert!(
        data.get("statusSeqNum").is_none(),
        "minutes events carry none"
    );
}

#[tokio::test]
async fn joining_a_schedule_starts_its_instance_with_created_then_user_join() {
    let server = MockServer::start().await.expect("server");
    let id = server
        .join_schedule(
            seeded::SCHEDULE_DESIGN_REVIEW,
            seeded::SCHEDULE_CREATOR,
            "Host",
        )
        .expect("joins");
    server
        .join_schedule(seeded::SCHEDULE_DESIGN_REVIEW, GUEST, "Guest")
        .expect("joins");
    let events = server.emitted_events();
    assert_eq!(
        of_conference(&events, &id),
        vec![
            ev(STATUS, "conference_created", 1),
            ev(MEMBERS, "user_join", 2),
            ev(MEMBERS, "user_join", 3),
        ],
        "not made through createVideoConference: no target push"
    );
    let model = &events[0].data["openConfModel"];
    assert_eq!(model["status"], 2);
    assert_eq!(model["bizType"], "3");
    assert_eq!(
        model["scheduleConferenceId"],
        seeded::SCHEDULE_DESIGN_REVIEW
    );
    assert_eq!(events[2].data["openMemberModels"][0]["userId"], GUEST);
}

#[tokio::test]
async fn reads_and_refused_changes_emit_nothing() {
    let (server, api) = start().await;
    api.query_conference_info(seeded::STARTED)
        .await
        .expect("found");
    // Not the host: refused, nothing changes.
    let refused = api.close_video_conference(seeded::STARTED, GUEST).await;
    assert!(refused.is_err());
    // Already ended.
    let refused = api
        .close_video_conference(seeded::ENDED, seeded::ENDED_HOST)
        .await;
    assert!(refused.is_err());
    assert!(server.join(seeded::ENDED, GUEST, "Guest").is_err());
    assert_eq!(server.emitted_events(), Vec::<MockEvent>::new());
}

#[tokio::test]
async fn a_third_party_apps_conference_belongs_to_its_authorising_organisation() {
    let (server, api) = start().await;
    server.add_suite("other-suite", "other-secret", "other-corp", "other-ticket");
    let token = api
        .get_corp_access_token(&GetCorpAccessTokenRequest {
            auth_corp_id: "other-corp".to_owned(),
            suite_key: "other-suite".to_owned(),
            suite_secret: "other-secret".to_owned(),
            suite_ticket: "other-ticket".to_owned(),
        })
        .await
        .expect("a corp token")
        .into_inner()
        .access_token
        .expect("accessToken");
    let theirs = api_with_token(&server, &token)
        .create_video_conference(&create_request("Theirs", &[]))
        .await
        .expect("created")
        .into_inner()
        .conference_id
        .expect("conferenceId");
    let ours = api
        .create_video_conference(&create_request("Ours", &[]))
        .await
        .expect("created")
        .into_inner()
        .conference_id
        .expect("conferenceId");
    server.join(&theirs, GUEST, "Guest").expect("joins");
    let events = server.emitted_events();
    let corps = |id: &str| -> HashSet<String> {
        events
            .iter()
            .filter(|e| conference_of(e).as_deref() == Some(id))
            .map(|e| e.corp_id.clone())
            .collect()
    };
    // Also for a change made later without the caller's token (a join).
    assert_eq!(corps(&theirs), HashSet::from(["other-corp".to_owned()]));
    assert_eq!(corps(&ours), HashSet::from([DEFAULT_CORP_ID.to_owned()]));
}
