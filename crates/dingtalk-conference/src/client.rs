//! The [`Client`]: what its clones share (endpoint, tokens, limits, shared reads) and the few
//! methods that are not operations. Calls run through the pipeline (`pipeline/`); the
//! operations live in `ops/`, one module per theme; the builder in `builder.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{CachedToken, SuiteTokenProvider, TokenCache};
use crate::endpoint::Endpoint;
use crate::limits::Limits;
use crate::pipeline::shared::SharedReads;
use crate::{AccessToken, CallOptions, ClientBuilder, Error, RateLimit, RetryPolicy, Secret};

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
    pub(crate) inner: Arc<ClientInner>,
    /// Overrides for calls made through this handle ([`Client::with_options`]).
    pub(crate) options: CallOptions,
}

pub(crate) struct ClientInner {
    pub(crate) endpoint: Endpoint,
    pub(crate) tokens: TokenCache,
    pub(crate) retry: RetryPolicy,
    pub(crate) call_timeout: Duration,
    suite: Option<Arc<SuiteTokenProvider>>,
    pub(crate) limits: Limits,
    pub(crate) monthly: Option<crate::limits::month::MonthlyCounter>,
    pub(crate) reads: SharedReads,
    /// The client's default `max_age` for reads; `None`: every read asks DingTalk.
    pub(crate) max_age: Option<Duration>,
    /// The client's default for sharing identical reads in flight.
    pub(crate) coalesce_reads: bool,
    /// Where the client's event streams meet its waits (feature `events`).
    #[cfg(feature = "events")]
    pub(crate) events: Arc<crate::events::hub::Hub>,
    /// With a Redis: the fleet's shared events, started with the client's event stream.
    #[cfg(all(feature = "events", feature = "redis"))]
    pub(crate) event_fleet: Option<crate::events::fleet::EventFleet>,
    /// How the client opens Stream mode connections (feature `events`).
    #[cfg(feature = "events")]
    pub(crate) stream: crate::events::stream::Setup,
}

#[cfg(feature = "events")]
impl ClientInner {
    /// Starts sharing events with the fleet when the client has a Redis (once; later calls do
    /// nothing): the event stream calls it as it starts, inside the runtime.
    pub(crate) fn start_event_fleet(&self) {
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.event_fleet {
            fleet.start();
        }
    }

    /// Waits a moment (at most [`crate::events::fleet::FLUSH_WITHIN`]) until the events this
    /// client received are published to the fleet: `EventsHandle::stop` does, so that a
    /// process that stops and exits does not take the others' events with it.
    pub(crate) async fn flush_event_fleet(&self) {
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.event_fleet {
            fleet.flush(crate::events::fleet::FLUSH_WITHIN).await;
        }
    }
}

/// The economy settings [`ClientBuilder::build`] hands the client beside its endpoint and
/// tokens: rate limits, shared reads and their cache, the monthly budget.
pub(crate) struct Economy {
    pub(crate) rate_limit: RateLimit,
    pub(crate) answer_cache_entries: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) coalesce_reads: bool,
    /// The fleet's rate budget, if shared (feature `redis`).
    pub(crate) shared_rate: Option<Box<dyn crate::limits::SharedRate>>,
    /// This client's share of the budget while the shared one is unreachable.
    pub(crate) rate_limit_alone: Option<RateLimit>,
    /// The organisation's monthly budget, if set.
    pub(crate) monthly: Option<crate::limits::month::MonthlyCounter>,
    /// The Redis and the app's name in its keys, for the fleet's shared events.
    #[cfg(all(feature = "events", feature = "redis"))]
    pub(crate) event_fleet: Option<(crate::RedisStore, String)>,
    /// How Stream mode connections are opened (feature `events`).
    #[cfg(feature = "events")]
    pub(crate) stream: crate::events::stream::Setup,
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

impl Client {
    /// A client from what [`ClientBuilder::build`] checked and made.
    pub(crate) fn new(
        endpoint: Endpoint,
        tokens: TokenCache,
        retry: RetryPolicy,
        call_timeout: Duration,
        suite: Option<Arc<SuiteTokenProvider>>,
        economy: Economy,
    ) -> Self {
        #[cfg(feature = "events")]
        let hub = Arc::new(crate::events::hub::Hub::new());
        Self {
            inner: Arc::new(ClientInner {
                endpoint,
                tokens,
                retry,
                call_timeout,
                suite,
                limits: match economy.shared_rate {
                    Some(shared) => Limits::new(economy.rate_limit)
                        .with_shared(shared)
                        .with_budget_alone(economy.rate_limit_alone),
                    None => Limits::new(economy.rate_limit),
                },
                monthly: economy.monthly,
                reads: SharedReads::new(economy.answer_cache_entries),
                max_age: economy.max_age,
                coalesce_reads: economy.coalesce_reads,
                #[cfg(all(feature = "events", feature = "redis"))]
                event_fleet: economy.event_fleet.map(|(store, app)| {
                    crate::events::fleet::EventFleet::new(store, &app, Arc::clone(&hub))
                }),
                #[cfg(feature = "events")]
                events: hub,
                #[cfg(feature = "events")]
                stream: economy.stream,
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
        let deadline = crate::pipeline::Deadline::after(self.call_limit());
        tokio::time::timeout(deadline.limit, self.inner.tokens.get())
            .await
            .unwrap_or_else(|_| Err(deadline.timeout(None)))
    }

    /// The underlying `reqwest::Client` (shared connection pool).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.endpoint.http
    }
}
