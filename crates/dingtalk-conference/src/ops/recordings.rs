//! Cloud recordings, what the spec's `x-facade-op` cannot declare (both `hand`): a video's
//! play links (named by a `CloudRecordVideo`) and the transcript (an integer page token taken
//! from the last paragraph). The video list is generated (`generated.rs`).

use std::num::NonZeroU64;
use std::time::Duration;

use futures_util::FutureExt as _;

use super::{check_conference_id, check_union_id};
use crate::ops::paging::{Listing, Page};
use crate::pipeline::shared::ReadKey;
use crate::pipeline::{Deadline, Subject};
use crate::{
    Client, CloudRecordPlayInfo, CloudRecordVideo, Error, TranscriptDirection, TranscriptParagraph,
};

use super::generated::{
    QUERY_CLOUD_RECORD_TEXT as TEXTS, QUERY_CLOUD_RECORD_VIDEO_PLAY_INFO as PLAY_INFO,
};

/// DingTalk's largest transcript page (`maxResults` of `getTexts`), which
/// [`Client::transcript`] asks for unless told otherwise: the fewest calls.
pub const MAX_TRANSCRIPT_PAGE_SIZE: u32 = 2000;

impl Client {
    /// The play and download links of one recorded video, named by the `media_id` and
    /// `region_id` of a [`CloudRecordVideo`].
    pub async fn recording_play_info(
        &self,
        conference_id: &str,
        video: &CloudRecordVideo,
        union_id: &str,
    ) -> Result<CloudRecordPlayInfo, Error> {
        use dingtalk_conference_api::checks::query_cloud_record_video_play_info as checks;
        checks::conference_id(conference_id)?;
        checks::union_id(union_id)?;
        let (Some(media_id), Some(region_id)) =
            (video.media_id.as_deref(), video.region_id.as_deref())
        else {
            return Err(Error::InvalidInput(
                "the video has no media id or region id, which its play info needs".to_string(),
            ));
        };
        checks::media_id(media_id)?;
        checks::region_id(region_id)?;
        // Each argument keeps its place in the key: no separator that an id could contain.
        let owned = [conference_id, media_id, region_id, union_id].map(str::to_string);
        let key = ReadKey::new(PLAY_INFO.id, owned.clone());
        self.read(&PLAY_INFO, key, move |client, deadline| {
            let [id, media, region, user] = owned.clone();
            async move {
                client
                    .fetch_play_info(&id, &media, &region, &user, deadline)
                    .await
            }
            .boxed()
        })
        .await
    }

    async fn fetch_play_info(
        &self,
        conference_id: &str,
        media_id: &str,
        region_id: &str,
        union_id: &str,
        deadline: Deadline,
    ) -> Result<CloudRecordPlayInfo, Error> {
        let subject = Subject::conference(conference_id);
        let answer = self
            .execute(&PLAY_INFO, subject, deadline, |context| async move {
                self.endpoint()
                    .api(context)
                    .query_cloud_record_video_play_info(
                        conference_id,
                        media_id,
                        region_id,
                        union_id,
                    )
                    .await
            })
            .await?
            .into_inner();
        Ok(CloudRecordPlayInfo::from_wire(answer))
    }

    /// The transcript of a conference's cloud recording, paragraph by paragraph, as a paged
    /// [`Listing`] (each page asks for [`MAX_TRANSCRIPT_PAGE_SIZE`] paragraphs unless
    /// [`Listing::page_size`] says otherwise; larger sizes are refused).
    ///
    /// A page's token is the last paragraph's `nextTtoken`; the listing ends when DingTalk
    /// says `hasMore: false`.
    pub fn transcript(&self, query: TranscriptQuery) -> Listing<TranscriptParagraph, i64> {
        let invalid = check_conference_id(&query.conference_id)
            .and_then(|()| check_union_id(&query.union_id))
            .err();
        Listing::new(
            self,
            TEXTS.id,
            Some(MAX_TRANSCRIPT_PAGE_SIZE),
            invalid,
            move |client, token, size| {
                let query = query.clone();
                async move {
                    let key = ReadKey::new(
                        TEXTS.id,
                        (
                            query.conference_id.clone(),
                            query.union_id.clone(),
                            query.start,
                            query
                                .direction
                                .as_ref()
                                .map(|d| d.as_str().to_string()),
                            token,
                            size,
                        ),
                    );
                    client
                        .read(&TEXTS, key, move |client, deadline| {
                            let query = query.clone();
                            async move { client.transcript_page(&query, token, size, deadline).await }
                                .boxed()
                        })
                        .await
                }
                .boxed()
            },
        )
    }

