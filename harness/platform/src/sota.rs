//! The platform's SOTA job: how the mock OneNET pushes a software package to a device (BC39 §5.10,
//! `AT+QSOTAINFO`/`AT+QSOTARESULT`, events 51–54), in the platform's own terms, without I/O.
//!
//! OneNET's SOTA runs over the LwM2M Firmware Update object 5. The job, in order:
//!
//! 1. `GET /5/0/7` (PkgVersion), answered by the module with what the MCU set by `AT+QSOTAINFO`. A
//!    job that names the version it upgrades from stops here if the device reports another.
//! 2. The package as a Block1 transfer (RFC 7959) of CON `PUT /5/0/0`, Content-Format 42, one
//!    request (new MID and token) per block, Size1 with the whole size on block 0 so a device can
//!    refuse a package larger than its `<mem_size>` (4.13) before any byte is stored. Each block
//!    but the last must get 2.31 Continue, the last 2.04 Changed; the answers come late, when the
//!    MCU has said `AT+QSOTARESULT=3`, so they rely on the CoAP endpoint's retransmission and
//!    duplicate handling rather than on a timer of their own. A device may ask for smaller blocks
//!    in its 2.31 (RFC 7959 §2.5); the job continues at that size.
//! 3. `POST /5/0/2` (Update), no payload: 2.04.
//! 4. The device's next registration update (the MCU's `AT+MIPLUPDATE` after upgrading; a fresh
//!    registration by the same endpoint name counts too, for devices that restart), then
//!    `GET /5/0/7` again for the version after.
//! 5. `PUT /5/0/0` with an empty package, Content-Format 42: LwM2M 1.0 Appendix E.6 resets the
//!    state machine that way (event 53, `AT+QSOTARESULT=1`): 2.04.
//!
//! [`Run`] is the state machine; `server.rs` sends what it asks for and feeds it the answers, the
//! registration updates and the time. Whatever happens, a job ends with a [`SotaReport`] whose
//! [`SotaReport::summary`] is the operation's one-line outcome.

use crate::fota::FotaFault;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::block::uint_bytes;
pub use miplcheck_lwm2m::block::Block;
use miplcheck_lwm2m::{tlv, wire, ContentFormat, Path};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;

/// What OneNET uses, and what §5.10's `+MIPLWRITE: …,512,…` shows.
pub const DEFAULT_BLOCK_SIZE: usize = 512;
/// How long the job waits for the registration update after the Update execute: the MCU upgrades
/// in between, which a suite drives step by step.
pub const DEFAULT_UPDATE_WAIT: Duration = Duration::from_secs(120);

/// RFC 7959 §2.2: NUM has 20 bits.
const MAX_BLOCKS: usize = 1 << 20;
/// RFC 7959 option 60: the size of the whole representation, in a request.
const SIZE1: CoapOption = CoapOption::Size1;

/// Why a SOTA job cannot run as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SotaError {
    /// [`SotaJob::with_block_size`] was given a size CoAP block-wise transfer has no SZX for.
    #[error("block size {0} should be 16, 32, 64, 128, 256, 512 or 1024")]
    BlockSize(usize),
    /// [`SotaJob::check`] found a block size that is not a power of two from 16 to 1024.
    #[error("block size {0} should be a power of two from 16 to 1024")]
    BlockSizeRange(usize),
    /// The package has no bytes.
    #[error("the SOTA package is empty")]
    EmptyPackage,
    /// The package needs more blocks than Block1's 20-bit NUM can count.
    #[error("{bytes} bytes need more than 2^20 blocks of {block_size}")]
    TooManyBlocks {
        /// The package's size.
        bytes: usize,
        /// The job's block size.
        block_size: usize,
    },
}

/// A SOTA job as a suite asks for it (`platform: sota <file> [from <version>] [block <size>]`).
#[derive(Clone, PartialEq)]
pub struct SotaJob {
    pub package: Vec<u8>,
    /// The version the device must report before the download, when the job names one.
    pub from: Option<String>,
    /// 16 to 1024, a power of two.
    pub block_size: usize,
    pub update_wait: Duration,
    /// Run as the module's own firmware update (`crate::fota`): its resources, checks and faults.
    pub(crate) fota: Option<crate::fota::Plan>,
}

