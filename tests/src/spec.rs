//! The hand-written OpenAPI document, loaded as plain JSON, and every `example` in it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::BoxError;

/// The workspace root, and the spec (`spec/dingtalk-conference.yaml` under it): the test kit's.
pub use dingtalk_conference_testkit::spec::{spec_path, workspace_root};

/// A spec fixture: `tests/fixtures/specs/<name>`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/specs")
        .join(name)
}

/// Parses the spec with the same YAML crate the generator uses, into untyped JSON, so that tests
/// see the document exactly as written (including examples, which typed OpenAPI models drop or
/// reshape).
pub fn load_spec() -> Result<Value, BoxError> {
    let path = spec_path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(value)
}

/// Follows a local `$ref` (`#/components/...`) inside `spec`.
pub fn resolve_ref<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

/// One example in the spec and the schema it claims to be an instance of.
#[derive(Debug, Clone)]
pub struct SpecExample {
    /// A readable location, e.g. `GET /v1.0/oauth2/accessToken: response 200 application/json`.
    pub label: String,
    /// The JSON pointer of the `example` key (or of the named example's `value`).
    pub pointer: String,
    /// The example value.
    pub value: Value,
    /// The schema it must match (possibly a `$ref`).
    pub schema: Value,
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every example in the spec: request bodies, parameters, responses (inline and under
/// `components/responses`), and `example` keywords inside schemas. Paths, status codes and
/// component names come in sorted order (the YAML is read into sorted JSON maps).
///
/// A response that is a `$ref` is not walked at its use site: the component it points to is
/// walked once under `components`.
pub fn examples(spec: &Value) -> Vec<SpecExample> {
    let mut found = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (route, item) in paths {
            let item_ptr = format!("/paths/{}", escape(route));
            for (method, op) in item.as_object().into_iter().flatten() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let op_ptr = format!("{item_ptr}/{method}");
                let op_label = format!("{} {route}", method.to_uppercase());
                walk_operation(spec, op, &op_ptr, &op_label, &mut found);
            }
        }
    }
    if let Some(components) = spec.get("components").and_then(Value::as_object) {
        for (name, response) in object_entries(components.get("responses")) {
            walk_content(
                spec,
                response,
                &format!("/components/responses/{}", escape(name)),
                &format!("components/responses/{name}"),
                &mut found,
            );
        }
        for (name, body) in object_entries(components.get("requestBodies")) {
            walk_content(
                spec,
                body,
                &format!("/components/requestBodies/{}", escape(name)),
                &format!("components/requestBodies/{name}"),
                &mut found,
            );
        }
        for (name, parameter) in object_entries(components.get("parameters")) {
            walk_parameter(
                spec,
                parameter,
                &format!("/components/parameters/{}", escape(name)),
                &format!("components/parameters/{name}"),
                &mut found,
            );
        }
        for (name, schema) in object_entries(components.get("schemas")) {
            walk_schema(
                schema,
                &format!("/components/schemas/{}", escape(name)),
                &format!("components/schemas/{name}"),
                &mut found,
            );
        }
    }
    found
}

