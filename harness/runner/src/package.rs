//! The `package` step: a file the modem hands the TE piece by piece (BC39 §5.10, a SOTA package
//! arriving as `+MIPLWRITE` lines), answered piece by piece, then compared with the file.

use sha2::{Digest, Sha256};

/// What the pieces made, against what the file holds; `None` when they are the same.
pub fn difference(got: &[u8], pieces: usize, want: &[u8], file: &str) -> Option<String> {
    if got == want {
        return None;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    Some(format!(
        "the package arrived as {} bytes in {pieces} pieces (sha256 {}), but {file} has {} bytes (sha256 {}); \
         they differ from byte {first}",
        got.len(),
        short_sha(got),
        want.len(),
        short_sha(want)
    ))
}

/// The first 16 hex digits of the SHA-256: enough to tell packages apart in a message.
pub fn short_sha(b: &[u8]) -> String {
    Sha256::digest(b).iter().take(8).map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_are_no_difference() {
        assert_eq!(difference(b"abc", 1, b"abc", "f"), None);
    }

    #[test]
    fn a_short_package_says_how_short_and_where() {
        let d = difference(b"abX", 2, b"abcd", "suites/data/p.bin").unwrap();
        assert!(d.contains("3 bytes in 2 pieces") && d.contains("has 4 bytes") && d.contains("from byte 2"), "{d}");
    }
}
