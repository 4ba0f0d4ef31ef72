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

use super::{Handler, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    QueryCloudRecordText, QueryCloudRecordVideo, QueryCloudRecordVideoPlayInfo,
};
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
        "queryCloudRecordVideo" => typed!(query_cloud_record_video),
        "queryCloudRecordVideoPlayInfo" => typed!(query_cloud_record_video_play_info),
        "queryCloudRecordText" => typed!(query_cloud_record_text),
        _ => return None,
    })
}

/// The finished recording of conference `id`: `404 roomNotFound`, or `400
/// cloudRecordNotFound`.
fn finished_recording<'s>(id: &str, state: &'s mut State) -> Result<&'s Recording, Failure> {
    let info = state.conference(id).ok_or_else(Failure::room_not_found)?;
    let not_found = || {
        Failure::bad_request(
            "cloudRecordNotFound",
            "no cloud recording found for this conference",
        )
    };
    if info.cloud_record_status != Some(3) {
        return Err(not_found());
    }
    state.recording(id).ok_or_else(not_found)
}

/// The recording's video files (`unionId` required; the spec's checks refuse it blank).
fn query_cloud_record_video(
    request: QueryCloudRecordVideo,
    state: &mut State,
) -> Result<QueryCloudRecordVideoResponse, Failure> {
    let recording = finished_recording(&request.conference_id, state)?;
    Ok(QueryCloudRecordVideoResponse {
        video_list: Some(recording.videos.clone()),
    })
}

/// The play links of one of the recording's videos, named by the `mediaId` and `regionId`
/// that `queryCloudRecordVideo` gave for it; any other pair is `400 cloudRecordNotFound`.
fn query_cloud_record_video_play_info(
    request: QueryCloudRecordVideoPlayInfo,
    state: &mut State,
) -> Result<QueryCloudRecordVideoPlayInfoResponse, Failure> {
    let (media_id, region_id) = (request.media_id, request.region_id);
    let recording = finished_recording(&request.conference_id, state)?;
    let video = recording
        .videos
        .iter()
        .find(|video| {
            video.media_id.as_deref() == Some(media_id.as_str())
                && video.region_id.as_deref() == Some(region_id.as_str())
        })
        .ok_or_else(|| {
            Failure::bad_request(
                "cloudRecordNotFound",
                "no video of this conference's recording has this mediaId and regionId",
            )
        })?;
    let base = format!("https://dtliving-{region_id}.dingtalk.io/record/{media_id}");
    Ok(QueryCloudRecordVideoPlayInfoResponse {
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
/// the previous page, and the page holds the paragraphs after it in the chosen order. A
/// `nextToken` that is no paragraph's is `400 paramsError`; the spec's checks refuse the other
/// bad values (a blank `unionId`, which may be left out, included) when parsed.
fn query_cloud_record_text(
    request: QueryCloudRecordText,
    state: &mut State,
) -> Result<QueryCloudRecordTextResponse, Failure> {
    let query = TextQuery {
        size: request
            .max_results
            .map_or(DEFAULT_TRANSCRIPT_PAGE_SIZE, |size| {
                usize::try_from(size.get()).unwrap_or(usize::MAX)
            }),
        descending: request.direction.as_deref() == Some("1"),
        start_time: request.start_time.unwrap_or(0),
        next_token: request.next_token,
    };
    let recording = finished_recording(&request.conference_id, state)?;
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
                    return Err(Failure::bad_request(
                        "paramsError",
                        "error:nextToken is not a paragraph's nextTtoken",
                    ));
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
    Ok(QueryCloudRecordTextResponse {
        has_more: Some(has_more),
        paragraph_list: Some(paragraph_list),
    })
}

/// The query of `queryCloudRecordText`, with its defaults.
struct TextQuery {
    size: usize,
    descending: bool,
    start_time: i64,
    next_token: Option<i64>,
}
