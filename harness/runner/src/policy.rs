//! How a run treats trouble: retries (`[retries]`, `--retries`), when a rig is given up on
//! (`[health]`), and when the whole run stops (`--max-fail`). Rack and rig files may both set
//! them; the command line wins, then the rig, then the rack, then the defaults here.

use serde::Deserialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Which failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryOn {
    /// Any failure or infrastructure error.
    #[default]
    Any,
    /// Only infrastructure errors (port gone, connect refused, no answer to the sync): a firmware
    /// failure is reported at once, never hidden by a retry.
    Infrastructure,
}

impl std::str::FromStr for RetryOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "any" => Ok(RetryOn::Any),
            "infrastructure" | "infra" => Ok(RetryOn::Infrastructure),
            other => Err(format!("{other:?}: retry on `any` or `infrastructure`")),
        }
    }
}

/// `[retries]` in a rig or rack file: every key optional, so a rig can override one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetriesTable {
    /// Attempts after the first.
    pub count: Option<u32>,
    /// Wait before the first retry.
    #[serde(default, with = "humantime_serde")]
    pub delay: Option<Duration>,
    /// Each further retry waits this many times longer.
    pub backoff: Option<f64>,
    /// `any` (default) or `infrastructure`.
    pub on: Option<RetryOn>,
}

/// `[health]` in a rig or rack file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthTable {
    /// Consecutive infrastructure errors after which the rig is given up on (default 3).
    pub max_errors: Option<u32>,
}

/// The retries a case gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retries {
    pub count: u32,
    pub delay: Duration,
    pub backoff: f64,
    pub on: RetryOn,
}

impl Default for Retries {
    fn default() -> Self {
        Retries { count: 0, delay: Duration::ZERO, backoff: 1.0, on: RetryOn::Any }
    }
}

impl Retries {
    /// These retries with every key `table` sets taken from it.
    pub fn overlay(self, table: &RetriesTable) -> Retries {
        Retries {
            count: table.count.unwrap_or(self.count),
            delay: table.delay.unwrap_or(self.delay),
            backoff: table.backoff.unwrap_or(self.backoff),
            on: table.on.unwrap_or(self.on),
        }
    }

    /// The wait before attempt `next` (2 for the first retry): `delay × backoff^(next − 2)`, at
    /// most ten minutes whatever a file says.
    pub fn delay_before(&self, next: usize) -> Duration {
        let factor = self.backoff.max(0.0).powi(next.saturating_sub(2).min(64) as i32);
        let secs = (self.delay.as_secs_f64() * factor).min(600.0);
        Duration::from_secs_f64(if secs.is_finite() { secs } else { 600.0 })
    }

    /// Whether an attempt that came to this is tried again.
    pub fn retries(&self, verdict: miplcheck_record::Verdict) -> bool {
        use miplcheck_record::Verdict;
        matches!((verdict, self.on), (Verdict::Error, _) | (Verdict::Failed, RetryOn::Any))
    }
}

/// How a rig's run treats trouble.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub retries: Retries,
    /// Consecutive infrastructure errors after which the rig is marked unhealthy.
    pub max_errors: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { retries: Retries::default(), max_errors: 3 }
    }
}

impl Policy {
    /// This policy with what a rig or rack file sets.
    pub fn overlay(self, retries: &RetriesTable, health: &HealthTable) -> Policy {
        Policy {
            retries: self.retries.overlay(retries),
            max_errors: health.max_errors.unwrap_or(self.max_errors).max(1),
        }
    }
}

/// `--max-fail N`, shared by every rig of a run: once N cases have failed or errored (not
/// counting quarantined ones), no rig starts another case.
#[derive(Debug, Default)]
pub struct MaxFail {
    limit: Option<usize>,
    seen: AtomicUsize,
}

impl MaxFail {
    pub fn new(limit: Option<usize>) -> Self {
        MaxFail { limit, seen: AtomicUsize::new(0) }
    }

    /// Counts a case that fails the run.
    pub fn count(&self) {
        self.seen.fetch_add(1, Ordering::SeqCst);
    }

    /// Why no further case starts, if none does.
    pub fn reached(&self) -> Option<String> {
        let limit = self.limit?;
        let seen = self.seen.load(Ordering::SeqCst);
        (seen >= limit).then(|| format!("stopped after {seen} failing case(s) (--max-fail {limit})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(2, 1000)]
    #[case(3, 2000)]
    #[case(4, 4000)]
    fn backoff_doubles_from_the_delay(#[case] next: usize, #[case] ms: u64) {
        let r = Retries { count: 3, delay: Duration::from_secs(1), backoff: 2.0, on: RetryOn::Any };
        assert_eq!(r.delay_before(next), Duration::from_millis(ms));
    }

    #[test]
    fn a_huge_backoff_is_capped() {
        let r = Retries { count: 50, delay: Duration::from_secs(1), backoff: 1e300, on: RetryOn::Any };
        assert_eq!(r.delay_before(40), Duration::from_secs(600));
    }

    #[rstest]
    #[case(RetryOn::Any, miplcheck_record::Verdict::Failed, true)]
    #[case(RetryOn::Infrastructure, miplcheck_record::Verdict::Failed, false)]
    #[case(RetryOn::Infrastructure, miplcheck_record::Verdict::Error, true)]
    #[case(RetryOn::Any, miplcheck_record::Verdict::Passed, false)]
    fn what_is_retried(#[case] on: RetryOn, #[case] v: miplcheck_record::Verdict, #[case] want: bool) {
        assert_eq!(Retries { on, ..Retries::default() }.retries(v), want);
    }

    #[test]
    fn the_file_overrides_only_what_it_sets() {
        let p = Policy::default()
            .overlay(&RetriesTable { count: Some(2), ..Default::default() }, &HealthTable { max_errors: Some(5) });
        assert_eq!((p.retries.count, p.retries.on, p.max_errors), (2, RetryOn::Any, 5));
    }

    #[test]
    fn max_fail_stops_at_its_limit() {
        let m = MaxFail::new(Some(2));
        m.count();
        assert_eq!(m.reached(), None);
        m.count();
        assert!(m.reached().unwrap().contains("--max-fail 2"));
        assert_eq!(MaxFail::new(None).reached(), None);
    }
}
