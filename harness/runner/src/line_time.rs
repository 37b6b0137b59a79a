//! The characters' time on a serial line, and a `send:` step's response time corrected for it.
//!
//! The raw latency of a send step is "the final result code's chunk stamp − the time `write`
//! returned". On a UART at 9600 baud that includes tens or hundreds of milliseconds in which the
//! modem was not slow at all: its characters were on the wire. A modem's 最大响应时间 is about the
//! modem (how long it thinks), so windows are judged on the raw latency less two spans that
//! are the line's, not the modem's:
//!
//! 1. **The command's characters still in flight after `write` returned.** The driver queues the
//!    bytes; the line cannot have started sending them before `write` was called (`began`), so
//!    the command's last character reaches the modem no earlier than `began + n_cmd × t_char`.
//!    What of that lies after `write` returned (`sent`) is subtracted:
//!    `max(0, began + n_cmd × t_char − sent)`. A driver that returned only once the bytes were out
//!    leaves nothing to subtract.
//! 2. **The answer's characters up to the final result code's stamp**: every byte of the
//!    information lines with their CR LF, and of the final result code up to the first byte of
//!    its terminator (the lexer stamps a line when that byte came: `Frame::bytes_by_stamp`).
//!    They go out one after another after the modem began its answer, so it began no later than
//!    `final stamp − n_answer × t_char`.
//!
//! What is *not* subtracted, and why:
//! - **The echo.** A line is full-duplex: a modem echoes each character as it arrives (V.250
//!   §6.2.4, `E1`), so the echo travels while the command does and its time is already inside
//!   span 1. Subtracting it too would count the same milliseconds twice and could pass a late
//!   modem. A modem that echoes the whole line in one burst after the CR instead has its echo's
//!   time counted as its own: the corrected figure is then at most `n_echo × t_char` too high,
//!   the safe side.
//! - **URCs between the echo and the final result code.** They may have gone out before the
//!   answer began; counting them could make the figure lower than the modem's own time.
//!
//! So the corrected figure is never below the time the modem actually took, whatever the
//! driver's buffering: a window judged on it cannot pass a modem that was late. `t_char` is
//! `(1 start + data bits + 1 if parity + stop bits) / baud` (10 bits at 8N1: 1.04 ms at 9600).

use miplcheck_transport::serial::{frame, Parity};
use std::time::Duration;

/// A serial line's settings, as far as the characters' time on it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTime {
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl LineTime {
    /// `None` for a baud of 0, which no validated rig has: no correction rather than a division by 0.
    pub fn new(baud: u32, data_bits: u8, parity: Parity, stop_bits: u8) -> Option<LineTime> {
        (baud > 0).then_some(LineTime { baud, data_bits, parity, stop_bits })
    }

    /// Bits a character takes on the wire: start, data, parity, stop.
    pub fn bits(&self) -> u32 {
        1 + u32::from(self.data_bits) + u32::from(self.parity != Parity::None) + u32::from(self.stop_bits)
    }

    /// The time `n` characters take, back to back, rounded to the nanosecond.
    pub fn chars(&self, n: usize) -> Duration {
        let nanos = (n as u128) * u128::from(self.bits()) * 1_000_000_000 / u128::from(self.baud);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// `9600 8N1`, as failure messages and records name it.
    pub fn label(&self) -> String {
        format!("{} {}", self.baud, frame(self.data_bits, self.parity, self.stop_bits))
    }
}

/// The stamps and byte counts of one send step that the correction needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// Just before `write` was called.
    pub began: Duration,
    /// When `write` returned.
    pub sent: Duration,
    /// The final result code's chunk stamp.
    pub finished: Duration,
    /// Bytes written: the command and its line ending.
    pub command_bytes: usize,
    /// Bytes of the information lines, framing included, and of the final result code up to its
    /// stamp.
    pub answer_bytes: usize,
}

impl Exchange {
    /// The raw latency: the final result code's stamp − the time `write` returned.
    pub fn raw(&self) -> Duration {
        self.finished.saturating_sub(self.sent)
    }

