//! DingTalk's call limits, enforced so that a client can be measured against them: calls per
//! second per app and API, calls per IP in a sliding window (then a ban), and a monthly quota per
//! organisation. All are off unless configured ([`MockConfig`](crate::MockConfig)).
//!
//! # How each limit counts
//!
//! - **Per app, per API, per second**: an exact counter per whole second of the limits' clock
//!   (seconds counted from the server's start), per credential (an app key, or a suite key with
//!   the authorising organisation) and `operationId`. DingTalk's gateway counts calls per
//!   second, so the limit's budget comes back whole at the start of the next second, and a
//!   refused call does not use any of it. A token bucket (GCRA, as the `governor` crate
//!   implements) would hand calls back one by one through the second instead, which is not how
//!   DingTalk answers; the counter is also a few lines with no dependency.
//! - **Per IP**: a sliding log of the calls' times, exact: the call that would be the
//!   `calls + 1`-th within `window` starts a ban, and every request from that IP during the ban
//!   gets the ban page. When the ban ends, the IP's log starts empty.
//! - **Per organisation, per month**: a count of the conference calls each organisation's
//!   credentials made (internal apps belong to [`DEFAULT_CORP_ID`](crate::DEFAULT_CORP_ID); a
//!   third-party token spends the quota of the organisation it was issued for). A month never
//!   passes in a test: [`MockServer::reset_quota`](crate::MockServer::reset_quota) starts a new
//!   one.
//!
//! Time is Tokio's clock (so a test with a paused clock drives it with
//! `tokio::time::advance`), or a [`ManualClock`] a test moves by hand.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// DingTalk's limit per app and API: 20 calls per second (standard edition).
pub const DINGTALK_QPS_LIMIT: u32 = 20;

/// DingTalk's limit per IP: 10,000 calls in 20 seconds, all APIs together.
pub const DINGTALK_IP_LIMIT: IpLimit = IpLimit {
    calls: 10_000,
    window: Duration::from_secs(20),
};

/// How long DingTalk bans an IP that went over [`DINGTALK_IP_LIMIT`]: 5 minutes. Also the
/// default ban of any configured IP limit.
pub const DINGTALK_IP_BAN: Duration = Duration::from_secs(5 * 60);

/// An illustrative monthly quota per organisation: 5,000 calls, the standard edition's number
/// in the May 2026 copy of DingTalk's page (the January copy said 10,000). Real quotas depend
/// on the organisation's edition and change over time.
pub const DINGTALK_MONTHLY_QUOTA: u64 = 5_000;

/// The answer code when an internal app goes over the per-second limit of an API.
pub const QPS_LIMIT_CODE: &str = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi";

/// The answer code when a third-party app goes over the per-second limit of an API for one
/// authorising organisation (DingTalk names that dimension suite key, organisation and API).
pub const SUITE_QPS_LIMIT_CODE: &str = "Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi";

/// The answer code when an organisation's monthly quota is spent.
pub const QUOTA_CODE: &str = "Forbidden.AccessDenied.ApiCountLimitForOrg";

/// How many calls one IP may make in how long before it is banned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpLimit {
    /// Calls allowed within [`IpLimit::window`]; the next one starts the ban (so `0` bans the
    /// first request).
    pub calls: u32,
    /// The sliding window. A zero window never bans.
    pub window: Duration,
}

/// A clock for the limits that moves only when told to, so that tests of the limits need no
/// sleeping and no particular runtime: give a clone to
/// [`MockConfig::with_limit_clock`](crate::MockConfig::with_limit_clock) and
/// [`advance`](ManualClock::advance) it. It starts at zero; clones share the same time.
///
/// It drives the limits only: token lifetimes and status scripts keep Tokio's clock.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (it stops at about 584 years).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update with a closure that always returns Some cannot fail.
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// How far the clock has been advanced.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Two handles are equal when they are the same clock.
impl PartialEq for ManualClock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.nanos, &other.nanos)
    }
}

impl Eq for ManualClock {}

/// What the limits measure time with: time since the server started.
#[derive(Debug)]
enum Clock {
    Tokio(Instant),
    Manual(ManualClock),
}

impl Clock {
    fn now(&self) -> Duration {
        match self {
            Self::Tokio(origin) => Instant::now().saturating_duration_since(*origin),
            Self::Manual(clock) => clock.elapsed(),
        }
    }
}

/// Whom a token was issued to: the credential the per-app limit counts by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    /// An internal app, by its app key.
    App(String),
    /// A third-party app for one authorising organisation.
    Suite { suite: String, corp: String },
}

impl Owner {
    /// The organisation whose monthly quota the owner's calls spend.
    fn organisation(&self) -> &str {
        match self {
            Self::App(_) => crate::DEFAULT_CORP_ID,
            Self::Suite { corp, .. } => corp,
        }
    }
}

/// Why a conference call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Over the per-second limit; the code to answer with.
    Qps(&'static str),
    /// The organisation's monthly quota is spent.
    Quota,
}

impl Refusal {
    /// The code DingTalk answers with.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Qps(code) => code,
            Self::Quota => QUOTA_CODE,
        }
    }
}

