//! The generated client's public API as a compact listing, one line per item, field and
//! operation, in file order: a regeneration that changes the API shows up as a readable diff.

use std::fmt::Write as _;

use dingtalk_conference_tests::BoxError;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Fields, FnArg, GenericArgument, GenericParam, Generics, ImplItem, Item, Pat,
    PathArguments, ReceiverKind, ReturnType, Signature, Type, TypeParamBound, UseTree, Visibility,
};

/// Marks what the printer cannot render yet; the listing must never contain it.
const UNRENDERED: &str = "<unrendered";

fn generated_source() -> Result<String, BoxError> {
    let path = xtask::workspace_root().join(xtask::OUTPUT_PATH);
    Ok(std::fs::read_to_string(path)?)
}

/// How to read a field line, at the top of the snapshot.
const LEGEND: &str = "\
# Public API of crates/dingtalk-conference-api/src/generated.rs, in file order.
# Field lines: `Type.field: RustType  [json \"key\", presence, ...]` where presence is
# `optional` (Option: absent or null decodes as None, None is not sent), `default if absent`
# or `required`; `omitted if F` says when a non-Option field is not sent.
";

fn api_listing() -> Result<String, BoxError> {
    listing_of(&generated_source()?)
}

fn listing_of(source: &str) -> Result<String, BoxError> {
    let file = syn::parse_file(source)?;
    let mut out = String::from(LEGEND);
    list_items(&file.items, "", &mut out)?;
    Ok(out)
}

#[test]
fn generated_client_public_api() -> Result<(), BoxError> {
    insta::assert_snapshot!(api_listing()?);
    Ok(())
}

#[test]
fn api_listing_renders_every_type_it_meets() -> Result<(), BoxError> {
    let listing = api_listing()?;
    assert!(
        !listing.contains(UNRENDERED),
        "extend the printer in tests/tests/api_surface.rs:\n{listing}"
    );
    Ok(())
}

#[test]
fn api_listing_shows_each_conference_info_field_with_its_type() -> Result<(), BoxError> {
    let listing = api_listing()?;
    assert!(
        listing.contains("  ConferenceInfo.active_num: Option<i32>  [json \"activeNum\", optional"),
        "{listing}"
    );
    let fields = listing
        .lines()
        .filter(|line| line.starts_with("  ConferenceInfo."))
        .count();
    // DingTalk's field table: 20 keys in `confInfo`.
    assert_eq!(fields, 20, "{listing}");
    Ok(())
}

/// What a reviewer sees when one field's type changes in the spec: one changed line.
#[test]
fn changing_one_field_type_in_the_spec_changes_exactly_one_listing_line() -> Result<(), BoxError> {
    let spec = std::fs::read_to_string(dingtalk_conference_tests::spec::spec_path())?;
    let original = "        activeNum:\n          type: integer\n          format: int32\n";
    assert_eq!(spec.matches(original).count(), 1, "update this test");
    let changed = spec.replacen(original, "        activeNum:\n          type: string\n", 1);
    let before = listing_of(&xtask::generate_from_str(&spec, xtask::SPEC_PATH)?)?;
    let after = listing_of(&xtask::generate_from_str(&changed, xtask::SPEC_PATH)?)?;
    let differing: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        differing,
        [(
            "  ConferenceInfo.active_num: Option<i32>  [json \"activeNum\", optional]",
            "  ConferenceInfo.active_num: Option<String>  [json \"activeNum\", optional]"
        )]
    );
    Ok(())
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
                    // Inherent methods, one self-contained line each: `fn Client::new(..)`.
                    None => {
                        for member in &item.items {
                            if let ImplItem::Fn(f) = member
                                && is_pub(&f.vis)
                            {
                                let owner = format!("{module}{self_ty}::");
                                writeln!(out, "{}", render_signature(&f.sig, &owner))?;
                            }
                        }
                    }
                }
            }
            // Private items, consts and macros are not API.
            _ => {}
        }
    }
    Ok(())
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

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn has_attr(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

/// ` derive(...)`, ` serde(...)` and ` non_exhaustive` of a type, on its header line.
fn render_type_attrs(attrs: &[Attribute]) -> Result<String, BoxError> {
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
fn parse_serde(attrs: &[Attribute]) -> Result<Vec<(String, Option<String>)>, BoxError> {
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
fn render_signature(sig: &Signature, owner: &str) -> String {
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
    if sig.generics.where_clause.is_some() {
        let _ = write!(out, " {UNRENDERED} where clause>");
    }
    out
}

fn render_generics(generics: &Generics) -> String {
    if generics.params.is_empty() {
        return String::new();
    }
    let params = join(generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(param) => param.lifetime.to_string(),
        GenericParam::Type(param) if param.bounds.is_empty() => param.ident.to_string(),
        GenericParam::Type(param) => format!(
            "{}: {}",
            param.ident,
            param
                .bounds
                .iter()
                .map(|bound| match bound {
                    TypeParamBound::Trait(bound) => render_path(&bound.path),
                    TypeParamBound::Lifetime(lifetime) => lifetime.to_string(),
                    _ => format!("{UNRENDERED} bound>"),
                })
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        GenericParam::Const(param) => format!("const {}: {}", param.ident, render_type(&param.ty)),
    }));
    format!("<{params}>")
}

fn render_type(ty: &Type) -> String {
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
        _ => format!("{UNRENDERED} type>"),
    }
}

/// Paths as a reader would write them: no leading `::`, and the prelude's types by their short
/// names (`::std::option::Option<::std::string::String>` is `Option<String>`).
fn render_path(path: &syn::Path) -> String {
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
                        _ => format!("{UNRENDERED} generic argument>"),
                    }))
                ),
                PathArguments::Parenthesized(_) => format!("{UNRENDERED} Fn arguments>"),
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

fn join(parts: impl Iterator<Item = impl AsRef<str>>) -> String {
    parts
        .map(|part| part.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
