//! Every report file is written whole or not at all: to a temporary file beside it, synced, then
//! renamed over the old one, so a full disk or a killed process never leaves half a `junit.xml`
//! that a CI system would read as the truth.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating its folder.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let named = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(named)?;
    let tmp = partial(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself must reach the disk too.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(named)
}

/// `junit.xml.partial`: where a file is written before it is renamed into place.
pub fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out/junit.xml");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(!partial(&p).exists());
    }

    #[test]
    fn a_file_that_cannot_be_written_is_named_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("junit.xml");
        std::fs::create_dir(&p).unwrap();
        let e = write(&p, b"x").unwrap_err().to_string();
        assert!(e.contains("junit.xml"), "{e}");
        assert!(!partial(&p).exists());
    }
}
