//! The parse step between routing and the state logic: a request becomes the operation's typed
//! request ([`crate::requests_generated`], generated from the spec by `cargo xtask codegen`),
//! checked by the spec's own checks (`dingtalk_conference_api::checks`), or DingTalk's error
//! for a missing, malformed or invalid argument ([`refusal_reply`]). A handler then takes the
//! typed request and returns the typed answer or a [`Failure`], so it can use `?`.

use std::num::{NonZeroU32, NonZeroU64};

use dingtalk_conference_api::InputError;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::Value;

use crate::handlers::Call;
use crate::reply::Reply;
use crate::state::State;

/// One operation's typed request.
pub(crate) trait Request: Sized {
    /// Its operationId.
    const OPERATION_ID: &'static str;
    /// Its success answer, one of the generated types.
    type Answer: serde::Serialize;
    /// Reads and checks it from `call`.
    fn parse(call: &Call<'_>) -> Result<Self, Refusal>;
}

/// Why a request did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A required parameter or body property is absent (or an empty path segment, or `null`).
    Missing(&'static str),
    /// Present, but not of its type (a query integer that does not parse, a body property of
    /// another JSON type).
    Malformed(&'static str),
    /// The body is not a JSON object (or not sent as `application/json`).
    NotJson,
    /// The spec's checks refuse the value.
    Invalid(InputError),
}

impl From<InputError> for Refusal {
    fn from(error: InputError) -> Self {
        Self::Invalid(error)
    }
}

impl Refusal {
    /// The parameter it is about, if any.
    pub(crate) fn parameter(&self) -> Option<&'static str> {
        match self {
            Self::Missing(name) | Self::Malformed(name) => Some(name),
            Self::Invalid(error) => Some(error.parameter),
            Self::NotJson => None,
        }
    }
}

/// An error answer of the state logic: DingTalk's error body with the request's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Failure {
    /// `400` with `code`.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// `404 roomNotFound`: no such conference.
    pub(crate) fn room_not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "roomNotFound",
            message: "ROOM NOT FOUND".to_owned(),
        }
    }

    pub(crate) fn reply(&self, call: &Call<'_>) -> Reply {
        call.error(self.status, self.code, &self.message)
    }
}

/// The state logic of one operation.
pub(crate) type Logic<R> = fn(R, &mut State) -> Result<<R as Request>::Answer, Failure>;

/// Parses `call` into `R`, runs `logic` and answers: the typed answer as JSON, the logic's
/// failure, or DingTalk's error for the refused argument.
pub(crate) fn serve_typed<R: Request>(
    call: &Call<'_>,
    state: &mut State,
    logic: Logic<R>,
) -> Reply {
    let request = match R::parse(call) {
        Ok(request) => request,
        Err(refusal) => return refusal_reply(R::OPERATION_ID, &refusal, call),
    };
    match logic(request, state) {
        Ok(answer) => Reply::ok(&answer),
        Err(failure) => failure.reply(call),
    }
}

/// DingTalk's answer to a refused argument of `operation_id`: the codes each operation's page
/// documents (`docs/conference-operations.md`), as this fake has always answered them.
pub(crate) fn refusal_reply(operation_id: &str, refusal: &Refusal, call: &Call<'_>) -> Reply {
    let (code, message) = refusal_code(operation_id, refusal);
    call.bad_request(&code, &message)
}

fn refusal_code(operation_id: &str, refusal: &Refusal) -> (String, String) {
    let (code, message) = refusal_code_of(operation_id, refusal);
    (code.into_owned(), message)
}

