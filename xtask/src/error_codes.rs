//! The facade's `ErrorCode` ([`ERROR_CODES_PATH`](crate::ERROR_CODES_PATH)), generated from the
//! spec's `components.x-error-codes` so that DingTalk's documented codes are declared once:
//!
//! - `description`: the enum's doc.
//! - `throttling-hint`: the hint every throttling code gets (a known one, and one the facade
//!   recognises by its naming scheme).
//! - `codes`: one entry per code: `code` (the wire value `as_str` gives back), `aliases` (other
//!   spellings `from_wire` accepts), `variant` (the Rust name), `status` (the HTTP status it
//!   comes with), `token-endpoint` (only the token calls answer it), `meaning` (one line, for
//!   the variant's doc), `throttling`, `final` (retrying can never help) and `hint` (what a
//!   person should do; not for a throttling code, which gets `throttling-hint`).
//!
//! The generated `is_throttling` asks the hand-written `is_unlisted_throttling` (in the
//! facade's `error/code.rs`) about a code the spec does not list.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::{CodegenError, spec_error};

/// The components extension that declares DingTalk's error codes.
pub(crate) const ERROR_CODES_EXTENSION: &str = "x-error-codes";

/// The keys an entry of `codes` may have; anything else is a typo the generator refuses.
const ENTRY_KEYS: [&str; 9] = [
    "code",
    "aliases",
    "variant",
    "status",
    "token-endpoint",
    "meaning",
    "throttling",
    "final",
    "hint",
];
/// The keys of the extension itself.
const TOP_KEYS: [&str; 3] = ["description", "throttling-hint", "codes"];

/// The declared codes.
pub(crate) struct ErrorCodes {
    pub(crate) description: String,
    pub(crate) throttling_hint: String,
    pub(crate) codes: Vec<ErrorCodeDef>,
}

/// One declared code.
pub(crate) struct ErrorCodeDef {
    pub(crate) code: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) variant: String,
    pub(crate) status: u16,
    pub(crate) token_endpoint: bool,
    pub(crate) meaning: String,
    pub(crate) throttling: bool,
    pub(crate) is_final: bool,
    pub(crate) hint: Option<String>,
}

/// Reads and checks `components.x-error-codes`.
pub(crate) fn read(spec: &openapiv3::OpenAPI, path: &Path) -> Result<ErrorCodes, CodegenError> {
    let bad =
        |what: String| spec_error(path, format!("components.{ERROR_CODES_EXTENSION}: {what}"));
    let value = spec
        .components
        .as_ref()
        .and_then(|c| c.extensions.get(ERROR_CODES_EXTENSION))
        .ok_or_else(|| bad("missing: the facade's ErrorCode is generated from it".to_string()))?;
    let map = value.as_object().ok_or_else(|| {
        bad("must be a map with `description`, `throttling-hint`, `codes`".into())
    })?;
    if let Some(key) = map.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown key `{key}` (known: {})",
            TOP_KEYS.join(", ")
        )));
    }
    let text = |value: Option<&Value>, what: &str| -> Result<String, CodegenError> {
        value
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("{what} must be a non-empty string")))
    };
    let description = text(map.get("description"), "`description`")?;
    let throttling_hint = text(map.get("throttling-hint"), "`throttling-hint`")?;
    let entries = map
        .get("codes")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("`codes` must be a list".to_string()))?;

    let mut codes: Vec<ErrorCodeDef> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry
            .as_object()
            .ok_or_else(|| bad(format!("codes[{i}] must be a map")))?;
        let code = text(entry.get("code"), &format!("codes[{i}].code"))?;
        let at = format!("codes[{i}] ({code})");
        if let Some(key) = entry.keys().find(|k| !ENTRY_KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "{at}: unknown key `{key}` (known: {})",
                ENTRY_KEYS.join(", ")
            )));
        }
        let flag = |key: &str| -> Result<bool, CodegenError> {
            match entry.get(key) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(_) => Err(bad(format!("{at}: `{key}` must be true or false"))),
            }
        };
        let aliases = match entry.get("aliases") {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| text(Some(a), &format!("{at}: an alias")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad(format!("{at}: `aliases` must be a list of strings"))),
        };
        let variant = text(entry.get("variant"), &format!("{at}: `variant`"))?;
        if variant == "Other" || syn::parse_str::<syn::Ident>(&variant).is_err() {
            return Err(bad(format!(
                "{at}: `variant: {variant}` is not a Rust identifier, or is the reserved `Other`"
            )));
        }
        let status = entry
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..600).contains(s))
            .ok_or_else(|| {
                bad(format!(
                    "{at}: `status` must be an HTTP error status (4xx, 5xx)"
                ))
            })?;
        let throttling = flag("throttling")?;
        let is_final = flag("final")?;
        let hint = match entry.get("hint") {
            None => None,
            some => Some(text(some, &format!("{at}: `hint`"))?),
        };
        if throttling && is_final {
            return Err(bad(format!(
                "{at}: a code cannot be both `throttling` (retry) and `final` (never retry)"
            )));
        }
        if throttling && hint.is_some() {
            return Err(bad(format!(
                "{at}: a throttling code gets `throttling-hint`; drop its `hint`"
            )));
        }
        let def = ErrorCodeDef {
            code,
            aliases,
            variant,
            status,
            token_endpoint: flag("token-endpoint")?,
            meaning: text(entry.get("meaning"), &format!("{at}: `meaning`"))?,
            throttling,
            is_final,
            hint,
        };
        for earlier in &codes {
            if earlier.variant == def.variant {
                return Err(bad(format!(
                    "{at}: the variant {} is repeated",
                    def.variant
                )));
            }
            if let Some(wire) = def
                .wire_values()
                .find(|w| earlier.wire_values().any(|e| e == *w))
            {
                return Err(bad(format!(
                    "{at}: the wire value `{wire}` is also {}'s",
                    earlier.variant
                )));
            }
        }
        if let Some(wire) = def.aliases.iter().find(|a| **a == def.code) {
            return Err(bad(format!("{at}: `{wire}` is its code and an alias")));
        }
        codes.push(def);
    }
    Ok(ErrorCodes {
        description,
        throttling_hint,
        codes,
    })
}

