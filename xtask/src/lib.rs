//! The code generator behind `cargo xtask codegen`.
//!
//! It is a library so that tests can run the very same generation in-process: read the
//! hand-written OpenAPI document, check it, generate with progenitor, format with prettyplease.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};

mod call;
mod checks;
mod cli_api;
pub mod digest;
mod dispatch;
mod error_codes;
mod events;
mod facade;
mod facade_ops;
mod facts;
mod mock_requests;
mod wire;

/// The spec, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/dingtalk-conference.yaml";
/// The generated client, relative to the workspace root.
pub const OUTPUT_PATH: &str = "crates/dingtalk-conference-api/src/generated.rs";
/// The spec facts hand-written code uses (base URLs, token header, unauthenticated operations,
/// bounds), generated next to [`OUTPUT_PATH`], relative to the workspace root.
pub const CONSTANTS_PATH: &str = "crates/dingtalk-conference-api/src/spec_constants.rs";
/// The tests' operationId → typed method dispatch, relative to the workspace root.
pub const DISPATCH_PATH: &str = "tests/src/dispatch.rs";
/// The facade's typed layer (structs and enums from the spec's `x-facade`, `x-enum`, `x-unit`
/// extensions), relative to the workspace root.
pub const FACADE_MODEL_PATH: &str = "crates/dingtalk-conference/src/model/generated.rs";
/// The facade's `ErrorCode` (its variants, `from_wire`, `as_str`, `is_throttling`, `is_final`,
/// `hint`), from the spec's `components.x-error-codes`, relative to the workspace root.
pub const ERROR_CODES_PATH: &str = "crates/dingtalk-conference/src/error/code_generated.rs";
/// The facade's `Client::call` dispatch: operationId → the typed method, run through the
/// pipeline, relative to the workspace root.
pub const CALL_PATH: &str = "crates/dingtalk-conference/src/ops/call_generated.rs";
/// The CLI's `api` command tree (one data row per operation), relative to the workspace root.
pub const CLI_API_PATH: &str = "crates/dingtalk-conference-cli/src/commands/api_generated.rs";
/// The facade's operation layer (descriptors, async methods, blocking mirrors, listings) from
/// each operation's `x-facade-op`, relative to the workspace root.
pub const FACADE_OPS_PATH: &str = "crates/dingtalk-conference/src/ops/generated.rs";
/// The input checks (one module per operation, one function per parameter and `body`), from
/// the spec's constraints and `components.x-ids`, relative to the workspace root.
pub const CHECKS_PATH: &str = "crates/dingtalk-conference-api/src/checks.rs";
/// The fake server's typed requests (one per operation, parsed and checked from the spec),
/// relative to the workspace root.
pub const MOCK_REQUESTS_PATH: &str = "crates/dingtalk-conference-mock/src/requests_generated.rs";
/// The facade's typed events (the payload types, `ConferenceEvent` and the dispatch from
/// `eventType`), from the spec's event schemas (`x-event`) and `components.x-events`, relative
/// to the workspace root.
pub const EVENTS_PATH: &str = "crates/dingtalk-conference/src/events/generated.rs";
/// Every file `cargo xtask codegen` writes, in the order [`generate_all_from_str`] returns them.
pub const OUTPUT_PATHS: [&str; 11] = [
    OUTPUT_PATH,
    CONSTANTS_PATH,
    DISPATCH_PATH,
    FACADE_MODEL_PATH,
    ERROR_CODES_PATH,
    CALL_PATH,
    CLI_API_PATH,
    FACADE_OPS_PATH,
    CHECKS_PATH,
    MOCK_REQUESTS_PATH,
    EVENTS_PATH,
];
/// The document whose operation table `cargo xtask codegen` rewrites (between its
/// `BEGIN GENERATED`/`END GENERATED` marks; the rest is hand-written), relative to the
/// workspace root.
pub const OPERATIONS_DOC_PATH: &str = "docs/conference-operations.md";
/// The command that regenerates [`OUTPUT_PATH`]; error messages name it.
pub const CODEGEN_COMMAND: &str = "cargo xtask codegen";

/// The inner attribute at the top of the generated file that keeps rustfmt out of it.
const RUSTFMT_SKIP: &str = "#![cfg_attr(rustfmt, rustfmt::skip)]";

