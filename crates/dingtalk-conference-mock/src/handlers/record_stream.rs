//! The operations of starting and stopping cloud recording, the recording allow-list, live
//! streaming out.
//!
//! Cloud recording (`startCloudRecord`, `stopCloudRecord`) follows DingTalk's pages: `404
//! roomNotFound` for an unknown conference, `400 roomClosed` once it has ended, and only the
//! host (the conference's `creatorId`) may start (`404 recordStartPermissionError`) or stop
//! (`400 recordStopPermissionError`). Starting sets `cloudRecordStatus` 1 and the owner as
//! `queryConferenceInfo` shows them; stopping sets 3 (finished) and adds the stretch just
//! recorded (videos, and a transcript of the members in the conference) to what
//! `queryCloudRecordVideo` and `queryCloudRecordText` read. DingTalk documents no answer to a
//! second start or to a stop with nothing recording: this server answers `404
//! recordStartError` and `400 recordStopError`; a conference not started yet cannot be
//! recorded (`404 recordStartError`). A finished recording may be started again: the next
//! stretch is added to it.
//!
//! Live pushes (`startStreamOut`, `stopStreamOut`) are kept per conference with their ids.
//! DingTalk documents `unknownUserError` and `paramsError` for them; this server answers
//! `400 unknownUserError` when `unionId` is nobody in the conference, and `400 paramsError`
//! for a conference not in progress and for a `streamId` that is not pushing.
//!
//! The recording allow-list (`optRecordWhiteAccount`, undocumented) is kept per `bizType` and
//! changes nothing else; see [`opt_record_white_account`].

use dingtalk_conference_api::checks::ids;
use dingtalk_conference_api::types::{
    OptRecordWhiteAccountRequestBody, OptRecordWhiteAccountResponse, StartCloudRecordResponse,
    StartStreamOutResponse, StopCloudRecordResponse, StopStreamOutResponse,
};
use http::StatusCode;
use rand::Rng;

use super::{Handler, open_conference, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    OptRecordWhiteAccount, StartCloudRecord, StartStreamOut, StopCloudRecord, StopStreamOut,
};
use crate::seed;
use crate::state::{LiveStream, State, now_millis};

/// The `code` of every success: DingTalk documents the string `"200"`.
const OK_CODE: &str = "200";

/// `operation` of `optRecordWhiteAccount` that adds the ranges to the list. A choice of this
/// fake: DingTalk documents no values (its SDK's example is 1).
pub const ALLOW_LIST_ADD: i32 = 1;
/// `operation` of `optRecordWhiteAccount` that removes the ranges from the list (this fake's
/// choice, as [`ALLOW_LIST_ADD`]); any value but this one adds.
pub const ALLOW_LIST_REMOVE: i32 = 2;

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "startCloudRecord" => typed!(start_cloud_record),
        "stopCloudRecord" => typed!(stop_cloud_record),
        "optRecordWhiteAccount" => typed!(opt_record_white_account),
        "startStreamOut" => typed!(start_stream_out),
        "stopStreamOut" => typed!(stop_stream_out),
        _ => return None,
    })
}

/// Starts the cloud recording, for the host of a conference in progress.
fn start_cloud_record(
    request: StartCloudRecord,
    state: &mut State,
) -> Result<StartCloudRecordResponse, Failure> {
    let id = request.conference_id;
    let mut info = open_conference(state, &id, "roomClosed", "the meeting has ended")?;
    let refused = |code: &'static str, message: &str| Failure {
        status: StatusCode::NOT_FOUND,
        code,
        message: message.to_owned(),
    };
    if info.creator_id.as_deref() != Some(request.body.union_id.as_str()) {
        return Err(refused(
            "recordStartPermissionError",
            "permissionError:only the host may start cloud recording",
        ));
    }
    if info.status != Some(2) {
        return Err(refused(
            "recordStartError",
            "recordStartError:the meeting has not started",
        ));
    }
    if matches!(info.cloud_record_status, Some(1 | 2)) {
        return Err(refused(
            "recordStartError",
            "recordStartError:cloud recording is running already",
        ));
    }
    info.cloud_record_status = Some(1);
    info.cloud_record_owner_union_id = Some(request.body.union_id);
    state.replace_conference(&id, info);
    state.set_recording_started(&id, now_millis());
    Ok(StartCloudRecordResponse {
        code: Some(OK_CODE.to_owned()),
    })
}

