//! The cloud recording operations: a conference's videos, a video's play links, and the
//! transcript.
//!
//! All three answer `404 roomNotFound` for an unknown conference and `400 cloudRecordNotFound`
//! for one whose cloud recording has not finished (`cloudRecordStatus` other than 3) or of
//! which this server keeps no recording. The recording stays readable after the conference
//! has ended (DingTalk's own tutorial reads it after closing the meeting). Any non-blank
//! `unionId` may read it.

use dingtalk_conference_api::types::{
    QueryCloudRecordTextResponse, QueryCloudRecordVideoPlayInfoResponse,
    QueryCloudRecordVideoResponse,
};

use super::{Call, Handler};
use crate::reply::Reply;
use crate::state::{Recording, State};

/// The page size of `queryCloudRecordText` when `maxResults` is absent: 200.
///
/// A choice of this fake server: DingTalk documents no default (its tutorial asks for 200).
pub const DEFAULT_TRANSCRIPT_PAGE_SIZE: usize = 200;

/// The largest `maxResults` `queryCloudRecordText` takes, as DingTalk documents: 2000. Outside
/// `1..=2000` the answer is `400 paramsError`.
pub const MAX_TRANSCRIPT_PAGE_SIZE: usize = 2000;

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "queryCloudRecordVideo" => query_cloud_record_video,
        "queryCloudRecordVideoPlayInfo" => query_cloud_record_video_play_info,
        "queryCloudRecordText" => query_cloud_record_text,
        _ => return None,
    })
}

/// The finished recording of the conference in the path: `400 paramsError` for an empty id,
/// `404 roomNotFound`, or `400 cloudRecordNotFound`.
fn finished_recording<'s>(call: &Call<'_>, state: &'s mut State) -> Result<&'s Recording, Reply> {
    let id = call.param("conferenceId");
    if id.is_empty() {
        return Err(call.bad_request("paramsError", "error:conferenceId is required"));
    }
    let Some(info) = state.conference(&id) else {
        return Err(call.room_not_found());
    };
    let not_found = || {
        call.bad_request(
            "cloudRecordNotFound",
            "no cloud recording found for this conference",
        )
    };
    if info.cloud_record_status != Some(3) {
        return Err(not_found());
    }
    state.recording(&id).ok_or_else(not_found)
}

/// The recording's video files (`unionId` required).
fn query_cloud_record_video(call: &Call<'_>, state: &mut State) -> Reply {
    if let Err(reply) = call.required_query("unionId") {
        return reply;
    }
    match finished_recording(call, state) {
        Ok(recording) => Reply::ok(&QueryCloudRecordVideoResponse {
            video_list: Some(recording.videos.clone()),
        }),
        Err(reply) => reply,
    }
}

/// The play links of one of the recording's videos, named by the `mediaId` and `regionId`
/// that `queryCloudRecordVideo` gave for it; any other pair is `400 cloudRecordNotFound`.
/// `mediaId`, `regionId` and `unionId` are required.
fn query_cloud_record_video_play_info(call: &Call<'_>, state: &mut State) -> Reply {
    let checked = ["mediaId", "regionId", "unionId"].map(|name| call.required_query(name));
    let [media_id, region_id, _union_id] = match checked {
        [Ok(media_id), Ok(region_id), Ok(union_id)] => [media_id, region_id, union_id],
        [Err(reply), ..] | [_, Err(reply), _] | [.., Err(reply)] => return reply,
    };
    let recording = match finished_recording(call, state) {
        Ok(recording) => recording,
        Err(reply) => return reply,
    };
    let Some(video) = recording.videos.iter().find(|video| {
        video.media_id.as_deref() == Some(media_id.as_str())
            && video.region_id.as_deref() == Some(region_id.as_str())
    }) else {
        return call.bad_request(
            "cloudRecordNotFound",
            "no video of this conference's recording has this mediaId and regionId",
        );
    };
    let base = format!("https://dtliving-{region_id}.dingtalk.io/record/{media_id}");
    Reply::ok(&QueryCloudRecordVideoPlayInfoResponse {
        play_url: Some(format!("{base}.m3u8")),
        mp4_file_url: Some(format!("{base}.mp4")),
        file_size: video.file_size,
        duration: video.duration,
        status: Some(1),
    })
}

