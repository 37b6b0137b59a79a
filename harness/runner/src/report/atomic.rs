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

/// Writes many files as [`write`] does each, but with the syncs shared out: every file written
/// and synced (on two threads: a sync mostly waits), then every rename, then each folder synced
/// once. For a page's side files, a hundred of them on a big run. Each file is still whole or
/// absent; on an error the files not yet renamed are left as they were.
pub fn write_many(files: &[(PathBuf, &[u8])]) -> std::io::Result<()> {
    let named = |path: &Path, e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let folder =
        |path: &Path| path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let mut folders: Vec<PathBuf> = files.iter().map(|(p, _)| folder(p)).collect();
    folders.sort();
    folders.dedup();
    for d in &folders {
        std::fs::create_dir_all(d).map_err(|e| named(d, e))?;
    }
    let put = |path: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut f = std::fs::File::create(partial(path))?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    let results: Vec<std::io::Result<()>> = std::thread::scope(|scope| {
        let half = files.len().div_ceil(2).max(1);
        let parts: Vec<_> = files
            .chunks(half)
            .map(|part| {
                scope.spawn(move || part.iter().map(|(p, b)| put(p, b).map_err(|e| named(p, e))).collect::<Vec<_>>())
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let renamed = results
        .into_iter()
        .collect::<std::io::Result<()>>()
        .and_then(|()| files.iter().try_for_each(|(p, _)| std::fs::rename(partial(p), p).map_err(|e| named(p, e))));
    if renamed.is_err() {
        for (p, _) in files {
            let _ = std::fs::remove_file(partial(p));
        }
    }
    renamed?;
    // The renames themselves must reach the disk too.
    folders.iter().try_for_each(|d| std::fs::File::open(d).and_then(|f| f.sync_all()).map_err(|e| named(d, e)))
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
    fn many_files_are_replaced_whole_or_left_as_they_were() {
        let d = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..5).map(|i| d.path().join(format!("side/report-{i}.js"))).collect();
        let files: Vec<(PathBuf, &[u8])> = paths.iter().map(|p| (p.clone(), &b"new"[..])).collect();
        write_many(&files).unwrap();
        assert!(paths.iter().all(|p| std::fs::read(p).unwrap() == b"new" && !partial(p).exists()));
        // One that cannot be written (a folder in its place): named, and no file left half done.
        std::fs::write(&paths[0], b"old").unwrap();
        std::fs::create_dir(partial(&paths[3])).unwrap();
        let e = write_many(&files).unwrap_err().to_string();
        assert!(e.contains("report-3.js"), "{e}");
        assert_eq!(std::fs::read(&paths[0]).unwrap(), b"old", "nothing renamed when one failed");
        assert!(!partial(&paths[0]).exists());
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
