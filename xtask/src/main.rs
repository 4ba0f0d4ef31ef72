//! `cargo xtask codegen [--check]`: regenerate the client from the spec, or verify it is fresh.

use std::process::ExitCode;

use xtask::{CODEGEN_COMMAND, Outcome, SPEC_PATH};

const USAGE: &str = "\
usage: cargo xtask codegen [--check]

  codegen           regenerate from spec/: crates/dingtalk-conference-api/src/generated.rs,
                    crates/dingtalk-conference-api/src/spec_constants.rs, tests/src/dispatch.rs,
                    crates/dingtalk-conference/src/model/generated.rs,
                    crates/dingtalk-conference/src/error/code_generated.rs,
                    crates/dingtalk-conference/src/ops/call_generated.rs,
                    crates/dingtalk-conference-cli/src/commands/api_generated.rs,
                    crates/dingtalk-conference/src/ops/generated.rs,
                    crates/dingtalk-conference-api/src/checks.rs,
                    crates/dingtalk-conference-mock/src/requests_generated.rs, and the
                    operation table of docs/conference-operations.md (between its marks)
  codegen --check   fail (exit 1) with a diff if a committed file is stale";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = match args.as_slice() {
        ["codegen"] => false,
        ["codegen", "--check"] => true,
        ["--help" | "-h" | "help"] | ["codegen", "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let root = xtask::workspace_root();
    let spec = root.join(SPEC_PATH);

    let result = if check {
        xtask::check_all(&spec, &root).map(|()| {
            println!("the generated files are up to date with {SPEC_PATH}.");
        })
    } else {
        xtask::write_all(&spec, &root).map(|outcomes| {
            for (path, outcome) in &outcomes {
                match outcome {
                    Outcome::Unchanged => println!("{path} is already up to date."),
                    Outcome::Written => println!("wrote {path} from {SPEC_PATH}"),
                }
            }
            if outcomes.iter().any(|(_, o)| *o == Outcome::Written) {
                println!(
                    "review the snapshot diffs with `cargo insta test --review` (see CONTRIBUTING.md)."
                );
            }
        })
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if !check {
                eprintln!(
                    "(the fix goes in {SPEC_PATH} or xtask/src/lib.rs; then run `{CODEGEN_COMMAND}` again)"
                );
            }
            ExitCode::FAILURE
        }
    }
}
