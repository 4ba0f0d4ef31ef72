//! Text for people that several commands share: label/value blocks and aligned tables, the
//! conference summary, times in local time and UTC, durations and sizes. What only one command
//! prints lives with that command.
//!
//! Everything here is a pure function of its input and a time zone, so it is tested with a fixed
//! offset; the commands pass [`chrono::Local`].

use std::fmt::{self, Write as _};
use std::time::Duration;

use chrono::{DateTime, Offset as _, TimeZone, Utc};
use dingtalk_conference::{ConferenceInfo, ConferenceStatus, ExtensionAppSetting};

/// What a field DingTalk did not send prints as.
pub(crate) const ABSENT: &str = "-";

/// A duration as `45s`, `3m 05s`, `1h 23m 05s` or `2d 03h 00m 10s` (whole seconds, rounded
/// down).
pub(crate) fn human_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total / 3_600 % 24,
        total / 60 % 60,
        total % 60,
    );
    if days > 0 {
        format!("{days}d {hours:02}h {minutes:02}m {seconds:02}s")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// A wait, short or long: `250ms`, `1.5s`, `4s`, `1m 00s`.
pub(crate) fn short_delay(delay: Duration) -> String {
    if delay < Duration::from_secs(1) {
        format!("{}ms", delay.as_millis())
    } else if delay < Duration::from_secs(60) && delay.subsec_millis() >= 100 {
        format!("{:.1}s", delay.as_secs_f64())
    } else {
        human_duration(delay)
    }
}

/// A time in `tz` and in UTC: `2026-03-02 10:00:00 +08:00 (02:00:00 UTC)`; the UTC date is
/// repeated only when it differs, and a zone that is UTC prints once.
pub(crate) fn time_in<Tz: TimeZone>(time: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    let local = time.with_timezone(tz);
    if local.offset().fix().local_minus_utc() == 0 {
        return time.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    }
    let utc = if local.date_naive() == time.date_naive() {
        time.format("%H:%M:%S UTC")
    } else {
        time.format("%Y-%m-%d %H:%M:%S UTC")
    };
    format!("{} ({utc})", local.format("%Y-%m-%d %H:%M:%S %:z"))
}

/// A time in `tz` only, to the second, with the zone's offset: `2026-03-02 10:00:00 +08:00`.
pub(crate) fn local_time<Tz: TimeZone>(time: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    time.with_timezone(tz)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// An offset into a recording as `hh:mm:ss` (hours grow past 99 if they must).
pub(crate) fn offset(offset: Duration) -> String {
    let total = offset.as_secs();
    format!(
        "{:02}:{:02}:{:02}",
        total / 3_600,
        total / 60 % 60,
        total % 60
    )
}

/// A size in bytes for people, in binary units: `512 B`, `1.5 KiB`, `123.4 MiB`, `2.0 GiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Lossy above 2^53 bytes, which no recording reaches; one decimal is all that shows.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `label  value` rows, the labels padded to the longest.
pub(crate) fn rows(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{label:<width$}  {value}");
    }
    out
}

/// How many terminal columns `text` takes: two for a wide (e.g. Chinese) character.
pub(crate) fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` padded with spaces to `columns` terminal columns.
pub(crate) fn pad(text: &str, columns: usize) -> String {
    let mut padded = text.to_string();
    padded.extend(std::iter::repeat_n(
        ' ',
        columns.saturating_sub(width(text)),
    ));
    padded
}

/// Rows of cells as aligned columns, two spaces apart, each column as wide (in terminal
/// columns) as its widest cell; a row's last cell is not padded and counts for no width, so a
/// shorter row's last cell runs on. No line ends in spaces.
pub(crate) fn columns(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            if widths.len() <= i {
                widths.resize(i + 1, 0);
            }
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(self::width(cell));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&pad(cell, widths.get(i).copied().unwrap_or(0)));
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A table: a header row, then the rows, aligned by [`columns`].
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    let all: Vec<Vec<String>> = std::iter::once(header)
        .chain(rows.iter().cloned())
        .collect();
    columns(&all)
}

/// A clock time for progress lines: `10:00:01`.
pub(crate) fn clock<Tz: TimeZone>(time: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    time.with_timezone(tz).format("%H:%M:%S").to_string()
}

/// Text from the network made safe for a terminal: the facade's
/// [`escape_untrusted`](dingtalk_conference::escape_untrusted).
pub(crate) fn clean(text: &str) -> String {
    dingtalk_conference::escape_untrusted(text).into_owned()
}

/// The summary `info` and `watch` print: one `label  value` row per field, aligned.
///
/// The rows every conference has always appear, with `-` for what DingTalk did not send; rows
/// for what only some conferences have (a scheduled conference's id, the deprecated minutes,
/// extension apps) appear only when present.
pub(crate) fn conference_summary<Tz: TimeZone>(
    info: &ConferenceInfo,
    tz: &Tz,
    now: DateTime<Utc>,
) -> String
where
    Tz::Offset: fmt::Display,
{
    let text = |value: &Option<String>| value.as_deref().map_or(ABSENT.to_string(), clean);
    let word = |value: Option<String>| value.unwrap_or_else(|| ABSENT.to_string());
    let time = |value: Option<DateTime<Utc>>| word(value.map(|t| time_in(t, tz)));
    let count = |value: Option<i32>| word(value.map(|n| n.to_string()));

    let mut rows: Vec<(&str, String)> = vec![
        ("title", text(&info.title)),
        ("conference id", text(&info.conference_id)),
        ("status", word(info.status.map(|s| s.to_string()))),
        (
            "type",
            word(info.biz_type.as_ref().map(|b| clean(&b.to_string()))),
        ),
    ];
    if let Some(id) = &info.schedule_conference_id {
        rows.push(("scheduled as", clean(id)));
    }
    rows.extend([
        ("start", time(info.start_time)),
        ("end", time(info.end_time)),
        ("duration", duration(info, now)),
        (
            "people",
            format!(
                "{} active, {} attended, {} invited",
                count(info.active_count),
                count(info.attended_count),
                count(info.invited_count)
            ),
        ),
        (
            "creator",
            person(info.creator_nick.as_deref(), info.creator_id.as_deref()),
        ),
        ("room code", text(&info.room_code)),
        ("join link", text(&info.join_url)),
        (
            "cloud recording",
            state_and_owner(
                info.cloud_record_status.map(|s| s.to_string()),
                info.cloud_record_owner_union_id.as_deref(),
            ),
        ),
    ]);
    if info.minutes_status.is_some() || info.minutes_owner_union_id.is_some() {
        rows.push((
            "minutes",
            format!(
                "{} (deprecated by DingTalk)",
                state_and_owner(
                    info.minutes_status.map(|s| s.to_string()),
                    info.minutes_owner_union_id.as_deref()
                )
            ),
        ));
    }
    if !info.extension_app_settings.is_empty() {
        rows.push((
            "extension apps",
            info.extension_app_settings.len().to_string(),
        ));
    }

    let mut out = self::rows(&rows);
    for app in &info.extension_app_settings {
        let _ = writeln!(out, "  - {}", extension_app(app));
    }
    out
}

/// The duration DingTalk reported; for a conference in progress, how long it has run so far.
fn duration(info: &ConferenceInfo, now: DateTime<Utc>) -> String {
    conference_duration(info.duration, info.status, info.start_time, now)
}

/// A conference's duration as DingTalk reported it, or for one in progress, how long it has
/// run so far.
pub(crate) fn conference_duration(
    duration: Option<Duration>,
    status: Option<ConferenceStatus>,
    start_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    if let Some(duration) = duration {
        return human_duration(duration);
    }
    match (status, start_time) {
        (Some(ConferenceStatus::Started), Some(start)) if start <= now => {
            (now - start).to_std().map_or(ABSENT.to_string(), |d| {
                format!("{} so far", human_duration(d))
            })
        }
        _ => ABSENT.to_string(),
    }
}

/// A person as `nick (id)`, or whichever of the two DingTalk sent.
pub(crate) fn person(nick: Option<&str>, id: Option<&str>) -> String {
    match (nick, id) {
        (Some(nick), Some(id)) => format!("{} ({})", clean(nick), clean(id)),
        (Some(one), None) | (None, Some(one)) => clean(one),
        (None, None) => ABSENT.to_string(),
    }
}

fn state_and_owner(state: Option<String>, owner: Option<&str>) -> String {
    match (state, owner) {
        (Some(state), Some(owner)) => format!("{state}, owner {}", clean(owner)),
        (Some(state), None) => state,
        (None, Some(owner)) => format!("owner {}", clean(owner)),
        (None, None) => ABSENT.to_string(),
    }
}

fn extension_app(app: &ExtensionAppSetting) -> String {
    let mut parts = vec![format!(
        "app {}",
        app.app_id.as_deref().map_or(ABSENT.to_string(), clean)
    )];
    if let Some(code) = &app.app_code {
        parts.push(format!("code {}", clean(code)));
    }
    if let Some(mode) = app.auto_open_mode {
        parts.push(format!("opens by itself: {mode}"));
    }
    if let Some(data) = &app.biz_data {
        parts.push(format!("data {}", clean(data)));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use dingtalk_conference::{BizType, CloudRecordStatus};

    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    fn beijing() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("valid offset")
    }

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human_duration(Duration::from_secs(5025)), "1h 23m 45s");
        assert_eq!(
            human_duration(Duration::from_millis(7_198_900)),
            "1h 59m 58s"
        );
        assert_eq!(
            human_duration(Duration::from_secs(183_610)),
            "2d 03h 00m 10s"
        );
        assert_eq!(short_delay(Duration::from_millis(250)), "250ms");
        assert_eq!(short_delay(Duration::from_millis(1500)), "1.5s");
        assert_eq!(short_delay(Duration::from_secs(4)), "4s");
    }

    #[test]
    fn times_show_local_and_utc() {
        let time = at("2026-03-02T02:00:00Z");
        assert_eq!(
            time_in(time, &beijing()),
            "2026-03-02 10:00:00 +08:00 (02:00:00 UTC)"
        );
        assert_eq!(
            time_in(at("2026-03-02T20:00:00Z"), &beijing()),
            "2026-03-03 04:00:00 +08:00 (2026-03-02 20:00:00 UTC)"
        );
        assert_eq!(time_in(time, &Utc), "2026-03-02 02:00:00 UTC");
    }

    #[test]
    fn sizes_and_offsets_read_like_a_person_writes_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(129_394_278), "123.4 MiB");
        assert_eq!(human_size(2 * 1024 * 1024 * 1024), "2.0 GiB");
        assert_eq!(human_size(u64::MAX), "16384.0 PiB");
        assert_eq!(offset(Duration::from_millis(65_999)), "00:01:05");
        assert_eq!(offset(Duration::from_secs(3_600 * 100 + 1)), "100:00:01");
        assert_eq!(
            local_time(at("2026-03-02T02:00:00Z"), &beijing()),
            "2026-03-02 10:00:00 +08:00"
        );
    }

    #[test]
    fn tables_align_by_terminal_columns_and_leave_no_trailing_space() {
        let text = table(
            &["NICK", "ID", "NOTE"],
            &[
                vec!["张三".into(), "u1".into(), "-".into()],
                vec!["Alexandra".into(), "u22".into(), String::new()],
            ],
        );
        assert_eq!(
            text,
            "NICK       ID   NOTE\n张三       u1   -\nAlexandra  u22\n"
        );
    }

    #[test]
    fn control_characters_from_the_network_are_escaped() {
        assert_eq!(clean("ok 钉钉"), "ok 钉钉");
        assert_eq!(clean("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    }

    #[test]
    fn absent_fields_print_as_a_dash_and_optional_rows_are_left_out() {
        let summary = conference_summary(&ConferenceInfo::default(), &beijing(), Utc::now());
        assert!(summary.contains("title            -\n"), "{summary}");
        assert!(summary.contains("people           - active, - attended, - invited\n"));
        assert!(summary.contains("cloud recording  -\n"));
        assert!(!summary.contains("extension apps"));
        assert!(!summary.contains("minutes"));
        assert!(!summary.contains("scheduled as"));
    }

    #[test]
    fn a_conference_in_progress_shows_how_long_it_has_run() {
        let mut info = ConferenceInfo::default();
        info.status = Some(ConferenceStatus::Started);
        info.biz_type = Some(BizType::Audio);
        info.start_time = Some(at("2026-03-02T02:00:00Z"));
        info.cloud_record_status = Some(CloudRecordStatus::Recording);
        let summary = conference_summary(&info, &beijing(), at("2026-03-02T03:02:03Z"));
        assert!(
            summary.contains("duration         1h 02m 03s so far\n"),
            "{summary}"
        );
        assert!(summary.contains("type             voice\n"), "{summary}");
        assert!(
            summary.contains("cloud recording  recording\n"),
            "{summary}"
        );
        assert!(summary.contains("end              -\n"), "{summary}");
    }
}
