//! `dingtalk-conference api OPERATION_ID`, end to end as a process: every operation of the
//! spec callable against the fake server, the typed answer against `--raw`, `--body` from a
//! file and from standard input, usage errors and their exit code, the help, retries.
//!
//! It runs the binary with the helpers of `main.rs` and the test kit's fake server.

use std::io::Write as _;
use std::process::{Output, Stdio};

use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, Fault, FaultScope, seeded,
};
use dingtalk_conference_testkit::spec::spec;
use serde_json::{Value, json};

use crate::{Fake, RunAgainst as _, exit_code, run, stderr, stdout};

/// The binary with `args` and `stdin`, as [`crate::command`] sets it up.
fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = crate::command(args);
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("stdin written");
    }
    child.wait_with_output().expect("the binary ends")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// The requests of `method` to paths starting with `path` that `fake` saw.
fn requests_to(fake: &Fake, method: &str, path: &str) -> usize {
    fake.server
        .requests()
        .iter()
        .filter(|request| request.method == method && request.path.starts_with(path))
        .count()
}

/// `conferenceId` → `conference-id`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Valid arguments for the operations whose spec examples do not name seeded data (or would
/// close the conference the others read); every other operation is called with its spec
/// examples.
fn seeded_arguments(id: &str) -> Option<Vec<String>> {
    let body = |value: Value| vec!["--body".to_string(), value.to_string()];
    let args = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .flat_map(|(flag, value)| [format!("--{flag}"), value.to_string()])
            .collect::<Vec<_>>()
    };
    Some(match id {
        "getAccessToken" => {
            body(json!({"appKey": DEFAULT_APP_KEY, "appSecret": DEFAULT_APP_SECRET}))
        }
        "getCorpAccessToken" => body(json!({
            "suiteKey": DEFAULT_SUITE_KEY,
            "suiteSecret": DEFAULT_SUITE_SECRET,
            "authCorpId": DEFAULT_CORP_ID,
            "suiteTicket": DEFAULT_SUITE_TICKET,
        })),
        "createVideoConference" => {
            body(json!({"confTitle": "api test", "userId": seeded::STARTED_HOST}))
        }
        "queryConferenceInfoBatch" => {
            body(json!({"conferenceIdList": [seeded::STARTED, seeded::ENDED]}))
        }
        "closeVideoConference" => args(&[
            ("conference-id", seeded::STARTED),
            ("union-id", seeded::STARTED_HOST),
        ]),
        "queryConferenceInfo" | "queryConferenceMembers" => {
            args(&[("conference-id", seeded::STARTED)])
        }
        "queryConferenceInfoByRoomCode" => args(&[("room-code", seeded::RECURRING_ROOM_CODE)]),
        "queryCloudRecordVideo" | "queryCloudRecordText" => args(&[
            ("conference-id", seeded::ENDED),
            ("union-id", seeded::ENDED_HOST),
        ]),
        "queryCloudRecordVideoPlayInfo" => {
            // The media id of the seeded recording's first video, as its listing gives it.
            let videos = run(&[
                "--mock",
                "api",
                "queryCloudRecordVideo",
                "--conference-id",
                seeded::ENDED,
                "--union-id",
                seeded::ENDED_HOST,
            ]);
            assert_eq!(exit_code(&videos), 0, "{}", stderr(&videos));
            let video = &json_of(&videos)["videoList"][0];
            let media_id = video["mediaId"].as_str().expect("a media id").to_string();
            let region_id = video["regionId"].as_str().expect("a region id").to_string();
            args(&[
                ("conference-id", seeded::ENDED),
                ("union-id", seeded::ENDED_HOST),
                ("media-id", &media_id),
                ("region-id", &region_id),
            ])
        }
        // part record-stream: the seeded conferences in progress, by their hosts.
        "startCloudRecord" => {
            // SCHEDULED is in progress and not being recorded; its host, as seeded.
            let mut call = args(&[("conference-id", seeded::SCHEDULED)]);
            call.extend(body(
                json!({"unionId": "Nb4KsV7gQe1tYx9hMa3pDliE", "mode": "grid"}),
            ));
            call
        }
        "stopCloudRecord" => {
            let mut call = args(&[("conference-id", seeded::STARTED)]);
            call.extend(body(json!({"unionId": seeded::STARTED_HOST})));
            call
        }
        // part minutes: the seeded conference in progress has running minutes its host owns.
        "startMinutes" | "stopMinutes" | "queryMinutesSummary" => {
            let mut call = args(&[("conference-id", seeded::STARTED)]);
            call.extend(body(json!({"unionId": seeded::STARTED_HOST})));
            call
        }
        "optRecordWhiteAccount" => args(&[(
            "request-body",
            &json!({
                "bizType": "cloud_record",
                "operation": 1,
                "unionId": seeded::STARTED_HOST,
                "settingRangeList": [{"settingRangeId": seeded::ENDED_HOST, "settingRangeType": 3}],
            })
            .to_string(),
        )]),
        "startStreamOut" => {
            let mut call = args(&[("conference-id", seeded::STARTED)]);
            call.extend(body(json!({
                "unionId": seeded::STARTED_HOST,
                "streamName": "api test",
                "mode": "speech",
                "smallWindowPosition": "float_right",
                "needHostJoin": false,
                "streamUrlList": ["rtmp://live.example.com/app/key"],
            })));
            call
        }
        "stopStreamOut" => {
            let mut call = args(&[("conference-id", seeded::STARTED)]);
            call.extend(body(json!({
                "unionId": seeded::STARTED_HOST,
                "streamId": "any",
                "stopAllStream": true,
            })));
            call
        }
        // The data operations (issue 21): the seeded ended conference and its host.
        "GetConfDataByConferenceId" => {
            args(&[("conference-id", seeded::ENDED), ("real-data", "true")])
        }
        "GetConfDetailData" => args(&[("conference-id", seeded::ENDED)]),
        "GetHistoryConfDataList" => args(&[
            ("start-time", "0"),
            ("end-time", "253402300799999"),
            ("real-data", "true"),
        ]),
        "GetUserLastMetric" => {
            let mut all = args(&[("conference-id", seeded::ENDED)]);
            all.extend(body(json!({"unionIdList": [seeded::ENDED_HOST]})));
            all
        }
        "GetUserMetricData" => args(&[
            ("conference-id", seeded::ENDED),
            ("begin-time", "0"),
            ("end-time", "253402300799999"),
            ("union-id", seeded::ENDED_HOST),
        ]),
        // part control: members of the seeded conference in progress.
        "updateVideoConferenceSetting"
        | "cohosts"
        | "focus"
        | "inviteUsers"
        | "kickMembers"
        | "lockConference"
        | "muteAll"
        | "muteMembers" => {
            let participant = seeded::STARTED_PARTICIPANTS[0];
            let mut arguments = args(&[("conference-id", seeded::STARTED)]);
            arguments.extend(body(match id {
                "updateVideoConferenceSetting" => json!({"lockConference": true}),
                "cohosts" => json!({"action": "add", "userList": [{"unionId": participant}]}),
                "focus" => json!({"action": "focus", "unionId": participant}),
                "inviteUsers" => json!({
                    "unionId": seeded::STARTED_HOST,
                    "inviteeList": [{"unionId": "iPOLinviteexxxxxiEiE", "nick": "Invitee"}],
                }),
                "kickMembers" => json!({"userList": [{"unionId": participant}]}),
                "lockConference" => json!({"action": "lock"}),
                "muteAll" => json!({"action": "mute", "forceMute": true}),
                _ => json!({"action": "mute", "userList": [{"unionId": participant}]}),
            }));
            arguments
        }
        "inviteMcu" => body(json!({
            "roomCode": seeded::STARTED_ROOM_CODE,
            "mcuRoomCode": "123456",
            "unionId": seeded::STARTED_HOST,
        })),
        // part schedule
        "createScheduleConference" => body(json!({
            "creatorUnionId": seeded::SCHEDULE_CREATOR,
            "title": "api test",
            "startTime": 1_811_815_200_000_i64,
            "endTime": 1_811_818_800_000_i64,
        })),
        "updateScheduleConference" => body(json!({
            "creatorUnionId": seeded::SCHEDULE_CREATOR,
            "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
            "title": "api test",
            "startTime": 1_811_815_200_000_i64,
            "endTime": 1_811_818_800_000_i64,
        })),
        "cancelScheduleConference" => body(json!({
            "creatorUnionId": seeded::SCHEDULE_CREATOR,
            "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
        })),
        "queryScheduleConference" => args(&[
            ("schedule-conference-id", seeded::SCHEDULE_PLANNED),
            ("request-union-id", seeded::SCHEDULE_CREATOR),
        ]),
        "queryScheduleConferenceInfo" => {
            args(&[("schedule-conference-id", seeded::SCHEDULE_MONTHLY)])
        }
        "queryScheduleConfSettings" => {
            args(&[("schedule-conference-id", seeded::SCHEDULE_PLANNED)])
        }
        "updateScheduleConfSettings" => body(json!({
            "creatorUnionId": seeded::SCHEDULE_CREATOR,
            "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
            "scheduleConfSettingModel": {"lockRoom": 1, "muteOnJoin": 6},
        })),
        "createCustomShortLink" => body(json!({
            "creatorUnionId": seeded::SCHEDULE_CREATOR,
            "scheduleConferenceId": seeded::SCHEDULE_PLANNED,
            "coolAppCode": "COOLAPP-1-3A9C0E5B7D21F486",
        })),
        // part org
        "queryOrgConferenceList" => args(&[("max-results", "2")]),
        "updateVideoConferenceExtInfo" => args(&[("conference-id", seeded::STARTED)]),
        "createAutoLoginUrl" => body(json!({
            "meetingUrl": format!("https://meeting.dingtalk.com/j/{}", seeded::STARTED_ROOM_CODE),
            "unionId": seeded::STARTED_HOST,
        })),
        "setSubtitleEvent" => {
            let mut all = args(&[("conference-id", seeded::STARTED)]);
            all.extend(body(json!({"enable": true})));
            all
        }
        "updateMemberNick" => {
            let mut all = args(&[("conference-id", seeded::STARTED)]);
            all.extend(body(
                json!({"unionId": seeded::STARTED_HOST, "nick": "api test"}),
            ));
            all
        }
        "addRecordPermission" => {
            let mut call = args(&[("conference-id", seeded::STARTED)]);
            call.extend(body(json!({
                "bizType": "minutes",
                "ownerUnionId": seeded::STARTED_HOST,
                "unionId": seeded::ENDED_HOST,
            })));
            call
        }
        "queryMinutesAudio" | "queryMinutesMeetingResult" => args(&[
            ("conference-id", seeded::STARTED),
            ("union-id", seeded::STARTED_HOST),
        ]),
        "queryMinutesText" => args(&[
            ("conference-id", seeded::STARTED),
            ("direction", "0"),
            ("union-id", seeded::STARTED_HOST),
        ]),
        "generateFlashMinutesDocumentUrl" => args(&[
            ("conference-id", seeded::STARTED),
            ("biz-type", "minutes"),
            ("union-id", seeded::STARTED_HOST),
        ]),
        "queryFlashMinutesSummary" | "queryRecordMinutesUrl" => args(&[
            ("conference-id", seeded::STARTED),
            ("biz-type", "minutes"),
            ("recorder-union-id", seeded::STARTED_HOST),
        ]),
        _ => return None,
    })
}

