//! Query conference info: `GET /v1.0/conference/videoConferences/{conferenceId}`.

use dingtalk_conference_api::ResponseValue;
use dingtalk_conference_api::types::QueryConferenceInfoResponse;
use futures_util::FutureExt as _;
use tracing::{Instrument as _, field::Empty};

use super::check_conference_id;
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
    ///
    /// Reads are shared and may be answered from a recent answer: an identical read already
    /// in flight shares its request, and within a `max_age` ([`CallOptions::max_age`](crate::CallOptions::max_age))
    /// a recent answer is reused without a request.
    pub async fn conference_info(&self, conference_id: &str) -> Result<ConferenceInfo, Error> {
        check_conference_id(conference_id)?;
        let id = conference_id.to_string();
        self.read(OPERATION_ID, conference_id, move |client| {
            async move { client.fetch_conference_info(&id).await }.boxed()
        })
        .await
    }

    async fn fetch_conference_info(&self, conference_id: &str) -> Result<ConferenceInfo, Error> {
        let span = tracing::info_span!(
            "dingtalk.conference_info",
            operation = OPERATION_ID,
            conference_id = %conference_id,
            attempt = Empty,
            http.status = Empty,
            request_id = Empty,
        );
        self.call(OPERATION_ID, |context| async move {
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

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::conference_info`], blocking.
    pub fn conference_info(&self, conference_id: &str) -> Result<ConferenceInfo, Error> {
        let client = self.as_async().clone();
        let id = conference_id.to_string();
        self.block_on(async move { client.conference_info(&id).await })
    }
}
