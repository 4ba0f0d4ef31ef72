//! The `metrics` feature: what one client's calls emit, read back with metrics-util's
//! debugging recorder. The calls run on a single-threaded runtime inside the recorder's scope,
//! so every task (token fetches included) records into it.

use std::time::Duration;

use dingtalk_conference::{CallOptions, RateLimit};
use dingtalk_conference_mock::{Fault, FaultScope, seeded};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use crate::common::app_builder;

/// A metric as read back: its name, its labels and its value.
pub(crate) type Metric = (String, Vec<(String, String)>, DebugValue);

/// Runs `body` on a single-threaded runtime (its clock paused if `paused`) inside a debugging
/// recorder's scope, so that every task it spawns records there; returns what was recorded.
pub(crate) fn recorded(paused: bool, body: impl Future<Output = ()>) -> Vec<Metric> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(paused)
            .build()
            .expect("runtime")
            .block_on(body);
    });
    read_back(&snapshotter)
}

/// Every metric the recorder holds, as names, labels and values.
fn read_back(snapshotter: &Snapshotter) -> Vec<Metric> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            (key.name().to_string(), labels, value)
        })
        .collect()
}

/// The value of the counter `name` whose labels include all of `labels`; 0 when absent.
pub(crate) fn counter(snapshot: &[Metric], name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshot
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, value)| match value {
            DebugValue::Counter(n) => *n,
            _ => 0,
        })
        .sum()
}

fn histogram_count(snapshot: &[Metric], name: &str) -> usize {
    snapshot
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, _, value)| match value {
            DebugValue::Histogram(values) => values.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn calls_retries_throttling_coalescing_cache_hits_and_token_fetches_are_counted() {
    // Tokio's paused clock: the throttling pause and the slow answers take no real time.
    let snapshot = recorded(true, async {
        let mock = crate::common::mock().await;
        let client = app_builder(&mock)
            .rate_limit(RateLimit::per_second(1000))
            .build()
            .expect("valid client");
        // One throttling answer, then the retry succeeds.
        mock.push_fault(
            FaultScope::NextConferenceRequests(1),
            Fault::Throttle("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into()),
        );
        client
            .conference_info(seeded::STARTED)
            .await
            .expect("retried");
        // Five identical reads at once, held open by the server: one request.
        mock.push_fault(
            FaultScope::NextConferenceRequests(1),
            Fault::Delay(Duration::from_millis(200)),
        );
        let reads = (0..5).map(|_| client.conference_info(seeded::ENDED));
        for read in futures_util::future::join_all(reads).await {
            read.expect("shared");
        }
        // A recent answer within max_age: no request.
        let fresh = client.with_options(CallOptions::new().max_age(Duration::from_secs(60)));
        fresh.conference_info(seeded::AUDIO).await.expect("asked");
        fresh.conference_info(seeded::AUDIO).await.expect("cached");
        // A refused call.
        client
            .conference_info("ffffffffffffffffffffffff")
            .await
            .expect_err("404");
    });
    let op = ("operation", "queryConferenceInfo");
    // Calls as callers saw them: the throttled-then-retried one, one shared read (the five
    // callers share one call), two max_age reads (one from the cache, not a call), one 404.
    assert_eq!(
        counter(&snapshot, "dingtalk_calls_total", &[op, ("outcome", "ok")]),
        3
    );
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_calls_total",
            &[op, ("outcome", "api_error")]
        ),
        1
    );
    assert_eq!(
        counter(&snapshot, "dingtalk_requests_total", &[op]),
        5,
        "{snapshot:?}"
    );
    assert_eq!(counter(&snapshot, "dingtalk_retries_total", &[op]), 1);
    assert_eq!(counter(&snapshot, "dingtalk_throttled_total", &[op]), 1);
    assert_eq!(counter(&snapshot, "dingtalk_coalesced_total", &[op]), 4);
    assert_eq!(counter(&snapshot, "dingtalk_cache_hits_total", &[op]), 1);
    assert_eq!(
        counter(
            &snapshot,
            "dingtalk_token_fetches_total",
            &[("outcome", "ok")]
        ),
        1
    );
    assert_eq!(
        histogram_count(&snapshot, "dingtalk_call_duration_seconds"),
        4
    );
    // The retry after the throttling answer waited for the 1 s pause.
    assert!(histogram_count(&snapshot, "dingtalk_rate_limit_wait_seconds") >= 1);
}
