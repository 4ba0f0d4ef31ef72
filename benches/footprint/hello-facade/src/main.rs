//! The smallest program that queries a conference through the facade.

#[tokio::main]
async fn main() -> Result<(), dingtalk_conference::Error> {
    let client = dingtalk_conference::Client::from_env()?;
    let info = client.conference_info("6323d7568777190142ab9d10").await?;
    println!("{:?}", info.title);
    Ok(())
}
