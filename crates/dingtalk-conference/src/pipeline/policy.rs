//! What the pipeline does after a failed attempt: replay with a new token, retry after a
//! delay, or give up. A pure function of the failure, the call's history and its policy, so
//! that every rule has a row in a table test.

use std::time::Duration;

use super::{Kind, Operation};
use crate::{Error, RetryPolicy};

/// What one call has done so far, as far as the decision cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct History {
    /// Retries made so far (the replay after a rejected token is not one).
    pub(crate) retries: u32,
    /// Whether the call was already replayed with a new token (at most once).
    pub(crate) replayed: bool,
}

/// The facts about a failure that the decision reads, taken from the error once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// DingTalk rejected the access token (400 `InvalidAuthentication`, 401).
    pub(crate) token_rejected: bool,
    /// DingTalk cannot have processed the request ([`Error::was_not_processed`]).
    pub(crate) not_processed: bool,
    /// The same call may succeed later ([`Error::is_retryable`]).
    pub(crate) retryable: bool,
}

impl Failure {
    pub(crate) fn of(error: &Error) -> Self {
        Self {
            token_rejected: error.is_token_rejected(),
            not_processed: error.was_not_processed(),
            retryable: error.is_retryable(),
        }
    }
}

/// The pipeline's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Drop the rejected token and send the call again at once with a new one.
    Replay,
    /// Send the call again after this delay.
    Retry(Duration),
    /// Return the error.
    Fail(Why),
}

/// Why a failure is returned, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// The policy does not retry it (final error, or attempts spent).
    Final,
    /// A write DingTalk may have processed: sending it again could do it twice.
    MayBeProcessed,
    /// The retry would wake past the call's deadline.
    PastDeadline,
}

/// What to do after `failure`, the call's `history`, with `policy`'s delay for this error
/// (`delay`, from [`RetryPolicy::next_delay`]) and `time_left` before the deadline (`None`: no
/// deadline). `replaceable`: a new token can be had (not a static token).
pub(crate) fn decide(
    operation: &Operation,
    failure: Failure,
    history: History,
    replaceable: bool,
    delay: Option<Duration>,
    time_left: Option<Duration>,
) -> Decision {
    // DingTalk answers 400 InvalidAuthentication (not 401) for an expired token: replace the
    // token and replay once, never in a loop. A static token cannot be replaced: fetching it
    // "again" would only send the same doomed request.
    if failure.token_rejected && !history.replayed && replaceable {
        return Decision::Replay;
    }
    if let Kind::Write { retry_safe: false } = operation.kind
        && !failure.not_processed
    {
        return Decision::Fail(Why::MayBeProcessed);
    }
    let Some(delay) = delay else {
        return Decision::Fail(Why::Final);
    };
    if time_left.is_some_and(|left| delay >= left) {
        return Decision::Fail(Why::PastDeadline);
    }
    Decision::Retry(delay)
}

/// The policy's delay before retry number `history.retries + 1` after `error`, if it retries.
pub(crate) fn delay_for(policy: &RetryPolicy, history: History, error: &Error) -> Option<Duration> {
    policy.next_delay(history.retries + 1, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: Operation = Operation::read("aRead");
    const WRITE: Operation = Operation::write("aWrite", false);
    const SAFE_WRITE: Operation = Operation::write("aSafeWrite", true);

    const REJECTED: Failure = Failure {
        token_rejected: true,
        not_processed: false,
        retryable: false,
    };
    const THROTTLED: Failure = Failure {
        token_rejected: false,
        not_processed: true,
        retryable: true,
    };
    const SERVER_ERROR: Failure = Failure {
        token_rejected: false,
        not_processed: false,
        retryable: true,
    };
    const FINAL: Failure = Failure {
        token_rejected: false,
        not_processed: false,
        retryable: false,
    };

    const FRESH: History = History {
        retries: 0,
        replayed: false,
    };
    const REPLAYED: History = History {
        retries: 0,
        replayed: true,
    };
    const SECOND: Duration = Duration::from_secs(1);

    /// One row: the operation, its failure and history, whether the token can be replaced,
    /// the policy's delay, the time left, and the decision.
    type Row = (
        &'static Operation,
        Failure,
        History,
        bool,
        Option<Duration>,
        Option<Duration>,
        Decision,
    );

    #[test]
    fn each_failure_leads_to_one_next_step() {
        use Decision::{Fail, Replay, Retry};
        let rows: &[Row] = &[
            // A rejected token: one replay, for reads and writes alike, if it can be replaced.
            (&READ, REJECTED, FRESH, true, None, None, Replay),
            (&WRITE, REJECTED, FRESH, true, None, None, Replay),
            (
                &READ,
                REJECTED,
                REPLAYED,
                true,
                None,
                None,
                Fail(Why::Final),
            ),
            (&READ, REJECTED, FRESH, false, None, None, Fail(Why::Final)),
            // Reads and safe writes retry what the policy retries, within the deadline.
            (
                &READ,
                SERVER_ERROR,
                FRESH,
                true,
                Some(SECOND),
                None,
                Retry(SECOND),
            ),
            (
                &SAFE_WRITE,
                SERVER_ERROR,
                FRESH,
                true,
                Some(SECOND),
                None,
                Retry(SECOND),
            ),
            (
                &READ,
                SERVER_ERROR,
                FRESH,
                true,
                Some(SECOND),
                Some(SECOND * 2),
                Retry(SECOND),
            ),
            (
                &READ,
                SERVER_ERROR,
                FRESH,
                true,
                Some(SECOND),
                Some(SECOND),
                Fail(Why::PastDeadline),
            ),
            (
                &READ,
                SERVER_ERROR,
                FRESH,
                true,
                None,
                None,
                Fail(Why::Final),
            ),
            (&READ, FINAL, FRESH, true, None, None, Fail(Why::Final)),
            // Unsafe writes retry only what cannot have been processed.
            (
                &WRITE,
                SERVER_ERROR,
                FRESH,
                true,
                Some(SECOND),
                None,
                Fail(Why::MayBeProcessed),
            ),
            (
                &WRITE,
                THROTTLED,
                FRESH,
                true,
                Some(SECOND),
                None,
                Retry(SECOND),
            ),
            (
                &WRITE,
                THROTTLED,
                FRESH,
                true,
                Some(SECOND),
                Some(SECOND / 2),
                Fail(Why::PastDeadline),
            ),
        ];
        for (i, (op, failure, history, replaceable, delay, left, expected)) in
            rows.iter().enumerate()
        {
            assert_eq!(
                decide(op, *failure, *history, *replaceable, *delay, *left),
                *expected,
                "row {i}"
            );
        }
    }
}
