//! The conference operations: query one, create, close, query several at once, look up by
//! room code, and list members.

use dingtalk_conference_api::types::{
    CloseVideoConferenceResponse, ConferenceInfo, ConferenceMember, ConferenceParticipant,
    ConferenceSummary, CreateVideoConferenceResponse, QueryConferenceInfoBatchResponse,
    QueryConferenceInfoByRoomCodeResponse, QueryConferenceInfoResponse,
    QueryConferenceMembersResponse, QueryUserOnGoingConferenceResponse, RoomConference,
};
use http::StatusCode;
use rand::Rng;

use super::{Handler, offset_token, page, page_size, typed};
use crate::events::emit::{CONFERENCE_CREATED, USER_INVITED, USER_JOIN};
use crate::requests::Failure;
use crate::requests_generated::{
    CloseVideoConference, CreateVideoConference, QueryConferenceInfo, QueryConferenceInfoBatch,
    QueryConferenceInfoByRoomCode, QueryConferenceMembers, QueryUserOnGoingConference,
};
use crate::state::{MemberRecord, State, now_millis};

/// The most conference ids `queryConferenceInfoBatch` takes in one call; a longer
/// `conferenceIdList` is refused with `400 paramsError`.
///
/// A choice of this fake server: DingTalk documents no maximum length. The number is small so
/// that a client's chunking of long lists is easy to test.
pub const MAX_BATCH_IDS: usize = 20;

/// The page size of `queryConferenceMembers` when `maxResults` is absent: 128, DingTalk's
/// documented default (it documents no maximum, and neither has this server).
pub const DEFAULT_MEMBERS_PAGE_SIZE: usize = 128;

/// The page size of `queryConferenceInfoByRoomCode` when `maxResults` is absent: 10.
///
/// A choice of this fake server: DingTalk documents neither a default nor a maximum (its
/// example asks for 10). This server has no maximum.
pub const DEFAULT_ROOM_CODE_PAGE_SIZE: usize = 10;

/// How many characters of `confTitle` a conference keeps; longer titles are cut. (The longest
/// accepted, 256, is the spec's `maxLength`, checked when the request is parsed.)
const TITLE_KEPT_CHARS: usize = 50;

/// The dial-in numbers of every created conference (fictitious).
const PHONE_NUMBERS: [&str; 2] = ["+86 21 6080 0000", "+852 5808 0000"];

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "queryConferenceInfo" => typed!(query_conference_info),
        "createVideoConference" => typed!(create_video_conference),
        "closeVideoConference" => typed!(close_video_conference),
        "queryConferenceInfoBatch" => typed!(query_conference_info_batch),
        "queryConferenceInfoByRoomCode" => typed!(query_conference_info_by_room_code),
        "queryConferenceMembers" => typed!(query_conference_members),
        "queryUserOnGoingConference" => typed!(query_user_on_going_conference),
        _ => return None,
    })
}

/// One conference: `404 roomNotFound` if the server does not hold it.
fn query_conference_info(
    request: QueryConferenceInfo,
    state: &mut State,
) -> Result<QueryConferenceInfoResponse, Failure> {
    let info = state
        .conference(&request.conference_id)
        .ok_or_else(Failure::room_not_found)?;
    Ok(QueryConferenceInfoResponse {
        conf_info: Some(info),
    })
}

