//! The [`Client`] and the one place that makes calls: token, request, classification, replay
//! and retry, within the call's deadline. The operations themselves live in `ops/`, one module
//! each; the builder in `builder.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference_api::{RequestContext, ResponseValue};

use futures_util::future::BoxFuture;

use crate::answers::{Answers, ReadPolicy, Source};
use crate::auth::{CachedToken, SuiteTokenProvider, TokenCache};
use crate::limits::{Limits, PAUSE_AFTER_THROTTLING};
use crate::telemetry;
use crate::{AccessToken, CallOptions, ClientBuilder, Error, RateLimit, RetryPolicy, Secret};

/// What a generated operation fails with.
pub(crate) type ApiCallError = progenitor_client::Error<dingtalk_conference_api::types::ErrorBody>;

/// Where and how requests are sent; shared by the client and the token providers.
#[derive(Clone)]
pub(crate) struct Endpoint {
    base_url: Arc<str>,
    http: reqwest::Client,
    timeout: Duration,
    max_response_bytes: usize,
}

impl Endpoint {
    pub(crate) fn new(
        base_url: String,
        http: reqwest::Client,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            base_url: Arc::from(base_url),
            http,
            timeout,
            max_response_bytes,
        }
    }

    /// A request context with this endpoint's limits and no token.
    pub(crate) fn context(&self) -> RequestContext {
        RequestContext::new()
            .with_timeout(self.timeout)
            .with_max_response_bytes(self.max_response_bytes)
    }

    /// The generated client, for one call with `context`.
    pub(crate) fn api(&self, context: RequestContext) -> dingtalk_conference_api::Client {
        dingtalk_conference_api::Client::new_with_client(&self.base_url, self.http.clone(), context)
    }
}

/// A DingTalk video conference client.
///
/// Cheap to clone; clones share one connection pool and one token cache. `Send + Sync`.
///
/// ```no_run
/// # async fn run() -> Result<(), dingtalk_conference::Error> {
/// use dingtalk_conference::{Client, ConferenceStatus};
///
/// let client = Client::builder()
///     .app_credentials("dingxxxxxxxx", "app secret")
///     .build()?;
/// let info = client.conference_info("6323d7568777190142ab9d10").await?;
/// if info.status == Some(ConferenceStatus::Ended) {
///     println!("{:?} lasted {:?}", info.title, info.duration);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
    /// Overrides for calls made through this handle ([`Client::with_options`]).
    options: CallOptions,
}

struct ClientInner {
    endpoint: Endpoint,
    tokens: TokenCache,
    retry: RetryPolicy,
    call_timeout: Duration,
    suite: Option<Arc<SuiteTokenProvider>>,
    limits: Limits,
    monthly: Option<crate::budget::MonthlyCounter>,
    answers: Answers,
    /// The client's default `max_age` for reads; `None`: every read asks DingTalk.
    max_age: Option<Duration>,
    /// The client's default for sharing identical reads in flight.
    coalesce_reads: bool,
}

/// What [`ClientBuilder::build`] hands the client beside its endpoint and tokens.
pub(crate) struct Budget {
    pub(crate) rate_limit: RateLimit,
    pub(crate) answer_cache_entries: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) coalesce_reads: bool,
    /// The fleet's rate budget, if shared (feature `redis`).
    pub(crate) shared_rate: Option<Box<dyn crate::limits::SharedRate>>,
    /// This client's share of the budget while the shared one is unreachable.
    pub(crate) rate_limit_alone: Option<RateLimit>,
    /// The organisation's monthly budget, if set.
    pub(crate) monthly: Option<crate::budget::MonthlyCounter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &&*self.inner.endpoint.base_url)
            .field("credentials", &self.inner.tokens.provider_name())
            .field("timeout", &self.inner.endpoint.timeout)
            .field("call_timeout", &self.inner.call_timeout)
            .field("retry", &self.inner.retry)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Which failures a call may retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retries {
    /// Reads: whatever the retry policy retries.
    Any,
    /// Writes: only failures where the request cannot have been processed.
    UnprocessedOnly,
}

