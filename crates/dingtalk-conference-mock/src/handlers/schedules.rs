//! The operations of scheduled conferences (预约会议), their settings and short links, and
//! joining a schedule (the admin route `POST /__mock/join-schedule`, which DingTalk's clients
//! do and its API does not).
//!
//! A schedule lives in [`State`] as a [`ScheduleRecord`]; its conference instances are ordinary
//! conferences whose `scheduleConferenceId` names it, created by the first join at or after
//! the start, so every conference read (`queryConferenceInfo`, the room-code lookup, members)
//! shows them. What DingTalk leaves undocumented and this server chose is listed in
//! `docs/conference-operations.md`, part schedule.

use dingtalk_conference_api::types::{ConferenceInfo, ConferenceMember};
use dingtalk_conference_api::types::{
    CreateCustomShortLinkResponse, CreateScheduleConferenceResponse, CustomShortLink,
    QueryScheduleConfSettingsResponse, QueryScheduleConferenceInfoResponse,
    QueryScheduleConferenceResponse, ScheduleAiAgentSummarySetting, ScheduleConfSettingModel,
    ScheduleConference, ScheduleExtensionApp, ScheduleExtraSettings, ScheduleOpenRecordSetting,
    ScheduleSettings, ScheduleVirtualExtraSetting, ScheduleWriteResponse,
};
use rand::Rng;

use super::{Handler, offset_token, page, page_size, typed};
use crate::requests::Failure;
use crate::requests_generated::{
    CancelScheduleConference, CreateCustomShortLink, CreateScheduleConference,
    QueryScheduleConfSettings, QueryScheduleConference, QueryScheduleConferenceInfo,
    UpdateScheduleConfSettings, UpdateScheduleConference,
};
use crate::state::{MemberRecord, ScheduleRecord, State, now_millis};

/// How many characters of a title a schedule keeps; longer titles are cut (DingTalk's
/// documented 50). The longest accepted, 256, is the spec's `maxLength`, checked when parsed.
const TITLE_KEPT_CHARS: usize = 50;

/// The most extension apps a schedule's settings may name: more are refused with
/// `extensionAppSettingError` (message `extensionAppSettingCountError`). A choice of this fake
/// server: DingTalk documents that there is a cap, not its value.
pub const MAX_SCHEDULE_EXTENSION_APPS: usize = 5;

/// The page size of `queryScheduleConferenceInfo` when `maxResults` is absent: 20, the value
/// of DingTalk's example (it documents no default and no maximum).
pub const DEFAULT_SCHEDULE_CONFERENCES_PAGE_SIZE: usize = 20;

/// The dial-in numbers of every schedule (fictitious).
const PHONES: [&str; 2] = ["+86 21 6080 0000", "+852 5808 0000"];

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "createScheduleConference" => typed!(create_schedule_conference),
        "updateScheduleConference" => typed!(update_schedule_conference),
        "cancelScheduleConference" => typed!(cancel_schedule_conference),
        "queryScheduleConference" => typed!(query_schedule_conference),
        "queryScheduleConferenceInfo" => typed!(query_schedule_conference_info),
        "queryScheduleConfSettings" => typed!(query_schedule_conf_settings),
        "updateScheduleConfSettings" => typed!(update_schedule_conf_settings),
        "createCustomShortLink" => typed!(create_custom_short_link),
        _ => return None,
    })
}

/// `400 paramsError` with DingTalk's `error:` message.
fn params_error(what: &str) -> Failure {
    Failure::bad_request("paramsError", format!("error:{what}"))
}

/// `400 resourceCancel`, as DingTalk words it.
fn cancelled() -> Failure {
    Failure::bad_request("resourceCancel", "Schedule conference has canceled")
}

/// `400 paramsError` unless the planned end comes after the start. DingTalk documents no rule
/// on the window; this server asks only this.
fn check_window(start: i64, end: i64) -> Result<(), Failure> {
    if end <= start {
        return Err(params_error("endTime must be after startTime"));
    }
    Ok(())
}

