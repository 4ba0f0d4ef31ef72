//! From options to a [`Client`]: which credentials (flags win over `DINGTALK_*` variables, one
//! kind at a time), which host, which timeouts, and the in-process fake server for `--mock`.

use std::time::Duration;

use dingtalk_conference::{
    Client, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, RedisStore, Secret, env,
};
use dingtalk_conference_mock::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_CORP_ID, DEFAULT_SUITE_KEY, DEFAULT_SUITE_SECRET,
    DEFAULT_SUITE_TICKET, MockConfig, MockServer,
};

use crate::Failure;
use crate::cli::{CredentialArgs, GlobalArgs, REDIS_CA_FILE};

/// The credentials chosen, secrets still wrapped.
pub(crate) enum Credentials {
    /// A ready access token.
    Token(Secret),
    /// An internal app.
    App { key: String, secret: Secret },
    /// A third-party app in one organisation.
    Suite {
        key: String,
        secret: Secret,
        corp_id: String,
        ticket: Secret,
    },
}

impl Credentials {
    /// The kind, for JSON: `token`, `app` or `suite`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::App { .. } => "app",
            Self::Suite { .. } => "suite",
        }
    }

    /// The kind, for people (never a value).
    pub(crate) fn description(&self) -> &'static str {
        match self {
            Self::Token(_) => "a fixed access token",
            Self::App { .. } => "internal app (app key and secret)",
            Self::Suite { .. } => "third-party app (suite credentials for one organisation)",
        }
    }
}

/// The three kinds of credentials, each with its fields as (flag, variable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Token,
    App,
    Suite,
}

impl Kind {
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Token => &[("access_token", env::ACCESS_TOKEN)],
            Self::App => &[("app_key", env::APP_KEY), ("app_secret", env::APP_SECRET)],
            Self::Suite => &[
                ("suite_key", env::SUITE_KEY),
                ("suite_secret", env::SUITE_SECRET),
                ("auth_corp_id", env::AUTH_CORP_ID),
                ("suite_ticket", env::SUITE_TICKET),
            ],
        }
    }

    /// `--app-key/--app-secret`.
    fn flags(self) -> String {
        self.fields()
            .iter()
            .map(|(id, _)| flag(id))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `DINGTALK_APP_KEY/DINGTALK_APP_SECRET`.
    fn variables(self) -> String {
        self.fields()
            .iter()
            .map(|(_, var)| *var)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A clap argument id as its flag: `app_key` is `--app-key`.
fn flag(id: &str) -> String {
    format!("--{}", id.replace('_', "-"))
}

/// The credential options with where each came from; blank values count as absent.
struct Given<'a> {
    args: &'a CredentialArgs,
    on_command_line: &'a dyn Fn(&str) -> bool,
    /// Under `--mock`, `DINGTALK_*` variables (meant for the real API) are ignored.
    command_line_only: bool,
}

impl Given<'_> {
    fn text(&self, id: &str) -> Option<String> {
        let value = match id {
            "app_key" => self.args.app_key.as_ref(),
            "suite_key" => self.args.suite_key.as_ref(),
            "auth_corp_id" => self.args.auth_corp_id.as_ref(),
            _ => None,
        };
        value
            .filter(|v| !v.trim().is_empty())
            .filter(|_| self.counts(id))
            .cloned()
    }

    fn secret(&self, id: &str) -> Option<Secret> {
        let value = match id {
            "app_secret" => self.args.app_secret.as_ref(),
            "suite_secret" => self.args.suite_secret.as_ref(),
            "suite_ticket" => self.args.suite_ticket.as_ref(),
            "access_token" => self.args.access_token.as_ref(),
            _ => None,
        };
        value
            .filter(|v| !v.is_blank())
            .filter(|_| self.counts(id))
            .cloned()
    }

    fn counts(&self, id: &str) -> bool {
        !self.command_line_only || (self.on_command_line)(id)
    }

    fn present(&self, id: &str) -> bool {
        self.text(id).is_some() || self.secret(id).is_some()
    }

    fn kinds(&self, from_command_line: bool) -> Vec<Kind> {
        [Kind::Token, Kind::App, Kind::Suite]
            .into_iter()
            .filter(|kind| {
                kind.fields().iter().any(|(id, _)| {
                    self.present(id) && (!from_command_line || (self.on_command_line)(id))
                })
            })
            .collect()
    }
}

