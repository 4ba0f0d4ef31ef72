//! `minutes start|stop|text|summary` against the embedded fake server, whose seeded conference
//! in progress has flash minutes its host owns.

use dingtalk_conference_mock::seeded;

use crate::{exit_code, run, stderr, stdout};

const HOST: &str = seeded::STARTED_HOST;

#[test]
fn minutes_start_and_stop_print_dingtalks_code() {
    for action in ["start", "stop"] {
        let output = run(&[
            "--mock",
            "minutes",
            action,
            seeded::STARTED,
            "--user-id",
            HOST,
        ]);
        assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
        assert!(
            stdout(&output).contains("(code 200)"),
            "{}",
            stdout(&output)
        );
    }
    let json = run(&[
        "--mock",
        "--json",
        "minutes",
        "stop",
        seeded::STARTED,
        "--user-id",
        HOST,
    ]);
    assert_eq!(exit_code(&json), 0, "{}", stderr(&json));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(value["code"], "200");
    // An ended conference's minutes cannot start: DingTalk's refusal, exit code 9.
    let ended = run(&[
        "--mock",
        "minutes",
        "start",
        seeded::ENDED,
        "--user-id",
        HOST,
    ]);
    assert_eq!(exit_code(&ended), 9, "{}", stderr(&ended));
    assert!(
        stderr(&ended).contains("resourceClose"),
        "{}",
        stderr(&ended)
    );
}

#[test]
fn minutes_text_prints_a_line_per_paragraph_across_pages() {
    let output = run(&[
        "--mock",
        "minutes",
        "text",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--page-size",
        "7",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 40, "{text}");
    assert!(lines[0].starts_with("[00:00:00] "), "{}", lines[0]);
    assert!(
        lines[0].ends_with(": 大家好，我们开始今天的产品周会。"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("[00:00:06] "), "{}", lines[1]);

    let json = run(&[
        "--mock",
        "--json",
        "minutes",
        "text",
        seeded::STARTED,
        "--user-id",
        HOST,
        "--newest-first",
    ]);
    assert_eq!(exit_code(&json), 0, "{}", stderr(&json));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&json).lines().next().expect("a line")).expect("JSON");
    assert!(
        first["paragraphId"].as_i64().is_some_and(|id| id >= 40),
        "{first}"
    );
    assert!(first["sentenceList"][0]["wordList"].is_array());

    // Someone the minutes were not shared with: DingTalk's refusal.
    let refused = run(&[
        "--mock",
        "minutes",
        "text",
        seeded::STARTED,
        "--user-id",
        "StrangerxxxxiE",
    ]);
    assert_ne!(exit_code(&refused), 0);
    assert!(
        stderr(&refused).contains("minutesPermissionDenied"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn minutes_summary_reads_in_sections_and_json_is_dingtalks() {
    let output = run(&[
        "--mock",
        "minutes",
        "summary",
        seeded::STARTED,
        "--user-id",
        HOST,
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    for title in [
        "Summary\n",
        "\nChapters\n",
        "\nKey sentences\n",
        "\nActions\n",
        "\nQuestions and answers\n",
        "\nKeywords\n",
    ] {
        assert!(text.contains(title), "{title:?} in {text}");
    }
    assert!(
        text.contains("  [00:00:00] 大家好，我们开始今天的产品周会 (to [00:00:23])\n"),
        "{text}"
    );
    assert!(text.contains("] 我们决定下周三发布新版本。\n"), "{text}");
    assert!(
        text.contains("  Q: 性能测试的结果怎么样？\n  A: 延迟比上周降低了百分之二十。\n"),
        "{text}"
    );

    let json = run(&[
        "--mock",
        "--json",
        "minutes",
        "summary",
        seeded::STARTED,
        "--user-id",
        HOST,
    ]);
    assert_eq!(exit_code(&json), 0, "{}", stderr(&json));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    crate::assert_spec_keys(&value, "MinutesSummary");
    assert!(
        value["autoChapters"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
}
