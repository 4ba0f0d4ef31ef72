//! The operations of minutes (flash minutes): start, pause, text, audio, summaries, permissions, document links.
//!
//! DingTalk documents none of them; what this fake answers is its own choice, written down in
//! `docs/conference-operations.md` ("Minutes"):
//!
//! - The text is a fixed script of meeting lines ([`SCRIPT`], Chinese and English), one
//!   paragraph every [`LINE_MS`] of running time, spoken in turn by the members who were in
//!   the meeting when the minutes were first started. Nothing runs in the background: the text
//!   is derived from how long the minutes have run (Tokio's clock), so it grows while they run,
//!   stops while they are paused, and stops when the conference ends.
//! - The summaries, the meeting result and the chapter summary are derived from that text by
//!   rules ([`summarise`]): chapters of [`CHAPTER_PARAGRAPHS`] paragraphs, key sentences that
//!   state a decision, actions that give someone a task, questions with the next speaker's
//!   answer, the most frequent long English words as keywords.
//! - `bizType` `minutes` names the flash minutes; `cloud_record` the conference's finished
//!   cloud recording (its transcript is its text; its owner `cloudRecordOwnerUnionId`).
//! - Reading needs the owner, whoever started the minutes, or a user granted access with
//!   `addRecordPermission`; anyone else gets `403 minutesPermissionDenied`. No minutes (or no
//!   record of that kind by that owner) is `400 minutesNotFound`; an unknown conference `404
//!   roomNotFound`.

use std::collections::HashMap;

use dingtalk_conference_api::types::{
    AddRecordPermissionResponse, FlashMinutesChapter, FlashMinutesSummary,
    GenerateFlashMinutesDocumentUrlResponse, MinutesAudio, MinutesChapter, MinutesCodeResponse,
    MinutesParagraph, MinutesQuestionAnswer, MinutesSentence, MinutesSentenceRef,
    MinutesSpeakerSummary, MinutesSummary, MinutesWord, QueryFlashMinutesSummaryResponse,
    QueryMinutesAudioResponse, QueryMinutesMeetingResultResponse, QueryMinutesSummaryResponse,
    QueryMinutesTextResponse, QueryRecordMinutesUrlResponse, RecordMinutesUrl, TranscriptParagraph,
};

use super::{Handler, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    AddRecordPermission, GenerateFlashMinutesDocumentUrl, QueryFlashMinutesSummary,
    QueryMinutesAudio, QueryMinutesMeetingResult, QueryMinutesSummary, QueryMinutesText,
    QueryRecordMinutesUrl, StartMinutes, StopMinutes,
};
use crate::state::{Minutes, MinutesRun, State, now_millis};

/// Running time per paragraph of the minutes' text: one line of its script every 6 seconds.
pub const MINUTES_LINE_MS: i64 = LINE_MS;
const LINE_MS: i64 = 6_000;
/// The silence after each line (its paragraph ends this long before the next starts).
const GAP_MS: i64 = 500;
/// The most paragraphs the text grows to (the script repeats until then): about 50 minutes.
const MAX_PARAGRAPHS: i64 = 500;
/// Paragraphs per chapter of the summaries.
const CHAPTER_PARAGRAPHS: usize = 4;
/// The page size of `queryMinutesText` when `maxResults` is absent: 20 (the Alibaba Cloud
/// wrapper's example; DingTalk documents no default).
pub const DEFAULT_MINUTES_PAGE_SIZE: usize = 20;
/// How long a link to the document stays valid when `expireTime` is left out: an hour (a
/// choice; DingTalk documents no default). The audio's play links last as long.
const DEFAULT_LINK_LIFETIME_MS: i64 = 3_600_000;
/// How many keywords the summary lists.
const KEYWORDS: usize = 5;

/// `bizType` of flash minutes.
const MINUTES: &str = "minutes";
/// `bizType` of a cloud recording.
const CLOUD_RECORD: &str = "cloud_record";

