//! The fetch stage: each peer's pseudo-gradient and sync slice for the window, downloaded
//! concurrently into a content-addressed cache.
//!
//! Per object: HEAD (size cap checked before any byte is downloaded), then a streaming GET
//! into a `.partial` file that a later attempt or run resumes with a ranged GET, then the
//! SHA-256, and the file moves to `objects/sha256/ab/abcd…`. An index entry per (store, key)
//! remembers the ETag, so a re-run skips objects the cache already holds intact. Timeouts,
//! 5xx and dropped connections are retried with exponential backoff; 403 and 404 are not.

use crate::chain::NetworkFile;
use crate::record::{ObjectInfo, Record, Status};
use crate::store::{self, Store, StoreError};
use crate::wire;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    pub cache: PathBuf,
    pub concurrency: usize,
    /// Attempts per request for retryable failures.
    pub attempts: u32,
    /// The first retry waits this long; each later one twice as long.
    pub backoff: Duration,
    /// Largest gradient file accepted (from the model and codec).
    pub max_bytes: u64,
    /// Largest sync slice accepted.
    pub max_sync_bytes: u64,
    /// Network protocol version in object keys.
    pub version: String,
    /// Whose object keys: gauntlet's or the reference's.
    pub compat: wire::Compat,
    /// Of every request to a peer's S3 bucket.
    pub timeouts: store::Timeouts,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub records: usize,
    pub fetched: usize,
    pub from_cache: usize,
    pub failed: usize,
    pub bytes_downloaded: u64,
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    etag: String,
    size: u64,
    sha256: String,
}

struct Run<'a> {
    opts: &'a Options,
    bytes: AtomicU64,
    from_cache: AtomicUsize,
}

/// What went wrong with one object, as the record will say it.
struct Failure {
    status: Status,
    reason: String,
}

/// Fetches the objects of every `ok` record (others pass through untouched), in parallel;
/// returns the records in their input order. `done` is called once per record.
impl Options {
    /// The fetch settings of a config, with the size cap from the model and codec unless
    /// fetch.max_bytes sets one.
    pub fn from_config(cfg: &crate::config::Config) -> Result<Options> {
        let (codec, layouts) = crate::wire::layouts(cfg, tch::Device::Cpu)?;
        let f = &cfg.fetch;
        let max_bytes = if f.max_bytes > 0 {
            f.max_bytes
        } else {
            wire::gradient::size_cap(&layouts, &codec.params)
        };
        Ok(Options {
            timeouts: store::Timeouts::configured(cfg),
            cache: f.cache.clone(),
            concurrency: f.concurrency,
            attempts: f.attempts.max(1),
            backoff: Duration::from_secs_f64(f.backoff_seconds.max(0.0)),
            max_bytes,
            max_sync_bytes: wire::sync::size_cap(&wire::sync::params(
                &layouts,
                cfg.hparams.sync_value_offset,
                cfg.hparams.sync_values_per_param,
            )),
            version: cfg.network.version.clone(),
            compat: cfg.network.compat,
        })
    }
}

pub fn fetch(
    records: Vec<Record>,
    network: &NetworkFile,
    opts: &Options,
    done: &(dyn Fn() + Sync),
) -> Result<(Vec<Record>, Stats)> {
    // Records name cached files by absolute path, so later stages may run anywhere.
    let opts = &Options {
        cache: std::path::absolute(&opts.cache)?,
        ..opts.clone()
    };
    for dir in ["objects", "index", "partial"] {
        std::fs::create_dir_all(opts.cache.join(dir))
            .with_context(|| format!("cannot create the cache {}", opts.cache.display()))?;
    }
    let run = Run {
        opts,
        bytes: AtomicU64::new(0),
        from_cache: AtomicUsize::new(0),
    };
    let next = AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Record>>> = records
        .into_iter()
        .map(|r| std::sync::Mutex::new(Some(r)))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.clamp(1, 256) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = slots.get(i) else { break };
                let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(r) = guard.as_mut() {
                    if r.status.is_ok() {
                        run.record(r, network);
                    }
                }
                done();
            });
        }
    });
    let out: Vec<Record> = slots
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let stats = Stats {
        records: out.len(),
        fetched: out
            .iter()
            .filter(|r| r.status.is_ok() && r.object.is_some())
            .count(),
        from_cache: run.from_cache.load(Ordering::Relaxed),
        failed: out.iter().filter(|r| !r.status.is_ok()).count(),
        bytes_downloaded: run.bytes.load(Ordering::Relaxed),
    };
    Ok((out, stats))
}

