//! The page around the report: the HTML5 skeleton, the inline style sheet and the few lines of
//! optional script. Everything is inline so the file opens offline, mailed or archived; the script
//! only adds "expand all" buttons and opens a case a link points at, and the page reads the same
//! without it (cases are `<details>` elements).

use super::escape::esc;

/// The whole document around `body`, with `extra` rules after the shared style sheet (a page of
/// its own, such as the rack's, adds its own without changing the run report by a byte).
pub fn styled(title: &str, extra: &str, body: &str) -> String {
    styled_with_script(title, extra, body, "")
}

/// [`styled`], with `script` run before the page's own (which may open a case at once).
pub fn styled_with_script(title: &str, extra: &str, body: &str, script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"miplcheck\">\n<title>{}</title>\n<style>{STYLE}{extra}</style>\n</head>\n\
         <body>\n<main>\n{body}\n</main>\n<script>{script}{SCRIPT}</script>\n</body>\n</html>\n",
        esc(title)
    )
}

/// What the transcript's colours mean, shown once above the cases.
pub fn legend() -> &'static str {
    concat!(
        r#"<div class="legend" id="legend"><span class="legend-title">Transcript</span>"#,
        r#"<span class="te-ue"><b class="dir">TE→UE</b> sent to the modem (MCU side)</span>"#,
        r#"<span class="ue-te"><b class="dir">UE→TE</b> the modem's answer</span>"#,
        r#"<span class="ue-te urc"><b class="dir">UE→TE</b> URC</span>"#,
        r#"<span class="ue-te echo"><b class="dir">UE→TE</b> echo</span>"#,
        r#"<span class="ue-pf"><b class="dir">UE→PF</b> datagram to the platform</span>"#,
        r#"<span class="pf-ue"><b class="dir">PF→UE</b> datagram from the platform</span>"#,
        r#"<span><span class="ctl">\r\n</span> control bytes</span>"#,
        "</div>"
    )
}

const SCRIPT: &str = r#"
(function () {
  function all(open, sel) { document.querySelectorAll(sel || 'details.case').forEach(function (d) { d.open = open; }); }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var t = id && document.getElementById(id);
    for (var e = t; e; e = e.parentElement) { if (e.tagName === 'DETAILS') e.open = true; }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
  document.querySelectorAll('.tools').forEach(function (bar) {
    [['Expand all', true, null], ['Collapse all', false, null], ['Expand failures', true, 'details.case.failed']].forEach(function (b) {
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.textContent = b[0];
      btn.onclick = function () { all(b[1], b[2]); };
      bar.appendChild(btn);
    });
  });
})();
"#;

