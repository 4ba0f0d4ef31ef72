//! The facade's typed events ([`EVENTS_PATH`](crate::EVENTS_PATH)), generated from the spec's
//! event schemas so that no event field is written twice by hand:
//!
//! - `components.x-events` maps each documented `eventType` to its payload schema, the
//!   `ConferenceEvent` variant it becomes, and `directed: true` for the directed forms
//!   (`_target_push`, `_directed`), which share the plain form's variant.
//! - A schema marked `x-event: true` is part of an event: a payload schema becomes a variant
//!   (its properties the variant's fields, plus `directed: bool`), any other a struct of the
//!   same name. progenitor never sees these schemas ([`strip_event_schemas`]).
//! - Fields are typed as in the model (`xtask/src/facade.rs`): `x-enum` (the enums of
//!   `components.x-enums`; those with `events: true` are written here), `x-unit:
//!   epoch-millis` times, `x-unit: millis` durations, `x-facade-name` renames; a nested
//!   object is a `$ref` (or an `allOf` of one `$ref`, which may carry `x-facade-name`).
//!
//! Each struct and variant is read from a JSON object by the tolerant helpers of the facade's
//! `events/model.rs` (`text`, `int`, `int32`, `flag`, `time`, `span`, `nested`, `list`), so that
//! numbers sent as strings and similar oddities of DingTalk's payloads still read.

use std::collections::BTreeMap;
use std::path::Path;

use heck::ToSnakeCase;
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::facade::{
    ENUM_EXTENSION, EnumDef, EnumKind, NAME_EXTENSION, UNIT_EXTENSION, enum_items, enums,
};
use crate::{CodegenError, spec_error};

/// The components extension mapping each `eventType` to its payload schema and variant.
pub(crate) const EVENTS_EXTENSION: &str = "x-events";
/// The schema extension that marks a schema as part of an event payload.
pub(crate) const EVENT_EXTENSION: &str = "x-event";

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// One documented event type.
struct EventType {
    name: String,
    payload: String,
    variant: String,
    directed: bool,
    /// DingTalk's page of the event type, if the spec gives it.
    page: Option<String>,
}

/// Whether `schema` is marked `x-event: true`.
fn is_event_schema(schema: &Schema) -> bool {
    schema.schema_data.extensions.get(EVENT_EXTENSION) == Some(&Value::Bool(true))
}

/// The spec without its event schemas: they describe pushed payloads, not answers, and the
/// generated client has no use for types of them.
pub(crate) fn strip_event_schemas(spec: &mut OpenAPI) {
    if let Some(components) = spec.components.as_mut() {
        components.schemas.retain(|_, schema| match schema {
            ReferenceOr::Item(schema) => !is_event_schema(schema),
            ReferenceOr::Reference { .. } => true,
        });
    }
}

/// The generated module's items.
pub(crate) fn events(spec: &OpenAPI, path: &Path) -> Result<TokenStream, CodegenError> {
    let components = spec
        .components
        .as_ref()
        .ok_or_else(|| spec_error(path, "the spec has no components".to_string()))?;
    let enums = enums(spec, path)?;
    let types = read_event_types(components, path)?;
    let schemas: BTreeMap<&str, &Schema> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| match schema {
            ReferenceOr::Item(schema) if is_event_schema(schema) => Some((name.as_str(), schema)),
            _ => None,
        })
        .collect();
    check_event_schemas(&schemas, &types, path)?;

    let type_names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let count = proc_macro2::Literal::usize_unsuffixed(type_names.len());
    let mut items = quote! {
        use std::sync::Arc;
        #[allow(unused_imports)]
        use std::time::Duration;

        #[allow(unused_imports)]
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Serialize};
        use serde_json::Value;

        #[allow(unused_imports)]
        use super::{Mismatch, Object, flag, int, int32, list, nested, span, text, time};

        /// Every `eventType` DingTalk documents for conferences, sorted: each is typed by
        /// [`ConferenceEvent`]; any other arrives as [`ConferenceEvent::Unknown`].
        pub const EVENT_TYPES: [&str; #count] = [#(#type_names),*];
    };

    let payloads: Vec<&str> = types.iter().map(|t| t.payload.as_str()).collect();
    for (name, schema) in &schemas {
        if payloads.contains(name) {
            continue;
        }
        items.extend(event_struct(name, schema, &enums, path)?);
    }
    for def in enums.values().filter(|def| def.events) {
        items.extend(enum_items(def));
    }
    items.extend(event_enum(&types, &schemas, &enums, path)?);
    Ok(items)
}

