//! The call pipeline: every call of every operation runs through [`Client::execute`] (writes)
//! or [`Client::read`] (reads), over an [`Operation`] that describes it, in named stages:
//!
//! ```text
//! read ─► answer cache ─► shared read ─┐
//! write ───────────────────────────────┴► deadline ─► admission ─► send ─► classify ─┬─► answer
//!                                                      (token,                        │
//!                                                       rate slot,     replay / retry ┘
//!                                                       month)         (policy.rs)
//! ```
//!
//! What each stage may assume and how a new one is added is in `docs/ARCHITECTURE.md`. The
//! pipeline, not the operation, owns the tracing span and its fields; time comes from Tokio's
//! clock only (`tokio::time`), so tests can pause it, the rate limiter's included.

pub(crate) mod policy;
pub(crate) mod shared;

use std::hash::Hash;
use std::time::Duration;

use dingtalk_conference_api::{RequestContext, ResponseValue};
use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tracing::{Instrument as _, field::Empty};

use self::policy::{Decision, History, Why};
use self::shared::{ReadKey, ReadPolicy, Source};
use crate::auth::CachedToken;
use crate::limits::PAUSE_AFTER_THROTTLING;
use crate::{Client, Error, telemetry};

/// What a generated operation fails with.
pub(crate) type ApiCallError = progenitor_client::Error<dingtalk_conference_api::types::ErrorBody>;

/// Whether an operation reads or writes, and for a write whether sending it twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Reads: shared, cacheable, retried per the policy.
    Read,
    /// Writes: never shared or cached. `retry_safe`: repeating it does no harm (setting a
    /// state), so it is retried like a read; otherwise (creating, closing) only a failure
    /// DingTalk cannot have processed is retried.
    Write {
        /// Whether the write may be sent again after DingTalk may have processed it.
        retry_safe: bool,
    },
}

/// One operation of the spec, as the pipeline needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// The spec's `operationId`: the name in traces, metrics and rate limits.
    pub(crate) id: &'static str,
    pub(crate) kind: Kind,
    /// Whether it is sent with an access token; `false` for the token operations themselves
    /// (`security: []`), which take their credentials in the body.
    pub(crate) authenticated: bool,
}

impl Operation {
    /// A read.
    pub(crate) const fn read(id: &'static str) -> Self {
        Self {
            id,
            kind: Kind::Read,
            authenticated: true,
        }
    }

    /// A write; `retry_safe` if sending it twice is harmless.
    pub(crate) const fn write(id: &'static str, retry_safe: bool) -> Self {
        Self {
            id,
            kind: Kind::Write { retry_safe },
            authenticated: true,
        }
    }

    /// The same operation, sent without an access token (no token is fetched for it).
    pub(crate) const fn unauthenticated(self) -> Self {
        Self {
            authenticated: false,
            ..self
        }
    }
}

/// When a call must be done: its start, its limit, and the instant they give (`None`: too far
/// to represent, which is no deadline).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) started: Instant,
    pub(crate) limit: Duration,
    pub(crate) at: Option<Instant>,
}

impl Deadline {
    /// A deadline `limit` from now.
    pub(crate) fn after(limit: Duration) -> Self {
        let started = Instant::now();
        Self {
            started,
            limit,
            at: started.checked_add(limit),
        }
    }

    /// The time left, `None` without a deadline.
    pub(crate) fn time_left(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    pub(crate) fn has_passed(&self) -> bool {
        self.at.is_some_and(|at| at <= Instant::now())
    }

    /// The error of a call whose deadline passed; `last_error`: what its last attempt failed
    /// with.
    pub(crate) fn timeout(&self, last_error: Option<Error>) -> Error {
        Error::Timeout {
            kind: crate::TimeoutKind::Deadline,
            limit: self.limit,
            last_error: last_error.map(Box::new),
        }
    }
}

/// What a call is about, for its span: the conference, when there is one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Subject<'a> {
    pub(crate) conference_id: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub(crate) fn conference(id: &'a str) -> Self {
        Self {
            conference_id: Some(id),
        }
    }
}

/// A failed attempt and the token it used, so that a rejection evicts exactly that token.
struct Failed {
    error: Error,
    token: Option<CachedToken>,
}

