//! `dingtalk-conference-mock`: run the fake DingTalk server on 127.0.0.1 until Ctrl-C.

fn main() -> std::process::ExitCode {
    dingtalk_conference_mock::cli::main()
}
