//! The exact HTTP requests the generated client puts on the wire, captured by a real server on
//! 127.0.0.1: method, path and query, headers (secrets redacted) and body. Every operation of the
//! spec is sent through the generated dispatch (`tests/src/dispatch.rs`), with arguments from the
//! spec's examples: a new operation gets its snapshot with no new test code.

use std::collections::BTreeSet;

use dingtalk_conference_api::ACCESS_TOKEN_HEADER;
use dingtalk_conference_testkit::capture::CapturedRequest;
use dingtalk_conference_tests::operations::{
    self, SpecOperation, TEST_TOKEN, client_and_server, load_typed_spec, render_wire,
    spec_operations,
};
use dingtalk_conference_tests::{BoxError, dispatch};
use serde_json::json;

const TOKEN: &str = TEST_TOKEN;

async fn capture_query_conference_info(conference_id: &str) -> Result<CapturedRequest, BoxError> {
    let (client, mut server) = client_and_server(&json!({ "confInfo": {} })).await?;
    client.query_conference_info(conference_id).await?;
    server.next_request().await
}

async fn capture_every_operation() -> Result<Vec<(SpecOperation, CapturedRequest)>, BoxError> {
    operations::capture_every_operation(&load_typed_spec()?).await
}

/// The snapshot name of an operation's request: `wire__request_<operationId>.snap`.
fn snapshot_name(operation_id: &str) -> String {
    format!("request_{operation_id}")
}

/// One snapshot per operation, named after it: a new operation in the spec gets one with no new
/// test code (and fails the run until it is reviewed and accepted).
#[tokio::test]
async fn every_operation_request_on_the_wire() -> Result<(), BoxError> {
    for (operation, request) in capture_every_operation().await? {
        let rendered = render_wire(&operation, &request);
        assert_snapshot_in_place!(assert_snapshot, snapshot_name(&operation.id), rendered);
    }
    Ok(())
}

/// The redacted header carries exactly the token where the spec asks for one, and no operation
/// the spec leaves unauthenticated carries it anywhere.
#[tokio::test]
async fn every_operation_sends_the_token_exactly_where_the_spec_requires_it() -> Result<(), BoxError>
{
    let mut authenticated = 0;
    for (operation, request) in capture_every_operation().await? {
        if operation.auth_headers.is_empty() {
            assert_eq!(
                request.header(ACCESS_TOKEN_HEADER),
                None,
                "{} carried the token",
                operation.id
            );
            let raw = format!("{request:?}");
            assert!(
                !raw.contains(TOKEN),
                "{}: the token leaked into {raw}",
                operation.id
            );
        }
        for header in &operation.auth_headers {
            assert_eq!(request.header_values(header), [TOKEN], "{}", operation.id);
            authenticated += 1;
        }
    }
    assert!(
        authenticated > 0,
        "no operation of the spec needs the token"
    );
    Ok(())
}

/// Every operation of the spec has a committed wire snapshot, and every committed wire snapshot
/// belongs to an operation of the spec.
#[test]
fn every_operation_has_a_committed_wire_snapshot() -> Result<(), BoxError> {
    let spec = load_typed_spec()?;
    let expected: BTreeSet<String> = spec_operations(&spec)?
        .iter()
        .map(|operation| format!("wire__{}.snap", snapshot_name(&operation.id)))
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let committed: BTreeSet<String> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("wire__request_") && name.ends_with(".snap"))
        .collect();
    let missing: Vec<&String> = expected.difference(&committed).collect();
    let stale: Vec<&String> = committed.difference(&expected).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations without a wire snapshot: {missing:?}; snapshots of no operation: {stale:?} \
         (run `cargo insta test --review`)"
    );
    Ok(())
}

/// The generated dispatch knows every operation of the spec by its operationId.
#[test]
fn the_dispatch_knows_every_operation_of_the_spec() -> Result<(), BoxError> {
    let spec = load_typed_spec()?;
    let ids: Vec<String> = spec_operations(&spec)?.into_iter().map(|o| o.id).collect();
    assert_eq!(ids, dispatch::OPERATION_IDS);
    Ok(())
}

#[tokio::test]
async fn no_operation_sends_progenitors_api_version_header() -> Result<(), BoxError> {
    for (operation, request) in capture_every_operation().await? {
        assert_eq!(request.header("api-version"), None, "{}", operation.id);
    }
    Ok(())
}

/// Each request body is the JSON the arguments described, sent as JSON; no other request has a
/// body.
#[tokio::test]
async fn operations_with_a_body_send_it_as_json() -> Result<(), BoxError> {
    for (operation, request) in capture_every_operation().await? {
        let Some(body) = operation.args.get("body") else {
            assert!(request.body.is_empty(), "{}", operation.id);
            continue;
        };
        assert_eq!(
            request.header("content-type"),
            Some("application/json"),
            "{}",
            operation.id
        );
        let sent: serde_json::Value = serde_json::from_slice(&request.body)?;
        assert_eq!(&sent, body, "{}", operation.id);
    }
    Ok(())
}

