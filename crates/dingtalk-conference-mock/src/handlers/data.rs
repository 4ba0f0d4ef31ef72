//! The operations of conference data and call-quality metrics: a conference's statistics, its
//! attendance records, the history of conferences, and people's call-quality samples.
//!
//! DingTalk documents none of these operations, so every answer here is derived from what the
//! server already holds (the conferences and their members) by rules this module states; see
//! `docs/conference-operations.md`, "Data and quality metrics". Nothing is stored for them: a
//! member who joins, leaves or is removed shows at once in every answer.

use std::collections::HashMap;

use dingtalk_conference_api::types::{
    AttendanceRecord, ConferenceData, ConferenceInfo, GetConfDetailDataResponse,
    GetHistoryConfDataListResponse, GetUserLastMetricResponse, GetUserMetricDataResponse,
    MetricSample,
};
use http::StatusCode;

use super::{Handler, offset_token, page, page_size, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    GetConfDataByConferenceId, GetConfDetailData, GetHistoryConfDataList, GetUserLastMetric,
    GetUserMetricData,
};
use crate::state::{MemberRecord, State, now_millis};

/// The page size of `GetConfDetailData` and `GetHistoryConfDataList` when `maxResults` is
/// absent: 100. A choice of this fake server: DingTalk documents neither a default nor a
/// maximum (its examples ask for 100). This server has no maximum.
pub const DEFAULT_DATA_PAGE_SIZE: usize = 100;

/// The most samples one `GetUserMetricData` answer holds (a day at one a minute): the first
/// ones of the window. A choice of this fake server; DingTalk documents no limit.
pub const MAX_METRIC_SAMPLES: usize = 1_440;

/// The time between two call-quality samples of a member: one a minute, from the moment they
/// joined. A choice of this fake server; DingTalk documents no interval.
pub const METRIC_INTERVAL_MS: i64 = 60_000;

/// `freeType` and `scene` of every conference here: the values of DingTalk's SDK examples,
/// the only ones known.
const FREE_TYPE: &str = "0";
const SCENE: &str = "ding_talk";

/// The client version every attendance record reports (the SDK example's).
const CLIENT_VERSION: &str = "6.1.1";

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "GetConfDataByConferenceId" => typed!(get_conf_data_by_conference_id),
        "GetConfDetailData" => typed!(get_conf_detail_data),
        "GetHistoryConfDataList" => typed!(get_history_conf_data_list),
        "GetUserLastMetric" => typed!(get_user_last_metric),
        "GetUserMetricData" => typed!(get_user_metric_data),
        _ => return None,
    })
}

/// `404 memberNotFound`: the person did not attend the conference (this server's code).
fn member_not_found() -> Failure {
    Failure {
        status: StatusCode::NOT_FOUND,
        code: "memberNotFound",
        message: "MEMBER NOT FOUND".to_owned(),
    }
}

/// A conference that has data: one the server holds that has started (a conference not yet
/// started has no statistics). Otherwise `404 roomNotFound`.
fn started_conference(state: &mut State, id: &str) -> Result<ConferenceInfo, Failure> {
    state
        .conference(id)
        .filter(|info| matches!(info.status, Some(1 | 2)))
        .ok_or_else(Failure::room_not_found)
}

/// The members who joined `id` at some point (those with a `joinTime`).
fn attendees(state: &mut State, id: &str) -> Vec<MemberRecord> {
    state
        .members(id)
        .iter()
        .filter(|record| record.member.join_time.is_some())
        .cloned()
        .collect()
}

/// A conference's statistics as of `now`: its length is `confDuration` once ended, the time
/// since its start while it runs; `userCount` is how many people joined it.
fn conference_data(info: &ConferenceInfo, people: usize, now: i64) -> ConferenceData {
    let length = info.conf_duration.or_else(|| {
        let start = info.start_time?;
        Some(info.end_time.unwrap_or(now).saturating_sub(start).max(0))
    });
    ConferenceData {
        conference_id: info.conference_id.clone(),
        title: info.title.clone(),
        creator_id: info.creator_id.clone(),
        creator_nick: info.creator_nick.clone(),
        dept_name: None,
        start_time: info.start_time,
        end_time: info.end_time,
        time_length: length,
        user_count: Some(i32::try_from(people).unwrap_or(i32::MAX)),
        free_type: Some(FREE_TYPE.to_owned()),
        scene: Some(SCENE.to_owned()),
    }
}

