//! The HTML report as a browser shows it: a run writes `report.html` (the passing cases'
//! transcripts in side files beside it), `miplcheck report` writes it again from `run.json`, and
//! headless Chromium renders it from `file://` with the summary and the latency chart, and with a
//! passing case's transcript loaded from its side file (as data) and rendered by the page's script
//! once that case is opened.
//!
//! Without a Chromium binary the browser check is skipped (and says so), unless
//! `MIPLCHECK_REQUIRE_CHROMIUM=1` makes it mandatory, as CI does.

mod common;
use common::miplcheck;

use miplcheck_html::chromium_fixture::{self, rendered_dom};

#[test]
fn the_html_report_renders_in_a_browser() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--suite", "config", "--out", dir]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let page = out.path().join("report.html");
    let html = std::fs::read_to_string(&page).expect("the run writes report.html");
    assert!(html.contains("36 passed, 0 failed, 0 skipped"), "the summary is in the file");
    let side = out.path().join("transcripts/report-0001.js");
    let js = std::fs::read_to_string(&side).expect("the passing transcripts are in a side file");
    for text in [html.as_str(), js.as_str()] {
        assert!(!text.contains("FhyvhmgIRQrde4In") && !text.contains("Quectel123"), "secrets are redacted");
        assert!(!text.contains("866971030000001"), "the IMEI is masked");
    }
    assert!(!html.contains("AT+MIPLVER?<span"), "a passing case's rows are not in the page");
    // The side file holds the rows as data (the text as recorded, a JavaScript string), not markup:
    // the page's script renders them when the case is opened.
    assert!(js.contains(r"'AT+MIPLVER?\\r"), "but in its side file, as text");
    assert!(!js.contains("<span") && !js.contains("<tr"), "and not as markup");

    // The same page again from run.json alone, as for an old run; a side file an earlier page
    // left goes, the ones this page names are written again.
    std::fs::remove_file(&page).unwrap();
    std::fs::remove_file(&side).unwrap();
    let stale = out.path().join("transcripts/report-0099.js");
    std::fs::write(&stale, "miplcheckSide({});").unwrap();
    let o = miplcheck(&["report", dir]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let again = std::fs::read_to_string(&page).expect("`miplcheck report` writes report.html");
    assert!(again.contains("36 passed, 0 failed, 0 skipped") && again.contains("chart-latency"));
    assert_eq!(again, html, "the same page from run.json");
    assert_eq!(std::fs::read_to_string(&side).expect("and its side file"), js);
    assert!(!stale.exists(), "a side file no page names is removed");

    let Some(browser) = chromium_fixture::find() else {
        eprintln!("skipped: no chromium or chromium-browser on PATH (apt-get install chromium to render the report)");
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let dom = rendered_dom(&browser, &page, "", scratch.path());
    assert!(
        dom.contains("36 passed, 0 failed, 0 skipped"),
        "the summary is rendered:\n{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains(r#"id="summary""#));
    assert!(dom.contains(r#"data-case="case-config-sdk-version""#), "closed, a passing case shows its placeholder");
    assert!(!dom.contains("AT+MIPLVER?<span"), "and not its rows");
    let chart = dom.find(r#"<svg class="chart chart-latency""#).expect("the latency chart is an <svg> in the page");
    assert!(dom[chart..].contains("<title>Latency per AT command"), "the chart has its title");
    assert!(dom.contains("chart-distribution"));
    // Only a browser adds these: the page's script ran, so this DOM is Chromium's, not the file.
    assert!(dom.contains(">Expand all</button>"), "the page's script ran");

    // A link to a passing case (as the rack page's are) opens it, and its transcript comes from
    // the side file, from file:// with no server.
    let scratch = tempfile::tempdir().unwrap();
    let dom = rendered_dom(&browser, &page, "#case-config-sdk-version", scratch.path());
    let at = dom.find(r#"id="case-config-sdk-version""#).expect("the case is in the page");
    let case = &dom[at..dom[at..].find("</details>").map_or(dom.len(), |e| at + e)];
    assert!(case.contains(r#"<table class="transcript">"#), "the opened case has its transcript:\n{case}");
    assert!(case.contains(r#"<tr class="te-ue">"#), "transcript rows keep their direction:\n{case}");
    assert!(case.contains("AT+MIPLVER?<span"), "a transcript line is rendered:\n{case}");
    assert!(!case.contains(r#"class="side""#), "the placeholder is replaced:\n{case}");
}
