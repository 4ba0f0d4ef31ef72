//! The runner behind an [`EventStream`](super::EventStream) or an
//! [`EventsHandle`](super::EventsHandle): a supervisor that keeps one connection open, and a
//! task per connection that reads it.
//!
//! - **Make-before-break.** On `disconnect` the supervisor opens the next connection at once,
//!   while the old one's task goes on reading (and ACKing) until DingTalk closes it, or
//!   [`StreamOptions::drain_after_disconnect`] passes.
//! - **Back-off.** A failed opening, or a connection that ends, waits
//!   [`StreamOptions::backoff`] for the failures in a row; any frame received resets them.
//! - **Never starved.** Events are handled on tasks of their own, at most
//!   [`StreamOptions::max_in_flight`] at once; the connection's task only reads, answers
//!   pings and writes the ACKs the handlers send back.
//! - **In order, for a stream.** An [`EventStream`](super::EventStream)'s queue is fed by one
//!   forwarding task per connection, so its events come out in the order they arrived on that
//!   connection; at most [`StreamOptions::max_in_flight`] wait for room in the queue, and
//!   further ones are answered `LATER`.
//! - **One handling at a time per event.** A redelivery that arrives while the same `eventId`
//!   is still being handled is answered `LATER`, never `SUCCESS`: the first handling may yet
//!   fail, and DingTalk must still hold the event then.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Duration, Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::Instrument;

use super::frame::{self, AckStatus, Inbound};
use super::open::{self, Socket};
use crate::events::Event;
use crate::events::hub::{Hub, Origin, RecentIds};
use crate::{Client, Error, telemetry};

/// What handles an event.
pub(crate) enum Handler {
    /// The application's callback ([`Client::on_events`]): each event on a task of its own.
    Callback(Arc<dyn Fn(Event) -> BoxFuture<'static, AckStatus> + Send + Sync>),
    /// An `EventStream`'s queue ([`Client::events`]): fed in arrival order, per connection.
    Queue(mpsc::Sender<Event>),
}

/// An event on its way into an `EventStream`'s queue, with what its ACK needs.
struct Queued {
    message_id: String,
    event: Event,
}

/// One connection's way into an `EventStream`'s queue, in arrival order: straight in while
/// the queue has room and nothing waits before it; otherwise behind the events waiting, in a
/// task that waits for room.
struct Forwarder {
    queue: mpsc::Sender<Event>,
    waiting: mpsc::Sender<Queued>,
    /// Events handed to the task and not yet in the queue.
    pending: Arc<AtomicUsize>,
}

/// Answers an EVENT frame with `status`, through its connection's writer (gone with the
/// connection: DingTalk then sends the event again).
fn ack(answers: &mpsc::UnboundedSender<String>, message_id: &str, status: AckStatus) {
    telemetry::event_ack(status);
    let _ = answers.send(frame::ack(message_id, status));
}

/// What to do with one delivery of an event ([`Runner::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Hand it to the application: the first delivery, or one answered `LATER` before.
    Handle,
    /// The same `eventId` is being handled now: answer `LATER`.
    BeingHandled,
    /// Handled already: answer `SUCCESS`, do not hand it over again.
    Duplicate,
}

/// How long a stopping runner waits for its connections to close politely.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How many `eventId`s answered `LATER` are remembered, to be handled again when redelivered.
const LATER_WINDOW: usize = 4096;

/// What the runner shares with its public handle.
#[derive(Debug, Default)]
pub(crate) struct Status {
    open: AtomicUsize,
    last_error: Mutex<Option<Error>>,
}

impl Status {
    pub(crate) fn is_connected(&self) -> bool {
        self.open.load(Ordering::Acquire) > 0
    }

    pub(crate) fn last_error(&self) -> Option<Error> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_error(&self, error: Option<Error>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error;
    }
}

/// Resolves once the runner is told to stop, or once every stopper is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// One runner's state, shared by its supervisor, connections and handler tasks.
pub(crate) struct Runner {
    client: Client,
    handler: Handler,
    status: Arc<Status>,
    in_flight: Arc<Semaphore>,
    /// Which deliveries are handled: the client's, shared by its runners, since DingTalk may
    /// redeliver to any of its connections.
    claims: Arc<Claims>,
}

