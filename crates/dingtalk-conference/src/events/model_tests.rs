//! The typed events against every example DingTalk publishes (copied byte for byte, the
//! docs' own errors included, into `tests/data/events/`), and the tolerant parser's edges.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::{AttendStatus, BizType, DeviceType, FlashMinutesBizType};

/// One documented event type and its three published examples: Stream mode (the SDKs'
/// envelope with `data`), HTTP push (decrypted, flat) and RDS/SyncHTTP (`biz_data`).
struct Examples {
    event_type: &'static str,
    stream: &'static str,
    http: &'static str,
    rds: &'static str,
}

macro_rules! examples {
    ($($name:literal),* $(,)?) => {
        [$(Examples {
            event_type: $name,
            stream: include_str!(concat!("../../tests/data/events/", $name, ".stream.json")),
            http: include_str!(concat!("../../tests/data/events/", $name, ".http.json")),
            rds: include_str!(concat!("../../tests/data/events/", $name, ".rds.json")),
        }),*]
    };
}

const EXAMPLES: [Examples; 8] = examples![
    "flash_minutes_open_event",
    "flash_minutes_open_event_directed",
    "meeting_asr_result_event",
    "meeting_asr_result_event_directed",
    "meeting_member_status_change",
    "meeting_member_status_change_target_push",
    "meeting_status_change",
    "meeting_status_change_target_push",
];

fn stream_event(text: &str) -> Event {
    serde_json::from_str(text).expect("the Stream example's envelope")
}

fn ms(millis: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis)
}

#[test]
fn every_documented_event_type_has_examples_and_a_typed_variant() {
    let documented: Vec<&str> = EXAMPLES.iter().map(|e| e.event_type).collect();
    assert_eq!(documented, EVENT_TYPES);
    for event_type in EVENT_TYPES {
        let kind = ConferenceEvent::parse(event_type, "{}");
        assert!(
            !matches!(kind, ConferenceEvent::Unknown { .. }),
            "{event_type}: {kind:?}"
        );
    }
}

#[test]
fn the_three_published_forms_of_each_event_type_the_same() {
    for example in &EXAMPLES {
        let stream = stream_event(example.stream);
        assert_eq!(stream.event_type, example.event_type);
        assert_eq!(stream.id, "c7c7120f2c07419**ebdba0318c8");
        assert_eq!(stream.corp_id.as_deref(), Some("ding9f50b15bxxxx16741"));
        assert_eq!(stream.born_at, ms(1_683_533_823_336));
        assert!(
            !matches!(stream.kind, ConferenceEvent::Unknown { .. }),
            "{}: {:?}",
            example.event_type,
            stream.kind
        );

        let http = Event::from_http_plaintext(example.http).expect("an event");
        assert_eq!(http.event_type, example.event_type);
        assert_eq!(http.id, stream.id);
        assert_eq!(http.corp_id, stream.corp_id);
        assert_eq!(http.born_at, ms(1_663_143_335_567));
        assert_eq!(http.kind, stream.kind, "{}", example.event_type);
        assert_eq!(http.data, stream.data, "{}", example.event_type);

        // RDS/SyncHTTP (third-party apps; not a delivery this crate receives) names the type
        // `syncAction` inside the payload: its extra keys do not disturb the typing.
        let rds: Value = serde_json::from_str(example.rds).expect("valid JSON");
        let biz_data = rds["biz_data"].clone();
        let sync_action = biz_data["syncAction"]
            .as_str()
            .expect("syncAction")
            .to_owned();
        assert_eq!(sync_action, example.event_type);
        let rds = Event::from_value("rds", sync_action, None, None, biz_data);
        assert_eq!(rds.kind, stream.kind, "{}", example.event_type);
    }
}

#[test]
fn directed_types_share_the_plain_variant_with_directed_set() {
    for example in &EXAMPLES {
        let event = stream_event(example.stream);
        let directed = match event.kind {
            ConferenceEvent::StatusChanged { directed, .. }
            | ConferenceEvent::MemberStatusChanged { directed, .. }
            | ConferenceEvent::TranscriptionResult { directed, .. }
            | ConferenceEvent::MinutesReady { directed, .. } => directed,
            ConferenceEvent::Unknown { .. } => panic!("{}", example.event_type),
        };
        let suffixed = example.event_type.ends_with("_target_push")
            || example.event_type.ends_with("_directed");
        assert_eq!(directed, suffixed, "{}", example.event_type);
    }
}