/// `extensionAppSettingError` for more than [`MAX_SCHEDULE_EXTENSION_APPS`] extension apps.
fn check_settings(settings: Option<&ScheduleConfSettingModel>) -> Result<(), Failure> {
    let apps = settings
        .and_then(|s| s.mozi_conf_virtual_extra_setting.as_ref())
        .map_or(0, |extra| extra.mozi_conf_extension_app_settings.len());
    if apps > MAX_SCHEDULE_EXTENSION_APPS {
        return Err(Failure::bad_request(
            "extensionAppSettingError",
            "extensionAppSettingCountError",
        ));
    }
    Ok(())
}

fn title_kept(title: &str) -> String {
    title.chars().take(TITLE_KEPT_CHARS).collect()
}

/// A new schedule: the title cut to 50 characters, a fresh room code (digits, unused by any
/// conference or schedule) and share link, the settings as given. `400 paramsError` when the
/// end is not after the start (the spec's checks refuse a blank creator or title, a title over
/// 256 characters and times out of range).
fn create_schedule_conference(
    request: CreateScheduleConference,
    state: &mut State,
) -> Result<CreateScheduleConferenceResponse, Failure> {
    let request = request.body;
    check_window(request.start_time, request.end_time)?;
    check_settings(request.schedule_conf_setting_model.as_ref())?;
    let id = loop {
        let id = format!("{:024x}", state.rng().random::<u128>() >> 32);
        if state.schedule(&id).is_none() {
            break id;
        }
    };
    let room_code = loop {
        let code = state
            .rng()
            .random_range(10_000_000_000_u64..100_000_000_000)
            .to_string();
        if !state.room_code_in_use(&code) {
            break code;
        }
    };
    let url = format!("https://meeting.dingtalk.com/j/{}", link_code(state));
    state.insert_schedule(
        id.clone(),
        ScheduleRecord {
            creator: request.creator_union_id,
            title: title_kept(&request.title),
            start: request.start_time,
            end: request.end_time,
            room_code: room_code.clone(),
            url: url.clone(),
            cancelled: false,
            settings: request.schedule_conf_setting_model.unwrap_or_default(),
            short_links: Vec::new(),
        },
    );
    Ok(CreateScheduleConferenceResponse {
        request_id: None,
        schedule_conference_id: Some(id),
        room_code: Some(room_code),
        url: Some(url),
        phones: Some(PHONES.iter().map(|n| (*n).to_owned()).collect()),
    })
}

/// Eleven letters and digits, as DingTalk's short links end.
fn link_code(state: &mut State) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..11)
        .map(|_| {
            let index = state.rng().random_range(0..ALPHABET.len());
            char::from(ALPHABET.get(index).copied().unwrap_or(b'x'))
        })
        .collect()
}

/// The schedule `id` for a write by `union_id`, in the order DingTalk's pages suggest: an
/// unknown id is `not_found`, someone other than the creator `not_creator`, a cancelled schedule
/// `resourceCancel`.
fn schedule_for_write<'a>(
    state: &'a mut State,
    id: &str,
    union_id: &str,
    not_found: fn() -> Failure,
    not_creator: fn() -> Failure,
) -> Result<&'a mut ScheduleRecord, Failure> {
    let schedule = state.schedule_mut(id).ok_or_else(not_found)?;
    if schedule.creator != union_id {
        return Err(not_creator());
    }
    if schedule.cancelled {
        return Err(cancelled());
    }
    Ok(schedule)
}

fn unknown_schedule_params() -> Failure {
    params_error("scheduleConferenceId is invalid")
}

fn permission_error() -> Failure {
    Failure::bad_request(
        "permissionError",
        "permissionError:no right on this meeting",
    )
}

fn unknown_schedule_id_error() -> Failure {
    Failure::bad_request("scheduleConferenceIdError", "scheduleConferenceIdError")
}

fn creator_uid_error() -> Failure {
    Failure::bad_request("creatorUidError", "creatorUidError")
}

/// Replaces title, start and end. `paramsError` for an unknown id or an end not after the
/// start, `permissionError` for anyone but the creator, `resourceCancel` once cancelled.
/// The same values twice leave the same state.
fn update_schedule_conference(
    request: UpdateScheduleConference,
    state: &mut State,
) -> Result<ScheduleWriteResponse, Failure> {
    let request = request.body;
    let schedule = schedule_for_write(
        state,
        &request.schedule_conference_id,
        &request.creator_union_id,
        unknown_schedule_params,
        permission_error,
    )?;
    check_window(request.start_time, request.end_time)?;
    schedule.title = title_kept(&request.title);
    schedule.start = request.start_time;
    schedule.end = request.end_time;
    Ok(ScheduleWriteResponse {
        success: Some(true),
    })
}

