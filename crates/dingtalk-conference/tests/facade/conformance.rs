//! Conformance, driven by generated instances of the spec's schema: the facade decodes every
//! response the spec allows, keeps every raw value, and answers anything else with a typed
//! error. Each case is a real HTTP exchange with the fake server.

use dingtalk_conference::dingtalk_conference_api::types as wire;
use dingtalk_conference::{Client, Error, RetryPolicy};
use dingtalk_conference_mock::{Fault, FaultScope, MockServer, seeded};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

// The spec's bounds, generated from it: `startTime`/`endTime` span years 0000 to 9999 in epoch
// milliseconds, `confDuration` is never negative.
use dingtalk_conference::dingtalk_conference_api::spec_constants::{
    CONFERENCE_INFO_CONF_DURATION_MINIMUM, CONFERENCE_INFO_END_TIME_MAXIMUM,
    CONFERENCE_INFO_END_TIME_MINIMUM, CONFERENCE_INFO_START_TIME_MAXIMUM,
    CONFERENCE_INFO_START_TIME_MINIMUM,
};

fn any_string() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[0-9a-f]{24}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        Just(Value::from("")),
    ]
}

fn int32() -> impl Strategy<Value = Value> {
    any::<i32>().prop_map(Value::from)
}

/// An object with each `(key, strategy)` present or absent.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> impl Strategy<Value = Value> {
    fields
        .into_iter()
        .map(|(key, value)| proptest::option::of(value).prop_map(move |v| (key, v)))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            let map: Map<String, Value> = pairs
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (key.to_string(), v)))
                .collect();
            Value::Object(map)
        })
}

fn extension_app_setting() -> impl Strategy<Value = Value> {
    object(vec![
        ("appId", any_string().boxed()),
        ("appCode", any_string().boxed()),
        ("autoOpenMode", int32().boxed()),
        ("extensionAppBizData", any_string().boxed()),
    ])
}

/// Any `confInfo` the spec allows (plus, sometimes, a key it does not name: the spec does not
/// forbid extra keys).
fn conf_info() -> impl Strategy<Value = Value> {
    let time = |min, max| (min..=max).prop_map(Value::from).boxed();
    let settings = prop_oneof![
        Just(Value::Null),
        proptest::collection::vec(extension_app_setting(), 0..3).prop_map(Value::from),
    ];
    let known = object(vec![
        ("activeNum", int32().boxed()),
        ("attendNum", int32().boxed()),
        (
            "confDuration",
            (CONFERENCE_INFO_CONF_DURATION_MINIMUM..=i64::MAX)
                .prop_map(Value::from)
                .boxed(),
        ),
        ("conferenceId", any_string().boxed()),
        ("creatorId", any_string().boxed()),
        ("creatorNick", any_string().boxed()),
        ("externalLinkUrl", any_string().boxed()),
        ("invitedNum", int32().boxed()),
        (
            "startTime",
            time(
                CONFERENCE_INFO_START_TIME_MINIMUM,
                CONFERENCE_INFO_START_TIME_MAXIMUM,
            ),
        ),
        ("status", int32().boxed()),
        ("title", any_string().boxed()),
        ("roomCode", "[0-9]{0,12}".prop_map(Value::from).boxed()),
        (
            "endTime",
            time(
                CONFERENCE_INFO_END_TIME_MINIMUM,
                CONFERENCE_INFO_END_TIME_MAXIMUM,
            ),
        ),
        ("scheduleConferenceId", any_string().boxed()),
        (
            "bizType",
            prop_oneof![
                Just(json!("0")),
                Just(json!("3")),
                Just(json!("audio_conf")),
                any_string()
            ]
            .boxed(),
        ),
        ("cloudRecordStatus", int32().boxed()),
        ("cloudRecordOwnerUnionId", any_string().boxed()),
        ("minutesStatus", int32().boxed()),
        ("minutesOwnerUnionId", any_string().boxed()),
        ("extensionAppSettings", settings.boxed()),
    ]);
    (known, proptest::option::of(("[a-z]{3,8}X", any_string()))).prop_map(|(mut info, extra)| {
        if let (Some((key, value)), Some(map)) = (extra, info.as_object_mut()) {
            map.insert(key, value);
        }
        info
    })
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
            .build()
            .expect("valid client");
        Self {
            runtime,
            mock,
            client,
        }
    }

    fn answer(
        &self,
        status: u16,
        body: Vec<u8>,
    ) -> Result<dingtalk_conference::ConferenceInfo, Error> {
        self.mock.push_fault(
            FaultScope::NextConferenceRequests(1),
            Fault::Body {
                status,
                content_type: "application/json".into(),
                body,
            },
        );
        self.runtime
            .block_on(self.client.conference_info(seeded::STARTED))
    }
}

/// `Some([])` and `None` are the same answer (no extension apps).
fn normalise(mut info: wire::ConferenceInfo) -> wire::ConferenceInfo {
    if info
        .extension_app_settings
        .as_ref()
        .is_some_and(Vec::is_empty)
    {
        info.extension_app_settings = None;
    }
    info
}

#[test]
fn every_response_the_spec_allows_decodes_and_keeps_its_raw_values() {
    let harness = Harness::new();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&conf_info(), |info| {
            let body = serde_json::to_vec(&json!({ "confInfo": info })).expect("serializes");
            let decoded = harness
                .answer(200, body)
                .map_err(|e| TestCaseError::fail(format!("valid answer refused: {e}\n{info}")))?;
            let raw: wire::ConferenceInfo =
                serde_json::from_value(info.clone()).expect("the generated type reads it");
            prop_assert_eq!(normalise(decoded.to_wire()), normalise(raw));
            Ok(())
        })
        .expect("every valid answer decodes");
    assert!(
        harness.mock.counters().conference_requests >= 256,
        "each case went over HTTP"
    );
}

#[test]
fn any_bytes_with_any_status_give_a_typed_answer_never_a_panic() {
    let harness = Harness::new();
    let mut runner = TestRunner::new(Config {
        cases: 256,
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
        conf_info().prop_map(|i| {
            // Valid JSON, wrong places: the info without its wrapper, or in an error body.
            serde_json::to_vec(&i).expect("serializes")
        }),
    ];
    runner
        .run(&(statuses, bodies), |(status, body)| {
            let result = harness.answer(status, body);
            if let Err(e) = &result {
                prop_assert!(!e.to_string().is_empty());
            }
            if status != 200 {
                prop_assert!(result.is_err(), "an error status decoded as a conference");
            }
            Ok(())
        })
        .expect("typed answers only");
    assert!(
        harness.mock.counters().conference_requests >= 256,
        "each case went over HTTP"
    );
}
