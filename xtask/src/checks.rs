//! The input checks ([`CHECKS_PATH`](crate::CHECKS_PATH)): one module per operation, named the
//! operationId in snake case, with one function per path/query parameter (named the parameter
//! in snake case) and `body` for the request body, for every parameter; an unconstrained one
//! returns `Ok(())`. Each takes the generated client method's own argument type, so a caller
//! checks exactly what it is about to send.
//!
//! What is checked comes from the spec: `x-id` (an id format declared once in
//! `components.x-ids`), `minLength`/`maxLength`, `pattern` (`\S`, or one character class
//! `^[...]+$`/`^[...]*$`), `minimum`/`maximum`, `enum`, `minItems`/`maxItems`, and the items of
//! a list. `x-noun` names the value in messages and `x-hint` adds what to do. What each rule
//! means is the hand-written `dingtalk_conference_api::input`; this module only says which rule
//! applies where.
//!
//! progenitor turns string constraints into newtypes every caller must construct, and a string
//! `enum` into a Rust enum; [`for_progenitor`] removes them from the copy of the spec
//! progenitor reads, so the generated client keeps plain `&str`/`String` and these checks are
//! the one place they are enforced.

use std::path::Path;

use heck::ToSnakeCase;
use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::{FnArg, ImplItem, Item, Pat};

use crate::{CodegenError, spec_error};

/// An id format of `components.x-ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdKind {
    pub(crate) name: String,
    pub(crate) noun: String,
    pub(crate) hint: String,
    pub(crate) path_segment: bool,
    pub(crate) ascii_digits: bool,
    pub(crate) fast_alphanumeric: bool,
}

/// The id formats the spec declares, in spec order.
pub(crate) fn id_kinds(spec: &OpenAPI, path: &Path) -> Result<Vec<IdKind>, CodegenError> {
    let Some(ids) = spec
        .components
        .as_ref()
        .and_then(|c| c.extensions.get("x-ids"))
    else {
        return Ok(Vec::new());
    };
    let Value::Object(ids) = ids else {
        return Err(spec_error(path, "`components.x-ids` must be a map".into()));
    };
    let mut kinds = Vec::new();
    for (name, rule) in ids {
        let bad = |what: &str| spec_error(path, format!("`components.x-ids.{name}`: {what}"));
        let Value::Object(rule) = rule else {
            return Err(bad("must be a map"));
        };
        for key in rule.keys() {
            if ![
                "noun",
                "hint",
                "path-segment",
                "charset",
                "fast-path",
                "description",
            ]
            .contains(&key.as_str())
            {
                return Err(bad(&format!(
                    "unknown key `{key}` (known: noun, hint, path-segment, charset, fast-path, \
                     description)"
                )));
            }
        }
        let text = |key: &str| -> Result<String, CodegenError> {
            match rule.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                _ => Err(bad(&format!("`{key}` must be a non-empty string"))),
            }
        };
        let flag = |key: &str| -> Result<bool, CodegenError> {
            match rule.get(key) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(_) => Err(bad(&format!("`{key}` must be true or false"))),
            }
        };
        let ascii_digits = match rule.get("charset") {
            None => false,
            Some(Value::String(s)) if s == "ascii-digits" => true,
            Some(other) => {
                return Err(bad(&format!(
                    "`charset: {other}` is not known (known: ascii-digits)"
                )));
            }
        };
        let fast_alphanumeric = match rule.get("fast-path") {
            None => false,
            Some(Value::String(s)) if s == "ascii-alphanumeric" => true,
            Some(other) => {
                return Err(bad(&format!(
                    "`fast-path: {other}` is not known (known: ascii-alphanumeric)"
                )));
            }
        };
        kinds.push(IdKind {
            name: name.clone(),
            noun: text("noun")?,
            hint: text("hint")?,
            path_segment: flag("path-segment")?,
            ascii_digits,
            fast_alphanumeric,
        });
    }
    Ok(kinds)
}

/// The rules of one value (a parameter, a body field, or a list's items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rules {
    pub(crate) id: Option<String>,
    pub(crate) noun: Option<String>,
    pub(crate) hint: Option<String>,
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) one_of: Vec<String>,
    pub(crate) minimum: Option<i64>,
    pub(crate) maximum: Option<i64>,
    pub(crate) min_items: Option<usize>,
    pub(crate) max_items: Option<usize>,
    pub(crate) items: Option<Box<Rules>>,
}

