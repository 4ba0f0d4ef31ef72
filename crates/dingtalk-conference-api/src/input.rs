//! Input checks: [`InputError`] and the checks that [`crate::checks`] (generated from the spec's
//! constraints and `components.x-ids`) calls with each parameter's rule.
//!
//! Hand-written: the generated module says *which* rule applies to *which* parameter; this
//! module says what each rule means and how a refusal reads. Every message names what is wrong
//! in words a caller can act on, and shows at most a short, escaped excerpt of the value.

use std::fmt;

/// A value the spec's constraints refuse, before any request is sent.
///
/// `parameter` is the spec's name for it (`conferenceId`, `confTitle`, …); `message` says, in
/// words, what is wrong and what to pass instead. Displays as `"{parameter}: {message}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The spec's name of the parameter, or of the body's field.
    pub parameter: &'static str,
    /// What is wrong with it, as a phrase.
    pub message: String,
}

impl InputError {
    /// An error for `parameter`.
    pub fn new(parameter: &'static str, message: impl Into<String>) -> Self {
        Self {
            parameter,
            message: message.into(),
        }
    }

    /// The same error about item `index` (from 0) of a list.
    #[must_use]
    pub fn at_item(self, index: usize) -> Self {
        Self {
            parameter: self.parameter,
            message: format!(
                "item {} of the list: {}",
                index.saturating_add(1),
                self.message
            ),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

impl std::error::Error for InputError {}

/// The most characters of a refused value a message shows.
const SHOWN_CHARS: usize = 40;

/// `value` quoted and escaped for a message (control characters and quotes escaped), cut to
/// 40 characters (`SHOWN_CHARS`).
pub fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(SHOWN_CHARS * 2) + 2);
    out.push('"');
    for (index, c) in value.chars().enumerate() {
        if index == SHOWN_CHARS {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// An id format of the spec's `components.x-ids`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRule {
    /// What the id is called in messages (`conference id`).
    pub noun: &'static str,
    /// What to pass instead (`pass the id returned when the conference was created`).
    pub hint: &'static str,
    /// The id travels as one path segment: `.`, `..` and `\` are refused too.
    pub path_segment: bool,
    /// Only the ASCII digits 0-9.
    pub ascii_digits: bool,
}

/// Checks `value` against the id format `rule`: not empty or blank, no control characters,
/// then the rule's own restrictions.
pub fn id(parameter: &'static str, value: &str, rule: &IdRule) -> Result<(), InputError> {
    let IdRule {
        noun,
        hint,
        path_segment,
        ascii_digits,
    } = *rule;
    if value.trim().is_empty() {
        return Err(InputError::new(
            parameter,
            format!("the {noun} is empty; {hint}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(InputError::new(
            parameter,
            format!("the {noun} contains control characters; {hint}"),
        ));
    }
    if path_segment {
        // URL parsing resolves `.` and `..` segments (even percent-encoded), so they would call
        // another path.
        if value == "." || value == ".." {
            return Err(InputError::new(
                parameter,
                format!("{} is not a {noun}; {hint}", shown(value)),
            ));
        }
        // URL parsing reads `\` as `/` in http(s) paths, and the generated client does not
        // encode it: `..\oauth2` would leave the path with the token attached.
        if value.contains('\\') {
            return Err(InputError::new(
                parameter,
                format!("the {noun} contains a backslash, which URLs treat as a path separator"),
            ));
        }
    }
    if ascii_digits && !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InputError::new(
            parameter,
            format!("the {noun} {} is not all digits; {hint}", shown(value)),
        ));
    }
    Ok(())
}

/// `minLength`/`maxLength`: the number of characters (not bytes) of `value`.
pub fn length(
    parameter: &'static str,
    noun: &str,
    hint: Option<&str>,
    value: &str,
    min: Option<usize>,
    max: Option<usize>,
) -> Result<(), InputError> {
    let tail = hint.map(|hint| format!(" ({hint})")).unwrap_or_default();
    if let Some(min) = min {
        if value.is_empty() && min > 0 {
            return Err(InputError::new(
                parameter,
                format!("the {noun} is empty{tail}"),
            ));
        }
        let chars = value.chars().count();
        if chars < min {
            return Err(InputError::new(
                parameter,
                format!("the {noun} has {chars} characters; at least {min} are needed{tail}"),
            ));
        }
    }
    if let Some(max) = max {
        // Bytes bound characters from above: most values pass without counting.
        if value.len() > max {
            let chars = value.chars().count();
            if chars > max {
                return Err(InputError::new(
                    parameter,
                    format!("the {noun} has {chars} characters; at most {max} are allowed{tail}"),
                ));
            }
        }
    }
    Ok(())
}

/// `pattern: '\S'`: at least one character that is not white space.
pub fn not_blank(
    parameter: &'static str,
    noun: &str,
    hint: Option<&str>,
    value: &str,
) -> Result<(), InputError> {
    if value.trim().is_empty() {
        let tail = hint.map(|hint| format!(" ({hint})")).unwrap_or_default();
        return Err(InputError::new(
            parameter,
            format!("the {noun} is empty (only white space){tail}"),
        ));
    }
    Ok(())
}

/// `pattern: '^[class]+$'` (or `*`): every character is in `class`, described as `described`
/// (the class as the spec writes it); `non_empty` for `+`.
pub fn charset(
    parameter: &'static str,
    noun: &str,
    value: &str,
    non_empty: bool,
    described: &str,
    class: impl Fn(char) -> bool,
) -> Result<(), InputError> {
    if non_empty && value.is_empty() {
        return Err(InputError::new(parameter, format!("the {noun} is empty")));
    }
    if let Some(bad) = value.chars().find(|c| !class(*c)) {
        return Err(InputError::new(
            parameter,
            format!(
                "the {noun} {} has {} outside [{described}]",
                shown(value),
                shown(&bad.to_string())
            ),
        ));
    }
    Ok(())
}

/// `minimum`/`maximum` (both inclusive).
pub fn range(
    parameter: &'static str,
    noun: &str,
    value: i128,
    min: Option<i128>,
    max: Option<i128>,
) -> Result<(), InputError> {
    let below = min.is_some_and(|min| value < min);
    let above = max.is_some_and(|max| value > max);
    if !below && !above {
        return Ok(());
    }
    let bound = match (min, max) {
        (Some(min), Some(max)) => format!("from {min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => return Ok(()),
    };
    Err(InputError::new(
        parameter,
        format!("the {noun} must be {bound}, not {value}"),
    ))
}

/// `enum`: one of `allowed`.
pub fn one_of(
    parameter: &'static str,
    noun: &str,
    value: &str,
    allowed: &[&str],
) -> Result<(), InputError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let listed = allowed
        .iter()
        .map(|value| shown(value))
        .collect::<Vec<_>>()
        .join(", ");
    Err(InputError::new(
        parameter,
        format!("the {noun} {} is not one of {listed}", shown(value)),
    ))
}

/// `minItems`/`maxItems`: the length of a list.
pub fn items(
    parameter: &'static str,
    noun: &str,
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
) -> Result<(), InputError> {
    if let Some(min) = min
        && len < min
    {
        let message = if len == 0 {
            format!("the list of {noun} is empty")
        } else {
            format!("the list of {noun} has {len} items; at least {min} are needed")
        };
        return Err(InputError::new(parameter, message));
    }
    if let Some(max) = max
        && len > max
    {
        return Err(InputError::new(
            parameter,
            format!("the list of {noun} has {len} items; at most {max} are allowed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: IdRule = IdRule {
        noun: "room code",
        hint: "pass the digits",
        path_segment: true,
        ascii_digits: true,
    };

    #[test]
    fn errors_display_the_parameter_then_the_message() {
        let error = InputError::new("conferenceId", "the conference id is empty").at_item(1);
        assert_eq!(
            error.to_string(),
            "conferenceId: item 2 of the list: the conference id is empty"
        );
    }

    #[test]
    fn shown_values_are_escaped_and_cut() {
        assert_eq!(shown("a\nb\""), r#""a\nb\"""#);
        let long = "x".repeat(100);
        assert_eq!(shown(&long).chars().count(), SHOWN_CHARS + 3);
    }

    #[test]
    fn id_rules_refuse_each_case_with_the_noun() {
        for (bad, expected) in [
            ("", "the room code is empty; pass the digits"),
            (" ", "the room code is empty; pass the digits"),
            (
                "1\u{7}",
                "the room code contains control characters; pass the digits",
            ),
            ("..", r#"".." is not a room code; pass the digits"#),
            (
                "1\\2",
                "the room code contains a backslash, which URLs treat as a path separator",
            ),
            (
                "12a",
                r#"the room code "12a" is not all digits; pass the digits"#,
            ),
        ] {
            let error = id("roomCode", bad, &DIGITS).expect_err(bad);
            assert_eq!(error.parameter, "roomCode");
            assert_eq!(error.message, expected, "{bad:?}");
        }
        assert_eq!(id("roomCode", "0123", &DIGITS), Ok(()));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(length("t", "title", None, "标题", Some(1), Some(2)).is_ok());
        assert!(length("t", "title", None, "标题x", Some(1), Some(2)).is_err());
        assert!(length("t", "title", None, "", Some(1), None).is_err());
        assert!(length("t", "title", None, "a", Some(2), None).is_err());
    }

    #[test]
    fn ranges_lists_and_enums_are_inclusive_at_the_edges() {
        assert!(range("n", "page size", 1, Some(1), Some(2)).is_ok());
        assert!(range("n", "page size", 2, Some(1), Some(2)).is_ok());
        assert!(range("n", "page size", 0, Some(1), Some(2)).is_err());
        assert!(range("n", "page size", 3, Some(1), Some(2)).is_err());
        assert!(items("l", "ids", 1, Some(1), Some(1)).is_ok());
        assert!(items("l", "ids", 0, Some(1), None).is_err());
        assert!(items("l", "ids", 2, None, Some(1)).is_err());
        assert!(one_of("d", "direction", "1", &["0", "1"]).is_ok());
        assert!(one_of("d", "direction", "2", &["0", "1"]).is_err());
    }

    #[test]
    fn charsets_and_blank_values() {
        let digits = |c: char| c.is_ascii_digit();
        assert!(charset("c", "code", "12", true, "0-9", digits).is_ok());
        assert!(charset("c", "code", "", true, "0-9", digits).is_err());
        assert!(charset("c", "code", "", false, "0-9", digits).is_ok());
        assert!(charset("c", "code", "1x", true, "0-9", digits).is_err());
        assert!(not_blank("t", "title", None, " \t").is_err());
        assert!(not_blank("t", "title", None, " a ").is_ok());
    }
}
