//! In-meeting control: `invite`, `mute`, `kick` and `lock` (issue 20, part control).
//!
//! Every command takes `--user-id HOST`, the person acting. Where DingTalk's request names an
//! operator (`inviteUsers`' `unionId`), it is sent and DingTalk decides. The other requests
//! name none (the app acts), so the command first reads the conference's members once and
//! refuses, before acting, a `--user-id` who is not in the conference as its host or a co-host
//! (exit 4): DingTalk itself would carry out the app's request for anyone.

use clap::{ArgGroup, Subcommand};
use dingtalk_conference::{Invitation, Kick, LockAction, MuteAll, MuteMember};
use serde_json::json;

use super::Context;
use crate::Failure;
use crate::cli::{conference_id, union_id};
use crate::render::clean;

/// The in-meeting control commands.
#[derive(Subcommand)]
pub(crate) enum Control {
    /// Call people into a running conference.
    #[command(long_about = "\
Call people into a running conference: each --invite is a unionId, optionally with the name to
show as UNION_ID=NICK (default: the unionId). --user-id is the inviter, sent to DingTalk, which
refuses anyone but the host or a co-host. Calling again rings again.

Prints a short confirmation; with --json, DingTalk's answer ({\"success\": true}).")]
    Invite {
        /// The conference id, e.g. 6323d7568777190142ab9d10.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the host or co-host who invites.
        #[arg(long, value_parser = union_id, value_name = "HOST")]
        user_id: String,
        /// A person to call: UNION_ID or UNION_ID=NICK (repeat, or several after one flag).
        #[arg(long = "invite", value_name = "U", num_args = 1.., required = true, value_parser = invitee)]
        invitees: Vec<(String, String)>,
    },
    /// Mute (or unmute) everyone, or some members.
    #[command(group = ArgGroup::new("whom").required(true).args(["all", "members"]))]
    #[command(long_about = "\
Mute everyone (--all) or the given members (--member, one request each: DingTalk takes one
user per call), or unmute them with --off. --force with --all keeps people from unmuting
themselves. --user-id must be the conference's host or a co-host: the command checks it in the
member list first, because DingTalk's request names nobody.

Prints a short confirmation; with --json, DingTalk's answer ({\"success\": true}).")]
    Mute {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the host or co-host who acts.
        #[arg(long, value_parser = union_id, value_name = "HOST")]
        user_id: String,
        /// Everyone (but the host and co-hosts).
        #[arg(long)]
        all: bool,
        /// A member to mute (unionId; repeat, or several after one flag).
        #[arg(long = "member", value_name = "U", num_args = 1.., value_parser = union_id)]
        members: Vec<String>,
        /// Unmute instead.
        #[arg(long)]
        off: bool,
        /// With --all: nobody may unmute themselves.
        #[arg(long, requires = "all", conflicts_with = "off")]
        force: bool,
    },
    /// Remove members from a running conference.
    #[command(long_about = "\
Remove members from a running conference; with --no-rejoin they cannot join again. --user-id
must be the conference's host or a co-host: the command checks it in the member list first,
because DingTalk's request names nobody. Not repeated on failure: check the member list.

Prints a short confirmation; with --json, DingTalk's answer ({\"success\": true}).")]
    Kick {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the host or co-host who acts.
        #[arg(long, value_parser = union_id, value_name = "HOST")]
        user_id: String,
        /// A member to remove (unionId; repeat, or several after one flag).
        #[arg(long = "member", value_name = "U", num_args = 1.., required = true, value_parser = union_id)]
        members: Vec<String>,
        /// They may not join again.
        #[arg(long)]
        no_rejoin: bool,
    },
    /// Lock a running conference (nobody can join), or unlock it.
    #[command(long_about = "\
Lock a running conference so that nobody can join, or unlock it with --off. --user-id must be
the conference's host or a co-host: the command checks it in the member list first, because
DingTalk's request names nobody.

Prints a short confirmation; with --json, DingTalk's answer ({\"success\": true}).")]
    Lock {
        /// The conference id.
        #[arg(value_parser = conference_id, value_name = "CONFERENCE_ID")]
        conference_id: String,
        /// unionId of the host or co-host who acts.
        #[arg(long, value_parser = union_id, value_name = "HOST")]
        user_id: String,
        /// Unlock instead.
        #[arg(long)]
        off: bool,
    },
}

