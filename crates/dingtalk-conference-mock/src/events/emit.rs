//! The events the fake's state changes make, built from the state itself: a conference created
//! or closed (`meeting_status_change`), members joining, leaving, invited or kicked
//! (`meeting_member_status_change`), the `*_target_push` copies of both for conferences made
//! through `createVideoConference`, and flash minutes whose summary is ready
//! (`flash_minutes_open_event`). Payloads are DingTalk's Stream `data` objects (docs/EVENTS.md,
//! part emit, has the table of which change emits what).
//!
//! Also here: the ticker that applies status scripts when they fall due, so a scripted end
//! emits its `conference_closed` at the end and not at the next read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dingtalk_conference_api::types::{ConferenceInfo, ConferenceMember};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use crate::state::{Shared, State};

/// `meeting_status_change`: a conference created or closed.
pub(crate) const STATUS_CHANGE: &str = "meeting_status_change";
/// `meeting_status_change_target_push`: the same, for the app that created the conference.
pub(crate) const STATUS_CHANGE_TARGET: &str = "meeting_status_change_target_push";
/// `meeting_member_status_change`: members joined, left, were invited or kicked.
pub(crate) const MEMBER_CHANGE: &str = "meeting_member_status_change";
/// `meeting_member_status_change_target_push`: the same, for the app that created it.
pub(crate) const MEMBER_CHANGE_TARGET: &str = "meeting_member_status_change_target_push";
/// `flash_minutes_open_event`: the flash minutes' summary is ready.
pub(crate) const MINUTES_EVENT: &str = "flash_minutes_open_event";

/// `changeScene` of a conference that started (created, or a scheduled instance starting).
pub(crate) const CONFERENCE_CREATED: &str = "conference_created";
/// `changeScene` of a conference that ended (closed, or a scripted end).
pub(crate) const CONFERENCE_CLOSED: &str = "conference_closed";
/// `changeScene` of members who came in.
pub(crate) const USER_JOIN: &str = "user_join";
/// `changeScene` of members who were in and left (the conference ended around them).
pub(crate) const USER_LEAVE: &str = "user_leave";
/// `changeScene` of members being called in.
pub(crate) const USER_INVITED: &str = "user_invited";
/// `changeScene` of members removed by the host.
pub(crate) const USER_KICKED: &str = "user_kicked";

/// What emitting needs to remember between changes: each conference's `statusSeqNum`, which
/// conferences the open API created (they also get the `*_target_push` events), and which
/// organisation each belongs to.
#[derive(Debug, Default)]
pub(crate) struct Emitter {
    /// The last `statusSeqNum` given, by conference id.
    seqs: HashMap<String, i64>,
    /// Conferences whose next change skips one number ([`crate::MockServer::skip_seq`]).
    skip: HashSet<String>,
    /// Conferences created through `createVideoConference`.
    api_created: HashSet<String>,
    /// The organisation of each conference created over HTTP, when the caller's token named
    /// one (a third-party app's); the others are [`crate::DEFAULT_CORP_ID`]'s.
    corps: HashMap<String, String>,
    /// The organisation of the request being served, if its token names one.
    caller_corp: Option<String>,
}

impl Emitter {
    /// The next `statusSeqNum` of conference `id`: 1 for its first change, then one more per
    /// change (two more once after [`Emitter::skip`]).
    fn next_seq(&mut self, id: &str) -> i64 {
        let step = if self.skip.remove(id) { 2 } else { 1 };
        let seq = self.seqs.entry(id.to_owned()).or_insert(0);
        *seq = seq.saturating_add(step);
        *seq
    }

    /// Makes the next change of conference `id` skip one `statusSeqNum`, as if an event had
    /// been lost on the way.
    pub(crate) fn skip(&mut self, id: &str) {
        self.skip.insert(id.to_owned());
    }

    /// Notes the organisation of the request being served (`None` between requests).
    pub(crate) fn set_caller_corp(&mut self, corp: Option<String>) {
        self.caller_corp = corp;
    }

    /// Notes that conference `id` was created through the open API by the current caller.
    pub(crate) fn created_by_api(&mut self, id: &str) {
        self.api_created.insert(id.to_owned());
        if let Some(corp) = self.caller_corp.clone() {
            self.corps.insert(id.to_owned(), corp);
        }
    }

    /// The organisation conference `id` belongs to.
    fn corp_of(&self, id: &str) -> String {
        self.corps
            .get(id)
            .cloned()
            .unwrap_or_else(|| crate::DEFAULT_CORP_ID.to_owned())
    }

    /// Forgets conference `id` (it was removed from the server).
    pub(crate) fn forget(&mut self, id: &str) {
        self.seqs.remove(id);
        self.skip.remove(id);
        self.api_created.remove(id);
        self.corps.remove(id);
    }
}

impl State {
    /// Emits `meeting_status_change` (and its target push for an API-created conference) with
    /// `scene` and conference `id`'s snapshot as it is now. Nothing for an unknown id.
    pub(crate) fn emit_conference_change(&mut self, id: &str, scene: &str) {
        let Some(info) = self.conference_as_held(id) else {
            return;
        };
        let model = conf_model(&info);
        let seq = self.emitter.next_seq(id);
        let data = json!({"openConfModel": model, "statusSeqNum": seq, "changeScene": scene});
        self.emit_both(id, STATUS_CHANGE, STATUS_CHANGE_TARGET, data);
    }

