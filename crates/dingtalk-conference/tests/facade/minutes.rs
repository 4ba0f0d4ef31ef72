//! Flash minutes (闪记) end to end, against the fake server's state: the text grows while the
//! minutes run (on Tokio's paused clock) and stops while they are paused; the summaries, the
//! meeting result and the chapter summary come from that text; sharing decides who may read.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use dingtalk_conference::{
    Client, Error, ErrorCode, FlashMinutesBizType, MinutesPause, MinutesShare, NewConference,
    NewMinutes,
};
use dingtalk_conference_mock::{MINUTES_LINE_MS, seeded};
use serde_json::{Map, Value, json};

use crate::common::{app_client, mock};

const HOST: &str = seeded::STARTED_HOST;
const STRANGER: &str = "StrangerMinutesxxxxxiE";
const ORGANISER: &str = "iPOLminutesxxxxxxiEiE";

fn line() -> Duration {
    Duration::from_millis(u64::try_from(MINUTES_LINE_MS).expect("positive"))
}

/// Every paragraph of the seeded minutes, oldest first, read 7 at a time.
async fn text(client: &Client, id: &str) -> Vec<dingtalk_conference::MinutesParagraph> {
    client
        .minutes_text(id, "0", Some(HOST))
        .page_size(7)
        .collect()
        .await
        .expect("the text")
}

fn code(error: &Error) -> Option<&ErrorCode> {
    error.code()
}

#[tokio::test(start_paused = true)]
async fn the_text_grows_while_the_minutes_run_and_stops_while_they_are_paused() {
    let mock = mock().await;
    let client = app_client(&mock);

    // Seeded: four minutes of running minutes, one paragraph per line of the script.
    let first = text(&client, seeded::STARTED).await;
    assert!(first.len() >= 40, "{}", first.len());
    let ids: Vec<i64> = first.iter().filter_map(|p| p.paragraph_id).collect();
    assert_eq!(
        ids,
        (1..=i64::try_from(first.len()).expect("small")).collect::<Vec<_>>()
    );
    let paragraph = &first[0];
    assert_eq!(
        paragraph.union_id.as_deref(),
        Some(HOST),
        "the host speaks first"
    );
    let sentence = &paragraph.sentences[0];
    assert_eq!(sentence.union_id.as_deref(), Some(HOST));
    assert!(!sentence.words.is_empty());
    let words: String = sentence
        .words
        .iter()
        .filter_map(|w| w.word.clone())
        .collect();
    assert_eq!(Some(words.as_str()), sentence.sentence.as_deref());
    // Several speakers take turns.
    assert_ne!(first[0].union_id, first[1].union_id);

    // Newest first is the same text reversed.
    let newest: Vec<i64> = client
        .minutes_text(seeded::STARTED, "1", None)
        .page_size(9)
        .collect()
        .await
        .expect("newest first")
        .iter()
        .filter_map(|p| p.paragraph_id)
        .collect();
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(newest[..reversed.len()], reversed[..]);

    // Running: a minute adds ten lines.
    tokio::time::advance(line() * 10).await;
    let grown = text(&client, seeded::STARTED).await;
    assert!(
        grown.len() >= first.len() + 10,
        "{} then {}",
        first.len(),
        grown.len()
    );

    // Paused: nothing more, however long; pausing again changes nothing.
    client
        .pause_minutes(seeded::STARTED, MinutesPause::new(HOST))
        .await
        .expect("paused");
    let paused = text(&client, seeded::STARTED).await.len();
    tokio::time::advance(line() * 20).await;
    client
        .pause_minutes(seeded::STARTED, MinutesPause::new(HOST))
        .await
        .expect("paused again");
    assert_eq!(text(&client, seeded::STARTED).await.len(), paused);

    // Resumed: the text continues, and the audio has a file per run.
    let answer = client
        .start_minutes(seeded::STARTED, NewMinutes::new().operator(HOST))
        .await
        .expect("resumed");
    assert_eq!(answer.code.as_deref(), Some("200"));
    tokio::time::advance(line() * 5).await;
    assert!(text(&client, seeded::STARTED).await.len() >= paused + 5);
    let audio = client
        .minutes_audio(seeded::STARTED, HOST)
        .await
        .expect("the audio");
    assert_eq!(audio.len(), 2, "{audio:?}");
    let url = audio[0].play_url.as_deref().expect("a play link");
    assert!(url.contains("Expires="), "{url}");
    assert!(
        !format!("{audio:?}").contains("Expires="),
        "the link stays out of Debug"
    );
    assert!(audio[0].duration.expect("a length") >= line() * 40);
}