impl Rules {
    fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.min_length.is_none()
            && self.max_length.is_none()
            && self.pattern.is_none()
            && self.one_of.is_empty()
            && self.minimum.is_none()
            && self.maximum.is_none()
            && self.min_items.is_none()
            && self.max_items.is_none()
            && self.items.as_ref().is_none_or(|items| items.is_empty())
    }

    fn has_string_rules(&self) -> bool {
        self.id.is_some()
            || self.min_length.is_some()
            || self.max_length.is_some()
            || self.pattern.is_some()
            || !self.one_of.is_empty()
    }

    fn has_integer_rules(&self) -> bool {
        self.minimum.is_some() || self.maximum.is_some()
    }

    fn has_list_rules(&self) -> bool {
        self.min_items.is_some()
            || self.max_items.is_some()
            || self.items.as_ref().is_some_and(|items| !items.is_empty())
    }
}

/// The `pattern`s the checks understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `\S`: not blank.
    NotBlank,
    /// `^[class]+$` (`non_empty`) or `^[class]*$`: single characters and `a-z` ranges.
    Class {
        written: String,
        ranges: Vec<(char, char)>,
        non_empty: bool,
    },
}

/// Reads a `pattern`; anything but the supported forms is refused, naming `owner`.
pub(crate) fn parse_pattern(
    pattern: &str,
    owner: &str,
    path: &Path,
) -> Result<Pattern, CodegenError> {
    if pattern == r"\S" {
        return Ok(Pattern::NotBlank);
    }
    let unsupported = || {
        spec_error(
            path,
            format!(
                "{owner}: `pattern: {pattern}` is not supported by the checks generator \
                 (xtask/src/checks.rs): write `\\S` (not blank) or one character class, \
                 `^[...]+$` or `^[...]*$`, of characters and ranges"
            ),
        )
    };
    let (class, non_empty) = if let Some(class) = pattern
        .strip_prefix("^[")
        .and_then(|rest| rest.strip_suffix("]+$"))
    {
        (class, true)
    } else if let Some(class) = pattern
        .strip_prefix("^[")
        .and_then(|rest| rest.strip_suffix("]*$"))
    {
        (class, false)
    } else {
        return Err(unsupported());
    };
    let mut chars = Vec::new();
    let mut iter = class.chars();
    while let Some(c) = iter.next() {
        let c = if c == '\\' {
            iter.next().ok_or_else(unsupported)?
        } else if c == '^' || c == '[' || c == ']' {
            return Err(unsupported());
        } else {
            c
        };
        chars.push(c);
    }
    // Ranges: `a-z`, with a `-` first or last meaning itself.
    let mut ranges = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if index + 2 < chars.len() && chars[index + 1] == '-' {
            let end = chars[index + 2];
            if end < c {
                return Err(unsupported());
            }
            ranges.push((c, end));
            index += 3;
        } else {
            ranges.push((c, c));
            index += 1;
        }
    }
    if ranges.is_empty() {
        return Err(unsupported());
    }
    Ok(Pattern::Class {
        written: class.to_string(),
        ranges,
        non_empty,
    })
}

fn extension_text(
    extensions: &indexmap::IndexMap<String, Value>,
    key: &str,
    owner: &str,
    path: &Path,
) -> Result<Option<String>, CodegenError> {
    match extensions.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(spec_error(
            path,
            format!("{owner}: `{key}` must be a non-empty string"),
        )),
    }
}

/// The rules of `schema`, plus the extensions beside it (a parameter's own `x-id`, …).
fn rules_of(
    schema: &ReferenceOr<Schema>,
    outer: Option<&indexmap::IndexMap<String, Value>>,
    kinds: &[IdKind],
    owner: &str,
    path: &Path,
) -> Result<Rules, CodegenError> {
    let mut rules = Rules::default();
    let schema = match schema {
        ReferenceOr::Item(schema) => schema,
        // A `$ref` cannot carry siblings in OpenAPI 3.0; a referenced component's own
        // constraints are checked where it is a body.
        ReferenceOr::Reference { .. } => {
            if let Some(outer) = outer {
                read_extensions(&mut rules, outer, kinds, owner, path)?;
            }
            return Ok(rules);
        }
    };
    read_extensions(
        &mut rules,
        &schema.schema_data.extensions,
        kinds,
        owner,
        path,
    )?;
    if let Some(outer) = outer {
        read_extensions(&mut rules, outer, kinds, owner, path)?;
    }
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            rules.min_length = string.min_length;
            rules.max_length = string.max_length;
            rules.pattern = string
                .pattern
                .as_deref()
                .map(|p| parse_pattern(p, owner, path))
                .transpose()?;
            rules.one_of = string.enumeration.iter().flatten().cloned().collect();
        }
        SchemaKind::Type(Type::Integer(integer)) => {
            if integer.exclusive_minimum
                || integer.exclusive_maximum
                || integer.multiple_of.is_some()
            {
                return Err(spec_error(
                    path,
                    format!(
                        "{owner}: exclusive bounds and `multipleOf` are not supported by the \
                         checks generator (xtask/src/checks.rs)"
                    ),
                ));
            }
            rules.minimum = integer.minimum;
            rules.maximum = integer.maximum;
        }
        SchemaKind::Type(Type::Array(array)) => {
            rules.min_items = array.min_items;
            rules.max_items = array.max_items;
            if let Some(items) = &array.items {
                let items = match items {
                    ReferenceOr::Item(item) => ReferenceOr::Item((**item).clone()),
                    ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                        reference: reference.clone(),
                    },
                };
                let item_rules = rules_of(&items, None, kinds, &format!("{owner} items"), path)?;
                if !item_rules.is_empty() {
                    rules.items = Some(Box::new(item_rules));
                }
            }
        }
        _ => {}
    }
    if rules.id.is_some() && !matches!(schema.schema_kind, SchemaKind::Type(Type::String(_))) {
        return Err(spec_error(
            path,
            format!("{owner}: `x-id` is for strings only"),
        ));
    }
    Ok(rules)
}

