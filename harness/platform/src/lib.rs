//! miplcheck's mock OneNET platform.
//!
//! [`Platform`] is a sans-I/O LwM2M server over [`miplcheck_lwm2m::endpoint::Endpoint`]: give it
//! datagrams and the time, send what it returns. It registers devices (and bootstraps them),
//! checks the OneNET auth code in CoAP option 63, observes, discovers and reads as OneNET does
//! right after registration (auto-observe), and runs the operations a suite asks for, SOTA jobs
//! ([`sota`]) and FOTA jobs ([`fota`]) among them. Every datagram either way becomes a [`record::WireRecord`], decoded for
//! transcripts. It runs on real UDP ([`udp`], a thread of its own) or in virtual time ([`sim`],
//! driven by whoever owns the clock); callers speak to either through [`Control`].

mod control;
mod dtls_link;
pub mod fota;
mod handover;
pub mod http;
pub mod pcapng;
pub mod record;
mod server;
pub mod sim;
pub mod sota;
pub mod udp;

pub use control::Control;
pub use dtls_link::{dtls_addr_for, MAX_DTLS_SESSIONS};
pub use fota::{package_revision, FotaError, FotaFault, FotaJob};
pub use record::{WireDir, WireRecord};
pub use server::{
    Device, Fault, Interface, Note, OpId, OpOutcome, OperateError, Operation, Platform, PlatformOptions,
    DEFAULT_LIFETIME, LIFETIME_GRACE, MAX_BOOTSTRAPS, MAX_DEVICES, MAX_NOTES, MAX_NOTIFICATIONS, MAX_OBSERVATIONS,
    MAX_OFFLINE, MAX_OUTCOMES, MAX_PENDING, MAX_PENDING_PER_DEVICE, MAX_RECORDS,
};
pub use sota::{SotaError, SotaJob, SotaReport};
