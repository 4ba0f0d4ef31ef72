//! The facade's generic call ([`CALL_PATH`](crate::CALL_PATH)): one `match` arm per operation
//! that decodes JSON arguments, keyed by the spec's parameter names, into the generated
//! client's typed method, and runs it through the facade's pipeline (token, rate slot, month,
//! retries, deadline) as the operation's `Operation` descriptor says.
//!
//! The arguments and how they are passed come from [`crate::dispatch::calls`], the same table
//! the test dispatch is built from. Read or write, and retry-safety, come from the operation's
//! `x-facade-op` (`kind`, `retry-safe`); without it a GET is a read and anything else a write
//! that is not retry-safe. An operation with `security: []` (the token operations) is sent
//! without a token.

use heck::ToSnakeCase as _;
use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::dispatch::{Pass, calls};
use crate::{CodegenError, spec_error};

/// The operation-level extension that declares how the facade exposes an operation.
pub(crate) const FACADE_OP_EXTENSION: &str = "x-facade-op";

/// Whether an operation reads, or writes and may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write { retry_safe: bool },
}

/// The operation's kind: from `x-facade-op` when present, else GET = read, others = write
/// that is not retry-safe.
pub(crate) fn kind(
    id: &str,
    method: &str,
    operation: &openapiv3::Operation,
    path: &std::path::Path,
) -> Result<Kind, CodegenError> {
    let default = if method.eq_ignore_ascii_case("get") {
        Kind::Read
    } else {
        Kind::Write { retry_safe: false }
    };
    let Some(facade_op) = operation.extensions.get(FACADE_OP_EXTENSION) else {
        return Ok(default);
    };
    let retry_safe = match facade_op.get("retry-safe") {
        None => false,
        Some(Value::Bool(safe)) => *safe,
        Some(other) => {
            return Err(spec_error(
                path,
                format!(
                    "operation `{id}`: `{FACADE_OP_EXTENSION}.retry-safe` is {other}, not true or false"
                ),
            ));
        }
    };
    match facade_op.get("kind").and_then(Value::as_str) {
        None => Ok(match default {
            Kind::Write { .. } => Kind::Write { retry_safe },
            read => read,
        }),
        Some("read") => Ok(Kind::Read),
        Some("write") => Ok(Kind::Write { retry_safe }),
        Some(other) => Err(spec_error(
            path,
            format!(
                "operation `{id}`: `{FACADE_OP_EXTENSION}.kind` is {other:?}, not read or write"
            ),
        )),
    }
}

/// Whether the operation declares `security: []`: sent without a token.
pub(crate) fn unauthenticated(operation: &openapiv3::Operation) -> bool {
    operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.is_empty())
}

/// The generated module's items, for the client `client` generated from `spec`.
pub(crate) fn call(
    spec: &OpenAPI,
    client: &syn::File,
    path: &std::path::Path,
) -> Result<TokenStream, CodegenError> {
    let mut ids = Vec::new();
    let mut arms = Vec::new();
    for call in calls(spec, client, path)? {
        let id = call.id.as_str();
        let descriptor = match kind(id, call.method, call.operation, path)? {
            Kind::Read => quote!(Operation::read(#id)),
            Kind::Write { retry_safe } => quote!(Operation::write(#id, #retry_safe)),
        };
        let descriptor = if unauthenticated(call.operation) {
            quote!(#descriptor.unauthenticated())
        } else {
            descriptor
        };
        let names = call.args.iter().map(|arg| arg.spec_name.as_str());
        // Each argument decoded, then refused unless the spec's generated check passes
        // (`dingtalk_conference_api::checks`, as the facade's methods, the CLI and the fake
        // server run it).
        let module = format_ident!("{}", id.to_snake_case());
        let bindings = call.args.iter().map(|arg| {
            let decoded = arg.decoded();
            let function = format_ident!("{}", arg.spec_name.to_snake_case());
            let passed = arg.passed(false);
            quote! {
                #decoded
                dingtalk_conference_api::checks::#module::#function(#passed).map_err(Error::from)?;
            }
        });
        let subject = call
            .args
            .iter()
            .find(|arg| arg.spec_name == "conferenceId" && arg.is_str)
            .map_or(quote!(Subject::default()), |arg| {
                let ident = &arg.ident;
                quote!(Subject::conference(&#ident))
            });
        let borrows = call
            .args
            .iter()
            .filter(|arg| arg.pass != Pass::Value)
            .map(|arg| {
                let ident = &arg.ident;
                quote! { let #ident = &#ident; }
            });
        let passed = call.args.iter().map(|arg| arg.passed(true));
        let method_ident = &call.method_ident;
        arms.push(quote! {
            #id => {
                const OPERATION: &Operation = &#descriptor;
                only(#id, args, &[#(#names),*])?;
                #(#bindings)*
                let answer = self
                    .execute(OPERATION, #subject, self.deadline()?, |context| {
                        let context = context.keeping_body();
                        let api = self.endpoint().api(context.clone());
                        #(#borrows)*
                        async move { Ok(fetched(api.#method_ident(#(#passed),*).await?, &context)) }
                    })
                    .await?;
                answer.into_inner().answer()
            }
        });
        ids.push(call.id.clone());
    }

    Ok(quote! {
        use dingtalk_conference_api::types;
        use serde_json::{Map, Value};

        use super::call::{Answer, arg, fetched, only};
        use crate::pipeline::{Operation, Subject};
        use crate::{Client, Error};

        /// Every operationId of the spec, in spec order.
        pub(crate) const OPERATION_IDS: &[&str] = &[#(#ids),*];

        impl Client {
            /// [`Client::call`] once the operation is known to exist: one arm per operation.
            pub(super) async fn call_operation(
                &self,
                operation_id: &str,
                args: &Map<String, Value>,
            ) -> Result<Answer, Error> {
                match operation_id {
                    #(#arms)*
                    other => Err(Error::InvalidInput(format!(
                        "the spec has no operation {}",
                        crate::text::shown(other)
                    ))),
                }
            }
        }
    })
}
