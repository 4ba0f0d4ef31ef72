//! The fake's answer to each operation of the spec: one function per operation, found by its
//! `operationId`.
//!
//! Adding a read operation over data the server already keeps is one match arm in a theme
//! module's `find` (`"opId" => typed!(op_id)`) and one function beside it, the state logic:
//! `fn op_id(request: requests_generated::OpId, state: &mut State) -> Result<types::Answer,
//! Failure>`. Routing comes from the spec's path templates ([`crate::routes`]), the access
//! token is checked here for every operation the spec does not mark `security: []`, the
//! request is parsed and checked from the spec ([`crate::requests`]) before the handler runs,
//! and faults, the request log, request ids and counters are applied by the server around
//! every handler. An operation no `find` knows is answered `501`.
//!
//! - [`tokens`]: `getAccessToken`, `getCorpAccessToken`;
//! - [`conferences`]: `queryConferenceInfo`, `createVideoConference`, `closeVideoConference`,
//!   `queryConferenceInfoBatch`, `queryConferenceInfoByRoomCode`, `queryConferenceMembers`;
//! - [`recordings`]: `queryCloudRecordVideo`, `queryCloudRecordVideoPlayInfo`,
//!   `queryCloudRecordText`;
//! - [`org`]: `queryOrgConferenceList`, `updateVideoConferenceExtInfo`, `createAutoLoginUrl`,
//!   `setSubtitleEvent`, `updateMemberNick`.

mod conferences;
mod control;
mod data;
mod minutes;
mod org;
mod record_stream;
mod recordings;
mod schedules;
mod tokens;

use dingtalk_conference_api::UNAUTHENTICATED_OPERATIONS;
use http::{HeaderMap, StatusCode};

use crate::reply::Reply;
use crate::requests::Failure;
use crate::routes::Matched;
use crate::server::percent_decode;
use crate::state::{Shared, State};
use dingtalk_conference_api::types::ConferenceInfo;

pub use conferences::{DEFAULT_MEMBERS_PAGE_SIZE, DEFAULT_ROOM_CODE_PAGE_SIZE, MAX_BATCH_IDS};
pub use data::{DEFAULT_DATA_PAGE_SIZE, MAX_METRIC_SAMPLES, METRIC_INTERVAL_MS};
pub(crate) use minutes::minutes_task_id;
pub use minutes::{DEFAULT_MINUTES_PAGE_SIZE, MINUTES_LINE_MS};
pub use org::{DEFAULT_ORG_CONFERENCES_PAGE_SIZE, MEETING_LINK_PREFIXES};
pub use record_stream::{ALLOW_LIST_ADD, ALLOW_LIST_REMOVE};
pub use recordings::{DEFAULT_TRANSCRIPT_PAGE_SIZE, MAX_TRANSCRIPT_PAGE_SIZE};
pub(crate) use schedules::join_schedule;
pub use schedules::{DEFAULT_SCHEDULE_CONFERENCES_PAGE_SIZE, MAX_SCHEDULE_EXTENSION_APPS};

/// One operation's handler: the request, and the state, locked for the whole call.
pub(crate) type Handler = fn(&Call<'_>, &mut State) -> Reply;

/// The handler of `operation_id`, if the fake serves it.
pub(crate) fn find(operation_id: &str) -> Option<Handler> {
    tokens::find(operation_id)
        .or_else(|| conferences::find(operation_id))
        .or_else(|| recordings::find(operation_id))
        .or_else(|| org::find(operation_id))
        .or_else(|| control::find(operation_id))
        .or_else(|| schedules::find(operation_id))
        .or_else(|| record_stream::find(operation_id))
        .or_else(|| minutes::find(operation_id))
        .or_else(|| data::find(operation_id))
}

/// The conference `id` if it is not over: `404 roomNotFound` for one the server does not
/// hold, `400 ended_code` for one that has ended (`status` 1).
pub(super) fn open_conference(
    state: &mut State,
    id: &str,
    ended_code: &'static str,
    ended_message: &str,
) -> Result<ConferenceInfo, Failure> {
    let info = state.conference(id).ok_or_else(Failure::room_not_found)?;
    if info.status == Some(1) {
        return Err(Failure::bad_request(ended_code, ended_message));
    }
    Ok(info)
}

/// A request routed to an operation, as a handler sees it.
pub(crate) struct Call<'a> {
    /// The operation and its path parameters.
    pub(crate) matched: &'a Matched,
    /// The query parameters, percent-decoded (`+` as a space), in the order received.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// This request's id, for error bodies.
    pub(crate) request_id: &'a str,
}

impl Call<'_> {
    /// The path parameter `name` (empty if absent).
    pub(crate) fn param(&self, name: &str) -> String {
        self.matched.param(name)
    }

    /// The first value of the query parameter `name`.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// DingTalk's error body with this request's id.
    pub(crate) fn error(&self, status: StatusCode, code: &str, message: &str) -> Reply {
        Reply::error(status, code, message, self.request_id)
    }

    /// `400` with `code`.
    pub(crate) fn bad_request(&self, code: &str, message: &str) -> Reply {
        self.error(StatusCode::BAD_REQUEST, code, message)
    }
}

