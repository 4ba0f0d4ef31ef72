//! Times on the command line (`--start`, `--end`, `--from`, `--to`): RFC 3339, or a local
//! date and time followed by an explicit zone. A time without a zone is refused rather than
//! guessed: a schedule booked an hour off, or a history window shifted by eight hours, is a
//! quiet mistake.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _};

/// What `--help` says of a time argument, in one place for every command that takes one.
pub(crate) const TIME_HELP: &str = "RFC 3339 (2026-12-07T10:00:00+08:00, 2026-12-07T02:00:00Z) \
or a local time with an explicit zone: 2026-12-07 10:00 +08:00, 2026-12-07 10:00:30 +0800, \
2026-12-07 02:00 UTC; a date alone (2026-12-07 +08:00) is its midnight";

/// Parses a time argument (see [`TIME_HELP`]); clap's value parser for time arguments.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time);
    }
    let Some((local, zone)) = text.rsplit_once(' ') else {
        return Err(no_zone(text));
    };
    let Some(offset) = parse_zone(zone) else {
        return Err(no_zone(text));
    };
    let local = local.trim();
    let naive = parse_local(local).ok_or_else(|| {
        format!(
            "{text:?}: {local:?} is not a date and time (YYYY-MM-DD HH:MM[:SS]) or a date \
             (YYYY-MM-DD)"
        )
    })?;
    offset
        .from_local_datetime(&naive)
        .single()
        .ok_or_else(|| format!("{text:?} is not a time that exists"))
}

/// The same time as epoch milliseconds, as DingTalk's time fields take it.
pub(crate) fn epoch_millis(time: &DateTime<FixedOffset>) -> i64 {
    time.timestamp_millis()
}

/// Epoch milliseconds as the time the facade takes, or a usage error for a value no calendar
/// holds (never from [`parse_time`]; a value DingTalk answered could be anything).
pub(crate) fn utc_of_millis(millis: i64) -> Result<chrono::DateTime<chrono::Utc>, crate::Failure> {
    chrono::DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| crate::Failure::Usage(format!("{millis} milliseconds is not a time")))
}

fn no_zone(text: &str) -> String {
    format!(
        "{text:?} has no zone: give RFC 3339 (2026-12-07T10:00:00+08:00) or add the zone, as \
         in 2026-12-07 10:00 +08:00 or 2026-12-07 02:00 UTC"
    )
}

/// `+08:00`, `+0800`, `-05:30`, `Z`, `UTC`.
fn parse_zone(zone: &str) -> Option<FixedOffset> {
    if zone.eq_ignore_ascii_case("utc") || zone.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None if rest.len() <= 2 => (rest, "0"),
        None => return None,
    };
    if !hours.bytes().all(|b| b.is_ascii_digit()) || !minutes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]`, or `YYYY-MM-DD` (its midnight).
fn parse_local(local: &str) -> Option<NaiveDateTime> {
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(local, format) {
            return Some(time);
        }
    }
    NaiveDate::parse_from_str(local, "%Y-%m-%d")
        .ok()
        .map(|date| date.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(text: &str) -> i64 {
        epoch_millis(&parse_time(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn rfc_3339_and_local_times_with_a_zone_name_the_same_instant() {
        let utc = millis("2026-12-07T02:00:00Z");
        assert_eq!(utc, 1_796_608_800_000);
        for text in [
            "2026-12-07T10:00:00+08:00",
            "2026-12-07 10:00 +08:00",
            "2026-12-07 10:00:00 +0800",
            "2026-12-07T10:00 +08",
            "2026-12-07 02:00 UTC",
            "2026-12-07 02:00 Z",
            "  2026-12-06 21:00 -05:00  ",
        ] {
            assert_eq!(millis(text), utc, "{text}");
        }
        assert_eq!(millis("2026-12-07 +08:00"), utc - 10 * 3_600_000);
    }

    #[test]
    fn a_time_without_a_zone_or_with_a_bad_one_is_refused_with_the_forms_it_takes() {
        for text in [
            "2026-12-07 10:00",
            "2026-12-07",
            "2026-12-07 10:00 CST",
            "2026-12-07 10:00 +25:00",
            "2026-12-07 10:00 +8:0x",
            "",
        ] {
            let err = parse_time(text).expect_err(text);
            assert!(err.contains("2026-12-07 10:00 +08:00"), "{text}: {err}");
        }
        let err = parse_time("tomorrow +08:00").expect_err("not a date");
        assert!(err.contains("YYYY-MM-DD"), "{err}");
        assert!(parse_time("2026-02-30 10:00 +08:00").is_err());
    }
}
