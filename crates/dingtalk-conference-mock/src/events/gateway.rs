//! The Stream mode gateway: what DingTalk's `api.dingtalk.com/v1.0/gateway/connections/open`
//! and its WebSocket endpoint do for an app, on the fake's own listener.
//!
//! - **Open** (`POST` [`OPEN_PATH`]): the app's key and secret (an internal app) or the suite's
//!   (a third-party app) give a ticket, valid [`TICKET_LIFETIME`] and for one connection.
//! - **Connect** (`GET` [`CONNECT_PATH`]`?ticket=…`): hyper's upgrade, then a WebSocket served
//!   by [`serve_socket`], one task per connection.
//! - **Deliver** ([`run`], one task per server): every event of the bus goes to ONE open
//!   connection whose app covers the event's organisation, chosen at random, and again (same
//!   `eventId`) until an ACK `SUCCESS` ends it: after an ACK `LATER`, or after no ACK, once
//!   [`MockConfig::event_redelivery`](crate::MockConfig::event_redelivery) has passed. With no
//!   connection to take it, an event waits (at most [`MAX_PENDING`] of them) until one opens.
//!
//! DingTalk documents the protocol only on its open-source protocol page and in its Go SDK;
//! where they say nothing (error codes, the redelivery delay), the choices are on the constants
//! and in `docs/EVENTS.md` (part gateway).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::MockEvent;
use crate::state::Shared;

/// The open endpoint, on the fake's base URL as on `api.dingtalk.com`.
pub(crate) const OPEN_PATH: &str = "/v1.0/gateway/connections/open";
/// The WebSocket endpoint the open endpoint points to (`ws://127.0.0.1:PORT/connect`).
pub(crate) const CONNECT_PATH: &str = "/connect";
/// The admin routes that drive the gateway from another process.
pub(crate) const ADMIN_PREFIX: &str = "/__mock/gateway";
/// `POST /__mock/events/emit`: emit an event, as [`crate::MockServer::emit_event`] does.
pub(crate) const ADMIN_EMIT_PATH: &str = "/__mock/events/emit";

/// The name fault scopes ([`FaultScope::Operation`](crate::FaultScope::Operation)) give the
/// open endpoint, which is no operation of the spec: faults on it make the gateway
/// unreachable for a client that opens connections.
pub const GATEWAY_OPEN_OPERATION: &str = "gateway.connections.open";
/// How long a ticket stays valid: DingTalk's protocol page says 90 s ("ticket的有效期为90秒").
pub const TICKET_LIFETIME: Duration = Duration::from_secs(90);
/// How long a connection told `disconnect` stays open if the client does not close it: the
/// protocol page's "服务端在静默10s之后会主动断开".
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(10);
/// The fake's default for [`MockConfig::event_redelivery`](crate::MockConfig::event_redelivery):
/// DingTalk documents no delay, only that an event not ACKed is pushed again.
pub const DEFAULT_EVENT_REDELIVERY: Duration = Duration::from_secs(5);
/// The fake's default for [`MockConfig::gateway_ping`](crate::MockConfig::gateway_ping): DingTalk
/// documents the `ping` frame, not how often it comes.
pub const DEFAULT_GATEWAY_PING: Duration = Duration::from_secs(30);
/// The largest WebSocket message (and frame) a client may send; a bigger one closes its
/// connection. ACKs and ping replies are a few hundred bytes.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// How many events may wait for a connection; beyond it the oldest is dropped (and counted in
/// [`GatewayStats::dropped`]), so a long-running binary nobody connects to stays small.
pub const MAX_PENDING: usize = 10_000;
/// How many frames of one event are remembered for its ACKs (the latest deliveries).
const FRAMES_KEPT_PER_EVENT: usize = 8;
/// How many tickets are kept before the expired ones are swept.
const TICKETS_BEFORE_SWEEP: usize = 1024;
/// How long shutdown waits for the connections to close.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);
/// How many frames may wait for one connection. A connection with this many waiting is too
/// slow: the gateway drops it (counted in [`GatewayStats::slow_connections`]), and the events
/// it had not ACKed go out again after the redelivery time, as for any connection that closes.
/// Without a bound, a client that stops reading grows the server's memory by every event.
pub const CONNECTION_QUEUE: usize = 256;
/// How long one frame may take to go out; a connection whose socket takes none for this long
/// (a client that stopped reading, its buffers full) is closed and counted as slow.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The ACKs the gateway received, over every connection ([`crate::MockServer::gateway_acks`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GatewayAcks {
    /// ACK frames with `status` `SUCCESS` (a duplicate's ACK too).
    pub success: u64,
    /// ACK frames with `status` `LATER`.
    pub later: u64,
    /// Deliveries whose redelivery time came with no ACK at all (each is then sent again).
    pub unanswered: u64,
}