#[test]
fn a_status_change_with_repeated_keys_and_status_1_on_creation() {
    let event = stream_event(include_str!(
        "../../tests/data/events/meeting_status_change.stream.json"
    ));
    assert_eq!(event.conference_id(), Some("6321*******9b6ed40"));
    assert_eq!(event.kind.seq(), Some(1));
    // `status: 1` means ended in the query API; the scene says the conference was created.
    assert_eq!(
        event.kind.conference_status(),
        Some(ConferenceStatus::Started)
    );
    let ConferenceEvent::StatusChanged {
        conference: Some(conference),
        scene,
        directed: false,
        ..
    } = &event.kind
    else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(scene, &Some(ConferenceScene::Created));
    assert_eq!(conference.status, Some(ConferenceStatus::Ended));
    // Repeated inside `openConfModel`: read once, not refused.
    assert_eq!(
        conference.calendar_event_id.as_deref(),
        Some("UUNoaGV5*****md3UT09")
    );
    assert_eq!(conference.biz_scene.as_deref(), Some("autoCall"));
    // `bizType` as a string here.
    assert_eq!(conference.biz_type, Some(BizType::Scheduled));
    assert_eq!(conference.title.as_deref(), Some("开放会议"));
    assert_eq!(conference.start_time, ms(1_684_215_608_570));
    assert_eq!(conference.duration, Some(Duration::from_millis(1000)));
    assert_eq!(
        (
            conference.invited_count,
            conference.active_count,
            conference.attended_count
        ),
        (Some(10), Some(10), Some(6))
    );
    assert_eq!(
        conference.schedule_conference_id.as_deref(),
        Some("f2fbaa7d-xxxx-45d6")
    );
}

#[test]
fn a_target_push_status_change_with_biz_type_as_a_number() {
    let event = stream_event(include_str!(
        "../../tests/data/events/meeting_status_change_target_push.stream.json"
    ));
    let ConferenceEvent::StatusChanged {
        conference: Some(conference),
        directed: true,
        ..
    } = &event.kind
    else {
        panic!("{:?}", event.kind);
    };
    // `bizType: 0` (a number) reads as the string value "0".
    assert_eq!(conference.biz_type, Some(BizType::Instant));
    assert_eq!(
        conference.join_url.as_deref(),
        Some("https://meeting.dingtalk.com/app?roomCode=42726xxx&token=1_7ac9xxx")
    );
    let (start, end) = (
        conference.start_time.expect("start"),
        conference.end_time.expect("end"),
    );
    assert_eq!(
        (end - start).to_std().ok(),
        conference.duration,
        "endTime - startTime = confDuration"
    );
}

#[test]
fn a_member_change_names_its_conference_through_its_members() {
    let event = stream_event(include_str!(
        "../../tests/data/events/meeting_member_status_change.stream.json"
    ));
    assert_eq!(event.conference_id(), Some("6321*******9b6ed40"));
    assert_eq!(event.kind.seq(), Some(2));
    assert_eq!(event.kind.conference_status(), None);
    let ConferenceEvent::MemberStatusChanged {
        members,
        scene: Some(MemberScene::Joined),
        directed: false,
        ..
    } = &event.kind
    else {
        panic!("{:?}", event.kind);
    };
    let [member] = members.as_slice() else {
        panic!("{members:?}");
    };
    assert_eq!(member.union_id.as_deref(), Some("2iPO*********wiEiE"));
    assert_eq!(member.user_nick.as_deref(), Some("会议参会者"));
    assert_eq!(member.attend_status, Some(AttendStatus::InMeeting));
    assert_eq!(
        (member.host, member.co_host, member.pstn_join),
        (Some(false), Some(true), Some(false))
    );
    assert_eq!(member.outer_org_member, None);
    assert_eq!(member.device_type, Some(DeviceType::Android));
    assert_eq!(member.join_time, ms(1_663_143_334_000));
    assert_eq!(member.leave_time, ms(1_663_143_344_000));
    assert_eq!(member.duration, Some(Duration::from_millis(1000)));
}

