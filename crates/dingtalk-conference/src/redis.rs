//! A fleet's shared token and rate budget on Redis (feature `redis`): [`RedisStore`].
//!
//! - **Token**: one key per app (`{prefix}:token:{edition-or-host}:{appKey}`, or
//!   `…:{suiteKey}:{authCorpId}`), holding the token until the refresh margin before it
//!   expires. When it is missing, one process takes the lock (`SET NX PX` with a random owner
//!   value), reads again, fetches, stores, and releases the lock with a compare-and-delete
//!   script; the others poll with back-off, within the fetch's deadline, and read what it
//!   stored. A holder that dies leaves a lock that expires after the token fetch timeout. A
//!   rejected token is deleted only if the key still holds that same token.
//! - **Rate budget**: GCRA in a Lua script, per app and API, with Redis's `TIME` as the clock:
//!   each call reserves its slot in one round trip and waits until then.
//! - **Degradation**: every command is bounded by a short timeout (200 ms by default). When
//!   Redis fails or is slow, the client falls back to its own cache and limiter, warns (once
//!   per outage), counts `dingtalk_redis_fallbacks_total`, and tries Redis again a second
//!   later.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use crate::auth::{AccessToken, TokenFuture, TokenProvider};
use crate::store::TokenStore;
use crate::{Error, Secret};

/// The default bound on each Redis command; past it the client goes on without Redis.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// The default prefix of every key the client writes.
pub const DEFAULT_REDIS_PREFIX: &str = "dingtalk";
/// How long the client goes on without Redis after a failure before it tries Redis again.
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);
/// The first wait of a process polling for the token another one is fetching; it doubles up to
/// [`POLL_MAX`].
const POLL_INITIAL: Duration = Duration::from_millis(10);
const POLL_MAX: Duration = Duration::from_millis(250);
/// The shared budget spaces calls at this share of the configured rate: DingTalk counts calls
/// per whole second as they arrive, and arrival times jitter.
pub(crate) const SHARED_RATE_HEADROOM: f64 = 0.95;

/// The stored token and its time to live, in one round trip.
const READ_TOKEN: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
";

