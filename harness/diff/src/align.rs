//! Two transcripts of one case, aligned step by step: send steps are paired by their label
//! (`setup 2`, `step 3`; a waiting step's lines stay with the command before it, since where it
//! starts depends on when the runner read), then the lines within a step are diffed (`similar`) on direction, class and text
//! with volatile values named ([`super::volatile`]), so a new message ID or port is not a change.
//!
//! The AT side stays under its step; the wire side (`UE→PF`, `PF→UE`) is compared as one block in
//! the platform's order, as the golden snapshots do: where a datagram falls relative to the
//! runner's steps depends on thread scheduling, while each side's own order is causal.

use super::volatile::{display, key, Volatile};
use miplcheck_record::{CaseRecord, Class, Dir, Line, LineKind};
use similar::{capture_diff_slices, Algorithm, DiffOp};

/// The label of the block that holds the wire side.
pub const WIRE: &str = "platform side (CoAP, in the platform's order)";
/// The label of lines before the first step header.
pub const BEFORE: &str = "before the first step";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Same,
    /// The line at this place says something else in B.
    Changed,
    /// In A only.
    Removed,
    /// In B only.
    Inserted,
}

/// A transcript line as shown in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub at_ms: Option<f64>,
    /// None for a note.
    pub dir: Option<Dir>,
    pub class: Option<Class>,
    pub text: String,
}

