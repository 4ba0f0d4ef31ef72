//! The `dingtalk-conference-mock` command line: run the fake DingTalk server on 127.0.0.1
//! until Ctrl-C. A library module so that other packages' tests can build the same binary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, IpLimit, MockConfig, MockServer, seeded,
};

const USAGE: &str = "\
dingtalk-conference-mock: a fake DingTalk video conference server on 127.0.0.1

Usage: dingtalk-conference-mock [--port N] [--token-lifetime SECS] [--no-seed]
                                [--invalidate-previous-corp-token] [LIMITS] [GATEWAY] [HTTP PUSH]

Options:
  --port N                Port to listen on (default 0: pick a free one)
  --token-lifetime SECS   Lifetime of issued tokens, and their expireIn (default 7200)
  --no-seed               Start without the seeded conferences
  --invalidate-previous-corp-token
                          Each new corp token (getCorpAccessToken) invalidates the earlier
                          ones of its suite and organisation at once: they get 400
                          InvalidAuthentication (default: they stay valid until they expire)
  -h, --help              Print this help

HTTP push (DingTalk's encrypted callback; off unless --push-url is given):
  --push-url URL          POST every event the server emits to URL (http:// only), encrypted
                          and signed as DingTalk does (?signature=&timestamp=&nonce=, body
                          {\"encrypt\": ...}), and check the app's encrypted `success` reply
  --push-token TOKEN      The 签名 token (default mockpushtoken)
  --push-aes-key KEY      The 加密 aes_key, 43 letters and digits
                          (default mockPushAesKey0123456789abcdefghijklmnopqrs)
  --push-owner-key KEY    The owner key ending every plaintext (default mock-app-key, the
                          default app's key, as DingTalk uses the AppKey)
  --push-retry-secs A,B   Waits before the retries of a failed push (default 10,30, as
                          DingTalk); then the event goes to the failed list
  --push-check-url        Post {\"EventType\":\"check_url\"} once at start, as DingTalk does
                          when the console saves the URL, and report the result on stderr

At exit, with --push-url, prints `http push: N delivered, M failed, R retries` on stderr,
then one line per failed event.

Limits (all off unless given; `off` turns one off):
  --qps-limit N           Conference calls per second allowed per app and per API; the
                          calls beyond get 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi
                          (token requests are not limited)
  --ip-limit N/SECS       Requests allowed from one IP within any SECS seconds; the request
                          beyond bans the IP: every request gets the HTML ban page
  --ip-ban-secs SECS      How long the ban lasts (default 300; needs an IP limit)
  --monthly-quota N       Conference calls per organisation until POST /__mock/reset-quota;
                          then 403 Forbidden.AccessDenied.ApiCountLimitForOrg (0: spent)
  --dingtalk-limits       All of them at DingTalk's numbers: --qps-limit 20
                          --ip-limit 10000/20 --ip-ban-secs 300 --monthly-quota 5000 (the
                          quota is illustrative); the flags above, given too, win

Stream mode gateway (POST /v1.0/gateway/connections/open, then ws://127.0.0.1:PORT/connect):
  --event-redelivery SECS An event not ACKed (or ACKed LATER) is sent again after SECS
                          seconds, fractions allowed (default 5)
  --gateway-ping SECS     A SYSTEM ping frame to each connection every SECS seconds,
                          fractions allowed, or `off` (default 30)

Prints `listening on http://127.0.0.1:PORT` on stdout once it accepts connections, and the
default credentials and seeded conference ids on stderr. Runs until Ctrl-C or SIGTERM.

Control routes (not part of DingTalk's API): GET /__mock/counters returns the request
counters as JSON; POST /__mock/expire-tokens makes every issued token invalid;
POST /__mock/reset-quota starts a new month for the monthly quota; POST /__mock/events/emit
with {eventType, data, corpId?} emits an event; GET /__mock/gateway returns the
gateway's counters; POST /__mock/gateway/disconnect, /duplicate-next, /send-raw (the body is
the frame), /silence and /refuse-tickets (both with {on: true|false}) drive the gateway.";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// Serve with this configuration; `true`: send a `check_url` push at start.
    Run(Box<MockConfig>, bool),
    Help,
}

/// The limit flags, applied after every flag is read so that the explicit ones win over
/// `--dingtalk-limits` wherever they stand. `Some(None)` is `off`.
#[derive(Default)]
struct LimitFlags {
    dingtalk: bool,
    qps: Option<Option<u32>>,
    ip: Option<Option<IpLimit>>,
    ip_ban: Option<Duration>,
    quota: Option<Option<u64>>,
}

impl LimitFlags {
    fn apply(self, mut config: MockConfig) -> Result<MockConfig, String> {
        if self.dingtalk {
            let preset = MockConfig::dingtalk_limits();
            config.qps_limit = preset.qps_limit;
            config.ip_limit = preset.ip_limit;
            config.ip_ban = preset.ip_ban;
            config.monthly_quota = preset.monthly_quota;
        }
        if let Some(qps) = self.qps {
            config.qps_limit = qps;
        }
        if let Some(ip) = self.ip {
            config.ip_limit = ip;
        }
        if let Some(ban) = self.ip_ban {
            if config.ip_limit.is_none() {
                return Err(
                    "--ip-ban-secs: there is no IP limit to ban for (give --ip-limit N/SECS)"
                        .to_owned(),
                );
            }
            config.ip_ban = ban;
        }
        if let Some(quota) = self.quota {
            config.monthly_quota = quota;
        }
        Ok(config)
    }
}

/// `raw` as `off` (`None`) or a value `parse` accepts.
fn off_or<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if raw == "off" {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

/// A whole number of at least 1 (`what` says of what, for the error).
fn positive(flag: &str, raw: &str, what: &str) -> Result<u32, String> {
    raw.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!(
            "{flag}: `{raw}` is not a whole number of {what} from 1 to {}",
            u32::MAX
        )
    })
}

/// A positive number of seconds, fractions allowed (`0.25`).
fn seconds(flag: &str, raw: &str) -> Result<Duration, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|secs| *secs > 0.0)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("{flag}: `{raw}` is not a positive number of seconds"))
}

/// `N/SECS`: at least one request within at least one second.
fn ip_limit(raw: &str) -> Result<IpLimit, String> {
    let Some((calls, secs)) = raw.split_once('/') else {
        return Err(format!(
            "--ip-limit: `{raw}` is not N/SECS (N requests in SECS seconds, e.g. 10000/20)"
        ));
    };
    let calls = positive("--ip-limit", calls, "requests")?;
    let secs = positive("--ip-limit", secs, "seconds")?;
    Ok(IpLimit {
        calls,
        window: Duration::from_secs(u64::from(secs)),
    })
}

/// `A,B,...`: whole seconds before each retry (empty: no retry).
fn retry_secs(raw: &str) -> Result<Vec<Duration>, String> {
    raw.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            part.trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| {
                    format!("--push-retry-secs: `{raw}` is not whole seconds separated by commas")
                })
        })
        .collect()
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = MockConfig::default();
    let mut push_check_url = false;
    let mut limits = LimitFlags::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => {
                let raw = value("--port")?;
                config.port = raw
                    .parse()
                    .map_err(|_| format!("--port: `{raw}` is not a port number (0-65535)"))?;
            }
            "--token-lifetime" => {
                let raw = value("--token-lifetime")?;
                let secs: u64 = raw.parse().map_err(|_| {
                    format!("--token-lifetime: `{raw}` is not a whole number of seconds")
                })?;
                config.token_lifetime = Duration::from_secs(secs);
            }
            "--no-seed" if inline.is_none() => config.seed = false,
            "--invalidate-previous-corp-token" if inline.is_none() => {
                config.invalidate_previous_corp_tokens = true;
            }
            "--push-url" => config.push.url = Some(value("--push-url")?),
            "--push-token" => {
                let raw = value("--push-token")?;
                if raw.is_empty() {
                    return Err("--push-token: the token is empty".to_owned());
                }
                config.push.token = raw;
            }
            "--push-aes-key" => {
                let raw = value("--push-aes-key")?;
                if raw.len() != 43 || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    // The key is a secret: the error says what is wrong, not what was given.
                    return Err(format!(
                        "--push-aes-key: the key is not 43 ASCII letters and digits ({} \
                         characters given)",
                        raw.chars().count()
                    ));
                }
                config.push.aes_key = raw;
            }
            "--push-owner-key" => config.push.owner_key = value("--push-owner-key")?,
            "--push-retry-secs" => {
                let raw = value("--push-retry-secs")?;
                config.push.retry_delays = retry_secs(&raw)?;
            }
            "--push-check-url" if inline.is_none() => push_check_url = true,
            "--qps-limit" => {
                let raw = value("--qps-limit")?;
                limits.qps = Some(off_or(&raw, |raw| {
                    positive("--qps-limit", raw, "calls per second")
                })?);
            }
            "--ip-limit" => {
                let raw = value("--ip-limit")?;
                limits.ip = Some(off_or(&raw, ip_limit)?);
            }
            "--ip-ban-secs" => {
                let raw = value("--ip-ban-secs")?;
                let secs = positive("--ip-ban-secs", &raw, "seconds")?;
                limits.ip_ban = Some(Duration::from_secs(u64::from(secs)));
            }
            "--monthly-quota" => {
                let raw = value("--monthly-quota")?;
                limits.quota = Some(off_or(&raw, |raw| {
                    raw.parse::<u64>().map_err(|_| {
                        format!(
                            "--monthly-quota: `{raw}` is not a whole number of calls (0 to {})",
                            u64::MAX
                        )
                    })
                })?);
            }
            "--dingtalk-limits" if inline.is_none() => limits.dingtalk = true,
            "--event-redelivery" => {
                let raw = value("--event-redelivery")?;
                config.event_redelivery = seconds("--event-redelivery", &raw)?;
            }
            "--gateway-ping" => {
                let raw = value("--gateway-ping")?;
                config.gateway_ping = off_or(&raw, |raw| seconds("--gateway-ping", raw))?;
            }
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    if push_check_url && config.push.url.is_none() {
        return Err("--push-check-url: there is no --push-url to check".to_owned());
    }
    Ok(Command::Run(
        Box::new(limits.apply(config)?),
        push_check_url,
    ))
}