fn read_event_types(
    components: &openapiv3::Components,
    path: &Path,
) -> Result<Vec<EventType>, CodegenError> {
    let bad = |what: String| spec_error(path, format!("components.{EVENTS_EXTENSION}: {what}"));
    let map = components
        .extensions
        .get(EVENTS_EXTENSION)
        .and_then(Value::as_object)
        .ok_or_else(|| bad("missing, or not a map from eventType to its declaration".into()))?;
    let mut types: Vec<EventType> = Vec::new();
    for (name, declaration) in map {
        let text = |key: &str| -> Result<String, CodegenError> {
            declaration
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{name} has no `{key}` text")))
        };
        let directed = match declaration.get("directed") {
            None => false,
            Some(Value::Bool(directed)) => *directed,
            Some(_) => return Err(bad(format!("{name}: `directed` must be true or false"))),
        };
        let event = EventType {
            name: name.clone(),
            payload: text("payload")?,
            variant: text("variant")?,
            directed,
            page: declaration
                .get("page")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        if event.variant == "Unknown" || syn::parse_str::<syn::Ident>(&event.variant).is_err() {
            return Err(bad(format!(
                "{name}: the variant `{}` is reserved or not a Rust name",
                event.variant
            )));
        }
        if let Some(other) = types
            .iter()
            .find(|t| t.variant == event.variant && t.payload != event.payload)
        {
            return Err(bad(format!(
                "{name} and {} share the variant {} but not the payload schema",
                other.name, event.variant
            )));
        }
        types.push(event);
    }
    Ok(types)
}

/// Every payload is an event schema; every event schema is a payload or reached from one;
/// event schemas refer to event schemas only.
fn check_event_schemas(
    schemas: &BTreeMap<&str, &Schema>,
    types: &[EventType],
    path: &Path,
) -> Result<(), CodegenError> {
    let mut reached: Vec<&str> = Vec::new();
    for event in types {
        if !schemas.contains_key(event.payload.as_str()) {
            return Err(spec_error(
                path,
                format!(
                    "components.{EVENTS_EXTENSION}.{}: the payload {} is not a schema marked \
                     `{EVENT_EXTENSION}: true`",
                    event.name, event.payload
                ),
            ));
        }
        reached.push(&event.payload);
    }
    for (name, schema) in schemas {
        for target in references(schema) {
            if !schemas.contains_key(target) {
                return Err(spec_error(
                    path,
                    format!(
                        "schema {name} (`{EVENT_EXTENSION}: true`) refers to {target}, which is \
                         not marked `{EVENT_EXTENSION}: true`"
                    ),
                ));
            }
            reached.push(target);
        }
    }
    if let Some(name) = schemas.keys().find(|name| !reached.contains(name)) {
        return Err(spec_error(
            path,
            format!(
                "schema {name} is marked `{EVENT_EXTENSION}: true` but no event uses it: name \
                 it as a payload in components.{EVENTS_EXTENSION} or refer to it from one"
            ),
        ));
    }
    Ok(())
}

/// The schemas a schema's properties refer to.
fn references(schema: &Schema) -> Vec<&str> {
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Vec::new();
    };
    object
        .properties
        .values()
        .filter_map(|property| match property {
            ReferenceOr::Reference { reference } => Some(reference.as_str()),
            ReferenceOr::Item(property) => match &property.schema_kind {
                SchemaKind::AllOf { all_of } => match all_of.as_slice() {
                    [ReferenceOr::Reference { reference }] => Some(reference.as_str()),
                    _ => None,
                },
                SchemaKind::Type(Type::Array(array)) => match array.items.as_ref() {
                    Some(ReferenceOr::Reference { reference }) => Some(reference.as_str()),
                    _ => None,
                },
                _ => None,
            },
        })
        .filter_map(|reference| reference.strip_prefix(SCHEMA_PREFIX))
        .collect()
}

