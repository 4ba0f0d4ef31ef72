//! Waiting for a conference's status to reach a target: what `dingtalk-conference watch`
//! runs, for library users too.
//!
//! A wait polls at its interval. With feature `events` and a stream connected
//! (`Client::events` or `Client::on_events`
//! running), it reacts to the conference's events instead and polls only to reconcile: once at
//! its start, once after every (re)connection, once when `statusSeqNum` shows a gap, and every
//! [`WaitOptions::safety_poll`] (5 minutes by default). An app may not have ticked the
//! conference events in DingTalk's console, and a connection can drop: those polls are what
//! still ends the wait then. When the stream drops mid-wait, the wait polls at its interval
//! again until a stream connects.

#[cfg(all(test, feature = "events"))]
mod event_tests;
mod feed;
pub(crate) mod many;

use std::time::Duration;

use tracing::Instrument as _;

use crate::{CallOptions, Client, ConferenceInfo, ConferenceStatus, Error};
use feed::{Feed, Order, Wake};

/// The `max_age` of a watcher's polls: nine tenths of its interval, so that one watcher's
/// next poll always asks DingTalk while a second watcher of the same conference is served
/// the first one's answer.
pub(crate) fn shared_age(interval: Duration) -> Duration {
    interval.mul_f64(0.9)
}

/// What [`Client::wait_for_status`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitUntil {
    /// The conference has ended (status 1).
    Ended,
    /// The conference has started: it is in progress (2) or already over (1).
    Started,
    /// The status differs from the status at the first poll.
    Change,
    /// Exactly this status.
    Status(ConferenceStatus),
}

impl WaitUntil {
    pub(crate) fn is_met(
        self,
        first: Option<ConferenceStatus>,
        now: Option<ConferenceStatus>,
    ) -> bool {
        match self {
            Self::Ended => now == Some(ConferenceStatus::Ended),
            Self::Started => matches!(
                now,
                Some(ConferenceStatus::Started | ConferenceStatus::Ended)
            ),
            Self::Change => now != first,
            Self::Status(target) => now == Some(target),
        }
    }
}

/// How long [`Client::wait_for_status`] waits by default: a day. A meeting still running after
/// that is more likely forgotten than about to end; pass a longer [`WaitOptions::timeout`], or
/// [`WaitOptions::no_timeout`], to wait longer.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// How often a wait polls while a stream is connected and no event decides: 5 minutes. Events
/// decide at once; this poll only bounds how long a missed event (an app that did not subscribe
/// to the conference events, an event DingTalk never sent) can keep a wait going.
pub const DEFAULT_SAFETY_POLL: Duration = Duration::from_secs(300);

/// How [`Client::wait_for_status`] polls.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct WaitOptions {
    pub(crate) interval: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_consecutive_failures: u32,
    pub(crate) max_consecutive_throttled: u32,
    pub(crate) scheduled_interval: Duration,
    pub(crate) safety_poll: Duration,
}

impl Default for WaitOptions {
    /// Polls every 5 s (DingTalk allows about 20 calls per second per app, so this is far
    /// below any limit), backs off up to 60 s when throttled, gives up after
    /// [`DEFAULT_WAIT_TIMEOUT`] (a day), after 5 failed polls in a row, or after 30 throttled
    /// polls in a row (about half an hour of unbroken throttling at the 60 s back-off).
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(60),
            timeout: Some(DEFAULT_WAIT_TIMEOUT),
            max_consecutive_failures: 5,
            max_consecutive_throttled: 30,
            scheduled_interval: Duration::from_secs(300),
            safety_poll: DEFAULT_SAFETY_POLL,
        }
    }
}

