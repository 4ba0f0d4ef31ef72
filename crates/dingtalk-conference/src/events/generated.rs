// Stand-in, hand-written: the next commit has `cargo xtask codegen` write this file from the
// spec's event schemas. Public items and names are final.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Mismatch, Object, flag, int, int32, list, nested, span, text, time};
use crate::{AttendStatus, BizType, ConferenceStatus, DeviceType, FlashMinutesBizType};

/// Every `eventType` DingTalk documents for conferences, typed by [`ConferenceEvent`].
pub const EVENT_TYPES: [&str; 8] = [
    "meeting_status_change",
    "meeting_status_change_target_push",
    "meeting_member_status_change",
    "meeting_member_status_change_target_push",
    "meeting_asr_result_event",
    "meeting_asr_result_event_directed",
    "flash_minutes_open_event",
    "flash_minutes_open_event_directed",
];

/// `openConfModel`: the conference an event is about, as it was at the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventConference {
    /// `conferenceId`.
    pub conference_id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `roomCode`.
    pub room_code: Option<String>,
    /// `externalLinkUrl`.
    pub external_link_url: Option<String>,
    /// `status`.
    pub status: Option<ConferenceStatus>,
    /// `startTime`.
    pub start_time: Option<DateTime<Utc>>,
    /// `endTime`.
    pub end_time: Option<DateTime<Utc>>,
    /// `confDuration`.
    pub duration: Option<Duration>,
    /// `invitedNum`.
    pub invited_num: Option<i32>,
    /// `activeNum`.
    pub active_num: Option<i32>,
    /// `attendNum`.
    pub attend_num: Option<i32>,
    /// `creatorId`.
    pub creator_id: Option<String>,
    /// `creatorNick`.
    pub creator_nick: Option<String>,
    /// `scheduleConferenceId`.
    pub schedule_conference_id: Option<String>,
    /// `bizType`.
    pub biz_type: Option<BizType>,
    /// `calendarEventId`.
    pub calendar_event_id: Option<String>,
    /// `bizScene`.
    pub biz_scene: Option<String>,
}

impl EventConference {
    fn from_json(object: &Object) -> Result<Self, Mismatch> {
        Ok(Self {
            conference_id: text(object, "conferenceId")?,
            title: text(object, "title")?,
            room_code: text(object, "roomCode")?,
            external_link_url: text(object, "externalLinkUrl")?,
            status: int(object, "status")?.map(ConferenceStatus::from),
            start_time: time(object, "startTime")?,
            end_time: time(object, "endTime")?,
            duration: span(object, "confDuration")?,
            invited_num: int32(object, "invitedNum")?,
            active_num: int32(object, "activeNum")?,
            attend_num: int32(object, "attendNum")?,
            creator_id: text(object, "creatorId")?,
            creator_nick: text(object, "creatorNick")?,
            schedule_conference_id: text(object, "scheduleConferenceId")?,
            biz_type: text(object, "bizType")?.map(BizType::from),
            calendar_event_id: text(object, "calendarEventId")?,
            biz_scene: text(object, "bizScene")?,
        })
    }
}

/// One member of `openMemberModels`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventMember {
    /// `userId`: the unionId.
    pub union_id: Option<String>,
    /// `conferenceId`.
    pub conference_id: Option<String>,
    /// `userNick`.
    pub user_nick: Option<String>,
    /// `joinTime`.
    pub join_time: Option<DateTime<Utc>>,
    /// `leaveTime`.
    pub leave_time: Option<DateTime<Utc>>,
    /// `duration`.
    pub duration: Option<Duration>,
    /// `attendStatus`.
    pub attend_status: Option<AttendStatus>,
    /// `host`.
    pub host: Option<bool>,
    /// `coHost`.
    pub co_host: Option<bool>,
    /// `outerOrgMember`.
    pub outer_org_member: Option<bool>,
    /// `pstnJoin`.
    pub pstn_join: Option<bool>,
    /// `deviceType`.
    pub device_type: Option<DeviceType>,
}