/// Everything the gateway counts (`GET /__mock/gateway` serves it as JSON).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct GatewayStats {
    /// The ACKs received.
    pub acks: GatewayAcks,
    /// WebSocket connections open now (silenced ones included).
    pub connections: usize,
    /// EVENT frames sent (redeliveries and duplicates included).
    pub deliveries: u64,
    /// Replies to `ping` frames with the ping's `messageId` and `data`.
    pub ping_replies: u64,
    /// Events waiting for a connection to take them.
    pub pending: usize,
    /// Events dropped because more than [`MAX_PENDING`] were waiting.
    pub dropped: u64,
    /// Events the gateway's task missed because it fell behind the bus.
    pub lagged: u64,
    /// Tickets refused at the WebSocket upgrade (unknown, used, expired, or refused on purpose).
    pub refused_tickets: u64,
    /// Connections dropped for not taking their frames: [`CONNECTION_QUEUE`] frames waiting,
    /// or one frame not taken within [`SEND_TIMEOUT`].
    pub slow_connections: u64,
}

/// What a ticket (and then its connection) is for: whose events it may receive.
#[derive(Debug, Clone)]
pub(crate) struct Subscriber {
    /// The organisations whose events the app receives: an internal app's
    /// ([`crate::DEFAULT_CORP_ID`]) or those that authorised a suite.
    pub(crate) corps: Vec<String>,
    /// Whether it subscribed to EVENT (topic `*`); a CALLBACK-only connection gets no events.
    pub(crate) events: bool,
    /// `eventUnifiedAppId` on its events.
    pub(crate) unified_app_id: String,
}

/// What the gateway asks of one connection's task.
#[derive(Debug)]
enum Command {
    /// A text frame to send.
    Frame(String),
    /// Send `disconnect`, then close after [`DISCONNECT_GRACE`].
    Disconnect,
    /// Go silent (send, read and answer nothing) or speak again.
    Silence(bool),
}

/// One open WebSocket.
#[derive(Debug)]
struct Connection {
    commands: mpsc::Sender<Command>,
    /// Tells its task to close at once (the gateway dropped it as too slow).
    close: Arc<Notify>,
    subscriber: Subscriber,
    /// False once told `disconnect`: it takes no new events.
    accepting: bool,
    silent: bool,
}

impl Connection {
    fn takes(&self, event: &MockEvent) -> bool {
        self.accepting
            && !self.silent
            && self.subscriber.events
            && self.subscriber.corps.contains(&event.corp_id)
    }
}

/// An event sent and not yet ACKed `SUCCESS`.
#[derive(Debug)]
struct InFlight {
    event: Arc<MockEvent>,
    /// When it goes again.
    deadline: Instant,
    /// The `messageId`s of the latest delivery (two for a duplicate).
    current: Vec<String>,
    /// Whether the latest delivery was ACKed `LATER` (then its redelivery is not "unanswered").
    answered: bool,
}

#[derive(Debug)]
struct Inner {
    tickets: HashMap<String, (Instant, Subscriber)>,
    connections: BTreeMap<u64, Connection>,
    next_connection: u64,
    pending: VecDeque<Arc<MockEvent>>,
    in_flight: HashMap<String, InFlight>,
    /// Every remembered EVENT frame's `messageId`, to its `eventId`.
    frames: HashMap<String, String>,
    /// Each unresolved event's remembered frames, oldest first.
    event_frames: HashMap<String, VecDeque<String>>,
    /// Outstanding `ping` frames: `messageId` to `data`.
    pings: HashMap<String, String>,
    duplicate_next: bool,
    refuse_tickets: bool,
    stats: GatewayStats,
    rng: StdRng,
}

/// The gateway's state, shared by the open endpoint, the connections and the delivery task.
#[derive(Debug)]
pub(crate) struct Gateway {
    inner: Mutex<Inner>,
    /// Wakes the delivery task when an event goes in flight (its timer may be due sooner).
    wake: Notify,
    /// Tells every connection the server is shutting down.
    stop: watch::Sender<bool>,
    redelivery: Duration,
    ping: Option<Duration>,
}

/// The longest redelivery delay or ping period the gateway keeps: a day, longer than any test
/// or demo waits; longer settings are taken as this.
const LONGEST_TIMER: Duration = Duration::from_secs(24 * 60 * 60);

