//! Wait for a meeting to end, then report how long it lasted.
//!
//! ```text
//! DINGTALK_APP_KEY=... DINGTALK_APP_SECRET=... \
//!     cargo run -p dingtalk-conference --example wait_for_end -- <conference-id> [interval-ms]
//! ```

use std::time::Duration;

use dingtalk_conference::{Client, WaitEvent, WaitOptions, WaitUntil};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let conference_id = args
        .next()
        .ok_or("usage: wait_for_end <conference-id> [interval-ms]")?;
    let interval = args
        .next()
        .map(|ms| ms.parse().map(Duration::from_millis))
        .transpose()?
        .unwrap_or(Duration::from_secs(5));

    let client = Client::from_env()?;
    let options = WaitOptions::default()
        .interval(interval)
        .timeout(Duration::from_secs(4 * 3600));
    let info = client
        .wait_for_status_with(
            &conference_id,
            WaitUntil::Ended,
            options,
            |event| match event {
                WaitEvent::Polled { info, polls } => eprintln!("poll {polls}: {:?}", info.status),
                WaitEvent::BackingOff { error, delay } => eprintln!("{error}; waiting {delay:?}"),
                _ => {}
            },
        )
        .await?;
    println!(
        "{} ended after {:?}",
        info.title.as_deref().unwrap_or("the conference"),
        info.duration
    );
    Ok(())
}
