//! Access tokens: where they come from ([`TokenProvider`]) and how they are kept (the cache).
//!
//! Tokens are fetched lazily, cached until shortly before they expire, fetched by one caller at
//! a time however many are waiting, and evicted only if the rejected token is still the cached
//! one.

pub(crate) mod store;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use dingtalk_conference_api::types::{
    AccessTokenResponse, GetAccessTokenRequest, GetCorpAccessTokenRequest,
};
use dingtalk_conference_api::{RequestContext, ResponseValue};
use reqwest::header::HeaderValue;
use tokio::sync::watch;
// Tokio's clock, so that tests can pause it; outside tests it is the monotonic clock.
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::endpoint::Endpoint;
use crate::{Error, Secret};

/// The lifetime DingTalk documents for its tokens, assumed when an answer has no `expireIn`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// The shortest lifetime believed: a zero or negative `expireIn` is not taken literally, since
/// caching nothing would send every call to the token endpoint.
const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);
/// The longest lifetime believed; an absurd `expireIn` is capped here.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// An access token and, if known, when it stops being valid.
#[derive(Clone, Debug)]
pub struct AccessToken {
    token: Secret,
    expiry: Expiry,
    /// When the cache should start replacing it, counted like `expiry`, if the source knows
    /// better than the client's refresh margin (a token shared by a fleet is replaced when
    /// its shared copy runs out, by all members at once).
    refresh_in: Option<Duration>,
}

#[derive(Clone, Copy, Debug)]
enum Expiry {
    Unknown,
    /// Valid for this long, counted from when the value was made.
    In(Duration),
    /// Valid until this moment.
    At(SystemTime),
}

impl AccessToken {
    /// A token valid for `expires_in`, counted from when this value is made (for a
    /// [`TokenProvider`], from when its fetch returns), or until DingTalk rejects it if
    /// `None`.
    pub fn new(token: impl Into<Secret>, expires_in: Option<Duration>) -> Self {
        Self {
            token: token.into(),
            expiry: expires_in.map_or(Expiry::Unknown, Expiry::In),
            refresh_in: None,
        }
    }

    /// A token valid until `expires_at`, a moment on the wall clock: for a provider that
    /// knows when its token expires rather than how long it lives (a vault entry, a token
    /// shared between processes).
    pub fn with_expiry_time(token: impl Into<Secret>, expires_at: SystemTime) -> Self {
        Self {
            token: token.into(),
            expiry: Expiry::At(expires_at),
            refresh_in: None,
        }
    }

    /// The same token, to be replaced `refresh_in` from when this value is made rather than
    /// the client's refresh margin before it expires.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn refreshed_in(mut self, refresh_in: Duration) -> Self {
        self.refresh_in = Some(refresh_in);
        self
    }

    /// The token itself.
    pub fn secret(&self) -> &Secret {
        &self.token
    }

    /// How long the token stays valid, if known: the `expires_in` given to
    /// [`new`](Self::new), counted from when this value was made; or, for a token made with
    /// [`with_expiry_time`](Self::with_expiry_time), the time left from now until then (zero
    /// once it has passed). [`Client::access_token`](crate::Client::access_token) returns a
    /// token made with `new`, whose `expires_in` is the time left at that call.
    pub fn expires_in(&self) -> Option<Duration> {
        match self.expiry {
            Expiry::Unknown => None,
            Expiry::In(lifetime) => Some(lifetime),
            Expiry::At(at) => Some(
                at.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            ),
        }
    }
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// A source of access tokens, for when the built-in credentials do not fit (a token service
/// of your own, a vault, a cross-process cache).
///
/// The client calls it only when it needs a new token, and never concurrently. Each fetch is
/// bounded by the client's
/// [`token_fetch_timeout`](crate::ClientBuilder::token_fetch_timeout); a fetch that runs out
/// is dropped, and the next call starts a new one. Return [`Error::transient`] for a failure
/// that trying again may fix, [`Error::custom`] for one it will not.
///
/// ```
/// use dingtalk_conference::{AccessToken, Error, TokenFuture, TokenProvider};
/// use std::time::Duration;
///
/// struct FromMyVault;
///
/// impl TokenProvider for FromMyVault {
///     fn fetch_token(&self) -> TokenFuture<'_> {
///         Box::pin(async {
///             let token = std::env::var("MY_TOKEN").map_err(Error::custom)?;
///             Ok(AccessToken::new(token, Some(Duration::from_secs(7200))))
///         })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// Fetches a new token.
    fn fetch_token(&self) -> TokenFuture<'_>;

    /// DingTalk rejected `token` (400 `InvalidAuthentication`, or 401) and the client has
    /// dropped it; the next [`fetch_token`](Self::fetch_token) should not return it again. A
    /// provider backed by a cache of its own (shared between processes, say) drops it there.
    /// Called once per rejected token, however many calls saw the rejection. The default
    /// does nothing.
    fn invalidate(&self, token: &Secret) {
        let _ = token;
    }

    /// A short name for traces and errors (never a secret).
    fn name(&self) -> &str {
        "custom token provider"
    }

    /// What names the tenant whose tokens this provider fetches (the organisation and the
    /// app, say `ding1234corp:dingappkey`): the key under which a shared store
    /// ([`ClientBuilder::redis`](crate::ClientBuilder::redis),
    /// [`ClientBuilder::token_store`](crate::ClientBuilder::token_store)) keeps its tokens and
    /// its fleet's rate budget. Never a secret: it appears in key names.
    ///
    /// The default is `None`: such a provider's tokens are never shared, and
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) refuses it with a shared store,
    /// since two providers for two organisations would otherwise hand each other's clients
    /// their tokens.
    fn cache_key(&self) -> Option<&str> {
        None
    }
}