/// Why generation failed. Every message names the file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The spec is not valid YAML.
    #[error("{path}: not valid YAML: {message}")]
    Yaml {
        /// The spec.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// The spec is YAML but not an OpenAPI 3.0 document progenitor can use.
    #[error("{path}: {message}")]
    Spec {
        /// The spec.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// progenitor rejected the spec.
    #[error("{path}: progenitor cannot generate a client from it: {message}")]
    Generator {
        /// The spec.
        path: PathBuf,
        /// progenitor's message.
        message: String,
    },
    /// The generated tokens are not valid Rust (a generator bug, not a spec problem).
    #[error("{path}: progenitor produced code that does not parse: {message}")]
    Format {
        /// The spec.
        path: PathBuf,
        /// syn's message.
        message: String,
    },
    /// `--check`: the committed output is not what the spec generates.
    #[error(
        "{output} is stale: it is not what {spec} generates.\n{diff}\nRun `{CODEGEN_COMMAND}` and commit the result."
    )]
    Stale {
        /// The committed generated file.
        output: PathBuf,
        /// The spec.
        spec: PathBuf,
        /// A unified diff from the committed file to the fresh output.
        diff: String,
    },
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// Reads the spec at `spec_path` and returns the generated client's source text.
///
/// The output depends only on the spec's bytes and this crate's settings: the same input gives
/// the same bytes on every run and machine.
pub fn generate(spec_path: &Path) -> Result<String, CodegenError> {
    let text = std::fs::read_to_string(spec_path).map_err(|source| CodegenError::Io {
        path: spec_path.to_path_buf(),
        source,
    })?;
    let display_name = display_path(spec_path);
    generate_from_str(&text, &display_name)
}

/// Generates the client from spec text; `spec_name` is the path printed in the header and in
/// errors.
pub fn generate_from_str(text: &str, spec_name: &str) -> Result<String, CodegenError> {
    let path = PathBuf::from(spec_name);
    let spec = parse_spec(text, &path)?;
    let client = generate_client(&spec, &path)?;
    Ok(with_header(&prettyplease::unparse(&client), spec_name))
}

/// One file `cargo xtask codegen` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Where it goes, relative to the workspace root (one of [`OUTPUT_PATHS`]).
    pub path: &'static str,
    /// Its contents.
    pub text: String,
}

/// Generates every file ([`OUTPUT_PATHS`]) from spec text: the client, the constants module,
/// the tests' dispatch, the facade's model, its `ErrorCode`, its `Client::call` dispatch, the CLI's `api`
/// command tree, the input checks, the fake server's typed requests and the facade's typed events.
pub fn generate_all_from_str(
    text: &str,
    spec_name: &str,
) -> Result<Vec<GeneratedFile>, CodegenError> {
    let path = PathBuf::from(spec_name);
    let spec = parse_spec(text, &path)?;
    let client = generate_client(&spec, &path)?;
    let constants = format_file(facts::constants(&spec, &path)?, spec_name)?;
    let dispatch = format_file(dispatch::dispatch(&spec, &client, &path)?, spec_name)?;
    let model = format_file(facade::model(&spec, &path)?, spec_name)?;
    let error_codes = format_file(error_codes::error_code(&spec, &path)?, spec_name)?;
    let call = format_file(call::call(&spec, &client, &path)?, spec_name)?;
    let cli_api = format_file(cli_api::cli_api(&spec, &path)?, spec_name)?;
    let ops = format_file(facade_ops::operations_module(&spec, &path)?, spec_name)?;
    let checks = format_file(checks::checks(&spec, &client, &path)?, spec_name)?;
    let mock_requests = format_file(mock_requests::requests(&spec, &client, &path)?, spec_name)?;
    let events = format_file(events::events(&spec, &path)?, spec_name)?;
    Ok(vec![
        GeneratedFile {
            path: OUTPUT_PATH,
            text: with_header(&prettyplease::unparse(&client), spec_name),
        },
        GeneratedFile {
            path: CONSTANTS_PATH,
            text: constants,
        },
        GeneratedFile {
            path: DISPATCH_PATH,
            text: dispatch,
        },
        GeneratedFile {
            path: FACADE_MODEL_PATH,
            text: model,
        },
        GeneratedFile {
            path: ERROR_CODES_PATH,
            text: error_codes,
        },
        GeneratedFile {
            path: CALL_PATH,
            text: call,
        },
        GeneratedFile {
            path: CLI_API_PATH,
            text: cli_api,
        },
        GeneratedFile {
            path: FACADE_OPS_PATH,
            text: ops,
        },
        GeneratedFile {
            path: CHECKS_PATH,
            text: checks,
        },
        GeneratedFile {
            path: MOCK_REQUESTS_PATH,
            text: mock_requests,
        },
        GeneratedFile {
            path: EVENTS_PATH,
            text: events,
        },
    ])
}