/// One conference's statistics. `realData` changes nothing here (this server has one kind of
/// data); a conference the server does not hold, or that has not started, is `404
/// roomNotFound`.
fn get_conf_data_by_conference_id(
    request: GetConfDataByConferenceId,
    state: &mut State,
) -> Result<ConferenceData, Failure> {
    let info = started_conference(state, &request.conference_id)?;
    let people = attendees(state, &request.conference_id).len();
    Ok(conference_data(&info, people, now_millis()))
}

/// The attendance record of one member who joined: their join and leave times and time spent
/// (both absent while they are still in), and display labels built the way DingTalk's example
/// shows them.
fn attendance(record: &MemberRecord, index: usize) -> AttendanceRecord {
    let member = &record.member;
    let union_id = member.union_id.clone().unwrap_or_default();
    let role = if member.host == Some(true) {
        "主持人"
    } else if member.co_host == Some(true) {
        "联席主持人"
    } else {
        "参会人"
    };
    let status = match member.attend_status {
        Some(3) => "会中",
        Some(5) => "已移出",
        _ => "已离开",
    };
    AttendanceRecord {
        conference_id: member.conference_id.clone(),
        union_id: member.union_id.clone(),
        nick: member.user_nick.clone(),
        belong_org: Some((member.outer_org_member != Some(true)).to_string()),
        device_type: Some(
            member
                .device_type
                .clone()
                .unwrap_or_else(|| device_of(&union_id).to_owned()),
        ),
        version: Some(CLIENT_VERSION.to_owned()),
        join_time: member.join_time,
        leave_time: member.leave_time,
        duration: member.duration,
        network_quality: Some("-1".to_owned()),
        role: Some(role.to_owned()),
        status: Some(status.to_owned()),
        session_id: member
            .conference_id
            .as_ref()
            .map(|id| format!("{id}-{index}")),
    }
}

/// The device a member without one on record joined from, the same every time.
fn device_of(union_id: &str) -> &'static str {
    const DEVICES: [&str; 4] = ["Mac", "Win", "iOS", "Android"];
    let index = usize::try_from(spread(union_id) % 4).unwrap_or(0);
    DEVICES.get(index).copied().unwrap_or("Mac")
}

/// The attendance records of a started conference, in the order the members were invited,
/// those with the nickname `nick` only if given (exact match), a page at a time. The last
/// page carries an empty `nextToken`, the way DingTalk's listings without `hasMore` end.
fn get_conf_detail_data(
    request: GetConfDetailData,
    state: &mut State,
) -> Result<GetConfDetailDataResponse, Failure> {
    started_conference(state, &request.conference_id)?;
    let records: Vec<AttendanceRecord> = attendees(state, &request.conference_id)
        .iter()
        .enumerate()
        .map(|(index, record)| attendance(record, index))
        .filter(|record| {
            request
                .nick
                .as_deref()
                .is_none_or(|nick| record.nick.as_deref() == Some(nick))
        })
        .collect();
    let offset = offset_token(request.next_token.as_deref(), records.len(), "paramError")?;
    let size = page_size(request.max_results, DEFAULT_DATA_PAGE_SIZE);
    let (list, next) = page(&records, offset, size);
    Ok(GetConfDetailDataResponse {
        list: Some(list),
        next_token: Some(next.unwrap_or_default()),
    })
}

