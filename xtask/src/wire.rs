//! Two edits of progenitor's output, each exact: when progenitor's output no longer has the
//! shape an edit expects, codegen fails and says so rather than going on without it.
//!
//! - **No `api-version` header.** Progenitor 0.15 makes every request method build a header
//!   map holding `api-version: <info.version>`, unconditionally and with no setting to turn it
//!   off. DingTalk documents no such header, so the wire keeps to what DingTalk documents (a
//!   gateway change on its side cannot start rejecting or misrouting our calls). Removed here,
//!   once, it spares every request the map's two allocations, a header insert and the hook
//!   that took it out again. In each method body this removes the one statement
//!   `header_map.append(HeaderName::from_static("api-version"), …);` and lowers the map's
//!   `with_capacity(n)` by one.
//! - **Answers decoded without copying their headers.** progenitor-client's
//!   `ResponseValue::from_response` clones the whole header map of every response (two
//!   allocations and a copy of each header) and drops the response's own;
//!   `crate::hooks::decode` does the same work and moves the map instead.

use quote::ToTokens as _;
use syn::visit_mut::VisitMut;

/// The header progenitor adds and DingTalk does not document.
const HEADER: &str = "\"api-version\"";

/// Removes the `api-version` header from every request method; returns how many methods had
/// it. Fails when a method builds a header map but has no such statement, or has it in a shape
/// this edit does not know.
pub(crate) fn drop_api_version(file: &mut syn::File) -> Result<usize, String> {
    let mut edited = 0;
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for member in &mut block.items {
            let syn::ImplItem::Fn(method) = member else {
                continue;
            };
            let name = method.sig.ident.to_string();
            let stmts = &mut method.block.stmts;
            let Some(map) = stmts.iter().position(is_header_map_local) else {
                if stmts.iter().any(mentions_header) {
                    return Err(format!("`{name}` sends api-version outside a header map"));
                }
                continue;
            };
            let appends: Vec<usize> = (0..stmts.len())
                .filter(|&i| is_api_version_append(&stmts[i]))
                .collect();
            let [append] = appends[..] else {
                return Err(format!(
                    "`{name}` has {} api-version statements, not 1",
                    appends.len()
                ));
            };
            stmts.remove(append);
            let still_appends = stmts.iter().any(|stmt| {
                stmt.to_token_stream()
                    .to_string()
                    .contains("header_map . append")
            });
            lower_capacity(&mut stmts[map], still_appends)
                .map_err(|why| format!("`{name}`: {why}"))?;
            if stmts.iter().any(mentions_header) {
                return Err(format!("`{name}` still mentions api-version"));
            }
            edited += 1;
        }
    }
    Ok(edited)
}

/// The decoding function progenitor calls, and ours.
const FROM_RESPONSE: [&str; 2] = ["ResponseValue", "from_response"];
const DECODE: &str = "crate::hooks::decode";

/// Makes every `ResponseValue::from_response(response)` call `crate::hooks::decode(response)`;
/// returns how many it changed. Fails when there are none, which means progenitor decodes
/// some other way now.
pub(crate) fn decode_in_place(file: &mut syn::File) -> Result<usize, String> {
    struct Calls(usize, syn::Path);
    impl VisitMut for Calls {
        fn visit_expr_path_mut(&mut self, expr: &mut syn::ExprPath) {
            let names: Vec<String> = expr
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if expr.qself.is_none() && names == FROM_RESPONSE {
                expr.path = self.1.clone();
                self.0 += 1;
            }
            syn::visit_mut::visit_expr_path_mut(self, expr);
        }
    }
    let decode = syn::parse_str(DECODE).map_err(|e| format!("{DECODE}: {e}"))?;
    let mut calls = Calls(0, decode);
    calls.visit_file_mut(file);
    if calls.0 == 0 {
        return Err("no ResponseValue::from_response call to replace".to_string());
    }
    Ok(calls.0)
}

fn mentions_header(stmt: &syn::Stmt) -> bool {
    stmt.to_token_stream().to_string().contains(HEADER)
}

/// `let mut header_map = …::HeaderMap::with_capacity(n);`
fn is_header_map_local(stmt: &syn::Stmt) -> bool {
    matches!(stmt, syn::Stmt::Local(local)
        if matches!(&local.pat, syn::Pat::Ident(binding) if binding.ident == "header_map"))
}