/// One field: its Rust name, type, doc and the expression that reads it from `object`.
struct Field {
    ident: proc_macro2::Ident,
    ty: TokenStream,
    doc: String,
    read: TokenStream,
}

fn fields(
    schema_name: &str,
    schema: &Schema,
    enums: &BTreeMap<String, EnumDef>,
    path: &Path,
) -> Result<Vec<Field>, CodegenError> {
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Err(spec_error(
            path,
            format!("schema {schema_name}: an event schema must be an object"),
        ));
    };
    let mut fields = Vec::new();
    for (wire, property) in &object.properties {
        let unsupported = |why: &str| {
            spec_error(
                path,
                format!(
                    "schema {schema_name}.{wire}: {why}; the events generator (xtask/src/events.rs) \
                     does not know how to type it"
                ),
            )
        };
        let (extensions, description) = match property {
            ReferenceOr::Item(property) => (
                Some(&property.schema_data.extensions),
                property.schema_data.description.as_deref(),
            ),
            ReferenceOr::Reference { .. } => (None, None),
        };
        let ident = match extensions
            .and_then(|e| e.get(NAME_EXTENSION))
            .and_then(Value::as_str)
        {
            Some(name) => format_ident!("{name}"),
            None => format_ident!("{}", wire.to_snake_case()),
        };
        let (ty, read) = field_type(wire, property, enums).map_err(|why| unsupported(&why))?;
        let doc = match description {
            Some(text) => format!(" `{wire}`: {}", text.trim()),
            None => format!(" `{wire}`."),
        };
        fields.push(Field {
            ident,
            ty,
            doc,
            read,
        });
    }
    Ok(fields)
}