/// The limits in force, for the start-up banner.
fn describe_limits(config: &MockConfig) -> String {
    let mut parts = Vec::new();
    if let Some(qps) = config.qps_limit {
        parts.push(format!("{qps} calls/s per app and API"));
    }
    if let Some(ip) = config.ip_limit {
        parts.push(format!(
            "{} requests per IP in {} s, then a {} s ban",
            ip.calls,
            ip.window.as_secs(),
            config.ip_ban.as_secs()
        ));
    }
    if let Some(quota) = config.monthly_quota {
        parts.push(format!(
            "{quota} conference calls per organisation per month"
        ));
    }
    if parts.is_empty() {
        "off".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The gateway's settings, for the start-up banner.
fn describe_gateway(config: &MockConfig) -> String {
    let pings = config.gateway_ping.map_or_else(
        || "no pings".to_owned(),
        |every| format!("a ping every {} s", every.as_secs_f64()),
    );
    format!(
        "POST /v1.0/gateway/connections/open; events not ACKed go again after {} s; {pings}",
        config.event_redelivery.as_secs_f64()
    )
}

/// Runs the command line with the process's arguments: what the binary's `main` does.
pub fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(std::env::args().skip(1))),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command line with `args` (without the program name) until Ctrl-C or SIGTERM.
pub async fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let (config, push_check_url) = match parse(args) {
        Ok(Command::Run(config, check_url)) => (*config, check_url),
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let push = config.push.clone();
    let seed = config.seed;
    let lifetime = config.token_lifetime;
    let invalidate_corp_tokens = config.invalidate_previous_corp_tokens;
    let limits = describe_limits(&config);
    let gateway = describe_gateway(&config);
    let server = match MockServer::start_with(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot listen on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let printed =
        writeln!(stdout, "listening on {}", server.base_url()).and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(error) = printed {
        eprintln!("error: cannot write to stdout: {error}");
    }
    eprintln!("internal app:    appKey={DEFAULT_APP_KEY} appSecret={DEFAULT_APP_SECRET}");
    eprintln!(
        "third-party app: suiteKey={DEFAULT_SUITE_KEY} suiteSecret={DEFAULT_SUITE_SECRET} \
         authCorpId={DEFAULT_CORP_ID} suiteTicket={DEFAULT_SUITE_TICKET}"
    );
    eprintln!("token lifetime:  {} s", lifetime.as_secs());
    if invalidate_corp_tokens {
        eprintln!("corp tokens:     a new one invalidates the earlier ones");
    }
    eprintln!("limits:          {limits}");
    eprintln!("stream gateway:  {gateway}");
    if seed {
        let ids = [
            ("started", seeded::STARTED),
            ("ended", seeded::ENDED),
            ("initialised", seeded::INITIALISED),
            ("scheduled", seeded::SCHEDULED),
            ("audio", seeded::AUDIO),
            ("with extension apps", seeded::WITH_EXTENSION_APPS),
            ("legacy (minutes*)", seeded::LEGACY),
            (
                "ended, February instance of scheduled",
                seeded::RECURRING_FEBRUARY,
            ),
            (
                "ended, January instance of scheduled",
                seeded::RECURRING_JANUARY,
            ),
        ];
        for (what, id) in ids {
            eprintln!("conference:      {id}  {what}");
        }
        eprintln!(
            "hosts:           {} may close {}, {} may close {}",
            seeded::STARTED_HOST,
            seeded::STARTED,
            seeded::ENDED_HOST,
            seeded::ENDED
        );
        eprintln!(
            "room code:       {} (three instances of a monthly meeting)",
            seeded::RECURRING_ROOM_CODE
        );
    } else {
        eprintln!("conferences:     none (--no-seed)");
    }

    describe_push(&push);
    // Listening for Ctrl-C and SIGTERM before the URL check starts (`biased`), so a stop
    // that comes during the check is never missed.
    let mut stop = std::pin::pin!(wait_for_stop());
    let stopped = push_check_url
        && tokio::select! {
            biased;
            () = stop.as_mut() => true,
            result = server.push_check_url() => {
                match result {
                    Ok(()) => eprintln!("http push:       check_url answered with the encrypted success"),
                    Err(error) => eprintln!("http push:       check_url failed: {error}"),
                }
                false
            }
        };
    if !stopped {
        stop.await;
    }
    eprintln!("shutting down");
    if push.url.is_some() {
        report_push(&server);
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// The HTTP push settings, for the start-up banner.
fn describe_push(push: &crate::PushConfig) {
    let Some(url) = &push.url else {
        eprintln!("http push:       off (--push-url URL)");
        return;
    };
    let retries: Vec<String> = push
        .retry_delays
        .iter()
        .map(|delay| format!("{} s", delay.as_secs()))
        .collect();
    // The fake's own defaults are printed, for setting up a receiver; a token or key given
    // on the command line is the user's secret and stays out of the log.
    let shown = |value: &str, default: &str| {
        if value == default {
            value.to_owned()
        } else {
            "(given, not shown)".to_owned()
        }
    };
    eprintln!(
        "http push:       {url} token={} aesKey={} ownerKey={} retries after {}",
        shown(&push.token, crate::DEFAULT_PUSH_TOKEN),
        shown(&push.aes_key, crate::DEFAULT_PUSH_AES_KEY),
        push.owner_key,
        if retries.is_empty() {
            "none".to_owned()
        } else {
            retries.join(", ")
        }
    );
}

/// What HTTP push did, on stderr at exit, for a script to check. `unfinished`: events still
/// being pushed or waiting for a retry, which the shutdown ends undelivered.
fn report_push(server: &MockServer) {
    eprintln!(
        "http push:       {} delivered, {} failed, {} retries, {} unfinished, {} lost",
        server.push_delivered(),
        server.push_failed(),
        server.push_retries(),
        server.push_unfinished(),
        server.push_lost()
    );
    for failure in server.push_failures() {
        eprintln!(
            "http push:       failed {} {} after {} attempts: {}",
            failure.event.event_type, failure.event.event_id, failure.attempts, failure.error
        );
    }
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<MockConfig, String> {
        match parse(args.iter().map(|arg| (*arg).to_owned()))? {
            Command::Run(config, _) => Ok(*config),
            Command::Help => Err("help".to_owned()),
        }
    }

    #[test]
    fn limits_are_off_without_flags() {
        assert_eq!(config(&[]), Ok(MockConfig::default()));
        assert_eq!(describe_limits(&MockConfig::default()), "off");
    }

    #[test]
    fn the_corp_token_invalidation_flag_turns_it_on() {
        assert!(!MockConfig::default().invalidate_previous_corp_tokens);
        assert_eq!(
            config(&["--invalidate-previous-corp-token"]),
            Ok(MockConfig::new().with_corp_token_invalidation())
        );
        let error = config(&["--invalidate-previous-corp-token=yes"]).expect_err("refused");
        assert!(error.contains("unexpected argument"), "{error}");
    }

    #[test]
    fn the_gateway_flags_set_redelivery_and_pings() {
        assert_eq!(
            config(&["--event-redelivery", "0.5", "--gateway-ping=off"]),
            Ok(MockConfig::new()
                .with_event_redelivery(Duration::from_millis(500))
                .with_gateway_ping(None))
        );
        assert_eq!(
            config(&["--gateway-ping", "2"]).map(|c| c.gateway_ping),
            Ok(Some(Duration::from_secs(2)))
        );
        for (args, expected) in [
            (
                ["--event-redelivery", "0"],
                "--event-redelivery: `0` is not a positive",
            ),
            (["--event-redelivery", "soon"], "--event-redelivery: `soon`"),
            (["--gateway-ping", "-1"], "--gateway-ping: `-1`"),
            (["--gateway-ping", "inf"], "--gateway-ping: `inf`"),
        ] {
            let error = config(&args).expect_err("refused");
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn each_limit_flag_sets_its_limit() {
        let parsed = config(&[
            "--qps-limit",
            "5",
            "--ip-limit=100/10",
            "--ip-ban-secs",
            "60",
            "--monthly-quota",
            "0",
        ]);
        let expected = MockConfig::new()
            .with_qps_limit(Some(5))
            .with_ip_limit(100, Duration::from_secs(10))
            .with_ip_ban(Duration::from_secs(60))
            .with_monthly_quota(Some(0));
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn the_preset_gives_dingtalk_numbers_and_explicit_flags_win_wherever_they_stand() {
        assert_eq!(
            config(&["--dingtalk-limits"]),
            Ok(MockConfig::dingtalk_limits())
        );
        let expected = MockConfig::dingtalk_limits()
            .with_qps_limit(Some(3))
            .with_monthly_quota(None);
        assert_eq!(
            config(&[
                "--qps-limit",
                "3",
                "--dingtalk-limits",
                "--monthly-quota",
                "off"
            ]),
            Ok(expected)
        );
        assert_eq!(
            config(&["--dingtalk-limits", "--ip-limit", "off"]).map(|c| c.ip_limit),
            Ok(None)
        );
        assert_eq!(
            describe_limits(&MockConfig::dingtalk_limits()),
            "20 calls/s per app and API; 10000 requests per IP in 20 s, then a 300 s ban; \
             5000 conference calls per organisation per month"
        );
    }

    #[test]
    fn bad_limit_values_are_refused_with_the_flag_and_the_value() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--qps-limit", "0"],
                "--qps-limit: `0` is not a whole number of calls per second from 1 to",
            ),
            (
                &["--qps-limit", "fast"],
                "--qps-limit: `fast` is not a whole number",
            ),
            (&["--qps-limit", "-1"], "--qps-limit: `-1`"),
            (&["--qps-limit"], "--qps-limit needs a value"),
            (&["--ip-limit", "100"], "--ip-limit: `100` is not N/SECS"),
            (
                &["--ip-limit", "100/0"],
                "--ip-limit: `0` is not a whole number of seconds",
            ),
            (
                &["--ip-limit", "0/20"],
                "--ip-limit: `0` is not a whole number of requests",
            ),
            (
                &["--ip-limit", "a/20"],
                "--ip-limit: `a` is not a whole number of requests",
            ),
            (
                &["--ip-limit", "10/20/30"],
                "--ip-limit: `20/30` is not a whole number",
            ),
            (
                &["--ip-ban-secs", "0", "--ip-limit", "1/1"],
                "--ip-ban-secs: `0`",
            ),
            (
                &["--ip-ban-secs", "60"],
                "--ip-ban-secs: there is no IP limit",
            ),
            (
                &[
                    "--dingtalk-limits",
                    "--ip-limit",
                    "off",
                    "--ip-ban-secs",
                    "9",
                ],
                "--ip-ban-secs: there is no IP limit",
            ),
            (
                &["--monthly-quota", "-5"],
                "--monthly-quota: `-5` is not a whole number",
            ),
            (&["--monthly-quota", "lots"], "--monthly-quota: `lots`"),
            (
                &["--dingtalk-limits=yes"],
                "unexpected argument `--dingtalk-limits=yes`",
            ),
        ];
        for (args, expected) in cases {
            let error = config(args).expect_err("refused");
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn the_push_flags_set_the_http_push() {
        let pushed = config(&[
            "--push-url",
            "http://127.0.0.1:9/cb",
            "--push-token=tok123",
            "--push-aes-key",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456",
            "--push-owner-key",
            "dingapp",
            "--push-retry-secs",
            "1,2",
        ])
        .expect("test input");
        assert_eq!(pushed.push.url.as_deref(), Some("http://127.0.0.1:9/cb"));
        assert_eq!(
            (pushed.push.token.as_str(), pushed.push.owner_key.as_str()),
            ("tok123", "dingapp")
        );
        assert_eq!(
            pushed.push.retry_delays,
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert_eq!(
            parse(["--push-url", "http://h/", "--push-check-url"].map(str::to_owned)),
            Ok(Command::Run(
                Box::new(MockConfig::default().with_push_url("http://h/")),
                true
            ))
        );
        assert_eq!(config(&[]).expect("test input").push.url, None);
        for (args, expected) in [
            (
                &["--push-aes-key", "short"][..],
                "--push-aes-key: the key is not 43 ASCII letters and digits (5 characters",
            ),
            (&["--push-retry-secs", "1,x"], "--push-retry-secs"),
            (&["--push-check-url"], "no --push-url"),
            (&["--push-token", ""], "--push-token"),
        ] {
            let error = config(args).expect_err("refused");
            assert!(error.contains(expected), "{args:?}: {error}");
        }
        let error = config(&["--push-aes-key", "short"]).expect_err("refused");
        assert!(!error.contains("short"), "a key is never quoted: {error}");
        assert_eq!(
            config(&["--push-url", "http://h/", "--push-retry-secs", ""])
                .expect("test input")
                .push
                .retry_delays,
            Vec::<Duration>::new()
        );
    }
}
