//! [`StreamOptions`]: the Stream client's timers and bounds, and why each default is what it is.

use std::time::Duration;

use crate::Error;

/// Default [`StreamOptions::ping_after_idle`]: 30 s. DingTalk's own SDK waits 120 s, but NAT
/// gateways and proxies commonly drop a TCP flow idle for 60 s or more; a ping is a few bytes.
pub const DEFAULT_PING_AFTER_IDLE: Duration = Duration::from_secs(30);
/// Default [`StreamOptions::dead_after_silence`]: 40 s, a ping's 10 s to be answered. DingTalk's
/// Go SDK gives a ping 5 s; loopback and long-haul links alike answer well within 10 s.
pub const DEFAULT_DEAD_AFTER_SILENCE: Duration = Duration::from_secs(40);
/// Default [`StreamOptions::max_in_flight`]: 16 events handled (or waiting for room in an
/// [`EventStream`](super::EventStream)'s queue) at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Default [`StreamOptions::buffer`]: 256 events queued for an [`EventStream`](super::EventStream).
pub const DEFAULT_BUFFER: usize = 256;
/// Default [`StreamOptions::max_frame_bytes`]: 1 MiB. DingTalk's conference events are a few
/// KiB; a frame past this is refused by the WebSocket layer before it is buffered whole.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;
/// Default first back-off after a failed connection: 1 s, doubled per failure, jittered.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The back-off's cap, and its default: 60 s.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Default [`StreamOptions::drain_after_disconnect`]: 15 s. DingTalk closes a connection it
/// asked to go 10 s after its `disconnect`; the SDK reads it until then, and closes it itself
/// 5 s later if DingTalk has not.
pub const DEFAULT_DRAIN_AFTER_DISCONNECT: Duration = Duration::from_secs(15);

/// How a Stream mode connection behaves: keep-alive, bounds, back-off. Set with
/// [`ClientBuilder::event_options`](crate::ClientBuilder::event_options).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamOptions {
    pub(crate) ping_after_idle: Duration,
    pub(crate) dead_after_silence: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) buffer: usize,
    pub(crate) max_frame_bytes: usize,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) drain_after_disconnect: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            ping_after_idle: DEFAULT_PING_AFTER_IDLE,
            dead_after_silence: DEFAULT_DEAD_AFTER_SILENCE,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            buffer: DEFAULT_BUFFER,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: MAX_BACKOFF,
            drain_after_disconnect: DEFAULT_DRAIN_AFTER_DISCONNECT,
        }
    }
}

/// The longest timer [`StreamOptions`] takes (a day).
pub const MAX_TIMER: Duration = Duration::from_secs(86_400);

/// The most handlers in flight, or events queued, [`StreamOptions`] takes.
pub const MAX_EVENTS_AT_ONCE: usize = 1 << 20;