/// A fixed token, e.g. one your own service obtained.
pub(crate) struct StaticToken(pub(crate) Secret);

impl TokenProvider for StaticToken {
    fn fetch_token(&self) -> TokenFuture<'_> {
        let token = AccessToken::new(self.0.clone(), None);
        Box::pin(async move { Ok(token) })
    }

    fn name(&self) -> &str {
        "static token"
    }
}

/// An internal app's token, from `POST /v1.0/oauth2/accessToken`.
pub(crate) struct AppTokenProvider {
    pub(crate) endpoint: Endpoint,
    pub(crate) app_key: String,
    pub(crate) app_secret: Secret,
}

impl TokenProvider for AppTokenProvider {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let body = GetAccessTokenRequest {
                app_key: self.app_key.clone(),
                app_secret: self.app_secret.expose().to_string(),
            };
            let context = self.endpoint.context();
            let result = self
                .endpoint
                .api(context.clone())
                .get_access_token(&body)
                .await;
            token_from_answer(result, context, "getAccessToken").await
        })
    }

    fn name(&self) -> &str {
        "getAccessToken"
    }
}

/// A third-party app's token for one organisation, from `POST /v1.0/oauth2/corpAccessToken`.
/// The suite ticket can be replaced while the client runs.
pub(crate) struct SuiteTokenProvider {
    pub(crate) endpoint: Endpoint,
    pub(crate) suite_key: String,
    pub(crate) suite_secret: Secret,
    pub(crate) auth_corp_id: String,
    pub(crate) suite_ticket: RwLock<Secret>,
}

impl SuiteTokenProvider {
    pub(crate) fn set_suite_ticket(&self, ticket: Secret) {
        *self
            .suite_ticket
            .write()
            .unwrap_or_else(PoisonError::into_inner) = ticket;
    }
}

impl TokenProvider for SuiteTokenProvider {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let ticket = self
                .suite_ticket
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let body = GetCorpAccessTokenRequest {
                suite_key: self.suite_key.clone(),
                suite_secret: self.suite_secret.expose().to_string(),
                auth_corp_id: self.auth_corp_id.clone(),
                suite_ticket: ticket.expose().to_string(),
            };
            let context = self.endpoint.context();
            let result = self
                .endpoint
                .api(context.clone())
                .get_corp_access_token(&body)
                .await;
            token_from_answer(result, context, "getCorpAccessToken").await
        })
    }

    fn name(&self) -> &str {
        "getCorpAccessToken"
    }
}

/// Turns a token endpoint's answer into a token, or into an [`Error::Auth`] carrying
/// DingTalk's code.
async fn token_from_answer(
    result: Result<
        ResponseValue<AccessTokenResponse>,
        progenitor_client::Error<dingtalk_conference_api::types::ErrorBody>,
    >,
    context: RequestContext,
    operation: &'static str,
) -> Result<AccessToken, Error> {
    let auth = |source: Error| Error::Auth {
        provider: operation.into(),
        source: Box::new(source),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            return Err(auth(
                Error::from_api(e, context.response_meta(), true).await,
            ));
        }
    };
    let status = response.status();
    let request_id = crate::error::request_id_header(response.headers());
    let answer = response.into_inner();
    let token = answer
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            auth(Error::Decode {
                status,
                request_id,
                message: "the answer has no accessToken".to_string(),
                snippet: "[withheld: the body may hold a token]".to_string(),
            })
        })?;
    Ok(AccessToken::new(
        token,
        Some(sane_lifetime(answer.expire_in)),
    ))
}

