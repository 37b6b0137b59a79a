//! One attempt of one case: prepare the target, start a fresh platform, run the steps, judge the
//! outcome (steps first, then the golden snapshot with the rig's tolerance) and hand it over as a
//! record. A failure of the bench (the target could not be prepared, the platform could not
//! start, the link closed mid-case) is an infrastructure error, never a firmware failure.

use super::{shown, Plan};
use crate::engine::{run_case, CaseRun, Context};
use crate::golden::{self, Snapshot};
use crate::handoff::{self, Judged};
use crate::onenet_api::Client as OnenetClient;
use crate::outcome::CaseResult;
use crate::privacy::Privacy;
use crate::suite::{Case, Suite};
use crate::target::Target;
use crate::transcript::Redactor;
use miplcheck_platform::Control;
use miplcheck_record::{FailedAt, Verdict};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// How long one OneNET API call may take: past the API's own longest time-out (40 s).
const ONENET_CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Plan {
    /// One case with the rig's secrets redacted and the identities the rig itself declares (an
    /// emulator's) masked; [`Plan::execute_on`] asks the modem for them before the first case
    /// instead. See [`Plan::run_one_with`].
    pub fn run_one(&self, target: &mut dyn Target, suite: &Suite, case: &Case) -> CaseResult {
        let (imei, imsi) = self.rig.declared_identities();
        let privacy = Privacy::new(&self.rig.secrets).with_identities(
            imei.as_deref(),
            imsi.as_deref(),
            self.rig.privacy.identity,
        );
        self.run_one_with(target, suite, case, &privacy)
    }

    /// One case: prepare the target, run the steps, compare the snapshot, hand the outcome over
    /// as a record through `privacy`.
    pub fn run_one_with(&self, target: &mut dyn Target, suite: &Suite, case: &Case, privacy: &Privacy) -> CaseResult {
        self.attempt(target, suite, case, privacy, true)
    }

    /// One case judged on its steps alone, no snapshot compared: the flash strategy's FOTA
    /// exchange, which has no golden file.
    pub(super) fn run_unsnapshotted(
        &self,
        target: &mut dyn Target,
        suite: &Suite,
        case: &Case,
        privacy: &Privacy,
    ) -> CaseResult {
        self.attempt(target, suite, case, privacy, false)
    }

    fn attempt(
        &self,
        target: &mut dyn Target,
        suite: &Suite,
        case: &Case,
        privacy: &Privacy,
        golden: bool,
    ) -> CaseResult {
        let began = Instant::now();
        let unrun = |verdict, at, why: String| CaseResult {
            record: handoff::unrun(suite, case, verdict, at, privacy.text(&why), began.elapsed()),
            capture: None,
        };
        if let Some(why) = self.skip_reason(suite, case) {
            return CaseResult {
                record: handoff::unrun(suite, case, Verdict::Skipped, None, privacy.text(&why), Default::default()),
                capture: None,
            };
        }
        target.case_events(&case.emulator_events);
        if let Err(why) = target.prepare() {
            let mut failed = unrun(Verdict::Error, Some(FailedAt::Prepare), why.to_string());
            // What the sync sent and heard, so the failure can be read in the transcript.
            failed.record.transcript = target.preparation().lines(privacy);
            return failed;
        }
        let prepared = began.elapsed();
        // A fresh platform for every case, so no registration or observation carries over and
        // message IDs do not depend on which cases ran before.
        // A UDP platform is shared with the HTTP API's server thread when the rig serves it.
        let mut udp: Option<Arc<miplcheck_platform::udp::Handle>> = None;
        let boxed: Option<Box<dyn Control>> = match (&self.rig.platform, self.rig.platform_options()) {
            (Some(p), Some(opts)) => {
                // On the target's own clock where it has one (the emulator in virtual time), else
                // on UDP with its records on the port's epoch.
                match target.start_platform(p, opts.clone()) {
                    Some(pf) => Some(pf),
                    None => {
                        let epoch = target.port().epoch().unwrap_or_else(Instant::now);
                        match miplcheck_platform::udp::spawn(p.listen, opts, epoch) {
                            Ok(h) => {
                                udp = Some(Arc::new(h));
                                None
                            }
                            Err(e) => {
                                return unrun(
                                    Verdict::Error,
                                    Some(FailedAt::Prepare),
                                    format!("cannot start the mock platform on {}: {e}", p.listen),
                                )
                            }
                        }
                    }
                }
            }
            _ => None,
        };
        let platform: Option<&dyn Control> = boxed.as_deref().or(udp.as_deref().map(|h| h as &dyn Control));
        // OneNET's HTTP API on a free port of the platform's address, stopped when the case ends.
        let http = match (&udp, &self.rig.platform, self.rig.serves_http()) {
            (Some(h), Some(p), true) => {
                let key = self.rig.secrets.get("api_key").cloned().unwrap_or_default();
                let addr = std::net::SocketAddr::new(p.listen.ip(), 0);
                match miplcheck_platform::http::serve(addr, h.clone(), key.clone()) {
                    Ok(server) => {
                        let client = OnenetClient::new(&format!("http://{}", server.addr), &key, ONENET_CALL_LIMIT);
                        Some((server.addr.to_string(), client, server))
                    }
                    Err(e) => {
                        return unrun(
                            Verdict::Error,
                            Some(FailedAt::Prepare),
                            format!("cannot serve the OneNET HTTP API on {addr}: {e}"),
                        )
                    }
                }
            }
            _ => None,
        };
        let advertise = self.rig.platform.as_ref().map(|p| p.advertise.as_str()).unwrap_or("");
        let ctx = Context {
            dialect: self.rig.dialect,
            timing: &self.rig.timing,
            line_ending: &self.rig.line_ending,
            secrets: &self.rig.secrets,
            platform: platform.map(|h| (h, advertise)),
            onenet: http.as_ref().map(|(addr, client, _)| (client, addr.as_str())),
            tolerate: &self.rig.tolerate,
            progress: self.progress.as_ref(),
        };
        let wall_epoch = std::time::SystemTime::now() - target.port().now();
        let run = run_case(target.port(), &ctx, suite, case);
        let judged = self.judge(suite, case, &run, privacy.redactor(), golden);
        CaseResult {
            capture: platform.map(|pf| handoff::capture(&run, pf.addr().to_string(), wall_epoch, privacy)),
            record: handoff::record(suite, case, &run, judged, privacy, prepared),
        }
    }

    /// The verdict of a case that ran: its first failing step, else its snapshot against the
    /// golden file (with the rig's tolerance).
    fn judge(&self, suite: &Suite, case: &Case, run: &CaseRun, redactor: &Redactor, golden: bool) -> Judged {
        let mut warnings = run.warnings.clone();
        if let (Some(_), Some((_, reason))) = (run.interrupted, &run.failure) {
            return Judged {
                failed: Some((FailedAt::Interrupted, reason.clone())),
                snapshot: Snapshot::NotCompared,
                warnings,
                infrastructure: false,
            };
        }
        if let Some((at, reason)) = &run.failure {
            return Judged {
                failed: Some((FailedAt::Step(at.clone()), reason.clone())),
                snapshot: Snapshot::NotCompared,
                warnings,
                // The port vanished or the server hung up: the bench failed, not the firmware.
                infrastructure: run.link_lost.is_some(),
            };
        }
        if !golden {
            return Judged { failed: None, snapshot: Snapshot::NotCompared, warnings, infrastructure: false };
        }
        let name = format!("{}__{}", suite.name, case.id);
        let content = format!("# {}/{} — {}\n{}", suite.name, case.id, case.spec, run.transcript.normalized(redactor));
        // A run compares without insta, which would write and delete `.snap.new` files beside
        // the golden ones: the run keeps its own, and a developer's are theirs.
        let snapshot = match &self.run_dir {
            Some(_) => golden::compare_only(&self.golden_dir, &name, &content),
            None => golden::compare(&self.golden_dir, &name, &content, Some(&suite.path)),
        };
        let snap_file = || shown(&self.golden_dir.join(format!("{name}.snap")));
        // How the user accepts it: from the run's folder, or (under `cargo test`) with cargo-insta.
        let accept = |verb: &str| match &self.run_dir {
            Some(run) => {
                format!("{verb} it with `miplcheck accept {} --case {}/{}`", shown(run), suite.name, case.id)
            }
            None => format!("{verb} it with `cargo insta review`"),
        };
        let failed = match &snapshot {
            Snapshot::Changed { .. } => {
                let diffs = golden::golden_body(&self.golden_dir, &name)
                    .map(|old| crate::explain::differences(&old, &content, self.rig.dialect))
                    .unwrap_or_default();
                if self.rig.tolerate.accepts(&diffs) {
                    if self.run_dir.is_none() {
                        golden::discard_pending(&self.golden_dir, &name);
                    }
                    warnings.extend(diffs.iter().map(|d| format!("tolerated: {}", redactor.text(&d.says))));
                    return Judged { failed: None, snapshot: Snapshot::Tolerated, warnings, infrastructure: false };
                }
                let mut says: Vec<String> = diffs.iter().take(4).map(|d| redactor.text(&d.says)).collect();
                if diffs.len() > 4 {
                    says.push(format!("and {} more", diffs.len() - 4));
                }
                Some(format!(
                    "the transcript differs from {}{}; {}",
                    snap_file(),
                    if says.is_empty() { String::new() } else { format!(": {}", says.join("; ")) },
                    accept("review and accept")
                ))
            }
            Snapshot::Missing => Some(format!(
                "no golden snapshot {} yet; read the new transcript and {}",
                snap_file(),
                accept("accept")
            )),
            _ => None,
        };
        if let (Some(run), true) = (&self.run_dir, failed.is_some()) {
            let sub = self.golden_dir.file_name().map(PathBuf::from).unwrap_or_default();
            let pending = golden::pending_path(run, &sub, &name);
            if let Err(e) = golden::write_pending(&pending, &content, &suite.path) {
                warnings.push(format!("the new snapshot could not be kept for review: {e}"));
            }
        }
        Judged { failed: failed.map(|why| (FailedAt::Snapshot, why)), snapshot, warnings, infrastructure: false }
    }
}
