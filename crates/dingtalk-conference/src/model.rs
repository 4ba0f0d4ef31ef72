//! The typed conference model: DingTalk's integers and strings as enums, milliseconds as
//! timestamps and durations.
//!
//! Every enum has an `Unknown(raw)` variant, so a value DingTalk adds tomorrow still decodes;
//! `serde` writes the model back in DingTalk's own JSON form.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use dingtalk_conference_api::types as wire;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A video conference, as returned by [`Client::conference_info`](crate::Client::conference_info).
///
/// Every field is optional because DingTalk omits what does not apply (`end_time` and
/// `duration` until the meeting has ended). Serializes to DingTalk's JSON form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConferenceInfo {
    /// The conference id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_id: Option<String>,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The status (wire: `status`, an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConferenceStatus>,
    /// The business type (wire: `bizType`, a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_type: Option<BizType>,
    /// When the conference started (wire: `startTime`, epoch milliseconds).
    #[serde(
        default,
        with = "epoch_millis",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<i64>")]
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended; only once it has (wire: `endTime`, epoch milliseconds).
    #[serde(
        default,
        with = "epoch_millis",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<i64>")]
    pub end_time: Option<DateTime<Utc>>,
    /// How long it lasted; only once it has ended (wire: `confDuration`, milliseconds).
    #[serde(
        default,
        rename = "confDuration",
        with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<u64>")]
    pub duration: Option<Duration>,
    /// People in the conference now (wire: `activeNum`).
    #[serde(default, rename = "activeNum", skip_serializing_if = "Option::is_none")]
    pub active_count: Option<i32>,
    /// People who have joined, cumulative (wire: `attendNum`).
    #[serde(default, rename = "attendNum", skip_serializing_if = "Option::is_none")]
    pub attended_count: Option<i32>,
    /// People invited (wire: `invitedNum`).
    #[serde(
        default,
        rename = "invitedNum",
        skip_serializing_if = "Option::is_none"
    )]
    pub invited_count: Option<i32>,
    /// The creator's unionId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    /// The creator's nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_nick: Option<String>,
    /// Link to join the conference (wire: `externalLinkUrl`).
    #[serde(
        default,
        rename = "externalLinkUrl",
        skip_serializing_if = "Option::is_none"
    )]
    pub join_url: Option<String>,
    /// The meeting code people type to join (digits; a string so leading zeros survive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_code: Option<String>,
    /// Id of the scheduled conference this one belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_conference_id: Option<String>,
    /// Cloud recording state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_record_status: Option<CloudRecordStatus>,
    /// unionId of the cloud recording's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_record_owner_union_id: Option<String>,
    /// Minutes (闪记) recording state. **Deprecated by DingTalk: no longer returned.**
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_status: Option<MinutesStatus>,
    /// unionId of the minutes' owner. **Deprecated by DingTalk: no longer returned.**
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_owner_union_id: Option<String>,
    /// Extension (cool) apps configured for the conference (`null` on the wire reads as empty).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extension_app_settings: Vec<ExtensionAppSetting>,
}

/// An extension (cool) app configured for one conference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExtensionAppSetting {
    /// AgentId of the micro-app the cool app belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The cool app's appCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_code: Option<String>,
    /// When the app opens by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_open_mode: Option<AutoOpenMode>,
    /// App-defined data for this conference (wire: `extensionAppBizData`).
    #[serde(
        default,
        rename = "extensionAppBizData",
        skip_serializing_if = "Option::is_none"
    )]
    pub biz_data: Option<String>,
}

impl ConferenceInfo {
    /// Whether the conference has ended.
    pub fn has_ended(&self) -> bool {
        self.status == Some(ConferenceStatus::Ended)
    }

