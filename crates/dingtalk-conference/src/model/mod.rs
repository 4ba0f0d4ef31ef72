//! The typed model: DingTalk's integers and strings as enums, milliseconds as timestamps and
//! durations.
//!
//! The types themselves are generated from the spec by `cargo xtask codegen` (`generated.rs`):
//! each schema marked `x-facade` becomes a struct here, each enum of `components.x-enums` an
//! enum with an `Unknown(raw)` variant, so a value DingTalk adds tomorrow still decodes. This
//! module holds what the generated code calls, and the hand-written conveniences on top.
//! `serde` writes the model back in DingTalk's own JSON form.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Deserializer};

mod generated;

pub use generated::*;

impl ConferenceInfo {
    /// Whether the conference has ended.
    pub fn has_ended(&self) -> bool {
        self.status == Some(ConferenceStatus::Ended)
    }
}

impl RoomConference {
    /// Whether the conference has ended.
    pub fn has_ended(&self) -> bool {
        self.status == Some(ConferenceStatus::Ended)
    }
}

/// Epoch milliseconds as a time; `None` (and a warning) outside the years 0000-9999.
pub(crate) fn timestamp(field: &str, millis: i64) -> Option<DateTime<Utc>> {
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
pub(crate) fn duration(field: &str, millis: i64) -> Option<Duration> {
    let duration = u64::try_from(millis).ok().map(Duration::from_millis);
    if duration.is_none() {
        tracing::warn!(field, millis, "a negative duration; read as absent");
    }
    duration
}

/// A list or map that may be absent or `null` on the wire, as an empty one.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub(crate) fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
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
        Ok(Option::<i64>::deserialize(deserializer)?.and_then(|ms| super::timestamp("a time", ms)))
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
            .and_then(|ms| super::duration("a duration", ms)))
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

mod metrics;

pub use metrics::{Resolution, metric_number};
