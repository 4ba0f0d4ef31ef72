//! A small, strict validator for the subset of OpenAPI 3.0 Schema Objects this project's spec
//! uses.
//!
//! Supported: `type` (`object`, `array`, `string`, `integer`, `number`, `boolean`), `format`
//! `int32`/`int64` (range-checked) and `float`/`double`, `minimum`/`maximum` (inclusive),
//! `minLength`/`maxLength` (in characters), `pattern` (`\S` only: not blank),
//! `minItems`/`maxItems`, `properties`, `required`,
//! `additionalProperties` (`true`, `false` or a schema), `items`, `enum`, `nullable`, and `$ref`
//! to `#/components/schemas/...`. The annotations `description`, `title`, `example` and
//! `deprecated` are ignored.
//!
//! Anything else is reported as a violation rather than silently ignored: a validator that
//! passes what it does not understand would make the example tests worthless. Grow it when the
//! spec needs more.

use std::fmt;

use serde_json::Value;

use crate::spec::escape;

/// Keywords this validator checks.
const CHECKED: &[&str] = &[
    "type",
    "format",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "nullable",
    "minimum",
    "maximum",
    "$ref",
];
/// Keywords that carry no validation meaning.
const ANNOTATIONS: &[&str] = &["description", "title", "example", "deprecated", "default"];
/// Deeper than any sane schema; guards against `$ref` cycles with no data to consume.
const MAX_DEPTH: usize = 64;

/// Where an instance breaks its schema, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance (`""` is the instance itself).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.at.is_empty() { "/" } else { &self.at };
        write!(f, "at {at}: {}", self.message)
    }
}

/// Validates instances against schemas of one OpenAPI document (which `$ref`s resolve into).
#[derive(Debug, Clone, Copy)]
pub struct Validator<'a> {
    document: &'a Value,
    reject_undeclared: bool,
}

impl<'a> Validator<'a> {
    /// A validator for schemas in `document` (the whole OpenAPI document, for `$ref`s).
    pub fn new(document: &'a Value) -> Self {
        Self {
            document,
            reject_undeclared: false,
        }
    }

    /// Also reports object keys that the schema does not declare in `properties`, unless the
    /// schema says `additionalProperties` explicitly. OpenAPI allows such keys by default; for
    /// the spec's own examples an undeclared key means the schema or the example is wrong.
    pub fn rejecting_undeclared_properties(mut self) -> Self {
        self.reject_undeclared = true;
        self
    }

