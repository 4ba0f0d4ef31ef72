//! A stateful fake DingTalk server for tests, the quick start and your own tests.
//!
//! [`MockServer`] is a real HTTP/1.1 server on `127.0.0.1` (hyper, one task per connection,
//! keep-alive) that serves every operation of `spec/dingtalk-conference.yaml` the way DingTalk
//! does:
//!
//! | operation | route |
//! |---|---|
//! | internal app token | `POST /v1.0/oauth2/accessToken` with `{"appKey","appSecret"}` |
//! | third-party app token | `POST /v1.0/oauth2/corpAccessToken` with `{"suiteKey","suiteSecret","authCorpId","suiteTicket"}` |
//! | query conference info | `GET /v1.0/conference/videoConferences/{conferenceId}` |
//! | create a conference | `POST /v1.0/conference/videoConferences` |
//! | close a conference (host only) | `DELETE /v1.0/conference/videoConferences/{conferenceId}?unionId=` |
//! | query conferences in progress, at most [`MAX_BATCH_IDS`] | `POST /v1.0/conference/videoConferences/query` |
//! | conferences by room code, paged ([`DEFAULT_ROOM_CODE_PAGE_SIZE`]) | `GET /v1.0/conference/roomCodes/{roomCode}/infos` |
//! | members, paged ([`DEFAULT_MEMBERS_PAGE_SIZE`]) | `GET /v1.0/conference/videoConferences/{conferenceId}/members` |
//! | cloud recording videos | `GET …/{conferenceId}/cloudRecords/getVideos` |
//! | a video's play links | `GET …/{conferenceId}/cloudRecords/videos/getPlayInfos` |
//! | the transcript, paged ([`DEFAULT_TRANSCRIPT_PAGE_SIZE`]) | `GET …/{conferenceId}/cloudRecords/getTexts` |
//!
//! Every operation but the two token ones needs the header `x-acs-dingtalk-access-token`
//! (without a valid token: `400 InvalidAuthentication`). What each answers, and the choices
//! made where DingTalk documents nothing, are on [`seeded`] and the constants below.
//!
//! The state is consistent across operations: a created conference is in the info, batch and
//! room-code answers and its members match its counts; closing one ends it, its members leave
//! and the batch query no longer answers for it; `activeNum` is the members in the conference,
//! `attendNum` those who ever joined.
//!
//! What it keeps, and what a test can change while it runs:
//!
//! - **Credentials and tokens.** The app [`DEFAULT_APP_KEY`]/[`DEFAULT_APP_SECRET`] and the
//!   suite [`DEFAULT_SUITE_KEY`]/[`DEFAULT_SUITE_SECRET`] for [`DEFAULT_CORP_ID`] with
//!   [`DEFAULT_SUITE_TICKET`] are registered from the start. An internal app asking again within
//!   its token's lifetime gets the same token, its expiry extended; a corp token is new every
//!   time (whether the earlier ones stay valid is an option, below). Tokens can be expired at
//!   will ([`MockServer::expire_all_tokens`]) and the suite ticket rotated
//!   ([`MockServer::set_suite_ticket`]).
//! - **Conferences.** Seeded with realistic, fixed data (see [`seeded`]): members, a finished
//!   cloud recording with its transcript, a room code shared by a recurring meeting's
//!   instances. Create and close them over HTTP, add, change or remove them here, and script
//!   status changes over time ([`MockServer::script_status`]).
//! - **Faults.** DingTalk errors, throttling, `429` with `Retry-After`, the IP-ban pages, bodies
//!   that are not JSON or cut short, slow headers, slow bodies, dropped connections, redirects and
//!   any raw body, each for a chosen set of requests ([`FaultScope`], [`Fault`]): the next
//!   requests, one operation by its `operationId` (and resource id: conference id or room
//!   code), one conference id.
//! - **Routing by the spec.** Requests are matched to operations by the spec's path templates
//!   (`dingtalk_conference_api::spec_constants::OPERATIONS`, written by `cargo xtask codegen`);
//!   an operation of the spec that has no handler here yet is answered `501`, and a unit test
//!   fails until it has one.
//! - **Requests parsed from the spec.** Path, query and body become the operation's typed
//!   request (`src/requests_generated.rs`, written by `cargo xtask codegen`), checked by the
//!   spec's own checks (`dingtalk_conference_api::checks`, the same the facade and the CLI
//!   run); a missing, malformed or invalid argument gets the error DingTalk documents for that
//!   operation (`missingRoomId`, `invalidRoomCode`, `paramsError`, `paramsTitleError`,
//!   `Missingbody`, …). A handler is only the state logic: typed request in, typed answer out.
//! - **DingTalk's limits**, off unless configured: see [Limits](#limits).
//! - **Options** of [`MockConfig`] (and the binary's flags) besides the limits:
//!
//!   | option | setting | flag | default |
//!   |---|---|---|---|
//!   | token lifetime, and the `expireIn` announced | [`MockConfig::with_token_lifetime`] | `--token-lifetime SECS` | [`DEFAULT_TOKEN_LIFETIME`] (7200 s) |
//!   | the [`seeded`] conferences | [`MockConfig::with_seed`] | `--no-seed` | seeded |
//!   | a new corp token invalidates the earlier ones of its suite and organisation at once (`400 InvalidAuthentication`, counted in [`Counters::rejected_tokens`]): DingTalk's "token is not the latest", for fleets that refresh on their own | [`MockConfig::with_corp_token_invalidation`], [`MockServer::set_corp_token_invalidation`] | `--invalidate-previous-corp-token` | off: earlier corp tokens stay valid until they expire |
//!   | the Stream gateway sends an event again after an ACK `LATER`, or after no ACK, once this has passed | [`MockConfig::with_event_redelivery`] | `--event-redelivery SECS` | [`DEFAULT_EVENT_REDELIVERY`] (5 s) |
//!   | the Stream gateway's SYSTEM `ping` frames, per connection | [`MockConfig::with_gateway_ping`] | `--gateway-ping SECS\|off` | every [`DEFAULT_GATEWAY_PING`] (30 s) |
//! - **A Stream mode gateway** (part gateway), as DingTalk's `api.dingtalk.com` serves it:
//!   `POST /v1.0/gateway/connections/open` with an app's (or a suite's) key and secret answers
//!   `{"endpoint": "ws://127.0.0.1:PORT/connect", "ticket"}` (a ticket is valid
//!   [`TICKET_LIFETIME`], for one connection), and the WebSocket on the same listener delivers
//!   every emitted event ([`MockServer::emitted_events`]) as an EVENT frame to one open
//!   connection chosen at random, again until it is ACKed `SUCCESS` (after an ACK `LATER` or
//!   none, once [`MockConfig::event_redelivery`] has passed); it sends `ping` frames
//!   ([`MockConfig::gateway_ping`]) and, on demand, `disconnect`
//!   ([`MockServer::gateway_disconnect`]), duplicates, silence and raw frames; it counts ACKs
//!   ([`MockServer::gateway_acks`], [`GatewayStats`]). The open endpoint takes faults like an
//!   operation, by [`GATEWAY_OPEN_OPERATION`].
//! - **A log.** Every request as received ([`MockServer::requests`]) and [`Counters`].
//! - **Control from another process.** Outside DingTalk's API, `GET /__mock/counters` returns the
//!   [`Counters`] as JSON, `POST /__mock/expire-tokens` expires every token and
//!   `POST /__mock/reset-quota` starts a new month for the quota, `POST /__mock/join` with
//!   `{"conferenceId", "unionId", "nick"}` has a person join ([`MockServer::join`]),
//!   `POST /__mock/events/emit` with `{"eventType", "data", "corpId"?}` emits an event, `GET
//!   /__mock/gateway` returns the [`GatewayStats`], and `POST /__mock/gateway/disconnect`,
//!   `/duplicate-next`, `/send-raw` (the frame as the body), `/silence` and `/refuse-tickets`
//!   (both with `{"on": bool}`) drive the gateway; these requests are not logged, counted,
//!   limited or faulted.
//!
//! Every response carries `x-acs-request-id` (DingTalk's format, unique per request) and
//! `x-acs-trace-id`; error bodies are DingTalk's `{"code","requestid","message"}` with the same
//! request id. The crate also builds the `dingtalk-conference-mock` binary, which serves the same
//! on a port of your choice until Ctrl-C, and `conformance/run.sh` checks every answer the server
//! gives against the spec with schemathesis.
//!
//! # Limits
//!
//! So that a client can be measured against DingTalk's limits, the server enforces them when
//! [`MockConfig`] asks (each is off by default; [`MockConfig::dingtalk_limits`] turns all three
//! on with DingTalk's numbers, and [`MockServer`] changes them while it runs):
//!
//! | limit | setting | DingTalk's number | answer beyond it |
//! |---|---|---|---|
//! | calls per second, per app and per API | [`MockConfig::qps_limit`] | [`DINGTALK_QPS_LIMIT`]: 20 | `403` [`QPS_LIMIT_CODE`] (a third-party app: [`SUITE_QPS_LIMIT_CODE`]), DingTalk's error body, as [`Fault::Throttle`] sends it |
//! | requests per IP in a sliding window, then a ban | [`MockConfig::ip_limit`], [`MockConfig::ip_ban`] | [`DINGTALK_IP_LIMIT`]: 10,000 in 20 s, [`DINGTALK_IP_BAN`]: 5 minutes | the HTML ban page of [`Fault::IpBanHtml`] for every request until the ban ends |
//! | conference calls per organisation per month | [`MockConfig::monthly_quota`] | [`DINGTALK_MONTHLY_QUOTA`]: 5,000 (illustrative) | `403` [`QUOTA_CODE`] for every conference call until [`MockServer::reset_quota`] |
//!
//! - **"Per app"** is per credential a token was issued to: an internal app's key, or a
//!   third-party suite key together with the authorising organisation. [`MockServer::issue_token`]
//!   issues tokens of [`DEFAULT_APP_KEY`]. **"Per API"** is per `operationId`.
//! - **Token requests** (`getAccessToken`, `getCorpAccessToken`) are neither limited per second
//!   nor counted in the quota. DingTalk exempts them from the quota; it documents no per-second
//!   number of their own, and a client that caches its token rarely asks, so the fake leaves
//!   them unlimited rather than refuse token fetches a test does not mean to measure. They do
//!   count toward the IP limit, as every request does.
//! - **Order**: the IP limit comes first, in front of everything (a banned request uses up no
//!   fault); then faults; then, for a conference call with a valid token, the quota, then the
//!   per-second limit, then the operation. Only an admitted call counts toward the quota and
//!   the per-second limit; a call with an invalid token counts toward neither.
//! - **Counting** is exact, on Tokio's clock or a [`ManualClock`]: the per-second limit counts
//!   per whole second since the server started; the IP limit keeps each IP's recent request
//!   times. [`Counters`] report each kind of refusal.
//!
//! ```
//! use std::time::Duration;
//! use dingtalk_conference_mock::{ManualClock, MockConfig, MockServer, seeded};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let clock = ManualClock::new();
//!     let config = MockConfig::new().with_qps_limit(Some(2)).with_limit_clock(clock.clone());
//!     let server = MockServer::start_with(config).await?;
//!     let token = server.issue_token();
//!     let url = format!("{}/v1.0/conference/videoConferences/{}", server.base_url(), seeded::STARTED);
//!     let client = reqwest::Client::builder().no_proxy().build()?;
//!     let mut statuses = Vec::new();
//!     for _ in 0..3 {
//!         let response = client.get(&url).header("x-acs-dingtalk-access-token", &token).send().await?;
//!         statuses.push(response.status().as_u16());
//!     }
//!     assert_eq!(statuses, [200, 200, 403]);
//!     assert_eq!(server.counters().qps_throttled, 1);
//!
//!     // The next second brings the budget back.
//!     clock.advance(Duration::from_secs(1));
//!     let response = client.get(&url).header("x-acs-dingtalk-access-token", &token).send().await?;
//!     assert_eq!(response.status(), 200);
//!     Ok(())
//! }
//! ```
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use dingtalk_conference_mock::{Fault, FaultScope, MockServer, seeded};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = MockServer::start().await?;
//!     let token = server.issue_token();
//!
//!     // The next conference request is throttled; the one after it succeeds.
//!     server.push_fault(
//!         FaultScope::NextConferenceRequests(1),
//!         Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
//!     );
//!     let url = format!("{}/v1.0/conference/videoConferences/{}", server.base_url(), seeded::STARTED);
//!     // No proxy: a proxy from the environment must not carry loopback requests.
//!     let client = reqwest::Client::builder().no_proxy().build()?;
//!     let throttled = client.get(&url).header("x-acs-dingtalk-access-token", &token).send().await?;
//!     assert_eq!(throttled.status(), 403);
//!     let ok = client.get(&url).header("x-acs-dingtalk-access-token", &token).send().await?;
//!     assert_eq!(ok.status(), 200);
//!
//!     let counters = server.counters();
//!     assert_eq!((counters.conference_requests, counters.faults_served), (2, 1));
//!
//!     // Scripted: the started meeting ends a moment from now.
//!     server.script_status(seeded::STARTED, vec![(Duration::from_millis(10), 1)]);
//!     tokio::time::sleep(Duration::from_millis(20)).await;
//!     assert_eq!(server.conference(seeded::STARTED).and_then(|c| c.status), Some(1));
//!
//!     server.shutdown().await;
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]

