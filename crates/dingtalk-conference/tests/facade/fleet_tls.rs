//! Feature `redis` over TLS (`rediss://`, a CA of the test's own, mutual TLS) and with an ACL
//! user's password, against a real `redis-server`: the fleet shares one token when the client
//! trusts the server and logs in, and every call is still answered, each process alone, when
//! it does not. The certificates are made at test time (rcgen), for 127.0.0.1 only.

use dingtalk_conference::{Client, ClientBuilder, Error, RedisStore};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::common::all_call;
use crate::common::{fast_retries, with_trace_capture};
use dingtalk_conference_testkit::redis::{RedisOptions, RedisServer, TlsFiles};

/// A CA of its own, and a server and a client certificate it signed, all PEM.
struct Pki {
    ca: String,
    server: (String, String),
    client: (String, String),
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key"))
            .expect("a CA certificate");
        let leaf = |common_name: &str, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("a key");
            let mut params =
                CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                    .expect("certificate parameters");
            params
                .distinguished_name
                .push(DnType::CommonName, common_name);
            params.extended_key_usages = vec![usage];
            let certificate = params.signed_by(&key, &ca).expect("a signed certificate");
            (certificate.pem(), key.serialize_pem())
        };
        Self {
            server: leaf("redis", ExtendedKeyUsagePurpose::ServerAuth),
            client: leaf("fleet member", ExtendedKeyUsagePurpose::ClientAuth),
            ca: ca.pem(),
        }
    }

    /// A TLS redis-server with this CA's server certificate; with `client_auth`, it accepts
    /// only clients showing a certificate of this CA.
    fn server(&self, client_auth: bool) -> RedisServer {
        RedisServer::start_with(RedisOptions {
            tls: Some(TlsFiles {
                ca: self.ca.clone(),
                server_certificate: self.server.0.clone(),
                server_key: self.server.1.clone(),
                client_certificate: client_auth.then(|| self.client.clone()),
            }),
            ..RedisOptions::default()
        })
    }
}

/// A client of `mock` in the fleet on `store`.
fn member(mock: &MockServer, store: &RedisStore) -> ClientBuilder {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(fast_retries())
        .redis_store(store.clone().with_prefix("fleet-test"))
}