    /// Emits `meeting_member_status_change` (and its target push for an API-created
    /// conference) with `scene` for `members` of conference `id`, in one event. Nothing when
    /// `members` is empty.
    pub(crate) fn emit_member_change(
        &mut self,
        id: &str,
        members: &[ConferenceMember],
        scene: &str,
    ) {
        if members.is_empty() {
            return;
        }
        let models: Vec<Value> = members.iter().map(|m| member_model(id, m)).collect();
        let seq = self.emitter.next_seq(id);
        let data = json!({"openMemberModels": models, "statusSeqNum": seq, "changeScene": scene});
        self.emit_both(id, MEMBER_CHANGE, MEMBER_CHANGE_TARGET, data);
    }

    /// Emits `flash_minutes_open_event` `summary_generated` for conference `id`'s minutes,
    /// whose task is `task_id`.
    pub(crate) fn emit_minutes_ready(&mut self, id: &str, task_id: &str) {
        let schedule = self
            .conference_as_held(id)
            .and_then(|info| info.schedule_conference_id);
        let mut conf = Map::new();
        conf.insert("conferenceId".to_owned(), json!(id));
        if let Some(schedule) = schedule {
            conf.insert("scheduleConferenceId".to_owned(), json!(schedule));
        }
        let data = json!({
            "openConfModel": conf,
            "bizType": "minutes",
            "minutesEventType": "summary_generated",
            "minutesTaskId": task_id,
        });
        let corp = self.emitter.corp_of(id);
        self.emit_event(MINUTES_EVENT, &corp, data);
    }

    /// Emits `data` as `plain`, and again as `targeted` when the open API created conference
    /// `id` (the same change, so the same `statusSeqNum`).
    fn emit_both(&mut self, id: &str, plain: &str, targeted: &str, data: Value) {
        let corp = self.emitter.corp_of(id);
        let target = self.emitter.api_created.contains(id);
        if target {
            self.emit_event(plain, &corp, data.clone());
            self.emit_event(targeted, &corp, data);
        } else {
            self.emit_event(plain, &corp, data);
        }
    }
}

/// `openConfModel`: the conference as the query API would show it, under the names the event
/// pages use. Fields the state does not hold (an end time while it runs) are left out.
pub(crate) fn conf_model(info: &ConferenceInfo) -> Value {
    let mut model = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            model.insert(key.to_owned(), value);
        }
    };
    put("conferenceId", info.conference_id.clone().map(Value::from));
    put("title", info.title.clone().map(Value::from));
    put("roomCode", info.room_code.clone().map(Value::from));
    put(
        "externalLinkUrl",
        info.external_link_url.clone().map(Value::from),
    );
    put("status", info.status.map(Value::from));
    put("startTime", info.start_time.map(Value::from));
    put("endTime", info.end_time.map(Value::from));
    put("confDuration", info.conf_duration.map(Value::from));
    put("invitedNum", info.invited_num.map(Value::from));
    put("activeNum", info.active_num.map(Value::from));
    put("attendNum", info.attend_num.map(Value::from));
    put("creatorId", info.creator_id.clone().map(Value::from));
    put("creatorNick", info.creator_nick.clone().map(Value::from));
    put(
        "scheduleConferenceId",
        info.schedule_conference_id.clone().map(Value::from),
    );
    put("bizType", info.biz_type.clone().map(Value::from));
    Value::Object(model)
}

/// One of `openMemberModels`: the member record of conference `id` under the event pages'
/// names (`userId` is the unionId, empty for someone without one, such as a phone number).
pub(crate) fn member_model(id: &str, member: &ConferenceMember) -> Value {
    let mut model = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            model.insert(key.to_owned(), value);
        }
    };
    put(
        "userId",
        Some(Value::from(member.union_id.clone().unwrap_or_default())),
    );
    put(
        "conferenceId",
        Some(Value::from(
            member
                .conference_id
                .clone()
                .unwrap_or_else(|| id.to_owned()),
        )),
    );
    put("userNick", member.user_nick.clone().map(Value::from));
    put("joinTime", member.join_time.map(Value::from));
    put("leaveTime", member.leave_time.map(Value::from));
    put("duration", member.duration.map(Value::from));
    put("attendStatus", member.attend_status.map(Value::from));
    put("host", member.host.map(Value::from));
    put("coHost", member.co_host.map(Value::from));
    put("outerOrgMember", member.outer_org_member.map(Value::from));
    put("pstnJoin", member.pstn_join.map(Value::from));
    put("deviceType", member.device_type.clone().map(Value::from));
    Value::Object(model)
}

/// Applies status scripts when they fall due, for as long as the server runs: it sleeps until
/// the earliest pending step (on Tokio's clock, so a paused test clock moves it), wakes early
/// when a script is added, and stops at `shutdown` (or when the server's handle is gone).
pub(crate) async fn script_ticker(
    shared: Arc<Shared>,
    added: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let next = {
            let mut state = shared.lock();
            state.apply_due_scripts();
            state.next_script_step()
        };
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = added.notified() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
}
