//! The generated input checks (`checks`, from the spec's constraints and `components.x-ids`):
//! each kind of constraint refuses the first value past its edge and accepts the edge, and
//! every refusal names the spec's parameter.

use std::num::NonZeroU64;

use dingtalk_conference_api::InputError;
use dingtalk_conference_api::checks::{
    close_video_conference, create_video_conference, get_access_token, ids,
    query_cloud_record_text, query_cloud_record_video_play_info, query_conference_info,
    query_conference_info_batch, query_conference_info_by_room_code, query_conference_members,
};
use dingtalk_conference_api::types::{
    CreateVideoConferenceRequest, GetAccessTokenRequest, QueryConferenceInfoBatchRequest,
};

#[track_caller]
fn refused(result: Result<(), InputError>, parameter: &str, phrase: &str) {
    let error = result.expect_err("refused");
    assert_eq!(error.parameter, parameter, "{error}");
    assert!(error.message.contains(phrase), "{error:?} lacks {phrase:?}");
    assert_eq!(error.to_string(), format!("{parameter}: {}", error.message));
}

#[test]
fn conference_ids_refuse_what_cannot_be_one_path_segment() {
    let check = query_conference_info::conference_id;
    // DingTalk's ids, and anything else that is safe as a segment.
    for good in [
        "6323d7568777190142ab9d10",
        "a",
        "id-with_dashes.and.dots",
        "标题",
    ] {
        assert_eq!(check(good), Ok(()), "{good:?}");
    }
    refused(
        check(""),
        "conferenceId",
        "the conference id is empty; pass the id returned when the conference was created",
    );
    refused(check(" \t"), "conferenceId", "is empty");
    refused(check("."), "conferenceId", "\".\" is not a conference id");
    refused(check(".."), "conferenceId", "\"..\" is not a conference id");
    refused(check("..\\oauth2"), "conferenceId", "backslash");
    refused(check("a\u{0}b"), "conferenceId", "control characters");
    // The same rule wherever the id is a parameter.
    refused(
        close_video_conference::conference_id(".."),
        "conferenceId",
        "not a conference id",
    );
    refused(
        query_conference_members::conference_id(""),
        "conferenceId",
        "empty",
    );
    refused(ids::conference("whatever", ""), "whatever", "empty");
}

#[test]
fn union_ids_media_and_region_ids_are_not_blank() {
    assert_eq!(close_video_conference::union_id("iPOLxxxxiEiE"), Ok(()));
    refused(
        close_video_conference::union_id(" "),
        "unionId",
        "the union id is empty; pass the user's unionId",
    );
    refused(
        close_video_conference::union_id("a\nb"),
        "unionId",
        "control characters",
    );
    // Optional: absent is fine, present and blank is not.
    assert_eq!(query_cloud_record_text::union_id(None), Ok(()));
    refused(
        query_cloud_record_text::union_id(Some("")),
        "unionId",
        "empty",
    );
    refused(
        query_cloud_record_video_play_info::media_id(""),
        "mediaId",
        "the media id is empty",
    );
    refused(
        query_cloud_record_video_play_info::region_id(" "),
        "regionId",
        "the region id is empty",
    );
    assert_eq!(
        query_cloud_record_video_play_info::region_id("cn-shenzhen"),
        Ok(())
    );
}

#[test]
fn room_codes_are_digits_leading_zeros_kept() {
    let check = query_conference_info_by_room_code::room_code;
    assert_eq!(check("068550708396"), Ok(()));
    assert_eq!(check("0"), Ok(()));
    refused(check(""), "roomCode", "the room code is empty");
    refused(
        check("12a4"),
        "roomCode",
        "the room code \"12a4\" is not all digits",
    );
    refused(check("１２３"), "roomCode", "not all digits");
    refused(check("12 3"), "roomCode", "not all digits");
}