#[tokio::test(start_paused = true)]
async fn the_summary_and_the_meeting_result_come_from_the_text() {
    let mock = mock().await;
    let client = app_client(&mock);
    let paragraphs = text(&client, seeded::STARTED).await;
    let summary = client
        .minutes_summary(seeded::STARTED, HOST, &[])
        .await
        .expect("the summary");

    // Chapters: four paragraphs each, from the first's start to the last's end.
    assert_eq!(summary.auto_chapters.len(), paragraphs.len().div_ceil(4));
    let chapter = &summary.auto_chapters[1];
    assert_eq!(chapter.start, paragraphs[4].start_time);
    assert_eq!(chapter.end, paragraphs[7].end_time);
    assert_eq!(
        chapter.headline.as_deref(),
        Some("延迟比上周降低了百分之二十"),
    );
    let texts = |refs: &[dingtalk_conference::MinutesSentenceRef]| -> Vec<String> {
        refs.iter().filter_map(|r| r.text.clone()).collect()
    };
    assert!(texts(&summary.key_sentences).contains(&"我们决定下周三发布新版本。".to_string()));
    let actions = texts(&summary.actions);
    assert!(actions.contains(&"Alice will update the release notes before Tuesday.".to_string()));
    let qa = summary
        .questions_answering_summary
        .iter()
        .find(|qa| qa.question.as_deref() == Some("性能测试的结果怎么样？"))
        .expect("the question");
    assert_eq!(qa.answer.as_deref(), Some("延迟比上周降低了百分之二十。"));
    assert_eq!(
        summary.keywords.first().map(String::as_str),
        Some("release")
    );
    assert!(
        summary
            .conversational_summary
            .iter()
            .any(|s| s.speaker_id.as_deref() == Some(HOST))
    );
    assert!(
        summary
            .paragraph_summary
            .as_deref()
            .is_some_and(|p| p.starts_with(&format!("{} paragraphs", paragraphs.len())))
    );

    // Asking for one section leaves the others out.
    let chapters_only = client
        .minutes_summary(seeded::STARTED, HOST, &["AutoChapters"])
        .await
        .expect("chapters only");
    assert_eq!(chapters_only.auto_chapters, summary.auto_chapters);
    assert!(chapters_only.paragraph_summary.is_none() && chapters_only.actions.is_empty());

    // The meeting result: the same actions, the paragraph summary.
    let result = client
        .minutes_meeting_result(seeded::STARTED, HOST)
        .await
        .expect("the result");
    assert_eq!(result.actions, actions);
    assert_eq!(result.full_summary, summary.paragraph_summary);

    // The chapter summary of the flash minutes, and of the ended meeting's cloud recording.
    let flash = client
        .flash_minutes_summary(seeded::STARTED, "minutes", HOST)
        .await
        .expect("the chapter summary");
    assert_eq!(flash.status, Some(1));
    assert_eq!(flash.chapters.len(), summary.auto_chapters.len());
    assert_eq!(flash.chapters[1].headline, chapter.headline);
    let recorded = client
        .flash_minutes_summary(seeded::ENDED, "cloud_record", seeded::ENDED_HOST)
        .await
        .expect("the recording's chapters");
    assert_eq!(
        recorded.chapters.len(),
        seeded::ENDED_PARAGRAPHS.div_ceil(4)
    );
}

