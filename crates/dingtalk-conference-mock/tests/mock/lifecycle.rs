//! Create, close, the batch query, the room-code lookup and the members, over real HTTP with
//! the generated client, and how their answers agree with each other.

use std::collections::HashSet;

use dingtalk_conference_api::types::{
    ConferenceMember, CreateVideoConferenceRequest, QueryConferenceInfoBatchRequest,
};
use dingtalk_conference_api::{Client, RequestContext};
use dingtalk_conference_mock::{
    DEFAULT_MEMBERS_PAGE_SIZE, DEFAULT_ROOM_CODE_PAGE_SIZE, Fault, FaultScope, MAX_BATCH_IDS,
    MockServer, seeded,
};
use dingtalk_conference_testkit::fake::{self, error, raw_get, start};

const ORGANISER: &str = "Org4nIsErUn10nIdAbCdEiE";

fn create_request(title: &str, invitees: &[&str]) -> CreateVideoConferenceRequest {
    CreateVideoConferenceRequest {
        user_id: ORGANISER.to_owned(),
        conf_title: title.to_owned(),
        invite_user_ids: invitees.iter().map(|id| (*id).to_owned()).collect(),
        invite_caller: Some(true),
    }
}

fn batch(ids: &[&str]) -> QueryConferenceInfoBatchRequest {
    QueryConferenceInfoBatchRequest {
        conference_id_list: ids.iter().map(|id| (*id).to_owned()).collect(),
    }
}

/// Every member of `id`, page by page with `size`, checking each page's cursor and count.
async fn all_members(api: &Client, id: &str, size: i32) -> Vec<ConferenceMember> {
    let mut members = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = api
            .query_conference_members(id, Some(size), token.as_deref())
            .await
            .expect("a page")
            .into_inner();
        pages += 1;
        assert!(pages < 1000, "the listing never ends");
        let total = usize::try_from(page.total_count.expect("totalCount")).expect("not negative");
        assert!(
            page.member_models.clone().unwrap_or_default().len()
                <= usize::try_from(size).expect("positive")
        );
        members.extend(page.member_models.clone().unwrap_or_default());
        match page.next_token {
            Some(next) => token = Some(next),
            None => {
                assert_eq!(members.len(), total, "the last page completes the listing");
                return members;
            }
        }
    }
}

fn count_status(members: &[ConferenceMember], statuses: &[i32]) -> usize {
    members
        .iter()
        .filter(|m| m.attend_status.is_some_and(|s| statuses.contains(&s)))
        .count()
}

