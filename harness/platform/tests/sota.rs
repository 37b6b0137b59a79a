//! The SOTA job against a device written by hand over its own CoAP endpoint, in virtual time: the
//! platform and the device exchange datagrams through a link with a fixed delay, and the clock
//! jumps to whatever is due next, so retransmission timing is exact and nothing sleeps.

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Endpoint, Event, Params};
use miplcheck_lwm2m::{link, wire, Path};
use miplcheck_platform::sota::{Block, Stage};
use miplcheck_platform::{OpId, OpOutcome, Operation, Platform, PlatformOptions, SotaJob, WireDir};
use std::time::Duration;

const PF: &str = "pf";
const DEV: &str = "dev";
const MS: Duration = Duration::from_millis(1);
const LINK: Duration = Duration::from_millis(20);

/// suites/data/mcu_sw_v2.bin: 10000 bytes (19 blocks of 512 and one of 272), sha256
/// 3fd6d497e93c5eaae5c6aa9377a277360e531cdc961dfd208a41abcbe90242ec, the top byte of each step
/// of this LCG (Numerical Recipes' constants) from the seed "MCU2".
fn lcg_package() -> Vec<u8> {
    let mut x: u32 = 0x4D43_5532;
    (0..10_000)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn package() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../suites/data/mcu_sw_v2.bin");
    std::fs::read(path).expect("suites/data/mcu_sw_v2.bin")
}

/// A BC39 with an MCU behind it, as far as SOTA goes: the module answers `/5/0/7` itself and
/// refuses a package larger than `<mem_size>`; block writes and the erase are answered once the
/// MCU has said `AT+QSOTARESULT`, `mcu` later; after the Update execute the MCU upgrades and
/// sends `AT+MIPLUPDATE`.
struct FakeDevice {
    ep: Endpoint<&'static str>,
    version: String,
    next_version: String,
    mem_size: usize,
    mcu: Duration,
    upgrade: Duration,
    /// The MCU reports `AT+QSOTARESULT=4` (write failed) for this block.
    fail_block: Option<u32>,
    /// SZX the device asks for in its 2.31.
    prefer: Option<u8>,
    sends_update: bool,
    location: String,
    stored: Vec<u8>,
    /// Every block as it arrived: NUM and length.
    blocks: Vec<(u32, usize)>,
    package: Option<Vec<u8>>,
    erased: bool,
    executed: bool,
    /// Answers the MCU has yet to give: when, the request, the answer.
    later: Vec<(Duration, Packet, Packet)>,
    update_due: Option<Duration>,
}

impl FakeDevice {
    fn new(version: &str) -> Self {
        FakeDevice {
            ep: Endpoint::new(Params::default(), 11),
            version: version.into(),
            next_version: "MCU_SW_V2".into(),
            mem_size: 10_240,
            mcu: 300 * MS,
            upgrade: Duration::from_secs(5),
            fail_block: None,
            prefer: None,
            sends_update: true,
            location: String::new(),
            stored: vec![],
            blocks: vec![],
            package: None,
            erased: false,
            executed: false,
            later: vec![],
            update_due: None,
        }
    }

