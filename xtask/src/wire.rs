//! Three edits of progenitor's output, each exact: when progenitor's output no longer has the
//! shape an edit expects, codegen fails and says so rather than going on without it.
//!
//! - **No `api-version` header.** Progenitor 0.15 makes every request method build a header
//!   map holding `api-version: <info.version>`, unconditionally and with no setting to turn it
//!   off. DingTalk documents no such header, so the wire keeps to what DingTalk documents (a
//!   gateway change on its side cannot start rejecting or misrouting our calls). Removed here,
//!   once, it spares every request the map's two allocations, a header insert and the hook
//!   that took it out again. In each method body this removes the one statement
//!   `header_map.append(HeaderName::from_static("api-version"), …);` and lowers the map's
//!   `with_capacity(n)` by one. A method with no other header then has an empty map: the map
//!   and the builder's `.headers(header_map)` go too, which spares each request merging an
//!   empty map into its own (about 200 instructions).
//! - **Answers decoded without copying their headers.** progenitor-client's
//!   `ResponseValue::from_response` clones the whole header map of every response (two
//!   allocations and a copy of each header) and drops the response's own;
//!   `crate::hooks::decode` does the same work and moves the map instead.
//! - **URLs built in one allocation.** Progenitor formats every request URL with
//!   `format!("{}/v1.0/…/{}", self.baseurl, encode_path(&param.to_string()))`: a copy of each
//!   parameter into a `String`, its encoding into another, and a URL that grows as it is
//!   written. `crate::hooks::url(&self.baseurl, &["/v1.0/…/"], &[param])` builds the same URL
//!   (a unit test there compares the two on every byte and many strings) in one allocation of
//!   the right size. Only a method whose path parameters are all `&str` is edited; any other
//!   keeps progenitor's `format!`.

use quote::ToTokens as _;
use syn::visit_mut::VisitMut;

/// The header progenitor adds and DingTalk does not document.
const HEADER: &str = "\"api-version\"";

/// Removes the `api-version` header from every request method; returns how many methods had
/// it. Fails when a method builds a header map but has no such statement, or has it in a shape
/// this edit does not know.
pub(crate) fn drop_api_version(file: &mut syn::File) -> Result<usize, String> {
    let mut edited = 0;
    for method in methods(file) {
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
        lower_capacity(&mut stmts[map]).map_err(|why| format!("`{name}`: {why}"))?;
        if !still_appends {
            // Nothing goes into the map any more: neither it nor the builder's
            // `.headers(header_map)` (which would merge an empty map into the request).
            stmts.remove(map);
            drop_empty_headers(stmts).map_err(|why| format!("`{name}`: {why}"))?;
        }
        if stmts.iter().any(mentions_header) {
            return Err(format!("`{name}` still mentions api-version"));
        }
        edited += 1;
    }
    Ok(edited)
}

/// Every method of every `impl` block of `file`.
fn methods(file: &mut syn::File) -> impl Iterator<Item = &mut syn::ImplItemFn> {
    file.items
        .iter_mut()
        .filter_map(|item| match item {
            syn::Item::Impl(block) => Some(block),
            _ => None,
        })
        .flat_map(|block| block.items.iter_mut())
        .filter_map(|member| match member {
            syn::ImplItem::Fn(method) => Some(method),
            _ => None,
        })
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

/// Makes each `let url = format!("{}…{}…", self.baseurl, encode_path(&p.to_string()), …);`
/// of a method whose path parameters are `&str` call `crate::hooks::url`; returns how many it
/// changed. Fails when no method builds its URL that way any more, or a URL's `format!` has a
/// shape this edit does not know.
pub(crate) fn build_urls(file: &mut syn::File) -> Result<usize, String> {
    let mut edited = 0;
    let mut seen = 0;
    for method in methods(file) {
        let name = method.sig.ident.to_string();
        let string_params: Vec<String> = method
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) if is_str_ref(&typed.ty) => {
                    Some(typed.pat.to_token_stream().to_string())
                }
                _ => None,
            })
            .collect();
        for stmt in &mut method.block.stmts {
            let Some(init) = url_format(stmt) else {
                continue;
            };
            seen += 1;
            let (pieces, params) =
                url_parts(init).map_err(|why| format!("`{name}`'s URL: {why}"))?;
            if !params.iter().all(|param| string_params.contains(param)) {
                continue;
            }
            let params = params.iter().map(|param| quote::format_ident!("{param}"));
            *init = syn::parse_quote! {
                crate::hooks::url(&self.baseurl, &[#(#pieces),*], &[#(#params),*])
            };
            edited += 1;
        }
    }
    if seen == 0 {
        return Err("no `let url = format!(…)` to replace".to_string());
    }
    Ok(edited)
}

