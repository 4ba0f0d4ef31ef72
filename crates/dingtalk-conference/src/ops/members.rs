//! A conference's members: `GET /v1.0/conference/videoConferences/{conferenceId}/members`.

use futures_util::FutureExt as _;

use super::{check_conference_id, page_size_i32};
use crate::ops::paging::{Listing, Page, non_empty};
use crate::pipeline::shared::ReadKey;
use crate::pipeline::{Deadline, Operation, Subject};
use crate::{Client, ConferenceMember, Error};

/// This operation, as the pipeline knows it.
pub(super) const OPERATION: Operation = Operation::read("queryConferenceMembers");

impl Client {
    /// Everyone invited to or in a conference (attend status, host role, join and leave
    /// times, time spent), as a paged [`Listing`].
    ///
    /// DingTalk's page size defaults to 128 and has no documented maximum; the listing sends
    /// none unless [`Listing::page_size`] sets one. The listing ends on the page without a
    /// next token. A blank id is refused before any request.
    pub fn conference_members(&self, conference_id: &str) -> Listing<ConferenceMember> {
        let invalid = check_conference_id(conference_id).err();
        let id = conference_id.to_string();
        Listing::new(
            self,
            OPERATION.id,
            None,
            invalid,
            move |client, token, size| {
                let id = id.clone();
                async move {
                    let key = ReadKey::new(OPERATION.id, (id.clone(), token.clone(), size));
                    client
                        .read(&OPERATION, key, move |client, deadline| {
                            let (id, token) = (id.clone(), token.clone());
                            async move { client.members_page(&id, token, size, deadline).await }
                                .boxed()
                        })
                        .await
                }
                .boxed()
            },
        )
    }

    async fn members_page(
        &self,
        conference_id: &str,
        token: Option<String>,
        size: Option<u32>,
        deadline: Deadline,
    ) -> Result<Page<ConferenceMember>, Error> {
        let subject = Subject::conference(conference_id);
        let answer = self
            .execute(&OPERATION, subject, deadline, |context| {
                let token = token.as_deref();
                async move {
                    self.endpoint()
                        .api(context)
                        .query_conference_members(conference_id, page_size_i32(size), token)
                        .await
                }
            })
            .await?
            .into_inner();
        Ok(Page::new(
            answer
                .member_models
                .unwrap_or_default()
                .into_iter()
                .map(ConferenceMember::from_wire)
                .collect(),
            non_empty(answer.next_token),
            None,
            answer.total_count,
        ))
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::conference_members`], blocking: an iterator over the members, fetching
    /// a page at a time. `page_size` as in [`Listing::page_size`].
    pub fn conference_members(
        &self,
        conference_id: &str,
        page_size: Option<u32>,
    ) -> crate::ops::paging::BlockingListing<ConferenceMember> {
        let mut listing = self.as_async().conference_members(conference_id);
        if let Some(size) = page_size {
            listing = listing.page_size(size);
        }
        crate::ops::paging::BlockingListing::new(self, listing)
    }
}
