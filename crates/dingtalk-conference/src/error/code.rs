//! DingTalk's error codes, typed: [`ErrorCode`].

use std::fmt;

/// DingTalk's error codes, typed. The wire value is in each variant's doc; codes this crate does
/// not know arrive as [`ErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `missingRoomId` (400): the conference id is missing.
    MissingRoomId,
    /// `paramError` (400): a parameter is invalid.
    ParamError,
    /// `noPermission` (403): the app may not query this conference.
    NoPermission,
    /// `roomNotFound` (404): no such conference.
    RoomNotFound,
    /// `systemError` (500): an internal error at DingTalk.
    SystemError,
    /// `InvalidAuthentication` (400): the access token is missing, invalid or expired.
    InvalidAuthentication,
    /// `Forbidden.AccessDenied.QpsLimitForApi` (403): the API's overall rate limit.
    QpsLimitForApi,
    /// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` (403): this app's per-second limit.
    QpsLimitForAppkeyAndApi,
    /// `Forbidden.AccessDenied.QpmLimitForAppkeyAndApi` (403): this app's per-minute limit.
    QpmLimitForAppkeyAndApi,
    /// `Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi` (403): per-second limit of a
    /// third-party app in one organisation.
    QpsLimitForSuitekeyAndOrgAndApi,
    /// `Forbidden.AccessDenied.QpmLimitForSuitekeyAndOrgAndApi` (403): per-minute limit of a
    /// third-party app in one organisation.
    QpmLimitForSuitekeyAndOrgAndApi,
    /// `Forbidden.AccessDenied.ApiCountLimitForOrg` (403): the organisation's monthly quota is
    /// spent.
    ApiCountLimitForOrg,
    /// `Forbidden.AccessDenied.AccessTokenPermissionDenied` (403): the app lacks the permission.
    AccessTokenPermissionDenied,
    /// `Forbidden.AccessDenied.IpNotInWhiteList` (403): the caller's IP is not whitelisted.
    IpNotInWhiteList,
    /// `system.busy` or `systemBusy` (429): DingTalk is overloaded.
    SystemBusy,
    /// `invalidClientIdOrSecret` (400, token endpoint): wrong app key or secret.
    InvalidClientIdOrSecret,
    /// `invalidSuiteKey` (400, token endpoint): wrong suite key or secret.
    InvalidSuiteKey,
    /// `invalidSuiteTicket` (400, token endpoint): the suite ticket is stale.
    InvalidSuiteTicket,
    /// `invalidAuthInfo` (400, token endpoint): the organisation has not authorised the app.
    InvalidAuthInfo,
    /// `Missingbody` (400, token endpoint): the body was missing or not JSON.
    MissingBody,
    /// Any other code, as sent.
    Other(String),
}

const THROTTLE_PREFIX: &str = "Forbidden.AccessDenied.";

impl ErrorCode {
    /// Parses a wire code. Never fails: unknown codes become [`ErrorCode::Other`].
    pub fn from_wire(code: &str) -> Self {
        match code {
            "missingRoomId" => Self::MissingRoomId,
            "paramError" => Self::ParamError,
            "noPermission" => Self::NoPermission,
            "roomNotFound" => Self::RoomNotFound,
            "systemError" => Self::SystemError,
            "InvalidAuthentication" => Self::InvalidAuthentication,
            "system.busy" | "systemBusy" => Self::SystemBusy,
            "invalidClientIdOrSecret" => Self::InvalidClientIdOrSecret,
            "invalidSuiteKey" => Self::InvalidSuiteKey,
            "invalidSuiteTicket" => Self::InvalidSuiteTicket,
            "invalidAuthInfo" => Self::InvalidAuthInfo,
            "Missingbody" | "MissingBody" | "missingBody" => Self::MissingBody,
            other => match other.strip_prefix(THROTTLE_PREFIX) {
                Some("QpsLimitForApi") => Self::QpsLimitForApi,
                Some("QpsLimitForAppkeyAndApi") => Self::QpsLimitForAppkeyAndApi,
                Some("QpmLimitForAppkeyAndApi") => Self::QpmLimitForAppkeyAndApi,
                Some("QpsLimitForSuitekeyAndOrgAndApi") => Self::QpsLimitForSuitekeyAndOrgAndApi,
                Some("QpmLimitForSuitekeyAndOrgAndApi") => Self::QpmLimitForSuitekeyAndOrgAndApi,
                Some("ApiCountLimitForOrg") => Self::ApiCountLimitForOrg,
                Some("AccessTokenPermissionDenied") => Self::AccessTokenPermissionDenied,
                Some("IpNotInWhiteList") => Self::IpNotInWhiteList,
                _ => Self::Other(other.to_string()),
            },
        }
    }

