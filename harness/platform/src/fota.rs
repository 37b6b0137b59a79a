//! The platform's FOTA job: how the mock OneNET delivers a firmware package to the module itself
//! (BC39 §4.7 events 40–50; M5310-A §1.1: FOTA uses 3/0, 4/0 and 5/0), in the platform's own
//! terms, without I/O.
//!
//! It is the SOTA job's walk over object 5 (`crate::sota`, whose state machine runs both) with
//! the firmware's resources and checks, as OneNET's module SDK (cis, `std_object_firmware.c`)
//! lays them out:
//!
//! 1. `GET /3/0/3` (Firmware Version), answered by the module itself.
//! 2. The package (`miplcheck_lwm2m::package`) as a Block1 transfer of CON `PUT /5/0/0`,
//!    Content-Format 42, Size1 on block 0; every block answered by the module (2.31, the last
//!    2.04), since it stores the image without the TE.
//! 3. `POST /5/0/2` (Update): 2.04; the module installs and reboots.
//! 4. Its registration again (by the same endpoint name), then `GET /3/0/3`, which must answer
//!    the revision the job expects, and `GET /5/0/5` (Update Result).
//! 5. `PUT /5/0/0` with an empty package: the erase (2.04).
//!
//! [`FotaJob::new`] takes the package's bytes and the revision it must leave the module on,
//! so a firmware file from elsewhere (a rig's `[flash] via = "fota"`) can go through it;
//! [`package_revision`] reads that revision from a package. Faults a suite asks for
//! ([`FotaFault`]) bend the job so each of the module's failure events can be seen.

use crate::sota::{SotaError, SotaJob, DEFAULT_BLOCK_SIZE, DEFAULT_UPDATE_WAIT};
use miplcheck_lwm2m::package::{self, PackageError};
use std::time::Duration;

/// The largest package a job takes: well above any module's partition (the emulator's is 64 KiB),
/// so a file is refused before it is sent, never buffered without bound.
pub const MAX_PACKAGE: usize = 4 << 20;
/// With [`FotaFault::LinkLostAt`], how long the platform sends nothing: longer than the module
/// waits for a block (the emulator's 5 s), so it reports the download interrupted (47).
pub const OUTAGE: Duration = Duration::from_secs(8);
/// With [`FotaFault::TooLarge`], the size block 0's Size1 announces.
pub const TOO_LARGE_SIZE: u32 = 1 << 24;

/// What a suite bends in the job (`fault …` in a `platform: fota` step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FotaFault {
    /// The link is lost once this share (1–99 %) of the package is acknowledged; the job sends
    /// the next block after [`OUTAGE`], resuming where the module stopped.
    LinkLostAt(u8),
    /// One byte of the image is flipped, so it fails the header's SHA-256 at the Update (45).
    Corrupt,
    /// Block 0 announces [`TOO_LARGE_SIZE`] bytes in Size1 (41, 4.13).
    TooLarge,
    /// The erase is sent right after the Update's answer, while the module installs (49).
    EraseWhileUpdating,
}

/// Why a FOTA job cannot run as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FotaError {
    #[error("the FOTA package is {0} bytes, over the {MAX_PACKAGE}-byte limit")]
    TooBig(usize),
    #[error("not a FOTA package: {0}")]
    Package(#[from] PackageError),
    #[error("link-lost-at takes a share from 1% to 99%, not {0}%")]
    Share(u8),
    #[error(transparent)]
    Job(#[from] SotaError),
}

/// The revision a package installs, from its header.
pub fn package_revision(package: &[u8]) -> Result<String, FotaError> {
    if package.len() > MAX_PACKAGE {
        return Err(FotaError::TooBig(package.len()));
    }
    Ok(package::parse(package)?.revision)
}

/// A FOTA job as a suite (or a flash strategy) asks for it.
#[derive(Clone, PartialEq)]
pub struct FotaJob {
    pub package: Vec<u8>,
    /// What `/3/0/3` must answer after the update.
    pub revision: String,
    pub block_size: usize,
    pub fault: Option<FotaFault>,
    pub update_wait: Duration,
}

// The package would fill a screen in every suite's debug output.
impl std::fmt::Debug for FotaJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FotaJob")
            .field("package", &format_args!("{} bytes", self.package.len()))
            .field("revision", &self.revision)
            .field("block_size", &self.block_size)
            .field("fault", &self.fault)
            .finish()
    }
}

/// What the SOTA state machine needs to run a job as FOTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub revision: String,
    pub fault: Option<FotaFault>,
}

impl FotaJob {
    pub fn new(package: Vec<u8>, revision: impl Into<String>) -> Self {
        FotaJob {
            package,
            revision: revision.into(),
            block_size: DEFAULT_BLOCK_SIZE,
            fault: None,
            update_wait: DEFAULT_UPDATE_WAIT,
        }
    }

    pub fn with_block_size(mut self, size: usize) -> Result<Self, FotaError> {
        self.block_size = SotaJob::new(vec![]).with_block_size(size)?.block_size;
        Ok(self)
    }

    pub fn with_fault(mut self, fault: FotaFault) -> Result<Self, FotaError> {
        if let FotaFault::LinkLostAt(p) = fault {
            if !(1..=99).contains(&p) {
                return Err(FotaError::Share(p));
            }
        }
        self.fault = Some(fault);
        Ok(self)
    }

    /// Whether the job can run: a package within [`MAX_PACKAGE`] that reads as one, in blocks
    /// Block1 can number.
    pub fn check(&self) -> Result<(), FotaError> {
        package_revision(&self.package)?;
        self.clone().into_job().check()?;
        Ok(())
    }