/// The initialiser of `let url = format!(…);`.
fn url_format(stmt: &mut syn::Stmt) -> Option<&mut syn::Expr> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(binding) = &local.pat else {
        return None;
    };
    let init = local.init.as_mut()?;
    let syn::Expr::Macro(mac) = init.expr.as_ref() else {
        return None;
    };
    (binding.ident == "url" && mac.mac.path.is_ident("format")).then_some(init.expr.as_mut())
}

/// The literal pieces after the base URL and the parameter names of a URL's `format!`.
fn url_parts(init: &syn::Expr) -> Result<(Vec<String>, Vec<String>), String> {
    use syn::parse::Parser as _;
    let syn::Expr::Macro(mac) = init else {
        return Err("not a macro".to_string());
    };
    let args = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated
        .parse2(mac.mac.tokens.clone())
        .map_err(|e| format!("unreadable format! arguments: {e}"))?;
    let mut args = args.into_iter();
    let Some(syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(template),
        ..
    })) = args.next()
    else {
        return Err("the format is not a string literal".to_string());
    };
    let template = template.value();
    let Some(rest) = template.strip_prefix("{}") else {
        return Err(format!("`{template}` does not start with the base URL"));
    };
    if rest.contains("{{") || rest.contains("}}") || rest.replace("{}", "").contains(['{', '}']) {
        return Err(format!("`{template}` has placeholders other than `{{}}`"));
    }
    let pieces: Vec<String> = rest.split("{}").map(str::to_string).collect();
    match args.next() {
        Some(base) if base.to_token_stream().to_string() == "self . baseurl" => {}
        _ => return Err("the first argument is not `self.baseurl`".to_string()),
    }
    let params = args
        .map(|arg| {
            encoded_param(&arg).ok_or_else(|| {
                format!(
                    "`{}` is not `encode_path(&param.to_string())`",
                    arg.to_token_stream()
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if params.len() + 1 != pieces.len() {
        return Err(format!("`{template}` has {} parameters", params.len()));
    }
    Ok((pieces, params))
}

/// `p` of `encode_path(&p.to_string())`.
fn encoded_param(arg: &syn::Expr) -> Option<String> {
    let syn::Expr::Call(call) = arg else {
        return None;
    };
    let syn::Expr::Path(func) = call.func.as_ref() else {
        return None;
    };
    if !func.path.is_ident("encode_path") || call.args.len() != 1 {
        return None;
    }
    let syn::Expr::Reference(reference) = call.args.first()? else {
        return None;
    };
    let syn::Expr::MethodCall(to_string) = reference.expr.as_ref() else {
        return None;
    };
    let syn::Expr::Path(param) = to_string.receiver.as_ref() else {
        return None;
    };
    (to_string.method == "to_string" && to_string.args.is_empty())
        .then(|| param.path.get_ident().map(ToString::to_string))
        .flatten()
}

/// `&str` with any lifetime.
fn is_str_ref(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Reference(reference)
        if reference.mutability.is_none()
            && matches!(reference.elem.as_ref(), syn::Type::Path(path) if path.path.is_ident("str")))
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

/// Replaces the one `.headers(header_map)` of a request builder chain by its receiver. Fails
/// when there is not exactly one, or `header_map` is still mentioned elsewhere.
fn drop_empty_headers(stmts: &mut [syn::Stmt]) -> Result<(), String> {
    struct Headers(usize);
    impl VisitMut for Headers {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::MethodCall(call) = expr
                && call.method == "headers"
                && call.args.len() == 1
                && call.args[0].to_token_stream().to_string() == "header_map"
            {
                let receiver = std::mem::replace(call.receiver.as_mut(), syn::Expr::PLACEHOLDER);
                *expr = receiver;
                self.0 += 1;
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    let mut headers = Headers(0);
    for stmt in stmts.iter_mut() {
        headers.visit_stmt_mut(stmt);
    }
    if headers.0 != 1 {
        return Err(format!(
            "{} `.headers(header_map)` calls for an empty header map, not 1",
            headers.0
        ));
    }
    if stmts
        .iter()
        .any(|stmt| stmt.to_token_stream().to_string().contains("header_map"))
    {
        return Err("the empty header map is used beyond `.headers(header_map)`".to_string());
    }
    Ok(())
}

/// `with_capacity(n)` → `with_capacity(n - 1)`: the map now holds one header fewer. (A map
/// left with none is removed whole by the caller; this still checks its shape.)
fn lower_capacity(stmt: &mut syn::Stmt) -> Result<(), String> {
    let syn::Stmt::Local(local) = stmt else {
        return Err("the header map is not a local".to_string());
    };
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

        // With no other header, the map and the builder's `.headers(header_map)` go too.
        let mut alone = method(&PROGENITOR.replace(
            r#"header_map.append("x-other", value.to_string().try_into()?);"#,
            "",
        ));
        assert_eq!(drop_api_version(&mut alone), Ok(1));
        let text = alone.to_token_stream().to_string();
        assert!(!text.contains("header_map"), "{text}");
        assert!(
            text.contains("let request = self . client . get (url) . build () ?"),
            "{text}"
        );

        // An empty map used some other way is a shape this edit does not know.
        let used = PROGENITOR
            .replace(
                r#"header_map.append("x-other", value.to_string().try_into()?);"#,
                "",
            )
            .replace(".headers(header_map)", ".headers(header_map.clone())");
        let error = drop_api_version(&mut method(&used)).expect_err("unknown shape");
        assert!(error.contains("`op`") && error.contains("not 1"), "{error}");
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

    fn method_with(params: &str, body: &str) -> syn::File {
        syn::parse_str(&format!(
            "impl Client {{ pub async fn op<'a>(&'a self, {params}) {{ {body} }} }}"
        ))
        .expect("valid Rust")
    }

    #[test]
    fn urls_of_str_parameters_are_built_by_our_function() {
        let mut file = method_with(
            "conference_id: &'a str, union_id: &'a str",
            r#"let url = format!(
                "{}/v1.0/conference/videoConferences/{}/users/{}/x", self.baseurl,
                encode_path(&conference_id.to_string()), encode_path(&union_id.to_string()),
            );"#,
        );
        assert_eq!(build_urls(&mut file), Ok(1));
        let text = file.to_token_stream().to_string();
        assert!(
            text.contains(
                "crate :: hooks :: url (& self . baseurl , & [\"/v1.0/conference/videoConferences/\" , \"/users/\" , \"/x\"] , & [conference_id , union_id])"
            ),
            "{text}"
        );
        assert!(!text.contains("format !"), "{text}");

        let mut bare =
            method(r#"let url = format!("{}/v1.0/conference/customShortLinks", self.baseurl,);"#);
        assert_eq!(build_urls(&mut bare), Ok(1));
        let text = bare.to_token_stream().to_string();
        assert!(
            text.contains("\"/v1.0/conference/customShortLinks\"] , & [])"),
            "{text}"
        );
    }

    #[test]
    fn a_url_with_a_parameter_that_is_not_a_str_keeps_progenitors_format() {
        let mut file = method_with(
            "page: i64",
            r#"let url = format!("{}/v1.0/x/{}", self.baseurl, encode_path(&page.to_string()));"#,
        );
        assert_eq!(build_urls(&mut file), Ok(0));
        assert!(file.to_token_stream().to_string().contains("format !"));
    }

    #[test]
    fn a_url_of_an_unknown_shape_fails_codegen() {
        let named = method_with(
            "id: &'a str",
            r#"let url = format!("{}/v1.0/x/{id}", self.baseurl);"#,
        );
        let error = build_urls(&mut named.clone()).expect_err("unknown shape");
        assert!(
            error.contains("`op`") && error.contains("placeholders"),
            "{error}"
        );
        let raw = method_with(
            "id: &'a str",
            r#"let url = format!("{}/v1.0/x/{}", self.baseurl, id);"#,
        );
        let error = build_urls(&mut raw.clone()).expect_err("unknown shape");
        assert!(error.contains("encode_path"), "{error}");
        assert!(
            build_urls(&mut method("let x = 1;")).is_err(),
            "no URL at all"
        );
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
