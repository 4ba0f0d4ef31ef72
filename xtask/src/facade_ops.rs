//! The facade's operation layer ([`FACADE_OPS_PATH`](crate::FACADE_OPS_PATH)) and the
//! operation table of `docs/conference-operations.md`, generated from each operation's
//! `x-facade-op` extension:
//!
//! ```yaml
//! x-facade-op:
//!   method: conference_info   # the facade method's name
//!   kind: read                # read | write (default: GET reads, anything else writes)
//!   retry-safe: true          # writes only: sending it twice is harmless (default false)
//!   returns: confInfo         # an answer field, `whole`, or `unit` (a write answered {success})
//!   paging:                   # paged reads: a `Listing`
//!     token: nextToken        # the query parameter carrying the page token
//!     size: maxResults        # the query parameter for the page size, if any
//!     next: nextToken         # the answer field with the next token
//!     items: memberModels     # the answer field with the items
//!     has-more: hasMore       # optional
//!     total: totalCount       # optional
//!   builder:                  # a request body with optional fields: a generated builder
//!     name: NewConference     # (`builder: Name` alone: a hand-written one with `into_request`)
//!     fields:                 # every request field, in `new`'s order: required strings are
//!       - wire: userId        # `new`'s arguments, lists get an adder (`add`, `arg`, `unique`),
//!         name: organiser     # optional values a setter named `name` taking `arg`
//!   expect: [conferenceId]    # answer fields a success must carry (non-empty)
//!   answer: conferences::close_answer   # hook: hand-written answer conversion under `ops::`
//!   hand: why                 # hook: the method is hand-written (descriptor and table only)
//!   doc: text for Rust users  # the method's doc, before the operation's `description`
//! ```
//!
//! For each operation it writes the pipeline descriptor (`Operation`), the async method (the
//! argument checks, the read key, the call through `Client::read`/`Client::execute`, the
//! answer's conversion into the typed model or a `Listing`), and its blocking mirror.
//!
//! The argument checks the generated methods call are chosen in ONE place, [`check_call`].

use std::collections::BTreeSet;
use std::path::Path;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::facade::FACADE_EXTENSION;

/// The extension that gives an integer a unit (`epoch-millis` makes a time argument typed).
const UNIT_EXTENSION: &str = "x-unit";
use crate::{CodegenError, spec_error};

/// The operation extension this module reads.
pub(crate) const OP_EXTENSION: &str = "x-facade-op";

/// The marks around the generated table in `docs/conference-operations.md`.
pub(crate) const TABLE_BEGIN: &str =
    "<!-- BEGIN GENERATED: operation table (cargo xtask codegen, from x-facade-op) -->";
pub(crate) const TABLE_END: &str = "<!-- END GENERATED: operation table -->";

/// The spec's generated check of one parameter (`dingtalk_conference_api::checks`, written by
/// `xtask/src/checks.rs` from the parameter's constraints and `x-id`), shared with the CLI and
/// the fake server; its `InputError` names the parameter.
fn check_call(operation_id: &str, parameter: &str, arg: &TokenStream) -> TokenStream {
    let module = format_ident!("{}", operation_id.to_snake_case());
    let function = format_ident!("{}", parameter.to_snake_case());
    quote! { dingtalk_conference_api::checks::#module::#function(#arg).map_err(Error::from) }
}

/// Read or write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write { retry_safe: bool },
}

/// A path or query parameter that becomes a method argument.
struct Param {
    /// The spec's name (`conferenceId`).
    name: String,
    ident: proc_macro2::Ident,
    ty: ParamType,
    required: bool,
    /// An `int64` with `minimum: 1`, which progenitor types `NonZeroU64`.
    non_zero: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ParamType {
    Str,
    I32,
    I64,
    Bool,
    /// An `int64` with `x-unit: epoch-millis`: the facade takes a `DateTime<Utc>`.
    Time,
}

impl ParamType {
    fn rust(self) -> TokenStream {
        match self {
            Self::Str => quote! { &str },
            Self::I32 => quote! { i32 },
            Self::I64 => quote! { i64 },
            Self::Bool => quote! { bool },
            Self::Time => quote! { ::chrono::DateTime<::chrono::Utc> },
        }
    }
}

struct Paging {
    token: String,
    size: Option<String>,
    next: String,
    items: String,
    has_more: Option<String>,
    total: Option<String>,
}

/// What the method returns.
enum Returns {
    /// A field of the answer: a facade type (required) or a list of one (absent reads empty).
    Field {
        wire: String,
        ty: TokenStream,
        list: bool,
        facade: Option<proc_macro2::Ident>,
    },
    /// The whole answer: its facade type, or the generated client's type.
    Whole {
        ty: TokenStream,
        facade: Option<proc_macro2::Ident>,
    },
    /// `()`: a write answered `{success: true}` (a `success: false` is an error).
    Unit { has_success: bool },
    /// A `Listing` of the paging's items.
    Listing { item: proc_macro2::Ident },
}

/// One operation with `x-facade-op`.
struct Op {
    id: String,
    http: String,
    route: String,
    description: String,
    method: proc_macro2::Ident,
    kind: Kind,
    explicit_kind: bool,
    returns: Option<Returns>,
    returns_text: String,
    paging: Option<Paging>,
    builder: Option<proc_macro2::Ident>,
    /// The builder, when the spec declares it (else it is hand-written).
    builder_decl: Option<Builder>,
    expect: Vec<String>,
    answer_hook: Option<TokenStream>,
    hand: Option<String>,
    doc: Option<String>,
    /// Path parameters in path order, then query parameters by name (progenitor's order).
    params: Vec<Param>,
    response: Option<String>,
}

impl Op {
    fn konst(&self) -> proc_macro2::Ident {
        format_ident!("{}", self.id.to_shouty_snake_case())
    }

    fn client_method(&self) -> proc_macro2::Ident {
        format_ident!("{}", self.id.to_snake_case())
    }

    fn answer_fn(&self) -> proc_macro2::Ident {
        format_ident!("{}_answer", self.id.to_snake_case())
    }

    fn is_paging_param(&self, name: &str) -> bool {
        self.paging
            .as_ref()
            .is_some_and(|p| p.token == name || p.size.as_deref() == Some(name))
    }

    /// The method's arguments: the parameters minus the paging ones.
    fn args(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| !self.is_paging_param(&p.name))
    }

