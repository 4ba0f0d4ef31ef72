//! PLACEHOLDER of the lead's skeleton (replaced by a helper).
fn main() {}