mod events;
mod fault;
mod handlers;
mod limits;
mod reply;
mod requests;
#[allow(missing_docs, unreachable_pub, clippy::style)]
mod requests_generated;
mod routes;
mod seed;
mod server;
mod state;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference_api::types::{
    CloudRecordVideo, ConferenceInfo, ConferenceMember, TranscriptParagraph,
};
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod cli;

pub use events::{EMITTED_EVENTS_KEPT, MockEvent};
// part gateway
pub use events::gateway::{
    CONNECTION_QUEUE, DEFAULT_EVENT_REDELIVERY, DEFAULT_GATEWAY_PING, DISCONNECT_GRACE,
    GATEWAY_OPEN_OPERATION, GatewayAcks, GatewayStats, MAX_CLIENT_MESSAGE, MAX_PENDING,
    SEND_TIMEOUT, TICKET_LIFETIME,
};
pub use fault::{Fault, FaultScope};
pub use handlers::{
    DEFAULT_DATA_PAGE_SIZE, DEFAULT_MEMBERS_PAGE_SIZE, DEFAULT_ORG_CONFERENCES_PAGE_SIZE,
    DEFAULT_ROOM_CODE_PAGE_SIZE, DEFAULT_SCHEDULE_CONFERENCES_PAGE_SIZE,
    DEFAULT_TRANSCRIPT_PAGE_SIZE, MAX_BATCH_IDS, MAX_METRIC_SAMPLES, MAX_SCHEDULE_EXTENSION_APPS,
    MAX_TRANSCRIPT_PAGE_SIZE, MEETING_LINK_PREFIXES, METRIC_INTERVAL_MS,
};
// part record-stream
pub use handlers::{ALLOW_LIST_ADD, ALLOW_LIST_REMOVE};
// part minutes
pub use handlers::{DEFAULT_MINUTES_PAGE_SIZE, MINUTES_LINE_MS};
pub use limits::{
    DINGTALK_IP_BAN, DINGTALK_IP_LIMIT, DINGTALK_MONTHLY_QUOTA, DINGTALK_QPS_LIMIT, IpLimit,
    ManualClock, QPS_LIMIT_CODE, QUOTA_CODE, SUITE_QPS_LIMIT_CODE,
};
pub use seed::seeded;
pub use state::JoinRefusal;

