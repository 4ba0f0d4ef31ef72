//! The data and call-quality operations end to end (issue 21): a conference's statistics, its
//! attendance records, the history of conferences, and people's call-quality samples, each
//! derived by the fake server from the conferences and members it holds, so a change to those
//! shows in every answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use dingtalk_conference::{Error, ErrorCode, MetricMembers, NewConference, Resolution};
use dingtalk_conference_api::types::ConferenceMember;
use dingtalk_conference_mock::{METRIC_INTERVAL_MS, MockServer, seeded};
use dingtalk_conference_testkit::spec::load_spec;
use serde_json::{Map, Value};

use crate::common::{app_client, at, mock, no_retry_client};

/// The whole range of times the spec allows.
const ALWAYS: (i64, i64) = (0, 253_402_300_799_999);
const ORGANISER: &str = "iPOLdataorganiserxxiEiE";
const NEWCOMER: &str = "Ab3datanewcomerxxxiEiE";

/// The operations of this part.
const OPERATIONS: [&str; 5] = [
    "GetConfDataByConferenceId",
    "GetConfDetailData",
    "GetHistoryConfDataList",
    "GetUserLastMetric",
    "GetUserMetricData",
];

/// The writes of this part with arguments that succeed on a freshly started seeded fake
/// server, in [`Client::call`] form, for the write-retry matrix: none, every data operation
/// is a read (`GetUserLastMetric` too, although sent as `POST`).
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    Vec::new()
}

fn millis(time: Option<DateTime<Utc>>) -> i64 {
    time.expect("a time").timestamp_millis()
}

/// The members of `id` who joined at some point, as the fake holds them.
fn attendees(mock: &MockServer, id: &str) -> Vec<ConferenceMember> {
    mock.members(id)
        .into_iter()
        .filter(|m| m.join_time.is_some())
        .collect()
}

/// How many requests went to `path` (any query).
fn requests_to(mock: &MockServer, path: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path.split('?').next() == Some(path))
        .count()
}

fn code(error: &Error) -> Option<&ErrorCode> {
    error.code()
}

#[test]
fn every_operation_of_the_part_is_a_read_so_there_are_no_seeded_writes() {
    let spec = load_spec();
    let mut found = 0;
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("an item").values() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            if OPERATIONS.contains(&id) {
                found += 1;
                assert_eq!(op["x-facade-op"]["kind"], "read", "{id}");
            }
        }
    }
    assert_eq!(found, OPERATIONS.len());
    assert!(seeded_writes().is_empty());
}

