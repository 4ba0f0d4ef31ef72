//! The generated client's public API as a compact listing, one line per item, field and
//! operation, in file order, so that a regeneration that changes the API shows up as a readable
//! snapshot diff (`tests/tests/cross/api_surface.rs`).
//!
//! Every item kind is either rendered or refused: the printer returns an error for a kind it
//! does not know, so nothing public can slip past the snapshot unseen.

use std::fmt::Write as _;

use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, Fields, FnArg, GenericArgument, GenericParam, Generics, ImplItem, Item, Pat,
    PathArguments, ReceiverKind, ReturnType, Signature, Stmt, TraitItem, Type, TypeParamBound,
    UseTree, Visibility,
};

use crate::BoxError;

/// Marks what the printer cannot render yet; the listing must never contain it.
pub const UNRENDERED: &str = "<unrendered";

/// How to read the listing, at its top.
const LEGEND: &str = "\
# Public API of crates/dingtalk-conference-api/src/generated.rs, in file order.
# Field lines: `Type.field: RustType  [json \"key\", presence, ...]` where presence is
# `optional` (Option: absent or null decodes as None, None is not sent), `default if absent`
# or `required`; `omitted if F` says when a non-Option field is not sent.
# Status lines under each operation: `  op: <statuses> -> <decoded type>`; any other status is
# `UnexpectedResponse`.
";

/// The listing of the generated source text `source`, under the legend.
pub fn listing_of(source: &str) -> Result<String, BoxError> {
    let mut out = String::from(LEGEND);
    out.push_str(&items_of(source, "")?);
    Ok(out)
}

/// The listing of the whole generated API crate: the client (`generated.rs`), then the spec
/// constants (`spec_constants.rs`), from their source texts.
pub fn crate_listing(client: &str, constants: &str) -> Result<String, BoxError> {
    let mut listing = listing_of(client)?;
    let _ = write!(listing, "\n# {CONSTANTS_FILE} (mod spec_constants)\n");
    listing.push_str(&items_of(constants, "spec_constants::")?);
    Ok(listing)
}

/// Where the constants module lives, as the listing names it.
const CONSTANTS_FILE: &str = "crates/dingtalk-conference-api/src/spec_constants.rs";

/// The listing of the public items of `source`, a module whose path prefix is `module`
/// (`""` for the crate root, `"spec_constants::"` for a module file).
pub fn items_of(source: &str, module: &str) -> Result<String, BoxError> {
    let file = syn::parse_file(source)?;
    let mut out = String::new();
    list_items(&file.items, module, &mut out)?;
    Ok(out)
}