impl Gateway {
    pub(crate) fn new(redelivery: Duration, ping: Option<Duration>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                tickets: HashMap::new(),
                connections: BTreeMap::new(),
                next_connection: 0,
                pending: VecDeque::new(),
                in_flight: HashMap::new(),
                frames: HashMap::new(),
                event_frames: HashMap::new(),
                pings: HashMap::new(),
                duplicate_next: false,
                refuse_tickets: false,
                stats: GatewayStats::default(),
                rng: StdRng::from_os_rng(),
            }),
            wake: Notify::new(),
            stop: watch::channel(false).0,
            // Capped, so that a huge setting (`--event-redelivery 1e19`) cannot overflow an
            // `Instant` and panic a connection's task.
            redelivery: redelivery.min(LONGEST_TIMER),
            // A zero period would spin; it means "no pings".
            ping: ping
                .filter(|period| !period.is_zero())
                .map(|period| period.min(LONGEST_TIMER)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new single-use ticket for `subscriber`.
    pub(crate) fn issue_ticket(&self, subscriber: Subscriber) -> String {
        let mut inner = self.lock();
        let now = Instant::now();
        // Tickets asked for and never used are swept now and then.
        if inner.tickets.len() >= TICKETS_BEFORE_SWEEP {
            inner.tickets.retain(|_, (expiry, _)| *expiry > now);
        }
        let ticket = format!("{:032x}", inner.rng.random::<u128>());
        inner
            .tickets
            .insert(ticket.clone(), (now + TICKET_LIFETIME, subscriber));
        ticket
    }

    /// The subscriber of `ticket`, which is used up whatever the answer; `None` for a ticket
    /// unknown, used, expired, or refused by [`Gateway::refuse_tickets`].
    pub(crate) fn take_ticket(&self, ticket: &str) -> Option<Subscriber> {
        let mut inner = self.lock();
        let taken = inner.tickets.remove(ticket);
        let valid = taken
            .filter(|(expiry, _)| *expiry > Instant::now())
            .filter(|_| !inner.refuse_tickets)
            .map(|(_, subscriber)| subscriber);
        if valid.is_none() {
            inner.stats.refused_tickets += 1;
        }
        valid
    }

    /// Registers an open connection; the events waiting go out at once.
    fn register(&self, subscriber: Subscriber) -> (u64, mpsc::Receiver<Command>, Arc<Notify>) {
        let (commands, receiver) = mpsc::channel(CONNECTION_QUEUE);
        let close = Arc::new(Notify::new());
        let mut inner = self.lock();
        let id = inner.next_connection;
        inner.next_connection += 1;
        inner.connections.insert(
            id,
            Connection {
                commands,
                close: Arc::clone(&close),
                subscriber,
                accepting: true,
                silent: false,
            },
        );
        self.dispatch(&mut inner);
        (id, receiver, close)
    }

    /// A connection's task ended; `slow`: because its socket took no frame in time.
    fn closed(&self, id: u64, slow: bool) {
        let mut inner = self.lock();
        if inner.connections.remove(&id).is_some() && slow {
            inner.stats.slow_connections += 1;
        }
    }

    /// A new event from the bus.
    fn enqueue(&self, event: Arc<MockEvent>) {
        let mut inner = self.lock();
        inner.pending.push_back(event);
        trim_pending(&mut inner);
        self.dispatch(&mut inner);
    }

    /// The delivery task fell behind the bus by `missed` events.
    fn lagged(&self, missed: u64) {
        self.lock().stats.lagged += missed;
    }

    /// The earliest time an event in flight goes again.
    fn next_deadline(&self) -> Option<Instant> {
        self.lock()
            .in_flight
            .values()
            .map(|flight| flight.deadline)
            .min()
    }

    /// Sends again every event whose time has come.
    fn expire(&self, now: Instant) {
        let mut inner = self.lock();
        let mut due: Vec<(Instant, i64, String)> = inner
            .in_flight
            .iter()
            .filter(|(_, flight)| flight.deadline <= now)
            .map(|(id, flight)| (flight.deadline, flight.event.born_ms, id.clone()))
            .collect();
        // Several due at once go again in the order they were due, then born.
        due.sort();
        for (_, _, id) in due {
            if let Some(flight) = inner.in_flight.remove(&id) {
                if !flight.answered {
                    inner.stats.acks.unanswered += 1;
                }
                inner.pending.push_back(flight.event);
            }
        }
        trim_pending(&mut inner);
        self.dispatch(&mut inner);
    }

    /// Sends each waiting event to a connection that takes it, chosen at random; those no
    /// connection takes keep waiting, in order.
    fn dispatch(&self, inner: &mut Inner) {
        // Nobody to take anything: leave the queue as it is (no pass over it per event).
        let open = inner.connections.values().any(|connection| {
            connection.accepting && !connection.silent && connection.subscriber.events
        });
        if !open {
            return;
        }
        let mut waiting = VecDeque::new();
        let mut sent = false;
        while let Some(event) = inner.pending.pop_front() {
            if self.deliver(inner, &event) {
                sent = true;
            } else {
                waiting.push_back(event);
            }
        }
        inner.pending = waiting;
        if sent {
            self.wake.notify_one();
        }
    }

    /// Sends `event` to one connection that takes it (twice after
    /// [`Gateway::duplicate_next`]); false when none can.
    fn deliver(&self, inner: &mut Inner, event: &Arc<MockEvent>) -> bool {
        loop {
            let candidates: Vec<u64> = inner
                .connections
                .iter()
                .filter(|(_, connection)| connection.takes(event))
                .map(|(id, _)| *id)
                .collect();
            if candidates.is_empty() {
                return false;
            }
            let chosen = candidates[inner.rng.random_range(0..candidates.len())];
            let copies = if std::mem::take(&mut inner.duplicate_next) {
                2
            } else {
                1
            };
            let mut current = Vec::new();
            let mut alive = true;
            for _ in 0..copies {
                let message_id = format!("{:032x}", inner.rng.random::<u128>());
                let Some(connection) = inner.connections.get(&chosen) else {
                    alive = false;
                    break;
                };
                let frame = event_frame(event, &message_id, &connection.subscriber);
                if offer(inner, chosen, Command::Frame(frame)).is_err() {
                    alive = false;
                    break;
                }
                inner.stats.deliveries += 1;
                remember_frame(inner, &event.event_id, &message_id);
                current.push(message_id);
            }
            if !alive {
                // Its task has ended and not yet said so, or it was dropped as too slow:
                // forget it, try another.
                inner.connections.remove(&chosen);
                if current.is_empty() {
                    continue;
                }
            }
            inner.in_flight.insert(
                event.event_id.clone(),
                InFlight {
                    event: Arc::clone(event),
                    deadline: Instant::now() + self.redelivery,
                    current,
                    answered: false,
                },
            );
            return true;
        }
    }

    /// A text frame from a connection: an ACK, a ping's reply, or anything else (ignored).
    fn inbound(&self, text: &str) {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let Some(message_id) = frame.pointer("/headers/messageId").and_then(Value::as_str) else {
            return;
        };
        let data = frame
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut inner = self.lock();
        if let Some(opaque) = inner.pings.get(message_id) {
            if same_json(opaque, data) {
                inner.pings.remove(message_id);
                inner.stats.ping_replies += 1;
            }
            return;
        }
        let code_ok = frame
            .get("code")
            .is_none_or(|code| code.as_i64() == Some(200));
        let status = serde_json::from_str::<Value>(data).ok().and_then(|data| {
            data.get("status")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        match (code_ok, status.as_deref()) {
            (true, Some("SUCCESS")) => {
                inner.stats.acks.success += 1;
                if let Some(event_id) = inner.frames.get(message_id).cloned() {
                    resolve(&mut inner, &event_id);
                }
            }
            (_, Some("LATER")) => {
                inner.stats.acks.later += 1;
                let redelivery = self.redelivery;
                if let Some(event_id) = inner.frames.get(message_id).cloned()
                    && let Some(flight) = inner.in_flight.get_mut(&event_id)
                    && flight.current.iter().any(|id| id == message_id)
                {
                    flight.answered = true;
                    flight.deadline = Instant::now() + redelivery;
                }
            }
            // Not an ACK the protocol knows: as good as none.
            _ => {}
        }
    }

    /// A `ping` frame for a connection; remembers its `data` to match the reply.
    fn ping_frame(&self) -> String {
        let mut inner = self.lock();
        let message_id = format!("{:032x}", inner.rng.random::<u128>());
        let data = json!({ "opaque": format!("{:032x}", inner.rng.random::<u128>()) }).to_string();
        // Replies never sent are not kept forever.
        if inner.pings.len() > 1024 {
            inner.pings.clear();
        }
        inner.pings.insert(message_id.clone(), data.clone());
        system_frame("ping", &message_id, &data)
    }

    /// A `disconnect` frame.
    fn disconnect_frame(&self) -> String {
        let message_id = format!("{:032x}", self.lock().rng.random::<u128>());
        let data = json!({ "reason": "the fake gateway was asked to disconnect" }).to_string();
        system_frame("disconnect", &message_id, &data)
    }

    /// Sends `disconnect` to every open connection (which then takes no new events).
    pub(crate) fn disconnect_all(&self) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner.connections.keys().copied().collect();
        for id in ids {
            if let Some(connection) = inner.connections.get_mut(&id) {
                connection.accepting = false;
            }
            let _ = offer(&mut inner, id, Command::Disconnect);
        }
        // What was waiting for them keeps waiting for the next connection.
    }

    /// The next event is sent twice.
    pub(crate) fn duplicate_next(&self) {
        self.lock().duplicate_next = true;
    }

    /// Silences the connections open now (`true`), or lets every silenced one speak again.
    pub(crate) fn silence(&self, on: bool) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner.connections.keys().copied().collect();
        for id in ids {
            let Some(connection) = inner.connections.get_mut(&id) else {
                continue;
            };
            if connection.silent != on {
                connection.silent = on;
                let _ = offer(&mut inner, id, Command::Silence(on));
            }
        }
        if !on {
            self.dispatch(&mut inner);
        }
    }

    /// Sends `text` as a text frame to every open connection (a silenced one drops it).
    pub(crate) fn send_raw(&self, text: &str) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner.connections.keys().copied().collect();
        for id in ids {
            let _ = offer(&mut inner, id, Command::Frame(text.to_owned()));
        }
    }

    /// Makes the WebSocket upgrade refuse every ticket (`true`) or accept valid ones again.
    pub(crate) fn refuse_tickets(&self, on: bool) {
        self.lock().refuse_tickets = on;
    }

    /// What the gateway counted so far.
    pub(crate) fn stats(&self) -> GatewayStats {
        let inner = self.lock();
        GatewayStats {
            connections: inner.connections.len(),
            pending: inner.pending.len(),
            ..inner.stats
        }
    }
}