/// How much later than a request's own timeout a deadline must be for the request to be sent
/// without a timer of the call's own ([`Client::ends_before_request`]).
const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(1);

/// A call that waited this long for its token after its rate slot came has missed the slot.
const SLOT_MISSED_AFTER: Duration = Duration::from_millis(20);

impl Client {
    /// The whole time a call through this handle may take.
    pub(crate) fn call_limit(&self) -> Duration {
        self.options.timeout.unwrap_or(self.inner.call_timeout)
    }

    /// The deadline of a call made now through this handle.
    pub(crate) fn deadline(&self) -> Result<Deadline, Error> {
        let limit = self.call_limit();
        if limit.is_zero() {
            return Err(Error::InvalidInput(
                "the call's timeout (CallOptions::timeout) is zero".to_string(),
            ));
        }
        Ok(Deadline::after(limit))
    }

    /// Stages 1 and 2 of a read, `key` asked of `operation`: from a recent answer within the
    /// call's `max_age`, else shared with an identical read in flight (unless coalescing is
    /// off for this call), else `fetch`ed (by a clone of this client, within the deadline it
    /// is given; typically [`Client::execute`] and a decoding step).
    ///
    /// A read that is neither shared nor cached awaits `fetch`'s future in place, and
    /// allocates nothing for it (an allocation of its size, ~3 KiB, takes the allocator's slow
    /// path on every call). A shared one is boxed, so that it can move to a task of its own
    /// when another caller joins it.
    pub(crate) async fn read<A, T, F, Fut>(
        &self,
        operation: &'static Operation,
        key: ReadKey<A>,
        fetch: F,
    ) -> Result<T, Error>
    where
        A: Hash + Eq + Send + Sync + 'static,
        T: Clone + Send + Sync + 'static,
        F: Fn(Client, Deadline) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let deadline = self.deadline()?;
        let policy = ReadPolicy {
            coalesce: self.options.coalesce.unwrap_or(self.inner.coalesce_reads),
            max_age: self.options.max_age.or(self.inner.max_age),
        };
        if !policy.coalesce && policy.max_age.is_none() {
            // Neither shared nor cached: no key to build, no table; the caller runs it.
            return fetch(self.clone(), deadline).await;
        }
        let fingerprint = match &self.options.retry {
            Some(policy) => policy.fingerprint(),
            // The client's own policy never changes: fingerprinted once.
            None => self
                .inner
                .reads
                .client_policy(|| self.inner.retry.fingerprint()),
        };
        let key = key.erase(fingerprint);
        // A shared request that moves to a task of its own keeps the span of the caller
        // that started it (`shared.rs`).
        let (result, source) = self
            .inner
            .reads
            .read(key, policy, deadline, |deadline| {
                Box::pin(fetch(self.clone(), deadline)) as BoxFuture<'static, _>
            })
            .await;
        match source {
            Source::Request => {}
            Source::Coalesced => {
                telemetry::coalesced(operation.id);
                tracing::debug!(
                    operation = operation.id,
                    "shared an identical read in flight"
                );
            }
            Source::Cache => {
                telemetry::cache_hit(operation.id);
                tracing::debug!(operation = operation.id, "answered from a recent answer");
            }
        }
        result
    }

    fn retry_policy(&self) -> &crate::RetryPolicy {
        self.options.retry.as_ref().unwrap_or(&self.inner.retry)
    }

    /// The rest of the pipeline for one call of `operation` about `subject`, within
    /// `deadline`: admission (token, rate slot, month), `send`, classification, replay and
    /// retry. Owns the call's span and its metrics.
    pub(crate) async fn execute<T, F, Fut>(
        &self,
        operation: &'static Operation,
        subject: Subject<'_>,
        deadline: Deadline,
        send: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let span = tracing::info_span!(
            "dingtalk.call",
            operation = operation.id,
            conference_id = subject.conference_id.map(tracing::field::display),
            attempt = Empty,
            http.status = Empty,
            request_id = Empty,
        );
        let result = self
            .attempts(operation, deadline, &send)
            .instrument(span)
            .await;
        telemetry::call(operation.id, result.as_ref().map(drop), deadline.started);
        result
    }

    /// The attempts of one call, until an answer, a final failure or the deadline.
    ///
    /// The deadline is kept stage by stage, where the call may wait: admission under a timer
    /// of the call's own (armed only if admission has to wait), the request under its own
    /// timeout (reqwest's, `ClientBuilder::timeout`) when that ends well before the deadline
    /// and under the call's timer otherwise, and a retry's back-off never past it (the
    /// policy). So a call whose admission is immediate and whose deadline is far arms no
    /// timer beside the request's. When the deadline passes, the call fails with
    /// [`Error::Timeout`] holding the last attempt's failure.
    async fn attempts<T, F, Fut>(
        &self,
        operation: &'static Operation,
        deadline: Deadline,
        send: &F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let span = tracing::Span::current();
        let mut history = History::default();
        let mut attempt = 0u32;
        let mut last_error: Option<Error> = None;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            // Each step's result is taken apart before the next await, so that no slot of
            // this future is kept for it across the others.
            let Failed { error, token } = 'attempt: {
                let admitted = match self.admit_at_once(operation, attempt) {
                    Some(token) => Ok(token),
                    None => match deadline.at {
                        Some(at) => {
                            let admit = self.admit(operation, deadline, attempt);
                            match tokio::time::timeout_at(at, admit).await {
                                Ok(admitted) => admitted,
                                Err(_) => return Err(deadline.timeout(last_error)),
                            }
                        }
                        None => self.admit(operation, deadline, attempt).await,
                    },
                };
                let token = match admitted {
                    Ok(token) => token,
                    Err(error) => break 'attempt Failed { error, token: None },
                };
                let sent = match deadline.at.filter(|&at| self.ends_before_request(at)) {
                    Some(at) => {
                        match tokio::time::timeout_at(at, self.send(operation, send, token)).await {
                            Ok(sent) => sent,
                            Err(_) => return Err(deadline.timeout(last_error)),
                        }
                    }
                    None => self.send(operation, send, token).await,
                };
                match sent {
                    Ok(answer) => return Ok(answer),
                    Err(failed) => failed,
                }
            };
            self.classify(operation, &error);
            last_error = Some(error.clone());
            let delay = policy::delay_for(self.retry_policy(), history, &error);
            let decision = policy::decide(
                operation,
                policy::Failure::of(&error),
                history,
                operation.authenticated && self.inner.tokens.is_replaceable(),
                delay,
                deadline.time_left(),
            );
            match decision {
                Decision::Replay => {
                    if let Some(token) = &token {
                        self.inner.tokens.invalidate(token);
                    }
                    history.replayed = true;
                    tracing::info!(attempt, error = %error, "access token rejected; replaying with a new token");
                }
                Decision::Retry(delay) => {
                    history.retries += 1;
                    tracing::warn!(attempt, delay_ms = millis(delay), error = %error, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Decision::Fail(why) => {
                    match why {
                        Why::MayBeProcessed if error.is_retryable() => tracing::warn!(
                            attempt,
                            error = %error,
                            "not retrying a write that DingTalk may have processed"
                        ),
                        Why::PastDeadline => tracing::warn!(
                            attempt,
                            delay_ms = delay.map_or(0, millis),
                            error = %error,
                            "not retrying: the wait would end past the call's deadline"
                        ),
                        _ => {}
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Whether a deadline at `at` may come before a request sent now ends by its own timeout
    /// (with a second's margin, so that the call's own timer, not the request's, ends a call
    /// whose two limits nearly coincide, and the call fails with the deadline's error).
    fn ends_before_request(&self, at: Instant) -> bool {
        at.saturating_duration_since(Instant::now())
            <= self
                .inner
                .endpoint
                .timeout
                .saturating_add(REQUEST_TIMEOUT_MARGIN)
    }

    /// Admission when nothing has to wait: a fresh cached token (none for an unauthenticated
    /// operation), then a rate slot free now, with no monthly budget to count. `None` takes
    /// nothing, and the call goes through [`Client::admit`]. What it grants is what `admit`
    /// would have granted at once; it only spares the call `admit`'s future and timer.
    fn admit_at_once(
        &self,
        operation: &'static Operation,
        attempt: u32,
    ) -> Option<Option<CachedToken>> {
        if operation.authenticated && self.inner.monthly.is_some() {
            return None;
        }
        let token = match operation.authenticated {
            true => Some(self.inner.tokens.fresh()?),
            false => None,
        };
        if !self.inner.limits.acquire_at_once(operation.id) {
            return None;
        }
        telemetry::request(operation.id, attempt);
        Some(token)
    }

    /// Admission: a token first, then the rate slot, then the month's count. The token comes
    /// first because a slot reserved while the token is fetched would be sent late, bunched
    /// with the slots after it, and a window DingTalk counts could then hold more calls than
    /// the budget spaced out.
    async fn admit(
        &self,
        operation: &'static Operation,
        deadline: Deadline,
        attempt: u32,
    ) -> Result<Option<CachedToken>, Error> {
        let mut token = match operation.authenticated {
            true => Some(self.inner.tokens.get().await?),
            false => None,
        };
        let mut waited = Duration::ZERO;
        loop {
            // A slot further than the deadline is never reserved, and a call that cannot
            // have its IP-window slot in time fails here, unsent (`Error::IpWindowFull`).
            let waited_now = self.inner.limits.acquire(operation.id, deadline.at).await?;
            if waited_now.is_zero() {
                break;
            }
            waited += waited_now;
            // The wait may have outlasted the token's refresh margin; the cache answers at
            // once if it did not. If it made this call wait for a new token instead, the
            // slot has passed unused: a new one, rather than a burst with the calls on time.
            if !operation.authenticated {
                break;
            }
            let asked = Instant::now();
            token = Some(self.inner.tokens.get().await?);
            if asked.elapsed() < SLOT_MISSED_AFTER {
                break;
            }
        }
        if !waited.is_zero() {
            telemetry::rate_limit_wait(operation.id, waited);
            tracing::debug!(
                attempt,
                waited_ms = millis(waited),
                "waited for the rate limit"
            );
        }
        // Every API request counts against the organisation's month; past a hard budget the
        // call is refused here, unsent. A token request (an unauthenticated operation, sent
        // through `Client::call`) is not counted, as the built-in token providers' are not.
        if let Some(monthly) = &self.inner.monthly
            && operation.authenticated
        {
            monthly.spend().await?;
        }
        telemetry::request(operation.id, attempt);
        Ok(token)
    }

    /// Sends one attempt with `token` (none for an unauthenticated operation).
    async fn send<T, F, Fut>(
        &self,
        operation: &'static Operation,
        send: &F,
        token: Option<CachedToken>,
    ) -> Result<ResponseValue<T>, Failed>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let context = match &token {
            Some(token) => self
                .inner
                .endpoint
                .context()
                .with_access_token_header(token.header.clone()),
            None => self.inner.endpoint.context(),
        };
        // The answer leaves this future before the error path's await, so that the future
        // holds no slot for it while the request is in flight (its size is copied on every
        // move of every future that holds it).
        let failure = match send(context.clone()).await {
            Ok(response) => {
                let span = tracing::Span::current();
                if !span.is_disabled() {
                    span.record("http.status", response.status().as_u16());
                    if let Some(id) = crate::error::request_id_header(response.headers()) {
                        span.record("request_id", id.as_str());
                    }
                }
                return Ok(response);
            }
            Err(e) => e,
        };
        // A token operation's answer may hold credentials: its body is never quoted. Boxed:
        // only a failure pays for its size.
        let error = Box::pin(Error::from_api(
            failure,
            context.response_meta(),
            !operation.authenticated,
        ))
        .await;
        Err(Failed { error, token })
    }

    /// What a failure tells beyond this call: its status and request id for the span, and a
    /// throttling answer that got through (another process, another tool) pauses every caller
    /// of this API for the time DingTalk advises, instead of all retrying into it.
    fn classify(&self, operation: &'static Operation, error: &Error) {
        let span = tracing::Span::current();
        if let Some(status) = error.status() {
            span.record("http.status", status.as_u16());
        }
        if let Some(id) = error.request_id() {
            span.record("request_id", crate::text::shown(id).as_ref());
        }
        if error.is_throttled() {
            telemetry::throttled(operation.id);
            let pause = error.retry_after().map_or(PAUSE_AFTER_THROTTLING, |asked| {
                asked.max(PAUSE_AFTER_THROTTLING)
            });
            self.inner.limits.pause(operation.id, pause);
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