/// `expireIn` as a lifetime: missing means DingTalk's documented 7200 s; zero, negative and
/// absurd values are clamped rather than believed.
fn sane_lifetime(expire_in: Option<i64>) -> Duration {
    match expire_in {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(seconds) => u64::try_from(seconds)
            .map(Duration::from_secs)
            .unwrap_or(Duration::ZERO)
            .clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME),
    }
}

/// A cached token, ready to send.
#[derive(Clone)]
pub(crate) struct CachedToken {
    id: u64,
    pub(crate) header: HeaderValue,
    pub(crate) secret: Secret,
    /// When the cache starts fetching a replacement (expiry minus the refresh margin).
    refresh_at: Option<Instant>,
    /// When it expires; until then it is served while a replacement is fetched.
    valid_until: Option<Instant>,
    /// The same, on the wall clock.
    pub(crate) expires_at: Option<SystemTime>,
}

impl CachedToken {
    fn is_fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }

    fn is_usable(&self, now: Instant) -> bool {
        self.valid_until.is_none_or(|at| now < at)
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("id", &self.id)
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The outcome of one fetch, published to everyone waiting for it.
type Outcome = Option<Result<CachedToken, Error>>;

/// The longest pause of a hand-over (see [`TokenCache::handing_over`]): the calls already sent
/// with the old token get this long to reach DingTalk before the new token replaces it.
const HANDOVER_PAUSE_MAX: Duration = Duration::from_secs(1);
/// How long callers wait, beyond the pause, for a hand-over's new token before they go on with
/// the old one (still valid: a fetch that has not answered may not have replaced it yet).
const HANDOVER_FETCH_WAIT: Duration = Duration::from_secs(1);

/// The first wait after a failed background refresh; it doubles with each further failure.
const REFRESH_BACKOFF_INITIAL: Duration = Duration::from_secs(1);
/// The longest wait between two background refresh attempts.
const REFRESH_BACKOFF_MAX: Duration = Duration::from_secs(60);

impl CacheState {
    /// Whether `token` is the rejected token brought back by a fetch that started before the
    /// rejection.
    fn is_stale(&self, token: &CachedToken) -> bool {
        self.rejected
            .as_ref()
            .is_some_and(|(secret, before)| token.id <= *before && *secret == token.secret)
    }
}

#[derive(Default)]
struct CacheState {
    current: Option<CachedToken>,
    next_id: u64,
    /// The fetch in flight, if any; its outcome arrives here.
    in_flight: Option<watch::Receiver<Outcome>>,
    /// Background refreshes that failed in a row, and when the next one may start.
    refresh_failures: u32,
    next_refresh_at: Option<Instant>,
    /// Until when callers wait for the hand-over in flight instead of sending the old token.
    handover_until: Option<Instant>,
    /// The last token DingTalk rejected, by value, and the last fetch started before the
    /// rejection (by id): such a fetch may bring the rejected token back (a shared store not
    /// yet evicted), and what it brings is not cached if it does. A fetch started after the
    /// rejection may return the same string (DingTalk hands an internal app the same token
    /// within its lifetime): that is DingTalk's answer, and is kept.
    rejected: Option<(Secret, u64)>,
}

/// The token cache: one fetch at a time, refresh beside the callers while the current token is
/// still valid, back-off after failed refreshes, careful eviction.
///
/// Every fetch runs in a task of its own, so a caller that gives up (its deadline passed, its
/// future was dropped) never cancels the fetch the others wait for.
pub(crate) struct TokenCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    provider: Arc<dyn TokenProvider>,
    refresh_margin: Duration,
    fetch_timeout: Duration,
    /// False for a static token: fetching "again" returns the same rejected token.
    replaceable: bool,
    /// Set when a new token invalidates the current one: the pause before a refresh, during
    /// which nobody sends the current token ([`TokenCache::handing_over`]).
    handover: Option<Duration>,
    state: Mutex<CacheState>,
}

impl TokenCache {
    pub(crate) fn new(
        provider: Arc<dyn TokenProvider>,
        refresh_margin: Duration,
        fetch_timeout: Duration,
        replaceable: bool,
    ) -> Self {
        Self {
            inner: Arc::new(CacheInner {
                provider,
                refresh_margin,
                fetch_timeout,
                replaceable,
                handover: None,
                state: Mutex::default(),
            }),
        }
    }