/// The meeting the minutes hear: questions (`?`/`？`), decisions, tasks; Chinese and English.
const SCRIPT: [&str; 24] = [
    "大家好，我们开始今天的产品周会。",
    "Good morning everyone. Let me share the release status first.",
    "The release candidate passed regression testing yesterday.",
    "性能测试的结果怎么样？",
    "延迟比上周降低了百分之二十。内存占用也稳定了。",
    "When can we publish the release notes?",
    "Next Wednesday, after the documentation review.",
    "我们决定下周三发布新版本。",
    "Alice will update the release notes before Tuesday.",
    "客户反馈主要集中在登录流程上。",
    "The onboarding dashboard needs clearer instructions.",
    "我负责整理客户反馈并在周五前发给大家。",
    "Do we need another design review for onboarding?",
    "Yes, one short session with the design team is enough.",
    "We agreed to schedule the design review on Thursday.",
    "Bob will book the meeting room and invite the designers.",
    "下一个议题是服务器迁移。",
    "迁移计划已经完成了一半。数据库会在月底切换。",
    "Is the rollback procedure documented?",
    "The rollback procedure is in the operations handbook.",
    "运维组负责在切换前完成一次演练。",
    "Any other business before we close?",
    "没有了，谢谢大家。",
    "Thanks everyone, see you next week.",
];

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "startMinutes" => typed!(start_minutes),
        "stopMinutes" => typed!(stop_minutes),
        "queryMinutesAudio" => typed!(query_minutes_audio),
        "queryMinutesText" => typed!(query_minutes_text),
        "queryMinutesSummary" => typed!(query_minutes_summary),
        "queryMinutesMeetingResult" => typed!(query_minutes_meeting_result),
        "addRecordPermission" => typed!(add_record_permission),
        "generateFlashMinutesDocumentUrl" => typed!(generate_flash_minutes_document_url),
        "queryFlashMinutesSummary" => typed!(query_flash_minutes_summary),
        "queryRecordMinutesUrl" => typed!(query_record_minutes_url),
        _ => return None,
    })
}

fn success() -> MinutesCodeResponse {
    MinutesCodeResponse {
        code: Some("200".to_owned()),
    }
}

fn minutes_not_found(message: &str) -> Failure {
    Failure::bad_request("minutesNotFound", message)
}

fn permission_denied() -> Failure {
    Failure {
        status: http::StatusCode::FORBIDDEN,
        code: "minutesPermissionDenied",
        message: "the user may not read these minutes".to_owned(),
    }
}

/// Starts the minutes of a conference in progress, or resumes them after a pause; a start
/// while they run changes nothing (and succeeds). The first start fixes the owner
/// (`ownerUnionId`, else `unionId`, else the conference's creator), whether the audio is kept,
/// and the speakers (the members in the meeting then; the owner if none).
fn start_minutes(request: StartMinutes, state: &mut State) -> Result<MinutesCodeResponse, Failure> {
    let id = request.conference_id;
    let info = state.conference(&id).ok_or_else(Failure::room_not_found)?;
    match info.status {
        Some(2) => {}
        Some(1) => {
            return Err(Failure::bad_request(
                "resourceClose",
                "The meeting has ended",
            ));
        }
        _ => {
            return Err(Failure::bad_request(
                "paramsError",
                "error:the conference has not started",
            ));
        }
    }
    if let Some(minutes) = state.minutes(&id) {
        if !minutes.running() {
            minutes.runs.push(MinutesRun::now());
        }
        return Ok(success());
    }
    let body = request.body;
    let owner = body
        .owner_union_id
        .clone()
        .or_else(|| body.union_id.clone())
        .or(info.creator_id)
        .unwrap_or_default();
    let starter = body.union_id.unwrap_or_else(|| owner.clone());
    let mut speakers: Vec<(String, String)> = state
        .members(&id)
        .iter()
        .filter(|record| record.member.attend_status == Some(3))
        .filter_map(|record| {
            Some((
                record.member.union_id.clone()?,
                record.member.user_nick.clone().unwrap_or_default(),
            ))
        })
        .collect();
    if speakers.is_empty() {
        speakers.push((owner.clone(), String::new()));
    }
    let run = MinutesRun::now();
    state.set_minutes(
        &id,
        Minutes {
            owner,
            starter,
            record_audio: body.record_audio.unwrap_or(false),
            record_id: run.started_ms,
            speakers,
            runs: vec![run],
        },
    );
    Ok(success())
}

/// Pauses the minutes (`400 minutesNotFound` if never started); pausing paused minutes
/// changes nothing. Only a user who may read them may pause them.
fn stop_minutes(request: StopMinutes, state: &mut State) -> Result<MinutesCodeResponse, Failure> {
    let id = request.conference_id;
    let asker = request.body.union_id;
    let info = state.conference(&id).ok_or_else(Failure::room_not_found)?;
    let grants = state.record_grants(&id, MINUTES).to_vec();
    let minutes = state
        .minutes(&id)
        .ok_or_else(|| minutes_not_found("no flash minutes for this conference"))?;
    if !may_read(minutes, &grants, &asker) {
        return Err(permission_denied());
    }
    let mut paused = false;
    if let Some(run) = minutes.runs.last_mut()
        && run.ran.is_none()
    {
        run.ran = Some(run.length());
        paused = true;
    }
    // events: pausing running minutes of a conference in progress makes their summary (one
    // of an ended conference was made when it ended).
    if paused && info.status == Some(2) {
        state.emit_minutes_ready(&id, &minutes_task_id(&id));
    }
    Ok(success())
}