/// Chooses the credentials: the one kind given as flags (its other parts may come from the
/// variables), or else the one kind set in the variables. Under `--mock`, only flags count and
/// whatever is missing is the fake server's own app.
pub(crate) fn credentials(
    args: &CredentialArgs,
    on_command_line: &dyn Fn(&str) -> bool,
    mock: bool,
) -> Result<Credentials, Failure> {
    let given = Given {
        args,
        on_command_line,
        command_line_only: mock,
    };
    let flagged = given.kinds(true);
    let kind = match flagged.as_slice() {
        [kind] => *kind,
        [] => match given.kinds(false).as_slice() {
            [kind] => *kind,
            [] if mock => Kind::App,
            [] => return Err(Failure::Config(no_credentials())),
            several => {
                return Err(Failure::Config(format!(
                    "{} are all set; set one kind of credentials only, or choose one with its \
                     flags",
                    several
                        .iter()
                        .map(|k| k.variables())
                        .collect::<Vec<_>>()
                        .join(" and ")
                )));
            }
        },
        several => {
            return Err(Failure::Usage(format!(
                "{} are all given; give one kind of credentials only",
                several
                    .iter()
                    .map(|k| k.flags())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )));
        }
    };

    let missing = |id: &str, var: &str| {
        Failure::Config(format!("{} is missing: pass it, or set {var}", flag(id)))
    };
    let text = |id: &str, var: &str, fallback: &str| {
        given
            .text(id)
            .or_else(|| mock.then(|| fallback.to_string()))
            .ok_or_else(|| missing(id, var))
    };
    let secret = |id: &str, var: &str, fallback: &str| {
        given
            .secret(id)
            .or_else(|| mock.then(|| Secret::new(fallback)))
            .ok_or_else(|| missing(id, var))
    };
    Ok(match kind {
        Kind::Token => Credentials::Token(
            given
                .secret("access_token")
                .ok_or_else(|| missing("access_token", env::ACCESS_TOKEN))?,
        ),
        Kind::App => Credentials::App {
            key: text("app_key", env::APP_KEY, DEFAULT_APP_KEY)?,
            secret: secret("app_secret", env::APP_SECRET, DEFAULT_APP_SECRET)?,
        },
        Kind::Suite => Credentials::Suite {
            key: text("suite_key", env::SUITE_KEY, DEFAULT_SUITE_KEY)?,
            secret: secret("suite_secret", env::SUITE_SECRET, DEFAULT_SUITE_SECRET)?,
            corp_id: text("auth_corp_id", env::AUTH_CORP_ID, DEFAULT_CORP_ID)?,
            ticket: secret("suite_ticket", env::SUITE_TICKET, DEFAULT_SUITE_TICKET)?,
        },
    })
}

fn no_credentials() -> String {
    format!(
        "no DingTalk credentials: set {} and {} (internal app), or {}, {}, {} and {} \
         (third-party app), or {} (a ready token); or pass the matching flags (--app-key, \
         --app-secret, ...). To try this tool without a DingTalk account, add --mock",
        env::APP_KEY,
        env::APP_SECRET,
        env::SUITE_KEY,
        env::SUITE_SECRET,
        env::AUTH_CORP_ID,
        env::SUITE_TICKET,
        env::ACCESS_TOKEN,
    )
}

/// A client, the credentials it uses, and the fake server it talks to under `--mock` (which
/// runs as long as this value lives).
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) credentials_description: String,
    pub(crate) credentials_kind: &'static str,
    pub(crate) mock: Option<MockServer>,
}