/// `header_map.append(HeaderName::from_static("api-version"), …);`
fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    call.method == "append"
        && call.receiver.to_token_stream().to_string() == "header_map"
        && call
            .args
            .first()
            .is_some_and(|name| name.to_token_stream().to_string().contains(HEADER))
}

/// `with_capacity(n)` → `with_capacity(n - 1)`: the map now holds one header fewer (and none
/// at all, with no allocation, for an operation without header parameters, whose map is then
/// no longer `mut`).
fn lower_capacity(stmt: &mut syn::Stmt, still_appends: bool) -> Result<(), String> {
    let syn::Stmt::Local(local) = stmt else {
        return Err("the header map is not a local".to_string());
    };
    if !still_appends && let syn::Pat::Ident(binding) = &mut local.pat {
        binding.mutability = None;
    }
    let Some(init) = &mut local.init else {
        return Err("the header map has no initialiser".to_string());
    };
    let syn::Expr::Call(call) = init.expr.as_mut() else {
        return Err("the header map is not built by a call".to_string());
    };
    let is_with_capacity = matches!(call.func.as_ref(), syn::Expr::Path(path)
        if path.path.segments.last().is_some_and(|s| s.ident == "with_capacity"));
    let Some(syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(capacity),
        ..
    })) = call.args.first_mut()
    else {
        return Err("the header map's capacity is not a literal".to_string());
    };
    let n: usize = capacity
        .base10_parse()
        .map_err(|e| format!("the header map's capacity: {e}"))?;
    if !is_with_capacity || n == 0 {
        return Err("the header map is not `with_capacity(n)` with n ≥ 1".to_string());
    }
    *capacity = syn::LitInt::new(&format!("{}usize", n - 1), capacity.span());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(body: &str) -> syn::File {
        syn::parse_str(&format!(
            "impl Client {{ pub async fn op(&self) {{ {body} }} }}"
        ))
        .expect("valid Rust")
    }

    const PROGENITOR: &str = r#"
        let url = format!("{}/v1.0/x", self.baseurl);
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
        header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(Self::api_version()),
        );
        header_map.append("x-other", value.to_string().try_into()?);
        let request = self.client.get(url).headers(header_map).build()?;
    "#;

    #[test]
    fn the_header_goes_and_the_map_shrinks_by_one() {
        let mut file = method(PROGENITOR);
        assert_eq!(drop_api_version(&mut file), Ok(1));
        let text = file.to_token_stream().to_string();
        assert!(!text.contains("api-version"), "{text}");
        assert!(text.contains("with_capacity (1usize)"), "{text}");
        assert!(text.contains("\"x-other\""), "{text}");
        assert!(text.contains("let mut header_map"), "{text}");

        let mut alone = method(&PROGENITOR.replace(
            r#"header_map.append("x-other", value.to_string().try_into()?);"#,
            "",
        ));
        assert_eq!(drop_api_version(&mut alone), Ok(1));
        let text = alone.to_token_stream().to_string();
        assert!(text.contains("let header_map = "), "{text}");
        assert!(text.contains("with_capacity (1usize)"), "{text}");
    }

    #[test]
    fn answers_are_decoded_by_our_function() {
        let mut file = method(
            "match status { 200u16 => ResponseValue::from_response(response).await, \
             _ => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)) }",
        );
        assert_eq!(decode_in_place(&mut file), Ok(2));
        let text = file.to_token_stream().to_string();
        assert!(!text.contains("from_response"), "{text}");
        assert_eq!(
            text.matches("crate :: hooks :: decode (response)").count(),
            2,
            "{text}"
        );
        assert!(decode_in_place(&mut method("let x = 1;")).is_err());
    }

    #[test]
    fn an_unknown_shape_fails_instead_of_keeping_the_header() {
        let moved = PROGENITOR.replace(
            "let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);",
            "let mut header_map = ::reqwest::header::HeaderMap::new();",
        );
        let error = drop_api_version(&mut method(&moved)).expect_err("unknown shape");
        assert!(error.contains("`op`"), "{error}");

        let inline = r#"let request = self.client.get(url)
            .header("api-version", Self::api_version()).build()?;"#;
        let error = drop_api_version(&mut method(inline)).expect_err("outside a map");
        assert!(error.contains("outside a header map"), "{error}");
    }
}