/// `doc` (the text of [`OPERATIONS_DOC_PATH`]) with its operation table regenerated from spec
/// text; the rest of the document is left as it is.
pub fn operations_doc_from_str(
    text: &str,
    spec_name: &str,
    doc: &str,
) -> Result<String, CodegenError> {
    let path = PathBuf::from(spec_name);
    let spec = parse_spec(text, &path)?;
    let table = facade_ops::operation_table(&spec, &path)?;
    facade_ops::splice_table(doc, &table, Path::new(OPERATIONS_DOC_PATH))
}

/// The operation document under `root`, with its table regenerated from the spec at `spec`.
fn operations_doc(spec: &Path, root: &Path) -> Result<(PathBuf, String), CodegenError> {
    let text = std::fs::read_to_string(spec).map_err(|source| CodegenError::Io {
        path: spec.to_path_buf(),
        source,
    })?;
    let output = root.join(OPERATIONS_DOC_PATH);
    let doc = std::fs::read_to_string(&output).map_err(|source| CodegenError::Io {
        path: output.clone(),
        source,
    })?;
    let fresh = operations_doc_from_str(&text, &display_path(spec), &doc)?;
    Ok((output, fresh))
}

/// Runs progenitor on a checked spec.
fn generate_client(spec: &OpenAPI, path: &Path) -> Result<syn::File, CodegenError> {
    check_spec(spec, path)?;

    // The checks enforce the string constraints; progenitor would make newtypes of them.
    let mut spec = checks::for_progenitor(spec);
    // The event payloads are pushed, never answered: the typed events are the facade's
    // (`EVENTS_PATH`), and the generated client has no use for wire types of them.
    events::strip_event_schemas(&mut spec);
    let spec = &spec;
    let mut generator = progenitor::Generator::new(&settings(path)?);
    // `check_spec` rules out the inputs progenitor is known to panic on; this guard turns any
    // other panic into an error that names the spec instead of a backtrace.
    let tokens = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generator.generate_tokens(spec)
    }))
    .map_err(|panic| CodegenError::Generator {
        path: path.to_path_buf(),
        message: panic_message(&panic),
    })?
    .map_err(|e| CodegenError::Generator {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;

    let mut file = syn::parse2(tokens).map_err(|e| CodegenError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    wire::drop_api_version(&mut file).map_err(|message| CodegenError::Generator {
        path: path.to_path_buf(),
        message: format!("removing progenitor's api-version header: {message}"),
    })?;
    wire::decode_in_place(&mut file).map_err(|message| CodegenError::Generator {
        path: path.to_path_buf(),
        message: format!("decoding answers with crate::hooks::decode: {message}"),
    })?;
    wire::build_urls(&mut file).map_err(|message| CodegenError::Generator {
        path: path.to_path_buf(),
        message: format!("building URLs with crate::hooks::url: {message}"),
    })?;
    Ok(file)
}

/// Formats generated items with prettyplease, under the generated-file header.
fn format_file(tokens: proc_macro2::TokenStream, spec_name: &str) -> Result<String, CodegenError> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Format {
        path: PathBuf::from(spec_name),
        message: e.to_string(),
    })?;
    Ok(with_header(&prettyplease::unparse(&file), spec_name))
}

/// The header every generated file starts with, then `body`.
fn with_header(body: &str, spec_name: &str) -> String {
    let mut out = String::with_capacity(body.len() + 512);
    let _ = writeln!(
        out,
        "// @generated by `{CODEGEN_COMMAND}` from {spec_name}."
    );
    let _ = writeln!(
        out,
        "// Do not edit: change the spec or the settings in xtask/src/lib.rs, then regenerate."
    );
    // prettyplease owns the layout, and `cargo fmt` must leave it alone: stable rustfmt formats
    // `@generated` files too (`format_generated_files` defaults to true and is unstable), which
    // made `cargo fmt` and `cargo xtask codegen --check` disagree. rustc never sets
    // `cfg(rustfmt)`, so only rustfmt sees the attribute (a bare `#![rustfmt::skip]` inner
    // attribute is unstable in a module file).
    let _ = writeln!(out, "{RUSTFMT_SKIP}");
    out.push('\n');
    out.push_str(body);
    out
}

