//! Durations as a firmware engineer reads them: microseconds for an emulator's answers, seconds
//! for a registration, minutes for a whole run, with about three significant digits.

/// A time in milliseconds, in the unit that keeps it short.
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let v = v.max(0.0);
    if v == 0.0 {
        "0 ms".into()
    } else if v < 1.0 {
        format!("{} µs", sig3(v * 1000.0))
    } else if v < 1000.0 {
        format!("{} ms", sig3(v))
    } else if v < 60_000.0 {
        format!("{} s", sig3(v / 1000.0))
    } else {
        let s = (v / 1000.0).round() as u64;
        if s < 3600 {
            format!("{} min {} s", s / 60, s % 60)
        } else {
            format!("{} h {} min", s / 3600, s % 3600 / 60)
        }
    }
}

/// A number as `format!("{v:.N$}")` prints it with `N` decimals, handed over as its digits without
/// the point when it can be: the side files' script then only places the point, so the page and
/// its side files show the same digits with one float formatter, and the page is spared most of
/// its float formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Fixed {
    /// The printed digits as one integer (`0.012` to 3 decimals is `12`), below [`Fixed::MAX`].
    Digits(u64),
    /// The printed text, for what the integer cannot carry: a negative value (`-0.000`), a huge
    /// one, one within rounding error of a halfway point, or a decimals count past 3.
    Text(String),
}

impl Fixed {
    /// [`Fixed::Digits`] stay below this, so a script's numbers hold them exactly and the product
    /// that makes them is off by far less than the halfway margin.
    pub const MAX: f64 = 1e9;

    /// `v` to `decimals` decimals.
    pub fn of(v: f64, decimals: usize) -> Fixed {
        let text = || Fixed::Text(format!("{v:.decimals$}"));
        let Some(scale) = [1.0, 10.0, 100.0, 1000.0].get(decimals) else { return text() };
        let product = v * scale;
        // `format!` rounds the exact binary value; the product's own rounding error (under
        // 1e-7 below `MAX`) can only tip a value this close to halfway.
        if v.is_sign_negative()
            || !(0.0..Fixed::MAX).contains(&product)
            || ((product - product.trunc()) - 0.5).abs() < 1e-6
        {
            return text();
        }
        Fixed::Digits(product.round() as u64)
    }

    /// The number as [`Fixed::of`] was given it, with `decimals` decimals, onto `out`.
    pub fn push(&self, out: &mut String, decimals: usize) {
        use std::fmt::Write as _;
        match self {
            Fixed::Text(s) => out.push_str(s),
            Fixed::Digits(n) => {
                let scale = u32::try_from(decimals).ok().and_then(|d| 10u64.checked_pow(d)).unwrap_or(1);
                if decimals == 0 || scale == 1 {
                    let _ = write!(out, "{n}");
                } else {
                    let _ = write!(out, "{}.{:0decimals$}", n / scale, n % scale);
                }
            }
        }
    }
}

/// A whole-number label for a decade on a log axis (`1 µs`, `100 ms`, `10 s`).
pub fn decade(v: f64) -> String {
    if v < 1.0 {
        format!("{} µs", trim(v * 1000.0))
    } else if v < 1000.0 {
        format!("{} ms", trim(v))
    } else {
        format!("{} s", trim(v / 1000.0))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Three significant digits, without trailing zeros (`114`, `12.3`, `1.5`).
fn sig3(v: f64) -> String {
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    // Rounded in integers through `Fixed` (a big run's page prints a million of these), then the
    // trailing zeros dropped.
    let mut s = String::new();
    Fixed::of(v, decimals).push(&mut s, decimals);
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_size() {
        assert_eq!(ms(0.114), "114 µs");
        assert_eq!(ms(0.0), "0 ms");
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(ms(300.0), "300 ms");
        assert_eq!(ms(1500.0), "1.5 s");
        assert_eq!(ms(125_000.0), "2 min 5 s");
        assert_eq!(ms(f64::NAN), "–");
        assert_eq!(decade(0.01), "10 µs");
        assert_eq!(decade(1000.0), "1 s");
        assert_eq!(decade(1.0), "1 ms");
    }

    fn fixed(v: f64, d: usize) -> String {
        let mut s = String::new();
        Fixed::of(v, d).push(&mut s, d);
        s
    }

    #[test]
    fn fixed_digits_print_as_formatting_does() {
        assert_eq!(Fixed::of(0.012, 3), Fixed::Digits(12));
        assert_eq!(Fixed::of(12.0, 1), Fixed::Digits(120));
        assert_eq!(fixed(0.0, 3), "0.000");
        assert_eq!(fixed(1.5, 0), "2");
        for (v, d) in
            [(-0.0, 3), (-0.0004, 3), (1e12, 3), (f64::INFINITY, 1), (0.0005, 3), (2.5, 0), (0.25, 1), (1.0, 4)]
        {
            assert_eq!(Fixed::of(v, d), Fixed::Text(format!("{v:.d$}")), "{v} to {d}");
        }
        // Against the exact formatting: times as transcripts have them (ms / 1000), halfway
        // points, and percentages.
        for i in 0..200_000u32 {
            let ms = f64::from(i) * 0.5 + f64::from(i % 7) * 0.0625;
            let v = ms / 1000.0;
            assert_eq!(fixed(v, 3), format!("{v:.3}"), "{ms} ms");
            let pct = f64::from(i) * 0.0137 + 0.0011;
            assert_eq!(fixed(pct, 1), format!("{pct:.1}"), "{pct} %");
            assert_eq!(fixed(pct, 0), format!("{pct:.0}"), "{pct}");
            // What a script is handed: the printed digits, the point left out.
            if let Fixed::Digits(n) = Fixed::of(v, 3) {
                assert_eq!(format!("{v:.3}").replace('.', "").parse::<u64>(), Ok(n), "{v}");
            }
        }
        for v in [999_999.999_5, 999_999.999_49, 123.4565, 1.0005, 0.9995, 1e-300, 5e-4, 4.999_999_9e-4] {
            for d in 0..=3 {
                assert_eq!(fixed(v, d), format!("{v:.d$}"), "{v} to {d}");
            }
        }
    }

    #[test]
    fn three_digits_round_as_printing_does() {
        for (v, want) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (1.05, "1.05"),
            (9.996, "10"),
            (99.96, "100"),
            (12.0, "12"),
            (12.04, "12"),
            (12.06, "12.1"),
            (114.4, "114"),
            (999.6, "1000"),
            (3.01, "3.01"),
            (3.1, "3.1"),
            (4.755, "4.75"),
            (0.125, "0.12"),
            (1e20, "100000000000000000000"),
        ] {
            assert_eq!(sig3(v), want, "{v}");
        }
        // Against the exact formatting, halfway points too.
        for i in 0..20_000u32 {
            let v = f64::from(i) * 0.0137 + 0.0011;
            let d = if v >= 100.0 {
                0
            } else if v >= 10.0 {
                1
            } else {
                2
            };
            let s = format!("{v:.d$}");
            let exact = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
            assert_eq!(sig3(v), exact, "{v}");
        }
    }
}
