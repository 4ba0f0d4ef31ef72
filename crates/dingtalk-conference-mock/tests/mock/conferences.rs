//! The conference endpoint of the fake server, seen from a real HTTP client.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::time::Duration;

use dingtalk_conference_api::types::{ConferenceInfo, QueryConferenceInfoResponse};
use dingtalk_conference_mock::{MockConfig, MockServer, seeded};
use dingtalk_conference_testkit::fake::http as client;
use serde_json::Value;

const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

/// GETs the conference at the raw (already encoded) path segment `segment`.
async fn get(server: &MockServer, segment: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = client().get(format!(
        "{}/v1.0/conference/videoConferences/{segment}",
        server.base_url()
    ));
    if let Some(token) = token {
        request = request.header(TOKEN_HEADER, token);
    }
    request.send().await.expect("a response")
}

async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn conf_info(response: reqwest::Response) -> ConferenceInfo {
    assert_eq!(response.status(), 200);
    let body: QueryConferenceInfoResponse = response.json().await.expect("the spec's response");
    body.conf_info.expect("confInfo")
}

#[tokio::test]
async fn seeded_started_conference_is_found() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let response = get(&server, seeded::STARTED, Some(&token)).await;
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"))
    );
    let info = conf_info(response).await;
    assert_eq!(info.conference_id.as_deref(), Some(seeded::STARTED));
    assert_eq!(info.status, Some(2));
    assert!(info.active_num.is_some_and(|n| n > 0));
    assert_eq!(info.cloud_record_status, Some(1));
    assert_eq!(info.end_time, None);
    assert_eq!(info.conf_duration, None);
    assert_eq!(info.minutes_status, None);
}

#[tokio::test]
async fn seeded_conferences_cover_the_documented_variety() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let ended = conf_info(get(&server, seeded::ENDED, Some(&token)).await).await;
    assert_eq!(ended.status, Some(1));
    let (start, end) = (
        ended.start_time.expect("start"),
        ended.end_time.expect("end"),
    );
    assert_eq!(ended.conf_duration, Some(end - start));
    assert!(end > start);

    let initialised = conf_info(get(&server, seeded::INITIALISED, Some(&token)).await).await;
    assert_eq!(initialised.status, Some(0));

    let scheduled = conf_info(get(&server, seeded::SCHEDULED, Some(&token)).await).await;
    assert_eq!(scheduled.biz_type.as_deref(), Some("3"));
    assert!(scheduled.schedule_conference_id.is_some());
    assert!(
        scheduled
            .room_code
            .is_some_and(|code| code.starts_with('0'))
    );

    let audio = conf_info(get(&server, seeded::AUDIO, Some(&token)).await).await;
    assert_eq!(audio.biz_type.as_deref(), Some("audio_conf"));

    let apps = conf_info(get(&server, seeded::WITH_EXTENSION_APPS, Some(&token)).await).await;
    let modes: Vec<_> = apps
        .extension_app_settings
        .iter()
        .flatten()
        .map(|app| app.auto_open_mode)
        .collect();
    assert_eq!(modes, [Some(1), Some(2)]);
}

