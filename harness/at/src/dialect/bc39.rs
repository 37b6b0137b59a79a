//! Quectel BC39, "OneNET 应用指导" V1.0 (2020-01-23): §3.2 commands, §4 URCs, §6 error codes.
//!
//! Where the manual is inconsistent the table follows the command's own page and the emulator's
//! behaviour records the difference (docs/dialects.md): the NOTIFY test response on §3.2.15 lacks a
//! comma between `<resId>` and `<valueType>`; §3.2.14 spells the command `MIPLPARAMETERERRSP` while
//! §5.6 and §4.6 say `MIPLPARAMETERRSP`.

use super::{code, urc, Code, CommandSpec, Dialect, ErrorFamily, Rai, Restart, UrcSpec};
use crate::syntax::Form::{Exec, Query, Set, Test};

const fn cmd(
    name: &'static str,
    section: &'static str,
    title: &'static str,
    forms: &'static [crate::syntax::Form],
    set: Option<&'static str>,
    test_response: Option<&'static str>,
) -> CommandSpec {
    CommandSpec { name, section, title, forms, set, test_response, max_response_ms: 300 }
}

pub static BC39: Dialect = Dialect {
    name: "bc39",
    model: "BC39",
    manual: "Quectel BC39 OneNET 应用指导 V1.0 (2020-01-23)",
    commands: COMMANDS,
    urcs: URCS,
    events: EVENTS,
    result_codes: RESULT_CODES,
    errors: ERRORS,
    error_family: ErrorFamily::Cme,
    // §3.2.9–§3.2.16: a trailing `<raiMode>`, 0 (none), 0x200 or 0x400.
    rai: Rai::Param("raiMode"),
    // Its names are the common ones the comparison uses (M5310-A maps onto them).
    synonyms: &[],
    // Quectel modules print a `Boot…` banner, then `RDY` once the AT port is ready.
    boot: &["RDY", "Boot*", "REBOOT*"],
    manufacturer: "Quectel",
    // The manual names no reset command; the BC-series AT manuals (BC66 §2.x, BC95 `AT+QRST`)
    // reset with `AT+QRST=1`, answering `OK`, and the module prints `RDY` once it is up.
    restart: &Restart {
        // `<mode>` 1: at once.
        spec: cmd(
            "+QRST",
            "Quectel BC66 AT Commands Manual (AT+QRST)",
            "reset the module",
            &[Test, Set],
            Some("<mode>"),
            Some("+QRST: (1)"),
        ),
        command: "AT+QRST=1",
        answer: "OK",
        banner: &["RDY"],
        closing: None,
        boot_ms: 1500,
    },
};

