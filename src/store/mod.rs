//! Object stores: where peers put their files and validators get them.
//!
//! One trait with two implementations: a local folder (`file://`, the embedded default) and
//! S3 (Cloudflare R2 on the reference network, any S3-compatible server). Keys are flat names
//! such as `gradient-12-3-v1.safetensors`. Errors are classified, so that a caller retries
//! what may pass (timeouts, 5xx, dropped connections) and not what cannot (403, 404).

mod local;
mod s3;

pub use local::LocalStore;
pub use s3::{S3Store, Timeouts};

/// The S3 client configuration gauntlet uses for a bucket (for checks and tools).
pub fn s3_client_config(spec: &BucketSpec) -> Result<aws_sdk_s3::Config> {
    s3::client_config(spec, s3::Timeouts::default())
}

use crate::chain::BucketSpec;
use anyhow::Result;
use std::path::Path;
use std::time::SystemTime;

/// What a HEAD tells about an object.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub uploaded_at: SystemTime,
    /// Changes whenever the object does (S3's ETag; size and mtime for a folder).
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("no such object")]
    NotFound,
    #[error("access denied (HTTP {status}): the bucket refused the read credentials")]
    Denied { status: u16 },
    #[error("the object is {size} bytes, over the cap of {cap}")]
    TooLarge { size: u64, cap: u64 },
    /// Worth retrying: a timeout, a 5xx, a dropped or refused connection.
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Failed(String),
    /// A resumed download was not answered with the range asked for (`206` with
    /// `Content-Range: bytes OFFSET-…`): the bytes sent cannot follow what is there.
    #[error("the server did not resume at byte {offset} (it answered {answer})")]
    RangeIgnored { offset: u64, answer: String },
}

impl StoreError {
    pub fn retryable(&self) -> bool {
        matches!(self, StoreError::Transient(_))
    }
}

pub trait Store: Send + Sync {
    /// Where the store is, for messages: never credentials.
    fn describe(&self) -> String;
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    fn head(&self, key: &str) -> Result<ObjectMeta, StoreError>;
    /// Streams the object from byte `offset` into `out`, failing with `TooLarge` as soon as
    /// more than `cap` bytes in all would have been received; returns the bytes received.
    fn download(
        &self,
        key: &str,
        offset: u64,
        cap: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, StoreError>;
    /// Keys starting with `prefix`, sorted, across as many listing pages as it takes.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Sets an object's upload time where the store allows it (simulating late peers);
    /// `false` where it does not.
    fn backdate(&self, _key: &str, _at: SystemTime) -> Result<bool> {
        Ok(false)
    }

    /// The whole object, `None` when there is no such object.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        match self.download(key, 0, u64::MAX, &mut out) {
            Ok(_) => Ok(Some(out)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(anyhow::anyhow!(
                "cannot get {key} from {}: {e}",
                self.describe()
            )),
        }
    }
}

/// How many bytes a download hands its writer at once: large writes into the page cache cost
/// less per byte, up to about this size.
pub const BATCH_BYTES: usize = 1 << 20;

/// Received chunks not yet handed to the writer.
#[derive(Default)]
pub(crate) struct Batch {
    chunks: Vec<bytes::Bytes>,
    len: usize,
}

impl Batch {
    pub fn push(&mut self, chunk: bytes::Bytes) {
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// Whether to write now: a megabyte gathered, or as many chunks as one `writev` takes
    /// (a server sending tiny chunks must not make the batch long).
    pub fn full(&self) -> bool {
        self.len >= BATCH_BYTES || self.chunks.len() >= 1024
    }

    /// Writes every chunk, in vectored writes (no copy into a buffer first), and empties the
    /// batch.
    pub fn write_to(&mut self, out: &mut dyn std::io::Write) -> Result<(), StoreError> {
        let mut slices: Vec<std::io::IoSlice> = self
            .chunks
            .iter()
            .map(|c| std::io::IoSlice::new(c))
            .collect();
        write_all_vectored(out, &mut slices)
            .map_err(|e| StoreError::Failed(format!("cannot write the download: {e}")))?;
        self.chunks.clear();
        self.len = 0;
        Ok(())
    }
}

/// Reads to the end in chunks of `BATCH_BYTES` (one buffer, reused); returns the bytes read.
pub fn read_chunks(
    mut from: impl std::io::Read,
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(BATCH_BYTES);
    let mut total = 0u64;
    loop {
        buf.clear();
        let n = (&mut from).take(BATCH_BYTES as u64).read_to_end(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        each(&buf)?;
        total += n as u64;
    }
}

/// `Write::write_all` for vectored writes.
pub fn write_all_vectored(
    out: &mut dyn std::io::Write,
    mut slices: &mut [std::io::IoSlice],
) -> std::io::Result<()> {
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Refuses keys that could name something outside a store (`/`, `..`, control characters).
pub fn check_key(key: &str) -> Result<()> {
    anyhow::ensure!(
        !key.is_empty()
            && key != "."
            && key != ".."
            && !key.contains(['/', '\\'])
            && !key.chars().any(char::is_control),
        "object key {key:?} is not a plain name"
    );
    Ok(())
}

/// Opens the store a bucket spec names; relative folder paths are resolved against `base`.
pub fn open(spec: &BucketSpec, base: &Path, timeouts: Timeouts) -> Result<Box<dyn Store>> {
    if let Some(rest) = spec.url.strip_prefix("s3://") {
        return Ok(Box::new(S3Store::open(rest, spec, timeouts)?));
    }
    let path = spec.url.strip_prefix("file://").unwrap_or(&spec.url);
    anyhow::ensure!(
        !path.contains("://"),
        "bucket URL {:?}: use s3://BUCKET or file:///folder",
        spec.url
    );
    Ok(Box::new(LocalStore::open(base.join(path))?))
}