#[test]
fn a_transcription_reads_numbers_sent_as_strings() {
    let event = stream_event(include_str!(
        "../../tests/data/events/meeting_asr_result_event.stream.json"
    ));
    assert_eq!(event.conference_id(), Some("67566af32fe07a026db9a940"));
    assert_eq!(event.kind.seq(), None);
    let ConferenceEvent::TranscriptionResult {
        record_id,
        biz_type,
        transcript: Some(transcript),
        header: Some(header),
        timestamp,
        directed: false,
        ..
    } = &event.kind
    else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(record_id.as_deref(), Some("1232141245"));
    // The example's value is the legend itself.
    assert_eq!(
        biz_type,
        &Some(FlashMinutesBizType::Unknown(
            "minutes : 闪记  cloud_record : 云录制".into()
        ))
    );
    assert_eq!(transcript.result.as_deref(), Some("可以听到"));
    assert_eq!(
        transcript.speaker_union_id.as_deref(),
        Some("lmvUrEjpboFrSMtgsiS9V3AiEiE")
    );
    assert_eq!(
        (transcript.index, transcript.time, transcript.begin_time),
        (Some(1), Some(33790), Some(33710))
    );
    let [word] = transcript.words.as_slice() else {
        panic!("{:?}", transcript.words);
    };
    assert_eq!(
        (word.start_time, word.text.as_deref(), word.end_time),
        (Some(32710), Some("可"), Some(32770))
    );
    assert_eq!(header.message_no, Some(39));
    assert_eq!(header.name.as_deref(), Some("TranscriptionResultChanged"));
    assert_eq!(timestamp, &ms(1_733_716_797_727));
}

#[test]
fn flash_minutes_ready_with_its_state_and_task() {
    let event = stream_event(include_str!(
        "../../tests/data/events/flash_minutes_open_event_directed.stream.json"
    ));
    assert_eq!(event.conference_id(), Some("66f100462fe0c1******aa90"));
    let ConferenceEvent::MinutesReady {
        biz_type,
        state,
        task_id,
        directed: true,
        ..
    } = &event.kind
    else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(biz_type, &Some(FlashMinutesBizType::CloudRecord));
    assert_eq!(state, &Some(MinutesState::SummaryGenerated));
    assert_eq!(task_id.as_deref(), Some("115****09"));
    assert_eq!(
        MinutesState::from("video_generated"),
        MinutesState::Unknown("video_generated".into())
    );
}

#[test]
fn the_archived_examples_that_are_not_json_arrive_as_unknown_text() {
    for (event_type, text) in [
        (
            "meeting_status_change",
            include_str!("../../tests/data/events/meeting_status_change.archived-rds.json"),
        ),
        (
            "meeting_member_status_change",
            include_str!("../../tests/data/events/meeting_member_status_change.archived-rds.json"),
        ),
    ] {
        assert!(
            serde_json::from_str::<Value>(text).is_err(),
            "`: :` is invalid"
        );
        let kind = ConferenceEvent::parse(event_type, text);
        let ConferenceEvent::Unknown {
            event_type: kept,
            raw,
        } = &kind
        else {
            panic!("{kind:?}");
        };
        assert_eq!(kept, event_type);
        assert_eq!(raw.as_ref(), &Value::String(text.to_owned()));
        assert_eq!(kind.conference_id(), None);
        assert_eq!(kind.seq(), None);
    }
}

#[test]
fn a_payload_that_does_not_fit_is_unknown_with_its_raw_json() {
    for (event_type, data) in [
        (
            "meeting_status_change",
            json!({"openConfModel": {"conferenceId": "c1", "status": "ended"}, "statusSeqNum": 3}),
        ),
        (
            "meeting_status_change",
            json!({"openConfModel": {"conferenceId": "c1"}, "statusSeqNum": "three"}),
        ),
        (
            "meeting_status_change",
            json!({"openConfModel": {"conferenceId": "c1", "title": ["a"]}}),
        ),
        (
            "meeting_member_status_change",
            json!({"openMemberModels": [{"conferenceId": "c1", "joinTime": {}}]}),
        ),
        (
            "meeting_member_status_change",
            json!({"openMemberModels": [{"conferenceId": "c1", "host": "yes"}]}),
        ),
        (
            "meeting_asr_result_event",
            json!({"openConfModel": {"conferenceId": "c1"}, "payload": "text"}),
        ),
        (
            "meeting_status_change",
            json!({"openConfModel": {"conferenceId": "c1", "activeNum": 4_294_967_296_i64}}),
        ),
    ] {
        let kind = ConferenceEvent::parse(event_type, &data.to_string());
        let ConferenceEvent::Unknown { raw, .. } = &kind else {
            panic!("{data} was typed as {kind:?}");
        };
        assert_eq!(raw.as_ref(), &data);
        // A wait still hears which conference it was about.
        assert_eq!(kind.conference_id(), Some("c1"), "{data}");
    }
    // A list sent as one object does not fit either; no conference is found in it.
    let data = json!({"openMemberModels": {"conferenceId": "c1"}, "changeScene": "user_join"});
    let kind = ConferenceEvent::parse("meeting_member_status_change", &data.to_string());
    assert!(matches!(&kind, ConferenceEvent::Unknown { raw, .. } if raw.as_ref() == &data));
    assert_eq!(kind.conference_id(), None);
}