/// Arguments from the spec's examples: each parameter's `example` as its flag, the body's
/// `example` as `--body`.
fn example_arguments(operation: &Value) -> Vec<String> {
    let mut args = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let (Some(name), example) = (parameter["name"].as_str(), &parameter["example"]) else {
            continue;
        };
        let value = match example {
            Value::Null => continue,
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        args.push(format!("--{}", kebab(name)));
        args.push(value);
    }
    let body = &operation["requestBody"]["content"]["application/json"]["example"];
    if !body.is_null() {
        args.push("--body".to_string());
        args.push(body.to_string());
    }
    args
}

#[test]
fn query_conference_info_on_the_mock_prints_the_conference() {
    let output = run(&[
        "--mock",
        "api",
        "queryConferenceInfo",
        "--conference-id",
        "6323d7568777190142ab9d10",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let answer = json_of(&output);
    assert_eq!(answer["confInfo"]["conferenceId"], seeded::STARTED);
    assert_eq!(answer["confInfo"]["status"], 2, "DingTalk's wire value");
    assert!(answer["confInfo"]["title"].is_string(), "{answer}");
}

#[test]
fn every_operation_of_the_spec_is_callable_on_the_mock() {
    let spec = spec();
    let mut called = Vec::new();
    for (_, item) in spec["paths"].as_object().expect("paths") {
        for (_, operation) in item.as_object().expect("a path item") {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let (args, must_succeed) = match seeded_arguments(id) {
                Some(args) => (args, true),
                None => (example_arguments(operation), false),
            };
            let mut all = vec!["--mock".to_string(), "api".to_string(), id.to_string()];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let output = run(&all);
            let err = stderr(&output);
            if must_succeed || exit_code(&output) == 0 {
                assert_eq!(exit_code(&output), 0, "{id}: {err}");
                let answer = json_of(&output);
                assert!(answer.is_object(), "{id}: {answer}");
            } else {
                // An operation with no seeded arguments here: the fake server's answer to the
                // spec's examples must be one the spec documents for it.
                let code = err
                    .lines()
                    .find_map(|line| line.strip_prefix("code: "))
                    .unwrap_or_else(|| panic!("{id}: no DingTalk code in {err}"));
                let documented = operation["responses"].to_string();
                assert!(
                    documented.contains(code)
                        || spec["components"]["responses"].to_string().contains(code),
                    "{id}: {code} is not documented for it"
                );
            }
            called.push(id.to_string());
        }
    }
    assert!(
        called.contains(&"queryConferenceInfo".to_string()),
        "{called:?}"
    );
}

#[test]
fn raw_prints_the_body_as_received_and_the_typed_answer_drops_what_the_spec_does_not_know() {
    let fake = Fake::start();
    let body =
        r#"{"confInfo":{"conferenceId":"c1","title":"t","notInTheSpec":"x"},"alsoUnknown":[1]}"#;
    let scope = || FaultScope::Operation {
        operation_id: "queryConferenceInfo".to_string(),
        id: None,
        times: Some(1),
    };
    let fault = || Fault::Body {
        status: 200,
        content_type: "application/json".to_string(),
        body: body.as_bytes().to_vec(),
    };

    fake.server.push_fault(scope(), fault());
    let typed = fake.run(&["api", "queryConferenceInfo", "--conference-id", "c1"]);
    assert_eq!(exit_code(&typed), 0, "{}", stderr(&typed));
    assert_eq!(
        json_of(&typed),
        json!({"confInfo": {"conferenceId": "c1", "title": "t"}})
    );

    fake.server.push_fault(scope(), fault());
    let raw = fake.run(&[
        "api",
        "queryConferenceInfo",
        "--conference-id",
        "c1",
        "--raw",
    ]);
    assert_eq!(exit_code(&raw), 0, "{}", stderr(&raw));
    assert_eq!(stdout(&raw), body);
}

#[test]
fn the_body_comes_from_a_file_or_standard_input() {
    let body = json!({"conferenceIdList": [seeded::STARTED]}).to_string();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("api-batch-body.json");
    std::fs::write(&file, &body).expect("the body file is written");
    let at_file = format!("@{}", file.display());

    let from_file = run(&[
        "--mock",
        "api",
        "queryConferenceInfoBatch",
        "--body",
        &at_file,
    ]);
    assert_eq!(exit_code(&from_file), 0, "{}", stderr(&from_file));
    let from_stdin = run_with_stdin(
        &["--mock", "api", "queryConferenceInfoBatch", "--body", "-"],
        Some(&body),
    );
    assert_eq!(exit_code(&from_stdin), 0, "{}", stderr(&from_stdin));
    for output in [&from_file, &from_stdin] {
        let answer = json_of(output);
        assert_eq!(
            answer["infos"][0]["conferenceId"],
            seeded::STARTED,
            "{answer}"
        );
    }
}

#[test]
fn bad_input_is_a_usage_error_with_exit_code_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["queryConferenceInfoBatch", "--body", "{not json"],
            "not JSON",
        ),
        (
            &[
                "queryConferenceInfoBatch",
                "--body",
                r#"{"conferenceIdList": 5}"#,
            ],
            "body: ",
        ),
        (
            &[
                "queryConferenceInfoBatch",
                "--body",
                "@/nonexistent/body.json",
            ],
            "could not read",
        ),
        (&["queryConferenceInfo"], "--conference-id"),
        (
            &[
                "queryCloudRecordText",
                "--conference-id",
                "c",
                "--max-results",
                "0",
            ],
            "--max-results",
        ),
    ];
    for (args, says) in cases {
        let mut all = vec!["--mock", "api"];
        all.extend_from_slice(args);
        let output = run(&all);
        let err = stderr(&output);
        assert_eq!(exit_code(&output), 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    // A path parameter that would leave its path segment is refused before any request.
    let fake = Fake::start();
    let output = fake.run(&["api", "queryConferenceInfo", "--conference-id", ".."]);
    assert_eq!(exit_code(&output), 2, "{}", stderr(&output));
    assert_eq!(requests_to(&fake, "GET", "/v1.0/conference"), 0);
}

#[test]
fn a_token_operation_is_sent_without_a_token_and_its_body_never_reaches_stderr() {
    let fake = Fake::start();
    let secret = "s3cret-that-must-not-leak";
    let body = json!({"appKey": DEFAULT_APP_KEY, "appSecret": secret}).to_string();
    let output = fake.run(&["api", "getAccessToken", "--body", &body]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 4, "{err}");
    assert!(err.contains("invalidClientIdOrSecret"), "{err}");
    assert!(!err.contains(secret) && !stdout(&output).contains(secret));

    let body = json!({"appKey": DEFAULT_APP_KEY, "appSecret": DEFAULT_APP_SECRET}).to_string();
    let output = fake.run(&["api", "getAccessToken", "--body", &body]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(json_of(&output)["accessToken"].is_string());
    let token_requests: Vec<_> = fake
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/v1.0/oauth2/accessToken"))
        .collect();
    // Only the two calls made here: no token was fetched to send them.
    assert_eq!(token_requests.len(), 2);
    for request in token_requests {
        assert!(request.header("x-acs-dingtalk-access-token").is_none());
    }
}

#[test]
fn a_5xx_or_throttled_read_is_retried_like_the_other_commands() {
    let fake = Fake::start();
    let scope = || FaultScope::Operation {
        operation_id: "queryConferenceInfo".to_string(),
        id: None,
        times: Some(1),
    };
    fake.server.push_fault(
        scope(),
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "system error".into(),
        },
    );
    let output = fake.run(&[
        "api",
        "queryConferenceInfo",
        "--conference-id",
        seeded::STARTED,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        json_of(&output)["confInfo"]["conferenceId"],
        seeded::STARTED
    );
    assert_eq!(
        requests_to(&fake, "GET", "/v1.0/conference/videoConferences/"),
        2
    );

    fake.server.push_fault(
        scope(),
        Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
    );
    let output = fake.run(&[
        "api",
        "queryConferenceInfo",
        "--conference-id",
        seeded::STARTED,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        requests_to(&fake, "GET", "/v1.0/conference/videoConferences/"),
        4
    );
}

#[test]
fn a_write_dingtalk_may_have_processed_is_not_sent_again() {
    let fake = Fake::start();
    fake.server.push_fault(
        FaultScope::Operation {
            operation_id: "createVideoConference".to_string(),
            id: None,
            times: Some(1),
        },
        Fault::Error {
            status: 500,
            code: "systemError".into(),
            message: "system error".into(),
        },
    );
    let body = json!({"confTitle": "once", "userId": seeded::STARTED_HOST}).to_string();
    let output = fake.run(&["api", "createVideoConference", "--body", &body]);
    let err = stderr(&output);
    assert_eq!(exit_code(&output), 7, "{err}");
    assert!(err.contains("code: systemError"), "{err}");
    assert_eq!(
        requests_to(&fake, "POST", "/v1.0/conference/videoConferences"),
        1
    );
}

#[test]
fn the_help_lists_every_operation_and_each_operations_parameters() {
    let output = run(&["api", "--help"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let help = stdout(&output);
    let spec = spec();
    for (_, item) in spec["paths"].as_object().expect("paths") {
        for (_, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().expect("an operationId");
            let summary = operation["summary"].as_str().expect("a summary");
            assert!(
                help.lines()
                    .any(|line| line.contains(id) && line.contains(summary)),
                "{id}: {help}"
            );
        }
    }

    let output = run(&["api", "queryCloudRecordText", "--help"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let help = stdout(&output);
    // The operation's own part, before the global options every command shares.
    let own = help.split("\nConnection:").next().unwrap_or_default();
    insta::assert_snapshot!("api_query_cloud_record_text_help", own);

    let output = run(&["api", "createVideoConference", "--help"]);
    let help = stdout(&output);
    for field in ["confTitle", "inviteCaller", "inviteUserIds", "userId"] {
        assert!(help.contains(field), "{field}: {help}");
    }
    assert!(help.contains("confTitle  string, required"), "{help}");
}
