//! `DINGTALK_*` environment variables: credentials, edition, base URL and Redis.

use crate::{ClientBuilder, Edition, Error};

/// A fixed access token.
pub const ACCESS_TOKEN: &str = "DINGTALK_ACCESS_TOKEN";
/// An internal app's key.
pub const APP_KEY: &str = "DINGTALK_APP_KEY";
/// An internal app's secret.
pub const APP_SECRET: &str = "DINGTALK_APP_SECRET";
/// A third-party app's suite key.
pub const SUITE_KEY: &str = "DINGTALK_SUITE_KEY";
/// A third-party app's suite secret.
pub const SUITE_SECRET: &str = "DINGTALK_SUITE_SECRET";
/// The corpId of the organisation a third-party app acts in.
pub const AUTH_CORP_ID: &str = "DINGTALK_AUTH_CORP_ID";
/// A third-party app's latest suite ticket.
pub const SUITE_TICKET: &str = "DINGTALK_SUITE_TICKET";
/// `international` (default) or `china`.
pub const EDITION: &str = "DINGTALK_EDITION";
/// A base URL instead of the edition's.
pub const BASE_URL: &str = "DINGTALK_BASE_URL";
/// A Redis URL to share the token and the rate budget with a fleet (feature `redis`; see
/// [`ClientBuilder::redis`](crate::ClientBuilder::redis)). It may hold a password: it is never
/// printed.
pub const REDIS_URL: &str = "DINGTALK_REDIS_URL";
/// The nodes of a Redis Cluster to share the token and the rate budget with a fleet, instead of
/// one Redis: their URLs separated by commas (feature `redis`; see
/// [`ClientBuilder::redis_cluster`](crate::ClientBuilder::redis_cluster)). With
/// [`REDIS_URL`] set too, the fleet is moving from that Redis onto the cluster
/// ([`RedisStore::migrating_from`](crate::RedisStore::migrating_from)). It may hold a
/// password: it is never printed.
pub const REDIS_CLUSTER: &str = "DINGTALK_REDIS_CLUSTER";

/// Applies the variables that `lookup` finds to `builder`. Empty values count as unset.
pub(crate) fn apply(
    mut builder: ClientBuilder,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ClientBuilder, Error> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let require = |name: &str, because: &str| {
        get(name).ok_or_else(|| Error::Config(format!("{name} is not set ({because} is)")))
    };

    let token = get(ACCESS_TOKEN);
    let app_key = get(APP_KEY);
    let suite_key = get(SUITE_KEY);
    let kinds: Vec<&str> = [
        token.as_ref().map(|_| ACCESS_TOKEN),
        app_key.as_ref().map(|_| APP_KEY),
        suite_key.as_ref().map(|_| SUITE_KEY),
    ]
    .into_iter()
    .flatten()
    .collect();
    if kinds.len() > 1 {
        return Err(Error::Config(format!(
            "{} are all set; set one kind of credentials only",
            kinds.join(" and ")
        )));
    }

    builder = if let Some(token) = token {
        builder.static_token(token)
    } else if let Some(app_key) = app_key {
        let secret = require(APP_SECRET, APP_KEY)?;
        builder.app_credentials(app_key, secret)
    } else if let Some(suite_key) = suite_key {
        builder.suite_credentials(
            suite_key,
            require(SUITE_SECRET, SUITE_KEY)?,
            require(AUTH_CORP_ID, SUITE_KEY)?,
            require(SUITE_TICKET, SUITE_KEY)?,
        )
    } else {
        return Err(Error::Config(format!(
            "no DingTalk credentials in the environment: set {APP_KEY} and {APP_SECRET} \
             (internal app), or {SUITE_KEY}, {SUITE_SECRET}, {AUTH_CORP_ID} and {SUITE_TICKET} \
             (third-party app), or {ACCESS_TOKEN}"
        )));
    };

    if let Some(edition) = get(EDITION) {
        let edition: Edition = edition
            .parse()
            .map_err(|e: Error| Error::Config(format!("{EDITION}: {e}")))?;
        builder = builder.edition(edition);
    }
    if let Some(base_url) = get(BASE_URL) {
        builder = builder.base_url(base_url);
    }
    #[cfg(feature = "redis")]
    match (get(REDIS_URL), get(REDIS_CLUSTER)) {
        // Both: the fleet is moving from that Redis onto the cluster.
        (Some(url), Some(urls)) => {
            let store = crate::RedisStore::cluster(split_urls(&urls))?
                .migrating_from(crate::RedisStore::open(&url)?)?;
            builder = builder.redis_store(store);
        }
        (Some(url), None) => builder = builder.redis(url),
        (None, Some(urls)) => builder = builder.redis_cluster(split_urls(&urls)),
        (None, None) => {}
    }
    Ok(builder)
}

