//! The server's shared state: credentials, tokens, conferences, status scripts, faults, and the
//! request log. Everything lives behind one `std::sync::Mutex` that is never held across an
//! `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dingtalk_conference_api::types::{
    CloudRecordVideo, ConferenceInfo, ConferenceMember, ScheduleConfSettingModel,
    TranscriptParagraph,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use crate::fault::{Fault, FaultScope, RouteKind};
use crate::limits::{Limits, Owner, Refusal};
use crate::{Counters, MockConfig, RecordedRequest, seed};

/// How many requests the log keeps; older ones are dropped first. Large enough for any test
/// (a 10,000-call load test fits ten times over), small enough that a long-running binary does
/// not grow without bound.
pub(crate) const LOG_CAPACITY: usize = 100_000;

/// Expired tokens are forgotten once this many tokens are on record (they would be refused
/// either way: an unknown token and an expired one get the same answer).
const TOKEN_PRUNE_THRESHOLD: usize = 10_000;

/// A registered third-party (suite) app.
#[derive(Debug)]
struct Suite {
    secret: String,
    ticket: String,
    corps: HashSet<String>,
}

/// One step of a status script.
#[derive(Debug, Clone, Copy)]
struct Step {
    at: Instant,
    status: i32,
}

/// One member of a conference: what `queryConferenceMembers` lists, and what only the batch
/// query shows of them (devices and why they declined).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemberRecord {
    pub(crate) member: ConferenceMember,
    /// `cameraStatus`: 0 initialised, 1 off, 2 on.
    pub(crate) camera_status: i64,
    /// `micStatus`: 0 initialised, 1 off, 2 on.
    pub(crate) mic_status: i64,
    /// Why they declined the call, for a member who did.
    pub(crate) reject_description: Option<String>,
}

impl MemberRecord {
    /// A member with devices not yet initialised and no reason to decline.
    pub(crate) fn new(member: ConferenceMember) -> Self {
        Self {
            member,
            camera_status: 0,
            mic_status: 0,
            reject_description: None,
        }
    }
}

/// A conference's finished cloud recording: its video files and its transcript.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Recording {
    pub(crate) videos: Vec<CloudRecordVideo>,
    /// The transcript, in the order spoken (ascending `startTime`).
    pub(crate) paragraphs: Vec<TranscriptParagraph>,
}

// part record-stream: live pushes, recordings in progress and the recording allow-list.

/// One live push of a conference (`startStreamOut`), until it is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveStream {
    /// The live id `successStreamMap` gave for it, the `streamId` that stops it.
    pub(crate) id: String,
    /// The RTMP address it pushes to.
    pub(crate) url: String,
    /// The stream's name.
    pub(crate) name: String,
}

// part schedule
/// A scheduled conference (预约会议) as `createScheduleConference` made it and the later
/// writes changed it. Its conference instances are ordinary conferences whose
/// `scheduleConferenceId` names it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScheduleRecord {
    /// unionId of the creator: the only user who may update, cancel or change its settings.
    pub(crate) creator: String,
    /// The title, already cut to the 50 characters DingTalk keeps.
    pub(crate) title: String,
    /// Planned start and end, epoch milliseconds.
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// The room code (digits, no spaces) its instances use.
    pub(crate) room_code: String,
    /// The share link.
    pub(crate) url: String,
    /// Whether it was cancelled (`resourceCancel` from then on).
    pub(crate) cancelled: bool,
    /// The settings as written, merged field by field over the earlier ones.
    pub(crate) settings: ScheduleConfSettingModel,
    /// The custom short links made for it, in order.
    pub(crate) short_links: Vec<String>,
}
// part minutes
/// A conference's flash minutes (闪记): who owns them, who speaks in them, and when they ran.
/// Their text is not stored: it is derived from how long they have run
/// (`handlers/minutes.rs`), so it grows while they run and stops while they are paused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Minutes {
    /// `ownerUnionId` (or whoever started them): may read and share them.
    pub(crate) owner: String,
    /// The `unionId` that first started them: may read them too.
    pub(crate) starter: String,
    /// Whether the audio is kept (`recordAudio`), for `queryMinutesAudio`.
    pub(crate) record_audio: bool,
    /// `recordId` of the text: when they were first started (epoch milliseconds).
    pub(crate) record_id: i64,
    /// The speakers, frozen when the minutes were first started: (unionId, nickname).
    pub(crate) speakers: Vec<(String, String)>,
    /// Each time they ran, in order; only the last may still be running.
    pub(crate) runs: Vec<MinutesRun>,
}

impl Minutes {
    /// Whether they are running now (not paused).
    pub(crate) fn running(&self) -> bool {
        self.runs.last().is_some_and(|run| run.ran.is_none())
    }
}

/// One stretch of running minutes, from a start to a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinutesRun {
    /// When it started, in epoch milliseconds (the audio's `startTime`).
    pub(crate) started_ms: i64,
    /// When it started, on Tokio's clock (so paused test clocks move it).
    pub(crate) started: Instant,
    /// Time it had already run when `started` was taken (the seeded minutes began before the
    /// server did).
    pub(crate) head_start: Duration,
    /// How long it ran, once paused; `None` while it runs.
    pub(crate) ran: Option<Duration>,
}