    async fn transcript_page(
        &self,
        query: &TranscriptQuery,
        token: Option<i64>,
        size: Option<u32>,
        deadline: Deadline,
    ) -> Result<Page<TranscriptParagraph, i64>, Error> {
        let size = match size {
            Some(n) if n > MAX_TRANSCRIPT_PAGE_SIZE => {
                return Err(Error::InvalidInput(format!(
                    "a transcript page holds at most {MAX_TRANSCRIPT_PAGE_SIZE} paragraphs, not {n}"
                )));
            }
            other => other.and_then(|n| NonZeroU64::new(u64::from(n))),
        };
        let start = query
            .start
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let direction = query.direction.as_ref().map(TranscriptDirection::as_str);
        let subject = Subject::conference(&query.conference_id);
        let answer = self
            .execute(&TEXTS, subject, deadline, |context| async move {
                self.endpoint()
                    .api(context)
                    .query_cloud_record_text(
                        &query.conference_id,
                        direction,
                        size,
                        token,
                        start,
                        Some(&query.union_id),
                    )
                    .await
            })
            .await?
            .into_inner();
        let paragraphs: Vec<TranscriptParagraph> = answer
            .paragraph_list
            .unwrap_or_default()
            .into_iter()
            .map(TranscriptParagraph::from_wire)
            .collect();
        // The next page starts after the last paragraph: its `nextTtoken` is the cursor.
        let next = paragraphs.last().and_then(|p| p.next_token);
        Ok(Page::new(paragraphs, next, answer.has_more, None))
    }
}

/// What [`Client::transcript`] reads: a conference's transcript, as seen by one user,
/// optionally from an offset into the recording and newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TranscriptQuery {
    /// The conference id.
    pub conference_id: String,
    /// unionId of the user asking.
    pub union_id: String,
    /// Start this far into the recording; `None` from the start.
    pub start: Option<Duration>,
    /// The order; `None` leaves DingTalk's default (oldest first).
    pub direction: Option<TranscriptDirection>,
}

impl TranscriptQuery {
    /// The whole transcript of `conference_id`, as the user `union_id` may read it.
    pub fn new(conference_id: impl Into<String>, union_id: impl Into<String>) -> Self {
        Self {
            conference_id: conference_id.into(),
            union_id: union_id.into(),
            start: None,
            direction: None,
        }
    }

    /// Starts this far into the recording.
    pub fn start_at(mut self, offset: Duration) -> Self {
        self.start = Some(offset);
        self
    }

    /// Paragraphs in this order.
    pub fn direction(mut self, direction: TranscriptDirection) -> Self {
        self.direction = Some(direction);
        self
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::recording_play_info`], blocking.
    pub fn recording_play_info(
        &self,
        conference_id: &str,
        video: &CloudRecordVideo,
        union_id: &str,
    ) -> Result<CloudRecordPlayInfo, Error> {
        let client = self.as_async().clone();
        let (id, video, union_id) = (
            conference_id.to_string(),
            video.clone(),
            union_id.to_string(),
        );
        self.block_on(async move { client.recording_play_info(&id, &video, &union_id).await })
    }

    /// Like [`Client::transcript`], blocking: an iterator over the paragraphs, fetching a page
    /// at a time. `page_size` as in [`Listing::page_size`].
    pub fn transcript(
        &self,
        query: TranscriptQuery,
        page_size: Option<u32>,
    ) -> crate::ops::paging::BlockingListing<TranscriptParagraph> {
        let mut listing = self.as_async().transcript(query);
        if let Some(size) = page_size {
            listing = listing.page_size(size);
        }
        crate::ops::paging::BlockingListing::new(self, listing)
    }
}
