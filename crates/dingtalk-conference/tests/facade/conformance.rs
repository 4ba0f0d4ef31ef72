//! Conformance, driven by the spec itself: for every operation the facade wraps, random
//! answers built from the operation's response schema (every property present or absent,
//! integers within the spec's bounds, lists, `null` where the spec allows it, and a key the
//! spec does not name) are served by the fake server over HTTP; the facade must decode each
//! one and keep every raw value. Any bytes with any status must give a typed answer, never a
//! panic. The strategies follow from `spec/dingtalk-conference.yaml`: a new field or a new
//! operation's schema is covered with no change here.

use crate::common::at;
use std::collections::BTreeSet;

use dingtalk_conference::{
    AutoLogin, Client, CloudRecordVideo, CloudRecording, CohostChange, ConferenceSettings, Error,
    FlashMinutesBizType, Focus, Invitation, Kick, LockAction, McuInvitation, MemberNick,
    MetricMembers, MinutesPause, MinutesShare, MuteAll, MuteMember, NewConference, NewMinutes,
    NewSchedule, NewShortLink, RecordAllowListChange, RetryPolicy, ScheduleCancellation,
    ScheduleSettingsUpdate, ScheduleUpdate, StopCloudRecording, StreamOut, StreamStop,
    SubtitleEvents, TranscriptQuery,
};
use dingtalk_conference_mock::{Fault, FaultScope, MockServer};
use dingtalk_conference_testkit::spec::load_spec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// A key no schema names: DingTalk may add fields, and the spec does not forbid extra keys.
const EXTRA_KEY: &str = "fieldDingTalkAddsLater";
const CONFERENCE: &str = "6323d7568777190142ab9d10";
const CASES: u32 = 64;

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Any JSON the schema allows.
fn instance(spec: &Value, schema: &Value) -> BoxedStrategy<Value> {
    let schema = resolve(spec, schema);
    let value = match schema["type"].as_str() {
        // A map: any keys, each value what `additionalProperties` allows (no extra key, since
        // every key is one of the map's).
        Some("object") if schema["additionalProperties"].is_object() => {
            proptest::collection::btree_map(
                "[a-zA-Z0-9]{1,24}",
                instance(spec, &schema["additionalProperties"]),
                0..3,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect()))
            .boxed()
        }
        Some("object") => {
            let properties: Vec<(String, BoxedStrategy<Value>)> = schema["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(key, property)| (key.clone(), instance(spec, property)))
                        .collect()
                })
                .unwrap_or_default();
            let required: BTreeSet<String> = schema["required"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
                .into_iter()
                .map(|(key, strategy)| {
                    if required.contains(&key) {
                        strategy.prop_map(move |v| Some((key.clone(), v))).boxed()
                    } else {
                        proptest::option::of(strategy.prop_map(move |v| (key.clone(), v))).boxed()
                    }
                })
                .collect();
            (fields, proptest::bool::weighted(0.2), any::<String>())
                .prop_map(|(fields, extra, extra_value)| {
                    let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
                    if extra {
                        map.insert(EXTRA_KEY.to_string(), Value::from(extra_value));
                    }
                    Value::Object(map)
                })
                .boxed()
        }
        Some("array") => proptest::collection::vec(instance(spec, &schema["items"]), 0..3)
            .prop_map(Value::from)
            .boxed(),
        Some("integer") => {
            let wide = schema["format"].as_str() == Some("int64");
            let low = schema["minimum"].as_i64().unwrap_or(if wide {
                i64::MIN
            } else {
                i64::from(i32::MIN)
            });
            let high = schema["maximum"].as_i64().unwrap_or(if wide {
                i64::MAX
            } else {
                i64::from(i32::MAX)
            });
            (low..=high).prop_map(Value::from).boxed()
        }
        Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
        Some("string") => prop_oneof![
            "[0-9a-f]{24}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            Just(Value::from("")),
        ]
        .boxed(),
        // `{}`: any value (startStreamOut's maps, `map<string, any>` in DingTalk's SDKs); a
        // string or a number here.
        None if schema.as_object().is_some_and(Map::is_empty) => prop_oneof![
            any::<String>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
        ]
        .boxed(),
        other => panic!("the conformance strategy does not know the schema type {other:?}"),
    };
    if schema["nullable"].as_bool() == Some(true) {
        prop_oneof![1 => Just(Value::Null), 4 => value].boxed()
    } else {
        value
    }
}

