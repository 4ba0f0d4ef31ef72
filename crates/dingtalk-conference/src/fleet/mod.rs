//! A fleet's shared token and rate budget on Redis (feature `redis`): [`RedisStore`].
//!
//! - **Token**: one key per app (`{prefix}:token:{edition-or-host}:{appKey}`, or
//!   `…:{suiteKey}:{authCorpId}`), holding the token until the refresh margin before it
//!   expires. When it is missing, one process takes the lock (`SET NX PX` with a random owner
//!   value) for the client's token fetch timeout and a margin, reads again, fetches, and stores
//!   the token and releases the lock in one script that does both only while this process
//!   still holds the lock (fenced: a holder whose lease ran out cannot overwrite a newer
//!   token); the others poll with back-off, within the fetch's deadline, and read what it
//!   stored. A release that could not be sent is tried again a few times, a second apart; a
//!   holder that dies leaves a lock that expires after the fetch timeout and the margin. A
//!   rejected token is deleted only if the key still holds that same token.
//! - **Rate budget**: GCRA in a Lua script, per app and API and per egress IP (DingTalk's
//!   10,000 calls in 20 s), with Redis's `TIME` as the clock: each call reserves its slot in
//!   both in one round trip and waits until then, never further ahead than the caller's
//!   deadline. The fleet's token fetch takes a slot of the IP's window too. A call (or token
//!   fetch) that cannot have a slot of the IP's window in time is not sent: it fails with
//!   [`Error::IpWindowFull`].
//! - **Fleet size**: each client making calls says it is a member once a second (a sorted set
//!   per app, members not seen for 10 s dropped), and keeps the count.
//! - **Degradation**: every command is bounded by a short timeout (200 ms by default). When
//!   Redis fails or is slow, the client falls back to its own cache and limiter, warns (once
//!   per outage), counts `dingtalk_redis_fallbacks_total`, and tries Redis again a second
//!   later. Alone, it keeps to the budget divided by the fleet's size it last saw.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::time::Instant;

use crate::auth::store::TokenStore;
use crate::auth::{AccessToken, TokenFuture, TokenProvider};
use crate::limits::Reservation;
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
const POLL_MAX: Duration = Duration::from_millis(50);
/// The shared budget spaces calls at this share of the configured rate: DingTalk counts calls
/// per whole second as they arrive, and arrival times jitter.
pub(crate) const SHARED_RATE_HEADROOM: f64 = 0.95;

/// The stored token and its time to live, in one round trip.
const READ_TOKEN: &str = include_str!("read_token.lua");

/// Deletes the lock only if this process still owns it.
const RELEASE_LOCK: &str = include_str!("release_lock.lua");

/// Stores a fetched token, fenced by the refresh lock: only while KEYS[1], the lock, still
/// holds this owner (ARGV[1]), sets KEYS[2] to ARGV[2] for ARGV[3] ms (nothing for 0) and
/// releases the lock. Returns 1 if stored, 0 if the lease had run out (a newer holder's token
/// is kept).
const STORE_TOKEN_FENCED: &str = include_str!("store_token_fenced.lua");

/// Deletes the stored token only if it is still the rejected one (the value is
/// `{margin_ms}:{token}`).
const EVICT_TOKEN: &str = include_str!("evict_token.lua");

/// GCRA with reservation: KEYS[1] holds a budget's theoretical arrival time (TAT,
/// microseconds of Redis's `TIME`), moved on by ARGV[1] per call; the caller waits until its
/// slot. A caller whose wait would exceed ARGV[2] reserves nothing and is told how long it
/// would be.
///
/// With KEYS[2], the egress IP's window (interval ARGV[3]), taken in the same round trip for a
/// call that can be sent now: its slot is then the window's next one. A call queued behind
/// others of its API takes only its API slot here, and the window's when that slot comes
/// (`taken_ip` 0): a window taken at reservation would follow the furthest-queued API and
/// hold every other API, and the token fetch, behind it.
/// ARGV[3] empty: no window.
///
/// With ARGV[4] (on a cluster), the last key is the app's failover mark: the `run_id` of the
/// node that last ran this for the app, and until when callers keep to their own share too.
/// A node finding another's `run_id` there (the mark is replicated like every key, so a
/// promoted replica finds its dead master's) sets that to ARGV[4] µs from now: members that
/// went alone during the failover sent calls it never counted, and a member that never saw
/// the failure would otherwise take the whole budget beside them.
/// Returns `{reserved (1; 0: the API's slot too far; -1: the IP window's), wait_us, taken_ip
/// (1/0), keep_to_share_us}`.
const GCRA: &str = include_str!("gcra.lua");

/// Counts one call in a month, unless the limit (ARGV[1], 0: none) is reached; the key
/// expires ARGV[2] ms after its first call. Returns the count, or minus the count if refused.
const COUNT_MONTH: &str = include_str!("count_month.lua");

/// Raises a month's count (KEYS[1]) to ARGV[1] if it is lower, the key expiring ARGV[2] ms
/// later then; returns the count.
const RAISE_MONTH: &str = include_str!("raise_month.lua");

/// How long after the app's keys are first served by another node (a failover, or the slot
/// moved) every member keeps to its own share as well as the shared budget: as long as one
/// back from going alone does ([`crate::limits`]), by when every member that went alone is
/// back on the shared budget.
const AFTER_FAILOVER: Duration = crate::limits::BACK_FROM_ALONE;

/// The egress named by default: the whole fleet behind one IP.
pub const DEFAULT_EGRESS: &str = "shared";

/// A budget of calls per egress IP: `calls` in any `window`.
#[derive(Debug, Clone, Copy)]
struct IpLimit {
    calls: std::num::NonZeroU32,
    window: Duration,
}

impl IpLimit {
    const DINGTALK: Self = Self {
        calls: crate::limits::DINGTALK_CALLS_PER_IP,
        window: crate::limits::DINGTALK_IP_WINDOW,
    };

