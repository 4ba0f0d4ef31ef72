//! Conferences as a whole, what the spec's `x-facade-op` cannot declare: the batch status
//! query (`hand`: it splits and deduplicates the ids) and the close answer's check. The
//! room-code lookup, create (with its builder `NewConference`) and close are generated
//! (`generated.rs`).

use dingtalk_conference_api::ResponseValue;
use dingtalk_conference_api::types::{
    CloseVideoConferenceResponse, QueryConferenceInfoBatchRequest,
};
use futures_util::FutureExt as _;

use super::check_conference_id;
use super::generated::QUERY_CONFERENCE_INFO_BATCH as BATCH;
use crate::pipeline::shared::ReadKey;
use crate::pipeline::{Deadline, Subject};
use crate::{Client, ConferenceSummary, Error};

/// How many conference ids [`Client::conferences_status`] sends per request.
///
/// DingTalk documents no maximum for `conferenceIdList` (neither its pages nor its SDKs
/// state one), so this is a chosen safe size, not DingTalk's: longer lists are split into
/// requests of at most this many ids, made one after another.
pub const CONFERENCES_PER_BATCH_REQUEST: usize = 20;

/// The longest title DingTalk accepts, in characters: it cuts titles over 50 characters to 50
/// and refuses titles over 256, so [`Client::create_conference`] refuses them before sending.
pub const MAX_TITLE_CHARS: usize = 256;

impl Client {
    /// The current state of several conferences in one call per
    /// [`CONFERENCES_PER_BATCH_REQUEST`] ids: status, media status and participants.
    ///
    /// DingTalk answers only for conferences **in progress**: ended, not yet started and
    /// unknown ids are simply absent from the result. Repeated ids are asked for once. An
    /// empty list, or any id that cannot be a conference id, is refused before any request.
    pub async fn conferences_status<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
    ) -> Result<Vec<ConferenceSummary>, Error> {
        if conference_ids.is_empty() {
            return Err(Error::InvalidInput(
                "the list of conference ids is empty".to_string(),
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(conference_ids.len());
        for id in conference_ids {
            let id = id.as_ref();
            check_conference_id(id)?;
            if !ids.iter().any(|seen| seen == id) {
                ids.push(id.to_string());
            }
        }
        let mut found = Vec::new();
        for chunk in ids.chunks(CONFERENCES_PER_BATCH_REQUEST) {
            let chunk = chunk.to_vec();
            let key = ReadKey::new(BATCH.id, chunk.clone());
            let answer = self
                .read(&BATCH, key, move |client, deadline| {
                    let chunk = chunk.clone();
                    async move { client.fetch_batch(chunk, deadline).await }.boxed()
                })
                .await?;
            found.extend(answer);
        }
        Ok(found)
    }

    async fn fetch_batch(
        &self,
        chunk: Vec<String>,
        deadline: Deadline,
    ) -> Result<Vec<ConferenceSummary>, Error> {
        let body = QueryConferenceInfoBatchRequest {
            conference_id_list: chunk,
        };
        let answer = self
            .execute(&BATCH, Subject::default(), deadline, |context| {
                let body = &body;
                async move {
                    self.endpoint()
                        .api(context)
                        .query_conference_info_batch(body)
                        .await
                }
            })
            .await?;
        Ok(answer
            .into_inner()
            .infos
            .unwrap_or_default()
            .into_iter()
            .map(ConferenceSummary::from_wire)
            .collect())
    }
}

/// The answer hook of `closeVideoConference` (its `x-facade-op` `answer`): a 200 whose `code`
/// is not 200 did not close the conference; DingTalk documents no such answer, so it is
/// reported rather than taken for success.
pub(super) fn close_answer(
    answer: ResponseValue<CloseVideoConferenceResponse>,
) -> Result<(), Error> {
    match answer.code {
        None | Some(200) => Ok(()),
        Some(code) => Err(Error::Decode {
            status: answer.status(),
            request_id: crate::error::request_id_header(answer.headers()),
            message: format!(
                "closeVideoConference answered code {code} ({}), not 200",
                crate::text::shown(answer.cause.as_deref().unwrap_or("no cause given"))
            ),
            snippet: String::new(),
        }),
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::conferences_status`], blocking.
    pub fn conferences_status<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
    ) -> Result<Vec<ConferenceSummary>, Error> {
        let client = self.as_async().clone();
        let ids: Vec<String> = conference_ids
            .iter()
            .map(|id| id.as_ref().to_string())
            .collect();
        self.block_on(async move { client.conferences_status(&ids).await })
    }
}