/// `UNION_ID` or `UNION_ID=NICK`: the unionId checked, the nick the unionId when absent.
fn invitee(value: &str) -> Result<(String, String), String> {
    let (id, nick) = match value.split_once('=') {
        Some((id, nick)) if !nick.trim().is_empty() => (id, nick.to_string()),
        Some(_) => return Err("the name after `=` is empty".to_string()),
        None => (value, value.to_string()),
    };
    Ok((union_id(id)?, nick))
}

impl Control {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        match self {
            Self::Invite {
                conference_id,
                user_id,
                invitees,
            } => {
                let invitation = invitees
                    .iter()
                    .fold(Invitation::new().by(user_id), |inv, (id, nick)| {
                        inv.user(id, nick)
                    });
                cx.call(cx.client().invite_users(conference_id, invitation))
                    .await?;
                let n = invitees.len();
                done(
                    cx,
                    &format!(
                        "Calling {n} {} into {}.",
                        if n == 1 { "person" } else { "people" },
                        clean(conference_id)
                    ),
                )
            }
            Self::Mute {
                conference_id,
                user_id,
                all,
                members,
                off,
                force,
            } => {
                ensure_leader(cx, conference_id, user_id).await?;
                let verb = if *off { "Unmuted" } else { "Muted" };
                if *all {
                    let request = match (off, force) {
                        (true, _) => MuteAll::off(),
                        (false, true) => MuteAll::on().forced(),
                        (false, false) => MuteAll::on(),
                    };
                    cx.call(cx.client().mute_all(conference_id, request))
                        .await?;
                    let how = if *force {
                        " (they cannot unmute themselves)"
                    } else {
                        ""
                    };
                    return done(
                        cx,
                        &format!("{verb} everyone in {}{how}.", clean(conference_id)),
                    );
                }
                for member in members {
                    let request = if *off {
                        MuteMember::unmute(member)
                    } else {
                        MuteMember::mute(member)
                    };
                    cx.call(cx.client().mute_member(conference_id, request))
                        .await?;
                }
                done(
                    cx,
                    &format!("{verb} {} in {}.", list(members), clean(conference_id)),
                )
            }
            Self::Kick {
                conference_id,
                user_id,
                members,
                no_rejoin,
            } => {
                ensure_leader(cx, conference_id, user_id).await?;
                let kick = Kick::members(members).forbid_rejoin(*no_rejoin);
                cx.call(cx.client().kick_members(conference_id, kick))
                    .await?;
                let rejoin = if *no_rejoin {
                    "; they cannot join again"
                } else {
                    ""
                };
                done(
                    cx,
                    &format!(
                        "Removed {} from {}{rejoin}.",
                        list(members),
                        clean(conference_id)
                    ),
                )
            }
            Self::Lock {
                conference_id,
                user_id,
                off,
            } => {
                ensure_leader(cx, conference_id, user_id).await?;
                let action = if *off {
                    LockAction::Unlock
                } else {
                    LockAction::Lock
                };
                cx.call(cx.client().lock_conference(conference_id, action))
                    .await?;
                let what = if *off {
                    "Unlocked {}: people can join again."
                } else {
                    "Locked {}: nobody else can join."
                };
                done(cx, &what.replace("{}", &clean(conference_id)))
            }
        }
    }
}

/// The unionIds, cleaned for the terminal, comma-separated.
fn list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| clean(id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints `confirmation`, or DingTalk's answer (`{"success": true}`) with `--json`: a failed
/// call never gets here (`success: false` is an error).
fn done(cx: &mut Context<'_>, confirmation: &str) -> Result<(), Failure> {
    if cx.json() {
        cx.out.json(&json!({"success": true}))
    } else {
        cx.out.print(&format!("{confirmation}\n"))
    }
}

/// Refuses, before acting, a `user_id` who is not in the conference as its host or a
/// co-host: one read of the members (every page).
async fn ensure_leader(
    cx: &Context<'_>,
    conference_id: &str,
    user_id: &str,
) -> Result<(), Failure> {
    let members = cx
        .call(cx.client().conference_members(conference_id).collect())
        .await?;
    let leads = members.iter().any(|m| {
        m.union_id.as_deref() == Some(user_id)
            && m.attend_status == Some(dingtalk_conference::AttendStatus::InMeeting)
            && (m.host == Some(true) || m.co_host == Some(true))
    });
    if leads {
        Ok(())
    } else {
        Err(Failure::Forbidden(format!(
            "{} is not the host or a co-host in conference {}: only they may control the meeting",
            clean(user_id),
            clean(conference_id)
        )))
    }
}
