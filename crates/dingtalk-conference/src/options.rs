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

    /// These options, with `other`'s settings taking precedence where it has them.
    pub(crate) fn merged_with(&self, other: CallOptions) -> Self {
        Self {
            timeout: other.timeout.or(self.timeout),
            retry: other.retry.or_else(|| self.retry.clone()),
        }
    }
}