// part push
pub use events::push::{
    DEFAULT_PUSH_AES_KEY, DEFAULT_PUSH_OWNER_KEY, DEFAULT_PUSH_REPLY_TIMEOUT,
    DEFAULT_PUSH_RETRY_DELAYS, DEFAULT_PUSH_TOKEN, PushConfig, PushError, PushFailure,
};

use state::{MemberRecord, Recording, Shared};

/// The internal app key registered on every server.
pub const DEFAULT_APP_KEY: &str = "mock-app-key";
/// The secret of [`DEFAULT_APP_KEY`].
pub const DEFAULT_APP_SECRET: &str = "mock-app-secret";
/// The third-party (suite) app key registered on every server.
pub const DEFAULT_SUITE_KEY: &str = "mock-suite-key";
/// The secret of [`DEFAULT_SUITE_KEY`].
pub const DEFAULT_SUITE_SECRET: &str = "mock-suite-secret";
/// The organisation that has authorised [`DEFAULT_SUITE_KEY`], and the one every internal app
/// belongs to (whose monthly quota their calls spend).
pub const DEFAULT_CORP_ID: &str = "mock-corp-id";
/// The current suite ticket of [`DEFAULT_SUITE_KEY`] (until
/// [`MockServer::set_suite_ticket`] changes it).
pub const DEFAULT_SUITE_TICKET: &str = "mock-suite-ticket";