/// The conferences that started within `startTime..=endTime`, oldest first (ties by id):
/// ended ones and those in progress, not those yet to start. `title` keeps those whose title
/// contains it (a substring: DingTalk does not say how it matches), `creatorNike` those whose
/// creator has exactly that nickname, `freeType` and `scene` those with that value (every
/// conference here has `"0"` and `ding_talk`). A window that ends before it starts is `400
/// paramError`. The last page carries an empty `nextToken`.
fn get_history_conf_data_list(
    request: GetHistoryConfDataList,
    state: &mut State,
) -> Result<GetHistoryConfDataListResponse, Failure> {
    if request.end_time < request.start_time {
        return Err(Failure::bad_request(
            "paramError",
            "error:endTime is before startTime",
        ));
    }
    let now = now_millis();
    let mut infos: Vec<ConferenceInfo> = state
        .conferences()
        .into_iter()
        .filter(|info| matches!(info.status, Some(1 | 2)))
        .filter(|info| {
            info.start_time
                .is_some_and(|start| (request.start_time..=request.end_time).contains(&start))
        })
        .filter(|info| {
            request.title.as_deref().is_none_or(|title| {
                info.title
                    .as_deref()
                    .is_some_and(|have| have.contains(title))
            })
        })
        .filter(|info| {
            request
                .creator_nike
                .as_deref()
                .is_none_or(|nick| info.creator_nick.as_deref() == Some(nick))
        })
        .filter(|_| request.free_type.as_deref().is_none_or(|v| v == FREE_TYPE))
        .filter(|_| request.scene.as_deref().is_none_or(|v| v == SCENE))
        .collect();
    infos.sort_by(|a, b| (a.start_time, &a.conference_id).cmp(&(b.start_time, &b.conference_id)));
    let rows: Vec<ConferenceData> = infos
        .iter()
        .map(|info| {
            let id = info.conference_id.clone().unwrap_or_default();
            conference_data(info, attendees(state, &id).len(), now)
        })
        .collect();
    let offset = offset_token(request.next_token.as_deref(), rows.len(), "paramError")?;
    let size = page_size(request.max_results, DEFAULT_DATA_PAGE_SIZE);
    let (list, next) = page(&rows, offset, size);
    Ok(GetHistoryConfDataListResponse {
        list: Some(list),
        next_token: Some(next.unwrap_or_default()),
    })
}

/// The latest sample of each person asked for who attended the conference: the last point of
/// their series up to now ([`samples`]), with the audio jitter that only this operation
/// reports. A person who never joined it is absent from the map; an unknown or unstarted
/// conference is `404 roomNotFound`.
fn get_user_last_metric(
    request: GetUserLastMetric,
    state: &mut State,
) -> Result<GetUserLastMetricResponse, Failure> {
    let id = request.conference_id;
    started_conference(state, &id)?;
    let now = now_millis();
    let attendees = attendees(state, &id);
    let mut map = HashMap::new();
    for union_id in request.body.union_id_list {
        let Some(record) = attendees
            .iter()
            .find(|r| r.member.union_id.as_deref() == Some(union_id.as_str()))
        else {
            continue;
        };
        let Some((first, last)) = span(record, now) else {
            continue;
        };
        let steps = (last - first) / METRIC_INTERVAL_MS;
        let mut sample = sample_at(&union_id, steps, first + steps * METRIC_INTERVAL_MS);
        let seed = spread(&union_id);
        sample.audio_jitter_max = Some((20 + (seed + 7 * unsigned(steps)) % 30).to_string());
        sample.audio_jitter_avg = Some((5 + (seed + 3 * unsigned(steps)) % 10).to_string());
        map.insert(union_id, sample);
    }
    Ok(GetUserLastMetricResponse {
        metric_map: Some(map),
    })
}

/// One person's samples within `beginTime..=endTime` ([`samples`]), at most
/// [`MAX_METRIC_SAMPLES`]. `404 roomNotFound` for an unknown or unstarted conference, `404
/// memberNotFound` for someone who never joined it, `400 paramError` for a window that ends
/// before it starts.
fn get_user_metric_data(
    request: GetUserMetricData,
    state: &mut State,
) -> Result<GetUserMetricDataResponse, Failure> {
    if request.end_time < request.begin_time {
        return Err(Failure::bad_request(
            "paramError",
            "error:endTime is before beginTime",
        ));
    }
    started_conference(state, &request.conference_id)?;
    let record = attendees(state, &request.conference_id)
        .into_iter()
        .find(|r| r.member.union_id.as_deref() == Some(request.union_id.as_str()))
        .ok_or_else(member_not_found)?;
    let list = samples(&record, request.begin_time, request.end_time, now_millis());
    Ok(GetUserMetricDataResponse {
        metric_data_list: Some(list),
    })
}

/// When a member's samples run: from joining to leaving (or to `now` while still in).
fn span(record: &MemberRecord, now: i64) -> Option<(i64, i64)> {
    let join = record.member.join_time?;
    let until = record.member.leave_time.unwrap_or(now);
    (until >= join).then_some((join, until))
}

/// A member's samples in `begin..=end`: one a minute from the moment they joined, for as long
/// as they were in the conference, each derived from the member and the minute (never random).
fn samples(record: &MemberRecord, begin: i64, end: i64, now: i64) -> Vec<MetricSample> {
    let Some((join, until)) = span(record, now) else {
        return Vec::new();
    };
    let union_id = record.member.union_id.clone().unwrap_or_default();
    let (low, high) = (begin.max(join), end.min(until));
    if high < low {
        return Vec::new();
    }
    // The first minute mark at or after `low`.
    let first = (low - join + METRIC_INTERVAL_MS - 1) / METRIC_INTERVAL_MS;
    let last = (high - join) / METRIC_INTERVAL_MS;
    (first..=last)
        .take(MAX_METRIC_SAMPLES)
        .map(|step| sample_at(&union_id, step, join + step * METRIC_INTERVAL_MS))
        .collect()
}