#[tokio::test]
async fn a_created_conference_is_started_with_its_host_in_it_and_its_invitees_called() {
    let (server, api) = start().await;
    let title = "周会 ".repeat(20) + "tail";
    let invitees = ["InviteeOne0000000000aiE", "InviteeTwo0000000000biE"];
    let request = create_request(&title, &[invitees[0], invitees[1], invitees[0], ORGANISER]);
    let created = api
        .create_video_conference(&request)
        .await
        .expect("created")
        .into_inner();

    let id = created.conference_id.expect("conferenceId");
    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let room_code = created.room_code.expect("roomCode");
    assert_eq!(room_code.len(), 11);
    assert!(room_code.chars().all(|c| c.is_ascii_digit()));
    for password in [&created.conference_password, &created.host_password] {
        let password = password.as_deref().expect("a password");
        assert!(!password.is_empty() && password.chars().all(|c| c.is_ascii_digit()));
    }
    let link = created.external_link_url.expect("externalLinkUrl");
    assert!(link.contains(&room_code), "{link}");
    assert!(!created.phone_numbers.clone().unwrap_or_default().is_empty());

    let info = api
        .query_conference_info(&id)
        .await
        .expect("found")
        .into_inner()
        .conf_info
        .expect("confInfo");
    assert_eq!(info.conference_id.as_deref(), Some(id.as_str()));
    assert_eq!(info.status, Some(2));
    assert_eq!(info.biz_type.as_deref(), Some("0"));
    // Cut to 50 characters, not bytes.
    let expected_title: String = title.chars().take(50).collect();
    assert_eq!(info.title.as_deref(), Some(expected_title.as_str()));
    assert_eq!(info.creator_id.as_deref(), Some(ORGANISER));
    assert!(info.creator_nick.is_some_and(|nick| !nick.is_empty()));
    assert_eq!(info.room_code.as_deref(), Some(room_code.as_str()));
    assert_eq!(info.external_link_url.as_deref(), Some(link.as_str()));
    assert!(info.start_time.is_some());
    assert_eq!((info.end_time, info.conf_duration), (None, None));
    assert_eq!(info.cloud_record_status, Some(0));
    // Two distinct invitees: the repeat and the organiser are not counted.
    assert_eq!(info.invited_num, Some(2));
    assert_eq!((info.active_num, info.attend_num), (Some(1), Some(1)));

    let members = all_members(&api, &id, 128).await;
    assert_eq!(members.len(), 3);
    let host = &members[0];
    assert_eq!(host.union_id.as_deref(), Some(ORGANISER));
    assert_eq!((host.host, host.attend_status), (Some(true), Some(3)));
    assert_eq!(host.join_time, info.start_time);
    for (member, union_id) in members[1..].iter().zip(invitees) {
        assert_eq!(member.union_id.as_deref(), Some(union_id));
        assert_eq!((member.host, member.attend_status), (Some(false), Some(2)));
        assert_eq!(member.join_time, None);
        assert_eq!(member.conference_id.as_deref(), Some(id.as_str()));
    }
    assert_eq!(server.members(&id), members);

    let infos = api
        .query_conference_info_batch(&batch(&[&id]))
        .await
        .expect("batch")
        .into_inner()
        .infos
        .clone()
        .unwrap_or_default();
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].conference_id.as_deref(), Some(id.as_str()));
    assert_eq!(infos[0].status, Some(2));
    assert_eq!(infos[0].start_time, info.start_time);
    let users: Vec<_> = infos[0]
        .user_list
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|user| (user.user_id.clone(), user.attend_status))
        .collect();
    assert_eq!(
        users,
        [
            (Some(ORGANISER.to_owned()), Some(3)),
            (Some(invitees[0].to_owned()), Some(2)),
            (Some(invitees[1].to_owned()), Some(2)),
        ]
    );

    let by_code = api
        .query_conference_info_by_room_code(&room_code, None, None)
        .await
        .expect("found by code")
        .into_inner();
    assert_eq!(
        (by_code.total_count, by_code.has_more),
        (Some(1), Some(false))
    );
    assert_eq!(by_code.next_token, None);
    let listed = &by_code.conference_list.clone().unwrap_or_default()[0];
    assert_eq!(listed.conference_id.as_deref(), Some(id.as_str()));
    assert_eq!(listed.external_link_url.as_deref(), Some(link.as_str()));
    assert_eq!(listed.status, Some(2));
    assert_eq!(listed.creator_id.as_deref(), Some(ORGANISER));
}

#[tokio::test]
async fn created_conferences_get_distinct_ids_and_room_codes() {
    let (_server, api) = start().await;
    let mut ids = HashSet::new();
    let mut codes = HashSet::new();
    for n in 0..20 {
        let created = api
            .create_video_conference(&create_request(&format!("meeting {n}"), &[]))
            .await
            .expect("created")
            .into_inner();
        assert!(ids.insert(created.conference_id.expect("id")));
        assert!(codes.insert(created.room_code.expect("code")));
    }
}

#[tokio::test]
async fn create_refuses_blank_fields_and_titles_over_256_characters() {
    let (server, api) = start().await;
    let mut blank_user = create_request("title", &[]);
    blank_user.user_id = "  ".into();
    assert_eq!(
        error(api.create_video_conference(&blank_user).await),
        (400, "paramsError".into())
    );
    assert_eq!(
        error(api.create_video_conference(&create_request("", &[])).await),
        (400, "paramsError".into())
    );
    assert_eq!(
        error(
            api.create_video_conference(&create_request(" \t", &[]))
                .await
        ),
        (400, "paramsError".into())
    );
    // 256 characters of three bytes each pass; 257 do not.
    assert!(
        api.create_video_conference(&create_request(&"会".repeat(256), &[]))
            .await
            .is_ok()
    );
    assert_eq!(
        error(
            api.create_video_conference(&create_request(&"会".repeat(257), &[]))
                .await
        ),
        (400, "paramsTitleError".into())
    );
    // Fields missing altogether (the typed client always sends them).
    let response = fake::http()
        .post(format!(
            "{}/v1.0/conference/videoConferences",
            server.base_url()
        ))
        .header("x-acs-dingtalk-access-token", server.issue_token())
        .json(&serde_json::json!({"confTitle": "no organiser"}))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "paramsError");
}

