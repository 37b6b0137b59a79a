//! How much slower B is than A in the bulk of its answers: the Hodges–Lehmann shift (the median of
//! every difference `b − a`, one per pair of a B sample and an A sample) and its one-sided 95%
//! lower confidence bound, the `k`-th smallest of those differences, `k` read from the
//! Mann–Whitney U distribution of the two sample sizes (exact for small samples, the normal
//! approximation above). It is the shift a rank test sees: a few slow samples, however slow, move
//! only a few of the `m·n` differences, so the bound stays where the bulk of the samples are.

/// B's shift against A, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// The Hodges–Lehmann estimate: the median of the pairwise differences.
    pub estimate: f64,
    /// B is slower than A by at least this much, with 95% confidence.
    pub lower: f64,
}

/// One-sided: how often the bound may lie above the true shift.
const ALPHA: f64 = 0.05;
/// Up to this many pairs the U distribution is counted exactly; the table it needs grows as
/// `m·n·(m·n)`, and by then the normal approximation is close.
const EXACT_PAIRS: usize = 400;
/// Beyond this many pairs (a soak run's thousands of samples a side) each side is thinned to
/// evenly spaced order statistics first, so the differences fit in a few megabytes; the bound
/// only widens a little, as it would from fewer samples.
const MAX_PAIRS: usize = 1 << 20;