/// Hands `command` to connection `id`'s task, without waiting. A connection with
/// [`CONNECTION_QUEUE`] frames waiting is too slow: it is dropped here (its task told to close
/// at once, and counted). `Err` when the command did not go: dropped now, or its task ended.
fn offer(inner: &mut Inner, id: u64, command: Command) -> Result<(), ()> {
    let Some(connection) = inner.connections.get(&id) else {
        return Err(());
    };
    match connection.commands.try_send(command) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Full(_)) => {
            connection.close.notify_one();
            inner.connections.remove(&id);
            inner.stats.slow_connections += 1;
            Err(())
        }
        Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
    }
}

/// Why a frame did not go out.
enum SendFailed {
    /// The socket took nothing within [`SEND_TIMEOUT`].
    Slow,
    /// The socket broke, or the gateway dropped the connection.
    Ended,
}

/// Sends one text frame within [`SEND_TIMEOUT`], unless the gateway drops the connection
/// first.
async fn send_frame(
    socket: &mut WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    text: String,
    close: &Notify,
) -> Result<(), SendFailed> {
    tokio::select! {
        sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::text(text))) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendFailed::Ended),
            Err(_) => Err(SendFailed::Slow),
        },
        () = close.notified() => Err(SendFailed::Ended),
    }
}