#[tokio::test]
async fn closing_ends_the_conference_and_its_members_time_in_it() {
    let (server, api) = start().await;
    let invitee = "InviteeOne0000000000aiE";
    let id = api
        .create_video_conference(&create_request("to close", &[invitee]))
        .await
        .expect("created")
        .into_inner()
        .conference_id
        .expect("id");

    let closed = api
        .close_video_conference(&id, ORGANISER)
        .await
        .expect("closed")
        .into_inner();
    assert_eq!(closed.code, Some(200));
    assert_eq!(closed.cause.as_deref(), Some("success"));

    let info = server.conference(&id).expect("still held");
    assert_eq!(info.status, Some(1));
    let (start, end) = (info.start_time.expect("start"), info.end_time.expect("end"));
    assert!(end >= start);
    assert_eq!(info.conf_duration, Some(end - start));
    assert_eq!(info.active_num, Some(0));
    assert_eq!(info.attend_num, Some(1));

    let members = all_members(&api, &id, 1).await;
    assert_eq!(members[0].attend_status, Some(6));
    assert_eq!(members[0].leave_time, Some(end));
    assert_eq!(
        members[0].duration,
        Some(end - members[0].join_time.expect("joined"))
    );
    assert_eq!(members[1].attend_status, Some(4));
    assert_eq!(members[1].leave_time, None);

    // The batch query answers only for conferences in progress.
    let infos = api
        .query_conference_info_batch(&batch(&[&id, seeded::STARTED]))
        .await
        .expect("batch")
        .into_inner()
        .infos
        .clone()
        .unwrap_or_default();
    let ids: Vec<_> = infos.iter().map(|i| i.conference_id.as_deref()).collect();
    assert_eq!(ids, [Some(seeded::STARTED)]);

    let by_code = api
        .query_conference_info_by_room_code(info.room_code.as_deref().expect("code"), None, None)
        .await
        .expect("by code")
        .into_inner();
    assert_eq!(
        by_code.conference_list.clone().unwrap_or_default()[0].status,
        Some(1)
    );
    assert_eq!(
        by_code.conference_list.clone().unwrap_or_default()[0].end_time,
        Some(end)
    );
    assert_eq!(
        by_code.conference_list.clone().unwrap_or_default()[0].conf_duration,
        Some(end - start)
    );

    assert_eq!(
        error(api.close_video_conference(&id, ORGANISER).await),
        (400, "resourceClose".into())
    );
}

#[tokio::test]
async fn only_the_host_may_close_and_the_conference_must_exist() {
    let (server, api) = start().await;
    assert_eq!(
        error(
            api.close_video_conference(seeded::STARTED, seeded::ENDED_HOST)
                .await
        ),
        (403, "noPermission".into())
    );
    assert_eq!(
        server.conference(seeded::STARTED).and_then(|c| c.status),
        Some(2)
    );
    assert_eq!(
        error(
            api.close_video_conference("000000000000000000000000", seeded::STARTED_HOST)
                .await
        ),
        (404, "roomNotFound".into())
    );
    assert_eq!(
        error(api.close_video_conference(seeded::STARTED, " ").await),
        (400, "paramsError".into())
    );
    // No unionId at all, and no body: the DELETE DingTalk's SDK sends, less the parameter.
    let (status, body) = fake::raw_delete(&server, seeded::STARTED).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("paramsError")));
    assert!(
        api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
            .await
            .is_ok()
    );
    assert_eq!(
        error(
            api.close_video_conference(seeded::ENDED, seeded::ENDED_HOST)
                .await
        ),
        (400, "resourceClose".into())
    );
}

#[tokio::test]
async fn closing_the_seeded_started_conference_moves_every_member_out() {
    let (server, api) = start().await;
    let before = server.members(seeded::STARTED);
    api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
        .await
        .expect("closed");
    let after = all_members(&api, seeded::STARTED, 4).await;
    assert_eq!(after.len(), before.len());
    assert_eq!(count_status(&after, &[3]), 0);
    assert_eq!(count_status(&after, &[2]), 0);
    assert_eq!(
        count_status(&after, &[5, 6]),
        count_status(&before, &[3, 5, 6])
    );
    let info = server.conference(seeded::STARTED).expect("held");
    assert_eq!(info.active_num, Some(0));
    for member in after.iter().filter(|m| m.attend_status == Some(6)) {
        let (join, leave) = (
            member.join_time.expect("join"),
            member.leave_time.expect("leave"),
        );
        assert!(leave >= join);
        assert_eq!(member.duration, Some(leave - join));
    }
}