impl SotaJob {
    pub fn new(package: Vec<u8>) -> Self {
        SotaJob { package, from: None, block_size: DEFAULT_BLOCK_SIZE, update_wait: DEFAULT_UPDATE_WAIT, fota: None }
    }

    pub fn with_from(mut self, version: impl Into<String>) -> Self {
        self.from = Some(version.into());
        self
    }

    pub fn with_block_size(mut self, size: usize) -> Result<Self, SotaError> {
        szx(size).ok_or(SotaError::BlockSize(size))?;
        self.block_size = size;
        Ok(self)
    }

    /// Whether the job can run at all; checked before anything is sent.
    pub fn check(&self) -> Result<(), SotaError> {
        szx(self.block_size).ok_or(SotaError::BlockSizeRange(self.block_size))?;
        if self.package.is_empty() {
            return Err(SotaError::EmptyPackage);
        }
        if self.package.len().div_ceil(self.block_size) > MAX_BLOCKS {
            return Err(SotaError::TooManyBlocks { bytes: self.package.len(), block_size: self.block_size });
        }
        Ok(())
    }

    /// The package's SHA-256 in lower-case hex.
    pub fn sha256(&self) -> String {
        Sha256::digest(&self.package).iter().map(|b| format!("{b:02x}")).collect()
    }
}

// The package would fill a screen in every suite's debug output.
impl fmt::Debug for SotaJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SotaJob")
            .field("package", &format_args!("{} bytes sha256={}", self.package.len(), &self.sha256()[..16]))
            .field("from", &self.from)
            .field("block_size", &self.block_size)
            .field("update_wait", &self.update_wait)
            .finish()
    }
}

/// Where a job is, and what each of its exchanges was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `GET /5/0/7` before the download.
    VersionBefore,
    /// `PUT /5/0/0` with Block1 NUM.
    Block(u32),
    /// `POST /5/0/2`.
    Execute,
    /// Waiting for the device's registration update.
    Update,
    /// `GET /5/0/7` after the update.
    VersionAfter,
    /// FOTA: `GET /5/0/5` (Update Result) after the version read.
    Result,
    /// FOTA with fault `erase-while-updating`: the empty `PUT /5/0/0` right after the Update.
    EraseEarly,
    /// The empty `PUT /5/0/0`.
    Erase,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::VersionBefore => f.write_str("version read"),
            Stage::Block(n) => write!(f, "block {n}"),
            Stage::Execute => f.write_str("execute"),
            Stage::Update => f.write_str("registration update"),
            Stage::VersionAfter => f.write_str("version read after update"),
            Stage::Result => f.write_str("update result read"),
            Stage::EraseEarly => f.write_str("erase while updating"),
            Stage::Erase => f.write_str("erase"),
        }
    }
}

/// One request of the job and its answer (for [`Stage::Update`]: the wait and what ended it).
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub stage: Stage,
    /// When the request went out (the first time) or the wait began.
    pub sent: Duration,
    /// Package bytes carried.
    pub bytes: usize,
    /// `2.31`, `no answer`, `RST`; for the update, `update` or `registration`.
    pub answer: Option<String>,
    pub answered: Option<Duration>,
}

/// What a SOTA job came to, step by step.
#[derive(Debug, Clone, PartialEq)]
pub struct SotaReport {
    pub bytes: usize,
    /// Block requests that were answered as expected.
    pub blocks: u32,
    /// The block size in use at the end (smaller than asked when the device asked for smaller).
    pub block_size: usize,
    /// Of the whole package, lower-case hex.
    pub sha256: String,
    pub version_before: Option<String>,
    pub version_after: Option<String>,
    pub exchanges: Vec<Exchange>,
    /// `failed at block 3: 5.00`; `None` while running and on success.
    pub failure: Option<String>,
    pub finished: Option<Duration>,
    /// `sota`, or `fota` for the module's own firmware (`crate::fota`).
    pub kind: &'static str,
    /// FOTA: what `/5/0/5` (Update Result) read after the update.
    pub update_result: Option<String>,
    /// FOTA with fault `erase-while-updating`: the answer to that erase.
    pub early_erase: Option<String>,
}

