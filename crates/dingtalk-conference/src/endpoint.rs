//! Where and how requests are sent: the base URL, the connection pool and the per-request
//! limits. Shared by the client's calls and the token providers, and depending on neither.

use std::sync::Arc;
use std::time::Duration;

use dingtalk_conference_api::RequestContext;

/// Where and how requests are sent; shared by the client and the token providers.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) base_url: Arc<str>,
    pub(crate) http: reqwest::Client,
    pub(crate) timeout: Duration,
    /// Whether `http` already times each request out after `timeout` (a client this crate
    /// built): then a request needs no timeout of its own, which reqwest would have to
    /// allocate and look up on every request.
    timeout_built_in: bool,
    max_response_bytes: usize,
}

impl Endpoint {
    pub(crate) fn new(
        base_url: String,
        http: reqwest::Client,
        timeout: Duration,
        timeout_built_in: bool,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            base_url: Arc::from(base_url),
            http,
            timeout,
            timeout_built_in,
            max_response_bytes,
        }
    }

    /// A request context with this endpoint's limits and no token.
    pub(crate) fn context(&self) -> RequestContext {
        let context = RequestContext::new().with_max_response_bytes(self.max_response_bytes);
        if self.timeout_built_in {
            context
        } else {
            context.with_timeout(self.timeout)
        }
    }

    /// The generated client, for one call with `context`.
    pub(crate) fn api(&self, context: RequestContext) -> dingtalk_conference_api::Client {
        dingtalk_conference_api::Client::new_with_client(&self.base_url, self.http.clone(), context)
    }
}
