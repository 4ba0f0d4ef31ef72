//! The generated client's public API as a compact listing, one line per item, field and
//! operation, in file order: a regeneration that changes the API shows up as a readable diff.

use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::api_listing::{UNRENDERED, crate_listing, items_of, listing_of};
use dingtalk_conference_tests::facade_listing::{UNNAMEABLE, facade_listing_of_dir};

fn read(path: &str) -> Result<String, BoxError> {
    Ok(std::fs::read_to_string(xtask::workspace_root().join(path))?)
}

/// Both generated modules of the API crate: the client and the spec constants.
fn api_listing() -> Result<String, BoxError> {
    crate_listing(&read(xtask::OUTPUT_PATH)?, &read(xtask::CONSTANTS_PATH)?)
}

#[test]
fn generated_client_public_api() -> Result<(), BoxError> {
    insta::assert_snapshot!(api_listing()?);
    Ok(())
}

#[test]
fn api_listing_renders_every_type_it_meets() -> Result<(), BoxError> {
    let listing = api_listing()?;
    assert!(
        !listing.contains(UNRENDERED),
        "extend the printer in tests/src/api_listing.rs:\n{listing}"
    );
    Ok(())
}

#[test]
fn api_listing_shows_each_conference_info_field_with_its_type() -> Result<(), BoxError> {
    let listing = api_listing()?;
    assert!(
        listing.contains("  ConferenceInfo.active_num: Option<i32>  [json \"activeNum\", optional"),
        "{listing}"
    );
    let fields = listing
        .lines()
        .filter(|line| line.starts_with("  ConferenceInfo."))
        .count();
    // DingTalk's field table: 20 keys in `confInfo`.
    assert_eq!(fields, 20, "{listing}");
    Ok(())
}

/// What a reviewer sees when one field's type changes in the spec: one changed line.
#[test]
fn changing_one_field_type_in_the_spec_changes_exactly_one_listing_line() -> Result<(), BoxError> {
    let spec = std::fs::read_to_string(dingtalk_conference_tests::spec::spec_path())?;
    let original = "        activeNum:\n          type: integer\n          format: int32\n";
    assert_eq!(spec.matches(original).count(), 1, "update this test");
    let changed = spec.replacen(original, "        activeNum:\n          type: string\n", 1);
    let before = listing_of(&xtask::generate_from_str(&spec, xtask::SPEC_PATH)?)?;
    let after = listing_of(&xtask::generate_from_str(&changed, xtask::SPEC_PATH)?)?;
    let differing: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        differing,
        [(
            "  ConferenceInfo.active_num: Option<i32>  [json \"activeNum\", optional]",
            "  ConferenceInfo.active_num: Option<String>  [json \"activeNum\", optional]"
        )]
    );
    Ok(())
}

#[test]
fn api_listing_shows_each_operations_status_dispatch() -> Result<(), BoxError> {
    let listing = api_listing()?;
    for expected in [
        "  query_conference_info: 200 -> QueryConferenceInfoResponse; 400|403|404|500|4XX|5XX -> ErrorBody",
        "  get_access_token: 200 -> AccessTokenResponse; 400|4XX|5XX -> ErrorBody",
    ] {
        assert!(
            listing.lines().any(|l| l == expected),
            "{expected}\n{listing}"
        );
    }
    Ok(())
}

#[test]
fn api_listing_renders_consts_statics_traits_and_exported_macros() -> Result<(), BoxError> {
    let source = r#"
        pub const LIMIT: u32 = 5;
        pub static NAME: &str = "n";
        pub trait Hooks: Clone { fn pre(&self) -> u8; fn post(&self) {} const K: u8; type T; }
        #[macro_export]
        macro_rules! m { () => {}; }
        const PRIVATE: u8 = 0;
        macro_rules! private_macro { () => {}; }
    "#;
    assert_eq!(
        items_of(source, "")?,
        "const LIMIT: u32 = 5\n\
         static NAME: &str = \"n\"\n\
         trait Hooks: Clone\n\
         \x20 fn Hooks::pre(&self) -> u8\n\
         \x20 fn Hooks::post(&self)  [provided]\n\
         \x20 const Hooks::K: u8\n\
         \x20 type Hooks::T\n\
         macro m!\n"
    );
    Ok(())
}

/// A kind the printer does not know fails the listing instead of vanishing from it.
#[test]
fn api_listing_refuses_an_item_kind_it_does_not_know() {
    for source in ["extern \"C\" { pub fn f(); }", "pub trait Alias = Clone;"] {
        match items_of(source, "") {
            Err(error) => assert!(error.to_string().contains("unknown item kind"), "{error}"),
            Ok(listing) => panic!("{source:?} was listed as {listing:?}"),
        }
    }
}

/// The facade crate's public API by public path (`tests/src/facade_listing.rs`): what users can
/// name, whatever file each item is written in. A change here is a change users see.
fn facade_listing() -> Result<String, BoxError> {
    facade_listing_of_dir(&xtask::workspace_root().join("crates/dingtalk-conference/src"))
}

#[test]
fn facade_public_api() -> Result<(), BoxError> {
    insta::assert_snapshot!(facade_listing()?);
    Ok(())
}

#[test]
fn facade_listing_renders_every_type_it_meets() -> Result<(), BoxError> {
    let listing = facade_listing()?;
    for marker in [UNRENDERED, UNNAMEABLE] {
        assert!(
            !listing.contains(marker),
            "extend tests/src/facade_listing.rs (or export the type):\n{listing}"
        );
    }
    Ok(())
}
