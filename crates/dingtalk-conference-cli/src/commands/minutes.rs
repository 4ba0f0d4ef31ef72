//! Flash minutes (闪记): `minutes start|stop|text|summary`.

use clap::Subcommand;
use dingtalk_conference::{
    MinutesChapter, MinutesParagraph, MinutesPause, MinutesSentenceRef, MinutesSummary, NewMinutes,
};
use futures_util::StreamExt as _;

use super::Context;
use crate::Failure;
use crate::cli::{conference_id, union_id};
use crate::render::{self, ABSENT, clean};

/// The minutes commands.
#[derive(Subcommand)]
pub(crate) enum Minutes {
    /// Flash minutes (闪记, live transcription): start, pause, read the text or the summary.
    #[command(subcommand)]
    Minutes(Action),
}

/// What to do with a conference's flash minutes.
#[derive(Subcommand)]
pub(crate) enum Action {
    /// Start (or resume) a conference's flash minutes.
    #[command(long_about = "\
Start the flash minutes (闪记, live transcription) of a conference in progress, or resume them
after `minutes stop`. Prints DingTalk's answer code. DingTalk documents nothing about a repeat,
so a failed start is not retried blindly.")]
    Start {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user starting them (who owns them unless --owner says otherwise).
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
        /// unionId of the minutes' owner.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        owner: Option<String>,
        /// Keep the audio too.
        #[arg(long)]
        record_audio: bool,
    },

    /// Pause a conference's flash minutes (DingTalk's StopMinutes pauses; `start` resumes).
    Stop {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user pausing them.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
    },

    /// Print the text of a conference's flash minutes, paragraph by paragraph.
    #[command(long_about = "\
Print the text of a conference's flash minutes, one paragraph per line as
'[hh:mm:ss] nick: text', the time being how far into the minutes the paragraph starts. Lines
are printed as DingTalk's pages arrive.

With --json, prints JSON Lines: one DingTalk paragraphList object per line (with its sentences
and words), also as the pages arrive.")]
    Text {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user asking.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
        /// Newest paragraphs first.
        #[arg(long)]
        newest_first: bool,
        /// Ask DingTalk for pages of N paragraphs (at most 2000); all are read.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2000))]
        page_size: Option<u32>,
    },

    /// Print the AI summary of a conference's flash minutes, for a person to read.
    #[command(long_about = "\
Print the AI summary of a conference's flash minutes in sections: the summary, chapters (with
their start as [hh:mm:ss] into the minutes), key sentences, actions, questions and answers,
and keywords. Sections DingTalk leaves empty are left out.

With --json, prints DingTalk's summary object as it sent it.")]
    Summary {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the user asking.
        #[arg(long, value_name = "UNION_ID", value_parser = union_id)]
        user_id: String,
    },
}

impl Minutes {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Minutes(action) = self;
        match action {
            Action::Start {
                conference_id,
                user_id,
                owner,
                record_audio,
            } => {
                let mut minutes = NewMinutes::new().operator(user_id.as_str());
                if let Some(owner) = owner {
                    minutes = minutes.owner(owner.as_str());
                }
                if *record_audio {
                    minutes = minutes.record_audio(true);
                }
                let client = cx.client();
                let answer = cx
                    .call(client.start_minutes(conference_id, minutes))
                    .await?;
                if cx.json() {
                    cx.out.json(&answer)
                } else {
                    let code = answer.code.as_deref().map_or(ABSENT.to_string(), clean);
                    cx.out.print(&format!("minutes started (code {code})\n"))
                }
            }
            Action::Stop {
                conference_id,
                user_id,
            } => {
                let client = cx.client();
                let answer = cx
                    .call(client.pause_minutes(conference_id, MinutesPause::new(user_id.as_str())))
                    .await?;
                if cx.json() {
                    cx.out.json(&answer)
                } else {
                    let code = answer.code.as_deref().map_or(ABSENT.to_string(), clean);
                    cx.out.print(&format!("minutes paused (code {code})\n"))
                }
            }
            Action::Text {
                conference_id,
                user_id,
                newest_first,
                page_size,
            } => {
                let direction = if *newest_first { "1" } else { "0" };
                let mut listing =
                    cx.client()
                        .minutes_text(conference_id, direction, Some(user_id.as_str()));
                if let Some(size) = page_size {
                    listing = listing.page_size(*size);
                }
                let json = cx.json();
                let out = &mut *cx.out;
                super::within(cx.global.timeout, async {
                    let mut stream = std::pin::pin!(listing.stream());
                    while let Some(paragraph) = stream.next().await {
                        let paragraph = paragraph.map_err(Failure::Dingtalk)?;
                        if json {
                            out.json_line(&paragraph)?;
                        } else {
                            out.print(&paragraph_line(&paragraph))?;
                        }
                        if out.is_closed() {
                            break;
                        }
                    }
                    Ok(())
                })
                .await?
            }
            Action::Summary {
                conference_id,
                user_id,
            } => {
                let client = cx.client();
                let summary = cx
                    .call(client.minutes_summary(conference_id, user_id, &[]))
                    .await?;
                if cx.json() {
                    cx.out.json(&summary)
                } else {
                    cx.out.print(&summary_text(&summary))
                }
            }
        }
    }
}