    /// Converts the generated client's wire type. Never fails: a time outside the years
    /// 0000-9999 or a negative duration (values the spec rules out) reads as absent, with a
    /// warning in the trace, rather than costing the caller the whole conference.
    pub fn from_wire(raw: wire::ConferenceInfo) -> Self {
        Self {
            conference_id: raw.conference_id,
            title: raw.title,
            status: raw.status.map(ConferenceStatus::from),
            biz_type: raw.biz_type.map(BizType::from),
            start_time: raw.start_time.and_then(|ms| timestamp("startTime", ms)),
            end_time: raw.end_time.and_then(|ms| timestamp("endTime", ms)),
            duration: raw
                .conf_duration
                .and_then(|ms| duration("confDuration", ms)),
            active_count: raw.active_num,
            attended_count: raw.attend_num,
            invited_count: raw.invited_num,
            creator_id: raw.creator_id,
            creator_nick: raw.creator_nick,
            join_url: raw.external_link_url,
            room_code: raw.room_code,
            schedule_conference_id: raw.schedule_conference_id,
            cloud_record_status: raw.cloud_record_status.map(CloudRecordStatus::from),
            cloud_record_owner_union_id: raw.cloud_record_owner_union_id,
            minutes_status: raw.minutes_status.map(MinutesStatus::from),
            minutes_owner_union_id: raw.minutes_owner_union_id,
            extension_app_settings: raw
                .extension_app_settings
                .unwrap_or_default()
                .into_iter()
                .map(ExtensionAppSetting::from)
                .collect(),
        }
    }

    /// The wire form, as the generated client has it (raw integers and strings).
    pub fn to_wire(&self) -> wire::ConferenceInfo {
        wire::ConferenceInfo {
            active_num: self.active_count,
            attend_num: self.attended_count,
            biz_type: self.biz_type.as_ref().map(|b| b.as_str().to_string()),
            cloud_record_owner_union_id: self.cloud_record_owner_union_id.clone(),
            cloud_record_status: self.cloud_record_status.map(CloudRecordStatus::raw),
            conf_duration: self.duration.map(duration_millis),
            conference_id: self.conference_id.clone(),
            creator_id: self.creator_id.clone(),
            creator_nick: self.creator_nick.clone(),
            end_time: self.end_time.map(|t| t.timestamp_millis()),
            extension_app_settings: (!self.extension_app_settings.is_empty()).then(|| {
                self.extension_app_settings
                    .iter()
                    .map(ExtensionAppSetting::to_wire)
                    .collect()
            }),
            external_link_url: self.join_url.clone(),
            invited_num: self.invited_count,
            minutes_owner_union_id: self.minutes_owner_union_id.clone(),
            minutes_status: self.minutes_status.map(MinutesStatus::raw),
            room_code: self.room_code.clone(),
            schedule_conference_id: self.schedule_conference_id.clone(),
            start_time: self.start_time.map(|t| t.timestamp_millis()),
            status: self.status.map(ConferenceStatus::raw),
            title: self.title.clone(),
        }
    }
}

impl From<wire::ExtensionAppSetting> for ExtensionAppSetting {
    fn from(raw: wire::ExtensionAppSetting) -> Self {
        Self {
            app_id: raw.app_id,
            app_code: raw.app_code,
            auto_open_mode: raw.auto_open_mode.map(AutoOpenMode::from),
            biz_data: raw.extension_app_biz_data,
        }
    }
}

impl ExtensionAppSetting {
    fn to_wire(&self) -> wire::ExtensionAppSetting {
        wire::ExtensionAppSetting {
            app_code: self.app_code.clone(),
            app_id: self.app_id.clone(),
            auto_open_mode: self.auto_open_mode.map(AutoOpenMode::raw),
            extension_app_biz_data: self.biz_data.clone(),
        }
    }
}

/// Epoch milliseconds as a time; `None` (and a warning) outside the years 0000-9999.
fn timestamp(field: &str, millis: i64) -> Option<DateTime<Utc>> {
    let time = DateTime::from_timestamp_millis(millis).filter(|t| (0..=9999).contains(&t.year()));
    if time.is_none() {
        tracing::warn!(
            field,
            millis,
            "not a time in the years 0000-9999; read as absent"
        );
    }
    time
}

