//! The 3GPP TS 27.007 / V.250 commands every host driver sends before any MIPL command, shared by
//! both dialects. Sections cite the 3GPP spec since the MIPL manuals only name them.

use super::{CommandSpec, UrcSpec};
use crate::syntax::Form::{Exec, Query, Set, Test};

const fn basic(
    name: &'static str,
    title: &'static str,
    forms: &'static [crate::syntax::Form],
    set: Option<&'static str>,
) -> CommandSpec {
    CommandSpec { name, section: "3GPP TS 27.007", title, forms, set, test_response: None, max_response_ms: 300 }
}

pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec { section: "ITU-T V.250", ..basic("", "attention", &[Exec], None) },
    CommandSpec { section: "ITU-T V.250", ..basic("E0", "echo off", &[Exec], None) },
    CommandSpec { section: "ITU-T V.250", ..basic("E1", "echo on", &[Exec], None) },
    CommandSpec { section: "ITU-T V.250 §6.1.3", ..basic("I", "request identification information", &[Exec], None) },
    CommandSpec {
        section: "3GPP TS 27.007 §5.1",
        ..basic("+CGMI", "manufacturer identification", &[Test, Exec], None)
    },
    CommandSpec { section: "3GPP TS 27.007 §5.2", ..basic("+CGMM", "model identification", &[Test, Exec], None) },
    basic("+CGMR", "firmware revision", &[Test, Exec], None),
    basic("+CGSN", "IMEI / serial number", &[Test, Exec, Set], Some("<snt>")),
    basic("+CIMI", "IMSI", &[Test, Exec], None),
    basic("+CMEE", "report mobile termination error", &[Test, Query, Set], Some("<n>")),
    basic("+CSQ", "signal quality", &[Test, Exec], None),
    basic("+CEREG", "EPS network registration status", &[Test, Query, Set], Some("<n>")),
    basic("+CGATT", "PS attach or detach", &[Test, Query, Set], Some("<state>")),
    CommandSpec {
        section: "3GPP TS 27.007 §10.1.14",
        ..basic("+CGPADDR", "show PDP addresses", &[Test, Exec, Set], Some("<cid>"))
    },
    basic("+CSCON", "signalling connection status", &[Test, Query, Set], Some("<n>")),
    CommandSpec {
        max_response_ms: 85_000,
        ..basic("+CFUN", "set phone functionality", &[Test, Query, Set], Some("<fun>[,<rst>]"))
    },
];

pub(super) static URCS: &[UrcSpec] = &[
    UrcSpec {
        name: "+CSCON",
        section: "3GPP TS 27.007 §10.1.31; BC39 §5.8.5",
        title: "RRC connection established (1) or released (0)",
        signature: "<mode>",
        answer_within_s: None,
    },
    UrcSpec {
        name: "+CEREG",
        section: "3GPP TS 27.007 §10.1.22",
        title: "EPS registration status changed",
        signature: "<stat>[,<tac>,<ci>,<AcT>]",
        answer_within_s: None,
    },
];
