//! The command line as clap sees it: global options and credentials, with the commands from
//! [`crate::commands`], and the value parsers several commands share.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, CommandFactory as _, Parser};
use dingtalk_conference::{Edition, Error, Secret, env};

use crate::commands::Command;

/// The CA certificates (PEM file) to trust for a `rediss://` Redis: `--redis-ca-file`.
pub(crate) const REDIS_CA_FILE: &str = "DINGTALK_REDIS_CA_FILE";

const ABOUT: &str = "DingTalk video conferences from the command line: show, list, create and \
                     close them, watch them, read their recordings and transcripts.";

const LONG_ABOUT: &str = "\
DingTalk video conferences from the command line: show one (or every one with a room code), the
status of several, their members; create and close them; watch one or many until they end; print
the app's conference events as they arrive (Stream mode); list a recording's videos and read its
transcript; check the access token. And any operation of the API
by its operationId, printing DingTalk's JSON answer (like `gh api`):

    dingtalk-conference --mock api queryConferenceInfo --conference-id 6323d7568777190142ab9d10
    dingtalk-conference api --help       (every operation; `api OPERATION_ID --help` for one)

No DingTalk account? Add --mock: the fake DingTalk server bundled with this tool starts inside the
process, with seeded conferences, its own app credentials and DingTalk's real limits (20 calls/s
per app per API, a per-IP window, a monthly quota), e.g.

    dingtalk-conference --mock info 65c6f2a1e4b0c7d93a1f0e27

Against the real API, give an internal app's key and secret, a third-party app's suite
credentials, or a ready access token, as flags or DINGTALK_* variables (flags win).";

/// Parses the command line. Under `--mock` no `DINGTALK_*` variable is read at all, as its
/// help says: a demo on a host set up for production (`DINGTALK_REDIS_URL`, credentials, an
/// edition) must not join the production fleet, nor fail on a variable meant for it. Only
/// the flags given apply.
///
/// clap prints help, version and usage errors itself, and exits with code 0 or 2.
pub(crate) fn matches() -> ArgMatches {
    // Read without any variable first: when that says --mock, it is the answer. Otherwise
    // (no --mock, or a command line clap refuses either way) read it again with them.
    let without_variables = Cli::command()
        .mut_args(|arg| arg.env(None::<&str>))
        .try_get_matches();
    match without_variables {
        Ok(matches) if matches.get_flag("mock") => matches,
        _ => Cli::command().get_matches(),
    }
}

/// The whole command line.
#[derive(Parser)]
#[command(
    name = "dingtalk-conference",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = crate::exit::help_text(),
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(flatten)]
    pub(crate) credentials: CredentialArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes, before or after the command's name.
#[derive(Args)]
pub(crate) struct GlobalArgs {
    /// Use the bundled fake DingTalk server: no account needed
    ///
    /// It starts inside this process on 127.0.0.1, with seeded conferences and its own app.
    /// DINGTALK_* variables are ignored, DINGTALK_REDIS_URL included; flags still apply, and
    /// what the credential flags leave out is the fake server's app (try --app-secret wrong).
    #[arg(long, global = true, help_heading = "Connection", verbatim_doc_comment)]
    pub(crate) mock: bool,

