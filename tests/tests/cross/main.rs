//! The cross-crate tests: snapshots of the spec and of the generated and facade APIs, the
//! requests on the wire, decoding, the generator and the review workflow. One test binary with
//! a module per concern: linking one binary is much cheaper than seven.
//!
//! A new test file goes here as a module (`mod name;` below), not as a binary of its own in
//! `tests/tests/`, unless it must have a process to itself: `load.rs` stays a binary of its own
//! because it raises the process's open-files limit and counts the descriptors the process
//! holds, which tests running beside it in one process would disturb. Snapshot assertions go
//! through [`assert_snapshot_in_place!`], so that every snapshot stays in
//! `tests/tests/snapshots/`.

/// `insta::$assertion!($name, $value)` under the file the snapshot had when its module was a
/// test binary of its own: `tests/tests/snapshots/<module>__<name>.snap`.
///
/// insta names a snapshot after the module path (`cross::wire` would give
/// `cross__wire__<name>`) and keeps it beside the asserting file (`tests/tests/cross/snapshots`);
/// this keeps the names and the folder that CONTRIBUTING.md and the review workflow describe.
macro_rules! assert_snapshot_in_place {
    ($assertion:ident, $name:expr, $value:expr $(,)?) => {{
        let module = module_path!().rsplit("::").next().unwrap_or_default();
        let name = format!("{module}__{}", $name);
        let value = $value;
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::$assertion!(name, value));
    }};
}

mod api_surface;
mod codegen;
mod decode;
mod review_workflow;
mod spec_digest;
mod spec_examples;
mod wire;
