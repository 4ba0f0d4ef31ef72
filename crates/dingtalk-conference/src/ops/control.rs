//! In-meeting control, what the spec's `x-facade-op` cannot declare: the request builders of
//! the operations whose bodies hold typed actions (`x-enum`) or lists of objects, which the
//! generated builders cannot hold. The methods themselves (`set_cohosts`, `focus`,
//! `invite_users`, `kick_members`, `lock_conference`, `mute_all`, `mute_member`) and the two
//! plain builders (`ConferenceSettings`, `McuInvitation`) are generated (`generated.rs`).

use dingtalk_conference_api::checks;
use dingtalk_conference_api::checks::ids;
use dingtalk_conference_api::types as wire;

use crate::{CohostAction, Error, FocusAction, LockAction, MuteAction};

/// Keeps the first of each unionId, in order: naming someone twice changes nothing.
fn distinct(ids: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for id in ids {
        let id = id.into();
        if !kept.contains(&id) {
            kept.push(id);
        }
    }
    kept
}

/// Refuses a blank unionId (or one with control characters) in a list of users: the spec's
/// generated body checks do not look into list items.
fn check_users<'a>(
    field: &'static str,
    ids_: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    for id in ids_ {
        ids::union(field, id).map_err(Error::from)?;
    }
    Ok(())
}

/// Co-hosts to add or remove with [`Client::set_cohosts`](crate::Client::set_cohosts).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CohostChange {
    /// Add or remove.
    pub action: CohostAction,
    /// unionIds of the members whose role changes, each once.
    pub members: Vec<String>,
}

impl CohostChange {
    /// Makes these members (unionIds) co-hosts.
    pub fn add(members: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            action: CohostAction::Add,
            members: distinct(members),
        }
    }

    /// Takes the co-host role back from these members (unionIds).
    pub fn remove(members: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            action: CohostAction::Remove,
            members: distinct(members),
        }
    }

    /// The request body of `cohosts`, checked: no members, or a blank unionId, is refused.
    pub(crate) fn into_request(self) -> Result<wire::CohostsRequest, Error> {
        let request = wire::CohostsRequest {
            action: self.action.as_str().to_owned(),
            user_list: distinct(self.members)
                .into_iter()
                .map(|union_id| wire::CohostsUser { union_id })
                .collect(),
        };
        checks::cohosts::body(&request).map_err(Error::from)?;
        check_users(
            "userList[].unionId",
            request.user_list.iter().map(|u| u.union_id.as_str()),
        )?;
        Ok(request)
    }
}

/// Whom everyone watches, for [`Client::focus`](crate::Client::focus).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Focus {
    /// Focus or unfocus.
    pub action: FocusAction,
    /// unionId of the member.
    pub member: String,
}

impl Focus {
    /// Everyone watches this member (a unionId).
    pub fn on(member: impl Into<String>) -> Self {
        Self {
            action: FocusAction::Focus,
            member: member.into(),
        }
    }

    /// Everyone watches whom they like again; `member` is the one in focus (DingTalk's SDKs
    /// always send a unionId).
    pub fn off(member: impl Into<String>) -> Self {
        Self {
            action: FocusAction::Unfocus,
            member: member.into(),
        }
    }

    /// The request body of `focus`, checked.
    pub(crate) fn into_request(self) -> Result<wire::FocusRequest, Error> {
        let request = wire::FocusRequest {
            action: self.action.as_str().to_owned(),
            union_id: self.member,
        };
        checks::focus::body(&request).map_err(Error::from)?;
        ids::union("unionId", &request.union_id).map_err(Error::from)?;
        Ok(request)
    }
}

/// A phone number to call into a conference (part of an [`Invitation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PhoneCall {
    /// The number to call.
    pub number: String,
    /// The name shown for the caller.
    pub nick: String,
    /// The country calling code (`86`), if not DingTalk's default.
    pub country_code: Option<String>,
}

/// People to call into a running conference with
/// [`Client::invite_users`](crate::Client::invite_users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invitation {
    /// unionId of the inviter, shown on the call (and, on the fake server, the host or a
    /// co-host).
    pub inviter: Option<String>,
    /// Colleagues to call: unionId and the name shown, each unionId once.
    pub users: Vec<(String, String)>,
    /// Phone numbers to call.
    pub phones: Vec<PhoneCall>,
}

