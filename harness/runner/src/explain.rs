//! Why a transcript differs from its golden snapshot, in a firmware engineer's words.
//!
//! A diff says which lines changed; a qualification engineer wants to know *how*: the modem stopped
//! printing a space after `:`, reports event 20 where the manual's syntax page says 15, prints a
//! URC before the `OK` of the command that caused it, or shows a request twice. Each difference
//! has a [`Kind`], so a rig can declare some kinds tolerated (`[tolerate]`).

use miplcheck_at::syntax::event_code;
use miplcheck_at::Dialect;
use similar::{DiffOp, TextDiff};

/// What sort of departure a difference is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Blanks after `:` differ.
    ColonSpace,
    /// Blanks after `,` differ.
    CommaSpace,
    /// `+MIPLEVENT` reports another code for the same moment.
    EventCode { expected: u16, got: u16 },
    /// A URC comes before the final result code of the command that caused it.
    UrcBeforeFinal,
    /// A line the golden transcript has once now appears again, unchanged.
    Repeated,
    /// Anything else: a line gone, added or changed.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: Kind,
    pub says: String,
}

/// One transcript line: direction, class and content (`\r\n` framing removed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    class: String,
    content: String,
}

fn parse(line: &str) -> Line {
    let mut parts = line.splitn(2, char::is_whitespace);
    let _dir = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default().trim_start();
    let (class, content) = match rest.split_once(char::is_whitespace) {
        Some((c, body)) if ["urc", "final", "info", "echo", "stale", "coap", "prompt"].contains(&c) => {
            (c.to_string(), body.trim_start())
        }
        _ => (String::new(), rest),
    };
    let content = content.trim_start_matches("\\r\\n").trim_end_matches("\\r\\n").trim_end_matches("\\r");
    Line { class, content: content.to_string() }
}

fn without_blanks(s: &str) -> String {
    let mut out = String::new();
    let mut after = false;
    for c in s.chars() {
        if c == ' ' && after {
            continue;
        }
        after = c == ':' || c == ',';
        out.push(c);
    }
    out
}

/// A line's class and content with blanks after `:` and `,` ignored.
fn key(line: &str) -> (String, String) {
    let l = parse(line);
    (l.class, without_blanks(&l.content))
}

/// The same URC, field by field, where a field named in one (`{mid#1}`) may be a value in the
/// other: a captured message ID is named only where the suite claimed it.
fn same_request(a: &str, b: &str) -> bool {
    let (a, b) = (without_blanks(a), without_blanks(b));
    let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
    let named = |f: &str| f.starts_with('{') && f.ends_with('}');
    fa.len() == fb.len() && fa.iter().zip(&fb).all(|(x, y)| x == y || named(x) || named(y))
}

fn blanks_after(s: &str, sep: char) -> usize {
    s.match_indices(sep).filter(|(i, _)| s[i + 1..].starts_with(' ')).count()
}

fn meaning(d: &Dialect, code: u16) -> String {
    match d.event(code) {
        Some(c) => format!("{} ({})", c.meaning, c.section),
        None => format!("not an event of the {} manual", d.name),
    }
}

/// When a suite waited for `+MIPLEVENT: <ref>,<code>` and the modem reported another code, what
/// the two codes mean, so the failure reads as a difference of event, not a missing line.
pub fn event_instead(expected: &str, seen: &[String], dialect: &Dialect) -> Option<String> {
    let want = event_code(expected.trim())?;
    let got = seen.iter().filter_map(|l| event_code(l.trim())).find(|c| *c != want)?;
    Some(format!("event {got} came instead: {want} is {}; {got} is {}", meaning(dialect, want), meaning(dialect, got)))
}

