//! Issue 20's organisation part end to end against the fake server's state: the
//! organisation's conferences in progress (a paged listing), the undocumented ext-info call,
//! auto-login URLs (a bearer credential), subtitle events and member nicknames.

use dingtalk_conference::{
    AutoLogin, ConferenceStatus, Error, ErrorCode, MemberNick, NewConference, SubtitleEvents,
};
use dingtalk_conference_mock::seeded;
use serde_json::{Map, Value, json};

use crate::common::{app_client, mock, no_retry_client};

const ORGANISER: &str = "iPOLorgxxxxxxxxxxiEiE";
const ORG_PATH: &str = "/v1.0/conference/orgConferences";

/// The seeded conferences in progress, oldest first (by start, then id), as the fake lists
/// them.
const SEEDED_IN_PROGRESS: usize = 4;

fn share_link(room_code: &str) -> String {
    format!("https://meeting.dingtalk.com/j/{room_code}")
}

/// The typed code of a DingTalk error, or a panic naming what came instead.
fn code_of<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorCode {
    match result {
        Err(Error::Api(api)) => api.code,
        other => panic!("expected a DingTalk error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_organisations_listing_pages_over_the_conferences_in_progress_and_follows_the_state() {
    let mock = mock().await;
    let client = app_client(&mock);

    // Small pages: the listing follows the cursor to the end.
    let first = client
        .org_ongoing_conferences()
        .page_size(3)
        .page(None)
        .await
        .expect("the first page");
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.has_more, Some(true));
    assert_eq!(
        first.total_count,
        Some(i32::try_from(SEEDED_IN_PROGRESS).expect("small"))
    );
    mock.reset_log();
    let all = client
        .org_ongoing_conferences()
        .page_size(1)
        .collect()
        .await
        .expect("every page");
    let pages = mock
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(ORG_PATH))
        .count();
    assert_eq!(pages, SEEDED_IN_PROGRESS, "one request per page of one");
    let ids: Vec<&str> = all
        .iter()
        .filter_map(|c| c.conference_id.as_deref())
        .collect();
    for id in [
        seeded::STARTED,
        seeded::SCHEDULED,
        seeded::AUDIO,
        seeded::WITH_EXTENSION_APPS,
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for id in [seeded::ENDED, seeded::INITIALISED, seeded::LEGACY] {
        assert!(!ids.contains(&id), "{id} is not in progress: {ids:?}");
    }
    assert!(
        all.iter()
            .all(|c| c.status == Some(ConferenceStatus::Started)),
        "{all:?}"
    );
    let started = all
        .iter()
        .find(|c| c.conference_id.as_deref() == Some(seeded::STARTED))
        .expect("listed");
    assert_eq!(
        started.room_code.as_deref(),
        Some(seeded::STARTED_ROOM_CODE)
    );
    assert_eq!(started.creator_id.as_deref(), Some(seeded::STARTED_HOST));
    assert!(started.start_time.is_some() && started.title.is_some());

    // A created conference appears; once closed it drops out.
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Org listing"))
        .await
        .expect("created");
    let id = created.conference_id.expect("an id");
    let with_new = client
        .org_ongoing_conferences()
        .page_size(2)
        .collect()
        .await
        .expect("listed");
    assert_eq!(with_new.len(), SEEDED_IN_PROGRESS + 1);
    let new = with_new
        .iter()
        .find(|c| c.conference_id.as_deref() == Some(id.as_str()))
        .expect("the new conference is listed");
    assert_eq!(new.title.as_deref(), Some("Org listing"));
    assert_eq!(new.creator_id.as_deref(), Some(ORGANISER));

    client
        .close_conference(&id, ORGANISER)
        .await
        .expect("closed");
    let after = client
        .org_ongoing_conferences()
        .collect()
        .await
        .expect("listed");
    assert_eq!(after.len(), SEEDED_IN_PROGRESS);
    assert!(
        !after
            .iter()
            .any(|c| c.conference_id.as_deref() == Some(id.as_str()))
    );
}

#[tokio::test]
async fn a_page_token_the_server_did_not_hand_out_is_its_param_error() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let refused = client
        .org_ongoing_conferences()
        .page(Some("not-a-cursor".to_string()))
        .await;
    assert_eq!(code_of(refused), ErrorCode::ParamError);
    match client
        .org_ongoing_conferences()
        .page_size(0)
        .page(None)
        .await
    {
        Err(Error::InvalidInput(message)) => assert!(message.contains("page size"), "{message}"),
        other => panic!("a page size of 0 must be refused before sending: {other:?}"),
    }
}

