//! Why a transcript differs from its golden snapshot, in a firmware engineer's words.
//!
//! A diff says which lines changed; a qualification engineer wants to know *how*: the modem stopped
//! printing a space after `:`, reports event 20 where the manual's syntax page says 15, prints a
//! URC before the `OK` of the command that caused it, or shows a request twice. Each difference
//! has a [`Kind`], so a rig can declare some kinds tolerated (`[tolerate]`).

use crate::cap;
use miplcheck_at::syntax::event_code;
use miplcheck_at::Dialect;
use similar::{DiffOp, TextDiff};
use std::collections::{HashMap, VecDeque};

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
    /// Many more lines of one URC than the golden transcript has (at least [`FLOOD`] more).
    Flood { urc: String, more: usize },
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

/// A case with at least this many more lines of one URC than its golden transcript is flooded:
/// one difference says so, instead of one per line.
pub const FLOOD: usize = 50;

/// At most this many differences are explained one by one; the rest are counted.
pub const MAX_EXPLAINED: usize = 100;

#[cfg(test)]
thread_local! {
    /// Units of work (key look-ups, LIS steps, lines compared for repeats): tests assert it grows
    /// with the transcript, not with its square.
    pub(crate) static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline]
fn work(_n: usize) {
    #[cfg(test)]
    WORK.with(|w| w.set(w.get() + _n as u64));
}

/// The name a URC line is known by: `+MIPLEVENT` of `+MIPLEVENT: 0,6`.
fn urc_name(content: &str) -> &str {
    content.split_once(':').map_or(content, |(name, _)| name).trim()
}

/// Thousands with a comma: `10,000`.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A transcript's lines, parsed once, with what the explanations ask of them precomputed.
struct Side<'a> {
    raw: Vec<&'a str>,
    lines: Vec<Line>,
    keys: Vec<(String, String)>,
}

impl<'a> Side<'a> {
    fn new(text: &'a str) -> Self {
        let raw: Vec<&str> = text.trim_end().lines().collect();
        let lines: Vec<Line> = raw.iter().map(|l| parse(l)).collect();
        let keys = lines.iter().map(|l| (l.class.clone(), without_blanks(&l.content))).collect();
        Side { raw, lines, keys }
    }

    /// URC lines by field count and first field (blanks ignored); a first field that is a
    /// named value (`{mid#1}`) could be anything, so those lines are kept under `None`.
    fn requests(&self) -> HashMap<(usize, Option<&str>), Vec<usize>> {
        let mut by: HashMap<(usize, Option<&str>), Vec<usize>> = HashMap::new();
        for (i, l) in self.lines.iter().enumerate() {
            if l.class == "urc" {
                by.entry(request_group(&self.keys[i].1)).or_default().push(i);
            }
        }
        by
    }
}

fn request_group(blankless: &str) -> (usize, Option<&str>) {
    let first = blankless.split(',').next().unwrap_or_default();
    let named = first.starts_with('{') && first.ends_with('}');
    (blankless.split(',').count(), (!named).then_some(first))
}

/// How many URC lines of `side` are the same request as `content` (see [`same_request`]),
/// looking only at the lines that could be.
fn alike(side: &Side<'_>, groups: &HashMap<(usize, Option<&str>), Vec<usize>>, content: &str) -> usize {
    let blankless = without_blanks(content);
    let (fields, first) = request_group(&blankless);
    let candidates: Vec<&Vec<usize>> = match first {
        Some(_) => [groups.get(&(fields, first)), groups.get(&(fields, None))].into_iter().flatten().collect(),
        None => groups.iter().filter(|((f, _), _)| *f == fields).map(|(_, v)| v).collect(),
    };
    let mut n = 0;
    for group in candidates {
        work(group.len());
        n += group.iter().filter(|&&i| same_request(&side.keys[i].1, &blankless)).count();
    }
    n
}

