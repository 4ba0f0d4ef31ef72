//! HTTP push (`--push-url`). PLACEHOLDER of the lead's skeleton, written by the HTTP-push helper.