/// Lists the public items of one module; `module` is its path prefix (`""` or `"types::"`).
fn list_items(items: &[Item], module: &str, out: &mut String) -> Result<(), BoxError> {
    for item in items {
        match item {
            Item::Use(item) if is_pub(&item.vis) => {
                let tree = render_use(&item.tree);
                match module.strip_suffix("::") {
                    Some(parent) => writeln!(out, "use {tree}  [in mod {parent}]")?,
                    None => writeln!(out, "use {tree}")?,
                }
            }
            Item::Mod(item) if is_pub(&item.vis) => {
                let path = format!("{module}{}", item.ident);
                writeln!(out, "mod {path}")?;
                if let Some((_, content)) = &item.content {
                    list_items(content, &format!("{path}::"), out)?;
                }
            }
            Item::Struct(item) if is_pub(&item.vis) => {
                let name = item.ident.to_string();
                writeln!(
                    out,
                    "struct {module}{name}{}{}",
                    render_generics(&item.generics),
                    render_type_attrs(&item.attrs)?
                )?;
                list_fields(&name, &item.fields, out)?;
            }
            Item::Enum(item) if is_pub(&item.vis) => {
                let name = item.ident.to_string();
                writeln!(
                    out,
                    "enum {module}{name}{}{}",
                    render_generics(&item.generics),
                    render_type_attrs(&item.attrs)?
                )?;
                for variant in &item.variants {
                    let serde = render_serde(&variant.attrs)?;
                    let fields = match &variant.fields {
                        Fields::Unit => String::new(),
                        Fields::Unnamed(fields) => format!(
                            "({})",
                            join(fields.unnamed.iter().map(|f| render_type(&f.ty)))
                        ),
                        Fields::Named(fields) => format!(
                            " {{ {} }}",
                            join(fields.named.iter().map(|f| format!(
                                "{}: {}",
                                f.ident.as_ref().map(ToString::to_string).unwrap_or_default(),
                                render_type(&f.ty)
                            )))
                        ),
                    };
                    writeln!(
                        out,
                        "  {name}::{}{fields}{}",
                        variant.ident,
                        bracket(&serde)
                    )?;
                }
            }
            Item::Type(item) if is_pub(&item.vis) => {
                writeln!(
                    out,
                    "type {module}{}{} = {}",
                    item.ident,
                    render_generics(&item.generics),
                    render_type(&item.ty)
                )?;
            }
            Item::Fn(item) if is_pub(&item.vis) => {
                writeln!(out, "{}", render_signature(&item.sig, module))?;
            }
            Item::Impl(item) => {
                let self_ty = render_type(&item.self_ty);
                match &item.trait_ {
                    Some((path, _)) => writeln!(
                        out,
                        "impl{} {} for {module}{self_ty}",
                        render_generics(&item.generics),
                        render_path(path)
                    )?,
                    None => list_inherent_impl(item, &format!("{module}{self_ty}::"), out)?,
                }
            }
            Item::Const(item) if is_pub(&item.vis) => {
                writeln!(
                    out,
                    "const {module}{}: {} = {}",
                    item.ident,
                    render_type(&item.ty),
                    render_expr(&item.expr)
                )?;
            }
            Item::Static(item) if is_pub(&item.vis) => {
                let mutability = match item.mutability {
                    syn::StaticMutability::Mut(_) => "mut ",
                    _ => "",
                };
                writeln!(
                    out,
                    "static {mutability}{module}{}: {} = {}",
                    item.ident,
                    render_type(&item.ty),
                    render_expr(&item.expr)
                )?;
            }
            Item::Trait(item) if is_pub(&item.vis) => {
                let name = format!("{module}{}", item.ident);
                let supertraits = if item.supertraits.is_empty() {
                    String::new()
                } else {
                    format!(": {}", tokens(&item.supertraits))
                };
                writeln!(
                    out,
                    "trait {name}{}{supertraits}",
                    render_generics(&item.generics)
                )?;
                for member in &item.items {
                    match member {
                        TraitItem::Fn(f) => {
                            let default = if f.default.is_some() {
                                "  [provided]"
                            } else {
                                ""
                            };
                            writeln!(
                                out,
                                "  {}{default}",
                                render_signature(&f.sig, &format!("{name}::"))
                            )?;
                        }
                        TraitItem::Const(c) => {
                            writeln!(out, "  const {name}::{}: {}", c.ident, render_type(&c.ty))?;
                        }
                        TraitItem::Type(t) => writeln!(out, "  type {name}::{}", t.ident)?,
                        other => {
                            return Err(format!(
                                "api listing: unknown trait item kind in {name}: {}",
                                tokens(other)
                            )
                            .into());
                        }
                    }
                }
            }
            Item::Union(item) if is_pub(&item.vis) => {
                let name = item.ident.to_string();
                writeln!(
                    out,
                    "union {module}{name}{}{}",
                    render_generics(&item.generics),
                    render_type_attrs(&item.attrs)?
                )?;
                list_fields(&name, &Fields::Named(item.fields.clone()), out)?;
            }
            Item::ExternCrate(item) if is_pub(&item.vis) => {
                writeln!(out, "extern crate {}", item.ident)?;
            }
            // An exported `macro_rules!` is API at the crate root; any other macro is not.
            Item::Macro(item) if has_attr(&item.attrs, "macro_export") => {
                let name = item
                    .ident
                    .as_ref()
                    .map_or_else(|| tokens(&item.mac.path), ToString::to_string);
                writeln!(out, "macro {name}!")?;
            }
            // Known kinds that are not public: not API.
            Item::Use(_)
            | Item::Mod(_)
            | Item::Struct(_)
            | Item::Enum(_)
            | Item::Type(_)
            | Item::Fn(_)
            | Item::Const(_)
            | Item::Static(_)
            | Item::Trait(_)
            | Item::Union(_)
            | Item::ExternCrate(_)
            | Item::Macro(_) => {}
            other => {
                return Err(format!(
                    "api listing: unknown item kind in module `{module}`, extend \
                     tests/src/api_listing.rs: {}",
                    tokens(other)
                )
                .into());
            }
        }
    }
    Ok(())
}

