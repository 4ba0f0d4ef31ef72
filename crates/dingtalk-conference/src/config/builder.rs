//! [`ClientBuilder`]: credentials, edition or base URL, limits and the HTTP client, checked
//! once when the [`Client`] is built.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::Url;

use crate::auth::store::{StoredTokens, TokenStore};
use crate::auth::{AppTokenProvider, StaticToken, SuiteTokenProvider, TokenCache, TokenProvider};
use crate::client::Client;
use crate::endpoint::Endpoint;
use crate::pipeline::shared::DEFAULT_ANSWER_CACHE_ENTRIES;
use crate::{Error, RateLimit, RetryPolicy, Secret};

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default timeout for a whole request, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline of a whole call: every attempt, retry, back-off and `Retry-After` wait,
/// the token replay and any token fetch together. Three attempts of a normal call take well
/// under a second; the deadline is what bounds a call when DingTalk or the network misbehaves.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default refresh margin: a token is replaced this long before it expires.
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str =
    concat!("dingtalk-conference-rust/", env!("CARGO_PKG_VERSION"));

/// Which DingTalk edition to call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Edition {
    /// The international edition, `https://api.dingtalk.io` (the endpoint documentation's host).
    #[default]
    International,
    /// The China edition, `https://api.dingtalk.com`.
    China,
}

impl Edition {
    /// The edition's API base URL: the spec's `servers` entry for it (`x-edition`).
    pub fn base_url(self) -> &'static str {
        use dingtalk_conference_api::spec_constants::{CHINA_BASE_URL, INTERNATIONAL_BASE_URL};
        match self {
            Self::International => INTERNATIONAL_BASE_URL,
            Self::China => CHINA_BASE_URL,
        }
    }
}

impl std::str::FromStr for Edition {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "international" | "intl" | "io" => Ok(Self::International),
            "china" | "cn" | "com" => Ok(Self::China),
            other => Err(Error::Config(format!(
                "unknown edition {other:?}: use \"international\" (api.dingtalk.io) or \"china\" (api.dingtalk.com)"
            ))),
        }
    }
}

/// The credentials a client authenticates with.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A fixed access token.
    StaticToken(Secret),
    /// An internal app's `appKey`/`appSecret`.
    App {
        /// The app key.
        app_key: String,
        /// The app secret.
        app_secret: Secret,
    },
    /// A third-party app's credentials for one authorised organisation.
    Suite {
        /// The suite key.
        suite_key: String,
        /// The suite secret.
        suite_secret: Secret,
        /// corpId of the organisation that authorised the app.
        auth_corp_id: String,
        /// The latest suite ticket (replace it later with [`Client::set_suite_ticket`]).
        suite_ticket: Secret,
    },
    /// Your own token source.
    Provider(Arc<dyn TokenProvider>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StaticToken(_) => f.write_str("StaticToken([redacted])"),
            Self::App { app_key, .. } => f
                .debug_struct("App")
                .field("app_key", app_key)
                .field("app_secret", &"[redacted]")
                .finish(),
            Self::Suite {
                suite_key,
                auth_corp_id,
                ..
            } => f
                .debug_struct("Suite")
                .field("suite_key", suite_key)
                .field("suite_secret", &"[redacted]")
                .field("auth_corp_id", auth_corp_id)
                .field("suite_ticket", &"[redacted]")
                .finish(),
            Self::Provider(p) => write!(f, "Provider({:?})", p.name()),
        }
    }
}

/// Builds a [`Client`]. Start with [`Client::builder`].
///
/// Its `Debug` output shows no secret, and no user name, password, query or fragment of the
/// base URL.
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    edition: Edition,
    base_url: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    call_timeout: Duration,
    token_fetch_timeout: Option<Duration>,
    retry: RetryPolicy,
    user_agent: String,
    http_client: Option<reqwest::Client>,
    allow_insecure_http: bool,
    token_refresh_margin: Duration,
    max_response_bytes: usize,
    rate_limit: RateLimit,
    max_age: Option<Duration>,
    answer_cache_entries: usize,
    coalesce_reads: bool,
    token_store: Option<Arc<dyn TokenStore>>,
    monthly_budget: Option<crate::MonthlyBudget>,
    #[cfg(feature = "redis")]
    redis: Option<RedisSetting>,
    #[cfg(feature = "redis")]
    rate_limit_without_redis: Option<RateLimit>,
    #[cfg(feature = "events")]
    event_options: crate::events::stream::StreamOptions,
}

