//! Bounds on text made from what a modem sent, so a hostile or broken modem (a 64 KB line, ten
//! thousand URCs) cannot make a failure reason, a snapshot diff or an explanation as long as its
//! transcript. The caps are applied where such text is made (the engine's failure reasons, the
//! golden diff, the explanations); the transcript itself is never cut.

use std::borrow::Cow;

/// The most of one quoted line a reason or a diff shows.
pub const LINE_BYTES: usize = 512;
/// The most lines of a snapshot diff shown with a failure.
pub const DIFF_LINES: usize = 40;
/// The most received lines a failure reason quotes.
pub const QUOTED: usize = 10;

/// `s`, cut after [`LINE_BYTES`] with `… (N more bytes)`. The cut backs off to the last blank,
/// comma or other separator in the last 32 bytes, so a value (an IMEI, a key) is not shown in part
/// when it can be avoided.
pub fn line(s: &str) -> Cow<'_, str> {
    line_at(s, LINE_BYTES)
}

fn line_at(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let floor = cut.saturating_sub(32);
    if let Some(k) = s[floor..cut].rfind(|c: char| !c.is_alphanumeric()) {
        let k = floor + k;
        if k > 0 {
            cut = k + s[k..].chars().next().map_or(0, char::len_utf8);
        }
    }
    Cow::Owned(format!("{}… ({} more bytes)", &s[..cut], s.len() - cut))
}

/// The first [`DIFF_LINES`] lines of `text`, each cut as [`line`] cuts, then
/// `… and N more lines (the whole transcript is in the report)`.
pub fn lines(text: &str) -> String {
    let mut out = String::new();
    let mut all = text.lines();
    for l in all.by_ref().take(DIFF_LINES) {
        out.push_str(&line(l));
        out.push('\n');
    }
    let more = all.count();
    if more > 0 {
        out.push_str(&format!("… and {more} more lines (the whole transcript is in the report)\n"));
    }
    out
}

/// Quoted items joined with `, `: the first [`QUOTED`], each cut, then `and N more`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let mut shown: Vec<String> = items.iter().take(QUOTED).map(|s| format!("`{}`", line(s.as_ref()))).collect();
    if items.len() > QUOTED {
        shown.push(format!("and {} more", items.len() - QUOTED));
    }
    shown.join(", ")
}

/// A whole reason, as a last bound: at most eight quoted lines' worth.
pub fn reason(s: &str) -> Cow<'_, str> {
    line_at(s, 8 * LINE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(line("+MIPLVER: 2.3.0"), "+MIPLVER: 2.3.0");
        assert_eq!(lines("a\nb\n"), "a\nb\n");
        assert_eq!(list(&["a", "b"]), "`a`, `b`");
    }

    #[test]
    fn a_long_line_is_cut_with_the_bytes_left() {
        let s = "x".repeat(70_000);
        let c = line(&s);
        assert!(c.len() < LINE_BYTES + 40, "{}", c.len());
        assert!(c.ends_with(&format!("… ({} more bytes)", 70_000 - LINE_BYTES)), "{c}");
        // Cut at a separator near the limit, and on a character boundary.
        let s = format!("{},{}", "a".repeat(500), "9".repeat(100));
        assert!(line(&s).starts_with(&format!("{},…", "a".repeat(500))), "{}", line(&s));
        let s = "é".repeat(1000);
        assert!(line(&s).contains("more bytes"));
    }

    #[test]
    fn many_lines_are_counted_not_shown() {
        let text: String = (0..100).map(|k| format!("+l{k}\n")).collect();
        let c = lines(&text);
        assert_eq!(c.lines().count(), DIFF_LINES + 1);
        assert!(c.ends_with("… and 60 more lines (the whole transcript is in the report)\n"), "{c}");
        let items: Vec<String> = (0..25).map(|k| k.to_string()).collect();
        assert!(list(&items).ends_with("`9`, and 15 more"), "{}", list(&items));
    }
}