fn read_extensions(
    rules: &mut Rules,
    extensions: &indexmap::IndexMap<String, Value>,
    kinds: &[IdKind],
    owner: &str,
    path: &Path,
) -> Result<(), CodegenError> {
    if let Some(id) = extension_text(extensions, "x-id", owner, path)? {
        if !kinds.iter().any(|kind| kind.name == id) {
            let known: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
            return Err(spec_error(
                path,
                format!(
                    "{owner}: `x-id: {id}` is not declared in `components.x-ids` (declared: {})",
                    known.join(", ")
                ),
            ));
        }
        rules.id = Some(id);
    }
    if let Some(noun) = extension_text(extensions, "x-noun", owner, path)? {
        rules.noun = Some(noun);
    }
    if let Some(hint) = extension_text(extensions, "x-hint", owner, path)? {
        rules.hint = Some(hint);
    }
    Ok(())
}

/// How a checked value is held: what the generated client method takes, or the request type's
/// field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `&str` or `String`.
    Str,
    /// An integer, or a `NonZero*`.
    Int { non_zero: bool },
    /// `Vec<T>` of one of the above.
    List,
    /// Anything else (booleans, objects): no rule applies.
    Other,
}

/// The shape of `ty`, and whether it is an `Option`.
fn shape(ty: &syn::Type) -> (Shape, bool) {
    if let syn::Type::Reference(reference) = ty {
        return (shape(&reference.elem).0, false);
    }
    let syn::Type::Path(type_path) = ty else {
        return (Shape::Other, false);
    };
    let Some(last) = type_path.path.segments.last() else {
        return (Shape::Other, false);
    };
    let name = last.ident.to_string();
    let inner = || match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(syn::GenericArgument::Type(inner)) => Some(inner.clone()),
            _ => None,
        },
        _ => None,
    };
    match name.as_str() {
        "Option" => match inner() {
            Some(inner) => (shape(&inner).0, true),
            None => (Shape::Other, true),
        },
        "str" | "String" => (Shape::Str, false),
        "Vec" => (Shape::List, false),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => {
            (Shape::Int { non_zero: false }, false)
        }
        n if n.starts_with("NonZero") => (Shape::Int { non_zero: true }, false),
        _ => (Shape::Other, false),
    }
}