/// A new instant conference, started at once with the organiser in it as its host and each
/// distinct invitee being called (`attendStatus` 2). `inviteCaller` (a boolean if present,
/// checked when parsed) changes nothing here: the organiser is in the conference either way.
/// The title is cut to [`TITLE_KEPT_CHARS`] characters; invitees are kept once each, in the
/// order given, without the organiser.
fn create_video_conference(
    request: CreateVideoConference,
    state: &mut State,
) -> Result<CreateVideoConferenceResponse, Failure> {
    let request = request.body;
    let mut invitees: Vec<String> = Vec::new();
    for id in request.invite_user_ids {
        if id != request.user_id && !invitees.contains(&id) {
            invitees.push(id);
        }
    }
    let title: String = request.conf_title.chars().take(TITLE_KEPT_CHARS).collect();
    let id = loop {
        let id = format!("{:024x}", state.rng().random::<u128>() >> 32);
        if state.conference(&id).is_none() {
            break id;
        }
    };
    let room_codes: Vec<Option<String>> = state
        .conferences()
        .into_iter()
        .map(|c| c.room_code)
        .collect();
    let room_code = loop {
        let code = state
            .rng()
            .random_range(10_000_000_000_u64..100_000_000_000)
            .to_string();
        if !room_codes.iter().any(|used| used.as_deref() == Some(&code)) {
            break code;
        }
    };
    let digits = |state: &mut State| {
        state
            .rng()
            .random_range(1_000_000_000_u64..10_000_000_000)
            .to_string()
    };
    let (conference_password, host_password) = (digits(state), digits(state));
    let link_token = state.rng().random::<u64>() & 0xffff_ffff_ffff;
    let external_link_url =
        format!("https://meeting.dingtalk.io/app?roomCode={room_code}&token=1_{link_token:012x}");
    let now = now_millis();
    let creator_nick = nick_for(&request.user_id);
    let invited = i32::try_from(invitees.len()).unwrap_or(i32::MAX);
    state.upsert(ConferenceInfo {
        conference_id: Some(id.clone()),
        title: Some(title),
        status: Some(2),
        biz_type: Some("0".to_owned()),
        creator_id: Some(request.user_id.clone()),
        creator_nick: Some(creator_nick.clone()),
        room_code: Some(room_code.clone()),
        external_link_url: Some(external_link_url.clone()),
        start_time: Some(now),
        active_num: Some(1),
        attend_num: Some(1),
        invited_num: Some(invited),
        cloud_record_status: Some(0),
        ..ConferenceInfo::default()
    });
    let host = MemberRecord {
        member: ConferenceMember {
            union_id: Some(request.user_id),
            conference_id: Some(id.clone()),
            user_nick: Some(creator_nick),
            join_time: Some(now),
            host: Some(true),
            co_host: Some(false),
            attend_status: Some(3),
            pstn_join: Some(false),
            ..ConferenceMember::default()
        },
        camera_status: 2,
        mic_status: 2,
        reject_description: None,
    };
    let invitees = invitees.into_iter().map(|union_id| {
        MemberRecord::new(ConferenceMember {
            user_nick: Some(nick_for(&union_id)),
            union_id: Some(union_id),
            conference_id: Some(id.clone()),
            host: Some(false),
            co_host: Some(false),
            attend_status: Some(2),
            pstn_join: Some(false),
            ..ConferenceMember::default()
        })
    });
    let members: Vec<MemberRecord> = std::iter::once(host).chain(invitees).collect();
    // events: created (statusSeqNum 1), the organiser in (2), the invitees called (3).
    let (organiser, called): (Vec<_>, Vec<_>) = members
        .iter()
        .map(|record| record.member.clone())
        .partition(|member| member.host == Some(true));
    state.set_members(&id, members);
    state.emitter.created_by_api(&id);
    state.emit_conference_change(&id, CONFERENCE_CREATED);
    state.emit_member_change(&id, &organiser, USER_JOIN);
    state.emit_member_change(&id, &called, USER_INVITED);
    Ok(CreateVideoConferenceResponse {
        conference_id: Some(id),
        conference_password: Some(conference_password),
        host_password: Some(host_password),
        external_link_url: Some(external_link_url),
        phone_numbers: Some(PHONE_NUMBERS.iter().map(|n| (*n).to_owned()).collect()),
        room_code: Some(room_code),
    })
}

/// The nickname this server gives someone it only knows by unionId.
fn nick_for(union_id: &str) -> String {
    let short: String = union_id
        .chars()
        .filter(|c| !c.is_control())
        .take(6)
        .collect();
    format!("用户{short}")
}