/// What a connection tells the supervisor.
#[derive(Debug)]
enum Report {
    /// Its first frame arrived: the connection works.
    Alive,
    /// DingTalk asked it to go (`disconnect`): open the next one now.
    Disconnect(u64),
    /// It closed.
    Closed(u64),
}

impl Runner {
    pub(crate) fn new(client: Client, handler: Handler, status: Arc<Status>) -> Arc<Self> {
        let handlers = client.inner.stream.options.max_in_flight;
        let claims = Arc::clone(&client.inner.stream.claims);
        Arc::new(Self {
            client,
            handler,
            status,
            in_flight: Arc::new(Semaphore::new(handlers)),
            claims,
        })
    }

    /// Waits until no handler runs (every permit free).
    pub(crate) async fn handlers_done(&self) {
        let all = u32::try_from(self.client.inner.stream.options.max_in_flight).unwrap_or(u32::MAX);
        let _ = self.in_flight.acquire_many(all).await;
    }

    fn hub(&self) -> &Arc<Hub> {
        &self.client.inner.events
    }

    /// The supervisor: keeps a connection open until told to stop.
    pub(crate) async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let options = &self.client.inner.stream.options;
        let (reports_tx, mut reports) = mpsc::unbounded_channel();
        let mut connections = JoinSet::new();
        let mut current: Option<u64> = None;
        let mut failures: u32 = 0;
        let mut next_id: u64 = 0;
        loop {
            if current.is_none() {
                tokio::select! {
                    () = stopped(&mut stop) => break,
                    () = sleep(options.backoff(failures)) => {}
                }
                next_id += 1;
                let opened = tokio::select! {
                    () = stopped(&mut stop) => break,
                    opened = self.connect() => opened,
                };
                match opened {
                    Ok(socket) => {
                        tracing::info!(connection = next_id, "event stream connected");
                        telemetry::stream_connect(true);
                        self.status.set_error(None);
                        let connection = Connection::open(&self, next_id, reports_tx.clone());
                        let span = tracing::info_span!("dingtalk.events", connection = next_id);
                        connections.spawn(
                            Arc::clone(&self)
                                .read(connection, socket, stop.clone())
                                .instrument(span),
                        );
                        current = Some(next_id);
                    }
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(
                            failures,
                            error = %error.report(),
                            "the event stream could not connect; trying again after a back-off"
                        );
                        telemetry::stream_connect(false);
                        self.status.set_error(Some(error));
                        continue;
                    }
                }
            }
            tokio::select! {
                () = stopped(&mut stop) => break,
                Some(report) = reports.recv() => match report {
                    Report::Alive => failures = 0,
                    Report::Disconnect(id) if current == Some(id) => current = None,
                    Report::Closed(id) if current == Some(id) => {
                        // Even a connection that worked waits a little before the next, so a
                        // gateway that drops every connection at once is not hammered.
                        failures = failures.saturating_add(1);
                        current = None;
                    }
                    Report::Disconnect(_) | Report::Closed(_) => {}
                },
                Some(_) = connections.join_next() => {}
            }
        }
        // Each connection sees the stop too and closes; those that do not in time are aborted.
        let _ = timeout(CLOSE_TIMEOUT, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
    }

    async fn connect(&self) -> Result<Socket, Error> {
        let endpoint = &self.client.inner.endpoint;
        open::connect(&endpoint.http, &self.client.inner.stream, endpoint.timeout).await
    }

    /// Reads one connection until it closes, goes silent, drains after a `disconnect`, or
    /// the runner stops.
    async fn read(
        self: Arc<Self>,
        mut connection: Connection,
        mut socket: Socket,
        mut stop: watch::Receiver<bool>,
    ) {
        let options = &self.client.inner.stream.options;
        let (answers_tx, mut answers) = mpsc::unbounded_channel::<String>();
        let forward = match &self.handler {
            Handler::Queue(queue) => {
                Some(Arc::clone(&self).forward(queue.clone(), answers_tx.clone()))
            }
            Handler::Callback(_) => None,
        };
        let mut heard = Instant::now();
        let mut pinged = false;
        let mut drain_until: Option<Instant> = None;
        loop {
            let drain_at =
                drain_until.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
            tokio::select! {
                biased;
                () = stopped(&mut stop) => {
                    let _ = timeout(CLOSE_TIMEOUT, socket.close(None)).await;
                    break;
                }
                Some(answer) = answers.recv() => {
                    if !send(&mut socket, Message::text(answer), options.dead_after_silence).await {
                        break;
                    }
                }
                message = socket.next() => match message {
                    None => break,
                    Some(Err(error)) => {
                        log_read_error(&error);
                        break;
                    }
                    Some(Ok(message)) => {
                        heard = Instant::now();
                        pinged = false;
                        connection.heard();
                        if let Message::Text(text) = message {
                            if self.on_text(&text, &connection, &answers_tx, forward.as_ref()) {
                                drain_until.get_or_insert(Instant::now() + options.drain_after_disconnect);
                            }
                        } else if let Message::Binary(data) = message {
                            tracing::warn!(bytes = data.len(), "skipped a binary frame: the protocol has none");
                        }
                    }
                },
                () = sleep_until(heard + options.ping_after_idle), if !pinged => {
                    pinged = true;
                    if !send(&mut socket, Message::Ping(Default::default()), options.dead_after_silence).await {
                        break;
                    }
                }
                () = sleep_until(heard + options.dead_after_silence) => {
                    tracing::warn!(silent_for = ?options.dead_after_silence, "the connection went silent: replacing it");
                    break;
                }
                () = sleep_until(drain_at), if drain_until.is_some() => {
                    tracing::debug!("closing the connection DingTalk asked to go");
                    let _ = timeout(CLOSE_TIMEOUT, socket.close(None)).await;
                    break;
                }
            }
        }
        tracing::info!("event stream connection closed");
        drop(connection);
    }

    /// Handles one text frame; `true` for a `disconnect`.
    fn on_text(
        self: &Arc<Self>,
        text: &str,
        connection: &Connection,
        answers: &mpsc::UnboundedSender<String>,
        forward: Option<&Forwarder>,
    ) -> bool {
        match Inbound::parse(text) {
            Err(malformed) => {
                tracing::warn!(bytes = text.len(), reason = %malformed, "skipped a malformed frame");
            }
            Ok(Inbound::Ping { message_id, data }) => {
                let _ = answers.send(frame::pong(&message_id, &data));
            }
            Ok(Inbound::Disconnect) => {
                tracing::info!("DingTalk asked this connection to go: opening the next one");
                connection.report(Report::Disconnect(connection.id));
                return true;
            }
            Ok(Inbound::OtherSystem { topic }) => {
                tracing::debug!(topic = %crate::text::shown(&topic), "ignored a SYSTEM frame");
            }
            Ok(Inbound::Callback { message_id, topic }) => {
                tracing::debug!(topic = %crate::text::shown(&topic), "answered a CALLBACK 404: none is subscribed");
                let _ = answers.send(frame::no_handler(&message_id));
            }
            Ok(Inbound::Event { message_id, event }) => {
                self.on_event(message_id, *event, answers.clone(), forward);
            }
        }
        false
    }

    /// Hands an event to the waits, and to the application unless it is a duplicate; the ACK
    /// goes back through `answers` when the handler returns (or the queue took it).
    fn on_event(
        self: &Arc<Self>,
        message_id: String,
        event: Event,
        answers: mpsc::UnboundedSender<String>,
        forward: Option<&Forwarder>,
    ) {
        let id = event.id.clone();
        telemetry::event_received(&event.event_type);
        tracing::debug!(event_id = %crate::text::shown(&id), event_type = %crate::text::shown(&event.event_type), "event");
        self.hub().deliver(Arc::new(event.clone()), Origin::Gateway);
        match self.claim(&id) {
            Claim::Handle => {}
            Claim::BeingHandled => {
                tracing::debug!(event_id = %crate::text::shown(&id), "redelivered while still being handled: answered LATER");
                ack(&answers, &message_id, AckStatus::Later);
                return;
            }
            Claim::Duplicate => {
                telemetry::event_duplicate();
                tracing::debug!(event_id = %crate::text::shown(&id), "duplicate event: ACKed, not handled again");
                ack(&answers, &message_id, AckStatus::Success);
                return;
            }
        }
        match (&self.handler, forward) {
            (Handler::Queue(_), Some(forward)) => {
                let status = self.enqueue(forward, message_id.clone(), event);
                if let Some(status) = status {
                    ack(&answers, &message_id, status);
                }
            }
            (Handler::Callback(callback), _) => {
                let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                    tracing::warn!(event_id = %crate::text::shown(&id), "every handler is busy: answered LATER, DingTalk sends it again");
                    self.finish_handling(id, AckStatus::Later);
                    ack(&answers, &message_id, AckStatus::Later);
                    return;
                };
                let runner = Arc::clone(self);
                let callback = Arc::clone(callback);
                tokio::spawn(
                    async move {
                        // Its own task, so that a panicking handler is a LATER, not a lost ACK.
                        let status = match tokio::spawn(async move { callback(event).await }).await
                        {
                            Ok(status) => status,
                            Err(_) => {
                                tracing::warn!("the event handler panicked: answered LATER");
                                AckStatus::Later
                            }
                        };
                        runner.finish_handling(id, status);
                        drop(permit);
                        // The connection may be gone: DingTalk then sends the event again.
                        ack(&answers, &message_id, status);
                    }
                    .in_current_span(),
                );
            }
            (Handler::Queue(_), None) => {
                // Not reached: every connection of a stream has its forwarder.
                self.finish_handling(id, AckStatus::Later);
                ack(&answers, &message_id, AckStatus::Later);
            }
        }
    }

    /// Puts an event into an `EventStream`'s queue in arrival order: the ACK now (`SUCCESS`
    /// when it went straight in, `LATER` when even the waiting line is full), or `None` when
    /// it waits for room and the forwarding task will ACK it.
    fn enqueue(&self, forward: &Forwarder, message_id: String, event: Event) -> Option<AckStatus> {
        let id = event.id.clone();
        // Straight in only when nothing waits before it: the order is the connection's.
        let event = if forward.pending.load(Ordering::Acquire) == 0 {
            match forward.queue.try_send(event) {
                Ok(()) => {
                    self.finish_handling(id, AckStatus::Success);
                    return Some(AckStatus::Success);
                }
                Err(TrySendError::Closed(_)) => {
                    // The stream is gone: the runner is stopping.
                    self.finish_handling(id, AckStatus::Later);
                    return Some(AckStatus::Later);
                }
                Err(TrySendError::Full(event)) => event,
            }
        } else {
            event
        };
        forward.pending.fetch_add(1, Ordering::AcqRel);
        match forward.waiting.try_send(Queued { message_id, event }) {
            Ok(()) => None,
            Err(_) => {
                forward.pending.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(event_id = %crate::text::shown(&id), "the stream's queue is full: answered LATER, DingTalk sends it again");
                self.finish_handling(id, AckStatus::Later);
                Some(AckStatus::Later)
            }
        }
    }

    /// The task that moves one connection's waiting events into an `EventStream`'s queue as
    /// room comes, in order, each ACKed `SUCCESS` once the queue took it (`LATER` if the
    /// stream is gone). It ends when its connection's reader drops the sender and the events
    /// left are queued.
    fn forward(
        self: Arc<Self>,
        queue: mpsc::Sender<Event>,
        answers: mpsc::UnboundedSender<String>,
    ) -> Forwarder {
        let (waiting, mut queued) =
            mpsc::channel::<Queued>(self.client.inner.stream.options.max_in_flight);
        let pending = Arc::new(AtomicUsize::new(0));
        let forwarder = Forwarder {
            queue: queue.clone(),
            waiting,
            pending: Arc::clone(&pending),
        };
        tokio::spawn(
            async move {
                while let Some(Queued { message_id, event }) = queued.recv().await {
                    let id = event.id.clone();
                    let status = match queue.send(event).await {
                        Ok(()) => AckStatus::Success,
                        // The stream is gone: the runner is stopping.
                        Err(_) => AckStatus::Later,
                    };
                    pending.fetch_sub(1, Ordering::AcqRel);
                    self.finish_handling(id, status);
                    ack(&answers, &message_id, status);
                }
            }
            .in_current_span(),
        );
        forwarder
    }

    fn claim(&self, id: &str) -> Claim {
        self.claims.claim(self.hub(), id)
    }

    fn finish_handling(&self, id: String, status: AckStatus) {
        self.claims.finish(self.hub(), id, status);
    }
}