impl WaitOptions {
    /// The time between polls (default 5 s; at least 10 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(10));
        self.max_interval = self.max_interval.max(self.interval);
        self.safety_poll = self.safety_poll.max(self.interval);
        self
    }

    /// The longest time between polls while backing off (default 60 s).
    pub fn max_interval(mut self, max_interval: Duration) -> Self {
        self.max_interval = max_interval.max(self.interval);
        self
    }

    /// Gives up with [`Error::WaitTimedOut`] after this long, even in the middle of a poll
    /// (default [`DEFAULT_WAIT_TIMEOUT`], a day).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Waits as long as it takes: no overall timeout. The wait still ends on a final error,
    /// after [`max_consecutive_failures`](Self::max_consecutive_failures) failed polls or
    /// [`max_consecutive_throttled`](Self::max_consecutive_throttled) throttled ones.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Gives up after this many failed polls in a row (default 5); throttling is counted
    /// apart, by [`max_consecutive_throttled`](Self::max_consecutive_throttled).
    pub fn max_consecutive_failures(mut self, failures: u32) -> Self {
        self.max_consecutive_failures = failures.max(1);
        self
    }

    /// How often [`Client::wait_for_all`](crate::Client::wait_for_all) polls while every
    /// conference it waits for has not started and starts more than
    /// [`SCHEDULED_LEAD`](crate::SCHEDULED_LEAD) from now (default: 5 minutes).
    pub fn scheduled_interval(mut self, interval: Duration) -> Self {
        self.scheduled_interval = interval;
        self
    }

    /// How often a wait polls while a stream is connected (feature `events`) and no event
    /// decides (default [`DEFAULT_SAFETY_POLL`], 5 minutes; at least the
    /// [`interval`](Self::interval)). Without a connected stream the wait polls at its
    /// interval, and this does not apply.
    pub fn safety_poll(mut self, every: Duration) -> Self {
        self.safety_poll = every.max(self.interval);
        self
    }

    /// Gives up, with the throttling error, after this many throttled polls in a row
    /// (default 30). Throttling backs the polling off instead of counting as a failure, but
    /// throttling that never ends must not keep the wait polling forever.
    pub fn max_consecutive_throttled(mut self, polls: u32) -> Self {
        self.max_consecutive_throttled = polls.max(1);
        self
    }
}

/// Progress of [`Client::wait_for_status_with`], for showing it to a person.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitEvent<'a> {
    /// A poll answered; the condition is not met yet (or is met: the last event).
    Polled {
        /// The conference as just polled.
        info: &'a ConferenceInfo,
        /// How many polls so far, this one included.
        polls: u32,
    },
    /// A poll failed with a retryable error (throttling, 5xx, network); waiting longer.
    BackingOff {
        /// The error.
        error: &'a Error,
        /// How long until the next poll.
        delay: Duration,
    },
    /// An event from a connected stream (feature `events`) changed the conference's status,
    /// without a poll; the last event when it decided the wait.
    Pushed {
        /// The conference as last polled, with the status (and the end time, duration and
        /// counts, when it has them) the event gave.
        info: &'a ConferenceInfo,
        /// The event's `eventType`, e.g. `meeting_status_change`.
        event_type: &'a str,
    },
    /// A stream connected or dropped (feature `events`): `true` when the wait now reacts to
    /// events and polls only to reconcile, `false` when it polls at its interval again. Also
    /// the first event of a wait that starts with a stream connected.
    Stream {
        /// Whether a stream is connected.
        connected: bool,
    },
}

