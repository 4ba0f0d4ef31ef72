//! `cargo xtask codegen` as a library: deterministic output, clear errors on bad specs, and a
//! drift check whose message shows the change and names the fix.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use dingtalk_conference_testkit::scratch::ScratchDir;
use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::spec::{fixture_path, spec_path};
use xtask::{CodegenError, OUTPUT_PATH, SPEC_PATH, workspace_root};

/// Runs the generator on a fixture and returns its error; a panic or a success fails the test.
fn generation_error(fixture: &str) -> CodegenError {
    let path = fixture_path(fixture);
    let outcome = catch_unwind(AssertUnwindSafe(|| xtask::generate(&path)));
    match outcome {
        Ok(Err(error)) => error,
        Ok(Ok(_)) => panic!("{fixture}: generation succeeded, but the fixture is broken"),
        Err(_) => panic!("{fixture}: the generator panicked instead of returning an error"),
    }
}

fn assert_mentions(error: &CodegenError, fixture: &str, words: &[&str]) {
    let message = error.to_string();
    assert!(
        message.contains(&format!("tests/fixtures/specs/{fixture}")),
        "the message does not name the file {fixture}: {message}"
    );
    for word in words {
        assert!(
            message.contains(word),
            "the message does not mention {word:?}: {message}"
        );
    }
}

#[test]
fn codegen_output_is_byte_for_byte_deterministic() -> Result<(), BoxError> {
    let first = xtask::generate(&spec_path())?;
    let second = xtask::generate(&spec_path())?;
    assert!(first == second, "two generations from the same spec differ");
    Ok(())
}

#[test]
fn committed_generated_files_are_what_the_spec_generates() -> Result<(), BoxError> {
    let root = workspace_root();
    xtask::check_all(&root.join(SPEC_PATH), &root)?;
    Ok(())
}

/// A spec change that only the constants module carries (a server URL) makes exactly that file
/// stale, so `cargo xtask codegen --check` (which compares every generated file) refuses it.
#[test]
fn a_changed_server_url_makes_only_the_constants_module_stale() -> Result<(), BoxError> {
    let root = workspace_root();
    let spec = std::fs::read_to_string(spec_path())?;
    let changed = spec.replace("https://api.dingtalk.com", "https://api.dingtalk.cn");
    assert_ne!(
        spec, changed,
        "update this test: the China URL is not in the spec"
    );
    let mut stale = Vec::new();
    for file in xtask::generate_all_from_str(&changed, SPEC_PATH)? {
        if std::fs::read_to_string(root.join(file.path))? != file.text {
            stale.push(file.path);
            assert!(
                file.text
                    .contains("pub const CHINA_BASE_URL: &str = \"https://api.dingtalk.cn\";"),
                "{}",
                file.text
            );
        }
    }
    assert_eq!(stale, [xtask::CONSTANTS_PATH]);
    Ok(())
}

/// DingTalk's error codes live in the spec (`components.x-error-codes`): a changed hint makes
/// exactly the facade's generated `ErrorCode` stale, so `--check` refuses a hand edit of either.
#[test]
fn a_changed_error_code_hint_makes_only_the_error_code_module_stale() -> Result<(), BoxError> {
    let root = workspace_root();
    let spec = std::fs::read_to_string(spec_path())?;
    let changed = spec.replace("hint: pass a conference id", "hint: pass the conference id");
    assert_ne!(
        spec, changed,
        "update this test: the missingRoomId hint is not in the spec"
    );
    let mut stale = Vec::new();
    for file in xtask::generate_all_from_str(&changed, SPEC_PATH)? {
        if std::fs::read_to_string(root.join(file.path))? != file.text {
            stale.push(file.path);
            assert!(
                file.text
                    .contains("Self::MissingRoomId => Some(\"pass the conference id\"),"),
                "{}",
                file.text
            );
        }
    }
    assert_eq!(stale, [xtask::ERROR_CODES_PATH]);
    Ok(())
}