impl EventMember {
    fn from_json(object: &Object) -> Result<Self, Mismatch> {
        Ok(Self {
            union_id: text(object, "userId")?,
            conference_id: text(object, "conferenceId")?,
            user_nick: text(object, "userNick")?,
            join_time: time(object, "joinTime")?,
            leave_time: time(object, "leaveTime")?,
            duration: span(object, "duration")?,
            attend_status: int(object, "attendStatus")?.map(AttendStatus::from),
            host: flag(object, "host")?,
            co_host: flag(object, "coHost")?,
            outer_org_member: flag(object, "outerOrgMember")?,
            pstn_join: flag(object, "pstnJoin")?,
            device_type: text(object, "deviceType")?.map(DeviceType::from),
        })
    }
}

/// `payload` of a transcription event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transcript {
    /// `result`.
    pub result: Option<String>,
    /// `speakerUnionId`.
    pub speaker_union_id: Option<String>,
    /// `words`.
    pub words: Vec<TranscriptWord>,
    /// `index`.
    pub index: Option<i64>,
    /// `time`.
    pub time: Option<i64>,
    /// `beginTime`.
    pub begin_time: Option<i64>,
}

impl Transcript {
    fn from_json(object: &Object) -> Result<Self, Mismatch> {
        Ok(Self {
            result: text(object, "result")?,
            speaker_union_id: text(object, "speakerUnionId")?,
            words: list(object, "words", TranscriptWord::from_json)?,
            index: int(object, "index")?,
            time: int(object, "time")?,
            begin_time: int(object, "beginTime")?,
        })
    }
}

/// One word of a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TranscriptWord {
    /// `startTime`.
    pub start_time: Option<i64>,
    /// `text`.
    pub text: Option<String>,
    /// `endTime`.
    pub end_time: Option<i64>,
}

impl TranscriptWord {
    fn from_json(object: &Object) -> Result<Self, Mismatch> {
        Ok(Self {
            start_time: int(object, "startTime")?,
            text: text(object, "text")?,
            end_time: int(object, "endTime")?,
        })
    }
}

/// `header` of a transcription event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TranscriptHeader {
    /// `messageNo`.
    pub message_no: Option<i64>,
    /// `name`.
    pub name: Option<String>,
    /// `messageId`.
    pub message_id: Option<String>,
}

impl TranscriptHeader {
    fn from_json(object: &Object) -> Result<Self, Mismatch> {
        Ok(Self {
            message_no: int(object, "messageNo")?,
            name: text(object, "name")?,
            message_id: text(object, "messageId")?,
        })
    }
}

/// `changeScene` of a conference status event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConferenceScene {
    /// `conference_created`.
    Created,
    /// `conference_closed`.
    Closed,
    /// A value this crate does not know yet, as sent.
    Unknown(String),
}

impl From<String> for ConferenceScene {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "conference_created" => Self::Created,
            "conference_closed" => Self::Closed,
            _ => Self::Unknown(raw),
        }
    }
}

/// `changeScene` of a member status event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemberScene {
    /// `user_join`.
    Joined,
    /// `user_leave`.
    Left,
    /// `user_invited`.
    Invited,
    /// `user_kicked`.
    Kicked,
    /// A value this crate does not know yet, as sent.
    Unknown(String),
}

impl From<String> for MemberScene {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "user_join" => Self::Joined,
            "user_leave" => Self::Left,
            "user_invited" => Self::Invited,
            "user_kicked" => Self::Kicked,
            _ => Self::Unknown(raw),
        }
    }
}

/// `minutesEventType` of a flash minutes event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MinutesState {
    /// `summary_generated`.
    SummaryGenerated,
    /// A value this crate does not know yet, as sent.
    Unknown(String),
}

impl From<String> for MinutesState {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "summary_generated" => Self::SummaryGenerated,
            _ => Self::Unknown(raw),
        }
    }
}