#[test]
fn undocumented_types_and_payloads_that_are_not_objects_are_unknown() {
    let kind = ConferenceEvent::parse("meeting_room_booked", r#"{"a":1}"#);
    assert_eq!(
        kind,
        ConferenceEvent::Unknown {
            event_type: "meeting_room_booked".into(),
            raw: Arc::new(json!({"a": 1})),
        }
    );
    for data in ["[1,2]", "7", "null", "\"text\"", ""] {
        let kind = ConferenceEvent::parse("meeting_status_change", data);
        assert!(
            matches!(kind, ConferenceEvent::Unknown { .. }),
            "{data}: {kind:?}"
        );
    }
}

#[test]
fn leniency_nulls_empty_text_floats_and_text_booleans() {
    let kind = ConferenceEvent::parse(
        "meeting_member_status_change",
        r#"{"statusSeqNum": " 12 ", "changeScene": null,
            "openMemberModels": [{"conferenceId": 42, "host": "true", "coHost": 0,
              "pstnJoin": null, "duration": "", "attendStatus": 6.0,
              "joinTime": 253402300800000, "leaveTime": -1}]}"#,
    );
    let ConferenceEvent::MemberStatusChanged {
        members,
        scene,
        seq,
        ..
    } = &kind
    else {
        panic!("{kind:?}");
    };
    assert_eq!((*seq, scene), (Some(12), &None));
    let member = &members[0];
    assert_eq!(member.conference_id.as_deref(), Some("42"));
    assert_eq!(
        (member.host, member.co_host, member.pstn_join),
        (Some(true), Some(false), None)
    );
    assert_eq!(member.duration, None);
    assert_eq!(member.attend_status, Some(AttendStatus::Left));
    // A time past the year 9999 reads as absent (with a warning), not as Unknown.
    assert_eq!(member.join_time, None);
    assert_eq!(member.leave_time, ms(-1));
    assert_eq!(
        ConferenceEvent::parse(
            "meeting_member_status_change",
            r#"{"openMemberModels":null}"#
        ),
        ConferenceEvent::parse("meeting_member_status_change", "{}")
    );
}

#[test]
fn the_scene_decides_the_status_an_unknown_scene_decides_nothing() {
    let status = |scene: &str| {
        ConferenceEvent::parse(
            "meeting_status_change_target_push",
            &json!({"changeScene": scene, "openConfModel": {"status": 2}}).to_string(),
        )
        .conference_status()
    };
    assert_eq!(
        status("conference_created"),
        Some(ConferenceStatus::Started)
    );
    assert_eq!(status("conference_closed"), Some(ConferenceStatus::Ended));
    assert_eq!(status("conference_locked"), None);
    assert_eq!(
        ConferenceScene::from("conference_locked"),
        ConferenceScene::Unknown("conference_locked".into())
    );
    assert_eq!(ConferenceScene::Closed.to_string(), "closed");
    assert_eq!(MemberScene::Kicked.as_str(), "user_kicked");
}

#[test]
fn http_plaintext_that_is_not_an_event_is_refused_without_quoting_it() {
    for text in [
        "not json",
        "[1]",
        r#"{"eventId":"e1"}"#,
        r#"{"EventType":7,"eventId":"e1"}"#,
        r#"{"EventType":"meeting_status_change"}"#,
        r#"{"EventType":"meeting_status_change","eventId":"","BizId":null}"#,
    ] {
        let error = Event::from_http_plaintext(text).expect_err(text);
        assert!(
            matches!(error, crate::Error::InvalidInput(_)),
            "{text}: {error:?}"
        );
        assert!(!error.to_string().contains(text), "{error}");
    }
    // BizId ("no business meaning, idempotent") stands in for a missing eventId; ids and
    // times sent as numbers or strings still read.
    let event = Event::from_http_plaintext(
        r#"{"EventType":"meeting_status_change","BizId":1663135567,"EventTime":"1663143335567",
            "changeScene":"conference_closed","openConfModel":{"conferenceId":"c9"}}"#,
    )
    .expect("an event");
    assert_eq!(event.id, "1663135567");
    assert_eq!(event.born_at, ms(1_663_143_335_567));
    assert_eq!(event.corp_id, None);
    assert_eq!(
        event.kind.conference_status(),
        Some(ConferenceStatus::Ended)
    );
    assert_eq!(
        event.data.as_ref(),
        &json!({"changeScene":"conference_closed","openConfModel":{"conferenceId":"c9"}})
    );
}

