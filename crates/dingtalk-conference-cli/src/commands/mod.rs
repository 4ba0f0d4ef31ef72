//! The commands, one module per theme. Each theme module holds its own clap `Subcommand` enum,
//! the handlers and the rendering of what they print, so a new command in a theme is one
//! variant, one match arm and its functions in one file: [`Command`] merges the themes'
//! enums with `#[command(flatten)]`, and the dispatch below only names the themes.
//!
//! A command writes its results to [`Output`] (stdout) as they come and its progress and notes
//! to stderr ([`crate::say`]); errors go back to `main` as a [`Failure`].

mod api;
mod api_generated;
mod conferences;
mod control;
mod data;
mod events;
mod members;
mod minutes;
mod org;
mod record_stream;
mod recordings;
mod schedules;
mod token;
mod watch;

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use dingtalk_conference::Client;
use serde::Serialize;

use crate::Failure;
use crate::cli::GlobalArgs;
use crate::connect::Connection;

/// Every command, theme by theme; `--help` lists them in this order.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Conferences as a whole: info, status, create, close.
    #[command(flatten)]
    Conferences(conferences::Conferences),
    /// Who is in a conference.
    #[command(flatten)]
    Members(members::Members),
    /// In-meeting control: invite, mute, kick, lock.
    #[command(flatten)]
    Control(control::Control),
    /// The organisation: conferences in progress, nicknames, subtitle events.
    #[command(flatten)]
    Org(org::Org),
    /// Polling a conference until it changes.
    #[command(flatten)]
    Watch(watch::Watch),
    /// Conference events as they arrive (Stream mode).
    #[command(flatten)]
    Events(events::Events),
    /// Cloud recordings: videos and transcripts.
    #[command(flatten)]
    Recordings(recordings::Recordings),
    /// Cloud recording control and live pushes.
    #[command(flatten)]
    RecordStream(record_stream::RecordStream),
    /// Statistics and call quality: history, quality.
    #[command(flatten)]
    Data(data::Data),
    /// Scheduled conferences.
    #[command(flatten)]
    Schedules(schedules::Schedules),
    /// Flash minutes: start, pause, text, summary.
    #[command(flatten)]
    Minutes(minutes::Minutes),
    /// The access token.
    #[command(flatten)]
    Token(token::Token),
    /// Any operation of the spec by its operationId.
    #[command(flatten)]
    Api(api::Api),
}

/// Runs `command`, writing its results to `cx.out`.
pub(crate) async fn run(command: &Command, cx: &mut Context<'_>) -> Result<(), Failure> {
    match command {
        Command::Conferences(command) => command.run(cx).await,
        Command::Members(command) => command.run(cx).await,
        Command::Control(command) => command.run(cx).await,
        Command::Org(command) => command.run(cx).await,
        Command::Watch(command) => command.run(cx).await,
        Command::Events(command) => command.run(cx).await,
        Command::Recordings(command) => command.run(cx).await,
        Command::RecordStream(command) => command.run(cx).await,
        Command::Data(command) => command.run(cx).await,
        Command::Schedules(command) => command.run(cx).await,
        Command::Minutes(command) => command.run(cx).await,
        Command::Token(command) => command.run(cx).await,
        Command::Api(command) => command.run(cx).await,
    }
}

/// What a command runs with: the global options, the connection, and stdout.
pub(crate) struct Context<'a> {
    pub(crate) global: &'a GlobalArgs,
    pub(crate) connection: &'a Connection,
    pub(crate) out: &'a mut Output,
}

impl Context<'_> {
    /// The client.
    pub(crate) fn client(&self) -> &Client {
        &self.connection.client
    }

    /// Whether `--json` was given.
    pub(crate) fn json(&self) -> bool {
        self.global.json
    }

    /// `work`, given up after `--timeout` if there is one.
    pub(crate) async fn within<T>(&self, work: impl Future<Output = T>) -> Result<T, Failure> {
        within(self.global.timeout, work).await
    }

    /// A facade call, given up after `--timeout`; its error as a [`Failure`].
    pub(crate) async fn call<T>(
        &self,
        work: impl Future<Output = Result<T, dingtalk_conference::Error>>,
    ) -> Result<T, Failure> {
        self.within(work).await?.map_err(Failure::Dingtalk)
    }
}

/// Runs `work`, giving up after `timeout` if there is one.
pub(crate) async fn within<T>(
    timeout: Option<Duration>,
    work: impl Future<Output = T>,
) -> Result<T, Failure> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| Failure::TimedOut(limit)),
        None => Ok(work.await),
    }
}

/// Where results go: stdout, flushed at every write so that streamed results show as they
/// arrive. A reader that went away (`| head`) is no failure: later writes are dropped, and
/// [`Output::is_closed`] lets a streaming command stop fetching.
pub(crate) struct Output {
    sink: Box<dyn Write + Send>,
    closed: bool,
}

impl Output {
    /// The process's stdout.
    pub(crate) fn stdout() -> Self {
        Self::to(Box::new(std::io::stdout()))
    }

    /// Any writer (tests).
    pub(crate) fn to(sink: Box<dyn Write + Send>) -> Self {
        Self {
            sink,
            closed: false,
        }
    }

    /// Writes `text` as is.
    pub(crate) fn print(&mut self, text: &str) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        match self
            .sink
            .write_all(text.as_bytes())
            .and_then(|()| self.sink.flush())
        {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Failure::Other(format!("could not write the output: {e}"))),
            Ok(()) => Ok(()),
        }
    }

    /// `value` as pretty JSON and a line break: one JSON document.
    pub(crate) fn json(&mut self, value: &impl Serialize) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(value).map_err(json_failure)?;
        self.print(&(text + "\n"))
    }

    /// `value` as JSON on one line (for JSON Lines, one value per line).
    pub(crate) fn json_line(&mut self, value: &impl Serialize) -> Result<(), Failure> {
        let text = serde_json::to_string(value).map_err(json_failure)?;
        self.print(&(text + "\n"))
    }

    /// Whether the reader went away.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}

fn json_failure(error: serde_json::Error) -> Failure {
    Failure::Other(format!("could not write JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer that keeps what it is given, or fails like a closed pipe.
    #[derive(Clone, Default)]
    struct Sink {
        written: Arc<Mutex<Vec<u8>>>,
        broken: bool,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.broken {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.written
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_not_a_failure_and_is_reported() {
        let sink = Sink {
            broken: true,
            ..Sink::default()
        };
        let mut out = Output::to(Box::new(sink));
        assert!(out.print("a line\n").is_ok());
        assert!(out.is_closed());
        assert!(out.json_line(&[1, 2]).is_ok());
    }

    #[test]
    fn json_lines_are_one_value_per_line() {
        let sink = Sink::default();
        let mut out = Output::to(Box::new(sink.clone()));
        out.json_line(&serde_json::json!({"a": [1, 2]}))
            .expect("written");
        out.json_line(&"b").expect("written");
        let written = sink.written.lock().expect("not poisoned").clone();
        assert_eq!(String::from_utf8_lossy(&written), "{\"a\":[1,2]}\n\"b\"\n");
        assert!(!out.is_closed());
    }
}