/// The payload of a conference event, typed by its `eventType`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConferenceEvent {
    /// `meeting_status_change`, `meeting_status_change_target_push` (`directed`).
    #[non_exhaustive]
    StatusChanged {
        /// `openConfModel`.
        conference: Option<EventConference>,
        /// `statusSeqNum`.
        seq: Option<i64>,
        /// `changeScene`.
        scene: Option<ConferenceScene>,
        /// Whether it came as the `_target_push` type.
        directed: bool,
    },
    /// `meeting_member_status_change`, `meeting_member_status_change_target_push`.
    #[non_exhaustive]
    MemberStatusChanged {
        /// `openMemberModels`.
        members: Vec<EventMember>,
        /// `statusSeqNum`.
        seq: Option<i64>,
        /// `changeScene`.
        scene: Option<MemberScene>,
        /// Whether it came as the `_target_push` type.
        directed: bool,
    },
    /// `meeting_asr_result_event`, `meeting_asr_result_event_directed`.
    #[non_exhaustive]
    TranscriptionResult {
        /// `recordId`.
        record_id: Option<String>,
        /// `openConfModel`.
        conference: Option<EventConference>,
        /// `bizType`.
        biz_type: Option<FlashMinutesBizType>,
        /// `payload`.
        transcript: Option<Transcript>,
        /// `header`.
        header: Option<TranscriptHeader>,
        /// `timestamp`.
        timestamp: Option<DateTime<Utc>>,
        /// Whether it came as the `_directed` type.
        directed: bool,
    },
    /// `flash_minutes_open_event`, `flash_minutes_open_event_directed`.
    #[non_exhaustive]
    MinutesReady {
        /// `openConfModel`.
        conference: Option<EventConference>,
        /// `bizType`.
        biz_type: Option<FlashMinutesBizType>,
        /// `minutesEventType`.
        state: Option<MinutesState>,
        /// `minutesTaskId`.
        task_id: Option<String>,
        /// Whether it came as the `_directed` type.
        directed: bool,
    },
    /// An event type this crate does not know, or a payload that does not fit its type.
    Unknown {
        /// `eventType` as sent.
        event_type: String,
        /// The payload as sent.
        raw: Arc<Value>,
    },
}

impl ConferenceEvent {
    pub(super) fn from_documented(
        event_type: &str,
        object: &Object,
    ) -> Option<Result<Self, Mismatch>> {
        Some(match event_type {
            "meeting_status_change" => Self::status_changed(object, false),
            "meeting_status_change_target_push" => Self::status_changed(object, true),
            "meeting_member_status_change" => Self::member_status_changed(object, false),
            "meeting_member_status_change_target_push" => Self::member_status_changed(object, true),
            "meeting_asr_result_event" => Self::transcription_result(object, false),
            "meeting_asr_result_event_directed" => Self::transcription_result(object, true),
            "flash_minutes_open_event" => Self::minutes_ready(object, false),
            "flash_minutes_open_event_directed" => Self::minutes_ready(object, true),
            _ => return None,
        })
    }

    fn status_changed(object: &Object, directed: bool) -> Result<Self, Mismatch> {
        Ok(Self::StatusChanged {
            conference: nested(object, "openConfModel", EventConference::from_json)?,
            seq: int(object, "statusSeqNum")?,
            scene: text(object, "changeScene")?.map(ConferenceScene::from),
            directed,
        })
    }

    fn member_status_changed(object: &Object, directed: bool) -> Result<Self, Mismatch> {
        Ok(Self::MemberStatusChanged {
            members: list(object, "openMemberModels", EventMember::from_json)?,
            seq: int(object, "statusSeqNum")?,
            scene: text(object, "changeScene")?.map(MemberScene::from),
            directed,
        })
    }

    fn transcription_result(object: &Object, directed: bool) -> Result<Self, Mismatch> {
        Ok(Self::TranscriptionResult {
            record_id: text(object, "recordId")?,
            conference: nested(object, "openConfModel", EventConference::from_json)?,
            biz_type: text(object, "bizType")?.map(FlashMinutesBizType::from),
            transcript: nested(object, "payload", Transcript::from_json)?,
            header: nested(object, "header", TranscriptHeader::from_json)?,
            timestamp: time(object, "timestamp")?,
            directed,
        })
    }

    fn minutes_ready(object: &Object, directed: bool) -> Result<Self, Mismatch> {
        Ok(Self::MinutesReady {
            conference: nested(object, "openConfModel", EventConference::from_json)?,
            biz_type: text(object, "bizType")?.map(FlashMinutesBizType::from),
            state: text(object, "minutesEventType")?.map(MinutesState::from),
            task_id: text(object, "minutesTaskId")?,
            directed,
        })
    }
}