/// The public members of an inherent impl, one self-contained line each
/// (`fn Client::new(..)`), each operation followed by its status dispatch.
fn list_inherent_impl(item: &syn::ItemImpl, owner: &str, out: &mut String) -> Result<(), BoxError> {
    for member in &item.items {
        match member {
            ImplItem::Fn(f) if is_pub(&f.vis) => {
                writeln!(out, "{}", render_signature(&f.sig, owner))?;
                if let Some(dispatch) = status_dispatch(f)? {
                    writeln!(out, "  {}: {dispatch}", f.sig.ident)?;
                }
            }
            ImplItem::Const(c) if is_pub(&c.vis) => {
                writeln!(
                    out,
                    "const {owner}{}: {} = {}",
                    c.ident,
                    render_type(&c.ty),
                    render_expr(&c.expr)
                )?;
            }
            ImplItem::Type(t) if is_pub(&t.vis) => {
                writeln!(out, "type {owner}{} = {}", t.ident, render_type(&t.ty))?;
            }
            ImplItem::Fn(_) | ImplItem::Const(_) | ImplItem::Type(_) => {}
            other => {
                return Err(format!(
                    "api listing: unknown impl item kind in {owner}: {}",
                    tokens(other)
                )
                .into());
            }
        }
    }
    Ok(())
}

/// One status pattern of a dispatch: its first code, whether it is a range, and its label.
type StatusArm = (u16, bool, String);

/// `200 -> QueryConferenceInfoResponse; 400|403|4XX -> ErrorBody` for a method whose body ends
/// in `match response.status().as_u16() { .. }`, or `None` for any other method.
fn status_dispatch(f: &syn::ImplItemFn) -> Result<Option<String>, BoxError> {
    let Some(Stmt::Expr(Expr::Match(dispatch), _)) = f.block.stmts.last() else {
        return Ok(None);
    };
    if !tokens(&dispatch.expr).ends_with("as_u16 ()") {
        return Ok(None);
    }
    let (success, error) = result_types(&f.sig.output).ok_or_else(|| {
        format!(
            "api listing: {} dispatches on status but does not return Result<ResponseValue<T>, Error<E>>",
            f.sig.ident
        )
    })?;
    // (target, codes), in order of first appearance.
    let mut groups: Vec<(String, Vec<StatusArm>)> = Vec::new();
    for arm in &dispatch.arms {
        let code = match &arm.pat {
            Pat::Wild(_) => continue,
            Pat::Lit(lit) => {
                let code: u16 = tokens(lit).trim_end_matches("u16").parse()?;
                (code, false, code.to_string())
            }
            Pat::Range(range) => {
                let bound = |e: &Option<Box<Expr>>| -> Result<u16, BoxError> {
                    let text = e.as_ref().map(tokens).unwrap_or_default();
                    Ok(text.trim_end_matches("u16").parse()?)
                };
                let (start, end) = (bound(&range.start)?, bound(&range.end)?);
                let label = if start % 100 == 0 && end == start + 99 {
                    format!("{}XX", start / 100)
                } else {
                    format!("{start}..={end}")
                };
                (start, true, label)
            }
            other => {
                return Err(
                    format!("api listing: unknown status pattern {}", tokens(other)).into(),
                );
            }
        };
        let body = tokens(&arm.body);
        let target = if body.contains("ErrorResponse") {
            error.clone()
        } else if body.contains("UnexpectedResponse") {
            "UnexpectedResponse".to_string()
        } else if body.contains("ResponseValue :: from_response")
            // What codegen puts in from_response's place (xtask/src/wire.rs).
            || body.contains("crate :: hooks :: decode")
        {
            success.clone()
        } else if body.contains("ResponseValue :: empty") {
            "(no body)".to_string()
        } else if body.contains("ResponseValue :: stream") {
            "(byte stream)".to_string()
        } else {
            return Err(format!("api listing: unknown status arm body {body}").into());
        };
        match groups.iter_mut().find(|(t, _)| *t == target) {
            Some((_, codes)) => codes.push(code),
            None => groups.push((target, vec![code])),
        }
    }
    let rendered: Vec<String> = groups
        .into_iter()
        .map(|(target, mut codes)| {
            // Exact codes first, then ranges, each ascending.
            codes.sort_by_key(|&(code, is_range, _)| (is_range, code));
            let codes: Vec<String> = codes.into_iter().map(|(_, _, label)| label).collect();
            format!("{} -> {target}", codes.join("|"))
        })
        .collect();
    Ok(Some(rendered.join("; ")))
}

