//! China Mobile M531X series (M5310-A, M5311, M5312, M5313, N10SG), "OneNET AT 指令" V1.6:
//! §1 standard commands, §2 additional commands, §3 `+CIS ERROR` codes, §4 events and `+MIPLNSMI`,
//! §5–6 the on-boarding flow and the full command sequence.
//!
//! The manual gives no 最大响应时间 (maximum response time) for any command, so every window is the
//! 300 ms default; it shows no test form (`=?`) for any command. Parameter names are those of each
//! command's own syntax line (§1–§2); §5 renames several (`<msgid>`, `<objectid>`, `<valuetype>`).
//!
//! Where the manual is inconsistent the table follows the command's own syntax line and says so in a
//! `//` comment at the entry: §1.4 spells MIPLDELOBJ's syntax `AT+MIPLADDOBJ=`; §1.17 and §1.19 write
//! `<msgid>,result>` while their descriptions say `<mid>`; §5.3.1.3 gives CREATEEX three arguments;
//! §1.13 prints `+MIPLWRITE` without `<index>`, §5.3.2.4 prints `+MIPLREAD` with a sixth field; the
//! event codes in §5.3.3.1 (11 for a NOTIFY ACK), §5.3.4 (20 for deregistration) and §5.3.5 (10 for
//! an update) differ from §1.7–§1.9 and §4.2 (26, 15, 11).

use super::{code, urc, Code, CommandSpec, Dialect, ErrorFamily, Rai, Restart, UrcSpec};
use crate::syntax::Form::{Exec, Query, Set};

const fn cmd(
    name: &'static str,
    section: &'static str,
    title: &'static str,
    forms: &'static [crate::syntax::Form],
    set: Option<&'static str>,
) -> CommandSpec {
    // The manual shows no test form and no maximum response time for any command.
    CommandSpec { name, section, title, forms, set, test_response: None, max_response_ms: 300 }
}

pub static M5310A: Dialect = Dialect {
    name: "m5310a",
    model: "M5310-A",
    manual: "China Mobile M531X OneNET AT 指令 V1.6 (2019)",
    commands: COMMANDS,
    urcs: URCS,
    events: EVENTS,
    result_codes: RESULT_CODES,
    errors: ERRORS,
    error_family: ErrorFamily::Cis,
    // §1.9: no RAI parameter; `<flag>` 0x200 / 0x400 carry it (0x100, §5.3.3.1 only, does not).
    rai: Rai::FlagBits { param: "flag", bits: 0x200 | 0x400 },
    // Its parameter names that BC39 spells otherwise for the same thing (`<mid>` is BC39's `<msgId>`).
    synonyms: &[
        ("mid", "msgid"),
        ("type", "valuetype"),
        ("data", "valuestring"),
        ("bitmap", "insbitmap"),
        ("atts", "attrcount"),
        ("acts", "actcount"),
        ("para", "parameter"),
        ("cmd", "arguments"),
    ],
    // The manual does not show the power-on output; these are the banner and ready lines its
    // firmware family prints.
    boot: &["RDY", "Boot*", "REBOOT*", "Neul"],
    manufacturer: "CMIOT",
    // The OneNET manual names no reset command. M5310-A's AT command set (V1.4, firmware
    // V150R100C10B300, the Boudica 150 family) reboots with `AT+NRB`: `REBOOTING`, then the
    // boot banner ending `Neul`, then `OK`: the final result of the `AT+NRB` itself.
    restart: &Restart {
        spec: cmd("+NRB", "M5310-A AT Command Set V1.4 (AT+NRB)", "reboot the module", &[Exec], None),
        command: "AT+NRB",
        answer: "REBOOTING",
        banner: &["Boot: Unsigned", "REBOOT_CAUSE_APPLICATION_AT", "Neul"],
        closing: Some("OK"),
        boot_ms: 1500,
    },
};

