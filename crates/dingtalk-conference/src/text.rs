//! Text that came from the network, made safe to print: escaped and bounded.
//!
//! DingTalk's error messages, codes and request ids, and any body an error quotes, end up in
//! `Display` output, logs and terminals. A hostile or broken server must not be able to move
//! the cursor, fake a log line, reorder text or flood a log through them.

use std::borrow::Cow;

/// The most characters of one network-supplied text that an error or log line shows.
pub const MAX_SHOWN_CHARS: usize = 512;

/// What marks a text cut at [`MAX_SHOWN_CHARS`].
const CUT_MARK: &str = "…[cut]";

/// `text` made safe for a terminal or a log line: control characters (escape sequences, line
/// breaks) and the invisible Unicode format characters that reorder or hide text (bidi
/// overrides and isolates, zero-width characters, the byte order mark) are shown escaped, as
/// `\u{1b}` or `\u{202e}`, instead of acting on the terminal or misleading the reader.
///
/// ```
/// assert_eq!(dingtalk_conference::escape_untrusted("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
/// assert_eq!(dingtalk_conference::escape_untrusted("plain"), "plain");
/// ```
pub fn escape_untrusted(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// `text` escaped as [`escape_untrusted`] does and cut after [`MAX_SHOWN_CHARS`] characters,
/// with `…[cut]` marking the cut.
pub(crate) fn shown(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        None => escape_untrusted(text),
        Some((end, _)) => {
            let mut cut = escape_untrusted(&text[..end]).into_owned();
            cut.push_str(CUT_MARK);
            Cow::Owned(cut)
        }
    }
}

/// Whether `c` must not reach a terminal or log as is: a control character, or a format
/// character that changes how the text around it shows.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Arabic letter mark, Mongolian vowel separator.
            '\u{061C}' | '\u{180E}'
            // Zero-width space, (non-)joiner, left-to-right and right-to-left marks.
            | '\u{200B}'..='\u{200F}'
            // Line and paragraph separators; bidi embeddings, pop and overrides.
            | '\u{2028}'..='\u{202E}'
            // Word joiner, invisible operators, bidi isolates, deprecated format characters.
            | '\u{2060}'..='\u{206F}'
            // Zero-width no-break space (byte order mark).
            | '\u{FEFF}'
            // Interlinear annotation.
            | '\u{FFF9}'..='\u{FFFB}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_untrusted("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert!(matches!(escape_untrusted("会议 ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_and_invisible_format_characters_are_escaped() {
        // "Trojan source": a right-to-left override makes "exe.txt" show as "txt.exe".
        assert_eq!(escape_untrusted("a\u{202e}txt.exe"), "a\\u{202e}txt.exe");
        for c in [
            '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202A}',
            '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2060}', '\u{2061}', '\u{2062}',
            '\u{2063}', '\u{2064}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}',
        ] {
            let escaped = format!("\\u{{{:x}}}", u32::from(c));
            assert_eq!(escape_untrusted(&format!("x{c}y")), format!("x{escaped}y"));
        }
        // Visible non-ASCII text stays as it is.
        assert_eq!(
            escape_untrusted("Zoë 钉钉 مرحبا — ok"),
            "Zoë 钉钉 مرحبا — ok"
        );
    }

    #[test]
    fn long_text_is_cut_and_marked_short_text_is_not() {
        let long = "钉".repeat(MAX_SHOWN_CHARS + 100);
        let cut = shown(&long);
        assert!(cut.ends_with(CUT_MARK));
        assert_eq!(
            cut.chars().count(),
            MAX_SHOWN_CHARS + CUT_MARK.chars().count()
        );
        let exact = "x".repeat(MAX_SHOWN_CHARS);
        assert_eq!(shown(&exact), exact);
        assert_eq!(shown("a\rb"), "a\\rb");
    }
}