/// Redis as given to the builder: a URL, checked at build, or a store.
#[cfg(feature = "redis")]
#[derive(Clone)]
enum RedisSetting {
    Url {
        url: String,
        /// The nodes of a Redis Cluster, instead of `url`.
        cluster: Option<Vec<String>>,
        prefix: Option<String>,
        timeout: Option<Duration>,
    },
    Store(crate::RedisStore),
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            edition: Edition::default(),
            base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            token_fetch_timeout: None,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            http_client: None,
            allow_insecure_http: false,
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            max_response_bytes: dingtalk_conference_api::hooks::DEFAULT_MAX_RESPONSE_BYTES,
            rate_limit: RateLimit::default(),
            max_age: None,
            answer_cache_entries: DEFAULT_ANSWER_CACHE_ENTRIES,
            coalesce_reads: true,
            token_store: None,
            monthly_budget: None,
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            rate_limit_without_redis: None,
            #[cfg(feature = "events")]
            event_options: crate::events::stream::StreamOptions::default(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ClientBuilder");
        let f = f
            .field("credentials", &self.credentials)
            .field("edition", &self.edition)
            .field("base_url", &self.base_url.as_deref().map(redacted_url))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("call_timeout", &self.call_timeout)
            .field("token_fetch_timeout", &self.token_fetch_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "[your reqwest::Client]"),
            )
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("max_age", &self.max_age)
            .field("answer_cache_entries", &self.answer_cache_entries)
            .field("coalesce_reads", &self.coalesce_reads)
            .field("token_store", &self.token_store.as_ref().map(|s| s.name()))
            .field("monthly_budget", &self.monthly_budget);
        #[cfg(feature = "redis")]
        let f = f.field(
            "redis",
            &self.redis.as_ref().map(|redis| match redis {
                RedisSetting::Url {
                    cluster: Some(urls),
                    prefix,
                    ..
                } => format!(
                    "cluster {} (prefix {prefix:?})",
                    urls.iter()
                        .map(|url| redacted_url(url))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                RedisSetting::Url { url, prefix, .. } => {
                    format!("{} (prefix {prefix:?})", redacted_url(url))
                }
                RedisSetting::Store(store) => format!("{store:?}"),
            }),
        );
        #[cfg(feature = "redis")]
        let f = f.field("rate_limit_without_redis", &self.rate_limit_without_redis);
        #[cfg(feature = "events")]
        let f = f.field("event_options", &self.event_options);
        f.finish()
    }
}

/// The tenant's part of shared keys: the app key, the suite key and organisation, or what a
/// custom provider names as its tenant ([`TokenProvider::cache_key`]); never a secret. `None`
/// for a custom provider that names none, whose tokens must not be shared.
fn tenant_key_part(credentials: Option<&Credentials>) -> Result<Option<String>, Error> {
    Ok(match credentials {
        Some(Credentials::App { app_key, .. }) => Some(app_key.clone()),
        Some(Credentials::Suite {
            suite_key,
            auth_corp_id,
            ..
        }) => Some(format!("{suite_key}:{auth_corp_id}")),
        Some(Credentials::Provider(provider)) => match provider.cache_key() {
            None => None,
            Some(key) if key.trim().is_empty() || key.chars().any(char::is_control) => {
                return Err(Error::Config(format!(
                    "the token provider {:?} gives a blank cache key, or one with control \
                     characters; TokenProvider::cache_key must name its tenant",
                    provider.name()
                )));
            }
            Some(key) => Some(format!("provider:{key}")),
        },
        // A fixed token is never stored; its budget is kept under one name for all.
        Some(Credentials::StaticToken(_)) | None => Some("static".to_string()),
    })
}

/// A URL as it may be shown: user name, password, query and fragment replaced by
/// `[redacted]`, since any of them may hold a secret.
fn redacted_url(raw: &str) -> String {
    let Ok(url) = Url::parse(raw.trim()) else {
        return "[not a URL]".to_string();
    };
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str("[redacted]@");
    }
    shown.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?[redacted]");
    }
    if url.fragment().is_some() {
        shown.push_str("#[redacted]");
    }
    shown
}

