//! The conferences a fresh server holds (unless [`MockConfig::seed`](crate::MockConfig) is off).
//!
//! The data is fixed (timestamps in 2026, Beijing office hours) so that snapshot tests stay
//! stable; only scripted status changes bring the real clock in.

use dingtalk_conference_api::types::{
    CloudRecordVideo, ConferenceInfo, ConferenceMember, ExtensionAppSetting, TranscriptParagraph,
    TranscriptSentence, TranscriptWord,
};

use crate::state::{MemberRecord, Recording, ScheduleRecord};

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
    /// The February instance (ended) of the monthly meeting whose March instance is
    /// [`SCHEDULED`]: same title, `scheduleConferenceId` and [`RECURRING_ROOM_CODE`].
    pub const RECURRING_FEBRUARY: &str = "6597c3e0b8d1a24f6c0e9b72";
    /// The January instance (ended) of the same monthly meeting as [`RECURRING_FEBRUARY`].
    pub const RECURRING_JANUARY: &str = "6579a1c4e6f2b03d8a5c7e14";

    /// Every seeded id, in a fixed order.
    pub const ALL: [&str; 9] = [
        STARTED,
        ENDED,
        INITIALISED,
        SCHEDULED,
        AUDIO,
        WITH_EXTENSION_APPS,
        LEGACY,
        RECURRING_FEBRUARY,
        RECURRING_JANUARY,
    ];

    /// The room code of a recurring scheduled meeting with three instances:
    /// [`RECURRING_JANUARY`] and [`RECURRING_FEBRUARY`] (ended) and [`SCHEDULED`] (started),
    /// listed in that order (oldest first) by `queryConferenceInfoByRoomCode`. It has a
    /// leading zero.
    pub const RECURRING_ROOM_CODE: &str = "042726118";

    /// The creator, and so the host, of [`ENDED`]: a unionId, the one `closeVideoConference`
    /// would accept for it and the owner of its cloud recording. Any non-blank `unionId` may
    /// read the recording.
    pub const ENDED_HOST: &str = "Xq7TnW2bLs9vRk4mPz1cAgiE";

    /// The creator, and so the host, of [`STARTED`]: the `unionId` that may close it.
    pub const STARTED_HOST: &str = "iPOL2rN3XkF9mQb8sT0uViiE";

    // part control: members of [`STARTED`] that in-meeting control tests can name.

    /// A co-host of [`STARTED`] (its second member), in the conference.
    pub const STARTED_COHOST: &str = "j7E35kPcIHrmwrVJpCHoTciE";

    /// Participants of [`STARTED`] in the conference who are neither host nor co-host (its
    /// third, fourth and fifth members; the fourth joined by phone).
    pub const STARTED_PARTICIPANTS: [&str; 3] = [
        "itqSb5yB5qtYOFs1aGtwPQiE",
        "2yz150RKqfCyERlS0vgtlUiE",
        "lOegcNr0Vlp0RR9c28ghXniE",
    ];

    /// [`STARTED`]'s room code, which `inviteMcu` addresses it by; its share link
    /// `https://meeting.dingtalk.com/j/427261183` is one `createAutoLoginUrl` accepts.
    pub const STARTED_ROOM_CODE: &str = "427261183";

    /// How many member records [`STARTED`] has (`queryConferenceMembers`' `totalCount`): 8 in
    /// it, 3 who left, 1 removed, 1 who declined, 2 still being called.
    pub const STARTED_MEMBERS: usize = 15;

    /// How many video files [`ENDED`]'s cloud recording has: a recording (`recordType` 0) and
    /// a composed file (1), sharing one `recordId`.
    pub const ENDED_VIDEOS: usize = 2;

    /// How many transcript paragraphs [`ENDED`]'s cloud recording has.
    pub const ENDED_PARAGRAPHS: usize = 8;

    // part schedule
    /// The scheduled conference of [`INITIALISED`] (`Design review 设计评审`, 2026-03-16
    /// 09:30–10:30 +08:00), created by [`SCHEDULE_CREATOR`]; nobody has joined it yet.
    pub const SCHEDULE_DESIGN_REVIEW: &str = "4331d8e2a7f6b0c95e3d1a48";
    /// The scheduled monthly meeting whose instances are [`RECURRING_JANUARY`],
    /// [`RECURRING_FEBRUARY`] (ended) and [`SCHEDULED`] (in progress), on
    /// [`RECURRING_ROOM_CODE`]; created by [`MONTHLY_CREATOR`].
    pub const SCHEDULE_MONTHLY: &str = "4402e6b1c9d8a7f3205e4b91";
    /// A scheduled conference far ahead (`Offsite planning 团建策划`, 2027-06-01 10:00–12:00
    /// +08:00) with settings (a co-host, muted on joining, waiting room, an extension app),
    /// created by [`SCHEDULE_CREATOR`]; no instance yet.
    pub const SCHEDULE_PLANNED: &str = "45a7c3e9d1b2f0864c5e7a13";
    /// The creator of [`SCHEDULE_DESIGN_REVIEW`] and [`SCHEDULE_PLANNED`] (the creator of
    /// [`INITIALISED`]).
    pub const SCHEDULE_CREATOR: &str = "Ht5YcE8dJw3nUo6qGf2rBkiE";
    /// The creator of [`SCHEDULE_MONTHLY`] (the creator of [`SCHEDULED`]).
    pub const MONTHLY_CREATOR: &str = "Nb4KsV7gQe1tYx9hMa3pDliE";
    /// The co-host named in [`SCHEDULE_PLANNED`]'s settings.
    pub const PLANNED_COHOST: &str = "Rm8PdA2fTz5wLc0vSe6kHqiE";
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
            room_code: s(seeded::STARTED_ROOM_CODE),
            external_link_url: link(seeded::STARTED_ROOM_CODE, "1_7ac9c2e1f04b"),
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
        recurring(seeded::RECURRING_FEBRUARY, FEBRUARY_0930, FEBRUARY_END, 35),
        recurring(seeded::RECURRING_JANUARY, JANUARY_0930, JANUARY_END, 33),
    ]
}