static COMMANDS: &[CommandSpec] = &[
    cmd("+MIPLCONFIG", "BC39 §3.2.1", "OneNET access configuration", &[Test, Query, Set],
        Some("<mode>,<parameter1>[,<parameter2>]"), Some("+MIPLCONFIG: <mode>,<parameter1>[,<parameter2>]")),
    cmd("+MIPLCREATE", "BC39 §3.2.2", "create a OneNET suite instance", &[Exec], None, None),
    CommandSpec { max_response_ms: 3000, ..cmd("+MIPLDELETE", "BC39 §3.2.3", "delete a OneNET suite instance", &[Test, Set],
        Some("<ref>"), Some("+MIPLDELETE: <ref>")) },
    cmd("+MIPLVER", "BC39 §3.2.4", "OneNET SDK version", &[Query], None, None),
    cmd("+MIPLADDOBJ", "BC39 §3.2.5", "add a LwM2M object", &[Test, Set],
        Some("<ref>,<objId>,<insCount>,<insBitmap>,<attrCount>,<actCount>"),
        Some("+MIPLADDOBJ: <ref>,<objId>,<insCount>,<insBitmap>,<attrCount>,<actCount>")),
    cmd("+MIPLDELOBJ", "BC39 §3.2.6", "delete a LwM2M object", &[Test, Set],
        Some("<ref>,<objId>"), Some("+MIPLDELOBJ: <ref>,<objId>")),
    cmd("+MIPLOPEN", "BC39 §3.2.7", "send the registration request", &[Test, Set],
        Some("<ref>,<lifetime>[,<timeout>]"), Some("+MIPLOPEN: <ref>,<lifetime>[,<timeout>]")),
    CommandSpec { max_response_ms: 3000, ..cmd("+MIPLCLOSE", "BC39 §3.2.8", "send the deregistration request", &[Test, Set],
        Some("<ref>"), Some("+MIPLCLOSE: <ref>")) },
    cmd("+MIPLDISCOVERRSP", "BC39 §3.2.9", "answer a discover request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<length>,<valuestring>[,<raiMode>]]"),
        Some("+MIPLDISCOVERRSP: <ref>,<msgId>,<result>[,<length>,<valuestring>[,<raiMode>]]")),
    cmd("+MIPLOBSERVERSP", "BC39 §3.2.10", "answer an observe request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<raiMode>]"), Some("+MIPLOBSERVERSP: <ref>,<msgId>,<result>[,<raiMode>]")),
    cmd("+MIPLREADRSP", "BC39 §3.2.11", "answer a read request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<objId>,<insId>,<resId>,<valueType>,<len>,<value>,<index>,<flag>[,<raiMode>]]"),
        Some("+MIPLREADRSP: <ref>,<msgId>,<result>[,<objId>,<insId>,<resId>,<valueType>,<len>,<value>,<index>,<flag>[,<raiMode>]]")),
    cmd("+MIPLWRITERSP", "BC39 §3.2.12", "answer a write request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<raiMode>]"), Some("+MIPLWRITERSP: <ref>,<msgId>,<result>[,<raiMode>]")),
    cmd("+MIPLEXECUTERSP", "BC39 §3.2.13", "answer an execute request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<raiMode>]"), Some("+MIPLEXECUTERSP: <ref>,<msgId>,<result>[,<raiMode>]")),
    cmd("+MIPLPARAMETERRSP", "BC39 §3.2.14", "answer a write-attributes request", &[Test, Set],
        Some("<ref>,<msgId>,<result>[,<raiMode>]"), Some("+MIPLPARAMETERRSP: <ref>,<msgId>,<result>[,<raiMode>]")),
    cmd("+MIPLNOTIFY", "BC39 §3.2.15", "notify data", &[Test, Set],
        Some("<ref>,<msgId>,<objId>,<insId>,<resId>,<valueType>,<len>,<value>,<index>,<flag>[,<ackId>[,<raiMode>]]"),
        Some("+MIPLNOTIFY: <ref>,<msgId>,<objId>,<insId>,<resId>,<valueType>,<len>,<value>,<index>,<flag>[,<ackId>[,<raiMode>]]")),
    cmd("+MIPLUPDATE", "BC39 §3.2.16", "send an update request", &[Test, Set],
        Some("<ref>,<lifetime>,<withObjectFlag>[,<raiMode>]"), Some("+MIPLUPDATE: <ref>,<lifetime>,<withObjectFlag>[,<raiMode>]")),
    cmd("+QSOTAINFO", "BC39 §3.2.17", "configure software upgrade information", &[Query, Set],
        Some("<sw_version>,<mem_size>"), None),
    cmd("+QSOTARESULT", "BC39 §3.2.18", "report a software upgrade result", &[Set], Some("<result>"), None),
];

static URCS: &[UrcSpec] = &[
    urc("+MIPLDISCOVER", "BC39 §4.1", "discover request", "<ref>,<msgId>,<objId>", Some(10)),
    urc("+MIPLOBSERVE", "BC39 §4.2", "observe request", "<ref>,<msgId>,<flag>,<objId>,<insId>,<resId>", Some(10)),
    urc("+MIPLREAD", "BC39 §4.3", "read request", "<ref>,<msgId>,<objId>,<insId>,<resId>", Some(10)),
    urc(
        "+MIPLWRITE",
        "BC39 §4.4",
        "write request",
        "<ref>,<msgId>,<objId>,<insId>,<resId>,<valueType>,<len>,<value>,<flag>,<index>",
        Some(10),
    ),
    urc(
        "+MIPLEXECUTE",
        "BC39 §4.5",
        "execute request",
        "<ref>,<msgId>,<objId>,<insId>,<resId>[,<len>,<arguments>]",
        Some(10),
    ),
    urc(
        "+MIPLPARAMETER",
        "BC39 §4.6",
        "write-attributes request",
        "<ref>,<msgId>,<objId>,<insId>,<resId>,<len>,<parameter>",
        Some(10),
    ),
    urc(
        "+MIPLEVENT",
        "BC39 §4.7",
        "event",
        "<ref>,<evtid>[,<extend>[,<ackId>[,<time_stamp>,<cache_command_flag>]]]",
        None,
    ),
];

