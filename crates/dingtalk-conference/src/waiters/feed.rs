//! What a wait listens to between two polls: its timer, and, with feature `events` and a
//! stream connected, the client's event hub.
//!
//! The rule every wait follows (see [`Client::wait_for_status`](crate::Client::wait_for_status)):
//! while a stream is connected, an event about a watched conference decides at once, and the
//! wait polls only to reconcile — once at its start, once after every (re)connection, once
//! when `statusSeqNum` shows a gap (or the wait fell behind the hub), and every
//! [`WaitOptions::safety_poll`](crate::WaitOptions::safety_poll). Without a stream it polls at
//! its interval, as it always did, and it switches between the two as a stream connects or
//! drops.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::{Client, ConferenceInfo, ConferenceStatus, WaitEvent};

/// Why a wait woke up.
#[derive(Debug)]
#[cfg_attr(not(feature = "events"), allow(dead_code))]
pub(crate) enum Wake {
    /// Its next poll is due.
    Due,
    /// Its overall deadline came.
    TimedOut,
    /// A stream connected (the first, or again after a loss): anything may have happened
    /// while none was, so the wait polls once, then relies on events.
    Connected,
    /// The wait fell behind the hub and missed signals: it polls once to reconcile.
    Missed,
    /// The last stream connection closed: the wait polls at its interval again.
    Disconnected,
    /// An event about a watched conference (boxed: a snapshot is large, the other wakes small).
    Pushed(Box<Pushed>),
}

/// An event about a watched conference, as a wait needs it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "events"), allow(dead_code))]
pub(crate) struct Pushed {
    /// The conference it is about.
    pub(crate) conference_id: String,
    /// The event's `eventType`.
    pub(crate) event_type: String,
    /// The conference's status after the event, when the event says.
    pub(crate) status: Option<ConferenceStatus>,
    /// When DingTalk made the event.
    pub(crate) born_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How its `statusSeqNum` compares with the last one seen for the conference.
    pub(crate) order: Order,
    /// The conference as the event shows it (`openConfModel`), when it does.
    #[cfg(feature = "events")]
    pub(crate) snapshot: Option<crate::events::EventConference>,
}

impl Pushed {
    /// `info` as the event leaves it: the status it gives; the end time, duration and counts
    /// the event's `openConfModel` gives; and for an end with no end time from either, the
    /// event's time. Everything else is as last polled.
    pub(crate) fn apply_to(&self, info: &ConferenceInfo) -> ConferenceInfo {
        let mut info = info.clone();
        let Some(status) = self.status else {
            return info;
        };
        info.status = Some(status);
        #[cfg(feature = "events")]
        if let Some(snapshot) = &self.snapshot {
            info.end_time = snapshot.end_time.or(info.end_time);
            info.duration = snapshot.duration.or(info.duration);
            info.active_count = snapshot.active_count.or(info.active_count);
            info.attended_count = snapshot.attended_count.or(info.attended_count);
        }
        if status == ConferenceStatus::Ended && info.end_time.is_none() {
            info.end_time = self.born_at;
        }
        info
    }
}

/// Where an event's `statusSeqNum` falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "events"), allow(dead_code))]
pub(crate) enum Order {
    /// The next one, or the first seen for the conference (or the event has none).
    Next,
    /// Later than the next one: events in between were missed, a poll reconciles.
    Gap,
    /// Not later than one seen already: the event is older news, its status is ignored.
    Stale,
}

/// The last `statusSeqNum` seen per conference. DingTalk calls it an overall sequence of
/// conference *and* member messages, without saying whether it counts per conference or
/// whether it is gap-free; the waits assume per conference, one by one, which is what the
/// fake server does: a jump means a missed event, answered by one poll.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "events"), allow(dead_code))]
pub(crate) struct SeqBook {
    last: HashMap<String, i64>,
}

#[cfg_attr(not(feature = "events"), allow(dead_code))]
impl SeqBook {
    /// Records `seq` for `conference_id` and says where it falls.
    pub(crate) fn note(&mut self, conference_id: &str, seq: Option<i64>) -> Order {
        let Some(seq) = seq else {
            return Order::Next;
        };
        match self.last.get_mut(conference_id) {
            None => {
                self.last.insert(conference_id.to_owned(), seq);
                Order::Next
            }
            Some(last) if seq <= *last => Order::Stale,
            Some(last) => {
                let gap = seq > last.saturating_add(1);
                *last = seq;
                if gap { Order::Gap } else { Order::Next }
            }
        }
    }

