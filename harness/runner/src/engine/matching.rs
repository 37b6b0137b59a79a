//! Which lines answer a step's patterns: pure functions of the patterns and the candidate lines
//! (URCs for `urc:`/`urcs:`/`unordered:`, datagram summaries for `wire:`), with no clock and no
//! port. `Ok` holds, for each pattern in turn, the position of its line in `texts`; `Err` holds the
//! patterns (by position) the caller counts as found, so its failure names the others.

use crate::pattern::Pattern;

/// Lines (by position in `texts`) matching `patterns` one each, in the listed order: the earliest
/// such lines. `Err` holds the patterns matched so far.
pub(super) fn in_order(patterns: &[Pattern], texts: &[String]) -> Result<Vec<usize>, Vec<usize>> {
    let mut picks = Vec::new();
    let mut k = 0;
    for p in patterns {
        match (k..texts.len()).find(|&i| p.matches(&texts[i])) {
            Some(i) => {
                picks.push(i);
                k = i + 1;
            }
            None => return Err((0..picks.len()).collect()),
        }
    }
    Ok(picks)
}

/// Lines matching `patterns` one each in any order, preferring earlier lines; a general pattern
/// does not steal the only line a specific one could take. `Err` holds the patterns that some line
/// matches on its own (they may still not all be matchable together).
pub(super) fn as_a_set(patterns: &[Pattern], texts: &[String]) -> Result<Vec<usize>, Vec<usize>> {
    fn go(j: usize, patterns: &[Pattern], texts: &[String], used: &mut Vec<bool>, picks: &mut Vec<usize>) -> bool {
        if j == patterns.len() {
            return true;
        }
        for i in 0..texts.len() {
            if !used[i] && patterns[j].matches(&texts[i]) {
                used[i] = true;
                picks.push(i);
                if go(j + 1, patterns, texts, used, picks) {
                    return true;
                }
                picks.pop();
                used[i] = false;
            }
        }
        false
    }
    let mut picks = Vec::new();
    if go(0, patterns, texts, &mut vec![false; texts.len()], &mut picks) {
        return Ok(picks);
    }
    let matchable = (0..patterns.len()).filter(|&j| texts.iter().any(|t| patterns[j].matches(t))).collect();
    Err(matchable)
}

/// The sources of the patterns a match left out (`matched` holds the indices it found), for
/// the failure that names them.
pub(super) fn unmatched<'p>(patterns: &'p [Pattern], matched: &[usize]) -> Vec<&'p str> {
    patterns.iter().enumerate().filter(|(j, _)| !matched.contains(j)).map(|(_, p)| p.source()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[derive(Debug, Clone, Copy)]
    enum How {
        InOrder,
        AsASet,
    }
    use How::{AsASet, InOrder};

    const REG: &str = "+MIPLEVENT: 0,6";
    const OBSERVE: &str = "+MIPLOBSERVE: 0,1,3303";
    const ANY_EVENT: &str = "+MIPLEVENT: 0,{_}";

    fn pick(how: How, patterns: &[&str], texts: &[&str]) -> Result<Vec<usize>, Vec<usize>> {
        let patterns: Vec<Pattern> = patterns.iter().map(|p| Pattern::new(p).unwrap()).collect();
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        match how {
            InOrder => in_order(&patterns, &texts),
            AsASet => as_a_set(&patterns, &texts),
        }
    }

    #[rstest]
    #[case::in_order_one_line_each(InOrder, &["+MIPLEVENT: 0,4", REG], &["+MIPLEVENT: 0,4", "+MIPLEVENT:0,6"], Ok(vec![0, 1]))]
    #[case::in_order_skips_lines_in_between(InOrder, &["+MIPLEVENT: 0,4", REG], &["+MIPLEVENT: 0,1", "+MIPLEVENT: 0,4", OBSERVE, "+MIPLEVENT: 0,2", REG], Ok(vec![1, 4]))]
    #[case::in_order_takes_the_earliest_line(InOrder, &[ANY_EVENT], &["+MIPLEVENT: 0,4", REG], Ok(vec![0]))]
    #[case::in_order_of_nothing_is_found_at_once(InOrder, &[], &[OBSERVE], Ok(vec![]))]
    #[case::in_order_missing_the_last(InOrder, &["+MIPLEVENT: 0,4", REG, OBSERVE], &["+MIPLEVENT: 0,4", REG], Err(vec![0, 1]))]
    #[case::in_order_missing_the_first(InOrder, &[OBSERVE, REG], &[REG], Err(vec![]))]
    #[case::in_order_a_line_before_its_turn_does_not_count(InOrder, &["+MIPLEVENT: 0,4", REG], &[REG, "+MIPLEVENT: 0,4"], Err(vec![0]))]
    #[case::in_order_one_line_cannot_answer_two(InOrder, &[ANY_EVENT, REG], &[REG], Err(vec![0]))]
    #[case::set_in_any_order(AsASet, &["+MIPLEVENT: 0,4", REG], &[REG, "+MIPLEVENT: 0,4"], Ok(vec![1, 0]))]
    #[case::set_skips_other_lines(AsASet, &[REG, OBSERVE], &["+MIPLEVENT: 0,1", OBSERVE, "+MIPLEVENT: 0,2", REG], Ok(vec![3, 1]))]
    #[case::set_general_does_not_steal_the_specifics_line(AsASet, &[ANY_EVENT, REG], &[REG, "+MIPLEVENT: 0,4"], Ok(vec![1, 0]))]
    #[case::set_general_takes_the_earliest_line_left(AsASet, &[REG, ANY_EVENT], &["+MIPLEVENT: 0,4", REG, "+MIPLEVENT: 0,11"], Ok(vec![1, 0]))]
    #[case::set_names_the_missing_pattern(AsASet, &["+MIPLEVENT: 0,4", REG, OBSERVE], &[REG, "+MIPLEVENT: 0,4"], Err(vec![0, 1]))]
    #[case::set_with_no_lines_finds_none(AsASet, &[REG, OBSERVE], &[], Err(vec![]))]
    // Each of these two patterns matches the one line on its own, so both count as found and the
    // caller's failure names no pattern: how it is today, kept by this restructuring.
    #[case::set_two_patterns_one_line(AsASet, &[ANY_EVENT, REG], &[REG], Err(vec![0, 1]))]
    fn matches_lines_to_patterns(
        #[case] how: How,
        #[case] patterns: &[&str],
        #[case] texts: &[&str],
        #[case] want: Result<Vec<usize>, Vec<usize>>,
    ) {
        assert_eq!(pick(how, patterns, texts), want);
    }
}