#[tokio::test]
async fn a_conferences_statistics_come_from_the_conference_and_the_people_who_joined() {
    let mock = mock().await;
    let client = app_client(&mock);
    let info = mock.conference(seeded::ENDED).expect("seeded");

    let data = client
        .conference_data(seeded::ENDED, true)
        .await
        .expect("the statistics");
    assert_eq!(data.conference_id.as_deref(), Some(seeded::ENDED));
    assert_eq!(data.title, info.title);
    assert_eq!(data.creator_nick, info.creator_nick);
    assert_eq!(data.creator_id, info.creator_id);
    let (start, end) = (info.start_time.expect("start"), info.end_time.expect("end"));
    assert_eq!(millis(data.start_time), start);
    assert_eq!(millis(data.end_time), end);
    assert_eq!(
        data.length,
        Some(Duration::from_millis(
            u64::try_from(end - start).expect("positive")
        ))
    );
    let people = attendees(&mock, seeded::ENDED).len();
    assert!(people > 1);
    assert_eq!(data.people, Some(i32::try_from(people).expect("small")));
    assert_eq!(data.free_type.as_deref(), Some("0"));
    assert_eq!(data.scene.as_deref(), Some("ding_talk"));

    // In progress: no end yet.
    let running = client
        .conference_data(seeded::STARTED, false)
        .await
        .expect("running");
    assert!(running.end_time.is_none() && running.length.is_some());

    // Created: one person in it; closed: its end appears.
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Data sync"))
        .await
        .expect("created");
    let id = created.conference_id.expect("an id");
    let fresh = client.conference_data(&id, true).await.expect("fresh");
    assert_eq!(fresh.people, Some(1));
    assert_eq!(fresh.title.as_deref(), Some("Data sync"));
    client
        .close_conference(&id, ORGANISER)
        .await
        .expect("closed");
    let closed = client.conference_data(&id, true).await.expect("closed");
    assert!(closed.end_time.is_some());

    // Not started, unknown, blank.
    for missing in [seeded::INITIALISED, "6323d7568777190142ab0000"] {
        let error = no_retry_client(&mock)
            .conference_data(missing, true)
            .await
            .expect_err("no data");
        assert_eq!(code(&error), Some(&ErrorCode::RoomNotFound), "{missing}");
    }
    let error = client.conference_data(" ", true).await.expect_err("blank");
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn attendance_lists_each_attendee_over_small_pages_and_shows_who_joins_or_is_removed() {
    let mock = mock().await;
    let client = app_client(&mock);
    let id = seeded::STARTED;
    let path = format!("/v1.0/conference/videoConferences/{id}/details");
    let expected = attendees(&mock, id);
    assert!(expected.len() > 2, "{expected:?}");

    let records = client
        .conference_attendance(id, None)
        .page_size(2)
        .collect()
        .await
        .expect("every page");
    assert_eq!(records.len(), expected.len());
    assert_eq!(requests_to(&mock, &path), expected.len().div_ceil(2));
    for (record, member) in records.iter().zip(&expected) {
        assert_eq!(record.union_id, member.union_id);
        assert_eq!(record.nick, member.user_nick);
        assert_eq!(millis(record.join_time), member.join_time.expect("joined"));
        assert_eq!(
            record.leave_time.map(|t| t.timestamp_millis()),
            member.leave_time
        );
        assert_eq!(
            record
                .duration
                .map(|d| i64::try_from(d.as_millis()).expect("small")),
            member.duration
        );
        assert_eq!(record.in_org(), Some(member.outer_org_member != Some(true)));
        let role = match (member.host, member.co_host) {
            (Some(true), _) => "主持人",
            (_, Some(true)) => "联席主持人",
            _ => "参会人",
        };
        assert_eq!(record.role.as_deref(), Some(role));
    }

    // The nickname filter.
    let nick = expected[1].user_nick.clone().expect("a nick");
    let only = client
        .conference_attendance(id, Some(&nick))
        .collect()
        .await
        .expect("filtered");
    assert!(!only.is_empty());
    assert!(
        only.iter()
            .all(|r| r.nick.as_deref() == Some(nick.as_str()))
    );

    // Someone joins, then is removed by the host: both show.
    let mut members = mock.members(id);
    let joined_at = mock
        .conference(id)
        .and_then(|c| c.start_time)
        .expect("started")
        + 120_000;
    members.push(ConferenceMember {
        union_id: Some(NEWCOMER.to_owned()),
        conference_id: Some(id.to_owned()),
        user_nick: Some("Newcomer".to_owned()),
        join_time: Some(joined_at),
        attend_status: Some(3),
        ..ConferenceMember::default()
    });
    mock.set_members(id, members.clone());
    let newcomer = client
        .conference_attendance(id, Some("Newcomer"))
        .collect()
        .await
        .expect("the newcomer");
    assert_eq!(newcomer.len(), 1);
    assert_eq!(newcomer[0].status.as_deref(), Some("会中"));
    assert!(newcomer[0].leave_time.is_none());
    if let Some(last) = members.last_mut() {
        last.attend_status = Some(5);
        last.leave_time = Some(joined_at + 60_000);
        last.duration = Some(60_000);
    }
    mock.set_members(id, members);
    let removed = client
        .conference_attendance(id, Some("Newcomer"))
        .collect()
        .await
        .expect("removed");
    assert_eq!(removed[0].status.as_deref(), Some("已移出"));
    assert_eq!(removed[0].duration, Some(Duration::from_secs(60)));

    // A page token this listing never handed out; an unknown conference.
    let error = no_retry_client(&mock)
        .conference_attendance(id, None)
        .page(Some("x".to_owned()))
        .await
        .expect_err("a bad token");
    assert_eq!(code(&error), Some(&ErrorCode::ParamError));
    let error = no_retry_client(&mock)
        .conference_attendance("6323d7568777190142ab0000", None)
        .collect()
        .await
        .expect_err("unknown");
    assert_eq!(code(&error), Some(&ErrorCode::RoomNotFound));
}

#[tokio::test]
async fn history_is_the_conferences_started_in_the_window_filtered_and_paged() {
    let mock = mock().await;
    let client = app_client(&mock);
    let (from, to) = ALWAYS;

    // Every conference that started (ended or running), oldest first, over pages of 3.
    let mut started: Vec<(i64, String)> = mock
        .conference_ids()
        .into_iter()
        .filter_map(|id| mock.conference(&id))
        .filter(|c| matches!(c.status, Some(1 | 2)))
        .map(|c| {
            (
                c.start_time.unwrap_or(0),
                c.conference_id.unwrap_or_default(),
            )
        })
        .collect();
    started.sort();
    let all = client
        .conference_history(None, at(to), None, true, None, at(from), None)
        .page_size(3)
        .collect()
        .await
        .expect("the history");
    let ids: Vec<String> = all
        .iter()
        .map(|c| c.conference_id.clone().unwrap_or_default())
        .collect();
    let expected: Vec<String> = started.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(!ids.iter().any(|id| id == seeded::INITIALISED));

    // Title (a substring) and creator nickname (exact).
    let planning = client
        .conference_history(None, at(to), None, true, None, at(from), Some("planning"))
        .collect()
        .await
        .expect("by title");
    assert_eq!(planning.len(), 1);
    assert_eq!(planning[0].conference_id.as_deref(), Some(seeded::ENDED));
    let creator = mock
        .conference(seeded::RECURRING_JANUARY)
        .and_then(|c| c.creator_nick)
        .expect("a creator");
    let by_creator = client
        .conference_history(Some(&creator), at(to), None, true, None, at(from), None)
        .collect()
        .await
        .expect("by creator");
    assert!(by_creator.len() >= 2);
    assert!(
        by_creator
            .iter()
            .all(|c| c.creator_nick.as_deref() == Some(creator.as_str()))
    );
    let none = client
        .conference_history(
            None,
            at(to),
            None,
            true,
            Some("other_scene"),
            at(from),
            None,
        )
        .collect()
        .await
        .expect("an empty history");
    assert!(none.is_empty());

    // A window around the seeded ENDED conference's start only.
    let start = mock
        .conference(seeded::ENDED)
        .and_then(|c| c.start_time)
        .expect("a start");
    let narrow = client
        .conference_history(None, at(start), None, true, None, at(start), None)
        .collect()
        .await
        .expect("narrow");
    assert!(
        narrow
            .iter()
            .any(|c| c.conference_id.as_deref() == Some(seeded::ENDED))
    );
    assert!(narrow.iter().all(|c| millis(c.start_time) == start));

    // A conference created now shows in a window that holds now.
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Fresh history"))
        .await
        .expect("created");
    let fresh = client
        .conference_history(
            None,
            at(to),
            None,
            true,
            None,
            at(from),
            Some("Fresh history"),
        )
        .collect()
        .await
        .expect("fresh");
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].conference_id, created.conference_id);

    // A window that ends before it starts.
    let error = no_retry_client(&mock)
        .conference_history(None, at(1), None, true, None, at(2), None)
        .collect()
        .await
        .expect_err("backwards");
    assert_eq!(code(&error), Some(&ErrorCode::ParamError));
}