#[tokio::test]
async fn seeded_members_agree_with_the_conference_counts() {
    let (server, api) = start().await;
    for id in seeded::ALL {
        let info = server.conference(id).expect("seeded");
        let members = all_members(&api, id, 7).await;
        let active = count_status(&members, &[3]);
        let attended = count_status(&members, &[3, 5, 6]);
        assert_eq!(Some(active), info.active_num.map(|n| n as usize), "{id}");
        assert_eq!(Some(attended), info.attend_num.map(|n| n as usize), "{id}");
        let ids: HashSet<_> = members.iter().map(|m| m.union_id.clone()).collect();
        assert_eq!(ids.len(), members.len(), "{id}: distinct members");
        let hosts: Vec<_> = members.iter().filter(|m| m.host == Some(true)).collect();
        assert_eq!(hosts.len(), 1, "{id}");
        assert_eq!(hosts[0].union_id, info.creator_id, "{id}");
        for member in &members {
            assert_eq!(member.conference_id.as_deref(), Some(id));
            // Omitted for members inside the organisation, never `false`.
            assert_ne!(member.outer_org_member, Some(false));
            if let (Some(join), Some(leave)) = (member.join_time, member.leave_time) {
                assert!(leave >= join, "{id}");
                assert_eq!(member.duration, Some(leave - join), "{id}");
                if let Some(end) = info.end_time {
                    assert!(leave <= end, "{id}");
                }
            }
        }
    }
    let started = server.members(seeded::STARTED);
    assert_eq!(started.len(), seeded::STARTED_MEMBERS);
    assert!(started.len() >= 10);
    assert!(count_status(&started, &[6]) > 0);
    assert_eq!(count_status(&started, &[4]), 1);
    assert!(started.iter().any(|m| m.co_host == Some(true)));
    assert!(started.iter().any(|m| m.outer_org_member == Some(true)));
}

#[tokio::test]
async fn members_page_with_string_cursors_and_the_last_page_has_none() {
    let (_server, api) = start().await;
    let first = api
        .query_conference_members(seeded::STARTED, Some(4), None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(first.member_models.clone().unwrap_or_default().len(), 4);
    assert_eq!(
        first.total_count,
        Some(i32::try_from(seeded::STARTED_MEMBERS).expect("small"))
    );
    let next = first.next_token.expect("more pages");
    // "0" is the first page too.
    let zero = api
        .query_conference_members(seeded::STARTED, Some(4), Some("0"))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        zero.member_models.clone().unwrap_or_default(),
        first.member_models.clone().unwrap_or_default()
    );
    let second = api
        .query_conference_members(seeded::STARTED, Some(4), Some(&next))
        .await
        .expect("page")
        .into_inner();
    assert_ne!(
        second.member_models.clone().unwrap_or_default(),
        first.member_models.clone().unwrap_or_default()
    );

    // The default page holds everyone (15 < 128) and has no cursor.
    let all = api
        .query_conference_members(seeded::STARTED, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        all.member_models.clone().unwrap_or_default().len(),
        seeded::STARTED_MEMBERS
    );
    assert_eq!(all.next_token, None);
    // Paging with any size yields the same members in the same order.
    assert_eq!(
        all_members(&api, seeded::STARTED, 4).await,
        all.member_models.clone().unwrap_or_default()
    );
    assert_eq!(
        all_members(&api, seeded::STARTED, 15).await,
        all.member_models.clone().unwrap_or_default()
    );
}

#[tokio::test]
async fn members_default_page_is_128() {
    let (server, api) = start().await;
    let many: Vec<ConferenceMember> = (0..300)
        .map(|n| ConferenceMember {
            union_id: Some(format!("member{n:03}")),
            attend_status: Some(2),
            ..ConferenceMember::default()
        })
        .collect();
    server.set_members(seeded::AUDIO, many);
    let page = api
        .query_conference_members(seeded::AUDIO, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        page.member_models.clone().unwrap_or_default().len(),
        DEFAULT_MEMBERS_PAGE_SIZE
    );
    assert_eq!(page.total_count, Some(300));
    assert_eq!(page.next_token.as_deref(), Some("128"));
    assert_eq!(all_members(&api, seeded::AUDIO, 128).await.len(), 300);
}