    fn register(&mut self, now: Duration) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Post);
        p.set_token(vec![1]);
        p.add_option(CoapOption::UriPath, b"rd".to_vec());
        p.add_option(CoapOption::UriQuery, b"lwm2m=1.0".to_vec());
        p.add_option(CoapOption::UriQuery, b"ep=866971030000001;460040000000001".to_vec());
        p.add_option(CoapOption::UriQuery, b"lt=86400".to_vec());
        p.payload = link::registration(&[Path::instance(5, 0), Path::instance(3303, 0)]).into_bytes();
        self.ep.send(PF, p, now).expect("encodes").1.bytes
    }

    fn update(&mut self, now: Duration) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Post);
        p.set_token(vec![2]);
        for seg in self.location.split('/') {
            p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
        }
        self.ep.send(PF, p, now).expect("encodes").1.bytes
    }

    fn on_datagram(&mut self, bytes: &[u8], now: Duration) -> Vec<Vec<u8>> {
        let (events, mut out): (_, Vec<Vec<u8>>) = {
            let (e, d) = self.ep.on_datagram(PF, bytes, now);
            (e, d.into_iter().map(|d| d.bytes).collect())
        };
        for e in events {
            match e {
                Event::Request { packet, .. } => out.extend(self.serve(packet, now)),
                Event::Response { packet, .. } if self.location.is_empty() => {
                    self.location = wire::strings(&packet, CoapOption::LocationPath).join("/");
                }
                _ => {}
            }
        }
        out
    }

    fn serve(&mut self, req: Packet, now: Duration) -> Option<Vec<u8>> {
        let path = wire::strings(&req, CoapOption::UriPath).join("/");
        let method = match req.header.code {
            MessageClass::Request(m) => m,
            _ => return None,
        };
        let block = Block::block1(&req);
        let size1 = wire::number(&req, CoapOption::Size1).map(usize::from);
        let mut ans = Packet::new();
        let mut code = ResponseType::Changed;
        let mut delay = Duration::ZERO;
        match (method, path.as_str(), block) {
            (RequestType::Get, "5/0/7", _) => {
                code = ResponseType::Content;
                ans.add_option(CoapOption::ContentFormat, vec![]);
                ans.payload = self.version.as_bytes().to_vec();
            }
            (RequestType::Put, "5/0/0", Some(b)) => {
                if b.num == 0 {
                    self.stored.clear();
                }
                let start = b.num as usize * b.size();
                if size1.unwrap_or(0) > self.mem_size || start + req.payload.len() > self.mem_size {
                    code = ResponseType::RequestEntityTooLarge;
                } else if start != self.stored.len() {
                    code = ResponseType::RequestEntityIncomplete;
                } else if self.fail_block == Some(b.num) {
                    code = ResponseType::InternalServerError;
                    delay = self.mcu;
                } else {
                    self.blocks.push((b.num, req.payload.len()));
                    self.stored.extend_from_slice(&req.payload);
                    code = if b.more { ResponseType::Continue } else { ResponseType::Changed };
                    if !b.more {
                        self.package = Some(self.stored.clone());
                    }
                    let szx = self.prefer.map_or(b.szx, |p| p.min(b.szx));
                    ans.add_option(CoapOption::Block1, Block { szx, ..b }.encode());
                    delay = self.mcu;
                }
            }
            (RequestType::Put, "5/0/0", None) if req.payload.is_empty() => {
                self.erased = true;
                self.stored.clear();
                delay = self.mcu;
            }
            (RequestType::Post, "5/0/2", _) => {
                self.executed = true;
                if self.sends_update {
                    self.update_due = Some(now + self.upgrade);
                }
            }
            _ => code = ResponseType::NotFound,
        }
        ans.header.code = MessageClass::Response(code);
        if delay.is_zero() {
            return self.ep.respond(PF, &req, ans, now).ok().map(|d| d.bytes);
        }
        self.later.push((now + delay, req, ans));
        None
    }

    fn poll(&mut self, now: Duration) -> Vec<Vec<u8>> {
        let (_, resend) = self.ep.poll(now);
        let mut out: Vec<Vec<u8>> = resend.into_iter().map(|d| d.bytes).collect();
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.later).into_iter().partition(|l| l.0 <= now);
        self.later = rest;
        for (_, req, ans) in due {
            out.extend(self.ep.respond(PF, &req, ans, now).ok().map(|d| d.bytes));
        }
        if self.update_due.is_some_and(|t| t <= now) {
            self.update_due = None;
            self.version = self.next_version.clone();
            out.push(self.update(now));
        }
        out
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.later.iter().map(|l| l.0).chain(self.ep.next_deadline()).chain(self.update_due).min()
    }
}

/// The platform, the device and the datagrams between them.
struct Sim {
    pf: Platform<&'static str>,
    dev: FakeDevice,
    now: Duration,
    /// In flight: when it arrives, to whom, the bytes.
    link: Vec<(Duration, &'static str, Vec<u8>)>,
    /// Whether a datagram from the device is lost.
    lose: Box<dyn FnMut(&Packet) -> bool>,
}

impl Sim {
    fn new(dev: FakeDevice) -> Sim {
        let o = PlatformOptions { auto_observe: false, ..Default::default() };
        let mut sim = Sim { pf: Platform::new(o), dev, now: Duration::ZERO, link: vec![], lose: Box::new(|_| false) };
        let reg = sim.dev.register(Duration::ZERO);
        sim.link.push((LINK, PF, reg));
        sim.run_until(|s| !s.dev.location.is_empty(), Duration::from_secs(10));
        assert_eq!(sim.dev.location, "rd/1");
        sim
    }

    fn send(&mut self, to: &'static str, bytes: Vec<u8>) {
        if to == PF && Packet::from_bytes(&bytes).is_ok_and(|p| (self.lose)(&p)) {
            return;
        }
        self.link.push((self.now + LINK, to, bytes));
    }

