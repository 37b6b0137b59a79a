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
    // Rounded in integers: `format!` with a precision falls back to exact big-number arithmetic
    // for many values, and a big run's page prints a million of these.
    // Near a halfway point the product's rounding error could tip it, so those (and the huge)
    // take the exact path.
    let scale = [1.0, 10.0, 100.0][decimals];
    let product = v * scale;
    let scaled = product.round();
    if !(0.0..1e15).contains(&scaled) || ((product - product.trunc()) - 0.5).abs() < 1e-6 {
        let s = format!("{v:.decimals$}");
        return if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    }
    let n = scaled as u64;
    let (whole, mut frac, mut digits) = (n / scale as u64, n % scale as u64, decimals);
    while digits > 0 && frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    if digits == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0digits$}")
    }
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
