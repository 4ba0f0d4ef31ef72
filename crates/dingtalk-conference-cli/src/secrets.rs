//! Secrets from files or standard input (`--app-secret-file PATH`, `-` for stdin), and a
//! warning when a secret is given as a plain flag, where `ps`, `/proc/<pid>/cmdline` and shell
//! history show it to others.

use std::io::Read as _;
use std::path::Path;

use dingtalk_conference::{Secret, env};

use crate::Failure;
use crate::cli::CredentialArgs;

/// The secret options: (argument id, its `-file` twin's id, its environment variable).
pub(crate) const SECRET_OPTIONS: [(&str, &str, &str); 4] = [
    ("app_secret", "app_secret_file", env::APP_SECRET),
    ("suite_secret", "suite_secret_file", env::SUITE_SECRET),
    ("suite_ticket", "suite_ticket_file", env::SUITE_TICKET),
    ("access_token", "access_token_file", env::ACCESS_TOKEN),
];

/// The most bytes read from a secret file: DingTalk's secrets and tokens are under 100 bytes,
/// and a path given by mistake (a log, a device) must not be read whole.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Reads each `--*-file` given into its secret, which it replaces (a variable included);
/// refuses a secret given both as a flag and as a file, and standard input named twice.
/// Returns the warnings to show for secrets given as plain flags.
pub(crate) fn load(
    args: &mut CredentialArgs,
    on_command_line: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, Failure> {
    let mut stdin_taken_by: Option<String> = None;
    let mut warnings = Vec::new();
    for (id, file_id, variable) in SECRET_OPTIONS {
        let (value, file) = args.secret_and_file(id);
        let Some(path) = file.clone() else {
            if on_command_line(id) {
                warnings.push(format!(
                    "warning: {flag} shows the secret to other users of this machine (ps, \
                     /proc/<pid>/cmdline, shell history); prefer {file_flag} PATH (- for \
                     standard input) or {variable}",
                    flag = flag(id),
                    file_flag = flag(file_id),
                ));
            }
            continue;
        };
        if on_command_line(id) {
            return Err(Failure::Usage(format!(
                "give {} or {}, not both",
                flag(id),
                flag(file_id)
            )));
        }
        let secret = if path == Path::new("-") {
            if let Some(first) = &stdin_taken_by {
                return Err(Failure::Usage(format!(
                    "{first} already reads standard input; {} needs a file",
                    flag(file_id)
                )));
            }
            stdin_taken_by = Some(flag(file_id));
            read_secret(std::io::stdin().lock(), "standard input", file_id)?
        } else {
            let opened = std::fs::File::open(&path).map_err(|e| {
                Failure::Config(format!(
                    "could not read {} {}: {e}",
                    flag(file_id),
                    path.display()
                ))
            })?;
            read_secret(opened, &path.display().to_string(), file_id)?
        };
        *value = Some(secret);
    }
    Ok(warnings)
}

/// The warning to show for `--redis URL` given as a flag when the URL holds a password
/// (`redis://user:password@host`, or a `pass`/`password` query parameter): like a secret
/// flag, it shows in `ps`. The warning never quotes the URL.
pub(crate) fn redis_flag_warning(url: &str) -> Option<String> {
    url_has_password(url).then(|| {
        format!(
            "warning: --redis shows the Redis password in its URL to other users of this \
             machine (ps, /proc/<pid>/cmdline, shell history); prefer {}",
            env::REDIS_URL
        )
    })
}

/// As [`redis_flag_warning`], for one URL of `--redis-cluster`.
pub(crate) fn redis_cluster_flag_warning(url: &str) -> Option<String> {
    url_has_password(url.trim()).then(|| {
        format!(
            "warning: --redis-cluster shows the Redis password in its URLs to other users of \
             this machine (ps, /proc/<pid>/cmdline, shell history); prefer {}",
            env::REDIS_CLUSTER
        )
    })
}

/// Whether a Redis URL carries a password: in its user information, or as a query parameter.
fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let in_user_info = authority
        .rsplit_once('@')
        .and_then(|(user_info, _)| user_info.split_once(':'))
        .is_some_and(|(_, password)| !password.is_empty());
    let query = tail.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let in_query = query.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(key, value)| matches!(key, "pass" | "password") && !value.is_empty())
    });
    in_user_info || in_query
}

/// One secret from `source`: at most [`MAX_SECRET_BYTES`], UTF-8, one trailing line break
/// dropped (`echo` and editors add one), and not blank.
fn read_secret(source: impl std::io::Read, name: &str, file_id: &str) -> Result<Secret, Failure> {
    let mut bytes = Vec::new();
    source
        .take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Config(format!("could not read {} {name}: {e}", flag(file_id))))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(Failure::Config(format!(
            "{} {name} is larger than {MAX_SECRET_BYTES} bytes: not a secret",
            flag(file_id)
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::Config(format!("{} {name} is not UTF-8 text", flag(file_id))))?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(Failure::Config(format!(
            "{} {name} is empty",
            flag(file_id)
        )));
    }
    Ok(Secret::new(text))
}

/// A clap argument id as its flag: `app_secret_file` is `--app-secret-file`.
fn flag(id: &str) -> String {
    format!("--{}", id.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<String, Failure> {
        read_secret(text.as_bytes(), "test", "app_secret_file").map(|s| s.expose().to_string())
    }

    #[test]
    fn one_trailing_line_break_is_dropped_and_nothing_else() {
        assert_eq!(read("s3cret\n").ok().as_deref(), Some("s3cret"));
        assert_eq!(read("s3cret\r\n").ok().as_deref(), Some("s3cret"));
        assert_eq!(read("s3cret").ok().as_deref(), Some("s3cret"));
        assert_eq!(read(" s3cret \n\n").ok().as_deref(), Some(" s3cret \n"));
    }

    #[test]
    fn a_redis_url_with_a_password_is_warned_about_without_quoting_it() {
        for url in [
            "redis://fleet:pw-secret@127.0.0.1:6379/0",
            "rediss://:pw-secret@redis.internal",
            "redis://user:pw-secret@host?protocol=resp3",
            "redis+unix:///run/redis.sock?db=1&pass=pw-secret",
        ] {
            let warning = redis_flag_warning(url).unwrap_or_default();
            assert!(warning.contains("warning: --redis"), "{url}: {warning}");
            assert!(warning.contains(env::REDIS_URL), "{warning}");
            assert!(!warning.contains("pw-secret"), "{warning}");
        }
        for url in [
            "redis://127.0.0.1:6379",
            "redis://user@host",
            "redis://user:@host",
            "redis://host/0?protocol=resp3",
            "not a url",
        ] {
            assert_eq!(redis_flag_warning(url), None, "{url}");
        }
    }

    #[test]
    fn empty_huge_and_binary_files_are_refused_without_echoing_them() {
        for bad in ["", "\n", "  \r\n"] {
            let error = read(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("is empty"), "{bad:?}: {error}");
        }
        let huge = "x".repeat(70 * 1024);
        let error = read(&huge).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("larger than"), "{error}");
        assert!(!error.contains("xxxx"));
        let binary = read_secret(&[0xff, 0xfe][..], "test", "app_secret_file");
        assert!(binary.is_err());
    }
}
