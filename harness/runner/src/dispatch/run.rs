//! One rig through its cases: the health check before the first case and after every
//! infrastructure error, the rig given up on after too many (its remaining cases "not run"),
//! retries with their delay, quarantine, `--max-fail`, and a signal's stop.

use super::Plan;
use crate::engine::Context;
use crate::handoff;
use crate::outcome::{CaseResult, Summary};
use crate::privacy::Privacy;
use crate::report::{Event, Fanout};
use crate::suite::{Case, Suite};
use crate::target::Target;
use miplcheck_record::{FailedAt, Firmware, FlashOutcome, Health, HealthCheck, HealthState, RigInfo, Verdict};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the rig's run knows of its health as it goes.
struct Watch {
    health: Health,
    /// Infrastructure errors in a row, reset by a case that ran.
    in_a_row: u32,
}

impl Watch {
    fn unhealthy(&self) -> Option<&str> {
        (self.health.state == HealthState::Unhealthy).then(|| self.health.reason.as_deref().unwrap_or("unhealthy"))
    }

    fn give_up(&mut self, why: String) {
        tracing::warn!("{}", miplcheck_record::printable(&why));
        self.health.state = HealthState::Unhealthy;
        self.health.reason = Some(why);
    }
}

impl Plan {
    /// Runs every selected case against the rig's target, opened (and re-opened) as needed.
    /// A labgrid rig's place is leased first and released after the last case, whatever
    /// happened (a place that cannot be leased makes the rig unhealthy before its first case).
    ///
    /// A rig none of whose cases runs (a shard of skips, or of nothing) is not touched at all: no
    /// lease, no port opened, no health check.
    pub fn execute(&self, events: &mut Fanout) -> Summary {
        use crate::target::place::{leased_rig, Leased, Unopened};
        if !self.runs_any() {
            let what = format!("{} (not opened: no case to run)", crate::target::unopened(&self.rig));
            return self.execute_on(&mut Unopened::new(what, "no case to run".into()), events);
        }
        let crate::rig::Target::Labgrid { place, .. } = &self.rig.target else {
            let mut target = crate::target::Reopening::new(self.rig.clone());
            return self.execute_on(&mut target, events);
        };
        let what = format!("labgrid place {}", place.place);
        events.emit(&Event::Doing("leasing the labgrid place"));
        let lease = match crate::labgrid::Lease::acquire(place) {
            Ok(lease) => lease,
            Err(e) => {
                let what = format!("{what} on {} (not leased)", place.coordinator);
                let mut target = Unopened::new(what, format!("lease: {e}"));
                return self.execute_on(&mut target, events);
            }
        };
        let plan = Plan { rig: leased_rig(&self.rig, &lease), ..self.clone() };
        let mut target = Leased { inner: crate::target::Reopening::new(plan.rig.clone()), what };
        let summary = plan.execute_on(&mut target, events);
        // The link goes before the place: the exporter stops its ser2net on release.
        drop(target);
        // The run's reports are written by now; a place left held is said on stderr.
        if let Err(e) = lease.release() {
            tracing::error!("{e}");
        }
        summary
    }

    /// Whether any selected case runs on this rig rather than being skipped.
    fn runs_any(&self) -> bool {
        self.selected().any(|(suite, case)| self.skip_reason(suite, case).is_none())
    }

