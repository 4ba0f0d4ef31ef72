//! The facade's typed layer ([`FACADE_MODEL_PATH`](crate::FACADE_MODEL_PATH)), generated from
//! the spec's vendor extensions so that no list of fields is written twice by hand:
//!
//! - `components.x-enums` declares each enum-like field's meanings once: a name, the wire type
//!   (`integer` or `string`), and its variants (`value`, `name`, `label` for people,
//!   `description`). Each becomes a Rust enum with an `Unknown(raw)` variant.
//! - A schema with `x-facade: TypeName` becomes a facade struct with the same fields, typed:
//!   `x-enum: Name` fields hold the enum, `x-unit: epoch-millis` fields a
//!   `chrono::DateTime<Utc>`, `x-unit: millis` fields a `std::time::Duration`, lists a `Vec`
//!   (absent or `null` reads as empty), everything else its wire type. `x-facade-name`
//!   renames a field for Rust users; serde keeps DingTalk's JSON names.
//! - Each struct gets `from_wire` (the generated client's type to the typed one; never fails:
//!   out-of-range times and negative durations read as absent, with a warning) and `to_wire`.
//!
//! The helpers the generated code calls (`timestamp`, `duration`, the serde adapters) are
//! hand-written in the facade's `model/mod.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use heck::ToSnakeCase;
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::{CodegenError, spec_error};

/// The components extension that declares enum meanings.
pub(crate) const ENUMS_EXTENSION: &str = "x-enums";
/// The property (or parameter) extension that names an enum of [`ENUMS_EXTENSION`].
pub(crate) const ENUM_EXTENSION: &str = "x-enum";
/// The schema extension that makes a schema a facade type, naming it.
pub(crate) const FACADE_EXTENSION: &str = "x-facade";
/// The property extension that gives a facade field another Rust name.
pub(crate) const NAME_EXTENSION: &str = "x-facade-name";
/// The property extension that marks a value as a secret (a password): `Debug` shows it as
/// redacted; serde still writes it, so it appears only where the caller prints it.
pub(crate) const SECRET_EXTENSION: &str = "x-secret";
/// The property extension that gives an integer a unit: `epoch-millis` or `millis`.
pub(crate) const UNIT_EXTENSION: &str = "x-unit";

/// One declared enum.
pub(crate) struct EnumDef {
    pub(crate) name: String,
    description: String,
    pub(crate) kind: EnumKind,
    variants: Vec<Variant>,
    /// `events: true`: a value set of event payloads only, generated into the events module
    /// (`crate::events`) instead of the model.
    pub(crate) events: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumKind {
    /// An integer on the wire, held as `i32` or `i64` (the widest width any field uses).
    Int { wide: bool },
    /// A string on the wire.
    Str,
}

struct Variant {
    value: Value,
    name: String,
    label: String,
    description: String,
}

/// The generated module's items.
pub(crate) fn model(spec: &OpenAPI, path: &Path) -> Result<TokenStream, CodegenError> {
    let components = spec
        .components
        .as_ref()
        .ok_or_else(|| spec_error(path, "the spec has no components".to_string()))?;
    let enums = enums(spec, path)?;

    let mut items = TokenStream::new();
    items.extend(quote! {
        use std::time::Duration;

        use chrono::{DateTime, Utc};
        use dingtalk_conference_api::types as wire;
        use serde::{Deserialize, Serialize};

        #[allow(unused_imports)]
        use super::{duration, duration_millis, epoch_millis, millis, null_as_empty, timestamp};
    });

    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let Some(facade) = schema.schema_data.extensions.get(FACADE_EXTENSION) else {
            continue;
        };
        let Some(facade) = facade.as_str() else {
            return Err(spec_error(
                path,
                format!("schema {name}: `{FACADE_EXTENSION}` must name the facade type"),
            ));
        };
        items.extend(facade_struct(
            name, facade, schema, components, &enums, path,
        )?);
    }
    for def in enums.values().filter(|def| !def.events) {
        items.extend(enum_items(def));
    }
    Ok(items)
}