    /// Every way `instance` breaks `schema`; empty when it conforms.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<Violation> {
        let mut violations = Vec::new();
        self.check(schema, instance, "", 0, &mut violations);
        violations
    }

    fn check(
        &self,
        schema: &Value,
        instance: &Value,
        at: &str,
        depth: usize,
        out: &mut Vec<Violation>,
    ) {
        let fail = |out: &mut Vec<Violation>, message: String| {
            out.push(Violation {
                at: at.to_string(),
                message,
            });
        };
        if depth > MAX_DEPTH {
            fail(
                out,
                format!("schema nesting deeper than {MAX_DEPTH} (a `$ref` cycle?)"),
            );
            return;
        }
        let Some(schema) = schema.as_object() else {
            fail(out, format!("the schema is not an object: {schema}"));
            return;
        };

        if let Some(reference) = schema.get("$ref") {
            // OpenAPI 3.0: a `$ref` replaces the whole object; siblings are ignored.
            let target = reference
                .as_str()
                .filter(|r| r.starts_with("#/components/schemas/"))
                .and_then(|r| crate::spec::resolve_ref(self.document, r));
            match target {
                Some(target) => self.check(target, instance, at, depth + 1, out),
                None => fail(
                    out,
                    format!(
                        "cannot resolve `$ref: {reference}` (only `#/components/schemas/...` is supported)"
                    ),
                ),
            }
            return;
        }

        for keyword in schema.keys() {
            // Vendor extensions (`x-enum`, `x-unit`, ...) guide the generators and constrain
            // nothing.
            if !CHECKED.contains(&keyword.as_str())
                && !ANNOTATIONS.contains(&keyword.as_str())
                && !keyword.starts_with("x-")
            {
                fail(out, format!("unsupported schema keyword `{keyword}`"));
            }
        }

        if instance.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }

        if let Some(expected) = schema.get("type") {
            let kind = expected.as_str().unwrap_or_default();
            let matches = match kind {
                "object" => instance.is_object(),
                "array" => instance.is_array(),
                "string" => instance.is_string(),
                "boolean" => instance.is_boolean(),
                "number" => instance.is_number(),
                // JSON has one number type; an integer is one with no fractional part that
                // serde_json could read as a whole number.
                "integer" => instance.is_i64() || instance.is_u64(),
                _ => {
                    fail(out, format!("unsupported `type: {expected}`"));
                    return;
                }
            };
            if !matches {
                fail(
                    out,
                    format!("expected {kind}, found {}", describe(instance)),
                );
                return;
            }
        }

        if let Some(message) = schema
            .get("format")
            .and_then(|format| check_format(format, instance))
        {
            fail(out, message);
        }

        for (keyword, too_far) in [
            ("minimum", std::cmp::Ordering::Less),
            ("maximum", std::cmp::Ordering::Greater),
        ] {
            let (Some(bound), Some(n)) = (schema.get(keyword), instance.as_number()) else {
                continue;
            };
            match (bound.as_f64(), n.as_f64()) {
                (Some(bound), Some(n)) if n.partial_cmp(&bound) == Some(too_far) => {
                    fail(out, format!("{instance} breaks `{keyword}: {bound}`"));
                }
                (None, _) => fail(out, format!("`{keyword}` must be a number, found {bound}")),
                _ => {}
            }
        }

        if let Some(text) = instance.as_str() {
            let chars = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && chars < min
            {
                fail(
                    out,
                    format!("{chars} characters, fewer than minLength {min}"),
                );
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && chars > max
            {
                fail(
                    out,
                    format!("{chars} characters, more than maxLength {max}"),
                );
            }
            match schema.get("pattern").and_then(Value::as_str) {
                None => {}
                Some(r"\S") if text.trim().is_empty() => {
                    fail(out, "a blank string breaks `pattern: \\S`".to_string());
                }
                Some(r"\S") => {}
                Some(other) => fail(out, format!("unsupported `pattern: {other}`")),
            }
        }

        if let Some(allowed) = schema.get("enum") {
            match allowed.as_array() {
                Some(values) if values.contains(instance) => {}
                Some(_) => fail(out, format!("{instance} is not one of {allowed}")),
                None => fail(out, format!("`enum` must be an array, found {allowed}")),
            }
        }

        if let Some(object) = instance.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = name.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    fail(out, format!("missing required property `{name}`"));
                }
            }
            for (key, value) in object {
                let child_at = format!("{at}/{}", escape(key));
                if let Some(property) = properties.and_then(|p| p.get(key)) {
                    self.check(property, value, &child_at, depth + 1, out);
                    continue;
                }
                match schema.get("additionalProperties") {
                    Some(Value::Bool(true)) => {}
                    Some(Value::Bool(false)) => out.push(Violation {
                        at: child_at,
                        message: format!(
                            "property `{key}` is not declared and `additionalProperties` is false"
                        ),
                    }),
                    Some(additional) => {
                        self.check(additional, value, &child_at, depth + 1, out);
                    }
                    None if self.reject_undeclared => out.push(Violation {
                        at: child_at,
                        message: format!("property `{key}` is not declared in the schema"),
                    }),
                    None => {}
                }
            }
        }

        if let (Some(items), Some(elements)) = (schema.get("items"), instance.as_array()) {
            for (i, element) in elements.iter().enumerate() {
                self.check(items, element, &format!("{at}/{i}"), depth + 1, out);
            }
        }
        if let (Some(min), Some(elements)) = (
            schema.get("minItems").and_then(Value::as_u64),
            instance.as_array(),
        ) && (elements.len() as u64) < min
        {
            out.push(Violation {
                at: at.to_string(),
                message: format!("{} items, fewer than minItems {min}", elements.len()),
            });
        }
        if let (Some(max), Some(elements)) = (
            schema.get("maxItems").and_then(Value::as_u64),
            instance.as_array(),
        ) && (elements.len() as u64) > max
        {
            out.push(Violation {
                at: at.to_string(),
                message: format!("{} items, more than maxItems {max}", elements.len()),
            });
        }
    }
}

/// Why `instance` breaks `format`, if it does.
fn check_format(format: &Value, instance: &Value) -> Option<String> {
    let in_range = |min: i128, max: i128| {
        let n = instance
            .as_i64()
            .map(i128::from)
            .or_else(|| instance.as_u64().map(i128::from));
        n.is_some_and(|n| (min..=max).contains(&n))
    };
    match format.as_str() {
        Some("int32") if instance.is_number() && !in_range(i32::MIN.into(), i32::MAX.into()) => {
            Some(format!("{instance} is out of range for int32"))
        }
        Some("int64") if instance.is_number() && !in_range(i64::MIN.into(), i64::MAX.into()) => {
            Some(format!("{instance} is out of range for int64"))
        }
        // In range, or not a number at all (which `type` reports); any JSON number is a valid
        // float or double for an example's purposes.
        Some("int32" | "int64" | "float" | "double") => None,
        _ => Some(format!("unsupported `format: {format}`")),
    }
}

/// The JSON kind of a value, with the value itself when it is short.
fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match value {
        Value::Array(_) | Value::Object(_) => kind.to_string(),
        _ => format!("{kind} {value}"),
    }
}
