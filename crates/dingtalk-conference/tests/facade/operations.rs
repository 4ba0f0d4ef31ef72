//! The conference family end to end over HTTP, against the fake server's own state: create,
//! look up (by id, by room code, in a batch), list members, close; recordings, their play
//! info and the transcript of a seeded conference whose cloud recording has finished.

use std::time::Duration;

use dingtalk_conference::{
    AttendStatus, ConferenceStatus, Error, NewConference, RecordType, TranscriptDirection,
    TranscriptQuery,
};
use dingtalk_conference_mock::seeded;

use crate::common::{app_client, mock};

const ORGANISER: &str = "iPOLorganiserxxxxiEiE";
const INVITEE: &str = "Ab3inviteexxxxxxiEiE";

#[tokio::test]
async fn a_created_conference_is_found_everywhere_and_closing_it_ends_it() {
    let mock = mock().await;
    let client = app_client(&mock);

    let created = client
        .create_conference(NewConference::new(ORGANISER, "Weekly sync").invite(INVITEE))
        .await
        .expect("created");
    let id = created.conference_id.clone().expect("an id");
    let room_code = created.room_code.clone().expect("a room code");
    assert!(
        created
            .join_url
            .as_deref()
            .is_some_and(|u| u.contains(&room_code))
    );

    let info = client.conference_info(&id).await.expect("info");
    assert_eq!(info.status, Some(ConferenceStatus::Started));
    assert_eq!(info.title.as_deref(), Some("Weekly sync"));
    assert_eq!(info.creator_id.as_deref(), Some(ORGANISER));
    assert_eq!(info.room_code.as_deref(), Some(room_code.as_str()));
    assert_eq!(info.invited_count, Some(1));
    assert!(info.end_time.is_none() && info.duration.is_none());

    let by_code = client
        .conferences_by_room_code(&room_code)
        .collect()
        .await
        .expect("room-code lookup");
    assert_eq!(by_code.len(), 1);
    assert_eq!(by_code[0].conference_id.as_deref(), Some(id.as_str()));

    let status = client
        .conferences_status(&[id.as_str(), seeded::STARTED, seeded::ENDED])
        .await
        .expect("batch");
    let found: Vec<_> = status
        .iter()
        .filter_map(|c| c.conference_id.as_deref())
        .collect();
    assert!(
        found.contains(&id.as_str()) && found.contains(&seeded::STARTED),
        "{found:?}"
    );
    assert!(
        !found.contains(&seeded::ENDED),
        "ended conferences are not in progress"
    );

    let members = client
        .conference_members(&id)
        .collect()
        .await
        .expect("members");
    let host = members
        .iter()
        .find(|m| m.union_id.as_deref() == Some(ORGANISER))
        .expect("the organiser is a member");
    assert_eq!(
        (host.host, host.attend_status),
        (Some(true), Some(AttendStatus::InMeeting))
    );
    let invitee = members
        .iter()
        .find(|m| m.union_id.as_deref() == Some(INVITEE))
        .expect("the invitee is a member");
    assert_eq!(invitee.attend_status, Some(AttendStatus::Calling));
    let in_meeting = members
        .iter()
        .filter(|m| m.attend_status == Some(AttendStatus::InMeeting))
        .count();
    assert_eq!(info.active_count, i32::try_from(in_meeting).ok());

    let refused = client
        .close_conference(&id, INVITEE)
        .await
        .expect_err("only the host may close it");
    assert_eq!(refused.code().map(|c| c.as_str()), Some("noPermission"));

    client
        .close_conference(&id, ORGANISER)
        .await
        .expect("closed");
    let ended = client.conference_info(&id).await.expect("info after close");
    assert!(ended.has_ended());
    let (start, end) = (
        ended.start_time.expect("start"),
        ended.end_time.expect("end"),
    );
    assert_eq!(
        ended.duration,
        (end - start).to_std().ok(),
        "the duration is the time between start and end"
    );
    assert_eq!(ended.active_count, Some(0));

    let again = client
        .close_conference(&id, ORGANISER)
        .await
        .expect_err("already ended");
    assert_eq!(again.code().map(|c| c.as_str()), Some("resourceClose"));
    let closes = mock
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(
        closes, 3,
        "each close sent once: refused, closed, already ended"
    );
}

#[tokio::test]
async fn members_of_a_seeded_conference_agree_with_its_counts_across_small_pages() {
    let mock = mock().await;
    let client = app_client(&mock);
    let info = client.conference_info(seeded::STARTED).await.expect("info");
    let members = client
        .conference_members(seeded::STARTED)
        .page_size(4)
        .collect()
        .await
        .expect("members");
    assert_eq!(members.len(), seeded::STARTED_MEMBERS);
    let pages = mock
        .requests()
        .iter()
        .filter(|r| r.path.contains("/members"))
        .count();
    assert_eq!(pages, seeded::STARTED_MEMBERS.div_ceil(4), "pages of four");
    let active = members
        .iter()
        .filter(|m| m.attend_status == Some(AttendStatus::InMeeting))
        .count();
    assert_eq!(info.active_count, i32::try_from(active).ok());
    for member in members
        .iter()
        .filter(|m| m.attend_status == Some(AttendStatus::Left))
    {
        let (join, leave) = (
            member.join_time.expect("join"),
            member.leave_time.expect("leave"),
        );
        assert!(leave >= join);
        assert!(member.duration.expect("duration") <= (leave - join).to_std().expect("positive"));
    }
}

