//! `token`: which credentials are used and when the access token expires.

use chrono::{Local, SecondsFormat, Utc};
use clap::Subcommand;
use dingtalk_conference::AccessToken;

use super::Context;
use crate::connect::Connection;
use crate::{Failure, render};

/// The token command.
#[derive(Subcommand)]
pub(crate) enum Token {
    /// Show which credentials are used and when the access token expires.
    #[command(long_about = "\
Fetch (or reuse) an access token and show which kind of credentials got it and when it expires,
in local time and UTC. The token itself is printed only with --show-token. With --json, prints
{\"credentials\", \"expiresIn\" (seconds), \"expiresAt\" (RFC 3339), and \"token\" only with
--show-token}.")]
    Token {
        /// Also print the token itself
        ///
        /// Anyone who sees it can act as the app until it expires.
        #[arg(long, verbatim_doc_comment)]
        show_token: bool,
    },
}

impl Token {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let Self::Token { show_token } = self;
        let token = cx.call(cx.client().access_token()).await?;
        if cx.json() {
            let report = json_report(cx.connection, &token, *show_token);
            cx.out.json(&report)
        } else {
            let report = text_report(cx.connection, &token, *show_token);
            cx.out.print(&report)
        }
    }
}

fn json_report(
    connection: &Connection,
    token: &AccessToken,
    show_token: bool,
) -> serde_json::Value {
    let now = Utc::now();
    let expires_in = token.expires_in();
    let expires_at = expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .and_then(|d| now.checked_add_signed(d));
    let mut object = serde_json::json!({
        "credentials": connection.credentials_kind,
        "expiresIn": expires_in.map(|d| d.as_secs()),
        "expiresAt": expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    });
    if show_token {
        object["token"] = serde_json::Value::from(token.secret().expose());
    }
    object
}

fn text_report(connection: &Connection, token: &AccessToken, show_token: bool) -> String {
    let now = Utc::now();
    let expires_in = token.expires_in();
    let expires_at = expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .and_then(|d| now.checked_add_signed(d));
    let expiry = match (expires_in, expires_at) {
        (Some(left), Some(at)) => format!(
            "in {}, at {}",
            render::human_duration(left),
            render::time_in(at, &Local)
        ),
        _ => "unknown: a fixed token is used as given until DingTalk rejects it".to_string(),
    };
    let shown = if show_token {
        render::clean(token.secret().expose())
    } else {
        "hidden; add --show-token to print it".to_string()
    };
    format!(
        "credentials  {}\nexpires      {expiry}\ntoken        {shown}\n",
        connection.credentials_description
    )
}