impl MinutesRun {
    /// A run starting now.
    pub(crate) fn now() -> Self {
        Self {
            started_ms: now_millis(),
            started: Instant::now(),
            head_start: Duration::ZERO,
            ran: None,
        }
    }

    /// How long it has run (until now, or until it was paused).
    pub(crate) fn length(&self) -> Duration {
        self.ran
            .unwrap_or_else(|| self.started.elapsed().saturating_add(self.head_start))
    }
}
// end part minutes

/// Why a token request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// `invalidClientIdOrSecret`.
    ClientIdOrSecret,
    /// `invalidSuiteKey`.
    SuiteKey,
    /// `invalidSuiteTicket`.
    SuiteTicket,
    /// `invalidAuthInfo`.
    AuthInfo,
}

/// The state behind the mutex.
#[derive(Debug)]
pub(crate) struct State {
    token_lifetime: Duration,
    /// Whether issuing a corp token invalidates the earlier ones of the same suite and
    /// organisation ([`MockConfig::invalidate_previous_corp_tokens`]).
    invalidate_previous_corp_tokens: bool,
    apps: HashMap<String, String>,
    /// The current token of each internal app, by app key.
    app_tokens: HashMap<String, String>,
    suites: HashMap<String, Suite>,
    /// Every issued token: when it expires, and whom it was issued to.
    tokens: HashMap<String, (Instant, Owner)>,
    conferences: BTreeMap<String, ConferenceInfo>,
    /// Each conference's members, in the order they were invited.
    members: HashMap<String, Vec<MemberRecord>>,
    /// The finished cloud recordings, by conference id.
    recordings: HashMap<String, Recording>,
    /// part control: each conference's settings, focus and barred members, by conference id.
    control: HashMap<String, Control>,
    // part minutes
    /// The flash minutes, by conference id.
    minutes: HashMap<String, Minutes>,
    /// Who was granted access to a record (`addRecordPermission`), by conference id and
    /// `bizType`, in the order granted.
    record_grants: HashMap<(String, String), Vec<String>>,
    scripts: HashMap<String, VecDeque<Step>>,
    // part record-stream
    /// Each conference's live pushes, in the order started.
    streams: HashMap<String, Vec<LiveStream>>,
    /// When each cloud recording in progress started (epoch milliseconds), by conference id.
    recording_started: HashMap<String, i64>,
    /// The recording allow-list: per `bizType`, the `(settingRangeId, settingRangeType)` pairs.
    record_allow_list: BTreeMap<String, BTreeSet<(String, i32)>>,
    // end part record-stream
    // part schedule
    /// The scheduled conferences, by `scheduleConferenceId`.
    schedules: BTreeMap<String, ScheduleRecord>,
    // part org
    /// Whether each conference's subtitle events are pushed (`setSubtitleEvent`), by
    /// conference id; absent until set.
    subtitle_events: HashMap<String, bool>,
    faults: VecDeque<(FaultScope, Fault)>,
    /// The events the state's changes made, for the gateway and HTTP push.
    pub(crate) events: crate::events::EventBus,
    // events
    /// What emitting remembers between changes (`statusSeqNum`s, API-created conferences).
    pub(crate) emitter: crate::events::emit::Emitter,
    /// Woken when a status script is set, so the script ticker re-plans its sleep.
    pub(crate) script_added: std::sync::Arc<tokio::sync::Notify>,
    log: VecDeque<RecordedRequest>,
    counters: Counters,
    limits: Limits,
    rng: StdRng,
}

/// The state, shared between the [`MockServer`](crate::MockServer) handle and the connections.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The Stream mode gateway (its own lock: frames never wait for the state's).
    pub(crate) gateway: crate::events::gateway::Gateway,
}

impl Shared {
    pub(crate) fn new(config: &MockConfig) -> Self {
        let mut state = State {
            token_lifetime: config.token_lifetime,
            invalidate_previous_corp_tokens: config.invalidate_previous_corp_tokens,
            apps: HashMap::new(),
            app_tokens: HashMap::new(),
            suites: HashMap::new(),
            tokens: HashMap::new(),
            conferences: BTreeMap::new(),
            members: HashMap::new(),
            recordings: HashMap::new(),
            control: HashMap::new(),
            minutes: HashMap::new(),
            record_grants: HashMap::new(),
            scripts: HashMap::new(),
            streams: HashMap::new(),
            recording_started: HashMap::new(),
            record_allow_list: BTreeMap::new(),
            schedules: BTreeMap::new(),
            subtitle_events: HashMap::new(),
            faults: VecDeque::new(),
            events: crate::events::EventBus::default(),
            emitter: crate::events::emit::Emitter::default(),
            script_added: std::sync::Arc::default(),
            log: VecDeque::new(),
            counters: Counters::default(),
            limits: Limits::new(config),
            rng: StdRng::from_os_rng(),
        };
        state.add_app(crate::DEFAULT_APP_KEY, crate::DEFAULT_APP_SECRET);
        state.add_suite(
            crate::DEFAULT_SUITE_KEY,
            crate::DEFAULT_SUITE_SECRET,
            crate::DEFAULT_CORP_ID,
            crate::DEFAULT_SUITE_TICKET,
        );
        if config.seed {
            for info in seed::conferences() {
                if let Some(id) = info.conference_id.clone() {
                    state.members.insert(id, seed::members(&info));
                }
                state.upsert(info);
            }
            for (id, recording) in seed::recordings() {
                state.recordings.insert(id.to_owned(), recording);
            }
            // part schedule
            for (id, schedule) in seed::schedules() {
                state.schedules.insert(id.to_owned(), schedule);
            }

            for (id, minutes) in seed::minutes() {
                state.minutes.insert(id.to_owned(), minutes);
            }
        }
        Self {
            state: Mutex::new(state),
            gateway: crate::events::gateway::Gateway::new(
                config.event_redelivery,
                config.gateway_ping,
            ),
        }
    }