#[tokio::test]
async fn a_recurring_room_code_lists_every_instance_one_page_at_a_time() {
    let mock = mock().await;
    let conferences = app_client(&mock)
        .conferences_by_room_code(seeded::RECURRING_ROOM_CODE)
        .page_size(1)
        .collect()
        .await
        .expect("listing");
    let ids: Vec<_> = conferences
        .iter()
        .filter_map(|c| c.conference_id.as_deref())
        .collect();
    assert_eq!(
        ids,
        [
            seeded::RECURRING_JANUARY,
            seeded::RECURRING_FEBRUARY,
            seeded::SCHEDULED
        ]
    );
    assert!(conferences[0].has_ended());
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path.contains("/roomCodes/"))
            .count(),
        3
    );
}

#[tokio::test]
async fn recordings_play_info_and_transcript_of_a_finished_recording() {
    let mock = mock().await;
    let client = app_client(&mock);
    let videos = client
        .recordings(seeded::ENDED, seeded::ENDED_HOST)
        .await
        .expect("videos");
    assert_eq!(videos.len(), seeded::ENDED_VIDEOS);
    assert!(
        videos
            .iter()
            .any(|v| v.record_type == Some(RecordType::Recording))
    );
    for video in &videos {
        let play = client
            .recording_play_info(seeded::ENDED, video, seeded::ENDED_HOST)
            .await
            .expect("play info");
        assert!(
            play.play_url
                .as_deref()
                .is_some_and(|u| u.contains(".m3u8"))
        );
        assert_eq!(play.duration, video.duration);
        assert_eq!(play.file_size, video.file_size);
    }

    let query = TranscriptQuery::new(seeded::ENDED, seeded::ENDED_HOST);
    let paragraphs = client
        .transcript(query.clone())
        .page_size(3)
        .collect()
        .await
        .expect("transcript");
    assert_eq!(paragraphs.len(), seeded::ENDED_PARAGRAPHS);
    assert!(
        paragraphs
            .windows(2)
            .all(|w| w[0].start_time <= w[1].start_time)
    );
    let newest_first = client
        .transcript(query.clone().direction(TranscriptDirection::Descending))
        .collect()
        .await
        .expect("newest first");
    let mut reversed = paragraphs.clone();
    reversed.reverse();
    assert_eq!(newest_first, reversed);
    let later = paragraphs[2].start_time.expect("a start");
    let from_later = client
        .transcript(query.start_at(later))
        .collect()
        .await
        .expect("from an offset");
    assert_eq!(from_later, paragraphs[2..]);
    assert!(later > Duration::ZERO);

    let missing = client
        .recordings(seeded::STARTED, seeded::STARTED_HOST)
        .await
        .expect_err("still recording");
    assert_eq!(
        missing.code().map(|c| c.as_str()),
        Some("cloudRecordNotFound")
    );
    assert!(!missing.is_retryable());
}

#[tokio::test]
async fn unknown_conferences_are_not_found_and_unknown_room_codes_are_empty() {
    let mock = mock().await;
    let client = app_client(&mock);
    let error = client
        .conference_members("ffffffffffffffffffffffff")
        .collect()
        .await
        .expect_err("no such conference");
    assert!(error.is_not_found(), "{error:?}");
    let none = client
        .conferences_by_room_code("999999999")
        .collect()
        .await
        .expect("an empty listing");
    assert!(none.is_empty());
    let error = client
        .close_conference("ffffffffffffffffffffffff", ORGANISER)
        .await
        .expect_err("no such conference");
    assert!(
        matches!(error, Error::Api(_)) && error.is_not_found(),
        "{error:?}"
    );
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_runs_the_same_lifecycle() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(crate::common::mock());
    let client = dingtalk_conference::blocking::Client::new(crate::common::app_builder(&mock))
        .expect("blocking client");
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Blocking sync"))
        .expect("created");
    let id = created.conference_id.expect("an id");
    let members: Vec<_> = client
        .conference_members(&id, Some(1))
        .collect::<Result<_, _>>()
        .expect("members");
    assert_eq!(members.len(), 1, "the organiser alone");
    let status = client.conferences_status(&[id.as_str()]).expect("batch");
    assert_eq!(status.len(), 1);
    let codes: Vec<_> = client
        .conferences_by_room_code(seeded::RECURRING_ROOM_CODE, Some(2))
        .collect::<Result<_, _>>()
        .expect("room code");
    assert_eq!(codes.len(), 3);
    client.close_conference(&id, ORGANISER).expect("closed");
    assert!(client.conference_info(&id).expect("info").has_ended());
    let videos = client
        .recordings(seeded::ENDED, seeded::ENDED_HOST)
        .expect("videos");
    let play = client
        .recording_play_info(seeded::ENDED, &videos[0], seeded::ENDED_HOST)
        .expect("play info");
    assert!(play.mp4_file_url.is_some());
    let paragraphs: Vec<_> = client
        .transcript(
            TranscriptQuery::new(seeded::ENDED, seeded::ENDED_HOST),
            Some(5),
        )
        .collect::<Result<_, _>>()
        .expect("transcript");
    assert_eq!(paragraphs.len(), seeded::ENDED_PARAGRAPHS);
    let error = client
        .conference_members("", None)
        .next()
        .expect("one item")
        .expect_err("refused");
    assert!(matches!(error, Error::InvalidInput(_)));
    drop(runtime);
}