static EVENTS: &[Code] = &[
    code(1, "bootstrap started", "BC39 §4.7"),
    code(2, "bootstrap succeeded", "BC39 §4.7"),
    code(3, "bootstrap failed", "BC39 §4.7"),
    code(4, "connected", "BC39 §4.7"),
    code(5, "connection failed", "BC39 §4.7"),
    code(6, "registered", "BC39 §4.7"),
    code(7, "registration failed", "BC39 §4.7"),
    code(8, "registration timed out", "BC39 §4.7"),
    code(9, "lifetime expired", "BC39 §4.7"),
    code(10, "stopped", "BC39 §4.7"),
    code(11, "update succeeded", "BC39 §4.7"),
    code(12, "update failed", "BC39 §4.7"),
    code(13, "update timed out", "BC39 §4.7"),
    code(14, "update needed", "BC39 §4.7"),
    code(15, "deregistered", "BC39 §4.7"),
    code(20, "response failed", "BC39 §4.7"),
    code(21, "response succeeded", "BC39 §4.7"),
    code(25, "notify failed", "BC39 §4.7"),
    code(26, "notify succeeded", "BC39 §4.7"),
    code(40, "firmware download", "BC39 §4.7"),
    code(41, "firmware download failed", "BC39 §4.7"),
    code(42, "firmware download complete", "BC39 §4.7"),
    code(43, "firmware update", "BC39 §4.7"),
    code(44, "firmware update succeeded", "BC39 §4.7"),
    code(45, "firmware update failed", "BC39 §4.7"),
    code(46, "firmware update complete", "BC39 §4.7"),
    code(47, "firmware download interrupted", "BC39 §4.7"),
    code(48, "firmware erase succeeded", "BC39 §4.7"),
    code(49, "firmware erase failed", "BC39 §4.7"),
    code(50, "firmware download triggered outside the module", "BC39 §4.7"),
    code(51, "software package download", "BC39 §4.7"),
    code(52, "software package download complete", "BC39 §4.7"),
    code(53, "software package erase", "BC39 §4.7"),
    code(54, "software package upgrade succeeded", "BC39 §4.7"),
];

static RESULT_CODES: &[Code] = &[
    code(1, "2.05 Content", "BC39 §3.2.9"),
    code(2, "2.04 Changed", "BC39 §3.2.12"),
    code(11, "4.00 Bad Request", "BC39 §3.2.9"),
    code(12, "4.01 Unauthorized", "BC39 §3.2.9"),
    code(13, "4.04 Not Found", "BC39 §3.2.9"),
    code(14, "4.05 Method Not Allowed", "BC39 §3.2.9"),
    code(15, "4.06 Not Acceptable", "BC39 §3.2.9"),
];