fn token_key(mock: &MockServer) -> String {
    format!(
        "fleet-test:token:{}:{DEFAULT_APP_KEY}",
        mock.base_url().trim_start_matches("http://")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_over_tls_trusting_its_private_ca_fetches_one_token() {
    let pki = Pki::new("fleet");
    let redis = pki.server(false);
    assert!(redis.url().starts_with("rediss://"), "{}", redis.url());
    let store = RedisStore::open(&redis.url())
        .expect("a rediss:// URL")
        .with_root_certificates(&pki.ca)
        .expect("the CA's PEM");
    let mock = MockServer::start().await.expect("fake server");
    let clients: Vec<Client> = (0..4)
        .map(|_| member(&mock, &store).build().expect("client"))
        .collect();
    all_call(&clients, 10).await;
    assert_eq!(mock.counters().token_requests, 1, "one fetch for four");
    assert_eq!(mock.counters().conference_requests, 40);
    // The token and the budget went through TLS to this server.
    let keys = redis.keys();
    assert!(keys.contains(&token_key(&mock)), "{keys:?}");
    assert!(
        keys.iter().any(|k| k.starts_with("fleet-test:rate:")),
        "{keys:?}"
    );
}

/// A client that does not trust the server's certificate (the system's roots only, or
/// another CA's) never talks to it: each goes on alone, warns, and every call is answered.
#[tokio::test]
async fn a_client_that_does_not_trust_the_servers_ca_goes_on_alone() {
    let pki = Pki::new("fleet");
    let other = Pki::new("someone else's");
    let redis = pki.server(false);
    let mock = MockServer::start().await.expect("fake server");
    let system_roots = RedisStore::open(&redis.url()).expect("a rediss:// URL");
    let wrong_ca = RedisStore::open(&redis.url())
        .expect("a rediss:// URL")
        .with_root_certificates(&other.ca)
        .expect("the other CA's PEM");
    let clients: Vec<Client> = [&system_roots, &system_roots, &wrong_ca, &wrong_ca]
        .into_iter()
        .map(|store| member(&mock, store).build().expect("client"))
        .collect();
    let ((), logs) = with_trace_capture(all_call(&clients, 5)).await;
    assert_eq!(mock.counters().conference_requests, 20);
    assert_eq!(
        mock.counters().token_requests,
        4,
        "each client fetched its own token"
    );
    assert!(
        logs.contains("Redis failed; going on with this process's own token cache"),
        "{logs}"
    );
    // The warning says why: the certificate, not just "Io".
    assert!(logs.contains("UnknownIssuer"), "{logs}");
    assert!(redis.keys().is_empty(), "nothing reached the server");
}

/// Mutual TLS: the server accepts only clients that show a certificate of its CA.
#[tokio::test]
async fn mutual_tls_shares_the_token_and_a_client_without_its_certificate_goes_on_alone() {
    let pki = Pki::new("fleet");
    let redis = pki.server(true);
    let mock = MockServer::start().await.expect("fake server");
    let trusted = RedisStore::open(&redis.url())
        .and_then(|store| store.with_root_certificates(&pki.ca))
        .expect("a rediss:// URL and the CA");
    let with_certificate = trusted
        .clone()
        .with_client_certificate(&pki.client.0, &pki.client.1)
        .expect("the client certificate and key");
    assert!(
        !format!("{with_certificate:?}").contains("PRIVATE KEY"),
        "{with_certificate:?}"
    );
    let members: Vec<Client> = (0..3)
        .map(|_| member(&mock, &with_certificate).build().expect("client"))
        .collect();
    all_call(&members, 5).await;
    assert_eq!(mock.counters().token_requests, 1);
    assert!(redis.keys().contains(&token_key(&mock)));

    // Trusting the server is not enough: without a certificate the server refuses it.
    let stranger = member(&mock, &trusted).build().expect("client");
    let ((), logs) = with_trace_capture(all_call(std::slice::from_ref(&stranger), 3)).await;
    assert_eq!(
        mock.counters().token_requests,
        2,
        "the stranger fetched its own"
    );
    assert!(logs.contains("Redis failed"), "{logs}");
}

/// An ACL user `fleet` with a password, the default user off.
fn acl_server() -> RedisServer {
    RedisServer::start_with(RedisOptions {
        args: ["--user", "default", "off"]
            .into_iter()
            .chain(["--user", "fleet", "on", ">s3cret-pw", "~*", "&*", "+@all"])
            .map(str::to_string)
            .collect(),
        cli_login: Some(("fleet".to_string(), "s3cret-pw".to_string())),
        ..RedisOptions::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_user_with_its_password_shares_the_token() {
    let redis = acl_server();
    let mock = MockServer::start().await.expect("fake server");
    let url = format!("redis://fleet:s3cret-pw@127.0.0.1:{}", redis.port);
    let clients: Vec<Client> = (0..3)
        .map(|_| {
            Client::builder()
                .base_url(mock.base_url())
                .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
                .retry_policy(fast_retries())
                .redis(&url)
                .redis_prefix("fleet-test")
                .build()
                .expect("client")
        })
        .collect();
    all_call(&clients, 10).await;
    assert_eq!(mock.counters().token_requests, 1);
    assert!(redis.keys().contains(&token_key(&mock)));
    // Without the password, the server refuses: the clients did log in.
    let anonymous = std::process::Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &redis.port.to_string(),
            "KEYS",
            "*",
        ])
        .output()
        .expect("redis-cli runs");
    let anonymous = String::from_utf8_lossy(&anonymous.stdout);
    assert!(anonymous.contains("NOAUTH"), "{anonymous}");
}

/// A wrong password: every call answered, each client alone, and neither password shows in
/// Debug output, errors or logs.
#[tokio::test]
async fn a_wrong_password_goes_on_alone_and_never_shows() {
    let redis = acl_server();
    let mock = MockServer::start().await.expect("fake server");
    let url = format!(
        "redis://fleet:wrong-pw-must-not-leak@127.0.0.1:{}",
        redis.port
    );
    let builders: Vec<ClientBuilder> = (0..3)
        .map(|_| {
            Client::builder()
                .base_url(mock.base_url())
                .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
                .retry_policy(fast_retries())
                .redis(&url)
        })
        .collect();
    let mut shown = format!("{builders:?}");
    let clients: Vec<Client> = builders
        .into_iter()
        .map(|builder| builder.build().expect("client"))
        .collect();
    shown.push_str(&format!("{clients:?}"));
    let ((), logs) = with_trace_capture(all_call(&clients, 5)).await;
    assert_eq!(mock.counters().conference_requests, 15);
    assert_eq!(mock.counters().token_requests, 3, "each its own token");
    assert!(logs.contains("Redis failed"), "{logs}");
    assert!(redis.keys().is_empty(), "nothing was written");
    // A URL that does not parse says so without quoting it.
    let error = RedisStore::open("redis://fleet:wrong-pw-must-not-leak@127.0.0.1:not-a-port")
        .expect_err("not a URL");
    shown.push_str(&format!("{error} {error:?}"));
    for text in [&shown, &logs] {
        assert!(!text.contains("wrong-pw-must-not-leak"), "{text}");
        assert!(!text.contains("s3cret-pw"), "{text}");
    }
    assert!(shown.contains("127.0.0.1"), "{shown}");
}

#[test]
fn bad_tls_settings_are_clear_config_errors() {
    let pki = Pki::new("fleet");
    let tls = || RedisStore::open("rediss://127.0.0.1:6380").expect("a rediss:// URL");
    let message = |result: Result<RedisStore, Error>| match result {
        Err(Error::Config(message)) => message,
        other => panic!("not a configuration error: {other:?}"),
    };
    for pem in [&b""[..], b"not PEM at all", pki.server.1.as_bytes()] {
        let text = message(tls().with_root_certificates(pem));
        assert!(text.contains("no certificate"), "{text}");
    }
    let text = message(tls().with_root_certificates(
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    ));
    assert!(text.contains("not valid PEM"), "{text}");
    // A CA for a plain redis:// URL would never be used.
    let text = message(
        RedisStore::open("redis://127.0.0.1:6379")
            .expect("a URL")
            .with_root_certificates(&pki.ca),
    );
    assert!(text.contains("rediss://"), "{text}");
    // A key that is not one is refused without being quoted.
    let leaked =
        "-----BEGIN PRIVATE KEY-----\nkey-material-must-not-leak\n-----END PRIVATE KEY-----\n";
    let text = message(tls().with_client_certificate(&pki.client.0, leaked));
    assert!(text.contains("no private key"), "{text}");
    assert!(!text.contains("key-material-must-not-leak"), "{text}");
    let text = message(tls().with_client_certificate(&pki.client.1, &pki.client.1));
    assert!(text.contains("no certificate"), "{text}");
    // No certificate check at all is not offered.
    let text = message(RedisStore::open("rediss://127.0.0.1:6380/#insecure"));
    assert!(text.contains("#insecure"), "{text}");
}

/// A Redis Cluster over mutual TLS with an ACL user's password, as one node is reached: the
/// smallest real cluster (one node, `--cluster-enabled yes --tls-cluster yes`, every slot its
/// own), so that the cluster client's own connections to the nodes it learns from `CLUSTER
/// SLOTS` carry the same CA, certificate and login.
#[tokio::test]
async fn a_cluster_over_mutual_tls_with_an_acl_user_shares_the_token_and_a_wrong_password_never_shows()
 {
    let pki = Pki::new("fleet");
    let redis = RedisServer::start_with(RedisOptions {
        tls: Some(TlsFiles {
            ca: pki.ca.clone(),
            server_certificate: pki.server.0.clone(),
            server_key: pki.server.1.clone(),
            client_certificate: Some(pki.client.clone()),
        }),
        args: ["--cluster-enabled", "yes", "--tls-cluster", "yes"]
            .into_iter()
            .chain(["--user", "default", "off"])
            .chain(["--user", "fleet", "on", ">s3cret-pw", "~*", "&*", "+@all"])
            .map(str::to_string)
            .collect(),
        cli_login: Some(("fleet".to_string(), "s3cret-pw".to_string())),
    });
    assert_eq!(
        redis
            .cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            .as_deref(),
        Some("OK")
    );
    for _ in 0..500 {
        if redis
            .cli(&["CLUSTER", "INFO"])
            .is_some_and(|info| info.contains("cluster_state:ok"))
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let store = |password: &str| {
        RedisStore::cluster([format!(
            "rediss://fleet:{password}@127.0.0.1:{}",
            redis.port
        )])
        .and_then(|store| store.with_root_certificates(&pki.ca))
        .and_then(|store| store.with_client_certificate(&pki.client.0, &pki.client.1))
        .expect("rediss:// URLs, the CA and the client certificate")
    };
    let mock = MockServer::start().await.expect("fake server");
    let members: Vec<Client> = (0..3)
        .map(|_| member(&mock, &store("s3cret-pw")).build().expect("client"))
        .collect();
    all_call(&members, 5).await;
    assert_eq!(mock.counters().token_requests, 1, "one fetch for three");
    let tag = format!(
        "{{fleet-test:{}:{DEFAULT_APP_KEY}}}",
        mock.base_url().trim_start_matches("http://")
    );
    let keys = redis.keys();
    assert!(keys.contains(&format!("{tag}:token")), "{keys:?}");

    // A wrong password: the member goes on alone, and neither password shows.
    let wrong = store("wrong-pw-must-not-leak");
    let stranger = member(&mock, &wrong).build().expect("client");
    let ((), logs) = with_trace_capture(all_call(std::slice::from_ref(&stranger), 3)).await;
    assert_eq!(
        mock.counters().token_requests,
        2,
        "the stranger fetched its own"
    );
    assert!(logs.contains("Redis failed"), "{logs}");
    let shown = format!("{wrong:?} {stranger:?} {logs}");
    assert!(!shown.contains("wrong-pw-must-not-leak"), "{shown}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}
