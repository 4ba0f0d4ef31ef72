//! Cloud recordings and transcripts, over real HTTP with the generated client.

use std::collections::HashSet;
use std::num::NonZeroU64;
use std::time::Duration;

use dingtalk_conference_api::Client;
use dingtalk_conference_api::types::TranscriptParagraph;
use dingtalk_conference_mock::{
    DEFAULT_TRANSCRIPT_PAGE_SIZE, MAX_TRANSCRIPT_PAGE_SIZE, MockServer, seeded,
};
use dingtalk_conference_testkit::fake::{self, error, raw_get, start};

const READER: &str = "Rd8ErUn10nIdXyZaBcDeFgiE";

fn size(n: usize) -> Option<NonZeroU64> {
    NonZeroU64::new(u64::try_from(n).expect("fits"))
}

/// Every paragraph of `id`'s transcript in `direction`, `page` at a time.
async fn transcript(
    api: &Client,
    id: &str,
    direction: Option<&str>,
    page: usize,
    start_time: Option<i64>,
) -> Vec<TranscriptParagraph> {
    let mut paragraphs: Vec<TranscriptParagraph> = Vec::new();
    let mut token = None;
    for _ in 0..100 {
        let answer = api
            .query_cloud_record_text(id, direction, size(page), token, start_time, Some(READER))
            .await
            .expect("a page")
            .into_inner();
        assert!(answer.paragraph_list.clone().unwrap_or_default().len() <= page);
        let more = answer.has_more.expect("hasMore");
        paragraphs.extend(answer.paragraph_list.clone().unwrap_or_default());
        if !more {
            return paragraphs;
        }
        token = Some(
            paragraphs
                .last()
                .and_then(|p| p.next_ttoken)
                .expect("the last paragraph's nextTtoken"),
        );
    }
    panic!("the transcript never ends");
}

#[tokio::test]
async fn the_ended_conference_has_two_videos_of_one_recording_within_it() {
    let (server, api) = start().await;
    let info = server.conference(seeded::ENDED).expect("seeded");
    assert_eq!(info.cloud_record_status, Some(3));
    assert_eq!(info.creator_id.as_deref(), Some(seeded::ENDED_HOST));
    let videos = api
        .query_cloud_record_video(seeded::ENDED, seeded::ENDED_HOST)
        .await
        .expect("videos")
        .into_inner()
        .video_list
        .clone()
        .unwrap_or_default();
    assert_eq!(videos.len(), seeded::ENDED_VIDEOS);
    let types: HashSet<_> = videos.iter().map(|v| v.record_type).collect();
    assert_eq!(types, HashSet::from([Some(0), Some(1)]));
    let record_ids: HashSet<_> = videos.iter().map(|v| v.record_id.clone()).collect();
    assert_eq!(record_ids.len(), 1);
    let (start, end) = (info.start_time.expect("start"), info.end_time.expect("end"));
    for video in &videos {
        let (from, to) = (
            video.start_time.expect("start"),
            video.end_time.expect("end"),
        );
        assert!(start <= from && from < to && to <= end);
        assert_eq!(video.duration, Some(to - from));
        assert!(video.file_size.is_some_and(|size| size > 0));
        assert!(video.media_id.as_ref().is_some_and(|id| !id.is_empty()));
        assert!(video.region_id.as_ref().is_some_and(|id| !id.is_empty()));
        assert_eq!(video.union_id.as_deref(), Some(seeded::ENDED_HOST));
    }
    // Anyone (any non-blank unionId) may read it.
    assert_eq!(
        api.query_cloud_record_video(seeded::ENDED, READER)
            .await
            .expect("videos")
            .into_inner()
            .video_list
            .clone()
            .unwrap_or_default(),
        videos
    );
}