#[tokio::test]
async fn seeded_ids_are_24_hex_characters() {
    for id in seeded::ALL {
        assert_eq!(id.len(), 24, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
}

#[tokio::test]
async fn unseeded_server_has_no_conferences() {
    let server = MockServer::start_with(MockConfig::default().with_seed(false))
        .await
        .expect("server");
    assert!(server.conference_ids().is_empty());
    let token = server.issue_token();
    let (status, _) = status_and_json(get(&server, seeded::STARTED, Some(&token)).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn unknown_conference_is_room_not_found() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let (status, body) =
        status_and_json(get(&server, "000000000000000000000000", Some(&token)).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "roomNotFound");
    assert_eq!(body["message"], "ROOM NOT FOUND");
}

#[tokio::test]
async fn missing_token_is_invalid_authentication() {
    let server = MockServer::start().await.expect("server");
    let (status, body) = status_and_json(get(&server, seeded::STARTED, None).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidAuthentication");
}

#[tokio::test]
async fn unknown_token_is_invalid_authentication() {
    let server = MockServer::start().await.expect("server");
    let (status, body) =
        status_and_json(get(&server, seeded::STARTED, Some("not-a-token")).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidAuthentication");
}

#[tokio::test]
async fn expired_token_is_invalid_authentication() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.expire_all_tokens();
    let (status, body) = status_and_json(get(&server, seeded::STARTED, Some(&token)).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidAuthentication");
}

#[tokio::test]
async fn token_expires_after_a_short_lifetime() {
    let server = MockServer::start_with(
        MockConfig::default().with_token_lifetime(Duration::from_millis(100)),
    )
    .await
    .expect("server");
    let token = server.issue_token();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = status_and_json(get(&server, seeded::STARTED, Some(&token)).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidAuthentication");
}

#[tokio::test]
async fn empty_id_is_missing_room_id() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let (status, body) = status_and_json(get(&server, "", Some(&token)).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "missingRoomId");
}

#[tokio::test]
async fn percent_encoded_slash_is_decoded_as_one_segment() {
    let server = MockServer::start().await.expect("server");
    let id = "a b/c?d";
    server.upsert_conference(ConferenceInfo {
        conference_id: Some(id.to_owned()),
        title: Some("odd id".to_owned()),
        ..ConferenceInfo::default()
    });
    let token = server.issue_token();
    let info = conf_info(get(&server, "a%20b%2Fc%3Fd", Some(&token)).await).await;
    assert_eq!(info.conference_id.as_deref(), Some(id));
    let logged = server.requests();
    assert_eq!(
        logged.last().map(|request| request.path.as_str()),
        Some("/v1.0/conference/videoConferences/a%20b%2Fc%3Fd")
    );
}

#[tokio::test]
async fn extra_path_segment_is_an_unknown_route() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let (status, body) = status_and_json(get(&server, "a/b", Some(&token)).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "InvalidAction.NotFound");
    assert_eq!(server.counters().conference_requests, 0);
}

#[tokio::test]
async fn unknown_route_gets_a_dingtalk_error_body() {
    let server = MockServer::start().await.expect("server");
    let response = client()
        .get(format!("{}/v1.0/nothing/here", server.base_url()))
        .send()
        .await
        .expect("a response");
    let request_id = response
        .headers()
        .get("x-acs-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 404);
    assert!(body["code"].is_string());
    assert_eq!(body["requestid"].as_str(), request_id.as_deref());
}

#[tokio::test]
async fn every_response_has_unique_request_and_trace_ids() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let mut seen = HashSet::new();
    for segment in [seeded::STARTED, "missing", ""] {
        let response = get(&server, segment, Some(&token)).await;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
                .expect("header present")
        };
        let request_id = header("x-acs-request-id");
        assert_eq!(request_id.len(), 36, "uuid-like: {request_id}");
        assert_eq!(request_id.matches('-').count(), 4);
        assert!(!header("x-acs-trace-id").is_empty());
        assert!(seen.insert(request_id));
    }
}

#[tokio::test]
async fn upserted_conference_is_served_and_removed_one_is_not() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let mut info = server.conference(seeded::ENDED).expect("seeded");
    info.title = Some("Renamed 改名".to_owned());
    server.upsert_conference(info);
    let served = conf_info(get(&server, seeded::ENDED, Some(&token)).await).await;
    assert_eq!(served.title.as_deref(), Some("Renamed 改名"));

    server.remove_conference(seeded::ENDED);
    let (status, _) = status_and_json(get(&server, seeded::ENDED, Some(&token)).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn conference_can_be_served_under_an_id_it_does_not_carry() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    server.upsert_conference_with_id("bare", ConferenceInfo::default());
    let response = get(&server, "bare", Some(&token)).await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"confInfo": {}}));
}

#[tokio::test]
async fn keep_alive_connection_serves_several_requests() {
    let server = MockServer::start().await.expect("server");
    let token = server.issue_token();
    let addr = server.addr();
    let answers = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let request = format!(
                "GET /v1.0/conference/videoConferences/{} HTTP/1.1\r\nhost: {addr}\r\n{TOKEN_HEADER}: {token}\r\n\r\n",
                seeded::STARTED
            );
            stream.write_all(request.as_bytes()).expect("write");
            statuses.push(read_one_response(&mut stream));
        }
        statuses
    })
    .await
    .expect("the blocking client");
    assert_eq!(answers, ["HTTP/1.1 200 OK"; 3]);
}

/// Reads one `content-length` response from `stream`; returns its status line.
fn read_one_response(stream: &mut std::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("ASCII head");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|value| value.trim().parse().ok())
        .expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("body");
    head.lines().next().expect("status line").to_owned()
}