#[rustfmt::skip]
static COMMANDS: &[CommandSpec] = &[
    // §1.1 lists the set form (the config blob made by cis_cgtool) and the plain execute form
    // (bootstrap to the Chongqing platform); §5.3.1.2 repeats the set syntax.
    cmd("+MIPLCREATE", "M5310-A §1.1", "create a OneNET device instance", &[Set, Exec],
        Some("<totalsize>,<config>,<index>,<currentsize>,<flag>")),
    cmd("+MIPLDELETE", "M5310-A §1.2", "delete a OneNET device instance", &[Set], Some("<ref>")),
    cmd("+MIPLADDOBJ", "M5310-A §1.3", "add an object and its instances", &[Set],
        Some("<ref>,<objid>,<inscount>,<bitmap>,<atts>,<acts>")),
    // §1.4's syntax line reads `AT+MIPLADDOBJ=<ref>,<objid>` under the MIPLDELOBJ heading; §5.3.4
    // and §6.4 send `AT+MIPLDELOBJ=0,3200`.
    cmd("+MIPLDELOBJ", "M5310-A §1.4", "delete an object with its instances and resources", &[Set],
        Some("<ref>,<objid>")),
    // Sent before registration, keyed by object, not by a discover's msgid (BC39 §3.2.9 differs).
    // The manual calls the list `<data>`; BC39 calls it `<valuestring>`.
    cmd("+MIPLDISCOVERRSP", "M5310-A §1.5", "set an object's resource list for discover", &[Set],
        Some("<ref>,<objid>,<result>,<length>,<data>")),
    cmd("+MIPLOPEN", "M5310-A §1.6", "send the registration request, or ask whether registered", &[Set, Query],
        Some("<ref>,<lifetime>[,<timeout>]")),
    // §5.3.5 spells the last parameter `<withobjectflag>` and says to set it to 1; §1.7 says 0.
    cmd("+MIPLUPDATE", "M5310-A §1.7", "send an update request", &[Set],
        Some("<ref>,<lifetime>,<withObjectFlag>")),
    cmd("+MIPLCLOSE", "M5310-A §1.8", "send the deregistration request", &[Set], Some("<ref>")),
    // RAI is not a parameter: `<flag>` 0x200 / 0x400 (and 0x100, §5.3.3.1 only) carry it, and
    // `<type>` 6 is a hex string. §5.3.3.1 writes the same order as `<ref>,<msgid>,<objectid>,
    // <instanceid>,<resourceid>,<valuetype>,<len>,<value>,<index>,<flag>[,<ackid>]`.
    cmd("+MIPLNOTIFY", "M5310-A §1.9", "report a resource value", &[Set],
        Some("<ref>,<mid>,<objid>,<insid>,<resid>,<type>,<len>,<value>,<index>,<flag>[,<ackid>]")),
    cmd("+MIPLREADRSP", "M5310-A §1.11", "answer a read request", &[Set],
        Some("<ref>,<mid>,<result>[,<objid>,<insid>,<resid>,<type>,<len>,<value>,<index>,<flag>]")),
    cmd("+MIPLWRITERSP", "M5310-A §1.13", "answer a write request", &[Set], Some("<ref>,<mid>,<result>")),
    // §1.15's example sends `AT+MIPLEXECUTE=0,18174,2`, the URC's name; §6.3 sends EXECUTERSP.
    cmd("+MIPLEXECUTERSP", "M5310-A §1.15", "answer an execute request", &[Set], Some("<ref>,<mid>,<result>")),
    // §1.17's syntax line is `<ref>,<msgid>,result>` (a `<` lost); its description says `<mid>`.
    // Its example answers with result 1 though the table and the notes say 2 for success.
    cmd("+MIPLPARAMETERRSP", "M5310-A §1.17", "answer a write-attributes request", &[Set],
        Some("<ref>,<msgid>,<result>")),
    // §1.19's syntax line is `<ref>,<msgid>,result>`; its description says `<mid>` taken from
    // "+MIPLEXECUTE", and its example sends `AT+MIPLWRITEOBSERVERSP=0,18175,1`.
    cmd("+MIPLOBSERVERSP", "M5310-A §1.19", "answer an observe request", &[Set],
        Some("<ref>,<msgid>,<result>")),
    cmd("+MIPLNMI", "M5310-A §2.1", "downlink notification mode (nnmi) and send-result reports (nsmi)", &[Set, Query],
        Some("<ref>,<nnmi>,<nsmi>")),
    cmd("+MIPLMGR", "M5310-A §2.2", "fetch the next unread downlink operation", &[Set], Some("<ref>")),
    // The answer `+MIPLQMGR:<ref>,QUEUES=<queues>,DROPPED=<dropped>,BUFFERS=<buffers>` is an
    // information response, not a URC.
    cmd("+MIPLQMGR", "M5310-A §2.3", "downlink queue statistics", &[Set], Some("<ref>")),
    cmd("+MIPLUPDATESET", "M5310-A §2.4", "automatic update before the lifetime ends (M5310-A only)", &[Set],
        Some("<ref>,<enable>")),
    // §5.3.1.3 repeats this syntax (spelling `<psk>`) and then sends three arguments,
    // `AT+MIPLCREATEEX="nbiotbt.heclouds.com:5683",1,"cmiot"`, which the syntax does not allow;
    // §2.6's MIPLDEVINFO answer nests the group instead: `<host>,<flag>[,<authcode>[,<psk>]]`.
    cmd("+MIPLCREATEEX", "M5310-A §2.5", "create a OneNET device instance from host and flags", &[Set],
        Some("<host>,<flag>[,<authcode>,<PSK>]")),
    cmd("+MIPLDEVINFO", "M5310-A §2.6", "current device instance parameters", &[Query], None),
    cmd("+MIPLDTLSNAT", "M5310-A §2.7", "DTLS automatic renegotiation interval", &[Set], Some("<ref>,<timeout>")),
    cmd("+MIPLLTRDP", "M5310-A §2.8", "remaining lifetime after registration", &[Exec], None),
];