impl SotaReport {
    pub fn succeeded(&self) -> bool {
        self.finished.is_some() && self.failure.is_none()
    }

    /// The one-line outcome a suite's `answer:` step matches:
    /// `sota 10000 bytes in 20 blocks sha256=0123456789abcdef MCU_SW_V1 -> MCU_SW_V2 erased`,
    /// `sota failed at block 3: 5.00`, `sota failed: device reports version X, expected Y`; a
    /// FOTA job's starts `fota` and adds the Update Result read (`result 1`) and any early erase.
    pub fn summary(&self) -> String {
        if let Some(f) = &self.failure {
            return format!("{} {f}", self.kind);
        }
        let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        let end = if self.finished.is_some() { "erased" } else { "running" };
        let result = self.update_result.as_ref().map(|r| format!(" result {r}")).unwrap_or_default();
        let early = self.early_erase.as_ref().map(|e| format!(" (erase while updating: {e})")).unwrap_or_default();
        format!(
            "{} {} bytes in {} blocks sha256={} {} -> {}{result} {end}{early}",
            self.kind,
            self.bytes,
            self.blocks,
            &self.sha256[..16.min(self.sha256.len())],
            v(&self.version_before),
            v(&self.version_after),
        )
    }
}

/// What the job wants next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Send this request (type and token are the platform's to set).
    Send(Packet),
    Wait,
    /// The report is final.
    Done,
}

/// A running (or finished) job on one device.
pub(crate) struct Run {
    job: SotaJob,
    /// The device's endpoint name, which its registration update is recognised by.
    endpoint: String,
    stage: Stage,
    /// Block size in use.
    size: usize,
    /// Package bytes the device has acknowledged.
    offset: usize,
    /// How the device came back, when that was before the execute's answer (the module may answer
    /// it late).
    update_seen: Option<String>,
    deadline: Option<Duration>,
    report: SotaReport,
    /// The device's last answer, kept for the operation's outcome.
    last: Option<Packet>,
    /// FOTA fault `link-lost-at`: the block held back until the outage is over (then `None`,
    /// and `lost` stays set so the link is lost once).
    held: Option<Packet>,
    lost: bool,
}