    /// The raw latency less the command still in flight and the answer on the wire (see the
    /// module doc); the raw latency itself without a line.
    pub fn corrected(&self, line: Option<&LineTime>) -> Duration {
        let Some(line) = line else { return self.raw() };
        let in_flight = self.began.saturating_add(line.chars(self.command_bytes)).saturating_sub(self.sent);
        self.raw().saturating_sub(in_flight).saturating_sub(line.chars(self.answer_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::b9600_8n1(9600, 8, Parity::None, 1, 10, 1_041_666, "9600 8N1")]
    #[case::b9600_8e1(9600, 8, Parity::Even, 1, 11, 1_145_833, "9600 8E1")]
    #[case::b115200_8n1(115_200, 8, Parity::None, 1, 10, 86_805, "115200 8N1")]
    #[case::b9600_7e2(9600, 7, Parity::Even, 2, 11, 1_145_833, "9600 7E2")]
    #[case::b2400_8o2(2400, 8, Parity::Odd, 2, 12, 5_000_000, "2400 8O2")]
    #[case::b300_5n1(300, 5, Parity::None, 1, 7, 23_333_333, "300 5N1")]
    fn a_character_takes_its_bits_over_the_baud(
        #[case] baud: u32,
        #[case] data: u8,
        #[case] parity: Parity,
        #[case] stop: u8,
        #[case] bits: u32,
        #[case] one_char_ns: u64,
        #[case] label: &str,
    ) {
        let l = LineTime::new(baud, data, parity, stop).unwrap();
        assert_eq!(l.bits(), bits);
        assert_eq!(l.chars(1), Duration::from_nanos(one_char_ns));
        assert_eq!(l.label(), label);
        // Whole strings are computed at once, not as a sum of rounded characters.
        assert_eq!(l.chars(9600), Duration::from_nanos(u64::from(bits) * 1_000_000_000 * 9600 / u64::from(baud)));
    }

    #[test]
    fn no_line_at_zero_baud() {
        assert_eq!(LineTime::new(0, 8, Parity::None, 1), None);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const B9600: LineTime = LineTime { baud: 9600, data_bits: 8, parity: Parity::None, stop_bits: 1 };

    #[rstest]
    // `AT+MIPLCONFIG?\r` (15 bytes: 15.625 ms) written at once into the driver, 96 bytes back
    // (100 ms); the modem began 250 ms after the command arrived.
    #[case::buffered_write(0, 0, 15, 96, 365_625, 250_000)]
    // `write` returned after 5 ms: only the 10.625 ms of command still to go are subtracted.
    #[case::write_took_a_while(0, 5_000, 15, 96, 400_000, 284_375)]
    // `write` returned after the whole command was out: nothing of it to subtract.
    #[case::blocking_write(0, 20_000, 15, 96, 400_000, 280_000)]
    // An answer faster than its own characters (a stamp from before a chunk's end): never below 0.
    #[case::never_negative(0, 0, 15, 96, 10_000, 0)]
    fn the_corrected_figure_takes_off_the_line_time(
        #[case] began_us: u64,
        #[case] sent_us: u64,
        #[case] command_bytes: usize,
        #[case] answer_bytes: usize,
        #[case] finished_us: u64,
        #[case] want_us: u64,
    ) {
        let us = Duration::from_micros;
        let x =
            Exchange { began: us(began_us), sent: us(sent_us), finished: us(finished_us), command_bytes, answer_bytes };
        assert_eq!(x.raw(), us(finished_us - sent_us));
        let got = x.corrected(Some(&B9600));
        assert_eq!(got, us(want_us));
        assert_eq!(x.corrected(None), x.raw(), "no line, no correction");
    }

    #[test]
    fn the_issue_example_is_inside_its_window_once_corrected() {
        let x = Exchange { began: ms(0), sent: ms(0), finished: ms(383), command_bytes: 15, answer_bytes: 113 };
        let c = x.corrected(Some(&B9600));
        // 383 − 15.6 (command) − 117.7 (113 bytes of answer) ms.
        assert!(c < ms(300) && c > ms(240), "{c:?}");
    }
}