/// Sends one frame, within `limit` (a peer that stopped reading must not hang the task).
async fn send(socket: &mut Socket, message: Message, limit: Duration) -> bool {
    match timeout(limit, socket.send(message)).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::info!(error = %error, "could not write to the connection");
            false
        }
        Err(_) => {
            tracing::warn!("a write did not finish in time: replacing the connection");
            false
        }
    }
}

fn log_read_error(error: &WsError) {
    match error {
        WsError::Capacity(capacity) => tracing::warn!(
            reason = %capacity,
            "skipped an oversized frame; the WebSocket cannot go on after it, so the connection is replaced"
        ),
        WsError::ConnectionClosed | WsError::AlreadyClosed => {}
        other => tracing::info!(error = %other, "the connection broke"),
    }
}

/// One open connection as the hub and the runner's status count it: opened when made,
/// closed when dropped, however its task ends.
struct Connection {
    id: u64,
    hub: Arc<Hub>,
    status: Arc<Status>,
    reports: mpsc::UnboundedSender<Report>,
    alive: bool,
}

impl Connection {
    fn open(runner: &Runner, id: u64, reports: mpsc::UnboundedSender<Report>) -> Self {
        runner.hub().connection_opened();
        runner.status.open.fetch_add(1, Ordering::AcqRel);
        telemetry::stream_connections(1.0);
        Self {
            id,
            hub: Arc::clone(runner.hub()),
            status: Arc::clone(&runner.status),
            reports,
            alive: false,
        }
    }