    /// Locks the state; a panic elsewhere while it was locked does not make it unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    pub(crate) fn add_app(&mut self, key: &str, secret: &str) {
        self.apps.insert(key.to_owned(), secret.to_owned());
    }

    pub(crate) fn add_suite(&mut self, key: &str, secret: &str, corp: &str, ticket: &str) {
        let suite = self.suites.entry(key.to_owned()).or_insert_with(|| Suite {
            secret: String::new(),
            ticket: String::new(),
            corps: HashSet::new(),
        });
        secret.clone_into(&mut suite.secret);
        ticket.clone_into(&mut suite.ticket);
        suite.corps.insert(corp.to_owned());
    }

    pub(crate) fn set_suite_ticket(&mut self, key: &str, ticket: &str) {
        if let Some(suite) = self.suites.get_mut(key) {
            ticket.clone_into(&mut suite.ticket);
        }
    }

    pub(crate) fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    pub(crate) fn set_token_lifetime(&mut self, lifetime: Duration) {
        self.token_lifetime = lifetime;
    }

    pub(crate) fn set_corp_token_invalidation(&mut self, on: bool) {
        self.invalidate_previous_corp_tokens = on;
    }

    pub(crate) fn expire_all_tokens(&mut self) {
        let now = Instant::now();
        for (expiry, _) in self.tokens.values_mut() {
            *expiry = now;
        }
    }

    fn expiry_from(&self, now: Instant) -> Instant {
        // A lifetime too large for the clock is as good as forever.
        now.checked_add(self.token_lifetime)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
    }

    /// Mints a new random token for `owner`, valid for the current lifetime.
    pub(crate) fn mint_token(&mut self, owner: Owner) -> String {
        let now = Instant::now();
        if self.tokens.len() >= TOKEN_PRUNE_THRESHOLD {
            self.tokens.retain(|_, (expiry, _)| *expiry > now);
        }
        let token = format!("{:032x}", self.rng.random::<u128>());
        let expiry = self.expiry_from(now);
        self.tokens.insert(token.clone(), (expiry, owner));
        token
    }

    /// Whom `token` was issued to, if it was issued and has not expired.
    pub(crate) fn token_owner(&self, token: &str) -> Option<&Owner> {
        self.tokens
            .get(token)
            .filter(|(expiry, _)| *expiry > Instant::now())
            .map(|(_, owner)| owner)
    }

    /// Whether `token` was issued and has not expired.
    pub(crate) fn token_is_valid(&self, token: &str) -> bool {
        self.token_owner(token).is_some()
    }

    /// An internal app's token: the current one (its expiry extended) while it is valid, else a
    /// new one.
    pub(crate) fn app_token(&mut self, key: &str, secret: &str) -> Result<String, TokenError> {
        if self.apps.get(key).is_none_or(|known| known != secret) {
            return Err(TokenError::ClientIdOrSecret);
        }
        if let Some(current) = self.app_tokens.get(key).cloned()
            && self.token_is_valid(&current)
        {
            let expiry = self.expiry_from(Instant::now());
            self.tokens
                .insert(current.clone(), (expiry, Owner::App(key.to_owned())));
            return Ok(current);
        }
        let token = self.mint_token(Owner::App(key.to_owned()));
        self.app_tokens.insert(key.to_owned(), token.clone());
        Ok(token)
    }

    /// A third-party app's token for one organisation: a new one every time. With
    /// [`MockConfig::invalidate_previous_corp_tokens`], every earlier token of the same suite
    /// and organisation expires at once (and gets `InvalidAuthentication` from then on).
    pub(crate) fn corp_token(
        &mut self,
        key: &str,
        secret: &str,
        corp: &str,
        ticket: &str,
    ) -> Result<String, TokenError> {
        let Some(suite) = self.suites.get(key).filter(|suite| suite.secret == secret) else {
            return Err(TokenError::SuiteKey);
        };
        if suite.ticket != ticket {
            return Err(TokenError::SuiteTicket);
        }
        if !suite.corps.contains(corp) {
            return Err(TokenError::AuthInfo);
        }
        let owner = Owner::Suite {
            suite: key.to_owned(),
            corp: corp.to_owned(),
        };
        if self.invalidate_previous_corp_tokens {
            let now = Instant::now();
            for (expiry, issued_to) in self.tokens.values_mut() {
                if *issued_to == owner && *expiry > now {
                    *expiry = now;
                }
            }
        }
        Ok(self.mint_token(owner))
    }

    /// Stores `info` under `id`.
    pub(crate) fn upsert_at(&mut self, id: &str, info: ConferenceInfo) {
        self.conferences.insert(id.to_owned(), info);
        self.wake_ticker_for(id); // events
    }

    /// Stores `info` under its own `conference_id`; without one, it is ignored.
    pub(crate) fn upsert(&mut self, info: ConferenceInfo) {
        if let Some(id) = info.conference_id.clone() {
            self.wake_ticker_for(&id); // events
            self.conferences.insert(id, info);
        }
    }

    /// The organisations whose events a Stream connection opened with `client_id` and `secret`
    /// receives: an internal app's (every internal app belongs to [`crate::DEFAULT_CORP_ID`]),
    /// or those that authorised a suite (third-party apps connect with the suite's key and
    /// secret); `None` for credentials the fake does not know.
    pub(crate) fn stream_subscriber(&self, client_id: &str, secret: &str) -> Option<Vec<String>> {
        if self
            .apps
            .get(client_id)
            .is_some_and(|known| known == secret)
        {
            return Some(vec![crate::DEFAULT_CORP_ID.to_owned()]);
        }
        let suite = self
            .suites
            .get(client_id)
            .filter(|suite| suite.secret == secret)?;
        let mut corps: Vec<String> = suite.corps.iter().cloned().collect();
        corps.sort();
        Some(corps)
    }

    // events
    /// Wakes the script ticker when conference `id` has a script waiting for it to appear.
    fn wake_ticker_for(&self, id: &str) {
        if self.scripts.contains_key(id) {
            self.script_added.notify_one();
        }
    }

    /// Emits an event for the gateway and HTTP push ([`crate::events`]), under this lock so
    /// events leave in the order the changes happened.
    pub(crate) fn emit_event(
        &mut self,
        event_type: &str,
        corp_id: &str,
        data: serde_json::Value,
    ) -> std::sync::Arc<crate::events::MockEvent> {
        self.events.emit(&mut self.rng, event_type, corp_id, data)
    }

    pub(crate) fn remove_conference(&mut self, id: &str) {
        self.emitter.forget(id); // events
        self.conferences.remove(id);
        self.members.remove(id);
        self.recordings.remove(id);
        self.scripts.remove(id);
        self.streams.remove(id);
        self.recording_started.remove(id);
        self.control.remove(id);
        self.subtitle_events.remove(id);
    }

    /// Every conference as it is now (scripts applied), in id order.
    pub(crate) fn conferences(&mut self) -> Vec<ConferenceInfo> {
        let scripted: Vec<String> = self.scripts.keys().cloned().collect();
        for id in scripted {
            self.apply_script(&id);
        }
        self.conferences.values().cloned().collect()
    }

    /// The members of conference `id` as they are now (empty for a conference without any,
    /// or one the server does not hold).
    pub(crate) fn members(&mut self, id: &str) -> &[MemberRecord] {
        self.apply_script(id);
        self.members.get(id).map_or(&[], Vec::as_slice)
    }

    /// Replaces the members of conference `id`.
    pub(crate) fn set_members(&mut self, id: &str, members: Vec<MemberRecord>) {
        self.members.insert(id.to_owned(), members);
    }

    /// Replaces the finished cloud recording of conference `id`.
    pub(crate) fn set_recording(&mut self, id: &str, recording: Recording) {
        self.recordings.insert(id.to_owned(), recording);
    }

    /// The finished cloud recording of conference `id`, if it has one.
    pub(crate) fn recording(&mut self, id: &str) -> Option<&Recording> {
        self.apply_script(id);
        self.recordings.get(id)
    }

    /// Ends conference `id` at `at_ms` (epoch milliseconds), the way closing it or a scripted
    /// end does: see [`transition`] for the conference, and its members who were in it leave
    /// (`attendStatus` 6, with `leaveTime` and `duration`) while those still being called fail
    /// to join (4); a cloud recording it finishes gets its videos. Nothing happens for an id
    /// the server does not hold.
    pub(crate) fn end_conference(&mut self, id: &str, at_ms: i64) {
        self.apply_script(id);
        self.scripts.remove(id);
        self.set_status(id, 1, at_ms);
    }

    // part record-stream

    /// Replaces conference `id`'s info (for handlers that change a field).
    pub(crate) fn replace_conference(&mut self, id: &str, info: ConferenceInfo) {
        if let Some(held) = self.conferences.get_mut(id) {
            *held = info;
        }
    }

    /// The live pushes of conference `id`, in the order started.
    pub(crate) fn streams_mut(&mut self, id: &str) -> &mut Vec<LiveStream> {
        self.streams.entry(id.to_owned()).or_default()
    }

    /// Whether any conference has a live push with this id.
    pub(crate) fn stream_id_used(&self, stream_id: &str) -> bool {
        self.streams
            .values()
            .flatten()
            .any(|stream| stream.id == stream_id)
    }

    /// Notes that conference `id`'s cloud recording started at `at_ms`.
    pub(crate) fn set_recording_started(&mut self, id: &str, at_ms: i64) {
        self.recording_started.insert(id.to_owned(), at_ms);
    }

    /// When conference `id`'s cloud recording in progress started, forgotten once asked.
    pub(crate) fn take_recording_started(&mut self, id: &str) -> Option<i64> {
        self.recording_started.remove(id)
    }

    /// Adds a finished stretch of recording to conference `id`'s recording (creating it).
    pub(crate) fn append_recording(&mut self, id: &str, stretch: Recording) {
        let recording = self.recordings.entry(id.to_owned()).or_default();
        recording.videos.extend(stretch.videos);
        recording.paragraphs.extend(stretch.paragraphs);
    }

    /// The recording allow-list of `biz_type`, in order.
    pub(crate) fn record_allow_list(&self, biz_type: &str) -> Vec<(String, i32)> {
        self.record_allow_list
            .get(biz_type)
            .map(|entries| entries.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The recording allow-list of `biz_type`, to change.
    pub(crate) fn record_allow_list_mut(&mut self, biz_type: &str) -> &mut BTreeSet<(String, i32)> {
        self.record_allow_list
            .entry(biz_type.to_owned())
            .or_default()
    }

    // end part record-stream

    // part schedule
    /// The scheduled conference `id`, if the server holds it (cancelled or not).
    pub(crate) fn schedule(&self, id: &str) -> Option<&ScheduleRecord> {
        self.schedules.get(id)
    }

    /// The scheduled conference `id`, to change it.
    pub(crate) fn schedule_mut(&mut self, id: &str) -> Option<&mut ScheduleRecord> {
        self.schedules.get_mut(id)
    }

    /// Stores a new scheduled conference under `id`.
    pub(crate) fn insert_schedule(&mut self, id: String, schedule: ScheduleRecord) {
        self.schedules.insert(id, schedule);
    }

    /// Whether any conference or scheduled conference uses `room_code`.
    pub(crate) fn room_code_in_use(&self, room_code: &str) -> bool {
        self.conferences
            .values()
            .any(|info| info.room_code.as_deref() == Some(room_code))
            || self
                .schedules
                .values()
                .any(|schedule| schedule.room_code == room_code)
    }

    // part org
    /// Whether conference `id`'s subtitle events are pushed, if `setSubtitleEvent` set it.
    pub(crate) fn subtitle_events(&self, id: &str) -> Option<bool> {
        self.subtitle_events.get(id).copied()
    }

    /// Sets whether conference `id`'s subtitle events are pushed.
    pub(crate) fn set_subtitle_events(&mut self, id: &str, enable: bool) {
        self.subtitle_events.insert(id.to_owned(), enable);
    }

    // part minutes
    /// The flash minutes of conference `id`, if they were ever started.
    pub(crate) fn minutes(&mut self, id: &str) -> Option<&mut Minutes> {
        self.apply_script(id);
        self.minutes.get_mut(id)
    }

    /// Replaces the flash minutes of conference `id`.
    pub(crate) fn set_minutes(&mut self, id: &str, minutes: Minutes) {
        self.minutes.insert(id.to_owned(), minutes);
    }

    /// Who was granted access to conference `id`'s record of kind `biz_type`.
    pub(crate) fn record_grants(&self, id: &str, biz_type: &str) -> &[String] {
        self.record_grants
            .get(&(id.to_owned(), biz_type.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// Grants `user` access to conference `id`'s record of kind `biz_type` (once).
    pub(crate) fn grant_record(&mut self, id: &str, biz_type: &str, user: &str) {
        let grants = self
            .record_grants
            .entry((id.to_owned(), biz_type.to_owned()))
            .or_default();
        if !grants.iter().any(|granted| granted == user) {
            grants.push(user.to_owned());
        }
    }
    // end part minutes

    /// The random source, for handlers that mint ids.
    pub(crate) fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    fn set_status(&mut self, id: &str, status: i32, at_ms: i64) {
        let Some(info) = self.conferences.get_mut(id) else {
            return;
        };
        let was = info.status; // events
        transition(info, status, at_ms);
        if status != 1 {
            // events: a conference coming into progress is `conference_created`.
            if status == 2 && was != Some(2) {
                self.emit_conference_change(id, crate::events::emit::CONFERENCE_CREATED);
            }
            return;
        }
        let mut left = Vec::new(); // events: who was in and leaves with the end
        let end = info.end_time.unwrap_or(at_ms);
        let finished_recording = info.cloud_record_status == Some(3);
        let info = info.clone();
        for record in self.members.get_mut(id).into_iter().flatten() {
            let member = &mut record.member;
            match member.attend_status {
                Some(3) => {
                    let join = member.join_time.unwrap_or(end).min(end);
                    member.attend_status = Some(6);
                    member.join_time = Some(join);
                    member.leave_time = Some(end);
                    member.duration = Some(end - join);
                    record.camera_status = 0;
                    record.mic_status = 0;
                    left.push(member.clone());
                }
                Some(2) => member.attend_status = Some(4),
                _ => {}
            }
        }
        // part record-stream: a recording started by `startCloudRecord` ends with the
        // conference, from when it started; the conference's live pushes stop.
        self.streams.remove(id);
        if let Some(start) = self.recording_started.remove(id) {
            if finished_recording {
                let members = self.members.get(id).cloned().unwrap_or_default();
                let stretch = seed::recorded_stretch(&info, &members, start, end);
                self.append_recording(id, stretch);
            }
        } else if finished_recording && !self.recordings.contains_key(id) {
            self.recordings
                .insert(id.to_owned(), seed::finished_recording(&info, end));
        }
        // events: the members leave, running minutes have their summary, then it is closed.
        if was != Some(1) {
            self.emit_member_change(id, &left, crate::events::emit::USER_LEAVE);
            if self.minutes.get(id).is_some_and(Minutes::running) {
                let task = crate::handlers::minutes_task_id(id);
                self.emit_minutes_ready(id, &task);
            }
            self.emit_conference_change(id, crate::events::emit::CONFERENCE_CLOSED);
        }
    }

    // events
    /// Conference `id` as held, without applying its script (for building event payloads
    /// while a script step is being applied).
    pub(crate) fn conference_as_held(&self, id: &str) -> Option<ConferenceInfo> {
        self.conferences.get(id).cloned()
    }

    /// Applies every status script step whose time has come (the script ticker's work).
    pub(crate) fn apply_due_scripts(&mut self) {
        let scripted: Vec<String> = self
            .scripts
            .keys()
            .filter(|id| self.conferences.contains_key(id.as_str()))
            .cloned()
            .collect();
        for id in scripted {
            self.apply_script(&id);
        }
    }

    /// When the earliest pending script step falls due, if any; steps of conferences the
    /// server does not hold yet wait for them, so they do not count.
    pub(crate) fn next_script_step(&self) -> Option<Instant> {
        self.scripts
            .iter()
            .filter(|(id, _)| self.conferences.contains_key(id.as_str()))
            .filter_map(|(_, script)| script.front().map(|step| step.at))
            .min()
    }

    /// The conference `id` as it is now: scripted status changes whose time has come are
    /// applied first.
    pub(crate) fn conference(&mut self, id: &str) -> Option<ConferenceInfo> {
        self.apply_script(id);
        self.conferences.get(id).cloned()
    }

    pub(crate) fn conference_ids(&self) -> Vec<String> {
        self.conferences.keys().cloned().collect()
    }

    /// Replaces the status script of `id`; each delay counts from the previous step.
    pub(crate) fn script_status(&mut self, id: &str, steps: Vec<(Duration, i32)>) {
        let mut at = Instant::now();
        let mut script = VecDeque::with_capacity(steps.len());
        for (delay, status) in steps {
            // A step too far in the future to represent never comes, nor do those after it.
            let Some(next) = at.checked_add(delay) else {
                break;
            };
            at = next;
            script.push_back(Step { at, status });
        }
        self.scripts.insert(id.to_owned(), script);
        self.script_added.notify_one(); // events
    }

    fn apply_script(&mut self, id: &str) {
        let Some(script) = self.scripts.get_mut(id) else {
            return;
        };
        let now = Instant::now();
        let wall_now = now_millis();
        let mut due = Vec::new();
        while let Some(step) = script.front().copied() {
            if step.at > now {
                break;
            }
            script.pop_front();
            let ago = i64::try_from(now.duration_since(step.at).as_millis()).unwrap_or(0);
            due.push((step.status, wall_now.saturating_sub(ago)));
        }
        if script.is_empty() {
            self.scripts.remove(id);
        }
        for (status, at_ms) in due {
            self.set_status(id, status, at_ms);
        }
    }

    pub(crate) fn push_fault(&mut self, scope: FaultScope, fault: Fault) {
        if scope.remaining() != Some(0) {
            self.faults.push_back((scope, fault));
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The first queued fault whose scope selects `route`, used up by one request.
    pub(crate) fn take_fault(&mut self, route: &RouteKind) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|(scope, _)| scope.matches(route))?;
        let (scope, fault) = self.faults.get_mut(index)?;
        let fault = fault.clone();
        if scope.consume() {
            self.faults.remove(index);
        }
        self.counters.faults_served += 1;
        Some(fault)
    }

    pub(crate) fn record(&mut self, request: RecordedRequest) {
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(request);
    }

    pub(crate) fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }

    pub(crate) fn limits_mut(&mut self) -> &mut Limits {
        &mut self.limits
    }

    /// Counts a request from `ip` against the IP limit: `false`, counted in
    /// [`Counters::ip_banned`], if the IP is banned.
    pub(crate) fn admit_ip(&mut self, ip: IpAddr) -> bool {
        let admitted = self.limits.admit_ip(ip);
        if !admitted {
            self.counters.ip_banned += 1;
        }
        admitted
    }

    /// Admits a conference call of `operation_id` with a token of `owner` against the quota
    /// and the per-second limit; a refusal is counted in [`Counters`].
    pub(crate) fn admit_call(
        &mut self,
        owner: &Owner,
        operation_id: &'static str,
    ) -> Result<(), Refusal> {
        let admitted = self.limits.admit_call(owner, operation_id);
        match admitted {
            Err(Refusal::Qps(_)) => self.counters.qps_throttled += 1,
            Err(Refusal::Quota) => self.counters.quota_refused += 1,
            Ok(()) => {}
        }
        admitted
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.log.iter().cloned().collect()
    }

    pub(crate) fn reset_log(&mut self) {
        self.log.clear();
        self.counters = Counters::default();
    }

    /// A fresh request id in DingTalk's format (`8B1C0D3E-4F5A-6B7C-8D9E-0F1A2B3C4D5E`) and a
    /// trace id (32 lowercase hex digits).
    pub(crate) fn request_ids(&mut self) -> (String, String) {
        let id: u128 = self.rng.random();
        let hex = format!("{id:032X}");
        let request_id = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        let trace_id = format!("{:032x}", self.rng.random::<u128>());
        (request_id, trace_id)
    }
}

/// The wall clock now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    epoch_millis(SystemTime::now())
}

/// Milliseconds since the Unix epoch.
fn epoch_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Moves `info` to `status` at `at_ms` (epoch milliseconds), keeping the other fields
/// consistent the way DingTalk reports them.
fn transition(info: &mut ConferenceInfo, status: i32, at_ms: i64) {
    info.status = Some(status);
    match status {
        // Ended: the end time and the duration appear, nobody is left in it, a running
        // cloud recording is finished.
        1 => {
            let start = *info.start_time.get_or_insert(at_ms);
            let end = at_ms.max(start);
            info.end_time = Some(end);
            info.conf_duration = Some(end - start);
            info.active_num = Some(0);
            if matches!(info.cloud_record_status, Some(1 | 2)) {
                info.cloud_record_status = Some(3);
            }
        }
        // Started: it has a start time and at least one person in it; no end yet.
        2 => {
            info.start_time.get_or_insert(at_ms);
            info.end_time = None;
            info.conf_duration = None;
            let active = info.active_num.unwrap_or(0).max(1);
            info.active_num = Some(active);
            info.attend_num = Some(info.attend_num.unwrap_or(0).max(active));
        }
        // Initialised again: no end yet.
        0 => {
            info.end_time = None;
            info.conf_duration = None;
        }
        // Any other value is served as is (clients must cope with values DingTalk adds).
        _ => {}
    }
}

// part control: in-meeting control's state (settings, lock, focus, who may not rejoin) and
// joining, which the lock, `onlyInternalEmployeesJoin` and a kick with `forbiddenRejoin` refuse.

/// A conference's settings, as `updateVideoConferenceSetting`, `lockConference` and `muteAll`
/// set them. A conference starts unlocked, with nobody muted and self-unmuting allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) allow_unmute_self: bool,
    pub(crate) auto_transfer_host: bool,
    pub(crate) forbid_share_screen: bool,
    pub(crate) locked: bool,
    pub(crate) mute_all: bool,
    pub(crate) only_internal: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            allow_unmute_self: true,
            auto_transfer_host: false,
            forbid_share_screen: false,
            locked: false,
            mute_all: false,
            only_internal: false,
        }
    }
}