impl ErrorCodeDef {
    /// The code, then its aliases.
    pub(crate) fn wire_values(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.code.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// "`a`", "`a` or `b`", "`a`, `b` or `c`".
    fn wire_values_text(&self) -> String {
        let all: Vec<String> = self.wire_values().map(|w| format!("`{w}`")).collect();
        match all.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => all.join(""),
        }
    }

    /// The variant's doc: "`code` (403): meaning." or "`code` (400, token endpoint): meaning.".
    fn doc(&self) -> String {
        let endpoint = if self.token_endpoint {
            ", token endpoint"
        } else {
            ""
        };
        format!(
            " {} ({}{endpoint}): {}.",
            self.wire_values_text(),
            self.status,
            self.meaning.trim_end_matches('.')
        )
    }
}

/// The generated module's items: the enum, its methods and `Display`.
pub(crate) fn error_code(
    spec: &openapiv3::OpenAPI,
    path: &Path,
) -> Result<TokenStream, CodegenError> {
    let defs = read(spec, path)?;
    let doc = format!(" {}", defs.description);
    let variants: Vec<_> = defs
        .codes
        .iter()
        .map(|c| format_ident!("{}", c.variant))
        .collect();
    let docs: Vec<String> = defs.codes.iter().map(ErrorCodeDef::doc).collect();
    let patterns: Vec<TokenStream> = defs
        .codes
        .iter()
        .map(|c| {
            let values = c.wire_values();
            quote! { #( #values )|* }
        })
        .collect();
    let codes: Vec<&str> = defs.codes.iter().map(|c| c.code.as_str()).collect();

    let as_str_doc = match defs.codes.iter().find(|c| !c.aliases.is_empty()) {
        Some(c) => format!(
            " The wire value (for [`ErrorCode::{}`], `{}`).",
            c.variant, c.code
        ),
        None => " The wire value.".to_string(),
    };

    let throttling: Vec<_> = defs
        .codes
        .iter()
        .filter(|c| c.throttling)
        .map(|c| format_ident!("{}", c.variant))
        .collect();
    let throttling_arm = if throttling.is_empty() {
        quote! {}
    } else {
        quote! { #( Self::#throttling )|* => true, }
    };
    let finals: Vec<_> = defs
        .codes
        .iter()
        .filter(|c| c.is_final)
        .map(|c| format_ident!("{}", c.variant))
        .collect();
    let is_final_body = if finals.is_empty() {
        quote! { false }
    } else {
        quote! { matches!(self, #( Self::#finals )|*) }
    };
    let hinted: Vec<_> = defs
        .codes
        .iter()
        .filter_map(|c| {
            let hint = c.hint.as_deref()?;
            let variant = format_ident!("{}", c.variant);
            Some(quote! { Self::#variant => Some(#hint), })
        })
        .collect();
    let throttling_hint = defs.throttling_hint.as_str();

    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #( #[doc = #docs] #variants, )*
            /// Any other code, as sent.
            Other(String),
        }

        impl ErrorCode {
            /// Parses a wire code. Never fails: unknown codes become [`ErrorCode::Other`].
            pub fn from_wire(code: &str) -> Self {
                match code {
                    #( #patterns => Self::#variants, )*
                    other => Self::Other(other.to_string()),
                }
            }

            #[doc = #as_str_doc]
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #codes, )*
                    Self::Other(code) => code,
                }
            }

            /// Whether the code means "throttled: back off and retry".
            pub fn is_throttling(&self) -> bool {
                match self {
                    #throttling_arm
                    Self::Other(code) => super::is_unlisted_throttling(code),
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }

            /// Whether retrying can never help, whatever the status says.
            pub(crate) fn is_final(&self) -> bool {
                #is_final_body
            }

            /// What a person should do about it.
            pub(crate) fn hint(&self) -> Option<&'static str> {
                if self.is_throttling() {
                    return Some(#throttling_hint);
                }
                match self {
                    #( #hinted )*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    })
}