    fn subject(&self, value: impl Fn(&Param, usize) -> TokenStream) -> TokenStream {
        match self
            .args()
            .enumerate()
            .find(|(_, p)| p.name == "conferenceId" && p.required && p.ty == ParamType::Str)
        {
            Some((i, p)) => {
                let v = value(p, i);
                quote! { Subject::conference(#v) }
            }
            None => quote! { Subject::default() },
        }
    }
}

/// Every operation of the spec that has `x-facade-op`, in the spec's order.
fn operations(spec: &OpenAPI, path: &Path) -> Result<Vec<Op>, CodegenError> {
    let components = spec.components.as_ref();
    let mut ops = Vec::new();
    for (route, method, operation) in spec.operations() {
        let Some(decl) = operation.extensions.get(OP_EXTENSION) else {
            continue;
        };
        let id = operation.operation_id.clone().unwrap_or_default();
        let bad =
            |what: String| spec_error(path, format!("operation {id}: `{OP_EXTENSION}`: {what}"));
        let text = |key: &str| decl.get(key).and_then(Value::as_str).map(str::to_string);
        let method_name = text("method").ok_or_else(|| bad("no `method` name".to_string()))?;
        let explicit_kind = decl.get("kind").is_some();
        let kind = match text("kind").as_deref() {
            Some("read") => Kind::Read,
            Some("write") => Kind::Write {
                retry_safe: decl
                    .get("retry-safe")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            None if method == "get" => Kind::Read,
            None => Kind::Write {
                retry_safe: decl
                    .get("retry-safe")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            Some(other) => return Err(bad(format!("kind `{other}` is not read or write"))),
        };
        if kind == Kind::Read && decl.get("retry-safe").is_some() {
            return Err(bad("`retry-safe` is for writes only".to_string()));
        }
        let params = parameters(operation, route, &bad)?;
        let response = success_schema(operation);
        let paging = match decl.get("paging") {
            None => None,
            Some(p) => {
                let field = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_string);
                let need =
                    |key: &str| field(key).ok_or_else(|| bad(format!("`paging` has no `{key}`")));
                Some(Paging {
                    token: need("token")?,
                    size: field("size"),
                    next: need("next")?,
                    items: need("items")?,
                    has_more: field("has-more"),
                    total: field("total"),
                })
            }
        };
        let hand = text("hand");
        if let Some(paging) = &paging {
            for name in std::iter::once(&paging.token).chain(paging.size.as_ref()) {
                if hand.is_none() && !params.iter().any(|p| &p.name == name) {
                    return Err(bad(format!(
                        "`paging` names the parameter {name}, which it has not"
                    )));
                }
            }
        }
        let answer_hook = match text("answer") {
            Some(hook) => Some(
                format!("super::{hook}")
                    .parse::<TokenStream>()
                    .map_err(|e| bad(format!("`answer: {hook}` is not a path: {e}")))?,
            ),
            None => None,
        };
        let returns_text = text("returns").unwrap_or_default();
        let returns = if hand.is_some() || answer_hook.is_some() {
            None
        } else {
            Some(returns_of(
                &returns_text,
                paging.as_ref(),
                response.as_deref(),
                components,
                &bad,
            )?)
        };
        let expect = decl
            .get("expect")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let (builder, builder_decl) = match decl.get("builder") {
            None => (None, None),
            Some(Value::String(name)) => (Some(format_ident!("{name}")), None),
            Some(b) => {
                let name = b
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("`builder` has no `name`".to_string()))?;
                let request = request_schema(operation)
                    .ok_or_else(|| bad("`builder` needs a request body $ref".to_string()))?;
                let request_schema = schema(components, &request)
                    .ok_or_else(|| bad(format!("no schema {request}")))?;
                (
                    Some(format_ident!("{name}")),
                    Some(builder_decl(name, b, &request, request_schema, &bad)?),
                )
            }
        };
        if hand.is_none() && operation.request_body.is_some() && builder.is_none() {
            return Err(bad(
                "an operation with a request body needs `builder` (or `hand`)".to_string(),
            ));
        }
        ops.push(Op {
            id,
            http: method.to_uppercase(),
            route: route.to_string(),
            description: operation
                .description
                .clone()
                .or_else(|| operation.summary.clone())
                .unwrap_or_default()
                .trim()
                .to_string(),
            method: format_ident!("{method_name}"),
            kind,
            explicit_kind,
            returns,
            returns_text,
            paging,
            builder,
            builder_decl,
            expect,
            answer_hook,
            hand,
            doc: text("doc").map(|d| d.trim_end().to_string()),
            params,
            response,
        });
    }
    Ok(ops)
}

fn parameters(
    operation: &Operation,
    route: &str,
    bad: &dyn Fn(String) -> CodegenError,
) -> Result<Vec<Param>, CodegenError> {
    let mut path_params = Vec::new();
    let mut query_params = Vec::new();
    for parameter in &operation.parameters {
        let ReferenceOr::Item(parameter) = parameter else {
            return Err(bad("a parameter that is a $ref".to_string()));
        };
        let (data, in_path) = match parameter {
            Parameter::Path { parameter_data, .. } => (parameter_data, true),
            Parameter::Query { parameter_data, .. } => (parameter_data, false),
            _ => continue,
        };
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => Some(schema),
            // A JSON document in a query parameter travels as text (`checks::for_progenitor`).
            ParameterSchemaOrContent::Content(_) if !in_path => None,
            _ => return Err(bad(format!("parameter {}: no inline schema", data.name))),
        };
        let ty = match schema.map(|schema| &schema.schema_kind) {
            Some(SchemaKind::Type(Type::Boolean(_))) => ParamType::Bool,
            Some(SchemaKind::Type(Type::Integer(int))) => match &int.format {
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64) => {
                    ParamType::I64
                }
                _ => ParamType::I32,
            },
            _ => ParamType::Str,
        };
        // A time (`x-unit: epoch-millis` on the parameter or its schema) is taken typed.
        let epoch_millis = |extensions: &indexmap::IndexMap<String, Value>| {
            extensions.get(UNIT_EXTENSION).and_then(Value::as_str) == Some("epoch-millis")
        };
        let ty = if ty == ParamType::I64
            && (epoch_millis(&data.extensions)
                || schema.is_some_and(|schema| epoch_millis(&schema.schema_data.extensions)))
        {
            ParamType::Time
        } else {
            ty
        };
        // `x-facade-name` renames the argument for Rust users (`creatorNike` → `creator_nick`).
        let rust_name = data
            .extensions
            .get(crate::facade::NAME_EXTENSION)
            .and_then(Value::as_str)
            .map_or_else(|| data.name.to_snake_case(), str::to_string);
        let param = Param {
            ident: format_ident!("{rust_name}"),
            name: data.name.clone(),
            ty,
            required: data.required,
            non_zero: ty == ParamType::I64
                && matches!(
                    schema.map(|schema| &schema.schema_kind),
                    Some(SchemaKind::Type(Type::Integer(int))) if int.minimum.is_some_and(|m| m >= 1)
                ),
        };
        if in_path {
            let at = route
                .find(&format!("{{{}}}", data.name))
                .unwrap_or(usize::MAX);
            path_params.push((at, param));
        } else {
            query_params.push(param);
        }
    }
    path_params.sort_by_key(|(at, _)| *at);
    query_params.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(path_params
        .into_iter()
        .map(|(_, p)| p)
        .chain(query_params)
        .collect())
}

/// A request builder declared in `x-facade-op.builder`.
struct Builder {
    name: proc_macro2::Ident,
    doc: String,
    new_doc: String,
    request: proc_macro2::Ident,
    fields: Vec<BuilderField>,
}

struct BuilderField {
    wire: String,
    name: proc_macro2::Ident,
    doc: String,
    shape: FieldShape,
    /// Whether it holds a generated client type (which is `PartialEq` but not `Eq`).
    nested: bool,
}

enum FieldShape {
    /// A required string: an argument of `new`.
    Required,
    /// A required boolean: an argument of `new`.
    RequiredBool,
    /// A required integer: an `i64` argument of `new`.
    RequiredInteger,
    /// A required time (`x-unit: epoch-millis`): a `DateTime<Utc>` argument of `new`, sent as
    /// epoch milliseconds.
    RequiredTime,
    /// A list of strings, with an adder `add(arg)` and, if `unique`, repeats sent once.
    List {
        add: proc_macro2::Ident,
        arg: proc_macro2::Ident,
        add_doc: String,
        unique: bool,
    },
    /// An optional value, with a setter `name(arg)`.
    Optional {
        ty: TokenStream,
        arg: proc_macro2::Ident,
        set_doc: String,
    },
}