/// The TE answers READ within 3 s (§1.11: 平台侧现在推荐 3s 内; §5.3.3.2 says 5 s for a read) and
/// WRITE and EXECUTE "within a few seconds, 5–10 s recommended" (§5.3.3.2). DISCOVER, OBSERVE and
/// PARAMETER are answered by the module itself (§1.5, §1.16, §1.18).
#[rustfmt::skip]
static URCS: &[UrcSpec] = &[
    // §5.3.2.4 prints `+MIPLREAD:0,39123,3,0,-1,0`, with a sixth field.
    urc("+MIPLREAD", "M5310-A §1.10", "read request", "<ref>,<mid>,<objid>,<insid>,<resid>", Some(3)),
    // §1.13's example `+MIPLWRITE:0,18173,3200,0,5750,1,4,test,0` has no `<index>`, and §1.12's
    // description lists no `<index>`; §2.2's examples carry all ten fields.
    urc("+MIPLWRITE", "M5310-A §1.12", "write request",
        "<ref>,<mid>,<objid>,<insid>,<resid>,<type>,<len>,<value>,<flag>,<index>", Some(5)),
    urc("+MIPLEXECUTE", "M5310-A §1.14", "execute request",
        "<ref>,<mid>,<objid>,<insid>,<resid>[,<len>,<cmd>]", Some(5)),
    // The list in §1.16 names `stp` in its header and `st` in its rows; the examples send `stp`.
    urc("+MIPLPARAMETER", "M5310-A §1.16", "write-attributes request",
        "<ref>,<mid>,<objid>,<insid>,<resid>,<len>,<para>", None),
    // §1.19's example prints `+MIPLOBSERVE=0,18175,1,3200,0,5750` with `=`.
    urc("+MIPLOBSERVE", "M5310-A §1.18", "observe request", "<ref>,<mid>,<flag>,<objid>,<insid>,<resid>", None),
    // The manual has no syntax line for it: §5.3.2.4 shows `+MIPLDISCOVER:0,39122,3200` and §1.5
    // says the module answers it. The names follow the other requests.
    urc("+MIPLDISCOVER", "M5310-A §5.3.2.4", "discover request", "<ref>,<mid>,<objid>", None),
    // §1.6–§1.8 write `<ref>,<event>`, §1.9 `<ref>,<event>,<ackid>`; §1.9's description also says the
    // ACK is reported as `+MIPLNOTIFY:<ref>,<event_id>,<ackid>`, while its example shows +MIPLEVENT.
    urc("+MIPLEVENT", "M5310-A §4.1", "event", "<ref>,<evtid>[,<ackid>]", None),
    // Printed with `=` in §4.3: `+MIPLNSMI=<ref>,<status>,<num>`.
    urc("+MIPLNSMI", "M5310-A §4.3", "send result of NOTIFY/READRSP/WRITERSP/EXECUTERSP (nsmi=1)",
        "<ref>,<status>,<num>", None),
    // §2.1 names the notification of nnmi=1 ("通知格式为+MIPLNMI") but never gives its fields; the
    // emulator prints `+MIPLNMI:0`. `AT+MIPLNMI?`'s answer shares the prefix, as an information line.
    urc("+MIPLNMI", "M5310-A §2.1", "a downlink operation waits to be fetched (nnmi=1)", "<ref>", None),
];

