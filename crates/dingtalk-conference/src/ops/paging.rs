//! Paged listings: one page at a time ([`Listing::page`]), or every item as a lazy
//! [`Stream`] ([`Listing::stream`]) that fetches the next page only when the current one has
//! been consumed.
//!
//! A listing ends when DingTalk says so: `hasMore: false`, or no (or an empty) next token. A
//! token DingTalk already handed out ends it with [`Error::RepeatedPageToken`] rather than an
//! endless loop, and a new token after [`Listing::max_pages`] pages (default
//! [`DEFAULT_MAX_PAGES`]) ends it with [`Error::TooManyPages`]; a page that fails ends it with
//! that page's error.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, Stream, StreamExt};

use crate::{Client, Error};

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T, C = String> {
    /// This page's items.
    pub items: Vec<T>,
    /// The token of the next page; `None` when DingTalk gave none (or an empty one).
    pub next_token: Option<C>,
    /// Whether DingTalk said more pages follow, where the operation says so.
    pub has_more: Option<bool>,
    /// How many items the whole listing has, where the operation says so.
    pub total_count: Option<i32>,
}

impl<T, C> Page<T, C> {
    /// A page; an empty string token should be passed as `None`.
    pub(crate) fn new(
        items: Vec<T>,
        next_token: Option<C>,
        has_more: Option<bool>,
        total_count: Option<i32>,
    ) -> Self {
        Self {
            items,
            next_token,
            has_more,
            total_count,
        }
    }

    /// Whether this is the last page: DingTalk said `hasMore: false` or gave no next token.
    pub fn is_last(&self) -> bool {
        self.has_more == Some(false) || self.next_token.is_none()
    }
}

/// How many pages [`Listing::stream`] and [`Listing::collect`] read at most by default: far
/// more than any real listing needs (1,000 pages of members are 128,000 people at DingTalk's
/// default page size), few enough that a server handing out a new page token for ever costs
/// a bounded number of calls. [`Listing::max_pages`] changes it.
pub const DEFAULT_MAX_PAGES: u32 = 1_000;

/// Fetches one page: the client, the token (none for the first page) and the page size.
type FetchPage<T, C> = Arc<
    dyn Fn(Client, Option<C>, Option<u32>) -> BoxFuture<'static, Result<Page<T, C>, Error>>
        + Send
        + Sync,
>;

/// A paged listing, not yet fetched. Made by the client's listing methods (such as
/// [`Client::conference_members`]); set a page size with [`Listing::page_size`], then read it
/// page by page with [`Listing::page`], as a lazy stream of items with [`Listing::stream`], or
/// whole with [`Listing::collect`].
///
/// Arguments are checked when the listing is made; a bad one is returned by the first
/// `page`/`stream`/`collect`, before any request.
#[must_use = "a listing does nothing until it is read"]
pub struct Listing<T, C = String> {
    client: Client,
    operation: &'static str,
    page_size: Option<u32>,
    max_pages: u32,
    invalid: Option<Error>,
    fetch: FetchPage<T, C>,
}

impl<T, C> fmt::Debug for Listing<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listing")
            .field("operation", &self.operation)
            .field("page_size", &self.page_size)
            .field("max_pages", &self.max_pages)
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

