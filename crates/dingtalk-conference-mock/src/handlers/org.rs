//! The operations of the organisation's conferences in progress, ext info, auto-login URLs,
//! subtitle events and member nicknames.
//!
//! DingTalk documents only `queryOrgConferenceList`; for the others this server's choices
//! (which conferences they accept, which errors they answer) are written on each handler and
//! in docs/conference-operations.md.

use dingtalk_conference_api::types::{
    AutoLoginInfo, ConferenceInfo, CreateAutoLoginUrlResponse, OrgConference,
    QueryOrgConferenceListResponse, SetSubtitleEventResponse, UpdateMemberNickResponse,
    UpdateVideoConferenceExtInfoResponse,
};
use rand::Rng;

use super::{Handler, offset_token, open_conference, page, page_size, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    CreateAutoLoginUrl, QueryOrgConferenceList, SetSubtitleEvent, UpdateMemberNick,
    UpdateVideoConferenceExtInfo,
};
use crate::state::State;

/// The page size of `queryOrgConferenceList` when `maxResults` is absent: 10.
///
/// A choice of this fake server: DingTalk documents neither a default nor a maximum (its
/// example asks for 10). This server has no maximum.
pub const DEFAULT_ORG_CONFERENCES_PAGE_SIZE: usize = 10;

/// The share-link prefixes `createAutoLoginUrl` accepts, each followed by a room code: the
/// format of DingTalk's example (`https://meeting.dingtalk.com/j/xxxx`), on either edition's
/// meeting host. A choice of this fake server: DingTalk documents neither the link's format
/// nor what it checks.
pub const MEETING_LINK_PREFIXES: [&str; 2] = [
    "https://meeting.dingtalk.com/j/",
    "https://meeting.dingtalk.io/j/",
];

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "queryOrgConferenceList" => typed!(query_org_conference_list),
        "updateVideoConferenceExtInfo" => typed!(update_video_conference_ext_info),
        "createAutoLoginUrl" => typed!(create_auto_login_url),
        "setSubtitleEvent" => typed!(set_subtitle_event),
        "updateMemberNick" => typed!(update_member_nick),
        _ => return None,
    })
}

/// The conferences in progress (`status` 2), oldest first (by start, then id), a page at a
/// time: `nextToken` is the offset of the page (absent, or `"0"`, for the first; absent in the
/// answer on the last page, with `hasMore` false). A conference that ends drops out; one
/// created appears. `400 paramError` for a `nextToken` this server did not hand out (the
/// spec's checks refuse a `maxResults` below 1 when parsed). The server holds one
/// organisation, so every conference is the organisation's.
fn query_org_conference_list(
    request: QueryOrgConferenceList,
    state: &mut State,
) -> Result<QueryOrgConferenceListResponse, Failure> {
    let size = page_size(request.max_results, DEFAULT_ORG_CONFERENCES_PAGE_SIZE);
    let mut conferences: Vec<ConferenceInfo> = state
        .conferences()
        .into_iter()
        .filter(|info| info.status == Some(2))
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
    Ok(QueryOrgConferenceListResponse {
        has_more: Some(next_token.is_some()),
        next_token,
        total_count: Some(total_count),
        on_going_conf_list: Some(
            conferences
                .into_iter()
                .map(|info| OrgConference {
                    conference_id: info.conference_id,
                    title: info.title,
                    room_code: info.room_code,
                    status: info.status,
                    biz_type: info.biz_type,
                    creator_id: info.creator_id,
                    creator_nick: info.creator_nick,
                    start_time: info.start_time,
                    end_time: info.end_time,
                })
                .collect(),
        ),
    })
}

/// Answers `code` `"200"` (no failure reason) for a conference not ended, and changes
/// nothing: DingTalk's SDKs send no ext info, so there is nothing to store. `404 roomNotFound`
/// for an unknown conference, `400 resourceClose` for an ended one (the conference service's
/// code for an ended conference, as `closeVideoConference` answers it). DingTalk documents
/// none of this.
fn update_video_conference_ext_info(
    request: UpdateVideoConferenceExtInfo,
    state: &mut State,
) -> Result<UpdateVideoConferenceExtInfoResponse, Failure> {
    open_conference(
        state,
        &request.conference_id,
        "resourceClose",
        "The meeting has ended",
    )?;
    Ok(UpdateVideoConferenceExtInfoResponse {
        case: None,
        code: Some("200".to_owned()),
    })
}

