//! Stream mode: the WebSocket the app opens to DingTalk's gateway, so that DingTalk pushes
//! events with no public endpoint on the app's side (internal and third-party apps).
//!
//! Two forms, each with a runner of its own that keeps one connection open:
//!
//! - [`Client::events`]: an [`EventStream`] of [`Event`]s. Each event is ACKed `SUCCESS` once
//!   it is in the stream's queue ([`StreamOptions::buffer`] long). With the queue full, events
//!   wait un-ACKed (at most [`StreamOptions::max_in_flight`]), and later ones are answered
//!   `LATER` so that DingTalk sends them again: a reader that falls behind slows DingTalk down
//!   and loses nothing.
//! - [`Client::on_events`]: a handler per event, whose [`AckStatus`] is the ACK (a handler
//!   that panics is a `LATER`); at most [`StreamOptions::max_in_flight`] run at once.
//!
//! Either way: an `eventId` seen recently is ACKed `SUCCESS` and not handed over again
//! (DingTalk redelivers even after an ACK), unless it was answered `LATER`; a malformed frame
//! is logged and skipped; a frame over [`StreamOptions::max_frame_bytes`] is refused unread
//! and the connection replaced; a silent connection is pinged, then replaced; a failed
//! connection is tried again with a jittered back-off capped at 60 s. The connection
//! (`POST {base}/v1.0/gateway/connections/open`, then the WebSocket) uses the client's base
//! URL when one was given, else [`DINGTALK_GATEWAY`] whatever the edition. Nothing logged
//! holds the secret or the ticket.
//!
//! The client's waits see every event too, whichever form receives it.

mod frame;
mod open;
mod options;
mod runner;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use frame::AckStatus;
pub(crate) use open::Setup;
pub use options::{
    DEFAULT_BUFFER, DEFAULT_DEAD_AFTER_SILENCE, DEFAULT_DRAIN_AFTER_DISCONNECT,
    DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PING_AFTER_IDLE, MAX_BACKOFF, MAX_EVENTS_AT_ONCE, MAX_TIMER, StreamOptions,
};

use self::runner::{Handler, Runner, Status};
use crate::events::Event;
use crate::{Client, Error};

/// Where DingTalk's Stream gateway is, for both editions: `connections/open` is documented
/// on `api.dingtalk.com` only (the China edition's API host). A client given a base URL
/// opens its connections there instead (a proxy, the fake server).
pub const DINGTALK_GATEWAY: &str = "https://api.dingtalk.com";

/// Ends a stream or a handler's runner: [`Stopper::stop`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Stopper {
    signal: Arc<watch::Sender<bool>>,
}

impl Stopper {
    fn new() -> (Self, watch::Receiver<bool>) {
        let (signal, stop) = watch::channel(false);
        (
            Self {
                signal: Arc::new(signal),
            },
            stop,
        )
    }

    /// Closes the connection and ends the stream: events already queued are still read,
    /// then the stream ends. Stopping twice does nothing more.
    pub fn stop(&self) {
        self.signal.send_replace(true);
    }
}

/// The events of one Stream mode connection ([`Client::events`]): a
/// [`Stream`] of [`Event`]s that ends when [`Stopper::stop`] is called.
/// Dropping it closes the connection.
#[derive(Debug)]
#[must_use = "the connection closes when the stream is dropped"]
pub struct EventStream {
    events: mpsc::Receiver<Event>,
    stopper: Stopper,
    status: Arc<Status>,
}

impl EventStream {
    /// A handle that ends this stream from elsewhere (another task, a Ctrl-C handler).
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Whether a connection to the gateway is open now.
    pub fn is_connected(&self) -> bool {
        self.status.is_connected()
    }

    /// Why the last attempt to connect failed, until one succeeds: DingTalk's refusal of the
    /// credentials ([`Error::Api`]), an unreachable gateway ([`Error::Transport`]), a refused
    /// ticket ([`Error::UnexpectedResponse`] with the WebSocket's status). The runner keeps
    /// trying with its back-off whatever the error.
    pub fn last_error(&self) -> Option<Error> {
        self.status.last_error()
    }
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

/// A running handler of events ([`Client::on_events`]). [`EventsHandle::stop`] ends it;
/// dropping it stops it too.
#[must_use = "the connection closes when the handle is dropped"]
pub struct EventsHandle {
    stopper: Stopper,
    status: Arc<Status>,
    runner: Option<JoinHandle<()>>,
    handlers_done: Option<futures_util::future::BoxFuture<'static, ()>>,
}

impl std::fmt::Debug for EventsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsHandle")
            .field("stopper", &self.stopper)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl EventsHandle {
    /// Closes the connection and returns once it is closed and every handler that was
    /// running has returned (their ACKs cannot be sent any more: DingTalk sends those events
    /// again to the next connection).
    pub async fn stop(mut self) {
        self.stopper.stop();
        if let Some(runner) = self.runner.take() {
            let _ = runner.await;
        }
        if let Some(done) = self.handlers_done.take() {
            done.await;
        }
    }

    /// A handle that stops the runner from elsewhere.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Whether a connection to the gateway is open now.
    pub fn is_connected(&self) -> bool {
        self.status.is_connected()
    }

    /// Why the last attempt to connect failed, until one succeeds (see
    /// [`EventStream::last_error`]).
    pub fn last_error(&self) -> Option<Error> {
        self.status.last_error()
    }
}

impl Drop for EventsHandle {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

impl Client {
    /// Opens a Stream mode connection and returns its events as a
    /// [`Stream`]: see [`events::stream`](crate::events::stream) for
    /// the ACK and back-pressure rules. Connects in the background, on the current Tokio
    /// runtime; [`EventStream::last_error`] says why it cannot.
    ///
    /// Fails with [`Error::Config`] when the client has no app or suite credentials (a fixed
    /// token or a custom token provider has no secret to open a connection with), or when
    /// called outside a Tokio runtime.
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk_conference::Client) -> Result<(), dingtalk_conference::Error> {
    /// use futures_util::StreamExt;
    ///
    /// let mut events = client.events()?;
    /// while let Some(event) = events.next().await {
    ///     println!("{} {:?}", event.event_type, event.kind.conference_id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Result<EventStream, Error> {
        self.check_stream_credentials()?;
        let (queue, events) = mpsc::channel(self.inner.stream.options.buffer);
        // Each connection feeds the queue in the order its events arrive (runner.rs).
        let handler = Handler::Queue(queue);
        let (stopper, status, _, _) = self.start_runner(handler);
        Ok(EventStream {
            events,
            stopper,
            status,
        })
    }