/// Milliseconds as a duration; `None` (and a warning) when negative.
fn duration(field: &str, millis: i64) -> Option<Duration> {
    let duration = u64::try_from(millis).ok().map(Duration::from_millis);
    if duration.is_none() {
        tracing::warn!(field, millis, "a negative duration; read as absent");
    }
    duration
}

fn null_as_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ExtensionAppSetting>, D::Error> {
    Ok(Option::<Vec<ExtensionAppSetting>>::deserialize(deserializer)?.unwrap_or_default())
}

fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Integer-coded enums: known variants, an `Unknown(raw)` catch-all, `raw()`, a `Display` word
/// for people (each variant's label), and serde and JSON Schema in DingTalk's integer form.
macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $label:literal, )+
        }
        schema: $schema_desc:literal
    ) => {
        $(#[$meta])*
        ///
        /// Equality and hashing go by the wire value, so `Unknown(v)` equals the known
        /// variant for `v`.
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know yet, as sent.
            Unknown(i32),
        }

        impl $name {
            /// The wire value.
            pub fn raw(self) -> i32 {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(raw) => raw,
                }
            }
        }

        /// A word for people: the variant's meaning, or `unknown (N)`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Self::$variant => f.write_str($label), )+
                    Self::Unknown(raw) => write!(f, "unknown ({raw})"),
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.raw() == other.raw()
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.raw().hash(state);
            }
        }

        impl From<i32> for $name {
            fn from(raw: i32) -> Self {
                match raw {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i32(self.raw())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                i32::deserialize(deserializer).map(Self::from)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "integer",
                    "format": "int32",
                    "description": $schema_desc,
                })
            }
        }
    };
}

int_enum! {
    /// A conference's status. DingTalk's numbering is not chronological: 0 initialised,
    /// **1 ended**, 2 started.
    ConferenceStatus {
        /// `0`: created, not started yet.
        Initialised = 0 => "initialised",
        /// `1`: ended.
        Ended = 1 => "ended",
        /// `2`: in progress.
        Started = 2 => "started",
    }
    schema: "0 initialised, 1 ended, 2 started; other values may appear"
}

int_enum! {
    /// The state of a conference's cloud recording.
    CloudRecordStatus {
        /// `0`: not recording.
        NotRecording = 0 => "not recording",
        /// `1`: recording.
        Recording = 1 => "recording",
        /// `2`: paused.
        Paused = 2 => "paused",
        /// `3`: finished.
        Finished = 3 => "finished",
    }
    schema: "0 not recording, 1 recording, 2 paused, 3 finished; other values may appear"
}

int_enum! {
    /// The state of a conference's minutes (闪记) recording. Deprecated by DingTalk: the
    /// field is no longer returned, so expect `None`.
    MinutesStatus {
        /// `0`: off.
        Off = 0 => "off",
        /// `1`: recording.
        Recording = 1 => "recording",
        /// `2`: paused.
        Paused = 2 => "paused",
        /// `3`: finished.
        Finished = 3 => "finished",
    }
    schema: "Deprecated. 0 off, 1 recording, 2 paused, 3 finished; other values may appear"
}

int_enum! {
    /// When an extension app opens by itself in the conference.
    AutoOpenMode {
        /// `0`: never.
        Never = 0 => "never",
        /// `1`: for hosts and co-hosts only.
        HostsOnly = 1 => "hosts and co-hosts only",
        /// `2`: for everyone.
        Everyone = 2 => "everyone",
    }
    schema: "0 never, 1 hosts and co-hosts only, 2 everyone; other values may appear"
}

/// A conference's business type (a string on the wire).
///
/// Equality and hashing go by the wire value, so `Unknown("3")` equals `Scheduled`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BizType {
    /// `"0"`: an instant video conference.
    Instant,
    /// `"3"`: a scheduled conference.
    Scheduled,
    /// `"audio_conf"`: a voice conference.
    Audio,
    /// A value this crate does not know yet, as sent.
    Unknown(String),
}

