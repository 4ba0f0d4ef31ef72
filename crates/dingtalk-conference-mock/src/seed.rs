//! The conferences a fresh server holds (unless [`MockConfig::seed`](crate::MockConfig) is off).
//!
//! The data is fixed (timestamps in 2026, Beijing office hours) so that snapshot tests stay
//! stable; only scripted status changes bring the real clock in.

use dingtalk_conference_api::types::{ConferenceInfo, ExtensionAppSetting};

/// Ids of the seeded conferences, so tests and docs can name them.
///
/// Every id is a realistic 24-hex-character DingTalk conference id.
pub mod seeded {
    /// A started instant meeting (`status` 2, `bizType` `"0"`), 8 people in it, being recorded
    /// in the cloud (`cloudRecordStatus` 1). Title `产品周会`.
    pub const STARTED: &str = "6323d7568777190142ab9d10";
    /// An ended meeting (`status` 1) with `endTime` and a consistent `confDuration`
    /// (1 h 23 min 45 s), its cloud recording finished. Title `Quarterly planning review`.
    pub const ENDED: &str = "65c6f2a1e4b0c7d93a1f0e27";
    /// A scheduled meeting nobody has joined yet (`status` 0, `bizType` `"3"`).
    /// Title `Design review 设计评审`.
    pub const INITIALISED: &str = "67d3a9c2f1e84b05d6a2c913";
    /// A started scheduled meeting (`bizType` `"3"` with a `scheduleConferenceId`).
    /// Title `研发部月度例会`; its `roomCode` has a leading zero.
    pub const SCHEDULED: &str = "66e1b4d7a9c3f20857e4b6a0";
    /// A started voice call (`bizType` `"audio_conf"`). Title `Quick sync (voice)`.
    pub const AUDIO: &str = "64f0c8e3b2a7d61945c0d8f1";
    /// A started meeting with two extension apps (`autoOpenMode` 1 and 2).
    /// Title `客户演示 Customer demo`.
    pub const WITH_EXTENSION_APPS: &str = "68a2e5f0c7b9d43186f1a5c2";
    /// An old ended meeting (2022) that still carries the deprecated `minutesStatus` and
    /// `minutesOwnerUnionId`, which DingTalk no longer returns for new meetings.
    pub const LEGACY: &str = "6331a0b9e2d4c87f105b3e6d";

    /// Every seeded id, in a fixed order.
    pub const ALL: [&str; 7] = [
        STARTED,
        ENDED,
        INITIALISED,
        SCHEDULED,
        AUDIO,
        WITH_EXTENSION_APPS,
        LEGACY,
    ];
}