// 2026-02-02 09:30 +08:00 to 10:42:10, and 2026-01-05 09:30 +08:00 to 10:55:30: the monthly
// meeting of [`seeded::SCHEDULED`], four weeks apart.
const FEBRUARY_0930: i64 = 1_769_995_800_000;
const FEBRUARY_END: i64 = 1_770_000_130_000;
const JANUARY_0930: i64 = 1_767_576_600_000;
const JANUARY_END: i64 = 1_767_581_730_000;

/// An ended earlier instance of the monthly meeting on [`seeded::RECURRING_ROOM_CODE`].
fn recurring(id: &str, start: i64, end: i64, attended: i32) -> ConferenceInfo {
    ConferenceInfo {
        conference_id: s(id),
        title: s("研发部月度例会"),
        status: Some(1),
        biz_type: s("3"),
        schedule_conference_id: s("4402e6b1c9d8a7f3205e4b91"),
        creator_id: s("Nb4KsV7gQe1tYx9hMa3pDliE"),
        creator_nick: s("李雷"),
        room_code: s(seeded::RECURRING_ROOM_CODE),
        external_link_url: link(seeded::RECURRING_ROOM_CODE, "1_b71e5c0f3a28"),
        start_time: Some(start),
        end_time: Some(end),
        conf_duration: Some(end - start),
        active_num: Some(0),
        attend_num: Some(attended),
        invited_num: Some(40),
        cloud_record_status: Some(0),
        ..ConferenceInfo::default()
    }
}

/// Nicknames the seeded members take in turn (the creator keeps the conference's
/// `creatorNick`).
const NICKS: [&str; 24] = [
    "王芳",
    "Bob Li",
    "陈静",
    "Carol Wu",
    "刘洋",
    "David Zhang",
    "杨敏",
    "Emma Huang",
    "赵磊",
    "Frank Zhou",
    "黄丽",
    "Grace Xu",
    "周杰",
    "Henry Sun",
    "吴婷",
    "Ivy Ma",
    "徐强",
    "Jack Hu",
    "孙悦",
    "Kelly Guo",
    "马超",
    "Leo He",
    "朱琳",
    "Mia Lin",
];

/// A unionId-like string (22 base-62 characters and `iE`, like DingTalk's), the same every
/// time for the same `seed`.
pub(crate) fn union_id_for(seed: &str) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // FNV-1a, then a 64-bit LCG for the characters.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut id = String::with_capacity(24);
    for _ in 0..22 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let index = usize::try_from(state >> 58).unwrap_or(0) % DIGITS.len();
        id.push(char::from(DIGITS.get(index).copied().unwrap_or(b'0')));
    }
    id.push_str("iE");
    id
}

