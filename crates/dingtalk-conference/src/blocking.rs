//! A synchronous client, in the manner of `reqwest::blocking`: the same calls, blocking the
//! calling thread. It runs its own small tokio runtime on a background thread, so it works
//! from plain `main` and from threads. Called from inside another async runtime it does not
//! panic, but it blocks that runtime's thread: anything the call needs from that runtime
//! (a server in a `#[tokio::test]`, say) cannot run meanwhile. Use the async client there.
//!
//! ```no_run
//! # fn run() -> Result<(), dingtalk_conference::Error> {
//! let client = dingtalk_conference::blocking::Client::new(
//!     dingtalk_conference::Client::builder().app_credentials("dingxxxxxxxx", "app secret"),
//! )?;
//! let info = client.conference_info("6323d7568777190142ab9d10")?;
//! println!("{:?}", info.title);
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::{
    AccessToken, CallOptions, ClientBuilder, ConferenceInfo, Error, Secret, WaitOptions, WaitUntil,
};

/// A blocking DingTalk client. Cheap to clone; clones share the runtime, connection pool and
/// token cache.
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<Runtime>,
}

/// Owns the runtime; shuts it down without blocking, so dropping the last client is safe
/// anywhere (a plain drop inside an async context would panic).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Client")
            .field("client", &self.inner)
            .finish()
    }
}

impl Client {
    /// Builds a blocking client from an async client's builder.
    pub fn new(builder: ClientBuilder) -> Result<Self, Error> {
        let inner = builder.build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dingtalk-conference-blocking")
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("could not start the blocking runtime: {e}")))?;
        Ok(Self {
            inner,
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    /// Like [`crate::Client::from_env`].
    pub fn from_env() -> Result<Self, Error> {
        Self::new(crate::Client::builder().from_env()?)
    }

    /// Like [`crate::Client::with_options`]: a handle whose calls use `options` (a deadline, a
    /// retry policy) where they are set, sharing runtime, pool and token cache.
    pub fn with_options(&self, options: CallOptions) -> Self {
        Self {
            inner: self.inner.with_options(options),
            runtime: Arc::clone(&self.runtime),
        }
    }

    /// The async client inside, sharing pool and token cache.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// Like [`crate::Client::wait_for_status`], blocking.
    pub fn wait_for_status(
        &self,
        conference_id: &str,
        until: WaitUntil,
        options: WaitOptions,
    ) -> Result<ConferenceInfo, Error> {
        let client = self.inner.clone();
        let id = conference_id.to_string();
        self.block_on(async move { client.wait_for_status(&id, until, options).await })
    }

    /// Like [`crate::Client::access_token`], blocking.
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        let client = self.inner.clone();
        self.block_on(async move { client.access_token().await })
    }

    /// Like [`crate::Client::set_suite_ticket`].
    pub fn set_suite_ticket(&self, ticket: impl Into<Secret>) -> Result<(), Error> {
        self.inner.set_suite_ticket(ticket)
    }

    pub(crate) fn block_on<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Result<T, Error> {
        let runtime = self.runtime.0.as_ref().ok_or_else(|| {
            Error::Config("the blocking client's runtime has shut down".to_string())
        })?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            // The receiver only goes away if the caller's thread did; nothing to tell then.
            let _ = sender.send(future.await);
        });
        receiver.recv().map_err(|_| {
            // The task ended without an answer: it panicked, or the runtime shut down.
            Error::custom(
                "the call ended inside the blocking client's runtime without an answer \
                 (a panic, which is a bug: please report it)",
            )
        })?
    }
}