    /// Forgets every number: after a reconnection or missed signals the next event may
    /// rightly jump, and the poll that follows reconciles anyway.
    pub(crate) fn clear(&mut self) {
        self.last.clear();
    }
}

/// A wait's view of its client's events: the hub's signals (feature `events`), or nothing.
#[cfg_attr(not(feature = "events"), allow(dead_code))]
pub(crate) struct Feed {
    #[cfg(feature = "events")]
    hub: std::sync::Arc<crate::events::hub::Hub>,
    #[cfg(feature = "events")]
    signals: Option<tokio::sync::broadcast::Receiver<crate::events::hub::Signal>>,
    seqs: SeqBook,
}

impl Feed {
    /// Subscribes to `client`'s events, before the wait's first poll so that nothing between
    /// that poll and the first event is missed.
    pub(crate) fn new(client: &Client) -> Self {
        #[cfg(not(feature = "events"))]
        let _ = client;
        Self {
            #[cfg(feature = "events")]
            hub: std::sync::Arc::clone(&client.inner.events),
            #[cfg(feature = "events")]
            signals: Some(client.inner.events.subscribe()),
            seqs: SeqBook::default(),
        }
    }

    /// Whether a stream is connected now: the wait relies on events and polls only to
    /// reconcile.
    pub(crate) fn connected(&self) -> bool {
        #[cfg(feature = "events")]
        {
            self.signals.is_some() && self.hub.is_connected()
        }
        #[cfg(not(feature = "events"))]
        {
            false
        }
    }