/// `(T, E)` of `Result<ResponseValue<T>, Error<E>>`, by their last path segments.
fn result_types(output: &ReturnType) -> Option<(String, String)> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let args = generic_types(ty, "Result")?;
    let [ok, err] = args.as_slice() else {
        return None;
    };
    let short = |ty: &Type| -> String {
        let rendered = render_type(ty);
        rendered
            .rsplit_once("::")
            .map_or(rendered.clone(), |(_, last)| last.to_string())
    };
    let success = generic_types(ok, "ResponseValue")?;
    let error = generic_types(err, "Error")?;
    Some((short(success.first()?), short(error.first()?)))
}

/// The type arguments of `ty` if its last path segment is `name`.
fn generic_types<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
    )
}

/// A constant's value as a reader would write it: `-5`, `&["a", "b"]`, `"text"`; anything
/// more complex as its tokens.
pub(crate) fn render_expr(expr: &Expr) -> String {
    match expr {
        Expr::Lit(lit) => tokens(lit),
        Expr::Unary(unary) => format!("{}{}", tokens(&unary.op), render_expr(&unary.expr)),
        Expr::Reference(reference) => format!(
            "&{}{}",
            if reference.mutability.is_some() {
                "mut "
            } else {
                ""
            },
            render_expr(&reference.expr)
        ),
        Expr::Array(array) => format!("[{}]", join(array.elems.iter().map(render_expr))),
        Expr::Tuple(tuple) => format!("({})", join(tuple.elems.iter().map(render_expr))),
        Expr::Path(path) if path.qself.is_none() => render_path(&path.path),
        other => tokens(other),
    }
}

/// Tokens as text, for values and the odd item the listing shows verbatim.
pub(crate) fn tokens(node: &impl quote::ToTokens) -> String {
    node.to_token_stream().to_string()
}