fn s(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn link(room_code: &str, token: &str) -> Option<String> {
    Some(format!(
        "https://meeting.dingtalk.io/app?roomCode={room_code}&token={token}"
    ))
}

/// The seeded conferences, in the order of [`seeded::ALL`].
pub(crate) fn conferences() -> Vec<ConferenceInfo> {
    // 2026-03-02 10:00 +08:00.
    const MONDAY_10: i64 = 1_772_416_800_000;
    // 2026-02-10 14:00 +08:00 and 15:23:45 +08:00.
    const PLANNING_START: i64 = 1_770_703_200_000;
    const PLANNING_END: i64 = 1_770_708_225_000;
    // 2026-03-16 09:30 +08:00.
    const DESIGN_REVIEW: i64 = 1_773_624_600_000;
    // 2026-03-02 09:30 +08:00, 10:15 +08:00 and 11:00 +08:00.
    const MONDAY_0930: i64 = 1_772_415_000_000;
    const MONDAY_1015: i64 = 1_772_417_700_000;
    const MONDAY_11: i64 = 1_772_420_400_000;
    // 2022-09-26 14:50:01 +08:00 and 16:04:31 +08:00.
    const LEGACY_START: i64 = 1_664_175_001_000;
    const LEGACY_END: i64 = 1_664_179_471_000;

    vec![
        ConferenceInfo {
            conference_id: s(seeded::STARTED),
            title: s("产品周会"),
            status: Some(2),
            biz_type: s("0"),
            creator_id: s("iPOL2rN3XkF9mQb8sT0uViiE"),
            creator_nick: s("小钉"),
            room_code: s("427261183"),
            external_link_url: link("427261183", "1_7ac9c2e1f04b"),
            start_time: Some(MONDAY_10),
            active_num: Some(8),
            attend_num: Some(12),
            invited_num: Some(15),
            cloud_record_status: Some(1),
            cloud_record_owner_union_id: s("iPOL2rN3XkF9mQb8sT0uViiE"),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::ENDED),
            title: s("Quarterly planning review"),
            status: Some(1),
            biz_type: s("0"),
            creator_id: s("Xq7TnW2bLs9vRk4mPz1cAgiE"),
            creator_nick: s("Alice Chen"),
            room_code: s("583920174"),
            external_link_url: link("583920174", "1_3f8d0b6a91ce"),
            start_time: Some(PLANNING_START),
            end_time: Some(PLANNING_END),
            conf_duration: Some(PLANNING_END - PLANNING_START),
            active_num: Some(0),
            attend_num: Some(23),
            invited_num: Some(25),
            cloud_record_status: Some(3),
            cloud_record_owner_union_id: s("Xq7TnW2bLs9vRk4mPz1cAgiE"),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::INITIALISED),
            title: s("Design review 设计评审"),
            status: Some(0),
            biz_type: s("3"),
            schedule_conference_id: s("4331d8e2a7f6b0c95e3d1a48"),
            creator_id: s("Ht5YcE8dJw3nUo6qGf2rBkiE"),
            creator_nick: s("王芳"),
            room_code: s("316058427"),
            external_link_url: link("316058427", "1_9e2a47c0d5b3"),
            start_time: Some(DESIGN_REVIEW),
            active_num: Some(0),
            attend_num: Some(0),
            invited_num: Some(6),
            cloud_record_status: Some(0),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::SCHEDULED),
            title: s("研发部月度例会"),
            status: Some(2),
            biz_type: s("3"),
            schedule_conference_id: s("4402e6b1c9d8a7f3205e4b91"),
            creator_id: s("Nb4KsV7gQe1tYx9hMa3pDliE"),
            creator_nick: s("李雷"),
            room_code: s("042726118"),
            external_link_url: link("042726118", "1_b71e5c0f3a28"),
            start_time: Some(MONDAY_0930),
            active_num: Some(31),
            attend_num: Some(36),
            invited_num: Some(40),
            cloud_record_status: Some(0),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::AUDIO),
            title: s("Quick sync (voice)"),
            status: Some(2),
            biz_type: s("audio_conf"),
            creator_id: s("Rm8PdA2fTz5wLc0vSe6kHqiE"),
            creator_nick: s("Bob Li"),
            room_code: s("759301846"),
            external_link_url: link("759301846", "1_0c4d9f8e2b61"),
            start_time: Some(MONDAY_1015),
            active_num: Some(3),
            attend_num: Some(3),
            invited_num: Some(4),
            cloud_record_status: Some(0),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::WITH_EXTENSION_APPS),
            title: s("客户演示 Customer demo"),
            status: Some(2),
            biz_type: s("0"),
            creator_id: s("Gw1ZuC6hNr8bXs3jKd5tEfiE"),
            creator_nick: s("张伟"),
            room_code: s("861473205"),
            external_link_url: link("861473205", "1_e58a1d2c7f09"),
            start_time: Some(MONDAY_11),
            active_num: Some(5),
            attend_num: Some(6),
            invited_num: Some(10),
            cloud_record_status: Some(2),
            cloud_record_owner_union_id: s("Gw1ZuC6hNr8bXs3jKd5tEfiE"),
            extension_app_settings: Some(vec![
                ExtensionAppSetting {
                    app_id: s("2913574608"),
                    app_code: s("COOLAPP-1-102D5A3F0B7E4C91"),
                    auto_open_mode: Some(1),
                    extension_app_biz_data: s(r#"{"agenda":"demo","hostOnly":true}"#),
                },
                ExtensionAppSetting {
                    app_id: s("2913574611"),
                    app_code: s("COOLAPP-1-27C48E9A1D3B5F06"),
                    auto_open_mode: Some(2),
                    extension_app_biz_data: s("vote:round-1"),
                },
            ]),
            ..ConferenceInfo::default()
        },
        ConferenceInfo {
            conference_id: s(seeded::LEGACY),
            title: s("标题"),
            status: Some(1),
            biz_type: s("0"),
            creator_id: s("2iPOLbVx7Qk3Nw9Dt1sYmAiE"),
            creator_nick: s("小钉"),
            room_code: s("427260935"),
            external_link_url: link("427260935", "1_7ac9d0f3b2e4"),
            start_time: Some(LEGACY_START),
            end_time: Some(LEGACY_END),
            conf_duration: Some(LEGACY_END - LEGACY_START),
            active_num: Some(0),
            attend_num: Some(15),
            invited_num: Some(20),
            cloud_record_status: Some(0),
            minutes_status: Some(3),
            minutes_owner_union_id: s("2iPOLbVx7Qk3Nw9Dt1sYmAiE"),
            ..ConferenceInfo::default()
        },
    ]
}