#[tokio::test]
async fn every_operation_asks_for_json() -> Result<(), BoxError> {
    for (operation, request) in capture_every_operation().await? {
        assert_eq!(
            request.header("accept"),
            Some("application/json"),
            "{}",
            operation.id
        );
    }
    Ok(())
}

/// `/`, `?`, `#`, space and non-ASCII in the id must not escape its path segment: DingTalk's own
/// SDKs paste the id in unescaped, so `a b/c?d` changes which endpoint is called.
const AWKWARD_ID: &str = "a/b?c#d e%f-会议";

#[tokio::test]
async fn awkward_conference_id_request_on_the_wire() -> Result<(), BoxError> {
    let request = capture_query_conference_info(AWKWARD_ID).await?;
    assert_snapshot_in_place!(
        assert_snapshot,
        "awkward_conference_id_request_on_the_wire",
        request.render(&[ACCESS_TOKEN_HEADER])
    );
    Ok(())
}

#[tokio::test]
async fn awkward_conference_id_is_one_percent_encoded_path_segment() -> Result<(), BoxError> {
    let request = capture_query_conference_info(AWKWARD_ID).await?;
    let prefix = "/v1.0/conference/videoConferences/";
    let segment = request
        .target
        .strip_prefix(prefix)
        .ok_or_else(|| format!("unexpected target {}", request.target))?;
    assert!(
        !segment.contains(['/', '?', '#', ' ']),
        "the id escaped its segment: {}",
        request.target
    );
    assert!(segment.is_ascii(), "{segment}");
    assert_eq!(percent_decode(segment)?, AWKWARD_ID);
    Ok(())
}

fn percent_decode(text: &str) -> Result<String, BoxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("truncated escape in {text}"))?;
            out.push(u8::from_str_radix(hex, 16)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8(out)?)
}

/// The generated client escapes `/` but not dot segments, and the URL parser then resolves them:
/// an id of `..` calls a different endpoint. The facade refuses such ids before any request;
/// this test records why it must (and fails if progenitor ever starts escaping them).
#[tokio::test]
async fn dot_segment_ids_escape_the_path_in_the_generated_client() -> Result<(), BoxError> {
    let mut targets = Vec::new();
    for id in [".", ".."] {
        targets.push(capture_query_conference_info(id).await?.target);
    }
    assert_eq!(
        targets,
        ["/v1.0/conference/videoConferences/", "/v1.0/conference/"]
    );
    Ok(())
}

/// Where the spec has no example, an operation's arguments are the smallest values its schemas
/// allow: optional parameters left out, required ones and required body properties at their
/// minimum, first enum value or shortest string.
#[test]
fn arguments_without_examples_are_the_minimal_valid_values() -> Result<(), BoxError> {
    let spec: openapiv3::OpenAPI = serde_json::from_value(json!({
        "openapi": "3.0.3",
        "info": { "title": "t", "version": "1" },
        "paths": { "/things/{id}": { "post": {
            "operationId": "makeThing",
            "security": [{ "key": [] }],
            "parameters": [
                { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "page", "in": "query", "schema": { "type": "integer" } },
                { "name": "size", "in": "query", "required": true,
                  "schema": { "type": "integer", "minimum": 5 } },
            ],
            "requestBody": { "required": true, "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Thing" } } } },
            "responses": { "200": { "description": "ok" } },
        } } },
        "components": {
            "securitySchemes": { "key": { "type": "apiKey", "in": "header", "name": "x-key" } },
            "schemas": { "Thing": {
                "type": "object",
                "required": ["code", "kind", "count", "flag", "tags", "inner"],
                "properties": {
                    "code": { "type": "string", "minLength": 3 },
                    "kind": { "type": "string", "enum": ["b", "a"] },
                    "count": { "type": "integer", "maximum": -2 },
                    "flag": { "type": "boolean" },
                    "tags": { "type": "array", "minItems": 1, "items": { "type": "string" } },
                    "inner": { "type": "object", "properties": { "x": { "type": "string" } } },
                    "note": { "type": "string" },
                },
            } },
        },
    }))?;
    let operations = spec_operations(&spec)?;
    let [operation] = operations.as_slice() else {
        panic!("expected one operation: {operations:?}");
    };
    assert_eq!(operation.id, "makeThing");
    assert_eq!(operation.auth_headers, ["x-key"]);
    assert_eq!(operation.success_example, json!({}));
    assert_eq!(
        serde_json::Value::Object(operation.args.clone()),
        json!({
            "id": "x",
            "size": 5,
            "body": {
                "code": "xxx", "kind": "b", "count": -2, "flag": false, "tags": ["x"], "inner": {}
            },
        })
    );
    Ok(())
}
