//! How a client is configured: the builder, the environment variables it reads, the options of
//! some calls only, and the retry policy.

pub(crate) mod builder;
pub mod env;
pub(crate) mod options;
pub(crate) mod retry;