    fn step(&mut self, limit: Duration) -> bool {
        let next = self.link.iter().map(|l| l.0).chain(self.pf.next_deadline()).chain(self.dev.next_deadline()).min();
        let Some(t) = next.filter(|t| *t <= limit) else { return false };
        self.now = self.now.max(t);
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.link).into_iter().partition(|l| l.0 <= now);
        self.link = rest;
        for (_, to, bytes) in due {
            if to == PF {
                for d in self.pf.on_datagram(DEV, &bytes, now) {
                    self.send(DEV, d.bytes);
                }
            } else {
                for b in self.dev.on_datagram(&bytes, now) {
                    self.send(PF, b);
                }
            }
        }
        for d in self.pf.poll(now) {
            self.send(DEV, d.bytes);
        }
        for b in self.dev.poll(now) {
            self.send(PF, b);
        }
        true
    }

    fn run_until(&mut self, done: impl Fn(&Sim) -> bool, limit: Duration) {
        while !done(self) && self.step(limit) {}
    }

    /// Starts the job and runs until it has an outcome (or an hour of virtual time has passed).
    fn sota(&mut self, job: SotaJob) -> (OpId, OpOutcome) {
        let (id, out) = self.pf.operate(None, Operation::Sota(job), self.now).expect("the job starts");
        for d in out {
            self.send(DEV, d.bytes);
        }
        self.run_until(|s| s.pf.outcome(id) != OpOutcome::Pending, Duration::from_secs(3600));
        (id, self.pf.outcome(id))
    }

    /// The platform's requests so far, decoded.
    fn sent(&mut self) -> Vec<Packet> {
        self.pf
            .take_records()
            .into_iter()
            .filter(|r| r.dir == WireDir::PlatformToUe)
            .filter_map(|r| Packet::from_bytes(&r.bytes).ok())
            .filter(|p| p.header.get_type() == MessageType::Confirmable)
            .collect()
    }
}

/// The summary (the code of an answered outcome) and when it came.
fn summary(o: &OpOutcome) -> (String, Duration) {
    match o {
        OpOutcome::Answered { code, at, .. } => (code.clone(), *at),
        other => panic!("a SOTA job ends answered, not {other:?}"),
    }
}

fn block1(p: &Packet) -> Option<Block> {
    Block::block1(p)
}

#[test]
fn the_package_file_is_the_lcg_sequence() {
    let p = package();
    assert_eq!(p.len(), 10_000);
    assert_eq!(p, lcg_package());
    assert_eq!(SotaJob::new(p).sha256(), "3fd6d497e93c5eaae5c6aa9377a277360e531cdc961dfd208a41abcbe90242ec");
}