impl Run<'_> {
    fn record(&self, r: &mut Record, network: &NetworkFile) {
        let Some(peer) = network.peer(r.uid) else {
            return r.fail(
                Status::Unreachable,
                format!(
                    "uid {} is not in the network file, so its bucket is unknown",
                    r.uid
                ),
            );
        };
        let store = match store::open(&peer.bucket, &network.base, self.opts.timeouts) {
            Ok(s) => s,
            Err(e) => {
                return r.fail(
                    Status::Unreachable,
                    format!("cannot open the bucket of uid {}: {e:#}", r.uid),
                )
            }
        };
        let key = self
            .opts
            .compat
            .gradient_key(r.window, r.uid, &self.opts.version);
        let mut object = match self.object(store.as_ref(), &key, self.opts.max_bytes) {
            Ok(o) => o,
            Err(f) => {
                return r.fail(
                    f.status,
                    format!(
                        "uid {} window {}: {} ({})",
                        r.uid,
                        r.window,
                        f.reason,
                        store.describe()
                    ),
                )
            }
        };
        let sync_key = self
            .opts
            .compat
            .sync_key(r.window, r.uid, &self.opts.version);
        match self.object(store.as_ref(), &sync_key, self.opts.max_sync_bytes) {
            Ok(o) => object.sync = Some(Box::new(o)),
            Err(f) => object.sync_error = Some(f.reason),
        }
        r.object = Some(object);
    }

    /// Retries `op` while it fails with a retryable error, backing off exponentially.
    fn retry<T>(&self, mut op: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut wait = self.opts.backoff;
        let mut attempt = 1;
        loop {
            match op() {
                Err(e) if e.retryable() && attempt < self.opts.attempts => {
                    std::thread::sleep(wait);
                    wait *= 2;
                    attempt += 1;
                }
                Err(StoreError::Transient(why)) => {
                    return Err(StoreError::Transient(format!(
                        "{why} (after {attempt} attempts)"
                    )));
                }
                other => return other,
            }
        }
    }

    fn object(&self, store: &dyn Store, key: &str, cap: u64) -> Result<ObjectInfo, Failure> {
        let fail = |e: StoreError| {
            match e {
            StoreError::NotFound => Failure { status: Status::Missing, reason: format!("no {key} in the bucket") },
            StoreError::TooLarge { size, cap } => Failure {
                status: Status::TooLarge,
                reason: format!("{key} is {size} bytes, over the cap of {cap} bytes for this model; not downloaded"),
            },
            StoreError::Denied { status } => Failure {
                status: Status::Unreachable,
                reason: format!("{key}: access denied (HTTP {status}): the bucket refused the peer's committed read credentials"),
            },
            other => Failure { status: Status::Unreachable, reason: format!("{key}: {other}") },
        }
        };
        let meta = self.retry(|| store.head(key)).map_err(fail)?;
        if meta.size > cap {
            return Err(fail(StoreError::TooLarge {
                size: meta.size,
                cap,
            }));
        }
        let id = hex::encode(Sha256::digest(format!("{}\n{key}", store.describe())));
        let index_path = self.opts.cache.join("index").join(format!("{id}.json"));
        let cached = std::fs::read(&index_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<IndexEntry>(&b).ok())
            .filter(|e| e.etag == meta.etag && e.size == meta.size)
            .map(|e| self.blob_path(&e.sha256))
            .filter(|p| sha256_file(p).ok().as_deref() == p.file_name().and_then(|n| n.to_str()));
        let (path, sha256) = match cached {
            Some(path) => {
                self.from_cache.fetch_add(1, Ordering::Relaxed);
                let sha = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                (path, sha)
            }
            None => {
                let etag_id = hex::encode(Sha256::digest(format!("{id}\n{}", meta.etag)));
                let partial = self.opts.cache.join("partial").join(etag_id);
                let sha = self
                    .retry(|| self.download(store, key, &partial, meta.size, cap))
                    .map_err(fail)?;
                let path = self.blob_path(&sha);
                let moved = path
                    .parent()
                    .map(std::fs::create_dir_all)
                    .transpose()
                    .map_err(anyhow::Error::from)
                    .and_then(|_| crate::atomic::publish(&partial, &path));
                moved.map_err(|e| {
                    fail(StoreError::Failed(format!(
                        "cannot move the download into the cache: {e:#}"
                    )))
                })?;
                let entry = serde_json::to_vec(&IndexEntry {
                    etag: meta.etag.clone(),
                    size: meta.size,
                    sha256: sha.clone(),
                })
                .unwrap_or_default();
                let _ = crate::atomic::write(&index_path, &entry);
                (path, sha)
            }
        };
        Ok(ObjectInfo {
            key: key.to_string(),
            path: Some(path.display().to_string()),
            size: Some(meta.size),
            uploaded_at: Some(meta.uploaded_at.into()),
            etag: Some(meta.etag),
            sha256: Some(sha256),
            ..Default::default()
        })
    }

    /// Downloads into `partial`, resuming from what an earlier attempt left there; returns
    /// the SHA-256 of the whole object, computed as the bytes arrive. A server that does not
    /// resume where asked makes it start again from zero; the whole file must come to the
    /// object's size.
    fn download(
        &self,
        store: &dyn Store,
        key: &str,
        partial: &Path,
        size: u64,
        cap: u64,
    ) -> Result<String, StoreError> {
        match self.download_from_end(store, key, partial, size, cap) {
            Err(StoreError::RangeIgnored { .. }) => {
                let _ = std::fs::remove_file(partial);
                self.download_from_end(store, key, partial, size, cap)
            }
            other => other,
        }
    }

    fn download_from_end(
        &self,
        store: &dyn Store,
        key: &str,
        partial: &Path,
        size: u64,
        cap: u64,
    ) -> Result<String, StoreError> {
        let io = |e: std::io::Error| StoreError::Failed(format!("cannot write the cache: {e}"));
        let mut hash = Sha256::new();
        if partial.exists() {
            let f = std::fs::File::open(partial).map_err(io)?;
            store::read_chunks(f, |c| {
                hash.update(c);
                Ok(())
            })
            .map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(partial)
            .map_err(io)?;
        let offset = file.metadata().map_err(io)?.len();
        reserve(&file, offset, size);
        let mut sink = CacheWriter {
            file,
            hash: &mut hash,
            bytes: &self.bytes,
        };
        let result = store.download(key, offset, cap, &mut sink);
        if matches!(
            result,
            Err(StoreError::TooLarge { .. }) | Err(StoreError::NotFound)
        ) {
            let _ = std::fs::remove_file(partial);
        }
        result?;
        // Whatever the server said on the way, the whole file must be the object's size.
        let got = std::fs::metadata(partial).map_err(io)?.len();
        if got != size {
            let _ = std::fs::remove_file(partial);
            return Err(StoreError::Transient(format!(
                "the download came to {got} bytes where the object has {size}; starting again from zero"
            )));
        }
        Ok(hex::encode(hash.finalize()))
    }

    fn blob_path(&self, sha: &str) -> PathBuf {
        self.opts
            .cache
            .join("objects")
            .join(&sha[..2.min(sha.len())])
            .join(sha)
    }
}

