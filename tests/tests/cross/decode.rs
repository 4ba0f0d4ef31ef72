//! The seed's examples, served by a real server, decoded by the generated client: the success
//! example as the typed response, the error examples as `Error::ErrorResponse(ErrorBody)`.

use dingtalk_conference_api::types::{ErrorBody, QueryConferenceInfoResponse};
use dingtalk_conference_api::{Client, Error, RequestContext};
use dingtalk_conference_testkit::capture::{CannedResponse, CaptureServer};
use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::spec::load_spec;
use serde_json::Value;

const QUERY: &str = "/paths/~1v1.0~1conference~1videoConferences~1{conferenceId}/get";

/// The `application/json` example of `queryConferenceInfo`'s response `status`.
fn query_example(status: &str) -> Result<Value, BoxError> {
    let spec = load_spec()?;
    let pointer = format!("{QUERY}/responses/{status}/content/application~1json/example");
    spec.pointer(&pointer)
        .cloned()
        .ok_or_else(|| format!("the spec has no example at {pointer}").into())
}

/// The example of the shared `Error` response (the `4XX`/`5XX` catch-all).
fn catch_all_error_example() -> Result<Value, BoxError> {
    let spec = load_spec()?;
    let pointer = "/components/responses/Error/content/application~1json/example";
    spec.pointer(pointer)
        .cloned()
        .ok_or_else(|| format!("the spec has no example at {pointer}").into())
}

/// Serves `body` with `status` and returns what the generated client made of it.
async fn query(
    status: u16,
    body: &Value,
) -> Result<Result<QueryConferenceInfoResponse, Error<ErrorBody>>, BoxError> {
    let server = CaptureServer::start(
        CannedResponse::json(status, body)
            .with_header("x-acs-request-id", "8B1C0D3E-4F5A-6B7C-8D9E-0F1A2B3C4D5E"),
    )
    .await?;
    let context = RequestContext::new().with_access_token("secret-token-value")?;
    // No proxy: one from the environment must not carry loopback requests.
    let http = dingtalk_conference_testkit::fake::http();
    let client = Client::new_with_client(server.base_url(), http, context);
    Ok(client
        .query_conference_info("6323d7568777190142ab9d10")
        .await
        .map(|response| response.into_inner()))
}

async fn decoded_seed_example() -> Result<QueryConferenceInfoResponse, BoxError> {
    Ok(query(200, &query_example("200")?).await??)
}

/// Serves the error example of `status` with that status and returns the decoded error body,
/// failing unless the client classified it as a documented error response.
async fn decoded_error(status: u16, example: &Value) -> Result<ErrorBody, BoxError> {
    match query(status, example).await? {
        Err(Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), status);
            Ok(response.into_inner())
        }
        Err(other) => Err(format!("expected Error::ErrorResponse, got {other:?}").into()),
        Ok(value) => Err(format!("expected an error, got {value:?}").into()),
    }
}

/// Asserts that the decoded body carries exactly the example's code, request id and message.
fn assert_matches_example(body: &ErrorBody, example: &Value) {
    assert_eq!(Some(body.code.as_str()), example["code"].as_str());
    assert_eq!(body.requestid.as_deref(), example["requestid"].as_str());
    assert_eq!(body.message.as_deref(), example["message"].as_str());
}

#[tokio::test]
async fn seed_example_response_decodes_into_the_generated_types() -> Result<(), BoxError> {
    assert_snapshot_in_place!(
        assert_debug_snapshot,
        "seed_example_response_decodes_into_the_generated_types",
        decoded_seed_example().await?
    );
    Ok(())
}

#[tokio::test]
async fn seed_example_keeps_end_time_before_start_time_as_published() -> Result<(), BoxError> {
    let info = decoded_seed_example()
        .await?
        .conf_info
        .ok_or("no confInfo")?;
    let (start, end) = (
        info.start_time.ok_or("no startTime")?,
        info.end_time.ok_or("no endTime")?,
    );
    assert_eq!((start, end), (1_664_175_001_000, 1_663_294_270_000));
    assert!(end < start, "the seed's example ends before it starts");
    Ok(())
}

#[tokio::test]
async fn seed_example_keeps_biz_type_a_string_and_status_an_integer() -> Result<(), BoxError> {
    let info = decoded_seed_example()
        .await?
        .conf_info
        .ok_or("no confInfo")?;
    assert_eq!(info.biz_type.as_deref(), Some("0"));
    assert_eq!(info.status, Some(1));
    assert_eq!(info.room_code.as_deref(), Some("4272xxxxx"));
    Ok(())
}

#[tokio::test]
async fn seed_example_still_decodes_the_deprecated_minutes_fields() -> Result<(), BoxError> {
    let info = decoded_seed_example()
        .await?
        .conf_info
        .ok_or("no confInfo")?;
    assert_eq!(info.minutes_status, Some(0));
    assert_eq!(info.minutes_owner_union_id.as_deref(), Some("A***EiE"));
    Ok(())
}

#[tokio::test]
async fn seed_example_survives_a_decode_encode_round_trip_unchanged() -> Result<(), BoxError> {
    let example = query_example("200")?;
    let decoded = decoded_seed_example().await?;
    assert_eq!(serde_json::to_value(&decoded)?, example);
    Ok(())
}

#[tokio::test]
async fn missing_room_id_example_decodes_as_an_error_response() -> Result<(), BoxError> {
    let example = query_example("400")?;
    let body = decoded_error(400, &example).await?;
    assert_matches_example(&body, &example);
    assert_snapshot_in_place!(
        assert_debug_snapshot,
        "missing_room_id_example_decodes_as_an_error_response",
        body
    );
    Ok(())
}

#[tokio::test]
async fn room_not_found_example_decodes_as_an_error_response() -> Result<(), BoxError> {
    let example = query_example("404")?;
    let body = decoded_error(404, &example).await?;
    assert_matches_example(&body, &example);
    assert_snapshot_in_place!(
        assert_debug_snapshot,
        "room_not_found_example_decodes_as_an_error_response",
        body
    );
    Ok(())
}

/// 429 is not listed on the operation: the `4XX` range must catch it with the same body.
#[tokio::test]
async fn undocumented_status_in_the_4xx_range_decodes_as_an_error_response() -> Result<(), BoxError>
{
    let example = catch_all_error_example()?;
    let body = decoded_error(429, &example).await?;
    assert_matches_example(&body, &example);
    Ok(())
}

/// DingTalk's IP-ban page is JSON but not an error body: it must not pass as one.
#[tokio::test]
async fn json_error_without_a_code_is_not_taken_for_a_dingtalk_error() -> Result<(), BoxError> {
    let ban_page = serde_json::json!({ "status": 1111, "wait": 5 });
    match query(403, &ban_page).await? {
        Err(Error::InvalidResponsePayload(bytes, _)) => {
            assert_eq!(serde_json::from_slice::<Value>(&bytes)?, ban_page);
            Ok(())
        }
        other => Err(format!("expected InvalidResponsePayload, got {other:?}").into()),
    }
}