impl<T, C> Listing<T, C>
where
    T: Send + 'static,
    C: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    /// A listing of `operation` whose pages `fetch` gets, or that fails with `invalid` (an
    /// argument refused before any request).
    pub(crate) fn new<F>(
        client: &Client,
        operation: &'static str,
        page_size: Option<u32>,
        invalid: Option<Error>,
        fetch: F,
    ) -> Self
    where
        F: Fn(Client, Option<C>, Option<u32>) -> BoxFuture<'static, Result<Page<T, C>, Error>>
            + Send
            + Sync
            + 'static,
    {
        Self {
            client: client.clone(),
            operation,
            page_size,
            max_pages: DEFAULT_MAX_PAGES,
            invalid,
            fetch: Arc::new(fetch),
        }
    }

    /// Asks for pages of `size` items (DingTalk's `maxResults`). DingTalk may return fewer.
    /// Zero is refused when the listing is read.
    pub fn page_size(mut self, size: u32) -> Self {
        if size == 0 && self.invalid.is_none() {
            self.invalid = Some(Error::InvalidInput(
                "the page size is zero; ask for at least one item per page".to_string(),
            ));
        }
        self.page_size = Some(size);
        self
    }

    /// Reads at most `pages` pages in [`stream`](Self::stream) and
    /// [`collect`](Self::collect) (default [`DEFAULT_MAX_PAGES`]): when the last of them
    /// still gives a next page token, the stream ends, after that page's items, with
    /// [`Error::TooManyPages`] instead of following the token. Zero is refused when the
    /// listing is read. [`page`](Self::page) reads one page and is not counted.
    pub fn max_pages(mut self, pages: u32) -> Self {
        if pages == 0 && self.invalid.is_none() {
            self.invalid = Some(Error::InvalidInput(
                "max_pages is zero; allow at least one page".to_string(),
            ));
        }
        self.max_pages = pages;
        self
    }

    /// The page size the listing asks for; `None` leaves it to DingTalk.
    pub fn requested_page_size(&self) -> Option<u32> {
        self.page_size
    }

    /// Fetches one page: the first with `token` `None`, the next with the previous page's
    /// [`Page::next_token`].
    pub async fn page(&self, token: Option<C>) -> Result<Page<T, C>, Error> {
        if let Some(error) = &self.invalid {
            return Err(error.clone());
        }
        (self.fetch)(self.client.clone(), token, self.page_size).await
    }

    /// Every item, fetched lazily a page at a time. The stream ends after the last page; a
    /// failed page, a repeated token, or a new token after [`max_pages`](Self::max_pages)
    /// pages ends it with that error.
    pub fn stream(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        struct State<T, C> {
            listing: Listing<T, C>,
            token: Option<C>,
            seen: HashSet<C>,
            pages: u32,
            done: bool,
        }
        let state = State {
            listing: self,
            token: None,
            seen: HashSet::new(),
            pages: 0,
            done: false,
        };
        stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            let page = match state.listing.page(state.token.take()).await {
                Ok(page) => page,
                Err(error) => {
                    state.done = true;
                    return Some((vec![Err(error)], state));
                }
            };
            state.pages = state.pages.saturating_add(1);
            let last = page.is_last();
            let mut items: Vec<Result<T, Error>> = page.items.into_iter().map(Ok).collect();
            match page.next_token {
                _ if last => state.done = true,
                Some(token) if !state.seen.insert(token.clone()) => {
                    state.done = true;
                    items.push(Err(Error::RepeatedPageToken {
                        operation: state.listing.operation,
                        token: token.to_string(),
                    }));
                }
                Some(_) if state.pages >= state.listing.max_pages => {
                    state.done = true;
                    items.push(Err(Error::TooManyPages {
                        operation: state.listing.operation,
                        pages: state.pages,
                    }));
                }
                token => state.token = token,
            }
            Some((items, state))
        })
        .flat_map(stream::iter)
    }

    /// Every item of every page, in one `Vec`; the first error ends it.
    pub async fn collect(self) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut stream = std::pin::pin!(self.stream());
        while let Some(item) = stream.next().await {
            items.push(item?);
        }
        Ok(items)
    }
}

/// `Some(token)` unless it is absent or empty.
pub(crate) fn non_empty(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

/// The items of a listing, boxed so a blocking listing can hand it to its runtime and back.
#[cfg(feature = "blocking")]
type ItemStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

/// A blocking listing: an [`Iterator`] over the items, fetching a page at a time on the
/// blocking client's runtime. Made by the blocking client's listing methods.
#[cfg(feature = "blocking")]
pub struct BlockingListing<T> {
    client: crate::blocking::Client,
    stream: Option<ItemStream<T>>,
}

#[cfg(feature = "blocking")]
impl<T> fmt::Debug for BlockingListing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingListing")
            .field("finished", &self.stream.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> BlockingListing<T> {
    pub(crate) fn new<C>(client: &crate::blocking::Client, listing: Listing<T, C>) -> Self
    where
        C: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
    {
        Self {
            client: client.clone(),
            stream: Some(Box::pin(listing.stream())),
        }
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> Iterator for BlockingListing<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut stream = self.stream.take()?;
        let answer = self.client.block_on(async move {
            let item = stream.next().await;
            Ok((stream, item))
        });
        match answer {
            Ok((stream, item)) => {
                if item.is_some() {
                    self.stream = Some(stream);
                }
                item
            }
            // The runtime is gone: report it once, then end.
            Err(error) => Some(Err(error)),
        }
    }
}