#[tokio::test]
async fn the_ext_info_call_answers_for_a_conference_not_ended_and_refuses_the_others() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let answer = client
        .update_ext_info(seeded::STARTED)
        .await
        .expect("answered");
    assert_eq!(answer.code.as_deref(), Some("200"));
    assert_eq!(answer.reason, None);

    let unknown = client.update_ext_info("0123456789abcdef01234567").await;
    assert_eq!(code_of(unknown), ErrorCode::RoomNotFound);
    let ended = client.update_ext_info(seeded::ENDED).await;
    assert_eq!(code_of(ended).as_str(), "resourceClose");
}

#[tokio::test]
async fn auto_login_urls_are_new_each_time_for_a_known_link_and_never_shown_in_debug() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let link = share_link(seeded::STARTED_ROOM_CODE);

    let first = client
        .auto_login_url(AutoLogin::new(&link, seeded::STARTED_HOST))
        .await
        .expect("a login URL");
    let second = client
        .auto_login_url(AutoLogin::new(&link, seeded::STARTED_HOST))
        .await
        .expect("another login URL");
    let (one, two) = (
        first.login_url.clone().expect("a URL"),
        second.login_url.clone().expect("a URL"),
    );
    assert!(one.starts_with(&link), "{one}");
    assert_ne!(one, two, "each call mints a new credential");
    let shown = format!("{first:?}");
    assert!(
        !shown.contains(&one),
        "the login URL leaked into Debug: {shown}"
    );
    assert!(shown.contains("redacted"), "{shown}");

    // A link of no conference the server holds, a link that is no share link, an ended
    // meeting's link, someone who cannot be a unionId.
    let unknown = client
        .auto_login_url(AutoLogin::new(
            share_link("99999999999"),
            seeded::STARTED_HOST,
        ))
        .await;
    assert_eq!(code_of(unknown), ErrorCode::RoomNotFound);
    let not_a_link = client
        .auto_login_url(AutoLogin::new(
            "https://example.com/meeting",
            seeded::STARTED_HOST,
        ))
        .await;
    assert_eq!(code_of(not_a_link).as_str(), "paramsError");
    let ended_code = mock
        .conference(seeded::ENDED)
        .and_then(|c| c.room_code)
        .expect("the ended conference's room code");
    let ended = client
        .auto_login_url(AutoLogin::new(share_link(&ended_code), seeded::ENDED_HOST))
        .await;
    assert_eq!(code_of(ended).as_str(), "resourceClose");
    let odd_user = client
        .auto_login_url(AutoLogin::new(&link, "not a union id"))
        .await;
    assert_eq!(code_of(odd_user).as_str(), "unknownUserError");

    // A blank link is refused before any request.
    mock.reset_log();
    match client
        .auto_login_url(AutoLogin::new("  ", seeded::STARTED_HOST))
        .await
    {
        Err(Error::InvalidInput(message)) => assert!(message.contains("meetingUrl"), "{message}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(
        mock.requests().is_empty(),
        "a refused argument sent a request"
    );
}

#[tokio::test]
async fn subtitle_events_are_switched_on_and_off_on_a_conference_not_ended() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    assert_eq!(mock.subtitle_events(seeded::STARTED), None);
    client
        .set_subtitle_events(seeded::STARTED, SubtitleEvents::new(true))
        .await
        .expect("on");
    assert_eq!(mock.subtitle_events(seeded::STARTED), Some(true));
    // The same setting again leaves the same state.
    client
        .set_subtitle_events(seeded::STARTED, SubtitleEvents::new(true))
        .await
        .expect("on again");
    assert_eq!(mock.subtitle_events(seeded::STARTED), Some(true));
    client
        .set_subtitle_events(seeded::STARTED, SubtitleEvents::new(false))
        .await
        .expect("off");
    assert_eq!(mock.subtitle_events(seeded::STARTED), Some(false));

    let ended = client
        .set_subtitle_events(seeded::ENDED, SubtitleEvents::new(true))
        .await;
    assert_eq!(code_of(ended), ErrorCode::ConfClosed);
    assert_eq!(mock.subtitle_events(seeded::ENDED), None);
    let unknown = client
        .set_subtitle_events("0123456789abcdef01234567", SubtitleEvents::new(true))
        .await;
    assert_eq!(code_of(unknown), ErrorCode::RoomNotFound);
}

