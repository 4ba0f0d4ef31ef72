//! `events`: the app's conference events as they arrive, over Stream mode.

use chrono::{Local, Utc};
use clap::Subcommand;
use dingtalk_conference::events::{ConferenceEvent, Event};
use futures_util::StreamExt as _;

use super::Context;
use crate::{Failure, render, say};

/// The events command.
#[derive(Subcommand)]
pub(crate) enum Events {
    /// Print conference events as they arrive (Stream mode), until Ctrl-C.
    #[command(long_about = "\
Print the app's conference events as they arrive, until Ctrl-C (exit code 130).

The events come over Stream mode: a WebSocket the app opens to DingTalk's gateway, so no public
endpoint is needed. The app must have Stream mode enabled and the conference events ticked in
DingTalk's developer console (an internal app with --app-key/--app-secret, or a third-party
suite with its suite credentials). The connection reconnects on its own; each event is printed
once even when DingTalk delivers it again.

One line per event: the time DingTalk made it, its type, the conference, the change (for example
conference_closed or user_join) and the members it is about. With --json, one JSON object per
line (JSON Lines): eventId, eventType, eventCorpId, eventBornTime and data as DingTalk sent them.
--type keeps only the events of that eventType (repeat it for several), e.g.
--type meeting_status_change --type meeting_member_status_change. --timeout SECS stops listening
after SECS seconds: exit code 0, or, if no connection opened in that time, the exit code of the
connection's last error (4 for refused credentials, 6 for an unreachable gateway).

Stderr says when the connection opens, drops, or fails to open, and why.")]
    Events {
        /// Only events of this eventType (repeatable), e.g. meeting_status_change
        #[arg(long = "type", value_name = "T")]
        types: Vec<String>,
    },
}

impl Events {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Events { types } = self;
        let mut stream = cx.client().events().map_err(Failure::Dingtalk)?;
        say("listening for conference events over Stream mode; Ctrl-C to stop");
        let json = cx.json();
        let timeout = cx.global.timeout;
        let out = &mut *cx.out;
        let mut connection = Connection::default();
        let listen = async {
            let mut check = tokio::time::interval(CHECK_CONNECTION_EVERY);
            check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    event = stream.next() => {
                        let Some(event) = event else { break };
                        if !types.is_empty() && !types.contains(&event.event_type) {
                            continue;
                        }
                        if json {
                            out.json_line(&event)?;
                        } else {
                            out.print(&(event_line(&event) + "\n"))?;
                        }
                        if out.is_closed() {
                            break;
                        }
                    }
                    _ = check.tick() => {
                        connection.check(stream.is_connected(), stream.last_error());
                    }
                }
            }
            Ok(())
        };
        // `--timeout` bounds the listening too: a script can listen for a while. A listen that
        // never connected in that time is a failure, with the connection's last error.
        match super::within(timeout, listen).await {
            Ok(result) => result,
            Err(Failure::TimedOut(limit)) => {
                if connection.ever || stream.is_connected() {
                    Ok(())
                } else {
                    Err(stream
                        .last_error()
                        .map_or(Failure::TimedOut(limit), Failure::Dingtalk))
                }
            }
            Err(failure) => Err(failure),
        }
    }
}

/// How often `events` looks at its connection, to say when it connects, fails or drops.
const CHECK_CONNECTION_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What `events` has said of its connection, so that each change is said once on stderr: the
/// stream connects and retries in the background, and a wrong secret or an app without
/// Stream mode would otherwise look like a quiet hour.
#[derive(Default)]
struct Connection {
    /// Connected at some point.
    ever: bool,
    connected: bool,
    /// The last error said, as shown.
    error: Option<String>,
}

impl Connection {
    fn check(&mut self, connected: bool, error: Option<dingtalk_conference::Error>) {
        if connected != self.connected {
            self.connected = connected;
            if connected {
                self.ever = true;
                self.error = None;
                say("connected to DingTalk's gateway");
            } else {
                say("the connection to DingTalk's gateway dropped; reconnecting");
            }
        }
        if connected {
            return;
        }
        if let Some(error) = error {
            let shown = render::clean(&error.to_string());
            if self.error.as_deref() != Some(shown.as_str()) {
                say(&format!("not connected: {shown}; trying again"));
                self.error = Some(shown);
            }
        }
    }
}

/// One event as a readable line: time, type, conference, change and members. Every part came
/// from the network, so the line is escaped for the terminal.
pub(crate) fn event_line(event: &Event) -> String {
    let time = render::clock(event.born_at.unwrap_or_else(Utc::now), &Local);
    let conference = event.conference_id().unwrap_or("-");
    let scene = event
        .data
        .get("changeScene")
        .or_else(|| event.data.get("minutesEventType"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("-");
    let mut line = format!("{time}  {}  {conference}  {scene}", event.event_type);
    if let ConferenceEvent::MemberStatusChanged { members, .. } = &event.kind {
        let names: Vec<String> = members
            .iter()
            .map(|m| render::person(m.user_nick.as_deref(), m.union_id.as_deref()))
            .collect();
        if !names.is_empty() {
            line.push_str("  ");
            line.push_str(&names.join(", "));
        }
    }
    render::clean(&line)
}
