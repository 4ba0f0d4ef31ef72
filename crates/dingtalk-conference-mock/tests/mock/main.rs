//! The fake server's behaviour, over real HTTP on 127.0.0.1 (and as a process, for its binary).
//!
//! One test binary with a module per concern: linking one binary is much cheaper than eight. A
//! new test file goes here as a module (`mod name;` below), not as a binary of its own in
//! `tests/`; the fixtures it needs come from `dingtalk-conference-testkit` (`fake`).

mod conferences;
mod conformance_config;
mod events_emit;
mod faults;
mod gateway;
mod lifecycle;
mod limits;
mod push;
mod recordings;
mod server;
mod tokens;