    fn new(calls: u32, window: Duration) -> Option<Self> {
        let calls = std::num::NonZeroU32::new(calls)?;
        (!window.is_zero()).then_some(Self { calls, window })
    }

    /// Microseconds between two calls, with the same headroom as the per-API budget.
    fn interval_us(self) -> f64 {
        (self.window.as_secs_f64() * 1_000_000.0
            / f64::from(self.calls.get())
            / SHARED_RATE_HEADROOM)
            .ceil()
    }
}

/// How long a month's count is kept: longer than any month.
const MONTH_KEY_LIFETIME: Duration = Duration::from_secs(40 * 24 * 3600);

/// A Redis server shared by a fleet of clients: their access token ([`TokenStore`]) and
/// their rate budget per app and API.
///
/// `redis://` and `rediss://` (TLS through rustls) URLs, with a password or an ACL user
/// (`redis://user:password@host:6379/0`). Nothing connects until the first call; a client
/// whose Redis is down or slow goes on with its own cache and limiter.
///
/// Over `rediss://`, the server's certificate is checked against the system's trusted roots,
/// or only against a CA of your own given to
/// [`with_root_certificates`](Self::with_root_certificates) (a self-hosted Redis);
/// [`with_client_certificate`](Self::with_client_certificate) adds mutual TLS. A client that
/// does not trust the server, or whose password is refused, goes on alone as if Redis were
/// down, and warns.
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
///
/// A Redis with TLS and a CA of its own:
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use dingtalk_conference::RedisStore;
///
/// let ca = std::fs::read("/etc/redis/ca.crt")?;
/// let redis = RedisStore::open("rediss://fleet:password@redis.internal:6380")?
///     .with_root_certificates(ca)?;
/// # let _ = redis; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// One node, or a Redis Cluster.
    backend: Backend,
    /// The CA and client certificate given for `rediss://`, kept to build the client again
    /// when another is added.
    tls: redis::TlsCertificates,
    /// What `Debug` and the logs show: the host and port, never a password.
    shown: String,
    prefix: String,
    timeout: Duration,
    /// DingTalk's window per egress IP, shared by the processes naming the same `egress`.
    ip_limit: Option<IpLimit>,
    egress: String,
    connection: Mutex<Option<Connection>>,
    /// Cluster only: how many apps share the egress window (each gets that share of it, in a
    /// key of its own slot), as last counted.
    egress_apps: Mutex<u32>,
    /// Cluster only, while a fleet moves onto it: the one Redis it moves from, whose keys the
    /// members still on it use ([`RedisStore::migrating_from`]).
    migrating_from: Option<RedisStore>,
    /// One endpoint, but the cluster's key names ([`RedisStore::with_cluster_keys`]).
    cluster_keys: bool,
    /// While set and in the future, Redis is not asked: it failed a moment ago.
    down_until: Mutex<Option<Instant>>,
}

/// Where the store's keys live.
#[derive(Clone)]
enum Backend {
    Single(Box<redis::Client>),
    /// The nodes given (kept to build the client again with certificates) and their client.
    Cluster {
        nodes: Vec<redis::ConnectionInfo>,
        client: Box<redis::cluster::ClusterClient>,
    },
}

/// The client of a cluster on `nodes`, with `tls` certificates if given. A command is retried
/// every 10 to 40 ms (a redirection, `TRYAGAIN` while its slot's keys are split between two
/// nodes by a migration, `CLUSTERDOWN` or a node being replaced in a failover) until the
/// store's timeout ends it; past that, the client goes on alone.
fn cluster_client(
    nodes: &[redis::ConnectionInfo],
    tls: Option<redis::TlsCertificates>,
) -> Result<redis::cluster::ClusterClient, Error> {
    let mut builder = redis::cluster::ClusterClient::builder(nodes.to_vec())
        .retries(16)
        .min_retry_wait(10)
        .max_retry_wait(40);
    if let Some(tls) = tls {
        builder = builder.certs(tls);
    }
    builder.build().map_err(|e| {
        // The text may quote a URL or a PEM: the kind only.
        Error::Config(format!(
            "not a usable Redis Cluster (its nodes' URLs must agree on TLS, user and password): \
             {:?}",
            e.kind()
        ))
    })
}