/// The differences between the golden transcript `old` and this run's `new`.
///
/// Changed lines are first matched by content with blanks ignored; matches that keep their order
/// are spacing changes, the others have moved. What is left is paired in order (an event code
/// that changed), and the rest is extra or missing. A URC the run printed [`FLOOD`] or more times
/// more than the golden transcript is one difference, a flood; past [`MAX_EXPLAINED`] the
/// differences are counted, not explained. The work grows as n log n with the transcripts.
pub fn differences(old: &str, new: &str, dialect: &Dialect) -> Vec<Difference> {
    let (o, n) = (Side::new(old), Side::new(new));
    let diff = TextDiff::from_slices(&o.raw, &n.raw);
    let (mut gone, mut added): (Vec<usize>, Vec<usize>) = (vec![], vec![]);
    // Unchanged lines before each position: a line matched across a different number of them
    // has moved past one of them.
    let (mut anchors_old, mut anchors_new) = (vec![0usize; o.raw.len() + 1], vec![0usize; n.raw.len() + 1]);
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
    // Match by content, blanks ignored: each gone line takes the first added line with its key.
    let mut waiting: HashMap<&(String, String), VecDeque<usize>> = HashMap::new();
    for &a in &added {
        waiting.entry(&n.keys[a]).or_default().push_back(a);
    }
    let mut matched: Vec<(usize, usize)> = vec![];
    let mut taken = vec![false; n.raw.len()];
    let mut rest_gone = vec![];
    for g in gone {
        work(1);
        match waiting.get_mut(&o.keys[g]).and_then(VecDeque::pop_front) {
            Some(a) => {
                taken[a] = true;
                matched.push((g, a));
            }
            None => rest_gone.push(g),
        }
    }
    let rest_added: Vec<usize> = added.into_iter().filter(|&a| !taken[a]).collect();
    // A URC printed many more times than in the golden transcript is a flood.
    let mut tally: HashMap<&str, (usize, usize)> = HashMap::new();
    for l in o.lines.iter().filter(|l| l.class == "urc") {
        tally.entry(urc_name(&l.content)).or_default().0 += 1;
    }
    for l in n.lines.iter().filter(|l| l.class == "urc") {
        tally.entry(urc_name(&l.content)).or_default().1 += 1;
    }
    let flooded =
        |l: &Line| l.class == "urc" && tally.get(urc_name(&l.content)).is_some_and(|&(was, now)| now >= was + FLOOD);
    let mut floods: Vec<(&str, usize)> = vec![];
    for &a in &rest_added {
        let name = urc_name(&n.lines[a].content);
        if flooded(&n.lines[a]) && !floods.iter().any(|(f, _)| *f == name) {
            let (was, now) = tally[name];
            floods.push((name, now - was));
        }
    }
    let mut out: Vec<Difference> = floods
        .iter()
        .map(|&(name, more)| Difference {
            kind: Kind::Flood { urc: name.to_string(), more },
            says: format!("a flood: {} more `{}` lines than the golden transcript", count(more), cap::line(name)),
        })
        .collect();
    let floods_at = out.len();
    // A flood's lines are not paired with the lines that went: they are the flood.
    let rest_added: Vec<usize> = rest_added.into_iter().filter(|&a| !flooded(&n.lines[a])).collect();
    let in_place = increasing(&matched);
    let mut kept = vec![false; matched.len()];
    for k in in_place {
        kept[k] = true;
    }
    let context = Context::new(&n);
    for (k, &(g, a)) in matched.iter().enumerate() {
        if kept[k] && anchors_old[g] == anchors_new[a] {
            out.extend(changed(&o.lines[g], &n.lines[a], dialect));
        } else {
            out.push(moved_line(&n, &context, a));
        }
    }
    // What is left: changed in place, or extra, or gone.
    let pairs = rest_gone.len().min(rest_added.len());
    let (pair_gone, only_gone) = rest_gone.split_at(pairs);
    let mut extra = vec![];
    for (g, a) in pair_gone.iter().zip(rest_added.iter()) {
        let (ol, nl) = (&o.lines[*g], &n.lines[*a]);
        if ol.class == nl.class {
            out.extend(changed(ol, nl, dialect));
        } else {
            extra.push(*a);
            out.push(Difference { kind: Kind::Other, says: format!("`{}` no longer appears", cap::line(&ol.content)) });
        }
    }
    extra.extend(rest_added.iter().skip(pairs));
    let (old_groups, new_groups) = (o.requests(), n.requests());
    let mut repeats: HashMap<&str, bool> = HashMap::new();
    for a in extra {
        let l = &n.lines[a];
        // Counting is bounded too: past the lines explained one by one, an extra line is just
        // extra (the stricter reading, so no tolerance passes what was not looked at).
        let looked = repeats.len();
        let twice = l.class == "urc"
            && match repeats.get(l.content.as_str()) {
                Some(&twice) => twice,
                None if looked < MAX_EXPLAINED => {
                    let twice = alike(&n, &new_groups, &l.content) > alike(&o, &old_groups, &l.content);
                    repeats.insert(&l.content, twice);
                    twice
                }
                None => false,
            };
        out.push(extra_line(l, twice));
    }
    for g in only_gone {
        let l = &o.lines[*g];
        out.push(Difference { kind: Kind::Other, says: format!("`{}` no longer appears", cap::line(&l.content)) });
    }
    out.retain(|d| !d.says.is_empty());
    out.dedup_by(|a, b| a.says == b.says);
    let rest = out.split_off(floods_at.min(out.len()));
    out.extend(summarise_spacing(rest));
    bounded(out)
}

