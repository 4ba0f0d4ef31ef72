//! HTTP push: DingTalk's encrypted callback. PLACEHOLDER of the lead's skeleton, written by the
//! HTTP-push helper.