/// The shift of `b` against `a`; none when either is empty or the samples are too few for any
/// bound at 95% (2 and 2: even B slower in every pair happens by chance one time in six).
/// Non-finite values are left out.
pub fn of(a: &[f64], b: &[f64]) -> Option<Shift> {
    let finite = |v: &[f64]| {
        let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (mut a, mut b) = (finite(a), finite(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() * b.len() > MAX_PAIRS {
        let step = ((a.len() * b.len()) as f64 / MAX_PAIRS as f64).sqrt().ceil() as usize;
        let thin = |v: &[f64]| v.iter().copied().skip(step / 2).step_by(step).collect::<Vec<f64>>();
        (a, b) = (thin(&a), thin(&b));
    }
    let (m, n) = (a.len(), b.len());
    let mut d: Vec<f64> = b.iter().flat_map(|y| a.iter().map(move |x| y - x)).collect();
    d.sort_by(f64::total_cmp);
    let k = rank_of_bound(m, n)?;
    Some(Shift { estimate: miplcheck_record::stats::median(&d)?, lower: d[k - 1] })
}

/// `k` (from 1) of the smallest difference that is the 95% lower bound: the largest `k` with
/// P(U ≤ k − 1) ≤ α under no shift; none when even P(U = 0) exceeds α.
fn rank_of_bound(m: usize, n: usize) -> Option<usize> {
    let pairs = m * n;
    if pairs <= EXACT_PAIRS {
        let cdf = exact_cdf(m, n);
        let c = cdf.iter().take_while(|p| **p <= ALPHA).count();
        return (c > 0).then_some(c);
    }
    let (mf, nf) = (m as f64, n as f64);
    let sigma = (mf * nf * (mf + nf + 1.0) / 12.0).sqrt();
    // z for one-sided 95%; with the continuity correction.
    let c = (mf * nf / 2.0 - 0.5 - 1.644_854 * sigma).floor();
    (c >= 0.0).then(|| c as usize + 1)
}

/// P(U ≤ u) for u = 0..=m·n, U the Mann–Whitney statistic of samples of `m` and `n` with no
/// shift: the number of arrangements with `u` inversions over C(m+n, m), counted with
/// f(i, j, u) = f(i − 1, j, u − j) + f(i, j − 1, u).
fn exact_cdf(m: usize, n: usize) -> Vec<f64> {
    let top = m * n;
    // f[i][j] is the distribution for i and j samples, as counts for u = 0..=i·j.
    let mut f: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n + 1]; m + 1];
    for i in 0..=m {
        for j in 0..=n {
            f[i][j] = if i == 0 || j == 0 {
                vec![1.0]
            } else {
                let mut v = vec![0.0; i * j + 1];
                for (u, c) in f[i - 1][j].iter().enumerate() {
                    v[u + j] += c;
                }
                for (u, c) in f[i][j - 1].iter().enumerate() {
                    v[u] += c;
                }
                v
            };
        }
    }
    let counts = &f[m][n];
    let total: f64 = counts.iter().sum();
    let mut acc = 0.0;
    (0..=top)
        .map(|u| {
            acc += counts[u];
            acc / total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    // The smallest sizes with a 95% bound, and where one appears: P(U = 0) = 1 / C(m+n, m).
    #[case::two_and_two(2, 2, None)]
    #[case::two_and_three(2, 3, None)]
    #[case::two_and_four(2, 4, None)]
    #[case::two_and_five(2, 5, Some(1))]
    #[case::three_and_three(3, 3, Some(1))]
    // Tables of the Mann–Whitney U at one-sided α = 0.05 give U ≤ 4 for 5 and 5, U ≤ 27 for
    // 10 and 10, U ≤ 138 for 20 and 20; 20 and 21 is past the exact count, approximated.
    #[case::five_and_five(5, 5, Some(5))]
    #[case::ten_and_ten(10, 10, Some(28))]
    #[case::twenty_and_twenty(20, 20, Some(139))]
    #[case::twenty_and_twenty_one(20, 21, Some(147))]
    fn the_bound_rank_follows_the_u_tables(#[case] m: usize, #[case] n: usize, #[case] k: Option<usize>) {
        assert_eq!(rank_of_bound(m, n), k);
    }

    #[test]
    fn the_exact_distribution_is_a_distribution() {
        let cdf = exact_cdf(4, 4);
        assert_eq!(cdf.len(), 17);
        assert!((cdf[16] - 1.0).abs() < 1e-12);
        // 1, 1, 2, 3, 5 of the 70 arrangements have U = 0..=4.
        assert!((cdf[4] - 12.0 / 70.0).abs() < 1e-12, "{cdf:?}");
    }

    #[test]
    fn a_uniform_shift_is_found_and_a_spike_is_not() {
        let a = [0.1, 0.2, 0.1, 0.3, 0.1];
        let b: Vec<f64> = a.iter().map(|x| x + 50.0).collect();
        let s = of(&a, &b).unwrap();
        assert!((s.estimate - 50.0).abs() < 1e-9 && s.lower > 49.0, "{s:?}");
        let spike = [0.1, 0.2, 0.1, 0.3, 80.0];
        let s = of(&a, &spike).unwrap();
        assert!(s.lower <= 0.2 && s.estimate <= 0.2, "{s:?}");
        assert_eq!(of(&[1.0, 2.0], &[50.0, 60.0]), None, "2 and 2 give no 95% bound");
        assert_eq!(of(&[], &[1.0]), None);
        assert_eq!(of(&[f64::NAN, 1.0, 1.0], &[f64::INFINITY, 2.0, 2.0]), None, "left with 2 and 2");
    }

    #[test]
    fn a_soak_runs_thousands_of_samples_are_thinned_not_refused() {
        let a: Vec<f64> = (0..5000).map(|i| (i % 100) as f64 * 0.01).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 50.0).collect();
        let s = of(&a, &b).unwrap();
        assert!((s.estimate - 50.0).abs() < 0.02 && s.lower > 49.9 && s.lower <= 50.0, "{s:?}");
        assert!(of(&a, &a).unwrap().lower < 0.0);
    }

    #[test]
    fn many_samples_use_the_approximation_and_stay_robust() {
        let a: Vec<f64> = (0..80).map(|i| 0.03 + (i % 9) as f64 * 0.01).collect();
        // A third of B's answers 4 to 20 ms late, as under a loaded host: the bulk is not.
        let b: Vec<f64> = (0..80).map(|i| if i % 3 == 0 { 4.0 * (1 + i % 5) as f64 } else { a[i] }).collect();
        let s = of(&a, &b).unwrap();
        assert!(s.lower < 0.1, "{s:?}");
        let late: Vec<f64> = a.iter().map(|x| x + 50.0).collect();
        assert!(of(&a, &late).unwrap().lower > 49.9);
    }
}
