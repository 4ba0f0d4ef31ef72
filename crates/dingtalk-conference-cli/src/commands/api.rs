//! `api OPERATION_ID`: any operation of the spec, with flags for its path and query parameters
//! and `--body` for its request body, printing DingTalk's JSON answer (like `gh api`).
//!
//! The commands are built with clap's builder API from the data rows `cargo xtask codegen`
//! writes from the spec (`api_generated.rs`): nothing here names an operation. The call goes
//! through the facade's [`Client::call`](dingtalk_conference::Client::call), so tokens,
//! retries, rate limits, deadlines and the fleet behave as for the other commands.

use std::fmt::Write as _;
use std::io::Read as _;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};

use super::Context;
use super::api_generated::OPERATIONS;
use crate::Failure;

/// One operation of the spec, as the `api` command shows and parses it.
pub(crate) struct ApiOperation {
    pub(crate) id: &'static str,
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: &'static str,
    pub(crate) parameters: &'static [ApiParameter],
    pub(crate) body: Option<ApiBody>,
}

/// A path or query parameter: `--<flag>`.
pub(crate) struct ApiParameter {
    /// The spec's name, under which the facade takes it.
    pub(crate) name: &'static str,
    /// The name in kebab-case.
    pub(crate) flag: &'static str,
    /// `path` or `query`.
    pub(crate) location: &'static str,
    pub(crate) kind: ValueKind,
    /// The type as the help shows it.
    pub(crate) type_name: &'static str,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    /// The values it takes and their meanings, when the spec lists them.
    pub(crate) values: &'static [(&'static str, &'static str)],
}

/// How a flag's value is parsed.
#[derive(Clone, Copy)]
#[allow(
    dead_code,
    reason = "no parameter of today's spec is a number or a boolean; the operations to come may be"
)]
pub(crate) enum ValueKind {
    String,
    /// Within these bounds (the spec's, or its format's).
    Integer {
        min: i64,
        max: i64,
    },
    Number,
    Boolean,
}

/// The request body: JSON decoded into the generated request type.
pub(crate) struct ApiBody {
    /// The schema's name in the spec.
    pub(crate) schema: &'static str,
    pub(crate) required: bool,
    pub(crate) fields: &'static [ApiField],
}

/// A field of the request body.
pub(crate) struct ApiField {
    pub(crate) name: &'static str,
    pub(crate) type_name: &'static str,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    pub(crate) values: &'static [(&'static str, &'static str)],
}

const NAME: &str = "api";

const ABOUT: &str =
    "Call any operation of the API by its operationId and print DingTalk's JSON answer.";

const LONG_ABOUT: &str = "\
Call any operation of DingTalk's conference API by its operationId (as in the OpenAPI spec), and
print DingTalk's JSON answer: the curated commands (info, members, ...) show less, this shows all.

Path and query parameters are flags named after the spec's parameters in kebab-case
(conferenceId: --conference-id); the request body is --body JSON, --body @FILE or --body - (standard
input). The answer is decoded through the spec's typed response and printed back as JSON, so a
field the spec does not know is dropped; --raw prints the body exactly as received.

The call is made like every other command's: the same credentials, token, retries (a write only
when it cannot have been processed), rate limits, --timeout, --redis and --mock. Errors and exit
codes are the same too. `dingtalk-conference api OPERATION_ID --help` lists an operation's
parameters and body fields.";

/// `api OPERATION_ID [flags]`, parsed.
pub(crate) struct Api {
    operation: &'static ApiOperation,
    /// The path and query parameters given, by their spec names.
    args: Map<String, Value>,
    /// `--body` as given: JSON, `@FILE` or `-`.
    body: Option<String>,
    raw: bool,
}

impl Api {
    pub(crate) async fn run(&self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let mut args = self.args.clone();
        if let Some(body) = &self.body {
            args.insert("body".to_string(), read_body(body)?);
        }
        let answer = cx.call(cx.client().call(self.operation.id, &args)).await?;
        if self.raw {
            cx.out.print(&String::from_utf8_lossy(&answer.raw))
        } else {
            cx.out.json(&answer.json)
        }
    }
}

/// `--body`: JSON as given, from a file (`@FILE`) or from standard input (`-`). Text that is
/// not JSON is a usage error naming where it came from.
fn read_body(body: &str) -> Result<Value, Failure> {
    let (text, source) = if body == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("--body -: could not read standard input: {e}")))?;
        (text, "standard input".to_string())
    } else if let Some(file) = body.strip_prefix('@') {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Failure::Usage(format!(
                "--body @{}: could not read it: {e}",
                crate::render::clean(file)
            ))
        })?;
        (text, file.to_string())
    } else {
        (body.to_string(), "--body".to_string())
    };
    // serde_json's message says where (line, column) and never quotes the text, which may
    // hold a secret.
    serde_json::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "the body in {} is not JSON: {e}",
            crate::render::clean(&source)
        ))
    })
}

/// The `api` command and one subcommand per operation.
fn command() -> Command {
    Command::new(NAME)
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .subcommand_required(true)
        .subcommand_value_name("OPERATION_ID")
        .subcommand_help_heading("Operations")
        .subcommands(OPERATIONS.iter().map(operation_command))
}

