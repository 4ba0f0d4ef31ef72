//! The Stream mode gateway. PLACEHOLDER of the lead's skeleton, written by the gateway helper.
