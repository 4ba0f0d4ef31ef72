//! A fleet's shared events through a capped Redis stream (features `events` and `redis`).
//!
//! DingTalk delivers each event to **one** of an app's open Stream connections, chosen at
//! random, so a wait in one process would not hear of an event another process received. With
//! a Redis ([`crate::ClientBuilder::redis`]):
//!
//! - **Publish.** The process whose own gateway connection receives a fresh event (the hub's
//!   forwarder) queues it to a task, which runs one script: `SET NX EX` on the event's id, and
//!   only if that was new, `XADD … MAXLEN ~ N` to the app's stream. Two processes receiving the
//!   same event (DingTalk redelivers) add it once. The forwarder never waits for Redis: a full
//!   queue drops the event for the fleet (it was still delivered here).
//! - **Stop.** `EventsHandle::stop` waits a moment ([`FLUSH_WITHIN`]) for the queue to be
//!   published: the events were ACKed, and a process that exits would take them with it.
//! - **Read.** Each process reads the stream (`XREAD BLOCK`, on a connection of its own) from
//!   its end when the reader starts, and hands every other process's event to its own hub as
//!   [`Origin::Fleet`]; the hub delivers each `eventId` once, whichever way it came first.
//! - **Keys.** Under the app's name like the fleet's other keys: one node,
//!   `{prefix}:events:{app}` and `{prefix}:event:{eventId}:{app}`; a cluster, both under the
//!   app's hash tag (`{{prefix}:{app}}:events`), so the script's keys share a slot.
//! - **Redis down.** Events still reach this process's waits from its own connection; the
//!   publisher tries an event again every second (for up to 30 s), the reader reconnects
//!   every second and resumes after the last entry it read, so a short outage loses nothing
//!   still in the stream. Failures are logged (once per outage) and counted like the store's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::Value as RedisValue;
use tokio::sync::{Notify, mpsc, watch};

use super::Event;
use super::hub::{Hub, MAX_EVENT_ID_BYTES, Origin};
use crate::RedisStore;
use crate::fleet::Connection;

/// About how many events the shared stream keeps (`MAXLEN ~`): minutes of a busy app's events,
/// enough for a reader that reconnects after a short outage to catch up.
pub(crate) const STREAM_MAX_LEN: u64 = 10_000;

/// How long an event's id is remembered for deduplication (`SET NX EX`), in seconds: longer
/// than DingTalk's redeliveries of one event.
pub(crate) const DEDUPE_SECONDS: u64 = 600;

/// The longest [`EventFleet::flush`] waits when a handler stops (Redis down: the events stay
/// local; they were delivered here).
pub(crate) const FLUSH_WITHIN: Duration = Duration::from_secs(2);

/// How long one `XREAD` blocks before it is sent again (and the reader sees whether to stop).
const BLOCK: Duration = Duration::from_secs(5);

/// The most entries one `XREAD` returns.
const READ_COUNT: usize = 256;

/// How many events wait for the publisher before more are dropped for the fleet.
const QUEUE: usize = 1024;

/// How long the reader and the publisher wait after a Redis failure.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long the publisher keeps trying one event while Redis fails, a second apart, before it
/// gives up on it (the events queued behind it wait meanwhile, up to [`QUEUE`]).
const PUBLISH_FOR: Duration = Duration::from_secs(30);

/// `KEYS[1]` the event's dedupe key, `KEYS[2]` the stream; `ARGV[1]` the dedupe lifetime in
/// seconds, `ARGV[2]` the stream's approximate cap, `ARGV[3]` the event, `ARGV[4]` the
/// publishing member. Returns 1 if added, 0 if the id was published already.
const PUBLISH: &str = r"
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[3], 'from', ARGV[4])
  return 1
end
return 0
";

/// One client's part in the fleet's shared events. Dropping it (with the client) stops its
/// tasks.
pub(crate) struct EventFleet {
    shared: Arc<Shared>,
    hub: Arc<Hub>,
    /// Set once the tasks run.
    started: OnceLock<()>,
    /// Dropped with the fleet: the tasks see it and stop.
    stop: watch::Sender<()>,
}

impl std::fmt::Debug for EventFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFleet")
            .field("stream", &self.shared.stream_key)
            .field("started", &self.started.get().is_some())
            .finish_non_exhaustive()
    }
}

