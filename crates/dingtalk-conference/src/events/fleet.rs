//! A fleet's shared events through a capped Redis stream (feature `redis`). PLACEHOLDER of the
//! lead's skeleton, written by the fleet helper.