    /// Opens a Stream mode connection and calls `handler` for each event, at most
    /// [`StreamOptions::max_in_flight`] at once, each on a task of its own; what it returns is
    /// the ACK: [`AckStatus::Later`] (or a panic) makes DingTalk send the event again.
    ///
    /// Fails with [`Error::Config`] when the client has no app or suite credentials, or when
    /// called outside a Tokio runtime.
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk_conference::Client) -> Result<(), dingtalk_conference::Error> {
    /// use dingtalk_conference::events::AckStatus;
    ///
    /// let handle = client.on_events(|event| async move {
    ///     println!("{} {:?}", event.event_type, event.kind.conference_id());
    ///     AckStatus::Success
    /// })?;
    /// // … later:
    /// handle.stop().await;
    /// # Ok(()) }
    /// ```
    pub fn on_events<F, Fut>(&self, handler: F) -> Result<EventsHandle, Error>
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AckStatus> + Send + 'static,
    {
        self.check_stream_credentials()?;
        let handler = Handler::Callback(Arc::new(move |event| Box::pin(handler(event))));
        let (stopper, status, runner, join) = self.start_runner(handler);
        // fleet: stopping also waits a moment for the events received to reach the fleet.
        let inner = Arc::clone(&self.inner);
        Ok(EventsHandle {
            stopper,
            status,
            runner: Some(join),
            handlers_done: Some(Box::pin(async move {
                runner.handlers_done().await;
                inner.flush_event_fleet().await;
            })),
        })
    }

    /// Whether a runner can start: credentials to open connections with, and a Tokio
    /// runtime to run it on.
    fn check_stream_credentials(&self) -> Result<(), Error> {
        if self.inner.stream.credentials.is_none() {
            return Err(open::no_credentials());
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Config(
                "a Stream mode connection runs on a Tokio runtime: call events() or \
                 on_events() from within one"
                    .to_string(),
            ));
        }
        Ok(())
    }

    fn start_runner(
        &self,
        handler: Handler,
    ) -> (Stopper, Arc<Status>, Arc<Runner>, JoinHandle<()>) {
        // fleet: with a Redis, this client's events are shared and the others' read from now.
        self.inner.start_event_fleet();
        let (stopper, stop) = Stopper::new();
        let status = Arc::new(Status::default());
        let runner = Runner::new(self.clone(), handler, Arc::clone(&status));
        let join = tokio::spawn(Arc::clone(&runner).run(stop));
        (stopper, status, runner, join)
    }
}

#[cfg(test)]
mod tests {
    use super::DINGTALK_GATEWAY;
    use crate::{Client, Edition};

    #[test]
    fn both_editions_open_connections_on_dingtalks_gateway_unless_a_base_url_is_given() {
        for edition in [Edition::International, Edition::China] {
            let client = Client::builder()
                .edition(edition)
                .app_credentials("app-key", "app-secret")
                .build()
                .expect("a client");
            assert_eq!(
                client.inner.stream.base_url, DINGTALK_GATEWAY,
                "{edition:?}"
            );
        }
        let client = Client::builder()
            .base_url("http://127.0.0.1:9/")
            .app_credentials("app-key", "app-secret")
            .build()
            .expect("a client");
        assert_eq!(client.inner.stream.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn an_internal_app_opens_with_its_app_key_a_third_party_app_with_its_suite_key() {
        let client_id = |client: Client| {
            client
                .inner
                .stream
                .credentials
                .as_ref()
                .map(|(id, secret)| (id.clone(), secret.expose().to_owned()))
        };
        let internal = Client::builder()
            .app_credentials("app-key", "app-secret")
            .build()
            .expect("a client");
        assert_eq!(
            client_id(internal),
            Some(("app-key".to_owned(), "app-secret".to_owned()))
        );
        let third_party = Client::builder()
            .suite_credentials("suite-key", "suite-secret", "corp", "ticket")
            .build()
            .expect("a client");
        assert_eq!(
            client_id(third_party),
            Some(("suite-key".to_owned(), "suite-secret".to_owned()))
        );
        let fixed = Client::builder()
            .static_token("token")
            .build()
            .expect("a client");
        assert_eq!(client_id(fixed), None);
    }
}
