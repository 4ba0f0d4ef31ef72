//! The fake server's typed requests ([`MOCK_REQUESTS_PATH`](crate::MOCK_REQUESTS_PATH)): one
//! struct per operation, named the operationId in Pascal case, holding its path and query
//! parameters typed as the generated client takes them (owned) and its body decoded into the
//! generated `types::*Request`; and its `parse`, which reads them from a request and runs the
//! spec's checks (`dingtalk_conference_api::checks`). A refusal says which parameter was
//! missing, malformed or invalid; the fake server turns it into DingTalk's error for that
//! operation (hand-written, `crates/dingtalk-conference-mock/src/requests.rs`).
//!
//! `type Answer` is the operation's success type, so a handler returns the typed answer.

use std::path::Path;

use heck::{ToPascalCase, ToSnakeCase};
use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, StatusCode, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ImplItem, Item, Pat};

use crate::{CodegenError, spec_error};

/// How a parameter's value is held, from the client method's argument type.
enum Held {
    /// `&str`: owned as `String`, checked as `&x`.
    Str,
    /// `Option<&str>`: owned as `Option<String>`, checked as `x.as_deref()`.
    OptionStr,
    /// `T` or `Option<T>` of a `Copy` type: owned and checked as is.
    Copy(syn::Type),
    /// `&types::X`: the body.
    Body(syn::Type),
}

fn held(ty: &syn::Type) -> Held {
    if let syn::Type::Reference(reference) = ty {
        if matches!(&*reference.elem, syn::Type::Path(p) if p.path.is_ident("str")) {
            return Held::Str;
        }
        return Held::Body((*reference.elem).clone());
    }
    if let syn::Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(syn::Type::Reference(reference))) = args.args.first()
        && matches!(&*reference.elem, syn::Type::Path(p) if p.path.is_ident("str"))
    {
        return Held::OptionStr;
    }
    Held::Copy(crate::checks::strip_lifetimes(ty))
}

/// The JSON kind of a body property, for the parse step's refusals.
fn json_kind(
    schema: &ReferenceOr<Box<openapiv3::Schema>>,
    owner: &str,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let ReferenceOr::Item(schema) = schema else {
        return Ok(quote!(Json::Object));
    };
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(_)) => quote!(Json::String),
        SchemaKind::Type(Type::Integer(_)) => quote!(Json::Integer),
        SchemaKind::Type(Type::Number(_)) => quote!(Json::Number),
        SchemaKind::Type(Type::Boolean(_)) => quote!(Json::Boolean),
        SchemaKind::Type(Type::Object(_)) => quote!(Json::Object),
        SchemaKind::Type(Type::Array(array)) => {
            let item = match &array.items {
                Some(items) => json_kind(items, owner, path)?,
                None => quote!(Json::Any),
            };
            quote!(Json::ArrayOf(&#item))
        }
        _ => {
            return Err(spec_error(
                path,
                format!("{owner}: the mock request generator knows no JSON kind for this schema"),
            ));
        }
    })
}