    /// Which DingTalk edition to call: international or china [default: international]
    ///
    /// international (or intl, io): api.dingtalk.io; china (or cn, com): api.dingtalk.com.
    /// In any case.
    #[arg(
        long,
        global = true,
        value_name = "EDITION",
        value_parser = edition,
        verbatim_doc_comment,
        env = env::EDITION,
        help_heading = "Connection"
    )]
    pub(crate) edition: Option<Edition>,

    /// Call this base URL instead of the edition's host
    ///
    /// A proxy, or a fake server. https://, or http:// on a loopback host only.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        verbatim_doc_comment,
        env = env::BASE_URL,
        help_heading = "Connection"
    )]
    pub(crate) base_url: Option<String>,

    /// Share the access token and the rate budget with other processes through this Redis
    ///
    /// redis://[user:password@]host[:port][/db], or rediss://… for TLS. Every process of a
    /// fleet given the same Redis fetches one token per lifetime and stays within one
    /// 20 calls/s budget per API together. When Redis is down or slow, each goes on alone.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        verbatim_doc_comment,
        env = env::REDIS_URL,
        hide_env_values = true,
        help_heading = "Connection"
    )]
    pub(crate) redis: Option<String>,

    /// Share them through this Redis Cluster instead: the URLs of one or more of its nodes
    ///
    /// URL[,URL...], each as for --redis, all with the same user and password. The fleet's keys
    /// spread over the cluster by app; during a failover each process goes on alone.
    /// With --redis too, the fleet is moving from that Redis onto the cluster: each process
    /// keeps to both budgets and shares the token on that Redis (docs/SCALING.md).
    #[arg(
        long,
        global = true,
        value_name = "URL[,URL...]",
        verbatim_doc_comment,
        env = env::REDIS_CLUSTER,
        hide_env_values = true,
        help_heading = "Connection"
    )]
    pub(crate) redis_cluster: Option<String>,

    /// Trust the CA certificates in this PEM file for a rediss:// Redis
    ///
    /// For a Redis whose certificate a CA of its own signed: then only these are trusted.
    /// Without it, the system's trusted roots are.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        verbatim_doc_comment,
        env = REDIS_CA_FILE,
        help_heading = "Connection"
    )]
    pub(crate) redis_ca_file: Option<PathBuf>,

    /// Give up after SECS seconds, retries and polling included
    ///
    /// Fractions are allowed (0.5), up to a year (31536000). Each single request also times
    /// out after 10 s at most.
    /// For watch, running out means the condition did not hold in time (exit code 8).
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        verbatim_doc_comment,
        value_parser = parse_seconds,
        allow_negative_numbers = true,
        help_heading = "Connection"
    )]
    pub(crate) timeout: Option<Duration>,

    /// Print JSON on stdout instead of text
    ///
    /// DingTalk's own JSON form of what the command shows; each command's --help says which.
    #[arg(long, global = true, help_heading = "Output", verbatim_doc_comment)]
    pub(crate) json: bool,
}

/// Credentials: one kind, from flags or `DINGTALK_*` variables. Secrets are wrapped at once, so
/// nothing that prints this struct can show them, and clap never prints their variables' values.
#[derive(Args)]
pub(crate) struct CredentialArgs {
    /// Internal app: its AppKey.
    #[arg(long, global = true, value_name = "KEY", env = env::APP_KEY, hide_env_values = true, help_heading = "Credentials")]
    pub(crate) app_key: Option<String>,

    /// Internal app: its AppSecret.
    #[arg(long, global = true, value_name = "SECRET", env = env::APP_SECRET, hide_env_values = true, value_parser = secret, help_heading = "Credentials")]
    pub(crate) app_secret: Option<Secret>,

    /// Third-party app: its SuiteKey.
    #[arg(long, global = true, value_name = "KEY", env = env::SUITE_KEY, hide_env_values = true, help_heading = "Credentials")]
    pub(crate) suite_key: Option<String>,

    /// Third-party app: its SuiteSecret.
    #[arg(long, global = true, value_name = "SECRET", env = env::SUITE_SECRET, hide_env_values = true, value_parser = secret, help_heading = "Credentials")]
    pub(crate) suite_secret: Option<Secret>,

    /// Third-party app: the corpId of the organisation it acts in.
    #[arg(long, global = true, value_name = "CORP_ID", env = env::AUTH_CORP_ID, hide_env_values = true, help_heading = "Credentials")]
    pub(crate) auth_corp_id: Option<String>,

    /// Third-party app: the latest suite ticket DingTalk pushed.
    #[arg(long, global = true, value_name = "TICKET", env = env::SUITE_TICKET, hide_env_values = true, value_parser = secret, help_heading = "Credentials")]
    pub(crate) suite_ticket: Option<Secret>,

    /// A ready access token, used as is (no expiry known).
    #[arg(long, global = true, value_name = "TOKEN", env = env::ACCESS_TOKEN, hide_env_values = true, value_parser = secret, help_heading = "Credentials")]
    pub(crate) access_token: Option<Secret>,

    /// Internal app: a file holding its AppSecret ('-' reads standard input). Unlike
    /// --app-secret, other users cannot see it in `ps` or shell history.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Credentials")]
    pub(crate) app_secret_file: Option<PathBuf>,

    /// Third-party app: a file holding its SuiteSecret ('-' reads standard input).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Credentials")]
    pub(crate) suite_secret_file: Option<PathBuf>,

    /// Third-party app: a file holding the latest suite ticket ('-' reads standard input).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Credentials")]
    pub(crate) suite_ticket_file: Option<PathBuf>,

    /// A file holding a ready access token ('-' reads standard input).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Credentials")]
    pub(crate) access_token_file: Option<PathBuf>,
}

impl CredentialArgs {
    /// A secret option and its `--*-file` twin, by the secret's argument id.
    pub(crate) fn secret_and_file(&mut self, id: &str) -> (&mut Option<Secret>, &Option<PathBuf>) {
        match id {
            "app_secret" => (&mut self.app_secret, &self.app_secret_file),
            "suite_secret" => (&mut self.suite_secret, &self.suite_secret_file),
            "suite_ticket" => (&mut self.suite_ticket, &self.suite_ticket_file),
            _ => (&mut self.access_token, &self.access_token_file),
        }
    }
}

