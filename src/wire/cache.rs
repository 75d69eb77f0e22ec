//! A peer's gradient file read and checked once per process. `filter`, `dedupe`, `evaluate`
//! and `aggregate` each need a record's checked gradient; in one process (`run`, `demo`) the
//! first of them reads and decodes the file and the rest share the result, kept by the file's
//! content (the sha256 fetch recorded, else its path and size) and what it was checked
//! against. Separate processes of a shell pipeline decode once per stage, as before.
//!
//! The cache holds at most [`BUDGET_BYTES`] of decoded tensors, dropping the oldest first;
//! a refusal is kept too, so a bad file is judged once and the same way by every stage.

use super::gradient::{decode_file, Expect, Gradient};
use super::{read_capped, Reject};
use crate::codec::{Encoded, Values};
use anyhow::Result;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Most bytes of decoded tensors kept at once.
pub const BUDGET_BYTES: u64 = 2 << 30;

/// Files decoded by this process (a cache hit decodes nothing), for benches and tests.
pub static DECODES: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Hash, PartialEq, Eq)]
struct Key {
    content: String,
    window: Option<u64>,
    uid: Option<u16>,
    /// The codec and the size cap, which stand for the layouts it was checked against.
    checked_as: String,
}

type Checked = Result<Gradient, Reject>;

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, (Checked, u64)>,
    order: VecDeque<Key>,
    bytes: u64,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// When set, every load decodes afresh and nothing is kept: how separate processes behave,
/// for measuring the cache (`benches/round.rs`).
static BYPASS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every later load decode afresh (`true`) or share again (`false`).
pub fn bypass(on: bool) {
    BYPASS.store(on, Ordering::Relaxed);
    if on {
        *lock() = None;
    }
}

/// The checked gradient of the file at `path` (whose content's sha256 is `sha256`, when
/// known) for `expect`: read within its size cap and decoded the first time, shared after.
pub fn load(
    path: &Path,
    sha256: Option<&str>,
    expect: &Expect,
) -> Result<Result<Gradient, Reject>> {
    let content = match sha256 {
        Some(sha) => format!("sha256:{sha}"),
        None => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            format!("path:{}:{size}", path.display())
        }
    };
    let cap = expect.size_cap();
    let key = Key {
        content,
        window: expect.window,
        uid: expect.uid,
        checked_as: format!(
            "{}/{}",
            serde_json::to_string(expect.codec).unwrap_or_default(),
            cap
        ),
    };
    let bypass = BYPASS.load(Ordering::Relaxed);
    if let Some((hit, _)) = lock().as_ref().and_then(|c| c.entries.get(&key)) {
        return Ok(share(hit));
    }
    let checked = read_capped(path, cap)?.and_then(|b| {
        DECODES.fetch_add(1, Ordering::Relaxed);
        decode_file(&b, expect)
    });
    let cost = match &checked {
        Ok(g) => g.params.iter().map(bytes_of).sum(),
        Err(_) => 0,
    };
    if bypass {
        return Ok(checked);
    }
    let out = share(&checked);
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    if cost <= BUDGET_BYTES && !cache.entries.contains_key(&key) {
        while cache.bytes + cost > BUDGET_BYTES {
            let Some(old) = cache.order.pop_front() else {
                break;
            };
            if let Some((_, b)) = cache.entries.remove(&old) {
                cache.bytes -= b;
            }
        }
        cache.bytes += cost;
        cache.order.push_back(key.clone());
        cache.entries.insert(key, (checked, cost));
    }
    Ok(out)
}

fn lock() -> std::sync::MutexGuard<'static, Option<Cache>> {
    // A panic elsewhere while the lock was held leaves nothing half-done here.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A copy of a cached result whose tensors share the cached storage (no data is copied;
/// readers only read).
fn share(checked: &Checked) -> Result<Gradient, Reject> {
    match checked {
        Ok(g) => Ok(Gradient {
            meta: g.meta.clone(),
            params: g.params.iter().map(shallow).collect(),
        }),
        Err(r) => Err(r.clone()),
    }
}

fn shallow(e: &Encoded) -> Encoded {
    Encoded {
        idx: e.idx.shallow_clone(),
        vals: match &e.vals {
            Values::Float(v) => Values::Float(v.shallow_clone()),
            Values::Quantized { codes, table } => Values::Quantized {
                codes: codes.shallow_clone(),
                table: crate::codec::QuantTable {
                    shift: table.shift,
                    scale: table.scale,
                    lookup: table.lookup.shallow_clone(),
                },
            },
        },
    }
}

fn bytes_of(e: &Encoded) -> u64 {
    let t = |t: &tch::Tensor| (t.numel() * t.kind().elt_size_in_bytes()) as u64;
    t(&e.idx)
        + match &e.vals {
            Values::Float(v) => t(v),
            Values::Quantized { codes, table } => t(codes) + t(&table.lookup),
        }
}
