//! Where tokens are kept beyond one client: the [`TokenStore`] seam.
//!
//! Every client keeps its token in its own in-process cache (one fetch at a time, refresh
//! inside the refresh margin, back-off). A token store sits behind that cache: when the cache
//! needs a token, it asks the store, which may hand out a token another process fetched. The
//! default, [`InProcessTokenStore`], shares nothing and fetches from DingTalk directly: one
//! process, today's behaviour. [`RedisStore`](crate::RedisStore) (feature `redis`) shares one
//! token per app among a fleet of processes.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::Secret;
use crate::auth::{TokenFuture, TokenProvider};

/// A place where tokens are kept for several clients (processes, machines), and the one
/// refresh among them.
///
/// `key` names one token and never contains a secret: `token:{edition-or-host}:{appKey}` for
/// an internal app, `token:{edition-or-host}:{suiteKey}:{authCorpId}` for a third-party app's
/// organisation (a store adds its own prefix). `source` fetches a token from DingTalk;
/// `refresh_margin` is the client's: a stored token should stop being handed out that long
/// before it expires, so that one client refreshes it for all. Implementations must never
/// log, print or put in an error the token itself.
pub trait TokenStore: Send + Sync + 'static {
    /// A token for `key`: one that is stored, or one fetched with `source` and stored (by one
    /// caller among all those sharing the store, while the others wait for it).
    fn token<'a>(
        &'a self,
        key: &'a str,
        source: &'a dyn TokenProvider,
        refresh_margin: Duration,
    ) -> TokenFuture<'a>;

    /// Like [`token`](Self::token), knowing the client's bound on the whole of it:
    /// `fetch_timeout`, the client's
    /// [`token_fetch_timeout`](crate::ClientBuilder::token_fetch_timeout), past which the
    /// client drops the future. The client calls this one. A store that locks the refresh
    /// among processes should hold its lock that long and a margin, so that a slow fetch
    /// still running is never doubled. The default calls [`token`](Self::token).
    fn token_within<'a>(
        &'a self,
        key: &'a str,
        source: &'a dyn TokenProvider,
        refresh_margin: Duration,
        fetch_timeout: Duration,
    ) -> TokenFuture<'a> {
        let _ = fetch_timeout;
        self.token(key, source, refresh_margin)
    }

    /// DingTalk rejected `token`: forget it under `key`, but only if the store still holds
    /// that same token (a newer one, stored since, is kept).
    fn evict<'a>(&'a self, key: &'a str, token: &'a Secret) -> BoxFuture<'a, ()>;

    /// A short name for traces (never a secret, never a password in a URL).
    fn name(&self) -> &str;
}

/// The default store: nothing is shared; each client fetches its own token from DingTalk and
/// keeps it in its own cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcessTokenStore;

impl TokenStore for InProcessTokenStore {
    fn token<'a>(
        &'a self,
        _key: &'a str,
        source: &'a dyn TokenProvider,
        _refresh_margin: Duration,
    ) -> TokenFuture<'a> {
        source.fetch_token()
    }

    fn evict<'a>(&'a self, _key: &'a str, _token: &'a Secret) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    fn name(&self) -> &str {
        "in-process"
    }
}

/// A provider that goes through a store: what the client's cache calls when a store is set.
pub(crate) struct StoredTokens {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) key: String,
    pub(crate) source: Arc<dyn TokenProvider>,
    pub(crate) refresh_margin: Duration,
    /// The client's token fetch timeout, which bounds each call of the store.
    pub(crate) fetch_timeout: Duration,
    /// The eviction of a rejected token, still running; the next fetch waits for it, so that it
    /// does not read the rejected token back.
    pending_eviction: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl StoredTokens {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        key: String,
        source: Arc<dyn TokenProvider>,
        refresh_margin: Duration,
        fetch_timeout: Duration,
    ) -> Self {
        Self {
            store,
            key,
            source,
            refresh_margin,
            fetch_timeout,
            pending_eviction: Mutex::new(None),
        }
    }
}

impl TokenProvider for StoredTokens {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let pending = self
                .pending_eviction
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(eviction) = pending {
                // Its failure (a panic, a cancelled runtime) only means the token stays.
                let _ = eviction.await;
            }
            self.store
                .token_within(
                    &self.key,
                    self.source.as_ref(),
                    self.refresh_margin,
                    self.fetch_timeout,
                )
                .await
        })
    }

    fn invalidate(&self, token: &Secret) {
        self.source.invalidate(token);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        let key = self.key.clone();
        let token = token.clone();
        let eviction = runtime.spawn(async move { store.evict(&key, &token).await });
        *self
            .pending_eviction
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(eviction);
    }

    fn name(&self) -> &str {
        self.source.name()
    }
}