/// Builds the client the options describe, starting the fake server first under `--mock`.
pub(crate) async fn connect(
    global: &GlobalArgs,
    args: &CredentialArgs,
    on_command_line: &dyn Fn(&str) -> bool,
) -> Result<Connection, Failure> {
    if global.mock && global.base_url.is_some() && on_command_line("base_url") {
        return Err(Failure::Usage(
            "--base-url and --mock exclude each other: --mock serves its own fake server"
                .to_string(),
        ));
    }
    let credentials = credentials(args, on_command_line, global.mock)?;

    let mut builder = Client::builder().user_agent(format!(
        "dingtalk-conference-cli/{} {DEFAULT_USER_AGENT}",
        env!("CARGO_PKG_VERSION")
    ));
    // Each request stays within --timeout too, so that a hung connection cannot outlast it.
    let within = |default: Duration| global.timeout.map_or(default, |t| t.min(default));
    builder = builder
        .timeout(within(DEFAULT_TIMEOUT))
        .connect_timeout(within(DEFAULT_CONNECT_TIMEOUT));

    let mock = if global.mock {
        // DingTalk's real limits (20 calls/s per app per API, the per-IP window, a monthly
        // quota), so --mock shows how the client behaves against them.
        let server = MockServer::start_with(MockConfig::dingtalk_limits())
            .await
            .map_err(|e| Failure::Other(format!("could not start the fake server: {e}")))?;
        builder = builder.base_url(server.base_url());
        Some(server)
    } else {
        builder = builder.edition(global.edition.unwrap_or_default());
        if let Some(base_url) = &global.base_url {
            builder = builder.base_url(base_url.clone());
        }
        None
    };

    let redis = global.redis.as_deref().filter(|url| !url.trim().is_empty());
    let cluster = global
        .redis_cluster
        .as_deref()
        .map(|urls| {
            urls.split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|urls| !urls.is_empty());
    let ca_file = global
        .redis_ca_file
        .as_ref()
        .filter(|path| !path.as_os_str().is_empty());
    match (redis, cluster, ca_file) {
        (Some(url), None, None) => builder = builder.redis(url),
        (None, Some(urls), None) => builder = builder.redis_cluster(urls),
        // Both: the fleet is moving from that Redis onto the cluster.
        (Some(url), Some(urls), None) => {
            let store = RedisStore::cluster(urls)
                .and_then(|cluster| cluster.migrating_from(RedisStore::open(url)?))
                .map_err(|e| Failure::Config(format!("--redis with --redis-cluster: {e}")))?;
            builder = builder.redis_store(store);
        }
        (redis, cluster, Some(path)) => {
            let store = match (redis, cluster) {
                (Some(url), None) => RedisStore::open(url),
                (None, Some(urls)) => RedisStore::cluster(urls),
                (Some(url), Some(urls)) => {
                    let pem = std::fs::read(path).map_err(|e| {
                        Failure::Config(format!(
                            "--redis-ca-file {}: cannot read it: {e}",
                            path.display()
                        ))
                    })?;
                    let old = RedisStore::open(url)
                        .and_then(|old| old.with_root_certificates(pem.clone()));
                    RedisStore::cluster(urls).and_then(|cluster| {
                        cluster.with_root_certificates(pem)?.migrating_from(old?)
                    })
                }
                (None, None) => {
                    return Err(Failure::Usage(format!(
                        "--redis-ca-file (or {REDIS_CA_FILE}) is for a rediss:// Redis: give \
                         --redis URL or --redis-cluster URL[,URL...] too"
                    )));
                }
            };
            let pem = std::fs::read(path).map_err(|e| {
                Failure::Config(format!(
                    "--redis-ca-file {}: cannot read it: {e}",
                    path.display()
                ))
            })?;
            let store = store
                .and_then(|store| store.with_root_certificates(pem))
                .map_err(|e| Failure::Config(format!("--redis-ca-file {}: {e}", path.display())))?;
            builder = builder.redis_store(store);
        }
        (None, None, None) => {}
    }

    let mut credentials_description = credentials.description().to_string();
    if mock.is_some() {
        credentials_description.push_str(", of the fake server (--mock)");
    }
    let credentials_kind = credentials.kind();
    builder = match credentials {
        Credentials::Token(token) => builder.static_token(token),
        Credentials::App { key, secret } => builder.app_credentials(key, secret),
        Credentials::Suite {
            key,
            secret,
            corp_id,
            ticket,
        } => builder.suite_credentials(key, secret, corp_id, ticket),
    };
    Ok(Connection {
        client: builder.build().map_err(Failure::Dingtalk)?,
        credentials_description,
        credentials_kind,
        mock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(values: &[(&str, &str)]) -> CredentialArgs {
        let get = |id: &str| {
            values
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, v)| v.to_string())
        };
        CredentialArgs {
            app_key: get("app_key"),
            app_secret: get("app_secret").map(Secret::new),
            suite_key: get("suite_key"),
            suite_secret: get("suite_secret").map(Secret::new),
            auth_corp_id: get("auth_corp_id"),
            suite_ticket: get("suite_ticket").map(Secret::new),
            access_token: get("access_token").map(Secret::new),
            app_secret_file: None,
            suite_secret_file: None,
            suite_ticket_file: None,
            access_token_file: None,
        }
    }

    fn message(result: Result<Credentials, Failure>) -> String {
        match result {
            Ok(c) => panic!("expected an error, got {}", c.kind()),
            Err(Failure::Config(m) | Failure::Usage(m)) => m,
            Err(other) => panic!("unexpected failure {other}"),
        }
    }

    #[test]
    fn no_credentials_names_the_variables_and_suggests_mock() {
        let text = message(credentials(&args(&[]), &|_| false, false));
        for name in [
            env::APP_KEY,
            env::APP_SECRET,
            env::SUITE_TICKET,
            env::ACCESS_TOKEN,
        ] {
            assert!(text.contains(name), "{text}");
        }
        assert!(text.contains("--mock"), "{text}");
    }

    #[test]
    fn a_flag_chooses_the_kind_over_variables_of_another_kind() {
        // DINGTALK_APP_KEY/SECRET in the environment, --access-token on the command line.
        let given = args(&[("app_key", "k"), ("app_secret", "s"), ("access_token", "t")]);
        let chosen = credentials(&given, &|id| id == "access_token", false).expect("chosen");
        assert_eq!(chosen.kind(), "token");
    }

    #[test]
    fn a_kind_may_take_its_other_parts_from_variables() {
        // --app-key on the command line, DINGTALK_APP_SECRET in the environment.
        let given = args(&[("app_key", "k"), ("app_secret", "s")]);
        let chosen = credentials(&given, &|id| id == "app_key", false).expect("chosen");
        assert!(matches!(chosen, Credentials::App { ref key, .. } if key == "k"));
    }

    #[test]
    fn two_kinds_in_flags_or_in_variables_are_refused() {
        let given = args(&[("app_key", "k"), ("app_secret", "s"), ("access_token", "t")]);
        assert!(matches!(
            credentials(&given, &|_| true, false),
            Err(Failure::Usage(_))
        ));
        let text = message(credentials(&given, &|_| false, false));
        assert!(
            text.contains(env::ACCESS_TOKEN) && text.contains(env::APP_KEY),
            "{text}"
        );
    }

    #[test]
    fn a_missing_part_is_named_as_flag_and_variable() {
        let text = message(credentials(&args(&[("app_key", "k")]), &|_| false, false));
        assert!(
            text.contains("--app-secret") && text.contains(env::APP_SECRET),
            "{text}"
        );
        let text = message(credentials(
            &args(&[
                ("suite_key", "k"),
                ("suite_secret", "s"),
                ("auth_corp_id", "c"),
            ]),
            &|_| false,
            false,
        ));
        assert!(text.contains(env::SUITE_TICKET), "{text}");
    }

    #[test]
    fn blank_values_count_as_absent() {
        let text = message(credentials(
            &args(&[("app_key", "k"), ("app_secret", "  ")]),
            &|_| false,
            false,
        ));
        assert!(text.contains(env::APP_SECRET), "{text}");
    }

    #[test]
    fn mock_ignores_variables_and_fills_in_its_own_app() {
        let given = args(&[("access_token", "real token from the environment")]);
        let chosen = credentials(&given, &|_| false, true).expect("chosen");
        assert!(matches!(chosen, Credentials::App { ref key, .. } if key == DEFAULT_APP_KEY));

        let given = args(&[("app_secret", "wrong")]);
        let chosen = credentials(&given, &|id| id == "app_secret", true).expect("chosen");
        match chosen {
            Credentials::App { key, secret } => {
                assert_eq!(key, DEFAULT_APP_KEY);
                assert_eq!(secret.expose(), "wrong");
            }
            other => panic!("expected app credentials, got {}", other.kind()),
        }
    }
}
