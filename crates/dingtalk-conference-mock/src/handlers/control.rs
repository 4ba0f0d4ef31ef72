//! The operations of in-meeting control (co-hosts, focus, invitations, kicks, lock, mute) and the conference settings.
//!
//! What they change shows through the reads: roles (`host`/`coHost`), removals
//! (`attendStatus` 5 with `leaveTime`) and invitations (`attendStatus` 2) in
//! `queryConferenceMembers`; microphones (`micStatus`) and the conference's `mediaStatus` in
//! `queryConferenceInfoBatch`; the counts in `queryConferenceInfo`. The lock, the settings and
//! `forbiddenRejoin` show when someone joins ([`crate::MockServer::join`], `POST /__mock/join`).
//!
//! This fake's rules where DingTalk documents none (docs/conference-operations.md, "part
//! control"): every operation answers `400 confClosed` on a conference that is not in progress
//! (documented for `lockConference` only); a user the request names must have a member record
//! in the conference, or `400 unknownUserError`; the operator the wire names (`inviteUsers`'
//! optional `unionId`, `inviteMcu`'s `unionId`) must be the host or a co-host, or
//! `403 noPermission`. The other operations name no operator (the app acts), so they are not
//! checked. A `participantId` is accepted and not checked: the fake keeps one device per member.

use dingtalk_conference_api::types::{
    ConferenceMember, ControlResponse, UpdateVideoConferenceSettingResponse,
};
use http::StatusCode;

use super::{Handler, typed};
use crate::events::emit::{USER_INVITED, USER_KICKED};
use crate::requests::Failure;
use crate::requests_generated::{
    Cohosts, Focus, InviteMcu, InviteUsers, KickMembers, LockConference, MuteAll, MuteMembers,
    UpdateVideoConferenceSetting,
};
use crate::state::{MemberRecord, State, now_millis};

/// `attendStatus` of someone in the conference.
const IN_MEETING: i32 = 3;
/// `attendStatus` of someone being called.
const CALLING: i32 = 2;
/// `attendStatus` of someone the host removed.
const REMOVED: i32 = 5;
/// `micStatus` off and on.
const MIC_OFF: i64 = 1;
const MIC_ON: i64 = 2;

/// The handler of `operation_id`, if it is one of this module's.
pub(super) fn find(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "updateVideoConferenceSetting" => typed!(update_video_conference_setting),
        "cohosts" => typed!(cohosts),
        "focus" => typed!(focus),
        "inviteUsers" => typed!(invite_users),
        "inviteMcu" => typed!(invite_mcu),
        "kickMembers" => typed!(kick_members),
        "lockConference" => typed!(lock_conference),
        "muteAll" => typed!(mute_all),
        "muteMembers" => typed!(mute_members),
        _ => return None,
    })
}

fn done() -> ControlResponse {
    ControlResponse {
        success: Some(true),
    }
}

fn params_error(message: impl std::fmt::Display) -> Failure {
    Failure::bad_request("paramsError", format!("error:{message}"))
}

fn unknown_user(union_id: &str) -> Failure {
    Failure::bad_request("unknownUserError", format!("unknownUserError:{union_id}"))
}

/// `404 roomNotFound` for a conference the server does not hold, `400 confClosed` for one
/// that is not in progress.
fn running(state: &mut State, id: &str) -> Result<(), Failure> {
    let info = state.conference(id).ok_or_else(Failure::room_not_found)?;
    if info.status == Some(2) {
        Ok(())
    } else {
        Err(Failure::bad_request(
            "confClosed",
            "the meeting is not in progress",
        ))
    }
}

/// The record of `union_id` in conference `id`, if it has one.
fn record<'a>(state: &'a mut State, id: &str, union_id: &str) -> Option<&'a mut MemberRecord> {
    state
        .members_mut(id)
        .iter_mut()
        .find(|r| r.member.union_id.as_deref() == Some(union_id))
}