impl Client {
    /// Polls the conference until `until` holds, then returns it.
    ///
    /// With feature `events` and a stream connected (`Client::events`
    /// or `Client::on_events` running on this client, or a fleet
    /// sharing its events), an event about the conference that meets `until` ends the wait at
    /// once, and the wait polls only to reconcile: at its start, after every (re)connection,
    /// when `statusSeqNum` shows a gap, and every [`WaitOptions::safety_poll`]. Without a
    /// stream it polls every [`WaitOptions::interval`]; it switches as a stream connects or
    /// drops. A wait ended by an event returns the conference as last polled, with the status
    /// the event gave and the end time, duration and counts of the event's `openConfModel`
    /// when it has them (for an end with no end time, the event's time).
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk_conference::Client) -> Result<(), dingtalk_conference::Error> {
    /// use dingtalk_conference::{WaitOptions, WaitUntil};
    /// use std::time::Duration;
    ///
    /// let info = client
    ///     .wait_for_status("6323d7568777190142ab9d10", WaitUntil::Ended, WaitOptions::default())
    ///     .await?;
    /// println!("ended after {:?}", info.duration);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_status(
        &self,
        conference_id: &str,
        until: WaitUntil,
        options: WaitOptions,
    ) -> Result<ConferenceInfo, Error> {
        self.wait_for_status_with(conference_id, until, options, |_| {})
            .await
    }

    /// Like [`wait_for_status`](Self::wait_for_status), reporting each poll, back-off, event
    /// that changed the status, and stream connecting or dropping to `on_event`.
    pub async fn wait_for_status_with(
        &self,
        conference_id: &str,
        until: WaitUntil,
        options: WaitOptions,
        mut on_event: impl FnMut(WaitEvent<'_>),
    ) -> Result<ConferenceInfo, Error> {
        let span = tracing::info_span!("dingtalk.wait_for_status", conference_id = %conference_id, until = ?until);
        async move {
            let started = tokio::time::Instant::now();
            // A deadline too far to represent is no deadline.
            let deadline = options.timeout.and_then(|t| started.checked_add(t));
            let timed_out = |last_status| Error::WaitTimedOut {
                waited: started.elapsed(),
                last_status,
            };
            let mut first: Option<Option<ConferenceStatus>> = None;
            let mut last: Option<ConferenceInfo> = None;
            let mut last_status = None;
            let mut polls = 0u32;
            let mut failures = PollFailures::default();
            let mut interval = options.interval;
            // Watchers of one conference in one process share their polls: an answer younger
            // than most of an interval serves them all, and the polls stay one per interval.
            let poller =
                self.with_options(CallOptions::new().max_age(shared_age(options.interval)));
            // Subscribed before the first poll: an event after it is never missed.
            let mut feed = Feed::new(self);
            let mut following = false;
            // `None`: poll now (the first poll, a reconnection, a gap).
            let mut next_poll: Option<Option<tokio::time::Instant>> = None;
            loop {
                // A poll that reconciles after a connection or a gap asks DingTalk afresh.
                let mut fresh = false;
                if let Some(at) = next_poll {
                    let wake = feed
                        .wait(at, deadline, options.max_interval, |id| id == conference_id)
                        .await;
                    following = feed.follow(following, &mut on_event);
                    fresh = !matches!(wake, Wake::Due);
                    match wake {
                        Wake::Due | Wake::Connected | Wake::Missed => {}
                        Wake::TimedOut => return Err(timed_out(last_status)),
                        Wake::Disconnected => {
                            // Back to polling at the interval, unless backing off.
                            if !failures.any() {
                                next_poll = Some(sooner(at, options.interval));
                            }
                            continue;
                        }
                        Wake::Pushed(pushed) => {
                            let (Some(baseline), Some(polled)) = (first, last.as_ref()) else {
                                // No answer yet to compare with (the first polls failed):
                                // the planned poll reads the status anyway.
                                continue;
                            };
                            if pushed.order != Order::Stale
                                && pushed.status.is_some()
                                && pushed.status != polled.status
                            {
                                let info = pushed.apply_to(polled);
                                last_status = info.status;
                                on_event(WaitEvent::Pushed {
                                    info: &info,
                                    event_type: &pushed.event_type,
                                });
                                if until.is_met(baseline, info.status) {
                                    return Ok(info);
                                }
                                last = Some(info);
                            }
                            if pushed.order != Order::Gap {
                                continue;
                            }
                        }
                    }
                    if fresh && failures.any() {
                        // Backing off: the planned poll reconciles; an early one would
                        // defeat the back-off.
                        continue;
                    }
                }
                following = feed.follow(following, &mut on_event);
                // The deadline bounds a poll in flight too, retries included.
                let poll = if fresh { self } else { &poller }.conference_info(conference_id);
                let answer = match deadline {
                    Some(deadline) => match tokio::time::timeout_at(deadline, poll).await {
                        Ok(answer) => answer,
                        Err(_) => return Err(timed_out(last_status)),
                    },
                    None => poll.await,
                };
                let delay = match answer {
                    Ok(info) => {
                        polls += 1;
                        failures.reset();
                        interval = options.interval;
                        let baseline = *first.get_or_insert(info.status);
                        last_status = info.status;
                        on_event(WaitEvent::Polled { info: &info, polls });
                        if until.is_met(baseline, info.status) {
                            return Ok(info);
                        }
                        last = Some(info);
                        // With a stream connected, events decide; this poll only guards.
                        if feed.connected() {
                            options.safety_poll
                        } else {
                            interval
                        }
                    }
                    Err(error) if error.is_retryable() => {
                        let Some(delay) =
                            failures.back_off(&error, &mut interval, &options, &mut on_event)
                        else {
                            return Err(error);
                        };
                        delay
                    }
                    Err(error) => return Err(error),
                };
                next_poll = Some(tokio::time::Instant::now().checked_add(delay));
            }
        }
        .instrument(span)
        .await
    }
}