#[test]
fn integer_bounds_are_inclusive() {
    let size = query_cloud_record_text::max_results;
    assert_eq!(size(NonZeroU64::new(2000)), Ok(()));
    assert_eq!(size(NonZeroU64::new(1)), Ok(()));
    assert_eq!(size(None), Ok(()));
    refused(
        size(NonZeroU64::new(2001)),
        "maxResults",
        "the page size must be from 1 to 2000, not 2001",
    );
    let start = query_cloud_record_text::start_time;
    assert_eq!(start(Some(0)), Ok(()));
    refused(
        start(Some(-1)),
        "startTime",
        "the start time must be at least 0, not -1",
    );
    for members in [
        query_conference_members::max_results,
        query_conference_info_by_room_code::max_results,
    ] {
        assert_eq!(members(Some(1)), Ok(()));
        assert_eq!(members(Some(i32::MAX)), Ok(()));
        refused(members(Some(0)), "maxResults", "at least 1, not 0");
        refused(members(Some(-5)), "maxResults", "at least 1, not -5");
    }
}

#[test]
fn enums_take_only_their_values() {
    let direction = query_cloud_record_text::direction;
    assert_eq!(direction(Some("0")), Ok(()));
    assert_eq!(direction(Some("1")), Ok(()));
    assert_eq!(direction(None), Ok(()));
    refused(
        direction(Some("2")),
        "direction",
        "the direction \"2\" is not one of \"0\", \"1\"",
    );
    refused(direction(Some("")), "direction", "is not one of");
}

fn create(user: &str, title: &str, invitees: &[&str]) -> CreateVideoConferenceRequest {
    CreateVideoConferenceRequest {
        conf_title: title.to_string(),
        invite_caller: None,
        invite_user_ids: invitees.iter().map(|s| (*s).to_string()).collect(),
        user_id: user.to_string(),
    }
}

#[test]
fn titles_have_1_to_256_characters_and_are_not_blank() {
    let body = create_video_conference::body;
    assert_eq!(body(&create("u", "x", &[])), Ok(()));
    // Characters, not bytes: 256 three-byte characters pass.
    assert_eq!(body(&create("u", &"标".repeat(256), &[])), Ok(()));
    refused(
        body(&create("u", &"标".repeat(257), &[])),
        "confTitle",
        "the conference title has 257 characters; at most 256 are allowed",
    );
    refused(
        body(&create("u", "", &[])),
        "confTitle",
        "the conference title is empty",
    );
    refused(
        body(&create("u", "   ", &[])),
        "confTitle",
        "the conference title is empty (only white space)",
    );
    // The organiser first, as the spec's `required` lists it.
    refused(
        body(&create("", "", &[])),
        "userId",
        "the union id is empty",
    );
}

#[test]
fn list_items_are_checked_one_by_one_and_named_by_position() {
    let body = create_video_conference::body;
    assert_eq!(body(&create("u", "t", &["a", "b"])), Ok(()));
    refused(
        body(&create("u", "t", &["a", " "])),
        "inviteUserIds",
        "item 2 of the list: the union id is empty",
    );
    let batch = |ids: &[&str]| QueryConferenceInfoBatchRequest {
        conference_id_list: ids.iter().map(|s| (*s).to_string()).collect(),
    };
    assert_eq!(query_conference_info_batch::body(&batch(&["a"])), Ok(()));
    refused(
        query_conference_info_batch::body(&batch(&[])),
        "conferenceIdList",
        "the list of conference ids is empty",
    );
    refused(
        query_conference_info_batch::body(&batch(&["a", ".."])),
        "conferenceIdList",
        "item 2 of the list: \"..\" is not a conference id",
    );
}

#[test]
fn unconstrained_parameters_pass_anything() {
    assert_eq!(query_conference_members::next_token(Some("")), Ok(()));
    assert_eq!(query_cloud_record_text::next_token(Some(-1)), Ok(()));
    let credentials = GetAccessTokenRequest {
        app_key: String::new(),
        app_secret: String::new(),
    };
    assert_eq!(get_access_token::body(&credentials), Ok(()));
}