    /// For tokens that a newer one invalidates at once (a third-party app's corp token, as far
    /// as DingTalk documents: "the token is not the latest"). A refresh that runs beside the
    /// callers would have them send the old token after the new one has killed it, and a fleet
    /// sharing the token would see a rejection in every process. Instead, once the token is
    /// due, the cache hands it over: callers stop sending it and wait; the refresh starts
    /// after a pause (a quarter of the refresh margin, at most a second) that lets the calls
    /// already sent with it reach DingTalk, and the members of a fleet, due at the same
    /// moment, stop too. Callers wait at most the pause and a second more: a refresh slower
    /// than that goes on beside them, with the still-valid old token, as for other tokens.
    pub(crate) fn handing_over(mut self) -> Self {
        let pause = (self.inner.refresh_margin / 4).min(HANDOVER_PAUSE_MAX);
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.handover = Some(pause);
        }
        self
    }

    pub(crate) fn provider_name(&self) -> &str {
        self.inner.provider.name()
    }

    /// Whether a rejected token can be replaced by fetching again (not for a static token).
    pub(crate) fn is_replaceable(&self) -> bool {
        self.inner.replaceable
    }

    /// A token to send. A fresh cached token is returned at once. One that is due for refresh
    /// but still valid is returned at once too, while one refresh runs beside (after a failed
    /// refresh, the next waits 1 s, 2 s, 4 s, … up to 60 s). With no valid token, the caller
    /// waits for the fetch in flight, starting one if there is none.
    ///
    /// A token that a newer one invalidates is handed over instead ([`Self::handing_over`]).
    pub(crate) async fn get(&self) -> Result<CachedToken, Error> {
        if let Some(token) = self.get_once().await? {
            return Ok(token);
        }
        // The fetch brought back the token DingTalk had just rejected (it was in flight when
        // the rejection came, or a shared store had not evicted it yet): one fetch more.
        match self.get_once().await? {
            Some(token) => Ok(token),
            None => Err(self.inner.auth_error(Error::transient(
                "the token source handed back the access token DingTalk had just rejected",
            ))),
        }
    }

    /// The cached token if it is fresh (not yet due for refresh): what [`Self::get`] answers
    /// at once, without the future a wait would need. `None` says nothing more: the caller
    /// asks [`Self::get`].
    pub(crate) fn fresh(&self) -> Option<CachedToken> {
        let now = Instant::now();
        let state = self.inner.lock();
        state
            .current
            .as_ref()
            .filter(|token| token.is_usable(now) && token.is_fresh(now))
            .cloned()
    }

    /// A token to send, or `None` when the fetch waited for returned the rejected token.
    async fn get_once(&self) -> Result<Option<CachedToken>, Error> {
        let (mut outcome, handing_over) = {
            let mut state = self.inner.lock();
            let now = Instant::now();
            if let Some(token) = state.current.as_ref().filter(|t| t.is_usable(now)) {
                let token = token.clone();
                if token.is_fresh(now) {
                    return Ok(Some(token));
                }
                let may_start =
                    state.in_flight.is_none() && state.next_refresh_at.is_none_or(|at| now >= at);
                let Some(pause) = self.inner.handover else {
                    if may_start {
                        self.inner.start_fetch(&mut state, Duration::ZERO)?;
                    }
                    return Ok(Some(token));
                };
                let outcome = if may_start {
                    state.handover_until = now.checked_add(pause + HANDOVER_FETCH_WAIT);
                    self.inner.start_fetch(&mut state, pause)?
                } else {
                    match (&state.in_flight, state.handover_until) {
                        (Some(outcome), Some(until)) if now < until => outcome.clone(),
                        // Backing off after a failed refresh, or past the hand-over's wait.
                        _ => return Ok(Some(token)),
                    }
                };
                // Waiting ends when the token expires, if that comes first.
                let until = match (state.handover_until, token.valid_until) {
                    (Some(until), Some(valid)) => Some(until.min(valid)),
                    (until, _) => until,
                };
                (outcome, until.map(|until| (until, token)))
            } else {
                match &state.in_flight {
                    Some(outcome) => (outcome.clone(), None),
                    None => (self.inner.start_fetch(&mut state, Duration::ZERO)?, None),
                }
            }
        };
        let handed_over = match handing_over {
            None => None,
            Some((until, current)) => {
                match tokio::time::timeout_at(until, outcome.wait_for(Option::is_some)).await {
                    Ok(published) => Some(published.map(|o| o.clone())),
                    // The new token is slow to come: the old one is still valid.
                    Err(_) if current.is_usable(Instant::now()) => return Ok(Some(current)),
                    Err(_) => None,
                }
            }
        };
        let published = match handed_over {
            Some(published) => published,
            None => outcome.wait_for(Option::is_some).await.map(|o| o.clone()),
        };
        match published {
            Ok(Some(Ok(token))) => {
                let stale = self.inner.lock().is_stale(&token);
                Ok((!stale).then_some(token))
            }
            Ok(Some(Err(error))) => Err(error),
            // The fetch task ended without a word (its runtime is shutting down): forget it,
            // so that the next call starts a new one.
            Ok(None) | Err(_) => {
                let mut state = self.inner.lock();
                if state
                    .in_flight
                    .as_ref()
                    .is_some_and(|o| o.same_channel(&outcome))
                {
                    state.in_flight = None;
                }
                Err(self.inner.auth_error(Error::Config(
                    "the token fetch was cancelled: its Tokio runtime is shutting down".into(),
                )))
            }
        }
    }

    /// Forgets `rejected`, if the cached token is that same token (compared by value: a
    /// refresh may have fetched the same string again), and tells the provider, once per
    /// rejected token. A different token fetched since (by a concurrent caller that saw the
    /// same rejection) is kept. A fetch in flight that brings the rejected token back does not
    /// cache it.
    pub(crate) fn invalidate(&self, rejected: &CachedToken) {
        let first_word = {
            let mut state = self.inner.lock();
            if state
                .current
                .as_ref()
                .is_some_and(|c| c.secret == rejected.secret)
            {
                state.current = None;
            }
            let first_word = state
                .rejected
                .as_ref()
                .is_none_or(|(secret, _)| *secret != rejected.secret);
            state.rejected = Some((rejected.secret.clone(), state.next_id));
            first_word
        };
        if first_word {
            self.inner.provider.invalidate(&rejected.secret);
        }
    }
}