/// What the publisher and the reader share.
struct Shared {
    store: RedisStore,
    /// The app's name in keys (`{edition-or-host}:{appKey}`, or `…:{suiteKey}:{authCorpId}`).
    app: String,
    stream_key: String,
    /// This process's name in the stream's entries, so that its reader skips its own events.
    member: String,
    /// The stream's approximate cap ([`STREAM_MAX_LEN`]).
    max_len: u64,
    /// Events queued and not yet published (or given up on).
    pending: AtomicUsize,
    /// Woken each time the publisher is done with an event.
    published: Notify,
}

impl Shared {
    fn dedupe_key(&self, event_id: &str) -> String {
        self.store.app_key(&self.app, &format!("event:{event_id}"))
    }
}

impl EventFleet {
    /// The shared events of the app named `app` through `store`, for the client whose hub is
    /// `hub`. Nothing runs until [`EventFleet::start`].
    pub(crate) fn new(store: RedisStore, app: &str, hub: Arc<Hub>) -> Self {
        let stream_key = store.app_key(app, "events");
        let (stop, _) = watch::channel(());
        Self {
            shared: Arc::new(Shared {
                store,
                app: app.to_owned(),
                stream_key,
                member: crate::fleet::owner(),
                max_len: STREAM_MAX_LEN,
                pending: AtomicUsize::new(0),
                published: Notify::new(),
            }),
            hub,
            started: OnceLock::new(),
            stop,
        }
    }

    /// Starts publishing this client's events and reading the others' (once; later calls do
    /// nothing). Called when the client's event stream starts, inside a Tokio runtime.
    pub(crate) fn start(&self) {
        if self.started.set(()).is_err() {
            return;
        }
        let (queue, events) = mpsc::channel::<Arc<Event>>(QUEUE);
        let shared = Arc::clone(&self.shared);
        let forwarder_set = self.hub.set_forwarder(Box::new(move |event: &Arc<Event>| {
            // Never waits: the Stream runner calls this.
            shared.pending.fetch_add(1, Ordering::AcqRel);
            if queue.try_send(Arc::clone(event)).is_err() {
                shared.pending.fetch_sub(1, Ordering::AcqRel);
                tracing::debug!(event_id = %crate::text::shown(&event.id), "fleet queue full; event kept local");
            }
        }));
        if forwarder_set {
            tokio::spawn(publish(
                Arc::clone(&self.shared),
                events,
                self.stop.subscribe(),
            ));
        }
        tokio::spawn(read(
            Arc::clone(&self.shared),
            Arc::clone(&self.hub),
            self.stop.subscribe(),
        ));
    }
}

impl EventFleet {
    /// Waits (up to `within`) until the events this client received are published: a process
    /// that stops its stream and exits would otherwise take the events it received for the
    /// others' waits with it (DingTalk had them ACKed, so it does not send them again).
    pub(crate) async fn flush(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let published = self.shared.published.notified();
            let mut published = std::pin::pin!(published);
            published.as_mut().enable();
            if self.shared.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, published).await.is_err() {
                return;
            }
        }
    }
}

/// The publisher: each queued event to the stream, once per id across the fleet.
async fn publish(
    shared: Arc<Shared>,
    mut events: mpsc::Receiver<Arc<Event>>,
    mut stop: watch::Receiver<()>,
) {
    loop {
        let Some(Some(event)) = until_stopped(events.recv(), &mut stop).await else {
            return;
        };
        publish_event(&shared, &event, &mut stop).await;
        shared.pending.fetch_sub(1, Ordering::AcqRel);
        shared.published.notify_waiters();
    }
}

/// Publishes one event, trying again every second while Redis fails, up to [`PUBLISH_FOR`].
async fn publish_event(shared: &Shared, event: &Event, stop: &mut watch::Receiver<()>) {
    let Some(encoded) = encode(event) else {
        return;
    };
    let give_up = tokio::time::Instant::now() + PUBLISH_FOR;
    while publish_one(shared, &event.id, &encoded).await.is_none() {
        if tokio::time::Instant::now() >= give_up {
            tracing::warn!(event_id = %crate::text::shown(&event.id), "event not shared with the fleet: Redis failed");
            return;
        }
        if until_stopped(tokio::time::sleep(RETRY_AFTER), stop)
            .await
            .is_none()
        {
            return;
        }
    }
}