/// The enums of `components.x-enums`, each at the widest integer width any use needs.
pub(crate) fn enums(
    spec: &OpenAPI,
    path: &Path,
) -> Result<BTreeMap<String, EnumDef>, CodegenError> {
    let components = spec
        .components
        .as_ref()
        .ok_or_else(|| spec_error(path, "the spec has no components".to_string()))?;
    let mut enums = read_enums(components.extensions.get(ENUMS_EXTENSION), path)?;
    widen_enums(spec, &mut enums, path)?;
    Ok(enums)
}

fn read_enums(
    value: Option<&Value>,
    path: &Path,
) -> Result<BTreeMap<String, EnumDef>, CodegenError> {
    let mut enums = BTreeMap::new();
    let Some(value) = value else {
        return Ok(enums);
    };
    let bad = |what: String| spec_error(path, format!("components.{ENUMS_EXTENSION}: {what}"));
    let map = value
        .as_object()
        .ok_or_else(|| bad("must map enum names to declarations".to_string()))?;
    for (name, def) in map {
        let text = |key: &str| -> Result<String, CodegenError> {
            def.get(key)
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
                .ok_or_else(|| bad(format!("{name} has no `{key}` text")))
        };
        let kind = match text("type")?.as_str() {
            "integer" => EnumKind::Int { wide: false },
            "string" => EnumKind::Str,
            other => {
                return Err(bad(format!(
                    "{name}: type `{other}` is not integer or string"
                )));
            }
        };
        let mut variants = Vec::new();
        for variant in def
            .get("variants")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("{name} has no `variants` list")))?
        {
            let field = |key: &str| -> Result<String, CodegenError> {
                variant
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("a variant of {name} has no `{key}` text")))
            };
            let value = variant
                .get("value")
                .cloned()
                .ok_or_else(|| bad(format!("a variant of {name} has no `value`")))?;
            let fits = match kind {
                EnumKind::Int { .. } => value.as_i64().is_some(),
                EnumKind::Str => value.is_string(),
            };
            if !fits {
                return Err(bad(format!("{name}: the value {value} is not of its type")));
            }
            let variant = Variant {
                value,
                name: field("name")?,
                label: field("label")?,
                description: field("description")?,
            };
            if variant.name == "Unknown"
                || variants
                    .iter()
                    .any(|v: &Variant| v.name == variant.name || v.value == variant.value)
            {
                return Err(bad(format!(
                    "{name}: the variant {} or its value {} is repeated or reserved",
                    variant.name, variant.value
                )));
            }
            variants.push(variant);
        }
        enums.insert(
            name.clone(),
            EnumDef {
                name: name.clone(),
                description: text("description")?,
                kind,
                variants,
                events: match def.get("events") {
                    None => false,
                    Some(Value::Bool(events)) => *events,
                    Some(_) => return Err(bad(format!("{name}: `events` must be true or false"))),
                },
            },
        );
    }
    Ok(enums)
}

