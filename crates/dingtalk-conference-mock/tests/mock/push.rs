//! The binary's HTTP push flags, end to end: `--push-url` with `--push-check-url` posts a
//! signed, encrypted `check_url` to a bare socket in the test, judges its reply, and reports.
//! (The push itself, its retries and the failed list are tested with the facade's receiver in
//! the facade's `http_push` tests.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

/// Reads one HTTP/1.1 request from `listener` (head and `Content-Length` body), answers
/// `200 {}` (not DingTalk's encrypted `success`), and returns the request line and the body.
fn one_request(listener: &TcpListener) -> (String, String) {
    let (stream, _) = listener.accept().expect("the fake connects");
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).expect("request line");
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).expect("a header");
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    reader
        .get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .expect("answered");
    (
        request_line.trim().to_owned(),
        String::from_utf8(body).expect("UTF-8"),
    )
}

#[cfg(unix)]
#[test]
fn binary_posts_a_signed_check_url_and_refuses_a_reply_that_is_not_the_encrypted_success() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}/cb?app=1", listener.local_addr().expect("bound"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .args([
            "--push-url",
            &url,
            "--push-check-url",
            "--push-retry-secs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (request_line, body) = one_request(&listener);

    // POST /cb?app=1&signature=<40 hex>&timestamp=<13 digits>&nonce=<8 alphanumerics>
    let target = request_line
        .strip_prefix("POST /cb?app=1&")
        .and_then(|rest| rest.strip_suffix(" HTTP/1.1"))
        .unwrap_or_else(|| panic!("{request_line}"));
    let params: Vec<(&str, &str)> = target
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let names: Vec<&str> = params.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["signature", "timestamp", "nonce"], "{request_line}");
    let (signature, timestamp, nonce) = (params[0].1, params[1].1, params[2].1);
    assert!(signature.len() == 40 && signature.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(timestamp.len() == 13 && timestamp.bytes().all(|b| b.is_ascii_digit()));
    assert!(nonce.len() == 8 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let encrypt = body["encrypt"].as_str().expect("{\"encrypt\": ...}");
    assert!(
        !encrypt.is_empty() && !encrypt.contains("check_url"),
        "encrypted"
    );

    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let check = lines
        .by_ref()
        .map(|line| line.expect("a line"))
        .find(|line| line.contains("check_url"))
        .expect("the check's result");
    assert!(
        check.contains("check_url failed") && check.contains("not the encrypted success"),
        "{check}"
    );

    let pid = i32::try_from(child.id()).expect("a pid fits in pid_t");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM)
        .expect("SIGTERM sent");
    let rest: Vec<String> = lines.map(|line| line.expect("a line")).collect();
    assert!(
        rest.iter().any(|line| line
            .ends_with("http push:       0 delivered, 0 failed, 0 retries, 0 unfinished, 0 lost")),
        "{rest:?}"
    );
    assert!(child.wait().expect("the binary exits").success());
}

/// A push token or AES key given on the command line is the user's secret: the banner says it
/// was given and shows the fake's own defaults only, and a malformed key is refused without
/// being quoted.
#[cfg(unix)]
#[test]
fn the_banner_never_shows_a_token_or_key_given_on_the_command_line() {
    let token = "userSecretPushToken";
    let key = "userSecretAesKey0123456789abcdefghijklmnopq";
    assert_eq!(key.len(), 43);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .args([
            "--push-url",
            "http://127.0.0.1:9/never",
            "--push-token",
            token,
            "--push-aes-key",
            key,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let banner = BufReader::new(stderr)
        .lines()
        .map(|line| line.expect("a line"))
        .find(|line| line.starts_with("http push:"))
        .expect("the push line of the banner");
    let pid = i32::try_from(child.id()).expect("a pid fits in pid_t");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM)
        .expect("SIGTERM sent");
    child.wait().expect("the binary exits");
    assert!(!banner.contains(token) && !banner.contains(key), "{banner}");
    assert!(
        banner.contains("token=(given, not shown) aesKey=(given, not shown)"),
        "{banner}"
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_dingtalk-conference-mock"))
        .args(["--push-aes-key", "tooShortButStillSecret"])
        .output()
        .expect("the binary runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--push-aes-key"), "{message}");
    assert!(!message.contains("tooShortButStillSecret"), "{message}");
}
