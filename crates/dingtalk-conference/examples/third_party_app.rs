//! Query a conference as a third-party app (第三方企业应用) on behalf of an organisation,
//! handing over a new suite ticket while the client runs.
//!
//! ```text
//! DINGTALK_SUITE_KEY=... DINGTALK_SUITE_SECRET=... DINGTALK_AUTH_CORP_ID=... \
//! DINGTALK_SUITE_TICKET=... cargo run -p dingtalk-conference --example third_party_app -- <id>
//! ```

use dingtalk_conference::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conference_id = std::env::args()
        .nth(1)
        .ok_or("usage: third_party_app <conference-id>")?;
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));

    let mut builder = Client::builder().suite_credentials(
        var("DINGTALK_SUITE_KEY")?,
        var("DINGTALK_SUITE_SECRET")?,
        var("DINGTALK_AUTH_CORP_ID")?,
        var("DINGTALK_SUITE_TICKET")?,
    );
    if let Ok(base_url) = std::env::var("DINGTALK_BASE_URL") {
        builder = builder.base_url(base_url);
    }
    let client = builder.build()?;

    let info = client.conference_info(&conference_id).await?;
    println!(
        "{}: {:?}",
        info.title.as_deref().unwrap_or("-"),
        info.status
    );

    // DingTalk pushes a fresh suite ticket to your callback about every 5 hours. Hand it
    // over; the client uses it the next time it needs a token (clones share it).
    let fresh_ticket = var("DINGTALK_SUITE_TICKET")?;
    client.set_suite_ticket(fresh_ticket)?;
    let again = client.conference_info(&conference_id).await?;
    println!(
        "still reachable: {}",
        again.conference_id.as_deref().unwrap_or("-")
    );
    Ok(())
}
