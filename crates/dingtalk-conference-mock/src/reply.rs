//! A response before faults shape how it goes on the wire: what every handler returns.

use bytes::Bytes;
use dingtalk_conference_api::types::ErrorBody;
use http::StatusCode;
use http::header::HeaderName;
use serde_json::{Map, Value};

pub(crate) const JSON: &str = "application/json;charset=utf-8";

/// A response before faults shape how it is sent.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(HeaderName, String)>,
    pub(crate) body: Bytes,
    /// Whether to add `x-acs-request-id` and `x-acs-trace-id`.
    pub(crate) acs_headers: bool,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: Some(JSON.to_owned()),
            headers: Vec::new(),
            body: Bytes::from(body),
            acs_headers: true,
        }
    }

    /// `200` with `value` (one of the generated types) as JSON.
    pub(crate) fn ok<T: serde::Serialize>(value: &T) -> Self {
        Self::json(StatusCode::OK, to_json(value))
    }

    pub(crate) fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: Some(content_type.to_owned()),
            headers: Vec::new(),
            body: body.into(),
            acs_headers: true,
        }
    }

    /// DingTalk's error body with this request's id.
    pub(crate) fn error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Self {
        Self::error_with_detail(status, code, message, request_id, Map::new())
    }

    pub(crate) fn error_with_detail(
        status: StatusCode,
        code: &str,
        message: &str,
        request_id: &str,
        accessdenieddetail: Map<String, Value>,
    ) -> Self {
        let body = ErrorBody {
            accessdenieddetail,
            code: code.to_owned(),
            message: Some(message.to_owned()),
            requestid: Some(request_id.to_owned()),
        };
        Self::json(status, to_json(&body))
    }

    /// A gateway throttling answer for `code` (`403` and DingTalk's error body): what
    /// [`Fault::Throttle`](crate::Fault::Throttle) sends, and what the limits answer.
    pub(crate) fn throttle(code: &str, request_id: &str) -> Self {
        let message = match code.strip_prefix("Forbidden.AccessDenied.") {
            Some("ApiCountLimitForOrg") => "the organisation's monthly API quota is used up",
            Some("AccessTokenPermissionDenied") => "the app lacks the permission for this API",
            Some("IpNotInWhiteList") => "the caller's IP is not in the app's white list",
            Some(limit) if limit.starts_with("Qpm") => "too many calls this minute: slow down",
            _ => "too many calls per second: slow down",
        };
        let mut detail = Map::new();
        if code == "Forbidden.AccessDenied.AccessTokenPermissionDenied" {
            detail.insert(
                "requiredScopes".to_owned(),
                Value::from(vec!["VideoConference.Conference.Read"]),
            );
        }
        Self::error_with_detail(StatusCode::FORBIDDEN, code, message, request_id, detail)
    }

    pub(crate) fn header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Serializes one of the generated types; they cannot fail to serialize, but a network-facing
/// server does not panic on "cannot".
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value)
        .unwrap_or_else(|_| br#"{"code":"systemError","message":"SYSTEM ERROR"}"#.to_vec())
}