/// The progenitor settings, each chosen on purpose.
fn settings(path: &Path) -> Result<progenitor::GenerationSettings, CodegenError> {
    let inner_type: proc_macro2::TokenStream =
        "crate::hooks::RequestContext"
            .parse()
            .map_err(|e: proc_macro2::LexError| CodegenError::Generator {
                path: path.to_path_buf(),
                message: format!("bad inner type path: {e}"),
            })?;
    let mut settings = progenitor::GenerationSettings::new();
    settings
        // Positional: the API has one path parameter and two JSON bodies, so
        // `client.query_conference_info(id)` says everything; builders would add a type per
        // operation and nothing to validate.
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        // The per-request context through which the facade hands over the access token and
        // reads back what the response looked like (crates/dingtalk-conference-api/src/hooks.rs).
        .with_inner_type(inner_type)
        // The hooks are implemented by hand in the API crate; with `Expected` a missing
        // implementation is a compile error instead of a silent no-op.
        .with_hooks(progenitor::HooksMode::Expected)
        // Wire types are compared in tests and described as JSON Schema for users.
        .with_derive("PartialEq")
        .with_derive("schemars::JsonSchema");
    Ok(settings)
}

pub(crate) fn parse_spec(text: &str, path: &Path) -> Result<OpenAPI, CodegenError> {
    let value: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| CodegenError::Yaml {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;

    // Check the version before anything else: a 3.1 document fails later with confusing
    // type errors, and progenitor cannot read 3.1 at all.
    match value.get("openapi").and_then(serde_json::Value::as_str) {
        Some(v) if v.trim().starts_with("3.0.") => {}
        Some(v) => {
            return Err(spec_error(
                path,
                format!(
                    "`openapi: {v}` is not supported: progenitor reads OpenAPI 3.0.x only; \
                     write `openapi: 3.0.3`"
                ),
            ));
        }
        None => {
            return Err(spec_error(
                path,
                "missing `openapi` version field: this is not an OpenAPI document".to_string(),
            ));
        }
    }

    serde_json::from_value(value)
        .map_err(|e| spec_error(path, format!("not a valid OpenAPI 3.0 document: {e}")))
}

/// Rejects, with a message naming the operation, what progenitor would panic on or silently
/// get wrong.
fn check_spec(spec: &OpenAPI, path: &Path) -> Result<(), CodegenError> {
    for (route, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(spec_error(
                path,
                format!("path `{route}` is a $ref; progenitor needs path items inline"),
            ));
        };
        for (method, op) in item.iter() {
            let Some(op_id) = op.operation_id.as_deref() else {
                return Err(spec_error(
                    path,
                    format!(
                        "operation `{} {route}` has no `operationId`; every operation needs one \
                         (it names the generated method)",
                        method.to_uppercase()
                    ),
                ));
            };
            check_response_schemas(op_id, &op.responses, spec.components.as_ref(), path)?;
        }
    }
    Ok(())
}

/// progenitor asserts that all success responses share one type and all error responses share
/// one type; a spec that breaks this would make it panic.
fn check_response_schemas(
    op_id: &str,
    responses: &openapiv3::Responses,
    components: Option<&openapiv3::Components>,
    path: &Path,
) -> Result<(), CodegenError> {
    let mut success: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();

    let has_success_range = responses
        .responses
        .keys()
        .any(|code| matches!(code, StatusCode::Range(2)));
    for (code, response) in &responses.responses {
        let schema = response_schema_name(response, components);
        let is_success = match code {
            StatusCode::Code(c) => (100..400).contains(c),
            StatusCode::Range(r) => *r < 4,
        };
        let bucket = if is_success {
            &mut success
        } else {
            &mut errors
        };
        bucket.entry(schema).or_default().push(code.to_string());
    }
    if let Some(default) = &responses.default {
        // progenitor treats `default` as a possible success too, unless a `2XX` range exists.
        let schema = response_schema_name(default, components);
        if !has_success_range {
            success
                .entry(schema.clone())
                .or_default()
                .push("default".to_string());
        }
        errors
            .entry(schema)
            .or_default()
            .push("default".to_string());
    }

    for (kind, bucket) in [("success", &success), ("error", &errors)] {
        if bucket.len() > 1 {
            let listing = bucket
                .iter()
                .map(|(schema, codes)| format!("{schema} ({})", codes.join(", ")))
                .collect::<Vec<_>>()
                .join(" vs ");
            return Err(spec_error(
                path,
                format!(
                    "operation `{op_id}`: its {kind} responses use different schemas: {listing}; \
                     progenitor needs one {kind} schema per operation (DingTalk uses one error \
                     body everywhere: reference `#/components/schemas/ErrorBody`; to progenitor \
                     `default` is a success response as well, so use `4XX`/`5XX` ranges)"
                ),
            ));
        }
    }
    Ok(())
}