#[tokio::test(start_paused = true)]
async fn only_the_owner_and_those_it_was_shared_with_may_read() {
    let mock = mock().await;
    let client = app_client(&mock);

    let refused = client
        .minutes_audio(seeded::STARTED, STRANGER)
        .await
        .expect_err("not shared yet");
    assert_eq!(code(&refused), Some(&ErrorCode::MinutesPermissionDenied));
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(403));

    let shared = client
        .share_minutes(
            seeded::STARTED,
            MinutesShare::new("minutes", HOST, STRANGER),
        )
        .await
        .expect("shared");
    let task = shared.task_id.clone().expect("a task id");
    // Sharing again keeps one grant and names the same task.
    let again = client
        .share_minutes(
            seeded::STARTED,
            MinutesShare::new("minutes", HOST, STRANGER).share_scope(0),
        )
        .await
        .expect("shared again");
    assert_eq!(again.task_id.as_deref(), Some(task.as_str()));
    client
        .minutes_audio(seeded::STARTED, STRANGER)
        .await
        .expect("shared now");
    client
        .minutes_summary(seeded::STARTED, STRANGER, &[])
        .await
        .expect("the summary too");

    // The record's link names the same task; another recorder has none.
    let urls = client
        .record_minutes_urls(seeded::STARTED, "minutes", HOST)
        .await
        .expect("the links");
    assert_eq!(urls.len(), 1);
    assert_eq!(urls[0].task_id.as_deref(), Some(task.as_str()));
    assert!(urls[0].url.as_deref().is_some_and(|u| u.ends_with(&task)));
    assert!(
        client
            .record_minutes_urls(seeded::STARTED, "minutes", STRANGER)
            .await
            .expect("none")
            .is_empty()
    );

    // Only the owner's record can be shared.
    let wrong_owner = client
        .share_minutes(
            seeded::STARTED,
            MinutesShare::new("minutes", STRANGER, HOST),
        )
        .await
        .expect_err("not the owner");
    assert_eq!(code(&wrong_owner), Some(&ErrorCode::MinutesNotFound));
}

#[tokio::test(start_paused = true)]
async fn the_document_link_expires_when_asked_and_a_past_expiry_is_refused() {
    let mock = mock().await;
    let client = app_client(&mock);
    let expires = Utc
        .with_ymd_and_hms(2099, 1, 1, 0, 0, 0)
        .single()
        .expect("a time");
    let link = client
        .minutes_document_url(
            seeded::STARTED,
            &FlashMinutesBizType::Minutes,
            HOST,
            Some(expires),
        )
        .await
        .expect("a link");
    let url = link.url.clone().expect("a url");
    assert!(
        url.contains(&format!("Expires={}&", expires.timestamp())),
        "{url}"
    );
    assert!(
        !format!("{link:?}").contains("Expires"),
        "the link stays out of Debug"
    );

    let past = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .expect("a time");
    let refused = client
        .minutes_document_url(
            seeded::STARTED,
            &FlashMinutesBizType::Minutes,
            HOST,
            Some(past),
        )
        .await
        .expect_err("in the past");
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(refused.code().map(ErrorCode::as_str), Some("paramsError"));

    let cloud = client
        .minutes_document_url(
            seeded::ENDED,
            &FlashMinutesBizType::CloudRecord,
            seeded::ENDED_HOST,
            None,
        )
        .await
        .expect("the recording's document");
    assert!(cloud.url.is_some());

    let unknown = client
        .minutes_document_url(
            seeded::STARTED,
            &FlashMinutesBizType::Unknown("video".into()),
            HOST,
            None,
        )
        .await
        .expect_err("refused before sending");
    assert!(matches!(unknown, Error::InvalidInput(_)), "{unknown:?}");
}