/// The record of `union_id`, who must be in the conference now, or `400 unknownUserError`.
fn present<'a>(
    state: &'a mut State,
    id: &str,
    union_id: &str,
) -> Result<&'a mut MemberRecord, Failure> {
    record(state, id, union_id)
        .filter(|r| r.member.attend_status == Some(IN_MEETING))
        .ok_or_else(|| unknown_user(union_id))
}

/// The operator the wire names must be in the conference as its host or a co-host:
/// `400 unknownUserError` if they have no member record, `403 noPermission` otherwise.
fn may_control(state: &mut State, id: &str, operator: &str) -> Result<(), Failure> {
    let member = &record(state, id, operator)
        .ok_or_else(|| unknown_user(operator))?
        .member;
    let leads = member.host == Some(true) || member.co_host == Some(true);
    if leads && member.attend_status == Some(IN_MEETING) {
        Ok(())
    } else {
        Err(Failure {
            status: StatusCode::FORBIDDEN,
            code: "noPermission",
            message: "only the host or a co-host may control the meeting".to_owned(),
        })
    }
}

/// Mutes (or unmutes) everyone in the conference but its host and co-hosts, and records the
/// setting: with `force`, nobody may unmute themselves.
fn set_mute_all(state: &mut State, id: &str, mute: bool, force: bool) {
    let settings = &mut state.control_mut(id).settings;
    settings.mute_all = mute;
    settings.allow_unmute_self = !(mute && force);
    for record in state.members_mut(id) {
        let leads = record.member.host == Some(true) || record.member.co_host == Some(true);
        if record.member.attend_status == Some(IN_MEETING) && !leads {
            record.mic_status = if mute { MIC_OFF } else { MIC_ON };
        }
    }
}

/// Changes the settings that are present; `muteAll` mutes everyone as [`mute_all`] does
/// (forced unless self-unmuting is allowed). Answers `{code: "200", case: "success"}`.
fn update_video_conference_setting(
    request: UpdateVideoConferenceSetting,
    state: &mut State,
) -> Result<UpdateVideoConferenceSettingResponse, Failure> {
    let id = request.conference_id;
    running(state, &id)?;
    let body = request.body;
    let settings = &mut state.control_mut(&id).settings;
    if let Some(allow) = body.allow_unmute_self {
        settings.allow_unmute_self = allow;
    }
    if let Some(transfer) = body.auto_transfer_host {
        settings.auto_transfer_host = transfer;
    }
    if let Some(forbid) = body.forbidden_share_screen {
        settings.forbid_share_screen = forbid;
    }
    if let Some(locked) = body.lock_conference {
        settings.locked = locked;
    }
    if let Some(only) = body.only_internal_employees_join {
        settings.only_internal = only;
    }
    let force = !settings.allow_unmute_self;
    if let Some(mute) = body.mute_all {
        set_mute_all(state, &id, mute, force);
    }
    Ok(UpdateVideoConferenceSettingResponse {
        code: Some("200".to_owned()),
        case: Some("success".to_owned()),
    })
}

/// Adds or removes co-hosts among the members in the conference. The host cannot be made a
/// co-host (`paramsError`); an unknown action is `paramsError`.
fn cohosts(request: Cohosts, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let add = match request.body.action.as_str() {
        "add" => true,
        "remove" => false,
        other => return Err(params_error(format!("unknown action {other:?}"))),
    };
    running(state, &id)?;
    // Every user is checked before any role changes: a refused request changes nothing.
    for user in &request.body.user_list {
        let member = &present(state, &id, &user.union_id)?.member;
        if member.host == Some(true) {
            return Err(params_error("the host cannot be a co-host"));
        }
    }
    for user in &request.body.user_list {
        present(state, &id, &user.union_id)?.member.co_host = Some(add);
    }
    Ok(done())
}

/// Sets the focus on a member in the conference, or clears it (`un_focus` accepts any
/// unionId the request names: DingTalk's SDKs send one, the documentation needs none).
fn focus(request: Focus, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let on = match request.body.action.as_str() {
        "focus" => true,
        "un_focus" => false,
        other => return Err(params_error(format!("unknown action {other:?}"))),
    };
    running(state, &id)?;
    let target = if on {
        present(state, &id, &request.body.union_id)?;
        Some(request.body.union_id)
    } else {
        None
    };
    state.control_mut(&id).focus = target;
    Ok(done())
}