#[tokio::test]
async fn play_info_answers_for_exactly_the_pairs_get_videos_gave() {
    let (_server, api) = start().await;
    let videos = api
        .query_cloud_record_video(seeded::ENDED, READER)
        .await
        .expect("videos")
        .into_inner()
        .video_list
        .clone()
        .unwrap_or_default();
    for video in &videos {
        let (media, region) = (
            video.media_id.as_deref().expect("mediaId"),
            video.region_id.as_deref().expect("regionId"),
        );
        let play = api
            .query_cloud_record_video_play_info(seeded::ENDED, media, region, READER)
            .await
            .expect("play info")
            .into_inner();
        assert!(
            play.play_url
                .as_ref()
                .is_some_and(|url| url.ends_with(".m3u8"))
        );
        assert!(
            play.mp4_file_url
                .as_ref()
                .is_some_and(|url| url.contains(".mp4"))
        );
        assert_eq!(
            (play.file_size, play.duration),
            (video.file_size, video.duration)
        );
        assert_eq!(play.status, Some(1));
    }
    let (first, second) = (&videos[0], &videos[1]);
    let mixed = api
        .query_cloud_record_video_play_info(
            seeded::ENDED,
            first.media_id.as_deref().expect("mediaId"),
            "cn-elsewhere",
            READER,
        )
        .await;
    assert_eq!(error(mixed), (400, "cloudRecordNotFound".into()));
    // A real pair of another conference is not this one's.
    let elsewhere = api
        .query_cloud_record_video_play_info(
            seeded::STARTED,
            second.media_id.as_deref().expect("mediaId"),
            second.region_id.as_deref().expect("regionId"),
            READER,
        )
        .await;
    assert_eq!(error(elsewhere), (400, "cloudRecordNotFound".into()));
    for (media, region, union) in [(" ", "r", READER), ("m", "", READER), ("m", "r", "\t")] {
        assert_eq!(
            error(
                api.query_cloud_record_video_play_info(seeded::ENDED, media, region, union)
                    .await
            ),
            (400, "paramsError".into())
        );
    }
}

#[tokio::test]
async fn recordings_not_finished_are_not_found_and_unknown_conferences_are_404() {
    let (server, api) = start().await;
    for id in [
        seeded::STARTED,
        seeded::INITIALISED,
        seeded::WITH_EXTENSION_APPS,
        seeded::LEGACY,
    ] {
        assert_ne!(
            server.conference(id).and_then(|c| c.cloud_record_status),
            Some(3)
        );
        assert_eq!(
            error(api.query_cloud_record_video(id, READER).await),
            (400, "cloudRecordNotFound".into()),
            "{id}"
        );
        assert_eq!(
            error(
                api.query_cloud_record_text(id, None, None, None, None, Some(READER))
                    .await
            ),
            (400, "cloudRecordNotFound".into()),
            "{id}"
        );
        assert_eq!(
            error(
                api.query_cloud_record_video_play_info(id, "m", "cn-shenzhen", READER)
                    .await
            ),
            (400, "cloudRecordNotFound".into()),
            "{id}"
        );
    }
    let unknown = "000000000000000000000000";
    assert_eq!(
        error(api.query_cloud_record_video(unknown, READER).await),
        (404, "roomNotFound".into())
    );
    assert_eq!(
        error(
            api.query_cloud_record_video_play_info(unknown, "m", "r", READER)
                .await
        ),
        (404, "roomNotFound".into())
    );
    assert_eq!(
        error(
            api.query_cloud_record_text(unknown, None, None, None, None, None)
                .await
        ),
        (404, "roomNotFound".into())
    );
    assert_eq!(
        error(api.query_cloud_record_video(seeded::ENDED, "  ").await),
        (400, "paramsError".into())
    );
    let path = format!(
        "/v1.0/conference/videoConferences/{}/cloudRecords/getVideos",
        seeded::ENDED
    );
    let (status, body) = raw_get(&server, &path).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("paramsError")));
}