const STYLE: &str = r#"
:root {
  --fg: #1f2328; --muted: #59636e; --faint: #818b98; --line: #d1d9e0; --bg: #f6f8fa; --card: #fff;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --skip: #59636e; --skip-bg: #eef1f4; --warn: #9a6700; --warn-bg: #fff8c5;
  --te: #0550ae; --te-bg: #ddf4ff; --urc: #bf8700; --urc-bg: #fff4d4;
  --pf: #8250df; --pf-bg: #f6f0ff; --up: #bf3989; --up-bg: #ffeff7;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 17px; margin: 0 0 10px; }
h2 small, h3 small { font-weight: normal; color: var(--muted); font-size: 13px; margin-left: 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
a { color: var(--te); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
section, header.run { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 16px; }
nav.toc { margin: 0 0 16px; color: var(--muted); }
nav.toc a { margin-right: 14px; }
.muted { color: var(--muted); }
.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 3px 14px; margin: 10px 0 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.passed { color: var(--pass); background: var(--pass-bg); }
.badge.failed { color: var(--fail); background: var(--fail-bg); }
.badge.skipped { color: var(--skip); background: var(--skip-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.big { font-size: 14px; padding: 3px 12px; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin: 4px 0 12px; }
.tile { min-width: 130px; padding: 10px 16px; border-radius: 8px; border: 1px solid var(--line); }
.tile .n { font-size: 28px; font-weight: 700; line-height: 1.1; display: block; }
.tile.passed { background: var(--pass-bg); color: var(--pass); border-color: #aceebb; }
.tile.failed { background: var(--fail-bg); color: var(--fail); border-color: #ffcecb; }
.tile.failed.zero { background: var(--card); color: var(--muted); border-color: var(--line); }
.tile.skipped { background: var(--skip-bg); color: var(--skip); }
.totals { font-size: 15px; margin: 0 0 8px; }
.ratio { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: var(--skip-bg); margin: 0 0 14px; max-width: 640px; }
.ratio .passed { background: var(--pass); } .ratio .failed { background: var(--fail); } .ratio .skipped { background: #afb8c1; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 10px 4px 0; vertical-align: top; border-bottom: 1px solid #eaeef2; }
th { font-size: 12px; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.suites, table.windows { width: auto; min-width: 560px; }
table.suites td.num, table.suites th.num, table.windows td.num, table.windows th.num { padding-left: 28px; }
td.zero { color: #afb8c1; }
tr.failed td { background: #fff8f7; }
tr.over td.over:not(.zero), tr.failed td.over:not(.zero) { color: var(--fail); font-weight: 600; }
td.reason { color: var(--fail); }
tr.skipped td.reason { color: var(--muted); }
td.case-name, td.spec { white-space: nowrap; }
table.steps { width: auto; min-width: 70%; }
.where { color: var(--muted); white-space: nowrap; }
.failures { margin: 0; padding-left: 18px; }
.failures li { margin: 3px 0; }
details.case { border: 1px solid var(--line); border-radius: 6px; margin: 4px 0; background: var(--card); }
details.case > summary { cursor: pointer; padding: 4px 10px; list-style-position: inside; }
details.case > summary .title { color: var(--muted); margin-left: 6px; }
details.case > summary .dur { float: right; color: var(--faint); font-variant-numeric: tabular-nums; }
details.case.failed { border-color: #ffcecb; }
details.case.failed > summary { background: var(--fail-bg); }
details.case[open] > summary { border-bottom: 1px solid var(--line); }
.case-body { padding: 8px 14px 14px; }
.box { border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.box.fail { background: var(--fail-bg); border-left: 4px solid var(--fail); }
.box.warn { background: var(--warn-bg); border-left: 4px solid var(--urc); }
.box ul { margin: 4px 0 0; padding-left: 18px; }
.lat { display: inline-block; width: 90px; height: 7px; background: #eaeef2; border-radius: 4px; vertical-align: middle; margin-left: 8px; overflow: hidden; }
.lat i { display: block; height: 100%; background: var(--pass); min-width: 2px; }
.lat.over i { background: var(--fail); }
pre.diff { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 0; overflow-x: auto; margin: 6px 0; }
pre.diff span { display: block; padding: 0 12px; white-space: pre; }
pre.diff .del { background: #ffebe9; color: #82071e; }
pre.diff .add { background: #dafbe1; color: #055d20; }
pre.diff .gap { color: var(--faint); }
table.transcript { font-family: var(--mono); font-size: 12.5px; border: 1px solid var(--line); border-radius: 6px; }
table.transcript td { border-bottom: 1px solid #f0f2f4; padding: 2px 8px; }
table.transcript td.t { color: var(--faint); text-align: right; white-space: nowrap; width: 1%; }
table.transcript td.d { white-space: nowrap; width: 1%; }
table.transcript td.c { color: var(--faint); white-space: nowrap; width: 1%; }
table.transcript td.x { white-space: pre-wrap; overflow-wrap: anywhere; }
b.dir { display: inline-block; font-weight: 600; font-size: 11.5px; padding: 0 6px; border-radius: 4px; font-family: var(--mono); }
tr.te-ue td { background: var(--te-bg); } tr.te-ue td.x, .te-ue b.dir { color: var(--te); } .te-ue b.dir { background: #b6e3ff; }
tr.te-ue td.t { border-left: 4px solid var(--te); }
tr.ue-te td.t { border-left: 4px solid #8c959f; } .ue-te b.dir { background: #eaeef2; color: var(--fg); }
tr.ue-te.echo td.x { color: var(--faint); }
tr.ue-te.final td.x { font-weight: 600; }
tr.urc td { background: var(--urc-bg); } tr.urc td.x { color: #7d4e00; font-weight: 600; } tr.urc td.t { border-left-color: var(--urc); }
.urc b.dir { background: #ffe58f; color: #7d4e00; }
tr.pf-ue td { background: var(--pf-bg); } tr.pf-ue td.x, .pf-ue b.dir { color: #6639ba; } tr.pf-ue td.t { border-left: 4px solid var(--pf); }
.pf-ue b.dir { background: #e6d9ff; }
tr.ue-pf td { background: var(--up-bg); } tr.ue-pf td.x, .ue-pf b.dir { color: #99286e; } tr.ue-pf td.t { border-left: 4px solid var(--up); }
.ue-pf b.dir { background: #ffd8eb; }
tr.step td { background: #f6f8fa; font-family: system-ui, sans-serif; font-weight: 600; font-size: 12.5px; padding-top: 6px; border-top: 1px solid var(--line); }
tr.note td.x { font-style: italic; color: var(--muted); }
tr.note.failed td.x { color: var(--fail); font-weight: 600; }
.ctl { color: #afb8c1; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; font-size: 12.5px; margin: 0 0 10px; padding: 8px 12px; background: var(--bg); border-radius: 6px; }
.legend-title { font-weight: 600; }
.legend > span { white-space: nowrap; }
.legend .ctl { font-family: var(--mono); }
.legend .urc b.dir { background: #ffe58f; }
.legend .echo { color: var(--faint); }
.tools { margin: 0 0 8px; }
.tools button { font: inherit; font-size: 12.5px; margin-right: 6px; padding: 2px 10px; border: 1px solid var(--line); background: var(--card); border-radius: 6px; cursor: pointer; }
.charts { display: flex; flex-direction: column; gap: 18px; }
figure.chart-box { margin: 0; }
figure.chart-box figcaption { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
svg.chart { width: 100%; max-width: 1200px; height: auto; display: block; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.chart text.cmd { font-family: var(--mono); font-size: 12px; }
svg.chart text.tick, svg.chart text.legend { fill: var(--muted); }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .bar-p95 { fill: #9fd8ab; } svg.chart .bar-median { fill: var(--pass); }
svg.chart .late .bar-p95 { fill: #ffb3ad; } svg.chart .late .bar-median { fill: var(--fail); }
svg.chart .max { fill: #fff; stroke: var(--fg); stroke-width: 1.5; }
svg.chart .max-key { fill: #fff; stroke: var(--fg); stroke-width: 1.5; }
svg.chart .window { stroke: var(--fail); stroke-width: 2.5; }
svg.chart .window-key { fill: var(--fail); }
svg.chart .dot { fill: var(--te); fill-opacity: .45; }
svg.chart .dot.late, svg.chart .late-key { fill: var(--fail); fill-opacity: .85; }
svg.chart .dot-key { fill: var(--te); fill-opacity: .45; }
svg.chart .median { stroke: var(--fg); stroke-width: 2; }
svg.chart .median-key { fill: var(--fg); }
svg.chart .row:hover text.cmd { font-weight: 700; }
footer { color: var(--faint); font-size: 12px; text-align: center; margin-top: 24px; }
@media print { details.case { break-inside: avoid; } .tools { display: none; } }
"#;
