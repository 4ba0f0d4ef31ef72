//! What the workspace's tests share, in one place: every test crate takes it as a
//! dev-dependency (`dingtalk-conference-testkit.workspace = true`) instead of keeping a copy.
//!
//! - [`fake`]: fake-server fixtures. A started fake DingTalk server, the generated client
//!   pointed at it with a valid token, a reqwest client that never uses a proxy, raw requests,
//!   DingTalk's error of an answer, and a fake server on a runtime of its own for tests that run
//!   a process against it.
//! - [`redis`]: a real `redis-server` of a test's own (plain, TLS, ACL users, a one-node
//!   cluster), installed through `.ci/ensure-redis-server` when missing; [`redis_cluster`]: a
//!   six-node Redis Cluster shared by a test binary.
//! - [`trace`]: captures what `tracing` emits while a test body runs, at TRACE level.
//! - [`capture`]: a one-request-at-a-time HTTP/1.1 server on 127.0.0.1 that records exactly
//!   what a client put on the wire and answers with a canned response.
//! - [`scratch`]: a temporary directory that removes itself.
//! - [`spec`]: `spec/dingtalk-conference.yaml` as untyped JSON, parsed as the generator does.
//!
//! Test support: every helper panics (or returns an error that ends the test) when its set-up
//! fails, with a message that says what to install or check.

#![forbid(unsafe_code)]

pub mod capture;
pub mod fake;
pub mod redis;
pub mod redis_cluster;
pub mod scratch;
pub mod spec;
pub mod trace;

/// The error type of the helpers that return one: they are test support, and every failure
/// ends a test.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