#[tokio::test]
async fn members_refuse_bad_paging_and_unknown_conferences() {
    let (server, api) = start().await;
    assert_eq!(
        error(
            api.query_conference_members("000000000000000000000000", None, None)
                .await
        ),
        (404, "roomNotFound".into())
    );
    assert_eq!(
        error(
            api.query_conference_members(seeded::STARTED, Some(0), None)
                .await
        ),
        (400, "paramError".into())
    );
    assert_eq!(
        error(
            api.query_conference_members(seeded::STARTED, Some(-3), None)
                .await
        ),
        (400, "paramError".into())
    );
    for token in ["abc", "-1", "16", "1.5"] {
        assert_eq!(
            error(
                api.query_conference_members(seeded::STARTED, None, Some(token))
                    .await
            ),
            (400, "paramError".into()),
            "{token}"
        );
    }
    let base = format!(
        "/v1.0/conference/videoConferences/{}/members",
        seeded::STARTED
    );
    let (status, body) = raw_get(&server, &format!("{base}?maxResults=many")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("paramError")));
}

#[tokio::test]
async fn the_batch_query_answers_for_conferences_in_progress_only() {
    let (_server, api) = start().await;
    let asked = [
        seeded::STARTED,
        seeded::ENDED,
        seeded::INITIALISED,
        "000000000000000000000000",
        seeded::SCHEDULED,
        seeded::STARTED,
    ];
    let infos = api
        .query_conference_info_batch(&batch(&asked))
        .await
        .expect("batch")
        .into_inner()
        .infos
        .clone()
        .unwrap_or_default();
    let ids: Vec<_> = infos.iter().map(|i| i.conference_id.as_deref()).collect();
    assert_eq!(ids, [Some(seeded::STARTED), Some(seeded::SCHEDULED)]);
    let started = &infos[0];
    assert_eq!(started.title.as_deref(), Some("产品周会"));
    assert_eq!((started.status, started.media_status), (Some(2), Some(0)));
    assert_eq!(
        started.user_list.clone().unwrap_or_default().len(),
        seeded::STARTED_MEMBERS
    );
    let users = started.user_list.clone().unwrap_or_default();
    let declined: Vec<_> = users
        .iter()
        .filter(|u| u.attend_status == Some(4))
        .collect();
    assert_eq!(declined.len(), 1);
    assert!(declined[0].reject_description.is_some());
    for user in &started.user_list.clone().unwrap_or_default() {
        let in_meeting = user.attend_status == Some(3);
        for device in [user.camera_status, user.mic_status] {
            let device = device.expect("device status");
            assert!((0..=2).contains(&device));
            assert_eq!(
                in_meeting,
                device != 0,
                "devices are set for those in it only"
            );
        }
        assert!(user.user_id.is_some() && user.nick.is_some());
    }

    // Nothing in progress: an empty answer, not an error.
    let none = api
        .query_conference_info_batch(&batch(&[seeded::ENDED]))
        .await
        .expect("batch")
        .into_inner();
    assert!(none.infos.clone().unwrap_or_default().is_empty());
}

#[tokio::test]
async fn the_batch_query_takes_one_to_max_batch_ids() {
    let (server, api) = start().await;
    let mut ids: Vec<String> = (0..MAX_BATCH_IDS - 1)
        .map(|n| format!("{n:024x}"))
        .collect();
    ids.push(seeded::STARTED.to_owned());
    let full = QueryConferenceInfoBatchRequest {
        conference_id_list: ids.clone(),
    };
    let infos = api
        .query_conference_info_batch(&full)
        .await
        .expect("at the cap")
        .into_inner()
        .infos
        .clone()
        .unwrap_or_default();
    assert_eq!(infos.len(), 1);
    ids.push("one too many".to_owned());
    let over = QueryConferenceInfoBatchRequest {
        conference_id_list: ids,
    };
    assert_eq!(
        error(api.query_conference_info_batch(&over).await),
        (400, "paramsError".into())
    );
    assert_eq!(
        error(api.query_conference_info_batch(&batch(&[])).await),
        (400, "paramsError".into())
    );
    for body in [
        serde_json::json!({}),
        serde_json::json!({"conferenceIdList": "6323d7568777190142ab9d10"}),
        serde_json::json!({"conferenceIdList": [1, 2]}),
    ] {
        let response = fake::http()
            .post(format!(
                "{}/v1.0/conference/videoConferences/query",
                server.base_url()
            ))
            .header("x-acs-dingtalk-access-token", server.issue_token())
            .json(&body)
            .send()
            .await
            .expect("a response");
        assert_eq!(response.status(), 400, "{body}");
        let answer: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(answer["code"], "paramsError", "{body}");
    }
}

