//! What the LwM2M client tells the TE, before a dialect words it.
//!
//! The client (`crate::client`) knows what happened (a read arrived, the update was accepted);
//! each dialect knows how its manual prints that (`+MIPLREAD: 0,…` or `+MIPLREAD:0,…`, event 15 or
//! event 20). Keeping the two apart is what lets a rig's quirk profile change a code without code.

use miplcheck_lwm2m::{ContentFormat, Path};

/// Something the TE is told about, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Event(Event),
    /// A discover for `object`; `answered` when the module answered it from lists the TE
    /// declared before registering (M5310-A §1.5).
    Discover {
        mid: u16,
        object: u16,
        answered: bool,
    },
    /// An observe (`on`) or its cancellation; `id` is the message ID the TE must quote.
    Observe {
        id: u32,
        on: bool,
        path: Path,
        answered: bool,
    },
    /// A read; `answered` when the module answered it itself (`/3/0`).
    Read {
        mid: u16,
        path: Path,
        answered: bool,
    },
    /// A write of one or more resources, each with the bytes the platform sent.
    Write {
        mid: u16,
        path: Path,
        format: Option<ContentFormat>,
        values: Vec<(Path, Vec<u8>)>,
    },
    Execute {
        mid: u16,
        path: Path,
        args: String,
    },
    /// Write-attributes: `pmin=…;pmax=…` as the query carried them.
    Parameter {
        mid: u16,
        path: Path,
        params: String,
        answered: bool,
    },
}

/// A state event, named for what happened. Each dialect maps it to its manual's `<evtid>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    BootstrapStarted,
    BootstrapDone,
    BootstrapFailed,
    Connected,
    ConnectFailed,
    Registered,
    RegisterFailed,
    RegisterTimeout,
    LifetimeOver,
    UpdateDone,
    UpdateFailed,
    UpdateTimeout,
    /// The lifetime ends in `left` seconds.
    UpdateNeeded {
        left: u64,
    },
    Deregistered,
    NotifyFailed {
        ackid: u16,
    },
    NotifyAcked {
        ackid: u16,
    },
    /// The instance stopped (BC39 §4.7 event 10): see `client::Phase::Stopped`.
    Halted,
    /// A separate CON response got no ACK (BC39 §4.7 event 20, `<extend>` the TE's message ID).
    ResponseFailed {
        msg_id: u32,
    },
    /// A separate CON response was acknowledged (BC39 §4.7 event 21).
    ResponseDone {
        msg_id: u32,
    },
    /// An update answered 4.04: the platform no longer knows the registration, it deleted the
    /// device (M5310-A §4.2 event 31, 设备被平台删除).
    Deleted,
    /// The DTLS association was quiet for the `AT+MIPLDTLSNAT` interval: the module takes its
    /// address as aged out of the NAT and negotiates again (M5310-A §2.7, §4.2 event 32).
    DtlsAged,
    SotaDownloading,
    SotaDownloaded,
    SotaErase,
    SotaUpgrade,
    /// The module's own firmware over object 5 (`crate::client::fota`, BC39 §4.7 events 40–50).
    FotaDownloading,
    FotaDownloadFailed,
    FotaDownloaded,
    FotaUpdating,
    FotaUpdated,
    FotaUpdateFailed,
    FotaUpdateOver,
    FotaInterrupted,
    FotaErased,
    FotaEraseFailed,
    FotaNotForModule,
}

impl Event {
    /// Every event name, as rig files spell them in `[emulator.quirks] events`.
    pub const NAMES: &'static [&'static str] = &[
        "bootstrap-started",
        "bootstrap-done",
        "bootstrap-failed",
        "connected",
        "connect-failed",
        "registered",
        "register-failed",
        "register-timeout",
        "lifetime-over",
        "update-done",
        "update-failed",
        "update-timeout",
        "update-needed",
        "deregistered",
        "notify-failed",
        "notify-acked",
        "sota-downloading",
        "sota-downloaded",
        "sota-erase",
        "sota-upgrade",
        "fota-downloading",
        "fota-download-failed",
        "fota-downloaded",
        "fota-updating",
        "fota-updated",
        "fota-update-failed",
        "fota-update-over",
        "fota-interrupted",
        "fota-erased",
        "fota-erase-failed",
        "fota-not-for-module",
        "halted",
        "response-failed",
        "response-done",
        "device-deleted",
        "dtls-address-aged",
    ];

    pub fn name(&self) -> &'static str {
        use Event::*;
        let i = match self {
            BootstrapStarted => 0,
            BootstrapDone => 1,
            BootstrapFailed => 2,
            Connected => 3,
            ConnectFailed => 4,
            Registered => 5,
            RegisterFailed => 6,
            RegisterTimeout => 7,
            LifetimeOver => 8,
            UpdateDone => 9,
            UpdateFailed => 10,
            UpdateTimeout => 11,
            UpdateNeeded { .. } => 12,
            Deregistered => 13,
            NotifyFailed { .. } => 14,
            NotifyAcked { .. } => 15,
            SotaDownloading => 16,
            SotaDownloaded => 17,
            SotaErase => 18,
            SotaUpgrade => 19,
            FotaDownloading => 20,
            FotaDownloadFailed => 21,
            FotaDownloaded => 22,
            FotaUpdating => 23,
            FotaUpdated => 24,
            FotaUpdateFailed => 25,
            FotaUpdateOver => 26,
            FotaInterrupted => 27,
            FotaErased => 28,
            FotaEraseFailed => 29,
            FotaNotForModule => 30,
            Halted => 31,
            ResponseFailed { .. } => 32,
            ResponseDone { .. } => 33,
            Deleted => 34,
            DtlsAged => 35,
        };
        Self::NAMES[i]
    }

    /// What follows the code in `+MIPLEVENT: <ref>,<evtid>[,<extend>]`.
    pub fn extend(&self) -> Option<u64> {
        match self {
            Event::UpdateNeeded { left } => Some(*left),
            Event::NotifyFailed { ackid } | Event::NotifyAcked { ackid } => Some(u64::from(*ackid)),
            // BC39 §4.7 defines `<extend>` for 20 (响应命令的消息 ID) and not for 21.
            Event::ResponseFailed { msg_id } => Some(u64::from(*msg_id)),
            _ => None,
        }
    }
}

