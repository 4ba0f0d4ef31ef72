//! Query conference info: `GET /v1.0/conference/videoConferences/{conferenceId}`.

use dingtalk_conference_api::ResponseValue;
use dingtalk_conference_api::types::QueryConferenceInfoResponse;
use tracing::{Instrument as _, field::Empty};

use crate::{Client, ConferenceInfo, Error};

/// The spec's `operationId` of this operation.
pub(super) const OPERATION_ID: &str = "queryConferenceInfo";

impl Client {
    /// Queries a conference by id.
    ///
    /// The id is sent as one percent-encoded path segment; an empty or blank id (or `.`/`..`)
    /// is refused before any request. Tokens are fetched and refreshed as needed; a rejected
    /// token is replaced and the call replayed once; throttling, 5xx and transport failures are
    /// retried per the [`RetryPolicy`](crate::RetryPolicy).
    pub async fn conference_info(&self, conference_id: &str) -> Result<ConferenceInfo, Error> {
        check_conference_id(conference_id)?;
        let span = tracing::info_span!(
            "dingtalk.conference_info",
            operation = OPERATION_ID,
            conference_id = %conference_id,
            attempt = Empty,
            http.status = Empty,
            request_id = Empty,
        );
        self.call(|context| async move {
            let api = self.endpoint().api(context);
            api.query_conference_info(conference_id).await
        })
        .instrument(span)
        .await
        .and_then(conference_from_answer)
    }
}

/// Turns the generated client's answer into the typed model.
pub(crate) fn conference_from_answer(
    mut response: ResponseValue<QueryConferenceInfoResponse>,
) -> Result<ConferenceInfo, Error> {
    match response.conf_info.take() {
        Some(raw) => Ok(ConferenceInfo::from_wire(raw)),
        // The request id is looked up only here: success allocates nothing for it.
        None => Err(Error::Decode {
            status: response.status(),
            request_id: crate::error::request_id_header(response.headers()),
            message: "the answer has no confInfo".to_string(),
            snippet: String::new(),
        }),
    }
}

/// Refuses ids that cannot be a conference id or cannot travel as one path segment.
fn check_conference_id(id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        return Err(Error::InvalidInput(
            "the conference id is empty; pass the id returned when the conference was created"
                .to_string(),
        ));
    }
    // URL parsing resolves `.` and `..` segments (even percent-encoded), so they would call
    // another path.
    if id == "." || id == ".." {
        return Err(Error::InvalidInput(format!(
            "{id:?} is not a conference id"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "the conference id contains control characters".to_string(),
        ));
    }
    // URL parsing reads `\` as `/` in http(s) paths, and the generated client does not
    // encode it: `..\oauth2` would leave the conference path with the token attached.
    if id.contains('\\') {
        return Err(Error::InvalidInput(
            "the conference id contains a backslash, which URLs treat as a path separator"
                .to_string(),
        ));
    }
    Ok(())
}
