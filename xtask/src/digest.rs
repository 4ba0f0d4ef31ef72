//! The spec digest: a normalised, line-per-fact rendering of the whole OpenAPI document, built on
//! `openapiv3`'s types, for a snapshot that shows every semantic change to the spec as a readable
//! diff line.
//!
//! Normalised means that a pure reformat changes nothing: maps are listed in sorted order
//! (paths, properties, status codes, example keys), text is compared with its whitespace
//! collapsed (reflowing a folded YAML string changes nothing) and comments are gone with the
//! parse. Every line starts with the thing it belongs to (`operation getAccessToken`,
//! `schema ConferenceInfo.startTime`), so each diff line names what changed.

use std::fmt::Write as _;

use openapiv3::{
    AdditionalProperties, Components, Example, MediaType, OpenAPI, Operation, Parameter,
    ParameterSchemaOrContent, ReferenceOr, RequestBody, Response, Schema, SchemaKind,
    SecurityRequirement, SecurityScheme, Type,
};
use serde_json::Value;

use crate::CodegenError;

/// The legend at the top of the digest.
const LEGEND: &str = "\
# Spec digest: every fact of the OpenAPI document, one per line, sorted and normalised
# (comments, key order and YAML layout do not show). `$Name` is #/components/schemas/Name.
";

/// The digest of the spec text `text`; `spec_name` names the file in errors.
pub fn digest_from_str(text: &str, spec_name: &str) -> Result<String, CodegenError> {
    let spec = crate::parse_spec(text, std::path::Path::new(spec_name))?;
    Ok(digest(&spec))
}

/// The digest of a parsed document.
pub fn digest(spec: &OpenAPI) -> String {
    let mut out = Digest(String::from(LEGEND));
    out.line(format_args!("openapi {}", spec.openapi));
    out.line(format_args!(
        "info: title {:?}, version {:?}",
        spec.info.title, spec.info.version
    ));
    out.text("info", spec.info.description.as_deref());
    for server in &spec.servers {
        out.line(format_args!(
            "server {}{}{}",
            server.url,
            extensions(&server.extensions),
            describe(server.description.as_deref())
        ));
    }
    out.security("document", spec.security.as_ref());

    let components = spec.components.as_ref();
    if let Some(components) = components {
        for (name, scheme) in sorted(&components.security_schemes) {
            let rendered = match scheme {
                ReferenceOr::Reference { reference } => format!("-> {reference}"),
                ReferenceOr::Item(SecurityScheme::APIKey {
                    location,
                    name: header,
                    description,
                    ..
                }) => format!(
                    "apiKey in {} named {header:?}{}",
                    json_text(&serde_json::to_value(location).unwrap_or(Value::Null)),
                    describe(description.as_deref())
                ),
                ReferenceOr::Item(other) => {
                    canonical(&serde_json::to_value(other).unwrap_or(Value::Null))
                }
            };
            out.line(format_args!("security scheme {name}: {rendered}"));
        }
    }

    let mut operations: Vec<(&str, &str, &Operation)> = spec.operations().collect();
    operations.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (route, method, operation) in operations {
        out.operation(route, method, operation);
    }

    if let Some(components) = components {
        out.components(components);
    }
    out.0
}

struct Digest(String);