impl CacheInner {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn auth_error(&self, source: Error) -> Error {
        Error::Auth {
            provider: self.provider.name().to_string().into(),
            source: Box::new(source),
        }
    }

    /// Starts the one fetch, after `pause`, in a task of its own, and returns where its outcome
    /// will appear.
    fn start_fetch(
        self: &Arc<Self>,
        state: &mut CacheState,
        pause: Duration,
    ) -> Result<watch::Receiver<Outcome>, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Config("the client must be used inside a Tokio runtime".to_string())
        })?;
        let (publish, outcome) = watch::channel(None);
        state.in_flight = Some(outcome.clone());
        // A fetch's id is taken when it starts, so that a rejection can tell the fetches that
        // started before it.
        state.next_id += 1;
        let id = state.next_id;
        let cache = Arc::clone(self);
        runtime.spawn(async move {
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            let result = cache.fetch(id).await;
            let result = cache.finish(result);
            // Nobody may be waiting (a background refresh): that is fine.
            let _ = publish.send(Some(result));
        });
        Ok(outcome)
    }

    /// One fetch from the provider, bounded by the fetch timeout.
    async fn fetch(&self, id: u64) -> Result<CachedToken, Error> {
        let span = tracing::debug_span!("dingtalk.token", provider = self.provider.name());
        let fetched = tokio::time::timeout(self.fetch_timeout, self.provider.fetch_token())
            .instrument(span)
            .await;
        let result = match fetched {
            Ok(token) => token.and_then(|token| self.cache_entry(token, id)),
            Err(_) => Err(self.auth_error(Error::Timeout {
                kind: crate::TimeoutKind::TokenFetch,
                limit: self.fetch_timeout,
                last_error: None,
            })),
        };
        crate::telemetry::token_fetch(result.is_ok());
        result
    }

    /// Records a fetch's outcome. A failure while the current token is still valid hands out
    /// that token and schedules the next refresh attempt after a back-off.
    fn finish(&self, result: Result<CachedToken, Error>) -> Result<CachedToken, Error> {
        let mut state = self.lock();
        state.in_flight = None;
        state.handover_until = None;
        match result {
            Ok(cached) => {
                tracing::debug!(
                    provider = self.provider.name(),
                    expires_in_s = cached
                        .expires_at
                        .and_then(|at| at.duration_since(SystemTime::now()).ok())
                        .map(|d| d.as_secs()),
                    "fetched a new access token"
                );
                state.refresh_failures = 0;
                state.next_refresh_at = None;
                // The token DingTalk rejected, back from a fetch that started before the
                // rejection: never cached again.
                if !state.is_stale(&cached) {
                    state.current = Some(cached.clone());
                }
                Ok(cached)
            }
            Err(error) => {
                state.refresh_failures = state.refresh_failures.saturating_add(1);
                let backoff = refresh_backoff(state.refresh_failures);
                state.next_refresh_at = Instant::now().checked_add(backoff);
                let usable = state
                    .current
                    .as_ref()
                    .filter(|t| t.is_usable(Instant::now()))
                    .cloned();
                match usable {
                    Some(current) => {
                        tracing::warn!(
                            provider = self.provider.name(),
                            error = %error,
                            retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                            "token refresh failed; using the current token until it expires"
                        );
                        Ok(current)
                    }
                    None => {
                        tracing::warn!(provider = self.provider.name(), error = %error, "token fetch failed");
                        Err(error)
                    }
                }
            }
        }
    }

    fn cache_entry(&self, token: AccessToken, id: u64) -> Result<CachedToken, Error> {
        let mut header = HeaderValue::from_str(token.secret().expose()).map_err(|_| {
            self.auth_error(Error::InvalidInput(
                "the access token contains characters an HTTP header cannot carry".to_string(),
            ))
        })?;
        header.set_sensitive(true);
        let now = Instant::now();
        let (refresh_at, valid_until, expires_at) = match token.expires_in() {
            None => (None, None, None),
            Some(lifetime) => {
                // Any provider's lifetime, not only DingTalk's expireIn, is kept within bounds.
                let lifetime = lifetime.clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME);
                // Refresh a little early, but never spend more than half the lifetime waiting;
                // or when the source says.
                let margin = self.refresh_margin.min(lifetime / 2);
                let refresh_in = token
                    .refresh_in
                    .map_or(lifetime - margin, |refresh_in| refresh_in.min(lifetime));
                (
                    now.checked_add(refresh_in),
                    now.checked_add(lifetime),
                    SystemTime::now().checked_add(lifetime),
                )
            }
        };
        Ok(CachedToken {
            id,
            header,
            secret: token.secret().clone(),
            refresh_at,
            valid_until,
            expires_at,
        })
    }
}

