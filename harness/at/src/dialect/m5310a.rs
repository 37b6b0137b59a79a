//! China Mobile M531X series (M5310-A, M5311, M5312, M5313, N10SG), "OneNET AT 指令" V1.6:
//! §1 standard commands, §2 additional commands, §3 `+CIS ERROR` codes, §4 events.

use super::{Code, CommandSpec, Dialect, ErrorFamily, UrcSpec};

pub static M5310A: Dialect = Dialect {
    name: "m5310a",
    manual: "China Mobile M531X OneNET AT 指令 V1.6 (2019)",
    commands: COMMANDS,
    urcs: URCS,
    events: EVENTS,
    result_codes: RESULT_CODES,
    errors: ERRORS,
    error_family: ErrorFamily::Cis,
};

static COMMANDS: &[CommandSpec] = &[];
static URCS: &[UrcSpec] = &[];
static EVENTS: &[Code] = &[];
static RESULT_CODES: &[Code] = &[];
static ERRORS: &[Code] = &[];