/// The JSON pointers of every key named `example` in the document, wherever it is, except
/// where `example` is itself the name of a declared property. [`examples`] must find all of
/// these, or it is missing a place where examples live.
pub fn all_example_pointers(spec: &Value) -> Vec<String> {
    fn walk(value: &Value, ptr: &str, parent_key: Option<&str>, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_ptr = format!("{ptr}/{}", escape(key));
                    if key == "example" && parent_key != Some("properties") {
                        out.push(child_ptr);
                        // An example's own keys are data, not spec structure.
                        continue;
                    }
                    if key == "examples" && parent_key != Some("properties") {
                        for (name, named) in child.as_object().into_iter().flatten() {
                            if named.get("value").is_some() {
                                out.push(format!("{child_ptr}/{}/value", escape(name)));
                            }
                        }
                        continue;
                    }
                    walk(child, &child_ptr, Some(key), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{ptr}/{i}"), None, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(spec, "", None, &mut out);
    out
}

fn walk_operation(spec: &Value, op: &Value, ptr: &str, label: &str, found: &mut Vec<SpecExample>) {
    for (i, parameter) in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        walk_parameter(
            spec,
            parameter,
            &format!("{ptr}/parameters/{i}"),
            &format!("{label}: parameter {i}"),
            found,
        );
    }
    if let Some(body) = op.get("requestBody") {
        walk_content(
            spec,
            body,
            &format!("{ptr}/requestBody"),
            &format!("{label}: request body"),
            found,
        );
    }
    for (status, response) in object_entries(op.get("responses")) {
        walk_content(
            spec,
            response,
            &format!("{ptr}/responses/{}", escape(status)),
            &format!("{label}: response {status}"),
            found,
        );
    }
}

fn walk_parameter(
    spec: &Value,
    parameter: &Value,
    ptr: &str,
    label: &str,
    found: &mut Vec<SpecExample>,
) {
    if parameter.get("$ref").is_some() {
        return;
    }
    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
    let label = format!("{label} `{name}`");
    if let Some(schema) = parameter.get("schema") {
        push_examples(spec, parameter, schema, ptr, &label, found);
        walk_schema(schema, &format!("{ptr}/schema"), &label, found);
    }
    // A parameter may describe itself with `content` instead of `schema`.
    walk_content(spec, parameter, ptr, &label, found);
}

/// Walks `content.<media type>` of a response, request body or parameter.
fn walk_content(
    spec: &Value,
    holder: &Value,
    ptr: &str,
    label: &str,
    found: &mut Vec<SpecExample>,
) {
    if holder.get("$ref").is_some() {
        return;
    }
    for (media_type, media) in object_entries(holder.get("content")) {
        let media_ptr = format!("{ptr}/content/{}", escape(media_type));
        let media_label = format!("{label} {media_type}");
        if let Some(schema) = media.get("schema") {
            push_examples(spec, media, schema, &media_ptr, &media_label, found);
            walk_schema(schema, &format!("{media_ptr}/schema"), &media_label, found);
        }
    }
}

/// Pushes `holder.example` and each `holder.examples.<name>.value` as instances of `schema`.
fn push_examples(
    spec: &Value,
    holder: &Value,
    schema: &Value,
    ptr: &str,
    label: &str,
    found: &mut Vec<SpecExample>,
) {
    if let Some(example) = holder.get("example") {
        found.push(SpecExample {
            label: label.to_string(),
            pointer: format!("{ptr}/example"),
            value: example.clone(),
            schema: schema.clone(),
        });
    }
    for (name, named) in object_entries(holder.get("examples")) {
        let named = match named.get("$ref").and_then(Value::as_str) {
            Some(reference) => resolve_ref(spec, reference).unwrap_or(named),
            None => named,
        };
        if let Some(value) = named.get("value") {
            found.push(SpecExample {
                label: format!("{label} (example `{name}`)"),
                pointer: format!("{ptr}/examples/{}/value", escape(name)),
                value: value.clone(),
                schema: schema.clone(),
            });
        }
    }
}

/// Pushes the `example` of a schema object and of every schema nested in it.
fn walk_schema(schema: &Value, ptr: &str, label: &str, found: &mut Vec<SpecExample>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(example) = map.get("example") {
        found.push(SpecExample {
            label: format!("{label} (schema example)"),
            pointer: format!("{ptr}/example"),
            value: example.clone(),
            schema: schema.clone(),
        });
    }
    for (name, property) in object_entries(map.get("properties")) {
        walk_schema(
            property,
            &format!("{ptr}/properties/{}", escape(name)),
            &format!("{label}.{name}"),
            found,
        );
    }
    if let Some(items) = map.get("items") {
        walk_schema(items, &format!("{ptr}/items"), &format!("{label}[]"), found);
    }
    if let Some(additional) = map.get("additionalProperties") {
        walk_schema(
            additional,
            &format!("{ptr}/additionalProperties"),
            &format!("{label}.*"),
            found,
        );
    }
}

fn object_entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value.and_then(Value::as_object).into_iter().flatten()
}

/// Escapes one JSON pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
