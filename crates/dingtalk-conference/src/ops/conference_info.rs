//! Query conference info: `GET /v1.0/conference/videoConferences/{conferenceId}`.

use std::sync::Arc;

use dingtalk_conference_api::ResponseValue;
use dingtalk_conference_api::types::QueryConferenceInfoResponse;
use futures_util::FutureExt as _;

use super::check_conference_id;
use crate::pipeline::shared::ReadKey;
use crate::pipeline::{Operation, Subject};
use crate::{Client, ConferenceInfo, Error};

/// This operation, as the pipeline knows it.
pub(super) const OPERATION: Operation = Operation::read("queryConferenceInfo");

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
        // One allocation, shared by the key and every fetch.
        let id: Arc<str> = Arc::from(conference_id);
        let key = ReadKey::new(OPERATION.id, Arc::clone(&id));
        self.read(&OPERATION, key, move |client, deadline| {
            let id = Arc::clone(&id);
            async move {
                let answer = client
                    .execute(&OPERATION, Subject::conference(&id), deadline, |context| {
                        let api = client.endpoint().api(context);
                        let id = &id;
                        async move { api.query_conference_info(id).await }
                    })
                    .await?;
                conference_from_answer(answer)
            }
            .boxed()
        })
        .await
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