#[test]
fn a_package_goes_down_in_512_byte_blocks_and_the_device_upgrades() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V1"));
    // Noise before the job: not CoAP, and an ACK nobody waits for.
    sim.link.push((sim.now + LINK, PF, vec![0xFF, 0x00, 0x13]));
    sim.link.push((sim.now + LINK, PF, vec![0x60, 0x44, 0x12, 0x34]));
    let (id, outcome) = sim.sota(SotaJob::new(package()).with_from("MCU_SW_V1"));
    let (text, at) = summary(&outcome);
    assert_eq!(text, "sota 10000 bytes in 20 blocks sha256=3fd6d497e93c5eaa MCU_SW_V1 -> MCU_SW_V2 erased");
    assert_eq!(sim.dev.package.as_deref(), Some(&package()[..]), "reassembled byte for byte");
    let sizes: Vec<usize> = sim.dev.blocks.iter().map(|b| b.1).collect();
    assert_eq!(sizes.len(), 20);
    assert!(sizes[..19].iter().all(|&s| s == 512));
    assert_eq!(sizes[19], 10_000 - 19 * 512, "272");
    assert_eq!(sim.dev.blocks.iter().map(|b| b.0).collect::<Vec<_>>(), (0..20).collect::<Vec<_>>());
    assert!(sim.dev.executed && sim.dev.erased);

    // The wire: read, 20 blocks, execute, read, erase; the device's update in between.
    let sent = sim.sent();
    let lines: Vec<String> = sent
        .iter()
        .map(|p| {
            let d = miplcheck_platform::record::describe(p);
            let head: Vec<&str> = d.split(' ').filter(|w| !w.starts_with("mid=") && !w.starts_with("token=")).collect();
            head[..head.len().min(3)].join(" ")
        })
        .collect();
    assert_eq!(lines.len(), 24, "{lines:?}");
    assert_eq!(lines[0], "CON GET /5/0/7");
    assert!(lines[1..21].iter().all(|l| l == "CON PUT /5/0/0"), "{lines:?}");
    assert_eq!(lines[21..], ["CON POST /5/0/2", "CON GET /5/0/7", "CON PUT /5/0/0"]);
    for p in sent[1..21].iter().chain(&sent[23..]) {
        assert_eq!(wire::number(p, CoapOption::ContentFormat), Some(42), "application/octet-stream");
    }
    for (k, p) in sent[1..21].iter().enumerate() {
        let b = block1(p).expect("every block has Block1");
        assert_eq!((b.num, b.more, b.szx), (k as u32, k < 19, 5));
        assert_eq!(wire::number(p, CoapOption::Size1), (k == 0).then_some(10_000));
    }
    let mids: std::collections::BTreeSet<u16> = sent.iter().map(|p| p.header.message_id).collect();
    assert_eq!(mids.len(), 24, "a new MID for every request");
    assert!(sent[22].payload.is_empty() && sent[23].payload.is_empty() && block1(&sent[23]).is_none());

    let r = sim.pf.sota_report(id).expect("a report");
    assert!(r.succeeded());
    assert_eq!((r.bytes, r.blocks, r.block_size), (10_000, 20, 512));
    assert_eq!(r.version_before.as_deref(), Some("MCU_SW_V1"));
    assert_eq!(r.version_after.as_deref(), Some("MCU_SW_V2"));
    let codes: Vec<(String, String)> =
        r.exchanges.iter().map(|x| (x.stage.to_string(), x.answer.clone().unwrap_or_default())).collect();
    assert_eq!(codes[0], ("version read".into(), "2.05".into()));
    assert_eq!(codes[1], ("block 0".into(), "2.31".into()));
    assert_eq!(codes[20], ("block 19".into(), "2.04".into()));
    assert_eq!(
        codes[21..],
        [
            ("execute".into(), "2.04".into()),
            ("registration update".into(), "update".into()),
            ("version read after update".into(), "2.05".into()),
            ("erase".into(), "2.04".into()),
        ]
    );
    assert_eq!(r.finished, Some(at));
    // The wait for the update is the MCU's upgrade: the execute and the update each cross once.
    let update = &r.exchanges[22];
    assert_eq!(update.answered.unwrap() - update.sent, Duration::from_secs(5));
}

#[test]
fn blocks_of_1024() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V1"));
    let job = SotaJob::new(package()).with_block_size(1024).unwrap();
    let (text, _) = summary(&sim.sota(job).1);
    assert!(text.starts_with("sota 10000 bytes in 10 blocks "), "{text}");
    assert_eq!(sim.dev.blocks.last(), Some(&(9, 10_000 - 9 * 1024)));
    assert_eq!(sim.dev.package.as_deref(), Some(&package()[..]));
}

#[test]
fn a_device_that_wants_smaller_blocks_gets_them() {
    let mut dev = FakeDevice::new("MCU_SW_V1");
    dev.prefer = Some(4);
    let mut sim = Sim::new(dev);
    let (id, outcome) = sim.sota(SotaJob::new(package()));
    let (text, _) = summary(&outcome);
    // 512 bytes in block 0, then 256-byte blocks from NUM 2: 1 + ⌈9488 / 256⌉ = 39.
    assert!(text.starts_with("sota 10000 bytes in 39 blocks "), "{text}");
    assert_eq!(sim.dev.blocks[..3], [(0, 512), (2, 256), (3, 256)]);
    assert_eq!(sim.dev.package.as_deref(), Some(&package()[..]));
    assert_eq!(sim.pf.sota_report(id).unwrap().block_size, 256);
}

#[test]
fn a_lost_answer_is_recovered_by_the_platforms_retransmission() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V1"));
    let mut lost = 0;
    sim.lose = Box::new(move |p| {
        let hit = lost == 0 && block1(p).is_some_and(|b| b.num == 5) && p.header.code != MessageClass::Empty;
        lost += usize::from(hit);
        hit
    });
    let (text, _) = summary(&sim.sota(SotaJob::new(package())).1);
    assert!(text.starts_with("sota 10000 bytes in 20 blocks ") && text.ends_with(" erased"), "{text}");
    assert_eq!(sim.dev.package.as_deref(), Some(&package()[..]));
    // The device stored block 5 once: the repeat was answered from its cache.
    assert_eq!(sim.dev.blocks.iter().filter(|b| b.0 == 5).count(), 1);
    let block5: Vec<u16> =
        sim.sent().iter().filter(|p| block1(p).is_some_and(|b| b.num == 5)).map(|p| p.header.message_id).collect();
    assert_eq!(block5.len(), 2, "sent twice");
    assert_eq!(block5[0], block5[1], "with the same MID");
}

