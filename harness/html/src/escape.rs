//! HTML escaping for everything taken from a run record. Transcripts carry the modem's exact bytes
//! (`<`, `&`, quotes), so nothing from the record reaches the page without passing through here.

/// Text made safe for element content and for double- or single-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    esc_into(&mut out, s);
    out
}

/// [`esc`] onto the end of `out`: the runs between the five characters it replaces are copied
/// whole, since a big page is mostly transcript text that needs none.
pub fn esc_into(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let with = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // An ASCII byte: a character boundary on both sides.
        out.push_str(&s[start..i]);
        out.push_str(with);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// A fragment identifier made from arbitrary names: ASCII letters, digits, `-` and `_` are kept,
/// anything else becomes `-`, so `config/manual 5.1` stays readable as `config-manual-5-1`.
pub fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// Transcript text, escaped, with the transcript's own escapes for control bytes (`\r`, `\n`,
/// `\t`, `\xNN`) dimmed: they are what a firmware engineer checks for terminators, but they should
/// not drown the words. `\\` is a literal backslash and is left as text.
pub fn wire_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 32);
    wire_text_into(&mut out, s);
    out
}

/// [`wire_text`] written onto `out`. Each control byte keeps a span of its own: pages of old
/// records render to the byte as they did.
pub fn wire_text_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        esc_into(out, &rest[..i]);
        let tail = &rest[i..];
        let len = ctl(tail);
        if len > 0 {
            out.push_str("<span class=\"ctl\">");
            out.push_str(&tail[..len]);
            out.push_str("</span>");
            rest = &tail[len..];
        } else {
            // `\\` (or a lone backslash): keep both characters as text.
            let keep = if tail.as_bytes().get(1) == Some(&b'\\') { 2 } else { 1 };
            esc_into(out, &tail[..keep]);
            rest = &tail[keep..];
        }
    }
    esc_into(out, rest);
}

/// How long the transcript escape for a control byte at the start of `t` is (`\r` 2, `\x1B` 4),
/// or 0 when `t` does not start with one.
fn ctl(t: &str) -> usize {
    match t.as_bytes() {
        [b'\\', b'r' | b'n' | b't', ..] => 2,
        [b'\\', b'x', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => 4,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
    }

    #[test]
    fn control_escapes_are_dimmed_but_a_literal_backslash_is_not() {
        assert_eq!(
            wire_text(r"OK\r\n<\\r\x1B"),
            r#"OK<span class="ctl">\r</span><span class="ctl">\n</span>&lt;\\r<span class="ctl">\x1B</span>"#
        );
        assert_eq!(wire_text(r"end\"), r"end\");
        assert_eq!(wire_text(r"\xZ"), r"\xZ");
    }

    #[test]
    fn escaping_keeps_every_other_character_as_it_is() {
        let s = "é→ <b>&\"'\u{2028}x";
        let by_char: String = s
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".into(),
                '>' => "&gt;".into(),
                '"' => "&quot;".into(),
                '\'' => "&#39;".into(),
                c => c.to_string(),
            })
            .collect();
        assert_eq!(esc(s), by_char);
        assert_eq!(esc(""), "");
    }

    #[test]
    fn slugs_are_fragment_safe() {
        assert_eq!(slug("config/manual 5.1"), "config-manual-5-1");
    }
}
