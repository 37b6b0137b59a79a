//! How BC39 prints what the client reports (BC39 §4): URC spacing as §4's table (`+MIPLREAD: 0,…`),
//! event codes as §4.7.

use crate::notice::{event_fields, field as id, EventTable, Notice};
use crate::options::Options;
use miplcheck_lwm2m::wire;

/// BC39 §4.7, `<evtid>`.
pub const EVENTS: EventTable = &[
    ("bootstrap-started", 1),
    ("bootstrap-done", 2),
    ("bootstrap-failed", 3),
    ("connected", 4),
    ("connect-failed", 5),
    ("registered", 6),
    ("register-failed", 7),
    ("register-timeout", 8),
    ("lifetime-over", 9),
    ("halted", 10),
    ("update-done", 11),
    ("update-failed", 12),
    // §4.7 has no event for a device the platform deleted: its update failed.
    ("device-deleted", 12),
    ("update-timeout", 13),
    ("update-needed", 14),
    ("deregistered", 15),
    ("response-failed", 20),
    ("response-done", 21),
    ("notify-failed", 25),
    ("notify-acked", 26),
    ("fota-downloading", 40),
    ("fota-download-failed", 41),
    ("fota-downloaded", 42),
    ("fota-updating", 43),
    ("fota-updated", 44),
    ("fota-update-failed", 45),
    ("fota-update-over", 46),
    ("fota-interrupted", 47),
    ("fota-erased", 48),
    ("fota-erase-failed", 49),
    ("fota-not-for-module", 50),
    ("sota-downloading", 51),
    ("sota-downloaded", 52),
    ("sota-erase", 53),
    ("sota-upgrade", 54),
];

/// The lines for `n`; `hex_writes` is `AT+MIPLCONFIG=6,0` (written values shown in hex).
pub fn render(n: &Notice, opts: &Options, hex_writes: bool) -> Vec<String> {
    match n {
        Notice::Event(e) => {
            event_fields(EVENTS, &opts.quirks.events, e).map(|f| format!("+MIPLEVENT: {f}")).into_iter().collect()
        }
        Notice::Observe { id: msg, on, path, .. } => {
            vec![format!(
                "+MIPLOBSERVE: 0,{msg},{},{},{},{}",
                u8::from(*on),
                path.object,
                id(path.instance),
                id(path.resource)
            )]
        }
        Notice::Discover { mid, object, .. } => vec![format!("+MIPLDISCOVER: 0,{mid},{object}")],
        // The module answers `/3/0` itself and says nothing (BC39 §5.2.2 shows no such read).
        Notice::Read { answered: true, .. } => vec![],
        Notice::Read { mid, path, .. } => {
            vec![format!("+MIPLREAD: 0,{mid},{},{},{}", path.object, id(path.instance), id(path.resource))]
        }
        Notice::Parameter { mid, path, params, .. } => vec![format!(
            "+MIPLPARAMETER: 0,{mid},{},{},{},{},\"{params}\"",
            path.object,
            id(path.instance),
            id(path.resource),
            params.len()
        )],
        Notice::Execute { mid, path, args } => {
            let head = format!("+MIPLEXECUTE: 0,{mid},{},{},{}", path.object, id(path.instance), id(path.resource));
            if args.is_empty() {
                vec![head]
            } else {
                vec![format!("{head},{},\"{args}\"", args.len())]
            }
        }
        Notice::Write { mid, path, values, .. } => {
            let n = values.len();
            values
                .iter()
                .enumerate()
                .map(|(k, (p, bytes))| {
                    let shown = if hex_writes { wire::hex(bytes) } else { String::from_utf8_lossy(bytes).into_owned() };
                    // BC39 §4.4: value type shown as opaque (2); index N-1 … 0; flag 0.
                    format!(
                        "+MIPLWRITE: 0,{mid},{},{},{},2,{},{shown},0,{}",
                        path.object,
                        id(p.instance),
                        id(p.resource),
                        bytes.len(),
                        n - 1 - k
                    )
                })
                .collect()
        }
    }
}
