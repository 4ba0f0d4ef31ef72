//! The fake DingTalk server, as `dingtalk-conference-mock` runs it; see that crate.

fn main() -> std::process::ExitCode {
    dingtalk_conference_mock::cli::main()
}
