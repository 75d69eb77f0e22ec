//! `torch.save` archives, read without Python and without executing anything.
//!
//! The reference network's peers upload PyTorch files: a zip archive holding a pickle
//! (`data.pkl`) and one entry per storage (`data/0`, `data/1`, …). [`read`] checks the
//! archive ([`zip`]: stored entries only, every offset within the file), runs the pickle on an
//! allow-list machine ([`pickle`]) that knows tensors, dicts, lists, tuples and plain values
//! and refuses every other global or opcode by name, and then hands out each tensor's bytes
//! only after its storage's declared size matched its entry and its view fits its storage.

pub mod pickle;
pub mod write;
pub mod zip;

pub use pickle::{StorageRef, TensorRef, Tree};

use crate::Reject;
use safetensors::Dtype;
use std::borrow::Cow;
use std::collections::HashMap;

/// A checked archive: the pickle's result and the storages it may refer to.
pub struct TorchFile<'a> {
    pub root: Tree,
    file: &'a [u8],
    storages: HashMap<String, zip::ZipEntry>,
}

fn storage_err(why: impl Into<String>) -> Reject {
    Reject::BadStorage { why: why.into() }
}

/// Reads a `torch.save` archive held in memory.
pub fn read(file: &[u8]) -> Result<TorchFile<'_>, Reject> {
    let entries = zip::entries(file)?;
    let pickle = entries
        .iter()
        .find(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"))
        .ok_or_else(|| Reject::Archive {
            why: "no data.pkl entry: not a torch.save archive".into(),
        })?;
    let prefix = &pickle.name[..pickle.name.len() - "data.pkl".len()];
    if let Some(order) = entries
        .iter()
        .find(|e| e.name == format!("{prefix}byteorder"))
    {
        let text = &file[order.start..order.start + order.len];
        if text != b"little" {
            return Err(Reject::Archive {
                why: format!(
                    "byte order {:?}: only little-endian archives are read",
                    String::from_utf8_lossy(&text[..text.len().min(16)])
                ),
            });
        }
    }
    let storages = entries
        .iter()
        .filter_map(|e| {
            let key = e.name.strip_prefix(prefix)?.strip_prefix("data/")?;
            Some((key.to_string(), e.clone()))
        })
        .collect();
    let root = pickle::unpickle(&file[pickle.start..pickle.start + pickle.len])?.tree()?;
    let file = TorchFile {
        root,
        file,
        storages,
    };
    // Every tensor is checked now, whether or not a reader asks for it later.
    let mut tensors = Vec::new();
    collect_tensors(&file.root, &mut tensors);
    for t in tensors {
        file.view(t)?;
    }
    Ok(file)
}

fn collect_tensors<'t>(tree: &'t Tree, out: &mut Vec<&'t TensorRef>) {
    match tree {
        Tree::Tensor(t) => out.push(t),
        Tree::Tuple(items) | Tree::List(items) => {
            items.iter().for_each(|i| collect_tensors(i, out))
        }
        Tree::Dict(items) => items.iter().for_each(|(k, v)| {
            collect_tensors(k, out);
            collect_tensors(v, out);
        }),
        _ => {}
    }
}

/// Bytes per element of a dtype the archive may hold.
pub fn dtype_size(d: Dtype) -> usize {
    // The unpickler only yields whole-byte dtypes (see `pickle::storage_dtype`).
    d.bitsize() / 8
}

impl<'a> TorchFile<'a> {
    /// Every tensor in the file, in the order the pickle holds them.
    pub fn tensors(&self) -> Vec<&TensorRef> {
        let mut out = Vec::new();
        collect_tensors(&self.root, &mut out);
        out
    }

    /// A tensor's elements in row-major order, little-endian, after checking that its storage
    /// is in the archive with exactly its declared size and that the view stays inside it.
    pub fn tensor(&self, t: &TensorRef) -> Result<Cow<'a, [u8]>, Reject> {
        let (data, numel, dense) = self.view(t)?;
        if numel == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let elem = dtype_size(t.storage.dtype);
        let start = t.offset as usize * elem;
        if dense {
            return Ok(Cow::Borrowed(&data[start..start + numel as usize * elem]));
        }
        // A strided view: gather it element by element (bounded by the storage's size).
        let mut out = Vec::with_capacity(numel as usize * elem);
        let mut index = vec![0u64; t.shape.len()];
        for _ in 0..numel {
            let at = t.offset + index.iter().zip(&t.stride).map(|(i, s)| i * s).sum::<u64>();
            let at = at as usize * elem;
            out.extend_from_slice(&data[at..at + elem]);
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < t.shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(Cow::Owned(out))
    }

    /// Checks a tensor against its storage: the storage's bytes, the view's element count,
    /// and whether the view is dense (row-major without gaps).
    fn view(&self, t: &TensorRef) -> Result<(&'a [u8], u64, bool), Reject> {
        let s = &t.storage;
        let elem = dtype_size(s.dtype);
        let entry = self
            .storages
            .get(&s.key)
            .ok_or_else(|| storage_err(format!("storage {} is not in the archive", s.key)))?;
        let declared = s.numel.checked_mul(elem as u64);
        if declared != Some(entry.len as u64) {
            return Err(storage_err(format!(
                "storage {} declares {} elements of {} bytes, but its entry holds {} bytes",
                s.key, s.numel, elem, entry.len
            )));
        }
        let data = &self.file[entry.start..entry.start + entry.len];
        let numel = t
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| storage_err(format!("a tensor of shape {:?} overflows", t.shape)))?;
        if numel == 0 {
            if t.offset > s.numel {
                return Err(storage_err(format!(
                    "an empty tensor at offset {} of storage {} of {} elements",
                    t.offset, s.key, s.numel
                )));
            }
            return Ok((data, 0, true));
        }
        if numel > s.numel {
            return Err(storage_err(format!(
                "a tensor of shape {:?} ({numel} elements) views storage {} of {} elements",
                t.shape, s.key, s.numel
            )));
        }
        let last = t
            .shape
            .iter()
            .zip(&t.stride)
            .try_fold(t.offset, |acc, (&d, &st)| {
                acc.checked_add((d - 1).checked_mul(st)?)
            });
        match last {
            Some(last) if last < s.numel => {}
            _ => {
                return Err(storage_err(format!(
                    "a tensor at offset {} with shape {:?} and stride {:?} reaches past storage {} of {} elements",
                    t.offset, t.shape, t.stride, s.key, s.numel
                )))
            }
        }
        let mut step = 1u64;
        let mut dense = true;
        for (&d, &st) in t.shape.iter().zip(&t.stride).rev() {
            dense &= d == 1 || st == step;
            step *= d;
        }
        Ok((data, numel, dense))
    }
}
