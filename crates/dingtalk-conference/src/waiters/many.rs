//! Waiting for many conferences at once, with the batch query: one call per poll for every
//! [`CONFERENCES_PER_BATCH_REQUEST`](crate::CONFERENCES_PER_BATCH_REQUEST) ids instead of one
//! per id.
//!
//! DingTalk's batch query answers only for conferences in progress, so a poll reads it like
//! this: an id in the answer is in progress; an id that was in progress and is gone has
//! ended (or was removed), which one `conference_info` call confirms at once. An id that was
//! not in progress and is still absent has most likely not changed, but it may have started
//! and ended between two polls, which the batch answer never shows: it is read again with
//! `conference_info` every [`UNLISTED_CHECK_POLLS`] polls, at most as many of them per poll as
//! the poll's batch requests (the ones waiting longest first).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tracing::Instrument as _;

use crate::ops::check_conference_id;
use crate::waiters::feed::{Feed, Order, Pushed, Wake};
use crate::waiters::{PollFailures, shared_age, sooner};
use crate::{
    CONFERENCES_PER_BATCH_REQUEST, CallOptions, Client, ConferenceInfo, ConferenceStatus,
    ConferenceSummary, Error, WaitEvent, WaitOptions, WaitUntil,
};

/// How long before its start a conference that has not started is polled at the normal
/// interval again; until then it is polled at [`WaitOptions::scheduled_interval`].
pub const SCHEDULED_LEAD: Duration = Duration::from_secs(120);

/// How many polls a conference known not to be in progress, and absent from the batch answer,
/// waits between two `conference_info` reads of it: the batch answer would never show it if
/// it started and ended between two polls.
const UNLISTED_CHECK_POLLS: u32 = 4;

struct Watched {
    first: Option<ConferenceStatus>,
    info: ConferenceInfo,
    done: bool,
    /// Polls since this conference was last read with `conference_info` (or seen in the
    /// batch answer).
    unchecked_polls: u32,
}

fn from_summary(summary: &ConferenceSummary) -> ConferenceInfo {
    ConferenceInfo {
        conference_id: summary.conference_id.clone(),
        title: summary.title.clone(),
        status: summary.status,
        start_time: summary.start_time,
        ..ConferenceInfo::default()
    }
}

