//! Every example in the spec is an instance of its schema, declares no key the schema lacks,
//! and the list of unauthenticated operations agrees with the spec's `security: []`.

use std::collections::BTreeSet;

use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::schema::Validator;
use dingtalk_conference_tests::spec::{SpecExample, all_example_pointers, examples, load_spec};
use serde_json::{Value, json};

fn spec_examples() -> Result<(Value, Vec<SpecExample>), BoxError> {
    let spec = load_spec()?;
    let found = examples(&spec);
    Ok((spec, found))
}

/// `(label, violations)` for every example that breaks its schema under `validator`.
fn failures(validator: Validator<'_>, found: &[SpecExample]) -> Vec<String> {
    found
        .iter()
        .filter_map(|example| {
            let violations = validator.validate(&example.schema, &example.value);
            (!violations.is_empty()).then(|| {
                let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
                format!("{}: {}", example.label, list.join("; "))
            })
        })
        .collect()
}

#[test]
fn every_example_in_the_spec_is_found_and_checked() -> Result<(), BoxError> {
    let (spec, found) = spec_examples()?;
    let checked: BTreeSet<&str> = found.iter().map(|e| e.pointer.as_str()).collect();
    let present = all_example_pointers(&spec);
    let missed: Vec<&String> = present
        .iter()
        .filter(|p| !checked.contains(p.as_str()))
        .collect();
    assert!(missed.is_empty(), "examples not validated: {missed:#?}");
    let labels: Vec<&str> = found.iter().map(|e| e.label.as_str()).collect();
    assert_snapshot_in_place!(
        assert_snapshot,
        "every_example_in_the_spec_is_found_and_checked",
        labels.join("\n")
    );
    Ok(())
}

/// The completeness check above can fail: an example where the walker does not look (here, a
/// response header) is found by the plain key search and reported as unchecked.
#[test]
fn an_example_the_walker_does_not_reach_is_noticed() {
    let document = json!({
        "paths": { "/x": { "get": { "responses": { "200": {
            "description": "ok",
            "headers": { "x-acs-request-id": {
                "schema": { "type": "string" },
                "example": "8B1C0D3E"
            } }
        } } } } }
    });
    let checked: Vec<String> = examples(&document).into_iter().map(|e| e.pointer).collect();
    assert_eq!(checked, Vec::<String>::new());
    assert_eq!(
        all_example_pointers(&document),
        ["/paths/~1x/get/responses/200/headers/x-acs-request-id/example"]
    );
}

#[test]
fn every_example_in_the_spec_validates_against_its_schema() -> Result<(), BoxError> {
    let (spec, found) = spec_examples()?;
    let failed = failures(Validator::new(&spec), &found);
    assert!(failed.is_empty(), "{failed:#?}");
    Ok(())
}

/// DingTalk's field table is the source of truth: a key in an example that the schema does not
/// declare means the schema lost a field or the example invented one.
#[test]
fn every_example_key_is_a_declared_property() -> Result<(), BoxError> {
    let (spec, found) = spec_examples()?;
    let failed = failures(
        Validator::new(&spec).rejecting_undeclared_properties(),
        &found,
    );
    assert!(failed.is_empty(), "{failed:#?}");
    Ok(())
}

/// A small document in the spec's own shape (the negative tests must not break when the spec
/// changes): a conference-like object with int32/int64 fields, a required code, an array of
/// referenced items and a free-form object.
fn fixture_document() -> Value {
    json!({ "components": { "schemas": {
        "Info": {
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": { "type": "string" },
                "activeNum": { "type": "integer", "format": "int32" },
                "startTime": { "type": "integer", "format": "int64" },
                "duration": { "type": "integer", "format": "int64", "minimum": 0, "maximum": 100 },
                "settings": { "type": "array", "items": { "$ref": "#/components/schemas/Setting" } },
                "detail": { "type": "object", "additionalProperties": true }
            }
        },
        "Setting": {
            "type": "object",
            "properties": { "autoOpenMode": { "type": "integer", "format": "int32" } }
        }
    } } })
}

/// An instance of `Info` that conforms; each negative test spoils it one way.
fn valid_info() -> Value {
    json!({
        "code": "ok",
        "activeNum": 10,
        "startTime": 1_664_175_001_000_i64,
        "settings": [{ "autoOpenMode": 0 }],
        "detail": { "requiredScopes": ["VideoConference.Conference.Read"] }
    })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The violations of `instance` against the fixture's `Info`, as text.
fn info_violations(validator: fn(&Value) -> Validator<'_>, instance: &Value) -> Vec<String> {
    let document = fixture_document();
    validator(&document)
        .validate(&schema("Info"), instance)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn lenient(document: &Value) -> Validator<'_> {
    Validator::new(document)
}

fn strict(document: &Value) -> Validator<'_> {
    Validator::new(document).rejecting_undeclared_properties()
}

#[test]
fn validator_accepts_a_conforming_instance() {
    assert_eq!(info_violations(strict, &valid_info()), Vec::<String>::new());
}

#[test]
fn validator_rejects_a_wrong_type() {
    let mut info = valid_info();
    info["activeNum"] = json!("10");
    assert_eq!(
        info_violations(lenient, &info),
        ["at /activeNum: expected integer, found string \"10\""]
    );
}

