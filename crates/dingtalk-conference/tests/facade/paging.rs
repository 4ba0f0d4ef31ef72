//! Paged listings over HTTP: lazy pages, the ways a listing ends, repeated tokens, a failing
//! page; and the batch query's chunking. Pages are scripted with operation-scoped faults, so
//! each test decides exactly what DingTalk answers.

use dingtalk_conference::{DEFAULT_MAX_PAGES, Error, RateLimit, TranscriptQuery};
use dingtalk_conference_mock::{Fault, FaultScope, MockServer, RecordedRequest};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::common::{app_builder, app_client, mock, no_retry_client};

const ROOM_CODE: &str = "68550708396";

/// The next request to `operation` is answered `200` with `body`.
fn answer_once(mock: &MockServer, operation: &str, body: Value) {
    mock.push_fault(
        FaultScope::Operation {
            operation_id: operation.to_string(),
            id: None,
            times: Some(1),
        },
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: body.to_string().into_bytes(),
        },
    );
}

/// The requests whose path starts with `prefix`.
fn requests_to(mock: &MockServer, prefix: &str) -> Vec<RecordedRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect()
}

fn room_page(ids: &[&str], next: Option<&str>, has_more: Option<bool>) -> Value {
    let mut page = json!({
        "conferenceList": ids.iter().map(|id| json!({"conferenceId": id, "status": 2})).collect::<Vec<_>>(),
        "totalCount": 5,
    });
    if let Some(next) = next {
        page["nextToken"] = json!(next);
    }
    if let Some(more) = has_more {
        page["hasMore"] = json!(more);
    }
    page
}

const ROOM_PATH: &str = "/v1.0/conference/roomCodes/";

#[tokio::test]
async fn a_stream_fetches_one_page_at_a_time_and_ends_when_dingtalk_says_no_more() {
    let mock = mock().await;
    let op = "queryConferenceInfoByRoomCode";
    answer_once(&mock, op, room_page(&["a", "b"], Some("2"), Some(true)));
    answer_once(&mock, op, room_page(&["c", "d"], Some("4"), Some(true)));
    answer_once(&mock, op, room_page(&["e"], Some("5"), Some(false)));
    let client = app_client(&mock);

    let mut stream = std::pin::pin!(
        client
            .conferences_by_room_code(ROOM_CODE)
            .page_size(2)
            .stream()
    );
    let first = stream.next().await.expect("an item").expect("ok");
    assert_eq!(first.conference_id.as_deref(), Some("a"));
    assert_eq!(
        requests_to(&mock, ROOM_PATH).len(),
        1,
        "lazy: one page so far"
    );
    stream.next().await.expect("b").expect("ok");
    assert_eq!(
        requests_to(&mock, ROOM_PATH).len(),
        1,
        "b came from the same page"
    );

    let rest: Vec<String> = stream
        .map(|item| item.expect("ok").conference_id.unwrap_or_default())
        .collect()
        .await;
    assert_eq!(rest, ["c", "d", "e"]);
    let requests = requests_to(&mock, ROOM_PATH);
    assert_eq!(
        requests.len(),
        3,
        "hasMore: false ends it, although a token came"
    );
    assert!(
        requests[0].path.ends_with("/infos?maxResults=2"),
        "{}",
        requests[0].path
    );
    assert!(
        requests[1].path.contains("nextToken=2"),
        "{}",
        requests[1].path
    );
    assert!(
        requests[2].path.contains("nextToken=4"),
        "{}",
        requests[2].path
    );
}

#[tokio::test]
async fn a_listing_without_has_more_ends_on_the_page_without_a_token_or_with_an_empty_one() {
    let op = "queryConferenceMembers";
    for last in [
        json!({"memberModels": [{"unionId": "u3"}]}),
        json!({"memberModels": [{"unionId": "u3"}], "nextToken": ""}),
    ] {
        let mock = mock().await;
        answer_once(
            &mock,
            op,
            json!({"memberModels": [{"unionId": "u1"}, {"unionId": "u2"}], "nextToken": "t1", "totalCount": 3}),
        );
        answer_once(&mock, op, last.clone());
        let members = app_client(&mock)
            .conference_members("6323d7568777190142ab9d10")
            .collect()
            .await
            .expect("two pages");
        let ids: Vec<_> = members
            .iter()
            .filter_map(|m| m.union_id.as_deref())
            .collect();
        assert_eq!(ids, ["u1", "u2", "u3"], "{last}");
        assert_eq!(
            requests_to(&mock, "/v1.0/conference/videoConferences/").len(),
            2,
            "{last}"
        );
    }
}