impl Client {
    /// Polls several conferences until `until` holds for each, then returns them in the order
    /// given. See [`wait_for_all_with`](Self::wait_for_all_with).
    pub async fn wait_for_all<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
        until: WaitUntil,
        options: WaitOptions,
    ) -> Result<Vec<ConferenceInfo>, Error> {
        self.wait_for_all_with(conference_ids, until, options, |_| {})
            .await
    }

    /// Like [`wait_for_all`](Self::wait_for_all), reporting each conference whose status is
    /// learned or changes (`WaitEvent::Polled`, with the count of polls so far) and each
    /// back-off to `on_event`.
    ///
    /// Each poll is one batch query per [`CONFERENCES_PER_BATCH_REQUEST`](crate::CONFERENCES_PER_BATCH_REQUEST)
    /// ids still waited for, plus one `conference_info` for each conference that just left
    /// the batch answer (it ended). The first poll asks `conference_info` once for each id
    /// that is not in progress.
    ///
    /// The batch answer lists only conferences in progress, so a conference that starts and
    /// ends between two polls never shows in it. Each conference not in progress at its last
    /// read (not started yet, say) is therefore read again with `conference_info` every 4
    /// polls, and a poll makes at most as many of these reads as it makes batch requests (the
    /// conferences unread longest first). They add at most one call per such conference
    /// per 4 polls, and never more calls to a poll than its batch requests: a poll costs at
    /// most twice the batch alone. A conference that starts and ends between two polls is
    /// seen ended within 20 polls (within 4 while at most a fifth of the conferences waited for
    /// are not in progress).
    ///
    /// With feature `events` and a stream connected, events decide and polls only reconcile,
    /// as for [`wait_for_status`](Self::wait_for_status): a poll (of every id still waited
    /// for) at the start, after every (re)connection, on a `statusSeqNum` gap of any of them,
    /// and every [`WaitOptions::safety_poll`]; each event that changes a conference's status
    /// is reported as `WaitEvent::Pushed`. What follows is how it polls without a stream.
    ///
    /// While nothing changes the interval doubles, up to
    /// [`WaitOptions::max_interval`]; a change brings it back to [`WaitOptions::interval`]. While
    /// every conference still waited for has not started and starts more than
    /// [`SCHEDULED_LEAD`] from now, polls come every [`WaitOptions::scheduled_interval`] at most,
    /// but never later than the lead before the earliest start.
    pub async fn wait_for_all_with<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
        until: WaitUntil,
        options: WaitOptions,
        mut on_event: impl FnMut(WaitEvent<'_>),
    ) -> Result<Vec<ConferenceInfo>, Error> {
        if conference_ids.is_empty() {
            return Err(Error::InvalidInput(
                "the list of conference ids is empty".to_string(),
            ));
        }
        let mut ids: Vec<String> = Vec::new();
        for id in conference_ids {
            let id = id.as_ref();
            check_conference_id(id)?;
            if !ids.iter().any(|seen| seen == id) {
                ids.push(id.to_string());
            }
        }
        let span =
            tracing::info_span!("dingtalk.wait_for_all", conferences = ids.len(), until = ?until);
        let poller = self.with_options(CallOptions::new().max_age(shared_age(options.interval)));
        async move {
            let started = tokio::time::Instant::now();
            let deadline = options.timeout.and_then(|t| started.checked_add(t));
            let mut watched: HashMap<String, Watched> = HashMap::new();
            let mut polls = 0u32;
            let mut failures = PollFailures::default();
            let mut interval = options.interval;
            // Subscribed before the first poll: an event after it is never missed.
            let mut feed = Feed::new(self);
            let mut following = false;
            // `None`: poll now (the first poll, a reconnection, a gap).
            let mut next_poll: Option<Option<tokio::time::Instant>> = None;
            loop {
                let pending: Vec<String> = ids
                    .iter()
                    .filter(|id| watched.get(*id).is_none_or(|w| !w.done))
                    .cloned()
                    .collect();
                if pending.is_empty() {
                    break;
                }
                // A poll that reconciles after a connection or a gap asks DingTalk afresh.
                let mut fresh = false;
                if let Some(at) = next_poll {
                    let wake = feed
                        .wait(at, deadline, options.max_interval, |id| {
                            pending.iter().any(|p| p == id)
                        })
                        .await;
                    following = feed.follow(following, &mut on_event);
                    fresh = !matches!(wake, Wake::Due);
                    match wake {
                        Wake::Due | Wake::Connected | Wake::Missed => {}
                        Wake::TimedOut => return Err(timed_out(started, &watched)),
                        Wake::Disconnected => {
                            // Back to polling at the interval, unless backing off.
                            if !failures.any() {
                                next_poll = Some(sooner(at, options.interval));
                            }
                            continue;
                        }
                        Wake::Pushed(pushed) => {
                            match apply_event(&pushed, until, &mut watched, &mut on_event) {
                                Applied::Nothing if pushed.order != Order::Gap => continue,
                                Applied::Nothing | Applied::Unknown => {}
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
                let client = if fresh { self } else { &poller };
                let poll = poll_once(client, &pending, &mut watched);
                let answer = match deadline {
                    Some(deadline) => match tokio::time::timeout_at(deadline, poll).await {
                        Ok(answer) => answer,
                        Err(_) => return Err(timed_out(started, &watched)),
                    },
                    None => poll.await,
                };
                let delay = match answer {
                    Ok(changed) => {
                        polls += 1;
                        failures.reset();
                        for id in &changed {
                            if let Some(entry) = watched.get_mut(id) {
                                on_event(WaitEvent::Polled {
                                    info: &entry.info,
                                    polls,
                                });
                                if until.is_met(entry.first, entry.info.status) {
                                    entry.done = true;
                                }
                            }
                        }
                        interval = if changed.is_empty() {
                            interval.saturating_mul(2).min(options.max_interval)
                        } else {
                            options.interval
                        };
                        // With a stream connected, events decide; this poll only guards.
                        if feed.connected() {
                            options.safety_poll
                        } else {
                            scheduled_delay(&watched, interval, &options)
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
            Ok(ids
                .iter()
                .filter_map(|id| watched.remove(id).map(|w| w.info))
                .collect())
        }
        .instrument(span)
        .await
    }
}

/// What an event did to a wait for many.
enum Applied {
    /// Nothing to apply (a stale event, or one that gives no status), or applied.
    Nothing,
    /// The conference has not been polled yet: nothing to compare with, a poll must.
    Unknown,
}

/// Applies an event's status to its conference, reporting the change to `on_event` and
/// marking the conference done when `until` holds.
fn apply_event(
    pushed: &Pushed,
    until: WaitUntil,
    watched: &mut HashMap<String, Watched>,
    on_event: &mut impl FnMut(WaitEvent<'_>),
) -> Applied {
    let Some(entry) = watched.get_mut(&pushed.conference_id) else {
        return Applied::Unknown;
    };
    if pushed.order == Order::Stale || pushed.status.is_none() || entry.done {
        return Applied::Nothing;
    }
    if pushed.status != entry.info.status {
        entry.info = pushed.apply_to(&entry.info);
        on_event(WaitEvent::Pushed {
            info: &entry.info,
            event_type: &pushed.event_type,
        });
        if until.is_met(entry.first, entry.info.status) {
            entry.done = true;
        }
    }
    Applied::Nothing
}

fn timed_out(started: tokio::time::Instant, watched: &HashMap<String, Watched>) -> Error {
    Error::WaitTimedOut {
        waited: started.elapsed(),
        last_status: watched
            .values()
            .find(|w| !w.done)
            .and_then(|w| w.info.status),
    }
}

/// One poll of the `pending` ids; returns the ids whose status was learned or changed.
async fn poll_once(
    client: &Client,
    pending: &[String],
    watched: &mut HashMap<String, Watched>,
) -> Result<Vec<String>, Error> {
    let in_progress: HashMap<String, ConferenceSummary> = client
        .conferences_status(pending)
        .await?
        .into_iter()
        .filter_map(|summary| Some((summary.conference_id.clone()?, summary)))
        .collect();
    let recheck = due_for_recheck(pending, &in_progress, watched);
    let mut changed = Vec::new();
    for id in pending {
        let known = watched.get(id).map(|w| w.info.status);
        let info = match (in_progress.get(id), known) {
            (Some(summary), _) => {
                if let Some(entry) = watched.get_mut(id) {
                    entry.unchecked_polls = 0;
                }
                let info = from_summary(summary);
                if known.flatten() == info.status && known.is_some() {
                    continue;
                }
                info
            }
            // First sight, or it left the batch answer (it ended), or it was not in progress
            // and its turn to be read again has come (it may have started and ended since):
            // ask once.
            (None, _)
                if known.is_none()
                    || known == Some(Some(ConferenceStatus::Started))
                    || recheck.contains(id.as_str()) =>
            {
                let info = client.conference_info(id).await?;
                if let Some(entry) = watched.get_mut(id) {
                    entry.unchecked_polls = 0;
                }
                if known.is_some() && known.flatten() == info.status {
                    continue;
                }
                info
            }
            // Not in progress, as at its last read, and not its turn: no call.
            (None, _) => continue,
        };
        let first = watched.get(id).map_or(info.status, |w| w.first);
        watched.insert(
            id.clone(),
            Watched {
                first,
                info,
                done: false,
                unchecked_polls: 0,
            },
        );
        changed.push(id.clone());
    }
    Ok(changed)
}

/// The pending ids known not to be in progress and absent from the batch answer whose turn
/// to be read with `conference_info` has come: each every [`UNLISTED_CHECK_POLLS`] polls, at
/// most one per batch request of this poll, those unread longest first. Counts this poll for
/// each such id.
fn due_for_recheck<'a>(
    pending: &'a [String],
    in_progress: &HashMap<String, ConferenceSummary>,
    watched: &mut HashMap<String, Watched>,
) -> HashSet<&'a str> {
    let mut due: Vec<(u32, &'a str)> = Vec::new();
    for id in pending {
        if in_progress.contains_key(id) {
            continue;
        }
        let Some(entry) = watched.get_mut(id) else {
            continue;
        };
        if entry.info.status == Some(ConferenceStatus::Started) {
            continue;
        }
        entry.unchecked_polls = entry.unchecked_polls.saturating_add(1);
        if entry.unchecked_polls >= UNLISTED_CHECK_POLLS {
            due.push((entry.unchecked_polls, id.as_str()));
        }
    }
    // Stable: among those unread as long, the order given.
    due.sort_by_key(|(unchecked, _)| std::cmp::Reverse(*unchecked));
    due.truncate(pending.len().div_ceil(CONFERENCES_PER_BATCH_REQUEST));
    due.into_iter().map(|(_, id)| id).collect()
}

/// The delay before the next poll: `interval`, or longer while every conference still waited
/// for has not started and starts well in the future.
fn scheduled_delay(
    watched: &HashMap<String, Watched>,
    interval: Duration,
    options: &WaitOptions,
) -> Duration {
    let pending: Vec<&Watched> = watched.values().filter(|w| !w.done).collect();
    let all_scheduled = !pending.is_empty()
        && pending
            .iter()
            .all(|w| w.info.status == Some(ConferenceStatus::Initialised));
    if !all_scheduled {
        return interval;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let earliest = pending
        .iter()
        .filter_map(|w| w.info.start_time)
        .map(|t| t.timestamp_millis())
        .min();
    let until_start = earliest
        .and_then(|start| u64::try_from(start.saturating_sub(now_ms)).ok())
        .map(Duration::from_millis);
    match until_start {
        Some(until_start) if until_start > SCHEDULED_LEAD => (until_start - SCHEDULED_LEAD)
            .min(options.scheduled_interval)
            .max(interval),
        _ => interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(status: ConferenceStatus, starts_in: Option<Duration>) -> Watched {
        let start_time = starts_in.and_then(|d| {
            let at = std::time::SystemTime::now().checked_add(d)?;
            let ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
            chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)
        });
        Watched {
            first: Some(status),
            info: ConferenceInfo {
                status: Some(status),
                start_time,
                ..ConferenceInfo::default()
            },
            done: false,
            unchecked_polls: 0,
        }
    }

    #[test]
    fn conferences_that_start_later_are_polled_slowly_until_shortly_before_their_start() {
        let options = WaitOptions::default();
        let interval = Duration::from_secs(5);
        let later = HashMap::from([(
            "a".to_string(),
            watched(
                ConferenceStatus::Initialised,
                Some(Duration::from_secs(3600)),
            ),
        )]);
        assert_eq!(
            scheduled_delay(&later, interval, &options),
            Duration::from_secs(300)
        );
        // Three minutes to go: the next poll comes at the lead, a minute from now (give or
        // take the milliseconds this test takes).
        let soon = HashMap::from([(
            "a".to_string(),
            watched(
                ConferenceStatus::Initialised,
                Some(Duration::from_secs(180)),
            ),
        )]);
        let delay = scheduled_delay(&soon, interval, &options);
        assert!(
            delay <= Duration::from_secs(60) && delay > Duration::from_secs(50),
            "{delay:?}"
        );
        // One conference in progress among them: the normal interval.
        let mut mixed = later;
        mixed.insert("b".to_string(), watched(ConferenceStatus::Started, None));
        assert_eq!(scheduled_delay(&mixed, interval, &options), interval);
        // No known start time: the normal interval.
        let unknown = HashMap::from([(
            "a".to_string(),
            watched(ConferenceStatus::Initialised, None),
        )]);
        assert_eq!(scheduled_delay(&unknown, interval, &options), interval);
    }
}