/// The first [`MAX_EXPLAINED`] differences, and one that counts the others: of their kind when
/// they are all of one, so a rig's tolerance still decides as it would have.
fn bounded(mut diffs: Vec<Difference>) -> Vec<Difference> {
    if diffs.len() <= MAX_EXPLAINED {
        return diffs;
    }
    let rest = diffs.split_off(MAX_EXPLAINED);
    let kind = if rest.iter().all(|d| d.kind == rest[0].kind) { rest[0].kind.clone() } else { Kind::Other };
    diffs.push(Difference { kind, says: format!("and {} more differences", count(rest.len())) });
    diffs
}

/// The positions in `pairs` (old index, new index; in old order) that keep their order: the
/// longest run whose new indices increase.
///
/// Patience sorting, O(n log n), with the choices of the quadratic search it replaced: each
/// element's predecessor is the earliest one that gives it its length, and the run ends at the
/// earliest element of the greatest length. (Elements of one length, in order, have
/// non-increasing values, so the earliest usable predecessor is found by binary search.)
fn increasing(pairs: &[(usize, usize)]) -> Vec<usize> {
    // levels[l]: the elements whose longest run ending there has length l + 1, in order.
    let mut levels: Vec<Vec<usize>> = vec![];
    let mut prev = vec![usize::MAX; pairs.len()];
    for i in 0..pairs.len() {
        let v = pairs[i].1;
        // Tails (each level's last, its least value) increase with the level.
        let l = levels.partition_point(|level| pairs[*level.last().expect("levels are not empty")].1 < v);
        work(1 + levels.len().max(1).ilog2() as usize);
        if l > 0 {
            let below = &levels[l - 1];
            let p = below.partition_point(|&j| pairs[j].1 >= v);
            prev[i] = below[p];
        }
        match levels.get_mut(l) {
            Some(level) => level.push(i),
            None => levels.push(vec![i]),
        }
    }
    let mut out = vec![];
    let mut at = levels.last().map(|level| level[0]);
    while let Some(i) = at {
        out.push(i);
        at = (prev[i] != usize::MAX).then_some(prev[i]);
    }
    out
}

