//! Conferences as a whole: batch status, room-code lookup, create and close.

use dingtalk_conference_api::types::{
    CreateVideoConferenceRequest, QueryConferenceInfoBatchRequest,
};
use futures_util::FutureExt as _;

use super::{check_conference_id, check_room_code, check_union_id, missing, page_size_i32};
use crate::ops::paging::{Listing, Page, non_empty};
use crate::pipeline::shared::ReadKey;
use crate::pipeline::{Deadline, Operation, Subject};
use crate::{Client, ConferenceSummary, CreatedConference, Error, RoomConference};

/// The batch status query.
pub(super) const BATCH: Operation = Operation::read("queryConferenceInfoBatch");
/// The room-code lookup.
pub(super) const BY_ROOM_CODE: Operation = Operation::read("queryConferenceInfoByRoomCode");
/// Create: not safe to repeat (a second conference).
pub(super) const CREATE: Operation = Operation::write("createVideoConference", false);
/// Close: not safe to repeat (DingTalk answers `resourceClose` to the second).
pub(super) const CLOSE: Operation = Operation::write("closeVideoConference", false);

/// How many conference ids [`Client::conferences_status`] sends per request.
///
/// DingTalk documents no maximum for `conferenceIdList` (neither its pages nor its SDKs
/// state one), so this is a chosen safe size, not DingTalk's: longer lists are split into
/// requests of at most this many ids, made one after another.
pub const CONFERENCES_PER_BATCH_REQUEST: usize = 20;

/// The longest title DingTalk accepts, in characters: it cuts titles over 50 characters to 50
/// and refuses titles over 256, so [`Client::create_conference`] refuses them before sending.
pub const MAX_TITLE_CHARS: usize = 256;