/// A connection to one node (reconnecting) or to a cluster (following its topology).
#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster(Box<ClusterConnection>),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.inner.shown)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .field(
                "migrating_from",
                &self
                    .inner
                    .migrating_from
                    .as_ref()
                    .map(|old| &old.inner.shown),
            )
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
        let shown = Self::shown(client.get_connection_info().addr());
        if let redis::ConnectionAddr::TcpTls { insecure: true, .. } =
            client.get_connection_info().addr()
        {
            return Err(Error::Config(
                "a rediss:// URL with #insecure (no certificate check) is not supported: trust \
                 the server's CA with RedisStore::with_root_certificates instead"
                    .to_string(),
            ));
        }
        Ok(Self::with_defaults(
            Backend::Single(Box::new(client)),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: None,
            },
            shown,
        ))
    }

    /// A store on the Redis Cluster reached through `urls` (one or more of its nodes, the
    /// others are found from them), with the default prefix and timeout: the same fleet as
    /// [`open`](Self::open) gives, its keys spread over the cluster by app. Every key one
    /// script touches carries the app's hash tag (`{prefix:edition-or-host:appKey}`), so each
    /// call is one round trip to one node; DingTalk's per-IP window is kept as one share of it
    /// per app, in the app's own slot (see `docs/SCALING.md`). `MOVED` and `ASK` redirections
    /// and a changed topology are followed; while a failover is under way the client goes on
    /// alone, as when a single Redis is down. The nodes' URLs must agree on TLS, user and
    /// password. Only the URLs are checked here; nothing connects yet.
    ///
    /// ```
    /// # fn run() -> Result<(), dingtalk_conference::Error> {
    /// use dingtalk_conference::{Client, RedisStore};
    ///
    /// let redis = RedisStore::cluster(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])?;
    /// let client = Client::builder()
    ///     .app_credentials("dingxxxxxxxx", "app secret")
    ///     .redis_store(redis)
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if no URL is given, one is not a usable Redis URL, or they disagree.
    pub fn cluster<I, S>(urls: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut nodes = Vec::new();
        for url in urls {
            let url = url.as_ref().trim();
            if url.is_empty() {
                continue;
            }
            nodes.push(
                Self::open(url)?
                    .single_client()?
                    .get_connection_info()
                    .clone(),
            );
        }
        let Some(first) = nodes.first() else {
            return Err(Error::Config(
                "a Redis Cluster needs the URL of at least one of its nodes".to_string(),
            ));
        };
        let shown = format!("cluster {}", Self::shown(first.addr()));
        let tls = redis::TlsCertificates {
            client_tls: None,
            root_cert: None,
        };
        let client = cluster_client(&nodes, None)?;
        Ok(Self::with_defaults(
            Backend::Cluster {
                nodes,
                client: Box::new(client),
            },
            tls,
            shown,
        ))
    }

    /// While a fleet moves from one Redis (`old`, with today's key names) onto this cluster:
    /// this client also keeps to the budget on `old`, so that the members still on `old` and
    /// those already on the cluster never have a budget each. Every call reserves its slot on
    /// both (two round trips, at once) and waits for the later one; the token is shared
    /// (locked, fetched, stored) on `old`, as the members still there share it; the monthly
    /// count is kept on `old`, and the cluster's raised to it; the fleet's size is the larger
    /// of the two counts. If `old` cannot be reached the cluster alone decides.
    ///
    /// Move in two steps (`docs/SCALING.md`, "Moving onto a cluster"): first every member to
    /// `cluster(…)?.migrating_from(old)`, then, once none is left on `old` alone, every member
    /// to the cluster alone. At each moment every member keeps to one of the two budgets
    /// together.
    ///
    /// ```
    /// # fn run() -> Result<(), dingtalk_conference::Error> {
    /// use dingtalk_conference::RedisStore;
    ///
    /// let redis = RedisStore::cluster(["redis://10.0.0.1:6379"])?
    ///     .migrating_from(RedisStore::open("redis://10.0.0.9:6379")?)?;
    /// # let _ = redis; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] unless this store names its keys as on a cluster
    /// ([`cluster`](Self::cluster), [`with_cluster_keys`](Self::with_cluster_keys)) and `old`
    /// is one Redis with today's names.
    pub fn migrating_from(self, old: RedisStore) -> Result<Self, Error> {
        if !self.hash_tagged() || old.hash_tagged() {
            return Err(Error::Config(
                "migrating_from moves a fleet from one Redis (RedisStore::open) onto a cluster \
                 (RedisStore::cluster, or with_cluster_keys behind a proxy)"
                    .to_string(),
            ));
        }
        // The old Redis's keys as the members still there name them: the same prefix, egress
        // and window (set later on this store, they apply to both).
        let old = old
            .with_prefix(self.inner.prefix.clone())
            .with_egress(self.inner.egress.clone())
            .with_timeout(self.inner.timeout);
        let old = match self.inner.ip_limit {
            Some(ip) => old.with_ip_limit(ip.calls.get(), ip.window),
            None => old.with_ip_limit(0, Duration::ZERO),
        };
        Ok(self.rebuilt(|inner| inner.migrating_from = Some(old)))
    }

    /// Whether this store is on a Redis Cluster ([`cluster`](Self::cluster)).
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner.backend, Backend::Cluster { .. })
    }

    /// Names the keys as on a cluster ([`cluster`](Self::cluster): every key of an app under
    /// its hash tag, the egress window one share per app) while connecting to one endpoint:
    /// for a managed cluster edition in proxy mode (Alibaba Cloud Redis or Tair), where one
    /// address fronts the shards and a script must keep its keys in one slot. A fleet's
    /// members must agree: one with today's names beside one with these would have a budget
    /// each (move with [`migrating_from`](Self::migrating_from)).
    #[must_use]
    pub fn with_cluster_keys(self) -> Self {
        self.rebuilt(|inner| inner.cluster_keys = true)
    }

    /// Whether keys carry the app's hash tag: on a cluster, or asked for.
    fn hash_tagged(&self) -> bool {
        self.is_cluster() || self.inner.cluster_keys
    }

    fn single_client(&self) -> Result<&redis::Client, Error> {
        match &self.inner.backend {
            Backend::Single(client) => Ok(client),
            Backend::Cluster { .. } => Err(Error::Config("not a single Redis node".to_string())),
        }
    }

    /// What `Debug` and the logs show of an address: never a password.
    fn shown(addr: &redis::ConnectionAddr) -> String {
        match addr {
            redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}"),
            redis::ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}"),
            redis::ConnectionAddr::Unix(path) => format!("unix:{}", path.display()),
            _ => "redis".to_string(),
        }
    }

    /// Every key starts with `prefix` and a colon (default `dingtalk`): separate fleets, or
    /// environments, on one Redis.
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.rebuilt(|inner| {
            inner.migrating_from = inner
                .migrating_from
                .take()
                .map(|old| old.with_prefix(prefix.clone()));
            inner.prefix = prefix;
        })
    }

    /// The bound on each Redis command (default 200 ms); past it the client goes on without
    /// Redis for a second.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.rebuilt(|inner| {
            inner.migrating_from = inner
                .migrating_from
                .take()
                .map(|old| old.with_timeout(timeout));
            inner.timeout = timeout;
        })
    }

    /// The budget of calls per egress IP the fleet shares (default: DingTalk's, 10,000 calls
    /// in 20 s, past which DingTalk bans the IP for 5 minutes): every call of every app and
    /// API through this store also reserves a slot in it, in the same round trip as its
    /// API's. Calls are spaced evenly, so no 20-second window ever holds more than `calls`.
    /// Zero `calls` or a zero `window`: no window.
    #[must_use]
    pub fn with_ip_limit(self, calls: u32, window: Duration) -> Self {
        let limit = IpLimit::new(calls, window);
        self.rebuilt(|inner| {
            inner.migrating_from = inner
                .migrating_from
                .take()
                .map(|old| old.with_ip_limit(calls, window));
            inner.ip_limit = limit;
        })
    }

    /// Which egress IP this process's calls leave from, as a name of your choosing (an
    /// address, a NAT gateway, a host): processes naming the same egress share one window of
    /// [`with_ip_limit`](Self::with_ip_limit). The default, `shared`, takes the whole fleet to
    /// leave through one IP, which never lets an IP exceed DingTalk's limit; name each
    /// machine's own egress when they have their own addresses, to give each its own window.
    #[must_use]
    pub fn with_egress(self, egress: impl Into<String>) -> Self {
        let egress = egress.into();
        self.rebuilt(|inner| {
            inner.migrating_from = inner
                .migrating_from
                .take()
                .map(|old| old.with_egress(egress.clone()));
            inner.egress = egress;
        })
    }

    /// Trusts the certificate authorities in `pem` (one or more PEM `CERTIFICATE` blocks), and
    /// only them, for a `rediss://` server: a self-hosted Redis with a CA of its own. Without
    /// it, the server's certificate is checked against the system's trusted roots
    /// (rustls-native-certs). The host name or IP address of the URL must be in the
    /// certificate.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the URL is not `rediss://` or `pem` holds no usable certificate.
    pub fn with_root_certificates(self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let pem = pem.as_ref();
        let mut count = 0;
        for item in CertificateDer::pem_slice_iter(pem) {
            if item.is_err() {
                return Err(Error::Config(
                    "the Redis CA certificates are not valid PEM".to_string(),
                ));
            }
            count += 1;
        }
        if count == 0 {
            return Err(Error::Config(
                "no certificate (-----BEGIN CERTIFICATE-----) in the Redis CA certificates"
                    .to_string(),
            ));
        }
        let mut tls = self.inner.tls.clone();
        tls.root_cert = Some(pem.to_vec());
        self.with_tls(tls, "CA certificate")
    }

    /// Presents this client certificate (PEM `CERTIFICATE` blocks, the client's first) and its
    /// private key (PEM, PKCS#8, PKCS#1 or SEC1) to a `rediss://` server that requires them
    /// (`tls-auth-clients yes`): mutual TLS. The key is never shown.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the URL is not `rediss://`, `certificate` holds no certificate or
    /// `key` no private key.
    pub fn with_client_certificate(
        self,
        certificate: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Self, Error> {
        let (certificate, key) = (certificate.as_ref(), key.as_ref());
        let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(certificate).collect();
        if !certificates.is_ok_and(|c| !c.is_empty()) {
            return Err(Error::Config(
                "no certificate (-----BEGIN CERTIFICATE-----) in the Redis client certificate"
                    .to_string(),
            ));
        }
        // The parser's error may quote a line of the key: only what is wrong is said.
        if PrivateKeyDer::from_pem_slice(key).is_err() {
            return Err(Error::Config(
                "no private key (PEM: PKCS#8, PKCS#1 or SEC1) in the Redis client key".to_string(),
            ));
        }
        let mut tls = self.inner.tls.clone();
        tls.client_tls = Some(redis::ClientTlsConfig {
            client_cert: certificate.to_vec(),
            client_key: key.to_vec(),
        });
        self.with_tls(tls, "client certificate")
    }

    fn with_tls(self, tls: redis::TlsCertificates, what: &str) -> Result<Self, Error> {
        let first = match &self.inner.backend {
            Backend::Single(client) => client.get_connection_info(),
            Backend::Cluster { nodes, .. } => &nodes[0],
        };
        if !matches!(first.addr(), redis::ConnectionAddr::TcpTls { .. }) {
            return Err(Error::Config(format!(
                "a Redis {what} is for a rediss:// URL (TLS); {} is not one",
                self.inner.shown
            )));
        }
        let backend = match &self.inner.backend {
            Backend::Single(client) => Backend::Single(Box::new(
                redis::Client::build_with_tls(client.get_connection_info().clone(), tls.clone())
                    .map_err(|e| {
                        // Its text may quote the PEM: the kind only.
                        Error::Config(format!("unusable Redis {what}: {:?}", e.kind()))
                    })?,
            )),
            Backend::Cluster { nodes, .. } => Backend::Cluster {
                client: Box::new(cluster_client(nodes, Some(tls.clone()))?),
                nodes: nodes.clone(),
            },
        };
        Ok(self.rebuilt(|inner| {
            inner.backend = backend;
            inner.tls = tls;
        }))
    }

    /// A store on `backend` with every setting at its default (prefix, timeout, DingTalk's IP
    /// window, the default egress), as [`open`](Self::open) and [`cluster`](Self::cluster)
    /// make it.
    fn with_defaults(backend: Backend, tls: redis::TlsCertificates, shown: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                tls,
                shown,
                prefix: DEFAULT_REDIS_PREFIX.to_string(),
                timeout: DEFAULT_REDIS_TIMEOUT,
                ip_limit: Some(IpLimit::DINGTALK),
                egress: DEFAULT_EGRESS.to_string(),
                connection: Mutex::new(None),
                egress_apps: Mutex::new(1),
                migrating_from: None,
                cluster_keys: false,
                down_until: Mutex::new(None),
            }),
        }
    }

    fn rebuilt(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            backend: self.inner.backend.clone(),
            tls: self.inner.tls.clone(),
            shown: self.inner.shown.clone(),
            prefix: self.inner.prefix.clone(),
            timeout: self.inner.timeout,
            ip_limit: self.inner.ip_limit,
            egress: self.inner.egress.clone(),
            connection: Mutex::new(None),
            egress_apps: Mutex::new(1),
            migrating_from: self.inner.migrating_from.clone(),
            cluster_keys: self.inner.cluster_keys,
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

    /// The full Redis key for `key` (the prefix added): a key of its own, no other key in
    /// its script.
    pub(crate) fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.inner.prefix)
    }

    /// The key of `what` (`token`, `lock`, `rate:{operationId}`, `fleet`) for the app named
    /// `app` (`{edition-or-host}:{appKey}` or `…:{suiteKey}:{authCorpId}`). One node: today's
    /// names, `{prefix}:{what}:{app}` (the lock `{prefix}:lock:token:{app}`, a rate key
    /// `{prefix}:rate:{app}:{operationId}`). A cluster: `{{prefix}:{app}}:{what}`, every key
    /// of an app under one hash tag, so one slot.
    pub(crate) fn app_key(&self, app: &str, what: &str) -> String {
        let prefix = &self.inner.prefix;
        if self.hash_tagged() {
            return format!("{{{prefix}:{app}}}:{what}");
        }
        match what.split_once(':') {
            Some(("rate", operation)) => format!("{prefix}:rate:{app}:{operation}"),
            _ if what == "lock" => format!("{prefix}:lock:token:{app}"),
            _ => format!("{prefix}:{what}:{app}"),
        }
    }

    /// The egress IP's window as the app `app`'s calls take it: one node, the window itself
    /// (`{prefix}:ip:{egress}`, every app's); a cluster, the app's share of it, in the app's
    /// slot (`{{prefix}:{app}}:ip:{egress}`).
    fn ip_key(&self, app: &str) -> String {
        if self.hash_tagged() {
            self.app_key(app, &format!("ip:{}", self.inner.egress))
        } else {
            self.key(&format!("ip:{}", self.inner.egress))
        }
    }

    /// Microseconds between two calls of one app in the egress window: one node, the window's
    /// spacing; a cluster, that times the apps sharing it (each app's share).
    fn ip_interval_us(&self, ip: IpLimit) -> f64 {
        if self.hash_tagged() {
            let apps = *self
                .inner
                .egress_apps
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ip.interval_us() * f64::from(apps.max(1))
        } else {
            ip.interval_us()
        }
    }

    /// Cluster only: the set of apps sharing the egress window, in a slot of its own
    /// (`{{prefix}:ip:{egress}}:apps`).
    fn egress_apps_key(&self) -> String {
        format!("{{{}:ip:{}}}:apps", self.inner.prefix, self.inner.egress)
    }

    /// A connection, unless Redis failed a moment ago (then `None`, counted as a fallback).
    pub(crate) fn connection(&self, what: &'static str) -> Option<Connection> {
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
        let connection = match &self.inner.backend {
            Backend::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.inner.timeout))
                    .set_response_timeout(Some(self.inner.timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(10))
                    .set_max_delay(Duration::from_millis(100));
                ConnectionManager::new_lazy_with_config((**client).clone(), config)
                    .map(Connection::Single)
            }
            // Connects in the background; redirections, a new topology and a failed node's
            // replacement are followed by the cluster connection itself, each command within
            // this store's timeout (past it, the client goes on alone for a second).
            Backend::Cluster { client, .. } => {
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(self.inner.timeout)
                    .set_response_timeout(self.inner.timeout);
                Ok(Connection::Cluster(Box::new(
                    client.get_pending_async_connection_with_config(config),
                )))
            }
        };
        match connection {
            Ok(connection) => {
                *slot = Some(connection.clone());
                Some(connection)
            }
            Err(e) => {
                drop(slot);
                self.failed(what, &cause(&e));
                None
            }
        }
    }

    /// Runs one Redis command within the timeout; `None` (a fallback, warned and counted) if
    /// it fails or runs out.
    pub(crate) async fn run<T>(
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
            Ok(Err(e)) => {
                self.failed(what, &cause(&e));
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

    /// Releases the lock on a refresh if this process still holds it. A release that could
    /// not be sent (Redis failed or was slow) is tried again in the background,
    /// [`UNLOCK_RETRIES`] times a second apart, so that the others need not wait out the
    /// lease; past that, the lease expires.
    async fn unlock(&self, lock_key: &str, owner: &str) {
        if self.release(lock_key, owner).await {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, lock_key, owner) = (self.clone(), lock_key.to_string(), owner.to_string());
        runtime.spawn(async move {
            for _ in 0..UNLOCK_RETRIES {
                // Redis is asked again once the pause after its failure is over.
                tokio::time::sleep(RETRY_REDIS_AFTER).await;
                if store.release(&lock_key, &owner).await {
                    tracing::debug!(lock = %lock_key, "released the refresh lock on a retry");
                    return;
                }
            }
        });
    }

    /// One compare-and-delete of the lock; whether Redis answered.
    async fn release(&self, lock_key: &str, owner: &str) -> bool {
        let Some(mut connection) = self.connection("token") else {
            return false;
        };
        let script = redis::Script::new(RELEASE_LOCK);
        let released: Option<i64> = self
            .run("token", async {
                script
                    .key(lock_key)
                    .arg(owner)
                    .invoke_async(&mut connection)
                    .await
            })
            .await;
        released.is_some()
    }

    /// Stores `token` under `key` until `refresh_margin` before it expires, and releases the
    /// lock, in one script and only while `owner` still holds `lock_key`: `Some(true)` if
    /// stored, `Some(false)` if the lease had run out (nothing written), `None` if Redis failed
    /// (the release is then tried again).
    async fn store_token(
        &self,
        key: &str,
        lock_key: &str,
        owner: &str,
        token: &AccessToken,
        refresh_margin: Duration,
    ) -> Option<bool> {
        // A token of unknown lifetime is kept for DingTalk's documented 7,200 s.
        let lifetime = token.expires_in().unwrap_or(crate::DEFAULT_TOKEN_LIFETIME);
        let margin = refresh_margin.min(lifetime / 2);
        // Under a millisecond left: nothing stored, the lock released all the same.
        let ttl = millis(lifetime.saturating_sub(margin));
        let stored = match self.connection("token") {
            Some(mut connection) => {
                let value = format!("{}:{}", millis(margin), token.secret().expose());
                let script = redis::Script::new(STORE_TOKEN_FENCED);
                let stored: Option<i64> = self
                    .run("token", async {
                        script
                            .key(lock_key)
                            .key(key)
                            .arg(owner)
                            .arg(value)
                            .arg(ttl)
                            .invoke_async(&mut connection)
                            .await
                    })
                    .await;
                stored
            }
            None => None,
        };
        match stored {
            Some(stored) => Some(stored == 1),
            None => {
                self.unlock(lock_key, owner).await;
                None
            }
        }
    }

    /// Reserves one call of `app`'s `operation_id`, `interval` after the previous one, and a
    /// slot of the egress IP's window, waiting at most `max_wait` (the time left to the
    /// caller's deadline); `None`: Redis failed.
    pub(crate) async fn reserve(
        &self,
        app: &str,
        operation_id: &str,
        interval: Duration,
        max_wait: Duration,
    ) -> Option<Reservation> {
        let mut connection = self.connection("rate")?;
        let interval_us = (interval.as_secs_f64() * 1_000_000.0 / SHARED_RATE_HEADROOM).ceil();
        let script = redis::Script::new(GCRA);
        let mut invocation = script.key(self.app_key(app, &format!("rate:{operation_id}")));
        invocation
            .arg(format!("{interval_us:.0}"))
            .arg(u64::try_from(max_wait.as_micros()).unwrap_or(u64::MAX));
        match self.inner.ip_limit {
            Some(ip) => {
                invocation
                    .key(self.ip_key(app))
                    .arg(format!("{:.0}", self.ip_interval_us(ip)));
            }
            None => {
                invocation.arg("");
            }
        }
        // On a cluster, the app's failover mark (same hash tag, same slot).
        if self.hash_tagged() {
            invocation
                .key(self.app_key(app, "failover"))
                .arg(u64::try_from(AFTER_FAILOVER.as_micros()).unwrap_or(u64::MAX));
        }
        let started = Instant::now();
        let (reserved, wait_us, taken_ip, cautious_us): (i64, String, i64, String) = self
            .run("rate", invocation.invoke_async(&mut connection))
            .await?;
        let wait = Duration::from_micros(wait_us.parse().unwrap_or(0));
        let keep_to_share = Duration::from_micros(cautious_us.parse().unwrap_or(0));
        if !keep_to_share.is_zero() {
            tracing::debug!(
                app,
                operation_id,
                keep_to_share_ms = millis(keep_to_share),
                "the app's keys moved to another node (a failover): keeping to this client's share too"
            );
        }
        match reserved {
            1 => {}
            -1 => return Some(self.ip_window_full(wait)),
            _ => return Some(Reservation::Later(wait)),
        }
        if taken_ip == 1 {
            return Some(Reservation::Granted {
                wait,
                keep_to_share,
            });
        }
        // Queued behind calls of its API: the egress window's slot is taken when the API's
        // comes, for as long as the call may still wait. Without one, the call is not sent.
        tokio::time::sleep(wait).await;
        let left = max_wait.saturating_sub(started.elapsed());
        Some(match self.wait_for_ip_slot(app, left).await {
            Ok(wait) => Reservation::Granted {
                wait,
                keep_to_share,
            },
            Err(retry_after) => self.ip_window_full(retry_after),
        })
    }

    fn ip_window_full(&self, retry_after: Duration) -> Reservation {
        tracing::debug!(
            egress = %self.inner.egress,
            retry_after_ms = millis(retry_after),
            "no slot of the egress IP's window before the deadline; not sending"
        );
        Reservation::IpWindowFull {
            egress: self.inner.egress.clone(),
            retry_after,
        }
    }

    /// Reserves a slot of the egress IP's window alone, waiting at most `max_wait`, for a
    /// request no API budget covers (a token fetch: DingTalk counts those toward the IP limit
    /// too), or a queued call whose API slot has come: `Ok(wait)`: send after `wait`;
    /// `Err(retry_after)`: no slot within `max_wait`, nothing reserved, and the request must
    /// not be sent. Without a window, or when Redis fails (the client then goes on alone, as
    /// everywhere), `Ok(ZERO)`.
    async fn wait_for_ip_slot(&self, app: &str, max_wait: Duration) -> Result<Duration, Duration> {
        let Some(ip) = self.inner.ip_limit else {
            return Ok(Duration::ZERO);
        };
        let Some(mut connection) = self.connection("rate") else {
            return Ok(Duration::ZERO);
        };
        let script = redis::Script::new(GCRA);
        let mut invocation = script.key(self.ip_key(app));
        invocation
            .arg(format!("{:.0}", self.ip_interval_us(ip)))
            .arg(u64::try_from(max_wait.as_micros()).unwrap_or(u64::MAX));
        let reserved: Option<(i64, String, i64, String)> = self
            .run("rate", invocation.invoke_async(&mut connection))
            .await;
        match reserved {
            Some((reserved, wait_us, _, _)) => {
                let wait = Duration::from_micros(wait_us.parse().unwrap_or(0));
                if reserved == 1 { Ok(wait) } else { Err(wait) }
            }
            None => Ok(Duration::ZERO),
        }
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
        if let Some(old) = &self.inner.migrating_from {
            // Counted on the old Redis, where the members still there count; the cluster's
            // count is raised to it, so that it goes on from there once the move is over.
            let counted = Box::pin(old.count_month(organisation, month, limit)).await;
            let n = match counted {
                Some(Ok(n) | Err(n)) => n,
                None => return self.count_month_here(organisation, month, limit).await,
            };
            let mut connection = self.connection("month")?;
            let key = self.key(&format!("month:{organisation}:{month}"));
            let script = redis::Script::new(RAISE_MONTH);
            let _: Option<i64> = self
                .run("month", async {
                    script
                        .key(&key)
                        .arg(n)
                        .arg(millis(MONTH_KEY_LIFETIME))
                        .invoke_async(&mut connection)
                        .await
                })
                .await;
            return counted;
        }
        self.count_month_here(organisation, month, limit).await
    }

    /// [`count_month`](Self::count_month) on this store's own Redis.
    async fn count_month_here(
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

/// What went wrong, for the warning: Redis's error kind, and for an I/O error (refused, reset,
/// a certificate rejected) its cause too. Never the error's whole text: it may quote a
/// command's arguments.
fn cause(e: &redis::RedisError) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(io) if e.is_io_error() => format!("{:?}: {io}", e.kind()),
        _ => format!("{:?}", e.kind()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A random owner value for a lock: nobody else's release can delete it.
pub(crate) fn owner() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

// events: what a fleet's shared events (`crate::events::fleet`) need of the store.
#[cfg(feature = "events")]
impl RedisStore {
    /// A connection of its own for a reader that blocks (`XREAD BLOCK`): a blocked command
    /// would hold every other command queued behind it on the shared connection, and outlast
    /// the store's timeout. Its answers may take `block` beyond that timeout.
    pub(crate) fn blocking_connection(&self, block: Duration) -> redis::RedisResult<Connection> {
        let response = self.inner.timeout.saturating_add(block);
        match &self.inner.backend {
            Backend::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.inner.timeout))
                    .set_response_timeout(Some(response))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(10))
                    .set_max_delay(Duration::from_millis(100));
                ConnectionManager::new_lazy_with_config((**client).clone(), config)
                    .map(Connection::Single)
            }
            Backend::Cluster { client, .. } => {
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(self.inner.timeout)
                    .set_response_timeout(response);
                Ok(Connection::Cluster(Box::new(
                    client.get_pending_async_connection_with_config(config),
                )))
            }
        }
    }

    /// What logs may show of the server: its host and port, never a password.
    pub(crate) fn shown_server(&self) -> &str {
        &self.inner.shown
    }
}