/// Members consistent with `info`'s counts: the creator first (the host; the second member
/// is a co-host), then `activeNum` in the conference (3), `attendNum - activeNum` who were
/// in it and left (6; one of five is removed by the host instead, 5), and the rest of the
/// `invitedNum` who never joined: initialised (1) if the conference has not started, failed
/// to join (4) if it has ended, one declined (4) and the others being called (2) while it runs.
pub(crate) fn members(info: &ConferenceInfo) -> Vec<MemberRecord> {
    let count = |n: Option<i32>| usize::try_from(n.unwrap_or(0)).unwrap_or(0);
    let active = count(info.active_num);
    let attended = count(info.attend_num).max(active);
    let invited = count(info.invited_num).max(attended);
    let status = info.status.unwrap_or(0);
    let id = info.conference_id.clone().unwrap_or_default();
    let start = info.start_time.unwrap_or(0);
    let end = info.end_time;
    (0..invited)
        .map(|index| {
            let offset = i64::try_from(index).unwrap_or(0);
            let union_id = match (index, &info.creator_id) {
                (0, Some(creator)) => creator.clone(),
                _ => union_id_for(&format!("{id}/{index}")),
            };
            let nick = match (index, &info.creator_nick) {
                (0, Some(nick)) => nick.clone(),
                _ => NICKS
                    .get((index + id.len()) % NICKS.len())
                    .map_or_else(String::new, |nick| (*nick).to_owned()),
            };
            let outsider = index % 6 == 5;
            let mut record = MemberRecord::new(ConferenceMember {
                union_id: Some(union_id),
                conference_id: Some(id.clone()),
                user_nick: Some(nick),
                host: Some(index == 0),
                co_host: Some(index == 1),
                outer_org_member: outsider.then_some(true),
                pstn_join: Some(false),
                job_number: (!outsider).then(|| format!("{:05}", 10_000 + index)),
                ..ConferenceMember::default()
            });
            let member = &mut record.member;
            // The host opens the meeting; the others join within its first ten minutes.
            let join = if index == 0 {
                start
            } else {
                start + (offset * 47_000) % 600_000
            };
            if index < attended {
                member.join_time = Some(join);
                member.pstn_join = Some(index % 7 == 3);
                let leave = match end {
                    // The host stays to the end; the others leave in its last quarter hour.
                    Some(end) if index == 0 => Some(end),
                    Some(end) => Some((end - (offset * 53_000) % 900_000).max(join)),
                    None if index < active => None,
                    None => Some(join + 300_000 + offset * 61_000),
                };
                match leave {
                    None => {
                        member.attend_status = Some(3);
                        record.camera_status = if index % 3 == 0 { 1 } else { 2 };
                        record.mic_status = if index % 4 == 0 { 2 } else { 1 };
                    }
                    Some(leave) => {
                        let removed = end.is_none() && (index - active) % 5 == 3;
                        member.attend_status = Some(if removed { 5 } else { 6 });
                        member.leave_time = Some(leave);
                        member.duration = Some(leave - join);
                    }
                }
            } else {
                member.attend_status = Some(match status {
                    0 => 1,
                    2 if index > attended => 2,
                    _ => 4,
                });
                if member.attend_status == Some(4) && index % 2 == 0 {
                    record.reject_description = Some("抱歉，正在开会".to_owned());
                }
            }
            record
        })
        .collect()
}

/// [`seeded::ENDED`]'s recording: from a minute into the meeting to half a minute before its
/// end, owned by [`seeded::ENDED_HOST`].
const ENDED_RECORD_START: i64 = 1_770_703_260_000;
const ENDED_RECORD_END: i64 = 1_770_708_195_000;

/// The finished cloud recordings of the seeded conferences: [`seeded::ENDED`]'s two videos and
/// its transcript.
pub(crate) fn recordings() -> Vec<(&'static str, Recording)> {
    let mut recording = videos(
        seeded::ENDED,
        seeded::ENDED_HOST,
        ENDED_RECORD_START,
        ENDED_RECORD_END,
    );
    recording.paragraphs = transcript(ENDED_RECORD_START);
    vec![(seeded::ENDED, recording)]
}