#[test]
fn validator_rejects_a_wrong_type_inside_a_referenced_array_item() {
    let mut info = valid_info();
    info["settings"][0]["autoOpenMode"] = json!(true);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /settings/0/autoOpenMode: expected integer, found boolean true"]
    );
}

#[test]
fn validator_rejects_a_fraction_where_an_integer_is_required() {
    let mut info = valid_info();
    info["activeNum"] = json!(1.5);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /activeNum: expected integer, found number 1.5"]
    );
}

#[test]
fn validator_rejects_a_missing_required_field() {
    let mut info = valid_info();
    if let Some(fields) = info.as_object_mut() {
        fields.remove("code");
    }
    assert_eq!(
        info_violations(lenient, &info),
        ["at /: missing required property `code`"]
    );
}

#[test]
fn validator_rejects_an_out_of_range_int32() {
    let mut info = valid_info();
    info["activeNum"] = json!(i64::from(i32::MAX) + 1);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /activeNum: 2147483648 is out of range for int32"]
    );
}

#[test]
fn validator_rejects_an_out_of_range_int64() {
    let mut info = valid_info();
    info["startTime"] = json!(u64::MAX);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /startTime: 18446744073709551615 is out of range for int64"]
    );
}

#[test]
fn validator_rejects_values_outside_minimum_and_maximum() {
    let mut info = valid_info();
    info["duration"] = json!(-1);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /duration: -1 breaks `minimum: 0`"]
    );
    info["duration"] = json!(101);
    assert_eq!(
        info_violations(lenient, &info),
        ["at /duration: 101 breaks `maximum: 100`"]
    );
    info["duration"] = json!(100);
    assert_eq!(info_violations(lenient, &info), Vec::<String>::new());
}

#[test]
fn validator_rejects_an_undeclared_key_only_when_asked_to() {
    let mut info = valid_info();
    info["meetingNotes"] = json!("not in DingTalk's field table");
    assert_eq!(info_violations(lenient, &info), Vec::<String>::new());
    assert_eq!(
        info_violations(strict, &info),
        ["at /meetingNotes: property `meetingNotes` is not declared in the schema"]
    );
}

#[test]
fn validator_allows_any_key_where_the_schema_says_additional_properties_true() {
    let mut info = valid_info();
    info["detail"] = json!({ "anything": { "nested": [1, 2] } });
    assert_eq!(info_violations(strict, &info), Vec::<String>::new());
}

#[test]
fn validator_rejects_undeclared_keys_where_additional_properties_is_false() {
    let document = json!({});
    let schema = json!({
        "type": "object",
        "properties": { "a": { "type": "string" } },
        "additionalProperties": false
    });
    let violations: Vec<String> = Validator::new(&document)
        .validate(&schema, &json!({ "a": "x", "b": 1 }))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        violations,
        ["at /b: property `b` is not declared and `additionalProperties` is false"]
    );
}

#[test]
fn validator_reports_keywords_it_does_not_understand_instead_of_passing_them() {
    let document = json!({});
    let schema = json!({ "type": "string", "multipleOf": 3 });
    let violations: Vec<String> = Validator::new(&document)
        .validate(&schema, &json!("abcdef"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        violations,
        ["at /: unsupported schema keyword `multipleOf`"]
    );
    let pattern = json!({ "type": "string", "pattern": "^a+$" });
    let violations: Vec<String> = Validator::new(&document)
        .validate(&pattern, &json!("aa"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(violations, ["at /: unsupported `pattern: ^a+$`"]);
}

#[test]
fn validator_reports_an_unresolvable_ref() {
    let document = json!({ "components": { "schemas": {} } });
    let violations: Vec<String> = Validator::new(&document)
        .validate(&schema("Nowhere"), &json!({}))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        violations,
        [
            "at /: cannot resolve `$ref: \"#/components/schemas/Nowhere\"` (only `#/components/schemas/...` is supported)"
        ]
    );
}

/// The hooks compare against `OperationInfo::operation_id`; a name progenitor does not emit
/// would silently send the token after all.
#[test]
fn unauthenticated_operations_are_operation_ids_the_generated_client_emits() -> Result<(), BoxError>
{
    let generated = std::fs::read_to_string(xtask::workspace_root().join(xtask::OUTPUT_PATH))?;
    for name in dingtalk_conference_api::UNAUTHENTICATED_OPERATIONS {
        assert!(
            generated.contains(&format!("operation_id: \"{name}\"")),
            "the generated client has no operation `{name}`"
        );
    }
    Ok(())
}

#[test]
fn validator_checks_string_lengths_in_characters_blank_patterns_and_list_lengths() {
    let document = json!({});
    let check = |schema: Value, instance: Value| -> Vec<String> {
        Validator::new(&document)
            .validate(&schema, &instance)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let title = json!({ "type": "string", "minLength": 1, "maxLength": 2, "pattern": "\\S" });
    assert!(check(title.clone(), json!("标题")).is_empty());
    assert_eq!(
        check(title.clone(), json!("标题x")),
        ["at /: 3 characters, more than maxLength 2"]
    );
    assert_eq!(
        check(title.clone(), json!("")),
        [
            "at /: 0 characters, fewer than minLength 1",
            "at /: a blank string breaks `pattern: \\S`"
        ]
    );
    let list = json!({ "type": "array", "maxItems": 1 });
    assert_eq!(
        check(list, json!([1, 2])),
        ["at /: 2 items, more than maxItems 1"]
    );
}