/// What in-meeting control keeps of one conference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Control {
    pub(crate) settings: Settings,
    /// The member everyone watches (`focus`), if any.
    pub(crate) focus: Option<String>,
    /// Members kicked with `forbiddenRejoin`: they cannot join again.
    pub(crate) barred: HashSet<String>,
    /// Room systems (`mcuRoomCode`) called into the conference, in order.
    pub(crate) mcus: Vec<String>,
}

/// Why [`MockServer::join`](crate::MockServer::join) refused someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinRefusal {
    /// The server holds no such conference.
    UnknownConference,
    /// The conference is not in progress (not started, or ended).
    NotRunning,
    /// The conference is locked (`lockConference`, or the `lockConference` setting).
    Locked,
    /// The person was removed with `forbiddenRejoin`.
    Barred,
    /// Only the organisation's employees may join (`onlyInternalEmployeesJoin`), and the
    /// person's member record says they are not one (`outerOrgMember`).
    InternalOnly,
}

impl JoinRefusal {
    /// A word for the refusal, as the control route answers it.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownConference => "roomNotFound",
            Self::NotRunning => "confClosed",
            Self::Locked => "confLocked",
            Self::Barred => "rejoinForbidden",
            Self::InternalOnly => "onlyInternalEmployees",
        }
    }
}

