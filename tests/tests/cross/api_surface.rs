//! The generated client's public API as a compact listing, one line per item, field and
//! operation, in file order: a regeneration that changes the API shows up as a readable diff.

use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::api_listing::{UNRENDERED, crate_listing, items_of, listing_of};
use dingtalk_conference_tests::event_listing::event_listing;
use dingtalk_conference_tests::facade_listing::{
    UNNAMEABLE, facade_listing, facade_listing_of_dir,
};

fn read(path: &str) -> Result<String, BoxError> {
    Ok(std::fs::read_to_string(xtask::workspace_root().join(path))?)
}

/// Both generated modules of the API crate: the client and the spec constants.
fn api_listing() -> Result<String, BoxError> {
    crate_listing(&read(xtask::OUTPUT_PATH)?, &read(xtask::CONSTANTS_PATH)?)
}

#[test]
fn generated_client_public_api() -> Result<(), BoxError> {
    assert_snapshot_in_place!(
        assert_snapshot,
        "generated_client_public_api",
        api_listing()?
    );
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
fn facade_crate_listing() -> Result<String, BoxError> {
    facade_listing_of_dir(&xtask::workspace_root().join("crates/dingtalk-conference/src"))
}

#[test]
fn facade_public_api() -> Result<(), BoxError> {
    assert_snapshot_in_place!(
        assert_snapshot,
        "facade_public_api",
        facade_crate_listing()?
    );
    Ok(())
}

/// The typed events (`tests/src/event_listing.rs`): each documented `eventType`'s variant, then
/// the events module's typed items. A change to an event payload in the spec shows here.
fn typed_event_listing() -> Result<String, BoxError> {
    event_listing(&read(xtask::EVENTS_PATH)?, &facade_crate_listing()?)
}

#[test]
fn typed_events_listing() -> Result<(), BoxError> {
    assert_snapshot_in_place!(assert_snapshot, "event_listing", typed_event_listing()?);
    Ok(())
}

#[test]
fn event_listing_maps_every_documented_event_type_and_lists_each_variant() -> Result<(), BoxError> {
    let listing = typed_event_listing()?;
    let spec = dingtalk_conference_tests::spec::load_spec()?;
    let declared = spec["components"]["x-events"]
        .as_object()
        .ok_or("components.x-events")?;
    for (event_type, declaration) in declared {
        let variant = declaration["variant"].as_str().ok_or("variant")?;
        let mark = if declaration["directed"] == true {
            "  [directed]"
        } else {
            ""
        };
        let line = format!("eventType {event_type} -> ConferenceEvent::{variant}{mark}");
        assert!(listing.lines().any(|l| l == line), "{line}\n{listing}");
        assert!(
            listing.contains(&format!(
                "dingtalk_conference::events::ConferenceEvent::{variant}"
            )),
            "{variant}\n{listing}"
        );
    }
    assert!(!listing.contains("events::stream::"), "{listing}");
    Ok(())
}

#[test]
fn event_listing_refuses_a_dispatch_it_cannot_read() {
    let source = "impl ConferenceEvent { fn from_documented() -> u8 { 7 } }";
    let error = event_listing(source, "").expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("extend tests/src/event_listing.rs"),
        "{error}"
    );
}

#[test]
fn facade_listing_renders_every_type_it_meets() -> Result<(), BoxError> {
    let listing = facade_crate_listing()?;
    for marker in [UNRENDERED, UNNAMEABLE] {
        assert!(
            !listing.contains(marker),
            "extend tests/src/facade_listing.rs (or export the type):\n{listing}"
        );
    }
    Ok(())
}