    /// A frame arrived: the first one tells the supervisor the connection works.
    fn heard(&mut self) {
        if !self.alive {
            self.alive = true;
            self.report(Report::Alive);
        }
    }

    fn report(&self, report: Report) {
        let _ = self.reports.send(report);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.status.open.fetch_sub(1, Ordering::AcqRel);
        telemetry::stream_connections(-1.0);
        self.hub.connection_closed();
        self.report(Report::Closed(self.id));
    }
}

/// Which deliveries of a client's events are handed to its application: one for each
/// `eventId`, and again after a `LATER`. The client's, shared by all its runners (DingTalk may
/// redeliver an event to any of the app's connections), and decided under one lock, so that
/// two connections receiving the same event at once cannot both take it, nor one ACK it
/// `SUCCESS` as a duplicate while the other's handling may still fail.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    state: Mutex<ClaimState>,
}

#[derive(Debug, Default)]
struct ClaimState {
    /// `eventId`s being handled now (a handler running, or waiting for room in a queue).
    handling: HashSet<String>,
    /// `eventId`s answered `LATER`: their redelivery is handled again, not taken for a
    /// duplicate.
    later: RecentIds<LATER_WINDOW>,
}

impl Claims {
    /// Whether this delivery of `id` is to be handled. `Handle` marks it as being handled
    /// until [`Claims::finish`].
    fn claim(&self, hub: &Hub, id: &str) -> Claim {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.handling.contains(id) {
            return Claim::BeingHandled;
        }
        let first = hub.first_time(id);
        let again = state.later.remove(id);
        if !first && !again {
            return Claim::Duplicate;
        }
        state.handling.insert(id.to_owned());
        Claim::Handle
    }

