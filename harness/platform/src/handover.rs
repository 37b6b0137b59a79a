//! What a platform driver hands over to its caller: the records and notes the platform made,
//! bounded like the platform's own buffers, so a caller that takes them late loses the oldest, and
//! says how many.

use crate::record::WireRecord;
use crate::server::{Note, Platform, MAX_NOTES, MAX_RECORDS};
use std::net::SocketAddr;

/// What the platform's thread hands over, bounded like the platform's own buffers.
#[derive(Default)]
pub(crate) struct Taken {
    pub(crate) records: std::collections::VecDeque<WireRecord>,
    pub(crate) notes: std::collections::VecDeque<Note>,
    pub(crate) dropped: u64,
}

impl Taken {
    pub(crate) fn extend(&mut self, pf: &mut Platform<SocketAddr>) {
        for r in pf.take_records() {
            if self.records.len() >= MAX_RECORDS {
                self.records.pop_front();
                self.dropped += 1;
            }
            self.records.push_back(r);
        }
        for n in pf.take_notes() {
            if self.notes.len() >= MAX_NOTES {
                self.notes.pop_front();
            }
            self.notes.push_back(n);
        }
    }
}