#[tokio::test]
async fn a_recurring_room_code_lists_its_instances_a_page_at_a_time() {
    let (_server, api) = start().await;
    let code = seeded::RECURRING_ROOM_CODE;
    let all = api
        .query_conference_info_by_room_code(code, None, None)
        .await
        .expect("found")
        .into_inner();
    assert_eq!((all.total_count, all.has_more), (Some(3), Some(false)));
    assert_eq!(all.next_token, None);
    let list = all.conference_list.clone().unwrap_or_default();
    let ids: Vec<_> = list.iter().map(|c| c.conference_id.as_deref()).collect();
    assert_eq!(
        ids,
        [
            Some(seeded::RECURRING_JANUARY),
            Some(seeded::RECURRING_FEBRUARY),
            Some(seeded::SCHEDULED)
        ]
    );
    let schedule_ids: HashSet<_> = all
        .conference_list
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|c| c.schedule_conference_id.clone())
        .collect();
    assert_eq!(schedule_ids.len(), 1);
    for conference in &all.conference_list.clone().unwrap_or_default() {
        assert_eq!(conference.room_code.as_deref(), Some(code));
        assert_eq!(conference.biz_type.as_deref(), Some("3"));
        if conference.status == Some(1) {
            let (start, end) = (
                conference.start_time.expect("start"),
                conference.end_time.expect("end"),
            );
            assert_eq!(conference.conf_duration, Some(end - start));
        } else {
            assert_eq!(conference.end_time, None);
        }
    }

    let first = api
        .query_conference_info_by_room_code(code, Some(2), None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(first.conference_list.clone().unwrap_or_default().len(), 2);
    assert_eq!((first.has_more, first.total_count), (Some(true), Some(3)));
    let token = first.next_token.expect("a cursor");
    let last = api
        .query_conference_info_by_room_code(code, Some(2), Some(&token))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(last.conference_list.clone().unwrap_or_default().len(), 1);
    assert_eq!((last.has_more, last.next_token), (Some(false), None));
    assert_eq!(
        last.conference_list.clone().unwrap_or_default()[0]
            .conference_id
            .as_deref(),
        Some(seeded::SCHEDULED)
    );
}

#[tokio::test]
async fn room_code_lookups_refuse_bad_codes_and_paging() {
    let (server, api) = start().await;
    let unknown = api
        .query_conference_info_by_room_code("99999999999", None, None)
        .await
        .expect("an empty answer")
        .into_inner();
    assert!(
        unknown
            .conference_list
            .clone()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        (unknown.total_count, unknown.has_more),
        (Some(0), Some(false))
    );
    assert_eq!(
        error(
            api.query_conference_info_by_room_code("12ab", None, None)
                .await
        ),
        (400, "invalidRoomCode".into())
    );
    assert_eq!(
        error(
            api.query_conference_info_by_room_code(seeded::RECURRING_ROOM_CODE, Some(0), None)
                .await
        ),
        (400, "paramError".into())
    );
    for token in ["x", "4", "-1"] {
        assert_eq!(
            error(
                api.query_conference_info_by_room_code(
                    seeded::RECURRING_ROOM_CODE,
                    None,
                    Some(token)
                )
                .await
            ),
            (400, "paramError".into()),
            "{token}"
        );
    }
    let (status, body) = raw_get(&server, "/v1.0/conference/roomCodes//infos").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("missingRoomCode"))
    );
}

#[tokio::test]
async fn room_code_default_page_is_ten() {
    let (server, api) = start().await;
    let code = "12345678901";
    for n in 0..DEFAULT_ROOM_CODE_PAGE_SIZE + 2 {
        let mut info = server.conference(seeded::ENDED).expect("seeded");
        info.conference_id = Some(format!("{n:024x}"));
        info.room_code = Some(code.to_owned());
        server.upsert_conference(info);
    }
    let page = api
        .query_conference_info_by_room_code(code, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        page.conference_list.clone().unwrap_or_default().len(),
        DEFAULT_ROOM_CODE_PAGE_SIZE
    );
    assert_eq!(page.has_more, Some(true));
    assert_eq!(
        page.total_count,
        Some(i32::try_from(DEFAULT_ROOM_CODE_PAGE_SIZE + 2).expect("small"))
    );
}