impl Invitation {
    /// Nobody yet: add users or phone numbers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Who invites (a unionId); without one, the call cannot show who invites.
    pub fn by(mut self, inviter: impl Into<String>) -> Self {
        self.inviter = Some(inviter.into());
        self
    }

    /// Calls this colleague (a unionId), shown as `nick`; a unionId added twice is called once.
    pub fn user(mut self, union_id: impl Into<String>, nick: impl Into<String>) -> Self {
        let union_id = union_id.into();
        if !self.users.iter().any(|(id, _)| *id == union_id) {
            self.users.push((union_id, nick.into()));
        }
        self
    }

    /// Calls this phone number, shown as `nick`.
    pub fn phone(mut self, number: impl Into<String>, nick: impl Into<String>) -> Self {
        self.phones.push(PhoneCall {
            number: number.into(),
            nick: nick.into(),
            country_code: None,
        });
        self
    }

    /// Calls this phone number in the country with calling code `country_code` (`86`).
    pub fn phone_in(
        mut self,
        country_code: impl Into<String>,
        number: impl Into<String>,
        nick: impl Into<String>,
    ) -> Self {
        self.phones.push(PhoneCall {
            number: number.into(),
            nick: nick.into(),
            country_code: Some(country_code.into()),
        });
        self
    }

    /// The request body of `inviteUsers`, checked: an invitation without anyone to call, a
    /// blank unionId or an empty name is refused.
    pub(crate) fn into_request(self) -> Result<wire::InviteUsersRequest, Error> {
        if self.users.is_empty() && self.phones.is_empty() {
            return Err(Error::InvalidInput(
                "an invitation needs at least one user or phone number to call".to_owned(),
            ));
        }
        if let Some(phone) = self.phones.iter().find(|p| p.number.trim().is_empty()) {
            return Err(Error::InvalidInput(format!(
                "the phone number for {:?} is empty",
                phone.nick
            )));
        }
        let request = wire::InviteUsersRequest {
            union_id: self.inviter,
            invitee_list: self
                .users
                .into_iter()
                .map(|(union_id, nick)| wire::Invitee {
                    union_id: Some(union_id),
                    nick,
                })
                .collect(),
            phone_invitee_list: self
                .phones
                .into_iter()
                .map(|phone| wire::PhoneInvitee {
                    phone_number: Some(phone.number),
                    nick: Some(phone.nick),
                    status_code: phone.country_code,
                    invite_client: None,
                })
                .collect(),
        };
        checks::invite_users::body(&request).map_err(Error::from)?;
        check_users(
            "inviteeList[].unionId",
            request
                .invitee_list
                .iter()
                .filter_map(|u| u.union_id.as_deref()),
        )?;
        if let Some(invitee) = request
            .invitee_list
            .iter()
            .find(|u| u.nick.trim().is_empty())
        {
            return Err(Error::InvalidInput(format!(
                "the name shown for {:?} is empty",
                invitee.union_id.as_deref().unwrap_or_default()
            )));
        }
        Ok(request)
    }
}

/// Members to remove from a running conference with
/// [`Client::kick_members`](crate::Client::kick_members).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Kick {
    /// The members (unionId) and, for one device only, its participant id.
    pub members: Vec<(String, Option<String>)>,
    /// Whether they may not join again; `None` leaves DingTalk's (undocumented) default.
    pub forbid_rejoin: Option<bool>,
}