/// A stable name for the schema a response carries, for comparing responses.
fn response_schema_name(
    response: &ReferenceOr<openapiv3::Response>,
    components: Option<&openapiv3::Components>,
) -> String {
    match response {
        ReferenceOr::Reference { reference } => {
            let target = reference
                .strip_prefix("#/components/responses/")
                .and_then(|name| components?.responses.get(name));
            match target {
                // A reference to a reference is not followed further: compare by name.
                Some(item @ ReferenceOr::Item(_)) => response_schema_name(item, None),
                _ => reference.clone(),
            }
        }
        ReferenceOr::Item(response) => {
            let mut kinds: Vec<String> = response
                .content
                .values()
                .map(|media| match &media.schema {
                    Some(ReferenceOr::Reference { reference }) => reference.clone(),
                    Some(ReferenceOr::Item(schema)) => serde_json::to_string(schema)
                        .map(|s| format!("inline schema {s}"))
                        .unwrap_or_else(|_| "inline schema".to_string()),
                    None => "no schema".to_string(),
                })
                .collect();
            kinds.sort();
            kinds.dedup();
            if kinds.is_empty() {
                "no content".to_string()
            } else {
                kinds.join(" | ")
            }
        }
    }
}

pub(crate) fn spec_error(path: &Path, message: String) -> CodegenError {
    CodegenError::Spec {
        path: path.to_path_buf(),
        message,
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "progenitor panicked".to_string()
    }
}

/// The path as written in the header: relative to the workspace root where possible, with `/`
/// separators, so the output does not depend on where the checkout lives.
fn display_path(path: &Path) -> String {
    let root = workspace_root();
    let rel = path.strip_prefix(&root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What `cargo xtask codegen` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The committed output already matched.
    Unchanged,
    /// The output was (re)written.
    Written,
}

/// Fails with [`CodegenError::Stale`] (carrying a unified diff) if `output` is not exactly what
/// `spec` generates.
pub fn check(spec: &Path, output: &Path) -> Result<(), CodegenError> {
    compare(spec, output, &generate(spec)?)
}

/// Reads the spec at `spec` and regenerates every file of [`OUTPUT_PATHS`] under `root`,
/// writing only those whose bytes differ.
pub fn write_all(spec: &Path, root: &Path) -> Result<Vec<(&'static str, Outcome)>, CodegenError> {
    let mut outcomes = Vec::new();
    for file in generate_all(spec)? {
        let output = root.join(file.path);
        if std::fs::read_to_string(&output).ok().as_deref() == Some(file.text.as_str()) {
            outcomes.push((file.path, Outcome::Unchanged));
            continue;
        }
        std::fs::write(&output, &file.text).map_err(|source| CodegenError::Io {
            path: output.clone(),
            source,
        })?;
        outcomes.push((file.path, Outcome::Written));
    }
    let (output, fresh) = operations_doc(spec, root)?;
    if std::fs::read_to_string(&output).ok().as_deref() == Some(fresh.as_str()) {
        outcomes.push((OPERATIONS_DOC_PATH, Outcome::Unchanged));
    } else {
        std::fs::write(&output, &fresh).map_err(|source| CodegenError::Io {
            path: output.clone(),
            source,
        })?;
        outcomes.push((OPERATIONS_DOC_PATH, Outcome::Written));
    }
    Ok(outcomes)
}

/// Fails with [`CodegenError::Stale`] for the first file of [`OUTPUT_PATHS`] under `root` that
/// is not exactly what `spec` generates.
pub fn check_all(spec: &Path, root: &Path) -> Result<(), CodegenError> {
    for file in generate_all(spec)? {
        compare(spec, &root.join(file.path), &file.text)?;
    }
    let (output, fresh) = operations_doc(spec, root)?;
    compare(spec, &output, &fresh)
}

fn generate_all(spec: &Path) -> Result<Vec<GeneratedFile>, CodegenError> {
    let text = std::fs::read_to_string(spec).map_err(|source| CodegenError::Io {
        path: spec.to_path_buf(),
        source,
    })?;
    generate_all_from_str(&text, &display_path(spec))
}

/// `Ok` if the file at `output` is `fresh`; otherwise [`CodegenError::Stale`] with the diff.
fn compare(spec: &Path, output: &Path, fresh: &str) -> Result<(), CodegenError> {
    let committed = match std::fs::read_to_string(output) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(CodegenError::Io {
                path: output.to_path_buf(),
                source,
            });
        }
    };
    if committed == fresh {
        return Ok(());
    }
    let output_name = display_path(output);
    let diff = similar::TextDiff::from_lines(committed.as_str(), fresh)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{output_name} (committed)"),
            &format!("{output_name} (from {})", display_path(spec)),
        )
        .to_string();
    Err(CodegenError::Stale {
        output: PathBuf::from(output_name),
        spec: PathBuf::from(display_path(spec)),
        diff,
    })
}
