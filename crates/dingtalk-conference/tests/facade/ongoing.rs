//! `queryUserOnGoingConference` end to end, the operation added on the declared-once design:
//! the fake server's state decides which conferences a user is in now.

use dingtalk_conference::{AttendStatus, Error, NewConference};
use dingtalk_conference_mock::seeded;

use crate::common::{app_client, mock};

const ORGANISER: &str = "iPOLongoingxxxxxxiEiE";
const INVITEE: &str = "Ab3ongoinginviteeiEiE";
const PATH: &str = "/v1.0/conference/users/lists";

#[tokio::test]
async fn a_user_is_in_the_conferences_in_progress_that_hold_a_live_member_record_of_theirs() {
    let mock = mock().await;
    let client = app_client(&mock);

    // The seeded conference in progress, by its host.
    let seeded_host = client
        .user_ongoing_conferences(seeded::STARTED_HOST)
        .await
        .expect("the host's conferences");
    assert!(
        seeded_host
            .conference_ids
            .iter()
            .any(|id| id == seeded::STARTED),
        "{seeded_host:?}"
    );
    let record = &seeded_host.members[seeded::STARTED];
    assert_eq!(record.union_id.as_deref(), Some(seeded::STARTED_HOST));
    assert_eq!(record.conference_id.as_deref(), Some(seeded::STARTED));
    assert_eq!(record.host, Some(true));

    // A created conference shows for its organiser (in it) and its invitee (being called),
    // and is gone from both once closed.
    let created = client
        .create_conference(NewConference::new(ORGANISER, "Ongoing").invite(INVITEE))
        .await
        .expect("created");
    let id = created.conference_id.expect("an id");
    let organiser = client
        .user_ongoing_conferences(ORGANISER)
        .await
        .expect("the organiser's conferences");
    assert_eq!(organiser.conference_ids, vec![id.clone()]);
    assert_eq!(
        organiser.members[&id].attend_status,
        Some(AttendStatus::InMeeting)
    );
    let invitee = client
        .user_ongoing_conferences(INVITEE)
        .await
        .expect("the invitee's conferences");
    assert_eq!(invitee.conference_ids, vec![id.clone()]);
    assert_eq!(
        invitee.members[&id].attend_status,
        Some(AttendStatus::Calling)
    );

    client
        .close_conference(&id, ORGANISER)
        .await
        .expect("closed");
    let after = client
        .user_ongoing_conferences(ORGANISER)
        .await
        .expect("after closing");
    assert!(
        after.conference_ids.is_empty() && after.members.is_empty(),
        "{after:?}"
    );

    // Someone in no conference: an empty answer, not an error.
    let nobody = client
        .user_ongoing_conferences("iPOLnobodyxxxxxxiEiE")
        .await
        .expect("an empty answer");
    assert!(nobody.conference_ids.is_empty());
}

#[tokio::test]
async fn a_blank_union_id_is_refused_naming_the_parameter_before_any_request() {
    let mock = mock().await;
    let client = app_client(&mock);
    for bad in ["", "   ", "iPOL\nxx"] {
        match client.user_ongoing_conferences(bad).await {
            Err(Error::InvalidInput(message)) => {
                assert!(message.starts_with("unionId: "), "{message}");
            }
            other => panic!("{bad:?}: expected InvalidInput, got {other:?}"),
        }
    }
    assert!(
        !mock.requests().iter().any(|r| r.path.starts_with(PATH)),
        "a refused argument sent a request"
    );
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_mirror_answers_the_same() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(crate::common::mock());
    let client = dingtalk_conference::blocking::Client::new(crate::common::app_builder(&mock))
        .expect("blocking client");
    let answer = client
        .user_ongoing_conferences(seeded::STARTED_HOST)
        .expect("the host's conferences");
    assert!(answer.conference_ids.iter().any(|id| id == seeded::STARTED));
}
