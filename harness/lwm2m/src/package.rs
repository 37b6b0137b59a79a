//! The firmware package miplcheck's FOTA jobs carry through LwM2M object 5 (`/5/0/0`): a text
//! header naming the module the image is for and the revision it installs, then the image.
//!
//! The manuals define no package format (BC39 §4.7 only names the events, M5310-A §1.1 only says
//! FOTA uses 3/0, 4/0 and 5/0), and a real vendor's delta image is opaque. This one is ours, so
//! that the emulator can refuse a package that is not for it (BC39 event 50), find a corrupt one
//! (45) and answer the new revision after its reboot, and so the platform can say which revision
//! a file installs. It is parsed here once, for both sides; it does no I/O and buffers nothing.
//!
//! ```text
//! MIPLFW/1\n
//! model: BC39\n                     the module's name as its manual writes it (`AT+CGMM`)
//! revision: BC39NBR01A05_ONT\n      what `AT+CGMR` answers once it is installed (1–48 bytes)
//! size: 4096\n                      the image's length in bytes
//! sha256: 0123…cdef\n               the image's SHA-256, 64 lower-case hex digits
//! \n
//! <the image: size bytes>
//! ```

use sha2::{Digest, Sha256};

/// The first line of every package.
pub const MAGIC: &str = "MIPLFW/1";
/// The header ends (blank line included) within this many bytes, so a reader gives up early.
pub const MAX_HEADER: usize = 512;
/// `<sw_version>`'s limit (BC39 §3.2.17) is the revision's too.
pub const MAX_REVISION: usize = 48;

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub model: String,
    pub revision: String,
    pub size: usize,
    /// Lower-case hex.
    pub sha256: String,
    /// Header bytes, the blank line included: where the image starts.
    pub len: usize,
}

/// Why bytes are not a package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("the package does not start with {MAGIC}")]
    Magic,
    #[error("the package header does not end within {MAX_HEADER} bytes")]
    HeaderTooLong,
    #[error("package header line {line}: {why}")]
    Line { line: usize, why: String },
    #[error("the package header has no {0} field")]
    Missing(&'static str),
    #[error("the header says {said} image bytes, the package has {has}")]
    Size { said: usize, has: usize },
}

impl Header {
    /// The header at the start of `bytes`: `Ok(None)` while it may still be incomplete (fewer
    /// than [`MAX_HEADER`] bytes and no blank line yet), so a module can read it block by block.
    pub fn parse(bytes: &[u8]) -> Result<Option<Header>, PackageError> {
        let head = &bytes[..bytes.len().min(MAX_HEADER)];
        if !MAGIC.as_bytes().starts_with(&head[..head.len().min(MAGIC.len())]) {
            return Err(PackageError::Magic);
        }
        let Some(end) = head.windows(2).position(|w| w == b"\n\n") else {
            return if bytes.len() >= MAX_HEADER { Err(PackageError::HeaderTooLong) } else { Ok(None) };
        };
        let text =
            std::str::from_utf8(&head[..end]).map_err(|_| PackageError::Line { line: 0, why: "not UTF-8".into() })?;
        let mut lines = text.split('\n');
        if lines.next() != Some(MAGIC) {
            return Err(PackageError::Magic);
        }
        let (mut model, mut revision, mut size, mut sha256) = (None, None, None, None);
        for (i, line) in lines.enumerate() {
            let n = i + 2;
            let bad = |why: &str| PackageError::Line { line: n, why: why.to_string() };
            let (key, value) = line.split_once(": ").ok_or_else(|| bad("should be `<field>: <value>`"))?;
            if value.is_empty() || value.chars().any(|c| c.is_control() || c == ' ') {
                return Err(bad("a value is one word of printable characters"));
            }
            let slot = match key {
                "model" => &mut model,
                "revision" if value.len() > MAX_REVISION => return Err(bad("the revision is over 48 bytes")),
                "revision" => &mut revision,
                "size" => &mut size,
                "sha256"
                    if value.len() != 64
                        || !value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
                {
                    return Err(bad("sha256 is 64 lower-case hex digits"))
                }
                "sha256" => &mut sha256,
                _ => return Err(bad("unknown field; the fields are model, revision, size, sha256")),
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(bad("a field given twice"));
            }
        }
        let size: String = size.ok_or(PackageError::Missing("size"))?;
        let size =
            size.parse().map_err(|_| PackageError::Line { line: 0, why: format!("size {size:?} is not a number") })?;
        Ok(Some(Header {
            model: model.ok_or(PackageError::Missing("model"))?,
            revision: revision.ok_or(PackageError::Missing("revision"))?,
            size,
            sha256: sha256.ok_or(PackageError::Missing("sha256"))?,
            len: end + 2,
        }))
    }