/// Remembers that frame `message_id` carries `event_id`, forgetting the event's oldest frames
/// beyond [`FRAMES_KEPT_PER_EVENT`].
fn remember_frame(inner: &mut Inner, event_id: &str, message_id: &str) {
    inner
        .frames
        .insert(message_id.to_owned(), event_id.to_owned());
    let kept = inner.event_frames.entry(event_id.to_owned()).or_default();
    kept.push_back(message_id.to_owned());
    if kept.len() > FRAMES_KEPT_PER_EVENT
        && let Some(oldest) = kept.pop_front()
    {
        inner.frames.remove(&oldest);
    }
}

/// An ACK `SUCCESS` ended `event_id`: it goes no more, wherever it was.
/// Drops the oldest waiting events beyond [`MAX_PENDING`], counted, with the frames kept for
/// their ACKs.
fn trim_pending(inner: &mut Inner) {
    while inner.pending.len() > MAX_PENDING {
        let Some(oldest) = inner.pending.pop_front() else {
            break;
        };
        inner.stats.dropped += 1;
        forget_frames(inner, &oldest.event_id);
    }
}

/// Forgets the frames remembered for `event_id`'s ACKs.
fn forget_frames(inner: &mut Inner, event_id: &str) {
    for message_id in inner.event_frames.remove(event_id).unwrap_or_default() {
        inner.frames.remove(&message_id);
    }
}

fn resolve(inner: &mut Inner, event_id: &str) {
    inner.in_flight.remove(event_id);
    inner.pending.retain(|event| event.event_id != event_id);
    forget_frames(inner, event_id);
}