/// Ends a conference, for its host only.
///
/// `404 roomNotFound` for an unknown conference; `403 noPermission` when `unionId` is not the
/// conference's `creatorId` (its host); `400 resourceClose` ("The meeting has ended") when it
/// has ended already. DingTalk's page for this operation lists `404 permissionError` among its
/// codes, but for a group permission limit; refusing someone who is not the host is what
/// `noPermission` (403) means on the query pages, so this server answers that. Any body is
/// ignored (DingTalk's SDK sends none).
fn close_video_conference(
    request: CloseVideoConference,
    state: &mut State,
) -> Result<CloseVideoConferenceResponse, Failure> {
    let id = request.conference_id;
    let info = state.conference(&id).ok_or_else(Failure::room_not_found)?;
    if info.creator_id.as_deref() != Some(request.union_id.as_str()) {
        return Err(Failure {
            status: StatusCode::FORBIDDEN,
            code: "noPermission",
            message: "only the host may close the meeting".to_owned(),
        });
    }
    if info.status == Some(1) {
        return Err(Failure::bad_request(
            "resourceClose",
            "The meeting has ended",
        ));
    }
    state.end_conference(&id, now_millis());
    Ok(CloseVideoConferenceResponse {
        code: Some(200),
        cause: Some("success".to_owned()),
    })
}

/// The conferences in progress (`status` 2) among `conferenceIdList`, each once, in the order
/// asked. Unknown ids and conferences not started or ended are left out without an error
/// (DingTalk answers only for conferences in progress, and documents no error for the others).
/// `400 paramsError` for a list longer than [`MAX_BATCH_IDS`] (this fake's own limit; the
/// spec's checks refuse a missing or empty list, or one holding anything but conference ids).
fn query_conference_info_batch(
    request: QueryConferenceInfoBatch,
    state: &mut State,
) -> Result<QueryConferenceInfoBatchResponse, Failure> {
    let ids = request.body.conference_id_list;
    if ids.len() > MAX_BATCH_IDS {
        return Err(Failure::bad_request(
            "paramsError",
            format!("error:conferenceIdList must hold 1 to {MAX_BATCH_IDS} ids"),
        ));
    }
    let mut infos = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for id in &ids {
        if seen.contains(&id.as_str()) {
            continue;
        }
        seen.push(id);
        let Some(info) = state.conference(id).filter(|info| info.status == Some(2)) else {
            continue;
        };
        // part control: a mute-all shows as the conference's media status.
        let media_status = state.media_status(id);
        let user_list = state
            .members(id)
            .iter()
            .map(|record| ConferenceParticipant {
                user_id: record.member.union_id.clone(),
                nick: record.member.user_nick.clone(),
                attend_status: record.member.attend_status.map(i64::from),
                camera_status: Some(record.camera_status),
                mic_status: Some(record.mic_status),
                reject_description: record.reject_description.clone(),
            })
            .collect::<Vec<_>>();
        infos.push(ConferenceSummary {
            conference_id: info.conference_id,
            title: info.title,
            start_time: info.start_time,
            status: info.status.map(i64::from),
            media_status: Some(media_status),
            user_list: Some(user_list),
        });
    }
    Ok(QueryConferenceInfoBatchResponse { infos: Some(infos) })
}