    /// Whether `image` (the bytes after the header) is the one the header describes.
    pub fn verifies(&self, image: &[u8]) -> bool {
        image.len() == self.size && sha256_hex(image) == self.sha256
    }

    /// The header's bytes for `image` (what `suites/data/fw_*.bin` were made with).
    pub fn build(model: &str, revision: &str, image: &[u8]) -> Vec<u8> {
        let sha = sha256_hex(image);
        let mut out =
            format!("{MAGIC}\nmodel: {model}\nrevision: {revision}\nsize: {}\nsha256: {sha}\n\n", image.len())
                .into_bytes();
        out.extend_from_slice(image);
        out
    }
}

/// A whole package's header, its size checked against what follows it.
pub fn parse(package: &[u8]) -> Result<Header, PackageError> {
    let h = Header::parse(package)?.ok_or(PackageError::Missing("blank line ending the header"))?;
    let has = package.len() - h.len;
    if has != h.size {
        return Err(PackageError::Size { said: h.size, has });
    }
    Ok(h)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn a_built_package_reads_back_and_verifies() {
        let p = Header::build("BC39", "BC39_V2", b"image bytes");
        let h = parse(&p).unwrap();
        assert_eq!((h.model.as_str(), h.revision.as_str(), h.size), ("BC39", "BC39_V2", 11));
        assert!(h.verifies(&p[h.len..]));
        let mut bad = p[h.len..].to_vec();
        bad[0] ^= 1;
        assert!(!h.verifies(&bad));
    }

    #[test]
    fn a_header_split_across_blocks_is_waited_for() {
        let p = Header::build("BC39", "V2", b"x");
        for cut in [0, 3, 16, p.len() - 3] {
            assert_eq!(Header::parse(&p[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(Header::parse(&p[..p.len() - 1]).unwrap().is_some());
    }

    #[rstest]
    #[case(b"ELF\x7f".to_vec(), "does not start with")]
    #[case(b"MIPLFW/1\nmodel: BC39\n\n".to_vec(), "has no size field")]
    #[case(b"MIPLFW/1\nmodel BC39\n\n".to_vec(), "line 2")]
    #[case(b"MIPLFW/1\ncolour: red\n\n".to_vec(), "unknown field")]
    #[case(b"MIPLFW/1\nsha256: abc\n\n".to_vec(), "64 lower-case hex")]
    #[case([b"MIPLFW/1\nmodel: ".as_slice(), &[b'a'; 600]].concat(), "within 512 bytes")]
    #[case(Header::build("BC39", "V2", b"abc")[..70].to_vec(), "blank line")]
    fn bad_headers_are_named(#[case] bytes: Vec<u8>, #[case] want: &str) {
        match parse(&bytes) {
            Err(e) => assert!(e.to_string().contains(want), "{e}"),
            Ok(h) => panic!("{h:?}"),
        }
    }

    #[test]
    fn a_short_image_is_refused_with_both_sizes() {
        let p = Header::build("BC39", "V2", b"abcdef");
        assert_eq!(parse(&p[..p.len() - 2]), Err(PackageError::Size { said: 6, has: 4 }));
    }
}