    /// Runs every selected case against `target`, in order, feeding `events`.
    pub fn execute_on(&self, target: &mut dyn Target, events: &mut Fanout) -> Summary {
        let started = Instant::now();
        let total = self.selected().count();
        let mut watch = Watch { health: Health::default(), in_a_row: 0 };
        let runs_any = self.runs_any();
        if runs_any {
            events.emit(&Event::Doing("health check"));
            self.check(target, "before the first case", &mut watch, &Privacy::new(&self.rig.secrets));
        }
        // `--firmware`: flashed and checked before anything else talks to the modem.
        let flash = match (&self.firmware, runs_any) {
            (Some(file), true) => Some(match watch.unhealthy() {
                None => {
                    events.emit(&Event::Doing("flashing the firmware"));
                    // Who the modem is first, so the flash's evidence masks it as every report does.
                    let (_, privacy) = self.identify(target);
                    self.flash(target, file, &privacy)
                }
                Some(why) => self.not_flashed(file, why),
            }),
            _ => None,
        };
        let mut wrong_firmware = None;
        match &flash {
            Some(f) if f.outcome == FlashOutcome::Failed && watch.unhealthy().is_none() => {
                watch.give_up(f.reason.clone().unwrap_or_else(|| "flash failed".into()));
            }
            Some(f) if f.outcome == FlashOutcome::WrongFirmware => {
                wrong_firmware = f.reason.clone();
            }
            _ => {}
        }
        let (mut firmware, privacy) = match watch.unhealthy() {
            None if !runs_any => {
                let revision = "unknown: no case ran on this rig".to_string();
                (Firmware { revision, imei: None, note: None, flash: None }, Privacy::new(&self.rig.secrets))
            }
            None => self.identify(target),
            Some(why) => {
                let privacy = Privacy::new(&self.rig.secrets);
                let revision = format!("unknown: the rig is unhealthy ({})", privacy.text(why));
                (Firmware { revision, imei: None, note: None, flash: None }, privacy)
            }
        };
        firmware.flash = flash;
        let info = RigInfo {
            name: self.rig.name.clone(),
            dialect: self.rig.dialect.name.to_string(),
            target: privacy.text(&target.describe()),
            capabilities: self.rig.capabilities.clone(),
            window_scale: self.rig.timing.window_scale,
            secrets: self.rig.secrets.keys().cloned().collect(),
        };
        events.emit(&Event::RunStarted {
            rig: &info,
            firmware: &firmware,
            cases: total,
            suites: self.suites_origin.as_ref(),
            partition: self.shard.as_ref().map(|s| &s.record),
        });
        let mut summary = Summary::default();
        let (mut done, mut cut_short) = (0, false);
        let mut stopped_at_max = None;
        for (suite, case) in self.selected() {
            if crate::interrupt::requested().is_some() {
                break;
            }
            // A case this rig skips anyway is a skip, whatever the rig's health.
            let runs = self.skip_reason(suite, case).is_none();
            let not_run = match (watch.unhealthy(), self.max_fail.reached()) {
                _ if runs && wrong_firmware.is_some() => {
                    Some(format!("not run: {}", wrong_firmware.as_deref().unwrap_or_default()))
                }
                (Some(why), _) if runs => Some(format!("not run: rig unhealthy ({why})")),
                (None, Some(why)) if runs => {
                    stopped_at_max.get_or_insert(why.clone());
                    Some(format!("not run: {why}"))
                }
                _ => None,
            };
            let result = match not_run {
                Some(why) => CaseResult {
                    record: handoff::unrun(
                        suite,
                        case,
                        Verdict::Error,
                        Some(FailedAt::NotRun),
                        privacy.text(&why),
                        Duration::ZERO,
                    ),
                    capture: None,
                },
                None => {
                    events.emit(&Event::CaseStarted { suite: &suite.name, case: &case.id });
                    let mut r = self.attempts(target, suite, case, &privacy, &mut watch, events);
                    let full = r.record.full_name();
                    let ran = matches!(r.record.verdict, Verdict::Passed | Verdict::Failed | Verdict::Error);
                    if let Some(q) = self
                        .quarantine
                        .lookup(&full, &self.rig.name, self.rig.dialect.name, &firmware.revision)
                        .filter(|_| ran)
                    {
                        r.record.quarantine = Some(privacy.text(&q.reason));
                    }
                    if r.record.counts_against() {
                        self.max_fail.count();
                    }
                    r
                }
            };
            summary.add(&result.record);
            done += 1;
            cut_short |= result.record.failed_at == Some(FailedAt::Interrupted);
            events.emit(&Event::CaseFinished(&result));
        }
        // A signal that came after the last step of the last case stopped nothing.
        let stopped = if done < total || cut_short { crate::interrupt::requested() } else { None };
        if let Some(signal) = stopped {
            summary.interrupted = Some(signal);
            summary.incomplete = Some(format!("interrupted by {} after {done} of {total} cases", signal.name()));
        } else if let Some(why) = stopped_at_max {
            summary.incomplete = Some(why);
        }
        summary.health = Some(watch.health);
        summary.flash = firmware.flash.clone();
        summary.duration = started.elapsed();
        events.emit(&Event::RunFinished(&summary));
        summary
    }

    /// A case's attempts: the first, then a retry for each failure the policy retries, each
    /// after its delay; an infrastructure error is followed by a health check, and the rig
    /// given up on stops the attempts. The last attempt is the record, the earlier ones in it.
    fn attempts(
        &self,
        target: &mut dyn Target,
        suite: &Suite,
        case: &Case,
        privacy: &Privacy,
        watch: &mut Watch,
        events: &mut Fanout,
    ) -> CaseResult {
        let retries = self.policy.retries;
        let of = retries.count as usize + 1;
        let mut earlier = Vec::new();
        loop {
            let mut result = self.run_one_with(target, suite, case, privacy);
            let r = &result.record;
            match r.verdict {
                Verdict::Error => {
                    watch.in_a_row += 1;
                    let why = r.reason.clone().unwrap_or_default();
                    if watch.in_a_row >= self.policy.max_errors {
                        watch.give_up(format!(
                            "{} infrastructure error(s) in a row (at most {}); the last: {why}",
                            watch.in_a_row, self.policy.max_errors
                        ));
                    } else {
                        events.emit(&Event::Doing("health check"));
                        self.check(target, &format!("after {} (infrastructure error)", r.full_name()), watch, privacy);
                    }
                }
                Verdict::Passed | Verdict::Failed => watch.in_a_row = 0,
                Verdict::Skipped => {}
            }
            let next = earlier.len() + 2;
            let again = next <= of
                && retries.retries(r.verdict)
                && r.failed_at != Some(FailedAt::Interrupted)
                && watch.unhealthy().is_none()
                && crate::interrupt::requested().is_none();
            if !again {
                result.record.attempts = earlier;
                return result;
            }
            let delay = retries.delay_before(next);
            events.emit(&Event::CaseRetrying { record: &result.record, next, of, delay });
            let waiting = format!("{}: attempt {next} of {of} in {delay:?}", r.full_name());
            events.emit(&Event::Doing(&waiting));
            pause(delay);
            earlier.push(result.record);
        }
    }

