//! The same call by hand: reqwest (rustls, its default TLS), tokio and serde_json only, with a
//! token fetched once and no retries, typing or error model.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("DINGTALK_BASE_URL").unwrap_or("https://api.dingtalk.io".into());
    let http = reqwest::Client::new();
    let token: serde_json::Value = serde_json::from_slice(
        &http
            .post(format!("{base}/v1.0/oauth2/accessToken"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({
                    "appKey": std::env::var("DINGTALK_APP_KEY")?,
                    "appSecret": std::env::var("DINGTALK_APP_SECRET")?,
                })
                .to_string(),
            )
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    let info: serde_json::Value = serde_json::from_slice(
        &http
            .get(format!(
                "{base}/v1.0/conference/videoConferences/6323d7568777190142ab9d10"
            ))
            .header(
                "x-acs-dingtalk-access-token",
                token["accessToken"].as_str().unwrap_or_default(),
            )
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    println!("{:?}", info["confInfo"]["title"]);
    Ok(())
}