impl RedisStore {
    /// For the token store's `key` (`token:{edition-or-host}:{appKey}`): the app it names, the
    /// token's key and its refresh lock's key.
    fn token_keys<'k>(&self, key: &'k str) -> (&'k str, String, String) {
        let app = key.strip_prefix("token:").unwrap_or(key);
        if self.hash_tagged() {
            (app, self.app_key(app, "token"), self.app_key(app, "lock"))
        } else {
            (app, self.key(key), self.key(&format!("lock:{key}")))
        }
    }
}

impl TokenStore for RedisStore {
    fn token<'a>(
        &'a self,
        key: &'a str,
        source: &'a dyn TokenProvider,
        refresh_margin: Duration,
    ) -> TokenFuture<'a> {
        self.token_within(key, source, refresh_margin, crate::DEFAULT_TIMEOUT)
    }

    fn token_within<'a>(
        &'a self,
        key: &'a str,
        source: &'a dyn TokenProvider,
        refresh_margin: Duration,
        fetch_timeout: Duration,
    ) -> TokenFuture<'a> {
        if let Some(old) = &self.inner.migrating_from {
            return old.token_within(key, source, refresh_margin, fetch_timeout);
        }
        Box::pin(async move {
            let (app, token_key, lock_key) = self.token_keys(key);
            let mut poll = POLL_INITIAL;
            loop {
                match self.read_token(&token_key).await {
                    Some(Some(token)) => return Ok(token),
                    Some(None) => {}
                    None => return source.fetch_token().await,
                }
                let me = owner();
                // Held for as long as one fetch may take, and a margin for storing what it
                // fetched: a slow fetch still running is never doubled. A holder that dies
                // frees it then.
                let hold = fetch_timeout
                    .saturating_add(LEASE_MARGIN)
                    .saturating_add(self.inner.timeout);
                match self.lock(&lock_key, &me, hold).await {
                    None => return source.fetch_token().await,
                    Some(true) => {
                        // Someone may have stored a token between the read and the lock.
                        if let Some(Some(token)) = self.read_token(&token_key).await {
                            self.unlock(&lock_key, &me).await;
                            return Ok(token);
                        }
                        tracing::debug!(key = %token_key, "fetching the fleet's token");
                        // The fetch counts toward the egress IP's window; without a slot it
                        // is not sent. A quarter of the fetch's bound is left for the fetch.
                        match self.wait_for_ip_slot(app, fetch_timeout / 4).await {
                            Ok(wait) => tokio::time::sleep(wait).await,
                            Err(retry_after) => {
                                self.unlock(&lock_key, &me).await;
                                tracing::debug!(
                                    key = %token_key,
                                    retry_after_ms = millis(retry_after),
                                    "no slot of the egress IP's window for the token fetch"
                                );
                                return Err(Error::IpWindowFull {
                                    egress: self.inner.egress.clone(),
                                    retry_after,
                                });
                            }
                        }
                        let fetched = source.fetch_token().await;
                        let Ok(token) = &fetched else {
                            self.unlock(&lock_key, &me).await;
                            return fetched;
                        };
                        let stored = self
                            .store_token(&token_key, &lock_key, &me, token, refresh_margin)
                            .await;
                        if stored == Some(false) {
                            // The lease ran out mid-fetch and another process may have stored
                            // a newer token: that one is kept, and handed out here too.
                            tracing::warn!(
                                key = %token_key,
                                lease_ms = millis(hold),
                                "the refresh lock's lease ran out before the token was stored; \
                                 the fleet's newer token, if any, is kept"
                            );
                            if let Some(Some(newer)) = self.read_token(&token_key).await {
                                return Ok(newer);
                            }
                        }
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
        if let Some(old) = &self.inner.migrating_from {
            return old.evict(key, token);
        }
        Box::pin(async move {
            let Some(mut connection) = self.connection("token") else {
                return;
            };
            let (_, key, _) = self.token_keys(key);
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

/// What a refresh lock's lease adds to the token fetch timeout (with the Redis command
/// timeout): time to store the token once fetched. A holder that dies frees the lock after
/// the fetch timeout and this.
const LEASE_MARGIN: Duration = Duration::from_secs(1);

/// How many times a release of the refresh lock that could not be sent is tried again.
const UNLOCK_RETRIES: u32 = 3;

/// The fleet's rate budget for one app: one GCRA key per API, and the fleet's members.
pub(crate) struct RedisRate {
    store: RedisStore,
    /// `{edition-or-host}:{appKey}` (or `…:{suiteKey}:{authCorpId}`): the app whose keys
    /// these are.
    app: String,
    member: String,
    /// When this client last said it is a member, and how many members there were then.
    seen: Mutex<(Option<Instant>, u32)>,
}

/// Says this client is a member of the fleet and counts the members seen within ARGV[2]
/// microseconds (of Redis's `TIME`): a sorted set scored by when each was last seen.
const FLEET_MEMBER: &str = include_str!("fleet_member.lua");

/// How often a client says it is a member (one round trip, when it is making calls).
const MEMBER_EVERY: Duration = Duration::from_secs(1);
/// A member not seen for this long is no longer counted.
const MEMBER_FOR: Duration = Duration::from_secs(10);

impl RedisRate {
    /// The fleet's budget for the app named by `scope_and_app`
    /// (`{edition-or-host}:{appKey}` or `…:{suiteKey}:{authCorpId}`).
    pub(crate) fn new(store: RedisStore, scope_and_app: &str) -> Self {
        Self {
            store,
            app: scope_and_app.to_string(),
            member: owner(),
            seen: Mutex::new((None, 1)),
        }
    }

    /// Counts this client as a member, at most once per [`MEMBER_EVERY`].
    async fn say_member(&self) {
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if seen
                .0
                .is_some_and(|at| now.duration_since(at) < MEMBER_EVERY)
            {
                return;
            }
            seen.0 = Some(now);
        }
        let Some(mut connection) = self.store.connection("rate") else {
            return;
        };
        let script = redis::Script::new(FLEET_MEMBER);
        let mut invocation = script.key(self.store.app_key(&self.app, "fleet"));
        invocation
            .arg(&self.member)
            .arg(u64::try_from(MEMBER_FOR.as_micros()).unwrap_or(u64::MAX));
        let members: Option<u32> = self
            .store
            .run("rate", invocation.invoke_async(&mut connection))
            .await;
        // Moving from one Redis: the members still there are counted there (the fleet is the
        // larger of the two counts: nobody is only on one while others are only on the other).
        let old_members = match &self.store.inner.migrating_from {
            Some(old) => match old.connection("rate") {
                Some(mut old_connection) => {
                    let mut invocation = script.key(old.app_key(&self.app, "fleet"));
                    invocation
                        .arg(&self.member)
                        .arg(u64::try_from(MEMBER_FOR.as_micros()).unwrap_or(u64::MAX));
                    old.run::<u32>("rate", invocation.invoke_async(&mut old_connection))
                        .await
                }
                None => None,
            },
            None => None,
        };
        if let Some(members) = members.max(old_members) {
            self.seen.lock().unwrap_or_else(PoisonError::into_inner).1 = members.max(1);
        }
        // On a cluster, each app keeps its share of the egress window in its own slot: the
        // apps sharing the window are counted the same way as the members (one more round
        // trip a second, to the window's own slot), and the share follows as they come and go.
        if self.store.hash_tagged() && self.store.inner.ip_limit.is_some() {
            let mut invocation = script.key(self.store.egress_apps_key());
            invocation
                .arg(&self.app)
                .arg(u64::try_from(MEMBER_FOR.as_micros()).unwrap_or(u64::MAX));
            let apps: Option<u32> = self
                .store
                .run("rate", invocation.invoke_async(&mut connection))
                .await;
            if let Some(apps) = apps {
                *self
                    .store
                    .inner
                    .egress_apps
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = apps.max(1);
            }
        }
    }
}

/// The stricter of two reservations of one call.
fn stricter(a: Reservation, b: Reservation) -> Reservation {
    match (a, b) {
        (
            Reservation::IpWindowFull {
                egress,
                retry_after,
            },
            _,
        )
        | (
            _,
            Reservation::IpWindowFull {
                egress,
                retry_after,
            },
        ) => Reservation::IpWindowFull {
            egress,
            retry_after,
        },
        (Reservation::Later(a), Reservation::Later(b)) => Reservation::Later(a.max(b)),
        (Reservation::Later(w), Reservation::Granted { .. })
        | (Reservation::Granted { .. }, Reservation::Later(w)) => Reservation::Later(w),
        (
            Reservation::Granted {
                wait: a,
                keep_to_share: x,
            },
            Reservation::Granted {
                wait: b,
                keep_to_share: y,
            },
        ) => Reservation::Granted {
            wait: a.max(b),
            keep_to_share: x.max(y),
        },
    }
}

impl fmt::Debug for RedisRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRate")
            .field("store", &self.store)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl crate::limits::SharedRate for RedisRate {
    fn reserve<'a>(
        &'a self,
        operation_id: &'static str,
        interval: Duration,
        max_wait: Duration,
    ) -> BoxFuture<'a, Option<Reservation>> {
        Box::pin(async move {
            self.say_member().await;
            let here = self
                .store
                .reserve(&self.app, operation_id, interval, max_wait);
            let Some(old) = &self.store.inner.migrating_from else {
                return here.await;
            };
            // Moving from one Redis: the slot on both, the later of the two (a slot taken on
            // one and not used is lost, never doubled).
            let (here, there) = futures_util::future::join(
                here,
                old.reserve(&self.app, operation_id, interval, max_wait),
            )
            .await;
            match (here, there) {
                (Some(a), Some(b)) => Some(stricter(a, b)),
                (a, b) => a.or(b),
            }
        })
    }

    fn share_when_alone(&self) -> f64 {
        let members = self.seen.lock().unwrap_or_else(PoisonError::into_inner).1;
        if members <= 1 {
            1.0
        } else {
            f64::from(members) / SHARED_RATE_HEADROOM
        }
    }
}