/// Cancels. `paramsError` for an unknown id, `permissionError` for anyone but the creator,
/// `resourceCancel` for a schedule already cancelled (DingTalk does not document a second
/// cancel; its other operations answer so for a cancelled schedule).
fn cancel_schedule_conference(
    request: CancelScheduleConference,
    state: &mut State,
) -> Result<ScheduleWriteResponse, Failure> {
    let request = request.body;
    let schedule = schedule_for_write(
        state,
        &request.schedule_conference_id,
        &request.creator_union_id,
        unknown_schedule_params,
        permission_error,
    )?;
    schedule.cancelled = true;
    Ok(ScheduleWriteResponse {
        success: Some(true),
    })
}

/// Whether `union_id` may read schedule `id`: its creator, the host and co-hosts its settings
/// name, and anyone who has a member record in one of its conferences. (DingTalk documents
/// `permissionError`, "no right on this meeting", not who has the right.)
fn may_read(state: &mut State, id: &str, schedule: &ScheduleRecord, union_id: &str) -> bool {
    if schedule.creator == union_id
        || schedule.settings.host_union_id.as_deref() == Some(union_id)
        || schedule
            .settings
            .cohost_union_ids
            .iter()
            .any(|c| c == union_id)
    {
        return true;
    }
    instances(state, id).iter().any(|info| {
        info.conference_id.as_deref().is_some_and(|conference| {
            state
                .members(conference)
                .iter()
                .any(|record| record.member.union_id.as_deref() == Some(union_id))
        })
    })
}

/// The conferences held under schedule `id`, oldest first.
fn instances(state: &mut State, id: &str) -> Vec<ConferenceInfo> {
    let mut held: Vec<ConferenceInfo> = state
        .conferences()
        .into_iter()
        .filter(|info| info.schedule_conference_id.as_deref() == Some(id))
        .collect();
    held.sort_by(|a, b| (a.start_time, &a.conference_id).cmp(&(b.start_time, &b.conference_id)));
    held
}

/// The schedule as it is now. `paramsError` for an unknown id, `resourceCancel` once
/// cancelled, `permissionError` for a user without a right on it ([`may_read`]). The room code
/// is answered as digits, without the spaces of DingTalk's example.
fn query_schedule_conference(
    request: QueryScheduleConference,
    state: &mut State,
) -> Result<QueryScheduleConferenceResponse, Failure> {
    let id = request.schedule_conference_id;
    let schedule = state
        .schedule(&id)
        .cloned()
        .ok_or_else(unknown_schedule_params)?;
    if schedule.cancelled {
        return Err(cancelled());
    }
    if !may_read(state, &id, &schedule, &request.request_union_id) {
        return Err(permission_error());
    }
    Ok(QueryScheduleConferenceResponse {
        request_id: None,
        schedule_conference_id: Some(id),
        title: Some(schedule.title),
        start_time: Some(schedule.start),
        end_time: Some(schedule.end),
        room_code: Some(schedule.room_code),
        url: Some(schedule.url),
        phones: Some(PHONES.iter().map(|n| (*n).to_owned()).collect()),
    })
}