impl std::fmt::Display for JoinRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UnknownConference => "no such conference",
            Self::NotRunning => "the conference is not in progress",
            Self::Locked => "the conference is locked",
            Self::Barred => "the person was removed and may not join again",
            Self::InternalOnly => "only the organisation's employees may join",
        })
    }
}

impl std::error::Error for JoinRefusal {}

impl State {
    /// What in-meeting control keeps of conference `id` (the defaults if nothing was set).
    pub(crate) fn control(&self, id: &str) -> Control {
        self.control.get(id).cloned().unwrap_or_default()
    }

    /// What in-meeting control keeps of conference `id`, to change.
    pub(crate) fn control_mut(&mut self, id: &str) -> &mut Control {
        self.control.entry(id.to_owned()).or_default()
    }

    /// The members of conference `id` as they are now, to change.
    pub(crate) fn members_mut(&mut self, id: &str) -> &mut Vec<MemberRecord> {
        self.apply_script(id);
        self.members.entry(id.to_owned()).or_default()
    }

    /// The conference's `mediaStatus` in the batch query: 4 (everyone muted by force) after a
    /// forced mute-all, 1 (microphones muted) after a plain one, else 0 (normal).
    pub(crate) fn media_status(&self, id: &str) -> i64 {
        let settings = self.control(id).settings;
        match (settings.mute_all, settings.allow_unmute_self) {
            (true, false) => 4,
            (true, true) => 1,
            _ => 0,
        }
    }