impl BizType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Instant => "0",
            Self::Scheduled => "3",
            Self::Audio => "audio_conf",
            Self::Unknown(raw) => raw,
        }
    }
}

/// A word for people: `instant`, `scheduled`, `voice`, or `unknown (raw)`.
impl fmt::Display for BizType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Instant => f.write_str("instant"),
            Self::Scheduled => f.write_str("scheduled"),
            Self::Audio => f.write_str("voice"),
            Self::Unknown(raw) => write!(f, "unknown ({raw})"),
        }
    }
}

impl PartialEq for BizType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for BizType {}

impl std::hash::Hash for BizType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<String> for BizType {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "0" => Self::Instant,
            "3" => Self::Scheduled,
            "audio_conf" => Self::Audio,
            _ => Self::Unknown(raw),
        }
    }
}

impl From<&str> for BizType {
    fn from(raw: &str) -> Self {
        Self::from(raw.to_string())
    }
}

impl Serialize for BizType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BizType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

impl JsonSchema for BizType {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("BizType")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "\"0\" instant, \"3\" scheduled, \"audio_conf\" voice; other values may appear",
        })
    }
}

/// `Option<DateTime<Utc>>` as epoch milliseconds.
mod epoch_millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => serializer.serialize_i64(t.timestamp_millis()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        // As in the wire conversion: a time out of range reads as absent.
        Ok(Option::<i64>::deserialize(deserializer)?
            .and_then(|ms| super::timestamp("startTime/endTime", ms)))
    }
}

/// `Option<Duration>` as milliseconds.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_i64(super::duration_millis(*d)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<i64>::deserialize(deserializer)?
            .and_then(|ms| super::duration("confDuration", ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbering_is_dingtalks_not_chronological() {
        assert_eq!(ConferenceStatus::from(0), ConferenceStatus::Initialised);
        assert_eq!(ConferenceStatus::from(1), ConferenceStatus::Ended);
        assert_eq!(ConferenceStatus::from(2), ConferenceStatus::Started);
        assert_eq!(ConferenceStatus::from(9), ConferenceStatus::Unknown(9));
        assert_eq!(ConferenceStatus::Unknown(9).raw(), 9);
    }

    #[test]
    fn enums_display_as_words_for_people() {
        assert_eq!(ConferenceStatus::Ended.to_string(), "ended");
        assert_eq!(ConferenceStatus::Unknown(7).to_string(), "unknown (7)");
        assert_eq!(CloudRecordStatus::NotRecording.to_string(), "not recording");
        assert_eq!(MinutesStatus::Off.to_string(), "off");
        assert_eq!(
            AutoOpenMode::HostsOnly.to_string(),
            "hosts and co-hosts only"
        );
        assert_eq!(BizType::Audio.to_string(), "voice");
        assert_eq!(BizType::from("webinar").to_string(), "unknown (webinar)");
    }

    #[test]
    fn unknown_values_decode_and_keep_their_raw_value() {
        let json = r#"{"status":7,"bizType":"webinar","cloudRecordStatus":-1,
            "extensionAppSettings":[{"autoOpenMode":5}]}"#;
        let info: ConferenceInfo = serde_json::from_str(json).expect("decodes");
        assert_eq!(info.status, Some(ConferenceStatus::Unknown(7)));
        assert_eq!(info.biz_type, Some(BizType::Unknown("webinar".into())));
        assert_eq!(
            info.cloud_record_status,
            Some(CloudRecordStatus::Unknown(-1))
        );
        assert_eq!(
            info.extension_app_settings[0].auto_open_mode,
            Some(AutoOpenMode::Unknown(5))
        );
        let back = serde_json::to_value(&info).expect("encodes");
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).expect("json")
        );
    }
}
