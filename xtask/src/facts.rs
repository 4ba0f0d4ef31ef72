//! The spec facts that hand-written code needs, as a generated constants module
//! ([`CONSTANTS_PATH`](crate::CONSTANTS_PATH)): base URLs, the token header's name, the
//! unauthenticated operations and integer bounds. Generating them means a spec change reaches
//! them through `cargo xtask codegen` like everything else, and `--check` catches a stale copy.

use heck::{ToShoutySnakeCase, ToSnakeCase};
use openapiv3::{APIKeyLocation, OpenAPI, ReferenceOr, SchemaKind, SecurityScheme, Type};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::{CodegenError, spec_error};

/// The vendor extension on each `servers` entry that names the edition it serves.
pub(crate) const EDITION_EXTENSION: &str = "x-edition";

/// The constants module's items.
pub(crate) fn constants(
    spec: &OpenAPI,
    path: &std::path::Path,
) -> Result<TokenStream, CodegenError> {
    let mut items = TokenStream::new();

    let mut editions = Vec::new();
    for (index, server) in spec.servers.iter().enumerate() {
        let Some(edition) = server
            .extensions
            .get(EDITION_EXTENSION)
            .and_then(|v| v.as_str())
        else {
            return Err(spec_error(
                path,
                format!(
                    "server {index} (`{}`) has no `{EDITION_EXTENSION}`: name the edition it \
                     serves (the facade's `Edition` reads its base URL from it)",
                    server.url
                ),
            ));
        };
        if editions.contains(&edition) {
            return Err(spec_error(
                path,
                format!("two servers name the edition `{edition}` in `{EDITION_EXTENSION}`"),
            ));
        }
        editions.push(edition);
        let name = format_ident!("{}_BASE_URL", edition.to_shouty_snake_case());
        let doc = format!(
            " The base URL of the `{edition}` edition: `servers[{index}]`.{}",
            server
                .description
                .as_deref()
                .map(|d| format!(" {d}"))
                .unwrap_or_default()
        );
        let url = &server.url;
        items.extend(quote! {
            #[doc = #doc]
            pub const #name: &str = #url;
        });
    }

    if let Some(components) = &spec.components {
        let mut schemes: Vec<_> = components.security_schemes.iter().collect();
        schemes.sort_by(|a, b| a.0.cmp(b.0));
        for (scheme_name, scheme) in schemes {
            if let ReferenceOr::Item(SecurityScheme::APIKey {
                location: APIKeyLocation::Header,
                name: header,
                ..
            }) = scheme
            {
                let name = format_ident!("{}_HEADER", scheme_name.to_shouty_snake_case());
                let doc = format!(
                    " The header of the `{scheme_name}` security scheme (`apiKey` in header)."
                );
                items.extend(quote! {
                    #[doc = #doc]
                    pub const #name: &str = #header;
                });
            }
        }
    }

    let mut unauthenticated = Vec::new();
    for (route, method, operation) in spec.operations() {
        let security = operation.security.as_ref().or(spec.security.as_ref());
        if security.is_none_or(Vec::is_empty) {
            let id = operation
                .operation_id
                .as_deref()
                .ok_or_else(|| spec_error(path, format!("{method} {route} has no operationId")))?;
            unauthenticated.push(id.to_snake_case());
        }
    }
    items.extend(quote! {
        /// Operations whose effective `security` is empty (the token endpoints), by the name
        /// progenitor gives them in `OperationInfo::operation_id`: they must never carry the
        /// access token.
        pub const UNAUTHENTICATED_OPERATIONS: &[&str] = &[#(#unauthenticated),*];
    });

    let mut operations = Vec::new();
    for (route, method, operation) in spec.operations() {
        let id = operation
            .operation_id
            .as_deref()
            .ok_or_else(|| spec_error(path, format!("{method} {route} has no operationId")))?;
        let method = method.to_ascii_uppercase();
        operations.push(quote!((#id, #method, #route)));
    }
    items.extend(quote! {
        /// Every operation of the spec as (`operationId`, HTTP method, path template), in the
        /// spec's order: what a router, such as the fake server's, matches requests against.
        pub const OPERATIONS: &[(&str, &str, &str)] = &[#(#operations),*];
    });

    items.extend(bounds(spec));
    Ok(items)
}

/// `<SCHEMA>_<PROPERTY>_MINIMUM`/`_MAXIMUM` for every bounded integer or number property of a
/// component schema.
fn bounds(spec: &OpenAPI) -> TokenStream {
    let mut items = TokenStream::new();
    let Some(components) = &spec.components else {
        return items;
    };
    let mut schemas: Vec<_> = components.schemas.iter().collect();
    schemas.sort_by(|a, b| a.0.cmp(b.0));
    for (schema_name, schema) in schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            continue;
        };
        let mut properties: Vec<_> = object.properties.iter().collect();
        properties.sort_by(|a, b| a.0.cmp(b.0));
        for (property, schema) in properties {
            let ReferenceOr::Item(schema) = schema else {
                continue;
            };
            let (ty, minimum, maximum) = match &schema.schema_kind {
                SchemaKind::Type(Type::Integer(i)) => (
                    quote!(i64),
                    i.minimum.map(int_literal),
                    i.maximum.map(int_literal),
                ),
                SchemaKind::Type(Type::Number(n)) => (
                    quote!(f64),
                    n.minimum.map(float_literal),
                    n.maximum.map(float_literal),
                ),
                _ => continue,
            };
            let prefix = format!(
                "{}_{}",
                schema_name.to_shouty_snake_case(),
                property.to_shouty_snake_case()
            );
            for (bound, value) in [("minimum", minimum), ("maximum", maximum)] {
                let Some(value) = value else { continue };
                let name = format_ident!("{prefix}_{}", bound.to_shouty_snake_case());
                let doc = format!(" The `{bound}` of `{schema_name}.{property}`.");
                items.extend(quote! {
                    #[doc = #doc]
                    pub const #name: #ty = #value;
                });
            }
        }
    }
    items
}

/// `-5` as the tokens `-` `5`: a negative literal token does not survive every parser.
fn int_literal(value: i64) -> TokenStream {
    let digits = Literal::u64_unsuffixed(value.unsigned_abs());
    if value < 0 {
        quote!(-#digits)
    } else {
        quote!(#digits)
    }
}

fn float_literal(value: f64) -> TokenStream {
    let digits = Literal::f64_unsuffixed(value.abs());
    if value < 0.0 {
        quote!(-#digits)
    } else {
        quote!(#digits)
    }
}