    /// `union_id` joins conference `id` as `nick` at `at_ms`: a member record already there
    /// (invited, being called, left) becomes "in the conference" (3), else a new one is added;
    /// the conference's counts follow. Muted on arrival while everyone is muted.
    pub(crate) fn join(
        &mut self,
        id: &str,
        union_id: &str,
        nick: &str,
        at_ms: i64,
    ) -> Result<(), JoinRefusal> {
        let info = self.conference(id).ok_or(JoinRefusal::UnknownConference)?;
        if info.status != Some(2) {
            return Err(JoinRefusal::NotRunning);
        }
        let control = self.control(id);
        if control.settings.locked {
            return Err(JoinRefusal::Locked);
        }
        if control.barred.contains(union_id) {
            return Err(JoinRefusal::Barred);
        }
        let mic = if control.settings.mute_all { 1 } else { 2 };
        let members = self.members_mut(id);
        let outsider = members.iter().any(|r| {
            r.member.union_id.as_deref() == Some(union_id)
                && r.member.outer_org_member == Some(true)
        });
        if outsider && control.settings.only_internal {
            return Err(JoinRefusal::InternalOnly);
        }
        let existing = members
            .iter_mut()
            .find(|r| r.member.union_id.as_deref() == Some(union_id));
        let known = existing.is_some();
        let (was_in, ever_in) = match existing {
            Some(record) => {
                let was_in = record.member.attend_status == Some(3);
                let ever_in = record.member.join_time.is_some();
                if !was_in {
                    record.member.attend_status = Some(3);
                    record.member.join_time = Some(at_ms);
                    record.member.leave_time = None;
                    record.member.duration = None;
                    record.mic_status = mic;
                    record.camera_status = 2;
                }
                (was_in, ever_in)
            }
            None => {
                let mut record = MemberRecord::new(ConferenceMember {
                    union_id: Some(union_id.to_owned()),
                    conference_id: Some(id.to_owned()),
                    user_nick: Some(nick.to_owned()),
                    join_time: Some(at_ms),
                    host: Some(false),
                    co_host: Some(false),
                    attend_status: Some(3),
                    pstn_join: Some(false),
                    ..ConferenceMember::default()
                });
                record.mic_status = mic;
                record.camera_status = 2;
                members.push(record);
                (false, false)
            }
        };
        if !was_in && let Some(info) = self.conferences.get_mut(id) {
            info.active_num = Some(info.active_num.unwrap_or(0).saturating_add(1));
            if !ever_in {
                info.attend_num = Some(info.attend_num.unwrap_or(0).saturating_add(1));
            }
            if !known {
                info.invited_num = Some(info.invited_num.unwrap_or(0).saturating_add(1));
            }
        }
        // events: `user_join` with the member record as it is now.
        if !was_in {
            let joined: Vec<ConferenceMember> = self
                .members
                .get(id)
                .into_iter()
                .flatten()
                .filter(|r| r.member.union_id.as_deref() == Some(union_id))
                .map(|r| r.member.clone())
                .collect();
            self.emit_member_change(id, &joined, crate::events::emit::USER_JOIN);
        }
        Ok(())
    }

    /// Adjusts conference `id`'s counts: `active` people left (negative) or came, `invited`
    /// more were invited.
    pub(crate) fn adjust_counts(&mut self, id: &str, active: i32, invited: i32) {
        if let Some(info) = self.conferences.get_mut(id) {
            info.active_num = Some(info.active_num.unwrap_or(0).saturating_add(active).max(0));
            info.invited_num = Some(info.invited_num.unwrap_or(0).saturating_add(invited).max(0));
        }
    }
}