/// Calls users and phone numbers into the conference: each becomes "being called"
/// (`attendStatus` 2). Someone already in it is left as they are; someone who left, declined
/// or was removed is called again (an invitation by the host lifts a `forbiddenRejoin`). An
/// invitee without a unionId cannot be identified here (`unknownUserError`); an invitation of
/// nobody, or a blank phone number, is `paramsError`.
fn invite_users(request: InviteUsers, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let body = request.body;
    running(state, &id)?;
    if let Some(operator) = &body.union_id {
        may_control(state, &id, operator)?;
    }
    if body.invitee_list.is_empty() && body.phone_invitee_list.is_empty() {
        return Err(params_error(
            "inviteeList or phoneInviteeList must name someone",
        ));
    }
    let mut users = Vec::new();
    for invitee in &body.invitee_list {
        if invitee.nick.trim().is_empty() {
            return Err(params_error("inviteeList[].nick is required"));
        }
        match &invitee.union_id {
            Some(union_id) => users.push((union_id.clone(), invitee.nick.clone())),
            None => return Err(unknown_user(&invitee.nick)),
        }
    }
    let mut phones = Vec::new();
    for phone in &body.phone_invitee_list {
        let number = phone.phone_number.as_deref().map(str::trim).unwrap_or("");
        if number.is_empty() {
            return Err(params_error("phoneInviteeList[].phoneNumber is required"));
        }
        let nick = phone.nick.clone().unwrap_or_else(|| number.to_owned());
        phones.push(nick);
    }
    let mut invited = 0;
    let mut called = Vec::new(); // events
    for (union_id, nick) in users {
        state.control_mut(&id).barred.remove(&union_id);
        match record(state, &id, &union_id) {
            Some(record) if record.member.attend_status == Some(IN_MEETING) => {}
            Some(record) => {
                record.member.attend_status = Some(CALLING);
                record.reject_description = None;
                called.push(record.member.clone());
            }
            None => {
                let record = calling(&id, Some(union_id), nick, false);
                called.push(record.member.clone());
                state.members_mut(&id).push(record);
                invited += 1;
            }
        }
    }
    for nick in phones {
        let record = calling(&id, None, nick, true);
        called.push(record.member.clone());
        state.members_mut(&id).push(record);
        invited += 1;
    }
    state.adjust_counts(&id, 0, invited);
    state.emit_member_change(&id, &called, USER_INVITED); // events
    Ok(done())
}

/// A new member record of someone being called.
fn calling(id: &str, union_id: Option<String>, nick: String, phone: bool) -> MemberRecord {
    MemberRecord::new(ConferenceMember {
        union_id,
        conference_id: Some(id.to_owned()),
        user_nick: Some(nick),
        host: Some(false),
        co_host: Some(false),
        attend_status: Some(CALLING),
        pstn_join: Some(phone),
        ..ConferenceMember::default()
    })
}

/// Calls a room system into the conference in progress with `roomCode`: it shows among the
/// members as `MCU <code>`, being called. `400 invalidRoomCode` when no conference in progress
/// has the code (`confClosed` when only ended or unstarted ones have it).
fn invite_mcu(request: InviteMcu, state: &mut State) -> Result<ControlResponse, Failure> {
    let body = request.body;
    let code = body.room_code.trim();
    let with_code: Vec<_> = state
        .conferences()
        .into_iter()
        .filter(|info| info.room_code.as_deref() == Some(code))
        .collect();
    let Some(id) = with_code
        .iter()
        .find(|info| info.status == Some(2))
        .and_then(|info| info.conference_id.clone())
    else {
        return Err(if with_code.is_empty() {
            Failure::bad_request("invalidRoomCode", "INVALID ROOM CODE")
        } else {
            Failure::bad_request("confClosed", "the meeting is not in progress")
        });
    };
    may_control(state, &id, &body.union_id)?;
    let mcu = body.mcu_room_code.trim().to_owned();
    let control = state.control_mut(&id);
    if !control.mcus.contains(&mcu) {
        control.mcus.push(mcu.clone());
        let record = calling(&id, None, format!("MCU {mcu}"), false);
        let called = [record.member.clone()]; // events
        state.members_mut(&id).push(record);
        state.adjust_counts(&id, 0, 1);
        state.emit_member_change(&id, &called, USER_INVITED); // events
    }
    Ok(done())
}