#[tokio::test]
async fn a_new_nickname_shows_in_the_member_listing_and_the_batch_answer() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    let members = mock.members(seeded::STARTED);
    // Someone in the conference now (not the host), as the batch answer lists them.
    let member = members
        .iter()
        .find(|m| m.attend_status == Some(3) && m.host != Some(true))
        .and_then(|m| m.union_id.clone())
        .expect("a member in the conference");

    client
        .rename_member(seeded::STARTED, MemberNick::new(&member, "新昵称 Renamed"))
        .await
        .expect("renamed");
    let listed = client
        .conference_members(seeded::STARTED)
        .collect()
        .await
        .expect("members");
    let renamed = listed
        .iter()
        .find(|m| m.union_id.as_deref() == Some(member.as_str()))
        .expect("still a member");
    assert_eq!(renamed.user_nick.as_deref(), Some("新昵称 Renamed"));
    let status = client
        .conferences_status(&[seeded::STARTED])
        .await
        .expect("the batch answer");
    let participant = status[0]
        .user_list
        .iter()
        .find(|p| p.user_id.as_deref() == Some(member.as_str()))
        .expect("listed in the batch answer");
    assert_eq!(participant.nick.as_deref(), Some("新昵称 Renamed"));

    let stranger = client
        .rename_member(
            seeded::STARTED,
            MemberNick::new("iPOLstrangerxxxxxiEiE", "Nobody"),
        )
        .await;
    assert_eq!(code_of(stranger).as_str(), "unknownUserError");
    let ended = client
        .rename_member(seeded::ENDED, MemberNick::new(seeded::ENDED_HOST, "Late"))
        .await;
    assert_eq!(code_of(ended), ErrorCode::ConfClosed);

    mock.reset_log();
    match client
        .rename_member(seeded::STARTED, MemberNick::new(&member, " "))
        .await
    {
        Err(Error::InvalidInput(message)) => assert!(message.contains("nick"), "{message}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(
        mock.requests().is_empty(),
        "a refused argument sent a request"
    );
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_lists_the_organisation_and_renames_a_member() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(crate::common::mock());
    let client = dingtalk_conference::blocking::Client::new(crate::common::app_builder(&mock))
        .expect("blocking client");
    let listed: Vec<_> = client
        .org_ongoing_conferences(Some(2))
        .collect::<Result<_, _>>()
        .expect("every page");
    assert_eq!(listed.len(), SEEDED_IN_PROGRESS);
    client
        .rename_member(
            seeded::STARTED,
            MemberNick::new(seeded::STARTED_HOST, "Blocking"),
        )
        .expect("renamed");
    let host = mock
        .members(seeded::STARTED)
        .into_iter()
        .find(|m| m.union_id.as_deref() == Some(seeded::STARTED_HOST))
        .expect("the host");
    assert_eq!(host.user_nick.as_deref(), Some("Blocking"));
}

/// For each write of this part, `Client::call` arguments that succeed on a freshly started
/// seeded fake server.
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    };
    vec![
        (
            "updateVideoConferenceExtInfo",
            object(json!({"conferenceId": seeded::STARTED})),
        ),
        (
            "createAutoLoginUrl",
            object(json!({"body": {
                "meetingUrl": share_link(seeded::STARTED_ROOM_CODE),
                "unionId": seeded::STARTED_HOST,
            }})),
        ),
        (
            "setSubtitleEvent",
            object(json!({"conferenceId": seeded::STARTED, "body": {"enable": true}})),
        ),
        (
            "updateMemberNick",
            object(json!({
                "conferenceId": seeded::STARTED,
                "body": {"unionId": seeded::STARTED_HOST, "nick": "call test"},
            })),
        ),
    ]
}

#[tokio::test]
async fn each_seeded_write_succeeds_once_through_call() {
    let mock = mock().await;
    let client = no_retry_client(&mock);
    for (operation, args) in seeded_writes() {
        let answer = client
            .call(operation, &args)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
        assert!(answer.json.is_object(), "{operation}: {:?}", answer.json);
    }
    assert_eq!(mock.subtitle_events(seeded::STARTED), Some(true));
}
