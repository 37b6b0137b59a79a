//! What a caller can ask of a running mock platform, whichever clock it runs on: on real UDP on a
//! thread of its own ([`crate::udp::Handle`]) or in the emulator's virtual time
//! ([`crate::sim::SimPlatform`]). The runner's engine speaks only this, so a suite's `platform:`,
//! `answer:` and `wire:` steps mean the same on either.

use crate::record::WireRecord;
use crate::server::{Device, Fault, Interface, Note, OpId, OpOutcome, OperateError, Operation};
use crate::sota::SotaReport;
use std::net::SocketAddr;

/// A running platform.
pub trait Control {
    /// Where it listens: the address the modem is told.
    fn addr(&self) -> SocketAddr;

    /// Where it speaks DTLS only, on OneNET's port 5684 (M5310-A §2.5: the port is what turns
    /// DTLS on), at a loopback address of its own so platforms never share it.
    fn dtls_addr(&self) -> Option<SocketAddr>;

    /// Starts operation `op` on the device (see [`crate::Platform::operate`]).
    fn operate(&self, device: Option<&str>, op: Operation) -> Result<OpId, OperateError>;

    /// How operation `id` stands.
    fn outcome(&self, id: OpId) -> OpOutcome;

    /// What a SOTA job came to so far (see [`crate::Platform::sota_report`]).
    fn sota_report(&self, id: OpId) -> Option<SotaReport>;

    /// The devices registered now.
    fn devices(&self) -> Vec<Device<SocketAddr>>;

    /// Switches auto-observe for registrations from now on. Settings take effect before the call
    /// returns, so a registration that follows cannot race them.
    fn set_auto_observe(&self, on: bool);

    /// Speaks DTLS with this pre-shared key from now on (any identity), or plain CoAP with `None`.
    fn set_dtls(&self, psk: Option<Vec<u8>>);

    /// Requires this auth code (CoAP option 63) in registrations from now on, or none.
    fn set_auth_code(&self, code: Option<String>);

    /// Makes the bootstrap server give devices `uri` and `key` for the LwM2M server (M5310-A
    /// §5.4.2.1: a fresh PSK per bootstrap); the DTLS port then takes that key from a device that
    /// shakes hands again after its bootstrap.
    fn assign_psk(&self, assigned: Option<(String, Vec<u8>)>);

    /// Deletes the device's registration (the first whose endpoint name contains `device`, or
    /// the first of all), as OneNET's console does; the device is not told.
    fn delete_device(&self, device: Option<&str>) -> Result<(), OperateError>;

    /// Misbehaves on an interface from now on (refuse, or ignore), or behaves again with `None`.
    fn set_fault(&self, what: Interface, fault: Option<Fault>);

    /// Datagrams recorded since the last call, on the caller's clock (at most
    /// [`crate::MAX_RECORDS`]: past it the oldest are dropped, see [`Control::records_dropped`]).
    fn take_records(&self) -> Vec<WireRecord>;

    /// What the platform did on its own since the last call (see [`Note`]).
    fn take_notes(&self) -> Vec<Note>;

    /// Records dropped so far because nobody took them in time.
    fn records_dropped(&self) -> u64;
}