/// The wait before background refresh attempt `failures + 1`: 1 s, 2 s, 4 s, … up to 60 s,
/// stretched by up to half again at random so that a fleet's clients do not retry in step.
fn refresh_backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let base = REFRESH_BACKOFF_INITIAL
        .saturating_mul(1 << doublings)
        .min(REFRESH_BACKOFF_MAX);
    base.mul_f64(1.0 + fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// What a scripted provider's fetch number `n` (from 1) does.
    #[derive(Clone, Copy)]
    enum Step {
        /// Answers a token of this lifetime at once.
        Token(Duration),
        /// Answers a token of this lifetime after this long.
        SlowToken(Duration, Duration),
        /// Fails at once, transiently.
        Fail,
        /// Never answers.
        Hang,
        /// Answers this token, of this lifetime, after this long.
        Named(&'static str, Duration, Duration),
    }

    /// A provider that plays `steps` in order, repeating the last one; it counts its fetches.
    struct Scripted {
        steps: Vec<Step>,
        fetches: Arc<AtomicU32>,
    }

    impl TokenProvider for Scripted {
        fn fetch_token(&self) -> TokenFuture<'_> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) as usize;
            let step = self.steps[n.min(self.steps.len() - 1)];
            Box::pin(async move {
                match step {
                    Step::Token(lifetime) => Ok(AccessToken::new(format!("t{n}"), Some(lifetime))),
                    Step::SlowToken(after, lifetime) => {
                        tokio::time::sleep(after).await;
                        Ok(AccessToken::new(format!("t{n}"), Some(lifetime)))
                    }
                    Step::Fail => Err(Error::transient("the vault is restarting")),
                    Step::Hang => std::future::pending().await,
                    Step::Named(token, after, lifetime) => {
                        tokio::time::sleep(after).await;
                        Ok(AccessToken::new(token, Some(lifetime)))
                    }
                }
            })
        }
    }

    fn cache(steps: Vec<Step>, margin: Duration) -> (TokenCache, Arc<AtomicU32>) {
        let fetches = Arc::new(AtomicU32::new(0));
        let provider = Scripted {
            steps,
            fetches: Arc::clone(&fetches),
        };
        let cache = TokenCache::new(Arc::new(provider), margin, Duration::from_secs(10), true);
        (cache, fetches)
    }

    const MINUTE: Duration = Duration::from_secs(60);

    const TEN_SECONDS: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_rejected_token_is_evicted_by_value_when_a_refresh_fetched_the_same_string() {
        // Lifetime 10 s, margin 5 s: a refresh at 5 s brings the same string back.
        let (cache, fetches) = cache(
            vec![
                Step::Named("a", Duration::ZERO, TEN_SECONDS),
                Step::Named("a", Duration::ZERO, TEN_SECONDS),
                Step::Named("b", Duration::ZERO, TEN_SECONDS),
            ],
            Duration::from_secs(5),
        );
        let first = cache.get().await.expect("token");
        tokio::time::advance(Duration::from_secs(6)).await;
        cache
            .get()
            .await
            .expect("the current token, refresh started");
        tokio::task::yield_now().await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "refreshed");
        cache.invalidate(&first);
        let next = cache.get().await.expect("token");
        assert_eq!(next.secret.expose(), "b");
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_in_flight_when_the_token_is_rejected_does_not_bring_it_back() {
        // The refresh started at 6 s takes 1 s and returns the same token (a store that had
        // not evicted it yet); DingTalk rejects the token meanwhile.
        let (cache, fetches) = cache(
            vec![
                Step::Named("a", Duration::ZERO, TEN_SECONDS),
                Step::Named("a", Duration::from_secs(1), TEN_SECONDS),
                Step::Named("b", Duration::ZERO, TEN_SECONDS),
            ],
            Duration::from_secs(5),
        );
        let first = cache.get().await.expect("token");
        tokio::time::advance(Duration::from_secs(6)).await;
        cache
            .get()
            .await
            .expect("the current token, refresh started");
        cache.invalidate(&first);
        let next = cache.get().await.expect("token");
        assert_eq!(next.secret.expose(), "b", "the rejected token came back");
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
        // And it stays out.
        assert_eq!(cache.get().await.expect("token").secret.expose(), "b");
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_handed_over_is_not_sent_while_its_replacement_is_fetched() {
        // Lifetime 10 s, margin 2 s: the pause is 0.5 s; the replacement takes 0.1 s.
        let (cache, fetches) = cache(
            vec![
                Step::Token(Duration::from_secs(10)),
                Step::SlowToken(Duration::from_millis(100), Duration::from_secs(10)),
            ],
            Duration::from_secs(2),
        );
        let cache = Arc::new(cache.handing_over());
        let first = cache.get().await.expect("token");
        tokio::time::advance(Duration::from_millis(8500)).await;
        let started = Instant::now();
        let callers: Vec<_> = (0..10)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "fetched before the pause ended"
        );
        for caller in callers {
            let token = caller.await.expect("ran").expect("token");
            assert_ne!(token.id, first.id, "the old token was handed out");
        }
        assert_eq!(started.elapsed(), Duration::from_millis(600));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hand_over_whose_fetch_hangs_goes_on_with_the_old_token_after_a_bounded_wait() {
        // Lifetime 60 s, margin 8 s: the pause is 1 s (the longest).
        let (cache, fetches) = cache(
            vec![Step::Token(MINUTE), Step::Hang],
            Duration::from_secs(8),
        );
        let cache = cache.handing_over();
        let first = cache.get().await.expect("token");
        tokio::time::advance(Duration::from_millis(52_500)).await;
        let started = Instant::now();
        let token = cache.get().await.expect("token");
        assert_eq!(token.id, first.id);
        assert_eq!(started.elapsed(), HANDOVER_PAUSE_MAX + HANDOVER_FETCH_WAIT);
        // The refresh goes on beside the callers; nobody waits for it again.
        let started = Instant::now();
        assert_eq!(cache.get().await.expect("token").id, first.id);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_sources_refresh_moment_overrides_the_margin() {
        let (cache, _) = cache(vec![Step::Fail], Duration::from_secs(300));
        let now = Instant::now();
        let token = AccessToken::new("t", Some(Duration::from_secs(400)))
            .refreshed_in(Duration::from_millis(150));
        let entry = cache.inner.cache_entry(token, 1).expect("entry");
        let refresh_in = entry.refresh_at.expect("a refresh moment") - now;
        assert!(refresh_in >= Duration::from_millis(150), "{refresh_in:?}");
        assert!(refresh_in < Duration::from_secs(1), "{refresh_in:?}");
        let valid_for = entry.valid_until.expect("an expiry") - now;
        assert!(valid_for >= Duration::from_secs(399), "{valid_for:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_provider_that_never_answers_times_out_and_the_next_call_fetches_anew() {
        let (cache, fetches) = cache(vec![Step::Hang], MINUTE);
        let started = Instant::now();
        let error = cache.get().await.expect_err("timed out");
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        let Error::Auth { source, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(matches!(
            **source,
            Error::Timeout {
                kind: crate::TimeoutKind::TokenFetch,
                ..
            }
        ));
        assert!(error.is_retryable());
        cache.get().await.expect_err("timed out again");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn inside_the_margin_no_caller_waits_and_one_refresh_runs_beside() {
        // Lifetime 10 min, margin 5 min; the refresh takes 30 s.
        let (cache, fetches) = cache(
            vec![
                Step::Token(10 * MINUTE),
                Step::SlowToken(Duration::from_secs(30), 10 * MINUTE),
            ],
            5 * MINUTE,
        );
        let first = cache.get().await.expect("token");
        tokio::time::advance(6 * MINUTE).await;
        for _ in 0..100 {
            let started = Instant::now();
            let token = cache.get().await.expect("token");
            assert_eq!(started.elapsed(), Duration::ZERO, "a caller waited");
            assert_eq!(token.id, first.id);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "one refresh in flight");
        tokio::time::advance(Duration::from_secs(30)).await;
        tokio::task::yield_now().await;
        let refreshed = cache.get().await.expect("token");
        assert_ne!(refreshed.id, first.id);
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_refresh_backs_off_instead_of_storming_the_endpoint() {
        // Lifetime 10 min, margin 5 min: five minutes of refreshing against a failing source,
        // with a caller every 100 ms (3,000 calls).
        let (cache, fetches) = cache(vec![Step::Token(10 * MINUTE), Step::Fail], 5 * MINUTE);
        let first = cache.get().await.expect("token");
        tokio::time::advance(5 * MINUTE).await;
        for _ in 0..2_999 {
            let token = cache.get().await.expect("the current token is still valid");
            assert_eq!(token.id, first.id);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        // Back-off 1, 2, 4, 8, 16, 32, 60, 60, 60 s (each up to 1.5 times that) after each
        // failure: refresh attempts start at 0, 1, 3, 7, 15, 31, 63, 123, 183 and 243 s at
        // the earliest, so at most 10 fit in 300 s, against 3,000 without the back-off.
        let refreshes = fetches.load(Ordering::SeqCst) - 1;
        assert!(
            (8..=10).contains(&refreshes),
            "{refreshes} refresh attempts"
        );
        // Once the token really expires, callers wait for a fetch and get its error.
        tokio::time::advance(MINUTE).await;
        let error = cache
            .get()
            .await
            .expect_err("expired, and the source fails");
        assert!(error.is_retryable(), "{error:?}");
    }

    #[test]
    fn missing_zero_negative_and_absurd_lifetimes_are_clamped() {
        assert_eq!(sane_lifetime(None), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(0)), MIN_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(-5)), MIN_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(7200)), Duration::from_secs(7200));
        assert_eq!(sane_lifetime(Some(i64::MAX)), MAX_TOKEN_LIFETIME);
    }

    #[test]
    fn refresh_backoff_doubles_from_one_second_and_stops_at_a_minute() {
        for (failures, base) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (40, 60)] {
            let wait = refresh_backoff(failures);
            let base = Duration::from_secs(base);
            assert!(
                wait >= base && wait <= base.mul_f64(1.5),
                "{failures}: {wait:?}"
            );
        }
    }

    #[test]
    fn an_absolute_expiry_counts_down_and_a_lifetime_does_not() {
        let at = SystemTime::now() + Duration::from_secs(100);
        let left = AccessToken::with_expiry_time("t", at)
            .expires_in()
            .expect("known");
        assert!(left <= Duration::from_secs(100) && left > Duration::from_secs(90));
        let past = AccessToken::with_expiry_time("t", SystemTime::UNIX_EPOCH);
        assert_eq!(past.expires_in(), Some(Duration::ZERO));
        let lifetime = AccessToken::new("t", Some(Duration::from_secs(7)));
        assert_eq!(lifetime.expires_in(), Some(Duration::from_secs(7)));
        assert_eq!(AccessToken::new("t", None).expires_in(), None);
    }
}
