//! DingTalk's answer to a failed call: [`ApiError`], decoded from its error body.

use std::fmt;

use std::time::Duration;

use dingtalk_conference_api::types::ErrorBody;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::{ErrorCode, is_retryable_status, request_id_header, retry_after_header};
use crate::text::shown;

/// DingTalk's answer to a failed call, decoded from its error body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error code, typed.
    pub code: ErrorCode,
    /// The human-readable message, as DingTalk wrote it.
    pub message: Option<String>,
    /// The request id: the body's `requestid`, or else the `x-acs-request-id` header.
    pub request_id: Option<String>,
    /// Extra detail on some 403 answers (e.g. `requiredScopes`).
    pub access_denied_detail: Option<serde_json::Map<String, serde_json::Value>>,
    /// How long DingTalk asked us to wait (`Retry-After` header), if it did.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, headers: &HeaderMap, body: ErrorBody) -> Self {
        Self {
            status,
            code: ErrorCode::from_wire(&body.code),
            message: body.message,
            request_id: body
                .requestid
                .filter(|id| !id.is_empty())
                .or_else(|| request_id_header(headers)),
            access_denied_detail: (!body.accessdenieddetail.is_empty())
                .then_some(body.accessdenieddetail),
            retry_after: retry_after_header(headers),
        }
    }

    /// DingTalk's error body decoded by hand when the generated type refused it: a body whose
    /// `code` is a non-empty string is DingTalk's, whatever its optional fields hold (`null`,
    /// another type). Fields of the wrong type are dropped, not fatal.
    pub(crate) fn from_lenient_json(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Self> {
        let serde_json::Value::Object(mut fields) = serde_json::from_slice(body).ok()? else {
            return None;
        };
        let mut text = |key: &str| match fields.remove(key) {
            Some(serde_json::Value::String(value)) => Some(value),
            _ => None,
        };
        let code = text("code").filter(|code| !code.is_empty())?;
        let message = text("message");
        let requestid = text("requestid");
        let access_denied_detail = match fields.remove("accessdenieddetail") {
            Some(serde_json::Value::Object(detail)) => detail,
            _ => serde_json::Map::new(),
        };
        Some(Self::new(
            status,
            headers,
            ErrorBody {
                code,
                message,
                requestid,
                accessdenieddetail: access_denied_detail,
            },
        ))
    }

    /// Whether the same call may succeed later (throttling, 429, 5xx).
    pub fn is_retryable(&self) -> bool {
        if self.code.is_final() {
            return false;
        }
        self.code.is_throttling() || is_retryable_status(self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Code, message and request id come from the network: escaped and bounded.
        write!(
            f,
            "DingTalk answered HTTP {} {}",
            self.status.as_u16(),
            shown(self.code.as_str())
        )?;
        if let Some(message) = &self.message {
            write!(f, ": {}", shown(message))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {})", shown(id))?;
        }
        if let Some(hint) = self.code.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}
