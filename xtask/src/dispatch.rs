//! The test dispatch ([`DISPATCH_PATH`](crate::DISPATCH_PATH)): one `match` arm per operation
//! that turns JSON arguments, keyed by the spec's parameter names, into a call of the generated
//! client's typed method.
//!
//! The generated methods are typed Rust, so a test cannot call "every operation" without a
//! table from operationId to method. Writing that table by hand would be one more copy of the
//! spec to forget; generating it here, from the generated client's own signatures, means a new
//! operation gets its wire snapshot with no new test code, and `cargo xtask codegen --check`
//! fails if the table is stale.

use heck::ToSnakeCase;
use openapiv3::{OpenAPI, Parameter, ReferenceOr};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ImplItem, Item, Pat, Type};

use crate::{CodegenError, spec_error};

/// The dispatch module's items, for the client `client` generated from `spec`.
pub(crate) fn dispatch(
    spec: &OpenAPI,
    client: &syn::File,
    path: &std::path::Path,
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

    let mut ids = Vec::new();
    let mut arms = Vec::new();
    for (_, _, operation) in spec.operations() {
        let Some(id) = operation.operation_id.as_deref() else {
            continue;
        };
        let method_name = id.to_snake_case();
        let Some(method) = methods.iter().find(|m| m.sig.ident == method_name) else {
            return Err(spec_error(
                path,
                format!("operation `{id}`: the generated client has no method `{method_name}`"),
            ));
        };
        let mut bindings = Vec::new();
        let mut call_args = Vec::new();
        for input in &method.sig.inputs {
            let FnArg::Typed(input) = input else { continue };
            let Pat::Ident(arg) = &*input.pat else {
                return Err(unsupported(
                    path,
                    id,
                    "an argument that is not a plain name",
                ));
            };
            let arg = &arg.ident;
            let spec_name = if arg == "body" {
                "body".to_string()
            } else {
                parameter_named(&operation.parameters, &arg.to_string()).ok_or_else(|| {
                    unsupported(
                        path,
                        id,
                        &format!("argument `{arg}` with no spec parameter"),
                    )
                })?
            };
            let (owned, pass) = owned_type(&input.ty, arg);
            bindings.push(quote! { let #arg: #owned = arg(args, #spec_name)?; });
            call_args.push(pass);
        }
        let method_ident = format_ident!("{method_name}");
        arms.push(quote! {
            #id => {
                #(#bindings)*
                Ok(client.#method_ident(#(#call_args),*).await.map(drop).map_err(|e| e.to_string()))
            }
        });
        ids.push(id.to_string());
    }

    Ok(quote! {
        use dingtalk_conference_api::{Client, types};
        use serde_json::{Map, Value};

        /// Every operationId of the spec, in spec order.
        pub const OPERATION_IDS: &[&str] = &[#(#ids),*];

        /// Calls operation `operation_id` on `client`, with each argument decoded from
        /// `args[<the spec's parameter name>]` (`args["body"]` for the request body).
        ///
        /// `Err` if the dispatch does not know the operation or an argument does not decode;
        /// otherwise `Ok` with the call's own outcome (its error as text).
        pub async fn call(
            client: &Client,
            operation_id: &str,
            args: &Map<String, Value>,
        ) -> Result<Result<(), String>, String> {
            match operation_id {
                #(#arms)*
                other => Err(format!(
                    "the dispatch has no operation {other:?}: run `cargo xtask codegen`"
                )),
            }
        }

        fn arg<T: serde::de::DeserializeOwned>(
            args: &Map<String, Value>,
            name: &str,
        ) -> Result<T, String> {
            let value = args.get(name).cloned().unwrap_or(Value::Null);
            serde_json::from_value(value).map_err(|e| format!("argument {name:?}: {e}"))
        }
    })
}

/// The spec name of the parameter progenitor calls `rust_name`.
fn parameter_named(parameters: &[ReferenceOr<Parameter>], rust_name: &str) -> Option<String> {
    parameters.iter().find_map(|parameter| match parameter {
        ReferenceOr::Item(parameter) => {
            let name = &parameter.parameter_data_ref().name;
            (name.to_snake_case() == rust_name).then(|| name.clone())
        }
        ReferenceOr::Reference { .. } => None,
    })
}

/// The owned type to decode an argument into, and how to pass it to the method:
/// `&str` ← `String` (`&x`), `&T` ← `T` (`&x`), `Option<&str>` ← `Option<String>`
/// (`x.as_deref()`), `Option<&T>` ← `Option<T>` (`x.as_ref()`), anything else by value.
fn owned_type(ty: &Type, arg: &syn::Ident) -> (TokenStream, TokenStream) {
    if let Type::Reference(reference) = ty {
        let elem = &reference.elem;
        if is_str(elem) {
            return (quote!(String), quote!(&#arg));
        }
        return (quote!(#elem), quote!(&#arg));
    }
    if let Some(Type::Reference(reference)) = option_inner(ty) {
        let elem = &reference.elem;
        if is_str(elem) {
            return (quote!(Option<String>), quote!(#arg.as_deref()));
        }
        return (quote!(Option<#elem>), quote!(#arg.as_ref()));
    }
    (quote!(#ty), quote!(#arg))
}

fn is_str(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.path.is_ident("str"))
}

/// `T` of `Option<T>` (however the path to `Option` is spelled).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn unsupported(path: &std::path::Path, id: &str, what: &str) -> CodegenError {
    spec_error(
        path,
        format!(
            "operation `{id}`: the test dispatch generator (xtask/src/dispatch.rs) does not \
             handle {what}; extend it"
        ),
    )
}