impl Run {
    /// The job and its first request; the caller has [`SotaJob::check`]ed it.
    pub(crate) fn start(job: SotaJob, endpoint: String, now: Duration) -> (Run, Packet) {
        let report = SotaReport {
            bytes: job.package.len(),
            blocks: 0,
            block_size: job.block_size,
            sha256: job.sha256(),
            version_before: None,
            version_after: None,
            exchanges: vec![],
            failure: None,
            finished: None,
            kind: if job.fota.is_some() { "fota" } else { "sota" },
            update_result: None,
            early_erase: None,
        };
        let mut run = Run {
            size: job.block_size,
            job,
            endpoint,
            stage: Stage::VersionBefore,
            offset: 0,
            update_seen: None,
            deadline: None,
            report,
            last: None,
            held: None,
            lost: false,
        };
        let p = run.request(Stage::VersionBefore, now);
        (run, p)
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn report(&self) -> &SotaReport {
        &self.report
    }

    pub(crate) fn is_done(&self) -> bool {
        self.report.finished.is_some()
    }

    pub(crate) fn deadline(&self) -> Option<Duration> {
        self.deadline.filter(|_| !self.is_done())
    }

    /// The device's last answer without options or payload, so that describing it adds nothing
    /// to the summary: what the operation's outcome carries.
    pub(crate) fn last_answer(&self) -> Packet {
        let mut p = Packet::new();
        if let Some(last) = &self.last {
            p.header = last.header.clone();
            p.set_token(last.get_token().to_vec());
        } else {
            p.header.set_type(MessageType::Acknowledgement);
            p.header.code = MessageClass::Empty;
        }
        p
    }

    /// An answer to the request in flight.
    pub(crate) fn on_answer(&mut self, p: &Packet, now: Duration) -> Next {
        if self.is_done() {
            return Next::Done;
        }
        let code = crate::server::code_text(p);
        if let Some(x) = self.report.exchanges.last_mut() {
            x.answer = Some(code.clone());
            x.answered = Some(now);
        }
        self.last = Some(p.clone());
        let is = |want: ResponseType| p.header.code == MessageClass::Response(want);
        match self.stage {
            Stage::VersionBefore => {
                if !is(ResponseType::Content) {
                    return self.fail(format!("failed at {}: {code}", self.stage), now);
                }
                let version = version_text(p);
                self.report.version_before = Some(version.clone());
                if let Some(want) = self.job.from.clone().filter(|w| *w != version) {
                    return self.fail(format!("failed: device reports version {version}, expected {want}"), now);
                }
                self.send(Stage::Block(0), now)
            }
            Stage::Block(num) => self.on_block_answer(p, num, code, now),
            Stage::Execute => {
                if !is(ResponseType::Changed) {
                    return self.fail(format!("failed at execute: {code}"), now);
                }
                if self.fault() == Some(FotaFault::EraseWhileUpdating) {
                    return self.send(Stage::EraseEarly, now);
                }
                self.wait_for_update(now)
            }
            Stage::EraseEarly => {
                self.report.early_erase = Some(code);
                self.wait_for_update(now)
            }
            Stage::Update => Next::Wait,
            Stage::VersionAfter => {
                if !is(ResponseType::Content) {
                    return self.fail(format!("failed at {}: {code}", self.stage), now);
                }
                let version = version_text(p);
                self.report.version_after = Some(version.clone());
                match self.job.fota.as_ref().map(|f| f.revision.clone()) {
                    Some(want) if want != version => self.fail(
                        format!("failed: device reports revision {version} after the update, expected {want}"),
                        now,
                    ),
                    Some(_) => self.send(Stage::Result, now),
                    None => self.send(Stage::Erase, now),
                }
            }
            Stage::Result => {
                if !is(ResponseType::Content) {
                    return self.fail(format!("failed at {}: {code}", self.stage), now);
                }
                self.report.update_result = Some(version_text(p));
                self.send(Stage::Erase, now)
            }
            Stage::Erase => {
                if !is(ResponseType::Changed) {
                    return self.fail(format!("failed at erase: {code}"), now);
                }
                self.report.finished = Some(now);
                Next::Done
            }
        }
    }

    fn fault(&self) -> Option<FotaFault> {
        self.job.fota.as_ref().and_then(|f| f.fault)
    }

    /// The Update answered: wait for the device to come back (it may already have).
    fn wait_for_update(&mut self, now: Duration) -> Next {
        self.report.exchanges.push(Exchange {
            stage: Stage::Update,
            sent: now,
            bytes: 0,
            answer: None,
            answered: None,
        });
        self.stage = Stage::Update;
        if let Some(how) = self.update_seen.take() {
            return self.updated(&how, now);
        }
        self.deadline = Some(now + self.job.update_wait);
        // Nothing is in flight while waiting; the platform routes answers by token.
        Next::Wait
    }

    fn on_block_answer(&mut self, p: &Packet, num: u32, code: String, now: Duration) -> Next {
        let len = self.block_len(num);
        let last = self.offset + len >= self.job.package.len();
        let want = if last { ResponseType::Changed } else { ResponseType::Continue };
        if p.header.code != MessageClass::Response(want) {
            return self.fail(format!("failed at block {num}: {code}"), now);
        }
        let echo = match p.get_option(CoapOption::Block1).and_then(|l| l.front()) {
            None => None,
            Some(v) => match Block::decode(v) {
                Some(b) => Some(b),
                None => return self.fail(format!("failed at block {num}: {code} with an unreadable Block1"), now),
            },
        };
        if let Some(b) = echo {
            if b.num != num {
                return self.fail(format!("failed at block {num}: {code} acknowledges block {}", b.num), now);
            }
        }
        self.report.blocks += 1;
        self.offset += len;
        if last {
            return self.send(Stage::Execute, now);
        }
        if let Some(b) = echo.filter(|b| b.size() < self.size) {
            // RFC 7959 §2.5: the device took this block whole but wants smaller ones from now on;
            // the offset reached is a multiple of any smaller power of two.
            self.size = b.size();
            self.report.block_size = self.size;
        }
        let next = self.offset / self.size;
        if next >= MAX_BLOCKS {
            return self.fail(format!("failed at block {num}: blocks of {} need NUM past 2^20", self.size), now);
        }
        if let Some(FotaFault::LinkLostAt(share)) = self.fault() {
            if !self.lost && self.offset * 100 >= usize::from(share) * self.job.package.len() {
                // The link is gone: the next block goes out once it is back.
                self.lost = true;
                self.held = Some(self.request(Stage::Block(next as u32), now));
                self.deadline = Some(now + crate::fota::OUTAGE);
                return Next::Wait;
            }
        }
        self.send(Stage::Block(next as u32), now)
    }

    /// The request in flight got no answer (`no answer` after every retransmission, or `RST`).
    pub(crate) fn on_no_answer(&mut self, why: &str, now: Duration) -> Next {
        if self.is_done() {
            return Next::Done;
        }
        if let Some(x) = self.report.exchanges.last_mut() {
            x.answer = Some(why.to_string());
            x.answered = Some(now);
        }
        // The outcome must not carry an earlier answer's code.
        self.last = None;
        self.fail(format!("failed at {}: {why}", self.stage), now)
    }

    /// The device updated its registration (`update`) or registered again (`registration`).
    pub(crate) fn on_registration(&mut self, how: &str, now: Duration) -> Next {
        match self.stage {
            Stage::Execute | Stage::EraseEarly => {
                self.update_seen = Some(how.to_string());
                Next::Wait
            }
            Stage::Update if !self.is_done() => self.updated(how, now),
            // Updates during the download say nothing about the upgrade.
            _ => Next::Wait,
        }
    }

    fn updated(&mut self, how: &str, now: Duration) -> Next {
        self.deadline = None;
        if let Some(x) = self.report.exchanges.last_mut() {
            x.answer = Some(how.to_string());
            x.answered = Some(now);
        }
        self.send(Stage::VersionAfter, now)
    }

    /// Time passing: only the wait for the update has a deadline of its own.
    pub(crate) fn poll(&mut self, now: Duration) -> Next {
        match self.deadline() {
            Some(t) if t <= now && self.held.is_some() => {
                self.deadline = None;
                match self.held.take() {
                    Some(p) => Next::Send(p),
                    None => Next::Wait,
                }
            }
            Some(t) if t <= now => {
                let secs = self.job.update_wait.as_secs_f64();
                self.fail(format!("failed: no registration update within {secs} s of the execute"), now)
            }
            _ => Next::Wait,
        }
    }

    /// Ends the job, for a reason the platform found (a request it could not encode).
    pub(crate) fn abandon(&mut self, why: String, now: Duration) -> Next {
        self.fail(format!("failed at {}: {why}", self.stage), now)
    }

    fn fail(&mut self, why: String, now: Duration) -> Next {
        self.deadline = None;
        self.report.failure = Some(why);
        self.report.finished = Some(now);
        Next::Done
    }

    fn send(&mut self, stage: Stage, now: Duration) -> Next {
        Next::Send(self.request(stage, now))
    }

    fn block_len(&self, num: u32) -> usize {
        let start = num as usize * self.size;
        self.job.package.len().saturating_sub(start).min(self.size)
    }

    fn request(&mut self, stage: Stage, now: Duration) -> Packet {
        self.stage = stage;
        let mut p = Packet::new();
        // FOTA reads the device's Firmware Version; SOTA the MCU's PkgVersion (BC39 §3.2.17).
        let version = if self.job.fota.is_some() { Path::resource(3, 0, 3) } else { Path::resource(5, 0, 7) };
        let (method, path) = match stage {
            // The update is waited for, never requested; it shares the read's arm to keep this total.
            Stage::VersionBefore | Stage::VersionAfter | Stage::Update => (RequestType::Get, version),
            Stage::Result => (RequestType::Get, Path::resource(5, 0, 5)),
            Stage::Block(_) | Stage::Erase | Stage::EraseEarly => (RequestType::Put, Path::resource(5, 0, 0)),
            Stage::Execute => (RequestType::Post, Path::resource(5, 0, 2)),
        };
        p.header.code = MessageClass::Request(method);
        for s in path.segments() {
            p.add_option(CoapOption::UriPath, s.into_bytes());
        }
        if matches!(stage, Stage::Block(_) | Stage::Erase | Stage::EraseEarly) {
            p.add_option(CoapOption::ContentFormat, uint_bytes(u32::from(ContentFormat::Opaque.number())));
        }
        if let Stage::Block(num) = stage {
            let start = num as usize * self.size;
            let len = self.block_len(num);
            let more = start + len < self.job.package.len();
            let block = Block { num, more, szx: szx(self.size).unwrap_or(6) };
            p.add_option(CoapOption::Block1, block.encode());
            if num == 0 {
                let size = match self.fault() {
                    Some(FotaFault::TooLarge) => crate::fota::TOO_LARGE_SIZE,
                    _ => u32::try_from(self.job.package.len()).unwrap_or(u32::MAX),
                };
                p.add_option(SIZE1, uint_bytes(size));
            }
            p.payload = self.job.package[start..start + len].to_vec();
        }
        let bytes = p.payload.len();
        self.report.exchanges.push(Exchange { stage, sent: now, bytes, answer: None, answered: None });
        p
    }
}

/// What the device reports as PkgVersion: text, or one TLV resource for a device that answers so.
fn version_text(p: &Packet) -> String {
    let cf = wire::number(p, CoapOption::ContentFormat).map(ContentFormat::from_number);
    let bytes = match cf {
        Some(cf) if cf.is_tlv() => tlv::decode(&p.payload)
            .ok()
            .and_then(|items| items.first().and_then(|t| t.bytes()).map(<[u8]>::to_vec))
            .unwrap_or_else(|| p.payload.clone()),
        _ => p.payload.clone(),
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

/// RFC 7959 §2.2 SZX: 16 << SZX bytes.
fn szx(size: usize) -> Option<u8> {
    (0..=6u8).find(|&x| 16usize << x == size)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn answer(code: ResponseType, block: Option<Block>, payload: &[u8]) -> Packet {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Acknowledgement);
        p.header.code = MessageClass::Response(code);
        if let Some(b) = block {
            p.add_option(CoapOption::Block1, b.encode());
        }
        p.payload = payload.to_vec();
        p
    }

    fn block_of(p: &Packet) -> Block {
        Block::decode(p.get_option(CoapOption::Block1).and_then(|l| l.front()).expect("a Block1 option"))
            .expect("a readable Block1")
    }

    #[test]
    fn block_values_round_trip_in_the_fewest_bytes() {
        for (b, len) in [
            (Block { num: 0, more: true, szx: 5 }, 1),
            (Block { num: 0, more: false, szx: 0 }, 0),
            (Block { num: 19, more: false, szx: 5 }, 2),
            (Block { num: (1 << 20) - 1, more: true, szx: 6 }, 3),
        ] {
            assert_eq!(b.encode().len(), len, "{b:?}");
            assert_eq!(Block::decode(&b.encode()), Some(b));
        }
        assert_eq!(Block::decode(&[0x0F]), None, "SZX 7 is reserved");
        assert_eq!(Block::decode(&[1, 2, 3, 4]), None);
        assert_eq!(Block { num: 0, more: false, szx: 5 }.size(), 512);
    }

    #[test]
    fn jobs_are_checked_before_they_run() {
        assert_eq!(SotaJob::new(vec![1]).with_block_size(100).err(), Some(SotaError::BlockSize(100)));
        assert!(SotaJob::new(vec![1]).with_block_size(2048).is_err());
        assert_eq!(SotaJob::new(vec![1]).with_block_size(16).unwrap().block_size, 16);
        assert_eq!(SotaJob::new(vec![]).check(), Err(SotaError::EmptyPackage));
        assert!(SotaJob::new(vec![0; 1 << 20]).with_block_size(16).unwrap().check().is_ok());
        assert!(SotaJob::new(vec![0; (1 << 24) + 1]).with_block_size(16).unwrap().check().is_err());
        let dbg = format!("{:?}", SotaJob::new(vec![0; 4096]));
        assert!(dbg.contains("4096 bytes sha256=") && dbg.len() < 200, "{dbg}");
    }

    #[test]
    fn job_messages_are_unchanged() {
        let e = SotaJob::new(vec![1]).with_block_size(100).err().unwrap();
        assert_eq!(e.to_string(), "block size 100 should be 16, 32, 64, 128, 256, 512 or 1024");
        let mut job = SotaJob::new(vec![1]);
        job.block_size = 100;
        assert_eq!(job.check().unwrap_err().to_string(), "block size 100 should be a power of two from 16 to 1024");
        let big = SotaJob::new(vec![0; (1 << 24) + 1]).with_block_size(16).unwrap();
        assert_eq!(big.check().unwrap_err().to_string(), "16777217 bytes need more than 2^20 blocks of 16");
    }

    #[test]
    fn a_whole_job_in_order() {
        let package: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let job = SotaJob::new(package.clone()).with_from("V1").with_block_size(256).unwrap();
        let (mut run, first) = Run::start(job, "ep".into(), Duration::ZERO);
        assert_eq!(crate::record::describe(&first), "CON GET /5/0/7 mid=0");
        let mut text = answer(ResponseType::Content, None, b"V1");
        text.add_option(CoapOption::ContentFormat, vec![]);
        let mut next = run.on_answer(&text, S);
        let mut got = vec![];
        for num in 0..4u32 {
            let Next::Send(p) = next else { panic!("{next:?}") };
            let b = block_of(&p);
            assert_eq!((b.num, b.more, b.size()), (num, num < 3, 256));
            assert_eq!(wire::number(&p, CoapOption::ContentFormat), Some(42));
            assert_eq!(p.get_option(SIZE1).is_some(), num == 0, "Size1 on block 0 only");
            got.extend_from_slice(&p.payload);
            let code = if b.more { ResponseType::Continue } else { ResponseType::Changed };
            next = run.on_answer(&answer(code, Some(b), b""), S);
        }
        assert_eq!(got, package, "the last block is short: 1000 - 3 × 256 = 232");
        let Next::Send(exec) = next else { panic!("{next:?}") };
        assert_eq!(crate::record::describe(&exec), "CON POST /5/0/2 mid=0");
        // The update may overtake the execute's (late) answer.
        assert_eq!(run.on_registration("update", S), Next::Wait);
        let Next::Send(read) = run.on_answer(&answer(ResponseType::Changed, None, b""), S) else { panic!() };
        assert!(crate::record::describe(&read).starts_with("CON GET /5/0/7"));
        let Next::Send(erase) = run.on_answer(&answer(ResponseType::Content, None, b"V2"), S) else { panic!() };
        assert_eq!(crate::record::describe(&erase), "CON PUT /5/0/0 mid=0 cf=opaque");
        assert_eq!(run.on_answer(&answer(ResponseType::Changed, None, b""), 2 * S), Next::Done);
        let r = run.report();
        assert!(r.succeeded());
        assert_eq!(r.summary(), format!("sota 1000 bytes in 4 blocks sha256={} V1 -> V2 erased", &r.sha256[..16]));
        let stages: Vec<String> = r.exchanges.iter().map(|x| x.stage.to_string()).collect();
        assert_eq!(
            stages,
            [
                "version read",
                "block 0",
                "block 1",
                "block 2",
                "block 3",
                "execute",
                "registration update",
                "version read after update",
                "erase"
            ]
        );
        assert!(r.exchanges.iter().all(|x| x.answer.is_some()));
    }

    #[test]
    fn a_device_asking_for_smaller_blocks_gets_them() {
        let job = SotaJob::new(vec![7; 2000]);
        let (mut run, _) = Run::start(job, "ep".into(), Duration::ZERO);
        let Next::Send(b0) = run.on_answer(&answer(ResponseType::Content, None, b"V1"), S) else { panic!() };
        assert_eq!(b0.payload.len(), 512);
        let smaller = Block { num: 0, more: true, szx: 3 };
        let Next::Send(b1) = run.on_answer(&answer(ResponseType::Continue, Some(smaller), b""), S) else { panic!() };
        let b = block_of(&b1);
        assert_eq!((b.num, b.size(), b1.payload.len()), (4, 128, 128), "continues at byte 512");
        assert_eq!(run.report().block_size, 128);
    }

    #[test]
    fn failures_name_the_stage_and_the_code() {
        let job = SotaJob::new(vec![1; 600]);
        let (mut run, _) = Run::start(job.clone(), "ep".into(), Duration::ZERO);
        run.on_answer(&answer(ResponseType::Content, None, b"V1"), S);
        assert_eq!(run.on_answer(&answer(ResponseType::RequestEntityTooLarge, None, b""), S), Next::Done);
        assert_eq!(run.report().summary(), "sota failed at block 0: 4.13");
        assert_eq!(crate::record::describe(&run.last_answer()), "ACK 4.13 mid=0");

        let (mut run, _) = Run::start(job.clone().with_from("V1"), "ep".into(), Duration::ZERO);
        assert_eq!(run.on_answer(&answer(ResponseType::Content, None, b"V0"), S), Next::Done);
        assert_eq!(run.report().summary(), "sota failed: device reports version V0, expected V1");

        let (mut run, _) = Run::start(job.clone(), "ep".into(), Duration::ZERO);
        run.on_answer(&answer(ResponseType::Content, None, b"V1"), S);
        // Block 0 of two answered 2.04: the device did not take the transfer as a whole.
        assert_eq!(run.on_answer(&answer(ResponseType::Changed, None, b""), S), Next::Done);
        assert_eq!(run.report().summary(), "sota failed at block 0: 2.04");

        let (mut run, _) = Run::start(job.clone(), "ep".into(), Duration::ZERO);
        run.on_answer(&answer(ResponseType::Content, None, b"V1"), S);
        let wrong = Block { num: 1, more: true, szx: 5 };
        run.on_answer(&answer(ResponseType::Continue, Some(wrong), b""), S);
        assert_eq!(run.report().summary(), "sota failed at block 0: 2.31 acknowledges block 1");

        let (mut run, _) = Run::start(job.clone(), "ep".into(), Duration::ZERO);
        assert_eq!(run.on_no_answer("no answer", 93 * S), Next::Done);
        assert_eq!(run.report().summary(), "sota failed at version read: no answer");
        assert_eq!(crate::record::describe(&run.last_answer()), "ACK mid=0");
    }

    #[test]
    fn the_update_wait_ends() {
        let (mut run, _) = Run::start(SotaJob::new(vec![1; 10]), "ep".into(), Duration::ZERO);
        run.on_answer(&answer(ResponseType::Content, None, b"V1"), S);
        run.on_answer(&answer(ResponseType::Changed, None, b""), S);
        assert_eq!(run.on_answer(&answer(ResponseType::Changed, None, b""), S), Next::Wait);
        assert_eq!(run.deadline(), Some(S + DEFAULT_UPDATE_WAIT));
        assert_eq!(run.poll(DEFAULT_UPDATE_WAIT), Next::Wait);
        assert_eq!(run.poll(S + DEFAULT_UPDATE_WAIT), Next::Done);
        assert_eq!(run.report().summary(), "sota failed: no registration update within 120 s of the execute");
        assert_eq!(run.deadline(), None);
    }
}