fn extra_line(l: &Line, twice: bool) -> Difference {
    if twice {
        Difference {
            kind: Kind::Repeated,
            says: format!(
                "`{}` is printed again, with the same message ID: the modem shows the platform's re-sent request as a new one",
                cap::line(&l.content)
            ),
        }
    } else {
        Difference { kind: Kind::Other, says: format!("an extra line: `{}`", cap::line(&l.content)) }
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

/// For each line of a transcript: the next line that is not a URC, and the last command before it.
struct Context {
    next_not_urc: Vec<Option<usize>>,
    last_command: Vec<Option<usize>>,
}

impl Context {
    fn new(side: &Side<'_>) -> Self {
        let len = side.raw.len();
        let mut next_not_urc = vec![None; len];
        for i in (0..len.saturating_sub(1)).rev() {
            next_not_urc[i] = if side.lines[i + 1].class != "urc" { Some(i + 1) } else { next_not_urc[i + 1] };
        }
        let mut last_command = vec![None; len];
        for i in 1..len {
            last_command[i] = if side.raw[i - 1].starts_with("TE→UE") { Some(i - 1) } else { last_command[i - 1] };
        }
        Context { next_not_urc, last_command }
    }
}

fn moved_line(side: &Side<'_>, context: &Context, at: usize) -> Difference {
    let l = &side.lines[at];
    let next_final = context.next_not_urc[at].map(|i| &side.lines[i]);
    let command = context.last_command[at].map(|i| side.lines[i].content.trim_end_matches("\\r").to_string());
    let command = cap::line(command.as_deref().unwrap_or_default()).into_owned();
    let content = cap::line(&l.content);
    match (l.class.as_str(), next_final) {
        ("urc", Some(f)) if f.class == "final" => Difference {
            kind: Kind::UrcBeforeFinal,
            says: format!(
                "`{content}` now comes before the `{}` of `{command}`, the command that caused it",
                cap::line(&f.content)
            ),
        },
        ("final", _) => Difference {
            kind: Kind::UrcBeforeFinal,
            says: format!("the `{content}` of `{command}` now comes after the URC it caused"),
        },
        _ => Difference { kind: Kind::Other, says: format!("`{content}` comes at another place") },
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
                out.push(Difference {
                    kind,
                    says: format!("`{}` is now `{}`: {how}", cap::line(&a.content), cap::line(&b.content)),
                });
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
    vec![Difference {
        kind: Kind::Other,
        says: format!("`{}` is now `{}`", cap::line(&a.content), cap::line(&b.content)),
    }]
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

    /// The quadratic search `increasing` replaced, kept as its oracle.
    fn increasing_quadratic(pairs: &[(usize, usize)]) -> Vec<usize> {
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        #[test]
        fn increasing_chooses_as_the_quadratic_search_did(news in proptest::collection::vec(0usize..40, 0..60)) {
            let pairs: Vec<(usize, usize)> = news.into_iter().enumerate().collect();
            proptest::prop_assert_eq!(increasing(&pairs), increasing_quadratic(&pairs));
        }

        #[test]
        fn increasing_on_distinct_indices(perm in proptest::prelude::Strategy::prop_shuffle(proptest::sample::subsequence((0..200usize).collect::<Vec<_>>(), 0..200))) {
            let pairs: Vec<(usize, usize)> = perm.into_iter().enumerate().collect();
            proptest::prop_assert_eq!(increasing(&pairs), increasing_quadratic(&pairs));
        }
    }

    const HEAD: &str = "TE→UE        AT+MIPLOPEN=0,600,60\\r\nUE→TE final  \\r\\nOK\\r\\n\n";

    fn events(n: usize) -> String {
        (0..n).map(|k| format!("UE→TE urc    \\r\\n+MIPLEVENT: 0,{}\\r\\n\n", [1, 2, 4, 6, 11][k % 5])).collect()
    }

    #[test]
    fn a_flood_is_named_as_one_and_costs_n_log_n() {
        let old = format!("{HEAD}{}UE→TE urc    \\r\\n+MIPLOBSERVE: 0,{{mid#1}},1,3303,0,-1\\r\\n\n", events(3));
        for n in [1_000, 10_000] {
            let new = format!("{HEAD}{}", events(n));
            WORK.with(|w| w.set(0));
            let d = differences(&old, &new, &M5310A);
            let work = WORK.with(|w| w.get());
            assert_eq!(d[0].kind, Kind::Flood { urc: "+MIPLEVENT".into(), more: n - 3 }, "{d:?}");
            assert_eq!(
                d[0].says,
                format!("a flood: {} more `+MIPLEVENT` lines than the golden transcript", count(n - 3))
            );
            assert!(d.iter().all(|d| !d.says.contains("printed again")), "{d:?}");
            assert!(d.iter().any(|d| d.says.contains("+MIPLOBSERVE") && d.says.contains("no longer appears")), "{d:?}");
            assert!(work < 20 * n as u64, "{work} units of work for {n} lines");
        }
    }

    #[test]
    fn many_moved_lines_cost_n_log_n_and_are_counted_past_the_bound() {
        // Every line of one kind moved past a command: matched by key, ordered by LIS.
        let lines: Vec<String> =
            (0..5_000).map(|k| format!("UE→TE urc    \\r\\n+MIPLREAD:0,{k},3200,0,5750\\r\\n")).collect();
        let old = format!("{}\nTE→UE        AT+X\\r", lines.join("\n"));
        let mut moved = lines.clone();
        moved.reverse();
        let new = format!("TE→UE        AT+X\\r\n{}", moved.join("\n"));
        WORK.with(|w| w.set(0));
        let d = differences(&old, &new, &M5310A);
        let work = WORK.with(|w| w.get());
        assert!(work < 200_000, "{work}");
        assert_eq!(d.len(), MAX_EXPLAINED + 1);
        assert!(
            d[MAX_EXPLAINED].says.starts_with("and ") && d[MAX_EXPLAINED].says.ends_with(" more differences"),
            "{:?}",
            d[MAX_EXPLAINED]
        );
    }

    #[test]
    fn fewer_extra_lines_than_a_flood_are_each_explained() {
        let old = format!("{HEAD}{}", events(1));
        let d = differences(&old, &format!("{HEAD}{}", events(FLOOD)), &M5310A);
        assert!(d.iter().all(|d| !matches!(d.kind, Kind::Flood { .. })), "{d:?}");
        assert!(d.iter().any(|d| d.kind == Kind::Repeated), "{d:?}");
    }

    #[test]
    fn a_huge_line_is_quoted_in_part() {
        let big = format!("+MIPLVER: {}", "7".repeat(64_000));
        let d = differences("UE→TE info   +MIPLVER: 2.3.0\\r\\n", &format!("UE→TE info   {big}\\r\\n"), &M5310A);
        assert_eq!(d.len(), 1);
        assert!(d[0].says.len() < 1_200 && d[0].says.contains("more bytes)"), "{}", d[0].says.len());
    }

    #[test]
    fn thousands_have_commas() {
        assert_eq!(
            [count(7), count(999), count(1_000), count(9_997), count(1_234_567)],
            ["7", "999", "1,000", "9,997", "1,234,567"]
        );
    }
}