    /// The walk over object 5 that `crate::sota` runs.
    pub(crate) fn into_job(self) -> SotaJob {
        let mut package = self.package;
        if self.fault == Some(FotaFault::Corrupt) {
            if let Some(last) = package.last_mut() {
                *last ^= 0xFF;
            }
        }
        let mut job = SotaJob::new(package);
        job.block_size = self.block_size;
        job.update_wait = self.update_wait;
        job.fota = Some(Plan { revision: self.revision, fault: self.fault });
        job
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_lwm2m::block::Block;
    use miplcheck_lwm2m::package::Header;

    #[test]
    fn the_revision_is_read_from_the_header() {
        let p = Header::build("BC39", "BC39_V2", &[7; 100]);
        assert_eq!(package_revision(&p).unwrap(), "BC39_V2");
        assert!(package_revision(b"\x7fELF").unwrap_err().to_string().starts_with("not a FOTA package"));
        let big = vec![0; MAX_PACKAGE + 1];
        assert_eq!(package_revision(&big), Err(FotaError::TooBig(MAX_PACKAGE + 1)));
    }

    /// The job as `crate::sota::Run` walks it: `/3/0/3`, the blocks with the link lost after half
    /// of them (nothing sent until [`OUTAGE`]), and a device back on the wrong revision.
    #[test]
    fn the_walk_holds_a_block_through_the_outage_and_checks_the_revision() {
        use crate::sota::{Next, Run};
        use coap_lite::{CoapOption, MessageClass, Packet, ResponseType};
        let ack = |code: ResponseType, payload: &[u8], block: Option<&Packet>| {
            let mut p = Packet::new();
            p.header.code = MessageClass::Response(code);
            p.payload = payload.to_vec();
            if let Some(v) = block.and_then(|b| b.get_option(CoapOption::Block1)).and_then(|l| l.front()) {
                p.add_option(CoapOption::Block1, v.clone());
            }
            p
        };
        let s = Duration::from_secs(1);
        let package = Header::build("BC39", "V2", &[9; 200]);
        let job =
            FotaJob::new(package, "V2").with_block_size(64).unwrap().with_fault(FotaFault::LinkLostAt(50)).unwrap();
        let (mut run, first) = Run::start(job.into_job(), "ep".into(), Duration::ZERO);
        assert_eq!(crate::record::describe(&first), "CON GET /3/0/3 mid=0");
        let mut next = run.on_answer(&ack(ResponseType::Content, b"V1", None), s);
        let mut sent = 0;
        loop {
            match next {
                Next::Send(p) if p.get_option(CoapOption::Block1).is_some() => {
                    sent += 1;
                    next = run.on_answer(&ack(ResponseType::Continue, b"", Some(&p)), s);
                }
                _ => break,
            }
        }
        assert_eq!(next, Next::Wait, "the link is lost after {sent} blocks");
        assert_eq!(run.deadline(), Some(s + OUTAGE));
        assert_eq!(run.poll(s + OUTAGE - Duration::from_millis(1)), Next::Wait);
        let Next::Send(held) = run.poll(s + OUTAGE) else { panic!("the held block goes out after the outage") };
        assert!(held.get_option(CoapOption::Block1).is_some());
        assert_eq!(sent, 3, "2/5 blocks is under half, 3/5 over");
        // The rest, the execute, the device back on another revision.
        let mut next = Next::Send(held);
        while let Next::Send(p) = next {
            let path = crate::record::describe(&p);
            next = if path.contains("POST /5/0/2") {
                let n = run.on_answer(&ack(ResponseType::Changed, b"", None), s);
                assert_eq!(n, Next::Wait);
                run.on_registration("registration", s)
            } else if path.contains("GET /3/0/3") {
                run.on_answer(&ack(ResponseType::Content, b"V1", None), s)
            } else {
                let more = Block::decode(p.get_option(CoapOption::Block1).unwrap().front().unwrap()).unwrap().more;
                let code = if more { ResponseType::Continue } else { ResponseType::Changed };
                run.on_answer(&ack(code, b"", Some(&p)), s)
            };
        }
        assert_eq!(run.report().summary(), "fota failed: device reports revision V1 after the update, expected V2");
    }

    /// The suites' packages (`suites/data/fw_*.bin`) are packages, for the module they name.
    #[test]
    fn the_shipped_packages_read_and_verify() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/data");
        for (file, model, revision) in
            [("fw_bc39_v2.bin", "BC39", "BC39NBR01A05_ONT"), ("fw_m5310a_v2.bin", "M5310-A", "M5310-A_V1.7")]
        {
            let p = std::fs::read(data.join(file)).unwrap();
            let h = package::parse(&p).unwrap();
            assert_eq!((h.model.as_str(), h.revision.as_str()), (model, revision), "{file}");
            assert!(h.verifies(&p[h.len..]), "{file}");
            assert!(FotaJob::new(p, revision).check().is_ok());
        }
    }

    #[test]
    fn faults_are_checked_and_corrupt_flips_the_image() {
        let p = Header::build("BC39", "V2", &[1; 40]);
        let job = FotaJob::new(p.clone(), "V2");
        assert_eq!(job.clone().with_fault(FotaFault::LinkLostAt(0)), Err(FotaError::Share(0)));
        assert_eq!(job.clone().with_fault(FotaFault::LinkLostAt(100)), Err(FotaError::Share(100)));
        let sent = job.clone().with_fault(FotaFault::Corrupt).unwrap().into_job().package;
        let h = package::parse(&sent).unwrap();
        assert!(!h.verifies(&sent[h.len..]));
        assert!(job.check().is_ok());
        assert!(FotaJob::new(p, "V2").with_block_size(500).is_err());
    }
}
