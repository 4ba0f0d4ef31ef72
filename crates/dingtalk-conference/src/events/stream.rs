//! Stream mode: the WebSocket the app opens to DingTalk's gateway. PLACEHOLDER of the lead's
//! skeleton, written by the Stream-client helper.