/// DingTalk's token lifetime, and the server's default: 7200 seconds.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// How a [`MockServer`] starts.
///
/// DingTalk's call limits (per app and API per second, per IP, per organisation per month; see
/// [`limits`](crate#limits)) are all **off** by default; [`MockConfig::dingtalk_limits`] turns
/// them all on with DingTalk's numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockConfig {
    /// How long an issued token stays valid, and the `expireIn` it is announced with (whole
    /// seconds, rounded down). Default: 7200 s.
    pub token_lifetime: Duration,
    /// Whether to start with the [`seeded`] conferences. Default: `true`.
    pub seed: bool,
    /// The port on `127.0.0.1`; `0` (the default) lets the system pick a free one.
    pub port: u16,
    /// Calls allowed per second per app (per credential a token was issued to) and per API
    /// (per `operationId`); the calls beyond get `403
    /// Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` ([`QPS_LIMIT_CODE`]; a third-party
    /// app's token gets [`SUITE_QPS_LIMIT_CODE`]). Token requests are not limited. `None`
    /// (the default): no limit. DingTalk: [`DINGTALK_QPS_LIMIT`].
    pub qps_limit: Option<u32>,
    /// Requests allowed from one IP within a sliding window, all routes together (token
    /// requests and unknown routes too); the request beyond bans the IP for
    /// [`MockConfig::ip_ban`]. `None` (the default): no limit. DingTalk:
    /// [`DINGTALK_IP_LIMIT`].
    pub ip_limit: Option<IpLimit>,
    /// How long an IP that went over [`MockConfig::ip_limit`] is answered the ban page.
    /// Default: [`DINGTALK_IP_BAN`] (5 minutes).
    pub ip_ban: Duration,
    /// Conference calls allowed per organisation until [`MockServer::reset_quota`] (a month
    /// never passes in a test); then every conference call of the organisation gets `403
    /// Forbidden.AccessDenied.ApiCountLimitForOrg` ([`QUOTA_CODE`]). Token requests do not
    /// count. `None` (the default): no quota. Illustrative: [`DINGTALK_MONTHLY_QUOTA`].
    pub monthly_quota: Option<u64>,
    /// The clock the limits count time by: `None` (the default) for Tokio's clock (which a
    /// test can pause and advance), or a [`ManualClock`] the test moves by hand.
    pub limit_clock: Option<ManualClock>,
    /// HTTP push: where and how the fake posts every event it emits, encrypted as DingTalk
    /// does ([`PushConfig`]). Default: no URL, no push.
    pub push: PushConfig,
    /// Whether issuing a corp token (`getCorpAccessToken`) invalidates, at once, every token
    /// issued earlier to the same suite key for the same organisation: they get `400
    /// InvalidAuthentication`, exactly as an expired token does (counted in
    /// [`Counters::rejected_tokens`]). DingTalk does not document whether an earlier token
    /// stays valid; this is the worst case, behind the "token is not the latest" failures of
    /// processes that refresh on their own. Internal apps' tokens are not affected. Default:
    /// `false` (earlier corp tokens stay valid until they expire).
    pub invalidate_previous_corp_tokens: bool,
    // part gateway
    /// How long the Stream gateway waits for an event's ACK before it sends the event again
    /// (same `eventId`, to a connection chosen at random), and how long after an ACK `LATER`
    /// it sends it again. DingTalk documents that an event not ACKed is pushed again, not
    /// after how long. Default: [`DEFAULT_EVENT_REDELIVERY`] (5 s).
    pub event_redelivery: Duration,
    /// How often the Stream gateway sends each connection a SYSTEM `ping` frame; `None` (or
    /// zero): never. DingTalk documents the frame, not its period. Default:
    /// [`DEFAULT_GATEWAY_PING`] (every 30 s).
    pub gateway_ping: Option<Duration>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            seed: true,
            port: 0,
            qps_limit: None,
            ip_limit: None,
            ip_ban: DINGTALK_IP_BAN,
            monthly_quota: None,
            limit_clock: None,
            push: PushConfig::default(),
            invalidate_previous_corp_tokens: false,
            event_redelivery: DEFAULT_EVENT_REDELIVERY,
            gateway_ping: Some(DEFAULT_GATEWAY_PING),
        }
    }
}

impl MockConfig {
    /// The default configuration (same as [`MockConfig::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The default configuration with every limit on, at DingTalk's numbers: 20 calls per
    /// second per app and API ([`DINGTALK_QPS_LIMIT`]), 10,000 calls per IP in 20 s
    /// ([`DINGTALK_IP_LIMIT`]) then a 5-minute ban ([`DINGTALK_IP_BAN`]), and a monthly quota
    /// of 5,000 conference calls per organisation ([`DINGTALK_MONTHLY_QUOTA`], illustrative:
    /// the standard edition's number in one copy of DingTalk's page).
    pub fn dingtalk_limits() -> Self {
        Self::default()
            .with_qps_limit(Some(DINGTALK_QPS_LIMIT))
            .with_ip_limit(DINGTALK_IP_LIMIT.calls, DINGTALK_IP_LIMIT.window)
            .with_ip_ban(DINGTALK_IP_BAN)
            .with_monthly_quota(Some(DINGTALK_MONTHLY_QUOTA))
    }