impl Kick {
    /// Removes these members (unionIds), all their devices.
    pub fn members(members: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            members: distinct(members).into_iter().map(|id| (id, None)).collect(),
            forbid_rejoin: None,
        }
    }

    /// Removes one device (`participant_id`) of the member `union_id` too.
    pub fn device(
        mut self,
        union_id: impl Into<String>,
        participant_id: impl Into<String>,
    ) -> Self {
        self.members
            .push((union_id.into(), Some(participant_id.into())));
        self
    }

    /// Whether the members may not join again.
    pub fn forbid_rejoin(mut self, forbid: bool) -> Self {
        self.forbid_rejoin = Some(forbid);
        self
    }

    /// The request body of `kickMembers`, checked: nobody to remove, or a blank unionId, is
    /// refused.
    pub(crate) fn into_request(self) -> Result<wire::KickMembersRequest, Error> {
        let request = wire::KickMembersRequest {
            user_list: self
                .members
                .into_iter()
                .map(|(union_id, participant_id)| wire::MemberDevice {
                    union_id,
                    participant_id,
                })
                .collect(),
            forbidden_rejoin: self.forbid_rejoin,
        };
        checks::kick_members::body(&request).map_err(Error::from)?;
        check_users(
            "userList[].unionId",
            request.user_list.iter().map(|u| u.union_id.as_str()),
        )?;
        Ok(request)
    }
}

impl LockAction {
    /// The request body of `lockConference`: the action is the whole request.
    pub(crate) fn into_request(self) -> Result<wire::LockConferenceRequest, Error> {
        let request = wire::LockConferenceRequest {
            action: self.as_str().to_owned(),
        };
        checks::lock_conference::body(&request).map_err(Error::from)?;
        Ok(request)
    }
}

/// Mute or unmute everyone, with [`Client::mute_all`](crate::Client::mute_all).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MuteAll {
    /// Mute or unmute.
    pub action: MuteAction,
    /// Whether participants may not unmute themselves; `None` leaves DingTalk's
    /// (undocumented) default.
    pub force: Option<bool>,
}

impl MuteAll {
    /// Mutes everyone; they may unmute themselves unless [`forced`](Self::forced).
    pub fn on() -> Self {
        Self {
            action: MuteAction::Mute,
            force: None,
        }
    }

    /// Unmutes everyone.
    pub fn off() -> Self {
        Self {
            action: MuteAction::Unmute,
            force: None,
        }
    }

    /// Nobody may unmute themselves (`forceMute: true`).
    pub fn forced(mut self) -> Self {
        self.force = Some(true);
        self
    }

    /// Sends `forceMute` as given.
    pub fn force(mut self, force: bool) -> Self {
        self.force = Some(force);
        self
    }

    /// The request body of `muteAll`, checked.
    pub(crate) fn into_request(self) -> Result<wire::MuteAllRequest, Error> {
        let request = wire::MuteAllRequest {
            action: self.action.as_str().to_owned(),
            force_mute: self.force,
        };
        checks::mute_all::body(&request).map_err(Error::from)?;
        Ok(request)
    }
}

/// Mute or unmute one member, with [`Client::mute_member`](crate::Client::mute_member):
/// DingTalk takes one user per call today.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MuteMember {
    /// Mute or unmute.
    pub action: MuteAction,
    /// unionId of the member.
    pub member: String,
    /// One device of the member; `None` for all of them.
    pub participant_id: Option<String>,
}

impl MuteMember {
    /// Mutes this member (a unionId), all their devices.
    pub fn mute(member: impl Into<String>) -> Self {
        Self {
            action: MuteAction::Mute,
            member: member.into(),
            participant_id: None,
        }
    }

    /// Unmutes this member (a unionId), all their devices.
    pub fn unmute(member: impl Into<String>) -> Self {
        Self {
            action: MuteAction::Unmute,
            member: member.into(),
            participant_id: None,
        }
    }

    /// Only this device of the member.
    pub fn device(mut self, participant_id: impl Into<String>) -> Self {
        self.participant_id = Some(participant_id.into());
        self
    }

    /// The request body of `muteMembers`, checked.
    pub(crate) fn into_request(self) -> Result<wire::MuteMembersRequest, Error> {
        let request = wire::MuteMembersRequest {
            action: self.action.as_str().to_owned(),
            user_list: vec![wire::MemberDevice {
                union_id: self.member,
                participant_id: self.participant_id,
            }],
        };
        checks::mute_members::body(&request).map_err(Error::from)?;
        check_users(
            "userList[].unionId",
            request.user_list.iter().map(|u| u.union_id.as_str()),
        )?;
        Ok(request)
    }
}