    /// The handling of `id` ended with `status`. A `LATER` is remembered, so that the
    /// redelivery is handled again; when that memory is full, the id it forgets is also
    /// forgotten by the hub, so that its redelivery is handled as new rather than taken for a
    /// duplicate and lost.
    fn finish(&self, hub: &Hub, id: String, status: AckStatus) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.handling.remove(&id);
        if status == AckStatus::Later
            && let Some(forgotten) = state.later.insert(&id)
        {
            hub.forget_handled(&forgotten);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_forget_the_oldest_past_the_window() {
        let mut recent = RecentIds::<LATER_WINDOW>::default();
        for n in 0..LATER_WINDOW {
            assert_eq!(recent.insert(&n.to_string()), None);
        }
        assert_eq!(
            recent.insert(&LATER_WINDOW.to_string()),
            Some("0".to_owned())
        );
        assert!(!recent.remove("0"), "the oldest is forgotten");
        assert!(recent.remove("1"));
        assert!(!recent.remove("1"), "once");
    }

    fn client() -> Client {
        Client::builder()
            .base_url("http://127.0.0.1:9/")
            .app_credentials("app-key", "app-secret")
            .build()
            .expect("a client")
    }

    fn runner_of(client: &Client) -> Arc<Runner> {
        let (queue, _) = mpsc::channel(1);
        Runner::new(client.clone(), Handler::Queue(queue), Arc::default())
    }

    fn runner() -> Arc<Runner> {
        runner_of(&client())
    }

    #[test]
    fn a_delivery_being_handled_by_one_runner_is_answered_later_by_another_of_the_client() {
        // An app with two streams (or a handler replaced while the old one still runs):
        // DingTalk may redeliver to the other's connection while the first still handles it.
        let client = client();
        let (first, second) = (runner_of(&client), runner_of(&client));
        assert_eq!(first.claim("e1"), Claim::Handle);
        assert_eq!(
            second.claim("e1"),
            Claim::BeingHandled,
            "never SUCCESS meanwhile"
        );
        first.finish_handling("e1".to_owned(), AckStatus::Later);
        assert_eq!(
            second.claim("e1"),
            Claim::Handle,
            "handled again after the LATER"
        );
        second.finish_handling("e1".to_owned(), AckStatus::Success);
        assert_eq!(first.claim("e1"), Claim::Duplicate);
    }

    #[test]
    fn an_id_answered_later_and_pushed_out_of_the_window_is_handled_again_not_lost() {
        // A burst with slow handlers: 4,095 events answered LATER, then X, then the 4,095
        // come again and are answered LATER again (so they are remembered after X), then one
        // new event. The LATER memory, full, forgets X while the hub still knows X as handed
        // over: X's redelivery must be handled as new, not ACKed SUCCESS as a duplicate.
        let runner = runner();
        let later = |id: &str| {
            assert_eq!(runner.claim(id), Claim::Handle, "{id}");
            runner.finish_handling(id.to_owned(), AckStatus::Later);
        };
        let burst: Vec<String> = (1..LATER_WINDOW).map(|n| format!("a{n}")).collect();
        burst.iter().for_each(|id| later(id));
        later("x");
        burst.iter().for_each(|id| later(id));
        later("b");
        assert_eq!(runner.claim("x"), Claim::Handle);
    }

    #[test]
    fn a_delivery_is_claimed_once_and_a_later_one_is_claimed_again() {
        let runner = runner();
        assert_eq!(runner.claim("e1"), Claim::Handle);
        assert_eq!(runner.claim("e1"), Claim::BeingHandled, "while handled");
        runner.finish_handling("e1".to_owned(), AckStatus::Success);
        assert_eq!(runner.claim("e1"), Claim::Duplicate, "after a SUCCESS");
        assert_eq!(runner.claim("e2"), Claim::Handle);
        runner.finish_handling("e2".to_owned(), AckStatus::Later);
        assert_eq!(runner.claim("e2"), Claim::Handle, "after a LATER");
        assert_eq!(runner.claim("e2"), Claim::BeingHandled);
    }

    #[test]
    fn two_connections_delivering_the_same_event_at_once_never_see_a_duplicate_before_the_end() {
        // Two threads claim the same ids at once, as two connections' readers may: for each id
        // exactly one handles it, and the other is told it is being handled (LATER), never
        // that it is a duplicate (SUCCESS) while the handling has not ended.
        let runner = runner();
        let ids: Vec<String> = (0..20_000).map(|n| format!("race-{n}")).collect();
        let barrier = std::sync::Barrier::new(2);
        let claims: Vec<Vec<Claim>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        ids.iter().map(|id| runner.claim(id)).collect::<Vec<_>>()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| thread.join().expect("no panic"))
                .collect()
        });
        for (n, (a, b)) in claims[0].iter().zip(&claims[1]).enumerate() {
            assert!(
                matches!(
                    (a, b),
                    (Claim::Handle, Claim::BeingHandled) | (Claim::BeingHandled, Claim::Handle)
                ),
                "id {n}: {a:?} and {b:?}"
            );
        }
    }
}