#[tokio::test]
async fn quality_is_a_sample_a_minute_over_the_overlap_and_the_last_metric_is_its_last_point() {
    let mock = mock().await;
    let client = app_client(&mock);
    let id = seeded::ENDED;
    let host = attendees(&mock, id)
        .into_iter()
        .find(|m| m.union_id.as_deref() == Some(seeded::ENDED_HOST))
        .expect("the host attended");
    let join = host.join_time.expect("joined");
    let leave = host.leave_time.expect("left");

    // Ten minutes from joining: eleven samples, a minute apart, the same on every call.
    let series = client
        .member_metrics(
            id,
            at(join),
            at(join + 10 * METRIC_INTERVAL_MS),
            seeded::ENDED_HOST,
        )
        .await
        .expect("the series");
    assert_eq!(series.len(), 11);
    for (step, sample) in series.iter().enumerate() {
        let step = i64::try_from(step).expect("small");
        assert_eq!(millis(sample.timestamp), join + step * METRIC_INTERVAL_MS);
        assert!(sample.send_bit_rate_value().is_some_and(|v| v > 0.0));
        assert!(sample.round_trip_time_value().is_some());
        assert!(
            sample
                .camera_send_resolution()
                .is_some_and(|r: Resolution| !r.is_empty())
        );
    }
    let again = client
        .member_metrics(
            id,
            at(join),
            at(join + 10 * METRIC_INTERVAL_MS),
            seeded::ENDED_HOST,
        )
        .await
        .expect("again");
    assert_eq!(series, again);

    // A window reaching past the member's time ends with their leaving; one before is empty.
    let whole = client
        .member_metrics(id, at(ALWAYS.0), at(ALWAYS.1), seeded::ENDED_HOST)
        .await
        .expect("whole");
    let expected_len = usize::try_from((leave - join) / METRIC_INTERVAL_MS + 1)
        .expect("small")
        .min(dingtalk_conference_mock::MAX_METRIC_SAMPLES);
    assert_eq!(whole.len(), expected_len);
    let before = client
        .member_metrics(id, at(0), at(join - 1), seeded::ENDED_HOST)
        .await
        .expect("before");
    assert!(before.is_empty());

    // The last metric: the series' last point, for those who attended; others are absent.
    let last = client
        .last_metrics(
            id,
            MetricMembers::new()
                .member(seeded::ENDED_HOST)
                .member("Ab3neverattendedxxiEiE")
                .member(seeded::ENDED_HOST),
        )
        .await
        .expect("the last metrics");
    assert_eq!(last.by_member.len(), 1);
    let latest = &last.by_member[seeded::ENDED_HOST];
    let final_point = whole.last().expect("a point");
    if whole.len() == expected_len && expected_len < dingtalk_conference_mock::MAX_METRIC_SAMPLES {
        assert_eq!(latest.timestamp, final_point.timestamp);
        assert_eq!(latest.send_bit_rate, final_point.send_bit_rate);
    }
    assert!(latest.audio_jitter_avg.is_some());
    let sent = mock
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/lastMetricDatas/query"))
        .expect("sent");
    assert_eq!(sent.method, "POST");
    let body: Value = serde_json::from_slice(&sent.body).expect("JSON");
    assert_eq!(
        body["unionIdList"],
        serde_json::json!([seeded::ENDED_HOST, "Ab3neverattendedxxiEiE"])
    );

    // A member who joins a running conference has samples from their joining on.
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Quality"))
        .await
        .expect("created");
    let new_id = created.conference_id.expect("an id");
    let organiser_join = mock.members(&new_id)[0].join_time.expect("joined");
    let mine = client
        .member_metrics(&new_id, at(organiser_join), at(organiser_join), ORGANISER)
        .await
        .expect("the organiser's first sample");
    assert_eq!(mine.len(), 1);

    // Errors: someone who never attended, an unknown conference, a backwards window, no one.
    let strict = no_retry_client(&mock);
    let error = strict
        .member_metrics(id, at(ALWAYS.0), at(ALWAYS.1), "Ab3neverattendedxxiEiE")
        .await
        .expect_err("not an attendee");
    assert_eq!(code(&error), Some(&ErrorCode::MemberNotFound));
    let error = strict
        .member_metrics("6323d7568777190142ab0000", at(0), at(1), seeded::ENDED_HOST)
        .await
        .expect_err("unknown");
    assert_eq!(code(&error), Some(&ErrorCode::RoomNotFound));
    let error = strict
        .member_metrics(id, at(2), at(1), seeded::ENDED_HOST)
        .await
        .expect_err("backwards");
    assert_eq!(code(&error), Some(&ErrorCode::ParamError));
    let error = strict
        .last_metrics(id, MetricMembers::new())
        .await
        .expect_err("no one");
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_reads_quality_and_history() {
    use dingtalk_conference::{Client, blocking};
    use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET};
    use dingtalk_conference_testkit::fake::FakeOnItsOwnRuntime;

    let fake = FakeOnItsOwnRuntime::start();
    let client = blocking::Client::new(
        Client::builder()
            .base_url(fake.server.base_url())
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET),
    )
    .expect("valid");
    let series = client
        .member_metrics(
            seeded::ENDED,
            at(ALWAYS.0),
            at(ALWAYS.1),
            seeded::ENDED_HOST,
        )
        .expect("the series");
    assert!(!series.is_empty());
    let history: Vec<_> = client
        .conference_history(
            None,
            at(ALWAYS.1),
            None,
            true,
            None,
            at(ALWAYS.0),
            None,
            Some(2),
        )
        .collect::<Result<_, _>>()
        .expect("the history");
    assert!(history.len() > 2);
}