/// Whether `user` may read `minutes`: their owner, whoever started them, or a grantee.
fn may_read(minutes: &Minutes, grants: &[String], user: &str) -> bool {
    minutes.owner == user || minutes.starter == user || grants.iter().any(|g| g == user)
}

/// A record (flash minutes or a cloud recording) as the read operations see it.
struct Record {
    owner: String,
    /// Who else may read it (whoever started the minutes).
    starter: Option<String>,
    task_uuid: String,
    paragraphs: Vec<MinutesParagraph>,
    /// The audio (flash minutes kept with `recordAudio` only).
    audio: Vec<MinutesAudio>,
}

/// Conference `id`'s record of kind `biz_type`: `404 roomNotFound`, `400 minutesNotFound`, or
/// `400 paramsError` for a kind that is neither `minutes` nor `cloud_record`.
fn record(id: &str, biz_type: &str, state: &mut State) -> Result<Record, Failure> {
    let info = state.conference(id).ok_or_else(Failure::room_not_found)?;
    match biz_type {
        MINUTES => {
            let minutes = state
                .minutes(id)
                .ok_or_else(|| minutes_not_found("no flash minutes for this conference"))?
                .clone();
            let end = info.end_time;
            let paragraphs = minutes_text(&minutes, end);
            let audio = minutes_audio(id, &minutes, end);
            Ok(Record {
                owner: minutes.owner.clone(),
                starter: Some(minutes.starter.clone()),
                task_uuid: task_uuid(id, MINUTES),
                paragraphs,
                audio,
            })
        }
        CLOUD_RECORD => {
            let recording = if info.cloud_record_status == Some(3) {
                state.recording(id)
            } else {
                None
            };
            let recording = recording
                .ok_or_else(|| minutes_not_found("no cloud recording for this conference"))?;
            let paragraphs = recording
                .paragraphs
                .iter()
                .zip(1..)
                .map(|(paragraph, number)| from_transcript(paragraph, number))
                .collect();
            Ok(Record {
                owner: info
                    .cloud_record_owner_union_id
                    .or(info.creator_id)
                    .unwrap_or_default(),
                starter: None,
                task_uuid: task_uuid(id, CLOUD_RECORD),
                paragraphs,
                audio: Vec::new(),
            })
        }
        other => Err(Failure::bad_request(
            "paramsError",
            format!("error:bizType {other:?} is neither minutes nor cloud_record"),
        )),
    }
}

/// The record, if `asker` may read it (`None`: the app itself asks, as `queryMinutesText`
/// allows): else `403 minutesPermissionDenied`.
fn readable(
    id: &str,
    biz_type: &str,
    asker: Option<&str>,
    state: &mut State,
) -> Result<Record, Failure> {
    let record = record(id, biz_type, state)?;
    if let Some(asker) = asker {
        let granted = state.record_grants(id, biz_type).iter().any(|g| g == asker);
        if record.owner != asker && record.starter.as_deref() != Some(asker) && !granted {
            return Err(permission_denied());
        }
    }
    Ok(record)
}

/// The `taskUuid` of conference `id`'s flash minutes (the `minutesTaskId` of their events).
pub(crate) fn minutes_task_id(id: &str) -> String {
    task_uuid(id, MINUTES)
}

/// A 24-hex-digit task id, the same every time for the same conference and kind.
fn task_uuid(id: &str, biz_type: &str) -> String {
    let first = fnv(&format!("{id}/{biz_type}"));
    let second = fnv(&format!("{biz_type}/{id}"));
    format!("{first:016x}{:08x}", second & 0xffff_ffff)
}

/// FNV-1a: a stable hash (the signatures and ids must not change between runs).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A signed, expiring link like OSS's: `Expires=` in epoch seconds, a signature over the rest.
fn signed_url(path: &str, expires_ms: i64) -> String {
    let expires = expires_ms.div_euclid(1000);
    let signature = fnv(&format!("{path}?{expires}"));
    format!(
        "https://dingtalk-minutes.oss-cn-hangzhou.aliyuncs.com/{path}?Expires={expires}&Signature={signature:016x}"
    )
}

