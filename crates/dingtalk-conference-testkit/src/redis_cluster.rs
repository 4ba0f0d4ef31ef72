//! A real Redis Cluster for the `redis` feature's cluster tests: six `redis-server
//! --cluster-enabled yes` processes on loopback (3 masters, 3 replicas), formed with
//! `redis-cli --cluster create`, started once per test binary and shared by the cluster tests
//! (each with keys of its own: its own fake server, so its own key scope, and prefix). Never a
//! mocked Redis.
//!
//! Tests that disturb the cluster (a master killed, a slot migrated) hold it alone
//! ([`RedisCluster::exclusive`]); the others share it ([`RedisCluster::shared`]). A watchdog
//! shell kills the nodes and removes their directory when the test process is gone, however it
//! ends (statics are never dropped).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use std::time::{Duration, Instant};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::redis::ensure_redis_server;

/// How long a node may be unreachable before the others fail it over: small, so that a
/// failover in a test takes about a second.
const NODE_TIMEOUT_MS: u32 = 500;

/// Six `redis-server` nodes forming one cluster: see the module's documentation.
pub struct RedisCluster {
    /// The nodes' loopback ports; a node is named by its index here.
    pub ports: Vec<u16>,
    dir: PathBuf,
    children: Mutex<Vec<Option<Child>>>,
    /// Outlives this process on purpose: it cleans up after it.
    watchdog: Mutex<Option<Child>>,
    lock: RwLock<()>,
}

/// The test binary's cluster, started on first use (a few seconds: six nodes, then the cluster
/// is formed and settles).
pub fn cluster() -> &'static RedisCluster {
    static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
    CLUSTER.get_or_init(RedisCluster::start)
}

/// A loopback port that is free, and whose cluster bus port (port + 10000) is free too.
fn free_port_pair(taken: &[u16]) -> u16 {
    for _ in 0..1000 {
        let port = 20_000 + fastrand_port();
        if taken.contains(&port) {
            continue;
        }
        let first = std::net::TcpListener::bind(("127.0.0.1", port));
        let bus = std::net::TcpListener::bind(("127.0.0.1", port + 10_000));
        if first.is_ok() && bus.is_ok() {
            return port;
        }
    }
    panic!("no free pair of loopback ports (port, port + 10000) for a cluster node");
}

/// A pseudo-random offset below 25,000 (the bus port then stays below 55,000), from the clock
/// and the process id: no random crate needed.
fn fastrand_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    u16::try_from(hasher.finish() % 25_000).unwrap_or(0)
}