/// The Rust type of one property and the expression reading it from `object`.
fn field_type(
    wire: &str,
    property: &ReferenceOr<Box<Schema>>,
    enums: &BTreeMap<String, EnumDef>,
) -> Result<(TokenStream, TokenStream), String> {
    let nested = |reference: &str| -> Result<(TokenStream, TokenStream), String> {
        let target = reference
            .strip_prefix(SCHEMA_PREFIX)
            .ok_or_else(|| format!("a reference to `{reference}`"))?;
        let item = format_ident!("{target}");
        Ok((
            quote! { Option<#item> },
            quote! { nested(object, #wire, #item::from_json)? },
        ))
    };
    let property = match property {
        ReferenceOr::Reference { reference } => return nested(reference),
        ReferenceOr::Item(property) => property.as_ref(),
    };
    let extensions = &property.schema_data.extensions;
    let unit = extensions.get(UNIT_EXTENSION).and_then(Value::as_str);
    if let Some(name) = extensions.get(ENUM_EXTENSION).and_then(Value::as_str) {
        let def = enums
            .get(name)
            .ok_or_else(|| format!("`{ENUM_EXTENSION}: {name}` names no declared enum"))?;
        let ident = format_ident!("{name}");
        let ty = if def.events {
            quote! { #ident }
        } else {
            quote! { crate::#ident }
        };
        let read = match (&property.schema_kind, def.kind) {
            (SchemaKind::Type(Type::String(_)), EnumKind::Str) => quote! { text(object, #wire)? },
            (SchemaKind::Type(Type::Integer(_)), EnumKind::Int { wide: true }) => {
                quote! { int(object, #wire)? }
            }
            (SchemaKind::Type(Type::Integer(_)), EnumKind::Int { wide: false }) => {
                quote! { int32(object, #wire)? }
            }
            _ => return Err(format!("its type is not the type of the enum {name}")),
        };
        return Ok((quote! { Option<#ty> }, quote! { #read.map(#ty::from) }));
    }
    match &property.schema_kind {
        SchemaKind::AllOf { all_of } => match all_of.as_slice() {
            [ReferenceOr::Reference { reference }] => nested(reference),
            _ => Err("an `allOf` other than a single `$ref`".to_string()),
        },
        SchemaKind::Type(Type::Integer(int)) => {
            let wide = matches!(
                &int.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64)
            );
            match (unit, wide) {
                (Some("epoch-millis"), true) => Ok((
                    quote! { Option<DateTime<Utc>> },
                    quote! { time(object, #wire)? },
                )),
                (Some("millis"), true) => {
                    Ok((quote! { Option<Duration> }, quote! { span(object, #wire)? }))
                }
                (Some(other), _) => Err(format!(
                    "`{UNIT_EXTENSION}: {other}` on an integer that is not int64 \
                     (known units: epoch-millis, millis)"
                )),
                (None, true) => Ok((quote! { Option<i64> }, quote! { int(object, #wire)? })),
                (None, false) => Ok((quote! { Option<i32> }, quote! { int32(object, #wire)? })),
            }
        }
        _ if unit.is_some() => Err(format!("`{UNIT_EXTENSION}` on a non-integer")),
        SchemaKind::Type(Type::String(_)) => {
            Ok((quote! { Option<String> }, quote! { text(object, #wire)? }))
        }
        SchemaKind::Type(Type::Boolean(_)) => {
            Ok((quote! { Option<bool> }, quote! { flag(object, #wire)? }))
        }
        SchemaKind::Type(Type::Array(array)) => match array.items.as_ref() {
            Some(ReferenceOr::Reference { reference }) => {
                let target = reference
                    .strip_prefix(SCHEMA_PREFIX)
                    .ok_or_else(|| format!("a list of `{reference}`"))?;
                let item = format_ident!("{target}");
                Ok((
                    quote! { Vec<#item> },
                    quote! { list(object, #wire, #item::from_json)? },
                ))
            }
            _ => Err("a list of something other than event schemas".to_string()),
        },
        _ => Err("a type other than integer, string, boolean, list or object".to_string()),
    }
}

fn event_struct(
    name: &str,
    schema: &Schema,
    enums: &BTreeMap<String, EnumDef>,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let ident = format_ident!("{name}");
    let doc = format!(
        " {}",
        schema
            .schema_data
            .description
            .as_deref()
            .map_or(name, str::trim)
    );
    let fields = fields(name, schema, enums, path)?;
    let docs = fields.iter().map(|f| &f.doc);
    let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    let types = fields.iter().map(|f| &f.ty);
    let reads = fields.iter().map(|f| &f.read);
    Ok(quote! {
        #[doc = #doc]
        ///
        /// Every field is optional because DingTalk omits what does not apply; lists are empty
        /// when absent.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct #ident {
            #( #[doc = #docs] pub #idents: #types, )*
        }

        impl #ident {
            fn from_json(object: &Object) -> Result<Self, Mismatch> {
                Ok(Self { #( #idents: #reads, )* })
            }
        }
    })
}

/// `ConferenceEvent`: a variant per payload, `Unknown`, and the dispatch from `eventType`.
fn event_enum(
    types: &[EventType],
    schemas: &BTreeMap<&str, &Schema>,
    enums: &BTreeMap<String, EnumDef>,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let mut variants = TokenStream::new();
    let mut constructors = TokenStream::new();
    let mut seen: Vec<&str> = Vec::new();
    for event in types {
        if seen.contains(&event.variant.as_str()) {
            continue;
        }
        seen.push(&event.variant);
        let schema = schemas[event.payload.as_str()];
        let fields = fields(&event.payload, schema, enums, path)?;
        let variant = format_ident!("{}", event.variant);
        let constructor = format_ident!("{}", event.variant.to_snake_case());
        let names: Vec<String> = types
            .iter()
            .filter(|t| t.variant == event.variant)
            .map(|t| {
                let name = match &t.page {
                    Some(page) => format!("[`{}`]({page})", t.name),
                    None => format!("`{}`", t.name),
                };
                if t.directed {
                    format!("{name} (`directed`)")
                } else {
                    name
                }
            })
            .collect();
        let description = schema
            .schema_data
            .description
            .as_deref()
            .map_or(event.payload.as_str(), str::trim);
        let doc = format!(" {description}");
        let types_doc = format!(" Event types: {}.", names.join(", "));
        let docs = fields.iter().map(|f| &f.doc);
        let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
        let field_types = fields.iter().map(|f| &f.ty);
        let reads = fields.iter().map(|f| &f.read);
        variants.extend(quote! {
            #[doc = #doc]
            ///
            #[doc = #types_doc]
            #[non_exhaustive]
            #variant {
                #( #[doc = #docs] #idents: #field_types, )*
                /// Whether it came as the directed form of its type (`_target_push`,
                /// `_directed`): pushed only to the app the conference or record belongs to.
                directed: bool,
            },
        });
        constructors.extend(quote! {
            fn #constructor(object: &Object, directed: bool) -> Result<Self, Mismatch> {
                Ok(Self::#variant { #( #idents: #reads, )* directed })
            }
        });
    }
    let arms = types.iter().map(|event| {
        let name = event.name.as_str();
        let constructor = format_ident!("{}", event.variant.to_snake_case());
        let directed = event.directed;
        quote! { #name => Self::#constructor(object, #directed), }
    });
    Ok(quote! {
        /// The payload of a conference event, typed by its `eventType`.
        ///
        /// Each variant's fields are optional (lists empty) because DingTalk omits what does
        /// not apply; its `directed` says which of its two event types it came as.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ConferenceEvent {
            #variants
            /// An event type this crate does not know, or a payload that does not fit its
            /// documented type: delivered anyway, with its raw JSON.
            Unknown {
                /// `eventType` as sent.
                event_type: String,
                /// The payload as sent (text that is not JSON as a JSON string).
                raw: Arc<Value>,
            },
        }

        impl ConferenceEvent {
            /// Types the payload of a documented `eventType`; `None` for any other type.
            pub(super) fn from_documented(
                event_type: &str,
                object: &Object,
            ) -> Option<Result<Self, Mismatch>> {
                Some(match event_type {
                    #( #arms )*
                    _ => return None,
                })
            }

            #constructors
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SPEC: &str = include_str!("../../spec/dingtalk-conference.yaml");

    /// The spec with more schemas (YAML indented as under `components.schemas`) and more
    /// entries of `components.x-events` (the spec's last map, so they go at its end).
    fn with(schemas: &str, event_types: &str) -> OpenAPI {
        let text =
            SPEC.replacen("\n  schemas:\n", &format!("\n  schemas:\n{schemas}"), 1) + event_types;
        crate::parse_spec(&text, Path::new("spec.yaml")).expect("the changed spec parses")
    }

    fn generated(spec: &OpenAPI) -> Result<String, CodegenError> {
        let tokens = events(spec, Path::new("spec.yaml"))?;
        let file: syn::File = syn::parse2(tokens).expect("the generated module parses");
        Ok(prettyplease::unparse(&file))
    }

    fn refusal(schemas: &str, event_types: &str) -> String {
        generated(&with(schemas, event_types))
            .expect_err("refused")
            .to_string()
    }

    const ROOM_BOOKED: &str = r#"    RoomBookedEvent:
      type: object
      x-event: true
      description: A room was booked.
      properties:
        roomId:
          type: string
          x-facade-name: room
        bookedAt:
          type: integer
          format: int64
          x-unit: epoch-millis
        openConfModel:
          allOf:
            - $ref: '#/components/schemas/EventConference'
          x-facade-name: conference
"#;

    #[test]
    fn a_new_event_type_is_the_spec_alone() {
        let spec = with(
            ROOM_BOOKED,
            "    meetingroom_book:\n      payload: RoomBookedEvent\n      variant: RoomBooked\n",
        );
        let code = generated(&spec).expect("it generates");
        for expected in [
            "pub const EVENT_TYPES: [&str; 9] = [",
            "\"meetingroom_book\" => Self::room_booked(object, false),",
            "    RoomBooked {\n",
            "        room: Option<String>,\n",
            "        booked_at: Option<DateTime<Utc>>,\n",
            "        conference: Option<EventConference>,\n",
            "room: text(object, \"roomId\")?,",
            "booked_at: time(object, \"bookedAt\")?,",
            "conference: nested(object, \"openConfModel\", EventConference::from_json)?,",
        ] {
            assert!(code.contains(expected), "{expected}\n{code}");
        }
    }

    #[test]
    fn the_spec_generates_a_variant_per_payload_and_an_arm_per_event_type() {
        let spec = crate::parse_spec(SPEC, Path::new("spec.yaml")).expect("the spec parses");
        let code = generated(&spec).expect("it generates");
        for expected in [
            "\"meeting_status_change\" => Self::status_changed(object, false),",
            "\"meeting_status_change_target_push\" => Self::status_changed(object, true),",
            "members: list(object, \"openMemberModels\", EventMember::from_json)?,",
            "scene: text(object, \"changeScene\")?.map(ConferenceScene::from),",
            "status: int(object, \"status\")?.map(crate::ConferenceStatus::from),",
            "pub enum MemberScene {",
        ] {
            assert!(code.contains(expected), "{expected}\n{code}");
        }
        assert_eq!(
            code.matches("    #[non_exhaustive]\n    ").count(),
            4,
            "{code}"
        );
    }

    #[test]
    fn the_generated_client_has_no_event_types() {
        let client = crate::generate_from_str(SPEC, "spec.yaml").expect("it generates");
        assert!(!client.contains("EventConference"));
        assert!(!client.contains("MeetingStatusChangeEvent"));
        assert!(client.contains("pub struct ConferenceInfo"));
    }

    #[test]
    fn an_event_schema_no_event_uses_is_refused() {
        let message = refusal(ROOM_BOOKED, "");
        assert!(message.contains("RoomBookedEvent"), "{message}");
        assert!(message.contains("no event uses it"), "{message}");
    }

    #[test]
    fn a_payload_not_marked_as_an_event_schema_is_refused() {
        let message = refusal(
            "",
            "    meetingroom_book:\n      payload: ConferenceInfo\n      variant: RoomBooked\n",
        );
        assert!(
            message.contains("not a schema marked `x-event: true`"),
            "{message}"
        );
    }

    #[test]
    fn two_payloads_for_one_variant_are_refused() {
        let message = refusal(
            ROOM_BOOKED,
            "    meetingroom_book:\n      payload: RoomBookedEvent\n      variant: StatusChanged\n",
        );
        assert!(
            message.contains("share the variant StatusChanged"),
            "{message}"
        );
    }

    #[test]
    fn a_reserved_variant_name_is_refused() {
        let message = refusal(
            ROOM_BOOKED,
            "    meetingroom_book:\n      payload: RoomBookedEvent\n      variant: Unknown\n",
        );
        assert!(message.contains("reserved"), "{message}");
    }

    #[test]
    fn a_reference_to_a_schema_of_the_api_is_refused() {
        let schemas = ROOM_BOOKED.replace(
            "'#/components/schemas/EventConference'",
            "'#/components/schemas/ConferenceInfo'",
        );
        let message = refusal(
            &schemas,
            "    meetingroom_book:\n      payload: RoomBookedEvent\n      variant: RoomBooked\n",
        );
        assert!(message.contains("refers to ConferenceInfo"), "{message}");
    }

    #[test]
    fn a_field_type_the_generator_cannot_read_is_refused() {
        let schemas = format!("{ROOM_BOOKED}        price:\n          type: number\n");
        let message = refusal(
            &schemas,
            "    meetingroom_book:\n      payload: RoomBookedEvent\n      variant: RoomBooked\n",
        );
        assert!(message.contains("RoomBookedEvent.price"), "{message}");
        assert!(message.contains("xtask/src/events.rs"), "{message}");
    }
}