/// The recording of a conference whose cloud recording has just finished at `end`: its videos
/// from the conference's start, and no transcript (nobody's speech was turned into text).
pub(crate) fn finished_recording(info: &ConferenceInfo, end: i64) -> Recording {
    let start = info.start_time.unwrap_or(end).min(end);
    let owner = info
        .cloud_record_owner_union_id
        .clone()
        .or_else(|| info.creator_id.clone())
        .unwrap_or_default();
    videos(
        info.conference_id.as_deref().unwrap_or_default(),
        &owner,
        start,
        end,
    )
}

/// A recording (`recordType` 0) and its composed file (1), sharing one `recordId` (the start
/// time, in milliseconds, as a string), in `cn-shenzhen`.
fn videos(conference_id: &str, owner: &str, start: i64, end: i64) -> Recording {
    let duration = end - start;
    let video = |record_type: i64, bytes_per_second: i64| CloudRecordVideo {
        record_id: Some(start.to_string()),
        union_id: Some(owner.to_owned()),
        start_time: Some(start),
        end_time: Some(end),
        record_type: Some(record_type),
        duration: Some(duration),
        file_size: Some(duration / 1000 * bytes_per_second),
        media_id: Some(media_id(conference_id, record_type)),
        region_id: s("cn-shenzhen"),
    };
    Recording {
        videos: vec![video(0, 180_000), video(1, 95_000)],
        paragraphs: Vec::new(),
    }
}

/// A media id: 32 hex digits, fixed for a conference and a record type.
fn media_id(conference_id: &str, record_type: i64) -> String {
    // FNV-1a, then SplitMix64 for two well-mixed halves.
    let seed = format!("{conference_id}/{record_type}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    let mix = |n: u64| {
        let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(seed), mix(mix(seed)))
}

/// What was said in [`seeded::ENDED`]: (speaker, nickname, start offset in ms, sentences).
const SPEECH: [(&str, &str, i64, &[&str]); 8] = [
    (
        seeded::ENDED_HOST,
        "Alice Chen",
        2_000,
        &[
            "Good afternoon everyone.",
            "Let us start the quarterly planning review.",
        ],
    ),
    (
        seeded::ENDED_HOST,
        "Alice Chen",
        15_000,
        &[
            "First the numbers from last quarter.",
            "Revenue grew by twelve percent.",
        ],
    ),
    (
        "Kd3VnR8sPq2wXt6yLm9bCfiE",
        "Bob Li",
        41_000,
        &[
            "Support tickets went down as well.",
            "The new onboarding flow helped.",
        ],
    ),
    (
        "Kd3VnR8sPq2wXt6yLm9bCfiE",
        "Bob Li",
        66_500,
        &["We still miss two hires in the mobile team."],
    ),
    (
        seeded::ENDED_HOST,
        "Alice Chen",
        90_000,
        &["Thanks Bob.", "What are the goals for the next quarter?"],
    ),
    (
        "Wz5TfH1gJk7nQe4rYa2uDsiE",
        "王芳",
        120_000,
        &[
            "Ship the calendar integration.",
            "Cut the crash rate in half.",
        ],
    ),
    (
        "Wz5TfH1gJk7nQe4rYa2uDsiE",
        "王芳",
        151_000,
        &["And finish the accessibility audit by May."],
    ),
    (
        seeded::ENDED_HOST,
        "Alice Chen",
        4_900_000,
        &[
            "Good.",
            "I will send the minutes tomorrow.",
            "Thank you all.",
        ],
    ),
];

/// [`SPEECH`] as transcript paragraphs, times relative to the recording start.
fn transcript(record_start: i64) -> Vec<TranscriptParagraph> {
    speech_paragraphs(record_start, &SPEECH)
}