/// One paragraph as `[hh:mm:ss] nick: text`.
fn paragraph_line(paragraph: &MinutesParagraph) -> String {
    let time = paragraph
        .start_time
        .map_or("--:--:--".to_string(), render::offset);
    let nick = paragraph
        .nick_name
        .as_deref()
        .filter(|nick| !nick.is_empty())
        .or(paragraph.union_id.as_deref())
        .map_or(ABSENT.to_string(), clean);
    let text = paragraph.paragraph.as_deref().map_or(String::new(), clean);
    format!("[{time}] {nick}: {text}\n")
}

/// `[hh:mm:ss]` of an optional offset.
fn at(offset: Option<std::time::Duration>) -> String {
    format!(
        "[{}]",
        offset.map_or("--:--:--".to_string(), render::offset)
    )
}

/// The summary in sections, each under its title; empty sections are left out.
fn summary_text(summary: &MinutesSummary) -> String {
    let mut out = String::new();
    let mut section = |title: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(title);
        out.push('\n');
        for line in lines {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
    };
    section(
        "Summary",
        summary
            .paragraph_summary
            .iter()
            .filter(|text| !text.is_empty())
            .map(|text| clean(text))
            .collect(),
    );
    section(
        "Chapters",
        summary
            .auto_chapters
            .iter()
            .flat_map(chapter_lines)
            .collect(),
    );
    section("Key sentences", sentence_lines(&summary.key_sentences));
    section("Actions", sentence_lines(&summary.actions));
    section(
        "Questions and answers",
        summary
            .questions_answering_summary
            .iter()
            .flat_map(|qa| {
                let text =
                    |value: &Option<String>| value.as_deref().map_or(ABSENT.to_string(), clean);
                [
                    format!("Q: {}", text(&qa.question)),
                    format!("A: {}", text(&qa.answer)),
                ]
            })
            .collect(),
    );
    section(
        "Speakers",
        summary
            .conversational_summary
            .iter()
            .map(|speaker| {
                let name = speaker
                    .speaker_name
                    .as_deref()
                    .filter(|name| !name.is_empty())
                    .or(speaker.speaker_id.as_deref())
                    .map_or(ABSENT.to_string(), clean);
                let text = speaker.summary.as_deref().map_or(String::new(), clean);
                format!("{name}: {text}")
            })
            .collect(),
    );
    if !summary.keywords.is_empty() {
        let words: Vec<String> = summary.keywords.iter().map(|word| clean(word)).collect();
        section("Keywords", vec![words.join(", ")]);
    }
    if out.is_empty() {
        out.push_str("no summary yet\n");
    }
    out
}

/// A chapter: `[start] headline (to [end])`, its summary indented below.
fn chapter_lines(chapter: &MinutesChapter) -> Vec<String> {
    let headline = chapter
        .headline
        .as_deref()
        .map_or(ABSENT.to_string(), clean);
    let mut lines = vec![format!(
        "{} {headline} (to {})",
        at(chapter.start),
        at(chapter.end)
    )];
    if let Some(summary) = chapter.summary.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("    {}", clean(summary)));
    }
    lines
}

/// Sentences as `[start] text`.
fn sentence_lines(sentences: &[MinutesSentenceRef]) -> Vec<String> {
    sentences
        .iter()
        .map(|sentence| {
            let text = sentence.text.as_deref().map_or(ABSENT.to_string(), clean);
            format!("{} {text}", at(sentence.start))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary as DingTalk's JSON would give it.
    fn summary() -> MinutesSummary {
        serde_json::from_value(serde_json::json!({
            "paragraphSummary": "12 paragraphs by 3 speakers over 00:01:12: 开场; 发布.",
            "autoChapters": [
                {"id": 1, "headline": "开场", "summary": "大家好。 Release status.", "start": 0, "end": 23500},
                {"id": 2, "headline": "发布", "summary": "We ship.", "start": 24000, "end": 71500}
            ],
            "keySentences": [{"id": 1, "sentenceId": 9, "text": "我们决定下周三发布新版本。", "start": 42000, "end": 47500}],
            "actions": [{"id": 1, "sentenceId": 10, "text": "Alice will update the notes.", "start": 48000, "end": 53500}],
            "questionsAnsweringSummary": [{"question": "When?", "answer": "Wednesday.\u{1b}[2J"}],
            "conversationalSummary": [{"speakerId": "u1", "speakerName": "小钉", "summary": "4 paragraph(s)"}],
            "keywords": ["release", "onboarding"]
        }))
        .expect("a summary")
    }

    #[test]
    fn the_summary_reads_in_sections() {
        insta::assert_snapshot!(summary_text(&summary()));
    }

    #[test]
    fn an_empty_summary_says_so() {
        assert_eq!(summary_text(&MinutesSummary::default()), "no summary yet\n");
    }

    #[test]
    fn paragraphs_are_time_nick_and_text() {
        let mut paragraph = MinutesParagraph::default();
        paragraph.start_time = Some(std::time::Duration::from_millis(61_000));
        paragraph.union_id = Some("u1".to_string());
        paragraph.nick_name = Some(String::new());
        paragraph.paragraph = Some("hi\nthere".to_string());
        assert_eq!(paragraph_line(&paragraph), "[00:01:01] u1: hi\\nthere\n");
    }
}