/// The transcript, a page at a time.
///
/// `direction` `"0"` (the default) lists paragraphs oldest first, `"1"` newest first;
/// `startTime` keeps those that start at or after it (milliseconds from the recording's start);
/// `maxResults` is 1 to [`MAX_TRANSCRIPT_PAGE_SIZE`] (default
/// [`DEFAULT_TRANSCRIPT_PAGE_SIZE`]); `nextToken` is the `nextTtoken` of the last paragraph of
/// the previous page, and the page holds the paragraphs after it in the chosen order. Anything
/// else in those parameters (including a `nextToken` that is no paragraph's) is `400
/// paramsError`, as is a blank `unionId` (which may be left out).
fn query_cloud_record_text(call: &Call<'_>, state: &mut State) -> Reply {
    let query = match TextQuery::read(call) {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let recording = match finished_recording(call, state) {
        Ok(recording) => recording,
        Err(reply) => return reply,
    };
    let paragraphs = &recording.paragraphs;
    let after = match query.next_token {
        None => None,
        Some(token) => {
            match paragraphs
                .iter()
                .position(|paragraph| paragraph.next_ttoken == Some(token))
            {
                Some(index) => Some(index),
                None => {
                    return call.bad_request(
                        "paramsError",
                        "error:nextToken is not a paragraph's nextTtoken",
                    );
                }
            }
        }
    };
    let mut chosen: Vec<usize> = (0..paragraphs.len())
        .filter(|index| match after {
            None => true,
            Some(after) if query.descending => *index < after,
            Some(after) => *index > after,
        })
        .filter(|index| {
            paragraphs
                .get(*index)
                .is_some_and(|paragraph| paragraph.start_time.unwrap_or(0) >= query.start_time)
        })
        .collect();
    if query.descending {
        chosen.reverse();
    }
    let has_more = chosen.len() > query.size;
    let paragraph_list = chosen
        .into_iter()
        .take(query.size)
        .filter_map(|index| paragraphs.get(index).cloned())
        .collect::<Vec<_>>();
    Reply::ok(&QueryCloudRecordTextResponse {
        has_more: Some(has_more),
        paragraph_list: Some(paragraph_list),
    })
}

/// The query of `queryCloudRecordText`, checked.
struct TextQuery {
    size: usize,
    descending: bool,
    start_time: i64,
    next_token: Option<i64>,
}

impl TextQuery {
    fn read(call: &Call<'_>) -> Result<Self, Reply> {
        let invalid = |message: &str| call.bad_request("paramsError", message);
        if call.query("unionId").is_some_and(|id| id.trim().is_empty()) {
            return Err(invalid("error:unionId is blank"));
        }
        let max = i64::try_from(MAX_TRANSCRIPT_PAGE_SIZE).unwrap_or(i64::MAX);
        let size = call.page_size(DEFAULT_TRANSCRIPT_PAGE_SIZE, 1..=max, "paramsError")?;
        let descending = match call.query("direction") {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(invalid("error:direction must be \"0\" or \"1\"")),
        };
        let start_time = match call.query("startTime") {
            None => 0,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(start) if start >= 0 => start,
                _ => {
                    return Err(invalid(
                        "error:startTime must be a whole number of ms, >= 0",
                    ));
                }
            },
        };
        let next_token = match call.query("nextToken").filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(token) => Some(token),
                Err(_) => return Err(invalid("error:nextToken must be an integer")),
            },
        };
        Ok(Self {
            size,
            descending,
            start_time,
            next_token,
        })
    }
}
