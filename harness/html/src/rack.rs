//! The rack page (`rack.html`): one run over many rigs, from its [`RackRecord`]. It reads the way
//! a rack's morning starts: did the rack finish, how many cases came to what, which rigs were
//! healthy and what their health checks tried, then the matrix of cases × rigs, each cell a
//! verdict linking to the case on that rig's own `report.html`.
//!
//! Same page style and escaping as the run report; every text from the record goes through
//! [`esc`], every folder through [`rig_href`], so the page links only to files beside it.

use super::cases::{case_id, Ids};
use super::escape::esc;
use super::{page, units, FILE};
use miplcheck_record::{HealthState, RackCase, RackRecord, RackRig, Totals, Verdict};
use std::collections::HashMap;
use std::fmt::Write;

/// The whole page for one rack run.
pub fn render(rack: &RackRecord) -> String {
    let mut body = String::new();
    header(&mut body, rack);
    body.push_str(r##"<nav class="toc"><a href="#summary">Summary</a><a href="#rigs">Rigs</a><a href="#matrix">Matrix</a></nav>"##);
    summary(&mut body, rack);
    rigs(&mut body, rack);
    matrix(&mut body, rack);
    let _ = write!(
        body,
        "<footer>Made by miplcheck {} from the rack record ({}). Each rig's own report is in its folder; secrets are \
         redacted and the modems' identities masked.</footer>",
        esc(&rack.tool),
        esc(&rack.schema)
    );
    let title = format!("miplcheck · rack {} · {} · {}", rack.name, verdict_text(rack), rack.started);
    page::styled(&title, STYLE, &body)
}

fn verdict_text(r: &RackRecord) -> String {
    crate::verdict_words(&r.summary, r.incomplete.is_some())
}

fn bad(r: &RackRecord) -> bool {
    let t = &r.summary;
    t.failed > 0 || t.errors > 0 || t.passed == 0 || r.incomplete.is_some() || r.unhealthy().next().is_some()
}

fn header(out: &mut String, r: &RackRecord) {
    let class = if bad(r) { "failed" } else { "passed" };
    let _ = write!(
        out,
        r#"<header class="run"><h1>miplcheck · rack {} <span class="badge big {class}">{}</span></h1><dl class="facts">"#,
        esc(&r.name),
        esc(&verdict_text(r).to_uppercase())
    );
    let unhealthy = r.unhealthy().count();
    let facts = [
        ("Started", esc(&r.started)),
        ("Duration", units::ms(r.duration_ms as f64)),
        ("Rigs", format!("{} ({unhealthy} unhealthy)", r.rigs.len())),
        ("Record", format!("{} · miplcheck {}", esc(&r.schema), esc(&r.tool))),
    ];
    for (k, v) in facts {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>");
    if let Some(why) = &r.incomplete {
        let _ = write!(
            out,
            r#"<div class="box fail" id="incomplete"><b>Incomplete run:</b> {} — the matrix shows the cases that finished.</div>"#,
            esc(why)
        );
    }
    if unhealthy > 0 {
        out.push_str(r#"<div class="box fail"><b>Unhealthy rigs</b> (their remaining cases were not run)<ul>"#);
        for rig in r.unhealthy() {
            let _ = write!(
                out,
                "<li><b>{}</b>: {}</li>",
                esc(&rig.name),
                esc(rig.health.reason.as_deref().unwrap_or("no reason recorded"))
            );
        }
        out.push_str("</ul></div>");
    }
    out.push_str("</header>");
}

/// The tiles a rack shows, in the order the terminal says them.
fn tallies(t: &Totals) -> [(&'static str, &'static str, usize); 6] {
    [
        ("passed", "passed", t.passed),
        ("failed", "failed", t.failed),
        ("error", "errors", t.errors),
        ("skipped", "skipped", t.skipped),
        ("flaky", "flaky", t.flaky),
        ("quarantined", "quarantined", t.quarantined),
    ]
}

fn summary(out: &mut String, r: &RackRecord) {
    out.push_str(
        r#"<section id="summary"><h2>Summary <small>every rig's cases added up</small></h2><div class="tiles">"#,
    );
    for (class, word, n) in tallies(&r.summary) {
        let zero = if n == 0 { " zero" } else { "" };
        let _ = write!(
            out,
            r#"<div class="tile {class}{zero}" id="summary-{class}"><span class="n">{n}</span>{word}</div>"#
        );
    }
    let t = &r.summary;
    let _ = write!(
        out,
        r#"</div><p class="totals" id="summary-line">{} passed, {} failed, {} errors, {} skipped ({} flaky, {} quarantined) on {} rig{} in {}</p>"#,
        t.passed,
        t.failed,
        t.errors,
        t.skipped,
        t.flaky,
        t.quarantined,
        r.rigs.len(),
        if r.rigs.len() == 1 { "" } else { "s" },
        units::ms(r.duration_ms as f64)
    );
    let quarantined: Vec<(&RackRig, &RackCase)> = r
        .rigs
        .iter()
        .flat_map(|rig| rig.cases.iter().map(move |c| (rig, c)))
        .filter(|(_, c)| cell_word(c) == "quarantined")
        .collect();
    if !quarantined.is_empty() {
        out.push_str(r#"<h3>Quarantined <small>failed, but not failing the run</small></h3><ul class="failures">"#);
        for (rig, c) in quarantined {
            let _ = write!(
                out,
                "<li><b>{}</b> on <b>{}</b>: {}</li>",
                esc(&c.name),
                esc(&rig.name),
                esc(c.quarantine.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

/// A link to a file in a rig's folder, relative to the rack page whatever the folder says: every
/// character but letters, digits, `-_.~/` is percent-encoded (so no `scheme:`, `?` or `#` survives)
/// and the path starts with `./` (so no `//host`).
pub fn rig_href(folder: &str, file: &str) -> String {
    let mut out = String::from("./");
    for b in folder.trim_end_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.len() > 2 {
        out.push('/');
    }
    out.push_str(file);
    out
}

fn health_badge(state: HealthState) -> String {
    let class = match state {
        HealthState::Good => "passed",
        HealthState::Unhealthy => "failed",
        HealthState::Unknown => "skipped",
    };
    format!(r#"<span class="badge {class}">{}</span>"#, state.as_str())
}

fn rigs(out: &mut String, r: &RackRecord) {
    out.push_str(r#"<section id="rigs"><h2>Rigs</h2>"#);
    if r.rigs.is_empty() {
        out.push_str(r#"<p class="muted">This rack run has no rigs.</p></section>"#);
        return;
    }
    out.push_str(
        r#"<table class="rigs"><thead><tr><th>Rig</th><th>Dialect</th><th>Target</th><th>Firmware</th><th>Health</th><th class="num">Passed</th><th class="num">Failed</th><th class="num">Errors</th><th class="num">Skipped</th><th class="num">Flaky</th><th class="num">Quarantined</th><th class="num">Duration</th></tr></thead><tbody>"#,
    );
    for rig in &r.rigs {
        rig_row(out, rig);
    }
    out.push_str("</tbody></table></section>");
}

fn rig_row(out: &mut String, rig: &RackRig) {
    let t = &rig.summary;
    let row = if rig.health.state == HealthState::Unhealthy || t.failed > 0 || t.errors > 0 { "failed" } else { "" };
    let identity = match (&rig.firmware.imei, &rig.firmware.note) {
        (Some(imei), _) => format!(r#"<br><span class="muted">IMEI {}</span>"#, esc(imei)),
        (None, Some(note)) => format!(r#"<br><span class="muted">{}</span>"#, esc(note)),
        (None, None) => String::new(),
    };
    // `run --firmware`: which file went on, and whether the cases ran on it.
    let flashed = match &rig.firmware.flash {
        Some(f) if f.outcome == miplcheck_record::FlashOutcome::Qualified => {
            format!(r#"<br><span class="muted">flashed {}: qualified</span>"#, esc(&f.file))
        }
        Some(f) => format!(
            r#"<br><span class="reason">flashed {}: {}</span>"#,
            esc(&f.file),
            esc(f.reason.as_deref().unwrap_or(f.outcome.as_str()))
        ),
        None => String::new(),
    };
    let _ = write!(
        out,
        r#"<tr class="{row}"><td class="rig-name"><a href="{}">{}</a>{}</td><td>{}</td><td>{}</td><td>{}{identity}{flashed}</td><td class="health">{}"#,
        esc(&rig_href(&rig.folder, FILE)),
        esc(&rig.name),
        rig.incomplete
            .as_ref()
            .map(|why| format!(r#"<br><span class="reason">incomplete: {}</span>"#, esc(why)))
            .unwrap_or_default(),
        esc(&rig.dialect),
        esc(&rig.target),
        esc(&rig.firmware.revision),
        health_badge(rig.health.state),
    );
    if let Some(why) = &rig.health.reason {
        let _ = write!(out, r#" <span class="reason">{}</span>"#, esc(why));
    }
    health_checks(out, rig);
    out.push_str("</td>");
    for (class, _, n) in tallies(t) {
        let over = matches!(class, "failed" | "error") && n > 0;
        let _ = write!(
            out,
            r#"<td class="num{}{}">{n}</td>"#,
            if over { " over" } else { "" },
            if n == 0 { " zero" } else { "" }
        );
    }
    let _ = write!(out, r#"<td class="num">{}</td></tr>"#, units::ms(rig.duration_ms as f64));
}

/// The health checks, each with the rungs it tried, folded away.
fn health_checks(out: &mut String, rig: &RackRig) {
    let checks = &rig.health.checks;
    if checks.is_empty() {
        out.push_str(r#"<br><span class="muted">no health check ran</span>"#);
        return;
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    let _ = write!(
        out,
        r#"<details class="health"><summary>{} health check{}{}</summary><ol>"#,
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        if failed > 0 { format!(", {failed} failed") } else { String::new() }
    );
    for c in checks {
        let _ = write!(
            out,
            r#"<li><b>{}</b> <span class="badge {}">{}</span> <span class="muted">{}</span><ul>"#,
            esc(&c.when),
            if c.ok { "passed" } else { "failed" },
            if c.ok { "ok" } else { "failed" },
            units::ms(c.duration_ms)
        );
        for rung in &c.rungs {
            let _ = write!(out, "<li><code>{}</code></li>", esc(rung));
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ol></details>");
}

/// What a cell shows: `passed`, `failed`, `error`, `skipped`, `flaky` or `quarantined`, counted
/// as [`Totals::count`] counts it (a quarantined case is one that failed or errored).
pub fn cell_word(c: &RackCase) -> &'static str {
    match c.verdict {
        Verdict::Failed | Verdict::Error if c.quarantine.is_some() => "quarantined",
        Verdict::Passed if c.flaky => "flaky",
        v => v.as_str(),
    }
}

/// The cell's tooltip: why it came to what it shows.
fn cell_title(c: &RackCase) -> String {
    let reason = c.reason.as_deref();
    let mut t = match (cell_word(c), c.verdict) {
        ("quarantined", v) => format!(
            "quarantined: {} — {v}: {}",
            c.quarantine.as_deref().unwrap_or(""),
            reason.unwrap_or("no reason recorded")
        ),
        ("flaky", _) => format!("flaky: failed first, passed on attempt {}", c.attempts),
        (_, Verdict::Passed) => "passed".to_string(),
        (w, _) => format!("{w}: {}", reason.unwrap_or("no reason recorded")),
    };
    if c.verdict == Verdict::Passed {
        if let Some(q) = &c.quarantine {
            let _ = write!(t, " (quarantined: {q})");
        }
    }
    if c.attempts > 1 && !c.flaky {
        let _ = write!(t, " · {} attempts", c.attempts);
    }
    let _ = write!(t, " · {}", units::ms(c.duration_ms));
    t
}

fn matrix(out: &mut String, r: &RackRecord) {
    out.push_str(r#"<section id="matrix"><h2>Matrix <small>a row per case, a column per rig; a cell links to the case in that rig's report</small></h2>"#);
    // Every case name, in the order the rigs first met it, with its spec.
    let mut names: Vec<(&str, &str)> = vec![];
    let mut seen: HashMap<&str, ()> = HashMap::new();
    // Per rig: case name → (case, its id on the rig's page).
    let mut by_rig: Vec<HashMap<&str, (&RackCase, String)>> = vec![];
    for rig in &r.rigs {
        let mut ids = Ids::default();
        let mut cells = HashMap::new();
        for c in &rig.cases {
            let id = case_id(&mut ids, &c.name);
            if seen.insert(&c.name, ()).is_none() {
                names.push((&c.name, &c.spec));
            }
            cells.entry(c.name.as_str()).or_insert((c, id));
        }
        by_rig.push(cells);
    }
    if names.is_empty() {
        out.push_str(r#"<p class="muted">No rig ran a case.</p></section>"#);
        return;
    }
    out.push_str(r#"<div class="matrix-wrap"><table class="matrix"><thead><tr><th>Case</th>"#);
    for rig in &r.rigs {
        let _ = write!(
            out,
            r#"<th class="rig"><a href="{}">{}</a><br>{}</th>"#,
            esc(&rig_href(&rig.folder, FILE)),
            esc(&rig.name),
            health_badge(rig.health.state)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for (name, spec) in &names {
        let _ = write!(out, r#"<tr><th class="case-name">{}<small>{}</small></th>"#, esc(name), esc(spec));
        for (rig, cells) in r.rigs.iter().zip(&by_rig) {
            match cells.get(name) {
                Some((c, id)) => {
                    let word = cell_word(c);
                    let href = format!("{}#{id}", rig_href(&rig.folder, FILE));
                    let _ = write!(
                        out,
                        r#"<td class="cell {word}" title="{}"><a href="{}">{word}</a></td>"#,
                        esc(&cell_title(c)),
                        esc(&href)
                    );
                }
                None => out.push_str(r#"<td class="cell none" title="not in this rig's run">–</td>"#),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>");
}

/// The rack page's rules over the run report's: more verdicts than a run has, the rigs, the matrix.
const STYLE: &str = r#"
:root { --err: #bc4c00; --err-bg: #fff1e5; }
.badge.error { color: var(--err); background: var(--err-bg); }
.badge.flaky { color: var(--warn); background: var(--warn-bg); }
.badge.quarantined { color: var(--pf); background: var(--pf-bg); }
.tile.error { background: var(--err-bg); color: var(--err); border-color: #ffd8b5; }
.tile.flaky { background: var(--warn-bg); color: var(--warn); border-color: #f5e0a0; }
.tile.quarantined { background: var(--pf-bg); color: var(--pf); border-color: #e0d0ff; }
.tile.zero { background: var(--card); color: var(--muted); border-color: var(--line); }
table.rigs td.health { min-width: 220px; }
table.rigs td.health .reason, table.rigs td .reason { color: var(--fail); }
details.health > summary { cursor: pointer; color: var(--muted); font-size: 12.5px; }
details.health ol { margin: 4px 0 0; padding-left: 18px; }
details.health ul { margin: 2px 0 4px; padding-left: 16px; }
.matrix-wrap { overflow-x: auto; }
table.matrix { width: auto; }
table.matrix th.rig { text-align: center; padding: 4px 8px; }
table.matrix th.case-name { font-family: var(--mono); font-size: 12.5px; font-weight: normal; color: var(--fg); white-space: nowrap; padding-right: 16px; }
table.matrix th.case-name small { font-family: system-ui, sans-serif; color: var(--faint); margin-left: 8px; }
table.matrix td.cell { text-align: center; padding: 3px 8px; border: 2px solid var(--card); font-size: 12px; font-weight: 600; white-space: nowrap; }
table.matrix td.cell a { color: inherit; display: block; }
td.cell.passed { background: var(--pass-bg); color: var(--pass); }
td.cell.failed { background: var(--fail-bg); color: var(--fail); }
td.cell.error { background: var(--err-bg); color: var(--err); }
td.cell.skipped { background: var(--skip-bg); color: var(--skip); }
td.cell.flaky { background: var(--warn-bg); color: var(--warn); }
td.cell.quarantined { background: var(--pf-bg); color: var(--pf); }
td.cell.none { color: #afb8c1; font-weight: normal; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn a_rig_s_flash_is_under_its_firmware() {
        let mut rack = fixture::rack();
        assert!(!render(&rack).contains("flashed "), "no rig flashed anything");
        rack.rigs[0].firmware.flash = Some(miplcheck_record::Flash {
            file: "fw_<2>.bin".into(),
            size: 1,
            sha256: "sha256:00".into(),
            via: "fota".into(),
            expected: "B".into(),
            expected_from: "package".into(),
            before: Some("A".into()),
            after: Some("A".into()),
            outcome: miplcheck_record::FlashOutcome::WrongFirmware,
            reason: Some("wrong firmware: expected B, modem reports A".into()),
            evidence: None,
            duration_ms: 1.0,
        });
        let html = render(&rack);
        assert!(
            html.contains(
                r#"<span class="reason">flashed fw_&lt;2&gt;.bin: wrong firmware: expected B, modem reports A"#
            ),
            "{html}"
        );
    }

    #[test]
    fn every_rig_and_every_cell_is_on_the_page() {
        let rack = fixture::rack();
        let html = render(&rack);
        for rig in &rack.rigs {
            assert!(html.contains(&format!(">{}</a>", esc(&rig.name))), "{}", rig.name);
            assert!(html.contains(&esc(&rig.firmware.revision)), "{}", rig.firmware.revision);
        }
        let cells = html.matches(r#"<td class="cell "#).count();
        let rows = html.matches(r#"<th class="case-name">"#).count();
        assert_eq!(rows, 4, "the union of case names");
        assert_eq!(cells, rows * rack.rigs.len(), "one cell per case and rig");
        assert_eq!(html.matches(r#"<td class="cell none""#).count(), 3, "bench-1 ran three of the four, lab-3 two");
        for word in ["passed", "failed", "error", "skipped", "flaky", "quarantined"] {
            assert!(html.contains(&format!(r#"<td class="cell {word}""#)), "{word}");
        }
    }

    #[test]
    fn rows_are_in_first_seen_order() {
        let html = render(&fixture::rack());
        let at = |s: &str| html.find(&format!(r#"<th class="case-name">{s}<small>"#)).unwrap_or_else(|| panic!("{s}"));
        assert!(at("session/open-close") < at("session/update"));
        assert!(at("session/update") < at("sota/sota-info"));
        assert!(at("sota/sota-info") < at("register/only-on-bench-2"), "met first on the second rig");
    }

    #[test]
    fn header_rigs_and_health() {
        let html = render(&fixture::rack());
        assert!(html.contains("miplcheck · rack nightly"));
        assert!(html.contains(r#"id="incomplete""#) && html.contains("Incomplete run:"), "the banner");
        assert!(html.contains(r#"<div class="tile quarantined" id="summary-quarantined"><span class="n">1</span>"#));
        assert!(html.contains(r#"<div class="tile flaky" id="summary-flaky"><span class="n">1</span>"#));
        assert!(html.contains("no OK to AT after reset and power cycle"), "the unhealthy rig's reason");
        assert!(
            html.contains("<li><b>session/update</b> on <b>lab-3</b>: JIRA-9: &lt;script&gt;"),
            "quarantined, listed"
        );
        assert!(html.contains(r#"<details class="health"><summary>2 health checks, 1 failed</summary>"#));
        assert!(html.contains("<code>power cycle (uhubctl -a cycle -p 2): no OK</code>"), "the rungs");
        assert!(html.contains("IMEI 86697103*******"), "the masked IMEI");
        assert!(html.contains(r#"<a href="./bench-1/report.html">bench-1</a>"#));
    }

    #[test]
    fn cells_link_to_the_case_on_the_rigs_own_page() {
        let rack = fixture::rack();
        let html = render(&rack);
        // The rig's own page, made from the run record the rack's row came from.
        let run = fixture::run();
        let report = crate::render(&run);
        let mut linked = 0;
        for (c, _) in run.cases.iter().zip(0..) {
            let id = format!("case-{}", crate::escape::slug(&c.full_name()));
            assert!(report.contains(&format!(r#"id="{id}""#)), "{id} on the rig's page");
            assert!(html.contains(&format!(r#"href="./bench-1/report.html#{id}""#)), "{id} from the rack");
            linked += 1;
        }
        assert_eq!(linked, 3);
        // Two names that slug the same get the same suffixes the run page gives them.
        let mut twins = fixture::run();
        twins.cases[1].case = "open close".into();
        twins.cases[0].case = "open-close".into();
        twins.cases[1].suite = "session".into();
        let report = crate::render(&twins);
        let rack = RackRecord::of("r", "t", "s", 0, [(&twins, "x")]);
        let html = render(&rack);
        for id in ["case-session-open-close", "case-session-open-close-2"] {
            assert!(report.contains(&format!(r#"id="{id}""#)), "{id}");
            assert!(html.contains(&format!(r##"href="./x/report.html#{id}""##)), "{id}");
        }
    }

    #[test]
    fn hostile_text_stays_text() {
        let html = render(&fixture::rack());
        assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the quarantine reason, escaped");
        assert!(html.contains("bench-&lt;2&gt;"), "the rig name");
        assert!(!html.contains(r#"href="javascript"#) && !html.contains(r#"href="//"#));
        assert!(html.contains(r#"href="./javascript%3Aalert%281%29/report.html""#), "{html}");
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render(&fixture::rack());
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<style>"));
        for external in ["http://", "https://", "src=", "<link", "href=\"//"] {
            assert!(!html.contains(external), "{external}");
        }
    }

    #[test]
    fn an_empty_rack_still_renders() {
        let html = render(&RackRecord::of("empty", "0.1.0", "2026-12-02T00:00:00Z", 0, []));
        assert!(html.contains("This rack run has no rigs.") && html.contains("No rig ran a case."));
        assert!(html.contains("NOTHING PASSED"));
    }

    #[test]
    fn hrefs_stay_beside_the_page() {
        assert_eq!(rig_href("bench-1", "report.html"), "./bench-1/report.html");
        assert_eq!(rig_href("rigs/bench 1/", "report.html"), "./rigs/bench%201/report.html");
        assert_eq!(rig_href("//evil.example", "report.html"), ".///evil.example/report.html", "a path, not a host");
        assert_eq!(rig_href("", "report.html"), "./report.html");
        assert_eq!(rig_href("a?b#c", "x"), "./a%3Fb%23c/x");
    }
}