fn secret(value: &str) -> Result<Secret, Infallible> {
    Ok(Secret::new(value))
}

/// A value the spec's generated check accepts, or its refusal (naming the spec's parameter)
/// for clap to print.
pub(crate) fn checked(
    value: &str,
    check: impl FnOnce(&str) -> Result<(), dingtalk_conference_api::InputError>,
) -> Result<String, String> {
    check(value)
        .map(|()| value.to_string())
        .map_err(|error| error.to_string())
}

/// A conference id: the spec's `x-id: conference` (not blank, not `.`/`..`, no `\`, no
/// control characters).
pub(crate) fn conference_id(value: &str) -> Result<String, String> {
    checked(
        value,
        dingtalk_conference_api::checks::query_conference_info::conference_id,
    )
}

/// A user's unionId (`--union-id`): the spec's `x-id: union` (not blank, no control
/// characters).
pub(crate) fn union_id(value: &str) -> Result<String, String> {
    checked(
        value,
        dingtalk_conference_api::checks::close_video_conference::union_id,
    )
}

/// `--edition` and `DINGTALK_EDITION`: the library's own parsing, so that the command accepts
/// exactly the words a program using the library does. A blank value is the default edition,
/// as the library's `Client::from_env` counts a blank variable as unset.
fn edition(value: &str) -> Result<Edition, String> {
    if value.trim().is_empty() {
        return Ok(Edition::default());
    }
    value.parse::<Edition>().map_err(|error| match error {
        // Without the "invalid configuration: " prefix: clap says what was invalid.
        Error::Config(message) => message,
        other => other.to_string(),
    })
}

/// The most `--timeout` and `--interval` take: a year, far beyond any use, and far from where
/// adding it to the clock could overflow.
const MAX_SECONDS: u64 = 365 * 24 * 60 * 60;

/// Seconds as a positive, finite number (fractions allowed) up to [`MAX_SECONDS`], e.g. `5` or
/// `0.5`.
pub(crate) fn parse_seconds(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(format!("{value:?}: give a positive number of seconds"));
    }
    let too_long = || format!("{value:?} seconds is too long: give at most {MAX_SECONDS} (a year)");
    // Also refuses infinity. Compared as a Duration, so that no float rounding lets a value
    // slip past the limit.
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| too_long())?;
    if duration > Duration::from_secs(MAX_SECONDS) {
        return Err(too_long());
    }
    if duration.is_zero() {
        return Err(format!(
            "{value:?} seconds rounds to zero: give a positive number of seconds"
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_accept_fractions_and_refuse_nonsense() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        for bad in ["0", "-1", "-0", "NaN", "inf", "-inf", "five", "", "1e-10"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_are_at_most_a_year() {
        assert_eq!(
            parse_seconds("31536000"),
            Ok(Duration::from_secs(MAX_SECONDS))
        );
        // Values Duration can hold, but that overflow Instant arithmetic later.
        for too_long in ["31536000.5", "1e19", "1e300", "18446744073709551615"] {
            let error = parse_seconds(too_long).expect_err(too_long);
            assert!(error.contains("at most 31536000"), "{error}");
        }
    }

    #[test]
    fn editions_are_the_librarys_words() {
        for (word, expected) in [
            ("international", Edition::International),
            ("intl", Edition::International),
            ("io", Edition::International),
            ("China", Edition::China),
            ("cn", Edition::China),
            ("com", Edition::China),
        ] {
            assert_eq!(word.parse::<Edition>().ok(), Some(expected), "{word}");
            let cli = Cli::try_parse_from(["dingtalk-conference", "--edition", word, "token"])
                .unwrap_or_else(|e| panic!("{word}: {e}"));
            assert_eq!(cli.global.edition, Some(expected), "{word}");
        }
        assert_eq!(edition(" "), Ok(Edition::default()));
        let error = Cli::try_parse_from(["dingtalk-conference", "--edition", "eu", "token"])
            .err()
            .expect("an unknown edition is refused");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("international"), "{error}");
    }

    #[test]
    fn blank_conference_id_is_refused() {
        assert!(conference_id("").is_err());
        assert!(conference_id("  ").is_err());
        assert_eq!(conference_id("abc"), Ok("abc".to_string()));
        assert!(union_id(" ").is_err());
        assert_eq!(union_id("u1"), Ok("u1".to_string()));
    }
}
