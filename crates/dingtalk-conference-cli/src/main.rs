//! `dingtalk-conference`: query DingTalk video conferences from the command line, against the
//! real API or, with `--mock`, against the fake server started inside the process.
//!
//! The commands live in [`commands`], one module per theme (conferences, members, watch,
//! recordings, token). Exit codes are in [`exit`]; `--help` lists them.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod connect;
mod exit;
mod render;
mod secrets;
mod time_arg;

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::FromArgMatches as _;
use clap::parser::ValueSource;

use crate::cli::Cli;
use crate::commands::Output;
use crate::exit::{Exit, exit_for};

/// Why a run failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The facade failed: DingTalk's answer, the network, configuration the builder refused.
    Dingtalk(dingtalk_conference::Error),
    /// The command line contradicts itself.
    Usage(String),
    /// Configuration is missing (credentials).
    Config(String),
    /// `--timeout` ran out.
    TimedOut(Duration),
    /// Ctrl-C.
    Interrupted,
    /// Anything else: the runtime or the fake server could not start, output failed.
    Other(String),
}

impl Failure {
    fn exit(&self) -> Exit {
        match self {
            Self::Dingtalk(error) => exit_for(error),
            Self::Usage(_) => Exit::Usage,
            Self::Config(_) | Self::Other(_) => Exit::Other,
            Self::TimedOut(_) => Exit::Network,
            Self::Interrupted => Exit::Interrupted,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The error with its causes: a transport error's cause says what broke.
            Self::Dingtalk(error) => f.write_str(&error.report()),
            Self::Usage(message) | Self::Config(message) | Self::Other(message) => {
                f.write_str(message)
            }
            Self::TimedOut(limit) => write!(
                f,
                "gave up after {} (--timeout)",
                render::short_delay(*limit)
            ),
            Self::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// Writes a line to stderr. A closed stderr is no reason to fail (or panic, as `eprintln!`
/// would).
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn main() -> ExitCode {
    // clap prints help, version and usage errors itself, with exit code 0 or 2.
    let matches = cli::matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let given_as_flag = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    // A secret read from a `--*-file` counts as given on the command line.
    let on_command_line = |id: &str| {
        given_as_flag(id)
            || secrets::SECRET_OPTIONS
                .iter()
                .any(|(secret, file, _)| *secret == id && given_as_flag(file))
    };

    let result = secrets::load(&mut cli.credentials, &given_as_flag).and_then(|mut warnings| {
        if given_as_flag("redis") {
            warnings.extend(
                cli.global
                    .redis
                    .as_deref()
                    .and_then(secrets::redis_flag_warning),
            );
        }
        if given_as_flag("redis_cluster") {
            warnings.extend(cli.global.redis_cluster.as_deref().and_then(|urls| {
                urls.split(',')
                    .find_map(secrets::redis_cluster_flag_warning)
            }));
        }
        for warning in warnings {
            say(&warning);
        }
        match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run(&cli, &on_command_line, &mut Output::stdout())),
            Err(e) => Err(Failure::Other(format!(
                "could not start the async runtime: {e}"
            ))),
        }
    });
    let failure = match result {
        Ok(()) => return Exit::Success.into(),
        Err(failure) => failure,
    };
    report(&failure);
    failure.exit().into()
}

async fn run(
    cli: &Cli,
    on_command_line: &dyn Fn(&str) -> bool,
    out: &mut Output,
) -> Result<(), Failure> {
    // The handler is installed now, before any work: `ctrl_c()` would install it only when
    // first polled, and a Ctrl-C before that would kill the process without exit code 130.
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let interrupted = async move {
        #[cfg(unix)]
        if let Some(interrupt) = interrupt.as_mut() {
            interrupt.recv().await;
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            // No Ctrl-C handler on this platform: never "interrupted".
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = async {
            let connection = connect::connect(&cli.global, &cli.credentials, on_command_line).await?;
            let mut cx = commands::Context {
                global: &cli.global,
                connection: &connection,
                out,
            };
            commands::run(&cli.command, &mut cx).await
        } => result,
        () = interrupted => Err(Failure::Interrupted),
    }
}

/// `error: ...`, then DingTalk's code and request id when there are. Error texts never hold a
/// secret; text that came from the network is escaped before it reaches the terminal.
fn report(failure: &Failure) {
    say(&format!("error: {}", render::clean(&failure.to_string())));
    if let Failure::Dingtalk(error) = failure {
        if let Some(code) = error.code() {
            say(&format!("code: {}", render::clean(code.as_str())));
        }
        if let Some(id) = error.request_id() {
            say(&format!("request id: {}", render::clean(id)));
        }
    }
}