#[tokio::test]
async fn a_repeated_token_ends_the_stream_with_an_error_instead_of_looping() {
    let mock = mock().await;
    let op = "queryConferenceInfoByRoomCode";
    answer_once(&mock, op, room_page(&["a"], Some("same"), Some(true)));
    answer_once(&mock, op, room_page(&["b"], Some("same"), Some(true)));
    // Were the stream to follow the token again, it would get this page, and more.
    answer_once(&mock, op, room_page(&["c"], Some("same"), Some(true)));
    let items: Vec<Result<_, Error>> = app_client(&mock)
        .conferences_by_room_code(ROOM_CODE)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[0].is_ok() && items[1].is_ok());
    match &items[2] {
        Err(Error::RepeatedPageToken { operation, token }) => {
            assert_eq!(*operation, op);
            assert_eq!(token, "same");
        }
        other => panic!("expected RepeatedPageToken, got {other:?}"),
    }
    assert!(
        items[2]
            .as_ref()
            .err()
            .is_some_and(|e| e.to_string().contains("repeated the page token"))
    );
    assert_eq!(requests_to(&mock, ROOM_PATH).len(), 2);
}

#[tokio::test]
async fn a_server_handing_out_new_tokens_for_ever_is_followed_for_max_pages_pages_only() {
    let mock = mock().await;
    let op = "queryConferenceInfoByRoomCode";
    // A broken server: every page has more, each with a token never seen before.
    for n in 0..5 {
        let id = format!("c{n}");
        let next = format!("t{n}");
        answer_once(&mock, op, room_page(&[&id], Some(&next), Some(true)));
    }
    let client = app_client(&mock);
    let items: Vec<Result<_, Error>> = client
        .conferences_by_room_code(ROOM_CODE)
        .max_pages(3)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(items[..3].iter().all(Result::is_ok));
    match &items[3] {
        Err(Error::TooManyPages { operation, pages }) => {
            assert_eq!(*operation, op);
            assert_eq!(*pages, 3);
        }
        other => panic!("expected TooManyPages, got {other:?}"),
    }
    assert!(
        items[3]
            .as_ref()
            .err()
            .is_some_and(|e| e.to_string().contains("after 3 pages") && !e.is_retryable())
    );
    assert_eq!(requests_to(&mock, ROOM_PATH).len(), 3);

    // Zero pages is refused before any request.
    mock.reset_log();
    let error = client
        .conferences_by_room_code(ROOM_CODE)
        .max_pages(0)
        .collect()
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_listing_reads_at_most_the_default_max_pages_by_default() {
    let mock = mock().await;
    let op = "queryConferenceInfoByRoomCode";
    let pages = DEFAULT_MAX_PAGES as usize;
    // One page more than the cap, each with a new token.
    for n in 0..=pages {
        let next = format!("t{n}");
        answer_once(&mock, op, room_page(&["c"], Some(&next), Some(true)));
    }
    // No rate limit: the pages come as fast as the fake server answers.
    let client = app_builder(&mock)
        .rate_limit(RateLimit::none())
        .build()
        .expect("valid client");
    let error = client
        .conferences_by_room_code(ROOM_CODE)
        .collect()
        .await
        .expect_err("stops at the cap");
    assert!(
        matches!(error, Error::TooManyPages { pages, .. } if pages == DEFAULT_MAX_PAGES),
        "{error:?}"
    );
    assert_eq!(requests_to(&mock, ROOM_PATH).len(), pages);
}

#[tokio::test]
async fn a_failing_page_ends_the_stream_with_its_error_after_the_earlier_items() {
    let mock = mock().await;
    let op = "queryConferenceMembers";
    answer_once(
        &mock,
        op,
        json!({"memberModels": [{"unionId": "u1"}], "nextToken": "t1"}),
    );
    mock.push_fault(
        FaultScope::Operation {
            operation_id: op.into(),
            id: None,
            times: Some(1),
        },
        Fault::Error {
            status: 400,
            code: "paramError".into(),
            message: "PARAM ERROR".into(),
        },
    );
    answer_once(&mock, op, json!({"memberModels": [{"unionId": "never"}]}));
    let items: Vec<Result<_, Error>> = no_retry_client(&mock)
        .conference_members("6323d7568777190142ab9d10")
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(
        items[0].as_ref().expect("first page").union_id.as_deref(),
        Some("u1")
    );
    let error = items[1].as_ref().expect_err("the second page failed");
    assert_eq!(error.code().map(|c| c.as_str()), Some("paramError"));
}

#[tokio::test]
async fn the_transcript_follows_the_last_paragraphs_token_and_asks_for_the_largest_page() {
    let mock = mock().await;
    let op = "queryCloudRecordText";
    answer_once(
        &mock,
        op,
        json!({"hasMore": true, "paragraphList": [
            {"paragraph": "one", "nextTtoken": 11, "startTime": 0},
            {"paragraph": "two", "nextTtoken": 22, "startTime": 2000},
        ]}),
    );
    answer_once(
        &mock,
        op,
        json!({"hasMore": false, "paragraphList": [{"paragraph": "three", "nextTtoken": 33}]}),
    );
    let paragraphs = app_client(&mock)
        .transcript(TranscriptQuery::new(
            "6323d7568777190142ab9d10",
            "iPOLxxxxiEiE",
        ))
        .collect()
        .await
        .expect("two pages");
    let texts: Vec<_> = paragraphs
        .iter()
        .filter_map(|p| p.paragraph.as_deref())
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert_eq!(
        paragraphs[1].start_time,
        Some(std::time::Duration::from_secs(2))
    );
    let requests = requests_to(&mock, "/v1.0/conference/videoConferences/");
    assert_eq!(requests.len(), 2);
    assert!(
        requests[0].path.contains("maxResults=2000"),
        "{}",
        requests[0].path
    );
    assert!(
        !requests[0].path.contains("nextToken"),
        "{}",
        requests[0].path
    );
    assert!(
        requests[1].path.contains("nextToken=22"),
        "{}",
        requests[1].path
    );
}

#[tokio::test]
async fn the_page_level_call_returns_the_token_and_the_counts() {
    let mock = mock().await;
    answer_once(
        &mock,
        "queryConferenceInfoByRoomCode",
        room_page(&["a", "b"], Some("2"), Some(true)),
    );
    let listing = app_client(&mock)
        .conferences_by_room_code(ROOM_CODE)
        .page_size(2);
    assert_eq!(listing.requested_page_size(), Some(2));
    let page = listing.page(None).await.expect("a page");
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_token.as_deref(), Some("2"));
    assert_eq!(page.has_more, Some(true));
    assert_eq!(page.total_count, Some(5));
    assert!(!page.is_last());
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    let refused = |result: Result<(), Error>, what: &str| match result {
        Err(Error::InvalidInput(message)) => assert!(!message.is_empty(), "{what}"),
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    };
    refused(
        client.conferences_status::<&str>(&[]).await.map(drop),
        "empty id list",
    );
    refused(
        client.conferences_status(&["ok-id", " "]).await.map(drop),
        "a blank id in the list",
    );
    refused(
        client
            .conferences_by_room_code("12a4")
            .collect()
            .await
            .map(drop),
        "room code with a letter",
    );
    refused(
        client
            .conferences_by_room_code("")
            .page(None)
            .await
            .map(drop),
        "empty room code",
    );
    refused(
        client.conference_members("").collect().await.map(drop),
        "empty conference id",
    );
    refused(
        client
            .conference_members("6323d7568777190142ab9d10")
            .page_size(0)
            .collect()
            .await
            .map(drop),
        "page size zero",
    );
    refused(
        client
            .close_conference("6323d7568777190142ab9d10", "")
            .await,
        "empty union id",
    );
    refused(client.close_conference("..", "u").await, "dot-dot id");
    refused(
        client
            .recordings("6323d7568777190142ab9d10", "  ")
            .await
            .map(drop),
        "blank union id",
    );
    refused(
        client
            .transcript(TranscriptQuery::new("6323d7568777190142ab9d10", "u"))
            .page_size(2001)
            .collect()
            .await
            .map(drop),
        "transcript page over 2000",
    );
    refused(
        client
            .create_conference(dingtalk_conference::NewConference::new("", "title"))
            .await
            .map(drop),
        "empty organiser",
    );
    refused(
        client
            .create_conference(dingtalk_conference::NewConference::new("u", "   "))
            .await
            .map(drop),
        "blank title",
    );
    refused(
        client
            .create_conference(dingtalk_conference::NewConference::new(
                "u",
                "t".repeat(257),
            ))
            .await
            .map(drop),
        "title over 256 characters",
    );
    refused(
        client
            .create_conference(dingtalk_conference::NewConference::new("u", "title").invite(""))
            .await
            .map(drop),
        "empty invitee",
    );
    assert_eq!(
        mock.requests().len(),
        0,
        "no request at all, not even for a token"
    );
}

#[tokio::test]
async fn a_long_id_list_is_sent_in_chunks_without_repeats() {
    let mock = mock().await;
    let op = "queryConferenceInfoBatch";
    mock.push_fault(
        FaultScope::Operation {
            operation_id: op.into(),
            id: None,
            times: None,
        },
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"infos":[{"conferenceId":"x","status":2}]}"#.to_vec(),
        },
    );
    let mut ids: Vec<String> = (0..45).map(|i| format!("{i:024x}")).collect();
    ids.extend(ids.clone()[..10].to_vec());
    let found = app_client(&mock)
        .conferences_status(&ids)
        .await
        .expect("answered");
    assert_eq!(found.len(), 3, "one conference per answered request");
    let sizes: Vec<usize> = requests_to(&mock, "/v1.0/conference/videoConferences/query")
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("a JSON body");
            body["conferenceIdList"].as_array().map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(
        sizes,
        [
            dingtalk_conference::CONFERENCES_PER_BATCH_REQUEST,
            dingtalk_conference::CONFERENCES_PER_BATCH_REQUEST,
            5
        ]
    );
}