fn builder_decl(
    name: &str,
    decl: &Value,
    request: &str,
    request_schema: &Schema,
    bad: &dyn Fn(String) -> CodegenError,
) -> Result<Builder, CodegenError> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let SchemaKind::Type(Type::Object(object)) = &request_schema.schema_kind else {
        return Err(bad(format!("the request {request} is not an object")));
    };
    // A list, so that the order of `new`'s arguments and of the checks is the declared one.
    let declared = decl
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("`builder` has no `fields` list".to_string()))?;
    for (wire, _) in &object.properties {
        if !declared
            .iter()
            .any(|f| text(f, "wire").as_deref() == Some(wire.as_str()))
        {
            return Err(bad(format!(
                "`builder.fields` does not declare {request}.{wire}"
            )));
        }
    }
    let mut fields = Vec::new();
    for field in declared {
        let wire = text(field, "wire")
            .ok_or_else(|| bad("a field of `builder.fields` has no `wire` name".to_string()))?;
        let property = object
            .properties
            .get(&wire)
            .ok_or_else(|| bad(format!("`builder.fields`: {request} has no field {wire}")))?;
        let wire = &wire;
        let rust_name = text(field, "name").unwrap_or_else(|| wire.to_snake_case());
        let required = object.required.iter().any(|r| r == wire);
        // A nested object: an optional setter taking the generated client's type of it.
        if let ReferenceOr::Reference { reference } = property {
            let target = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| bad(format!("{request}.{wire}: a $ref outside the schemas")))?;
            if required {
                return Err(bad(format!(
                    "{request}.{wire}: a required $ref the builder cannot hold"
                )));
            }
            let target = format_ident!("{target}");
            fields.push(BuilderField {
                wire: wire.clone(),
                name: format_ident!("{rust_name}"),
                doc: text(field, "doc").unwrap_or_else(|| format!("`{wire}`.")),
                shape: FieldShape::Optional {
                    ty: quote! { wire::#target },
                    arg: format_ident!(
                        "{}",
                        text(field, "arg").unwrap_or_else(|| "value".to_string())
                    ),
                    set_doc: text(field, "set-doc").unwrap_or_else(|| format!("Sets `{wire}`.")),
                },
                nested: true,
            });
            continue;
        }
        let ReferenceOr::Item(property) = property else {
            return Err(bad(format!(
                "{request}.{wire}: neither a schema nor a $ref"
            )));
        };
        let doc = text(field, "doc")
            .or_else(|| property.schema_data.description.clone())
            .unwrap_or_else(|| format!("`{wire}`."));
        let shape = match (&property.schema_kind, required) {
            (SchemaKind::Type(Type::String(_)), true) => FieldShape::Required,
            (SchemaKind::Type(Type::Boolean(_)), true) => FieldShape::RequiredBool,
            (SchemaKind::Type(Type::Integer(_)), true)
                if property
                    .schema_data
                    .extensions
                    .get(UNIT_EXTENSION)
                    .and_then(Value::as_str)
                    == Some("epoch-millis") =>
            {
                FieldShape::RequiredTime
            }
            (SchemaKind::Type(Type::Integer(_)), true) => FieldShape::RequiredInteger,
            (SchemaKind::Type(Type::Array(_)), _) => FieldShape::List {
                add: format_ident!(
                    "{}",
                    text(field, "add").ok_or_else(|| bad(format!("{wire}: a list needs `add`")))?
                ),
                arg: format_ident!(
                    "{}",
                    text(field, "arg").unwrap_or_else(|| "value".to_string())
                ),
                add_doc: text(field, "add-doc").unwrap_or_else(|| format!("Adds to `{wire}`.")),
                unique: field
                    .get("unique")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            (kind, false) => FieldShape::Optional {
                ty: match kind {
                    SchemaKind::Type(Type::Boolean(_)) => quote! { bool },
                    SchemaKind::Type(Type::String(_)) => quote! { String },
                    // The wire's width: progenitor types an `int32` field `i32`.
                    SchemaKind::Type(Type::Integer(integer))
                        if matches!(
                            integer.format,
                            openapiv3::VariantOrUnknownOrEmpty::Item(
                                openapiv3::IntegerFormat::Int32
                            )
                        ) =>
                    {
                        quote! { i32 }
                    }
                    SchemaKind::Type(Type::Integer(_)) => quote! { i64 },
                    _ => return Err(bad(format!("{wire}: a type the builder cannot hold"))),
                },
                arg: format_ident!(
                    "{}",
                    text(field, "arg").unwrap_or_else(|| "value".to_string())
                ),
                set_doc: text(field, "set-doc").unwrap_or_else(|| format!("Sets `{wire}`.")),
            },
            _ => {
                return Err(bad(format!(
                    "{wire}: a required field that is not a string, a boolean or an integer"
                )));
            }
        };
        fields.push(BuilderField {
            wire: wire.clone(),
            name: format_ident!("{rust_name}"),
            doc,
            shape,
            nested: false,
        });
    }
    Ok(Builder {
        name: format_ident!("{name}"),
        doc: text(decl, "doc").unwrap_or_else(|| format!("A `{request}` to send.")),
        new_doc: text(decl, "new-doc")
            .unwrap_or_else(|| "The request, with its required fields.".to_string()),
        request: format_ident!("{request}"),
        fields,
    })
}

