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
//!   time. Tokens can be expired at will ([`MockServer::expire_all_tokens`]) and the suite
//!   ticket rotated ([`MockServer::set_suite_ticket`]).
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
//! - **A log.** Every request as received ([`MockServer::requests`]) and [`Counters`].
//! - **Control from another process.** Outside DingTalk's API, `GET /__mock/counters` returns the
//!   [`Counters`] as JSON and `POST /__mock/expire-tokens` expires every token; these requests
//!   are not logged, counted or faulted.
//!
//! Every response carries `x-acs-request-id` (DingTalk's format, unique per request) and
//! `x-acs-trace-id`; error bodies are DingTalk's `{"code","requestid","message"}` with the same
//! request id. The crate also builds the `dingtalk-conference-mock` binary, which serves the same
//! on a port of your choice until Ctrl-C, and `conformance/run.sh` checks every answer the server
//! gives against the spec with schemathesis.
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

mod fault;
mod handlers;
mod reply;
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

pub use fault::{Fault, FaultScope};
pub use handlers::{
    DEFAULT_MEMBERS_PAGE_SIZE, DEFAULT_ROOM_CODE_PAGE_SIZE, DEFAULT_TRANSCRIPT_PAGE_SIZE,
    MAX_BATCH_IDS, MAX_TRANSCRIPT_PAGE_SIZE,
};
pub use seed::seeded;

use state::{MemberRecord, Recording, Shared};

/// The internal app key registered on every server.
pub const DEFAULT_APP_KEY: &str = "mock-app-key";
/// The secret of [`DEFAULT_APP_KEY`].
pub const DEFAULT_APP_SECRET: &str = "mock-app-secret";
/// The third-party (suite) app key registered on every server.
pub const DEFAULT_SUITE_KEY: &str = "mock-suite-key";
/// The secret of [`DEFAULT_SUITE_KEY`].
pub const DEFAULT_SUITE_SECRET: &str = "mock-suite-secret";
/// The organisation that has authorised [`DEFAULT_SUITE_KEY`].
pub const DEFAULT_CORP_ID: &str = "mock-corp-id";
/// The current suite ticket of [`DEFAULT_SUITE_KEY`] (until
/// [`MockServer::set_suite_ticket`] changes it).
pub const DEFAULT_SUITE_TICKET: &str = "mock-suite-ticket";

/// DingTalk's token lifetime, and the server's default: 7200 seconds.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// How a [`MockServer`] starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockConfig {
    /// How long an issued token stays valid, and the `expireIn` it is announced with (whole
    /// seconds, rounded down). Default: 7200 s.
    pub token_lifetime: Duration,
    /// Whether to start with the [`seeded`] conferences. Default: `true`.
    pub seed: bool,
    /// The port on `127.0.0.1`; `0` (the default) lets the system pick a free one.
    pub port: u16,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            seed: true,
            port: 0,
        }
    }
}

impl MockConfig {
    /// The default configuration (same as [`MockConfig::default`]).
    pub fn new() -> Self {
        Self::default()
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

/// How many requests the server has received, by route, and how many faults it served.
///
/// Every request to a route counts, whether it was answered normally, refused, or answered by a
/// fault. Requests to unknown routes count only in [`MockServer::requests`].
///
/// The binary serves the same numbers as JSON at `GET /__mock/counters` (with the field names
/// below), for tests that run it as a separate process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    task: Option<JoinHandle<()>>,
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
        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), signal));
        Ok(MockServer {
            addr,
            shared,
            shutdown,
            task: Some(task),
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
        if let Some(task) = self.task.take() {
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

    /// Mints a valid token directly, with the current lifetime, without a token request (for
    /// tests that give the client a static token). It is not counted in [`Counters`].
    pub fn issue_token(&self) -> String {
        self.shared.lock().mint_token()
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

    /// The ids of every conference the server holds, sorted.
    pub fn conference_ids(&self) -> Vec<String> {
        self.shared.lock().conference_ids()
    }

    /// Scripts the `status` of conference `id` over time, replacing any earlier script for it.
    ///
    /// The delays are **cumulative**: each counts from the step before it (the first from now),
    /// so `[(100 ms, 2), (100 ms, 1)]` starts the conference after 100 ms and ends it after
    /// 200 ms. Time is Tokio's clock, and steps are applied lazily when the conference is read.
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

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters()
    }

    /// Forgets the request log and sets the counters back to zero.
    pub fn reset_log(&self) {
        self.shared.lock().reset_log();
    }
}