impl RedisCluster {
    fn start() -> Self {
        ensure_redis_server();
        let mut ports = Vec::new();
        for _ in 0..6 {
            let port = free_port_pair(&ports);
            ports.push(port);
        }
        let dir =
            std::env::temp_dir().join(format!("dingtalk-redis-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let cluster = Self {
            ports: ports.clone(),
            dir,
            children: Mutex::new((0..6).map(|_| None).collect()),
            watchdog: Mutex::new(None),
            lock: RwLock::new(()),
        };
        cluster.watchdog();
        for node in 0..6 {
            cluster.start_node(node);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let output = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli runs");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        cluster.wait_until_settled(Duration::from_secs(20));
        cluster
    }

    /// Kills the nodes and removes their directory once this process has gone.
    fn watchdog(&self) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
             for f in '{dir}'/*/redis.pid; do [ -f \"$f\" ] && kill -9 \"$(cat \"$f\")\" 2>/dev/null; done; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the cluster's watchdog starts");
        *self.watchdog.lock().unwrap_or_else(PoisonError::into_inner) = Some(watchdog);
    }

    /// Starts node `node` (again: it keeps its `nodes.conf`, so it rejoins as it was).
    pub fn start_node(&self, node: usize) {
        let port = self.ports[node];
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("node directory");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ])
            .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
            // A shard without its master refuses only its own slots, not the whole cluster's.
            .args(["--cluster-require-full-coverage", "no"])
            // A replica is in sync at once (diskless, no 5 s wait for other replicas): one that
            // never synced would not take over from a killed master.
            .args([
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--pidfile")
            .arg(dir.join("redis.pid"))
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server ({e})"));
        self.children.lock().unwrap_or_else(PoisonError::into_inner)[node] = Some(child);
        for _ in 0..500 {
            if self.cli(port, &["PING"]).is_some_and(|p| p == "PONG") {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("cluster node on port {port} never answered PING");
    }

    /// Kills node `node` at once (`SIGKILL`).
    pub fn kill_node(&self, node: usize) {
        let child = self.children.lock().unwrap_or_else(PoisonError::into_inner)[node].take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until every node answering agrees: the cluster is `ok`, every slot is served,
    /// each master's slots are the same on every node, and every replica is in sync.
    pub fn wait_until_settled(&self, within: Duration) {
        let started = Instant::now();
        let alive: Vec<u16> = {
            let children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
            self.ports
                .iter()
                .zip(children.iter())
                .filter(|(_, child)| child.is_some())
                .map(|(port, _)| *port)
                .collect()
        };
        while started.elapsed() < within {
            let ok = alive.iter().all(|port| {
                self.cli(*port, &["CLUSTER", "INFO"]).is_some_and(|info| {
                    info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                }) && self
                    .cli(*port, &["INFO", "replication"])
                    .is_some_and(|info| {
                        info.contains("role:master") || info.contains("master_link_status:up")
                    })
            });
            let check = Command::new("redis-cli")
                .args(["--cluster", "check", &format!("127.0.0.1:{}", alive[0])])
                .stdin(Stdio::null())
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
                .unwrap_or_default();
            if ok && check.contains("[OK] All nodes agree") && !check.contains("[ERR]") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the cluster did not settle within {within:?}");
    }

    /// The cluster for a test that leaves it as it is (many at once). Tokio's lock: each test
    /// has its own runtime, and holds the guard across its awaits.
    pub async fn shared(&self) -> RwLockReadGuard<'_, ()> {
        self.lock.read().await
    }

    /// The cluster for a test that disturbs it (a node killed, a slot moved): alone.
    pub async fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.lock.write().await
    }

    /// Every node's URL, for `RedisStore::cluster`.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    /// A command through `redis-cli` to the node on `port`; its output, trimmed, if it ran.
    pub fn cli(&self, port: u16, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--raw"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && !text.starts_with("Could not connect")).then_some(text)
    }

    /// The node (index) that serves `slot` as master now, and its node id.
    pub fn master_of(&self, slot: u16) -> (usize, String) {
        self.find_master_of(slot)
            .unwrap_or_else(|| panic!("no master serves slot {slot}"))
    }

    /// Waits until a node other than `old` serves `slot` as master (a failover).
    pub fn wait_for_new_master(&self, slot: u16, old: usize, within: Duration) -> usize {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some((node, _)) = self.find_master_of(slot).filter(|(n, _)| *n != old) {
                return node;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no replica took over slot {slot} within {within:?}");
    }

    fn find_master_of(&self, slot: u16) -> Option<(usize, String)> {
        for (node, port) in self.ports.iter().enumerate() {
            let Some(nodes) = self.cli(*port, &["CLUSTER", "NODES"]) else {
                continue;
            };
            for line in nodes.lines() {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 9 || !fields[2].contains("myself") {
                    continue;
                }
                if !fields[2].contains("master") {
                    break;
                }
                let serves = fields[8..].iter().any(|range| match range.split_once('-') {
                    Some((from, to)) => from
                        .parse::<u16>()
                        .ok()
                        .zip(to.parse::<u16>().ok())
                        .is_some_and(|(from, to)| (from..=to).contains(&slot)),
                    None => range.parse::<u16>().ok() == Some(slot),
                });
                if serves {
                    return Some((node, fields[0].to_string()));
                }
            }
        }
        None
    }

    /// The masters answering now: (index, node id).
    pub fn masters(&self) -> Vec<(usize, String)> {
        let mut masters = Vec::new();
        for (node, port) in self.ports.iter().enumerate() {
            let Some(nodes) = self.cli(*port, &["CLUSTER", "NODES"]) else {
                continue;
            };
            if let Some(line) = nodes.lines().find(|l| l.contains("myself")) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() > 2 && fields[2].contains("master") {
                    masters.push((node, fields[0].to_string()));
                }
            }
        }
        masters
    }

    /// The slot of `key`.
    pub fn slot(&self, key: &str) -> u16 {
        self.ports
            .iter()
            .find_map(|port| {
                self.cli(*port, &["CLUSTER", "KEYSLOT", key])
                    .and_then(|s| s.parse().ok())
            })
            .expect("CLUSTER KEYSLOT answers")
    }

    /// Every key on every master starting with `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for (node, _) in self.masters() {
            let found = self
                .cli(self.ports[node], &["KEYS", &format!("{prefix}*")])
                .unwrap_or_default();
            keys.extend(found.lines().filter(|k| !k.is_empty()).map(str::to_string));
        }
        keys.sort();
        keys.dedup();
        keys
    }
}
