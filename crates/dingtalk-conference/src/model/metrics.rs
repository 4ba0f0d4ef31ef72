//! Readings of the data operations' display strings, where their meaning is certain.
//!
//! DingTalk documents none of the data operations: `GetConfDetailData` reports display text
//! (`"true"`, `"-1"`, `"参会人"`) and the call-quality samples report every number as a string
//! (`"1145172"`, `"1920*1080"`). The model keeps the strings as sent; the accessors here read
//! only what the SDK examples make certain (a boolean, a decimal number, `WIDTH*HEIGHT`) and
//! give `None` for anything else, never a guess.

use std::fmt;
use std::str::FromStr;

use super::{AttendanceRecord, MetricSample};

impl AttendanceRecord {
    /// Whether the person belongs to the organisation (`belongOrg` `"true"` or `"false"`);
    /// `None` when absent or any other text.
    pub fn in_org(&self) -> Option<bool> {
        match self.belong_org.as_deref()?.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// A metric string as a number (`"1145172"` → 1145172.0, `"0.5"` → 0.5); `None` when absent,
/// blank or not a finite decimal number.
pub fn metric_number(raw: Option<&str>) -> Option<f64> {
    let raw = raw?.trim();
    if raw.is_empty()
        || !raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    raw.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A video resolution, `WIDTH*HEIGHT` on the wire (`"1920*1080"`; `"0*0"` when nothing is
/// sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resolution {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Resolution {
    /// Whether nothing is sent or received (`0*0`).
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }
}

impl FromStr for Resolution {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "not a resolution WIDTH*HEIGHT: \"{}\"",
                crate::text::shown(raw)
            )
        };
        let (width, height) = raw.trim().split_once('*').ok_or_else(bad)?;
        let number = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<u32>().ok()
        };
        Ok(Self {
            width: number(width).ok_or_else(bad)?,
            height: number(height).ok_or_else(bad)?,
        })
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}*{}", self.width, self.height)
    }
}

fn resolution(raw: Option<&String>) -> Option<Resolution> {
    raw?.parse().ok()
}

impl MetricSample {
    /// `sendBitRate` as a number (bits per second, inferred).
    pub fn send_bit_rate_value(&self) -> Option<f64> {
        metric_number(self.send_bit_rate.as_deref())
    }

    /// `recvBitRate` as a number (bits per second, inferred).
    pub fn recv_bit_rate_value(&self) -> Option<f64> {
        metric_number(self.recv_bit_rate.as_deref())
    }

    /// `lostRate` as a number (its scale, ratio or percent, is not documented).
    pub fn lost_rate_value(&self) -> Option<f64> {
        metric_number(self.lost_rate.as_deref())
    }

    /// `roundTripTime` as a number (milliseconds, inferred).
    pub fn round_trip_time_value(&self) -> Option<f64> {
        metric_number(self.round_trip_time.as_deref())
    }

    /// `cameraSendFrame` as a number (frames per second).
    pub fn camera_send_frame_rate(&self) -> Option<f64> {
        metric_number(self.camera_send_frame.as_deref())
    }

    /// `cameraRecvFrame` as a number (frames per second).
    pub fn camera_recv_frame_rate(&self) -> Option<f64> {
        metric_number(self.camera_recv_frame.as_deref())
    }

    /// `cameraSendResolutionActual` (`"1920*1080"`) read.
    pub fn camera_send_resolution(&self) -> Option<Resolution> {
        resolution(self.camera_send_resolution_actual.as_ref())
    }

    /// `cameraRecvResolutionActual` read.
    pub fn camera_recv_resolution(&self) -> Option<Resolution> {
        resolution(self.camera_recv_resolution_actual.as_ref())
    }

    /// `screenSendResolutionActual` read.
    pub fn screen_send_resolution(&self) -> Option<Resolution> {
        resolution(self.screen_send_resolution_actual.as_ref())
    }

    /// `screenRecvResolutionActual` read.
    pub fn screen_recv_resolution(&self) -> Option<Resolution> {
        resolution(self.screen_recv_resolution_actual.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_and_numbers_read_only_what_is_certain() {
        assert_eq!(
            "1920*1080".parse::<Resolution>(),
            Ok(Resolution {
                width: 1920,
                height: 1080
            })
        );
        assert!("0*0".parse::<Resolution>().is_ok_and(|r| r.is_empty()));
        for bad in ["", "1920x1080", "*1080", "1920*", "-1*2", "1*2*3"] {
            assert!(bad.parse::<Resolution>().is_err(), "{bad}");
        }
        assert_eq!(metric_number(Some("1145172")), Some(1_145_172.0));
        assert_eq!(metric_number(Some("0.5")), Some(0.5));
        assert_eq!(metric_number(Some("-1")), Some(-1.0));
        assert_eq!(metric_number(Some("NaN")), None);
        assert_eq!(metric_number(Some("inf")), None);
        assert_eq!(metric_number(Some(" ")), None);
        assert_eq!(metric_number(None), None);
    }
}