fn list_fields(owner: &str, fields: &Fields, out: &mut String) -> Result<(), BoxError> {
    match fields {
        Fields::Named(fields) => {
            let private = fields.named.iter().filter(|f| !is_pub(&f.vis)).count();
            if private > 0 {
                writeln!(out, "  {owner}: {private} private field(s)")?;
            }
            for field in &fields.named {
                let Some(ident) = &field.ident else { continue };
                if !is_pub(&field.vis) {
                    continue;
                }
                let ty = render_type(&field.ty);
                let mut notes = Vec::new();
                let serde = parse_serde(&field.attrs)?;
                let json_name = serde
                    .iter()
                    .find(|(k, _)| k == "rename")
                    .and_then(|(_, v)| v.clone())
                    .unwrap_or_else(|| ident.to_string());
                notes.push(format!("json {json_name:?}"));
                // What deserialization does when the key is absent.
                let presence = if ty.starts_with("Option<") {
                    "optional"
                } else if serde.iter().any(|(k, _)| k == "default") {
                    "default if absent"
                } else {
                    "required"
                };
                notes.push(presence.to_string());
                let skip_if = serde
                    .iter()
                    .find(|(k, _)| k == "skip_serializing_if")
                    .and_then(|(_, v)| v.as_deref())
                    .map(normalise_path_text);
                if presence == "optional" && skip_if.as_deref() != Some("Option::is_none") {
                    notes.push("None is sent as null".to_string());
                }
                for (key, value) in &serde {
                    match (key.as_str(), value) {
                        ("rename", _) | ("default", None) => {}
                        ("skip_serializing_if", Some(_)) if presence == "optional" => {}
                        ("skip_serializing_if", Some(f)) => {
                            notes.push(format!("omitted if {}", normalise_path_text(f)));
                        }
                        (key, Some(value)) => notes.push(format!("{key} = {value:?}")),
                        (key, None) => notes.push(key.to_string()),
                    }
                }
                if has_attr(&field.attrs, "deprecated") {
                    notes.push("deprecated".to_string());
                }
                writeln!(out, "  {owner}.{ident}: {ty}  [{}]", notes.join(", "))?;
            }
        }
        Fields::Unnamed(fields) => {
            let rendered = join(fields.unnamed.iter().map(|f| {
                if is_pub(&f.vis) {
                    render_type(&f.ty)
                } else {
                    "private".to_string()
                }
            }));
            writeln!(out, "  {owner}({rendered})")?;
        }
        Fields::Unit => {}
    }
    Ok(())
}

pub(crate) fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

pub(crate) fn has_attr(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

/// ` derive(...)`, ` serde(...)` and ` non_exhaustive` of a type, on its header line.
pub(crate) fn render_type_attrs(attrs: &[Attribute]) -> Result<String, BoxError> {
    let mut parts = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)?;
        parts.push(format!("derive({})", join(paths.iter().map(render_path))));
    }
    let serde = render_serde(attrs)?;
    if !serde.is_empty() {
        parts.push(format!("serde({serde})"));
    }
    if has_attr(attrs, "non_exhaustive") {
        parts.push("non_exhaustive".to_string());
    }
    if has_attr(attrs, "deprecated") {
        parts.push("deprecated".to_string());
    }
    Ok(if parts.is_empty() {
        String::new()
    } else {
        format!("  [{}]", parts.join(", "))
    })
}

/// The `#[serde(...)]` keys of `attrs`, in order, with their string values.
pub(crate) fn parse_serde(attrs: &[Attribute]) -> Result<Vec<(String, Option<String>)>, BoxError> {
    let mut keys = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .ok_or_else(|| meta.error("unexpected serde attribute path"))?;
            let value = if meta.input.peek(syn::Token![=]) {
                Some(meta.value()?.parse::<syn::LitStr>()?.value())
            } else {
                None
            };
            keys.push((key, value));
            Ok(())
        })?;
    }
    Ok(keys)
}

fn render_serde(attrs: &[Attribute]) -> Result<String, BoxError> {
    Ok(join(parse_serde(attrs)?.into_iter().map(
        |(k, v)| match v {
            Some(v) => format!("{k} = {v:?}"),
            None => k,
        },
    )))
}

fn bracket(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("  [serde({text})]")
    }
}

