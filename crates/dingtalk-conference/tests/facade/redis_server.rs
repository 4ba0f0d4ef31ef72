//! A real `redis-server` for the `redis` feature's tests (one per test, on a free loopback
//! port, with a scratch directory; never a mocked Redis), and the fleet members that use it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dingtalk_conference::{CallOptions, Client, ClientBuilder};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer, seeded};

use crate::common::fast_retries;

/// A `redis-server` of this test's own: a free loopback port, a scratch directory, nothing
/// saved. Stopped when dropped.
pub(crate) struct RedisServer {
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
    child: Option<Child>,
    options: RedisOptions,
}

/// How a test's `redis-server` differs from the plain one of [`RedisServer::start`].
#[derive(Default)]
pub(crate) struct RedisOptions {
    /// TLS only: `port` is a TLS port (the plain one is off), with these certificates.
    pub(crate) tls: Option<TlsFiles>,
    /// More arguments for redis-server (ACL users, `requirepass`, …).
    pub(crate) args: Vec<String>,
    /// The user and password `cli()` logs in with, when the default user needs one.
    pub(crate) cli_login: Option<(String, String)>,
}

/// The PEM files of a TLS redis-server, written to its scratch directory.
pub(crate) struct TlsFiles {
    /// The CA that signed the server's (and the client's) certificate.
    pub(crate) ca: String,
    pub(crate) server_certificate: String,
    pub(crate) server_key: String,
    /// `tls-auth-clients yes`: a client must show a certificate signed by `ca`; `cli()` shows
    /// this one.
    pub(crate) client_certificate: Option<(String, String)>,
}

/// Installs redis-server through the project's own script when it is missing (once per test
/// process), so the README's test command needs nothing installed by hand.
pub(crate) fn ensure_redis_server() {
    static READY: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let ready = READY.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/ensure-redis-server");
        match Command::new("bash").arg(script).status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("{script} exited with {status}")),
            Err(e) => Err(format!("cannot run {script}: {e}")),
        }
    });
    if let Err(why) = ready {
        panic!("the `redis` feature's tests need redis-server, and installing it failed: {why}");
    }
}

impl RedisServer {
    pub(crate) fn start() -> Self {
        Self::start_with(RedisOptions::default())
    }

    /// A server started with `options`: TLS, ACL users.
    pub(crate) fn start_with(options: RedisOptions) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("dingtalk-redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        if let Some(tls) = &options.tls {
            let mut files = vec![
                ("ca.crt", &tls.ca),
                ("server.crt", &tls.server_certificate),
                ("server.key", &tls.server_key),
            ];
            if let Some((certificate, key)) = &tls.client_certificate {
                files.extend([("client.crt", certificate), ("client.key", key)]);
            }
            for (name, pem) in files {
                std::fs::write(dir.join(name), pem).expect("a PEM file in the scratch directory");
            }
        }
        let mut server = Self {
            port,
            dir,
            child: None,
            options,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:port`, or `rediss://…` for a TLS server.
    pub(crate) fn url(&self) -> String {
        let scheme = if self.options.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same port) and waits until it answers.
    pub(crate) fn restart(&mut self) {
        ensure_redis_server();
        let mut command = Command::new("redis-server");
        if let Some(tls) = &self.options.tls {
            let auth_clients = if tls.client_certificate.is_some() {
                "yes"
            } else {
                "no"
            };
            command
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .arg("--tls-cert-file")
                .arg(self.dir.join("server.crt"))
                .arg("--tls-key-file")
                .arg(self.dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(self.dir.join("ca.crt"))
                .args(["--tls-auth-clients", auth_clients]);
        } else {
            command.args(["--port", &self.port.to_string()]);
        }
        let child = command
            .args(&self.options.args)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--enable-debug-command", "local"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): the `redis` feature's tests need a real \
                     Redis; install it (Debian: apt-get install redis-server)"
                )
            });
        self.child = Some(child);
        for _ in 0..500 {
            if self.cli(&["PING"]).is_some_and(|pong| pong == "PONG") {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server on port {} never answered PING", self.port);
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A command through `redis-cli`; its output, trimmed, if it ran.
    pub(crate) fn cli(&self, args: &[&str]) -> Option<String> {
        let mut command = Command::new("redis-cli");
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"]);
        if let Some(tls) = &self.options.tls {
            command
                .arg("--tls")
                .arg("--cacert")
                .arg(self.dir.join("ca.crt"));
            if tls.client_certificate.is_some() {
                command
                    .arg("--cert")
                    .arg(self.dir.join("client.crt"))
                    .arg("--key")
                    .arg(self.dir.join("client.key"));
            }
        }
        if let Some((user, password)) = &self.options.cli_login {
            command.args(["--user", user, "--pass", password, "--no-auth-warning"]);
        }
        let output = command.args(args).stdin(Stdio::null()).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && !text.starts_with("Could not connect")).then_some(text)
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.cli(&["KEYS", "*"])
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .filter(|k| !k.is_empty())
            .collect()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client of `mock` in the fleet on `redis`: one process of it.
pub(crate) fn member(mock: &MockServer, redis: &RedisServer) -> ClientBuilder {
    Client::builder()
        .base_url(mock.base_url())
        .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
        .retry_policy(fast_retries())
        .redis(redis.url())
        .redis_prefix("fleet-test")
}

/// `n` members of the fleet on `redis`, each built from [`member`] as `configure` leaves it.
pub(crate) fn fleet(
    mock: &MockServer,
    redis: &RedisServer,
    n: usize,
    configure: impl Fn(ClientBuilder) -> ClientBuilder,
) -> Vec<Client> {
    (0..n)
        .map(|_| configure(member(mock, redis)).build().expect("client"))
        .collect()
}

/// `calls` conference queries by each client at once, each its own request; every one must
/// succeed.
pub(crate) async fn all_call(clients: &[Client], calls: usize) {
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..calls {
            let client = client.with_options(CallOptions::new().coalesce(false));
            tasks.push(tokio::spawn(async move {
                client.conference_info(seeded::STARTED).await
            }));
        }
    }
    for task in tasks {
        task.await.expect("task ran").expect("call answered");
    }
}
