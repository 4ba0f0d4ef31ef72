//! Query a conference as an internal app (企业内部应用).
//!
//! ```text
//! DINGTALK_APP_KEY=... DINGTALK_APP_SECRET=... \
//!     cargo run -p dingtalk-conference --example internal_app -- <conference-id>
//! ```
//!
//! `DINGTALK_EDITION=china` calls api.dingtalk.com; `DINGTALK_BASE_URL` any other host (CI
//! points it at the fake server).

use dingtalk_conference::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conference_id = std::env::args()
        .nth(1)
        .ok_or("usage: internal_app <conference-id>")?;

    // Reads DINGTALK_APP_KEY / DINGTALK_APP_SECRET (and DINGTALK_EDITION, DINGTALK_BASE_URL).
    let client = Client::from_env()?;
    let info = client.conference_info(&conference_id).await?;

    println!("title:    {}", info.title.as_deref().unwrap_or("-"));
    println!("status:   {:?}", info.status);
    println!("started:  {:?}", info.start_time);
    println!("duration: {:?}", info.duration);
    Ok(())
}