/// The earlier of the planned poll `at` and `interval` from now: when a stream drops, the wait
/// polls at its interval again, not at the end of a long safety interval.
pub(crate) fn sooner(
    at: Option<tokio::time::Instant>,
    interval: Duration,
) -> Option<tokio::time::Instant> {
    let soon = tokio::time::Instant::now().checked_add(interval);
    match (at, soon) {
        (Some(at), Some(soon)) => Some(at.min(soon)),
        (at, soon) => at.or(soon),
    }
}

/// Retryable poll failures in a row, counted apart for throttling, and the back-off they
/// cause; shared by [`Client::wait_for_status`] and [`Client::wait_for_all`](crate::Client::wait_for_all).
#[derive(Debug, Default)]
pub(crate) struct PollFailures {
    failures: u32,
    throttled: u32,
}

impl PollFailures {
    /// Whether the last poll failed: the wait is backing off.
    pub(crate) fn any(&self) -> bool {
        self.failures > 0 || self.throttled > 0
    }

    /// A poll answered: the counts start again.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    /// A poll failed with the retryable `error`: doubles `interval` (up to `max_interval`),
    /// tells `on_event` it backs off, and returns the delay before the next poll (honouring
    /// `Retry-After`, never past `max_interval`); `None` when too many polls in a row have
    /// failed this way.
    pub(crate) fn back_off(
        &mut self,
        error: &Error,
        interval: &mut Duration,
        options: &WaitOptions,
        on_event: &mut impl FnMut(WaitEvent<'_>),
    ) -> Option<Duration> {
        let (count, limit) = if error.is_throttled() {
            (&mut self.throttled, options.max_consecutive_throttled)
        } else {
            (&mut self.failures, options.max_consecutive_failures)
        };
        *count += 1;
        if *count >= limit {
            return None;
        }
        *interval = interval.saturating_mul(2).min(options.max_interval);
        let delay = error
            .retry_after()
            .map_or(*interval, |asked| asked.max(*interval))
            .min(options.max_interval);
        on_event(WaitEvent::BackingOff { error, delay });
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConferenceStatus::*;

    #[test]
    fn started_also_holds_for_a_conference_that_already_ended() {
        assert!(WaitUntil::Started.is_met(Some(Initialised), Some(Started)));
        assert!(WaitUntil::Started.is_met(Some(Initialised), Some(Ended)));
        assert!(!WaitUntil::Started.is_met(Some(Initialised), Some(Initialised)));
    }

    #[test]
    fn change_compares_with_the_first_poll() {
        assert!(!WaitUntil::Change.is_met(Some(Started), Some(Started)));
        assert!(WaitUntil::Change.is_met(Some(Started), Some(Ended)));
        assert!(WaitUntil::Status(Unknown(7)).is_met(None, Some(Unknown(7))));
    }
}
