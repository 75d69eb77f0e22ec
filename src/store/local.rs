//! A folder as an object store: one file per key, written atomically, with the file's
//! modification time as the upload time.

use super::{check_key, ObjectMeta, Store, StoreError};
use anyhow::{Context, Result};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store in `root` (created if missing); `file://` prefixes are accepted.
    pub fn open(root: impl AsRef<Path>) -> Result<LocalStore> {
        let root = root.as_ref();
        let root = root
            .to_str()
            .and_then(|s| s.strip_prefix("file://"))
            .map(PathBuf::from)
            .unwrap_or_else(|| root.to_path_buf());
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create store folder {}", root.display()))?;
        Ok(LocalStore { root })
    }

    pub fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn io(e: std::io::Error) -> StoreError {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound
        } else {
            StoreError::Failed(e.to_string())
        }
    }
}

impl Store for LocalStore {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        crate::atomic::write(&self.path(key)?, bytes)
    }

    fn head(&self, key: &str) -> Result<ObjectMeta, StoreError> {
        let path = self
            .path(key)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let m = std::fs::metadata(path).map_err(Self::io)?;
        let uploaded_at = m.modified().map_err(Self::io)?;
        let nanos = uploaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Ok(ObjectMeta {
            key: key.to_string(),
            size: m.len(),
            uploaded_at,
            etag: format!("{}-{nanos}", m.len()),
        })
    }

    fn download(
        &self,
        key: &str,
        offset: u64,
        cap: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, StoreError> {
        let path = self
            .path(key)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let mut f = std::fs::File::open(path).map_err(Self::io)?;
        let size = f.metadata().map_err(Self::io)?.len();
        if size > cap {
            return Err(StoreError::TooLarge { size, cap });
        }
        f.seek(SeekFrom::Start(offset)).map_err(Self::io)?;
        super::read_chunks(f.take(cap - offset.min(cap)), |c| out.write_all(c)).map_err(Self::io)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&self.root)
            .with_context(|| format!("cannot list {}", self.describe()))?
        {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) && !name.starts_with('.') {
                keys.push(name);
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn backdate(&self, key: &str, at: SystemTime) -> Result<bool> {
        let f = std::fs::File::options().write(true).open(self.path(key)?)?;
        f.set_modified(at)
            .with_context(|| format!("cannot set the upload time of {key}"))?;
        Ok(true)
    }
}