/// One credential's count for one API in one second.
#[derive(Clone, Copy, Debug)]
struct SecondCount {
    second: u64,
    calls: u32,
}

/// One IP's recent calls and its ban.
#[derive(Debug, Default)]
struct IpRecord {
    calls: VecDeque<Duration>,
    banned_until: Option<Duration>,
}

/// Per-second counters are pruned of past seconds once there are this many.
const QPS_PRUNE_THRESHOLD: usize = 10_000;

/// The limits' settings and counts.
#[derive(Debug)]
pub(crate) struct Limits {
    clock: Clock,
    qps_limit: Option<u32>,
    ip_limit: Option<IpLimit>,
    ip_ban: Duration,
    monthly_quota: Option<u64>,
    per_second: HashMap<(Owner, &'static str), SecondCount>,
    ips: HashMap<IpAddr, IpRecord>,
    quota_used: HashMap<String, u64>,
}

impl Limits {
    pub(crate) fn new(config: &crate::MockConfig) -> Self {
        let clock = match &config.limit_clock {
            Some(clock) => Clock::Manual(clock.clone()),
            None => Clock::Tokio(Instant::now()),
        };
        Self {
            clock,
            qps_limit: config.qps_limit,
            ip_limit: config.ip_limit,
            ip_ban: config.ip_ban,
            monthly_quota: config.monthly_quota,
            per_second: HashMap::new(),
            ips: HashMap::new(),
            quota_used: HashMap::new(),
        }
    }

    /// Counts a request from `ip`; `false` if the IP is banned (now, or by this request).
    pub(crate) fn admit_ip(&mut self, ip: IpAddr) -> bool {
        let Some(limit) = self.ip_limit else {
            return true;
        };
        let now = self.clock.now();
        let record = self.ips.entry(ip).or_default();
        match record.banned_until {
            Some(until) if now < until => return false,
            Some(_) => *record = IpRecord::default(),
            None => {}
        }
        while record
            .calls
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= limit.window)
        {
            record.calls.pop_front();
        }
        if limit.window.is_zero() {
            return true;
        }
        if record.calls.len() >= usize::try_from(limit.calls).unwrap_or(usize::MAX) {
            record.calls.clear();
            record.banned_until = Some(now.saturating_add(self.ip_ban));
            return false;
        }
        record.calls.push_back(now);
        true
    }

    /// Admits one call of `operation_id` with a token of `owner`, or says why not. The quota
    /// is checked first (a spent organisation is refused every call), then the per-second
    /// limit; only an admitted call counts toward either.
    pub(crate) fn admit_call(
        &mut self,
        owner: &Owner,
        operation_id: &'static str,
    ) -> Result<(), Refusal> {
        let organisation = owner.organisation();
        let used = self.quota_used.get(organisation).copied().unwrap_or(0);
        if self.monthly_quota.is_some_and(|quota| used >= quota) {
            return Err(Refusal::Quota);
        }
        if let Some(limit) = self.qps_limit {
            let second = self.clock.now().as_secs();
            if self.per_second.len() >= QPS_PRUNE_THRESHOLD {
                self.per_second.retain(|_, count| count.second == second);
            }
            let count = self
                .per_second
                .entry((owner.clone(), operation_id))
                .or_insert(SecondCount { second, calls: 0 });
            if count.second != second {
                *count = SecondCount { second, calls: 0 };
            }
            if count.calls >= limit {
                return Err(Refusal::Qps(match owner {
                    Owner::App(_) => QPS_LIMIT_CODE,
                    Owner::Suite { .. } => SUITE_QPS_LIMIT_CODE,
                }));
            }
            count.calls += 1;
        }
        *self.quota_used.entry(organisation.to_owned()).or_insert(0) += 1;
        Ok(())
    }

    pub(crate) fn set_qps_limit(&mut self, limit: Option<u32>) {
        self.qps_limit = limit;
        self.per_second.clear();
    }

    pub(crate) fn set_ip_limit(&mut self, limit: Option<IpLimit>) {
        self.ip_limit = limit;
        self.ips.clear();
    }

    pub(crate) fn set_ip_ban(&mut self, ban: Duration) {
        self.ip_ban = ban;
    }

    pub(crate) fn lift_ip_bans(&mut self) {
        self.ips.clear();
    }

    pub(crate) fn set_monthly_quota(&mut self, quota: Option<u64>) {
        self.monthly_quota = quota;
    }

    pub(crate) fn reset_quota(&mut self) {
        self.quota_used.clear();
    }