/// Where downloaded bytes go: the file, the running hash, and the count of bytes really
/// transferred. Stores hand it large vectored writes, so it does not buffer.
struct CacheWriter<'a> {
    file: std::fs::File,
    hash: &'a mut Sha256,
    bytes: &'a AtomicU64,
}

impl Write for CacheWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// Hashes the chunks while they are fresh in the CPU cache, then writes them all.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        for b in bufs {
            self.hash.update(&**b);
        }
        store::write_all_vectored(&mut self.file, &mut bufs.to_vec())?;
        let n: usize = bufs.iter().map(|b| b.len()).sum();
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reserves the disk space of the rest of the download at once, where the filesystem can,
/// which spares it reserving space page by page; the file's length is unchanged, so a broken
/// download still resumes from its real end.
fn reserve(f: &std::fs::File, offset: u64, size: u64) {
    #[cfg(target_os = "linux")]
    if size > offset {
        use std::os::fd::AsRawFd;
        // SAFETY: fallocate only reads its integer arguments; a failure changes nothing.
        unsafe {
            libc::fallocate(
                f.as_raw_fd(),
                libc::FALLOC_FL_KEEP_SIZE,
                offset as libc::off_t,
                (size - offset) as libc::off_t,
            )
        };
    }
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    store::read_chunks(std::fs::File::open(path)?, |c| {
        h.update(c);
        Ok(())
    })?;
    Ok(hex::encode(h.finalize()))
}
