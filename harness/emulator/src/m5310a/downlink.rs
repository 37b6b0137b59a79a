//! Downlink delivery modes (M5310-A §2.1–§2.3): `AT+MIPLNMI`, `AT+MIPLMGR`, `AT+MIPLQMGR`.
//!
//! In mode 0 a read, write or execute is printed at once; in mode 1 the TE only gets `+MIPLNMI:0`
//! (the manual names the notification but not its fields) and fetches the operation with
//! `AT+MIPLMGR`; in mode 2 it gets nothing. At most 40 operations wait (the oldest is dropped), and
//! the data of waiting writes and executes may not exceed 2 KB (the new one is dropped).

use super::{check_ref, cis, err, int, M5310a};
use crate::notice::Notice;
use crate::reply::Reply;
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::Form;
use std::collections::{BTreeMap, VecDeque};

pub const QUEUE_LIMIT: usize = 40;
pub const BUFFER_LIMIT: usize = 2048;

#[derive(Debug, Clone, PartialEq)]
struct Held {
    mid: u16,
    lines: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Downlink {
    pub nnmi: u8,
    pub nsmi: bool,
    queue: VecDeque<Held>,
    dropped: u32,
    /// Reads, writes and executes not answered yet, with the data each holds.
    unanswered: BTreeMap<u16, usize>,
}

impl Downlink {
    /// What the TE sees of a notice's `lines` now; operations may be held back.
    pub fn route(&mut self, n: &Notice, lines: Vec<String>) -> Vec<String> {
        let (mid, data) = match n {
            Notice::Read { mid, answered: false, .. } => (*mid, 0),
            Notice::Write { mid, values, .. } => (*mid, values.iter().map(|(_, v)| v.len()).sum()),
            Notice::Execute { mid, args, .. } => (*mid, args.len()),
            _ => return lines,
        };
        if self.nnmi == 0 {
            self.unanswered.insert(mid, data);
            return lines;
        }
        if self.buffered() + data > BUFFER_LIMIT {
            self.dropped += 1;
            return vec![];
        }
        self.unanswered.insert(mid, data);
        self.queue.push_back(Held { mid, lines });
        if self.queue.len() > QUEUE_LIMIT {
            if let Some(old) = self.queue.pop_front() {
                self.unanswered.remove(&old.mid);
                self.dropped += 1;
            }
        }
        if self.nnmi == 1 {
            vec!["+MIPLNMI:0".into()]
        } else {
            vec![]
        }
    }

    /// The TE answered `mid`: the next operation may be fetched.
    pub fn answered(&mut self, mid: u16) {
        self.unanswered.remove(&mid);
        self.queue.retain(|h| h.mid != mid);
    }

    /// A new registration starts new statistics (§2.3).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.unanswered.clear();
        self.dropped = 0;
    }

    fn buffered(&self) -> usize {
        self.unanswered.values().sum()
    }
}

pub fn handle(m: &mut M5310a, inv: &Invocation) -> Result<Reply, Reply> {
    let d = &mut m.downlink;
    match (inv.command.name.as_str(), inv.command.form) {
        ("+MIPLNMI", Form::Query) => Ok(Reply::ok().line(format!("+MIPLNMI:0,{},{}", d.nnmi, u8::from(d.nsmi)))),
        ("+MIPLNMI", _) => {
            check_ref(inv, "ref")?;
            let nnmi = int(inv, "nnmi", 0..=2)? as u8;
            let nsmi = int(inv, "nsmi", 0..=1)? == 1;
            d.nnmi = nnmi;
            d.nsmi = nsmi;
            Ok(Reply::ok())
        }
        ("+MIPLQMGR", _) => {
            check_ref(inv, "ref")?;
            Ok(Reply::ok().line(format!(
                "+MIPLQMGR:0,QUEUES={},DROPPED={},BUFFERS={}",
                d.unanswered.len(),
                d.dropped,
                d.buffered()
            )))
        }
        _ => {
            check_ref(inv, "ref")?;
            if !m.client.as_ref().is_some_and(crate::client::Client::registered) {
                return Err(err(cis::REGISTRATION));
            }
            // One operation at a time, until the TE answers it (§2.2).
            match d.queue.front() {
                Some(h) if d.nnmi != 0 => Ok(Reply::ok().lines(h.lines.clone())),
                _ => Ok(Reply::ok()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_lwm2m::Path;

    fn read(mid: u16) -> Notice {
        Notice::Read { mid, path: Path::instance(3200, 0), answered: false }
    }

    #[test]
    fn mode_1_holds_operations_and_says_so() {
        let mut d = Downlink { nnmi: 1, ..Default::default() };
        assert_eq!(d.route(&read(1), vec!["+MIPLREAD:0,1,3200,0,-1".into()]), ["+MIPLNMI:0"]);
        assert_eq!(d.queue.len(), 1);
        d.answered(1);
        assert!(d.queue.is_empty() && d.unanswered.is_empty());
    }

    #[test]
    fn the_oldest_of_41_is_dropped() {
        let mut d = Downlink { nnmi: 2, ..Default::default() };
        for mid in 0..=40 {
            assert!(d.route(&read(mid), vec![format!("r{mid}")]).is_empty());
        }
        assert_eq!((d.queue.len(), d.dropped), (40, 1));
        assert_eq!(d.queue.front().unwrap().mid, 1);
    }

    #[test]
    fn data_beyond_2k_drops_the_new_operation() {
        let mut d = Downlink { nnmi: 2, ..Default::default() };
        let w = |mid, n| Notice::Write {
            mid,
            path: Path::resource(3200, 0, 5750),
            format: None,
            values: vec![(Path::resource(3200, 0, 5750), vec![0; n])],
        };
        d.route(&w(1, 2000), vec![]);
        d.route(&w(2, 100), vec![]);
        assert_eq!((d.queue.len(), d.dropped, d.buffered()), (1, 1, 2000));
    }

    #[test]
    fn mode_0_prints_at_once_but_counts() {
        let mut d = Downlink::default();
        assert_eq!(d.route(&read(7), vec!["x".into()]), ["x"]);
        assert_eq!(d.unanswered.len(), 1);
    }
}
