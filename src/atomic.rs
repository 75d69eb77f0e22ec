//! The one way gauntlet writes a file: into a temporary file beside it, flushed to disk,
//! renamed over the target, and the folder flushed too, so that a reader sees the old file or
//! the whole new one and a crash right after the rename still leaves the new one.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary file a write of `path` goes to first: hidden, beside it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Writes `path` atomically with what `fill` writes.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let tmp = temp_path(path);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    let written = fill(&mut out)
        .and_then(|_| Ok(out.flush()?))
        .with_context(|| format!("cannot write {}", tmp.display()));
    drop(out);
    if let Err(e) = written {
        // The target is untouched; the half-written temporary goes.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    publish(&tmp, path)
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |out| Ok(out.write_all(bytes)?))
}

/// Moves a finished temporary file into place: its data flushed to disk, renamed, and the
/// folder's entry flushed.
pub fn publish(tmp: &Path, path: &Path) -> Result<()> {
    File::open(tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush {} to disk", tmp.display()))?;
    std::fs::rename(tmp, path).with_context(|| {
        format!(
            "cannot move {} into place at {}",
            tmp.display(),
            path.display()
        )
    })?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // A folder can be opened and synced on Unix; elsewhere the rename is what we have.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