/// Whether two JSON texts hold the same value (a client may re-encode the ping's data).
fn same_json(expected: &str, actual: &str) -> bool {
    expected == actual
        || matches!(
            (serde_json::from_str::<Value>(expected), serde_json::from_str::<Value>(actual)),
            (Ok(a), Ok(b)) if a == b
        )
}

fn now_ms_text() -> String {
    super::now_ms().to_string()
}

/// An EVENT frame as DingTalk's protocol page and Go SDK show it: the envelope as string
/// headers, the payload as a JSON string in `data`.
fn event_frame(event: &MockEvent, message_id: &str, subscriber: &Subscriber) -> String {
    json!({
        "specVersion": "1.0",
        "type": "EVENT",
        "headers": {
            "topic": "*",
            "contentType": "application/json",
            "messageId": message_id,
            "time": now_ms_text(),
            "eventType": event.event_type,
            "eventId": event.event_id,
            "eventCorpId": event.corp_id,
            "eventBornTime": event.born_ms.to_string(),
            "eventUnifiedAppId": subscriber.unified_app_id,
        },
        "data": event.data.to_string(),
    })
    .to_string()
}

/// A SYSTEM frame with `topic` (`ping`, `disconnect`).
fn system_frame(topic: &str, message_id: &str, data: &str) -> String {
    json!({
        "specVersion": "1.0",
        "type": "SYSTEM",
        "headers": {
            "topic": topic,
            "contentType": "application/json",
            "messageId": message_id,
            "time": now_ms_text(),
        },
        "data": data,
    })
    .to_string()
}

/// `eventUnifiedAppId` for the app `client_id`: DingTalk's is a UUID per app; the fake's is
/// made from the key, so it is stable for one app across connections and servers.
pub(crate) fn unified_app_id(client_id: &str) -> String {
    // FNV-1a: stable across Rust versions, unlike the std hasher.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in client_id.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    let hex = format!("{hash:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The open endpoint: `{clientId, clientSecret, subscriptions, ua, localIp}` checked against
/// the fake's apps and suites. `Ok` is the answer's JSON; `Err` is `(code, message)` for a
/// `400`, as the token endpoint answers the same credentials.
pub(crate) fn open(
    shared: &Shared,
    base_url_host: &str,
    body: &[u8],
) -> Result<Value, (&'static str, String)> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Err((
            "paramError",
            "the body must be a JSON object {clientId, clientSecret, subscriptions, ua, localIp}"
                .to_owned(),
        ));
    };
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    let (Some(client_id), Some(secret)) = (text("clientId"), text("clientSecret")) else {
        return Err((
            "paramError",
            "clientId and clientSecret must be strings".to_owned(),
        ));
    };
    let Some(Value::Array(subscriptions)) = request.get("subscriptions") else {
        return Err((
            "paramError",
            "subscriptions must be a list of {type, topic}".to_owned(),
        ));
    };
    let mut events = false;
    for subscription in subscriptions {
        let kind = subscription.get("type").and_then(Value::as_str);
        let topic = subscription.get("topic").and_then(Value::as_str);
        match (kind, topic) {
            (Some("EVENT"), Some("*")) => events = true,
            // DingTalk: "仅支持星号(*)" for events.
            (Some("EVENT"), _) => {
                return Err((
                    "invalidSubscription",
                    "an EVENT subscription's topic must be \"*\"".to_owned(),
                ));
            }
            (Some("CALLBACK" | "SYSTEM"), Some(_)) => {}
            _ => {
                return Err((
                    "invalidSubscription",
                    "each subscription must be {type: EVENT|CALLBACK, topic}".to_owned(),
                ));
            }
        }
    }
    let Some(corps) = shared.lock().stream_subscriber(client_id, secret) else {
        return Err((
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret".to_owned(),
        ));
    };
    let ticket = shared.gateway.issue_ticket(Subscriber {
        corps,
        events,
        unified_app_id: unified_app_id(client_id),
    });
    Ok(json!({
        "endpoint": format!("ws://{base_url_host}{CONNECT_PATH}"),
        "ticket": ticket,
    }))
}