/// Runs the publish script for one event: `Some(true)` added, `Some(false)` published already
/// (by this or another member), `None` Redis failed.
async fn publish_one(shared: &Shared, event_id: &str, encoded: &str) -> Option<bool> {
    let mut connection = shared.store.connection("events")?;
    let script = redis::Script::new(PUBLISH);
    let mut invocation = script.key(shared.dedupe_key(event_id));
    invocation
        .key(&shared.stream_key)
        .arg(DEDUPE_SECONDS)
        .arg(shared.max_len)
        .arg(encoded)
        .arg(&shared.member);
    let added: Option<i64> = shared
        .store
        .run("events", invocation.invoke_async(&mut connection))
        .await;
    added.map(|added| added == 1)
}

/// The reader: every other member's event into this client's hub, until stopped.
async fn read(shared: Arc<Shared>, hub: Arc<Hub>, mut stop: watch::Receiver<()>) {
    // Where reading goes on: the stream's end as first found, then the last entry read. Kept
    // across failures, so that an event published while the reader was cut off is read.
    let mut after: Option<String> = None;
    let mut connection: Option<Connection> = None;
    let mut down = false;
    loop {
        let read = async {
            let mut held = match connection.take() {
                Some(held) => held,
                None => shared
                    .store
                    .blocking_connection(BLOCK)
                    .map_err(|e| cause(&e))?,
            };
            if after.is_none() {
                after = Some(stream_end(&shared, &mut held).await?);
            }
            let from = after.clone().unwrap_or_else(|| "0-0".to_owned());
            let reply = read_after(&shared, &mut held, &from).await?;
            connection = Some(held);
            Ok::<_, String>(reply)
        };
        let Some(outcome) = until_stopped(read, &mut stop).await else {
            return;
        };
        match outcome {
            Ok(reply) => {
                if down {
                    tracing::info!(redis = %shared.store.shown_server(), "reading the fleet's events again");
                    down = false;
                }
                for (id, fields) in entries(reply) {
                    after = Some(id);
                    deliver(&shared, &hub, &fields);
                }
            }
            Err(why) => {
                if !down {
                    tracing::warn!(
                        redis = %shared.store.shown_server(),
                        error = %why,
                        "cannot read the fleet's events; this process's own events still arrive"
                    );
                    down = true;
                }
                if until_stopped(tokio::time::sleep(RETRY_AFTER), &mut stop)
                    .await
                    .is_none()
                {
                    return;
                }
            }
        }
    }
}

/// One `XREAD` of the entries after `from`, blocking up to [`BLOCK`] for one to come.
async fn read_after(
    shared: &Shared,
    connection: &mut Connection,
    from: &str,
) -> Result<RedisValue, String> {
    redis::cmd("XREAD")
        .arg("COUNT")
        .arg(READ_COUNT)
        .arg("BLOCK")
        .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(5_000))
        .arg("STREAMS")
        .arg(&shared.stream_key)
        .arg(from)
        .query_async(connection)
        .await
        .map_err(|e| cause(&e))
}

/// `work`'s output, or `None` once the fleet is dropped (its stop sender gone).
async fn until_stopped<F: std::future::Future>(
    work: F,
    stop: &mut watch::Receiver<()>,
) -> Option<F::Output> {
    let work = std::pin::pin!(work);
    let stopped = std::pin::pin!(stop.changed());
    match futures_util::future::select(work, stopped).await {
        futures_util::future::Either::Left((output, _)) => Some(output),
        futures_util::future::Either::Right(_) => None,
    }
}