#[rustfmt::skip]
static EVENTS: &[Code] = &[
    code(2, "bootstrap succeeded", "M5310-A §4.2"),
    code(3, "bootstrap failed", "M5310-A §4.2"),
    code(6, "registered on OneNET", "M5310-A §4.2"),
    code(7, "registration failed", "M5310-A §4.2"),
    // Only §5.3.5's example, commented as an update success; §1.7 and §4.2 say 11.
    code(10, "lifetime update succeeded (§5.3.5 only; §1.7 and §4.2 say 11)", "M5310-A §5.3.5"),
    // §5.3.3.1 also shows `+MIPLEVENT:0,11,147` for a NOTIFY ACK, which §1.9 and §4.2 give as 26.
    code(11, "update succeeded", "M5310-A §4.2"),
    code(15, "deregistered", "M5310-A §4.2"),
    // Only §5.3.4's example, commented as a deregistration success; §1.8 and §4.2 say 15.
    code(20, "deregistered (§5.3.4 only; §1.8 and §4.2 say 15)", "M5310-A §5.3.4"),
    code(26, "NOTIFY acknowledged by the platform (with <ackid>)", "M5310-A §4.2"),
    code(31, "device deleted by the platform", "M5310-A §4.2"),
    code(32, "DTLS: IP address aged out", "M5310-A §4.2"),
];

static RESULT_CODES: &[Code] = &[
    // Also the success of OBSERVERSP (§1.19); DISCOVERRSP's <result> is reserved and set to 1 (§1.5).
    code(1, "2.05 Content", "M5310-A §1.11"),
    code(2, "2.04 Changed", "M5310-A §1.13"),
    code(11, "4.00 Bad Request", "M5310-A §1.11"),
    code(12, "4.01 Unauthorized", "M5310-A §1.11"),
    code(13, "4.04 Not Found", "M5310-A §1.11"),
    code(14, "4.05 Method Not Allowed", "M5310-A §1.11"),
    // Listed for READRSP only.
    code(15, "4.06 Not Acceptable", "M5310-A §1.11"),
];