/// A throttling code with its own hint, or a code declared twice, is refused with the entry.
#[test]
fn contradictory_error_codes_are_refused_naming_the_entry() -> Result<(), BoxError> {
    let spec = std::fs::read_to_string(spec_path())?;
    for (from, to, words) in [
        (
            "        variant: SystemBusy\n",
            "        variant: SystemBusy\n        hint: wait\n",
            &["x-error-codes", "system.busy", "throttling-hint"][..],
        ),
        (
            "aliases: [systemBusy]",
            "aliases: [systemBusy, paramError]",
            &["x-error-codes", "paramError", "ParamError"][..],
        ),
        (
            "        variant: MissingBody\n",
            "        variant: MissingBody\n        retry: true\n",
            &["x-error-codes", "Missingbody", "unknown key `retry`"][..],
        ),
    ] {
        let changed = spec.replacen(from, to, 1);
        assert_ne!(
            spec, changed,
            "update this test: {from:?} is not in the spec"
        );
        let Err(error) = xtask::generate_all_from_str(&changed, SPEC_PATH) else {
            panic!("{to:?} was accepted");
        };
        let message = error.to_string();
        for word in words {
            assert!(message.contains(word), "{word:?} not in {message}");
        }
    }
    Ok(())
}

#[test]
fn generated_file_header_names_the_command_and_the_spec() -> Result<(), BoxError> {
    let generated = xtask::generate(&spec_path())?;
    let mut lines = generated.lines();
    assert_eq!(
        lines.next(),
        Some("// @generated by `cargo xtask codegen` from spec/dingtalk-conference.yaml.")
    );
    let second = lines.next().unwrap_or_default();
    assert!(second.contains("Do not edit"), "{second}");
    Ok(())
}

/// `cargo fmt --check` runs in CI beside `cargo xtask codegen --check`; if rustfmt reformatted
/// the generated file, one of the two would always fail.
#[test]
fn rustfmt_leaves_the_generated_file_untouched() -> Result<(), BoxError> {
    let generated = xtask::generate(&spec_path())?;
    let dir = ScratchDir::new("rustfmt")?;
    let file = dir.join("generated.rs");
    std::fs::write(&file, &generated)?;
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let status = std::process::Command::new(&rustfmt)
        .args(["--edition", "2024"])
        .arg(&file)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", rustfmt.to_string_lossy()))?;
    assert!(status.success(), "rustfmt failed: {status}");
    let after = std::fs::read_to_string(&file)?;
    assert!(after == generated, "rustfmt reformatted the generated file");
    Ok(())
}

#[test]
fn the_fixtures_base_spec_generates_so_each_broken_fixture_fails_for_its_own_reason()
-> Result<(), BoxError> {
    let generated = xtask::generate(&fixture_path("minimal-valid.yaml"))?;
    assert!(generated.contains("pub async fn get_thing"));
    Ok(())
}

#[test]
fn yaml_syntax_error_is_reported_with_the_file_and_position() {
    let error = generation_error("yaml-syntax-error.yaml");
    assert!(matches!(error, CodegenError::Yaml { .. }), "{error:?}");
    assert_mentions(
        &error,
        "yaml-syntax-error.yaml",
        &["not valid YAML", "line"],
    );
}

#[test]
fn openapi_3_1_is_refused_with_the_supported_version() {
    let error = generation_error("openapi-3.1.yaml");
    assert!(matches!(error, CodegenError::Spec { .. }), "{error:?}");
    assert_mentions(
        &error,
        "openapi-3.1.yaml",
        &["3.1.0", "3.0.x", "openapi: 3.0.3"],
    );
}

#[test]
fn missing_openapi_field_is_refused_as_not_an_openapi_document() {
    let error = generation_error("missing-openapi-field.yaml");
    assert!(matches!(error, CodegenError::Spec { .. }), "{error:?}");
    assert_mentions(
        &error,
        "missing-openapi-field.yaml",
        &["missing `openapi`", "not an OpenAPI document"],
    );
}

#[test]
fn missing_operation_id_is_refused_naming_the_operation() {
    let error = generation_error("missing-operation-id.yaml");
    assert!(matches!(error, CodegenError::Spec { .. }), "{error:?}");
    assert_mentions(
        &error,
        "missing-operation-id.yaml",
        &["GET /things/{id}", "operationId"],
    );
}

