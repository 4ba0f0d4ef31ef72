//! The CLI's `api` command tree ([`CLI_API_PATH`](crate::CLI_API_PATH)): one data row per
//! operation of the spec (its summary and description, method and path, every path and query
//! parameter with its flag, type, bounds, whether it is required, its description and enum
//! meanings, and the request body's fields), from which `commands/api.rs` builds the clap
//! commands with clap's builder API. No operation is written by hand.

use heck::ToKebabCase;
use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::{CodegenError, spec_error};

/// The generated module's items, for `spec`.
pub(crate) fn cli_api(spec: &OpenAPI, path: &std::path::Path) -> Result<TokenStream, CodegenError> {
    let doc = serde_json::to_value(spec)
        .map_err(|e| spec_error(path, format!("the spec does not serialize back: {e}")))?;
    let mut operations = Vec::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (route, item) in &paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, operation) in item {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            operations.push((
                id.to_string(),
                operation_row(&doc, id, method, route, operation, path)?,
            ));
        }
    }
    operations.sort_by(|a, b| a.0.cmp(&b.0));
    let rows = operations.into_iter().map(|(_, row)| row);
    Ok(quote! {
        use super::api::{ApiBody, ApiField, ApiOperation, ApiParameter, ValueKind};

        /// Every operation of the spec, by operationId.
        pub(crate) const OPERATIONS: &[ApiOperation] = &[#(#rows),*];
    })
}

fn operation_row(
    doc: &Value,
    id: &str,
    method: &str,
    route: &str,
    operation: &Value,
    path: &std::path::Path,
) -> Result<TokenStream, CodegenError> {
    let summary = text(operation.get("summary"));
    let description = text(operation.get("description"));
    let method = method.to_uppercase();
    let mut parameters = Vec::new();
    for parameter in operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let parameter = resolve(doc, parameter);
        let location = parameter.get("in").and_then(Value::as_str).unwrap_or("");
        if location != "path" && location != "query" {
            return Err(spec_error(
                path,
                format!(
                    "operation `{id}`: a {location} parameter; the api command generator \
                     (xtask/src/cli_api.rs) handles path and query parameters only"
                ),
            ));
        }
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
        let flag = name.to_kebab_case();
        if flag == "body" || flag == "raw" {
            return Err(spec_error(
                path,
                format!("operation `{id}`: parameter `{name}` would clash with --{flag}"),
            ));
        }
        let schema = resolve(doc, parameter.get("schema").unwrap_or(&Value::Null));
        let kind = value_kind(&schema);
        let type_name = type_name(doc, &schema);
        let required = parameter
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let description = text(parameter.get("description"));
        let values = values(
            doc,
            parameter.get("x-enum").or(schema.get("x-enum")),
            &schema,
        );
        parameters.push(quote! {
            ApiParameter {
                name: #name,
                flag: #flag,
                location: #location,
                kind: #kind,
                type_name: #type_name,
                required: #required,
                description: #description,
                values: &[#(#values),*],
            }
        });
    }
    let body = match operation.get("requestBody") {
        None => quote!(None),
        Some(body) => {
            let body = resolve(doc, body);
            let required = body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let schema_value = body
                .pointer("/content/application~1json/schema")
                .unwrap_or(&Value::Null);
            let schema_name = schema_value
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or("object");
            let schema = resolve(doc, schema_value);
            let required_fields: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, property)| {
                    let resolved = resolve(doc, property);
                    let type_name = type_name(doc, property);
                    let required = required_fields.contains(&name.as_str());
                    let mut description = text(resolved.get("description"));
                    if resolved.get("x-secret").and_then(Value::as_bool) == Some(true) {
                        description.push_str(" (a secret: prefer --body @FILE or --body -)");
                    }
                    let values = values(doc, resolved.get("x-enum"), &resolved);
                    quote! {
                        ApiField {
                            name: #name,
                            type_name: #type_name,
                            required: #required,
                            description: #description,
                            values: &[#(#values),*],
                        }
                    }
                });
            quote! {
                Some(ApiBody {
                    schema: #schema_name,
                    required: #required,
                    fields: &[#(#fields),*],
                })
            }
        }
    };
    Ok(quote! {
        ApiOperation {
            id: #id,
            method: #method,
            path: #route,
            summary: #summary,
            description: #description,
            parameters: &[#(#parameters),*],
            body: #body,
        }
    })
}

/// `value`, or what its `$ref` points to in this document.
fn resolve(doc: &Value, value: &Value) -> Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .map_or(Value::Null, |target| resolve(doc, target)),
        None => value.clone(),
    }
}

/// A description on one line (the spec's folded text may keep line breaks).
fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// How the flag's value is parsed: integers within the spec's bounds (or the format's).
fn value_kind(schema: &Value) -> TokenStream {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => {
            let (low, high) = match schema.get("format").and_then(Value::as_str) {
                Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            let min = schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(low)
                .max(low);
            let max = schema
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(high)
                .min(high);
            quote!(ValueKind::Integer { min: #min, max: #max })
        }
        Some("number") => quote!(ValueKind::Number),
        Some("boolean") => quote!(ValueKind::Boolean),
        _ => quote!(ValueKind::String),
    }
}

/// The type as a reader sees it: `string`, `integer (int64, 1..=2000)`, `array of string`,
/// a schema's name.
fn type_name(doc: &Value, schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let target = resolve(doc, schema);
        return match target.get("type").and_then(Value::as_str) {
            Some("object") | None => format!("object ({name})"),
            Some(_) => type_name(doc, &target),
        };
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let mut details = Vec::new();
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        details.push(format.to_string());
    }
    match (
        schema.get("minimum").and_then(Value::as_i64),
        schema.get("maximum").and_then(Value::as_i64),
    ) {
        (Some(min), Some(max)) => details.push(format!("{min}..={max}")),
        (Some(min), None) => details.push(format!("at least {min}")),
        (None, Some(max)) => details.push(format!("at most {max}")),
        (None, None) => {}
    }
    let base = if ty == "array" {
        format!(
            "array of {}",
            type_name(doc, schema.get("items").unwrap_or(&Value::Null))
        )
    } else {
        ty.to_string()
    };
    if details.is_empty() {
        base
    } else {
        format!("{base} ({})", details.join(", "))
    }
}

/// The values a field takes and what each means: from `x-enum` (the meanings declared once in
/// `components.x-enums`), else the schema's `enum` (values without meanings).
fn values(doc: &Value, x_enum: Option<&Value>, schema: &Value) -> Vec<TokenStream> {
    let pair = |value: &Value, meaning: &str| {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        quote!((#value, #meaning))
    };
    if let Some(name) = x_enum.and_then(Value::as_str) {
        let variants = doc
            .pointer(&format!("/components/x-enums/{name}/variants"))
            .and_then(Value::as_array);
        return variants
            .into_iter()
            .flatten()
            .map(|variant| {
                let meaning = text(variant.get("description").or(variant.get("label")));
                pair(variant.get("value").unwrap_or(&Value::Null), &meaning)
            })
            .collect();
    }
    schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|value| pair(value, ""))
        .collect()
}
