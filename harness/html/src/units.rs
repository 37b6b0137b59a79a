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
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
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
}