/// Stops the cloud recording, for the host: the stretch since it started (for a recording
/// this server did not see start, since the conference started) becomes readable.
fn stop_cloud_record(
    request: StopCloudRecord,
    state: &mut State,
) -> Result<StopCloudRecordResponse, Failure> {
    let id = request.conference_id;
    let mut info = open_conference(state, &id, "roomClosed", "the meeting has ended")?;
    if info.creator_id.as_deref() != Some(request.body.union_id.as_str()) {
        return Err(Failure::bad_request(
            "recordStopPermissionError",
            "you can't operator, please contact meeting manager",
        ));
    }
    if !matches!(info.cloud_record_status, Some(1 | 2)) {
        return Err(Failure::bad_request(
            "recordStopError",
            "record stop error, nothing is being recorded",
        ));
    }
    let end = now_millis();
    let start = state
        .take_recording_started(&id)
        .or(info.start_time)
        .unwrap_or(end)
        .min(end);
    info.cloud_record_status = Some(3);
    state.replace_conference(&id, info.clone());
    let members = state.members(&id).to_vec();
    let stretch = seed::recorded_stretch(&info, &members, start, end);
    state.append_recording(&id, stretch);
    Ok(StopCloudRecordResponse {
        code: Some(OK_CODE.to_owned()),
    })
}

/// Adds ranges to, or removes them from, the allow-list of the change's `bizType`.
///
/// `requestBody` must be the JSON of the change, with a non-blank `bizType`, a valid
/// `unionId`, at least one range, each with a non-blank id, and `operation`
/// [`ALLOW_LIST_ADD`] or [`ALLOW_LIST_REMOVE`]; anything else is `400 paramsError`. The list
/// is a set: adding an entry twice, or removing one that is not there, changes nothing. Any
/// valid `unionId` may change it (DingTalk documents no permission).
fn opt_record_white_account(
    request: OptRecordWhiteAccount,
    state: &mut State,
) -> Result<OptRecordWhiteAccountResponse, Failure> {
    let params = |message: String| Failure::bad_request("paramsError", message);
    let change: OptRecordWhiteAccountRequestBody = serde_json::from_str(&request.request_body)
        .map_err(|_| params("error:requestBody is not the JSON of a change".to_owned()))?;
    ids::union("unionId", &change.union_id).map_err(|error| params(format!("error:{error}")))?;
    if change.biz_type.trim().is_empty() {
        return Err(params("error:bizType is empty".to_owned()));
    }
    if change.setting_range_list.is_empty() {
        return Err(params("error:settingRangeList is empty".to_owned()));
    }
    if change
        .setting_range_list
        .iter()
        .any(|range| range.setting_range_id.trim().is_empty())
    {
        return Err(params("error:a settingRangeId is empty".to_owned()));
    }
    let entries = change
        .setting_range_list
        .into_iter()
        .map(|range| (range.setting_range_id, range.setting_range_type));
    let list = state.record_allow_list_mut(&change.biz_type);
    // DingTalk documents no value set (its SDK's example is 1): this fake removes on 2 and adds
    // on any other value.
    if change.operation == ALLOW_LIST_REMOVE {
        for entry in entries {
            list.remove(&entry);
        }
    } else {
        list.extend(entries);
    }
    Ok(OptRecordWhiteAccountResponse {
        code: Some(OK_CODE.to_owned()),
    })
}