/// The conferences held under a schedule, oldest first, a page at a time: `nextToken` is the
/// offset of the next page, empty on the last (DingTalk: "empty = all read"). DingTalk currently
/// returns only the last conference; this server returns all of them, so that a client's paging
/// is exercised. `invalidScheduleConferenceId` for an unknown id; a cancelled schedule still
/// lists what was held. `paramsError` for a `nextToken` this server did not hand out.
fn query_schedule_conference_info(
    request: QueryScheduleConferenceInfo,
    state: &mut State,
) -> Result<QueryScheduleConferenceInfoResponse, Failure> {
    let id = request.schedule_conference_id;
    if state.schedule(&id).is_none() {
        return Err(Failure::bad_request(
            "invalidScheduleConferenceId",
            "invalid scheduleConferenceId",
        ));
    }
    let held: Vec<ScheduleConference> = instances(state, &id)
        .into_iter()
        .map(|info| ScheduleConference {
            conference_id: info.conference_id,
            title: info.title,
            room_code: info.room_code,
            status: info.status,
            start_time: info.start_time,
            end_time: info.end_time,
        })
        .collect();
    let size = page_size(request.max_results, DEFAULT_SCHEDULE_CONFERENCES_PAGE_SIZE);
    let offset = offset_token(request.next_token.as_deref(), held.len(), "paramsError")?;
    let total_count = i32::try_from(held.len()).unwrap_or(i32::MAX);
    let (conference_list, next_token) = page(&held, offset, size);
    Ok(QueryScheduleConferenceInfoResponse {
        conference_list: Some(conference_list),
        next_token: Some(next_token.unwrap_or_default()),
        total_count: Some(total_count),
    })
}

/// The settings in the read's shape: the subset DingTalk returns, `autoOpenMode` as a string
/// and each extension app's `clientId` (this server derives one from the app's code).
/// `scheduleConferenceIdError` for an unknown id; a cancelled schedule's settings still read.
fn query_schedule_conf_settings(
    request: QueryScheduleConfSettings,
    state: &mut State,
) -> Result<QueryScheduleConfSettingsResponse, Failure> {
    let schedule = state
        .schedule(&request.schedule_conference_id)
        .ok_or_else(unknown_schedule_id_error)?;
    Ok(QueryScheduleConfSettingsResponse {
        schedule_conf_setting_model: Some(read_shape(&schedule.settings)),
    })
}

/// The read side of `settings`.
fn read_shape(settings: &ScheduleConfSettingModel) -> ScheduleSettings {
    let extra = settings
        .mozi_conf_virtual_extra_setting
        .as_ref()
        .map(|extra| ScheduleExtraSettings {
            waiting_room: extra.waiting_room,
            join_before_host: extra.join_before_host,
            enable_chat: extra.enable_chat,
            lock_nick: extra.lock_nick,
            lock_media_status_mic_mute: extra.lock_media_status_mic_mute,
            enable_web_anonymous_join: extra.enable_web_anonymous_join,
            mozi_conf_extension_app_settings: Some(
                extra
                    .mozi_conf_extension_app_settings
                    .iter()
                    .map(|app| ScheduleExtensionApp {
                        client_id: app.cool_app_code.as_deref().map(client_id_of),
                        cool_app_code: app.cool_app_code.clone(),
                        auto_open_mode: app.auto_open_mode.map(|mode| mode.to_string()),
                        extension_app_biz_data: app.extension_app_biz_data.clone(),
                    })
                    .collect(),
            ),
        });
    ScheduleSettings {
        host_union_id: settings.host_union_id.clone(),
        cohost_union_ids: Some(settings.cohost_union_ids.clone()),
        conf_allowed_corp_id: settings.conf_allowed_corp_id.clone(),
        lock_room: settings.lock_room,
        screen_share_forbidden: settings.screen_share_forbidden,
        mute_on_join: settings.mute_on_join,
        mozi_conf_virtual_extra_setting: extra,
    }
}

/// A DingTalk-looking app clientId derived from a cool app's code (FNV-1a), so that the same
/// app reads back the same id.
fn client_id_of(cool_app_code: &str) -> String {
    let hash = cool_app_code
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("ding{hash:016x}")
}

/// Changes the settings: every field sent replaces the stored one, every field left out (and
/// an empty list) keeps it; DingTalk does not document which, this server does a partial
/// update. `scheduleConferenceIdError` for an unknown id, `creatorUidError` for anyone but
/// the creator, `resourceCancel` once cancelled, `extensionAppSettingError` for too many
/// extension apps.
fn update_schedule_conf_settings(
    request: UpdateScheduleConfSettings,
    state: &mut State,
) -> Result<ScheduleWriteResponse, Failure> {
    let request = request.body;
    check_settings(request.schedule_conf_setting_model.as_ref())?;
    let schedule = schedule_for_write(
        state,
        &request.schedule_conference_id,
        &request.creator_union_id,
        unknown_schedule_id_error,
        creator_uid_error,
    )?;
    if let Some(new) = request.schedule_conf_setting_model {
        merge_settings(&mut schedule.settings, new);
    }
    Ok(ScheduleWriteResponse {
        success: Some(true),
    })
}