/// Speech (speaker, nickname, start offset in ms, sentences) as transcript paragraphs, times
/// relative to the recording start: each word within its sentence and each sentence within
/// its paragraph. Each paragraph's `nextTtoken` is its absolute start in microseconds
/// (distinct, and in speaking order, for starts at least a millisecond apart).
fn speech_paragraphs(
    record_start: i64,
    speech: &[(&str, &str, i64, &[&str])],
) -> Vec<TranscriptParagraph> {
    const WORD_MS: i64 = 400;
    const PAUSE_MS: i64 = 300;
    speech
        .iter()
        .map(|&(speaker, nick, start, sentences)| {
            let mut at = start;
            let token = (record_start + start) * 1000;
            let sentence_list: Vec<TranscriptSentence> = sentences
                .iter()
                .map(|sentence| {
                    let sentence_start = at;
                    let word_list: Vec<TranscriptWord> = sentence
                        .split_whitespace()
                        .enumerate()
                        .map(|(index, word)| {
                            let word_start = at;
                            at += WORD_MS;
                            TranscriptWord {
                                word: s(word),
                                word_id: Some(format!(
                                    "{}#{index}",
                                    (record_start + sentence_start) * 1000
                                )),
                                start_time: Some(word_start),
                                end_time: Some(at),
                            }
                        })
                        .collect();
                    let sentence = TranscriptSentence {
                        union_id: s(speaker),
                        sentence: s(sentence),
                        start_time: Some(sentence_start),
                        end_time: Some(at),
                        word_list: Some(word_list),
                    };
                    at += PAUSE_MS;
                    sentence
                })
                .collect();
            TranscriptParagraph {
                next_ttoken: Some(token),
                status: Some(0),
                union_id: s(speaker),
                nick_name: s(nick),
                record_id: Some(record_start),
                start_time: Some(start),
                end_time: Some(at - PAUSE_MS),
                paragraph: Some(sentences.join(" ")),
                sentence_list: Some(sentence_list),
            }
        })
        .collect()
}

// part record-stream: the recording a stopped `startCloudRecord` leaves.

/// What members say in a recording made through `startCloudRecord`: one of these per
/// paragraph, chosen by the member's place in the conference.
const RECORDED_LINES: [&[&str]; 4] = [
    &["Can everyone hear me?", "Let us begin."],
    &["I have an update on the release."],
    &["Thanks.", "Any questions before we move on?"],
    &["I will follow up after the meeting."],
];

/// The recording of conference `info` from `start` to `end` (epoch milliseconds): its videos
/// (owned by the recording's owner, else the creator) and a transcript in which each member
/// who was in the conference during the recording (joined before its end, not left before
/// its start) says one of [`RECORDED_LINES`], in member order, the
/// paragraphs spread evenly over the recording. Derived from the state alone: the same
/// members and times give the same recording.
pub(crate) fn recorded_stretch(
    info: &ConferenceInfo,
    members: &[MemberRecord],
    start: i64,
    end: i64,
) -> Recording {
    let end = end.max(start);
    let owner = info
        .cloud_record_owner_union_id
        .clone()
        .or_else(|| info.creator_id.clone())
        .unwrap_or_default();
    let conference_id = info.conference_id.as_deref().unwrap_or_default();
    let mut recording = videos(conference_id, &owner, start, end);
    let speakers: Vec<(&str, &str)> = members
        .iter()
        .filter(|record| {
            let member = &record.member;
            member.join_time.is_some_and(|join| join <= end)
                && member.leave_time.is_none_or(|leave| leave >= start)
        })
        .filter_map(|record| {
            let member = &record.member;
            Some((
                member.union_id.as_deref()?,
                member.user_nick.as_deref().unwrap_or_default(),
            ))
        })
        .collect();
    let count = i64::try_from(speakers.len()).unwrap_or(i64::MAX).max(1);
    let duration = end - start;
    let speech: Vec<(&str, &str, i64, &[&str])> = speakers
        .iter()
        .enumerate()
        .map(|(index, &(speaker, nick))| {
            let at = i64::try_from(index).unwrap_or(0);
            let lines = RECORDED_LINES
                .get(index % RECORDED_LINES.len())
                .copied()
                .unwrap_or_default();
            // A millisecond apart at least, so that the paragraphs' tokens stay distinct.
            (speaker, nick, (duration * at / count).max(at), lines)
        })
        .collect();
    recording.paragraphs = speech_paragraphs(start, &speech);
    recording
}