static ERRORS: &[Code] = &[
    code(3, "operation not allowed", "BC39 §6 table 3"),
    code(4, "operation not supported", "BC39 §6 table 3"),
    code(23, "memory failure", "BC39 §6 table 3"),
    code(30, "no network service", "BC39 §6 table 3"),
    code(50, "incorrect parameters", "BC39 §6 table 3"),
    code(51, "command implemented but currently disabled", "BC39 §6 table 3"),
    code(52, "command aborted by user", "BC39 §6 table 3"),
    code(159, "uplink busy / flow control", "BC39 §6 table 3"),
    code(300, "ME failure", "BC39 §6 table 4"),
    code(301, "SMS service of ME reserved", "BC39 §6 table 4"),
    code(302, "operation not allowed", "BC39 §6 table 4"),
    code(303, "operation not supported", "BC39 §6 table 4"),
    code(304, "invalid PDU mode parameter", "BC39 §6 table 4"),
    code(305, "invalid text mode parameter", "BC39 §6 table 4"),
    code(310, "USIM not inserted", "BC39 §6 table 4"),
    code(311, "USIM PIN required", "BC39 §6 table 4"),
    code(312, "PH-USIM PIN required", "BC39 §6 table 4"),
    code(313, "USIM failure", "BC39 §6 table 4"),
    code(314, "USIM busy", "BC39 §6 table 4"),
    code(315, "USIM wrong", "BC39 §6 table 4"),
    code(316, "USIM PUK required", "BC39 §6 table 4"),
    code(317, "USIM PIN2 required", "BC39 §6 table 4"),
    code(318, "USIM PUK2 required", "BC39 §6 table 4"),
    code(320, "memory failure", "BC39 §6 table 4"),
    code(321, "invalid memory index", "BC39 §6 table 4"),
    code(322, "memory full", "BC39 §6 table 4"),
    code(330, "SMSC address unknown", "BC39 §6 table 4"),
    code(331, "no network service", "BC39 §6 table 4"),
    code(332, "network timeout", "BC39 §6 table 4"),
    code(340, "no +CNMA acknowledgement expected", "BC39 §6 table 4"),
    code(500, "unknown error", "BC39 §6 table 4"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// Every command line of the manual's examples (§5) reads against the table.
    #[rstest]
    #[case("AT+MIPLCONFIG=1,183.230.40.39,5683")]
    #[case("AT+MIPLCONFIG=2,1,9")]
    #[case("AT+MIPLCONFIG=4,1,\"Quectel123\"")]
    #[case("AT+MIPLADDOBJ=0,3311,2,\"11\",4,2")]
    #[case("AT+MIPLOPEN=0,600,60")]
    #[case("AT+MIPLDISCOVERRSP=0,26384,1,19,\"5850;5851;5706;5805\"")]
    #[case("AT+MIPLREADRSP=0,3123,1,3311,0,5805,4,4,1.88,0,0")]
    #[case("AT+MIPLREADRSP=0,25466,1,3311,0,5706,1,10,\"1234567890\",1,0")]
    #[case("AT+MIPLWRITERSP=0,46584,2")]
    #[case("AT+MIPLEXECUTERSP=0,36476,2")]
    #[case("AT+MIPLPARAMETERRSP=0,56642,2")]
    #[case("AT+MIPLOBSERVERSP=0,29620,1")]
    #[case("AT+MIPLNOTIFY=0,122179,3303,0,5700,4,4,25.6,0,0")]
    #[case("AT+MIPLNOTIFY=0,307353,3303,0,5701,1,3,\"Cel\",0,0,256,0x400")]
    #[case("AT+MIPLUPDATE=0,86400,0,0x400")]
    #[case("AT+QSOTAINFO=\"MCU_SW_V1\",10240")]
    #[case("AT+QSOTARESULT=3")]
    #[case("AT+MIPLDELETE=0")]
    #[case("AT+MIPLCREATE")]
    #[case("AT+MIPLVER?")]
    fn manual_command_examples_read(#[case] line: &str) {
        BC39.read_command(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }

    #[rstest]
    #[case("+MIPLEVENT: 0,6", "evtid", "6")]
    #[case("+MIPLEVENT: 0,26,255", "extend", "255")]
    #[case("+MIPLDISCOVER: 0,26384,3311", "objId", "3311")]
    #[case("+MIPLOBSERVE: 0, 82187,1,3303,0,-1", "msgId", "82187")]
    #[case("+MIPLREAD: 0,39299,3311,-1,-1", "insId", "-1")]
    #[case("+MIPLWRITE: 0,46584,3311,0,5851,2,8,00000002DFDC1C3E,0,0", "value", "00000002DFDC1C3E")]
    #[case("+MIPLEXECUTE: 0,36476,3303,0,5605,5,\"reset\"", "arguments", "reset")]
    #[case("+MIPLPARAMETER: 0,56642,3303,0,5700,38,\"pmin=2;pmax=190;gt=100.0;lt=1.0;st=0.2\"", "len", "38")]
    #[case("+CSCON:1", "mode", "1")]
    fn manual_urc_examples_read(#[case] line: &str, #[case] param: &str, #[case] value: &str) {
        let u = BC39.read_urc(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(u.bound.get(param).unwrap().value(), value);
    }

    #[test]
    fn forms_not_in_the_manual_are_misfits() {
        assert!(matches!(BC39.read_command("AT+MIPLCREATE=?"), Err(crate::dialect::Misfit::UnsupportedForm { .. })));
        assert!(matches!(BC39.read_command("AT+MIPLOPEN=0"), Err(crate::dialect::Misfit::Arity { .. })));
        assert!(matches!(BC39.read_command("AT+MIPLNMI=0,1,1"), Err(crate::dialect::Misfit::UnknownCommand(_))));
    }
}