impl Shown {
    fn of(l: &Line) -> Self {
        let text = display(&l.text);
        // The timed transcript marks its notes with `##`; the report shows them as notes already.
        Shown { at_ms: l.at_ms, dir: l.dir, class: l.class, text }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineDiff {
    pub mark: Mark,
    pub a: Option<Shown>,
    pub b: Option<Shown>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepDiff {
    /// `step 3`, or [`WIRE`], or [`BEFORE`].
    pub label: String,
    /// The step header on each side (`step 3: send AT+MIPLOPEN=0,600,60`); none where the step is
    /// missing on that side.
    pub header_a: Option<String>,
    pub header_b: Option<String>,
    pub lines: Vec<LineDiff>,
}

impl StepDiff {
    pub fn header_changed(&self) -> bool {
        self.header_a != self.header_b
    }

    pub fn differs(&self) -> bool {
        self.header_changed() || self.lines.iter().any(|l| l.mark != Mark::Same)
    }

    /// What to call it: the header of either side, or the label.
    pub fn title(&self) -> &str {
        self.header_a.as_deref().or(self.header_b.as_deref()).unwrap_or(&self.label)
    }
}

struct Group<'a> {
    label: String,
    header: Option<String>,
    lines: Vec<&'a Line>,
}

fn is_wire(l: &Line) -> bool {
    l.is_wire()
}

fn groups(c: &CaseRecord) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    let mut wire: Vec<&Line> = Vec::new();
    for line in &c.transcript {
        if line.kind == LineKind::Step {
            let (label, what) = line.text.split_once(':').unwrap_or((&line.text, ""));
            // Only a command's header is a fixed point in the AT stream: where a waiting step
            // (urc, wire, answer) starts depends on when the runner read, not on what the modem
            // did, so its lines stay with the command before it (as in the golden snapshots).
            if what.trim_start().starts_with("send ") {
                out.push(Group { label: label.trim().to_string(), header: Some(line.text.clone()), lines: Vec::new() });
            }
        } else if is_wire(line) {
            wire.push(line);
        } else {
            if out.is_empty() {
                out.push(Group { label: BEFORE.into(), header: None, lines: Vec::new() });
            }
            if let Some(g) = out.last_mut() {
                g.lines.push(line);
            }
        }
    }
    for g in &mut out {
        // The TE's line is stamped when written and the echo when read, by different threads;
        // the TE writes before the modem can answer, so its lines go first.
        g.lines.sort_by_key(|l| l.dir != Some(Dir::TeToUe));
    }
    if !wire.is_empty() {
        out.push(Group { label: WIRE.into(), header: None, lines: wire });
    }
    out
}

/// Aligns the two transcripts of one case.
pub fn case(a: &CaseRecord, b: &CaseRecord) -> Vec<StepDiff> {
    let (va, vb) = (Volatile::learn(a), Volatile::learn(b));
    let (ga, gb) = (groups(a), groups(b));
    let la: Vec<&str> = ga.iter().map(|g| g.label.as_str()).collect();
    let lb: Vec<&str> = gb.iter().map(|g| g.label.as_str()).collect();
    let mut out = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &la, &lb) {
        match op {
            DiffOp::Equal { old_index, new_index, len } => {
                for i in 0..len {
                    out.push(pair(&ga[old_index + i], &va, &gb[new_index + i], &vb));
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                out.extend(ga[old_index..old_index + old_len].iter().map(|g| one_sided(g, true)));
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                out.extend(gb[new_index..new_index + new_len].iter().map(|g| one_sided(g, false)));
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                out.extend(ga[old_index..old_index + old_len].iter().map(|g| one_sided(g, true)));
                out.extend(gb[new_index..new_index + new_len].iter().map(|g| one_sided(g, false)));
            }
        }
    }
    out
}

fn one_sided(g: &Group<'_>, in_a: bool) -> StepDiff {
    let lines = g
        .lines
        .iter()
        .map(|l| {
            let s = Some(Shown::of(l));
            if in_a {
                LineDiff { mark: Mark::Removed, a: s, b: None }
            } else {
                LineDiff { mark: Mark::Inserted, a: None, b: s }
            }
        })
        .collect();
    let (header_a, header_b) = if in_a { (g.header.clone(), None) } else { (None, g.header.clone()) };
    StepDiff { label: g.label.clone(), header_a, header_b, lines }
}

fn pair(ga: &Group<'_>, va: &Volatile, gb: &Group<'_>, vb: &Volatile) -> StepDiff {
    StepDiff {
        label: ga.label.clone(),
        header_a: ga.header.clone(),
        header_b: gb.header.clone(),
        lines: lines(&ga.lines, va, &gb.lines, vb),
    }
}

/// Diffs the lines of one step: equal lines kept, a replaced run paired line by line where the
/// direction agrees (a changed answer), the rest removed or inserted.
pub fn lines(a: &[&Line], va: &Volatile, b: &[&Line], vb: &Volatile) -> Vec<LineDiff> {
    let ka: Vec<String> = a.iter().map(|l| key(va, l)).collect();
    let kb: Vec<String> = b.iter().map(|l| key(vb, l)).collect();
    let mut out = Vec::new();
    let removed = |l: &Line| LineDiff { mark: Mark::Removed, a: Some(Shown::of(l)), b: None };
    let inserted = |l: &Line| LineDiff { mark: Mark::Inserted, a: None, b: Some(Shown::of(l)) };
    for op in capture_diff_slices(Algorithm::Myers, &ka, &kb) {
        match op {
            DiffOp::Equal { old_index, new_index, len } => {
                for i in 0..len {
                    out.push(LineDiff {
                        mark: Mark::Same,
                        a: Some(Shown::of(a[old_index + i])),
                        b: Some(Shown::of(b[new_index + i])),
                    });
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                out.extend(a[old_index..old_index + old_len].iter().map(|l| removed(l)));
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                out.extend(b[new_index..new_index + new_len].iter().map(|l| inserted(l)));
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                let (ra, rb) = (&a[old_index..old_index + old_len], &b[new_index..new_index + new_len]);
                let mut j = 0;
                for la in ra {
                    // Pair with the next B line going the same way; B lines passed over are new.
                    match rb[j..].iter().position(|lb| lb.dir == la.dir && lb.kind == la.kind) {
                        Some(k) => {
                            out.extend(rb[j..j + k].iter().map(|l| inserted(l)));
                            out.push(LineDiff {
                                mark: Mark::Changed,
                                a: Some(Shown::of(la)),
                                b: Some(Shown::of(rb[j + k])),
                            });
                            j += k + 1;
                        }
                        None => out.push(removed(la)),
                    }
                }
                out.extend(rb[j..].iter().map(|l| inserted(l)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{case as record, entry, exchange, step};
    use miplcheck_record::{Class, Dir, Verdict};

    fn marks(steps: &[StepDiff]) -> Vec<(String, Mark)> {
        steps
            .iter()
            .flat_map(|s| s.lines.iter().map(move |l| (s.label.clone(), l.mark)))
            .filter(|(_, m)| *m != Mark::Same)
            .collect()
    }

    #[test]
    fn a_changed_answer_is_marked_but_a_new_mid_or_port_is_not() {
        let mut ta = vec![step("setup 1: send AT+MIPLCONFIG=1,${platform.host},${platform.port}")];
        ta.push(entry(Dir::TeToUe, None, "AT+MIPLCONFIG=1,127.0.0.1,40001\\r"));
        ta.push(entry(Dir::UeToTe, Some(Class::Final), "OK\\r\\n"));
        ta.extend(exchange("step 1", "AT+MIPLOPEN=0,600,60", &["OK"]));
        ta.push(entry(Dir::UeToPf, Some(Class::Coap), "CON POST /rd mid=100 token=AA"));
        ta.push(entry(Dir::PfToUe, Some(Class::Coap), "ACK 2.01 mid=100 token=AA"));
        let mut tb = vec![step("setup 1: send AT+MIPLCONFIG=1,${platform.host},${platform.port}")];
        tb.push(entry(Dir::TeToUe, None, "AT+MIPLCONFIG=1,127.0.0.1,40777\\r"));
        tb.push(entry(Dir::UeToTe, Some(Class::Final), "OK\\r\\n"));
        tb.extend(exchange("step 1", "AT+MIPLOPEN=0,600,60", &["+CME ERROR: 3"]));
        tb.push(entry(Dir::PfToUe, Some(Class::Coap), "ACK 2.01 mid=733 token=BB"));
        tb.insert(0, entry(Dir::UeToPf, Some(Class::Coap), "CON POST /rd mid=731 token=BB"));
        let a = record("register", "open", Verdict::Passed, ta, vec![]);
        let b = record("register", "open", Verdict::Passed, tb, vec![]);
        let steps = case(&a, &b);
        assert_eq!(marks(&steps), vec![("step 1".to_string(), Mark::Changed)]);
        let changed = steps.iter().flat_map(|s| &s.lines).find(|l| l.mark == Mark::Changed).unwrap();
        assert_eq!(changed.a.as_ref().unwrap().text, "OK");
        assert_eq!(changed.b.as_ref().unwrap().text, "+CME ERROR: 3");
        assert!(steps.iter().any(|s| s.label == WIRE && !s.differs()), "the wire side is equal: {steps:#?}");
    }

    #[test]
    fn extra_lines_and_missing_steps_are_inserted_and_removed() {
        let mut ta = exchange("step 1", "AT+MIPLCLOSE=0", &["OK"]);
        ta.push(entry(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,15\\r\\n"));
        ta.extend(exchange("step 2", "AT+MIPLDELETE=0", &["OK"]));
        let tb = exchange("step 1", "AT+MIPLCLOSE=0", &["OK"]);
        let steps = case(
            &record("register", "close", Verdict::Passed, ta, vec![]),
            &record("register", "close", Verdict::Passed, tb, vec![]),
        );
        assert_eq!(
            marks(&steps),
            vec![
                ("step 1".to_string(), Mark::Removed),
                ("step 2".to_string(), Mark::Removed),
                ("step 2".to_string(), Mark::Removed)
            ]
        );
        assert!(steps[1].header_changed() && steps[1].header_b.is_none());
    }

    #[test]
    fn a_changed_step_header_is_a_difference() {
        let a = record("s", "c", Verdict::Passed, exchange("step 1", "AT+MIPLOPEN=0,600,60", &["OK"]), vec![]);
        let b = record("s", "c", Verdict::Passed, exchange("step 1", "AT+MIPLOPEN=0,300,60", &["OK"]), vec![]);
        let steps = case(&a, &b);
        assert!(steps[0].header_changed());
        assert_eq!(marks(&steps), vec![("step 1".to_string(), Mark::Changed)]);
    }
}
