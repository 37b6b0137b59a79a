//! Side files: a big run's passing cases' steps and transcripts kept out of `report.html`, so a
//! page of ten thousand cases opens, and loaded when a case is opened.
//!
//! A side file is a script, `transcripts/report-0001.js`, that hands its cases' markup (steps
//! table, transcript table) to the page (`miplcheckSide({'case-…': '<table …>'})`). The page adds a `<script src>` for the
//! file a case needs when that case is opened: a classic script loads from `file://` where
//! `fetch()` of a local file does not, so the folder works offline and unserved. Many cases share
//! a file (up to [`CHUNK`] bytes each) because every file costs a synced write, and a reader
//! opens a few cases, not all.

use std::fmt::Write as _;

/// The side files' folder, beside the page; the run's transcript files share it (they sit in a
/// folder per suite, the side files at its top).
pub const DIR: &str = "transcripts";

/// What a side file may hold before the next one starts, in bytes of markup.
pub const CHUNK: usize = 1 << 20;

/// The page and its side files, each by its path relative to the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    /// `report.html`.
    pub html: String,
    /// `(transcripts/report-0001.js, its text)`, in order.
    pub files: Vec<(String, String)>,
}

impl Folder {
    /// Is `name` (a file in [`DIR`]) one this kind of page writes? For clearing a previous page's.
    pub fn is_side_file(name: &str) -> bool {
        name.strip_prefix("report-")
            .and_then(|r| r.strip_suffix(".js"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// Where the transcripts of collapsed cases go while the page is built.
pub struct Side {
    enabled: bool,
    files: Vec<(String, String)>,
    current: String,
}

impl Side {
    /// Everything stays in the page.
    pub fn inline() -> Side {
        Side { enabled: false, files: vec![], current: String::new() }
    }

    /// Collapsed cases' transcripts go to side files.
    pub fn files() -> Side {
        Side { enabled: true, files: vec![], current: String::new() }
    }

    fn name(n: usize) -> String {
        format!("{DIR}/report-{n:04}.js")
    }

    /// Does this page put collapsed cases' transcripts in side files?
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `body`, a case's markup, as the string literal [`Side::put`] takes: made beside the
    /// markup, on the thread that made it, since a big run's side files are most of its bytes.
    pub fn literal(body: &str) -> String {
        let mut out = String::with_capacity(body.len() + body.len() / 16 + 2);
        js_string(&mut out, body);
        out
    }

    /// Puts `literal` (the markup of case `id` made by [`Side::literal`]; `id` is a fragment id,
    /// so plain in an attribute) in a side file and a placeholder saying `what` it is in `out`.
    /// Only for a page that [`Side::enabled`].
    pub fn put(&mut self, out: &mut String, id: &str, literal: &str, what: &str) {
        debug_assert!(self.enabled, "a side file for a page that keeps everything inline");
        if self.current.len() >= CHUNK {
            self.flush();
        }
        if self.current.is_empty() {
            self.current.reserve(CHUNK + CHUNK / 8);
        }
        let file = Side::name(self.files.len() + 1);
        self.current.push_str(if self.current.is_empty() { "miplcheckSide({\n" } else { ",\n" });
        js_string(&mut self.current, id);
        self.current.push(':');
        self.current.push_str(literal);
        // The words are for a page read without its script; the script replaces them.
        let _ = write!(
            out,
            r#"<div class="side" data-side="{file}" data-case="{id}"><p class="muted">{}, in <code>{file}</code>: shown when the case is opened.</p></div>"#,
            super::escape::esc(what)
        );
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.current.push_str("\n});\n");
            let n = self.files.len() + 1;
            self.files.push((Side::name(n), std::mem::take(&mut self.current)));
        }
    }

    /// Did any case go to a side file?
    pub fn used(&self) -> bool {
        !self.files.is_empty() || !self.current.is_empty()
    }

    /// The side files written.
    pub fn finish(mut self) -> Vec<(String, String)> {
        self.flush();
        self.files
    }
}

/// `s` as a single-quoted JavaScript string literal. The page's markup quotes its attributes
/// with `"` and spells `'` as `&#39;`, so it goes in nearly as it is: only `'`, `\\`, control
/// characters and U+2028/U+2029 (line ends to older engines) are escaped, and the runs between
/// them are copied whole — a big page's side files are most of its bytes.
fn js_string(out: &mut String, s: &str) {
    out.push('\'');
    let b = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while let Some(k) = b[i..].iter().position(|&c| SPECIAL[usize::from(c)]) {
        i += k;
        let (escape, len): (std::borrow::Cow<'_, str>, usize) = match b[i] {
            b'\'' => ("\\'".into(), 1),
            b'\\' => ("\\\\".into(), 1),
            b'\n' => ("\\n".into(), 1),
            b'\r' => ("\\r".into(), 1),
            0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)) => {
                (if b[i + 2] == 0xA8 { "\\u2028" } else { "\\u2029" }.into(), 3)
            }
            0xE2 => {
                // Another character starting with this byte: as it is.
                i += 1;
                continue;
            }
            c => (format!("\\u{c:04x}").into(), 1),
        };
        // `i` is at an ASCII byte or the first byte of a character: a boundary.
        out.push_str(&s[start..i]);
        out.push_str(&escape);
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('\'');
}

/// The bytes [`js_string`] looks at: control characters, `'`, `\\`, and the first byte of
/// U+2028/U+2029.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'\'' as usize] = true;
    t[b'\\' as usize] = true;
    t[0xE2] = true;
    t
};

/// The loader: opening a case (by a click, "Expand all", or a link to it) adds the script of its
/// side file once; the file's cases are kept and each placeholder is filled when its case is open.
/// A placeholder's `data-case` is its case's `<details>` id.
pub const SCRIPT: &str = r#"
(function () {
  var got = {}, asked = {};
  function fill(d) {
    d.querySelectorAll('div.side[data-case]').forEach(function (s) {
      var t = got[s.getAttribute('data-case')];
      if (t === undefined) return;
      s.outerHTML = t;
    });
  }
  function want(d) {
    var s = d.querySelector('div.side');
    if (!s) return;
    var f = s.getAttribute('data-side');
    if (asked[f]) { fill(d); return; }
    asked[f] = true;
    var el = document.createElement('script');
    el.src = f;
    el.onerror = function () { s.firstChild.textContent = 'Cannot load ' + f + ': keep the transcripts folder beside this page.'; };
    document.head.appendChild(el);
  }
  window.miplcheckSide = function (cases) {
    for (var id in cases) {
      got[id] = cases[id];
      var d = document.getElementById(id);
      if (d && d.open) fill(d);
    }
  };
  document.addEventListener('toggle', function (e) {
    if (e.target.matches && e.target.matches('details.case') && e.target.open) want(e.target);
  }, true);
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use miplcheck_record::{Dir, Verdict};

    #[test]
    fn a_passing_transcript_goes_to_a_side_file_and_a_failing_one_stays() {
        let r = fixture::run();
        let folder = crate::render_folder(&r);
        let html = &folder.html;
        assert_eq!(folder.files.len(), 1, "{:?}", folder.files);
        let (name, js) = &folder.files[0];
        assert_eq!(name, "transcripts/report-0001.js");
        assert!(!html.contains("AT+MIPLOPEN=0,600,60<span"), "the passing case's rows are not in the page");
        assert!(html.contains(
            r#"<div class="side" data-side="transcripts/report-0001.js" data-case="case-session-open-close"><p class="muted">2 steps and 7 transcript lines, in"#
        ));
        assert!(html.contains("AT+MIPLUPDATE=0,600,0<span class=\"ctl\">"), "the failed case's rows are inline");
        assert!(html.contains("window.miplcheckSide"), "the page has the loader");
        assert_eq!(html.matches("<script").count(), 1, "one script element; the side files are added by it");
        // The side file is a script handing over the rows as the inline page would have them.
        assert!(js.starts_with("miplcheckSide({\n'case-session-open-close':'<h3>Steps</h3>"), "{js}");
        assert!(js.contains(r#"<table class="transcript">"#), "{js}");
        assert!(!html.contains("<code>send AT+MIPLOPEN=0</code>"), "nor its steps");
        assert!(js.ends_with("\n});\n"));
        assert!(js.contains("&lt;script&gt;alert(&#39;x &amp; y&#39;)&lt;/script&gt;"), "escaped as in the page");
        assert!(!js.contains("<script"), "{js}");
        // The one-file page keeps everything, as before.
        let inline = crate::render(&r);
        assert!(inline.contains("AT+MIPLOPEN=0,600,60<span") && !inline.contains("miplcheckSide"));
    }

    #[test]
    fn a_run_without_passing_transcripts_is_one_file_as_before() {
        let mut r = fixture::run();
        r.cases.retain(|c| c.verdict != Verdict::Passed);
        let folder = crate::render_folder(&r);
        assert!(folder.files.is_empty());
        assert_eq!(folder.html, crate::render(&r));
    }

    #[test]
    fn many_cases_share_side_files_of_bounded_size() {
        let mut r = fixture::empty();
        let long = "+MIPLREAD: ".to_string() + &"x".repeat(2000);
        for i in 0..1500 {
            let mut c = fixture::case("s", &format!("c{i}"), Verdict::Passed, vec![]);
            c.transcript = vec![fixture::entry(0.0, Dir::UeToTe, None, &long)];
            r.cases.push(c);
        }
        let folder = crate::render_folder(&r);
        assert!(folder.files.len() >= 3, "{} files", folder.files.len());
        for (i, (name, js)) in folder.files.iter().enumerate() {
            assert_eq!(*name, format!("transcripts/report-{:04}.js", i + 1));
            assert!(js.len() < CHUNK + 4096, "{name}: {} bytes", js.len());
        }
        // Every case's placeholder names the file that holds it.
        for i in [0, 700, 1499] {
            let id = format!("case-s-c{i}");
            let at = folder.html.find(&format!(r#"data-case="{id}""#)).expect("a placeholder");
            let file = folder.html[..at].rsplit("data-side=\"").next().unwrap().split('"').next().unwrap();
            let js = &folder.files.iter().find(|(n, _)| n == file).expect("a written file").1;
            assert!(js.contains(&format!("'{id}':")), "{id} in {file}");
        }
    }

    #[test]
    fn strings_are_javascript_literals() {
        let mut s = String::new();
        js_string(&mut s, "a\"b\\c\nd\u{1}e\u{2028}f\u{2029}'注\t</script>—");
        assert_eq!(s, r#"'a"b\\c\nd\u0001e\u2028f\u2029\'注\u0009</script>—'"#);
    }

    #[test]
    fn side_files_are_told_by_name() {
        assert!(Folder::is_side_file("report-0001.js"));
        assert!(
            !Folder::is_side_file("report-.js")
                && !Folder::is_side_file("register")
                && !Folder::is_side_file("report-1.txt")
        );
    }
}