    /// Sets [`MockConfig::token_lifetime`].
    #[must_use]
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Sets [`MockConfig::seed`].
    #[must_use]
    pub fn with_seed(mut self, seed: bool) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`MockConfig::port`].
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets [`MockConfig::qps_limit`] (`None`: no limit).
    #[must_use]
    pub fn with_qps_limit(mut self, calls_per_second: Option<u32>) -> Self {
        self.qps_limit = calls_per_second;
        self
    }

    /// Limits each IP to `calls` requests within any `window` ([`MockConfig::ip_limit`]).
    #[must_use]
    pub fn with_ip_limit(mut self, calls: u32, window: Duration) -> Self {
        self.ip_limit = Some(IpLimit { calls, window });
        self
    }

    /// Removes the limit per IP.
    #[must_use]
    pub fn without_ip_limit(mut self) -> Self {
        self.ip_limit = None;
        self
    }

    /// Sets [`MockConfig::ip_ban`].
    #[must_use]
    pub fn with_ip_ban(mut self, ban: Duration) -> Self {
        self.ip_ban = ban;
        self
    }

    /// Sets [`MockConfig::monthly_quota`] (`None`: no quota).
    #[must_use]
    pub fn with_monthly_quota(mut self, calls: Option<u64>) -> Self {
        self.monthly_quota = calls;
        self
    }

    /// Counts the limits' time with `clock` ([`MockConfig::limit_clock`]); keep a clone to
    /// advance it.
    #[must_use]
    pub fn with_limit_clock(mut self, clock: ManualClock) -> Self {
        self.limit_clock = Some(clock);
        self
    }

    /// Pushes every emitted event to `url` (`http://` only) over HTTP, as DingTalk's HTTP push
    /// does ([`PushConfig::url`]; the binary's `--push-url`).
    #[must_use]
    pub fn with_push_url(mut self, url: impl Into<String>) -> Self {
        self.push.url = Some(url.into());
        self
    }

    /// Sets the HTTP push's 签名 token, 加密 aes_key and owner key (the binary's
    /// `--push-token`, `--push-aes-key`, `--push-owner-key`).
    #[must_use]
    pub fn with_push_keys(
        mut self,
        token: impl Into<String>,
        aes_key: impl Into<String>,
        owner_key: impl Into<String>,
    ) -> Self {
        self.push.token = token.into();
        self.push.aes_key = aes_key.into();
        self.push.owner_key = owner_key.into();
        self
    }

    /// Sets the waits before each retry of a failed push ([`PushConfig::retry_delays`];
    /// DingTalk: 10 s, then 30 s).
    #[must_use]
    pub fn with_push_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.push.retry_delays = delays;
        self
    }

    /// Makes each new corp token invalidate the earlier ones of its suite and organisation
    /// ([`MockConfig::invalidate_previous_corp_tokens`]; the binary's
    /// `--invalidate-previous-corp-token`).
    #[must_use]
    pub fn with_corp_token_invalidation(mut self) -> Self {
        self.invalidate_previous_corp_tokens = true;
        self
    }

    // part gateway
    /// Sets [`MockConfig::event_redelivery`] (the binary's `--event-redelivery SECS`).
    #[must_use]
    pub fn with_event_redelivery(mut self, after: Duration) -> Self {
        self.event_redelivery = after;
        self
    }

    /// Sets [`MockConfig::gateway_ping`] (`None`: no pings; the binary's `--gateway-ping`).
    #[must_use]
    pub fn with_gateway_ping(mut self, every: Option<Duration>) -> Self {
        self.gateway_ping = every;
        self
    }
}

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path as received, still percent-encoded, with `?query` if there was one.
    pub path: String,
    /// The headers with lowercase names, in the order received (repeated names grouped
    /// together). Values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The body (empty if the request had none or it could not be read).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of the header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// How many requests the server has received, by route, how many faults it served, and how
/// many requests its limits refused, by kind.
///
/// Every request to a route counts, whether it was answered normally, refused, or answered by a
/// fault. Requests to unknown routes count only in [`MockServer::requests`]. The three limit
/// counters count only the answers of the limits ([`MockConfig`]); a scripted
/// [`Fault::Throttle`] or [`Fault::IpBanHtml`] counts in `faults_served` alone.
///
/// The binary serves the same numbers as JSON at `GET /__mock/counters` (with the field names
/// below), for tests that run it as a separate process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Requests to `POST /v1.0/oauth2/accessToken` (internal app tokens).
    pub token_requests: u64,
    /// Requests to `POST /v1.0/oauth2/corpAccessToken` (third-party app tokens).
    pub corp_token_requests: u64,
    /// Requests to `GET /v1.0/conference/videoConferences/{conferenceId}` (query conference
    /// info only; the other conference operations show in [`MockServer::requests`]).
    pub conference_requests: u64,
    /// Requests that were answered by (or shaped by) a [`Fault`].
    pub faults_served: u64,
    /// Conference calls refused by the per-app, per-API limit ([`MockConfig::qps_limit`]):
    /// `403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` (or `…SuitekeyAndOrgAndApi`).
    pub qps_throttled: u64,
    /// Requests answered the IP ban page ([`MockConfig::ip_limit`]): the one that went over the
    /// limit and every one during the ban.
    pub ip_banned: u64,
    /// Conference calls refused because their organisation's monthly quota is spent
    /// ([`MockConfig::monthly_quota`]): `403 Forbidden.AccessDenied.ApiCountLimitForOrg`.
    pub quota_refused: u64,
    /// Calls refused `400 InvalidAuthentication` for their token: missing, never issued,
    /// expired, or invalidated by a newer corp token
    /// ([`MockConfig::invalidate_previous_corp_tokens`]).
    pub rejected_tokens: u64,
}

