//! Per-call settings: a deadline and a retry policy that override the client's for the calls
//! made through [`Client::with_options`](crate::Client::with_options).

use std::time::Duration;

use crate::RetryPolicy;

/// Settings for some calls only, in the manner of google-cloud-rust's `RequestOptions`: what
/// is not set here comes from the [`ClientBuilder`](crate::ClientBuilder).
///
/// ```no_run
/// # async fn run(client: dingtalk_conference::Client) -> Result<(), dingtalk_conference::Error> {
/// use dingtalk_conference::{CallOptions, RetryPolicy};
/// use std::time::Duration;
///
/// // A page that must render within 2 s: one attempt, no waiting for Retry-After.
/// let quick = client.with_options(
///     CallOptions::new()
///         .timeout(Duration::from_secs(2))
///         .retry_policy(RetryPolicy::none()),
/// );
/// let info = quick.conference_info("6323d7568777190142ab9d10").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) coalesce: Option<bool>,
}

impl CallOptions {
    /// No overrides: every setting comes from the client.
    pub fn new() -> Self {
        Self::default()
    }

    /// The deadline of each whole call, retries and waits included (the client's default is
    /// [`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout)). A zero deadline
    /// fails each call with [`Error::InvalidInput`](crate::Error::InvalidInput) before any
    /// request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry policy of each call.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Reads may be answered from an answer to the same question at most this old, without a
    /// request (the client's default is [`ClientBuilder::max_age`](crate::ClientBuilder::max_age):
    /// none). Errors are never reused; writes are never answered this way.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Whether a read may share the request of an identical read already in flight (default:
    /// yes). Writes never do.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = Some(coalesce);
        self
    }

    /// These options, with `other`'s settings taking precedence where it has them.
    pub(crate) fn merged_with(&self, other: CallOptions) -> Self {
        Self {
            timeout: other.timeout.or(self.timeout),
            retry: other.retry.or_else(|| self.retry.clone()),
            max_age: other.max_age.or(self.max_age),
            coalesce: other.coalesce.or(self.coalesce),
        }
    }
}