/// `new` over `old`, a field at a time: a value sent replaces, a value left out keeps.
fn keep<T>(old: &mut Option<T>, new: Option<T>) {
    if new.is_some() {
        *old = new;
    }
}

/// A non-empty list sent replaces; an empty one (which the wire cannot tell from one left
/// out) keeps.
fn keep_list<T>(old: &mut Vec<T>, new: Vec<T>) {
    if !new.is_empty() {
        *old = new;
    }
}

fn merge_settings(old: &mut ScheduleConfSettingModel, new: ScheduleConfSettingModel) {
    keep(&mut old.host_union_id, new.host_union_id);
    keep_list(&mut old.cohost_union_ids, new.cohost_union_ids);
    keep(&mut old.conf_allowed_corp_id, new.conf_allowed_corp_id);
    keep(&mut old.lock_room, new.lock_room);
    keep(&mut old.screen_share_forbidden, new.screen_share_forbidden);
    keep(&mut old.mute_on_join, new.mute_on_join);
    if let Some(new) = new.mozi_conf_virtual_extra_setting {
        merge_extra(
            old.mozi_conf_virtual_extra_setting
                .get_or_insert_with(ScheduleVirtualExtraSetting::default),
            new,
        );
    }
    if let Some(new) = new.mozi_conf_open_record_setting {
        let old = old
            .mozi_conf_open_record_setting
            .get_or_insert_with(ScheduleOpenRecordSetting::default);
        keep(&mut old.record_auto_start, new.record_auto_start);
        keep(&mut old.record_auto_start_type, new.record_auto_start_type);
        keep(&mut old.mode, new.mode);
        keep(&mut old.is_follow_host, new.is_follow_host);
        keep(
            &mut old.restrict_share_minutes_summary_only,
            new.restrict_share_minutes_summary_only,
        );
    }
    if let Some(new) = new.ai_agent_summary_setting {
        let old = old
            .ai_agent_summary_setting
            .get_or_insert_with(ScheduleAiAgentSummarySetting::default);
        keep(&mut old.value, new.value);
        keep(&mut old.receiver_type, new.receiver_type);
        keep(
            &mut old.allow_all_participants_start,
            new.allow_all_participants_start,
        );
        keep(
            &mut old.restrict_share_minutes_summary_only,
            new.restrict_share_minutes_summary_only,
        );
        keep(&mut old.enable_ai_agent_status, new.enable_ai_agent_status);
        keep(
            &mut old.allow_participant_show_ai_agent_record,
            new.allow_participant_show_ai_agent_record,
        );
    }
}

fn merge_extra(old: &mut ScheduleVirtualExtraSetting, new: ScheduleVirtualExtraSetting) {
    keep(&mut old.waiting_room, new.waiting_room);
    keep(&mut old.join_before_host, new.join_before_host);
    keep(&mut old.enable_chat, new.enable_chat);
    keep(&mut old.lock_nick, new.lock_nick);
    keep(
        &mut old.lock_media_status_mic_mute,
        new.lock_media_status_mic_mute,
    );
    keep_list(
        &mut old.mozi_conf_extension_app_settings,
        new.mozi_conf_extension_app_settings,
    );
    keep(
        &mut old.enable_web_anonymous_join,
        new.enable_web_anonymous_join,
    );
    keep(
        &mut old.push_all_meeting_records,
        new.push_all_meeting_records,
    );
    keep(&mut old.push_minutes_card, new.push_minutes_card);
    keep(&mut old.push_cloud_record_card, new.push_cloud_record_card);
    keep(&mut old.minutes_owner_union_id, new.minutes_owner_union_id);
    keep(
        &mut old.cloud_record_owner_union_id,
        new.cloud_record_owner_union_id,
    );
    keep(
        &mut old.minutes_summary_template_type,
        new.minutes_summary_template_type,
    );
    keep(
        &mut old.minutes_summary_template_id,
        new.minutes_summary_template_id,
    );
    keep(
        &mut old.minutes_summary_diy_template_version,
        new.minutes_summary_diy_template_version,
    );
    keep(&mut old.hidden_owner_nick, new.hidden_owner_nick);
}