/// `async fn Owner::name<'a>(&'a self, arg: Type) -> Return`; `owner` is the path prefix.
pub(crate) fn render_signature(sig: &Signature, owner: &str) -> String {
    let mut out = String::new();
    if sig.constness.is_some() {
        out.push_str("const ");
    }
    if sig.asyncness.is_some() {
        out.push_str("async ");
    }
    let args = join(sig.inputs.iter().map(|arg| match arg {
        FnArg::Receiver(receiver) => {
            let mutability = if receiver.mutability.is_some() {
                "mut "
            } else {
                ""
            };
            match &receiver.kind {
                ReceiverKind::Value => format!("{mutability}self"),
                ReceiverKind::Reference(_, lifetime, reference_mut) => format!(
                    "&{}{}{mutability}self",
                    lifetime
                        .as_ref()
                        .map(|l| format!("{l} "))
                        .unwrap_or_default(),
                    if reference_mut.is_some() { "mut " } else { "" }
                ),
                ReceiverKind::Typed(_, ty) => format!("{mutability}self: {}", render_type(ty)),
                _ => format!("{UNRENDERED} receiver>"),
            }
        }
        FnArg::Typed(arg) => {
            let name = match &*arg.pat {
                Pat::Ident(pat) => pat.ident.to_string(),
                _ => format!("{UNRENDERED} pattern>"),
            };
            format!("{name}: {}", render_type(&arg.ty))
        }
    }));
    let _ = write!(
        out,
        "fn {owner}{}{}({args})",
        sig.ident,
        render_generics(&sig.generics)
    );
    if let ReturnType::Type(_, ty) = &sig.output {
        let _ = write!(out, " -> {}", render_type(ty));
    }
    out.push_str(&render_where(&sig.generics));
    out
}

/// ` where T: Send + 'static, C: Clone` of `generics`, or nothing.
pub(crate) fn render_where(generics: &Generics) -> String {
    let Some(clause) = &generics.where_clause else {
        return String::new();
    };
    let predicates = join(clause.predicates.iter().map(|predicate| match predicate {
        syn::WherePredicate::Type(predicate) => format!(
            "{}: {}",
            render_type(&predicate.bounded_ty),
            render_bounds(&predicate.bounds)
        ),
        syn::WherePredicate::Lifetime(predicate) => format!(
            "{}: {}",
            predicate.lifetime,
            join(predicate.bounds.iter().map(ToString::to_string))
        ),
        _ => format!("{UNRENDERED} where predicate>"),
    }));
    format!(" where {predicates}")
}