#[rustfmt::skip]
static ERRORS: &[Code] = &[
    code(601, "syntax error", "M5310-A §3.1"),
    // §3.1 gives both readings; §1.6 returns it for a query while not registered.
    code(602, "device not registered, or device registering / already registered", "M5310-A §3.1"),
    code(651, "operation not allowed", "M5310-A §3.1"),
    code(652, "uplink busy", "M5310-A §3.1"),
    code(653, "resource error: already exists when creating the device, does not exist otherwise", "M5310-A §3.1"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Misfit;
    use rstest::rstest;

    /// Every command line of the manual's examples (§1, §2, §4.3, §5, §6) reads against the table.
    /// Lines printed more than once appear once; `”` quotes of the PDF are written as `"`.
    #[rstest]
    #[case("AT+MIPLCREATE")] // §1.1
    #[case("AT+MIPLDISCOVERRSP=0,3200,1,14,\"5500;5501;5750\"")] // §1.5, printed with ” quotes
    #[case("AT+MIPLOPEN=0,300,30")] // §1.6
    #[case("AT+MIPLOPEN?")] // §1.6
    #[case("AT+MIPLUPDATE=0,0,0")] // §1.7
    #[case("AT+MIPLCLOSE=0")] // §1.8, §5.3.4, §6.4
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5500,5,1,\"0\",2,1")] // §1.9
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5501,3,3,\"-12\",1,2")] // §1.9
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"test\",0,0")] // §1.9, §4.3
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5505,2,10,\"E309C82FE6\",0,0x400,278")] // §1.9
    #[case("AT+MIPLREADRSP=0,18172,11")] // §1.11
    #[case("AT+MIPLREADRSP=0,18172,1,3200,0,5500,5,1,\"0\",2,1")] // §1.11
    #[case("AT+MIPLREADRSP=0,18172,1,3200,0,5501,3,3,\"-12\",1,2")] // §1.11
    #[case("AT+MIPLREADRSP=0,18172,1,3200,0,5750,1,4,\"test\",0,0")] // §1.11
    #[case("AT+MIPLWRITERSP=0,18173,2")] // §1.13, §4.3
    #[case("AT+MIPLPARAMETERRSP=0,18174,1")] // §1.17, §1.19
    #[case("AT+MIPLNMI=0,1,1")] // §2.1
    #[case("AT+MIPLMGR=0")] // §2.2
    #[case("AT+MIPLREADRSP=0,8172,1,3200,0,5500,5,1,\"0\",2,1")] // §2.2
    #[case("AT+MIPLREADRSP=0,8172,1,3200,0,5501,3,3,\"-12\",1,2")] // §2.2
    #[case("AT+MIPLREADRSP=0,8172,1,3200,0,5750,1,4,\"test\",0,0")] // §2.2
    #[case("AT+MIPLWRITERSP=0,8173,2")] // §2.2
    #[case("AT+MIPLQMGR=0")] // §2.3
    #[case("AT+MIPLUPDATESET=0,1")] // §2.4
    #[case("AT+MIPLCREATEEX=\"nbiotbt.heclouds.com\",1")] // §2.5, printed with ” quotes
    #[case("AT+MIPLDEVINFO?")] // §2.6, §5.4.2.4
    #[case("AT+MIPLDTLSNAT=0,120")] // §2.7
    #[case("AT+MIPLLTRDP")] // §2.8
    #[case("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1")] // §5.3.2.1, §6.2
    #[case("AT+MIPLDISCOVERRSP=0,3200,1,4,\"5750\"")] // §5.3.2.2, §6.2
    #[case("AT+MIPLOPEN=0,3000,30")] // §5.3.2.3, §6.2
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"abcd\",0,0")] // §5.3.3.1
    #[case("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"abcd\",0,0,147")] // §5.3.3.1, §6.3
    #[case("AT+MIPLDELOBJ=0,3200")] // §5.3.4, §6.4
    #[case("AT+MIPLDELETE=0")] // §5.3.4, §5.4.2.4, §6.4
    #[case("AT+MIPLUPDATE=0,300,1")] // §5.3.5
    #[case("AT+MIPLCREATEEX=\"nbiotacc.heclouds.com:5684\",0,,\"abcdefge\"")] // §5.4.2.3
    #[case("AT+MIPLOPEN=0,3000,60")] // §5.4.2.3, §5.4.2.4
    #[case("AT+MIPLCREATEEX=\"nbiotbt.heclouds.com:5684\",1,,\"1234abcd\"")] // §5.4.2.4
    #[case("AT+MIPLCREATEEX=\"183.230.40.40:5684\",0,,\"cPYxj0cTs9qMVL72\"")] // §5.4.2.4
    #[case("AT")] // §6.1
    #[case("AT+CSQ")] // §6.1
    #[case("AT+CEREG?")] // §6.1
    #[case("AT+CGATT?")] // §6.1
    #[case("AT+MIPLCREATE=56,130038F10…00000000,0,56,0")] // §6.2, the config blob elided as printed
    #[case("AT+MIPLREADRSP=0,32705,1,3200,0,5750,1,4,\"abcd\",0,0")] // §6.3, wrapped over two lines
    #[case("AT+MIPLWRITERSP=0,25845,2")] // §6.3
    #[case("AT+MIPLEXECUTERSP=0,18166,2")] // §6.3
    #[case("AT+MIPLUPDATE=0,3000,0")] // §6.5
    fn manual_command_examples_read(#[case] line: &str) {
        M5310A.read_command(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }

    /// Every URC line of the manual's examples. Information responses (`+MIPLCREATE:0`,
    /// `+MIPLCREATEEX:0`, `+MIPLQMGR: 0,QUEUES=3,…`, `+MIPLDEVINFO:…`, `+MIPLLTRDP:2087`) are not URCs.
    #[rstest]
    #[case("+MIPLEVENT:0,6", "evtid", "6")] // §1.6, §5.3.2.4, §5.4.2.3, §5.4.2.4
    #[case("+MIPLEVENT:0,7", "evtid", "7")] // §1.6, §5.3.2.4
    #[case("+MIPLEVENT:0,11", "evtid", "11")] // §1.7
    #[case("+MIPLEVENT:0,15", "evtid", "15")] // §1.8
    #[case("+MIPLEVENT:0,26,278", "ackid", "278")] // §1.9
    #[case("+MIPLREAD:0,18172,3200,0,5750", "resid", "5750")] // §1.11
    #[case("+MIPLREAD:0,18172,3200,0,-1", "resid", "-1")] // §1.11
    #[case("+MIPLEXECUTE:0,18174,3200,0,5750,4,\"test\"", "cmd", "test")] // §1.15, printed with ” quotes
    #[case(
        "+MIPLPARAMETER:0,18174,3200,0,5758,38,\"pmin=18;pmax=90;lt=0.0;gt=60.0;stp=2.0\"",
        "para",
        "pmin=18;pmax=90;lt=0.0;gt=60.0;stp=2.0"
    )] // §1.17
    #[case("+MIPLPARAMETER:0,18174,3200,0,5750,38,\"pmin=18;pmax=90;lt=0.0;gt=60.0;stp=2.0\"", "len", "38")] // §1.19
    #[case("+MIPLOBSERVE=0,18175,1,3200,0,5750", "flag", "1")] // §1.19, printed with `=`
    #[case("+MIPLREAD:0,8172,3200,0,-1", "mid", "8172")] // §2.2
    #[case("+MIPLWRITE:0,8173,3200,0,5501,3,4,1860,1,0", "flag", "1")] // §2.2
    #[case("+MIPLWRITE:0,8173,3200,0,5750,1,4,test,0,0", "value", "test")] // §2.2
    #[case("+MIPLNSMI=0,1,0", "num", "0")] // §4.3
    #[case("+MIPLNSMI=0,1,125", "num", "125")] // §4.3
    #[case("+MIPLEVENT:0,2", "evtid", "2")] // §5.3.2.4, §5.4.2.4
    #[case("+MIPLEVENT:0,3", "evtid", "3")] // §5.3.2.4
    #[case("+MIPLOBSERVE:0,39121,1,3200,0,-1", "resid", "-1")] // §5.3.2.4
    #[case("+MIPLDISCOVER:0,39122,3200", "objid", "3200")] // §5.3.2.4
    #[case("+MIPLEVENT:0,11,147", "ackid", "147")] // §5.3.3.1, event 11 where §1.9 has 26
    #[case("+MIPLEVENT:0,20", "evtid", "20")] // §5.3.4, where §1.8 has 15
    #[case("+MIPLEVENT:0,10", "evtid", "10")] // §5.3.5, where §1.7 has 11
    fn manual_urc_examples_read(#[case] line: &str, #[case] param: &str, #[case] value: &str) {
        let u = M5310A.read_urc(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(u.bound.get(param).unwrap().value(), value);
    }

    // Manual lines that do not read, and why:
    // - §1.15 `AT+MIPLEXECUTE=0,18174,2`: names the +MIPLEXECUTE URC; the answer is MIPLEXECUTERSP.
    // - §1.19 `AT+MIPLWRITEOBSERVERSP=0,18175,1`: no such command; MIPLOBSERVERSP is meant.
    // - §5.3.1.3 `AT+MIPLCREATEEX="nbiotbt.heclouds.com:5683",1,"cmiot"`: three arguments, where the
    //   syntax of §2.5 and §5.3.1.3 takes `<host>,<flag>` or all four with `<PSK>`.
    // - §1.13 `+MIPLWRITE:0,18173,3200,0,5750,1,4,test,0`: nine fields, `<index>` missing.
    // - §5.3.2.4 `+MIPLREAD:0,39123,3,0,-1,0`: six fields, one more than §1.10's syntax.
    // - §1.9 `+MIPLNOTIFY:<ref>,<event_id>,<ackid>` is prose, contradicted by the example's
    //   `+MIPLEVENT:0,26,278`; §2.1's `+MIPLNMI` notification has no fields given.
    #[rstest]
    #[case("AT+MIPLEXECUTE=0,18174,2")]
    #[case("AT+MIPLWRITEOBSERVERSP=0,18175,1")]
    fn garbled_command_names_are_unknown(#[case] line: &str) {
        assert!(matches!(M5310A.read_command(line), Err(Misfit::UnknownCommand(_))), "{line}");
    }

    #[test]
    fn examples_that_disagree_with_their_syntax_line_are_arity_misfits() {
        let createex = "AT+MIPLCREATEEX=\"nbiotbt.heclouds.com:5683\",1,\"cmiot\"";
        assert!(matches!(M5310A.read_command(createex), Err(Misfit::Arity { got: 3, .. })));
        assert!(matches!(
            M5310A.read_urc("+MIPLWRITE:0,18173,3200,0,5750,1,4,test,0"),
            Err(Misfit::Arity { got: 9, .. })
        ));
        assert!(matches!(M5310A.read_urc("+MIPLREAD:0,39123,3,0,-1,0"), Err(Misfit::Arity { got: 6, .. })));
    }

    #[test]
    fn notify_carries_rai_in_flag_and_ackid_last() {
        let line = "AT+MIPLNOTIFY=0,0,3200,0,5505,2,10,\"E309C82FE6\",0,0x400,278";
        let b = M5310A.read_command(line).unwrap().bound.unwrap();
        assert_eq!(b.get("index").unwrap().int(), Some(0));
        assert_eq!(b.get("flag").unwrap().int(), Some(0x400));
        assert_eq!(b.get("ackid").unwrap().int(), Some(278));
    }

    #[test]
    fn discoverrsp_is_keyed_by_object() {
        let b = M5310A.read_command("AT+MIPLDISCOVERRSP=0,3200,1,4,\"5750\"").unwrap().bound.unwrap();
        assert_eq!(b.get("objid").unwrap().value(), "3200");
        assert_eq!(b.get("data").unwrap().value(), "5750");
    }

    #[test]
    fn forms_not_in_the_manual_are_misfits() {
        assert!(matches!(M5310A.read_command("AT+MIPLCREATE=?"), Err(Misfit::UnsupportedForm { .. })));
        assert!(matches!(M5310A.read_command("AT+MIPLDEVINFO"), Err(Misfit::UnsupportedForm { .. })));
        assert!(matches!(M5310A.read_command("AT+MIPLOPEN=0"), Err(Misfit::Arity { .. })));
        // BC39's NOTIFY with `<ackid>,<raiMode>` has one argument too many here.
        let bc39_notify = "AT+MIPLNOTIFY=0,307353,3303,0,5701,1,3,\"Cel\",0,0,256,0x400";
        assert!(matches!(M5310A.read_command(bc39_notify), Err(Misfit::Arity { got: 12, .. })));
        assert!(matches!(M5310A.read_command("AT+MIPLCONFIG=2,1,9"), Err(Misfit::UnknownCommand(_))));
        assert!(matches!(M5310A.read_command("AT+MIPLVER?"), Err(Misfit::UnknownCommand(_))));
    }

    #[test]
    fn codes_of_the_manual() {
        assert_eq!(M5310A.error_family, ErrorFamily::Cis);
        let errors: Vec<u16> = M5310A.errors.iter().map(|e| e.code).collect();
        assert_eq!(errors, [601, 602, 651, 652, 653]);
        assert_eq!(M5310A.event(26).unwrap().section, "M5310-A §4.2");
        assert!(M5310A.event(1).is_none());
        assert_eq!(M5310A.max_response("AT+MIPLCLOSE=0"), std::time::Duration::from_millis(300));
    }
}