/// The id of the stream's last entry (`0-0` when there is none): the reader starts after it.
async fn stream_end(shared: &Shared, connection: &mut Connection) -> Result<String, String> {
    let reply: RedisValue = redis::cmd("XREVRANGE")
        .arg(&shared.stream_key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(connection)
        .await
        .map_err(|e| cause(&e))?;
    Ok(list(reply)
        .into_iter()
        .next()
        .and_then(|entry| entry_of(entry).map(|(id, _)| id))
        .unwrap_or_else(|| "0-0".to_owned()))
}

/// Hands one stream entry's event to the hub, unless this process published it.
fn deliver(shared: &Shared, hub: &Hub, fields: &[(String, String)]) {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if field("from") == Some(shared.member.as_str()) {
        return;
    }
    match field("event").and_then(decode) {
        Some(event) => {
            hub.deliver(Arc::new(event), Origin::Fleet);
        }
        None => tracing::debug!("a fleet stream entry that is not an event; skipped"),
    }
}

/// The entries of an `XREAD` reply (RESP2 arrays or RESP3 maps), as (id, fields).
fn entries(reply: RedisValue) -> Vec<(String, Vec<(String, String)>)> {
    let streams: Vec<RedisValue> = match reply {
        RedisValue::Map(pairs) => pairs.into_iter().map(|(_, entries)| entries).collect(),
        other => list(other)
            .into_iter()
            .filter_map(|stream| list(stream).into_iter().nth(1))
            .collect(),
    };
    streams
        .into_iter()
        .flat_map(list)
        .filter_map(entry_of)
        .collect()
}

/// One entry, `[id, [field, value, …]]`.
fn entry_of(entry: RedisValue) -> Option<(String, Vec<(String, String)>)> {
    let mut parts = list(entry).into_iter();
    let id = text(parts.next()?)?;
    let flat: Vec<String> = match parts.next()? {
        RedisValue::Map(pairs) => pairs
            .into_iter()
            .flat_map(|(key, value)| [key, value])
            .filter_map(text)
            .collect(),
        other => list(other).into_iter().filter_map(text).collect(),
    };
    let fields = flat
        .chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect();
    Some((id, fields))
}

fn list(value: RedisValue) -> Vec<RedisValue> {
    match value {
        RedisValue::Array(items) | RedisValue::Set(items) => items,
        _ => Vec::new(),
    }
}

fn text(value: RedisValue) -> Option<String> {
    match value {
        RedisValue::BulkString(bytes) => String::from_utf8(bytes).ok(),
        RedisValue::SimpleString(text) => Some(text),
        RedisValue::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

fn cause(e: &redis::RedisError) -> String {
    format!("{:?}", e.kind())
}

/// The event as the stream carries it: DingTalk's Stream envelope (`eventId`, `eventType`,
/// `eventCorpId`, `eventBornTime`) and the payload as received (`data`); `None` if it cannot
/// be written (it stays local).
pub(crate) fn encode(event: &Event) -> Option<String> {
    serde_json::to_string(event).ok()
}

/// An event read from the stream, its payload parsed again the same way as from the gateway;
/// `None` for text that is not one, or whose `eventId` is longer than a gateway's may be.
pub(crate) fn decode(text: &str) -> Option<Event> {
    serde_json::from_str::<Event>(text)
        .ok()
        .filter(|event| event.id.len() <= MAX_EVENT_ID_BYTES)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use dingtalk_conference_testkit::redis::{RedisServer, ensure_redis_server};
    use tokio::sync::broadcast;

    use serde_json::Value;

    use super::*;
    use crate::events::hub::Signal;

    const APP: &str = "test-scope:test-app";

    fn event(id: &str, conference: &str) -> Event {
        let data = format!(
            r#"{{"openConfModel":{{"conferenceId":"{conference}","status":1}},"statusSeqNum":3,"changeScene":"conference_closed"}}"#
        );
        Event::from_parts(
            id,
            "meeting_status_change",
            Some("corp".to_owned()),
            Some(1_683_533_823_336),
            &data,
        )
    }

    fn store(redis: &RedisServer) -> RedisStore {
        RedisStore::open(&redis.url()).expect("a Redis URL")
    }

    /// A member of the fleet with its own hub, started.
    fn member(store: &RedisStore) -> (EventFleet, Arc<Hub>) {
        let hub = Arc::new(Hub::new());
        let fleet = EventFleet::new(store.clone(), APP, Arc::clone(&hub));
        fleet.start();
        (fleet, hub)
    }

    /// The next event the hub hands its waits, within `within`.
    async fn next_event(
        signals: &mut broadcast::Receiver<Signal>,
        within: Duration,
    ) -> Option<Arc<Event>> {
        tokio::time::timeout(within, async {
            loop {
                match signals.recv().await {
                    Ok(Signal::Event(event)) => return Some(event),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Until the stream holds `count` entries (the publisher runs apart from the forwarder).
    async fn wait_for_len(redis: &RedisServer, key: &str, count: usize) {
        for _ in 0..200 {
            if redis.cli(&["XLEN", key]).as_deref() == Some(count.to_string().as_str()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the stream {key} never held {count} entries");
    }

    /// How many clients of `redis` are blocked in `XREAD` (the members' readers).
    fn blocked_readers(redis: &RedisServer) -> usize {
        redis.cli(&["CLIENT", "LIST"]).map_or(0, |list| {
            list.lines().filter(|l| l.contains("cmd=xread")).count()
        })
    }

    /// Until `count` readers have found the stream's end and block after it (an event
    /// published before a reader starts is not read by it).
    async fn readers_settle(redis: &RedisServer, count: usize) {
        for _ in 0..500 {
            if blocked_readers(redis) >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{count} readers never blocked on the stream");
    }

    #[test]
    fn an_event_keeps_its_envelope_and_payload_through_the_stream_form() {
        let sent = event("e1", "conf-1");
        let text = encode(&sent).expect("encodes");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["eventId"], "e1");
        assert_eq!(value["eventType"], "meeting_status_change");
        assert_eq!(value["eventCorpId"], "corp");
        assert_eq!(value["eventBornTime"], 1_683_533_823_336_i64);
        assert_eq!(value["data"]["openConfModel"]["conferenceId"], "conf-1");
        assert_eq!(decode(&text), Some(sent));
        assert_eq!(decode("not an event"), None);
        assert_eq!(decode(r#"{"eventType":"x"}"#), None, "no eventId");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_members_event_reaches_this_hub_once_and_its_own_is_not_read_back() {
        ensure_redis_server();
        let redis = RedisServer::start();
        let store = store(&redis);
        let (_a, hub_a) = member(&store);
        let (_b, hub_b) = member(&store);
        readers_settle(&redis, 2).await;
        let mut at_a = hub_a.subscribe();
        let mut at_b = hub_b.subscribe();

        assert!(hub_a.deliver(Arc::new(event("e1", "conf-1")), Origin::Gateway));
        let local = next_event(&mut at_a, Duration::from_secs(1)).await;
        assert_eq!(local.map(|e| e.id.clone()).as_deref(), Some("e1"));
        let shared = next_event(&mut at_b, Duration::from_secs(5))
            .await
            .expect("B hears of A's event");
        assert_eq!(*shared, event("e1", "conf-1"));
        assert_eq!(shared.kind, event("e1", "conf-1").kind, "re-parsed alike");

        // DingTalk redelivers e1 to B's own connection: B's waits had it (no second
        // delivery), and the stream does not get it twice.
        assert!(!hub_b.deliver(Arc::new(event("e1", "conf-1")), Origin::Gateway));
        assert!(hub_b.deliver(Arc::new(event("e2", "conf-2")), Origin::Gateway));
        let key = store.app_key(APP, "events");
        wait_for_len(&redis, &key, 2).await;
        let theirs = next_event(&mut at_a, Duration::from_secs(5)).await;
        assert_eq!(theirs.map(|e| e.id.clone()).as_deref(), Some("e2"));
        assert!(
            next_event(&mut at_a, Duration::from_millis(300))
                .await
                .is_none(),
            "A does not read its own e1 back"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_waits_until_the_events_received_are_published() {
        ensure_redis_server();
        let redis = RedisServer::start();
        let store = store(&redis);
        let (a, hub) = member(&store);
        for n in 0..50 {
            assert!(hub.deliver(Arc::new(event(&format!("f{n}"), "conf")), Origin::Gateway));
        }
        a.flush(Duration::from_secs(5)).await;
        let key = store.app_key(APP, "events");
        assert_eq!(redis.cli(&["XLEN", &key]).as_deref(), Some("50"));
        // Nothing pending: at once.
        let started = tokio::time::Instant::now();
        a.flush(Duration::from_secs(5)).await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_event_id_is_published_once_across_members_and_remembered_for_a_while() {
        ensure_redis_server();
        let redis = RedisServer::start();
        let store = store(&redis);
        let (a, _hub_a) = member(&store);
        let (b, _hub_b) = member(&store);
        let sent = encode(&event("dup", "conf-1")).expect("encodes");
        assert_eq!(publish_one(&a.shared, "dup", &sent).await, Some(true));
        assert_eq!(publish_one(&b.shared, "dup", &sent).await, Some(false));
        assert_eq!(publish_one(&a.shared, "dup", &sent).await, Some(false));
        let key = store.app_key(APP, "events");
        assert_eq!(redis.cli(&["XLEN", &key]).as_deref(), Some("1"));
        let ttl: u64 = redis
            .cli(&["TTL", &a.shared.dedupe_key("dup")])
            .and_then(|ttl| ttl.parse().ok())
            .expect("a TTL");
        assert!(ttl > 0 && ttl <= DEDUPE_SECONDS, "{ttl}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stream_is_capped() {
        ensure_redis_server();
        let redis = RedisServer::start();
        let store = store(&redis);
        let hub = Arc::new(Hub::new());
        let mut fleet = EventFleet::new(store.clone(), APP, hub);
        Arc::get_mut(&mut fleet.shared)
            .expect("not started")
            .max_len = 100;
        for n in 0..1_000 {
            let id = format!("e{n}");
            let sent = encode(&event(&id, "conf")).expect("encodes");
            assert_eq!(publish_one(&fleet.shared, &id, &sent).await, Some(true));
        }
        let len: usize = redis
            .cli(&["XLEN", &store.app_key(APP, "events")])
            .and_then(|len| len.parse().ok())
            .expect("a length");
        // `MAXLEN ~` trims whole nodes of the stream: about the cap, never all 1,000.
        assert!((100..400).contains(&len), "{len}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redis_restart_loses_no_event_and_events_stay_local_meanwhile() {
        ensure_redis_server();
        let mut redis = RedisServer::start();
        let store = store(&redis);
        let (_a, hub_a) = member(&store);
        let (_b, hub_b) = member(&store);
        readers_settle(&redis, 2).await;
        let mut at_a = hub_a.subscribe();
        let mut at_b = hub_b.subscribe();

        redis.stop();
        assert!(hub_a.deliver(Arc::new(event("while-down", "conf-1")), Origin::Gateway));
        let local = next_event(&mut at_a, Duration::from_secs(1)).await;
        assert_eq!(
            local.map(|e| e.id.clone()).as_deref(),
            Some("while-down"),
            "delivered here at once, Redis or not"
        );
        redis.restart();
        // The publisher tries again a second later; B's reader reconnects and reads it.
        let shared = next_event(&mut at_b, Duration::from_secs(10))
            .await
            .expect("B hears of it once Redis is back");
        assert_eq!(shared.id, "while-down");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_a_cluster_the_keys_share_the_apps_hash_tag() {
        ensure_redis_server();
        let redis = RedisServer::start_one_node_cluster();
        let store = RedisStore::cluster([redis.url()]).expect("a cluster");
        let (a, hub_a) = member(&store);
        let (_b, hub_b) = member(&store);
        readers_settle(&redis, 2).await;
        let mut at_b = hub_b.subscribe();
        assert!(hub_a.deliver(Arc::new(event("c1", "conf-1")), Origin::Gateway));
        let shared = next_event(&mut at_b, Duration::from_secs(5)).await;
        assert_eq!(shared.map(|e| e.id.clone()).as_deref(), Some("c1"));
        let tag = format!("{{dingtalk:{APP}}}");
        assert_eq!(a.shared.stream_key, format!("{tag}:events"));
        assert!(a.shared.dedupe_key("c1").starts_with(&tag));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_fleet_stops_its_tasks() {
        ensure_redis_server();
        let redis = RedisServer::start();
        let store = store(&redis);
        let (fleet, hub) = member(&store);
        readers_settle(&redis, 1).await;
        assert_eq!(blocked_readers(&redis), 1, "the reader blocks on XREAD");
        drop(fleet);
        drop(hub);
        for _ in 0..100 {
            if blocked_readers(&redis) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the reader still runs after its fleet was dropped");
    }
}