/// The URLs in a comma-separated list, each trimmed, empty ones left out.
#[cfg(feature = "redis")]
pub(crate) fn split_urls(urls: &str) -> Vec<String> {
    urls.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    fn from(vars: &[(&str, &str)]) -> Result<Client, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        apply(Client::builder(), |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })?
        .build()
    }

    fn config_message(result: Result<Client, Error>) -> String {
        match result {
            Err(Error::Config(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[cfg(feature = "redis")]
    #[test]
    fn the_redis_url_is_applied_and_a_bad_one_refused_without_showing_it() {
        let message = config_message(from(&[
            (APP_KEY, "k"),
            (APP_SECRET, "s"),
            (REDIS_URL, "mysql://user:hunter2@db"),
        ]));
        assert!(message.contains("Redis URL"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let client = from(&[
            (APP_KEY, "k"),
            (APP_SECRET, "s"),
            (REDIS_URL, "redis://user:hunter2@127.0.0.1:6379"),
        ]);
        assert!(client.is_ok());
    }

    #[cfg(feature = "redis")]
    #[test]
    fn the_redis_cluster_urls_are_applied_and_a_bad_one_refused_without_showing_it() {
        let message = config_message(from(&[
            (APP_KEY, "k"),
            (APP_SECRET, "s"),
            (
                REDIS_CLUSTER,
                "redis://user:hunter2@10.0.0.1:6379,mysql://user:hunter2@db",
            ),
        ]));
        assert!(message.contains("Redis URL"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        // Both: moving from the one Redis onto the cluster.
        let moving = from(&[
            (APP_KEY, "k"),
            (APP_SECRET, "s"),
            (REDIS_URL, "redis://:hunter2@127.0.0.1:6379"),
            (REDIS_CLUSTER, "redis://127.0.0.1:7000"),
        ]);
        assert!(moving.is_ok(), "{moving:?}");
        let client = from(&[
            (APP_KEY, "k"),
            (APP_SECRET, "s"),
            (
                REDIS_CLUSTER,
                "redis://user:hunter2@10.0.0.1:6379, redis://user:hunter2@10.0.0.2:6379",
            ),
        ]);
        let debug = format!("{client:?}");
        assert!(client.is_ok(), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn missing_app_secret_names_the_variable() {
        let message = config_message(from(&[(APP_KEY, "k")]));
        assert!(message.contains("DINGTALK_APP_SECRET"), "{message}");
    }

    #[test]
    fn missing_suite_ticket_names_the_variable() {
        let message = config_message(from(&[
            (SUITE_KEY, "k"),
            (SUITE_SECRET, "s"),
            (AUTH_CORP_ID, "c"),
        ]));
        assert!(message.contains("DINGTALK_SUITE_TICKET"), "{message}");
    }

    #[test]
    fn no_credentials_names_every_variable() {
        let message = config_message(from(&[]));
        for name in [APP_KEY, APP_SECRET, SUITE_KEY, SUITE_TICKET, ACCESS_TOKEN] {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn two_kinds_of_credentials_are_refused() {
        let message = config_message(from(&[(ACCESS_TOKEN, "t"), (APP_KEY, "k")]));
        assert!(message.contains("one kind"), "{message}");
    }

    #[test]
    fn edition_and_base_url_are_read() {
        let client = from(&[(ACCESS_TOKEN, "t"), (EDITION, "china")]).expect("valid");
        assert_eq!(client.base_url(), crate::Edition::China.base_url());
        let client =
            from(&[(ACCESS_TOKEN, "t"), (BASE_URL, "http://127.0.0.1:9/")]).expect("valid");
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
        let message = config_message(from(&[(ACCESS_TOKEN, "t"), (EDITION, "mars")]));
        assert!(message.contains("DINGTALK_EDITION"), "{message}");
    }
}
