//! Bytes → frames. A frame is one line (with its exact terminator and any blank lines before it)
//! or a prompt. Nothing is dropped: concatenating the `raw` of every frame gives the input back.
//!
//! Why terminators are read greedily (`\r+\n?`): modems end lines with `\r\n`, `\r\r\n` or a lone
//! `\r`, and an echoed `AT…\r` is immediately followed by the `\r\n` of the response. Treating any
//! run of `\r` optionally followed by `\n` as one terminator makes the frames the same however the
//! bytes were split across reads, so transcripts and snapshots are stable.

use std::time::Duration;

/// Monotonic time since the start of a link (real or virtual).
pub type Stamp = Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A line that ended with a terminator.
    Line,
    /// `> ` with no newline: the modem waits for data.
    Prompt,
    /// Bytes with no terminator, flushed because the link went quiet or closed.
    Fragment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    /// When the line's content was complete: when the first byte of its terminator arrived (for a
    /// prompt or fragment, its last byte). An echoed `AT…\r` is complete when its `\r` arrives,
    /// however long the answer whose `\r\n` the lexer waits for to close the terminator takes.
    pub at: Stamp,
    /// Exact bytes, including blank lines folded in front and the terminator.
    pub raw: Vec<u8>,
    /// Byte range of the line's content inside `raw` (no blank lines, no terminator).
    pub content: std::ops::Range<usize>,
}

impl Frame {
    pub fn content(&self) -> &[u8] {
        &self.raw[self.content.clone()]
    }

    /// How many bytes of `raw` had come by `at`: all but the terminator after its first byte
    /// for a line (the lexer stamps a line when that byte came, or later when the line came in
    /// one chunk, and then counting fewer is the safe side), all of them otherwise.
    pub fn bytes_by_stamp(&self) -> usize {
        match self.kind {
            FrameKind::Line => (self.content.end + 1).min(self.raw.len()),
            _ => self.raw.len(),
        }
    }

    /// The content as text; invalid UTF-8 becomes U+FFFD here but stays intact in `raw`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.content()).into_owned()
    }
}

/// Incremental lexer; feed it reads as they come.
#[derive(Debug, Default)]
pub struct Lexer {
    buf: Vec<u8>,
    /// Start of the current line's content inside `buf` (after folded blank lines).
    content_start: usize,
    /// Position up to which `buf` has been scanned.
    scanned: usize,
    /// An undecided terminator at the end of `buf`: where its first `\r` is and when it came.
    term_began: Option<(usize, Stamp)>,
}

/// A line longer than this is cut into fragments so garbage without newlines cannot grow memory.
pub const MAX_LINE: usize = 64 * 1024;