    /// One health check, recorded; a failed one gives the rig up.
    fn check(&self, target: &mut dyn Target, when: &str, watch: &mut Watch, privacy: &Privacy) {
        let began = Instant::now();
        let report = target.health_check();
        let rungs: Vec<String> = report.rungs.iter().map(|r| privacy.text(r)).collect();
        watch.health.checks.push(HealthCheck {
            when: when.to_string(),
            ok: report.ok,
            rungs: rungs.clone(),
            duration_ms: miplcheck_record::millis(began.elapsed()),
        });
        if report.ok {
            watch.health.state = HealthState::Good;
            watch.health.reason = None;
        } else {
            watch.give_up(format!("health check {when} failed: {}", rungs.join("; then ")));
        }
    }

    /// What the modem says it is, before the first case: `AT+CGMR`, `AT+CGSN=1`, `AT+CIMI`
    /// (3GPP TS 27.007 §5.3, §5.4, §5.6), and from that what the run may show of it: the
    /// rig's secrets and, unless its `[privacy]` keeps them, the IMEI and IMSI masked.
    pub(crate) fn identify(&self, target: &mut dyn Target) -> (Firmware, Privacy) {
        let secrets_only = Privacy::new(&self.rig.secrets);
        if let Err(e) = target.prepare() {
            return (
                Firmware {
                    revision: format!("unknown: {}", secrets_only.text(&e.to_string())),
                    imei: None,
                    note: None,
                    flash: None,
                },
                secrets_only,
            );
        }
        let port = target.port();
        let revision = match self.ask(port, "AT+CGMR") {
            Ok(lines) => lines.join(" / "),
            Err(e) => format!("unknown: {e}"),
        };
        let (imei, imsi, notes) = self.ask_identities(port);
        let privacy = secrets_only.with_identities(imei.as_deref(), imsi.as_deref(), self.rig.privacy.identity);
        let imei = imei.map(|i| privacy.text(&i));
        let note = (!notes.is_empty()).then(|| privacy.text(&notes.join("; ")));
        if let Some(n) = &note {
            tracing::warn!("{}", miplcheck_record::printable(n));
        }
        (Firmware { revision: privacy.text(&revision), imei, note, flash: None }, privacy)
    }
}

impl Plan {
    /// The IMEI and IMSI the modem reports (`AT+CGSN=1`, `AT+CIMI`), unmasked, and a note for each
    /// it did not: for the run's privacy rules and for the recorder, which must not write them.
    pub(crate) fn ask_identities(
        &self,
        port: &mut dyn miplcheck_transport::Port,
    ) -> (Option<String>, Option<String>, Vec<String>) {
        let digits = |lines: Vec<String>| {
            lines.iter().find_map(|l| {
                let d: String = l.chars().filter(char::is_ascii_digit).collect();
                (d.len() >= 6).then_some(d)
            })
        };
        // A probe that fails is said in the record, not left as a silent null.
        let mut notes = Vec::new();
        let mut probe = |command: &str, what: &str| match self.ask(port, command) {
            Ok(lines) => {
                let found = digits(lines);
                if found.is_none() {
                    notes.push(format!("{what} unknown: `{command}` gave no number"));
                }
                found
            }
            Err(e) => {
                notes.push(format!("{what} unknown: {e}"));
                None
            }
        };
        let imei = probe("AT+CGSN=1", "IMEI");
        let imsi = probe("AT+CIMI", "IMSI");
        (imei, imsi, notes)
    }

    /// A command's information lines, asked outside any case (no secrets, no platform).
    pub(super) fn ask(
        &self,
        port: &mut dyn miplcheck_transport::Port,
        command: &str,
    ) -> Result<Vec<String>, crate::engine::AskError> {
        let secrets = BTreeMap::new();
        let tolerate = crate::rig::Tolerate::default();
        let ctx = Context {
            dialect: self.rig.dialect,
            timing: &self.rig.timing,
            line_ending: &self.rig.line_ending,
            secrets: &secrets,
            platform: None,
            onenet: None,
            tolerate: &tolerate,
            progress: None,
        };
        crate::engine::ask(port, &ctx, command)
    }
}

/// Waits out a retry's delay, in short slices so a signal is not kept waiting.
fn pause(delay: Duration) {
    let end = Instant::now() + delay;
    while crate::interrupt::requested().is_none() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}