/// Deletes the lock only if this process still owns it.
const RELEASE_LOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Deletes the stored token only if it is still the rejected one (the value is
/// `{margin_ms}:{token}`).
const EVICT_TOKEN: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local i = string.find(v, ':', 1, true)
if i and string.sub(v, i + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// GCRA with reservation: the theoretical arrival time (TAT, microseconds of Redis's `TIME`)
/// moves on by one emission interval per call; the caller waits until its slot. A caller whose
/// wait would exceed ARGV[2] reserves nothing and is told how long it would be.
/// Returns `{reserved (1/0), wait_us}`.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return {0, string.format('%.0f', wait)} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, string.format('%.0f', wait)}
";

/// Counts one call in a month, unless the limit (ARGV[1], 0: none) is reached; the key
/// expires ARGV[2] ms after its first call. Returns the count, or minus the count if refused.
const COUNT_MONTH: &str = r"
local limit = tonumber(ARGV[1])
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit > 0 and n >= limit then return -n end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
";

/// How long a month's count is kept: longer than any month.
const MONTH_KEY_LIFETIME: Duration = Duration::from_secs(40 * 24 * 3600);

/// A Redis server shared by a fleet of clients: their access token ([`TokenStore`]) and
/// their rate budget per app and API.
///
/// `redis://` and `rediss://` (TLS through rustls) URLs, with a password or an ACL user
/// (`redis://user:password@host:6379/0`). Nothing connects until the first call; a client
/// whose Redis is down or slow goes on with its own cache and limiter.
///
/// ```
/// # fn run() -> Result<(), dingtalk_conference::Error> {
/// use dingtalk_conference::{Client, RedisStore};
///
/// let redis = RedisStore::open("redis://127.0.0.1:6379")?.with_prefix("billing");
/// let client = Client::builder()
///     .app_credentials("dingxxxxxxxx", "app secret")
///     .redis_store(redis)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// What `Debug` and the logs show: the host and port, never a password.
    shown: String,
    prefix: String,
    timeout: Duration,
    connection: Mutex<Option<ConnectionManager>>,
    /// While set and in the future, Redis is not asked: it failed a moment ago.
    down_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.inner.shown)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis server at `url`, with the default prefix (`dingtalk`) and command
    /// timeout (200 ms). Only the URL is checked here; nothing connects yet.
    pub fn open(url: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url.trim()).map_err(|e| {
            // The URL may hold a password: the error says what is wrong, not the URL.
            Error::Config(format!(
                "not a usable Redis URL (redis://[user:password@]host[:port][/db] or rediss://…): {:?}",
                e.kind()
            ))
        })?;
        let shown = match &client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}"),
            redis::ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}"),
            redis::ConnectionAddr::Unix(path) => format!("unix:{}", path.display()),
            _ => "redis".to_string(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                shown,
                prefix: DEFAULT_REDIS_PREFIX.to_string(),
                timeout: DEFAULT_REDIS_TIMEOUT,
                connection: Mutex::new(None),
                down_until: Mutex::new(None),
            }),
        })
    }

    /// Every key starts with `prefix` and a colon (default `dingtalk`): separate fleets, or
    /// environments, on one Redis.
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        self.rebuilt(|inner| inner.prefix = prefix.into())
    }

    /// The bound on each Redis command (default 200 ms); past it the client goes on without
    /// Redis for a second.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.rebuilt(|inner| inner.timeout = timeout)
    }

    fn rebuilt(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            client: self.inner.client.clone(),
            shown: self.inner.shown.clone(),
            prefix: self.inner.prefix.clone(),
            timeout: self.inner.timeout,
            connection: Mutex::new(None),
            down_until: Mutex::new(None),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The prefix of every key.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The full Redis key for `key` (the prefix added).
    pub(crate) fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.inner.prefix)
    }

    /// A connection, unless Redis failed a moment ago (then `None`, counted as a fallback).
    fn connection(&self, what: &'static str) -> Option<ConnectionManager> {
        let down = *self
            .inner
            .down_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if down.is_some_and(|until| Instant::now() < until) {
            crate::telemetry::redis_fallback(what);
            return None;
        }
        let mut slot = self
            .inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(connection) = slot.as_ref() {
            return Some(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.inner.timeout))
            .set_response_timeout(Some(self.inner.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        match ConnectionManager::new_lazy_with_config(self.inner.client.clone(), config) {
            Ok(connection) => {
                *slot = Some(connection.clone());
                Some(connection)
            }
            Err(e) => {
                drop(slot);
                self.failed(what, &format!("{:?}", e.kind()));
                None
            }
        }
    }

    /// Runs one Redis command within the timeout; `None` (a fallback, warned and counted) if
    /// it fails or runs out.
    async fn run<T>(
        &self,
        what: &'static str,
        command: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.inner.timeout, command).await {
            Ok(Ok(value)) => {
                let was_down = self
                    .inner
                    .down_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .is_some();
                if was_down {
                    tracing::info!(redis = %self.inner.shown, "Redis answers again; sharing tokens and budget through it");
                }
                Some(value)
            }
            // Redis's error kind only: its text may quote a command's arguments.
            Ok(Err(e)) => {
                self.failed(what, &format!("{:?}", e.kind()));
                None
            }
            Err(_) => {
                self.failed(what, "timed out");
                None
            }
        }
    }

    fn failed(&self, what: &'static str, why: &str) {
        crate::telemetry::redis_fallback(what);
        // A fresh connection next time: the manager's own reconnection gives up after a
        // failed attempt, and a restarted Redis must be found again.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let was_up = self
            .inner
            .down_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(Instant::now() + RETRY_REDIS_AFTER)
            .is_none();
        if was_up {
            tracing::warn!(
                redis = %self.inner.shown,
                during = what,
                error = why,
                "Redis failed; going on with this process's own token cache and rate limiter"
            );
        }
    }

    /// The stored token under `key` and its time to live; `Some(None)` if there is none,
    /// `None` if Redis failed.
    async fn read_token(&self, key: &str) -> Option<Option<AccessToken>> {
        let mut connection = self.connection("token")?;
        let script = redis::Script::new(READ_TOKEN);
        let stored: Option<(String, i64)> = self
            .run("token", async {
                script.key(key).invoke_async(&mut connection).await
            })
            .await?;
        Some(stored.and_then(|(value, pttl)| {
            let (margin_ms, token) = value.split_once(':')?;
            let margin = Duration::from_millis(margin_ms.parse().ok()?);
            let ttl = Duration::from_millis(u64::try_from(pttl).ok()?);
            // Every member replaces it when the shared copy runs out, whatever its own margin.
            (!token.is_empty())
                .then(|| AccessToken::new(token, Some(ttl + margin)).refreshed_in(ttl))
        }))
    }

    /// Takes the lock on `key`'s refresh for `hold`; `Some(true)` if taken.
    async fn lock(&self, lock_key: &str, owner: &str, hold: Duration) -> Option<bool> {
        let mut connection = self.connection("token")?;
        let taken: Option<String> = self
            .run(
                "token",
                redis::cmd("SET")
                    .arg(lock_key)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(hold).max(1))
                    .query_async(&mut connection),
            )
            .await?;
        Some(taken.is_some())
    }

    async fn unlock(&self, lock_key: &str, owner: &str) {
        let Some(mut connection) = self.connection("token") else {
            return;
        };
        let script = redis::Script::new(RELEASE_LOCK);
        let _: Option<i64> = self
            .run("token", async {
                script
                    .key(lock_key)
                    .arg(owner)
                    .invoke_async(&mut connection)
                    .await
            })
            .await;
    }

    /// Stores `token` under `key` until `refresh_margin` before it expires.
    async fn store_token(&self, key: &str, token: &AccessToken, refresh_margin: Duration) {
        // A token of unknown lifetime is kept for DingTalk's documented 7,200 s.
        let lifetime = token.expires_in().unwrap_or(crate::DEFAULT_TOKEN_LIFETIME);
        let margin = refresh_margin.min(lifetime / 2);
        let ttl = lifetime.saturating_sub(margin);
        if ttl < Duration::from_millis(1) {
            return;
        }
        let Some(mut connection) = self.connection("token") else {
            return;
        };
        let value = format!("{}:{}", millis(margin), token.secret().expose());
        let _: Option<()> = self
            .run(
                "token",
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut connection),
            )
            .await;
    }

    /// Reserves one call of `per_second` calls per second under `key` (prefix added), waiting
    /// at most `max_wait`: `Some(Ok(wait))`: send after `wait`; `Some(Err(wait))`: the slot
    /// is further than `max_wait`, nothing reserved; `None`: Redis failed.
    pub(crate) async fn reserve(
        &self,
        key: &str,
        per_second: std::num::NonZeroU32,
        max_wait: Duration,
    ) -> Option<Result<Duration, Duration>> {
        let mut connection = self.connection("rate")?;
        let interval_us = (1_000_000.0 / f64::from(per_second.get()) / SHARED_RATE_HEADROOM).ceil();
        let script = redis::Script::new(GCRA);
        let key = self.key(key);
        let (reserved, wait_us): (i64, String) = self
            .run("rate", async {
                script
                    .key(&key)
                    .arg(format!("{interval_us:.0}"))
                    .arg(u64::try_from(max_wait.as_micros()).unwrap_or(u64::MAX))
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let wait = Duration::from_micros(wait_us.parse().unwrap_or(0));
        Some(if reserved == 1 { Ok(wait) } else { Err(wait) })
    }
}

impl RedisStore {
    /// Counts one call of `organisation` in `month`: `Some(Ok(count))`, `Some(Err(count))`
    /// when `limit` is reached (not counted), `None` when Redis failed.
    pub(crate) async fn count_month(
        &self,
        organisation: &str,
        month: &str,
        limit: Option<u64>,
    ) -> Option<Result<u64, u64>> {
        let mut connection = self.connection("month")?;
        let key = self.key(&format!("month:{organisation}:{month}"));
        let script = redis::Script::new(COUNT_MONTH);
        let n: i64 = self
            .run("month", async {
                script
                    .key(&key)
                    .arg(limit.unwrap_or(0))
                    .arg(millis(MONTH_KEY_LIFETIME))
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        Some(if n < 0 {
            Err(n.unsigned_abs())
        } else {
            Ok(n.unsigned_abs())
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A random owner value for a lock: nobody else's release can delete it.
fn owner() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

impl TokenStore for RedisStore {
    fn token<'a>(
        &'a self,
        key: &'a str,
        source: &'a dyn TokenProvider,
        refresh_margin: Duration,
    ) -> TokenFuture<'a> {
        Box::pin(async move {
            let token_key = self.key(key);
            let lock_key = self.key(&format!("lock:{key}"));
            let mut poll = POLL_INITIAL;
            loop {
                match self.read_token(&token_key).await {
                    Some(Some(token)) => return Ok(token),
                    Some(None) => {}
                    None => return source.fetch_token().await,
                }
                let me = owner();
                // Held for as long as one fetch may take; a holder that dies frees it then.
                let hold = HOLD_LOCK;
                match self.lock(&lock_key, &me, hold).await {
                    None => return source.fetch_token().await,
                    Some(true) => {
                        // Someone may have stored a token between the read and the lock.
                        if let Some(Some(token)) = self.read_token(&token_key).await {
                            self.unlock(&lock_key, &me).await;
                            return Ok(token);
                        }
                        tracing::debug!(key = %token_key, "fetching the fleet's token");
                        let fetched = source.fetch_token().await;
                        if let Ok(token) = &fetched {
                            self.store_token(&token_key, token, refresh_margin).await;
                        }
                        self.unlock(&lock_key, &me).await;
                        return fetched;
                    }
                    Some(false) => {
                        // Another process is fetching: wait a little, then read again.
                        tokio::time::sleep(poll.mul_f64(0.5 + fastrand::f64())).await;
                        poll = (poll * 2).min(POLL_MAX);
                    }
                }
            }
        })
    }

    fn evict<'a>(&'a self, key: &'a str, token: &'a Secret) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(mut connection) = self.connection("token") else {
                return;
            };
            let key = self.key(key);
            let script = redis::Script::new(EVICT_TOKEN);
            let evicted: Option<i64> = self
                .run("token", async {
                    script
                        .key(&key)
                        .arg(token.expose())
                        .invoke_async(&mut connection)
                        .await
                })
                .await;
            tracing::debug!(key = %key, evicted = evicted == Some(1), "rejected token");
        })
    }

    fn name(&self) -> &str {
        "redis"
    }
}

/// How long a refresh lock is held at most: a holder that dies frees it after this. The
/// default token fetch timeout (the request timeout, 10 s), so that a slow fetch that is still
/// running is not doubled.
pub(crate) const HOLD_LOCK: Duration = crate::DEFAULT_TIMEOUT;

/// The fleet's rate budget for one app: one GCRA key per API.
pub(crate) struct RedisRate {
    pub(crate) store: RedisStore,
    /// `rate:{edition-or-host}:{appKey}` (or `…:{suiteKey}:{authCorpId}`); the API is added.
    pub(crate) key: String,
}

impl fmt::Debug for RedisRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRate")
            .field("store", &self.store)
            .field("key", &self.key)
            .finish()
    }
}

impl crate::limits::SharedRate for RedisRate {
    fn reserve<'a>(
        &'a self,
        operation_id: &'static str,
        per_second: std::num::NonZeroU32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Option<Result<Duration, Duration>>> {
        Box::pin(async move {
            self.store
                .reserve(
                    &format!("{}:{operation_id}", self.key),
                    per_second,
                    max_wait,
                )
                .await
        })
    }
}
