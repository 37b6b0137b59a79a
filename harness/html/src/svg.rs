//! The two charts, as inline SVG so the page needs nothing from the network: latency per AT
//! command against its response window, and every latency per command as a strip of dots.
//!
//! Both use one log-scale time axis: an emulator answers in microseconds while the manuals' windows
//! run from 300 ms to minutes, and a linear axis would show either bars or windows, never both.
//! A latency of 0 (answered within the clock's resolution) is drawn at the axis' left edge, and the
//! caption says so.

use super::escape::esc;
use super::units;
use super::windows::CommandStats;
use std::fmt::Write;

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 34.0;
const ROW: f64 = 24.0;
const BOTTOM: f64 = 34.0;

/// A log10 axis between two decades.
struct Axis {
    lo: f64,
    hi: f64,
}

impl Axis {
    /// The decades around every latency and window of the commands; none when there is nothing to
    /// draw.
    fn fit(stats: &[CommandStats]) -> Option<Axis> {
        let values = stats
            .iter()
            .flat_map(|s| s.latencies.iter().copied().chain(s.window.into_iter().flat_map(|(a, b)| [a, b])))
            .filter(|v| v.is_finite() && *v > 0.0);
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if stats.iter().all(|s| s.latencies.is_empty()) {
            return None;
        }
        if !min.is_finite() {
            // Every latency was 0 and no window: still show where they are.
            return Some(Axis { lo: 0.001, hi: 1.0 });
        }
        // Below a microsecond is below what any port stamps; the floor keeps the axis finite.
        let lo = 10f64.powf(min.log10().floor()).max(0.001);
        let mut hi = 10f64.powf(max.log10().ceil());
        if hi <= lo {
            hi = lo * 10.0;
        }
        Some(Axis { lo, hi })
    }

    fn x(&self, v: f64) -> f64 {
        let v = if v.is_finite() { v.clamp(self.lo, self.hi) } else { self.lo };
        let t = (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        LEFT + t * (WIDTH - LEFT - RIGHT)
    }

    fn decades(&self) -> Vec<f64> {
        let (a, b) = (self.lo.log10().round() as i32, self.hi.log10().round() as i32);
        (a..=b).map(|e| 10f64.powi(e)).collect()
    }

    /// Vertical grid lines with their labels under the plot.
    fn draw(&self, out: &mut String, bottom: f64) {
        for d in self.decades() {
            let x = self.x(d);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                bottom + 16.0,
                units::decade(d)
            );
        }
    }

    fn caption(&self) -> String {
        format!(
            "Log scale from {} to {}; a latency of 0 (answered within the clock's resolution) is drawn at the left edge.",
            units::decade(self.lo),
            units::decade(self.hi)
        )
    }
}

fn open(out: &mut String, class: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart {class}" role="img" viewBox="0 0 {WIDTH} {height:.0}" width="{WIDTH}" height="{height:.0}"><title>{}</title><desc>{}</desc>"#,
        esc(title),
        esc(desc)
    );
}

fn label(out: &mut String, y: f64, s: &CommandStats) {
    let _ = write!(
        out,
        r#"<text class="cmd" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        LEFT - 8.0,
        y + 4.0,
        esc(&s.command)
    );
}

/// The window drawn across a row: one line, or two when cases gave the command different windows.
fn window_ticks(out: &mut String, axis: &Axis, y: f64, s: &CommandStats) {
    let Some((a, b)) = s.window else { return };
    for w in if a == b { vec![a] } else { vec![a, b] } {
        let x = axis.x(w);
        let _ = write!(
            out,
            r#"<line class="window" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/>"#,
            y - ROW / 2.0 + 2.0,
            y + ROW / 2.0 - 2.0
        );
    }
}

fn window_text(s: &CommandStats) -> String {
    match s.window {
        Some((a, b)) if a == b => units::ms(a),
        Some((a, b)) => format!("{}–{}", units::ms(a), units::ms(b)),
        None => "none".into(),
    }
}

fn legend(out: &mut String, items: &[(&str, &str)]) {
    let mut x = LEFT;
    for (class, text) in items {
        let _ = write!(
            out,
            r#"<rect class="{class}" x="{x:.1}" y="10" width="14" height="10"/><text class="legend" x="{:.1}" y="19">{}</text>"#,
            x + 19.0,
            esc(text)
        );
        x += 36.0 + 7.0 * text.chars().count() as f64;
    }
}

