//! The typed model: every seeded conference decodes, enums and times are typed, serde
//! round-trips DingTalk's JSON, and the model covers every field of the spec.

use std::time::Duration;

use dingtalk_conference::{
    AutoOpenMode, BizType, CloudRecordStatus, ConferenceInfo, ConferenceStatus,
};
use dingtalk_conference_mock::seeded;

use crate::common::{app_client, mock};

#[tokio::test]
async fn every_seeded_conference_decodes_into_the_typed_model() {
    let mock = mock().await;
    let client = app_client(&mock);
    for id in seeded::ALL {
        let info = client.conference_info(id).await.expect("decodes");
        assert_eq!(info.conference_id.as_deref(), Some(id));
        // The typed value and the server's raw value agree field by field.
        let raw = mock.conference(id).expect("seeded");
        assert_eq!(info.to_wire(), raw, "{id}");
    }
}

#[tokio::test]
async fn an_ended_conference_has_typed_status_times_and_duration() {
    let mock = mock().await;
    let info = app_client(&mock)
        .conference_info(seeded::ENDED)
        .await
        .expect("found");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert!(info.has_ended());
    let (start, end) = (info.start_time.expect("start"), info.end_time.expect("end"));
    let raw = mock.conference(seeded::ENDED).expect("seeded");
    assert_eq!(start.timestamp_millis(), raw.start_time.expect("raw start"));
    assert_eq!(
        info.duration,
        raw.conf_duration.map(|ms| Duration::from_millis(ms as u64))
    );
    assert!(end >= start);
}

#[tokio::test]
async fn biz_types_and_extension_apps_are_typed() {
    let mock = mock().await;
    let client = app_client(&mock);
    let audio = client.conference_info(seeded::AUDIO).await.expect("found");
    assert_eq!(audio.biz_type, Some(BizType::Audio));
    let scheduled = client
        .conference_info(seeded::SCHEDULED)
        .await
        .expect("found");
    assert_eq!(scheduled.biz_type, Some(BizType::Scheduled));
    let apps = client
        .conference_info(seeded::WITH_EXTENSION_APPS)
        .await
        .expect("found");
    let modes: Vec<_> = apps
        .extension_app_settings
        .iter()
        .filter_map(|a| a.auto_open_mode)
        .collect();
    assert!(modes.contains(&AutoOpenMode::HostsOnly) && modes.contains(&AutoOpenMode::Everyone));
    let any_recording = futures_any(&client).await;
    assert!(any_recording, "a seeded conference is being recorded");
}

async fn futures_any(client: &dingtalk_conference::Client) -> bool {
    for id in seeded::ALL {
        if client
            .conference_info(id)
            .await
            .expect("found")
            .cloud_record_status
            == Some(CloudRecordStatus::Recording)
        {
            return true;
        }
    }
    false
}

#[test]
fn serde_round_trips_the_seeds_example_in_dingtalks_json_form() {
    let example = serde_json::json!({
        "activeNum": 10, "attendNum": 15, "confDuration": 1000000,
        "conferenceId": "6323dxxxxx", "creatorId": "2iPOLxxxxx", "creatorNick": "小钉",
        "externalLinkUrl": "https://meeting.dingtalk.io/app?roomCode=42726xxx&token=1_7ac9xxx",
        "invitedNum": 20, "startTime": 1664175001000i64, "status": 1, "title": "标题",
        "roomCode": "4272xxxxx", "endTime": 1663294270000i64, "scheduleConferenceId": "4331d******",
        "bizType": "0", "cloudRecordStatus": 0, "cloudRecordOwnerUnionId": "A***EiE",
        "minutesStatus": 0, "minutesOwnerUnionId": "A***EiE",
        "extensionAppSettings": [{"appId": "29****", "appCode": "Coo*****", "autoOpenMode": 0,
            "extensionAppBizData": "****"}]
    });
    let info: ConferenceInfo = serde_json::from_value(example.clone()).expect("decodes");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert_eq!(info.biz_type, Some(BizType::Instant));
    assert_eq!(info.duration, Some(Duration::from_millis(1_000_000)));
    // The published example ends before it starts; kept as published, not "fixed".
    assert!(info.end_time < info.start_time);
    assert_eq!(serde_json::to_value(&info).expect("encodes"), example);

    // The generated client's wire type agrees with the model's own serde.
    let wire: dingtalk_conference::dingtalk_conference_api::types::ConferenceInfo =
        serde_json::from_value(example.clone()).expect("wire decodes");
    assert_eq!(ConferenceInfo::from_wire(wire), info);
}

#[test]
fn the_model_has_every_property_of_the_specs_conf_info_schema() {
    let spec = dingtalk_conference_testkit::spec::load_spec();
    let schema = schemars::schema_for!(ConferenceInfo);
    let model = schema.as_value();
    for (spec_schema, model_schema) in [
        (&spec["components"]["schemas"]["ConferenceInfo"], model),
        (
            &spec["components"]["schemas"]["ExtensionAppSetting"],
            &model["$defs"]["ExtensionAppSetting"],
        ),
    ] {
        let spec_props = spec_schema["properties"]
            .as_object()
            .expect("spec properties");
        let model_props = model_schema["properties"]
            .as_object()
            .expect("model properties");
        for name in spec_props.keys() {
            assert!(
                model_props.contains_key(name),
                "the spec has `{name}` but the facade model does not"
            );
        }
        for name in model_props.keys() {
            assert!(
                spec_props.contains_key(name),
                "the model has `{name}` the spec lacks"
            );
        }
    }
    assert!(
        model["$defs"]["ConferenceStatus"]["type"] == "integer",
        "{model:#}"
    );
}

#[tokio::test]
async fn out_of_range_times_and_negative_durations_read_as_absent_not_as_an_error() {
    let mock = mock().await;
    mock.push_fault(
        dingtalk_conference_mock::FaultScope::NextConferenceRequests(1),
        dingtalk_conference_mock::Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"confInfo":{"title":"kept","status":1,"confDuration":-1,"startTime":9223372036854775807,"endTime":-9223372036854775808}}"#.to_vec(),
        },
    );
    let info = app_client(&mock)
        .conference_info(seeded::STARTED)
        .await
        .expect("the rest of the conference is still readable");
    assert_eq!(info.title.as_deref(), Some("kept"));
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    assert_eq!(
        (info.duration, info.start_time, info.end_time),
        (None, None, None)
    );

    let via_serde: ConferenceInfo =
        serde_json::from_str(r#"{"confDuration":-5,"startTime":253402300800000}"#)
            .expect("decodes");
    assert_eq!((via_serde.duration, via_serde.start_time), (None, None));
}

#[test]
fn an_unknown_variant_holding_a_known_value_equals_the_known_variant() {
    assert_eq!(ConferenceStatus::Unknown(1), ConferenceStatus::Ended);
    assert_eq!(BizType::Unknown("3".into()), BizType::Scheduled);
    assert_ne!(ConferenceStatus::Unknown(9), ConferenceStatus::Ended);
}