/// The builder type, its methods and its checked `into_request`.
fn builder_items(op: &Op, builder: &Builder) -> TokenStream {
    let name = &builder.name;
    let request = &builder.request;
    let doc = doc_attrs(&builder.doc);
    let new_doc = doc_attrs(&builder.new_doc);
    let mut fields = TokenStream::new();
    let mut new_args = Vec::new();
    let mut new_init = Vec::new();
    let mut methods = TokenStream::new();
    let mut checks = TokenStream::new();
    let mut build = Vec::new();
    for field in &builder.fields {
        let ident = &field.name;
        let wire = format_ident!("{}", field.wire.to_snake_case());
        let field_doc = doc_attrs(&field.doc);
        match &field.shape {
            FieldShape::Required => {
                fields.extend(quote! { #field_doc pub #ident: String, });
                new_args.push(quote! { #ident: impl Into<String> });
                new_init.push(quote! { #ident: #ident.into() });
                build.push(quote! { #wire: self.#ident });
            }
            FieldShape::RequiredBool => {
                fields.extend(quote! { #field_doc pub #ident: bool, });
                new_args.push(quote! { #ident: bool });
                new_init.push(quote! { #ident });
                build.push(quote! { #wire: self.#ident });
            }
            FieldShape::RequiredTime => {
                fields.extend(quote! { #field_doc pub #ident: ::chrono::DateTime<::chrono::Utc>, });
                new_args.push(quote! { #ident: ::chrono::DateTime<::chrono::Utc> });
                new_init.push(quote! { #ident });
                build.push(quote! { #wire: self.#ident.timestamp_millis() });
            }
            FieldShape::RequiredInteger => {
                fields.extend(quote! { #field_doc pub #ident: i64, });
                new_args.push(quote! { #ident: i64 });
                new_init.push(quote! { #ident });
                build.push(quote! { #wire: self.#ident });
            }
            FieldShape::List {
                add,
                arg,
                add_doc,
                unique,
            } => {
                fields.extend(quote! { #field_doc pub #ident: Vec<String>, });
                new_init.push(quote! { #ident: Vec::new() });
                let add_doc = doc_attrs(add_doc);
                methods.extend(quote! {
                    #add_doc
                    pub fn #add(mut self, #arg: impl Into<String>) -> Self {
                        self.#ident.push(#arg.into());
                        self
                    }
                });
                let keep = if *unique {
                    quote! { if !#ident.contains(&item) { #ident.push(item); } }
                } else {
                    quote! { #ident.push(item); }
                };
                checks.extend(quote! {
                    let mut #ident: Vec<String> = Vec::with_capacity(self.#ident.len());
                    for item in self.#ident {
                        #keep
                    }
                });
                build.push(quote! { #wire: #ident });
            }
            FieldShape::Optional { ty, arg, set_doc } => {
                fields.extend(quote! { #field_doc pub #ident: Option<#ty>, });
                new_init.push(quote! { #ident: None });
                let set_doc = doc_attrs(set_doc);
                // A string setter takes anything that becomes one, like `new`'s arguments.
                let (arg_ty, value) = if ty.to_string() == "String" {
                    (quote! { impl Into<String> }, quote! { #arg.into() })
                } else {
                    (quote! { #ty }, quote! { #arg })
                };
                methods.extend(quote! {
                    #set_doc
                    pub fn #ident(mut self, #arg: #arg_ty) -> Self {
                        self.#ident = Some(#value);
                        self
                    }
                });
                build.push(quote! { #wire: self.#ident });
            }
        }
    }
    let body_check = check_call(&op.id, "body", &quote! { &request });
    // A builder with no required field starts empty: `Default` is that `new()`.
    let default = if new_args.is_empty() {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    } else {
        quote! {}
    };
    let into_doc = format!(
        " The request body of `{}`, checked: a bad field is refused before any request.",
        op.id
    );
    // A builder holding a generated client type is only `PartialEq`; the others are also
    // `Eq` and `Hash` (a read's builder is part of its read key).
    let derive = if builder.fields.iter().any(|f| f.nested) {
        quote! { #[derive(Debug, Clone, PartialEq)] }
    } else {
        quote! { #[derive(Debug, Clone, PartialEq, Eq, Hash)] }
    };
    quote! {
        #doc
        #derive
        #[non_exhaustive]
        pub struct #name {
            #fields
        }

        impl #name {
            #new_doc
            pub fn new(#(#new_args),*) -> Self {
                Self { #(#new_init),* }
            }

            #methods

            #[doc = #into_doc]
            pub(crate) fn into_request(self) -> Result<wire::#request, Error> {
                #checks
                let request = wire::#request { #(#build),* };
                #body_check?;
                Ok(request)
            }
        }

        #default
    }
}

/// The schema name of the request body.
fn request_schema(operation: &Operation) -> Option<String> {
    let ReferenceOr::Item(body) = operation.request_body.as_ref()? else {
        return None;
    };
    match body.content.get("application/json")?.schema.as_ref()? {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_string),
        ReferenceOr::Item(_) => None,
    }
}

/// The schema name of the 200 answer.
fn success_schema(operation: &Operation) -> Option<String> {
    let response = operation
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))?;
    let ReferenceOr::Item(response) = response else {
        return None;
    };
    let media = response.content.get("application/json")?;
    match media.schema.as_ref()? {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_string),
        ReferenceOr::Item(_) => None,
    }
}

fn schema<'a>(components: Option<&'a openapiv3::Components>, name: &str) -> Option<&'a Schema> {
    match components?.schemas.get(name)? {
        ReferenceOr::Item(schema) => Some(schema),
        ReferenceOr::Reference { .. } => None,
    }
}

fn facade_name(schema: &Schema) -> Option<proc_macro2::Ident> {
    schema
        .schema_data
        .extensions
        .get(FACADE_EXTENSION)
        .and_then(Value::as_str)
        .map(|name| format_ident!("{name}"))
}

fn property<'a>(schema: &'a Schema, field: &str) -> Option<&'a ReferenceOr<Box<Schema>>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => object.properties.get(field),
        _ => None,
    }
}

/// The facade type (or wire type) a field of a schema holds, and whether it is a list.
fn field_type(
    components: Option<&openapiv3::Components>,
    field: &ReferenceOr<Box<Schema>>,
) -> Option<(TokenStream, bool, Option<proc_macro2::Ident>)> {
    let of_ref = |reference: &str| {
        let name = reference.strip_prefix("#/components/schemas/")?;
        let target = schema(components, name)?;
        Some(match facade_name(target) {
            Some(facade) => (quote! { #facade }, Some(facade)),
            None => {
                let wire = format_ident!("{name}");
                (quote! { wire::#wire }, None)
            }
        })
    };
    match field {
        ReferenceOr::Reference { reference } => {
            let (ty, facade) = of_ref(reference)?;
            Some((ty, false, facade))
        }
        ReferenceOr::Item(item) => match &item.schema_kind {
            SchemaKind::Type(Type::Array(array)) => match array.items.as_ref()? {
                ReferenceOr::Reference { reference } => {
                    let (ty, facade) = of_ref(reference)?;
                    Some((ty, true, facade))
                }
                ReferenceOr::Item(_) => None,
            },
            _ => None,
        },
    }
}

fn returns_of(
    text: &str,
    paging: Option<&Paging>,
    response: Option<&str>,
    components: Option<&openapiv3::Components>,
    bad: &dyn Fn(String) -> CodegenError,
) -> Result<Returns, CodegenError> {
    let response_name =
        response.ok_or_else(|| bad("the 200 answer has no schema $ref".to_string()))?;
    let answer = schema(components, response_name)
        .ok_or_else(|| bad(format!("no schema {response_name}")))?;
    if let Some(paging) = paging {
        let items = property(answer, &paging.items)
            .and_then(|f| field_type(components, f))
            .ok_or_else(|| {
                bad(format!(
                    "{response_name}.{}: a listing needs a list of an `{FACADE_EXTENSION}` schema",
                    paging.items
                ))
            })?;
        let (_, true, Some(item)) = items else {
            return Err(bad(format!(
                "{response_name}.{}: a listing needs a list of an `{FACADE_EXTENSION}` schema",
                paging.items
            )));
        };
        return Ok(Returns::Listing { item });
    }
    match text {
        "unit" => Ok(Returns::Unit {
            has_success: property(answer, "success").is_some(),
        }),
        "whole" | "" => {
            let facade = facade_name(answer);
            let ty = match &facade {
                Some(f) => quote! { #f },
                None => {
                    let wire = format_ident!("{response_name}");
                    quote! { wire::#wire }
                }
            };
            Ok(Returns::Whole { ty, facade })
        }
        field => {
            let property = property(answer, field).ok_or_else(|| {
                bad(format!(
                    "`returns: {field}`: {response_name} has no such field"
                ))
            })?;
            let (ty, list, facade) = field_type(components, property).ok_or_else(|| {
                bad(format!(
                    "`returns: {field}`: only a schema $ref or a list of one can be returned"
                ))
            })?;
            Ok(Returns::Field {
                wire: field.to_string(),
                ty,
                list,
                facade,
            })
        }
    }
}

/// The generated module's items.
pub(crate) fn operations_module(spec: &OpenAPI, path: &Path) -> Result<TokenStream, CodegenError> {
    let ops = operations(spec, path)?;
    let mut facade_types = BTreeSet::new();
    let mut consts = TokenStream::new();
    let mut listed = Vec::new();
    let mut methods = TokenStream::new();
    let mut blocking = TokenStream::new();
    let mut helpers = TokenStream::new();
    for op in &ops {
        let konst = op.konst();
        let id = op.id.as_str();
        let doc = format!(" `{}`: `{} {}`.", op.id, op.http, op.route);
        let value = match op.kind {
            Kind::Read => quote! { Operation::read(#id) },
            Kind::Write { retry_safe } => quote! { Operation::write(#id, #retry_safe) },
        };
        consts.extend(quote! {
            #[doc = #doc]
            pub(crate) const #konst: Operation = #value;
        });
        listed.push(konst);
        if op.hand.is_some() {
            continue;
        }
        match &op.returns {
            Some(
                Returns::Field {
                    facade: Some(f), ..
                }
                | Returns::Whole {
                    facade: Some(f), ..
                },
            ) => {
                facade_types.insert(f.to_string());
            }
            Some(Returns::Listing { item }) => {
                facade_types.insert(item.to_string());
            }
            _ => {}
        }
        match (&op.builder, &op.builder_decl) {
            (_, Some(decl)) => helpers.extend(builder_items(op, decl)),
            (Some(builder), None) => {
                facade_types.insert(builder.to_string());
            }
            _ => {}
        }
        let (method, mirror, helper) = method_items(op)?;
        methods.extend(method);
        blocking.extend(mirror);
        helpers.extend(helper);
    }
    let facade_types: Vec<proc_macro2::Ident> =
        facade_types.iter().map(|t| format_ident!("{t}")).collect();
    Ok(quote! {
        //! The facade's operations, from each operation's `x-facade-op` in the spec: the
        //! pipeline descriptor, the async method and its blocking mirror. Hand-written hooks
        //! (answer conversions, request builders, methods marked `hand`) live in the theme
        //! modules next to this one.

        #![allow(unused_imports, clippy::redundant_closure_for_method_calls)]
        // A method takes the operation's parameters as they are in the spec, one argument
        // each: `GetHistoryConfDataList` has seven besides its paging.
        #![allow(clippy::too_many_arguments)]

        use std::sync::Arc;

        use dingtalk_conference_api::ResponseValue;
        use dingtalk_conference_api::types as wire;
        use futures_util::FutureExt as _;

        use super::paging::{Listing, Page, non_empty};
        use super::{missing, page_size_i32};
        use crate::pipeline::shared::ReadKey;
        use crate::pipeline::{Operation, Subject};
        use crate::{Client, Error, #(#facade_types),*};

        #consts

        /// Every operation the facade wraps, generated or hand-written (`hand`): what the
        /// guard test compares with the spec's operations.
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) const OPERATIONS: &[Operation] = &[#(#listed),*];

        impl Client {
            #methods
        }

        #[cfg(feature = "blocking")]
        impl crate::blocking::Client {
            #blocking
        }

        #helpers
    })
}

fn doc_attrs(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.lines() {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        out.extend(quote! { #[doc = #line] });
    }
    out
}

/// The async method, its blocking mirror, and its answer conversion.
fn method_items(op: &Op) -> Result<(TokenStream, TokenStream, TokenStream), CodegenError> {
    let konst = op.konst();
    let name = &op.method;
    let client_method = op.client_method();
    let mut doc = String::new();
    if let Some(text) = &op.doc {
        doc.push_str(text);
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "`{} {}` (`{}`): {}",
        op.http, op.route, op.id, op.description
    ));
    let doc = doc_attrs(&doc);

    // Arguments, their checks.
    let mut sig = Vec::new();
    let mut checks = Vec::new();
    for p in op.args() {
        let ident = &p.ident;
        let ty = p.ty.rust();
        sig.push(if p.required {
            quote! { #ident: #ty }
        } else {
            quote! { #ident: Option<#ty> }
        });
        let value = match (p.ty, p.required) {
            (ParamType::Time, true) => quote! { #ident.timestamp_millis() },
            (ParamType::Time, false) => quote! { #ident.map(|time| time.timestamp_millis()) },
            _ => quote! { #ident },
        };
        checks.push(check_call(&op.id, &p.name, &value));
    }
    if let Some(builder) = &op.builder {
        let arg = builder_arg(builder);
        sig.push(quote! { #arg: #builder });
    }

    // The answer's conversion.
    let (out_ty, helper) = answer_items(op)?;
    let convert = match &op.answer_hook {
        Some(hook) => quote! { #hook },
        None => {
            let f = op.answer_fn();
            quote! { #f }
        }
    };

    let args: Vec<&Param> = op.args().collect();
    let owned: Vec<TokenStream> = args
        .iter()
        .map(|p| {
            let ident = &p.ident;
            match (p.ty, p.required) {
                (ParamType::Str, true) => quote! { Arc::<str>::from(#ident) },
                (ParamType::Str, false) => quote! { #ident.map(Arc::<str>::from) },
                _ => quote! { #ident },
            }
        })
        .collect();
    let from_tuple = |p: &Param, i: usize| {
        let index = syn::Index::from(i);
        match (p.ty, p.required) {
            (ParamType::Str, true) => quote! { &args.#index },
            (ParamType::Str, false) => quote! { args.#index.as_deref() },
            (ParamType::Time, true) => quote! { args.#index.timestamp_millis() },
            (ParamType::Time, false) => quote! { args.#index.map(|time| time.timestamp_millis()) },
            _ => quote! { args.#index },
        }
    };

    let (method, mirror) = match (&op.kind, &op.paging) {
        (Kind::Read, None) => {
            let call_args: Vec<TokenStream> = args
                .iter()
                .enumerate()
                .map(|(i, p)| from_tuple(p, i))
                .collect();
            let subject = op.subject(from_tuple);
            // A read with a body (a `POST` read such as `GetUserLastMetric`): the builder is
            // part of the read's key (it derives `Hash`), the checked body is shared by the
            // attempts.
            let (body_prepare, key_args, body_clone, body_ref, call_args) = match &op.builder {
                Some(builder) => {
                    let arg = builder_arg(builder);
                    let call_args: Vec<TokenStream> =
                        call_args.into_iter().chain([quote! { body }]).collect();
                    (
                        quote! {
                            let keyed = #arg.clone();
                            let body = Arc::new(#arg.into_request()?);
                        },
                        quote! { (args.clone(), keyed) },
                        quote! { let body = Arc::clone(&body); },
                        quote! { let body = &body; },
                        call_args,
                    )
                }
                None => (
                    quote! {},
                    quote! { args.clone() },
                    quote! {},
                    quote! {},
                    call_args,
                ),
            };
            let method = quote! {
                #doc
                pub async fn #name(&self, #(#sig),*) -> Result<#out_ty, Error> {
                    #( #checks?; )*
                    #body_prepare
                    let args = (#(#owned,)*);
                    let key = ReadKey::new(#konst.id, #key_args);
                    self.read(&#konst, key, move |client, deadline| {
                        let args = args.clone();
                        #body_clone
                        async move {
                            let answer = client
                                .execute(&#konst, #subject, deadline, |context| {
                                    let api = client.endpoint().api(context);
                                    let args = &args;
                                    #body_ref
                                    async move { api.#client_method(#(#call_args),*).await }
                                })
                                .await?;
                            #convert(answer)
                        }
                    })
                    .await
                }
            };
            (method, blocking_call(op, &out_ty))
        }
        (Kind::Read, Some(paging)) => {
            let item = match &op.returns {
                Some(Returns::Listing { item }) => item.clone(),
                _ => {
                    return Err(spec_error(
                        Path::new(crate::SPEC_PATH),
                        format!(
                            "operation {}: a paged read needs a list of facade items",
                            op.id
                        ),
                    ));
                }
            };
            let invalid = if checks.is_empty() {
                quote! { None }
            } else {
                let first = &checks[0];
                let rest = &checks[1..];
                quote! { #first #( .and_then(|()| #rest) )* .err() }
            };
            let call_args: Vec<TokenStream> = {
                let mut i = 0;
                op.params
                    .iter()
                    .map(|p| {
                        if p.name == paging.token {
                            quote! { token }
                        } else if paging.size.as_deref() == Some(p.name.as_str()) {
                            match p.ty {
                                ParamType::I64 if p.non_zero => quote! {
                                    size.and_then(|n| ::std::num::NonZeroU64::new(u64::from(n)))
                                },
                                ParamType::I64 => quote! { size.map(i64::from) },
                                _ => quote! { page_size_i32(size) },
                            }
                        } else {
                            let v = from_tuple(p, i);
                            i += 1;
                            v
                        }
                    })
                    .collect()
            };
            let subject = op.subject(from_tuple);
            let page_doc = format!(" The page of `{}` an answer holds.", op.id);
            let page_fn = format_ident!("{}_page", op.id.to_snake_case());
            let response = format_ident!("{}", op.response.clone().unwrap_or_default());
            let field = |wire: &str| format_ident!("{}", wire.to_snake_case());
            let items = field(&paging.items);
            let next = field(&paging.next);
            let has_more = match &paging.has_more {
                Some(f) => {
                    let f = field(f);
                    quote! { answer.#f }
                }
                None => quote! { None },
            };
            let total = match &paging.total {
                Some(f) => {
                    let f = field(f);
                    quote! { answer.#f }
                }
                None => quote! { None },
            };
            // The arguments besides the paging ones, carried into each page's request; an
            // operation without any has none to carry (no unit binding, nothing to clone).
            let bind = |with: TokenStream, without: TokenStream| {
                if owned.is_empty() { without } else { with }
            };
            let args_decl = bind(quote! { let args = (#(#owned,)*); }, quote! {});
            let args_move = bind(quote! { let args = args.clone(); }, quote! {});
            let key = bind(
                quote! { (args.clone(), token.clone(), size) },
                quote! { (token.clone(), size) },
            );
            let per_read = bind(
                quote! { let (args, token) = (args.clone(), token.clone()); },
                quote! { let token = token.clone(); },
            );
            let per_try = bind(
                quote! { let (args, token) = (&args, token.as_deref()); },
                quote! { let token = token.as_deref(); },
            );
            let method = quote! {
                #doc
                pub fn #name(&self, #(#sig),*) -> Listing<#item> {
                    let invalid = #invalid;
                    #args_decl
                    Listing::new(self, #konst.id, None, invalid, move |client, token, size| {
                        #args_move
                        async move {
                            let key = ReadKey::new(#konst.id, #key);
                            client
                                .read(&#konst, key, move |client, deadline| {
                                    #per_read
                                    async move {
                                        let answer = client
                                            .execute(&#konst, #subject, deadline, |context| {
                                                let api = client.endpoint().api(context);
                                                #per_try
                                                async move { api.#client_method(#(#call_args),*).await }
                                            })
                                            .await?;
                                        #page_fn(answer)
                                    }
                                    .boxed()
                                })
                                .await
                        }
                        .boxed()
                    })
                }
            };
            let helper = quote! {
                #[doc = #page_doc]
                fn #page_fn(answer: ResponseValue<wire::#response>) -> Result<Page<#item>, Error> {
                    let answer = answer.into_inner();
                    Ok(Page::new(
                        answer.#items.unwrap_or_default().into_iter().map(#item::from_wire).collect(),
                        non_empty(answer.#next),
                        #has_more,
                        #total,
                    ))
                }
            };
            let names: Vec<&proc_macro2::Ident> = args.iter().map(|p| &p.ident).collect();
            let mirror_doc = doc_attrs(&format!(
                "Like [`Client::{name}`], blocking: an iterator over the items, fetching a page at a\ntime. `page_size` as in [`Listing::page_size`]."
            ));
            let mirror = quote! {
                #mirror_doc
                pub fn #name(
                    &self,
                    #(#sig,)*
                    page_size: Option<u32>,
                ) -> crate::ops::paging::BlockingListing<#item> {
                    let mut listing = self.as_async().#name(#(#names),*);
                    if let Some(size) = page_size {
                        listing = listing.page_size(size);
                    }
                    crate::ops::paging::BlockingListing::new(self, listing)
                }
            };
            return Ok((method, mirror, quote! { #helper }));
        }
        (Kind::Write { .. }, None) => {
            let call_args: Vec<TokenStream> = args
                .iter()
                .map(|p| {
                    let ident = &p.ident;
                    quote! { #ident }
                })
                .collect();
            let subject = op.subject(|p, _| {
                let ident = &p.ident;
                quote! { #ident }
            });
            let (body_prepare, body_pass) = match &op.builder {
                Some(builder) => {
                    let arg = builder_arg(builder);
                    (quote! { let body = #arg.into_request()?; }, quote! { body })
                }
                None => (quote! {}, quote! {}),
            };
            let send_args: Vec<TokenStream> = call_args
                .into_iter()
                .chain(op.builder.as_ref().map(|_| body_pass))
                .collect();
            let body_ref = if op.builder.is_some() {
                quote! { let body = &body; }
            } else {
                quote! {}
            };
            let method = quote! {
                #doc
                pub async fn #name(&self, #(#sig),*) -> Result<#out_ty, Error> {
                    #( #checks?; )*
                    #body_prepare
                    let answer = self
                        .execute(&#konst, #subject, self.deadline()?, |context| {
                            #body_ref
                            async move { self.endpoint().api(context).#client_method(#(#send_args),*).await }
                        })
                        .await?;
                    #convert(answer)
                }
            };
            (method, blocking_call(op, &out_ty))
        }
        (Kind::Write { .. }, Some(_)) => {
            return Err(spec_error(
                Path::new(crate::SPEC_PATH),
                format!("operation {}: a write cannot be paged", op.id),
            ));
        }
    };
    Ok((method, mirror, helper))
}

/// The argument name of a builder: `NewConference` → `conference`.
fn builder_arg(builder: &proc_macro2::Ident) -> proc_macro2::Ident {
    let text = builder.to_string();
    let text = text.strip_prefix("New").unwrap_or(&text);
    format_ident!("{}", text.to_snake_case())
}

/// The blocking mirror of a method that answers once.
fn blocking_call(op: &Op, out_ty: &TokenStream) -> TokenStream {
    let name = &op.method;
    let mut sig = Vec::new();
    let mut owned = Vec::new();
    let mut pass = Vec::new();
    for p in op.args() {
        let ident = &p.ident;
        let ty = p.ty.rust();
        match (p.ty, p.required) {
            (ParamType::Str, true) => {
                sig.push(quote! { #ident: &str });
                owned.push(quote! { let #ident = #ident.to_string(); });
                pass.push(quote! { &#ident });
            }
            (ParamType::Str, false) => {
                sig.push(quote! { #ident: Option<&str> });
                owned.push(quote! { let #ident = #ident.map(str::to_string); });
                pass.push(quote! { #ident.as_deref() });
            }
            (_, true) => {
                sig.push(quote! { #ident: #ty });
                pass.push(quote! { #ident });
            }
            (_, false) => {
                sig.push(quote! { #ident: Option<#ty> });
                pass.push(quote! { #ident });
            }
        }
    }
    if let Some(builder) = &op.builder {
        let arg = builder_arg(builder);
        sig.push(quote! { #arg: #builder });
        pass.push(quote! { #arg });
    }
    let sparingly = match op.kind {
        Kind::Write { retry_safe: false } => " (and retried as sparingly)",
        _ => "",
    };
    let doc = format!(" Like [`Client::{name}`], blocking{sparingly}.");
    quote! {
        #[doc = #doc]
        pub fn #name(&self, #(#sig),*) -> Result<#out_ty, Error> {
            let client = self.as_async().clone();
            #(#owned)*
            self.block_on(async move { client.#name(#(#pass),*).await })
        }
    }
}

/// The method's return type and, unless a hook converts the answer, the conversion function.
fn answer_items(op: &Op) -> Result<(TokenStream, TokenStream), CodegenError> {
    let response = format_ident!("{}", op.response.clone().unwrap_or_default());
    let f = op.answer_fn();
    let doc = format!(
        " Turns the answer to `{}` into what the method returns.",
        op.id
    );
    if op.answer_hook.is_some() {
        // The hook's return type: `returns` names it for the signature.
        let ty: TokenStream = match op.returns_text.as_str() {
            "unit" => quote! { () },
            other => {
                let ident = format_ident!("{other}");
                quote! { #ident }
            }
        };
        return Ok((ty, quote! {}));
    }
    let expects: Vec<TokenStream> = op
        .expect
        .iter()
        .map(|wire| {
            let field = format_ident!("{}", wire.to_snake_case());
            quote! {
                if response.#field.as_deref().is_none_or(str::is_empty) {
                    return Err(missing(&response, #wire));
                }
            }
        })
        .collect();
    let (ty, body, mutable) = match &op.returns {
        None | Some(Returns::Listing { .. }) => return Ok((quote! {}, quote! {})),
        Some(Returns::Field {
            wire,
            ty,
            list: false,
            facade,
        }) => {
            let field = format_ident!("{}", wire.to_snake_case());
            let convert = match facade {
                Some(facade) => quote! { #facade::from_wire(raw) },
                None => quote! { raw },
            };
            (
                ty.clone(),
                quote! {
                    match response.#field.take() {
                        Some(raw) => Ok(#convert),
                        // The request id is looked up only here: success allocates nothing for it.
                        None => Err(missing(&response, #wire)),
                    }
                },
                true,
            )
        }
        Some(Returns::Field {
            wire,
            ty,
            list: true,
            facade,
        }) => {
            let field = format_ident!("{}", wire.to_snake_case());
            let map = match facade {
                Some(facade) => quote! { .into_iter().map(#facade::from_wire).collect() },
                None => quote! {},
            };
            (
                quote! { Vec<#ty> },
                quote! { Ok(response.into_inner().#field.unwrap_or_default()#map) },
                false,
            )
        }
        Some(Returns::Whole { ty, facade }) => {
            let convert = match facade {
                Some(facade) => quote! { Ok(#facade::from_wire(response.into_inner())) },
                None => quote! { Ok(response.into_inner()) },
            };
            (ty.clone(), convert, false)
        }
        Some(Returns::Unit { has_success }) => {
            let id = op.id.as_str();
            let body = if *has_success {
                quote! {
                    match response.success {
                        Some(false) => Err(Error::Decode {
                            status: response.status(),
                            request_id: crate::error::request_id_header(response.headers()),
                            message: format!("{} answered success: false", #id),
                            snippet: String::new(),
                        }),
                        _ => Ok(()),
                    }
                }
            } else {
                quote! { let _ = response; Ok(()) }
            };
            (quote! { () }, body, false)
        }
    };
    let response_arg = if mutable {
        quote! { mut response }
    } else {
        quote! { response }
    };
    Ok((
        ty.clone(),
        quote! {
            #[doc = #doc]
            pub(crate) fn #f(#response_arg: ResponseValue<wire::#response>) -> Result<#ty, Error> {
                #(#expects)*
                #body
            }
        },
    ))
}

/// The operation table: one row per operation of the spec.
pub(crate) fn operation_table(spec: &OpenAPI, path: &Path) -> Result<String, CodegenError> {
    let ops = operations(spec, path)?;
    let mut out = String::new();
    out.push_str(TABLE_BEGIN);
    out.push_str(
        "\n\n| operationId | HTTP | facade method | kind | returns | paging | written by |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (route, method, operation) in spec.operations() {
        let id = operation.operation_id.as_deref().unwrap_or_default();
        let http = format!("`{} {route}`", method.to_uppercase());
        let row = match ops.iter().find(|op| op.id == id) {
            Some(op) => {
                let kind = match op.kind {
                    Kind::Read => "read".to_string(),
                    Kind::Write { retry_safe: true } => "write, retry-safe".to_string(),
                    Kind::Write { retry_safe: false } => "write, not retry-safe".to_string(),
                };
                let listing = op.paging.is_some();
                let returns = match (listing, op.returns_text.as_str()) {
                    (true, _) => op
                        .paging
                        .as_ref()
                        .map(|p| format!("`Listing` of `{}`", p.items))
                        .unwrap_or_default(),
                    (false, "") => "whole answer".to_string(),
                    (false, "whole") => "whole answer".to_string(),
                    (false, "unit") => "`()`".to_string(),
                    (false, field) => format!("`{field}`"),
                };
                let paging = match &op.paging {
                    Some(p) => {
                        let mut parts = vec![format!("token `{}` → `{}`", p.token, p.next)];
                        if let Some(size) = &p.size {
                            parts.push(format!("size `{size}`"));
                        }
                        if let Some(more) = &p.has_more {
                            parts.push(format!("`{more}`"));
                        }
                        if let Some(total) = &p.total {
                            parts.push(format!("`{total}`"));
                        }
                        parts.join(", ")
                    }
                    None => "—".to_string(),
                };
                let by = match (&op.hand, &op.answer_hook, &op.builder) {
                    (Some(why), _, _) => format!("hand: {why}"),
                    (None, Some(hook), _) => format!(
                        "generated, answer hook `{}`",
                        hook.to_string().replace(' ', "")
                    ),
                    (None, None, Some(builder)) => format!("generated, builder `{builder}`"),
                    (None, None, None) => "generated".to_string(),
                };
                let _ = op.explicit_kind;
                format!(
                    "| `{id}` | {http} | `{}` | {kind} | {returns} | {paging} | {by} |\n",
                    op.method
                )
            }
            None => {
                format!("| `{id}` | {http} | — | — | — | — | not wrapped (no `{OP_EXTENSION}`) |\n")
            }
        };
        out.push_str(&row);
    }
    out.push('\n');
    out.push_str(TABLE_END);
    Ok(out)
}

/// `doc` with the text between [`TABLE_BEGIN`] and [`TABLE_END`] replaced by `table` (which
/// carries both marks).
pub(crate) fn splice_table(doc: &str, table: &str, path: &Path) -> Result<String, CodegenError> {
    let (Some(begin), Some(end)) = (doc.find(TABLE_BEGIN), doc.find(TABLE_END)) else {
        return Err(spec_error(
            path,
            format!("the marks `{TABLE_BEGIN}` and `{TABLE_END}` are missing"),
        ));
    };
    if end < begin {
        return Err(spec_error(
            path,
            "the table's end mark comes before its start".to_string(),
        ));
    }
    Ok(format!(
        "{}{table}{}",
        &doc[..begin],
        &doc[end + TABLE_END.len()..]
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SPEC: &str = include_str!("../../spec/dingtalk-conference.yaml");

    /// The spec with one more path (YAML indented as under `paths:`) and schemas (as under
    /// `components.schemas`).
    fn with(path_item: &str, schemas: &str) -> OpenAPI {
        let text = SPEC
            .replacen("\npaths:\n", &format!("\npaths:\n{path_item}"), 1)
            .replacen("\n  schemas:\n", &format!("\n  schemas:\n{schemas}"), 1);
        crate::parse_spec(&text, Path::new("spec.yaml")).expect("the changed spec parses")
    }

    fn generated(spec: &OpenAPI) -> Result<String, CodegenError> {
        let tokens = operations_module(spec, Path::new("spec.yaml"))?;
        let file: syn::File = syn::parse2(tokens).expect("the generated module parses");
        Ok(prettyplease::unparse(&file))
    }

    /// A plain read with a query parameter, beside the spec's own operations, for the tests
    /// of what the generator refuses.
    const ONGOING: &str = r#"  /v1.0/conference/users/others:
    get:
      operationId: queryUserOtherConference
      description: The conferences a user is in now.
      x-facade-op:
        method: user_ongoing_conferences
        kind: read
        returns: whole
      parameters:
        - name: unionId
          in: query
          required: true
          schema:
            type: string
      responses:
        '200':
          description: The user's conferences in progress.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QueryUserOtherConferenceResponse'
        '4XX':
          $ref: '#/components/responses/Error'
"#;
    const ONGOING_SCHEMAS: &str = r#"    QueryUserOtherConferenceResponse:
      type: object
      properties:
        onGoingConfIdList:
          type: array
          items:
            type: string
        memberModelMap:
          type: object
          additionalProperties:
            type: string
"#;

    #[test]
    fn a_plain_read_with_a_query_parameter_is_the_spec_alone() {
        // queryUserOnGoingConference came with its `x-facade-op` and schemas only.
        let spec = crate::parse_spec(SPEC, Path::new("spec.yaml")).expect("the spec parses");
        let code = generated(&spec).expect("it generates");
        for expected in [
            "pub(crate) const QUERY_USER_ON_GOING_CONFERENCE: Operation = Operation::read(",
            "pub async fn user_ongoing_conferences(\n        &self,\n        union_id: &str,\n    ) -> Result<UserConferences, Error>",
            "dingtalk_conference_api::checks::query_user_on_going_conference::union_id(",
            "let key = ReadKey::new(QUERY_USER_ON_GOING_CONFERENCE.id, args.clone());",
            "api.query_user_on_going_conference(&args.0).await",
            "Subject::default()",
            "pub fn user_ongoing_conferences(\n        &self,\n        union_id: &str,\n    ) -> Result<UserConferences, Error>",
            "pub(crate) fn query_user_on_going_conference_answer(",
        ] {
            assert!(code.contains(expected), "{expected:?} missing from\n{code}");
        }
        let table = operation_table(&spec, Path::new("spec.yaml")).expect("a table");
        assert!(table.contains(
            "| `queryUserOnGoingConference` | `GET /v1.0/conference/users/lists` | \
             `user_ongoing_conferences` | read | whole answer | — | generated |"
        ));
    }

    #[test]
    fn the_specs_operations_are_generated_or_hand_written_as_declared() {
        let spec = crate::parse_spec(SPEC, Path::new("spec.yaml")).expect("the spec parses");
        let code = generated(&spec).expect("it generates");
        for generated_method in [
            "pub async fn conference_info(",
            "pub async fn recordings(",
            "pub fn conference_members(",
            "pub fn conferences_by_room_code(",
            "pub async fn create_conference(",
            "pub async fn close_conference(",
        ] {
            assert!(code.contains(generated_method), "{generated_method}");
        }
        for hand in [
            "fn transcript(",
            "fn recording_play_info(",
            "fn conferences_status",
            "fn change_record_allow_list(",
        ] {
            assert!(
                !code.contains(hand),
                "{hand} is marked hand but was generated"
            );
        }
        // Every x-facade-op has a descriptor, in the list the guard test reads.
        let list = code
            .split("pub(crate) const OPERATIONS: &[Operation] = &[")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .expect("the OPERATIONS list");
        // One per `x-facade-op` of the spec (counted there, so that adding operations does not
        // need this number changed).
        let declared = SPEC.matches("\n      x-facade-op:").count();
        assert!(
            declared >= 52,
            "the spec's x-facade-op count looks wrong: {declared}"
        );
        assert_eq!(list.matches(',').count(), declared, "{list}");
    }

    #[test]
    fn a_body_without_a_builder_and_a_paging_parameter_that_is_not_there_are_refused() {
        let body = ONGOING
            .replace("    get:", "    post:")
            .replace(
                "      parameters:",
                "      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/QueryUserOtherConferenceResponse'\n      parameters:",
            );
        let error = generated(&with(&body, ONGOING_SCHEMAS)).expect_err("refused");
        assert!(
            error.to_string().contains("queryUserOtherConference"),
            "{error}"
        );
        assert!(error.to_string().contains("builder"), "{error}");

        let paged = ONGOING.replace(
            "        returns: whole\n",
            "        paging:\n          token: nextToken\n          next: nextToken\n          items: onGoingConfIdList\n",
        );
        let error = generated(&with(&paged, ONGOING_SCHEMAS)).expect_err("refused");
        assert!(error.to_string().contains("nextToken"), "{error}");
    }

    #[test]
    fn the_table_replaces_only_the_marked_region_and_needs_its_marks() {
        let doc = format!("# Title\n\nbefore\n\n{TABLE_BEGIN}\nold rows\n{TABLE_END}\n\nafter\n");
        let table = format!("{TABLE_BEGIN}\nnew rows\n{TABLE_END}");
        let spliced = splice_table(&doc, &table, Path::new("doc.md")).expect("spliced");
        assert_eq!(
            spliced,
            format!("# Title\n\nbefore\n\n{TABLE_BEGIN}\nnew rows\n{TABLE_END}\n\nafter\n")
        );
        assert!(splice_table("# no marks\n", &table, Path::new("doc.md")).is_err());
    }

    #[test]
    fn a_builder_must_declare_every_field_of_the_request() {
        let text = SPEC.replacen(
            "            - wire: inviteCaller\n",
            "            - wire: inviteCallerX\n",
            1,
        );
        assert_ne!(text, SPEC, "the spec declares the builder's inviteCaller");
        let spec = crate::parse_spec(&text, Path::new("spec.yaml")).expect("parses");
        let error = generated(&spec).expect_err("refused");
        assert!(error.to_string().contains("inviteCaller"), "{error}");
    }

    #[test]
    fn a_read_may_not_say_retry_safe() {
        let spec = with(
            &ONGOING.replace(
                "        kind: read\n",
                "        kind: read\n        retry-safe: true\n",
            ),
            ONGOING_SCHEMAS,
        );
        let error = generated(&spec).expect_err("refused");
        assert!(error.to_string().contains("retry-safe"), "{error}");
    }
}