/// How long the minutes have run, in milliseconds: the sum of their runs, none counted past
/// the conference's end (`end`, epoch milliseconds).
fn run_lengths(minutes: &Minutes, end: Option<i64>) -> Vec<i64> {
    minutes
        .runs
        .iter()
        .map(|run| {
            let length = i64::try_from(run.length().as_millis()).unwrap_or(i64::MAX);
            match end {
                Some(end) => length.min(end.saturating_sub(run.started_ms).max(0)),
                None => length,
            }
        })
        .collect()
}

/// The minutes' text so far: one paragraph per whole [`LINE_MS`] of running time.
fn minutes_text(minutes: &Minutes, end: Option<i64>) -> Vec<MinutesParagraph> {
    let elapsed: i64 = run_lengths(minutes, end)
        .into_iter()
        .fold(0, i64::saturating_add);
    let count = (elapsed / LINE_MS).min(MAX_PARAGRAPHS);
    (0..count).map(|index| paragraph(minutes, index)).collect()
}

/// Paragraph `index` (from 0) of the minutes: line `index` of the script, cycled, spoken by
/// the speakers in turn.
fn paragraph(minutes: &Minutes, index: i64) -> MinutesParagraph {
    let position = usize::try_from(index).unwrap_or(0);
    let line = SCRIPT[position % SCRIPT.len()];
    let (union_id, nick) = minutes
        .speakers
        .get(position % minutes.speakers.len().max(1))
        .cloned()
        .unwrap_or_default();
    let start = index * LINE_MS;
    let end = start + LINE_MS - GAP_MS;
    let pieces = sentences(line);
    let total: i64 = pieces.iter().map(|piece| weight(piece)).sum::<i64>().max(1);
    let mut at = start;
    let mut sentence_list = Vec::new();
    for piece in pieces {
        let length = (end - start) * weight(&piece) / total;
        let words = words(&piece);
        let word_total: i64 = words.iter().map(|word| weight(word)).sum::<i64>().max(1);
        let mut word_at = at;
        let word_list = words
            .into_iter()
            .enumerate()
            .map(|(n, word)| {
                let word_length = length * weight(&word) / word_total;
                let item = MinutesWord {
                    word_id: Some(format!("{}{:03}#{n}", minutes.record_id, index)),
                    start_time: Some(word_at),
                    end_time: Some(word_at + word_length),
                    word: Some(word),
                };
                word_at += word_length;
                item
            })
            .collect();
        sentence_list.push(MinutesSentence {
            union_id: Some(union_id.clone()),
            sentence: Some(piece),
            start_time: Some(at),
            end_time: Some(at + length),
            word_list: Some(word_list),
        });
        at += length;
    }
    MinutesParagraph {
        paragraph_id: Some(index + 1),
        record_id: Some(minutes.record_id),
        union_id: Some(union_id),
        nick_name: Some(nick),
        start_time: Some(start),
        end_time: Some(end),
        paragraph: Some(line.to_owned()),
        sentence_list: Some(sentence_list),
    }
}

/// A cloud recording transcript's paragraph as minutes text (number `number`, from 1).
fn from_transcript(paragraph: &TranscriptParagraph, number: i64) -> MinutesParagraph {
    MinutesParagraph {
        paragraph_id: Some(number),
        record_id: paragraph.record_id,
        union_id: paragraph.union_id.clone(),
        nick_name: paragraph.nick_name.clone(),
        start_time: paragraph.start_time,
        end_time: paragraph.end_time,
        paragraph: paragraph.paragraph.clone(),
        sentence_list: Some(
            paragraph
                .sentence_list
                .iter()
                .flatten()
                .map(|sentence| MinutesSentence {
                    union_id: sentence.union_id.clone(),
                    sentence: sentence.sentence.clone(),
                    start_time: sentence.start_time,
                    end_time: sentence.end_time,
                    word_list: Some(
                        sentence
                            .word_list
                            .iter()
                            .flatten()
                            .map(|word| MinutesWord {
                                word: word.word.clone(),
                                word_id: word.word_id.clone(),
                                start_time: word.start_time,
                                end_time: word.end_time,
                            })
                            .collect(),
                    ),
                })
                .collect(),
        ),
    }
}

/// The time a piece of text takes to say: its characters (at least 1).
fn weight(text: &str) -> i64 {
    i64::try_from(text.chars().count()).unwrap_or(1).max(1)
}