#[tokio::test]
async fn every_new_operation_needs_a_valid_token() {
    let (server, _api) = start().await;
    let stranger = fake::api_with_token(&server, "not-a-token");
    let no_token = Client::new_with_client(&server.base_url(), fake::http(), RequestContext::new());
    for api in [&stranger, &no_token] {
        let results = [
            error(api.create_video_conference(&create_request("t", &[])).await),
            error(
                api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
                    .await,
            ),
            error(
                api.query_conference_info_batch(&batch(&[seeded::STARTED]))
                    .await,
            ),
            error(
                api.query_conference_info_by_room_code(seeded::RECURRING_ROOM_CODE, None, None)
                    .await,
            ),
            error(
                api.query_conference_members(seeded::STARTED, None, None)
                    .await,
            ),
            error(
                api.query_cloud_record_video(seeded::ENDED, seeded::ENDED_HOST)
                    .await,
            ),
            error(
                api.query_cloud_record_video_play_info(seeded::ENDED, "m", "r", "u")
                    .await,
            ),
            error(
                api.query_cloud_record_text(seeded::ENDED, None, None, None, None, None)
                    .await,
            ),
        ];
        for result in results {
            assert_eq!(result, (400, "InvalidAuthentication".into()));
        }
    }
    // Refused before anything changed.
    assert_eq!(
        server.conference(seeded::STARTED).and_then(|c| c.status),
        Some(2)
    );
}

#[tokio::test]
async fn members_helper_reads_what_set_members_wrote() {
    let server = MockServer::start().await.expect("server");
    let members = vec![ConferenceMember {
        union_id: Some("only".into()),
        ..ConferenceMember::default()
    }];
    server.set_members(seeded::ENDED, members.clone());
    assert_eq!(server.members(seeded::ENDED), members);
    assert!(server.members("unknown").is_empty());
}

#[tokio::test]
async fn new_operations_go_through_the_fault_queue_by_operation_and_resource_id() {
    let (server, api) = start().await;
    server.push_fault(
        FaultScope::Operation {
            operation_id: "queryConferenceInfoByRoomCode".into(),
            id: Some(seeded::RECURRING_ROOM_CODE.into()),
            times: Some(1),
        },
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    server.push_fault(
        FaultScope::Operation {
            operation_id: "closeVideoConference".into(),
            id: None,
            times: Some(1),
        },
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "SYSTEM ERROR".into(),
        },
    );
    // Another room code passes; the named one is throttled once, then served.
    assert!(
        api.query_conference_info_by_room_code("427261183", None, None)
            .await
            .is_ok()
    );
    assert_eq!(
        error(
            api.query_conference_info_by_room_code(seeded::RECURRING_ROOM_CODE, None, None)
                .await
        ),
        (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into())
    );
    assert!(
        api.query_conference_info_by_room_code(seeded::RECURRING_ROOM_CODE, None, None)
            .await
            .is_ok()
    );
    // A faulted close changes nothing; the next one closes.
    assert_eq!(
        error(
            api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
                .await
        ),
        (500, "systemError".into())
    );
    assert_eq!(
        server.conference(seeded::STARTED).and_then(|c| c.status),
        Some(2)
    );
    assert!(
        api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
            .await
            .is_ok()
    );
    assert_eq!(server.counters().faults_served, 2);

    // Every request is logged as received, and every answer carries a request id.
    let logged: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert!(logged.contains(&(
        "DELETE".into(),
        format!(
            "/v1.0/conference/videoConferences/{}?unionId={}",
            seeded::STARTED,
            seeded::STARTED_HOST
        )
    )));
    let response = fake::http()
        .get(format!(
            "{}/v1.0/conference/videoConferences/{}/members",
            server.base_url(),
            seeded::ENDED
        ))
        .header("x-acs-dingtalk-access-token", server.issue_token())
        .send()
        .await
        .expect("a response");
    assert!(response.headers().contains_key("x-acs-request-id"));
}