fn operation_command(operation: &'static ApiOperation) -> Command {
    let mut long_about = format!(
        "{}\n\n{}\n\n{} {}",
        operation.summary, operation.description, operation.method, operation.path
    );
    if let Some(body) = &operation.body {
        let _ = write!(
            long_about,
            "\n\nBody (--body, JSON: {}{}):",
            body.schema,
            if body.required { ", required" } else { "" }
        );
        for field in body.fields {
            let _ = write!(
                long_about,
                "\n  {}  {}, {}: {}",
                field.name,
                field.type_name,
                presence(field.required),
                field.description
            );
            write_values(&mut long_about, field.values, "      ", "  ");
        }
    }
    let mut command = Command::new(operation.id)
        .about(operation.summary)
        .long_about(long_about);
    for parameter in operation.parameters {
        command = command.arg(parameter_arg(parameter));
    }
    if let Some(body) = &operation.body {
        command = command.arg(
            Arg::new("body")
                .long("body")
                .value_name("JSON|@FILE|-")
                .required(body.required)
                .help(format!(
                    "The request body ({}): JSON, @FILE to read a file, - to read standard input",
                    body.schema
                )),
        );
    }
    command.arg(Arg::new("raw").long("raw").action(ArgAction::SetTrue).help(
        "Print the answer's body exactly as received, fields the spec does not know \
                 included",
    ))
}

fn parameter_arg(parameter: &'static ApiParameter) -> Arg {
    let mut help = format!(
        "{} [{}, {}, {}]",
        parameter.description,
        parameter.type_name,
        presence(parameter.required),
        parameter.location
    );
    write_values(&mut help, parameter.values, "  ", ": ");
    let arg = Arg::new(parameter.name)
        .long(parameter.flag)
        .value_name(value_name(parameter.kind))
        .required(parameter.required)
        .help(help);
    match parameter.kind {
        ValueKind::String => arg,
        ValueKind::Integer { min, max } => {
            arg.value_parser(clap::value_parser!(i64).range(min..=max))
        }
        ValueKind::Number => arg.value_parser(clap::value_parser!(f64)),
        ValueKind::Boolean => arg.value_parser(clap::value_parser!(bool)),
    }
}

fn presence(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

/// One line per value and its meaning, each after `indent`, the two parted by `between`.
fn write_values(out: &mut String, values: &[(&str, &str)], indent: &str, between: &str) {
    for (value, meaning) in values {
        let _ = write!(out, "\n{indent}{value}{between}{meaning}");
    }
}

fn value_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "STRING",
        ValueKind::Integer { .. } => "INTEGER",
        ValueKind::Number => "NUMBER",
        ValueKind::Boolean => "true|false",
    }
}

impl clap::FromArgMatches for Api {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let missing = || clap::Error::new(clap::error::ErrorKind::MissingSubcommand);
        let Some((NAME, matches)) = matches.subcommand() else {
            return Err(missing());
        };
        let Some((id, matches)) = matches.subcommand() else {
            return Err(missing());
        };
        let operation = OPERATIONS
            .iter()
            .find(|operation| operation.id == id)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        let mut args = Map::new();
        for parameter in operation.parameters {
            let value = match parameter.kind {
                ValueKind::String => matches
                    .get_one::<String>(parameter.name)
                    .cloned()
                    .map(Value::from),
                ValueKind::Integer { .. } => matches
                    .get_one::<i64>(parameter.name)
                    .copied()
                    .map(Value::from),
                ValueKind::Number => matches
                    .get_one::<f64>(parameter.name)
                    .copied()
                    .map(Value::from),
                ValueKind::Boolean => matches
                    .get_one::<bool>(parameter.name)
                    .copied()
                    .map(Value::from),
            };
            if let Some(value) = value {
                args.insert(parameter.name.to_string(), value);
            }
        }
        let body = match operation.body {
            Some(_) => matches.get_one::<String>("body").cloned(),
            None => None,
        };
        Ok(Self {
            operation,
            args,
            body,
            raw: matches.get_flag("raw"),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for Api {
    fn augment_subcommands(command: Command) -> Command {
        command.subcommand(self::command())
    }

    fn augment_subcommands_for_update(command: Command) -> Command {
        command.subcommand(self::command())
    }

    fn has_subcommand(name: &str) -> bool {
        name == NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_well_formed_command() {
        let command = command();
        command.clone().debug_assert();
        assert_eq!(command.get_subcommands().count(), OPERATIONS.len());
        for operation in OPERATIONS {
            assert!(!operation.summary.is_empty(), "{}", operation.id);
        }
    }

    #[test]
    fn a_body_is_json_and_bad_json_is_a_usage_error() {
        assert_eq!(
            read_body(r#"{"a": 1}"#).ok(),
            Some(serde_json::json!({"a": 1}))
        );
        let error = read_body("{not json").expect_err("bad JSON");
        assert!(matches!(error, Failure::Usage(_)));
        assert!(error.to_string().contains("not JSON"), "{error}");
        let error = read_body("@/nonexistent/body.json").expect_err("no file");
        assert!(error.to_string().contains("could not read"), "{error}");
    }
}
