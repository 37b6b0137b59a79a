//! RFC 2217 COM-PORT-OPTION (telnet option 44) subcommands and their values, and how the
//! harness's serial settings map onto them. Codes only: no I/O, no state.

use crate::serial::{FlowControl, Parity};

/// Client subcommand codes (the server answers with the same code plus [`SERVER_OFFSET`]).
///
/// SIGNATURE: asks for (or, with text, gives) the peer's signature.
pub const SIGNATURE: u8 = 0;
/// The baud rate, four bytes big-endian (0 asks for the current one).
pub const SET_BAUDRATE: u8 = 1;
/// Data bits, 5–8.
pub const SET_DATASIZE: u8 = 2;
/// Parity, see `PARITY_*`.
pub const SET_PARITY: u8 = 3;
/// Stop bits: 1, 2, or 3 for 1.5.
pub const SET_STOPSIZE: u8 = 4;
/// Flow control, break, DTR and RTS, see `CONTROL_*`.
pub const SET_CONTROL: u8 = 5;
/// The server's report of the UART's line state.
pub const NOTIFY_LINESTATE: u8 = 6;
/// The server's report of the modem lines (CD, RI, DSR, CTS).
pub const NOTIFY_MODEMSTATE: u8 = 7;
/// The peer asks the other to stop sending.
pub const FLOWCONTROL_SUSPEND: u8 = 8;
/// The peer lets the other send again.
pub const FLOWCONTROL_RESUME: u8 = 9;
/// Which line-state bits the server reports.
pub const SET_LINESTATE_MASK: u8 = 10;
/// Which modem-state bits the server reports.
pub const SET_MODEMSTATE_MASK: u8 = 11;
/// Empties the server's buffers, see [`PURGE_BOTH`].
pub const PURGE_DATA: u8 = 12;
/// Server-to-client codes are the client's plus 100.
pub const SERVER_OFFSET: u8 = 100;

/// SET-PARITY values.
/// No parity bit.
pub const PARITY_NONE: u8 = 1;
/// Odd parity.
pub const PARITY_ODD: u8 = 2;
/// Even parity.
pub const PARITY_EVEN: u8 = 3;

/// SET-CONTROL values this client sends.
/// No flow control.
pub const CONTROL_FLOW_NONE: u8 = 1;
/// XON/XOFF flow control.
pub const CONTROL_FLOW_XONXOFF: u8 = 2;
/// RTS/CTS flow control.
pub const CONTROL_FLOW_HARDWARE: u8 = 3;
/// Raise DTR.
pub const CONTROL_DTR_ON: u8 = 8;
/// Drop DTR.
pub const CONTROL_DTR_OFF: u8 = 9;
/// Raise RTS.
pub const CONTROL_RTS_ON: u8 = 11;
/// Drop RTS.
pub const CONTROL_RTS_OFF: u8 = 12;

/// PURGE-DATA: both the server's receive and transmit buffers.
pub const PURGE_BOTH: u8 = 3;

/// NOTIFY-LINESTATE bits that mean the line lost or mangled data.
pub const LINE_ERRORS: &[(u8, &str)] =
    &[(0x02, "overrun"), (0x04, "parity error"), (0x08, "framing error"), (0x10, "break")];

/// The RFC's name for a client subcommand code, for error messages.
pub fn name(code: u8) -> &'static str {
    match code {
        SIGNATURE => "SIGNATURE",
        SET_BAUDRATE => "SET-BAUDRATE",
        SET_DATASIZE => "SET-DATASIZE",
        SET_PARITY => "SET-PARITY",
        SET_STOPSIZE => "SET-STOPSIZE",
        SET_CONTROL => "SET-CONTROL",
        NOTIFY_LINESTATE => "NOTIFY-LINESTATE",
        NOTIFY_MODEMSTATE => "NOTIFY-MODEMSTATE",
        FLOWCONTROL_SUSPEND => "FLOWCONTROL-SUSPEND",
        FLOWCONTROL_RESUME => "FLOWCONTROL-RESUME",
        SET_LINESTATE_MASK => "SET-LINESTATE-MASK",
        SET_MODEMSTATE_MASK => "SET-MODEMSTATE-MASK",
        PURGE_DATA => "PURGE-DATA",
        _ => "unknown subcommand",
    }
}

/// The SET-PARITY value for `p`.
pub fn parity_value(p: Parity) -> u8 {
    match p {
        Parity::None => PARITY_NONE,
        Parity::Odd => PARITY_ODD,
        Parity::Even => PARITY_EVEN,
    }
}

/// The parity a SET-PARITY answer names; `None` for mark, space or anything else.
pub fn parity_from(value: u8) -> Option<Parity> {
    match value {
        PARITY_NONE => Some(Parity::None),
        PARITY_ODD => Some(Parity::Odd),
        PARITY_EVEN => Some(Parity::Even),
        _ => None,
    }
}

/// SET-STOPSIZE: 1 and 2 are themselves (3 would be 1.5, which the harness never asks for).
pub fn stop_value(stop_bits: u8) -> u8 {
    stop_bits
}

/// The SET-CONTROL value for flow control `f`.
pub fn flow_value(f: FlowControl) -> u8 {
    match f {
        FlowControl::None => CONTROL_FLOW_NONE,
        FlowControl::Software => CONTROL_FLOW_XONXOFF,
        FlowControl::Hardware => CONTROL_FLOW_HARDWARE,
    }
}

/// The line-error names set in a NOTIFY-LINESTATE value.
pub fn line_errors(state: u8) -> Vec<&'static str> {
    LINE_ERRORS.iter().filter(|(bit, _)| state & bit != 0).map(|(_, n)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parity_round_trips_and_line_errors_are_named() {
        for p in [Parity::None, Parity::Odd, Parity::Even] {
            assert_eq!(parity_from(parity_value(p)), Some(p));
        }
        assert_eq!(parity_from(4), None, "mark");
        assert_eq!(line_errors(0x61), Vec::<&str>::new(), "data ready, THR/TSR empty: no error");
        assert_eq!(line_errors(0x1a), vec!["overrun", "framing error", "break"]);
    }
}
