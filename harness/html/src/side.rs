//! Side files: a big run's passing cases' steps and transcripts kept out of `report.html`, so a
//! page of ten thousand cases opens, and loaded when a case is opened.
//!
//! A side file is a script, `transcripts/report-0001.js`, that hands its cases' bodies to the page
//! as data, not markup (`miplcheckSide({'case-…': [steps, diff, transcript]})`, the format in
//! `data`): the rows' text and numbers, which the page's [`SCRIPT`] renders into the markup the
//! page itself has for a case kept inline (steps table, snapshot diff, transcript table), a few
//! times fewer bytes to make, write and load. The page adds a `<script src>` for the file a case
//! needs when that case is opened: a classic script loads from `file://` where `fetch()` of a
//! local file does not, so the folder works offline and unserved. Many cases share a file (up to
//! [`CHUNK`] bytes each) because every file costs a synced write, and a reader opens a few cases,
//! not all.

use std::fmt::Write as _;

/// The side files' folder, beside the page; the run's transcript files share it (they sit in a
/// folder per suite, the side files at its top).
pub const DIR: &str = "transcripts";

/// What a side file may hold before the next one starts, in bytes.
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

    /// Puts `literal` (the body of case `id` as `data::literal` makes it; `id` is a fragment id,
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

/// `s` as a single-quoted JavaScript string literal, onto `out`. AT text quotes with `"`, so it
/// goes in nearly as it is: only `'`, `\\`, control characters and U+2028/U+2029 (line ends to
/// older engines) are escaped, and the runs between them are copied whole — a big page's side
/// files are most of its bytes.
pub(crate) fn js_string(out: &mut String, s: &str) {
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
/// side file once; the file's cases are kept and each placeholder is replaced by its case's body,
/// rendered from the data, when its case is open. A placeholder's `data-case` is its case's
/// `<details>` id. The renderer is the second of the same markup (the first is `cases::body`):
/// the strings it shares with Rust are pinned by the unit tests, the whole by `tests/browser.rs`.
pub const SCRIPT: &str = r##"
(function () {
  var got = {}, asked = {};
  var DIRS = [['te-ue', 'TE→UE'], ['ue-te', 'UE→TE'], ['pf-ue', 'PF→UE'], ['ue-pf', 'UE→PF']];
  var CLASSES = ['', 'echo', 'info', 'final', 'urc', 'prompt', 'fragment', 'stale', 'coap'];
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  // As escape::wire_text: control-byte escapes dimmed, `\\` kept as text.
  function wire(s) {
    return s.replace(/\\[rnt]|\\x[0-9A-Fa-f]{2}|\\\\|[&<>"']/g, function (m) {
      return m.length === 1 ? ESC[m] : m.charAt(1) === '\\' ? m : '<span class="ctl">' + m + '</span>';
    });
  }
  // A units::Fixed: the printed digits as an integer (the point `d` from the end), or the text.
  function num(n, d) {
    if (typeof n === 'string') return esc(n);
    var s = String(n);
    while (s.length <= d) s = '0' + s;
    return d ? s.slice(0, s.length - d) + '.' + s.slice(s.length - d) : s;
  }
  function time(t) { return t === null ? '' : num(t, 3) + '&#8239;s'; }
  function cell(c) {
    if (typeof c === 'string') return esc(c);
    if (c.length === 1) return '<span class="muted">– / ' + esc(c[0]) + '</span>';
    return esc(c[0]) + ' <span class="muted">/ ' + esc(c[1]) + '</span><span class="lat' + (c[2] ? ' over' : '') +
      '" title="' + num(c[3], 1) + ' % of the window"><i style="width:' + num(c[4], 1) + '%"></i></span>';
  }
  function steps(rows) {
    var out = '<h3>Steps</h3><table class="steps"><thead><tr><th>Step</th><th class="num">Line</th><th>What</th><th>Latency / window</th><th>Failure</th></tr></thead><tbody>';
    rows.forEach(function (s) {
      out += '<tr class="' + (s[3] ? 'failed' : '') + '"><td class="where">' + esc(s[0]) + '</td><td class="num">' + esc(s[1]) +
        '</td><td><code>' + esc(s[2]) + '</code></td><td class="num">' + cell(s[4]) +
        (s[5] ? '<br><span class="muted">corrected for ' + esc(s[5][0]) + '; raw ' + esc(s[5][1]) + '</span>' : '') +
        '</td><td class="reason">' + esc(s[6]) + '</td></tr>';
    });
    return out + '</tbody></table>';
  }
  function diff(lines) {
    return '<pre class="diff">' + lines.map(function (l) {
      var k = l.charAt(0);
      return '<span class="' + (k === '-' ? 'del' : k === '+' ? 'add' : k === '\u2026' ? 'gap' : 'ctx') + '">' + esc(l) + '</span>';
    }).join('') + '</pre>';
  }
  function table(rows) {
    if (!rows.length) return '<p class="muted">No transcript: nothing was sent or received.</p>';
    var out = ['<table class="transcript"><tbody>'];
    rows.forEach(function (r) {
      if (typeof r === 'string') {
        out.push('<tr class="step"><td colspan="4">' + esc(r) + '</td></tr>');
      } else if (r.length === 4) {
        var d = DIRS[r[0]], c = CLASSES[r[1]];
        out.push('<tr class="' + d[0] + (c ? ' ' + c : '') + '"><td class="t">' + time(r[2]) + '</td><td class="d"><b class="dir">' +
          d[1] + '</b></td><td class="c">' + c + '</td><td class="x">' + wire(r[3]) + '</td></tr>');
      } else {
        out.push('<tr class="note' + (r[1].indexOf(' failed: ') >= 0 ? ' failed' : '') + '"><td class="t">' + time(r[0]) +
          '</td><td class="d"></td><td class="c">note</td><td class="x">' + esc(r[1]) + '</td></tr>');
      }
    });
    out.push('</tbody></table>');
    return out.join('');
  }
  function body(b) {
    return (b[0].length ? steps(b[0]) : '') +
      (b[1] ? '<h3>Snapshot diff <small>− golden, + this run</small></h3>' + diff(b[1]) : '') +
      (b[2] ? '<h3>Transcript</h3>' + table(b[2]) : '');
  }
  function fill(d) {
    d.querySelectorAll('div.side[data-case]').forEach(function (s) {
      var t = got[s.getAttribute('data-case')];
      if (t === undefined) return;
      s.outerHTML = body(t);
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
"##;

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
        // The side file is a script handing over the case's rows as data: text, not markup.
        assert!(js.starts_with("miplcheckSide({\n'case-session-open-close':[[['step 1',20,'send AT+MIPLOPEN=0',0,['210 ms','3 s',0,70,70],0,'']"), "{js}");
        assert!(js.contains(r"[0,0,0,'AT+MIPLOPEN=0,600,60\\r']"), "an entry: direction, class, time, text: {js}");
        assert!(js.contains(r"[1,4,4,'\\r\\n+MIPLEVENT: 0,6\\r\\n']"), "a URC at 0.004 s: {js}");
        assert!(js.contains("'step 1: send AT+MIPLOPEN=0,600,60'"), "a step header: {js}");
        assert!(!js.contains("<table") && !js.contains("<tr"), "{js}");
        assert!(!html.contains("<code>send AT+MIPLOPEN=0</code>"), "nor its steps");
        assert!(js.ends_with("\n});\n"));
        assert!(js.contains(r#"'+MIPLREAD: "<script>alert(\'x & y\')</script>"\\r\\n'"#), "the text as it is: {js}");
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