/// `Clone + Send + 'static`.
pub(crate) fn render_bounds<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> String {
    bounds
        .into_iter()
        .map(|bound| match bound {
            TypeParamBound::Trait(bound) => {
                let maybe = if bound.maybe.is_some() { "?" } else { "" };
                let lifetimes = bound.lifetimes.as_ref().map_or_else(String::new, |l| {
                    format!("for<{}> ", join(l.lifetimes.iter().map(tokens)))
                });
                format!("{lifetimes}{maybe}{}", render_path(&bound.path))
            }
            TypeParamBound::Lifetime(lifetime) => lifetime.to_string(),
            _ => format!("{UNRENDERED} bound>"),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

pub(crate) fn render_generics(generics: &Generics) -> String {
    if generics.params.is_empty() {
        return String::new();
    }
    let params = join(generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(param) if param.bounds.is_empty() => param.lifetime.to_string(),
        GenericParam::Lifetime(param) => format!(
            "{}: {}",
            param.lifetime,
            param
                .bounds
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        GenericParam::Type(param) => {
            let mut text = param.ident.to_string();
            if !param.bounds.is_empty() {
                let _ = write!(text, ": {}", render_bounds(&param.bounds));
            }
            if let Some(default) = &param.default {
                let _ = write!(text, " = {}", render_type(&default.1));
            }
            text
        }
        GenericParam::Const(param) => format!("const {}: {}", param.ident, render_type(&param.ty)),
    }));
    format!("<{params}>")
}

pub(crate) fn render_type(ty: &Type) -> String {
    match ty {
        Type::Path(ty) if ty.qself.is_none() => render_path(&ty.path),
        Type::Reference(ty) => format!(
            "&{}{}{}",
            ty.lifetime
                .as_ref()
                .map(|l| format!("{l} "))
                .unwrap_or_default(),
            if ty.mutability.is_some() { "mut " } else { "" },
            render_type(&ty.elem)
        ),
        Type::Tuple(ty) if ty.elems.len() == 1 => {
            format!("({},)", join(ty.elems.iter().map(render_type)))
        }
        Type::Tuple(ty) => format!("({})", join(ty.elems.iter().map(render_type))),
        Type::Slice(ty) => format!("[{}]", render_type(&ty.elem)),
        Type::Paren(ty) => format!("({})", render_type(&ty.elem)),
        Type::Group(ty) => render_type(&ty.elem),
        Type::Never(_) => "!".to_string(),
        Type::ImplTrait(ty) => format!("impl {}", render_bounds(&ty.bounds)),
        Type::TraitObject(ty) => format!("dyn {}", render_bounds(&ty.bounds)),
        Type::Array(ty) => format!("[{}; {}]", render_type(&ty.elem), render_expr(&ty.len)),
        Type::Ptr(ty) => format!("*{} {}", tokens(&ty.mutability), render_type(&ty.elem)),
        _ => format!("{UNRENDERED} type>"),
    }
}

/// Paths as a reader would write them: no leading `::`, and the prelude's types by their short
/// names (`::std::option::Option<::std::string::String>` is `Option<String>`).
pub(crate) fn render_path(path: &syn::Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| {
            let args = match &segment.arguments {
                PathArguments::None => String::new(),
                PathArguments::AngleBracketed(args) => format!(
                    "<{}>",
                    join(args.args.iter().map(|arg| match arg {
                        GenericArgument::Lifetime(lifetime) => lifetime.to_string(),
                        GenericArgument::Type(ty) => render_type(ty),
                        GenericArgument::AssocType(assoc) =>
                            format!("{} = {}", assoc.ident, render_type(&assoc.ty)),
                        GenericArgument::Const(expr) => render_expr(expr),
                        _ => format!("{UNRENDERED} generic argument>"),
                    }))
                ),
                PathArguments::Parenthesized(args) => {
                    let output = match &args.output {
                        ReturnType::Default => String::new(),
                        ReturnType::Type(_, ty) => format!(" -> {}", render_type(ty)),
                    };
                    format!(
                        "({}){output}",
                        join(args.inputs.iter().map(|arg| render_type(&arg.ty)))
                    )
                }
            };
            format!("{}{args}", segment.ident)
        })
        .collect();
    shorten_prelude(segments).join("::")
}

const PRELUDE_PATHS: &[&[&str]] = &[
    &["std", "option", "Option"],
    &["std", "string", "String"],
    &["std", "vec", "Vec"],
    &["std", "boxed", "Box"],
    &["std", "result", "Result"],
    &["core", "option", "Option"],
    &["core", "result", "Result"],
    &["alloc", "string", "String"],
    &["alloc", "vec", "Vec"],
    &["alloc", "boxed", "Box"],
];

/// Drops the module prefix of a prelude type; the segments may carry generic arguments.
fn shorten_prelude(segments: Vec<String>) -> Vec<String> {
    let bare = |segment: &str| segment.split('<').next().unwrap_or_default().to_string();
    for prelude in PRELUDE_PATHS {
        if segments.len() >= prelude.len()
            && segments
                .iter()
                .zip(prelude.iter())
                .all(|(segment, expected)| bare(segment) == *expected)
        {
            return segments[prelude.len() - 1..].to_vec();
        }
    }
    segments
}

/// A path written inside a string (e.g. `skip_serializing_if = "::std::option::Option::is_none"`).
fn normalise_path_text(text: &str) -> String {
    syn::parse_str::<syn::Path>(text).map_or_else(|_| text.to_string(), |path| render_path(&path))
}

fn render_use(tree: &UseTree) -> String {
    match tree {
        UseTree::Path(tree) => format!("{}::{}", tree.ident, render_use(&tree.tree)),
        UseTree::Name(tree) => tree.ident.to_string(),
        UseTree::Rename(tree) => format!("{} as {}", tree.ident, tree.rename),
        UseTree::Glob(_) => "*".to_string(),
        UseTree::Group(tree) => format!("{{{}}}", join(tree.items.iter().map(render_use))),
    }
}

pub(crate) fn join(parts: impl Iterator<Item = impl AsRef<str>>) -> String {
    parts
        .map(|part| part.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
