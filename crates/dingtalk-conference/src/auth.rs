//! Access tokens: where they come from ([`TokenProvider`]) and how they are kept (the cache).
//!
//! Tokens are fetched lazily, cached until shortly before they expire, fetched by one caller at
//! a time however many are waiting, and evicted only if the rejected token is still the cached
//! one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use dingtalk_conference_api::types::{
    AccessTokenResponse, GetAccessTokenRequest, GetCorpAccessTokenRequest,
};
use dingtalk_conference_api::{RequestContext, ResponseValue};
use reqwest::header::HeaderValue;
use tracing::Instrument as _;

use crate::client::Endpoint;
use crate::{Error, Secret};

/// The lifetime DingTalk documents for its tokens, assumed when an answer has no `expireIn`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// The shortest lifetime believed: a zero or negative `expireIn` is not taken literally, since
/// caching nothing would send every call to the token endpoint.
const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);
/// The longest lifetime believed; an absurd `expireIn` is capped here.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// An access token and, if known, how long it stays valid from when it was issued.
#[derive(Clone, Debug)]
pub struct AccessToken {
    token: Secret,
    expires_in: Option<Duration>,
}

impl AccessToken {
    /// A token valid for `expires_in` from now, or indefinitely (until DingTalk rejects it) if
    /// `None`.
    pub fn new(token: impl Into<Secret>, expires_in: Option<Duration>) -> Self {
        Self {
            token: token.into(),
            expires_in,
        }
    }

    /// The token itself.
    pub fn secret(&self) -> &Secret {
        &self.token
    }

    /// How long the token stays valid, if known: from when it was issued, for a token a
    /// [`TokenProvider`] returns; from the moment of the call, for one that
    /// [`Client::access_token`](crate::Client::access_token) returns.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// A source of access tokens, for when the built-in credentials do not fit (a token service
/// of your own, a vault, a cross-process cache).
///
/// The client calls it only when it needs a new token, and never concurrently.
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

    /// A short name for traces and errors (never a secret).
    fn name(&self) -> &str {
        "custom token provider"
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
    /// When DingTalk said it expires; until then it may stand in if a refresh fails.
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

#[derive(Default)]
struct CacheState {
    current: Option<CachedToken>,
    /// How many fetches have completed, successful or not.
    completed_fetches: u64,
    /// The error of the latest fetch, if it failed; handed to everyone who waited for it.
    last_failure: Option<Error>,
    next_id: u64,
}

impl CacheState {
    fn fresh(&self) -> Option<CachedToken> {
        self.current
            .as_ref()
            .filter(|t| t.is_fresh(Instant::now()))
            .cloned()
    }

    /// The current token if it has not expired yet, even if it is due for refresh.
    fn usable(&self) -> Option<CachedToken> {
        self.current
            .as_ref()
            .filter(|t| t.is_usable(Instant::now()))
            .cloned()
    }
}

/// The token cache: single-flight fetching, refresh before expiry, careful eviction.
pub(crate) struct TokenCache {
    provider: Arc<dyn TokenProvider>,
    refresh_margin: Duration,
    state: Mutex<CacheState>,
    /// Held by the one caller that is fetching; the others wait on it, then find the result.
    fetching: tokio::sync::Mutex<()>,
}

impl TokenCache {
    pub(crate) fn new(provider: Arc<dyn TokenProvider>, refresh_margin: Duration) -> Self {
        Self {
            provider,
            refresh_margin,
            state: Mutex::default(),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn provider_name(&self) -> &str {
        self.provider.name()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A token to send: the cached one while fresh, else one fetched now (by this caller or,
    /// if another caller is already fetching, by that one). If a refresh fails while the
    /// current token has not expired yet, the current token is used meanwhile.
    pub(crate) async fn get(&self) -> Result<CachedToken, Error> {
        let seen = {
            let state = self.lock();
            if let Some(token) = state.fresh() {
                return Ok(token);
            }
            state.completed_fetches
        };

        let _fetching = self.fetching.lock().await;
        {
            let state = self.lock();
            if let Some(token) = state.fresh() {
                return Ok(token);
            }
            // A fetch finished while we waited and failed: share its outcome rather than
            // hammer a failing token endpoint once per waiting caller.
            if state.completed_fetches > seen
                && let Some(error) = &state.last_failure
            {
                return state.usable().ok_or_else(|| error.clone());
            }
        }

        let span = tracing::debug_span!("dingtalk.token", provider = self.provider.name());
        let result = self.provider.fetch_token().instrument(span).await;
        let mut state = self.lock();
        state.completed_fetches += 1;
        state.next_id += 1;
        match result.and_then(|token| self.cache_entry(token, state.next_id)) {
            Ok(cached) => {
                tracing::debug!(
                    provider = self.provider.name(),
                    expires_in_s = cached
                        .expires_at
                        .and_then(|at| at.duration_since(SystemTime::now()).ok())
                        .map(|d| d.as_secs()),
                    "fetched a new access token"
                );
                state.current = Some(cached.clone());
                state.last_failure = None;
                Ok(cached)
            }
            Err(error) => {
                state.last_failure = Some(error.clone());
                match state.usable() {
                    Some(current) => {
                        tracing::warn!(
                            provider = self.provider.name(),
                            error = %error,
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
        let mut header =
            HeaderValue::from_str(token.secret().expose()).map_err(|_| Error::Auth {
                provider: self.provider.name().to_string().into(),
                source: Box::new(Error::InvalidInput(
                    "the access token contains characters an HTTP header cannot carry".to_string(),
                )),
            })?;
        header.set_sensitive(true);
        let now = Instant::now();
        let (refresh_at, valid_until, expires_at) = match token.expires_in() {
            None => (None, None, None),
            Some(lifetime) => {
                // Any provider's lifetime, not only DingTalk's expireIn, is kept within bounds.
                let lifetime = lifetime.clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME);
                // Refresh a little early, but never spend more than half the lifetime waiting.
                let margin = self.refresh_margin.min(lifetime / 2);
                (
                    now.checked_add(lifetime - margin),
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

    /// Forgets `rejected`, if it is still the cached token. A token fetched since (by a
    /// concurrent caller that saw the same rejection) is kept.
    pub(crate) fn invalidate(&self, rejected: &CachedToken) {
        let mut state = self.lock();
        if state.current.as_ref().is_some_and(|c| c.id == rejected.id) {
            state.current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_zero_negative_and_absurd_lifetimes_are_clamped() {
        assert_eq!(sane_lifetime(None), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(0)), MIN_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(-5)), MIN_TOKEN_LIFETIME);
        assert_eq!(sane_lifetime(Some(7200)), Duration::from_secs(7200));
        assert_eq!(sane_lifetime(Some(i64::MAX)), MAX_TOKEN_LIFETIME);
    }
}