#[test]
fn serde_round_trips_every_example_in_the_stream_shape() {
    for example in &EXAMPLES {
        let event = stream_event(example.stream);
        let json = serde_json::to_value(&event).expect("encodes");
        assert_eq!(json["eventType"], example.event_type);
        assert!(json.get("eventUnifiedAppId").is_none());
        let back: Event = serde_json::from_value(json).expect("decodes");
        assert_eq!(back, event);
    }
    let unknown = Event::from_parts("e2", "custom", None, None, "not json");
    let back: Event =
        serde_json::from_value(serde_json::to_value(&unknown).expect("encodes")).expect("decodes");
    assert_eq!(back, unknown);
}

#[test]
fn serde_also_reads_streams_wire_form_data_as_a_string_and_times_as_text() {
    let typed = stream_event(include_str!(
        "../../tests/data/events/meeting_member_status_change.stream.json"
    ));
    let wire = json!({
        "eventId": typed.id,
        "eventType": typed.event_type,
        "eventCorpId": typed.corp_id,
        "eventBornTime": "1683533823336",
        "data": typed.data.to_string(),
    });
    let event: Event = serde_json::from_value(wire).expect("decodes");
    assert_eq!(event, typed);
}

/// Any JSON value, a few levels deep, with the keys the payloads use among random ones.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("openConfModel".to_string()),
        Just("openMemberModels".to_string()),
        Just("conferenceId".to_string()),
        Just("statusSeqNum".to_string()),
        Just("changeScene".to_string()),
        Just("payload".to_string()),
        Just("words".to_string()),
        Just("startTime".to_string()),
        Just("host".to_string()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        any::<i64>().prop_map(|n| Value::String(n.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parsing_never_panics_and_unknown_keeps_the_payload(
        index in 0..EVENT_TYPES.len(),
        data in any_json(),
    ) {
        let text = data.to_string();
        let kind = ConferenceEvent::parse(EVENT_TYPES[index], &text);
        if let ConferenceEvent::Unknown { raw, .. } = &kind {
            // As serde_json reads the text back (its float parsing may round differently).
            let reread: Value = serde_json::from_str(&text).expect("JSON");
            prop_assert_eq!(raw.as_ref(), &reread);
        }
        let _ = (kind.conference_id(), kind.seq(), kind.conference_status());
    }

    #[test]
    fn serde_round_trips_any_event(
        index in 0..EVENT_TYPES.len(),
        data in any_json(),
        born in proptest::option::of(0..253_402_300_799_999_i64),
    ) {
        // As serde_json reads it (its float parsing may round differently).
        let data: Value = serde_json::from_str(&data.to_string()).expect("JSON");
        let event = Event::from_value("e1", EVENT_TYPES[index], Some("corp".into()), born, data);
        let back: Event = serde_json::from_value(serde_json::to_value(&event).expect("encodes"))
            .expect("decodes");
        prop_assert_eq!(back, event);
    }

    #[test]
    fn any_text_parses_without_panicking(index in 0..EVENT_TYPES.len(), text in ".{0,64}") {
        let kind = ConferenceEvent::parse(EVENT_TYPES[index], &text);
        let _ = kind.conference_id();
        let _ = Event::from_http_plaintext(&text);
    }

    #[test]
    fn a_number_reads_the_same_sent_as_a_string(seq in any::<i64>(), attend in any::<i32>()) {
        let as_number = json!({"statusSeqNum": seq,
            "openMemberModels": [{"attendStatus": attend}]});
        let as_text = json!({"statusSeqNum": seq.to_string(),
            "openMemberModels": [{"attendStatus": attend.to_string()}]});
        let a = ConferenceEvent::parse("meeting_member_status_change", &as_number.to_string());
        let b = ConferenceEvent::parse("meeting_member_status_change", &as_text.to_string());
        prop_assert_eq!(a.seq(), Some(seq));
        prop_assert_eq!(a, b);
    }
}