/// Median and p95 per command as bars, the slowest answer as a dot, the window as a red line. A bar
/// turns red when its p95 is past the window.
pub fn latency(stats: &[CommandStats]) -> Option<String> {
    let axis = Axis::fit(stats)?;
    let rows: Vec<&CommandStats> = stats.iter().filter(|s| !s.latencies.is_empty()).collect();
    let bottom = TOP + ROW * rows.len() as f64;
    let height = bottom + BOTTOM;
    let mut out = String::new();
    open(
        &mut out,
        "chart-latency",
        height,
        "Latency per AT command against its response window",
        "For each command: the median and 95th percentile latency as bars, the slowest answer as a dot, and the response window as a red line; log scale.",
    );
    legend(&mut out, &[("bar-median", "median"), ("bar-p95", "p95"), ("max-key", "max"), ("window-key", "window")]);
    axis.draw(&mut out, bottom);
    for (i, s) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let late = matches!((s.p95, s.window), (Some(p), Some((w, _))) if p > w);
        let _ = write!(
            out,
            r#"<g class="row{}"><title>{}: median {}, p95 {}, max {}, window {} ({} sent, {} over the window)</title>"#,
            if late { " late" } else { "" },
            esc(&s.command),
            units::ms(s.median.unwrap_or(0.0)),
            units::ms(s.p95.unwrap_or(0.0)),
            units::ms(s.max.unwrap_or(0.0)),
            window_text(s),
            s.sent,
            s.exceeded()
        );
        label(&mut out, y, s);
        let x0 = axis.x(axis.lo);
        let (p95, med) = (axis.x(s.p95.unwrap_or(0.0)), axis.x(s.median.unwrap_or(0.0)));
        // A bar at the left edge still gets a sliver so the row does not look empty.
        let _ = write!(
            out,
            r#"<rect class="bar-p95" x="{x0:.1}" y="{:.1}" width="{:.1}" height="12"/>"#,
            y - 6.0,
            (p95 - x0).max(1.5)
        );
        let _ = write!(
            out,
            r#"<rect class="bar-median" x="{x0:.1}" y="{:.1}" width="{:.1}" height="12"/>"#,
            y - 6.0,
            (med - x0).max(1.5)
        );
        let _ = write!(out, r#"<circle class="max" cx="{:.1}" cy="{y:.1}" r="3.5"/>"#, axis.x(s.max.unwrap_or(0.0)));
        window_ticks(&mut out, &axis, y, s);
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    Some(figure(&out, &axis))
}

/// Every answer as a dot on its command's row, so a bimodal firmware or a single straggler shows;
/// dots past the window are red.
pub fn distribution(stats: &[CommandStats]) -> Option<String> {
    let axis = Axis::fit(stats)?;
    let rows: Vec<&CommandStats> = stats.iter().filter(|s| !s.latencies.is_empty()).collect();
    let bottom = TOP + ROW * rows.len() as f64;
    let mut out = String::new();
    open(
        &mut out,
        "chart-distribution",
        bottom + BOTTOM,
        "Distribution of latencies per AT command",
        "Each dot is one answer; dots are spread vertically so equal values stay visible; red dots were later than the window; log scale.",
    );
    legend(
        &mut out,
        &[
            ("dot-key", "one answer"),
            ("late-key", "past the window"),
            ("median-key", "median"),
            ("window-key", "window"),
        ],
    );
    axis.draw(&mut out, bottom);
    for (i, s) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let _ = write!(
            out,
            r#"<g class="row"><title>{}: {} answers, {} to {}</title>"#,
            esc(&s.command),
            s.latencies.len(),
            units::ms(s.latencies[0]),
            units::ms(s.max.unwrap_or(0.0))
        );
        label(&mut out, y, s);
        let limit = s.window.map(|w| w.0);
        for (k, &l) in s.latencies.iter().enumerate() {
            // A fixed spread (no randomness) so the same run always draws the same picture.
            let dy = ((k * 7) % 11) as f64 - 5.0;
            let class = if limit.is_some_and(|w| l > w) { "dot late" } else { "dot" };
            let _ = write!(out, r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="3"/>"#, axis.x(l), y + dy * 1.4);
        }
        if let Some(m) = s.median {
            let x = axis.x(m);
            let _ = write!(
                out,
                r#"<line class="median" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/>"#,
                y - 9.0,
                y + 9.0
            );
        }
        window_ticks(&mut out, &axis, y, s);
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    Some(figure(&out, &axis))
}

fn figure(svg: &str, axis: &Axis) -> String {
    format!(r#"<figure class="chart-box">{svg}<figcaption>{}</figcaption></figure>"#, esc(&axis.caption()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(command: &str, latencies: Vec<f64>, window: Option<f64>) -> CommandStats {
        let mut l = latencies;
        l.sort_by(f64::total_cmp);
        CommandStats {
            command: command.into(),
            sent: l.len(),
            median: miplcheck_record::stats::median(&l),
            p95: miplcheck_record::stats::percentile(&l, 95.0),
            max: l.last().copied(),
            latencies: l,
            window: window.map(|w| (w, w)),
            late: 0,
            silent: 0,
        }
    }

    #[test]
    fn no_latencies_no_chart() {
        assert_eq!(latency(&[]), None);
        assert_eq!(distribution(&[stats("+X", vec![], Some(300.0))]), None);
    }

    #[test]
    fn zero_latencies_and_odd_values_do_not_break_the_axis() {
        let s = [stats("+X", vec![0.0, 0.0], None), stats("+Y", vec![f64::INFINITY, 0.5], Some(300.0))];
        for svg in [latency(&s).unwrap(), distribution(&s).unwrap()] {
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }

    #[test]
    fn the_axis_spans_latencies_and_windows() {
        let s = [stats("+MIPLOPEN", vec![0.114, 2.0], Some(3000.0))];
        let a = Axis::fit(&s).unwrap();
        assert_eq!((a.lo, a.hi), (0.1, 10_000.0));
        assert!((a.x(0.1) - LEFT).abs() < 1e-9 && (a.x(10_000.0) - (WIDTH - RIGHT)).abs() < 1e-9);
        assert_eq!(a.x(0.0), LEFT, "0 is drawn at the left edge");
    }
}