fn refusal_code_of(
    operation_id: &str,
    refusal: &Refusal,
) -> (std::borrow::Cow<'static, str>, String) {
    let parameter = refusal.parameter().unwrap_or("body");
    // The conference service's own checks (`paramsError`), and the phrase after `error:`.
    let described = || match refusal {
        Refusal::Missing(name) => format!("error:{name} is required"),
        Refusal::Malformed(name) => format!("error:{name} is not of its type"),
        Refusal::NotJson => "error:the body must be a JSON object".to_owned(),
        Refusal::Invalid(error) => format!("error:{error}"),
    };
    match operation_id {
        // The gateway's checks of the token endpoints.
        "getAccessToken" | "getCorpAccessToken" => match refusal {
            Refusal::NotJson => (
                "Missingbody".into(),
                "body is mandatory for this action.".to_owned(),
            ),
            Refusal::Missing(name) => (
                format!("Missing{name}").into(),
                format!("{name} is mandatory for this action."),
            ),
            Refusal::Malformed(name) => ("paramError".into(), format!("{name} must be a string")),
            Refusal::Invalid(error) => ("paramError".into(), error.to_string()),
        },
        "queryConferenceInfo" | "queryConferenceMembers" => match refusal {
            Refusal::Missing("conferenceId") => {
                ("missingRoomId".into(), "MISSING ROOM ID".to_owned())
            }
            _ => ("paramError".into(), described()),
        },
        "queryConferenceInfoByRoomCode" => match (refusal, parameter) {
            (Refusal::Missing(_), "roomCode") => {
                ("missingRoomCode".into(), "MISSING ROOM CODE".to_owned())
            }
            (_, "roomCode") => ("invalidRoomCode".into(), "INVALID ROOM CODE".to_owned()),
            _ => ("paramError".into(), described()),
        },
        // DingTalk documents no error for its data operations; this server answers the
        // declared `paramError` (the spelling of its other data-like reads).
        "GetConfDataByConferenceId"
        | "GetConfDetailData"
        | "GetHistoryConfDataList"
        | "GetUserLastMetric"
        | "GetUserMetricData" => ("paramError".into(), described()),
        // `paramError`, as this operation's page documents.
        "queryOrgConferenceList" => ("paramError".into(), described()),
        // Spelled with dots, as this operation's page documents.
        "queryUserOnGoingConference" => ("param.error".into(), "param.error".to_owned()),
        // A title DingTalk refuses for its length is `paramsTitleError`; an empty one is
        // the service's `paramsError`, as before.
        "createVideoConference" => match refusal {
            Refusal::Invalid(error)
                if error.parameter == "confTitle" && !error.message.contains(" is empty") =>
            {
                ("paramsTitleError".into(), described())
            }
            _ => ("paramsError".into(), described()),
        },
        // part schedule: the settings and short-link pages spell it `paramError`, bare.
        "queryScheduleConfSettings" | "updateScheduleConfSettings" | "createCustomShortLink" => {
            ("paramError".into(), "paramError".to_owned())
        }
        _ => ("paramsError".into(), described()),
    }
}

/// A query or path value as the generated client types it.
pub(crate) trait FromParam: Sized {
    fn from_param(raw: &str) -> Option<Self>;
}

impl FromParam for String {
    fn from_param(raw: &str) -> Option<Self> {
        Some(raw.to_owned())
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl FromParam for $t {
            // Surrounding spaces are tolerated, as the fake always has.
            fn from_param(raw: &str) -> Option<Self> {
                raw.trim().parse().ok()
            }
        }
    )*};
}
numbers!(i32, i64, u32, u64, NonZeroU32, NonZeroU64);

/// `true` or `false`, as the generated client writes a boolean query value (the data
/// operations' `realData`); anything else is malformed.
impl FromParam for bool {
    fn from_param(raw: &str) -> Option<Self> {
        match raw.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl<T: FromParam> FromParam for Option<T> {
    fn from_param(raw: &str) -> Option<Self> {
        T::from_param(raw).map(Some)
    }
}

/// The path parameter `name`; an empty segment is [`Refusal::Missing`].
pub(crate) fn path_param<T: FromParam>(call: &Call<'_>, name: &'static str) -> Result<T, Refusal> {
    let raw = call.param(name);
    if raw.is_empty() {
        return Err(Refusal::Missing(name));
    }
    T::from_param(&raw).ok_or(Refusal::Malformed(name))
}

/// The required query parameter `name` (its first value).
pub(crate) fn query_required<T: FromParam>(
    call: &Call<'_>,
    name: &'static str,
) -> Result<T, Refusal> {
    let raw = call.query(name).ok_or(Refusal::Missing(name))?;
    T::from_param(raw).ok_or(Refusal::Malformed(name))
}

/// The optional query parameter `name` (its first value): `None` when absent.
pub(crate) fn query_optional<T: FromParam>(
    call: &Call<'_>,
    name: &'static str,
) -> Result<Option<T>, Refusal> {
    match call.query(name) {
        None => Ok(None),
        Some(raw) => T::from_param(raw).map(Some).ok_or(Refusal::Malformed(name)),
    }
}

/// The JSON kind of a body property, from the spec (every kind the generator emits; today's
/// bodies use some of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum Json {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    ArrayOf(&'static Json),
    Any,
}

impl Json {
    fn admits(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Number => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Object => value.is_object(),
            Self::ArrayOf(item) => value
                .as_array()
                .is_some_and(|items| items.iter().all(|v| item.admits(v))),
            Self::Any => true,
        }
    }
}

