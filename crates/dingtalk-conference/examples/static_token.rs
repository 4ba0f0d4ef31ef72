//! Query a conference with an access token you already have (e.g. from your own token service).
//!
//! ```text
//! DINGTALK_ACCESS_TOKEN=... cargo run -p dingtalk-conference --example static_token -- <id>
//! ```

use dingtalk_conference::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conference_id = std::env::args()
        .nth(1)
        .ok_or("usage: static_token <conference-id>")?;
    let token =
        std::env::var("DINGTALK_ACCESS_TOKEN").map_err(|_| "DINGTALK_ACCESS_TOKEN is not set")?;

    let mut builder = Client::builder().static_token(token);
    if let Ok(base_url) = std::env::var("DINGTALK_BASE_URL") {
        builder = builder.base_url(base_url);
    }
    let info = builder.build()?.conference_info(&conference_id).await?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(())
}
