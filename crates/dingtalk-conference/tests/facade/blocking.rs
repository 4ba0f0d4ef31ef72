//! The blocking client, against the fake server running on its own runtime.

use dingtalk_conference::{Client, ConferenceStatus, Error, WaitOptions, WaitUntil, blocking};
use dingtalk_conference_mock::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, MockServer, seeded};
use dingtalk_conference_testkit::fake::FakeOnItsOwnRuntime;

fn client(mock: &MockServer) -> blocking::Client {
    blocking::Client::new(
        Client::builder()
            .base_url(mock.base_url())
            .app_credentials(DEFAULT_APP_KEY, DEFAULT_APP_SECRET),
    )
    .expect("valid")
}

#[test]
fn the_blocking_client_queries_a_conference_from_plain_code() {
    let fake = FakeOnItsOwnRuntime::start();
    let mock = &fake.server;
    let client = client(mock);
    let info = client.conference_info(seeded::ENDED).expect("found");
    assert_eq!(info.status, Some(ConferenceStatus::Ended));
    let error = client.conference_info("").expect_err("refused");
    assert!(matches!(error, Error::InvalidInput(_)));
    let waited = client
        .wait_for_status(seeded::ENDED, WaitUntil::Ended, WaitOptions::default())
        .expect("already ended");
    assert!(waited.has_ended());
    assert_eq!(mock.counters().token_requests, 1);
}

#[test]
fn the_blocking_client_can_be_used_and_dropped_inside_an_async_runtime() {
    let fake = FakeOnItsOwnRuntime::start();
    let mock = &fake.server;
    let other = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let found = other.block_on(async {
        let client = client(mock);
        let info = client.conference_info(seeded::STARTED);
        drop(client);
        info
    });
    assert!(found.is_ok(), "{found:?}");
}

#[test]
fn the_blocking_client_takes_per_call_options() {
    let fake = FakeOnItsOwnRuntime::start();
    let mock = &fake.server;
    mock.push_fault(
        dingtalk_conference_mock::FaultScope::Conference(seeded::STARTED.into()),
        dingtalk_conference_mock::Fault::Delay(std::time::Duration::from_secs(5)),
    );
    let quick = client(mock).with_options(
        dingtalk_conference::CallOptions::new().timeout(std::time::Duration::from_millis(200)),
    );
    let error = quick
        .conference_info(seeded::STARTED)
        .expect_err("deadline");
    assert!(
        matches!(
            error,
            Error::Timeout {
                kind: dingtalk_conference::TimeoutKind::Deadline,
                ..
            }
        ),
        "{error:?}"
    );
    quick.conference_info(seeded::ENDED).expect("fast enough");
}