/// Serves one upgraded WebSocket until the client closes it, the gateway closes it after
/// `disconnect`, it breaks, or the server shuts down.
pub(crate) async fn serve_socket(
    shared: Arc<Shared>,
    subscriber: Subscriber,
    upgraded: hyper::upgrade::Upgraded,
) {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_CLIENT_MESSAGE);
    config.max_frame_size = Some(MAX_CLIENT_MESSAGE);
    let mut socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let gateway = &shared.gateway;
    let mut stop = gateway.stop.subscribe();
    // A connection that completes its switch after shutdown began is not served.
    if *stop.borrow_and_update() {
        let _ = tokio::time::timeout(Duration::from_millis(500), socket.close(None)).await;
        return;
    }
    let (id, mut commands, close) = gateway.register(subscriber);
    let mut pings = gateway.ping.map(|period| {
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut silent = false;
    let mut close_at: Option<Instant> = None;
    let mut slow = false;
    loop {
        let sent = tokio::select! {
            _ = stop.changed() => break,
            // Dropped by the gateway as too slow (and counted there).
            () = close.notified() => break,
            command = commands.recv() => match command {
                None => break,
                Some(Command::Frame(text)) if !silent => {
                    send_frame(&mut socket, text, &close).await
                }
                Some(Command::Frame(_)) => Ok(()),
                Some(Command::Disconnect) => {
                    close_at.get_or_insert(Instant::now() + DISCONNECT_GRACE);
                    if silent {
                        Ok(())
                    } else {
                        send_frame(&mut socket, gateway.disconnect_frame(), &close).await
                    }
                }
                Some(Command::Silence(on)) => {
                    silent = on;
                    Ok(())
                }
            },
            message = socket.next(), if !silent => match message {
                // Closed, broken, or a message over the size limit: the connection ends.
                None | Some(Err(_)) => break,
                Some(Ok(Message::Text(text))) => {
                    gateway.inbound(text.as_str());
                    Ok(())
                }
                // Pings are answered by tungstenite as it reads; a close is answered the same
                // way, and the next read ends the stream.
                Some(Ok(_)) => Ok(()),
            },
            _ = async {
                match pings.as_mut() {
                    Some(interval) => interval.tick().await,
                    None => std::future::pending().await,
                }
            }, if !silent && pings.is_some() => {
                send_frame(&mut socket, gateway.ping_frame(), &close).await
            }
            () = async {
                match close_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            }, if close_at.is_some() => break,
        };
        match sent {
            Ok(()) => {}
            Err(SendFailed::Slow) => {
                slow = true;
                break;
            }
            Err(SendFailed::Ended) => break,
        }
    }
    gateway.closed(id, slow);
    // A close frame if the socket still takes one; a client gone already is no error.
    let _ = tokio::time::timeout(Duration::from_millis(500), socket.close(None)).await;
}

/// The delivery task: takes the bus's events until shutdown, sends them, and sends again those
/// whose time comes; then closes every connection.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut events: broadcast::Receiver<Arc<MockEvent>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let gateway = &shared.gateway;
    loop {
        let deadline = gateway.next_deadline();
        tokio::select! {
            _ = shutdown.changed() => break,
            received = events.recv() => match received {
                Ok(event) => gateway.enqueue(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => gateway.lagged(missed),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = gateway.wake.notified() => {}
            () = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            }, if deadline.is_some() => gateway.expire(Instant::now()),
        }
    }
    let _ = gateway.stop.send(true);
    let waited = tokio::time::timeout(SHUTDOWN_WAIT, async {
        while gateway.stats().connections > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let _ = waited.await;
}

/// `POST /__mock/gateway/…` and `GET /__mock/gateway`: the status and the JSON answer.
pub(crate) fn admin(
    shared: &Shared,
    method: &http::Method,
    path: &str,
    body: &[u8],
) -> (u16, Value) {
    let gateway = &shared.gateway;
    let action = path.strip_prefix(ADMIN_PREFIX).unwrap_or_default();
    let on = || -> Result<bool, (u16, Value)> {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|body| body.get("on").and_then(Value::as_bool))
            .ok_or_else(|| {
                (
                    400,
                    json!({ "error": "the body must be {\"on\": true|false}" }),
                )
            })
    };
    let done = (200, json!({}));
    let result = match (method.as_str(), action) {
        ("GET", "" | "/") => Ok((200, json!(gateway.stats()))),
        ("POST", "/disconnect") => {
            gateway.disconnect_all();
            Ok(done)
        }
        ("POST", "/duplicate-next") => {
            gateway.duplicate_next();
            Ok(done)
        }
        ("POST", "/silence") => on().map(|on| {
            gateway.silence(on);
            done
        }),
        ("POST", "/refuse-tickets") => on().map(|on| {
            gateway.refuse_tickets(on);
            done
        }),
        ("POST", "/send-raw") => match std::str::from_utf8(body) {
            Ok(text) => {
                gateway.send_raw(text);
                Ok(done)
            }
            Err(_) => Err((400, json!({ "error": "the body must be UTF-8 text" }))),
        },
        _ => Err((404, json!({ "error": "no such gateway control" }))),
    };
    result.unwrap_or_else(|refusal| refusal)
}

/// `POST /__mock/events/emit` with `{"eventType", "data", "corpId"?}`: `{"eventId"}`.
pub(crate) fn admin_emit(shared: &Shared, body: &[u8]) -> (u16, Value) {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return (
            400,
            json!({ "error": "the body must be {\"eventType\", \"data\", \"corpId\"?}" }),
        );
    };
    let Some(event_type) = request.get("eventType").and_then(Value::as_str) else {
        return (400, json!({ "error": "eventType must be a string" }));
    };
    let corp_id = request
        .get("corpId")
        .and_then(Value::as_str)
        .unwrap_or(crate::DEFAULT_CORP_ID);
    let data = request.get("data").cloned().unwrap_or_else(|| json!({}));
    let event = shared.lock().emit_event(event_type, corp_id, data);
    (200, json!({ "eventId": event.event_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unified_app_id_is_a_stable_uuid_per_app() {
        let id = unified_app_id("mock-app-key");
        assert_eq!(id, unified_app_id("mock-app-key"));
        assert_ne!(id, unified_app_id("mock-suite-key"));
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn a_ping_reply_may_re_encode_the_data() {
        assert!(same_json(r#"{"opaque":"a"}"#, r#"{ "opaque" : "a" }"#));
        assert!(!same_json(r#"{"opaque":"a"}"#, r#"{"opaque":"b"}"#));
        assert!(!same_json(r#"{"opaque":"a"}"#, "not json"));
    }

    #[test]
    fn frames_of_an_event_are_remembered_up_to_a_bound() {
        let mut gateway = Gateway::new(DEFAULT_EVENT_REDELIVERY, None);
        let inner = gateway.inner.get_mut().expect("not poisoned");
        for n in 0..FRAMES_KEPT_PER_EVENT + 3 {
            remember_frame(inner, "event", &format!("frame-{n}"));
        }
        assert_eq!(inner.frames.len(), FRAMES_KEPT_PER_EVENT);
        assert!(!inner.frames.contains_key("frame-0"));
        resolve(inner, "event");
        assert!(inner.frames.is_empty() && inner.event_frames.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_oldest_waiting_event_is_dropped_beyond_the_bound() {
        let gateway = Gateway::new(DEFAULT_EVENT_REDELIVERY, None);
        let event = |n: usize| {
            Arc::new(MockEvent {
                event_id: format!("{n:032x}"),
                event_type: "meeting_status_change".to_owned(),
                corp_id: crate::DEFAULT_CORP_ID.to_owned(),
                born_ms: 0,
                data: json!({}),
            })
        };
        for n in 0..=MAX_PENDING {
            gateway.enqueue(event(n));
        }
        let stats = gateway.stats();
        assert_eq!((stats.pending, stats.dropped), (MAX_PENDING, 1));
        assert_eq!(
            gateway.lock().pending.front().map(|e| e.event_id.clone()),
            Some(format!("{:032x}", 1))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn events_going_back_to_wait_are_bounded_too_and_their_frames_forgotten() {
        // Events in flight to a client that never ACKed, whose connection is gone: when their
        // time comes they wait again, and the bound holds for them as for new ones.
        let gateway = Gateway::new(DEFAULT_EVENT_REDELIVERY, None);
        let event = |n: usize| {
            Arc::new(MockEvent {
                event_id: format!("{n:032x}"),
                event_type: "meeting_status_change".to_owned(),
                corp_id: crate::DEFAULT_CORP_ID.to_owned(),
                born_ms: 0,
                data: json!({}),
            })
        };
        {
            let mut inner = gateway.lock();
            for n in 0..MAX_PENDING + 5 {
                let event = event(n);
                let id = event.event_id.clone();
                remember_frame(&mut inner, &id, &format!("frame-{n}"));
                inner.in_flight.insert(
                    id,
                    InFlight {
                        event,
                        deadline: Instant::now(),
                        current: vec![format!("frame-{n}")],
                        answered: false,
                    },
                );
            }
        }
        gateway.expire(Instant::now());
        let stats = gateway.stats();
        assert_eq!((stats.pending, stats.dropped), (MAX_PENDING, 5));
        let inner = gateway.lock();
        assert_eq!(
            inner.frames.len(),
            MAX_PENDING,
            "the dropped events' frames forgotten"
        );
        assert!(!inner.event_frames.contains_key(&format!("{:032x}", 0)));
    }
}
