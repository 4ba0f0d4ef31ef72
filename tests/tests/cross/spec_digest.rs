//! The spec digest (`xtask::digest`): every fact of the OpenAPI document, one per line, so that
//! any semantic change to the spec is a readable snapshot diff, and a reformat is none.

use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::spec::spec_path;

fn digest_of_the_spec() -> Result<String, BoxError> {
    let text = std::fs::read_to_string(spec_path())?;
    Ok(xtask::digest::digest_from_str(&text, xtask::SPEC_PATH)?)
}

#[test]
fn spec_digest() -> Result<(), BoxError> {
    assert_snapshot_in_place!(assert_snapshot, "spec_digest", digest_of_the_spec()?);
    Ok(())
}
