//! When to try a call again, and how long to wait first.
//!
//! Bounded, jittered exponential backoff on throttling, 5xx and transport failures, honouring
//! `Retry-After`; never on other 4xx. [`Error::is_retryable`] decides what is retryable; this
//! module decides how often and when.

use std::time::Duration;

use crate::Error;

/// How a [`Client`](crate::Client) retries failed calls.
///
/// The default makes at most 3 attempts, waiting about 1 s, then 2 s (DingTalk advises backing
/// off 1 s when throttled), each with ±50 % jitter so that many clients do not retry in step.
///
/// The replay after DingTalk rejects a token (at most one per call, with a new token) comes on
/// top of these attempts: it is not a retry of a failure but the same call with a fresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    jitter: bool,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: true,
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is made once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// At most `attempts` attempts in all, counting the first (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry (default 1 s); it doubles for each further retry.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between two attempts (default 10 s).
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// How much each wait grows over the one before (default 2, at least 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Whether waits are jittered by ±50 % (default yes).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest `Retry-After` honoured (default 30 s). An answer that asks for a longer
    /// wait is returned as the error instead of blocking the caller.
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// At most this many attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// A number that differs between policies that retry differently: reads share a request
    /// only when their policies' fingerprints are equal.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::hash::DefaultHasher::new();
        self.max_attempts.hash(&mut hasher);
        self.initial_backoff.hash(&mut hasher);
        self.max_backoff.hash(&mut hasher);
        self.multiplier.to_bits().hash(&mut hasher);
        self.jitter.hash(&mut hasher);
        self.max_retry_after.hash(&mut hasher);
        hasher.finish()
    }

    /// How long to wait before attempt `attempt + 1` after `error` ended attempt `attempt`
    /// (1-based), or `None` if the call must not be retried.
    pub fn next_delay(&self, attempt: u32, error: &Error) -> Option<Duration> {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return None;
        }
        let backoff = self.backoff(attempt);
        match error.retry_after() {
            Some(asked) if asked > self.max_retry_after => None,
            Some(asked) => Some(asked.max(backoff)),
            None => Some(backoff),
        }
    }

    /// The jittered exponential backoff after attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.multiplier.powi(exponent);
        let base =
            (self.initial_backoff.as_secs_f64() * factor).min(self.max_backoff.as_secs_f64());
        let seconds = if self.jitter {
            base * (0.5 + fastrand::f64())
        } else {
            base
        };
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> Error {
        Error::UnexpectedResponse {
            status: reqwest::StatusCode::TOO_MANY_REQUESTS,
            content_type: None,
            request_id: None,
            location: None,
            retry_after: None,
            snippet: String::new(),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::default()
            .with_max_attempts(10)
            .with_jitter(false)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        let delays: Vec<_> = (1..5).map(|a| policy.next_delay(a, &throttled())).collect();
        assert_eq!(
            delays,
            [100, 200, 350, 350].map(|ms| Some(Duration::from_millis(ms)))
        );
    }

    #[test]
    fn jitter_stays_within_half_to_one_and_a_half_of_the_backoff() {
        let policy = RetryPolicy::default().with_max_attempts(2);
        for _ in 0..1000 {
            let delay = policy.next_delay(1, &throttled()).expect("retryable");
            assert!(delay >= Duration::from_millis(500) && delay <= Duration::from_millis(1500));
        }
    }

    #[test]
    fn attempts_are_bounded_and_final_errors_are_not_retried() {
        let policy = RetryPolicy::default();
        assert!(policy.next_delay(3, &throttled()).is_none());
        assert!(RetryPolicy::none().next_delay(1, &throttled()).is_none());
        assert!(
            policy
                .next_delay(1, &Error::InvalidInput("x".into()))
                .is_none()
        );
    }
}