/// A failed attempt and the token it used, so that a rejection evicts exactly that token.
/// A call that waited this long for its token after its rate slot came has missed the slot.
const SLOT_MISSED_AFTER: Duration = Duration::from_millis(20);

struct Failure {
    error: Error,
    token: Option<CachedToken>,
}

impl Client {
    /// A client from what [`ClientBuilder::build`] checked and made.
    pub(crate) fn new(
        endpoint: Endpoint,
        tokens: TokenCache,
        retry: RetryPolicy,
        call_timeout: Duration,
        suite: Option<Arc<SuiteTokenProvider>>,
        budget: Budget,
    ) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                endpoint,
                tokens,
                retry,
                call_timeout,
                suite,
                limits: match budget.shared_rate {
                    Some(shared) => Limits::new(budget.rate_limit)
                        .with_shared(shared)
                        .with_budget_alone(budget.rate_limit_alone),
                    None => Limits::new(budget.rate_limit),
                },
                monthly: budget.monthly,
                answers: Answers::new(budget.answer_cache_entries),
                max_age: budget.max_age,
                coalesce_reads: budget.coalesce_reads,
            }),
            options: CallOptions::default(),
        }
    }

    /// Where requests go, for the operations in `ops/`.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// A builder; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from environment variables:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `DINGTALK_ACCESS_TOKEN` | a fixed access token, or |
    /// | `DINGTALK_APP_KEY`, `DINGTALK_APP_SECRET` | an internal app, or |
    /// | `DINGTALK_SUITE_KEY`, `DINGTALK_SUITE_SECRET`, `DINGTALK_AUTH_CORP_ID`, `DINGTALK_SUITE_TICKET` | a third-party app |
    /// | `DINGTALK_EDITION` | `international` (default) or `china` |
    /// | `DINGTALK_BASE_URL` | a base URL instead of the edition's |
    /// | `DINGTALK_REDIS_URL` | with feature `redis`: join a fleet through this Redis ([`ClientBuilder::redis`]) |
    ///
    /// Exactly one kind of credentials must be set; errors name the missing variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env()?.build()
    }

    /// A handle on the same client (same connection pool, same token cache) whose calls use
    /// `options` where they are set: a deadline or retry policy for some calls only.
    /// Options set on this handle before stay in force unless `options` overrides them.
    pub fn with_options(&self, options: CallOptions) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            options: self.options.merged_with(options),
        }
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.endpoint.base_url
    }

    /// Runs one read operation with token handling, replay and retries, within the call's
    /// deadline; the single call path.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation_id: &'static str,
        operation: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        self.call_as(operation_id, Retries::Any, operation).await
    }

    /// A read of `operation_id` with arguments `args` (its key, with the operation): from a
    /// recent answer within the call's `max_age`, else shared with an identical read in flight
    /// (unless coalescing is off for this call), else `fetch`ed by a clone of this client.
    pub(crate) async fn read<T, F>(
        &self,
        operation_id: &'static str,
        args: &str,
        fetch: F,
    ) -> Result<T, Error>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(Client) -> BoxFuture<'static, Result<T, Error>>,
    {
        let policy = ReadPolicy {
            coalesce: self.options.coalesce.unwrap_or(self.inner.coalesce_reads),
            max_age: self.options.max_age.or(self.inner.max_age),
        };
        let client = self.clone();
        let key = format!("{operation_id}\u{1f}{args}");
        let (result, source) = self
            .inner
            .answers
            .read(key, policy, move || fetch(client))
            .await;
        match source {
            Source::Request => {}
            Source::Coalesced => {
                telemetry::coalesced(operation_id);
                tracing::debug!(
                    operation = operation_id,
                    "shared an identical read in flight"
                );
            }
            Source::Cache => {
                telemetry::cache_hit(operation_id);
                tracing::debug!(operation = operation_id, "answered from a recent answer");
            }
        }
        result
    }

    /// Runs one write operation (not idempotent: DingTalk takes no idempotency key) like
    /// [`Client::call`], except that a failure is retried only when the request cannot have
    /// been processed ([`Error::was_not_processed`]): throttling, a failed connect, no token.
    /// A timeout or a 5xx after the request was sent is returned, never sent again.
    pub(crate) async fn call_write<T, F, Fut>(
        &self,
        operation_id: &'static str,
        operation: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        self.call_as(operation_id, Retries::UnprocessedOnly, operation)
            .await
    }

    async fn call_as<T, F, Fut>(
        &self,
        operation_id: &'static str,
        retries: Retries,
        operation: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let limit = self.options.timeout.unwrap_or(self.inner.call_timeout);
        if limit.is_zero() {
            return Err(Error::InvalidInput(
                "the call's timeout (CallOptions::timeout) is zero".to_string(),
            ));
        }
        let started = tokio::time::Instant::now();
        let deadline = started.checked_add(limit);
        let mut last_error = None;
        let attempts = self.attempts(operation_id, retries, &operation, deadline, &mut last_error);
        let outcome = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, attempts).await,
            // A deadline too far to represent is no deadline.
            None => Ok(attempts.await),
        };
        let result = outcome.unwrap_or_else(|_| {
            Err(Error::Timeout {
                kind: crate::TimeoutKind::Deadline,
                limit,
                last_error: last_error.map(Box::new),
            })
        });
        telemetry::call(
            operation_id,
            telemetry::outcome(result.as_ref().map(drop)),
            started.elapsed(),
        );
        result
    }

    /// The attempts of one call: replay once on a rejected token, retry per the policy.
    /// Each failure is kept in `last_error`, for the timeout error if the deadline passes.
    async fn attempts<T, F, Fut>(
        &self,
        operation_id: &'static str,
        retries_allowed: Retries,
        operation: &F,
        deadline: Option<tokio::time::Instant>,
        last_error: &mut Option<Error>,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let span = tracing::Span::current();
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        let mut attempt = 0u32;
        let mut retries = 1u32;
        let mut replayed = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            // The token first, then the rate slot: a slot reserved while the token is being
            // fetched would be sent late, bunched with the slots after it, and a window
            // DingTalk counts could then hold more calls than the budget spaced out.
            let failure = 'attempt: {
                let mut token = match self.inner.tokens.get().await {
                    Ok(token) => token,
                    Err(error) => break 'attempt Failure { error, token: None },
                };
                let mut waited = Duration::ZERO;
                loop {
                    let waited_now = match self.inner.limits.acquire(operation_id, deadline).await {
                        Ok(waited_now) => waited_now,
                        Err(error) => break 'attempt Failure { error, token: None },
                    };
                    if waited_now.is_zero() {
                        break;
                    }
                    waited += waited_now;
                    // The wait may have outlasted the token's refresh margin; the cache
                    // answers at once if it did not. If it made this call wait for a new
                    // token instead, the slot has passed unused: a new one, rather than a
                    // burst with the calls on time.
                    let asked = tokio::time::Instant::now();
                    token = match self.inner.tokens.get().await {
                        Ok(token) => token,
                        Err(error) => break 'attempt Failure { error, token: None },
                    };
                    if asked.elapsed() < SLOT_MISSED_AFTER {
                        break;
                    }
                }
                if !waited.is_zero() {
                    telemetry::rate_limit_wait(operation_id, waited);
                    tracing::debug!(
                        attempt,
                        waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        "waited for the rate limit"
                    );
                }
                // Every request counts against the organisation's month; past a hard budget
                // the call is refused here, unsent.
                if let Some(monthly) = &self.inner.monthly {
                    monthly.spend().await?;
                }
                telemetry::request(operation_id, attempt);
                match self.attempt(operation, token).await {
                    Ok(value) => return Ok(value),
                    Err(failure) => failure,
                }
            };
            let Failure { error, token } = failure;
            if let Some(status) = error.status() {
                span.record("http.status", status.as_u16());
            }
            if let Some(id) = error.request_id() {
                span.record("request_id", crate::text::shown(id).as_ref());
            }
            *last_error = Some(error.clone());
            // A throttling answer got through (another process, another tool): hold every
            // caller of this API for the pause DingTalk advises, instead of all retrying into it.
            if error.is_throttled() {
                telemetry::throttled(operation_id);
                let pause = error.retry_after().map_or(PAUSE_AFTER_THROTTLING, |asked| {
                    asked.max(PAUSE_AFTER_THROTTLING)
                });
                self.inner.limits.pause(operation_id, pause);
            }

            // DingTalk answers 400 InvalidAuthentication (not 401) for an expired token:
            // replace the token and replay once, never in a loop. A static token cannot be
            // replaced: fetching it "again" would only send the same doomed request.
            if error.is_token_rejected() && !replayed && self.inner.tokens.is_replaceable() {
                if let Some(token) = &token {
                    self.inner.tokens.invalidate(token);
                }
                replayed = true;
                tracing::info!(attempt, error = %error, "access token rejected; replaying with a new token");
                continue;
            }
            if retries_allowed == Retries::UnprocessedOnly && !error.was_not_processed() {
                if error.is_retryable() {
                    tracing::warn!(
                        attempt,
                        error = %error,
                        "not retrying a write that DingTalk may have processed"
                    );
                }
                return Err(error);
            }
            let Some(delay) = policy.next_delay(retries, &error) else {
                return Err(error);
            };
            let wake = tokio::time::Instant::now().checked_add(delay);
            if deadline.is_some_and(|deadline| wake.is_none_or(|wake| wake >= deadline)) {
                tracing::warn!(
                    attempt,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error = %error,
                    "not retrying: the wait would end past the call's deadline"
                );
                return Err(error);
            }
            retries += 1;
            tracing::warn!(
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt<T, F, Fut>(
        &self,
        operation: &F,
        token: CachedToken,
    ) -> Result<ResponseValue<T>, Failure>
    where
        F: Fn(RequestContext) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, ApiCallError>>,
    {
        let context = self
            .inner
            .endpoint
            .context()
            .with_access_token_header(token.header.clone());
        match operation(context.clone()).await {
            Ok(response) => {
                let span = tracing::Span::current();
                if !span.is_disabled() {
                    span.record("http.status", response.status().as_u16());
                    if let Some(id) = crate::error::request_id_header(response.headers()) {
                        span.record("request_id", id.as_str());
                    }
                }
                Ok(response)
            }
            Err(e) => Err(Failure {
                error: Error::from_api(e, context.response_meta(), false).await,
                token: Some(token),
            }),
        }
    }

    /// The current access token (fetching one if needed) and when it expires.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let token = self.token_within_deadline().await?;
        let expires_in = token.expires_at.map(|at| {
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or_default()
        });
        Ok(AccessToken::new(token.secret, expires_in))
    }

    /// Replaces the suite ticket of a third-party app client. DingTalk pushes a new ticket
    /// about every 5 hours; the next token fetch uses it.
    pub fn set_suite_ticket(&self, ticket: impl Into<Secret>) -> Result<(), Error> {
        let ticket = ticket.into();
        if ticket.is_blank() {
            return Err(Error::InvalidInput("the suite ticket is empty".to_string()));
        }
        match &self.inner.suite {
            Some(provider) => {
                provider.set_suite_ticket(ticket);
                Ok(())
            }
            None => Err(Error::Config(
                "set_suite_ticket needs a client built with suite_credentials()".to_string(),
            )),
        }
    }

    /// The escape hatch: the generated low-level client, with the current access token
    /// attached, for calls this crate does not wrap. No retries or replays happen there.
    pub async fn api(&self) -> Result<dingtalk_conference_api::Client, Error> {
        let token = self.token_within_deadline().await?;
        Ok(self.inner.endpoint.api(
            self.inner
                .endpoint
                .context()
                .with_access_token_header(token.header),
        ))
    }

    /// A token from the cache, waiting at most the call deadline for it.
    async fn token_within_deadline(&self) -> Result<CachedToken, Error> {
        let limit = self.options.timeout.unwrap_or(self.inner.call_timeout);
        tokio::time::timeout(limit, self.inner.tokens.get())
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    kind: crate::TimeoutKind::Deadline,
                    limit,
                    last_error: None,
                })
            })
    }

    /// The underlying `reqwest::Client` (shared connection pool).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.endpoint.http
    }
}