impl Digest {
    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
    }

    /// `owner description: text`, whitespace collapsed; nothing if there is no text.
    fn text(&mut self, owner: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.line(format_args!("{owner} description: {}", collapse(text)));
        }
    }

    fn security(&mut self, owner: &str, security: Option<&Vec<SecurityRequirement>>) {
        let rendered = match security {
            None => "not set".to_string(),
            Some(list) if list.is_empty() => "none (unauthenticated)".to_string(),
            Some(list) => list
                .iter()
                .map(|requirement| {
                    sorted(requirement)
                        .map(|(scheme, scopes)| {
                            if scopes.is_empty() {
                                scheme.clone()
                            } else {
                                format!("{scheme}[{}]", scopes.join(" "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .collect::<Vec<_>>()
                .join(" | "),
        };
        self.line(format_args!("{owner} security: {rendered}"));
    }

    fn operation(&mut self, route: &str, method: &str, operation: &Operation) {
        let id = operation
            .operation_id
            .as_deref()
            .unwrap_or("(no operationId)");
        let owner = format!("operation {id}");
        self.line(format_args!(
            "{owner}: {} {route}{}{}",
            method.to_uppercase(),
            if operation.deprecated {
                ", deprecated"
            } else {
                ""
            },
            if operation.tags.is_empty() {
                String::new()
            } else {
                format!(", tags {}", operation.tags.join(" "))
            }
        ));
        if let Some(summary) = &operation.summary {
            self.line(format_args!("{owner} summary: {}", collapse(summary)));
        }
        self.text(&owner, operation.description.as_deref());
        self.security(&owner, operation.security.as_ref());
        for parameter in &operation.parameters {
            self.parameter(&owner, parameter);
        }
        match &operation.request_body {
            None => self.line(format_args!("{owner} request body: none")),
            Some(ReferenceOr::Reference { reference }) => {
                self.line(format_args!("{owner} request body: -> {reference}"));
            }
            Some(ReferenceOr::Item(body)) => self.request_body(&owner, body),
        }
        let mut responses: Vec<(String, &ReferenceOr<Response>)> = operation
            .responses
            .responses
            .iter()
            .map(|(code, response)| (code.to_string(), response))
            .collect();
        responses.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(default) = &operation.responses.default {
            responses.push(("default".to_string(), default));
        }
        for (code, response) in responses {
            self.response(&format!("{owner} response {code}"), response);
        }
    }

    fn parameter(&mut self, owner: &str, parameter: &ReferenceOr<Parameter>) {
        let parameter = match parameter {
            ReferenceOr::Reference { reference } => {
                self.line(format_args!("{owner} parameter -> {reference}"));
                return;
            }
            ReferenceOr::Item(parameter) => parameter,
        };
        let (location, data) = match parameter {
            Parameter::Query { parameter_data, .. } => ("query", parameter_data),
            Parameter::Header { parameter_data, .. } => ("header", parameter_data),
            Parameter::Path { parameter_data, .. } => ("path", parameter_data),
            Parameter::Cookie { parameter_data, .. } => ("cookie", parameter_data),
        };
        let name = format!("{owner} parameter {location} {}", data.name);
        let mut flags = vec![if data.required {
            "required"
        } else {
            "optional"
        }];
        if data.deprecated == Some(true) {
            flags.push("deprecated");
        }
        // The parameter's own extensions (`x-id`, `x-noun`, `x-enum`): the input checks are
        // generated from them.
        let own = extensions(&data.extensions);
        match &data.format {
            ParameterSchemaOrContent::Schema(schema) => self.line(format_args!(
                "{name}: {}, {}{own}{}",
                schema_or_ref(schema),
                flags.join(", "),
                describe(data.description.as_deref())
            )),
            ParameterSchemaOrContent::Content(content) => {
                self.line(format_args!(
                    "{name}: {}{}",
                    flags.join(", "),
                    describe(data.description.as_deref())
                ));
                self.content(&name, content);
            }
        }
        self.examples(&name, data.example.as_ref(), &data.examples);
    }

    fn request_body(&mut self, owner: &str, body: &RequestBody) {
        self.line(format_args!(
            "{owner} request body: {}{}",
            if body.required {
                "required"
            } else {
                "optional"
            },
            describe(body.description.as_deref())
        ));
        self.content(&format!("{owner} request body"), &body.content);
    }

    fn response(&mut self, owner: &str, response: &ReferenceOr<Response>) {
        match response {
            ReferenceOr::Reference { reference } => {
                self.line(format_args!("{owner}: -> {reference}"));
            }
            ReferenceOr::Item(response) => {
                self.line(format_args!(
                    "{owner}{}",
                    describe(Some(&response.description))
                ));
                for (name, header) in sorted(&response.headers) {
                    let rendered = match header {
                        ReferenceOr::Reference { reference } => format!("-> {reference}"),
                        ReferenceOr::Item(header) => {
                            canonical(&serde_json::to_value(header).unwrap_or(Value::Null))
                        }
                    };
                    self.line(format_args!("{owner} header {name}: {rendered}"));
                }
                self.content(owner, &response.content);
            }
        }
    }

    fn content(&mut self, owner: &str, content: &indexmap::IndexMap<String, MediaType>) {
        for (media_type, media) in sorted(content) {
            let owner = format!("{owner} {media_type}");
            match &media.schema {
                Some(schema) => self.line(format_args!("{owner}: {}", schema_or_ref(schema))),
                None => self.line(format_args!("{owner}: no schema")),
            }
            self.examples(&owner, media.example.as_ref(), &media.examples);
        }
    }

    /// Each example value as flattened `key.path = value` lines, so that a changed value shows
    /// as one changed line naming its key.
    fn examples(
        &mut self,
        owner: &str,
        example: Option<&Value>,
        examples: &indexmap::IndexMap<String, ReferenceOr<Example>>,
    ) {
        if let Some(value) = example {
            self.example_value(&format!("{owner} example"), value);
        }
        for (name, example) in sorted(examples) {
            let owner = format!("{owner} example {name:?}");
            match example {
                ReferenceOr::Reference { reference } => {
                    self.line(format_args!("{owner}: -> {reference}"));
                }
                ReferenceOr::Item(example) => {
                    if let Some(summary) = &example.summary {
                        self.line(format_args!("{owner} summary: {}", collapse(summary)));
                    }
                    if let Some(value) = &example.value {
                        self.example_value(&owner, value);
                    }
                    if let Some(external) = &example.external_value {
                        self.line(format_args!("{owner}: external {external}"));
                    }
                }
            }
        }
    }

    fn example_value(&mut self, owner: &str, value: &Value) {
        let mut leaves = Vec::new();
        flatten("", value, &mut leaves);
        for (key, leaf) in leaves {
            if key.is_empty() {
                self.line(format_args!("{owner}: {leaf}"));
            } else {
                self.line(format_args!("{owner}: {key} = {leaf}"));
            }
        }
    }

    fn components(&mut self, components: &Components) {
        // Vendor extensions of the components, such as `x-enums` (enum meanings, from which
        // the facade's enums are generated): one line per leaf.
        for (name, value) in sorted(&components.extensions) {
            let mut leaves = Vec::new();
            flatten(name, value, &mut leaves);
            for (key, leaf) in leaves {
                self.line(format_args!("components {key} = {leaf}"));
            }
        }
        for (name, response) in sorted(&components.responses) {
            self.response(&format!("response component {name}"), response);
        }
        for (name, body) in sorted(&components.request_bodies) {
            let owner = format!("request body component {name}");
            match body {
                ReferenceOr::Reference { reference } => {
                    self.line(format_args!("{owner}: -> {reference}"));
                }
                ReferenceOr::Item(body) => self.request_body(&owner, body),
            }
        }
        for (name, parameter) in sorted(&components.parameters) {
            self.parameter(&format!("parameter component {name}"), parameter);
        }
        for (name, example) in sorted(&components.examples) {
            let single = indexmap::IndexMap::from([(name.clone(), example.clone())]);
            self.examples("example component", None, &single);
        }
        for (name, schema) in sorted(&components.schemas) {
            let owner = format!("schema {name}");
            match schema {
                ReferenceOr::Reference { reference } => {
                    self.line(format_args!("{owner}: -> {reference}"));
                }
                ReferenceOr::Item(schema) => self.schema(&owner, schema),
            }
        }
    }

    /// One line for the schema itself, then one per property (recursively, inline schemas
    /// named `Owner.prop`, array items `Owner[]`).
    fn schema(&mut self, owner: &str, schema: &Schema) {
        self.schema_with(owner, None, schema);
    }

    /// [`Self::schema`], with `required`/`optional` first on the line for a property.
    fn schema_with(&mut self, owner: &str, presence: Option<&str>, schema: &Schema) {
        let presence = presence.map(|p| format!("{p}, ")).unwrap_or_default();
        self.line(format_args!("{owner}: {presence}{}", schema_line(schema)));
        if let Some(example) = &schema.schema_data.example {
            self.example_value(&format!("{owner} example"), example);
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => {
                for (name, property) in sorted(&object.properties) {
                    let required = if object.required.contains(name) {
                        "required"
                    } else {
                        "optional"
                    };
                    self.property(&format!("{owner}.{name}"), required, property);
                }
                for name in object
                    .required
                    .iter()
                    .filter(|n| !object.properties.contains_key(*n))
                {
                    self.line(format_args!(
                        "{owner}: requires {name}, which it does not describe"
                    ));
                }
                if let Some(AdditionalProperties::Schema(schema)) = &object.additional_properties {
                    let owner = format!("{owner}.*");
                    match schema.as_ref() {
                        ReferenceOr::Reference { reference } => {
                            self.line(format_args!("{owner}: {}", short_ref(reference)));
                        }
                        ReferenceOr::Item(schema) => self.schema(&owner, schema),
                    }
                }
            }
            SchemaKind::Type(Type::Array(array)) => {
                if let Some(items) = &array.items {
                    self.boxed(&format!("{owner}[]"), items);
                }
            }
            _ => {}
        }
    }

    fn property(&mut self, owner: &str, required: &str, schema: &ReferenceOr<Box<Schema>>) {
        match schema {
            ReferenceOr::Reference { reference } => {
                self.line(format_args!(
                    "{owner}: {required}, {}",
                    short_ref(reference)
                ));
            }
            ReferenceOr::Item(schema) => self.schema_with(owner, Some(required), schema),
        }
    }

    fn boxed(&mut self, owner: &str, schema: &ReferenceOr<Box<Schema>>) {
        match schema {
            ReferenceOr::Reference { reference } => {
                self.line(format_args!("{owner}: {}", short_ref(reference)));
            }
            ReferenceOr::Item(schema) => self.schema(owner, schema),
        }
    }
}

/// The schema's own facts on one line: type, format, bounds, flags, description.
fn schema_line(schema: &Schema) -> String {
    let data = &schema.schema_data;
    let mut parts: Vec<String> = Vec::new();
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            parts.push(format!(
                "string{}",
                format_of(serde_json::to_value(&s.format))
            ));
            push_opt(
                &mut parts,
                "pattern",
                s.pattern.as_ref().map(|p| format!("{p:?}")),
            );
            push_opt(&mut parts, "minLength", s.min_length);
            push_opt(&mut parts, "maxLength", s.max_length);
            push_enum(&mut parts, serde_json::json!(s.enumeration));
        }
        SchemaKind::Type(Type::Integer(i)) => push_numeric(
            &mut parts,
            "integer",
            serde_json::to_value(&i.format),
            [
                (i.minimum, i.exclusive_minimum),
                (i.maximum, i.exclusive_maximum),
            ],
            i.multiple_of,
            serde_json::json!(i.enumeration),
        ),
        SchemaKind::Type(Type::Number(n)) => push_numeric(
            &mut parts,
            "number",
            serde_json::to_value(&n.format),
            [
                (n.minimum, n.exclusive_minimum),
                (n.maximum, n.exclusive_maximum),
            ],
            n.multiple_of,
            serde_json::json!(n.enumeration),
        ),
        SchemaKind::Type(Type::Boolean(b)) => {
            parts.push("boolean".to_string());
            push_enum(&mut parts, serde_json::json!(b.enumeration));
        }
        SchemaKind::Type(Type::Object(o)) => {
            parts.push("object".to_string());
            if !o.required.is_empty() {
                let mut required = o.required.clone();
                required.sort();
                parts.push(format!("required [{}]", required.join(", ")));
            }
            match &o.additional_properties {
                None => {}
                Some(AdditionalProperties::Any(any)) => {
                    parts.push(format!("additionalProperties {any}"));
                }
                Some(AdditionalProperties::Schema(_)) => {
                    parts.push("additionalProperties (schema below)".to_string());
                }
            }
            push_opt(&mut parts, "minProperties", o.min_properties);
            push_opt(&mut parts, "maxProperties", o.max_properties);
        }
        SchemaKind::Type(Type::Array(a)) => {
            parts.push("array".to_string());
            push_opt(&mut parts, "minItems", a.min_items);
            push_opt(&mut parts, "maxItems", a.max_items);
            if a.unique_items {
                parts.push("uniqueItems".to_string());
            }
        }
        // Composition and untyped schemas are rare here: shown whole, canonically.
        other => parts.push(canonical(
            &serde_json::to_value(other).unwrap_or(Value::Null),
        )),
    }
    for (flag, set) in [
        ("nullable", data.nullable),
        ("deprecated", data.deprecated),
        ("readOnly", data.read_only),
        ("writeOnly", data.write_only),
    ] {
        if set {
            parts.push(flag.to_string());
        }
    }
    if let Some(title) = &data.title {
        parts.push(format!("title {:?}", collapse(title)));
    }
    if let Some(default) = &data.default {
        parts.push(format!("default {}", canonical(default)));
    }
    if let Some(discriminator) = &data.discriminator {
        parts.push(format!(
            "discriminator {}",
            canonical(&serde_json::to_value(discriminator).unwrap_or(Value::Null))
        ));
    }
    let extensions = extensions(&data.extensions);
    format!(
        "{}{extensions}{}",
        parts.join(", "),
        describe(data.description.as_deref())
    )
}

fn schema_or_ref(schema: &ReferenceOr<Schema>) -> String {
    match schema {
        ReferenceOr::Reference { reference } => short_ref(reference),
        ReferenceOr::Item(schema) => schema_line(schema),
    }
}

fn short_ref(reference: &str) -> String {
    reference
        .strip_prefix("#/components/schemas/")
        .map_or_else(|| format!("-> {reference}"), |name| format!("${name}"))
}

/// ` (int64)`, or nothing when the schema has no `format`.
fn format_of(format: Result<Value, serde_json::Error>) -> String {
    match format {
        Ok(Value::String(format)) if !format.is_empty() => format!(" ({format})"),
        Ok(Value::Null | Value::String(_)) => String::new(),
        Ok(other) => format!(" ({})", canonical(&other)),
        Err(_) => " (unrenderable format)".to_string(),
    }
}

fn push_opt<T: std::fmt::Display>(parts: &mut Vec<String>, name: &str, value: Option<T>) {
    if let Some(value) = value {
        parts.push(format!("{name} {value}"));
    }
}

/// `integer (int64), minimum 0 (exclusive), maximum 9, multipleOf 3, enum [..]`.
fn push_numeric<T: std::fmt::Display>(
    parts: &mut Vec<String>,
    name: &str,
    format: Result<Value, serde_json::Error>,
    bounds: [(Option<T>, bool); 2],
    multiple_of: Option<T>,
    enumeration: Value,
) {
    parts.push(format!("{name}{}", format_of(format)));
    for ((value, exclusive), bound) in bounds.into_iter().zip(["minimum", "maximum"]) {
        if let Some(value) = value {
            let exclusive = if exclusive { " (exclusive)" } else { "" };
            parts.push(format!("{bound} {value}{exclusive}"));
        }
    }
    push_opt(parts, "multipleOf", multiple_of);
    push_enum(parts, enumeration);
}

/// `enum [..]` if the list is not empty.
fn push_enum(parts: &mut Vec<String>, values: Value) {
    if values.as_array().is_some_and(|values| !values.is_empty()) {
        parts.push(format!("enum {}", canonical(&values)));
    }
}

/// ` [x-key value, ...]` for vendor extensions, or nothing.
fn extensions(extensions: &indexmap::IndexMap<String, Value>) -> String {
    if extensions.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = sorted(extensions)
        .map(|(key, value)| format!("{key} {}", json_text(value)))
        .collect();
    format!(" [{}]", listed.join(", "))
}

/// ` — description`, whitespace collapsed, or nothing.
fn describe(description: Option<&str>) -> String {
    match description {
        Some(text) if !text.trim().is_empty() => format!(" — {}", collapse(text)),
        _ => String::new(),
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A string as itself, anything else as canonical JSON.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => canonical(other),
    }
}

/// Compact JSON with object keys sorted, whatever the map implementation's order.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// `(key path, value)` for every leaf of `value`: `confInfo.activeNum` → `10`; the key path is
/// empty for a scalar example.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, &map[key], out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        leaf => out.push((prefix.to_string(), canonical(leaf))),
    }
}

/// The entries of a map in key order.
fn sorted<K: Ord, V>(map: &indexmap::IndexMap<K, V>) -> impl Iterator<Item = (&K, &V)> {
    let mut entries: Vec<(&K, &V)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.into_iter()
}