/// The differences between the golden transcript `old` and this run's `new`.
///
/// Changed lines are first matched by content with blanks ignored; matches that keep their order
/// are spacing changes, the others have moved. What is left is paired in order (an event code
/// that changed), and the rest is extra or missing.
pub fn differences(old: &str, new: &str, dialect: &Dialect) -> Vec<Difference> {
    let old_lines: Vec<&str> = old.trim_end().lines().collect();
    let new_lines: Vec<&str> = new.trim_end().lines().collect();
    let diff = TextDiff::from_slices(&old_lines, &new_lines);
    let (mut gone, mut added): (Vec<usize>, Vec<usize>) = (vec![], vec![]);
    // Unchanged lines before each position: a line matched across a different number of them
    // has moved past one of them.
    let (mut anchors_old, mut anchors_new) = (vec![0usize; old_lines.len() + 1], vec![0usize; new_lines.len() + 1]);
    for op in diff.ops() {
        if let DiffOp::Equal { old_index, new_index, len } = *op {
            for k in 0..len {
                anchors_old[old_index + k + 1] = 1;
                anchors_new[new_index + k + 1] = 1;
            }
        }
    }
    for v in [&mut anchors_old, &mut anchors_new] {
        for i in 1..v.len() {
            v[i] += v[i - 1];
        }
    }
    for op in diff.ops() {
        match *op {
            DiffOp::Delete { old_index, old_len, .. } => gone.extend(old_index..old_index + old_len),
            DiffOp::Insert { new_index, new_len, .. } => added.extend(new_index..new_index + new_len),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                gone.extend(old_index..old_index + old_len);
                added.extend(new_index..new_index + new_len);
            }
            DiffOp::Equal { .. } => {}
        }
    }
    // Match by content, blanks ignored.
    let mut matched: Vec<(usize, usize)> = vec![];
    let mut rest_added = added.clone();
    let mut rest_gone = vec![];
    for g in gone {
        match rest_added.iter().position(|&a| key(old_lines[g]) == key(new_lines[a])) {
            Some(k) => matched.push((g, rest_added.remove(k))),
            None => rest_gone.push(g),
        }
    }
    let in_place = increasing(&matched);
    let mut out: Vec<Difference> = vec![];
    for (k, &(g, a)) in matched.iter().enumerate() {
        if in_place.contains(&k) && anchors_old[g] == anchors_new[a] {
            out.extend(changed(&parse(old_lines[g]), &parse(new_lines[a]), dialect));
        } else {
            out.push(moved_line(&new_lines, a));
        }
    }
    // What is left: changed in place, or extra, or gone.
    let n = rest_gone.len().min(rest_added.len());
    let (pair_gone, only_gone) = rest_gone.split_at(n);
    let mut extra = vec![];
    for (g, a) in pair_gone.iter().zip(rest_added.iter()) {
        let (o, l) = (parse(old_lines[*g]), parse(new_lines[*a]));
        if o.class == l.class {
            out.extend(changed(&o, &l, dialect));
        } else {
            extra.push(*a);
            out.push(Difference { kind: Kind::Other, says: format!("`{}` no longer appears", o.content) });
        }
    }
    extra.extend(rest_added.iter().skip(n));
    for a in extra {
        out.push(extra_line(&old_lines, &new_lines, a));
    }
    for g in only_gone {
        let l = parse(old_lines[*g]);
        out.push(Difference { kind: Kind::Other, says: format!("`{}` no longer appears", l.content) });
    }
    out.retain(|d| !d.says.is_empty());
    out.dedup_by(|a, b| a.says == b.says);
    summarise_spacing(out)
}

/// The positions in `pairs` (old index, new index; in old order) that keep their order: the
/// longest run whose new indices increase.
fn increasing(pairs: &[(usize, usize)]) -> Vec<usize> {
    let n = pairs.len();
    let (mut len, mut prev) = (vec![1usize; n], vec![usize::MAX; n]);
    for i in 0..n {
        for j in 0..i {
            if pairs[j].1 < pairs[i].1 && len[j] + 1 > len[i] {
                len[i] = len[j] + 1;
                prev[i] = j;
            }
        }
    }
    let mut out = vec![];
    let mut at = (0..n).max_by_key(|&i| (len[i], std::cmp::Reverse(i)));
    while let Some(i) = at {
        out.push(i);
        at = (prev[i] != usize::MAX).then_some(prev[i]);
    }
    out
}

fn extra_line(old_lines: &[&str], new_lines: &[&str], a: usize) -> Difference {
    let l = parse(new_lines[a]);
    let alike = |x: &&str| {
        let o = parse(x);
        o.class == l.class && same_request(&o.content, &l.content)
    };
    let twice = l.class == "urc"
        && new_lines.iter().filter(|x| alike(x)).count() > old_lines.iter().filter(|x| alike(x)).count();
    if twice {
        Difference {
            kind: Kind::Repeated,
            says: format!(
                "`{}` is printed again, with the same message ID: the modem shows the platform's re-sent request as a new one",
                l.content
            ),
        }
    } else {
        Difference { kind: Kind::Other, says: format!("an extra line: `{}`", l.content) }
    }
}

/// Spacing changes every line alike: one sentence per kind, with the first line as the example.
fn summarise_spacing(diffs: Vec<Difference>) -> Vec<Difference> {
    let mut out: Vec<Difference> = vec![];
    for kind in [Kind::ColonSpace, Kind::CommaSpace] {
        let same: Vec<&Difference> = diffs.iter().filter(|d| d.kind == kind).collect();
        if let Some(first) = same.first() {
            let says = if same.len() == 1 {
                first.says.clone()
            } else {
                format!("{} (and {} more lines alike)", first.says, same.len() - 1)
            };
            out.push(Difference { kind, says });
        }
    }
    out.extend(diffs.into_iter().filter(|d| !matches!(d.kind, Kind::ColonSpace | Kind::CommaSpace)));
    out
}

