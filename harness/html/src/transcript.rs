//! A case's transcript and snapshot diff as HTML. Each of the four directions gets its own class
//! (`te-ue`, `ue-te`, `pf-ue`, `ue-pf`) and its own colour, URCs are highlighted, and the
//! transcript's class column (echo, info, final, urc, coap) is kept, so the MCU's side, the modem's
//! answers and the datagrams are told apart at a glance and still by text when printed in grey.

use super::escape::{esc, esc_into, wire_text_into};
use super::units::{self, Fixed};
use miplcheck_record::{Class, Dir, Line, LineKind};
use std::fmt::Write;

/// The CSS class of a direction.
pub fn dir_class(dir: Dir) -> &'static str {
    match dir {
        Dir::TeToUe => "te-ue",
        Dir::UeToTe => "ue-te",
        Dir::PfToUe => "pf-ue",
        Dir::UeToPf => "ue-pf",
    }
}

/// What an empty transcript's place says.
pub const NO_TRANSCRIPT: &str = r#"<p class="muted">No transcript: nothing was sent or received.</p>"#;

/// The transcript as a table, a row per line; empty transcripts say so.
pub fn table(lines: &[Line]) -> String {
    if lines.is_empty() {
        return NO_TRANSCRIPT.into();
    }
    let mut out = String::from(r#"<table class="transcript"><tbody>"#);
    for l in lines {
        match (l.kind, l.dir) {
            (LineKind::Step, _) => {
                let _ = write!(out, r#"<tr class="step"><td colspan="4">{}</td></tr>"#, esc(&l.text));
            }
            (_, Some(dir)) => {
                let class = l.class.map(Class::name).unwrap_or("");
                // Written in place, not through `format!`: a big run's pages are millions of rows.
                out.push_str(r#"<tr class=""#);
                out.push_str(dir_class(dir));
                if !class.is_empty() {
                    out.push(' ');
                    esc_into(&mut out, &class.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                }
                out.push_str(r#""><td class="t">"#);
                time_into(&mut out, l.at_ms);
                let _ = write!(out, r#"</td><td class="d"><b class="dir">{dir}</b></td><td class="c">"#);
                esc_into(&mut out, class);
                out.push_str(r#"</td><td class="x">"#);
                wire_text_into(&mut out, &l.text);
                out.push_str("</td></tr>");
            }
            _ => {
                // Notes are the runner's own words (`step 3 failed: …`), not bytes on a wire.
                let text = &l.text;
                let failed = if text.contains(" failed: ") { " failed" } else { "" };
                let _ = write!(
                    out,
                    r#"<tr class="note{failed}"><td class="t">{}</td><td class="d"></td><td class="c">note</td><td class="x">{}</td></tr>"#,
                    time(l.at_ms),
                    esc(text)
                );
            }
        }
    }
    out.push_str("</tbody></table>");
    out
}

fn time(at_ms: Option<f64>) -> String {
    let mut out = String::new();
    time_into(&mut out, at_ms);
    out
}

fn time_into(out: &mut String, at_ms: Option<f64>) {
    if let Some(t) = time_digits(at_ms) {
        t.push(out, 3);
        out.push_str("&#8239;s");
    }
}

/// A line's time: seconds from the case's first line to 3 decimals, as the transcript files print
/// them; none when it has none. The side files hand over the same digits.
pub fn time_digits(at_ms: Option<f64>) -> Option<Fixed> {
    at_ms.filter(|ms| ms.is_finite()).map(|ms| Fixed::of(ms / 1000.0, 3))
}

/// A unified diff, golden (`-`) against this run (`+`), a coloured line each.
pub fn diff(text: &str) -> String {
    let mut out = String::from(r#"<pre class="diff">"#);
    for line in text.lines() {
        let class = match line.chars().next() {
            Some('-') => "del",
            Some('+') => "add",
            Some('…') => "gap",
            _ => "ctx",
        };
        let _ = write!(out, r#"<span class="{class}">{}</span>"#, esc(line));
    }
    out.push_str("</pre>");
    out
}

/// What a step's latency cell shows, its numbers already printed: the page's cell and a side
/// file's both come from it.
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    /// Nothing measured, no window.
    Empty,
    /// A latency without a window to hold it against (`units::ms`).
    Plain(String),
    /// A window, nothing measured: its `units::ms`.
    NoFigure(String),
    /// Latency and window as `units::ms`, whether it is over, and the share of the window used
    /// (to 1 decimal) unclamped for the title and clamped to 0–100 for the bar.
    Bar { latency: String, window: String, over: bool, share: Fixed, width: Fixed },
}

impl Latency {
    /// The cell for `latency` against `window`.
    pub fn of(latency: Option<f64>, window: Option<f64>) -> Latency {
        match (latency, window) {
            (Some(l), Some(w)) if w > 0.0 && l.is_finite() && w.is_finite() => Latency::Bar {
                latency: units::ms(l),
                window: units::ms(w),
                over: l > w,
                share: Fixed::of(l / w * 100.0, 1),
                width: Fixed::of((l / w * 100.0).clamp(0.0, 100.0), 1),
            },
            (Some(l), _) => Latency::Plain(units::ms(l)),
            (None, Some(w)) => Latency::NoFigure(units::ms(w)),
            (None, None) => Latency::Empty,
        }
    }
}

/// Latency against the window, as text and as a bar filled to the fraction of the window used.
pub fn latency_cell(latency: Option<f64>, window: Option<f64>) -> String {
    match Latency::of(latency, window) {
        Latency::Bar { latency, window, over, share, width } => {
            let mut out = format!(
                r#"{latency} <span class="muted">/ {window}</span><span class="lat{}" title=""#,
                if over { " over" } else { "" }
            );
            share.push(&mut out, 1);
            out.push_str(r#" % of the window"><i style="width:"#);
            width.push(&mut out, 1);
            out.push_str(r#"%"></i></span>"#);
            out
        }
        Latency::Plain(l) => l,
        Latency::NoFigure(w) => format!(r#"<span class="muted">– / {w}</span>"#),
        Latency::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: Dir, class: Option<Class>, text: &str) -> Line {
        Line::entry(12.0, dir, class, text)
    }

    #[test]
    fn a_script_in_a_transcript_stays_text() {
        let html = table(&[entry(Dir::UeToTe, Some(Class::Info), r#"+X: "<script>alert('&')</script>"\r\n"#)]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&quot;&lt;script&gt;alert(&#39;&amp;&#39;)&lt;/script&gt;&quot;"), "{html}");
    }

    #[test]
    fn each_direction_has_its_class_and_urcs_stand_out() {
        let html = table(&[
            Line::step("step 1", "send AT"),
            entry(Dir::TeToUe, None, r"AT\r"),
            entry(Dir::UeToTe, Some(Class::Urc), r"+MIPLEVENT: 0,6\r\n"),
            entry(Dir::UeToPf, Some(Class::Coap), "CON POST /rd"),
            entry(Dir::PfToUe, Some(Class::Coap), "ACK 2.01"),
            Line::note(3.0, "step 1 failed: late"),
        ]);
        for class in [
            r#"class="step""#,
            r#"class="te-ue""#,
            r#"class="ue-te urc""#,
            r#"class="ue-pf coap""#,
            r#"class="pf-ue coap""#,
            r#"class="note failed""#,
        ] {
            assert!(html.contains(class), "{class} in {html}");
        }
        assert!(html.contains("0.012&#8239;s"), "{html}");
    }

    #[test]
    fn nothing_recorded_is_said() {
        assert!(table(&[]).contains("No transcript"));
        assert_eq!(latency_cell(None, None), "");
        assert!(latency_cell(Some(400.0), Some(300.0)).contains("lat over"));
        assert!(latency_cell(Some(1.0), Some(0.0)).contains("1 ms"));
    }

    #[test]
    fn diff_lines_are_coloured_by_side() {
        let html = diff("  step 1\n-+MIPLEVENT: 0,6\n++MIPLEVENT: 0,7 <x>\n…\n");
        assert!(html.contains(r#"<span class="del">-+MIPLEVENT: 0,6</span>"#), "{html}");
        assert!(html.contains(r#"<span class="add">++MIPLEVENT: 0,7 &lt;x&gt;</span>"#), "{html}");
        assert!(html.contains(r#"<span class="gap">…</span>"#), "{html}");
    }
}