#[test]
fn answers_later_than_ack_timeout_still_arrive() {
    let mut dev = FakeDevice::new("MCU_SW_V1");
    // The MCU answers each block after 3 s: past ACK_TIMEOUT, so every block is sent again and
    // the device ignores the repeat until its answer is ready.
    dev.mcu = Duration::from_secs(3);
    let mut sim = Sim::new(dev);
    let (text, _) = summary(&sim.sota(SotaJob::new(package())).1);
    assert!(text.starts_with("sota 10000 bytes in 20 blocks "), "{text}");
    assert_eq!(sim.dev.blocks.len(), 20);
    assert!(sim.sent().len() > 24, "retransmissions");
}

#[test]
fn a_version_mismatch_ends_the_job_before_the_download() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V0"));
    let (id, outcome) = sim.sota(SotaJob::new(package()).with_from("MCU_SW_V1"));
    assert_eq!(summary(&outcome).0, "sota failed: device reports version MCU_SW_V0, expected MCU_SW_V1");
    let sent = sim.sent();
    assert_eq!(sent.len(), 1, "only the version read");
    assert!(sim.dev.blocks.is_empty());
    assert_eq!(sim.pf.sota_report(id).unwrap().version_before.as_deref(), Some("MCU_SW_V0"));
}

#[test]
fn a_package_larger_than_mem_size_is_refused_at_block_0() {
    let mut dev = FakeDevice::new("MCU_SW_V1");
    dev.mem_size = 8192;
    let mut sim = Sim::new(dev);
    let (id, outcome) = sim.sota(SotaJob::new(package()));
    assert_eq!(summary(&outcome).0, "sota failed at block 0: 4.13");
    assert!(sim.dev.blocks.is_empty());
    let r = sim.pf.sota_report(id).unwrap();
    assert_eq!((r.blocks, r.failure.as_deref()), (0, Some("failed at block 0: 4.13")));
    assert_eq!(sim.sent().len(), 2, "no execute, no erase");
}

#[test]
fn a_write_failure_names_the_block() {
    let mut dev = FakeDevice::new("MCU_SW_V1");
    dev.fail_block = Some(3);
    let mut sim = Sim::new(dev);
    let (id, outcome) = sim.sota(SotaJob::new(package()));
    assert_eq!(summary(&outcome).0, "sota failed at block 3: 5.00");
    assert_eq!(sim.pf.sota_report(id).unwrap().blocks, 3);
    assert!(!sim.dev.executed);
}

#[test]
fn no_update_after_the_execute_ends_the_job() {
    let mut dev = FakeDevice::new("MCU_SW_V1");
    dev.sends_update = false;
    let mut sim = Sim::new(dev);
    let (id, outcome) = sim.sota(SotaJob::new(package()));
    let (text, at) = summary(&outcome);
    assert_eq!(text, "sota failed: no registration update within 120 s of the execute");
    let r = sim.pf.sota_report(id).unwrap();
    let wait = r.exchanges.iter().find(|x| x.stage == Stage::Update).unwrap();
    assert_eq!(at - wait.sent, Duration::from_secs(120));
    assert!(!sim.dev.erased);
}

#[test]
fn a_device_that_never_answers_a_block() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V1"));
    sim.lose = Box::new(|p| block1(p).is_some_and(|b| b.num == 7));
    let (_, outcome) = sim.sota(SotaJob::new(package()));
    assert_eq!(summary(&outcome).0, "sota failed at block 7: no answer");
    let OpOutcome::Answered { packet, .. } = outcome else { unreachable!() };
    assert_eq!(packet.header.code, MessageClass::Empty, "not block 6's 2.31");
}

#[test]
fn one_job_per_device_and_no_empty_packages() {
    let mut sim = Sim::new(FakeDevice::new("MCU_SW_V1"));
    let e = sim.pf.operate(None, Operation::Sota(SotaJob::new(vec![])), sim.now).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    sim.pf.operate(None, Operation::Sota(SotaJob::new(package())), sim.now).unwrap();
    let e = sim.pf.operate(None, Operation::Sota(SotaJob::new(package())), sim.now).unwrap_err();
    assert!(e.to_string().contains("already running"), "{e}");
}