/// An integer enum is held as `i64` when any field or parameter that names it is `int64`.
fn widen_enums(
    spec: &OpenAPI,
    enums: &mut BTreeMap<String, EnumDef>,
    path: &Path,
) -> Result<(), CodegenError> {
    let mut uses: Vec<(String, &Schema, String)> = Vec::new();
    if let Some(components) = &spec.components {
        for (name, schema) in &components.schemas {
            let ReferenceOr::Item(schema) = schema else {
                continue;
            };
            if let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind {
                for (property, value) in &object.properties {
                    if let ReferenceOr::Item(value) = value
                        && let Some(e) = value.schema_data.extensions.get(ENUM_EXTENSION)
                    {
                        uses.push((
                            format!("{name}.{property}"),
                            value,
                            e.as_str().unwrap_or_default().to_string(),
                        ));
                    }
                }
            }
        }
    }
    let mut parameter_uses = Vec::new();
    for (_, _, operation) in spec.operations() {
        for parameter in &operation.parameters {
            let ReferenceOr::Item(parameter) = parameter else {
                continue;
            };
            let data = parameter.parameter_data_ref();
            if let Some(e) = data.extensions.get(ENUM_EXTENSION)
                && let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
                    &data.format
            {
                parameter_uses.push((
                    format!("parameter {}", data.name),
                    schema,
                    e.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    for (owner, schema, name) in uses.into_iter().chain(parameter_uses) {
        let Some(def) = enums.get_mut(&name) else {
            return Err(spec_error(
                path,
                format!(
                    "{owner}: `{ENUM_EXTENSION}: {name}` names no enum of \
                     components.{ENUMS_EXTENSION}"
                ),
            ));
        };
        match (&schema.schema_kind, &mut def.kind) {
            (SchemaKind::Type(Type::Integer(int)), EnumKind::Int { wide }) => {
                if matches!(
                    &int.format,
                    openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64)
                ) {
                    *wide = true;
                }
            }
            (SchemaKind::Type(Type::String(_)), EnumKind::Str) => {}
            _ => {
                return Err(spec_error(
                    path,
                    format!("{owner}: its type is not the type of the enum {name}"),
                ));
            }
        }
    }
    Ok(())
}

/// How one field is held and converted.
enum FieldKind {
    Plain(TokenStream),
    Enum {
        name: proc_macro2::Ident,
        kind: EnumKind,
        wire_wide: bool,
    },
    Time,
    Duration,
    List {
        item: TokenStream,
        facade_item: bool,
        nullable: bool,
    },
    /// An object whose `additionalProperties` are a facade type: a map by key, ordered so
    /// that output is stable.
    Map {
        item: proc_macro2::Ident,
        nullable: bool,
    },
}

fn facade_struct(
    schema_name: &str,
    facade_name: &str,
    schema: &Schema,
    components: &openapiv3::Components,
    enums: &BTreeMap<String, EnumDef>,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Err(spec_error(
            path,
            format!("schema {schema_name}: `{FACADE_EXTENSION}` needs an object schema"),
        ));
    };
    let unsupported = |property: &str, why: &str| {
        spec_error(
            path,
            format!(
                "schema {schema_name}.{property}: {why}; the facade generator \
                 (xtask/src/facade.rs) does not know how to type it"
            ),
        )
    };
    let ident = format_ident!("{facade_name}");
    let wire_ident = format_ident!("{schema_name}");
    let doc = doc_text(schema.schema_data.description.as_deref(), schema_name);
    let mut fields = TokenStream::new();
    let mut from = TokenStream::new();
    let mut to = TokenStream::new();
    let mut debug = TokenStream::new();
    let mut has_secret = false;
    for (wire_name, property) in &object.properties {
        // A nested object: its facade type, optional. (OpenAPI 3.0 ignores what stands beside
        // a `$ref`, so such a field keeps its wire name.)
        if let ReferenceOr::Reference { reference } = property {
            let target = reference
                .strip_prefix("#/components/schemas/")
                .and_then(|name| components.schemas.get(name))
                .and_then(|target| match target {
                    ReferenceOr::Item(target) => target
                        .schema_data
                        .extensions
                        .get(FACADE_EXTENSION)
                        .and_then(Value::as_str),
                    ReferenceOr::Reference { .. } => None,
                })
                .ok_or_else(|| unsupported(wire_name, "a $ref to a schema without `x-facade`"))?;
            let item = format_ident!("{target}");
            let field = format_ident!("{}", wire_name.to_snake_case());
            let field_doc = format!(" `{wire_name}`: see [`{target}`].");
            fields.extend(quote! {
                #[doc = #field_doc]
                #[serde(default, rename = #wire_name, skip_serializing_if = "Option::is_none")]
                pub #field: Option<#item>,
            });
            let field_name = field.to_string();
            debug.extend(quote! { .field(#field_name, &self.#field) });
            from.extend(quote! { #field: raw.#field.map(#item::from_wire), });
            to.extend(quote! { #field: self.#field.as_ref().map(#item::to_wire), });
            continue;
        }
        let ReferenceOr::Item(property) = property else {
            return Err(unsupported(wire_name, "a property that is a $ref"));
        };
        let extensions = &property.schema_data.extensions;
        let wire_field = format_ident!("{}", wire_name.to_snake_case());
        let field = match extensions.get(NAME_EXTENSION).and_then(Value::as_str) {
            Some(name) => format_ident!("{name}"),
            None => wire_field.clone(),
        };
        let kind = field_kind(property, components, enums, extensions)
            .map_err(|why| unsupported(wire_name, &why))?;
        let mut field_doc = property
            .schema_data
            .description
            .clone()
            .unwrap_or_else(|| format!("`{wire_name}`."));
        if field != wire_field {
            field_doc.push_str(&format!(" (wire: `{wire_name}`)"));
        }
        if property.schema_data.deprecated {
            field_doc.push_str(" **Deprecated by DingTalk: no longer returned.**");
        }
        let field_doc = format!(" {field_doc}");
        let (ty, serde_attrs, schemars_attr, from_expr, to_expr) = match &kind {
            FieldKind::Plain(ty) => (
                quote! { Option<#ty> },
                quote! { skip_serializing_if = "Option::is_none" },
                quote! {},
                quote! { raw.#wire_field },
                // Integers and booleans are `Copy`; only strings need a clone.
                if ty.to_string() == "String" {
                    quote! { self.#field.clone() }
                } else {
                    quote! { self.#field }
                },
            ),
            FieldKind::Enum {
                name,
                kind,
                wire_wide,
            } => {
                let (from_expr, to_expr) = match kind {
                    EnumKind::Str => (
                        quote! { raw.#wire_field.map(#name::from) },
                        quote! { self.#field.as_ref().map(|v| v.as_str().to_string()) },
                    ),
                    EnumKind::Int { wide } if *wide == *wire_wide => (
                        quote! { raw.#wire_field.map(#name::from) },
                        quote! { self.#field.map(#name::raw) },
                    ),
                    // An `i64` enum in an `int32` field: every wire value fits the enum; a
                    // value made in Rust that does not fit the field is left out.
                    EnumKind::Int { .. } => (
                        quote! { raw.#wire_field.map(|v| #name::from(i64::from(v))) },
                        quote! { self.#field.and_then(|v| i32::try_from(v.raw()).ok()) },
                    ),
                };
                (
                    quote! { Option<#name> },
                    quote! { skip_serializing_if = "Option::is_none" },
                    quote! {},
                    from_expr,
                    to_expr,
                )
            }
            FieldKind::Time => (
                quote! { Option<DateTime<Utc>> },
                quote! { with = "epoch_millis", skip_serializing_if = "Option::is_none" },
                quote! { #[schemars(with = "Option<i64>")] },
                quote! { raw.#wire_field.and_then(|ms| timestamp(#wire_name, ms)) },
                quote! { self.#field.map(|t| t.timestamp_millis()) },
            ),
            FieldKind::Duration => (
                quote! { Option<Duration> },
                quote! { with = "millis", skip_serializing_if = "Option::is_none" },
                quote! { #[schemars(with = "Option<u64>")] },
                quote! { raw.#wire_field.and_then(|ms| duration(#wire_name, ms)) },
                quote! { self.#field.map(duration_millis) },
            ),
            FieldKind::List {
                item,
                facade_item,
                nullable,
            } => {
                let raw_list = if *nullable {
                    quote! { raw.#wire_field.unwrap_or_default() }
                } else {
                    quote! { raw.#wire_field }
                };
                let from_expr = if *facade_item {
                    quote! { #raw_list.into_iter().map(#item::from_wire).collect() }
                } else {
                    raw_list
                };
                let list = if *facade_item {
                    quote! { self.#field.iter().map(#item::to_wire).collect() }
                } else {
                    quote! { self.#field.clone() }
                };
                let to_expr = if *nullable {
                    quote! { (!self.#field.is_empty()).then(|| #list) }
                } else {
                    list
                };
                (
                    quote! { Vec<#item> },
                    quote! { deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty" },
                    quote! {},
                    from_expr,
                    to_expr,
                )
            }
            FieldKind::Map { item, nullable } => {
                let raw_map = if *nullable {
                    quote! { raw.#wire_field.unwrap_or_default() }
                } else {
                    quote! { raw.#wire_field }
                };
                let map = quote! {
                    self.#field
                        .iter()
                        .map(|(key, value)| (key.clone(), value.to_wire()))
                        .collect()
                };
                let to_expr = if *nullable {
                    quote! { (!self.#field.is_empty()).then(|| #map) }
                } else {
                    map
                };
                (
                    quote! { std::collections::BTreeMap<String, #item> },
                    quote! { deserialize_with = "null_as_empty", skip_serializing_if = "std::collections::BTreeMap::is_empty" },
                    quote! {},
                    quote! {
                        #raw_map
                            .into_iter()
                            .map(|(key, value)| (key, #item::from_wire(value)))
                            .collect()
                    },
                    to_expr,
                )
            }
        };
        fields.extend(quote! {
            #[doc = #field_doc]
            #[serde(default, rename = #wire_name, #serde_attrs)]
            #schemars_attr
            pub #field: #ty,
        });
        let field_name = field.to_string();
        if extensions.get(SECRET_EXTENSION).and_then(Value::as_bool) == Some(true) {
            has_secret = true;
            debug.extend(quote! {
                .field(#field_name, &self.#field.as_ref().map(|_| "[redacted]"))
            });
        } else {
            debug.extend(quote! { .field(#field_name, &self.#field) });
        }
        from.extend(quote! { #field: #from_expr, });
        to.extend(quote! { #wire_field: #to_expr, });
    }
    let from_doc = format!(
        " Converts the generated client's `{schema_name}`. Never fails: a time outside the \
         years 0000-9999 or a negative duration (values the spec rules out) reads as absent, \
         with a warning in the trace, rather than costing the caller the whole answer."
    );
    let (derive_debug, debug_impl) = if has_secret {
        let name = facade_name;
        (
            quote! {},
            quote! {
                /// Secret fields (passwords) show as `[redacted]`.
                impl std::fmt::Debug for #ident {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.debug_struct(#name) #debug .finish()
                    }
                }
            },
        )
    } else {
        (quote! { Debug, }, quote! {})
    };
    Ok(quote! {
        #[doc = #doc]
        ///
        /// Every field is optional because DingTalk omits what does not apply; lists are empty
        /// when absent. Serializes to DingTalk's JSON form.
        #[derive(#derive_debug Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
        #[non_exhaustive]
        pub struct #ident {
            #fields
        }

        #debug_impl

        impl #ident {
            #[doc = #from_doc]
            pub fn from_wire(raw: wire::#wire_ident) -> Self {
                Self { #from }
            }

            /// The wire form, as the generated client has it (raw integers and strings).
            pub fn to_wire(&self) -> wire::#wire_ident {
                wire::#wire_ident { #to }
            }
        }

        impl From<wire::#wire_ident> for #ident {
            fn from(raw: wire::#wire_ident) -> Self {
                Self::from_wire(raw)
            }
        }
    })
}

fn field_kind(
    property: &Schema,
    components: &openapiv3::Components,
    enums: &BTreeMap<String, EnumDef>,
    extensions: &indexmap::IndexMap<String, Value>,
) -> Result<FieldKind, String> {
    let unit = extensions.get(UNIT_EXTENSION).and_then(Value::as_str);
    if let Some(name) = extensions.get(ENUM_EXTENSION) {
        let name = name.as_str().unwrap_or_default();
        let def = enums
            .get(name)
            .ok_or_else(|| format!("`{ENUM_EXTENSION}: {name}` names no declared enum"))?;
        let wire_wide = matches!(
            &property.schema_kind,
            SchemaKind::Type(Type::Integer(int)) if matches!(
                &int.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64)
            )
        );
        return Ok(FieldKind::Enum {
            name: format_ident!("{}", def.name),
            kind: def.kind,
            wire_wide,
        });
    }
    match &property.schema_kind {
        SchemaKind::Type(Type::Integer(int)) => {
            let wide = matches!(
                &int.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64)
            );
            match (unit, wide) {
                (Some("epoch-millis"), true) => Ok(FieldKind::Time),
                (Some("millis"), true) => Ok(FieldKind::Duration),
                (Some(other), _) => Err(format!(
                    "`{UNIT_EXTENSION}: {other}` on an integer that is not int64 \
                     (known units: epoch-millis, millis)"
                )),
                (None, true) => Ok(FieldKind::Plain(quote! { i64 })),
                (None, false) => Ok(FieldKind::Plain(quote! { i32 })),
            }
        }
        _ if unit.is_some() => Err(format!("`{UNIT_EXTENSION}` on a non-integer")),
        SchemaKind::Type(Type::String(_)) => Ok(FieldKind::Plain(quote! { String })),
        SchemaKind::Type(Type::Boolean(_)) => Ok(FieldKind::Plain(quote! { bool })),
        SchemaKind::Type(Type::Array(array)) => {
            let nullable = property.schema_data.nullable;
            match array.items.as_ref() {
                Some(ReferenceOr::Reference { reference }) => {
                    let target = reference
                        .strip_prefix("#/components/schemas/")
                        .ok_or_else(|| format!("a list of `{reference}`"))?;
                    let facade = match components.schemas.get(target) {
                        Some(ReferenceOr::Item(schema)) => schema
                            .schema_data
                            .extensions
                            .get(FACADE_EXTENSION)
                            .and_then(Value::as_str),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        format!("a list of {target}, which has no `{FACADE_EXTENSION}` name")
                    })?;
                    let item = format_ident!("{facade}");
                    Ok(FieldKind::List {
                        item: quote! { #item },
                        facade_item: true,
                        nullable,
                    })
                }
                Some(ReferenceOr::Item(item))
                    if matches!(item.as_ref().schema_kind, SchemaKind::Type(Type::String(_))) =>
                {
                    Ok(FieldKind::List {
                        item: quote! { String },
                        facade_item: false,
                        nullable,
                    })
                }
                // Ids (`sentenceIdsOfAnswer`): the wire's integers, at the wire's width.
                Some(ReferenceOr::Item(item))
                    if matches!(
                        item.as_ref().schema_kind,
                        SchemaKind::Type(Type::Integer(_))
                    ) =>
                {
                    let int32 = matches!(
                        &item.as_ref().schema_kind,
                        SchemaKind::Type(Type::Integer(integer)) if matches!(
                            integer.format,
                            openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32)
                        )
                    );
                    Ok(FieldKind::List {
                        item: if int32 {
                            quote! { i32 }
                        } else {
                            quote! { i64 }
                        },
                        facade_item: false,
                        nullable,
                    })
                }
                _ => Err(
                    "a list of something other than strings, integers or facade types".to_string(),
                ),
            }
        }
        SchemaKind::Type(Type::Object(object)) if object.properties.is_empty() => {
            let Some(openapiv3::AdditionalProperties::Schema(value)) =
                object.additional_properties.as_ref()
            else {
                return Err(
                    "an object with neither properties nor a schema for its values".to_string(),
                );
            };
            let ReferenceOr::Reference { reference } = value.as_ref() else {
                return Err("a map whose values are not a $ref to a facade type".to_string());
            };
            let target = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("a map of `{reference}`"))?;
            let facade = match components.schemas.get(target) {
                Some(ReferenceOr::Item(schema)) => schema
                    .schema_data
                    .extensions
                    .get(FACADE_EXTENSION)
                    .and_then(Value::as_str),
                _ => None,
            }
            .ok_or_else(|| format!("a map of {target}, which has no `{FACADE_EXTENSION}` name"))?;
            Ok(FieldKind::Map {
                item: format_ident!("{facade}"),
                nullable: property.schema_data.nullable,
            })
        }
        _ => Err("a type other than integer, string, boolean, list or map".to_string()),
    }
}

fn doc_text(description: Option<&str>, fallback: &str) -> String {
    format!(" {}", description.map(str::trim).unwrap_or(fallback))
}

/// An enum with `Unknown(raw)`, `raw()`/`as_str()`, `Display` (the labels), equality and
/// hashing by wire value, `From` the wire type, and serde and JSON Schema in the wire form.
pub(crate) fn enum_items(def: &EnumDef) -> TokenStream {
    let name = format_ident!("{}", def.name);
    let doc = format!(" {}", def.description);
    let variants: Vec<_> = def
        .variants
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let labels: Vec<_> = def.variants.iter().map(|v| v.label.as_str()).collect();
    let variant_docs: Vec<_> = def
        .variants
        .iter()
        .map(|v| format!(" `{}`: {}.", v.value, v.description))
        .collect();
    let schema_description = format!(
        "{}; other values may appear",
        def.variants
            .iter()
            .map(|v| match &v.value {
                Value::String(s) => format!("\"{s}\" {}", v.label),
                other => format!("{other} {}", v.label),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let name_text = def.name.as_str();
    match def.kind {
        EnumKind::Int { wide } => {
            let (raw, format, serialize) = if wide {
                (quote! { i64 }, "int64", quote! { serialize_i64 })
            } else {
                (quote! { i32 }, "int32", quote! { serialize_i32 })
            };
            let values: Vec<Literal> = def
                .variants
                .iter()
                .map(|v| Literal::i64_unsuffixed(v.value.as_i64().unwrap_or_default()))
                .collect();
            quote! {
                #[doc = #doc]
                ///
                /// Equality and hashing go by the wire value, so `Unknown(v)` equals the known
                /// variant for `v`.
                #[derive(Debug, Clone, Copy)]
                #[non_exhaustive]
                pub enum #name {
                    #( #[doc = #variant_docs] #variants, )*
                    /// A value this crate does not know yet, as sent.
                    Unknown(#raw),
                }

                impl #name {
                    /// The wire value.
                    pub fn raw(self) -> #raw {
                        match self {
                            #( Self::#variants => #values, )*
                            Self::Unknown(raw) => raw,
                        }
                    }
                }

                /// A word for people: the variant's meaning, or `unknown (N)`.
                impl std::fmt::Display for #name {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match self {
                            #( Self::#variants => f.write_str(#labels), )*
                            Self::Unknown(raw) => write!(f, "unknown ({raw})"),
                        }
                    }
                }

                impl PartialEq for #name {
                    fn eq(&self, other: &Self) -> bool {
                        self.raw() == other.raw()
                    }
                }

                impl Eq for #name {}

                impl std::hash::Hash for #name {
                    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                        self.raw().hash(state);
                    }
                }

                impl From<#raw> for #name {
                    fn from(raw: #raw) -> Self {
                        match raw {
                            #( #values => Self::#variants, )*
                            other => Self::Unknown(other),
                        }
                    }
                }

                impl Serialize for #name {
                    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        serializer.#serialize(self.raw())
                    }
                }

                impl<'de> Deserialize<'de> for #name {
                    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        #raw::deserialize(deserializer).map(Self::from)
                    }
                }

                impl schemars::JsonSchema for #name {
                    fn schema_name() -> std::borrow::Cow<'static, str> {
                        std::borrow::Cow::Borrowed(#name_text)
                    }

                    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                        schemars::json_schema!({
                            "type": "integer",
                            "format": #format,
                            "description": #schema_description,
                        })
                    }
                }
            }
        }
        EnumKind::Str => {
            let values: Vec<&str> = def
                .variants
                .iter()
                .map(|v| v.value.as_str().unwrap_or_default())
                .collect();
            quote! {
                #[doc = #doc]
                ///
                /// Equality and hashing go by the wire value, so `Unknown(v)` equals the known
                /// variant for `v`.
                #[derive(Debug, Clone)]
                #[non_exhaustive]
                pub enum #name {
                    #( #[doc = #variant_docs] #variants, )*
                    /// A value this crate does not know yet, as sent.
                    Unknown(String),
                }

                impl #name {
                    /// The wire value.
                    pub fn as_str(&self) -> &str {
                        match self {
                            #( Self::#variants => #values, )*
                            Self::Unknown(raw) => raw,
                        }
                    }
                }

                /// A word for people: the variant's meaning, or `unknown (raw)`.
                impl std::fmt::Display for #name {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match self {
                            #( Self::#variants => f.write_str(#labels), )*
                            Self::Unknown(raw) => write!(f, "unknown ({raw})"),
                        }
                    }
                }

                impl PartialEq for #name {
                    fn eq(&self, other: &Self) -> bool {
                        self.as_str() == other.as_str()
                    }
                }

                impl Eq for #name {}

                impl std::hash::Hash for #name {
                    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                        self.as_str().hash(state);
                    }
                }

                impl From<String> for #name {
                    fn from(raw: String) -> Self {
                        match raw.as_str() {
                            #( #values => Self::#variants, )*
                            _ => Self::Unknown(raw),
                        }
                    }
                }

                impl From<&str> for #name {
                    fn from(raw: &str) -> Self {
                        Self::from(raw.to_string())
                    }
                }

                impl Serialize for #name {
                    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        serializer.serialize_str(self.as_str())
                    }
                }

                impl<'de> Deserialize<'de> for #name {
                    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        String::deserialize(deserializer).map(Self::from)
                    }
                }

                impl schemars::JsonSchema for #name {
                    fn schema_name() -> std::borrow::Cow<'static, str> {
                        std::borrow::Cow::Borrowed(#name_text)
                    }

                    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                        schemars::json_schema!({
                            "type": "string",
                            "description": #schema_description,
                        })
                    }
                }
            }
        }
    }
}
