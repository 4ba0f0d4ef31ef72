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

/// How an argument is handed to the generated method, once decoded into its owned type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// `&str` ← `String`, `&T` ← `T`: by reference.
    Ref,
    /// `Option<&str>` ← `Option<String>`: `x.as_deref()`.
    AsDeref,
    /// `Option<&T>` ← `Option<T>`: `x.as_ref()`.
    AsRef,
    /// Anything else (numbers, `Option<i64>`, …): by value.
    Value,
}

/// One argument of a generated method: its Rust name, the spec's name (`body` for the
/// request body), the owned type it decodes into and how it is passed.
pub(crate) struct Arg {
    pub(crate) ident: syn::Ident,
    pub(crate) spec_name: String,
    pub(crate) owned: TokenStream,
    pub(crate) pass: Pass,
    /// Whether it is passed as `&str` (decoded into a `String`).
    pub(crate) is_str: bool,
}

impl Arg {
    /// `let <arg>: <owned type> = arg(args, "<spec name>")?;`: the argument decoded by a
    /// function `arg` of the generated module.
    pub(crate) fn decoded(&self) -> TokenStream {
        let (ident, owned, spec_name) = (&self.ident, &self.owned, &self.spec_name);
        quote! { let #ident: #owned = arg(args, #spec_name)?; }
    }

    /// The expression that passes the decoded value (a local named after the argument);
    /// `borrowed`: the local already is a reference to it.
    pub(crate) fn passed(&self, borrowed: bool) -> TokenStream {
        let arg = &self.ident;
        match self.pass {
            Pass::Ref if borrowed => quote!(#arg),
            Pass::Ref => quote!(&#arg),
            Pass::AsDeref => quote!(#arg.as_deref()),
            Pass::AsRef => quote!(#arg.as_ref()),
            Pass::Value => quote!(#arg),
        }
    }
}

/// One operation of the spec and the generated method that sends it.
pub(crate) struct Call<'a> {
    pub(crate) id: String,
    pub(crate) method: &'a str,
    pub(crate) operation: &'a openapiv3::Operation,
    pub(crate) method_ident: syn::Ident,
    pub(crate) args: Vec<Arg>,
}

/// Every operation of `spec` (in the spec's order) with the method of the generated `client`
/// that sends it and that method's arguments. Shared by the test dispatch and the facade's
/// `Client::call` (`call.rs`), so the two cannot disagree on how an argument decodes.
pub(crate) fn calls<'a>(
    spec: &'a OpenAPI,
    client: &syn::File,
    path: &std::path::Path,
) -> Result<Vec<Call<'a>>, CodegenError> {
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

    let mut calls = Vec::new();
    for (_, http_method, operation) in spec.operations() {
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
        let mut args = Vec::new();
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
            let (owned, pass) = owned_type(&input.ty);
            let is_str =
                matches!(&*input.ty, Type::Reference(reference) if is_str(&reference.elem));
            args.push(Arg {
                ident: arg.clone(),
                spec_name,
                owned,
                pass,
                is_str,
            });
        }
        calls.push(Call {
            id: id.to_string(),
            method: http_method,
            operation,
            method_ident: format_ident!("{method_name}"),
            args,
        });
    }
    Ok(calls)
}

/// The dispatch module's items, for the client `client` generated from `spec`.
pub(crate) fn dispatch(
    spec: &OpenAPI,
    client: &syn::File,
    path: &std::path::Path,
) -> Result<TokenStream, CodegenError> {
    let mut ids = Vec::new();
    let mut arms = Vec::new();
    for call in calls(spec, client, path)? {
        let id = &call.id;
        let bindings = call.args.iter().map(Arg::decoded);
        let call_args = call.args.iter().map(|arg| arg.passed(false));
        let method_ident = &call.method_ident;
        arms.push(quote! {
            #id => {
                #(#bindings)*
                Ok(client.#method_ident(#(#call_args),*).await.map(drop).map_err(|e| e.to_string()))
            }
        });
        ids.push(call.id.clone());
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
fn owned_type(ty: &Type) -> (TokenStream, Pass) {
    if let Type::Reference(reference) = ty {
        let elem = &reference.elem;
        if is_str(elem) {
            return (quote!(String), Pass::Ref);
        }
        return (quote!(#elem), Pass::Ref);
    }
    if let Some(Type::Reference(reference)) = option_inner(ty) {
        let elem = &reference.elem;
        if is_str(elem) {
            return (quote!(Option<String>), Pass::AsDeref);
        }
        return (quote!(Option<#elem>), Pass::AsRef);
    }
    (quote!(#ty), Pass::Value)
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