/// A new login URL for a meeting share link, different on every call (a random token in it).
///
/// The link must be one of [`MEETING_LINK_PREFIXES`] followed by a room code (digits; a query
/// or fragment after it is ignored), else `400 paramsError`. The room code must be one the
/// server holds (else `404 roomNotFound`) with a conference not ended (else `400
/// resourceClose`). The unionId must look like DingTalk's (ASCII letters and digits), else
/// `400 unknownUserError`: the fake keeps no user directory, and anyone may open a meeting
/// link, so membership is not required.
fn create_auto_login_url(
    request: CreateAutoLoginUrl,
    state: &mut State,
) -> Result<CreateAutoLoginUrlResponse, Failure> {
    let request = request.body;
    let room_code = MEETING_LINK_PREFIXES
        .iter()
        .find_map(|prefix| request.meeting_url.strip_prefix(prefix))
        .map(|rest| rest.split(['?', '#']).next().unwrap_or_default())
        .filter(|code| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Failure::bad_request(
                "paramsError",
                "error:meetingUrl is not a meeting share link (https://meeting.dingtalk.com/j/<room code>)",
            )
        })?
        .to_owned();
    if !request.union_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Failure::bad_request(
            "unknownUserError",
            "unknownUserError:unionId",
        ));
    }
    let statuses: Vec<Option<i32>> = state
        .conferences()
        .into_iter()
        .filter(|info| info.room_code.as_deref() == Some(room_code.as_str()))
        .map(|info| info.status)
        .collect();
    if statuses.is_empty() {
        return Err(Failure::room_not_found());
    }
    if statuses.iter().all(|status| *status == Some(1)) {
        return Err(Failure::bad_request(
            "resourceClose",
            "The meeting has ended",
        ));
    }
    let token = state.rng().random::<u128>();
    Ok(CreateAutoLoginUrlResponse {
        success: Some(true),
        login_info: Some(AutoLoginInfo {
            login_url: Some(format!(
                "https://meeting.dingtalk.com/j/{room_code}?autoLogin=1&loginToken={token:032x}"
            )),
        }),
    })
}

/// Turns a conference's subtitle events on or off ([`State::subtitle_events`]; DingTalk has
/// no read that shows it, the [`MockServer`](crate::MockServer) does). `404 roomNotFound`
/// for an unknown conference, `400 confClosed` for an ended one: DingTalk documents no error
/// for this operation; `confClosed` is what LockConference documents for an ended conference.
fn set_subtitle_event(
    request: SetSubtitleEvent,
    state: &mut State,
) -> Result<SetSubtitleEventResponse, Failure> {
    let id = request.conference_id;
    open_conference(state, &id, "confClosed", "conference closed")?;
    state.set_subtitle_events(&id, request.body.enable);
    Ok(SetSubtitleEventResponse {
        success: Some(true),
    })
}

/// Gives every member record of `unionId` in the conference the nickname `nick`, as
/// `queryConferenceMembers` (`userNick`) and the batch query (`nick`) then show it. Any member
/// record counts (also of someone who left: they keep the name if they rejoin). `404
/// roomNotFound` for an unknown conference, `400 confClosed` for an ended one (as
/// [`set_subtitle_event`]), `400 unknownUserError` for someone with no member record in it.
fn update_member_nick(
    request: UpdateMemberNick,
    state: &mut State,
) -> Result<UpdateMemberNickResponse, Failure> {
    let id = request.conference_id;
    open_conference(state, &id, "confClosed", "conference closed")?;
    let body = request.body;
    let mut renamed = false;
    for record in state.members_mut(&id).iter_mut() {
        if record.member.union_id.as_deref() == Some(body.union_id.as_str()) {
            record.member.user_nick = Some(body.nick.clone());
            renamed = true;
        }
    }
    if !renamed {
        return Err(Failure::bad_request(
            "unknownUserError",
            "unknownUserError:the user is not a member of the conference",
        ));
    }
    Ok(UpdateMemberNickResponse {
        success: Some(true),
    })
}
