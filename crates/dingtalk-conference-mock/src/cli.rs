//! The `dingtalk-conference-mock` command line: run the fake DingTalk server on 127.0.0.1
//! until Ctrl-C. A library module so that other packages' tests can build the same binary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, MockConfig, MockServer, seeded,
};

const USAGE: &str = "\
dingtalk-conference-mock: a fake DingTalk video conference server on 127.0.0.1

Usage: dingtalk-conference-mock [--port N] [--token-lifetime SECS] [--no-seed]

Options:
  --port N                Port to listen on (default 0: pick a free one)
  --token-lifetime SECS   Lifetime of issued tokens, and their expireIn (default 7200)
  --no-seed               Start without the seeded conferences
  -h, --help              Print this help

Prints `listening on http://127.0.0.1:PORT` on stdout once it accepts connections, and the
default credentials and seeded conference ids on stderr. Runs until Ctrl-C or SIGTERM.

Control routes (not part of DingTalk's API): GET /__mock/counters returns the request
counters as JSON; POST /__mock/expire-tokens makes every issued token invalid.";

/// What the command line asked for.
enum Command {
    Run(MockConfig),
    Help,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = MockConfig::default();
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
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    Ok(Command::Run(config))
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
    let config = match parse(args) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let seed = config.seed;
    let lifetime = config.token_lifetime;
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

    wait_for_stop().await;
    eprintln!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
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