impl ClientBuilder {
    /// Authenticates as an internal app (`appKey`/`appSecret`).
    pub fn app_credentials(
        mut self,
        app_key: impl Into<String>,
        app_secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::App {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
        });
        self
    }

    /// Authenticates as a third-party app acting in the organisation `auth_corp_id`. DingTalk
    /// pushes a new suite ticket about every 5 hours: hand it over with
    /// [`Client::set_suite_ticket`].
    pub fn suite_credentials(
        mut self,
        suite_key: impl Into<String>,
        suite_secret: impl Into<Secret>,
        auth_corp_id: impl Into<String>,
        suite_ticket: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::Suite {
            suite_key: suite_key.into(),
            suite_secret: suite_secret.into(),
            auth_corp_id: auth_corp_id.into(),
            suite_ticket: suite_ticket.into(),
        });
        self
    }

    /// Uses a fixed access token.
    pub fn static_token(mut self, token: impl Into<Secret>) -> Self {
        self.credentials = Some(Credentials::StaticToken(token.into()));
        self
    }

    /// Gets tokens from your own [`TokenProvider`].
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Some(Credentials::Provider(Arc::new(provider)));
        self
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Calls this edition (default: international, `api.dingtalk.io`).
    pub fn edition(mut self, edition: Edition) -> Self {
        self.edition = edition;
        self
    }

    /// Calls this base URL instead of an edition's (a proxy, or the fake server). It must be
    /// `https://`, except for loopback hosts or with [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Allows a plain `http://` base URL on a non-loopback host. Tokens then cross the network
    /// in clear text: only for a trusted network.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Connect timeout (default 5 s). Ignored with [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of each request, body included (default 10 s); applies to every attempt. Must
    /// not be zero.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Deadline of each whole call (default [`DEFAULT_CALL_TIMEOUT`], 30 s): every attempt,
    /// retry, back-off and `Retry-After` wait, the token replay and any token fetch together.
    /// When it passes, the call fails with [`Error::Timeout`]; a retry whose wait would end
    /// past it is not made, and the last failure is returned instead. Override it for one
    /// call with [`Client::with_options`]. Must not be zero.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How long one token fetch may take (default: the request [`timeout`](Self::timeout)).
    /// It bounds your own [`TokenProvider`] too: a fetch that runs out fails the calls
    /// waiting for it with [`Error::Auth`] holding an [`Error::Timeout`], and the next call
    /// starts a new fetch. Must not be zero.
    pub fn token_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.token_fetch_timeout = Some(timeout);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]; [`RetryPolicy::none`] turns
    /// retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header (default `dingtalk-conference-rust/<version>`). Ignored with
    /// [`http_client`](Self::http_client).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Uses your own `reqwest::Client` (connection pool, proxy, TLS roots). Its redirect policy
    /// must not follow redirects to other hosts, or the access token would go with them: build
    /// it with
    /// `redirect(dingtalk_conference::dingtalk_conference_api::hooks::same_origin_redirects())`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How long before its expiry a token is replaced (default 5 min; at most half its lifetime).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// The largest response body read (default 1 MiB; must not be zero). A larger success
    /// body fails with [`Error::BodyTooLarge`]; a larger error body is not read, and the
    /// error is classified by its status alone.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Reads credentials and host from `DINGTALK_*` environment variables (see
    /// [`Client::from_env`]); other settings stay as they are.
    pub fn from_env(self) -> Result<Self, Error> {
        crate::env::apply(self, |name| std::env::var(name).ok())
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.clone().ok_or_else(|| {
            Error::Config(
                "no credentials: call app_credentials(), suite_credentials(), static_token() \
                 or token_provider() on the builder, or use Client::from_env()"
                    .to_string(),
            )
        })?;
        check_credentials(&credentials)?;
        self.check_limits()?;
        let (base_url, loopback) = self.checked_base_url()?;
        #[cfg(feature = "events")]
        let stream = self.stream_setup(&credentials, &base_url)?;
        // A client built here times each request out itself; one brought by the caller may
        // not, so each request then carries the timeout.
        let (http, timeout_built_in) = match &self.http_client {
            Some(client) => (client.clone(), false),
            None => (self.build_http_client(loopback)?, true),
        };
        let endpoint = Endpoint::new(
            base_url,
            http,
            self.timeout,
            timeout_built_in,
            self.max_response_bytes,
        );

        let mut suite = None;
        let replaceable = !matches!(credentials, Credentials::StaticToken(_));
        // A new corp token may invalidate the one before it: hand it over, never refresh it
        // beside the callers.
        let hands_over = matches!(credentials, Credentials::Suite { .. });
        let provider: Arc<dyn TokenProvider> = match credentials {
            Credentials::StaticToken(token) => Arc::new(StaticToken(token)),
            Credentials::App {
                app_key,
                app_secret,
            } => Arc::new(AppTokenProvider {
                endpoint: endpoint.clone(),
                app_key,
                app_secret,
            }),
            Credentials::Suite {
                suite_key,
                suite_secret,
                auth_corp_id,
                suite_ticket,
            } => {
                let provider = Arc::new(SuiteTokenProvider {
                    endpoint: endpoint.clone(),
                    suite_key,
                    suite_secret,
                    auth_corp_id,
                    suite_ticket: RwLock::new(suite_ticket),
                });
                suite = Some(Arc::clone(&provider));
                provider
            }
            Credentials::Provider(provider) => provider,
        };

        // Keys name the edition (or the base URL's host) and the app, never a secret.
        let scope = self.key_scope();
        let tenant = tenant_key_part(self.credentials.as_ref())?;
        #[cfg(feature = "redis")]
        let redis = self.checked_redis()?;
        #[cfg(feature = "redis")]
        let store: Option<Arc<dyn TokenStore>> = match (&self.token_store, &redis) {
            (Some(store), _) => Some(Arc::clone(store)),
            (None, Some(redis)) => Some(Arc::new(redis.clone())),
            (None, None) => None,
        };
        #[cfg(not(feature = "redis"))]
        let store = self.token_store.clone();
        // Two organisations' providers must never share a key, and so a token: a provider
        // that does not name its tenant is refused with a shared store.
        let app = match (&tenant, &store) {
            (Some(tenant), _) => tenant.clone(),
            (None, None) => String::new(),
            (None, Some(store)) => {
                return Err(Error::Config(format!(
                    "the token provider {:?} is shared through the token store {:?}, but does \
                     not say which tenant its tokens belong to: implement \
                     TokenProvider::cache_key (the organisation and app, never a secret), so \
                     that two organisations' clients never share a token",
                    provider.name(),
                    store.name()
                )));
            }
        };
        let provider: Arc<dyn TokenProvider> = match (store, replaceable) {
            (Some(store), true) => Arc::new(StoredTokens::new(
                store,
                format!("token:{scope}:{app}"),
                provider,
                self.token_refresh_margin,
                self.token_fetch_timeout.unwrap_or(self.timeout),
            )),
            // A fixed token has nothing to share or refresh.
            _ => provider,
        };
        let monthly = self.monthly_budget.clone().map(|budget| {
            crate::limits::month::MonthlyCounter::new(
                budget,
                #[cfg(feature = "redis")]
                redis.clone(),
            )
        });
        // events: the fleet's shared events, under the same app name as its other keys.
        #[cfg(all(feature = "events", feature = "redis"))]
        let event_fleet = redis.clone().map(|store| (store, format!("{scope}:{app}")));
        #[cfg(feature = "redis")]
        let shared_rate = redis.map(|store| {
            Box::new(crate::fleet::RedisRate::new(
                store,
                &format!("{scope}:{app}"),
            )) as Box<dyn crate::limits::SharedRate>
        });
        #[cfg(not(feature = "redis"))]
        let shared_rate = None;
        #[cfg(feature = "redis")]
        let rate_limit_alone = self.rate_limit_without_redis.clone();
        #[cfg(not(feature = "redis"))]
        let rate_limit_alone = None;

        let tokens = TokenCache::new(
            provider,
            self.token_refresh_margin,
            self.token_fetch_timeout.unwrap_or(self.timeout),
            replaceable,
        );
        let tokens = if hands_over {
            tokens.handing_over()
        } else {
            tokens
        };
        Ok(Client::new(
            endpoint,
            tokens,
            self.retry,
            self.call_timeout,
            suite,
            crate::client::Economy {
                rate_limit: self.rate_limit,
                answer_cache_entries: self.answer_cache_entries,
                max_age: self.max_age,
                coalesce_reads: self.coalesce_reads,
                shared_rate,
                rate_limit_alone,
                monthly,
                #[cfg(all(feature = "events", feature = "redis"))]
                event_fleet,
                #[cfg(feature = "events")]
                stream,
            },
        ))
    }

    /// The part of shared keys that names where calls go: the edition, or the base URL's host
    /// and port (never its user name, password or query).
    fn key_scope(&self) -> String {
        let Some(base_url) = &self.base_url else {
            return match self.edition {
                Edition::International => "international".to_string(),
                Edition::China => "china".to_string(),
            };
        };
        match Url::parse(base_url.trim()) {
            Ok(url) => match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_string(),
            },
            Err(_) => "base-url".to_string(),
        }
    }

    #[cfg(feature = "redis")]
    fn checked_redis(&self) -> Result<Option<crate::RedisStore>, Error> {
        Ok(match &self.redis {
            None => None,
            Some(RedisSetting::Store(store)) => Some(store.clone()),
            Some(RedisSetting::Url {
                url,
                cluster,
                prefix,
                timeout,
            }) => {
                let mut store = match cluster {
                    Some(urls) => crate::RedisStore::cluster(urls)?,
                    None if url.trim().is_empty() => {
                        return Err(Error::Config(
                            "redis_prefix() or redis_timeout() without redis(url) or \
                             redis_cluster(urls): give the URL"
                                .to_string(),
                        ));
                    }
                    None => crate::RedisStore::open(url)?,
                };
                if let Some(prefix) = prefix {
                    store = store.with_prefix(prefix.clone());
                }
                if let Some(timeout) = timeout {
                    store = store.with_timeout(*timeout);
                }
                Some(store)
            }
        })
    }

    /// How Stream mode connections behave (feature `events`): keep-alive, bounds, back-off
    /// ([`StreamOptions`](crate::events::stream::StreamOptions); checked by
    /// [`build`](Self::build)).
    #[cfg(feature = "events")]
    pub fn event_options(mut self, options: crate::events::stream::StreamOptions) -> Self {
        self.event_options = options;
        self
    }

    /// How the client will open Stream mode connections: with the app's or the suite's key and
    /// secret (DingTalk's `clientId`/`clientSecret`), at the base URL if one was given, else at
    /// DingTalk's gateway host, which is the same for both editions.
    #[cfg(feature = "events")]
    fn stream_setup(
        &self,
        credentials: &Credentials,
        base_url: &str,
    ) -> Result<crate::events::stream::Setup, Error> {
        self.event_options.check()?;
        let credentials = match credentials {
            Credentials::App {
                app_key,
                app_secret,
            } => Some((app_key.clone(), app_secret.clone())),
            Credentials::Suite {
                suite_key,
                suite_secret,
                ..
            } => Some((suite_key.clone(), suite_secret.clone())),
            Credentials::StaticToken(_) | Credentials::Provider(_) => None,
        };
        Ok(crate::events::stream::Setup {
            credentials,
            base_url: match self.base_url {
                Some(_) => base_url.to_string(),
                None => crate::events::stream::DINGTALK_GATEWAY.to_string(),
            },
            allow_insecure: self.allow_insecure_http,
            user_agent: self.user_agent.clone(),
            options: self.event_options.clone(),
            claims: Arc::default(),
        })
    }

    /// Counts the requests sent for an organisation each month, warns at the budget's
    /// threshold and refuses calls (before sending, with [`Error::MonthlyBudgetSpent`]) past its
    /// limit. With [`redis`](Self::redis) the count is the fleet's. See [`MonthlyBudget`](crate::MonthlyBudget).
    pub fn monthly_budget(mut self, budget: crate::MonthlyBudget) -> Self {
        self.monthly_budget = Some(budget);
        self
    }

    /// Keeps the token in `store`, shared with the other clients using it, behind this
    /// client's own cache (default: nothing shared, [`InProcessTokenStore`](crate::InProcessTokenStore)).
    /// A fixed token ([`static_token`](Self::static_token)) is never stored.
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Some(Arc::new(store));
        self
    }

    /// Joins a fleet through the Redis server at `url` (`redis://[user:password@]host[:port][/db]`
    /// or `rediss://…` for TLS): the access token is shared and refreshed once for all the
    /// clients using it, and the rate budget per app and API ([`rate_limit`](Self::rate_limit))
    /// is the fleet's, not this client's. When Redis is down or slow the client goes on
    /// alone. The URL is checked by [`build`](Self::build); see [`RedisStore`](crate::RedisStore).
    #[cfg(feature = "redis")]
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        let (prefix, timeout) = self.take_redis_options();
        self.redis = Some(RedisSetting::Url {
            url: url.into(),
            cluster: None,
            prefix,
            timeout,
        });
        self
    }

    /// The prefix and timeout already set for a Redis URL, kept when the URL is set again.
    #[cfg(feature = "redis")]
    fn take_redis_options(&mut self) -> (Option<String>, Option<Duration>) {
        match self.redis.take() {
            Some(RedisSetting::Url {
                prefix, timeout, ..
            }) => (prefix, timeout),
            _ => (None, None),
        }
    }

    /// Joins a fleet through the Redis Cluster reached at `urls` (one or more of its nodes,
    /// `redis://` or `rediss://`, all with the same user and password), as
    /// [`redis`](Self::redis) does through one node: the keys are spread over the cluster by
    /// app, each call one round trip to one node. The URLs are checked by
    /// [`build`](Self::build); see [`RedisStore::cluster`](crate::RedisStore::cluster).
    #[cfg(feature = "redis")]
    pub fn redis_cluster<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (prefix, timeout) = self.take_redis_options();
        self.redis = Some(RedisSetting::Url {
            url: String::new(),
            cluster: Some(urls.into_iter().map(Into::into).collect()),
            prefix,
            timeout,
        });
        self
    }

    /// The prefix of the keys [`redis`](Self::redis) writes (default `dingtalk`).
    #[cfg(feature = "redis")]
    pub fn redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        match &mut self.redis {
            Some(RedisSetting::Url { prefix: p, .. }) => *p = Some(prefix.into()),
            Some(RedisSetting::Store(store)) => *store = store.clone().with_prefix(prefix),
            None => {
                self.redis = Some(RedisSetting::Url {
                    url: String::new(),
                    cluster: None,
                    prefix: Some(prefix.into()),
                    timeout: None,
                });
            }
        }
        self
    }

    /// The bound on each Redis command of [`redis`](Self::redis) (default 200 ms).
    #[cfg(feature = "redis")]
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        match &mut self.redis {
            Some(RedisSetting::Url { timeout: t, .. }) => *t = Some(timeout),
            Some(RedisSetting::Store(store)) => *store = store.clone().with_timeout(timeout),
            None => {
                self.redis = Some(RedisSetting::Url {
                    url: String::new(),
                    cluster: None,
                    prefix: None,
                    timeout: Some(timeout),
                });
            }
        }
        self
    }

    /// This client's rate limit while Redis is unreachable. By default it is the
    /// [`rate_limit`](Self::rate_limit) divided by the fleet's size when this client last saw
    /// it (each client says it is a member once a second while it makes calls), with 5 %
    /// headroom, so that the fleet stays within DingTalk's limit during an outage too. Set it
    /// when the fleet's size is known better than that: the client's own limiter spaces calls
    /// evenly, with no burst, so `RateLimit::per_minute(20 * 60 / N)` keeps N processes
    /// together within 20 calls a second (for 100 processes, 12 calls a minute each).
    #[cfg(feature = "redis")]
    pub fn rate_limit_without_redis(mut self, limit: RateLimit) -> Self {
        self.rate_limit_without_redis = Some(limit);
        self
    }

    /// Joins a fleet through `store`, as [`redis`](Self::redis) does.
    #[cfg(feature = "redis")]
    pub fn redis_store(mut self, store: crate::RedisStore) -> Self {
        self.redis = Some(RedisSetting::Store(store));
        self
    }

    /// How many calls per second the client sends per API; the default is DingTalk's limit,
    /// 20 calls/s for every API ([`RateLimit`]). Callers over it wait, within their deadline,
    /// instead of being refused. [`RateLimit::none`] turns it off.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Answers reads from an answer to the same question at most `max_age` old, without a
    /// request (default: none, every read asks DingTalk). Per call:
    /// [`CallOptions::max_age`](crate::CallOptions::max_age). Errors are never reused.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Whether concurrent identical reads share one request (default: yes). Per call:
    /// [`CallOptions::coalesce`](crate::CallOptions::coalesce). Writes never do.
    ///
    /// Sharing saves DingTalk calls, the scarce resource, and costs each shared read one
    /// allocation of its request (about 3 KiB), so that the request can move to a task of its
    /// own when a second caller joins and the first goes away. A read that is neither shared
    /// nor cached ([`max_age`](Self::max_age)) is awaited in place and allocates nothing for
    /// it: turn sharing off where reads never repeat and every microsecond counts.
    pub fn coalesce_reads(mut self, coalesce: bool) -> Self {
        self.coalesce_reads = coalesce;
        self
    }

    /// How many recent answers the client keeps for `max_age` reads (default
    /// [`DEFAULT_ANSWER_CACHE_ENTRIES`]); the least recently used go first.
    pub fn answer_cache_entries(mut self, entries: usize) -> Self {
        self.answer_cache_entries = entries;
        self
    }

    /// Refuses limits that would make every call fail.
    fn check_limits(&self) -> Result<(), Error> {
        let zero = |what: &str| {
            Err(Error::Config(format!(
                "{what} is zero, so every call would fail at once; give a positive duration"
            )))
        };
        if self.timeout.is_zero() {
            return zero("the request timeout (timeout())");
        }
        if self.connect_timeout.is_zero() {
            return zero("the connect timeout (connect_timeout())");
        }
        if self.call_timeout.is_zero() {
            return zero("the call deadline (call_timeout())");
        }
        if self.token_fetch_timeout.is_some_and(|t| t.is_zero()) {
            return zero("the token fetch timeout (token_fetch_timeout())");
        }
        if self.max_response_bytes == 0 {
            return Err(Error::Config(
                "max_response_bytes is zero, so no answer could be read; DingTalk's answers \
                 are a few KiB (the default is 1 MiB)"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// The base URL, checked: `https`, or `http` on loopback (or by opt-in); no user info,
    /// query or fragment. Messages never echo the URL as given, which may hold a password.
    fn checked_base_url(&self) -> Result<(String, bool), Error> {
        let raw = self
            .base_url
            .clone()
            .unwrap_or_else(|| self.edition.base_url().to_string());
        let url = Url::parse(raw.trim())
            .map_err(|e| Error::Config(format!("the base URL is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Config(
                "the base URL must not carry a user name or password".to_string(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(format!(
                "base URL {} must not have a query or fragment",
                redacted_url(url.as_str())
            )));
        }
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || loopback => {}
            "http" => {
                return Err(Error::Config(format!(
                    "base URL {url} is plain http on a non-loopback host: the access token \
                     would cross the network unencrypted; use https, or call \
                     allow_insecure_http(true) for a trusted network"
                )));
            }
            other => {
                return Err(Error::Config(format!(
                    "base URL {url} has scheme {other:?}; use https"
                )));
            }
        }
        Ok((url.as_str().trim_end_matches('/').to_string(), loopback))
    }

    fn build_http_client(&self, loopback: bool) -> Result<reqwest::Client, Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent.clone())
            .redirect(dingtalk_conference_api::hooks::same_origin_redirects());
        if loopback {
            // A system proxy (HTTP_PROXY) would otherwise carry loopback traffic, secrets
            // included, to another machine in clear text.
            builder = builder.no_proxy();
        }
        builder
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))
    }
}

fn check_credentials(credentials: &Credentials) -> Result<(), Error> {
    let blank = |what: &str| Err(Error::Config(format!("{what} is empty")));
    match credentials {
        Credentials::StaticToken(token) if token.is_blank() => blank("the access token"),
        Credentials::App { app_key, .. } if app_key.trim().is_empty() => blank("the app key"),
        Credentials::App { app_secret, .. } if app_secret.is_blank() => blank("the app secret"),
        Credentials::Suite { suite_key, .. } if suite_key.trim().is_empty() => {
            blank("the suite key")
        }
        Credentials::Suite { suite_secret, .. } if suite_secret.is_blank() => {
            blank("the suite secret")
        }
        Credentials::Suite { auth_corp_id, .. } if auth_corp_id.trim().is_empty() => {
            blank("the authorised corp id")
        }
        Credentials::Suite { suite_ticket, .. } if suite_ticket.is_blank() => {
            blank("the suite ticket")
        }
        _ => Ok(()),
    }
}

fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}