/// The same crate written in two file layouts: the listing cannot tell them apart. Layout B
/// moves `Client::info` into `ops/info.rs` (importing `Client` under another route), turns
/// `client.rs` into `client/mod.rs`, renames the private module holding `Client`, and writes
/// the `Debug` impl with a differently imported path.
#[test]
fn facade_listing_does_not_depend_on_the_file_layout() -> Result<(), BoxError> {
    let layout_a: &[(&str, &str)] = &[
        (
            "lib.rs",
            "mod client;\nmod error;\n#[cfg(feature = \"extra\")]\nmod extra;\n\
             pub use client::{Client, Info};\npub use error::Error;\n\
             #[cfg(feature = \"extra\")]\npub use extra::Extra;\n",
        ),
        (
            "client.rs",
            "use std::fmt;\nuse std::time::Duration;\nuse crate::Error;\n\
             #[derive(Clone)]\n#[non_exhaustive]\npub struct Client { inner: u8 }\n\
             pub struct Info { pub took: Duration }\n\
             impl Client {\n    #[must_use]\n    pub fn new() -> Self { Client { inner: 0 } }\n\
             \x20   pub async fn info(&self, id: &str) -> Result<Info, Error> { todo!() }\n\
             \x20   fn private(&self) {}\n}\n\
             impl fmt::Debug for Client {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { todo!() }\n}\n",
        ),
        (
            "error.rs",
            "#[derive(Debug)]\npub enum Error { Timeout(std::time::Duration), Other { code: u16 } }\n",
        ),
        (
            "extra.rs",
            "pub struct Extra;\nimpl crate::Client {\n    pub fn extra(&self) -> Extra { Extra }\n}\n",
        ),
    ];
    let layout_b: &[(&str, &str)] = &[
        (
            "lib.rs",
            "mod core_types;\nmod errors;\nmod ops;\n#[cfg(feature = \"extra\")]\n#[path = \"more/extra_things.rs\"]\nmod extra;\n\
             pub use core_types::{Client, Info};\npub use errors::*;\n\
             #[cfg(feature = \"extra\")]\npub use extra::Extra;\n",
        ),
        (
            "core_types/mod.rs",
            "#[derive(Clone)]\n#[non_exhaustive]\npub struct Client { pub(crate) inner: u8 }\n\
             pub struct Info { pub took: std::time::Duration }\n\
             impl Client {\n    #[must_use]\n    pub fn new() -> Self { Client { inner: 0 } }\n}\n\
             impl std::fmt::Debug for Client {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { todo!() }\n}\n",
        ),
        (
            "errors.rs",
            "use std::time::Duration as Span;\n#[derive(Debug)]\npub enum Error { Timeout(Span), Other { code: u16 } }\n",
        ),
        ("ops/mod.rs", "mod info;\n"),
        (
            "ops/info.rs",
            "use crate::core_types as types;\nuse types::Client;\n\
             impl Client {\n    pub async fn info(&self, id: &str) -> Result<crate::Info, super::super::Error> { todo!() }\n}\n",
        ),
        (
            "more/extra_things.rs",
            "pub struct Extra;\nimpl super::Client {\n    pub fn extra(&self) -> Extra { Extra }\n}\n",
        ),
    ];
    let listing = |files: &'static [(&'static str, &'static str)]| {
        facade_listing(&move |path: &str| {
            files
                .iter()
                .find(|(name, _)| *name == path)
                .map(|(_, text)| (*text).to_string())
        })
    };
    let a = listing(layout_a)?;
    let b = listing(layout_b)?;
    assert_eq!(a, b);
    for expected in [
        "  async fn dingtalk_conference::Client::info(&self, id: &str) -> Result<Info, Error>",
        "  fn dingtalk_conference::Client::new() -> Self  [must_use]",
        "  fn dingtalk_conference::Client::extra(&self) -> Extra  [cfg(feature = \"extra\")]",
        "  impl std::fmt::Debug for Client",
        "  dingtalk_conference::Error::Timeout(std::time::Duration)",
        "struct dingtalk_conference::Client  [derive(Clone), non_exhaustive]",
    ] {
        assert!(a.lines().any(|l| l == expected), "{expected}\n{a}");
    }
    assert!(!a.contains("Client::private"), "{a}");
    Ok(())
}