/// The module's items, for the client `client` generated from `spec`.
pub(crate) fn requests(
    spec: &OpenAPI,
    client: &syn::File,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
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

    let mut items = Vec::new();
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
        let answer = answer_type(operation, id, path)?;
        let mut fields = Vec::new();
        let mut reads = Vec::new();
        let mut names = Vec::new();
        let check_module = format_ident!("{snake}");
        for input in &method.sig.inputs {
            let FnArg::Typed(input) = input else { continue };
            let Pat::Ident(arg) = &*input.pat else {
                return Err(spec_error(
                    path,
                    format!("operation `{id}`: an argument that is not a plain name"),
                ));
            };
            let field = arg.ident.clone();
            names.push(field.clone());
            if field == "body" {
                let Held::Body(ty) = held(&input.ty) else {
                    return Err(spec_error(path, format!("operation `{id}`: body type")));
                };
                let properties = body_properties(spec, operation, id, path)?;
                let doc = " The body, decoded into the generated request type.";
                fields.push(quote! { #[doc = #doc] pub(crate) body: #ty, });
                reads.push(quote! {
                    let body: #ty = body(call, &[#(#properties),*])?;
                    checks::#check_module::body(&body)?;
                });
                continue;
            }
            let parameter = operation
                .parameters
                .iter()
                .find_map(|p| match p {
                    ReferenceOr::Item(p)
                        if field == p.parameter_data_ref().name.to_snake_case() =>
                    {
                        Some(p)
                    }
                    _ => None,
                })
                .ok_or_else(|| {
                    spec_error(
                        path,
                        format!("operation `{id}`: argument `{field}` has no spec parameter"),
                    )
                })?;
            let data = parameter.parameter_data_ref();
            let name = data.name.as_str();
            let in_path = matches!(parameter, openapiv3::Parameter::Path { .. });
            let (owned, checked) = match held(&input.ty) {
                Held::Str => (quote!(String), quote!(&#field)),
                Held::OptionStr => (quote!(Option<String>), quote!(#field.as_deref())),
                Held::Copy(ty) => (quote!(#ty), quote!(#field)),
                Held::Body(_) => {
                    return Err(spec_error(
                        path,
                        format!("operation `{id}`: parameter `{name}` passed by reference"),
                    ));
                }
            };
            let read = if in_path {
                quote!(path_param(call, #name)?)
            } else if data.required {
                quote!(query_required(call, #name)?)
            } else {
                quote!(query_optional(call, #name)?)
            };
            let doc = format!(
                " `{name}` ({}{}).",
                if in_path { "path" } else { "query" },
                if data.required || in_path {
                    ", required"
                } else {
                    ""
                }
            );
            fields.push(quote! { #[doc = #doc] pub(crate) #field: #owned, });
            reads.push(quote! {
                let #field: #owned = #read;
                checks::#check_module::#field(#checked)?;
            });
        }
        let ident = format_ident!("{}", id.to_pascal_case());
        let doc = format!(
            " `{id}` ({} {route}), parsed and checked.",
            method_name.to_uppercase()
        );
        let unused = fields.is_empty().then(|| quote!(let _ = call;));
        items.push(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone)]
            #[allow(dead_code)]
            pub(crate) struct #ident { #(#fields)* }

            impl Request for #ident {
                const OPERATION_ID: &'static str = #id;
                type Answer = #answer;
                fn parse(call: &Call<'_>) -> Result<Self, Refusal> {
                    #unused
                    #(#reads)*
                    Ok(Self { #(#names),* })
                }
            }
        });
    }
    Ok(quote! {
        #![allow(unused_imports, clippy::needless_borrow)]
        use dingtalk_conference_api::{checks, types};

        use crate::handlers::Call;
        use crate::requests::{Json, Property, Refusal, Request, body, path_param, query_optional, query_required};

        #(#items)*
    })
}

/// The success type (`types::X`) of an operation: its 200 response's schema.
fn answer_type(
    operation: &openapiv3::Operation,
    id: &str,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let response = operation
        .responses
        .responses
        .get(&StatusCode::Code(200))
        .and_then(|r| r.as_item())
        .and_then(|r| r.content.get("application/json"))
        .and_then(|media| media.schema.as_ref());
    match response {
        Some(ReferenceOr::Reference { reference }) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| spec_error(path, format!("operation `{id}`: `{reference}`")))?;
            let ident = format_ident!("{}", name);
            Ok(quote!(types::#ident))
        }
        _ => Err(spec_error(
            path,
            format!(
                "operation `{id}`: the mock request generator needs a 200 JSON answer that is a \
                 `$ref` to a component schema"
            ),
        )),
    }
}

/// `Property { name, required, kind }` for each property of the body's schema.
fn body_properties(
    spec: &OpenAPI,
    operation: &openapiv3::Operation,
    id: &str,
    path: &Path,
) -> Result<Vec<TokenStream>, CodegenError> {
    let schema = match &operation.request_body {
        Some(ReferenceOr::Item(body)) => body
            .content
            .get("application/json")
            .and_then(|media| media.schema.as_ref()),
        _ => None,
    };
    let Some(ReferenceOr::Reference { reference }) = schema else {
        return Err(spec_error(
            path,
            format!("operation `{id}`: the body must be a `$ref` to a component schema"),
        ));
    };
    let name = reference.trim_start_matches("#/components/schemas/");
    let Some(ReferenceOr::Item(schema)) = spec
        .components
        .as_ref()
        .and_then(|components| components.schemas.get(name))
    else {
        return Err(spec_error(
            path,
            format!("operation `{id}`: no schema `{name}`"),
        ));
    };
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Err(spec_error(path, format!("schema `{name}`: not an object")));
    };
    let mut out = Vec::new();
    // Required first, in the order the spec lists them, then the others.
    let mut properties: Vec<&String> = object
        .required
        .iter()
        .filter(|p| object.properties.contains_key(*p))
        .collect();
    properties.extend(
        object
            .properties
            .keys()
            .filter(|p| !object.required.contains(p)),
    );
    for property in properties {
        let Some(schema) = object.properties.get(property) else {
            continue;
        };
        let required = object.required.contains(property);
        let kind = json_kind(
            schema,
            &format!("schema `{name}` property `{property}`"),
            path,
        )?;
        let property: &str = property;
        out.push(quote!(Property { name: #property, required: #required, kind: #kind }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = include_str!("../../spec/dingtalk-conference.yaml");

    fn generate(text: &str) -> Result<String, CodegenError> {
        let path = Path::new("spec.yaml");
        let spec = crate::parse_spec(text, path)?;
        let client = crate::generate_client(&spec, path)?;
        let file: syn::File = syn::parse2(requests(&spec, &client, path)?)
            .map_err(|e| spec_error(path, e.to_string()))?;
        Ok(prettyplease::unparse(&file)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "))
    }

    #[test]
    fn every_operation_gets_a_typed_request_checked_by_the_specs_checks() {
        let text = generate(SPEC).expect("the spec generates");
        for expected in [
            // Path, query (typed as the client takes them, owned) and body.
            "pub(crate) struct QueryCloudRecordText {",
            "pub(crate) max_results: Option<::std::num::NonZeroU64>,",
            "pub(crate) union_id: Option<String>,",
            "let conference_id: String = path_param(call, \"conferenceId\")?;",
            "let union_id: String = query_required(call, \"unionId\")?;",
            "let direction: Option<String> = query_optional(call, \"direction\")?;",
            // Each value goes through its generated check.
            "checks::query_cloud_record_text::direction(direction.as_deref())?;",
            "checks::query_cloud_record_text::max_results(max_results)?;",
            "checks::create_video_conference::body(&body)?;",
            // The body's properties, required first, with their JSON kinds.
            "Property { name: \"userId\", required: true, kind: Json::String, }",
            "Property { name: \"inviteUserIds\", required: false, kind: Json::ArrayOf(&Json::String), }",
            // The answer is the 200 response's type.
            "type Answer = types::QueryConferenceInfoResponse;",
            "const OPERATION_ID: &'static str = \"getCorpAccessToken\";",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in {text}");
        }
    }

    #[test]
    fn an_answer_that_is_not_a_component_schema_is_refused_naming_the_operation() {
        let changed = SPEC.replacen(
            "                $ref: '#/components/schemas/QueryConferenceInfoResponse'",
            "                type: object",
            1,
        );
        assert_ne!(changed, SPEC, "update this test: the answer's $ref moved");
        let error = generate(&changed).expect_err("refused").to_string();
        assert!(error.contains("operation `queryConferenceInfo`"), "{error}");
        assert!(error.contains("200 JSON answer"), "{error}");
    }
}