    /// The wire value (for [`ErrorCode::SystemBusy`], `system.busy`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::MissingRoomId => "missingRoomId",
            Self::ParamError => "paramError",
            Self::NoPermission => "noPermission",
            Self::RoomNotFound => "roomNotFound",
            Self::SystemError => "systemError",
            Self::InvalidAuthentication => "InvalidAuthentication",
            Self::QpsLimitForApi => "Forbidden.AccessDenied.QpsLimitForApi",
            Self::QpsLimitForAppkeyAndApi => "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            Self::QpmLimitForAppkeyAndApi => "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
            Self::QpsLimitForSuitekeyAndOrgAndApi => {
                "Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi"
            }
            Self::QpmLimitForSuitekeyAndOrgAndApi => {
                "Forbidden.AccessDenied.QpmLimitForSuitekeyAndOrgAndApi"
            }
            Self::ApiCountLimitForOrg => "Forbidden.AccessDenied.ApiCountLimitForOrg",
            Self::AccessTokenPermissionDenied => {
                "Forbidden.AccessDenied.AccessTokenPermissionDenied"
            }
            Self::IpNotInWhiteList => "Forbidden.AccessDenied.IpNotInWhiteList",
            Self::SystemBusy => "system.busy",
            Self::InvalidClientIdOrSecret => "invalidClientIdOrSecret",
            Self::InvalidSuiteKey => "invalidSuiteKey",
            Self::InvalidSuiteTicket => "invalidSuiteTicket",
            Self::InvalidAuthInfo => "invalidAuthInfo",
            Self::MissingBody => "Missingbody",
            Self::Other(code) => code,
        }
    }

    /// Whether the code means "throttled: back off and retry".
    pub fn is_throttling(&self) -> bool {
        match self {
            Self::QpsLimitForApi
            | Self::QpsLimitForAppkeyAndApi
            | Self::QpmLimitForAppkeyAndApi
            | Self::QpsLimitForSuitekeyAndOrgAndApi
            | Self::QpmLimitForSuitekeyAndOrgAndApi
            | Self::SystemBusy => true,
            // A throttling code DingTalk adds later still follows its naming scheme.
            Self::Other(code) => code
                .strip_prefix(THROTTLE_PREFIX)
                .is_some_and(|rest| rest.starts_with("QpsLimit") || rest.starts_with("QpmLimit")),
            _ => false,
        }
    }

    /// Whether retrying can never help, whatever the status says.
    pub(crate) fn is_final(&self) -> bool {
        matches!(
            self,
            Self::ApiCountLimitForOrg
                | Self::AccessTokenPermissionDenied
                | Self::IpNotInWhiteList
                | Self::NoPermission
        )
    }

    /// What a person should do about it.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::MissingRoomId => "pass a conference id",
            Self::RoomNotFound => {
                "check the conference id and that it belongs to this organisation"
            }
            Self::NoPermission => "the app may not read this conference",
            Self::SystemError => "an error inside DingTalk; try again later",
            Self::InvalidAuthentication => {
                "the access token was rejected (expired, or invalidated by a newer one: a third-party app's new token may invalidate the old); check that no other system fetches this app's tokens, the credentials, and the edition (api.dingtalk.io vs api.dingtalk.com)"
            }
            code if code.is_throttling() => "DingTalk throttled the call; slow down and retry",
            Self::ApiCountLimitForOrg => "the organisation's monthly API quota is spent",
            Self::AccessTokenPermissionDenied => {
                "grant the app the permission VideoConference.Conference.Read in the developer console"
            }
            Self::IpNotInWhiteList => "add this machine's public IP to the app's IP whitelist",
            Self::InvalidClientIdOrSecret => "check the app key and app secret (and the edition)",
            Self::InvalidSuiteKey => "check the suite key and suite secret",
            Self::InvalidSuiteTicket => "hand over the latest suite ticket DingTalk pushed",
            Self::InvalidAuthInfo => "the organisation has not authorised the app",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
