//! Any bytes as a `queryConferenceInfo` answer with any status: decoding must return a typed
//! result, never panic, and a decoded conference must survive a round trip through its JSON.
#![no_main]

use std::sync::OnceLock;

use dingtalk_conference::ConferenceInfo;
use dingtalk_conference::fuzzing::decode_conference_response;
use libfuzzer_sys::fuzz_target;

/// The statuses worth telling apart; the first input byte picks one.
const STATUSES: [u16; 12] = [200, 200, 200, 400, 401, 403, 404, 429, 500, 503, 302, 204];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    match runtime().block_on(decode_conference_response(status, body.to_vec())) {
        Ok(info) => {
            let json = serde_json::to_vec(&info).expect("a decoded conference serializes");
            let again: ConferenceInfo =
                serde_json::from_slice(&json).expect("its own JSON decodes");
            assert_eq!(again, info, "round trip changed the conference");
        }
        Err(error) => {
            // Display and Debug must work for every error.
            let _ = (error.to_string(), format!("{error:?}"), error.is_retryable());
        }
    }
});