#[tokio::test]
async fn closing_a_conference_being_recorded_finishes_its_recording() {
    let (server, api) = start().await;
    assert_eq!(
        server
            .conference(seeded::STARTED)
            .and_then(|c| c.cloud_record_status),
        Some(1)
    );
    api.close_video_conference(seeded::STARTED, seeded::STARTED_HOST)
        .await
        .expect("closed");
    let info = server.conference(seeded::STARTED).expect("held");
    assert_eq!(info.cloud_record_status, Some(3));
    let videos = api
        .query_cloud_record_video(seeded::STARTED, READER)
        .await
        .expect("videos now")
        .into_inner()
        .video_list
        .clone()
        .unwrap_or_default();
    assert!(!videos.is_empty());
    for video in &videos {
        assert_eq!(video.end_time, info.end_time);
    }
    // No speech was transcribed: an empty transcript, not an error.
    let text = api
        .query_cloud_record_text(seeded::STARTED, None, None, None, None, None)
        .await
        .expect("a transcript")
        .into_inner();
    assert!(text.paragraph_list.clone().unwrap_or_default().is_empty());
    assert_eq!(text.has_more, Some(false));
}

#[tokio::test(start_paused = true)]
async fn a_scripted_end_finishes_the_recording_and_the_members_too() {
    let server = MockServer::start().await.expect("server");
    server.script_status(
        seeded::WITH_EXTENSION_APPS,
        vec![(Duration::from_secs(1), 1)],
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    let info = server
        .conference(seeded::WITH_EXTENSION_APPS)
        .expect("held");
    assert_eq!((info.status, info.cloud_record_status), (Some(1), Some(3)));
    let members = server.members(seeded::WITH_EXTENSION_APPS);
    assert!(members.iter().all(|m| m.attend_status != Some(3)));
    let token = server.issue_token();
    let api = fake::api_with_token(&server, &token);
    assert!(
        api.query_cloud_record_video(seeded::WITH_EXTENSION_APPS, READER)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_transcript_is_consistent_and_pages_by_the_last_next_ttoken() {
    let (_server, api) = start().await;
    let all = transcript(&api, seeded::ENDED, None, MAX_TRANSCRIPT_PAGE_SIZE, None).await;
    assert_eq!(all.len(), seeded::ENDED_PARAGRAPHS);
    assert!(all.len() >= 7);
    let tokens: HashSet<_> = all.iter().map(|p| p.next_ttoken).collect();
    assert_eq!(tokens.len(), all.len(), "distinct nextTtoken");
    assert!(!tokens.contains(&None));
    let recording = api
        .query_cloud_record_video(seeded::ENDED, READER)
        .await
        .expect("videos")
        .into_inner()
        .video_list
        .clone()
        .unwrap_or_default();
    let length = recording[0].duration.expect("duration");
    let record_id = recording[0].record_id.clone().expect("recordId");
    let mut previous_start = -1;
    for paragraph in &all {
        let (start, end) = (
            paragraph.start_time.expect("start"),
            paragraph.end_time.expect("end"),
        );
        assert!(0 <= start && start <= end && end <= length);
        assert!(start > previous_start, "oldest first");
        previous_start = start;
        assert_eq!(
            paragraph.record_id.map(|id| id.to_string()),
            Some(record_id.clone())
        );
        assert!(
            !paragraph
                .sentence_list
                .clone()
                .unwrap_or_default()
                .is_empty()
        );
        for sentence in &paragraph.sentence_list.clone().unwrap_or_default() {
            let (s_start, s_end) = (
                sentence.start_time.expect("start"),
                sentence.end_time.expect("end"),
            );
            assert!(start <= s_start && s_start <= s_end && s_end <= end);
            assert!(!sentence.word_list.clone().unwrap_or_default().is_empty());
            for word in &sentence.word_list.clone().unwrap_or_default() {
                let (w_start, w_end) =
                    (word.start_time.expect("start"), word.end_time.expect("end"));
                assert!(s_start <= w_start && w_start <= w_end && w_end <= s_end);
                assert!(word.word.is_some() && word.word_id.is_some());
            }
        }
    }

    // Small pages give the same paragraphs, in the same order.
    assert_eq!(
        transcript(&api, seeded::ENDED, Some("0"), 3, None).await,
        all
    );
    assert_eq!(transcript(&api, seeded::ENDED, None, 1, None).await, all);
    // Newest first is the reverse, however paged.
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(
        transcript(&api, seeded::ENDED, Some("1"), 3, None).await,
        reversed
    );

    // A page stops with hasMore exactly when paragraphs remain.
    let first = api
        .query_cloud_record_text(seeded::ENDED, None, size(3), None, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        (
            first.paragraph_list.clone().unwrap_or_default().len(),
            first.has_more
        ),
        (3, Some(true))
    );
    let last_token = all[all.len() - 2].next_ttoken;
    let last = api
        .query_cloud_record_text(seeded::ENDED, None, size(3), last_token, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        last.paragraph_list.clone().unwrap_or_default(),
        all[all.len() - 1..]
    );
    assert_eq!(last.has_more, Some(false));
}

#[tokio::test]
async fn the_transcript_filters_by_start_time() {
    let (_server, api) = start().await;
    let all = transcript(&api, seeded::ENDED, None, 200, None).await;
    let from = all[3].start_time.expect("start");
    let later = transcript(&api, seeded::ENDED, None, 2, Some(from)).await;
    assert_eq!(later, all[3..]);
    let none = transcript(&api, seeded::ENDED, None, 2, Some(i64::MAX)).await;
    assert!(none.is_empty());
    let mut newest_first = transcript(&api, seeded::ENDED, Some("1"), 2, Some(from)).await;
    newest_first.reverse();
    assert_eq!(newest_first, all[3..]);
}

#[tokio::test]
async fn the_transcript_refuses_bad_parameters() {
    let (server, api) = start().await;
    let refused = |result| assert_eq!(error(result), (400, "paramsError".to_string()));
    refused(
        api.query_cloud_record_text(
            seeded::ENDED,
            None,
            size(MAX_TRANSCRIPT_PAGE_SIZE + 1),
            None,
            None,
            None,
        )
        .await,
    );
    refused(
        api.query_cloud_record_text(seeded::ENDED, Some("2"), None, None, None, None)
            .await,
    );
    refused(
        api.query_cloud_record_text(seeded::ENDED, Some("asc"), None, None, None, None)
            .await,
    );
    refused(
        api.query_cloud_record_text(seeded::ENDED, None, None, Some(12345), None, None)
            .await,
    );
    refused(
        api.query_cloud_record_text(seeded::ENDED, None, None, None, Some(-1), None)
            .await,
    );
    refused(
        api.query_cloud_record_text(seeded::ENDED, None, None, None, None, Some(" "))
            .await,
    );
    let base = format!(
        "/v1.0/conference/videoConferences/{}/cloudRecords/getTexts",
        seeded::ENDED
    );
    for query in [
        "maxResults=0",
        "maxResults=-5",
        "nextToken=abc",
        "startTime=soon",
    ] {
        let (status, body) = raw_get(&server, &format!("{base}?{query}")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("paramsError")),
            "{query}"
        );
    }
    // At the bounds: both accepted.
    for n in [1, MAX_TRANSCRIPT_PAGE_SIZE] {
        assert!(
            api.query_cloud_record_text(seeded::ENDED, None, size(n), None, None, None)
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn the_default_transcript_page_is_200() {
    let (server, api) = start().await;
    let paragraphs: Vec<TranscriptParagraph> = (0..450)
        .map(|n| TranscriptParagraph {
            next_ttoken: Some(1_000_000 + n),
            start_time: Some(n * 1000),
            end_time: Some(n * 1000 + 900),
            paragraph: Some(format!("paragraph {n}")),
            ..TranscriptParagraph::default()
        })
        .collect();
    server.set_cloud_recording(seeded::ENDED, Vec::new(), paragraphs.clone());
    let page = api
        .query_cloud_record_text(seeded::ENDED, None, None, None, None, None)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(
        page.paragraph_list.clone().unwrap_or_default().len(),
        DEFAULT_TRANSCRIPT_PAGE_SIZE
    );
    assert_eq!(page.has_more, Some(true));
    assert_eq!(
        transcript(
            &api,
            seeded::ENDED,
            None,
            DEFAULT_TRANSCRIPT_PAGE_SIZE,
            None
        )
        .await,
        paragraphs
    );
    // With no videos, no pair has play links.
    assert_eq!(
        error(
            api.query_cloud_record_video_play_info(seeded::ENDED, "m", "cn-shenzhen", READER)
                .await
        ),
        (400, "cloudRecordNotFound".into())
    );
}