impl Lexer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes received but not yet part of a frame.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    pub fn push(&mut self, bytes: &[u8], at: Stamp) -> Vec<Frame> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end_content, end_term)) = self.next_terminator(at) {
            if end_content == self.content_start {
                // Blank line: fold it into the next frame.
                self.content_start = end_term;
                self.scanned = end_term;
                continue;
            }
            out.push(self.take(FrameKind::Line, end_content, end_term, at));
        }
        let content = &self.buf[self.content_start..];
        if content == b"> " {
            let end = self.buf.len();
            out.push(self.take(FrameKind::Prompt, end, end, at));
        } else {
            while self.buf.len() - self.content_start > MAX_LINE {
                let end = self.content_start + MAX_LINE;
                out.push(self.take(FrameKind::Fragment, end, end, at));
            }
        }
        out
    }

    /// Flush whatever is pending (the link went quiet or closed). A trailing lone `\r` counts as a
    /// terminator here, since no `\n` can follow any more.
    pub fn flush(&mut self, at: Stamp) -> Option<Frame> {
        if self.buf.is_empty() {
            return None;
        }
        let len = self.buf.len();
        let trimmed = len - self.buf.iter().rev().take_while(|&&b| b == b'\r').count();
        if trimmed < len && trimmed > self.content_start {
            return Some(self.take(FrameKind::Line, trimmed, len, at));
        }
        let end = self.buf.len();
        let content_end = if trimmed <= self.content_start { self.content_start } else { end };
        Some(self.take(FrameKind::Fragment, content_end, end, at))
    }

    /// Finds the next complete terminator after the current content: returns (content end, end of
    /// terminator). A `\r` run at the very end of the buffer is not complete yet: `\n` may follow.
    fn next_terminator(&mut self, at: Stamp) -> Option<(usize, usize)> {
        let start = self.scanned.max(self.content_start);
        let rel = self.buf[start..].iter().position(|&b| b == b'\r' || b == b'\n')?;
        let t = start + rel;
        let mut e = t;
        while e < self.buf.len() && self.buf[e] == b'\r' {
            e += 1;
        }
        if e < self.buf.len() && self.buf[e] == b'\n' {
            return Some((t, e + 1));
        }
        if e == self.buf.len() {
            // Undecided: wait for the next byte (or a flush), remembering when the line ended.
            self.scanned = t;
            if self.term_began.map(|(p, _)| p) != Some(t) {
                self.term_began = Some((t, at));
            }
            return None;
        }
        Some((t, e))
    }

    fn take(&mut self, kind: FrameKind, content_end: usize, end: usize, at: Stamp) -> Frame {
        let at = match self.term_began {
            Some((p, began)) if kind == FrameKind::Line && p == content_end => began,
            _ => at,
        };
        self.term_began = match self.term_began {
            Some((p, _)) if p < end => None,
            Some((p, began)) => Some((p - end, began)),
            None => None,
        };
        let raw: Vec<u8> = self.buf.drain(..end).collect();
        let frame = Frame { kind, at, raw, content: self.content_start..content_end };
        self.content_start = 0;
        self.scanned = 0;
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn lex_chunks(chunks: &[&[u8]]) -> Vec<(FrameKind, String, Vec<u8>)> {
        let mut lx = Lexer::new();
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            out.extend(lx.push(c, Duration::from_millis(i as u64)));
        }
        out.extend(lx.flush(Duration::from_secs(1)));
        out.into_iter().map(|f| (f.kind, f.text(), f.raw)).collect()
    }

    #[test]
    fn an_echo_is_stamped_when_its_cr_came_not_when_the_answer_closed_its_terminator() {
        let mut lx = Lexer::new();
        assert!(lx.push(b"AT+MIPLVER?\r", Duration::from_millis(2)).is_empty());
        let frames = lx.push(b"\r\n+MIPLVER: 2.3.0\r\n\r\nOK\r\n", Duration::from_millis(250));
        let stamps: Vec<(String, Stamp)> = frames.iter().map(|f| (f.text(), f.at)).collect();
        assert_eq!(
            stamps,
            [
                ("AT+MIPLVER?".to_string(), Duration::from_millis(2)),
                ("+MIPLVER: 2.3.0".to_string(), Duration::from_millis(250)),
                ("OK".to_string(), Duration::from_millis(250)),
            ]
        );
        // A lone `\r` closed by a flush is stamped when it came, too.
        assert!(lx.push(b"RDY\r", Duration::from_millis(300)).is_empty());
        assert_eq!(lx.flush(Duration::from_secs(1)).map(|f| f.at), Some(Duration::from_millis(300)));
        assert!(lx.push(b"x", Duration::from_secs(2)).is_empty());
        assert_eq!(lx.flush(Duration::from_secs(3)).map(|f| f.at), Some(Duration::from_secs(3)), "nothing left over");
    }

    #[test]
    fn the_bytes_by_a_lines_stamp_stop_at_its_terminators_first_byte() {
        let mut lx = Lexer::new();
        assert!(lx.push(b"\r\nOK\r", Duration::from_millis(5)).is_empty());
        let f = lx.push(b"\n", Duration::from_millis(6)).remove(0);
        assert_eq!((f.at, f.raw.len(), f.bytes_by_stamp()), (Duration::from_millis(5), 6, 5));
        let f = lx.push(b"+X\n", Duration::from_millis(7)).remove(0);
        assert_eq!(f.bytes_by_stamp(), 3, "a lone \\n is its own last byte");
        assert!(lx.push(b"partial", Duration::from_millis(8)).is_empty());
        assert_eq!(lx.flush(Duration::from_millis(9)).map(|f| f.bytes_by_stamp()), Some(7));
    }

    fn texts(chunks: &[&[u8]]) -> Vec<String> {
        lex_chunks(chunks).into_iter().map(|(_, t, _)| t).collect()
    }

    #[rstest]
    #[case::crlf(&["\r\nOK\r\n"], &["OK"])]
    #[case::cr_cr_lf(&["AT\r\r\nOK\r\r\n"], &["AT", "OK"])]
    #[case::lone_cr(&["+MIPLEVENT: 0,6\r+MIPLEVENT: 0,15\r"], &["+MIPLEVENT: 0,6", "+MIPLEVENT: 0,15"])]
    #[case::lf_only(&["OK\n"], &["OK"])]
    #[case::split_line(&["+MIPLCON", "FIG:2,2\r", "\n"], &["+MIPLCONFIG:2,2"])]
    #[case::split_terminator(&["OK\r", "\n+CSCON:1\r\n"], &["OK", "+CSCON:1"])]
    #[case::echo_then_response(&["AT+CGMR\r", "\r\nRevision: X\r\n\r\nOK\r\n"], &["AT+CGMR", "Revision: X", "OK"])]
    fn splits_lines(#[case] chunks: &[&str], #[case] want: &[&str]) {
        let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
        assert_eq!(texts(&chunks), want);
    }

    #[test]
    fn frames_do_not_depend_on_how_reads_were_split() {
        let input: &[u8] = b"AT+MIPLCREATE\r\r\n+MIPLCREATE:0\r\n\r\nOK\r\n+MIPLEVENT: 0,6\r\n";
        let whole = lex_chunks(&[input]);
        for split in 1..input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(lex_chunks(&[a, b]), whole, "split at {split}");
        }
        let one_by_one: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(lex_chunks(&one_by_one), whole);
    }

    #[test]
    fn raw_bytes_are_kept_exactly() {
        let input: &[u8] = b"\r\n+MIPLCONFIG:1,183.230.40.39,5683\r\n\r\nOK\r\n\xff\xfe garbage";
        let frames = lex_chunks(&[input]);
        let joined: Vec<u8> = frames.iter().flat_map(|(_, _, raw)| raw.clone()).collect();
        assert_eq!(joined, input);
        assert_eq!(frames[1].2, b"\r\nOK\r\n");
        assert_eq!(frames[2].0, FrameKind::Fragment);
        assert!(frames[2].1.contains("garbage"));
    }

    #[test]
    fn prompt_without_newline() {
        let frames = lex_chunks(&[b"AT+CMGS=3\r\r\n> "]);
        assert_eq!(frames[1].0, FrameKind::Prompt);
        assert_eq!(frames[1].2, b"> ");
    }

    #[test]
    fn trailing_lone_cr_is_a_line_once_flushed() {
        let mut lx = Lexer::new();
        assert!(lx.push(b"AT\r", Duration::ZERO).is_empty());
        let f = lx.flush(Duration::ZERO).unwrap();
        assert_eq!((f.kind, f.text()), (FrameKind::Line, "AT".to_string()));
        assert!(lx.flush(Duration::ZERO).is_none());
    }

    #[test]
    fn endless_garbage_is_cut_into_fragments() {
        let mut lx = Lexer::new();
        let frames = lx.push(&vec![b'x'; MAX_LINE * 2 + 10], Duration::ZERO);
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.kind == FrameKind::Fragment && f.raw.len() == MAX_LINE));
        assert_eq!(lx.pending().len(), 10);
    }
}