/// A property of a request body's schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Property {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
    pub(crate) kind: Json,
}

/// The body as `T`: a JSON object sent as `application/json`, each of `properties` present
/// when required and of its JSON kind (`null` counts as absent).
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    call: &Call<'_>,
    properties: &[Property],
) -> Result<T, Refusal> {
    let is_json = call
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Refusal::NotJson);
    }
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(call.body) else {
        return Err(Refusal::NotJson);
    };
    for property in properties {
        match object.get(property.name) {
            None | Some(Value::Null) if property.required => {
                return Err(Refusal::Missing(property.name));
            }
            Some(Value::Null) => {
                object.remove(property.name);
            }
            Some(value) if !property.kind.admits(value) => {
                return Err(Refusal::Malformed(property.name));
            }
            _ => {}
        }
    }
    serde_json::from_value(Value::Object(object)).map_err(|_| Refusal::Malformed("body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_answers_its_documented_code() {
        let invalid = |parameter, message: &str| {
            Refusal::Invalid(InputError::new(parameter, message.to_owned()))
        };
        for (operation, refusal, code) in [
            (
                "queryConferenceInfo",
                Refusal::Missing("conferenceId"),
                "missingRoomId",
            ),
            (
                "queryConferenceInfo",
                invalid("conferenceId", "x"),
                "paramError",
            ),
            (
                "queryConferenceMembers",
                Refusal::Malformed("maxResults"),
                "paramError",
            ),
            (
                "queryConferenceInfoByRoomCode",
                Refusal::Missing("roomCode"),
                "missingRoomCode",
            ),
            (
                "queryConferenceInfoByRoomCode",
                invalid("roomCode", "x"),
                "invalidRoomCode",
            ),
            (
                "closeVideoConference",
                Refusal::Missing("unionId"),
                "paramsError",
            ),
            (
                "createVideoConference",
                invalid("confTitle", "the conference title has 257 characters"),
                "paramsTitleError",
            ),
            (
                "createVideoConference",
                invalid("confTitle", "the conference title is empty"),
                "paramsError",
            ),
            ("createVideoConference", Refusal::NotJson, "paramsError"),
            ("getAccessToken", Refusal::NotJson, "Missingbody"),
            (
                "getAccessToken",
                Refusal::Missing("appKey"),
                "MissingappKey",
            ),
            (
                "getCorpAccessToken",
                Refusal::Malformed("suiteTicket"),
                "paramError",
            ),
            (
                "queryCloudRecordText",
                invalid("direction", "x"),
                "paramsError",
            ),
        ] {
            assert_eq!(
                refusal_code(operation, &refusal).0,
                code,
                "{operation} {refusal:?}"
            );
        }
    }

    #[test]
    fn json_kinds_admit_their_values() {
        assert!(Json::ArrayOf(&Json::String).admits(&serde_json::json!(["a"])));
        assert!(!Json::ArrayOf(&Json::String).admits(&serde_json::json!([1])));
        assert!(!Json::Boolean.admits(&serde_json::json!("true")));
        assert!(Json::Integer.admits(&serde_json::json!(5)));
    }

    #[test]
    fn numbers_tolerate_spaces_and_refuse_the_rest() {
        assert_eq!(i32::from_param(" 5"), Some(5));
        assert_eq!(i32::from_param("3000000000"), None);
        assert_eq!(NonZeroU64::from_param("0"), None);
        assert_eq!(String::from_param(" x"), Some(" x".to_owned()));
    }
}