#[tokio::test(start_paused = true)]
async fn minutes_of_a_new_conference_are_spoken_by_who_is_in_it_and_errors_are_typed() {
    let mock = mock().await;
    let client = app_client(&mock);
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Minutes"))
        .await
        .expect("created");
    let id = created.conference_id.expect("an id");
    let none = client
        .minutes_meeting_result(&id, ORGANISER)
        .await
        .expect_err("no minutes yet");
    assert_eq!(code(&none), Some(&ErrorCode::MinutesNotFound));

    client
        .start_minutes(
            &id,
            NewMinutes::new().operator(ORGANISER).record_audio(false),
        )
        .await
        .expect("started");
    tokio::time::advance(line() * 2 + Duration::from_millis(10)).await;
    let paragraphs = client
        .minutes_text(&id, "0", Some(ORGANISER))
        .collect()
        .await
        .expect("the text");
    assert!(paragraphs.len() >= 2);
    assert!(
        paragraphs
            .iter()
            .all(|p| p.union_id.as_deref() == Some(ORGANISER))
    );
    assert!(
        client
            .minutes_audio(&id, ORGANISER)
            .await
            .expect("no audio kept")
            .is_empty()
    );

    // An ended conference's minutes stop with it; starting there is refused.
    client
        .close_conference(&id, ORGANISER)
        .await
        .expect("closed");
    let at_close = client
        .minutes_text(&id, "0", None)
        .collect()
        .await
        .expect("the text")
        .len();
    tokio::time::advance(line() * 10).await;
    let later = client
        .minutes_text(&id, "0", None)
        .collect()
        .await
        .expect("the text");
    assert_eq!(later.len(), at_close);
    let ended = client
        .start_minutes(&id, NewMinutes::new())
        .await
        .expect_err("ended");
    assert_eq!(ended.code().map(ErrorCode::as_str), Some("resourceClose"));

    let unknown = client
        .minutes_audio("6323d7568777190142ab9d11", HOST)
        .await
        .expect_err("no such conference");
    assert_eq!(code(&unknown), Some(&ErrorCode::RoomNotFound));
    let bad_token = client
        .minutes_text(seeded::STARTED, "0", None)
        .page(Some("12_34".into()))
        .await
        .expect_err("not a cursor");
    assert_eq!(bad_token.status().map(|s| s.as_u16()), Some(400));
    let bad_direction = client
        .minutes_text(seeded::STARTED, "up", None)
        .collect()
        .await
        .expect_err("refused before sending");
    assert!(matches!(bad_direction, Error::InvalidInput(_)));
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_reads_the_meeting_result() {
    use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET};
    let fake = dingtalk_conference_testkit::fake::FakeOnItsOwnRuntime::start();
    let client = dingtalk_conference::blocking::Client::new(
        Client::builder()
            .base_url(fake.server.base_url())
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET),
    )
    .expect("valid");
    let result = client
        .minutes_meeting_result(seeded::STARTED, HOST)
        .expect("the result");
    assert!(!result.actions.is_empty());
    let summary = client
        .minutes_summary(seeded::STARTED, HOST, &["Actions"])
        .expect("the summary");
    assert_eq!(summary.actions.len(), result.actions.len());
}

/// For the write-retry matrix: each write of this part, with arguments (in `Client::call`
/// form) that succeed on a freshly started seeded fake server.
pub(crate) fn seeded_writes() -> Vec<(&'static str, Map<String, Value>)> {
    let args = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    vec![
        (
            "startMinutes",
            args(json!({
                "conferenceId": seeded::STARTED,
                "body": {"unionId": HOST, "recordAudio": true},
            })),
        ),
        (
            "stopMinutes",
            args(json!({"conferenceId": seeded::STARTED, "body": {"unionId": HOST}})),
        ),
        (
            "addRecordPermission",
            args(json!({
                "conferenceId": seeded::STARTED,
                "body": {"bizType": "minutes", "ownerUnionId": HOST, "unionId": STRANGER},
            })),
        ),
    ]
}

#[tokio::test]
async fn each_seeded_write_succeeds_once_on_a_fresh_fake() {
    for (operation, args) in seeded_writes() {
        let mock = mock().await;
        let client = app_client(&mock);
        client
            .call(operation, &args)
            .await
            .unwrap_or_else(|error| panic!("{operation}: {error}"));
    }
}