/// The conferences that use a room code, oldest first, a page at a time: `nextToken` is the
/// offset of the page (absent on the last page). An unknown code has no conferences (`200`,
/// `totalCount` 0). `400 paramError` for a `nextToken` this server did not hand out (the
/// spec's checks refuse an empty or non-digit code and a `maxResults` below 1 when parsed).
fn query_conference_info_by_room_code(
    request: QueryConferenceInfoByRoomCode,
    state: &mut State,
) -> Result<QueryConferenceInfoByRoomCodeResponse, Failure> {
    let code = request.room_code;
    let size = page_size(request.max_results, DEFAULT_ROOM_CODE_PAGE_SIZE);
    let mut conferences: Vec<ConferenceInfo> = state
        .conferences()
        .into_iter()
        .filter(|info| info.room_code.as_deref() == Some(code.as_str()))
        .collect();
    conferences
        .sort_by(|a, b| (a.start_time, &a.conference_id).cmp(&(b.start_time, &b.conference_id)));
    let offset = offset_token(
        request.next_token.as_deref(),
        conferences.len(),
        "paramError",
    )?;
    let total_count = i32::try_from(conferences.len()).unwrap_or(i32::MAX);
    let (conferences, next_token) = page(&conferences, offset, size);
    Ok(QueryConferenceInfoByRoomCodeResponse {
        has_more: Some(next_token.is_some()),
        next_token,
        total_count: Some(total_count),
        conference_list: conferences
            .into_iter()
            .map(|info| RoomConference {
                conference_id: info.conference_id,
                title: info.title,
                room_code: info.room_code,
                external_link_url: info.external_link_url,
                status: info.status,
                start_time: info.start_time,
                end_time: info.end_time,
                conf_duration: info.conf_duration,
                creator_id: info.creator_id,
                creator_nick: info.creator_nick,
                schedule_conference_id: info.schedule_conference_id,
                biz_type: info.biz_type,
            })
            .collect::<Vec<_>>()
            .into(),
    })
}

/// A conference's members, in the order invited (the host first), a page at a time:
/// `nextToken` is the offset of the page (absent, or `"0"`, for the first; absent in the answer
/// on the last page). `404 roomNotFound` for an unknown conference, `400 paramError` for a
/// `nextToken` this server did not hand out (the spec's checks refuse an empty id and a
/// `maxResults` below 1 when parsed).
fn query_conference_members(
    request: QueryConferenceMembers,
    state: &mut State,
) -> Result<QueryConferenceMembersResponse, Failure> {
    let id = request.conference_id;
    if state.conference(&id).is_none() {
        return Err(Failure::room_not_found());
    }
    let size = page_size(request.max_results, DEFAULT_MEMBERS_PAGE_SIZE);
    let members: Vec<ConferenceMember> = state
        .members(&id)
        .iter()
        .map(|record| record.member.clone())
        .collect();
    let offset = offset_token(request.next_token.as_deref(), members.len(), "paramError")?;
    let total_count = i32::try_from(members.len()).unwrap_or(i32::MAX);
    let (member_models, next_token) = page(&members, offset, size);
    Ok(QueryConferenceMembersResponse {
        member_models: Some(member_models),
        next_token,
        total_count: Some(total_count),
    })
}

/// The conferences in progress (`status` 2) in which the user has a member record that is not
/// over (initialised, being called or in the conference: `attendStatus` 1 to 3), seeded or
/// created, in the order the server holds them, with that record keyed by conference id.
///
/// DingTalk documents neither the map's key (its example says `"key"`) nor which members
/// count; the conference id and "not left, removed or failed to join" are this fake's reading.
/// An unknown unionId has no conferences: the fake keeps no user directory, so it never answers
/// `missing.user.info`.
fn query_user_on_going_conference(
    request: QueryUserOnGoingConference,
    state: &mut State,
) -> Result<QueryUserOnGoingConferenceResponse, Failure> {
    let mut ids = Vec::new();
    let mut members = std::collections::HashMap::new();
    for info in state.conferences() {
        let Some(id) = info.conference_id.filter(|_| info.status == Some(2)) else {
            continue;
        };
        let record = state.members(&id).iter().find(|record| {
            record.member.union_id.as_deref() == Some(request.union_id.as_str())
                && matches!(record.member.attend_status, Some(1..=3))
        });
        if let Some(record) = record {
            members.insert(id.clone(), record.member.clone());
            ids.push(id);
        }
    }
    Ok(QueryUserOnGoingConferenceResponse {
        on_going_conf_id_list: Some(ids),
        member_model_map: Some(members),
    })
}