fn moved_line(new_lines: &[&str], at: usize) -> Difference {
    let l = parse(new_lines[at]);
    let next_final = new_lines[at + 1..].iter().map(|x| parse(x)).find(|x| x.class != "urc");
    let command = new_lines[..at]
        .iter()
        .rev()
        .find(|x| x.starts_with("TE→UE"))
        .map(|x| parse(x).content.trim_end_matches("\\r").to_string());
    match (l.class.as_str(), next_final) {
        ("urc", Some(f)) if f.class == "final" => Difference {
            kind: Kind::UrcBeforeFinal,
            says: format!(
                "`{}` now comes before the `{}` of `{}`, the command that caused it",
                l.content,
                f.content,
                command.unwrap_or_default()
            ),
        },
        ("final", _) => Difference {
            kind: Kind::UrcBeforeFinal,
            says: format!("the `{}` of `{}` now comes after the URC it caused", l.content, command.unwrap_or_default()),
        },
        _ => Difference { kind: Kind::Other, says: format!("`{}` comes at another place", l.content) },
    }
}

fn changed(a: &Line, b: &Line, dialect: &Dialect) -> Vec<Difference> {
    let mut out = vec![];
    if a == b {
        return out;
    }
    if without_blanks(&a.content) == without_blanks(&b.content) {
        for (sep, kind) in [(':', Kind::ColonSpace), (',', Kind::CommaSpace)] {
            let (x, y) = (blanks_after(&a.content, sep), blanks_after(&b.content, sep));
            if x != y {
                let how = if y > x { format!("a space after `{sep}`") } else { format!("no space after `{sep}`") };
                out.push(Difference { kind, says: format!("`{}` is now `{}`: {how}", a.content, b.content) });
            }
        }
        return out;
    }
    if let (Some(x), Some(y)) = (event_code(&a.content), event_code(&b.content)) {
        if x != y {
            return vec![Difference {
                kind: Kind::EventCode { expected: x, got: y },
                says: format!(
                    "event {y} came where the golden transcript has event {x}: {x} is {}; {y} is {}",
                    meaning(dialect, x),
                    meaning(dialect, y)
                ),
            }];
        }
    }
    vec![Difference { kind: Kind::Other, says: format!("`{}` is now `{}`", a.content, b.content) }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::dialect::M5310A;

    fn kinds(old: &str, new: &str) -> Vec<Kind> {
        differences(old, new, &M5310A).into_iter().map(|d| d.kind).collect()
    }

    #[test]
    fn spacing_is_named() {
        let d = differences(
            "UE→TE urc    \\r\\n+MIPLEVENT:0,6\\r\\n",
            "UE→TE urc    \\r\\n+MIPLEVENT: 0, 6\\r\\n",
            &M5310A,
        );
        assert_eq!(d.iter().map(|d| d.kind.clone()).collect::<Vec<_>>(), [Kind::ColonSpace, Kind::CommaSpace]);
        assert!(d[0].says.contains("a space after `:`"), "{}", d[0].says);
    }

    #[test]
    fn an_event_code_is_explained_from_the_manual() {
        let d = differences(
            "UE→TE urc    \\r\\n+MIPLEVENT:0,15\\r\\n",
            "UE→TE urc    \\r\\n+MIPLEVENT:0,20\\r\\n",
            &M5310A,
        );
        assert_eq!(d[0].kind, Kind::EventCode { expected: 15, got: 20 });
        assert!(d[0].says.contains("§5.3.4") && d[0].says.contains("§4.2"), "{}", d[0].says);
    }

    #[test]
    fn a_urc_ahead_of_ok() {
        let old = "TE→UE        AT+MIPLCLOSE=0\\r\nUE→TE final  OK\\r\\n\nUE→TE urc    \\r\\n+MIPLEVENT:0,15\\r\\n";
        let new =
            "TE→UE        AT+MIPLCLOSE=0\\r\nUE→TE urc    \\r\\n+MIPLEVENT:0,15\\r\\n\nUE→TE final  \\r\\nOK\\r\\n";
        let d = differences(old, new, &M5310A);
        assert!(d.iter().all(|d| d.kind == Kind::UrcBeforeFinal), "{d:?}");
        assert!(d[0].says.contains("AT+MIPLCLOSE=0"), "{}", d[0].says);
    }

    #[test]
    fn a_repeated_request() {
        let old = "UE→TE urc    \\r\\n+MIPLREAD:0,{mid#1},3200,0,5750\\r\\n\nTE→UE        AT+X\\r";
        let new = "UE→TE urc    \\r\\n+MIPLREAD:0,{mid#1},3200,0,5750\\r\\n\nUE→TE urc    \\r\\n+MIPLREAD:0,{mid#1},3200,0,5750\\r\\n\nTE→UE        AT+X\\r";
        assert_eq!(kinds(old, new), [Kind::Repeated]);
    }

    #[test]
    fn anything_else_is_other() {
        assert_eq!(kinds("UE→TE final  OK\\r\\n", "UE→TE final  +CIS ERROR:601\\r\\n"), [Kind::Other]);
        assert_eq!(kinds("a\nb", "a"), [Kind::Other]);
    }
}