/// The `200` schema of `operation_id`.
fn success_schema(spec: &Value, operation_id: &str) -> Value {
    spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .find(|op| op["operationId"] == operation_id)
        .map(|op| op["responses"]["200"]["content"]["application/json"]["schema"].clone())
        .unwrap_or_else(|| panic!("the spec has no operation {operation_id}"))
}

/// The same answer as the facade writes it back: `null`, empty lists and keys no schema
/// names are what the facade reads as absent.
fn normalise(value: &Value) -> Value {
    match value {
        // Children first: a nested object whose fields are all null is empty once normalised,
        // and reads as absent like any empty one.
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != EXTRA_KEY)
                .map(|(key, v)| (key.clone(), normalise(v)))
                .filter(|(_, v)| {
                    !v.is_null()
                        && !v.as_array().is_some_and(Vec::is_empty)
                        // An empty map reads as absent too (the facade skips it).
                        && !v.as_object().is_some_and(Map::is_empty)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

/// A runtime, a fake server and a client for the property tests to share.
struct Harness {
    runtime: tokio::runtime::Runtime,
    mock: MockServer,
    client: Client,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mock = runtime.block_on(MockServer::start()).expect("fake server");
        let client = Client::builder()
            .base_url(mock.base_url())
            .app_credentials(
                dingtalk_conference_mock::DEFAULT_APP_KEY,
                dingtalk_conference_mock::DEFAULT_APP_SECRET,
            )
            .retry_policy(RetryPolicy::none())
            // Hundreds of answers per operation: no rate limit, and every call its own request.
            .rate_limit(dingtalk_conference::RateLimit::none())
            .coalesce_reads(false)
            .build()
            .expect("valid client");
        Self {
            runtime,
            mock,
            client,
        }
    }

    /// Serves `status` and `body` to the next request of `operation_id`, and makes the
    /// facade's call for it: the typed answer as JSON (`Null` for a call with no answer).
    fn answer(&self, operation_id: &str, status: u16, body: Vec<u8>) -> Result<Value, Error> {
        self.mock.push_fault(
            FaultScope::Operation {
                operation_id: operation_id.to_string(),
                id: None,
                times: Some(1),
            },
            Fault::Body {
                status,
                content_type: "application/json".into(),
                body,
            },
        );
        let client = &self.client;
        let json = |v: &dyn erased::Json| v.to_json();
        self.runtime.block_on(async move {
            Ok(match operation_id {
                "queryConferenceInfo" => json(&client.conference_info(CONFERENCE).await?),
                "queryConferenceInfoBatch" => {
                    json(&client.conferences_status(&[CONFERENCE]).await?)
                }
                "queryConferenceInfoByRoomCode" => json(
                    &client
                        .conferences_by_room_code("123")
                        .page(None)
                        .await?
                        .items,
                ),
                "queryConferenceMembers" => json(
                    &client
                        .conference_members(CONFERENCE)
                        .page(None)
                        .await?
                        .items,
                ),
                "createVideoConference" => json(
                    &client
                        .create_conference(NewConference::new("iPOLxxxxiEiE", "title"))
                        .await?,
                ),
                "closeVideoConference" => {
                    client.close_conference(CONFERENCE, "iPOLxxxxiEiE").await?;
                    Value::Null
                }
                "queryCloudRecordVideo" => json(&client.recordings(CONFERENCE, "u").await?),
                "queryUserOnGoingConference" => {
                    json(&client.user_ongoing_conferences("iPOLxxxxiEiE").await?)
                }
                "queryCloudRecordVideoPlayInfo" => {
                    let video: CloudRecordVideo =
                        serde_json::from_value(json!({"mediaId": "m", "regionId": "r"}))
                            .expect("a video");
                    json(&client.recording_play_info(CONFERENCE, &video, "u").await?)
                }
                "queryCloudRecordText" => json(
                    &client
                        .transcript(TranscriptQuery::new(CONFERENCE, "u"))
                        .page(None)
                        .await?
                        .items,
                ),
                // part record-stream
                "startCloudRecord" => {
                    client
                        .start_cloud_recording(CONFERENCE, CloudRecording::new("iPOLxxxxiEiE"))
                        .await?;
                    Value::Null
                }
                "stopCloudRecord" => {
                    client
                        .stop_cloud_recording(CONFERENCE, StopCloudRecording::new("iPOLxxxxiEiE"))
                        .await?;
                    Value::Null
                }
                "optRecordWhiteAccount" => {
                    client
                        .change_record_allow_list(
                            RecordAllowListChange::new("iPOLxxxxiEiE", "cloud_record", 1)
                                .range("u", 3),
                        )
                        .await?;
                    Value::Null
                }
                "startStreamOut" => json(
                    &client
                        .start_stream_out(
                            CONFERENCE,
                            StreamOut::new("iPOLxxxxiEiE", "live", "grid", "float_right", false)
                                .url("rtmp://h/k"),
                        )
                        .await?,
                ),
                "stopStreamOut" => {
                    client
                        .stop_stream_out(CONFERENCE, StreamStop::new("iPOLxxxxiEiE", "s", true))
                        .await?;
                    Value::Null
                }
                "GetConfDataByConferenceId" => {
                    json(&client.conference_data(CONFERENCE, true).await?)
                }
                "GetConfDetailData" => json(
                    &client
                        .conference_attendance(CONFERENCE, None)
                        .page(None)
                        .await?
                        .items,
                ),
                // part minutes
                "startMinutes" => json(&client.start_minutes(CONFERENCE, NewMinutes::new()).await?),
                "stopMinutes" => json(
                    &client
                        .pause_minutes(CONFERENCE, MinutesPause::new("u"))
                        .await?,
                ),
                "queryMinutesAudio" => json(&client.minutes_audio(CONFERENCE, "u").await?),
                "queryMinutesText" => json(
                    &client
                        .minutes_text(CONFERENCE, "0", None)
                        .page(None)
                        .await?
                        .items,
                ),
                "GetHistoryConfDataList" => json(
                    &client
                        .conference_history(None, at(1), None, true, None, at(0), None)
                        .page(None)
                        .await?
                        .items,
                ),
                "GetUserLastMetric" => json(
                    &client
                        .last_metrics(CONFERENCE, MetricMembers::new().member("iPOLxxxxiEiE"))
                        .await?,
                ),
                "GetUserMetricData" => json(
                    &client
                        .member_metrics(CONFERENCE, at(0), at(1), "iPOLxxxxiEiE")
                        .await?,
                ),
                // part control: the in-meeting control operations.
                "updateVideoConferenceSetting" => json(
                    &client
                        .update_conference_settings(
                            CONFERENCE,
                            ConferenceSettings::new().lock(true),
                        )
                        .await?,
                ),
                "cohosts" => {
                    client
                        .set_cohosts(CONFERENCE, CohostChange::add(["iPOLxxxxiEiE"]))
                        .await?;
                    Value::Null
                }
                "focus" => {
                    client.focus(CONFERENCE, Focus::on("iPOLxxxxiEiE")).await?;
                    Value::Null
                }
                "inviteUsers" => {
                    client
                        .invite_users(CONFERENCE, Invitation::new().user("iPOLxxxxiEiE", "n"))
                        .await?;
                    Value::Null
                }
                "inviteMcu" => {
                    client
                        .invite_mcu(McuInvitation::new("123", "456", "iPOLxxxxiEiE"))
                        .await?;
                    Value::Null
                }
                "kickMembers" => {
                    client
                        .kick_members(CONFERENCE, Kick::members(["iPOLxxxxiEiE"]))
                        .await?;
                    Value::Null
                }
                "lockConference" => {
                    client.lock_conference(CONFERENCE, LockAction::Lock).await?;
                    Value::Null
                }
                "muteAll" => {
                    client.mute_all(CONFERENCE, MuteAll::on()).await?;
                    Value::Null
                }
                "muteMembers" => {
                    client
                        .mute_member(CONFERENCE, MuteMember::mute("iPOLxxxxiEiE"))
                        .await?;
                    Value::Null
                }
                // part schedule
                "createScheduleConference" => json(
                    &client
                        .schedule_conference(NewSchedule::new(
                            "iPOLxxxxiEiE",
                            "title",
                            at(1_687_924_800_000),
                            at(1_687_928_400_000),
                        ))
                        .await?,
                ),
                "updateScheduleConference" => {
                    client
                        .update_schedule(ScheduleUpdate::new(
                            "iPOLxxxxiEiE",
                            "s1",
                            "title",
                            at(1_687_924_800_000),
                            at(1_687_928_400_000),
                        ))
                        .await?;
                    Value::Null
                }
                "cancelScheduleConference" => {
                    client
                        .cancel_schedule(ScheduleCancellation::new("iPOLxxxxiEiE", "s1"))
                        .await?;
                    Value::Null
                }
                "queryScheduleConference" => json(&client.schedule("s1", "iPOLxxxxiEiE").await?),
                "queryScheduleConferenceInfo" => {
                    json(&client.schedule_conferences("s1").page(None).await?.items)
                }
                "queryScheduleConfSettings" => json(&client.schedule_settings("s1").await?),
                "updateScheduleConfSettings" => {
                    client
                        .update_schedule_settings(ScheduleSettingsUpdate::new("iPOLxxxxiEiE", "s1"))
                        .await?;
                    Value::Null
                }
                "createCustomShortLink" => json(
                    &client
                        .custom_short_link(NewShortLink::new("iPOLxxxxiEiE", "s1", "COOLAPP-1"))
                        .await?,
                ),
                "queryOrgConferenceList" => {
                    json(&client.org_ongoing_conferences().page(None).await?.items)
                }
                "updateVideoConferenceExtInfo" => json(&client.update_ext_info(CONFERENCE).await?),
                "createAutoLoginUrl" => json(
                    &client
                        .auto_login_url(AutoLogin::new(
                            "https://meeting.dingtalk.com/j/123",
                            "iPOLxxxxiEiE",
                        ))
                        .await?,
                ),
                "setSubtitleEvent" => {
                    client
                        .set_subtitle_events(CONFERENCE, SubtitleEvents::new(true))
                        .await?;
                    Value::Null
                }
                "updateMemberNick" => {
                    client
                        .rename_member(CONFERENCE, MemberNick::new("iPOLxxxxiEiE", "nick"))
                        .await?;
                    Value::Null
                }
                "queryMinutesSummary" => json(&client.minutes_summary(CONFERENCE, "u", &[]).await?),
                "queryMinutesMeetingResult" => {
                    json(&client.minutes_meeting_result(CONFERENCE, "u").await?)
                }
                "addRecordPermission" => json(
                    &client
                        .share_minutes(CONFERENCE, MinutesShare::new("minutes", "o", "u"))
                        .await?,
                ),
                "generateFlashMinutesDocumentUrl" => json(
                    &client
                        .minutes_document_url(CONFERENCE, &FlashMinutesBizType::Minutes, "u", None)
                        .await?,
                ),
                "queryFlashMinutesSummary" => json(
                    &client
                        .flash_minutes_summary(CONFERENCE, "minutes", "u")
                        .await?,
                ),
                "queryRecordMinutesUrl" => json(
                    &client
                        .record_minutes_urls(CONFERENCE, "minutes", "u")
                        .await?,
                ),
                other => panic!("no facade call for {other}: add it here"),
            })
        })
    }
}

mod erased {
    /// Anything serializable, as JSON.
    pub(super) trait Json {
        fn to_json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("the model serializes")
        }
    }
}

/// What the facade must return for a valid `answer` of `operation_id`: the part of the answer
/// it hands out, or `None` when the answer lacks what the call promises (an error then).
fn expected(operation_id: &str, answer: &Value) -> Option<Value> {
    let part = |key: &str| normalise(&answer[key]);
    let list = |key: &str| match part(key) {
        Value::Null => json!([]),
        other => other,
    };
    match operation_id {
        "queryConferenceInfo" => answer.get("confInfo").map(normalise),
        "queryConferenceInfoBatch" => Some(list("infos")),
        "queryConferenceInfoByRoomCode" => Some(list("conferenceList")),
        "queryConferenceMembers" => Some(list("memberModels")),
        "createVideoConference" => answer["conferenceId"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(|_| normalise(answer)),
        "closeVideoConference" => match answer.get("code").and_then(Value::as_i64) {
            None | Some(200) => Some(Value::Null),
            Some(_) => None,
        },
        "queryCloudRecordVideo" => Some(list("videoList")),
        "queryCloudRecordText" => Some(list("paragraphList")),
        // part record-stream: `()` whatever `code` says (DingTalk documents only "200").
        "startCloudRecord" | "stopCloudRecord" | "optRecordWhiteAccount" | "stopStreamOut" => {
            Some(Value::Null)
        }
        "GetConfDetailData" | "GetHistoryConfDataList" => Some(list("list")),
        "GetUserMetricData" => Some(list("metricDataList")),
        // part control: `{success}` answers; `success: false` is an error.
        "cohosts" | "focus" | "inviteUsers" | "inviteMcu" | "kickMembers" | "lockConference"
        | "muteAll" | "muteMembers" => match answer.get("success").and_then(Value::as_bool) {
            Some(false) => None,
            _ => Some(Value::Null),
        },
        // part schedule
        "createScheduleConference" => answer["scheduleConferenceId"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(|_| normalise(answer)),
        "updateScheduleConference" | "cancelScheduleConference" | "updateScheduleConfSettings" => {
            match answer.get("success").and_then(Value::as_bool) {
                Some(false) => None,
                _ => Some(Value::Null),
            }
        }
        "queryScheduleConferenceInfo" => Some(list("conferenceList")),
        "queryScheduleConfSettings" => answer.get("scheduleConfSettingModel").map(normalise),
        "createCustomShortLink" => answer.get("result").map(normalise),
        "queryOrgConferenceList" => Some(list("onGoingConfList")),
        "createAutoLoginUrl" => answer.get("loginInfo").map(normalise),
        "setSubtitleEvent" | "updateMemberNick" => match answer.get("success") {
            Some(Value::Bool(false)) => None,
            _ => Some(Value::Null),
        },
        // part minutes
        "queryMinutesAudio" => Some(list("audioList")),
        "queryMinutesText" => Some(list("paragraphList")),
        // An answer without a summary reads as an empty one.
        "queryMinutesSummary" => Some(answer.get("summary").map_or(json!({}), normalise)),
        "queryFlashMinutesSummary" => answer.get("flashMinutesSummary").map(normalise),
        "queryRecordMinutesUrl" => Some(list("recordMinutesUrls")),
        _ => Some(normalise(answer)),
    }
}

/// Every operation the facade calls that is not a token endpoint.
fn wrapped_operations(spec: &Value) -> Vec<String> {
    let mut ids: Vec<String> = spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter(|op| op["security"].as_array().is_none_or(|s| !s.is_empty()))
        .filter_map(|op| op["operationId"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_answer_the_spec_allows_decodes_and_keeps_its_raw_values_for_every_operation() {
    let spec = load_spec();
    let harness = Harness::new();
    let operations = wrapped_operations(&spec);
    assert_eq!(operations.len(), 52, "{operations:?}");
    for operation in &operations {
        let schema = success_schema(&spec, operation);
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&instance(&spec, &schema), |answer| {
                let body = serde_json::to_vec(&answer).expect("serializes");
                let result = harness.answer(operation, 200, body);
                match (expected(operation, &answer), result) {
                    (Some(want), Ok(got)) => prop_assert_eq!(normalise(&got), want),
                    (None, Err(e)) => prop_assert!(matches!(e, Error::Decode { .. }), "{e:?}"),
                    (want, got) => {
                        return Err(TestCaseError::fail(format!(
                            "{operation}: expected {want:?}, got {got:?} for {answer}"
                        )));
                    }
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
    }
    let served = harness.mock.counters().faults_served;
    assert!(
        served >= u64::from(CASES) * operations.len() as u64,
        "each case went over HTTP ({served} answers served)"
    );
}

#[test]
fn any_bytes_with_any_status_give_a_typed_answer_never_a_panic_for_every_operation() {
    let spec = load_spec();
    let harness = Harness::new();
    for operation in wrapped_operations(&spec) {
        let schema = success_schema(&spec, &operation);
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let statuses = prop_oneof![
            Just(200u16),
            Just(400),
            Just(403),
            Just(404),
            Just(429),
            Just(500),
            Just(503)
        ];
        let bodies = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            any::<String>().prop_map(String::into_bytes),
            // Valid JSON of the right shape, served with any status.
            instance(&spec, &schema).prop_map(|v| serde_json::to_vec(&v).expect("serializes")),
        ];
        runner
            .run(&(statuses, bodies), |(status, body)| {
                let result = harness.answer(&operation, status, body);
                if let Err(e) = &result {
                    prop_assert!(!e.to_string().is_empty());
                }
                if status != 200 {
                    prop_assert!(
                        result.is_err(),
                        "{operation}: an error status decoded as an answer"
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
    }
}

#[test]
fn a_nested_object_of_nulls_normalises_to_absent_like_an_empty_one() {
    // The case a property run found: a schedule's settings whose only nested field is null.
    let answer = json!({"moziConfVirtualExtraSetting": {"moziConfExtensionAppSettings": null}});
    assert_eq!(normalise(&answer), json!({}));
    let kept = json!({"a": {"b": null, "c": 1}, "d": [], "e": {}});
    assert_eq!(normalise(&kept), json!({"a": {"c": 1}}));
}