/// A running fake DingTalk server on `127.0.0.1`.
///
/// Every method takes `&self` and is cheap and synchronous, so a test can change the server
/// between (or during) requests. Dropping the handle stops the server too, without waiting for
/// it; [`MockServer::shutdown`] waits.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    /// HTTP push (idle without a URL).
    pusher: Arc<events::push::Pusher>,
    push_task: Option<JoinHandle<()>>,
    task: Option<JoinHandle<()>>,
    /// The Stream gateway's delivery task.
    gateway_task: Option<JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a server with the default configuration on an ephemeral port of `127.0.0.1`.
    pub async fn start() -> std::io::Result<MockServer> {
        Self::start_with(MockConfig::default()).await
    }

    /// Starts a server with `config`. It runs on the current Tokio runtime until
    /// [`MockServer::shutdown`] or until the handle is dropped.
    pub async fn start_with(config: MockConfig) -> std::io::Result<MockServer> {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))?;
        // A deep backlog: load tests open thousands of connections at once.
        let listener = socket.listen(8192)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&config));
        // HTTP push, subscribed before the first request is served: no emitted event is missed.
        let pusher = Arc::new(events::push::Pusher::new(&config.push)?);
        let push_events = shared.lock().events.subscribe();
        let (shutdown, signal) = watch::channel(false);
        // events: scripted status changes happen (and emit) when due, not at the next read.
        let added = Arc::clone(&shared.lock().script_added);
        tokio::spawn(events::emit::script_ticker(
            Arc::clone(&shared),
            added,
            signal.clone(),
        ));
        // Subscribed before anything is served, so no event a handler emits is missed.
        let events = shared.lock().events.subscribe();
        let gateway_task = tokio::spawn(events::gateway::run(
            Arc::clone(&shared),
            events,
            signal.clone(),
        ));
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), signal));
        let push_task = pusher.start(push_events, shutdown.subscribe());
        Ok(MockServer {
            addr,
            shared,
            shutdown,
            pusher,
            push_task,
            task: Some(task),
            gateway_task: Some(gateway_task),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops accepting connections, closes idle keep-alive connections, lets requests in flight
    /// finish (for at most half a second, then cuts them off), and waits for all of it. The port
    /// is free again when this returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(push_task) = self.push_task.take() {
            let _ = push_task.await;
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.gateway_task.take() {
            let _ = task.await;
        }
    }

    /// Registers an internal app (or changes its secret). The default app is registered from
    /// the start.
    pub fn add_app(&self, app_key: &str, app_secret: &str) {
        self.shared.lock().add_app(app_key, app_secret);
    }

    /// Registers a third-party (suite) app authorised by the organisation `auth_corp_id`, with
    /// its current suite ticket. Calling it again for the same `suite_key` replaces the secret
    /// and the ticket and adds one more authorising organisation. The default suite is
    /// registered from the start.
    pub fn add_suite(
        &self,
        suite_key: &str,
        suite_secret: &str,
        auth_corp_id: &str,
        suite_ticket: &str,
    ) {
        self.shared
            .lock()
            .add_suite(suite_key, suite_secret, auth_corp_id, suite_ticket);
    }

    /// Pushes a new suite ticket to `suite_key`: from now on only `ticket` is accepted and the
    /// old one gets `invalidSuiteTicket`. Tokens already issued stay valid. Unknown suite keys
    /// are ignored.
    pub fn set_suite_ticket(&self, suite_key: &str, ticket: &str) {
        self.shared.lock().set_suite_ticket(suite_key, ticket);
    }

    /// Changes the lifetime of tokens issued (or extended) from now on, and the `expireIn`
    /// they are announced with. Tokens already issued keep their expiry.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        self.shared.lock().set_token_lifetime(lifetime);
    }

    /// The current token lifetime.
    pub fn token_lifetime(&self) -> Duration {
        self.shared.lock().token_lifetime()
    }

    /// Expires every token issued so far: each of them now gets `InvalidAuthentication`, and the
    /// next internal-app token request gets a new token.
    pub fn expire_all_tokens(&self) {
        self.shared.lock().expire_all_tokens();
    }

    /// Changes [`MockConfig::invalidate_previous_corp_tokens`] for corp tokens issued from now
    /// on (tokens already invalidated stay invalid).
    pub fn set_corp_token_invalidation(&self, on: bool) {
        self.shared.lock().set_corp_token_invalidation(on);
    }

    /// Mints a valid token directly, with the current lifetime, without a token request (for
    /// tests that give the client a static token). It is not counted in [`Counters`]. For the
    /// limits, it is a token of the internal app [`DEFAULT_APP_KEY`].
    pub fn issue_token(&self) -> String {
        self.shared
            .lock()
            .mint_token(limits::Owner::App(DEFAULT_APP_KEY.to_owned()))
    }

    /// Adds or replaces a conference, keyed by its `conference_id`. An `info` without a
    /// `conference_id` cannot be addressed and is ignored: use
    /// [`MockServer::upsert_conference_with_id`] to serve one.
    pub fn upsert_conference(&self, info: ConferenceInfo) {
        self.shared.lock().upsert(info);
    }

    /// Adds or replaces the conference served for `id`, whatever `info.conference_id` says (or
    /// if it is absent): for tests of inconsistent or incomplete data.
    pub fn upsert_conference_with_id(&self, id: &str, info: ConferenceInfo) {
        self.shared.lock().upsert_at(id, info);
    }

    /// Removes a conference (and its status script, members and recording); requests for it
    /// get `roomNotFound`.
    pub fn remove_conference(&self, id: &str) {
        self.shared.lock().remove_conference(id);
    }

    /// The conference `id` as the server would serve it now (scripted status changes whose
    /// time has come applied).
    pub fn conference(&self, id: &str) -> Option<ConferenceInfo> {
        self.shared.lock().conference(id)
    }

    /// `union_id` joins conference `id` as `nick`, the way a person opens the meeting link
    /// (part control): a member record already there (invited, left, removed) is in the
    /// conference again, else a new one is added; the counts follow, and the microphone is off
    /// while everyone is muted. Refused while the conference is not in progress, is locked, or
    /// admits only employees and the record says `outerOrgMember`, and for someone removed
    /// with `forbiddenRejoin`. `POST /__mock/join` does the same from another process.
    pub fn join(&self, id: &str, union_id: &str, nick: &str) -> Result<(), JoinRefusal> {
        self.shared
            .lock()
            .join(id, union_id, nick, state::now_millis())
    }

    /// The members of conference `id` as `queryConferenceMembers` lists them now, in order
    /// (the host first); empty for a conference without members or one the server does not
    /// hold.
    pub fn members(&self, id: &str) -> Vec<ConferenceMember> {
        self.shared
            .lock()
            .members(id)
            .iter()
            .map(|record| record.member.clone())
            .collect()
    }

    /// Replaces the members of conference `id` (for tests of paging or of inconsistent data).
    /// The conference's counts are left as they are; in the batch query the members show with
    /// camera and microphone `0` (initialised) and no reason to decline.
    pub fn set_members(&self, id: &str, members: Vec<ConferenceMember>) {
        let records = members.into_iter().map(MemberRecord::new).collect();
        self.shared.lock().set_members(id, records);
    }

    /// Replaces the finished cloud recording of conference `id`: the videos
    /// `queryCloudRecordVideo` lists (and whose `mediaId`/`regionId` pairs
    /// `queryCloudRecordVideoPlayInfo` accepts) and the transcript `queryCloudRecordText`
    /// pages through (give it in speaking order, each paragraph with a distinct `nextTtoken`).
    /// It is served only while the conference's `cloudRecordStatus` is 3 (finished).
    pub fn set_cloud_recording(
        &self,
        id: &str,
        videos: Vec<CloudRecordVideo>,
        paragraphs: Vec<TranscriptParagraph>,
    ) {
        self.shared
            .lock()
            .set_recording(id, Recording { videos, paragraphs });
    }

    /// Whether conference `id`'s subtitle events are pushed, as `setSubtitleEvent` last set
    /// it (`None` until it is set, or for a conference the server does not hold). DingTalk
    /// has no read that shows this setting, so tests read it here.
    pub fn subtitle_events(&self, id: &str) -> Option<bool> {
        self.shared.lock().subtitle_events(id)
    }

    /// The ids of every conference the server holds, sorted.
    pub fn conference_ids(&self) -> Vec<String> {
        self.shared.lock().conference_ids()
    }

    /// Scripts the `status` of conference `id` over time, replacing any earlier script for it.
    ///
    /// The delays are **cumulative**: each counts from the step before it (the first from now),
    /// so `[(100 ms, 2), (100 ms, 1)]` starts the conference after 100 ms and ends it after
    /// 200 ms. Time is Tokio's clock; each step is applied when it falls due (a task of the
    /// server wakes for it, and emits its events then: `conference_created` on becoming 2,
    /// `user_leave` and `conference_closed` on becoming 1), or at the first read after.
    /// Becoming `2` (started) sets `startTime` if unset, at least one active person, and
    /// removes `endTime`/`confDuration`; becoming `1` (ended) sets `endTime` to the step's time,
    /// `confDuration` to `endTime - startTime`, `activeNum` to 0, and finishes a running cloud
    /// recording; becoming `0` removes `endTime`/`confDuration`; any other value is served as
    /// is. A script for an id the server does not hold waits for the conference to appear.
    /// Ending also ends the members' time in it as closing does (see [`seeded`]), and a
    /// cloud recording it finishes gets its videos. Closing the conference over HTTP drops its
    /// script.
    pub fn script_status(&self, id: &str, steps: Vec<(std::time::Duration, i32)>) {
        self.shared.lock().script_status(id, steps);
    }

    /// Queues a fault (see [`FaultScope`] for how faults are matched to requests). A scope
    /// with a count of zero is ignored.
    pub fn push_fault(&self, scope: FaultScope, fault: Fault) {
        self.shared.lock().push_fault(scope, fault);
    }

    /// Removes every queued fault, including the unlimited [`FaultScope::Conference`] ones.
    pub fn clear_faults(&self) {
        self.shared.lock().clear_faults();
    }

    /// Every request received, in order (the most recent 100,000 at most).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests()
    }

    /// Events pushed over HTTP and acknowledged with the encrypted `success`
    /// ([`MockConfig::with_push_url`]).
    pub fn push_delivered(&self) -> u64 {
        self.pusher.delivered()
    }

    /// Events whose HTTP push failed on every attempt: DingTalk's failed list
    /// ([`MockServer::push_failures`]).
    pub fn push_failed(&self) -> u64 {
        self.pusher.failed()
    }

    /// Events whose HTTP push is under way or waiting for a retry now; those still so at
    /// shutdown are never delivered.
    pub fn push_unfinished(&self) -> usize {
        self.pusher.unfinished()
    }

    /// HTTP push retries made so far (attempts after an event's first).
    pub fn push_retries(&self) -> u64 {
        self.pusher.retries()
    }

    /// Events never pushed because the pusher fell more than 4096 events behind the server's
    /// event bus, or already had 4096 pushes under way or waiting for a retry (a receiver
    /// that hangs); DingTalk's HTTP push may lose events too. Counted, never listed.
    pub fn push_lost(&self) -> u64 {
        self.pusher.lost()
    }

    /// The events whose HTTP push and retries all failed, in the order they failed, with why
    /// (the latest 10,000; [`MockServer::push_failed`] counts them all).
    pub fn push_failures(&self) -> Vec<PushFailure> {
        self.pusher.failures()
    }

    /// Posts `{"EventType":"check_url"}` to the push URL once, as DingTalk does when the
    /// console saves it, and checks the app's reply.
    ///
    /// # Errors
    ///
    /// [`PushError`] when there is no URL, it cannot be reached, or the reply is not the
    /// encrypted, signed `success`.
    pub async fn push_check_url(&self) -> Result<(), PushError> {
        self.pusher.check_url().await
    }

    /// Every event the server emitted so far, in order (delivered or not); the latest
    /// [`EMITTED_EVENTS_KEPT`] of them.
    pub fn emitted_events(&self) -> Vec<MockEvent> {
        self.shared.lock().events.emitted()
    }

    // part gateway

    /// Emits an event of `event_type` with payload `data` for [`DEFAULT_CORP_ID`], as the
    /// handlers do when the state changes: the Stream gateway (and HTTP push) deliver it.
    /// `POST /__mock/events/emit` does the same from another process. For tests of the
    /// delivery itself; the state's own events come from its changes.
    #[doc(hidden)]
    pub fn emit_event(&self, event_type: &str, data: serde_json::Value) -> MockEvent {
        MockEvent::clone(
            &self
                .shared
                .lock()
                .emit_event(event_type, DEFAULT_CORP_ID, data),
        )
    }

    /// Sends a SYSTEM `disconnect` frame to every open Stream connection; each takes no new
    /// event from then on, and is closed [`DISCONNECT_GRACE`] (10 s) later unless the client
    /// closes it first. `POST /__mock/gateway/disconnect` does the same.
    pub fn gateway_disconnect(&self) {
        self.shared.gateway.disconnect_all();
    }

    /// Sends the next event twice (two EVENT frames, same `eventId`, different `messageId`s)
    /// to the connection it goes to. `POST /__mock/gateway/duplicate-next` does the same.
    pub fn gateway_duplicate_next(&self) {
        self.shared.gateway.duplicate_next();
    }

    /// `true` silences every Stream connection open now: nothing goes out (no event, no ping,
    /// no WebSocket pong), nothing is read, and the socket stays open; events go to other
    /// connections (those in flight on a silenced one are sent again once their redelivery
    /// time passes). Connections opened later are served normally. `false` lets the silenced
    /// ones speak again. `POST /__mock/gateway/silence` with `{"on": bool}` does the same.
    pub fn gateway_silence(&self, on: bool) {
        self.shared.gateway.silence(on);
    }

    /// Sends `text` as one WebSocket text frame to every open Stream connection: a malformed
    /// or oversized frame, for the client's robustness. `POST /__mock/gateway/send-raw` with
    /// the text as the body does the same.
    pub fn gateway_send_raw(&self, text: &str) {
        self.shared.gateway.send_raw(text);
    }

    /// `true` makes the WebSocket upgrade refuse every ticket (`401`, as for an unknown one);
    /// `false` accepts valid tickets again. `POST /__mock/gateway/refuse-tickets` with
    /// `{"on": bool}` does the same.
    pub fn gateway_refuse_tickets(&self, on: bool) {
        self.shared.gateway.refuse_tickets(on);
    }

    /// The ACKs the gateway received so far.
    pub fn gateway_acks(&self) -> GatewayAcks {
        self.shared.gateway.stats().acks
    }

    /// The Stream connections open now.
    pub fn gateway_connections(&self) -> usize {
        self.shared.gateway.stats().connections
    }

    /// The EVENT frames sent so far (redeliveries and duplicates included).
    pub fn gateway_deliveries(&self) -> u64 {
        self.shared.gateway.stats().deliveries
    }

    /// Everything the gateway counted (`GET /__mock/gateway` serves the same as JSON).
    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.gateway.stats()
    }

    /// Makes the next event of conference `id` skip one `statusSeqNum`, as if DingTalk had
    /// lost the event before it (for tests of a client's gap detection). Conference and
    /// member events share one sequence per conference, starting at 1.
    pub fn skip_seq(&self, id: &str) {
        self.shared.lock().emitter.skip(id);
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters()
    }

    /// Forgets the request log and sets the counters back to zero.
    pub fn reset_log(&self) {
        self.shared.lock().reset_log();
    }

    /// Changes [`MockConfig::qps_limit`] (`None`: no limit); every per-second count starts
    /// afresh.
    pub fn set_qps_limit(&self, calls_per_second: Option<u32>) {
        self.shared
            .lock()
            .limits_mut()
            .set_qps_limit(calls_per_second);
    }

    /// Changes [`MockConfig::ip_limit`] (`None`: no limit); every IP's window starts afresh
    /// and bans are lifted.
    pub fn set_ip_limit(&self, limit: Option<IpLimit>) {
        self.shared.lock().limits_mut().set_ip_limit(limit);
    }

    /// Changes [`MockConfig::ip_ban`], for bans that start from now on.
    pub fn set_ip_ban(&self, ban: Duration) {
        self.shared.lock().limits_mut().set_ip_ban(ban);
    }

    /// Lifts every IP ban and empties every IP's window.
    pub fn lift_ip_bans(&self) {
        self.shared.lock().limits_mut().lift_ip_bans();
    }

    /// Changes [`MockConfig::monthly_quota`] (`None`: no quota). The calls made so far this
    /// "month" still count (they are counted even with no quota).
    pub fn set_monthly_quota(&self, calls: Option<u64>) {
        self.shared.lock().limits_mut().set_monthly_quota(calls);
    }

    /// Starts a new "month": every organisation's count of conference calls goes back to zero,
    /// so a spent quota is whole again. `POST /__mock/reset-quota` does the same.
    pub fn reset_quota(&self) {
        self.shared.lock().limits_mut().reset_quota();
    }

    /// The conference calls organisation `corp_id` has made this "month" (since the start or
    /// [`MockServer::reset_quota`]), with or without a quota. Internal apps belong to
    /// [`DEFAULT_CORP_ID`]; a third-party token counts for the organisation it was issued for.
    pub fn quota_used(&self, corp_id: &str) -> u64 {
        self.shared.lock().limits_mut().quota_used(corp_id)
    }

    // part record-stream

    /// The recording allow-list `optRecordWhiteAccount` keeps for `biz_type` (e.g.
    /// `cloud_record`): each `(settingRangeId, settingRangeType)`, sorted. No operation of the
    /// spec reads it back, and it changes nothing else here (DingTalk documents no effect).
    pub fn record_allow_list(&self, biz_type: &str) -> Vec<(String, i32)> {
        self.shared.lock().record_allow_list(biz_type)
    }

    /// The live pushes of conference `id` now running (`startStreamOut` until
    /// `stopStreamOut` or the conference's end): each `(streamId, url, streamName)`, in the
    /// order started.
    pub fn live_streams(&self, id: &str) -> Vec<(String, String, String)> {
        self.shared
            .lock()
            .streams_mut(id)
            .iter()
            .map(|stream| (stream.id.clone(), stream.url.clone(), stream.name.clone()))
            .collect()
    }
    // part schedule
    /// The user `union_id` (shown as `nick`) joins the scheduled conference `schedule_id`, as
    /// DingTalk's client would: the id of the conference instance they are in. The first join
    /// at or after the planned start creates the instance (see `docs/conference-operations.md`,
    /// part schedule, for the settings it applies); `POST /__mock/join-schedule` does the same.
    pub fn join_schedule(
        &self,
        schedule_id: &str,
        union_id: &str,
        nick: &str,
    ) -> Result<String, JoinRefused> {
        handlers::join_schedule(&mut self.shared.lock(), schedule_id, union_id, nick)
            .map_err(|reason| JoinRefused { reason })
    }
}

// part schedule
/// Why [`MockServer::join_schedule`] refused a join: an unknown or cancelled schedule, a join
/// before the start, a locked room, a blank unionId or nick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRefused {
    /// What was wrong, in words.
    pub reason: String,
}

impl fmt::Display for JoinRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "join refused: {}", self.reason)
    }
}

impl std::error::Error for JoinRefused {}
