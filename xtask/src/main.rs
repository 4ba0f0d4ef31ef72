//! `cargo xtask codegen [--check]`: regenerate the client from the spec, or verify it is fresh.

use std::process::ExitCode;

use xtask::{CODEGEN_COMMAND, OUTPUT_PATH, Outcome, SPEC_PATH};

const USAGE: &str = "\
usage: cargo xtask codegen [--check]

  codegen           regenerate crates/dingtalk-conference-api/src/generated.rs from spec/
  codegen --check   fail (exit 1) with a diff if the committed file is stale";

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
    let output = root.join(OUTPUT_PATH);

    let result = if check {
        xtask::check(&spec, &output).map(|()| {
            println!("{OUTPUT_PATH} is up to date with {SPEC_PATH}.");
        })
    } else {
        xtask::write(&spec, &output).map(|outcome| match outcome {
            Outcome::Unchanged => println!("{OUTPUT_PATH} is already up to date."),
            Outcome::Written => println!(
                "wrote {OUTPUT_PATH} from {SPEC_PATH}; review the snapshot diffs with \
                 `cargo insta test --review` (see README)."
            ),
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