    /// Tells `on_event` when whether a stream is connected differs from `following` (what the
    /// wait last said), and returns what it is now.
    pub(crate) fn follow(&self, following: bool, on_event: &mut impl FnMut(WaitEvent<'_>)) -> bool {
        let connected = self.connected();
        if connected != following {
            on_event(WaitEvent::Stream { connected });
        }
        connected
    }

    /// Waits until `next_poll` (or `fallback` from now when that is not representable), the
    /// `deadline`, or a signal that matters to a wait of the conferences `watched` says yes to.
    pub(crate) async fn wait(
        &mut self,
        next_poll: Option<Instant>,
        deadline: Option<Instant>,
        fallback: Duration,
        watched: impl Fn(&str) -> bool,
    ) -> Wake {
        #[cfg_attr(not(feature = "events"), allow(unused_mut))]
        let mut timer = std::pin::pin!(timer(next_poll, deadline, fallback));
        #[cfg(feature = "events")]
        while let Some(signals) = self.signals.as_mut() {
            // Signals first: an event that came with the timer still decides.
            let signal = {
                let recv = std::pin::pin!(signals.recv());
                match futures_util::future::select(recv, timer.as_mut()).await {
                    futures_util::future::Either::Left((signal, _)) => signal,
                    futures_util::future::Either::Right((wake, _)) => return wake,
                }
            };
            if let Some(wake) = self.on_signal(signal, &watched) {
                return wake;
            }
        }
        let _ = &watched;
        timer.await
    }

    /// What a hub signal means to the wait; `None` for one it ignores.
    #[cfg(feature = "events")]
    fn on_signal(
        &mut self,
        signal: Result<crate::events::hub::Signal, tokio::sync::broadcast::error::RecvError>,
        watched: &impl Fn(&str) -> bool,
    ) -> Option<Wake> {
        use crate::events::hub::Signal;
        use tokio::sync::broadcast::error::RecvError;
        match signal {
            Ok(Signal::Event(event)) => {
                let conference_id = event.kind.conference_id()?;
                if !watched(conference_id) {
                    return None;
                }
                let order = self.seqs.note(conference_id, event.kind.seq());
                let snapshot = match &event.kind {
                    crate::events::ConferenceEvent::StatusChanged { conference, .. } => {
                        conference.clone()
                    }
                    _ => None,
                };
                Some(Wake::Pushed(Box::new(Pushed {
                    conference_id: conference_id.to_owned(),
                    event_type: event.event_type.clone(),
                    status: event.kind.conference_status(),
                    born_at: event.born_at,
                    order,
                    snapshot,
                })))
            }
            Ok(Signal::Connected) => {
                self.seqs.clear();
                Some(Wake::Connected)
            }
            Ok(Signal::Disconnected) => Some(Wake::Disconnected),
            Err(RecvError::Lagged(_)) => {
                self.seqs.clear();
                Some(Wake::Missed)
            }
            // The hub lives as long as the client: no more signals means polling only.
            Err(RecvError::Closed) => {
                self.signals = None;
                Some(Wake::Disconnected)
            }
        }
    }
}

/// Sleeps until `next_poll` (or `fallback` from now), or until `deadline` if that comes first.
async fn timer(next_poll: Option<Instant>, deadline: Option<Instant>, fallback: Duration) -> Wake {
    let wake = next_poll.or_else(|| Instant::now().checked_add(fallback));
    match (deadline, wake) {
        (Some(deadline), Some(wake)) if wake < deadline => {
            tokio::time::sleep_until(wake).await;
            Wake::Due
        }
        (Some(deadline), _) => {
            tokio::time::sleep_until(deadline).await;
            Wake::TimedOut
        }
        (None, Some(wake)) => {
            tokio::time::sleep_until(wake).await;
            Wake::Due
        }
        (None, None) => {
            tokio::time::sleep(fallback).await;
            Wake::Due
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_numbers_in_order_a_gap_and_older_news() {
        let mut book = SeqBook::default();
        assert_eq!(book.note("a", Some(4)), Order::Next, "first seen");
        assert_eq!(book.note("a", Some(5)), Order::Next);
        assert_eq!(book.note("b", Some(1)), Order::Next, "per conference");
        assert_eq!(book.note("a", Some(5)), Order::Stale);
        assert_eq!(book.note("a", Some(3)), Order::Stale);
        assert_eq!(book.note("a", Some(8)), Order::Gap);
        assert_eq!(
            book.note("a", Some(9)),
            Order::Next,
            "counted from the jump"
        );
        assert_eq!(book.note("a", None), Order::Next, "no number: no verdict");
        book.clear();
        assert_eq!(book.note("a", Some(20)), Order::Next, "forgotten");
        assert_eq!(book.note("a", Some(i64::MAX)), Order::Gap);
        assert_eq!(book.note("a", Some(i64::MAX)), Order::Stale, "no overflow");
    }

    #[test]
    fn an_end_event_gives_the_status_and_an_end_time_only_when_none_was_polled() {
        let born = chrono::DateTime::from_timestamp_millis(1_700_000_000_000);
        let pushed = Pushed {
            conference_id: "a".into(),
            event_type: "meeting_status_change".into(),
            status: Some(ConferenceStatus::Ended),
            born_at: born,
            order: Order::Next,
            #[cfg(feature = "events")]
            snapshot: None,
        };
        let polled = ConferenceInfo {
            title: Some("standup".into()),
            status: Some(ConferenceStatus::Started),
            ..ConferenceInfo::default()
        };
        let after = pushed.apply_to(&polled);
        assert_eq!(after.status, Some(ConferenceStatus::Ended));
        assert_eq!(after.end_time, born);
        assert_eq!(after.title.as_deref(), Some("standup"));
        let ended_earlier = ConferenceInfo {
            end_time: chrono::DateTime::from_timestamp_millis(1),
            ..polled
        };
        assert_eq!(
            pushed.apply_to(&ended_earlier).end_time,
            ended_earlier.end_time
        );
    }

    #[cfg(feature = "events")]
    #[test]
    fn the_events_snapshot_gives_the_end_time_duration_and_counts() {
        let ended_at = chrono::DateTime::from_timestamp_millis(1_700_000_100_000);
        let pushed = Pushed {
            conference_id: "a".into(),
            event_type: "meeting_status_change".into(),
            status: Some(ConferenceStatus::Ended),
            born_at: chrono::DateTime::from_timestamp_millis(1_700_000_200_000),
            order: Order::Next,
            snapshot: Some(crate::events::EventConference {
                end_time: ended_at,
                active_count: Some(0),
                ..Default::default()
            }),
        };
        let polled = ConferenceInfo {
            status: Some(ConferenceStatus::Started),
            active_count: Some(8),
            attended_count: Some(12),
            ..ConferenceInfo::default()
        };
        let after = pushed.apply_to(&polled);
        assert_eq!(
            after.end_time, ended_at,
            "the snapshot's, not the event's time"
        );
        assert_eq!(after.active_count, Some(0));
        assert_eq!(
            after.attended_count,
            Some(12),
            "absent from the snapshot: as polled"
        );
    }
}