/// Conference `id` in progress with `union_id` among its members: `404 roomNotFound`, `400
/// paramsError` for one not in progress, `400 unknownUserError` for someone not in it.
fn streaming_conference(id: &str, union_id: &str, state: &mut State) -> Result<(), Failure> {
    let info = state.conference(id).ok_or_else(Failure::room_not_found)?;
    match info.status {
        Some(2) => {}
        Some(1) => {
            return Err(Failure::bad_request(
                "paramsError",
                "error:the meeting has ended",
            ));
        }
        _ => {
            return Err(Failure::bad_request(
                "paramsError",
                "error:the meeting has not started",
            ));
        }
    }
    let member = state
        .members(id)
        .iter()
        .any(|record| record.member.union_id.as_deref() == Some(union_id));
    if !member {
        return Err(Failure::bad_request(
            "unknownUserError",
            "unknownUserError:the user is not in this meeting",
        ));
    }
    Ok(())
}

/// Why this server will not push to `url`, if it will not: DingTalk takes only addresses
/// starting with `rtmp` (this server: the schemes `rtmp` and `rtmps`, with a host).
fn refused_url(url: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("stream url must start with rtmp://");
    };
    if !scheme.eq_ignore_ascii_case("rtmp") && !scheme.eq_ignore_ascii_case("rtmps") {
        return Some("stream url must start with rtmp://");
    }
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Some("stream url has no host");
    }
    None
}

/// Starts a push to each address (each once, in the order given): a new stream id for each
/// accepted one in `successStreamMap`, the reason for each refused one in `failStreamMap`
/// (not `rtmp`, or pushed to already in this conference). `needHostJoin` is kept by DingTalk
/// for when pushing begins; this server starts at once either way.
fn start_stream_out(
    request: StartStreamOut,
    state: &mut State,
) -> Result<StartStreamOutResponse, Failure> {
    let id = request.conference_id;
    let body = request.body;
    streaming_conference(&id, &body.union_id, state)?;
    let mut success = serde_json::Map::new();
    let mut fail = serde_json::Map::new();
    for url in body.stream_url_list {
        if success.contains_key(&url) || fail.contains_key(&url) {
            continue;
        }
        let pushing = state
            .streams_mut(&id)
            .iter()
            .any(|stream| stream.url == url);
        if let Some(reason) = refused_url(&url) {
            fail.insert(url, reason.into());
            continue;
        }
        if pushing {
            fail.insert(url, "already pushing to this url".into());
            continue;
        }
        let stream_id = loop {
            let candidate = format!("{:024x}", state.rng().random::<u128>() >> 32);
            if !state.stream_id_used(&candidate) {
                break candidate;
            }
        };
        state.streams_mut(&id).push(LiveStream {
            id: stream_id.clone(),
            url: url.clone(),
            name: body.stream_name.clone(),
        });
        success.insert(url, stream_id.into());
    }
    Ok(StartStreamOutResponse {
        success_stream_map: Some(success),
        fail_stream_map: Some(fail),
    })
}

/// Stops one push by id, or with `stopAllStream` every push of the conference (none running
/// is fine then). A `streamId` that is not pushing in this conference is `400 paramsError`.
fn stop_stream_out(
    request: StopStreamOut,
    state: &mut State,
) -> Result<StopStreamOutResponse, Failure> {
    let id = request.conference_id;
    let body = request.body;
    streaming_conference(&id, &body.union_id, state)?;
    let streams = state.streams_mut(&id);
    if body.stop_all_stream {
        streams.clear();
    } else {
        let before = streams.len();
        streams.retain(|stream| stream.id != body.stream_id);
        if streams.len() == before {
            return Err(Failure::bad_request(
                "paramsError",
                "error:no live push with this streamId",
            ));
        }
    }
    Ok(StopStreamOutResponse {
        code: Some(OK_CODE.to_owned()),
    })
}