    pub(crate) fn quota_used(&self, organisation: &str) -> u64 {
        self.quota_used.get(organisation).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockConfig;
    use std::net::Ipv4Addr;

    fn limits(config: MockConfig) -> (Limits, ManualClock) {
        let clock = ManualClock::new();
        let limits = Limits::new(&config.with_limit_clock(clock.clone()));
        (limits, clock)
    }

    fn app(key: &str) -> Owner {
        Owner::App(key.to_owned())
    }

    #[test]
    fn the_per_second_budget_is_per_owner_and_api_and_comes_back_next_second() {
        let (mut limits, clock) = limits(MockConfig::new().with_qps_limit(Some(3)));
        let admitted = |limits: &mut Limits, owner: &Owner, op| {
            (0..5)
                .filter(|_| limits.admit_call(owner, op).is_ok())
                .count()
        };
        assert_eq!(admitted(&mut limits, &app("a"), "x"), 3);
        assert_eq!(admitted(&mut limits, &app("a"), "y"), 3);
        assert_eq!(admitted(&mut limits, &app("b"), "x"), 3);
        let suite = Owner::Suite {
            suite: "s".into(),
            corp: "c".into(),
        };
        assert_eq!(admitted(&mut limits, &suite, "x"), 3);
        assert_eq!(
            limits.admit_call(&suite, "x"),
            Err(Refusal::Qps(SUITE_QPS_LIMIT_CODE))
        );
        assert_eq!(
            limits.admit_call(&app("a"), "x"),
            Err(Refusal::Qps(QPS_LIMIT_CODE))
        );
        // Still the same second: nothing comes back.
        clock.advance(Duration::from_millis(999));
        assert!(limits.admit_call(&app("a"), "x").is_err());
        clock.advance(Duration::from_millis(1));
        assert_eq!(admitted(&mut limits, &app("a"), "x"), 3);
    }

    #[test]
    fn the_ip_window_slides_and_the_ban_lasts_its_duration() {
        let config = MockConfig::new()
            .with_ip_limit(3, Duration::from_secs(10))
            .with_ip_ban(Duration::from_secs(60));
        let (mut limits, clock) = limits(config);
        let ip = IpAddr::from(Ipv4Addr::LOCALHOST);
        let other = IpAddr::from(Ipv4Addr::new(10, 0, 0, 1));
        assert!(limits.admit_ip(ip));
        clock.advance(Duration::from_secs(5));
        assert!(limits.admit_ip(ip));
        assert!(limits.admit_ip(ip));
        // The first call leaves the window after 10 s: room for one more.
        clock.advance(Duration::from_secs(5));
        assert!(limits.admit_ip(ip));
        // Three within the last 10 s: the next one is banned.
        assert!(!limits.admit_ip(ip));
        assert!(limits.admit_ip(other), "another IP is not banned");
        clock.advance(Duration::from_secs(59));
        assert!(!limits.admit_ip(ip));
        clock.advance(Duration::from_secs(1));
        for _ in 0..3 {
            assert!(
                limits.admit_ip(ip),
                "the window starts afresh after the ban"
            );
        }
        assert!(!limits.admit_ip(ip));
    }

    #[test]
    fn the_quota_is_per_organisation_and_refused_calls_do_not_spend_it() {
        let config = MockConfig::new()
            .with_monthly_quota(Some(2))
            .with_qps_limit(Some(1));
        let (mut limits, clock) = limits(config);
        assert!(limits.admit_call(&app("a"), "x").is_ok());
        assert!(
            limits.admit_call(&app("a"), "x").is_err(),
            "over the QPS limit"
        );
        assert_eq!(limits.quota_used(crate::DEFAULT_CORP_ID), 1);
        clock.advance(Duration::from_secs(1));
        // Another app of the same organisation spends the same quota.
        assert!(limits.admit_call(&app("b"), "x").is_ok());
        assert_eq!(limits.admit_call(&app("a"), "y"), Err(Refusal::Quota));
        let other_org = Owner::Suite {
            suite: "s".into(),
            corp: "elsewhere".into(),
        };
        assert!(limits.admit_call(&other_org, "x").is_ok());
        limits.reset_quota();
        assert!(limits.admit_call(&app("a"), "y").is_ok());
    }

    // Without a manual clock the limits count Tokio's time, which a test can pause.
    #[tokio::test(start_paused = true)]
    async fn tokio_paused_time_drives_the_default_clock() {
        let config = MockConfig::new()
            .with_qps_limit(Some(1))
            .with_ip_limit(1, Duration::from_secs(10))
            .with_ip_ban(Duration::from_secs(60));
        let mut limits = Limits::new(&config);
        let ip = IpAddr::from(Ipv4Addr::LOCALHOST);
        assert!(limits.admit_call(&app("a"), "x").is_ok());
        assert!(limits.admit_call(&app("a"), "x").is_err());
        assert!(limits.admit_ip(ip));
        assert!(!limits.admit_ip(ip));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limits.admit_call(&app("a"), "x").is_ok());
        assert!(!limits.admit_ip(ip));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(limits.admit_ip(ip));
    }

    #[test]
    fn nothing_is_limited_by_default() {
        let (mut limits, _clock) = limits(MockConfig::default());
        let ip = IpAddr::from(Ipv4Addr::LOCALHOST);
        for _ in 0..20_000 {
            assert!(limits.admit_ip(ip));
            assert!(limits.admit_call(&app("a"), "x").is_ok());
        }
        assert!(limits.ips.is_empty() && limits.per_second.is_empty());
    }
}