/// The sample of the member `union_id` at minute `step` after they joined, taken at `at`.
fn sample_at(union_id: &str, step: i64, at: i64) -> MetricSample {
    let seed = spread(union_id);
    let k = unsigned(step);
    let wave = |base: u64, spread_by: u64, stride: u64| base + (seed + stride * k) % spread_by;
    let camera_send = wave(900_000, 300_000, 7_919);
    let camera_recv = wave(700_000, 300_000, 6_007);
    let audio_send = 32_000 + (seed % 2) * 16_000;
    let audio_recv = 32_000;
    let screen = if seed.is_multiple_of(5) {
        600_000 + (k % 10) * 1_000
    } else {
        0
    };
    let (width, height) = if seed.is_multiple_of(3) {
        (1280, 720)
    } else {
        (1920, 1080)
    };
    let text = |v: u64| Some(v.to_string());
    MetricSample {
        timestamp: Some(at),
        send_bit_rate: text(camera_send + audio_send + screen),
        recv_bit_rate: text(camera_recv + audio_recv),
        lost_rate: text(u64::from((seed + k).is_multiple_of(17))),
        round_trip_time: text(wave(15, 40, 3)),
        audio_send_bit_rate: text(audio_send),
        audio_recv_bit_rate: text(audio_recv),
        audio_rec_level: text(wave(30, 40, 11)),
        audio_play_level: text(wave(40, 30, 13)),
        camera_send_bit_rate: text(camera_send),
        camera_recv_bit_rate: text(camera_recv),
        camera_send_resolution_actual: Some(format!("{width}*{height}")),
        camera_recv_resolution_actual: Some("1280*720".to_owned()),
        camera_send_frame: text(if seed.is_multiple_of(2) { 30 } else { 20 }),
        camera_recv_frame: text(20),
        screen_send_bit_rate: text(screen),
        screen_recv_bit_rate: text(0),
        screen_send_resolution_actual: Some(
            if screen > 0 { "1920*1080" } else { "0*0" }.to_owned(),
        ),
        screen_recv_resolution_actual: Some("0*0".to_owned()),
        screen_send_frame: text(if screen > 0 { 15 } else { 0 }),
        screen_recv_frame: text(0),
        audio_jitter_max: None,
        audio_jitter_avg: None,
    }
}

/// A minute count as an unsigned number (a negative one, which [`samples`] never makes, as 0).
fn unsigned(step: i64) -> u64 {
    u64::try_from(step).unwrap_or(0)
}

/// A number derived from `text` (FNV-1a), the same every time, small enough to add to.
fn spread(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    }) % 1_000_003
}

#[cfg(test)]
mod tests {
    use dingtalk_conference_api::types::ConferenceMember;

    use super::*;

    fn member(join: i64, leave: Option<i64>) -> MemberRecord {
        MemberRecord::new(ConferenceMember {
            union_id: Some("u1".to_owned()),
            join_time: Some(join),
            leave_time: leave,
            ..ConferenceMember::default()
        })
    }

    #[test]
    fn samples_are_one_a_minute_over_the_overlap_and_repeatable() {
        let record = member(1_000_000, Some(1_000_000 + 10 * 60_000));
        // The window starts half a minute after joining: the first mark is a minute in.
        let list = samples(&record, 1_030_000, i64::MAX, 0);
        assert_eq!(list.len(), 10);
        assert_eq!(list[0].timestamp, Some(1_060_000));
        assert_eq!(list[9].timestamp, Some(1_600_000));
        assert_eq!(list, samples(&record, 1_030_000, i64::MAX, 0));
        assert!(samples(&record, 0, 999_999, 0).is_empty());
    }

    #[test]
    fn a_member_still_in_has_samples_until_now_and_at_most_a_day_of_them() {
        let record = member(0, None);
        assert_eq!(samples(&record, 0, i64::MAX, 120_000).len(), 3);
        assert_eq!(
            samples(&record, 0, i64::MAX, 10 * 24 * 3_600_000).len(),
            MAX_METRIC_SAMPLES
        );
    }
}