impl StreamOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends a WebSocket ping when nothing has been received for this long (default
    /// [`DEFAULT_PING_AFTER_IDLE`]), so that a connection nobody talks on stays open and a dead
    /// one shows.
    pub fn ping_after_idle(mut self, idle: Duration) -> Self {
        self.ping_after_idle = idle;
        self
    }

    /// Treats a connection on which nothing (frame, ping or pong) arrived for this long as
    /// dead, and replaces it (default [`DEFAULT_DEAD_AFTER_SILENCE`]); must be longer than
    /// [`ping_after_idle`](Self::ping_after_idle).
    pub fn dead_after_silence(mut self, silence: Duration) -> Self {
        self.dead_after_silence = silence;
        self
    }

    /// How many events may be handled at once (default [`DEFAULT_MAX_IN_FLIGHT`]). An event
    /// arriving while all are busy is answered `LATER` at once, so DingTalk sends it again
    /// later, and the connection keeps answering pings however slow the handlers are.
    pub fn max_in_flight(mut self, handlers: usize) -> Self {
        self.max_in_flight = handlers;
        self
    }

    /// How many events an [`EventStream`](super::EventStream) queues for its reader (default
    /// [`DEFAULT_BUFFER`]). An event is ACKed once queued; with the queue full, events wait
    /// un-ACKed (at most [`max_in_flight`](Self::max_in_flight) of them), and later ones are
    /// answered `LATER`.
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = events;
        self
    }

    /// The largest frame read (default [`DEFAULT_MAX_FRAME_BYTES`]). A larger one is refused
    /// before it is read whole; the WebSocket cannot go on after it, so the SDK replaces the
    /// connection.
    pub fn max_frame_bytes(mut self, bytes: usize) -> Self {
        self.max_frame_bytes = bytes;
        self
    }

    /// The back-off after a failed connection: `initial` (default [`DEFAULT_INITIAL_BACKOFF`]),
    /// doubled per failure in a row up to `max` (at most and by default [`MAX_BACKOFF`]), each
    /// wait drawn between half and all of it; any frame received resets it.
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.min(MAX_BACKOFF);
        self
    }

    /// How long a connection DingTalk asked to go (`disconnect`) is still read, beside its
    /// replacement, before the SDK closes it (default [`DEFAULT_DRAIN_AFTER_DISCONNECT`]).
    pub fn drain_after_disconnect(mut self, drain: Duration) -> Self {
        self.drain_after_disconnect = drain;
        self
    }

    /// Refuses settings under which no connection could work, and those too large for the
    /// runtime to hold (timers past a day, more handlers or queued events than
    /// [`MAX_EVENTS_AT_ONCE`]).
    pub(crate) fn check(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::Config(format!("event_options: {what}")));
        for (name, value) in [
            ("ping_after_idle", self.ping_after_idle),
            ("dead_after_silence", self.dead_after_silence),
            ("drain_after_disconnect", self.drain_after_disconnect),
            ("the initial back-off", self.initial_backoff),
        ] {
            if value > MAX_TIMER {
                return bad(&format!("{name} is over a day"));
            }
        }
        if self.max_in_flight > MAX_EVENTS_AT_ONCE || self.buffer > MAX_EVENTS_AT_ONCE {
            return bad(&format!(
                "max_in_flight and buffer are at most {MAX_EVENTS_AT_ONCE}"
            ));
        }
        if self.ping_after_idle.is_zero() {
            return bad("ping_after_idle is zero");
        }
        if self.dead_after_silence <= self.ping_after_idle {
            return bad(
                "dead_after_silence must be longer than ping_after_idle, or a ping could never be answered in time",
            );
        }
        if self.max_in_flight == 0 {
            return bad("max_in_flight is zero: no event could ever be handled");
        }
        if self.buffer == 0 {
            return bad("buffer is zero: no event could ever be queued");
        }
        if self.max_frame_bytes < 1024 {
            return bad("max_frame_bytes is under 1 KiB: DingTalk's events would not fit");
        }
        if self.initial_backoff.is_zero() {
            return bad("the initial back-off is zero: a failing gateway would be hammered");
        }
        if self.max_backoff < self.initial_backoff {
            return bad(
                "the maximum back-off is shorter than the initial one: a failing gateway would be hammered",
            );
        }
        Ok(())
    }

    /// The wait before connection attempt number `failures + 1`, after `failures` failures
    /// in a row: `initial · 2^(failures-1)`, capped, then drawn between half and all of it.
    pub(crate) fn backoff(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let doubled = self
            .initial_backoff
            .saturating_mul(1u32 << (failures - 1).min(16));
        let capped = doubled.min(self.max_backoff);
        capped.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_with_jitter_up_to_its_cap_of_60_seconds() {
        let options = StreamOptions::default();
        assert_eq!(options.backoff(0), Duration::ZERO);
        for (failures, full) in [(1, 1), (2, 2), (3, 4), (7, 60), (40, 60)] {
            let full = Duration::from_secs(full);
            for _ in 0..50 {
                let wait = options.backoff(failures);
                assert!(wait >= full / 2 && wait <= full, "{failures}: {wait:?}");
            }
        }
        let capped = StreamOptions::default()
            .reconnect_backoff(Duration::from_secs(1), Duration::from_secs(3600));
        assert_eq!(capped.max_backoff, MAX_BACKOFF);
    }

    #[test]
    fn settings_no_connection_could_work_with_are_refused() {
        assert!(StreamOptions::default().check().is_ok());
        for bad in [
            StreamOptions::default().ping_after_idle(Duration::ZERO),
            StreamOptions::default().dead_after_silence(DEFAULT_PING_AFTER_IDLE),
            StreamOptions::default().max_in_flight(0),
            StreamOptions::default().buffer(0),
            StreamOptions::default().max_frame_bytes(10),
            StreamOptions::default().reconnect_backoff(Duration::ZERO, Duration::from_secs(1)),
            StreamOptions::default().reconnect_backoff(Duration::from_secs(1), Duration::ZERO),
            StreamOptions::default()
                .reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1)),
        ] {
            assert!(matches!(bad.check(), Err(Error::Config(_))), "{bad:?}");
        }
    }
}
