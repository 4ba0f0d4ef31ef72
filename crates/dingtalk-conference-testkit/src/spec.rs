//! The spec, `spec/dingtalk-conference.yaml`, as the tests read it: untyped JSON parsed with
//! the YAML crate the generator uses, so that a test sees the document exactly as written
//! (examples and extensions included, which typed OpenAPI models drop or reshape).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    // This crate is `crates/dingtalk-conference-testkit` under the root.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .map_or_else(|| manifest_dir.join("../.."), Path::to_path_buf)
}

/// `spec/dingtalk-conference.yaml` under the workspace root.
pub fn spec_path() -> PathBuf {
    workspace_root().join("spec/dingtalk-conference.yaml")
}

/// The spec, read and parsed now (for a test that changes its copy).
///
/// # Panics
/// When the spec cannot be read or does not parse, naming the file and the problem.
pub fn load_spec() -> Value {
    let path = spec_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the spec is readable ({}): {e}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("the spec parses ({}): {e}", path.display()))
}

/// The spec, parsed once per test binary.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(load_spec)
}