#[test]
fn two_error_schemas_on_one_operation_are_refused_before_progenitor_can_panic() {
    let error = generation_error("two-error-schemas.yaml");
    // `Spec`, not `Generator`: the spec check caught it, not the panic guard around progenitor.
    assert!(matches!(error, CodegenError::Spec { .. }), "{error:?}");
    assert_mentions(
        &error,
        "two-error-schemas.yaml",
        &[
            "getThing",
            "error responses use different schemas",
            "#/components/schemas/BadRequest",
            "#/components/schemas/NotFound",
        ],
    );
}

#[test]
fn default_error_response_is_refused_with_advice_to_use_status_ranges() {
    let error = generation_error("default-error-response.yaml");
    assert!(matches!(error, CodegenError::Spec { .. }), "{error:?}");
    assert_mentions(
        &error,
        "default-error-response.yaml",
        &["getThing", "success responses use different schemas", "4XX"],
    );
}

/// The real spec with `activeNum` changed from int32 to string, beside a copy of the committed
/// generated file, in a scratch directory.
fn stale_checkout() -> Result<(ScratchDir, std::path::PathBuf, std::path::PathBuf), BoxError> {
    let spec = std::fs::read_to_string(spec_path())?;
    let original = "        activeNum:\n          type: integer\n          format: int32\n";
    assert_eq!(
        spec.matches(original).count(),
        1,
        "the spec no longer declares activeNum as expected; update this test"
    );
    let changed = spec.replacen(original, "        activeNum:\n          type: string\n", 1);

    let dir = ScratchDir::new("stale")?;
    let spec_copy = dir.join("dingtalk-conference.yaml");
    let output_copy = dir.join("generated.rs");
    std::fs::write(&spec_copy, changed)?;
    std::fs::copy(workspace_root().join(OUTPUT_PATH), &output_copy)?;
    Ok((dir, spec_copy, output_copy))
}

fn stale_error(spec: &Path, output: &Path) -> Result<CodegenError, BoxError> {
    match xtask::check(spec, output) {
        Err(error @ CodegenError::Stale { .. }) => Ok(error),
        Err(other) => Err(format!("expected a stale error, got: {other}").into()),
        Ok(()) => Err("the check passed although the spec changed".into()),
    }
}

#[test]
fn changed_field_type_makes_check_fail_with_a_diff_of_that_field() -> Result<(), BoxError> {
    let (_dir, spec, output) = stale_checkout()?;
    let message = stale_error(&spec, &output)?.to_string();
    assert!(
        message.contains("\n-        pub active_num: ::std::option::Option<i32>,\n"),
        "{message}"
    );
    assert!(
        message
            .contains("\n+        pub active_num: ::std::option::Option<::std::string::String>,\n"),
        "{message}"
    );
    Ok(())
}

#[test]
fn changed_field_type_makes_check_name_the_regenerate_command() -> Result<(), BoxError> {
    let (_dir, spec, output) = stale_checkout()?;
    let message = stale_error(&spec, &output)?.to_string();
    assert!(message.contains("Run `cargo xtask codegen`"), "{message}");
    assert!(message.contains("is stale"), "{message}");
    Ok(())
}

#[test]
fn changed_field_type_diff_changes_nothing_but_that_field_and_the_header() -> Result<(), BoxError> {
    let (_dir, spec, output) = stale_checkout()?;
    let CodegenError::Stale { diff, .. } = stale_error(&spec, &output)? else {
        return Err("not a stale error".into());
    };
    let changed: Vec<&str> = diff
        .lines()
        .filter(|line| {
            (line.starts_with('-') && !line.starts_with("---"))
                || (line.starts_with('+') && !line.starts_with("+++"))
        })
        .collect();
    // The header names the spec it came from, and the copy lives in a scratch directory.
    assert_eq!(changed.len(), 4, "{diff}");
    assert!(changed[0].starts_with("-// @generated by"), "{diff}");
    assert!(changed[1].starts_with("+// @generated by"), "{diff}");
    assert_eq!(
        &changed[2..],
        [
            "-        pub active_num: ::std::option::Option<i32>,",
            "+        pub active_num: ::std::option::Option<::std::string::String>,",
        ],
        "{diff}"
    );
    Ok(())
}
