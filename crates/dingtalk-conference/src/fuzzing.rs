//! Decoding without a network, for fuzzing: the same steps a call takes once the hooks have
//! read a response (the generated client's status match, then the facade's classification).

use dingtalk_conference_api::ResponseMeta;
use dingtalk_conference_api::ResponseValue;
use dingtalk_conference_api::types::{ErrorBody, QueryConferenceInfoResponse};
use progenitor_client::Error as ApiError;

use crate::{ConferenceInfo, Error};

/// Decodes `body` as the answer to `queryConferenceInfo` with HTTP `status`.
pub async fn decode_conference_response(
    status: u16,
    body: Vec<u8>,
) -> Result<ConferenceInfo, Error> {
    let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK);
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let response = reqwest::Response::from(response);
    let meta = ResponseMeta::new(status, response.headers().clone());

    // As in the generated `query_conference_info`.
    let result: Result<ResponseValue<QueryConferenceInfoResponse>, ApiError<ErrorBody>> =
        match status.as_u16() {
            200 => ResponseValue::from_response(response).await,
            400..=599 => match ResponseValue::<ErrorBody>::from_response(response).await {
                Ok(body) => Err(ApiError::ErrorResponse(body)),
                Err(e) => Err(e),
            },
            _ => Err(ApiError::UnexpectedResponse(response)),
        };
    match result {
        Ok(answer) => crate::ops::conference_from_answer(answer),
        Err(e) => Err(Error::from_api(e, Some(meta), false).await),
    }
}