/// Removes members who are in the conference or being called: `attendStatus` 5, `leaveTime`
/// now (and `duration` for those who were in it), microphone off, no co-host role, no focus.
/// With `forbiddenRejoin` they cannot join again. The host cannot be removed (`paramsError`);
/// everyone is checked before anyone is removed.
fn kick_members(request: KickMembers, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    running(state, &id)?;
    let body = request.body;
    for user in &body.user_list {
        let member = &record(state, &id, &user.union_id)
            .filter(|r| matches!(r.member.attend_status, Some(CALLING | IN_MEETING)))
            .ok_or_else(|| unknown_user(&user.union_id))?
            .member;
        if member.host == Some(true) {
            return Err(params_error("the host cannot be removed"));
        }
    }
    let now = now_millis();
    let mut left = 0;
    let mut kicked = Vec::new(); // events
    for user in &body.user_list {
        let Some(record) = record(state, &id, &user.union_id) else {
            continue;
        };
        let member = &mut record.member;
        if member.attend_status == Some(IN_MEETING) {
            left += 1;
            member.duration = member.join_time.map(|join| (now - join).max(0));
        }
        if member.attend_status == Some(REMOVED) {
            // Named twice in one request.
            continue;
        }
        member.attend_status = Some(REMOVED);
        member.leave_time = Some(now);
        member.co_host = Some(false);
        kicked.push(member.clone());
        record.mic_status = MIC_OFF;
        let control = state.control_mut(&id);
        if control.focus.as_deref() == Some(user.union_id.as_str()) {
            control.focus = None;
        }
        if body.forbidden_rejoin == Some(true) {
            control.barred.insert(user.union_id.clone());
        }
    }
    state.adjust_counts(&id, -left, 0);
    state.emit_member_change(&id, &kicked, USER_KICKED); // events
    Ok(done())
}

/// Locks or unlocks the conference: a locked one refuses joins. An unknown action is
/// `commandError`, as the operation's page documents.
fn lock_conference(request: LockConference, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let locked = match request.body.action.as_str() {
        "lock" => true,
        "unlock" => false,
        other => {
            return Err(Failure::bad_request(
                "commandError",
                format!("commandError:unknown action {other:?}"),
            ));
        }
    };
    running(state, &id)?;
    state.control_mut(&id).settings.locked = locked;
    Ok(done())
}

/// Mutes or unmutes everyone in the conference but its host and co-hosts; `forceMute` (default
/// false) keeps them from unmuting themselves (`mediaStatus` 4 in the batch query).
fn mute_all(request: MuteAll, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let mute = match request.body.action.as_str() {
        "mute" => true,
        "un_mute" => false,
        other => return Err(params_error(format!("unknown action {other:?}"))),
    };
    running(state, &id)?;
    set_mute_all(state, &id, mute, request.body.force_mute == Some(true));
    Ok(done())
}

/// Mutes or unmutes one member in the conference; more than one user is `paramsError`, as
/// DingTalk takes one today.
fn mute_members(request: MuteMembers, state: &mut State) -> Result<ControlResponse, Failure> {
    let id = request.conference_id;
    let mute = match request.body.action.as_str() {
        "mute" => true,
        "un_mute" => false,
        other => return Err(params_error(format!("unknown action {other:?}"))),
    };
    let [user] = request.body.user_list.as_slice() else {
        return Err(params_error("userList takes exactly one user"));
    };
    running(state, &id)?;
    present(state, &id, &user.union_id)?.mic_status = if mute { MIC_OFF } else { MIC_ON };
    Ok(done())
}
