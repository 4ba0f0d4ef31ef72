//! Bring your own tokens: a `TokenProvider` that reads the token another process keeps fresh
//! in a file (a sidecar, a cron job). The client still caches it, fetches it once at a time,
//! and re-reads it when DingTalk rejects it.
//!
//! ```text
//! TOKEN_FILE=/run/dingtalk/token cargo run -p dingtalk-conference --example custom_token_provider -- <id>
//! ```

use std::path::PathBuf;
use std::time::Duration;

use dingtalk_conference::{AccessToken, Client, Error, TokenFuture, TokenProvider};

/// Reads the token from a file on every fetch.
struct TokenFile(PathBuf);

impl TokenProvider for TokenFile {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let text = tokio::fs::read_to_string(&self.0).await.map_err(|e| {
                let message = format!("cannot read {}: {e}", self.0.display());
                // The sidecar may be rewriting the file: worth another try. A missing file
                // is a configuration error that retrying will not fix.
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::custom(message)
                } else {
                    Error::transient(message)
                }
            })?;
            // The sidecar refreshes the file well before expiry; re-read it every 10 minutes.
            Ok(AccessToken::new(
                text.trim(),
                Some(Duration::from_secs(600)),
            ))
        })
    }

    fn name(&self) -> &str {
        "token file"
    }

    fn invalidate(&self, _rejected: &dingtalk_conference::Secret) {
        // DingTalk refused the token in the file: the sidecar should renew it now. Here we
        // only say so; a provider backed by a shared cache would delete the entry.
        eprintln!("the token in {} was rejected", self.0.display());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conference_id = std::env::args()
        .nth(1)
        .ok_or("usage: custom_token_provider <conference-id>")?;
    let path = std::env::var("TOKEN_FILE").map_err(|_| "TOKEN_FILE is not set")?;

    let mut builder = Client::builder().token_provider(TokenFile(path.into()));
    if let Ok(base_url) = std::env::var("DINGTALK_BASE_URL") {
        builder = builder.base_url(base_url);
    }
    let info = builder.build()?.conference_info(&conference_id).await?;
    println!(
        "{} ({:?})",
        info.title.as_deref().unwrap_or("-"),
        info.status
    );
    Ok(())
}
