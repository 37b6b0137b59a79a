//! The response-window table's numbers: for each AT command a run sent, how fast the modem
//! answered (median, p95, max) against the window it had, and how often it was late or silent.
//! Pure data, so the charts and the table agree and the statistics are tested on known lists.

pub use miplcheck_record::stats::{median, percentile};
use miplcheck_record::RunRecord;
use std::collections::BTreeMap;

/// One AT command's answers across the run.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandStats {
    /// `+MIPLOPEN`, or `AT` for the bare attention command.
    pub command: String,
    /// How many send steps sent it.
    pub sent: usize,
    /// Every measured latency in ms, sorted ascending (steps without an answer are not here).
    pub latencies: Vec<f64>,
    pub median: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
    /// The smallest and largest window the steps had; they differ when a case sets its own.
    pub window: Option<(f64, f64)>,
    /// Answers later than their own step's window.
    pub late: usize,
    /// Steps that had a window but got no final result code at all.
    pub silent: usize,
}

impl CommandStats {
    pub fn exceeded(&self) -> usize {
        self.late + self.silent
    }
}

/// Per command, in name order. Only send steps count: URC and platform steps have no command.
pub fn per_command(record: &RunRecord) -> Vec<CommandStats> {
    let mut by: BTreeMap<&str, CommandStats> = BTreeMap::new();
    for step in record.cases.iter().flat_map(|c| &c.steps) {
        let Some(cmd) = step.command.as_deref() else { continue };
        let s = by.entry(cmd).or_insert_with(|| CommandStats {
            command: cmd.to_string(),
            sent: 0,
            latencies: vec![],
            median: None,
            p95: None,
            max: None,
            window: None,
            late: 0,
            silent: 0,
        });
        s.sent += 1;
        // The figure the window was judged on, so "late" here is what the run called late.
        let latency = step.judged_ms().filter(|l| l.is_finite());
        let window = step.window_ms.filter(|w| w.is_finite());
        if let Some(l) = latency {
            s.latencies.push(l);
        }
        if let Some(w) = window {
            s.window = Some(match s.window {
                Some((lo, hi)) => (lo.min(w), hi.max(w)),
                None => (w, w),
            });
            match latency {
                Some(l) if l > w => s.late += 1,
                Some(_) => {}
                None => s.silent += 1,
            }
        }
    }
    by.into_values()
        .map(|mut s| {
            s.latencies.sort_by(f64::total_cmp);
            s.median = median(&s.latencies);
            s.p95 = percentile(&s.latencies, 95.0);
            s.max = s.latencies.last().copied();
            s
        })
        .collect()
}

/// Whether any send step was judged on a response time corrected for a serial line.
pub fn any_corrected(record: &RunRecord) -> bool {
    record
        .cases
        .iter()
        .flat_map(|c| &c.steps)
        .any(|s| s.judged_on == Some(miplcheck_record::JudgedOn::Corrected) && s.serial_line.is_some())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::with_steps as record;
    use super::*;
    use miplcheck_record::StepRecord;

    fn step(command: &str, latency: Option<f64>, window: f64) -> StepRecord {
        StepRecord {
            label: "step 1".into(),
            line: 1,
            what: format!("send AT{command}"),
            command: Some(command.into()),
            latency_ms: latency,
            response_ms: None,
            serial_line: None,
            judged_on: None,
            window_ms: Some(window),
            failure: None,
        }
    }

    #[test]
    fn median_and_p95_of_a_known_list() {
        // 1..=20 ms, shuffled: median (10 + 11) / 2, p95 the 19th value.
        let mut steps: Vec<StepRecord> = [7, 3, 20, 1, 15, 9, 12, 18, 5, 2, 11, 14, 6, 19, 4, 16, 8, 13, 17, 10]
            .iter()
            .map(|&l| step("+MIPLOPEN", Some(l as f64), 15.5))
            .collect();
        steps.push(step("+MIPLOPEN", None, 15.5));
        steps.push(step("+CMEE", Some(0.2), 300.0));
        let stats = per_command(&record(steps));
        assert_eq!(stats.iter().map(|s| s.command.as_str()).collect::<Vec<_>>(), ["+CMEE", "+MIPLOPEN"]);
        let open = &stats[1];
        assert_eq!((open.sent, open.latencies.len()), (21, 20));
        assert_eq!((open.median, open.p95, open.max), (Some(10.5), Some(19.0), Some(20.0)));
        assert_eq!((open.late, open.silent, open.exceeded()), (5, 1, 6), "16..=20 are late, one is silent");
        assert_eq!(open.window, Some((15.5, 15.5)));
        assert_eq!((stats[0].median, stats[0].p95, stats[0].exceeded()), (Some(0.2), Some(0.2), 0));
    }

    #[test]
    fn odd_lists_and_empty_ones() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median(&[]), None);
        assert_eq!(percentile(&[], 95.0), None);
        assert_eq!(percentile(&[4.0], 95.0), Some(4.0));
        let stats = per_command(&record(vec![step("+MIPLCLOSE", None, 300.0)]));
        assert_eq!((stats[0].median, stats[0].max, stats[0].silent), (None, None, 1));
    }

    #[test]
    fn a_corrected_step_counts_by_the_figure_it_was_judged_on() {
        let corrected = StepRecord {
            response_ms: Some(250.0),
            serial_line: Some("9600 8N1".into()),
            judged_on: Some(miplcheck_record::JudgedOn::Corrected),
            ..step("+MIPLCONFIG", Some(383.0), 300.0)
        };
        let raw = StepRecord { judged_on: Some(miplcheck_record::JudgedOn::Raw), ..corrected.clone() };
        let stats = per_command(&record(vec![corrected.clone(), raw]));
        assert_eq!((stats[0].latencies.as_slice(), stats[0].late), ([250.0, 383.0].as_slice(), 1));
        assert!(any_corrected(&record(vec![corrected])));
        assert!(!any_corrected(&record(vec![step("+MIPLCONFIG", Some(383.0), 300.0)])));
    }

    #[test]
    fn differing_windows_are_kept_as_a_range() {
        let stats = per_command(&record(vec![step("+X", Some(1.0), 300.0), step("+X", Some(1.0), 3000.0)]));
        assert_eq!(stats[0].window, Some((300.0, 3000.0)));
    }
}