/// The statements that check `value` (an expression of shape `shape`, not an `Option`), named
/// `parameter` in errors.
fn check_value(
    value: &TokenStream,
    shape: Shape,
    rules: &Rules,
    parameter: &str,
    kinds: &[IdKind],
    owner: &str,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let noun = rules.noun.clone().unwrap_or_else(|| parameter.to_string());
    let hint = match &rules.hint {
        Some(hint) => quote!(Some(#hint)),
        None => quote!(None),
    };
    let mismatch = |what: &str| {
        spec_error(
            path,
            format!("{owner}: {what} rules on a value the generated client holds otherwise"),
        )
    };
    let mut out = Vec::new();
    match shape {
        Shape::Str => {
            if rules.has_integer_rules() || rules.has_list_rules() {
                return Err(mismatch("integer or list"));
            }
            if let Some(id) = &rules.id {
                let kind = kinds
                    .iter()
                    .find(|k| &k.name == id)
                    .ok_or_else(|| mismatch("x-id"))?;
                let function = format_ident!("{}", kind.name.to_snake_case());
                out.push(quote! { ids::#function(#parameter, #value)?; });
            }
            if rules.min_length.is_some() || rules.max_length.is_some() {
                let min = option_usize(rules.min_length);
                let max = option_usize(rules.max_length);
                out.push(quote! { input::length(#parameter, #noun, #hint, #value, #min, #max)?; });
            }
            match &rules.pattern {
                None => {}
                Some(Pattern::NotBlank) => {
                    out.push(quote! { input::not_blank(#parameter, #noun, #hint, #value)?; });
                }
                Some(Pattern::Class {
                    written,
                    ranges,
                    non_empty,
                }) => {
                    let arms = ranges.iter().map(|(start, end)| {
                        if start == end {
                            quote!(#start)
                        } else {
                            quote!(#start..=#end)
                        }
                    });
                    out.push(quote! {
                        input::charset(#parameter, #noun, #value, #non_empty, #written, |c| matches!(c, #(#arms)|*))?;
                    });
                }
            }
            if !rules.one_of.is_empty() {
                let allowed = &rules.one_of;
                out.push(quote! { input::one_of(#parameter, #noun, #value, &[#(#allowed),*])?; });
            }
        }
        Shape::Int { non_zero } => {
            if rules.has_string_rules() || rules.has_list_rules() {
                return Err(mismatch("string or list"));
            }
            if rules.has_integer_rules() {
                let as_wide = if non_zero {
                    quote!(i128::from(#value.get()))
                } else {
                    quote!(i128::from(#value))
                };
                let min = option_i128(rules.minimum);
                let max = option_i128(rules.maximum);
                out.push(quote! { input::range(#parameter, #noun, #as_wide, #min, #max)?; });
            }
        }
        Shape::List => {
            if rules.has_string_rules() || rules.has_integer_rules() {
                return Err(mismatch("string or integer"));
            }
            if rules.min_items.is_some() || rules.max_items.is_some() {
                let min = option_usize(rules.min_items);
                let max = option_usize(rules.max_items);
                out.push(quote! { input::items(#parameter, #noun, #value.len(), #min, #max)?; });
            }
            if let Some(items) = &rules.items {
                // Lists of strings or integers only; the item's shape follows its rules.
                let item_shape = if items.has_integer_rules() {
                    Shape::Int { non_zero: false }
                } else {
                    Shape::Str
                };
                let item = quote!(item);
                let each = check_value(&item, item_shape, items, parameter, kinds, owner, path)?;
                let bind = if item_shape == Shape::Str {
                    quote!(let item: &str = item;)
                } else {
                    quote!(let item = *item;)
                };
                out.push(quote! {
                    for (index, item) in #value.iter().enumerate() {
                        #bind
                        (|| -> Result<(), InputError> { #each Ok(()) })().map_err(|e| e.at_item(index))?;
                    }
                });
            }
        }
        Shape::Other => {
            if !rules.is_empty() {
                return Err(mismatch("these"));
            }
        }
    }
    Ok(quote!(#(#out)*))
}

fn option_usize(value: Option<usize>) -> TokenStream {
    match value {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    }
}

fn option_i128(value: Option<i64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = i128::from(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

/// The checks module's items, for the client `client` generated from `spec`.
pub(crate) fn checks(
    spec: &OpenAPI,
    client: &syn::File,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let kinds = id_kinds(spec, path)?;
    let methods: Vec<&syn::ImplItemFn> = client
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(item) if item.trait_.is_none() => Some(&item.items),
            _ => None,
        })
        .flatten()
        .filter_map(|item| match item {
            ImplItem::Fn(f) if f.sig.asyncness.is_some() => Some(f),
            _ => None,
        })
        .collect();

    let id_fns = kinds.iter().map(|kind| {
        let function = format_ident!("{}", kind.name.to_snake_case());
        let IdKind {
            name,
            noun,
            hint,
            path_segment,
            ascii_digits,
            fast_alphanumeric,
            ..
        } = kind;
        let doc = format!(
            " A {noun} (`x-id: {name}`): not empty or blank, no control characters{}{}.",
            if *path_segment {
                ", not `.` or `..`, no `\\` (it travels as one path segment)"
            } else {
                ""
            },
            if *ascii_digits {
                ", ASCII digits only"
            } else {
                ""
            }
        );
        let fast = fast_alphanumeric.then(|| {
            quote! {
                // What DingTalk hands out: ASCII letters and digits, which no rule below can
                // refuse; they pass with one look at each byte.
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Ok(());
                }
            }
        });
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn #function(parameter: &'static str, value: &str) -> Result<(), InputError> {
                #fast
                input::id(parameter, value, &input::IdRule {
                    noun: #noun,
                    hint: #hint,
                    path_segment: #path_segment,
                    ascii_digits: #ascii_digits,
                })
            }
        }
    });

    let mut modules = Vec::new();
    for (route, method_name, operation) in spec.operations() {
        let Some(id) = operation.operation_id.as_deref() else {
            continue;
        };
        let snake = id.to_snake_case();
        let Some(method) = methods.iter().find(|m| m.sig.ident == snake) else {
            return Err(spec_error(
                path,
                format!("operation `{id}`: the generated client has no method `{snake}`"),
            ));
        };
        let mut fns = Vec::new();
        for input in &method.sig.inputs {
            let FnArg::Typed(input) = input else { continue };
            let Pat::Ident(arg) = &*input.pat else {
                return Err(spec_error(
                    path,
                    format!("operation `{id}`: an argument that is not a plain name"),
                ));
            };
            let arg_name = arg.ident.to_string();
            let ty = strip_lifetimes(&input.ty);
            let function = format_ident!("{}", arg_name);
            if arg_name == "body" {
                let body = body_check(spec, operation, client, &kinds, id, path)?;
                fns.push(quote! {
                    /// Checks the request body.
                    pub fn body(value: #ty) -> Result<(), InputError> {
                        #body
                        Ok(())
                    }
                });
                continue;
            }
            let parameter = operation
                .parameters
                .iter()
                .find_map(|p| match p {
                    ReferenceOr::Item(p)
                        if p.parameter_data_ref().name.to_snake_case() == arg_name =>
                    {
                        Some(p)
                    }
                    _ => None,
                })
                .ok_or_else(|| {
                    spec_error(
                        path,
                        format!("operation `{id}`: argument `{arg_name}` has no spec parameter"),
                    )
                })?;
            let name = parameter.parameter_data_ref().name.clone();
            let owner = format!(
                "operation `{id}` ({} {route}) parameter `{name}`",
                method_name.to_uppercase()
            );
            let rules = parameter_rules(parameter, &kinds, &owner, path)?;
            let (value_shape, optional) = shape(&input.ty);
            let value = quote!(value);
            let body = check_value(&value, value_shape, &rules, &name, &kinds, &owner, path)?;
            let doc = format!(" Checks `{name}`.");
            let body = if body.is_empty() {
                quote! { let _ = value; Ok(()) }
            } else if optional {
                quote! { if let Some(value) = value { #body } Ok(()) }
            } else {
                quote! { #body Ok(()) }
            };
            fns.push(quote! {
                #[doc = #doc]
                #[inline]
                pub fn #function(value: #ty) -> Result<(), InputError> {
                    #body
                }
            });
        }
        let module = format_ident!("{snake}");
        let doc = format!(" `{id}`.");
        modules.push(quote! {
            #[doc = #doc]
            pub mod #module {
                #[allow(unused_imports)]
                use super::{ids, input, types, InputError};
                #(#fns)*
            }
        });
    }

    Ok(quote! {
        #![allow(clippy::redundant_closure_call, clippy::needless_question_mark)]
        use crate::input::{self, InputError};
        #[allow(unused_imports)]
        use crate::types;

        /// The id formats of `components.x-ids`.
        pub mod ids {
            use super::{input, InputError};
            #(#id_fns)*
        }

        #(#modules)*
    })
}

fn parameter_rules(
    parameter: &Parameter,
    kinds: &[IdKind],
    owner: &str,
    path: &Path,
) -> Result<Rules, CodegenError> {
    let data = parameter.parameter_data_ref();
    match &data.format {
        ParameterSchemaOrContent::Schema(schema) => {
            rules_of(schema, Some(&data.extensions), kinds, owner, path)
        }
        ParameterSchemaOrContent::Content(_) => Ok(Rules::default()),
    }
}

/// The statements checking a request body (`value: &types::X`): each top-level property of
/// the body's schema with rules.
fn body_check(
    spec: &OpenAPI,
    operation: &openapiv3::Operation,
    client: &syn::File,
    kinds: &[IdKind],
    id: &str,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let Some(ReferenceOr::Item(body)) = &operation.request_body else {
        return Err(spec_error(
            path,
            format!("operation `{id}`: the request body must be written inline"),
        ));
    };
    let Some(schema) = body
        .content
        .get("application/json")
        .and_then(|media| media.schema.as_ref())
    else {
        return Ok(quote!(let _ = value;));
    };
    let (schema_name, schema) = match schema {
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| spec_error(path, format!("operation `{id}`: body `{reference}`")))?;
            let schema = spec
                .components
                .as_ref()
                .and_then(|c| c.schemas.get(name))
                .and_then(|s| s.as_item())
                .ok_or_else(|| spec_error(path, format!("operation `{id}`: no schema `{name}`")))?;
            (name.to_string(), schema)
        }
        ReferenceOr::Item(_) => {
            return Err(spec_error(
                path,
                format!(
                    "operation `{id}`: the checks generator needs the request body as a \
                     `$ref` to a component schema"
                ),
            ));
        }
    };
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Ok(quote!(let _ = value;));
    };
    let fields = struct_fields(client, &schema_name);
    let mut out = Vec::new();
    // Required properties first, in the order the spec lists them, then the others.
    let mut properties: Vec<(&String, &ReferenceOr<Box<Schema>>)> = object
        .required
        .iter()
        .filter_map(|name| object.properties.get_key_value(name))
        .collect();
    properties.extend(
        object
            .properties
            .iter()
            .filter(|(name, _)| !object.required.contains(name)),
    );
    for (property, property_schema) in properties {
        let owner = format!("schema `{schema_name}` property `{property}`");
        let item = match property_schema {
            ReferenceOr::Item(item) => ReferenceOr::Item((**item).clone()),
            ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                reference: reference.clone(),
            },
        };
        let rules = rules_of(&item, None, kinds, &owner, path)?;
        if rules.is_empty() {
            continue;
        }
        let field_name = property.to_snake_case();
        let Some(field_ty) = fields.as_ref().and_then(|fields| {
            fields
                .iter()
                .find(|(name, _)| *name == field_name)
                .map(|(_, ty)| ty.clone())
        }) else {
            return Err(spec_error(
                path,
                format!("{owner}: the generated type has no field `{field_name}`"),
            ));
        };
        let (field_shape, optional) = shape(&field_ty);
        let field = format_ident!("{field_name}");
        let value_expr = if optional {
            quote!(field)
        } else if field_shape == Shape::Str {
            quote!(value.#field.as_str())
        } else {
            quote!(value.#field)
        };
        let name: &str = property;
        let check = check_value(&value_expr, field_shape, &rules, name, kinds, &owner, path)?;
        if optional {
            let bind = if field_shape == Shape::Str {
                quote!(value.#field.as_deref())
            } else if field_shape == Shape::List {
                quote!(value.#field.as_ref())
            } else {
                quote!(value.#field)
            };
            out.push(quote! { if let Some(field) = #bind { #check } });
        } else {
            out.push(check);
        }
    }
    if out.is_empty() {
        return Ok(quote!(let _ = value;));
    }
    Ok(quote!(#(#out)*))
}

/// The fields of `pub struct <name>` in the generated client's `types` module.
fn struct_fields(client: &syn::File, name: &str) -> Option<Vec<(String, syn::Type)>> {
    fn find<'a>(items: &'a [Item], name: &str) -> Option<&'a syn::ItemStruct> {
        items.iter().find_map(|item| match item {
            Item::Struct(s) if s.ident == name => Some(s),
            Item::Mod(m) => m.content.as_ref().and_then(|(_, items)| find(items, name)),
            _ => None,
        })
    }
    let found = find(&client.items, name)?;
    Some(
        found
            .fields
            .iter()
            .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
            .collect(),
    )
}

/// `ty` with its lifetimes removed (`&'a str` → `&str`).
pub(crate) fn strip_lifetimes(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    fn strip(ty: &mut syn::Type) {
        match ty {
            syn::Type::Reference(reference) => {
                reference.lifetime = None;
                strip(&mut reference.elem);
            }
            syn::Type::Path(path) => {
                for segment in &mut path.path.segments {
                    if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                        for arg in &mut args.args {
                            if let syn::GenericArgument::Type(inner) = arg {
                                strip(inner);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    strip(&mut ty);
    ty
}

/// The copy of `spec` progenitor reads: string constraints (`minLength`, `maxLength`,
/// `pattern`, `enum`) removed from parameters and request-body schemas, and the bounds of
/// `int32` parameters, which the checks enforce instead of newtypes, enums and wider integer
/// types every caller would have to construct.
pub(crate) fn for_progenitor(spec: &OpenAPI) -> OpenAPI {
    let mut spec = spec.clone();
    let mut bodies = Vec::new();
    for item in spec.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in &mut operation.parameters {
                let ReferenceOr::Item(parameter) = parameter else {
                    continue;
                };
                let data = parameter_data_mut(parameter);
                if let ParameterSchemaOrContent::Content(content) = &data.format {
                    // A query parameter that carries a JSON document (`content:
                    // application/json`, e.g. optRecordWhiteAccount's `requestBody`): progenitor
                    // takes only `schema`, so it gets the parameter as the text it travels as.
                    // The document's schema stays a generated type (stripped like a body's) for
                    // whoever encodes or decodes the text.
                    for media in content.values() {
                        if let Some(ReferenceOr::Reference { reference }) = &media.schema
                            && let Some(name) = reference.strip_prefix("#/components/schemas/")
                        {
                            bodies.push(name.to_string());
                        }
                    }
                    data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(Schema {
                        schema_data: openapiv3::SchemaData::default(),
                        schema_kind: SchemaKind::Type(Type::String(
                            openapiv3::StringType::default(),
                        )),
                    }));
                }
                if let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
                    &mut data.format
                {
                    strip_strings(schema);
                    strip_int32_bounds(schema);
                }
            }
            if let Some(ReferenceOr::Item(body)) = &operation.request_body {
                for media in body.content.values() {
                    if let Some(ReferenceOr::Reference { reference }) = &media.schema
                        && let Some(name) = reference.strip_prefix("#/components/schemas/")
                    {
                        bodies.push(name.to_string());
                    }
                }
            }
        }
    }
    if let Some(components) = &mut spec.components {
        for name in bodies {
            if let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(&name) {
                strip_strings(schema);
            }
        }
    }
    spec
}

fn parameter_data_mut(parameter: &mut Parameter) -> &mut openapiv3::ParameterData {
    match parameter {
        Parameter::Query { parameter_data, .. }
        | Parameter::Header { parameter_data, .. }
        | Parameter::Path { parameter_data, .. }
        | Parameter::Cookie { parameter_data, .. } => parameter_data,
    }
}

/// typify makes an `int32` with `minimum: 1` a `NonZeroU32`, which admits values the `int32`
/// wire cannot carry (and would change the client's argument type); the checks enforce the
/// bounds instead.
fn strip_int32_bounds(schema: &mut Schema) {
    if let SchemaKind::Type(Type::Integer(integer)) = &mut schema.schema_kind
        && matches!(
            integer.format,
            openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32)
        )
    {
        integer.minimum = None;
        integer.maximum = None;
    }
}

fn strip_strings(schema: &mut Schema) {
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            string.min_length = None;
            string.max_length = None;
            string.pattern = None;
            string.enumeration.clear();
        }
        SchemaKind::Type(Type::Object(object)) => {
            for property in object.properties.values_mut() {
                if let ReferenceOr::Item(property) = property {
                    strip_strings(property);
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(ReferenceOr::Item(items)) = &mut array.items {
                strip_strings(items);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("spec.yaml")
    }

    /// A one-operation spec: `GET /things/{thingId}` with the query parameters `extra` (YAML
    /// lines under `parameters:`) and a `POST /things` whose body is `Thing` (`body` lines
    /// under its `properties:`).
    fn spec(extra: &str, body: &str) -> String {
        format!(
            r#"openapi: 3.0.3
info: {{title: t, version: "1"}}
paths:
  /things/{{thingId}}:
    get:
      operationId: getThing
      parameters:
        - name: thingId
          in: path
          required: true
          x-id: thing
          schema: {{type: string}}
{extra}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Thing'}}
  /things:
    post:
      operationId: makeThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: '#/components/schemas/Thing'}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Thing'}}
components:
  x-ids:
    thing:
      noun: thing id
      hint: pass a thing
      path-segment: true
      fast-path: ascii-alphanumeric
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name:
          type: string
{body}
"#
        )
    }

    /// The generated client and checks for spec `text`, as `cargo xtask codegen` writes them.
    fn generate(text: &str) -> Result<(String, String), CodegenError> {
        let spec = crate::parse_spec(text, path())?;
        let client = crate::generate_client(&spec, path())?;
        let checks = crate::format_file(checks(&spec, &client, path())?, "spec.yaml")?;
        Ok((prettyplease::unparse(&client), checks))
    }

    fn generated_checks(text: &str) -> Result<String, CodegenError> {
        generate(text).map(|(_, checks)| checks)
    }

    /// Parameter lines (`(name, yaml after "in: query")`) under `parameters:`.
    fn query(parameters: &[(&str, &str)]) -> String {
        parameters
            .iter()
            .map(|(name, rest)| format!("        - name: {name}\n          in: query\n{rest}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn every_parameter_and_body_gets_a_function_and_each_constraint_its_check() {
        let text = spec(
            &query(&[
                (
                    "size",
                    "          x-noun: page size\n          schema: {type: integer, format: int32, minimum: 1, maximum: 50}",
                ),
                (
                    "order",
                    "          schema: {type: string, enum: [up, down]}",
                ),
                (
                    "code",
                    "          required: true\n          schema: {type: string, pattern: '^[0-9]+$'}",
                ),
                ("free", "          schema: {type: string}"),
            ]),
            [
                "          minLength: 2",
                "          maxLength: 9",
                "          pattern: '\\S'",
                "        tags:",
                "          type: array",
                "          minItems: 1",
                "          maxItems: 3",
                "          items: {type: string, x-id: thing}",
            ]
            .join("\n")
            .as_str(),
        );
        let checks = generated_checks(&text).expect("the spec generates");
        // prettyplease breaks long calls over lines and adds trailing commas.
        let flat = checks.split_whitespace().collect::<Vec<_>>().join(" ");
        let flat = flat
            .replace("( ", "(")
            .replace(", )", ")")
            .replace(" )", ")");
        for expected in [
            "pub mod get_thing",
            "pub fn thing_id(value: &str)",
            "ids::thing(\"thingId\", value)?",
            // The fast path of `fast-path: ascii-alphanumeric`.
            "value.bytes().all(|b| b.is_ascii_alphanumeric())",
            "pub fn size(value: Option<i32>)",
            "input::range(\"size\", \"page size\", i128::from(value), Some(1i128), Some(50i128))",
            "input::one_of(\"order\", \"order\", value, &[\"up\", \"down\"])",
            "input::charset(\"code\", \"code\", value, true, \"0-9\", |c| matches!(c, '0'..= '9'))",
            // An unconstrained parameter still has its function.
            "pub fn free(value: Option<&str>)",
            "pub mod make_thing",
            "pub fn body(value: &types::Thing)",
            "input::length(\"name\", \"name\", None, value.name.as_str(), Some(2usize), Some(9usize))",
            "input::not_blank(\"name\", \"name\", None, value.name.as_str())",
            "input::items(\"tags\", \"tags\", value.tags.len(), Some(1usize), Some(3usize))",
            "ids::thing(\"tags\", item)?",
        ] {
            assert!(flat.contains(expected), "missing {expected:?} in\n{checks}");
        }
    }

    #[test]
    fn the_client_keeps_plain_types_for_constrained_strings_and_int32s() {
        let text = spec(
            &query(&[
                (
                    "size",
                    "          schema: {type: integer, format: int32, minimum: 1}",
                ),
                (
                    "order",
                    "          schema: {type: string, enum: [up, down]}",
                ),
            ]),
            "          maxLength: 9",
        );
        let (client, _) = generate(&text).expect("the spec generates");
        let client = client.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(client.contains("size: Option<i32>"), "{client}");
        assert!(client.contains("order: Option<&'a str>"), "{client}");
        assert!(
            client.contains("pub name: ::std::string::String"),
            "{client}"
        );
    }

    #[test]
    fn unknown_ids_misplaced_rules_and_unsupported_patterns_are_refused_by_name() {
        let cases = [
            (
                spec(
                    &query(&[(
                        "who",
                        "          x-id: nobody\n          schema: {type: string}",
                    )]),
                    "",
                ),
                "`x-id: nobody` is not declared in `components.x-ids`",
            ),
            (
                spec(
                    &query(&[(
                        "count",
                        "          x-id: thing\n          schema: {type: integer}",
                    )]),
                    "",
                ),
                "`x-id` is for strings only",
            ),
            (
                spec("", "          pattern: '^a|b$'"),
                "schema `Thing` property `name`: `pattern: ^a|b$` is not supported",
            ),
        ];
        for (text, expected) in cases {
            let error = generated_checks(&text).expect_err(expected).to_string();
            assert!(error.contains(expected), "{error}");
        }
        let bad_kind = spec("", "").replace(
            "      hint: pass a thing\n",
            "      hint: pass a thing\n      charset: emoji\n",
        );
        let error = generated_checks(&bad_kind)
            .expect_err("an unknown charset")
            .to_string();
        assert!(error.contains("`components.x-ids.thing`"), "{error}");
    }

    #[test]
    fn patterns_are_not_blank_or_one_character_class() {
        assert_eq!(
            parse_pattern(r"\S", "x", path()).ok(),
            Some(Pattern::NotBlank)
        );
        let Ok(Pattern::Class {
            ranges, non_empty, ..
        }) = parse_pattern("^[0-9a-z_-]+$", "x", path())
        else {
            panic!("a class parses");
        };
        assert!(non_empty);
        assert_eq!(ranges, vec![('0', '9'), ('a', 'z'), ('_', '_'), ('-', '-')]);
        let Ok(Pattern::Class { non_empty, .. }) = parse_pattern("^[a]*$", "x", path()) else {
            panic!("a class parses");
        };
        assert!(!non_empty);
        for unsupported in ["[0-9]+", "^a+$", "^[]+$", "^[z-a]+$", "^(a|b)$"] {
            let error = parse_pattern(unsupported, "schema `X` property `y`", path())
                .expect_err(unsupported)
                .to_string();
            assert!(error.contains("schema `X` property `y`"), "{error}");
            assert!(error.contains("not supported"), "{error}");
        }
    }
}
