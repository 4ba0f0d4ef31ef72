//! The facade's behaviour, proven over real HTTP against the fake DingTalk server on 127.0.0.1.
//!
//! One test binary with a module per concern (linking one binary is much cheaper than many).
//! What other test crates need too (the fake server, a real redis-server, the Redis Cluster,
//! trace capture) is in `dingtalk-conference-testkit`; `common` holds the facade's own fixtures.

#[cfg(feature = "blocking")]
mod blocking;
mod budget;
mod client;
mod common;
mod conformance;
mod control;
mod data;
mod errors;
#[cfg(feature = "events")]
mod events_stream;
#[cfg(feature = "redis")]
mod fleet;
#[cfg(feature = "redis")]
mod fleet_cluster;
#[cfg(feature = "redis")]
mod fleet_promises;
#[cfg(feature = "redis")]
mod fleet_third_party;
#[cfg(feature = "redis")]
mod fleet_tls;
mod matrix;
#[cfg(feature = "metrics")]
mod metrics;
mod minutes;
mod model;
mod ongoing;
mod operations;
mod org;
mod paging;
mod pipeline;
mod record_stream;
mod retries;
mod safety;
mod schedules;
mod tokens;
mod wait;
#[cfg(feature = "events")]
mod wait_events;
mod writes;