/// A line's sentences, each ending with its punctuation.
fn sentences(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in line.chars() {
        current.push(c);
        if matches!(c, '.' | '?' | '!' | '。' | '？' | '！') {
            let sentence = current.trim().to_owned();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// A sentence's words: split at spaces, or (Chinese, without spaces) two characters each.
fn words(sentence: &str) -> Vec<String> {
    if sentence.contains(' ') {
        return sentence.split_whitespace().map(str::to_owned).collect();
    }
    let chars: Vec<char> = sentence.chars().collect();
    chars.chunks(2).map(|pair| pair.iter().collect()).collect()
}

/// The audio of the minutes (if kept): one file per run, with a play link valid for an hour.
fn minutes_audio(id: &str, minutes: &Minutes, end: Option<i64>) -> Vec<MinutesAudio> {
    if !minutes.record_audio {
        return Vec::new();
    }
    let task = task_uuid(id, MINUTES);
    let expires = now_millis().saturating_add(DEFAULT_LINK_LIFETIME_MS);
    minutes
        .runs
        .iter()
        .zip(run_lengths(minutes, end))
        .zip(1..)
        .filter(|((_, length), _)| *length > 0)
        .map(
            |((run, length), number): ((&MinutesRun, i64), u32)| MinutesAudio {
                record_id: Some(format!("{}_{number}", minutes.record_id)),
                union_id: Some(minutes.owner.clone()),
                start_time: Some(run.started_ms),
                end_time: Some(run.started_ms.saturating_add(length)),
                duration: Some(length),
                // 32 kbit/s.
                file_size: Some(length.saturating_mul(4)),
                play_url: Some(signed_url(&format!("audio/{task}_{number}.m4a"), expires)),
            },
        )
        .collect()
}

/// The audio files (`unionId` must be allowed to read).
fn query_minutes_audio(
    request: QueryMinutesAudio,
    state: &mut State,
) -> Result<QueryMinutesAudioResponse, Failure> {
    let record = readable(
        &request.conference_id,
        MINUTES,
        Some(&request.union_id),
        state,
    )?;
    Ok(QueryMinutesAudioResponse {
        audio_list: Some(record.audio),
    })
}

/// The text a page at a time. `direction` `"0"` oldest first, `"1"` newest first; the page
/// token is `"<startTime>_<paragraphId>"` of the page's last paragraph (like DingTalk's
/// example `1631172045153000_7940`); a token no paragraph has is `400 paramsError`. Without
/// `unionId` the app reads (allowed).
fn query_minutes_text(
    request: QueryMinutesText,
    state: &mut State,
) -> Result<QueryMinutesTextResponse, Failure> {
    let size = request
        .max_results
        .map_or(DEFAULT_MINUTES_PAGE_SIZE, |size| {
            usize::try_from(size.get()).unwrap_or(usize::MAX)
        });
    let descending = request.direction == "1";
    let record = readable(
        &request.conference_id,
        MINUTES,
        request.union_id.as_deref(),
        state,
    )?;
    let mut paragraphs = record.paragraphs;
    if descending {
        paragraphs.reverse();
    }
    let start = match request
        .next_token
        .as_deref()
        .filter(|token| !token.is_empty())
    {
        None => 0,
        Some(token) => {
            paragraphs
                .iter()
                .position(|paragraph| token_of(paragraph) == token)
                .ok_or_else(|| {
                    Failure::bad_request(
                        "paramsError",
                        "error:nextToken is not a cursor of this text",
                    )
                })?
                + 1
        }
    };
    let page: Vec<MinutesParagraph> = paragraphs.iter().skip(start).take(size).cloned().collect();
    let has_more = paragraphs.len() > start.saturating_add(size);
    let next_token = if has_more {
        page.last().map(token_of)
    } else {
        None
    };
    Ok(QueryMinutesTextResponse {
        has_more: Some(has_more),
        next_token,
        paragraph_list: Some(page),
    })
}

/// The page token after `paragraph`.
fn token_of(paragraph: &MinutesParagraph) -> String {
    format!(
        "{}_{}",
        paragraph.start_time.unwrap_or(0),
        paragraph.paragraph_id.unwrap_or(0)
    )
}

/// The summary; `summaryTypeList`, when not empty, keeps only the sections it names
/// (Tingwu's names, inferred: `Paragraph`, `Conversational`, `QuestionsAnswering`,
/// `AutoChapters`, and this fake's `Keywords`, `KeySentences`, `Actions`; other values select
/// nothing).
fn query_minutes_summary(
    request: QueryMinutesSummary,
    state: &mut State,
) -> Result<QueryMinutesSummaryResponse, Failure> {
    let body = request.body;
    let record = readable(&request.conference_id, MINUTES, Some(&body.union_id), state)?;
    let mut summary = summarise(&record.paragraphs);
    let wanted = |section: &str| {
        body.summary_type_list.is_empty() || body.summary_type_list.iter().any(|s| s == section)
    };
    if !wanted("Paragraph") {
        summary.paragraph_summary = None;
    }
    if !wanted("Conversational") {
        summary.conversational_summary = None;
    }
    if !wanted("QuestionsAnswering") {
        summary.questions_answering_summary = None;
    }
    if !wanted("AutoChapters") {
        summary.auto_chapters = None;
    }
    if !wanted("Keywords") {
        summary.keywords = None;
    }
    if !wanted("KeySentences") {
        summary.key_sentences = None;
    }
    if !wanted("Actions") {
        summary.actions = None;
    }
    Ok(QueryMinutesSummaryResponse {
        summary: Some(summary),
    })
}

/// The actions and the one-paragraph summary.
fn query_minutes_meeting_result(
    request: QueryMinutesMeetingResult,
    state: &mut State,
) -> Result<QueryMinutesMeetingResultResponse, Failure> {
    let record = readable(
        &request.conference_id,
        MINUTES,
        Some(&request.union_id),
        state,
    )?;
    let summary = summarise(&record.paragraphs);
    Ok(QueryMinutesMeetingResultResponse {
        action: Some(
            summary
                .actions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|action| action.text)
                .collect(),
        ),
        full_summary: summary.paragraph_summary,
    })
}

/// Grants `unionId` access to the record of kind `bizType` owned by `ownerUnionId` (`400
/// minutesNotFound` if the conference has no such record by that owner); granting twice
/// keeps one grant. `shareScope` and `roleSubResourceIds` are accepted and not interpreted.
fn add_record_permission(
    request: AddRecordPermission,
    state: &mut State,
) -> Result<AddRecordPermissionResponse, Failure> {
    let id = request.conference_id;
    let body = request.body;
    let record = record(&id, &body.biz_type, state)?;
    if record.owner != body.owner_union_id {
        return Err(minutes_not_found(
            "the conference has no record of this kind owned by ownerUnionId",
        ));
    }
    state.grant_record(&id, &body.biz_type, &body.union_id);
    Ok(AddRecordPermissionResponse {
        code: Some("200".to_owned()),
        task_uuid: Some(record.task_uuid),
    })
}

/// A link to the record's document, expiring at `expireTime` (an hour from now when left
/// out); an `expireTime` not in the future is `400 paramsError`.
fn generate_flash_minutes_document_url(
    request: GenerateFlashMinutesDocumentUrl,
    state: &mut State,
) -> Result<GenerateFlashMinutesDocumentUrlResponse, Failure> {
    let now = now_millis();
    let expires = request
        .expire_time
        .unwrap_or_else(|| now.saturating_add(DEFAULT_LINK_LIFETIME_MS));
    let record = readable(
        &request.conference_id,
        &request.biz_type,
        Some(&request.union_id),
        state,
    )?;
    if expires <= now {
        return Err(Failure::bad_request(
            "paramsError",
            "error:expireTime is not in the future",
        ));
    }
    Ok(GenerateFlashMinutesDocumentUrlResponse {
        minutes_doc_url: Some(signed_url(
            &format!("doc/{}.docx", record.task_uuid),
            expires,
        )),
    })
}

/// The record's chapters, if `recorderUnionId` owns it (`400 minutesNotFound` otherwise).
/// `status`: 1 once there is text to summarise, 0 before (a choice: DingTalk documents none).
fn query_flash_minutes_summary(
    request: QueryFlashMinutesSummary,
    state: &mut State,
) -> Result<QueryFlashMinutesSummaryResponse, Failure> {
    let record = record(&request.conference_id, &request.biz_type, state)?;
    if record.owner != request.recorder_union_id {
        return Err(minutes_not_found(
            "the conference has no record of this kind by recorderUnionId",
        ));
    }
    let chapters = summarise(&record.paragraphs)
        .auto_chapters
        .unwrap_or_default()
        .into_iter()
        .map(|chapter| FlashMinutesChapter {
            id: chapter.id.and_then(|id| i32::try_from(id).ok()),
            headline: chapter.headline,
            summary: chapter.summary,
            start: chapter.start,
            end: chapter.end,
        })
        .collect();
    Ok(QueryFlashMinutesSummaryResponse {
        flash_minutes_summary: Some(FlashMinutesSummary {
            status: Some(i32::from(!record.paragraphs.is_empty())),
            summary: Some(chapters),
        }),
    })
}

/// The record's link and task id if `recorderUnionId` owns a record of that kind, else none.
fn query_record_minutes_url(
    request: QueryRecordMinutesUrl,
    state: &mut State,
) -> Result<QueryRecordMinutesUrlResponse, Failure> {
    let urls = match record(&request.conference_id, &request.biz_type, state) {
        Ok(record) if record.owner == request.recorder_union_id => vec![RecordMinutesUrl {
            record_minutes_url: Some(format!(
                "https://shanji.dingtalk.com/app/transcribes/{}",
                record.task_uuid
            )),
            task_uuid: Some(record.task_uuid),
        }],
        Ok(_) => Vec::new(),
        Err(failure) if failure.code == "minutesNotFound" => Vec::new(),
        Err(failure) => return Err(failure),
    };
    Ok(QueryRecordMinutesUrlResponse {
        record_minutes_urls: Some(urls),
    })
}

/// One sentence of the text, numbered from 1 across the whole text.
struct Spoken<'a> {
    id: i64,
    paragraph: usize,
    speaker: &'a str,
    nick: &'a str,
    text: &'a str,
    start: i64,
    end: i64,
}

/// The summary of `paragraphs`, by rules (see the module's doc).
pub(crate) fn summarise(paragraphs: &[MinutesParagraph]) -> MinutesSummary {
    let spoken: Vec<Spoken<'_>> = paragraphs
        .iter()
        .enumerate()
        .flat_map(|(index, paragraph)| {
            paragraph
                .sentence_list
                .iter()
                .flatten()
                .map(move |sentence| (index, paragraph, sentence))
        })
        .zip(1..)
        .map(|((index, paragraph, sentence), id)| Spoken {
            id,
            paragraph: index,
            speaker: paragraph.union_id.as_deref().unwrap_or_default(),
            nick: paragraph.nick_name.as_deref().unwrap_or_default(),
            text: sentence.sentence.as_deref().unwrap_or_default(),
            start: sentence.start_time.unwrap_or(0),
            end: sentence.end_time.unwrap_or(0),
        })
        .collect();
    let chapters = chapters(paragraphs);
    let picked = |rule: fn(&str) -> bool| -> Vec<MinutesSentenceRef> {
        spoken
            .iter()
            .filter(|sentence| rule(sentence.text))
            .zip(1..)
            .map(|(sentence, id)| MinutesSentenceRef {
                id: Some(id),
                sentence_id: Some(sentence.id),
                text: Some(sentence.text.to_owned()),
                start: Some(sentence.start),
                end: Some(sentence.end),
            })
            .collect()
    };
    MinutesSummary {
        paragraph_summary: Some(overview(paragraphs, &spoken, &chapters)),
        conversational_summary: Some(per_speaker(&spoken)),
        questions_answering_summary: Some(questions(&spoken)),
        keywords: Some(keywords(&spoken)),
        key_sentences: Some(picked(is_decision)),
        actions: Some(picked(is_action)),
        auto_chapters: Some(chapters),
    }
}

/// A sentence that records a decision.
fn is_decision(text: &str) -> bool {
    ["决定", "agreed", "decided"]
        .iter()
        .any(|marker| text.contains(marker))
}

/// A sentence that gives someone a task.
fn is_action(text: &str) -> bool {
    [" will ", "负责"]
        .iter()
        .any(|marker| text.contains(marker))
}

/// A question.
fn is_question(text: &str) -> bool {
    text.ends_with('?') || text.ends_with('？')
}

/// Chapters of [`CHAPTER_PARAGRAPHS`] paragraphs: the first sentence heads it, the first
/// sentence of each paragraph summarises it.
fn chapters(paragraphs: &[MinutesParagraph]) -> Vec<MinutesChapter> {
    paragraphs
        .chunks(CHAPTER_PARAGRAPHS)
        .zip(1..)
        .map(|(group, id)| {
            let firsts: Vec<&str> = group
                .iter()
                .filter_map(|paragraph| {
                    paragraph
                        .sentence_list
                        .as_ref()?
                        .first()?
                        .sentence
                        .as_deref()
                })
                .collect();
            MinutesChapter {
                id: Some(id),
                headline: firsts.first().map(|first| headline(first)),
                summary: Some(firsts.join(" ")),
                start: group.first().and_then(|paragraph| paragraph.start_time),
                end: group.last().and_then(|paragraph| paragraph.end_time),
            }
        })
        .collect()
}

/// A sentence as a headline: without its final punctuation, at most 40 characters.
fn headline(sentence: &str) -> String {
    let trimmed = sentence.trim_end_matches(['.', '?', '!', '。', '？', '！']);
    trimmed.chars().take(40).collect()
}

/// The one-paragraph summary: how much was said, by how many, and the chapters' headlines.
fn overview(
    paragraphs: &[MinutesParagraph],
    spoken: &[Spoken<'_>],
    chapters: &[MinutesChapter],
) -> String {
    if paragraphs.is_empty() {
        return String::new();
    }
    let mut speakers: Vec<&str> = spoken.iter().map(|sentence| sentence.speaker).collect();
    speakers.sort_unstable();
    speakers.dedup();
    let length = paragraphs.last().and_then(|p| p.end_time).unwrap_or(0);
    let headlines: Vec<&str> = chapters
        .iter()
        .filter_map(|chapter| chapter.headline.as_deref())
        .collect();
    format!(
        "{} paragraphs by {} speakers over {}: {}.",
        paragraphs.len(),
        speakers.len(),
        clock(length),
        headlines.join("; ")
    )
}

/// `[hh:mm:ss]` of an offset in milliseconds.
fn clock(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Per speaker, in the order they first spoke: how often, and what they opened with.
fn per_speaker(spoken: &[Spoken<'_>]) -> Vec<MinutesSpeakerSummary> {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut paragraphs: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut first: HashMap<&str, &str> = HashMap::new();
    for sentence in spoken {
        if !paragraphs.contains_key(sentence.speaker) {
            order.push((sentence.speaker, sentence.nick));
        }
        let list = paragraphs.entry(sentence.speaker).or_default();
        if list.last() != Some(&sentence.paragraph) {
            list.push(sentence.paragraph);
        }
        first.entry(sentence.speaker).or_insert(sentence.text);
    }
    order
        .into_iter()
        .map(|(speaker, nick)| MinutesSpeakerSummary {
            speaker_id: Some(speaker.to_owned()),
            speaker_name: Some(nick.to_owned()),
            summary: Some(format!(
                "{} paragraph(s); first: {}",
                paragraphs.get(speaker).map_or(0, Vec::len),
                first.get(speaker).copied().unwrap_or_default()
            )),
        })
        .collect()
}

/// Each question with the next sentence of another paragraph as its answer.
fn questions(spoken: &[Spoken<'_>]) -> Vec<MinutesQuestionAnswer> {
    spoken
        .iter()
        .enumerate()
        .filter(|(_, sentence)| is_question(sentence.text))
        .filter_map(|(index, question)| {
            let answer = spoken
                .iter()
                .skip(index + 1)
                .find(|next| next.paragraph != question.paragraph)?;
            Some(MinutesQuestionAnswer {
                question: Some(question.text.to_owned()),
                answer: Some(answer.text.to_owned()),
                sentence_ids_of_question: Some(vec![question.id]),
                sentence_ids_of_answer: Some(vec![answer.id]),
            })
        })
        .collect()
}

/// The [`KEYWORDS`] most frequent English words of six letters or more (ties: first said).
fn keywords(spoken: &[Spoken<'_>]) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for sentence in spoken {
        for word in sentence.text.split(|c: char| !c.is_ascii_alphabetic()) {
            if word.len() < 6 {
                continue;
            }
            let word = word.to_ascii_lowercase();
            match counts.iter_mut().find(|(known, _)| *known == word) {
                Some((_, count)) => *count += 1,
                None => counts.push((word, 1)),
            }
        }
    }
    // A stable sort keeps the first said first among equals.
    counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    counts
        .into_iter()
        .take(KEYWORDS)
        .map(|(word, _)| word)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_into_sentences_and_words() {
        assert_eq!(
            sentences("延迟降低了。内存也稳定了。"),
            vec!["延迟降低了。", "内存也稳定了。"]
        );
        assert_eq!(sentences("Is it done? Yes."), vec!["Is it done?", "Yes."]);
        assert_eq!(words("Is it done?"), vec!["Is", "it", "done?"]);
        assert_eq!(words("大家好。"), vec!["大家", "好。"]);
    }

    #[test]
    fn task_ids_are_stable_and_differ_by_kind() {
        let minutes = task_uuid("6323d7568777190142ab9d10", MINUTES);
        assert_eq!(minutes.len(), 24);
        assert_eq!(minutes, task_uuid("6323d7568777190142ab9d10", MINUTES));
        assert_ne!(minutes, task_uuid("6323d7568777190142ab9d10", CLOUD_RECORD));
    }

    #[test]
    fn clocks_read_hours_minutes_seconds() {
        assert_eq!(clock(3_723_000), "01:02:03");
        assert_eq!(clock(-5), "00:00:00");
    }
}
