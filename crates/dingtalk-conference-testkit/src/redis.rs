//! A real `redis-server` for the tests of the `redis` feature (the facade's fleet, the CLI's
//! `--redis` and `--redis-cluster`): one per test, on a free loopback port, with a scratch
//! directory; never a mocked Redis. Plain, TLS, with ACL users, or a one-node Redis Cluster.
//!
//! ```no_run
//! use dingtalk_conference_testkit::redis::RedisServer;
//!
//! let redis = RedisServer::start();
//! assert_eq!(redis.cli(&["SET", "k", "v"]).as_deref(), Some("OK"));
//! let url = redis.url(); // redis://127.0.0.1:<port>; stopped when `redis` is dropped
//! # let _ = url;
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` of this test's own: a free loopback port, a scratch directory, nothing
/// saved. Stopped when dropped.
pub struct RedisServer {
    /// Its loopback port (a TLS port for a TLS server).
    pub port: u16,
    /// Its scratch directory (its working directory; TLS servers keep their PEM files here).
    pub dir: PathBuf,
    child: Option<Child>,
    options: RedisOptions,
}

/// How a test's `redis-server` differs from the plain one of [`RedisServer::start`].
#[derive(Default)]
pub struct RedisOptions {
    /// TLS only: `port` is a TLS port (the plain one is off), with these certificates.
    pub tls: Option<TlsFiles>,
    /// More arguments for redis-server (ACL users, `requirepass`, …).
    pub args: Vec<String>,
    /// The user and password `cli()` logs in with, when the default user needs one.
    pub cli_login: Option<(String, String)>,
}

/// The PEM files of a TLS redis-server, written to its scratch directory.
pub struct TlsFiles {
    /// The CA that signed the server's (and the client's) certificate.
    pub ca: String,
    /// The server's certificate (PEM), for 127.0.0.1.
    pub server_certificate: String,
    /// The server's private key (PEM).
    pub server_key: String,
    /// `tls-auth-clients yes`: a client must show a certificate signed by `ca`; `cli()` shows
    /// this one.
    pub client_certificate: Option<(String, String)>,
}

/// Installs redis-server through the project's own script when it is missing (once per test
/// process), so the README's test command needs nothing installed by hand.
pub fn ensure_redis_server() {
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
    /// A plain server: `redis://127.0.0.1:port`, no password.
    pub fn start() -> Self {
        Self::start_with(RedisOptions::default())
    }

    /// A server started with `options`: TLS, ACL users.
    pub fn start_with(options: RedisOptions) -> Self {
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

    /// A one-node Redis Cluster (`--cluster-enabled yes`, every slot its own): the smallest
    /// real cluster, for a client that must speak the cluster protocol. For failovers and slot
    /// migrations, see [`RedisCluster`](crate::redis_cluster::RedisCluster).
    pub fn start_one_node_cluster() -> Self {
        let redis = Self::start_with(RedisOptions {
            args: vec!["--cluster-enabled".to_string(), "yes".to_string()],
            ..RedisOptions::default()
        });
        let added = redis.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        assert_eq!(added.as_deref(), Some("OK"), "CLUSTER ADDSLOTSRANGE failed");
        for _ in 0..500 {
            if redis
                .cli(&["CLUSTER", "INFO"])
                .is_some_and(|info| info.contains("cluster_state:ok"))
            {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "the one-node cluster on port {} never became ok",
            redis.port
        );
    }

    /// `redis://127.0.0.1:port`, or `rediss://…` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.options.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same port) and waits until it answers.
    pub fn restart(&mut self) {
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

    /// Stops the server (`SIGKILL`), keeping its port and directory for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A command through `redis-cli`; its output, trimmed, if it ran.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
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

    /// Every key on the server.
    pub fn keys(&self) -> Vec<String> {
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
