//! Headless Chromium rendering a page from `file://`, for tests that check what a browser makes of
//! the report (this crate's renderer drift guard, the CLI's report test). Not for production use:
//! it starts the binary found on the machine with a fresh profile.
//!
//! The flags are the ones this machine's Chromium needs to render a local page as root and
//! offline: no sandbox, no GPU, and none of its background traffic (which the closed network
//! refuses, many connections at a time). `--virtual-time-budget` lets the page's scripts and the
//! side files they add run before the DOM is dumped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` where Chromium must be there (CI): a missing one fails the test instead of skipping.
pub const REQUIRE_ENV: &str = "MIPLCHECK_REQUIRE_CHROMIUM";

/// How long one render may take: Chromium starts slowly on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(120);

/// The Chromium binary: Debian calls it `chromium`, Ubuntu's and older packages
/// `chromium-browser`. `None` when there is none, unless [`REQUIRE_ENV`] is `1`, which panics
/// with what to install; the caller says it skipped.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .chain([PathBuf::from("/usr/bin/chromium")])
        .find(|p| p.is_file());
    if found.is_none() && std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_ENV}=1 but no Chromium was found: apt-get install chromium");
    }
    found
}

/// The DOM `browser` built from `page` (opened at `#fragment` when it is not empty) after its
/// scripts ran; `scratch` holds the profile, the dump and Chromium's stderr.
pub fn rendered_dom(browser: &Path, page: &Path, fragment: &str, scratch: &Path) -> String {
    let dom = scratch.join("dom.html");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", scratch.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        // To a file, not a pipe: the DOM is larger than a pipe holds while we wait.
        .stdout(std::fs::File::create(&dom).expect("a scratch file for the DOM"))
        .stderr(std::fs::File::create(scratch.join("stderr.txt")).expect("a scratch file for stderr"))
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for Chromium") {
            let stderr = std::fs::read_to_string(scratch.join("stderr.txt")).unwrap_or_default();
            assert!(status.success(), "{} exited with {status}:\n{stderr}", browser.display());
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not finish rendering within {} s", browser.display(), DEADLINE.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(dom).expect("Chromium's DOM dump")
}