impl Client {
    /// The current state of several conferences in one call per
    /// [`CONFERENCES_PER_BATCH_REQUEST`] ids: status, media status and participants.
    ///
    /// DingTalk answers only for conferences **in progress**: ended, not yet started and
    /// unknown ids are simply absent from the result. Repeated ids are asked for once. An
    /// empty list, or any id that cannot be a conference id, is refused before any request.
    pub async fn conferences_status<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
    ) -> Result<Vec<ConferenceSummary>, Error> {
        if conference_ids.is_empty() {
            return Err(Error::InvalidInput(
                "the list of conference ids is empty".to_string(),
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(conference_ids.len());
        for id in conference_ids {
            let id = id.as_ref();
            check_conference_id(id)?;
            if !ids.iter().any(|seen| seen == id) {
                ids.push(id.to_string());
            }
        }
        let mut found = Vec::new();
        for chunk in ids.chunks(CONFERENCES_PER_BATCH_REQUEST) {
            let chunk = chunk.to_vec();
            let key = ReadKey::new(BATCH.id, chunk.clone());
            let answer = self
                .read(&BATCH, key, move |client, deadline| {
                    let chunk = chunk.clone();
                    async move { client.fetch_batch(chunk, deadline).await }.boxed()
                })
                .await?;
            found.extend(answer);
        }
        Ok(found)
    }

    async fn fetch_batch(
        &self,
        chunk: Vec<String>,
        deadline: Deadline,
    ) -> Result<Vec<ConferenceSummary>, Error> {
        let body = QueryConferenceInfoBatchRequest {
            conference_id_list: chunk,
        };
        let answer = self
            .execute(&BATCH, Subject::default(), deadline, |context| {
                let body = &body;
                async move {
                    self.endpoint()
                        .api(context)
                        .query_conference_info_batch(body)
                        .await
                }
            })
            .await?;
        Ok(answer
            .into_inner()
            .infos
            .unwrap_or_default()
            .into_iter()
            .map(ConferenceSummary::from_wire)
            .collect())
    }

    /// The conferences that use a room code (the digits people type to join), as a paged
    /// [`Listing`]. A scheduled or recurring meeting's code can map to several conferences.
    ///
    /// DingTalk documents no default or maximum page size for this operation; the listing
    /// sends none unless [`Listing::page_size`] sets one. A code that is not all digits is
    /// refused before any request.
    pub fn conferences_by_room_code(&self, room_code: &str) -> Listing<RoomConference> {
        let invalid = check_room_code(room_code).err();
        let code = room_code.to_string();
        Listing::new(
            self,
            BY_ROOM_CODE.id,
            None,
            invalid,
            move |client, token, size| {
                let code = code.clone();
                async move {
                    let key = ReadKey::new(BY_ROOM_CODE.id, (code.clone(), token.clone(), size));
                    client
                        .read(&BY_ROOM_CODE, key, move |client, deadline| {
                            let (code, token) = (code.clone(), token.clone());
                            async move { client.room_code_page(&code, token, size, deadline).await }
                                .boxed()
                        })
                        .await
                }
                .boxed()
            },
        )
    }

    async fn room_code_page(
        &self,
        room_code: &str,
        token: Option<String>,
        size: Option<u32>,
        deadline: Deadline,
    ) -> Result<Page<RoomConference>, Error> {
        let answer = self
            .execute(&BY_ROOM_CODE, Subject::default(), deadline, |context| {
                let token = token.as_deref();
                async move {
                    self.endpoint()
                        .api(context)
                        .query_conference_info_by_room_code(room_code, page_size_i32(size), token)
                        .await
                }
            })
            .await?
            .into_inner();
        Ok(Page::new(
            answer
                .conference_list
                .unwrap_or_default()
                .into_iter()
                .map(RoomConference::from_wire)
                .collect(),
            non_empty(answer.next_token),
            answer.has_more,
            answer.total_count,
        ))
    }

    /// Creates an instant conference that starts at once, with `conference.organiser` as its
    /// host; returns its id, room code, join link and passwords.
    ///
    /// **Not retried blindly.** Creating is not idempotent and DingTalk takes no idempotency
    /// key, so a failure is retried only when the request cannot have been processed:
    /// throttling (403 `Qps*`/`Qpm*`, 429), a failed connect, or no token. After a timeout or
    /// a 5xx the error is returned: the conference may exist; look it up before creating
    /// again. A blank organiser or title, or a title over [`MAX_TITLE_CHARS`], is refused
    /// before any request.
    pub async fn create_conference(
        &self,
        conference: NewConference,
    ) -> Result<CreatedConference, Error> {
        let body = conference.into_request()?;
        let answer = self
            .execute(&CREATE, Subject::default(), self.deadline()?, |context| {
                let body = &body;
                async move {
                    self.endpoint()
                        .api(context)
                        .create_video_conference(body)
                        .await
                }
            })
            .await?;
        if answer.conference_id.as_deref().is_none_or(str::is_empty) {
            return Err(missing(&answer, "conferenceId"));
        }
        Ok(CreatedConference::from_wire(answer.into_inner()))
    }

    /// Closes a conference for everyone. Only its host may close it: `union_id` is the host's
    /// unionId. Closing an ended conference fails with DingTalk's `resourceClose`.
    ///
    /// **Not retried blindly**, like [`Client::create_conference`]: only when the request
    /// cannot have been processed. After a timeout or a 5xx, check the conference's status
    /// before closing again. A blank id or unionId is refused before any request.
    pub async fn close_conference(&self, conference_id: &str, union_id: &str) -> Result<(), Error> {
        check_conference_id(conference_id)?;
        check_union_id("union id of the host", union_id)?;
        let subject = Subject::conference(conference_id);
        let answer = self
            .execute(&CLOSE, subject, self.deadline()?, |context| async move {
                self.endpoint()
                    .api(context)
                    .close_video_conference(conference_id, union_id)
                    .await
            })
            .await?;
        // A 200 whose `code` is not 200 did not close the conference; DingTalk documents no
        // such answer, so it is reported rather than taken for success.
        match answer.code {
            None | Some(200) => Ok(()),
            Some(code) => Err(Error::Decode {
                status: answer.status(),
                request_id: crate::error::request_id_header(answer.headers()),
                message: format!(
                    "closeVideoConference answered code {code} ({}), not 200",
                    crate::text::shown(answer.cause.as_deref().unwrap_or("no cause given"))
                ),
                snippet: String::new(),
            }),
        }
    }
}

/// A conference to create with [`Client::create_conference`]: the organiser (who becomes the
/// host) and the title, plus optional invitees.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewConference {
    /// unionId of the organiser, who becomes the host.
    pub organiser: String,
    /// The title; DingTalk cuts it to 50 characters, and refuses over [`MAX_TITLE_CHARS`].
    pub title: String,
    /// unionIds of colleagues (same organisation) to call into the conference.
    pub invitees: Vec<String>,
    /// Whether to call the organiser too; `None` leaves DingTalk's default (yes).
    pub call_organiser: Option<bool>,
}

impl NewConference {
    /// A conference titled `title`, organised (and hosted) by the user `organiser` (a unionId).
    pub fn new(organiser: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            organiser: organiser.into(),
            title: title.into(),
            invitees: Vec::new(),
            call_organiser: None,
        }
    }

    /// Calls this colleague (a unionId) into the conference; repeated invitees are sent once.
    pub fn invite(mut self, union_id: impl Into<String>) -> Self {
        self.invitees.push(union_id.into());
        self
    }

    /// Whether DingTalk calls the organiser too (its default: yes).
    pub fn call_organiser(mut self, call: bool) -> Self {
        self.call_organiser = Some(call);
        self
    }

    fn into_request(self) -> Result<CreateVideoConferenceRequest, Error> {
        let mut request = CreateVideoConferenceRequest {
            conf_title: self.title,
            invite_caller: self.call_organiser,
            invite_user_ids: self.invitees,
            user_id: self.organiser,
        };
        // The spec's checks: organiser (`userId`), title (`confTitle`: not blank, at most
        // MAX_TITLE_CHARS characters), each invitee (`inviteUserIds`).
        dingtalk_conference_api::checks::create_video_conference::body(&request)?;
        let mut invitees: Vec<String> = Vec::with_capacity(request.invite_user_ids.len());
        for invitee in std::mem::take(&mut request.invite_user_ids) {
            if !invitees.contains(&invitee) {
                invitees.push(invitee);
            }
        }
        request.invite_user_ids = invitees;
        Ok(request)
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::conferences_status`], blocking.
    pub fn conferences_status<S: AsRef<str>>(
        &self,
        conference_ids: &[S],
    ) -> Result<Vec<ConferenceSummary>, Error> {
        let client = self.as_async().clone();
        let ids: Vec<String> = conference_ids
            .iter()
            .map(|id| id.as_ref().to_string())
            .collect();
        self.block_on(async move { client.conferences_status(&ids).await })
    }

    /// Like [`Client::conferences_by_room_code`], blocking: an iterator over the
    /// conferences, fetching a page at a time. `page_size` as in [`Listing::page_size`].
    pub fn conferences_by_room_code(
        &self,
        room_code: &str,
        page_size: Option<u32>,
    ) -> crate::ops::paging::BlockingListing<RoomConference> {
        let mut listing = self.as_async().conferences_by_room_code(room_code);
        if let Some(size) = page_size {
            listing = listing.page_size(size);
        }
        crate::ops::paging::BlockingListing::new(self, listing)
    }

    /// Like [`Client::create_conference`], blocking (and retried as sparingly).
    pub fn create_conference(&self, conference: NewConference) -> Result<CreatedConference, Error> {
        let client = self.as_async().clone();
        self.block_on(async move { client.create_conference(conference).await })
    }

    /// Like [`Client::close_conference`], blocking (and retried as sparingly).
    pub fn close_conference(&self, conference_id: &str, union_id: &str) -> Result<(), Error> {
        let client = self.as_async().clone();
        let (id, union_id) = (conference_id.to_string(), union_id.to_string());
        self.block_on(async move { client.close_conference(&id, &union_id).await })
    }
}