// part schedule
/// The seeded scheduled conferences, by id: those of the seeded scheduled instances, and one
/// far ahead with settings.
pub(crate) fn schedules() -> Vec<(&'static str, ScheduleRecord)> {
    use dingtalk_conference_api::types::{
        ScheduleConfSettingModel, ScheduleExtensionAppSetting, ScheduleVirtualExtraSetting,
    };
    // 2026-03-16 09:30 and 10:30 +08:00; 2026-03-02 09:30 and 11:30 +08:00; 2027-06-01
    // 10:00 and 12:00 +08:00.
    const DESIGN_REVIEW: (i64, i64) = (1_773_624_600_000, 1_773_628_200_000);
    const MONTHLY: (i64, i64) = (1_772_415_000_000, 1_772_422_200_000);
    const PLANNED: (i64, i64) = (1_811_815_200_000, 1_811_822_400_000);
    let record =
        |creator: &str, title: &str, (start, end): (i64, i64), room_code: &str| ScheduleRecord {
            creator: creator.to_owned(),
            title: title.to_owned(),
            start,
            end,
            room_code: room_code.to_owned(),
            url: format!("https://meeting.dingtalk.com/j/{room_code}"),
            cancelled: false,
            settings: ScheduleConfSettingModel::default(),
            short_links: Vec::new(),
        };
    let mut planned = record(
        seeded::SCHEDULE_CREATOR,
        "Offsite planning 团建策划",
        PLANNED,
        "508163942",
    );
    planned.settings = ScheduleConfSettingModel {
        cohost_union_ids: vec![seeded::PLANNED_COHOST.to_owned()],
        lock_room: Some(0),
        mute_on_join: Some(-1),
        screen_share_forbidden: Some(0),
        mozi_conf_virtual_extra_setting: Some(ScheduleVirtualExtraSetting {
            waiting_room: Some(1),
            join_before_host: Some(1),
            enable_chat: Some(1),
            mozi_conf_extension_app_settings: vec![ScheduleExtensionAppSetting {
                cool_app_code: s("COOLAPP-1-3A9C0E5B7D21F486"),
                auto_open_mode: Some(2),
                extension_app_biz_data: s("agenda:offsite"),
            }],
            ..ScheduleVirtualExtraSetting::default()
        }),
        ..ScheduleConfSettingModel::default()
    };
    vec![
        (
            seeded::SCHEDULE_DESIGN_REVIEW,
            record(
                seeded::SCHEDULE_CREATOR,
                "Design review 设计评审",
                DESIGN_REVIEW,
                "316058427",
            ),
        ),
        (
            seeded::SCHEDULE_MONTHLY,
            record(
                seeded::MONTHLY_CREATOR,
                "研发部月度例会",
                MONTHLY,
                seeded::RECURRING_ROOM_CODE,
            ),
        ),
        (seeded::SCHEDULE_PLANNED, planned),
    ]
}

// part minutes
/// The flash minutes of the seeded conferences: [`seeded::STARTED`]'s, started a minute into
/// the meeting by its host (who owns them), with the audio kept, already four minutes long
/// when the server starts and still running, spoken by the members in the meeting.
pub(crate) fn minutes() -> Vec<(&'static str, crate::state::Minutes)> {
    // 2026-03-02 10:01 +08:00.
    const STARTED_AT: i64 = 1_772_416_860_000;
    let Some(info) = conferences()
        .into_iter()
        .find(|info| info.conference_id.as_deref() == Some(seeded::STARTED))
    else {
        return Vec::new();
    };
    let speakers = members(&info)
        .into_iter()
        .filter(|record| record.member.attend_status == Some(3))
        .filter_map(|record| Some((record.member.union_id?, record.member.user_nick?)))
        .collect();
    let minutes = crate::state::Minutes {
        owner: seeded::STARTED_HOST.to_owned(),
        starter: seeded::STARTED_HOST.to_owned(),
        record_audio: true,
        record_id: STARTED_AT,
        speakers,
        runs: vec![crate::state::MinutesRun {
            started_ms: STARTED_AT,
            started: tokio::time::Instant::now(),
            head_start: std::time::Duration::from_secs(240),
            ran: None,
        }],
    };
    vec![(seeded::STARTED, minutes)]
}
// end part minutes

// part control: the named members are who the constants say.
#[cfg(test)]
mod control_tests {
    use super::*;

    #[test]
    fn the_named_members_of_the_started_conference_are_in_it_with_the_roles_the_docs_say() {
        let info = conferences()
            .into_iter()
            .find(|info| info.conference_id.as_deref() == Some(seeded::STARTED))
            .expect("seeded");
        assert_eq!(info.room_code.as_deref(), Some(seeded::STARTED_ROOM_CODE));
        let members = members(&info);
        let role = |union_id: &str| {
            let member = &members
                .iter()
                .find(|r| r.member.union_id.as_deref() == Some(union_id))
                .expect("a member")
                .member;
            (member.host, member.co_host, member.attend_status)
        };
        assert_eq!(
            role(seeded::STARTED_COHOST),
            (Some(false), Some(true), Some(3))
        );
        for participant in seeded::STARTED_PARTICIPANTS {
            assert_eq!(role(participant), (Some(false), Some(false), Some(3)));
        }
    }
}