/// Where the page asked for by the offset cursor `nextToken` starts in a listing of `total`
/// items: 0 when absent or empty (or `"0"`); refused with `400 code` unless it is a cursor this
/// server handed out (a whole number not beyond `total`). State logic: which cursors are valid
/// depends on the listing.
pub(crate) fn offset_token(
    token: Option<&str>,
    total: usize,
    code: &'static str,
) -> Result<usize, Failure> {
    let Some(raw) = token.filter(|raw| !raw.is_empty()) else {
        return Ok(0);
    };
    match raw.parse::<usize>() {
        Ok(offset) if offset <= total && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(offset),
        _ => Err(Failure::bad_request(
            code,
            "error:nextToken is not a cursor of this listing",
        )),
    }
}

/// A page size from a `maxResults` the spec's checks accepted (at least 1), or `default`.
pub(crate) fn page_size<T: TryInto<usize>>(size: Option<T>, default: usize) -> usize {
    size.map_or(default, |size| size.try_into().unwrap_or(usize::MAX))
}

/// The handler of one operation: parse the typed request (the spec's checks included), run
/// the state logic, answer.
macro_rules! typed {
    ($logic:path) => {
        (|call: &$crate::handlers::Call<'_>, state: &mut $crate::state::State| {
            $crate::requests::serve_typed(call, state, $logic)
        }) as $crate::handlers::Handler
    };
}
pub(crate) use typed;

/// One page of `items` from `offset`, and the cursor of the next page (`None` on the last).
pub(crate) fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<String>) {
    let end = offset.saturating_add(size).min(items.len());
    let page = items.get(offset..end).unwrap_or_default().to_vec();
    let next = (end < items.len()).then(|| end.to_string());
    (page, next)
}

/// Runs `handler` for `call`, with the state locked throughout. Unless the spec marks the
/// operation `security: []` (the token operations, which the limits leave alone), the access
/// token is checked first, then the monthly quota and the per-second limit of the app it was
/// issued to ([`crate::limits`]); a call they refuse gets DingTalk's throttling answer.
pub(crate) fn serve(shared: &Shared, handler: Handler, call: &Call<'_>) -> Reply {
    let mut state = shared.lock();
    if needs_token(call.matched.operation_id) {
        let token = call
            .headers
            .get(dingtalk_conference_api::ACCESS_TOKEN_HEADER)
            .and_then(|value| value.to_str().ok());
        let Some(owner) = token.and_then(|token| state.token_owner(token)).cloned() else {
            state.counters_mut().rejected_tokens += 1;
            return call.bad_request("InvalidAuthentication", "不合法的access_token");
        };
        if let Err(refusal) = state.admit_call(&owner, call.matched.operation_id) {
            return Reply::throttle(refusal.code(), call.request_id);
        }
        // events: what the call creates belongs to the caller's organisation.
        if let crate::limits::Owner::Suite { corp, .. } = &owner {
            state.emitter.set_caller_corp(Some(corp.clone()));
        }
    }
    let reply = handler(call, &mut state);
    state.emitter.set_caller_corp(None); // events
    reply
}

/// Whether the spec requires the access token for `operation_id` (every operation but those
/// with `security: []`, which the generated constants name in snake case).
fn needs_token(operation_id: &str) -> bool {
    let snake = operation_id.chars().fold(String::new(), |mut snake, c| {
        if c.is_ascii_uppercase() {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
        snake
    });
    !UNAUTHENTICATED_OPERATIONS.contains(&snake.as_str())
}

/// The query string's parameters, percent-decoded, `+` read as a space.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |raw: &str| percent_decode(&raw.replace('+', " "));
            (decode(key), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_operations_need_no_token_and_the_others_do() {
        assert!(!needs_token("getAccessToken"));
        assert!(!needs_token("getCorpAccessToken"));
        assert!(needs_token("queryConferenceInfo"));
        assert!(needs_token("queryCloudRecordText"));
    }

    #[test]
    fn query_strings_are_decoded_pairwise() {
        assert_eq!(
            parse_query(Some("a=1&b=x+y%2Bz&c&=d")),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y+z".into()),
                ("c".into(), String::new()),
                (String::new(), "d".into()),
            ]
        );
        assert!(parse_query(None).is_empty());
    }

    #[test]
    fn pages_end_without_a_cursor() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(page(&items, 0, 2), (vec![1, 2], Some("2".into())));
        assert_eq!(page(&items, 4, 2), (vec![5], None));
        assert_eq!(page(&items, 5, 2), (vec![], None));
        assert_eq!(page(&items, 0, usize::MAX), (items.to_vec(), None));
    }
}