/// A new short link for each call (DingTalk does not say whether a repeat gives the same one).
/// `scheduleConferenceIdError` for an unknown id, `creatorUidError` for anyone but the creator,
/// `resourceCancel` once cancelled.
fn create_custom_short_link(
    request: CreateCustomShortLink,
    state: &mut State,
) -> Result<CreateCustomShortLinkResponse, Failure> {
    let request = request.body;
    let link = format!("https://meeting.dingtalk.com/j/{}", link_code(state));
    let schedule = schedule_for_write(
        state,
        &request.schedule_conference_id,
        &request.creator_union_id,
        unknown_schedule_id_error,
        creator_uid_error,
    )?;
    schedule.short_links.push(link.clone());
    Ok(CreateCustomShortLinkResponse {
        result: Some(CustomShortLink {
            custom_short_link: Some(link),
        }),
    })
}

/// Someone joins schedule `schedule_id` (what DingTalk's client does): the conference id they
/// are in, or why they may not join, in words.
///
/// Refused: an unknown or cancelled schedule, a blank unionId or nick, a join before the
/// planned start unless the settings allow joining before the host (`joinBeforeHost` 1), and,
/// in a locked room (`lockRoom` 1), a join by anyone but the host and co-hosts once someone is
/// in. The first join creates the conference instance (or starts the one not started yet): in
/// progress, the schedule's title and room code, its creator as `creatorId`; the host is the
/// settings' `hostUnionId`, else the first to join; the settings' co-hosts are co-hosts.
/// `muteOnJoin` decides the joiner's microphone (-1 off; 6 off once more than 6 are in), and
/// `recordAutoStart` starts the cloud recording when its `recordAutoStartType` is met. Later
/// joins add members; someone already in stays once.
pub(crate) fn join_schedule(
    state: &mut State,
    schedule_id: &str,
    union_id: &str,
    nick: &str,
) -> Result<String, String> {
    if union_id.trim().is_empty() || nick.trim().is_empty() {
        return Err("unionId and nick must not be blank".to_owned());
    }
    let schedule = state
        .schedule(schedule_id)
        .cloned()
        .ok_or_else(|| format!("no scheduled conference {schedule_id:?}"))?;
    if schedule.cancelled {
        return Err(format!(
            "the scheduled conference {schedule_id:?} was cancelled"
        ));
    }
    let settings = &schedule.settings;
    let extra = settings.mozi_conf_virtual_extra_setting.as_ref();
    let now = now_millis();
    let early_allowed = extra.and_then(|e| e.join_before_host) == Some(1);
    if now < schedule.start && !early_allowed {
        return Err(format!(
            "the scheduled conference {schedule_id:?} starts at {} (epoch milliseconds); \
             joining before the start needs joinBeforeHost 1 in its settings",
            schedule.start
        ));
    }
    let current = instances(state, schedule_id)
        .into_iter()
        .rev()
        .find(|info| info.status != Some(1));
    let fresh = current.is_none(); // events
    let mut info = match current {
        Some(info) => info,
        None => new_instance(state, schedule_id, &schedule, now),
    };
    let starting = fresh || info.status != Some(2); // events
    if info.status != Some(2) {
        // A seeded instance nobody has joined yet starts now.
        info.status = Some(2);
        info.start_time = Some(now);
        info.end_time = None;
        info.conf_duration = None;
    }
    let Some(conference_id) = info.conference_id.clone() else {
        return Err("the conference instance has no id".to_owned());
    };
    let mut members = state.members(&conference_id).to_vec();
    let present = |members: &[MemberRecord]| {
        members
            .iter()
            .filter(|r| r.member.attend_status == Some(3))
            .count()
    };
    if members.iter().any(|r| {
        r.member.union_id.as_deref() == Some(union_id) && r.member.attend_status == Some(3)
    }) {
        return Ok(conference_id);
    }
    let host = settings
        .host_union_id
        .clone()
        .or_else(|| {
            members
                .iter()
                .find(|r| r.member.host == Some(true))
                .and_then(|r| r.member.union_id.clone())
        })
        .unwrap_or_else(|| union_id.to_owned());
    let is_host = host == union_id;
    let is_cohost = settings.cohost_union_ids.iter().any(|c| c == union_id);
    if settings.lock_room == Some(1) && present(&members) > 0 && !is_host && !is_cohost {
        return Err(format!(
            "the room of {schedule_id:?} is locked (lockRoom 1): only its host and co-hosts may join"
        ));
    }
    // The in-meeting controls of a running instance hold for a join through the schedule too:
    // someone removed with `forbiddenRejoin` stays out, a locked conference takes only its host
    // and co-hosts, and a mute-all mutes newcomers.
    let control = state.control(&conference_id);
    if control.barred.contains(union_id) {
        return Err(format!(
            "{union_id:?} was removed from {conference_id:?} with forbiddenRejoin and may not \
             join again"
        ));
    }
    if control.settings.locked && !is_host && !is_cohost {
        return Err(format!(
            "{conference_id:?} is locked: only its host and co-hosts may join"
        ));
    }
    let muted = control.settings.mute_all
        || match settings.mute_on_join {
            Some(-1) => true,
            Some(6) => present(&members) + 1 > 6,
            _ => false,
        };
    let member = ConferenceMember {
        union_id: Some(union_id.to_owned()),
        conference_id: Some(conference_id.clone()),
        user_nick: Some(nick.to_owned()),
        join_time: Some(now),
        host: Some(is_host),
        co_host: Some(is_cohost),
        attend_status: Some(3),
        pstn_join: Some(false),
        ..ConferenceMember::default()
    };
    let record = MemberRecord {
        member,
        camera_status: 2,
        mic_status: if muted { 1 } else { 2 },
        reject_description: None,
    };
    match members
        .iter_mut()
        .find(|r| r.member.union_id.as_deref() == Some(union_id))
    {
        Some(existing) => *existing = record,
        None => members.push(record),
    }
    if let Some(record) = settings.mozi_conf_open_record_setting.as_ref()
        && record.record_auto_start == Some(1)
        && info.cloud_record_status != Some(1)
    {
        let due = match record.record_auto_start_type {
            Some(0) => is_host && union_id == schedule.creator,
            Some(1) => is_cohost,
            Some(2) => true,
            _ => false,
        };
        if due {
            info.cloud_record_status = Some(1);
            info.cloud_record_owner_union_id = extra
                .and_then(|e| e.cloud_record_owner_union_id.clone())
                .or_else(|| Some(schedule.creator.clone()));
        }
    }
    let active = i32::try_from(present(&members)).unwrap_or(i32::MAX);
    info.active_num = Some(active);
    info.attend_num = Some(info.attend_num.unwrap_or(0).max(active));
    state.upsert(info);
    // events: an instance starting is `conference_created`, then the member's `user_join`.
    let joined: Vec<ConferenceMember> = members
        .iter()
        .filter(|r| r.member.union_id.as_deref() == Some(union_id))
        .map(|r| r.member.clone())
        .collect();
    state.set_members(&conference_id, members);
    if starting {
        state.emit_conference_change(&conference_id, crate::events::emit::CONFERENCE_CREATED);
    }
    state.emit_member_change(&conference_id, &joined, crate::events::emit::USER_JOIN);
    Ok(conference_id)
}

/// A conference instance of `schedule` just starting at `now`, stored without members.
fn new_instance(
    state: &mut State,
    schedule_id: &str,
    schedule: &ScheduleRecord,
    now: i64,
) -> ConferenceInfo {
    let id = loop {
        let id = format!("{:024x}", state.rng().random::<u128>() >> 32);
        if state.conference(&id).is_none() {
            break id;
        }
    };
    let info = ConferenceInfo {
        conference_id: Some(id),
        title: Some(schedule.title.clone()),
        status: Some(2),
        biz_type: Some("3".to_owned()),
        schedule_conference_id: Some(schedule_id.to_owned()),
        creator_id: Some(schedule.creator.clone()),
        room_code: Some(schedule.room_code.clone()),
        external_link_url: Some(schedule.url.clone()),
        start_time: Some(now),
        active_num: Some(0),
        attend_num: Some(0),
        invited_num: Some(0),
        cloud_record_status: Some(0),
        ..ConferenceInfo::default()
    };
    state.upsert(info.clone());
    info
}