/// A dialect's event codes: `(name, code)`; an event missing from the table is not reported.
pub type EventTable = &'static [(&'static str, u16)];

/// The code for `e`, with a rig's override first.
pub fn event_code(table: EventTable, overrides: &std::collections::BTreeMap<String, u16>, e: &Event) -> Option<u16> {
    let name = e.name();
    overrides.get(name).copied().or_else(|| table.iter().find(|(n, _)| *n == name).map(|(_, c)| *c))
}

/// `<ref>,<evtid>[,<extend>]` for an event the table reports; the dialect adds the prefix.
pub fn event_fields(
    table: EventTable,
    overrides: &std::collections::BTreeMap<String, u16>,
    e: &Event,
) -> Option<String> {
    let code = event_code(table, overrides, e)?;
    Some(match e.extend() {
        Some(x) => format!("0,{code},{x}"),
        None => format!("0,{code}"),
    })
}

/// An instance or resource ID as a URC prints it: -1 for "all".
pub fn field(id: Option<u16>) -> i64 {
    id.map(i64::from).unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_its_own_name() {
        let all = [
            Event::BootstrapStarted,
            Event::BootstrapDone,
            Event::BootstrapFailed,
            Event::Connected,
            Event::ConnectFailed,
            Event::Registered,
            Event::RegisterFailed,
            Event::RegisterTimeout,
            Event::LifetimeOver,
            Event::UpdateDone,
            Event::UpdateFailed,
            Event::UpdateTimeout,
            Event::UpdateNeeded { left: 1 },
            Event::Deregistered,
            Event::NotifyFailed { ackid: 1 },
            Event::NotifyAcked { ackid: 1 },
            Event::SotaDownloading,
            Event::SotaDownloaded,
            Event::SotaErase,
            Event::SotaUpgrade,
            Event::FotaDownloading,
            Event::FotaDownloadFailed,
            Event::FotaDownloaded,
            Event::FotaUpdating,
            Event::FotaUpdated,
            Event::FotaUpdateFailed,
            Event::FotaUpdateOver,
            Event::FotaInterrupted,
            Event::FotaErased,
            Event::FotaEraseFailed,
            Event::FotaNotForModule,
            Event::Halted,
            Event::ResponseFailed { msg_id: 1 },
            Event::ResponseDone { msg_id: 1 },
            Event::Deleted,
            Event::DtlsAged,
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(Event::name).collect();
        assert_eq!(names.len(), Event::NAMES.len());
    }

    #[test]
    fn overrides_win() {
        let table: EventTable = &[("deregistered", 15)];
        let mut o = std::collections::BTreeMap::new();
        assert_eq!(event_code(table, &o, &Event::Deregistered), Some(15));
        o.insert("deregistered".to_string(), 20);
        assert_eq!(event_code(table, &o, &Event::Deregistered), Some(20));
        assert_eq!(event_code(table, &o, &Event::Connected), None);
    }

    /// BC39 §4.7 gives `<extend>` for 20 (the response's message ID) and 14, not for 21.
    #[rstest::rstest]
    #[case(Event::ResponseFailed { msg_id: 18172 }, Some(18172))]
    #[case(Event::ResponseDone { msg_id: 18172 }, None)]
    #[case(Event::Halted, None)]
    #[case(Event::UpdateNeeded { left: 30 }, Some(30))]
    fn extend_follows_section_4_7(#[case] e: Event, #[case] extend: Option<u64>) {
        assert_eq!(e.extend(), extend);
    }
}
