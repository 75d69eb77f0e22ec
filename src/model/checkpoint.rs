//! Model checkpoints as safetensors: one file, or shards with a Hugging Face style
//! `model.safetensors.index.json`. Loading checks every tensor's name, shape and dtype against
//! the model and names the one that is wrong.

use crate::tensor_io::{kind_name, kind_of, tensor_from_bytes, write_safetensors, TensorBytes};
use anyhow::{bail, Context, Result};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Kind};

/// The index file of a sharded checkpoint.
pub const INDEX_FILE: &str = "model.safetensors.index.json";
/// The single-file checkpoint name inside a checkpoint folder.
pub const SINGLE_FILE: &str = "model.safetensors";

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    #[serde(default)]
    metadata: serde_json::Value,
    weight_map: BTreeMap<String, String>,
}

/// Writes the variables of `vs` in `order` to `path`.
///
/// With `max_shard_bytes`, `path` is a folder that receives `model-0000K-of-0000N.safetensors`
/// files of at most that many bytes each (a larger single tensor gets a shard of its own)
/// and the index; otherwise `path` is one `.safetensors` file. `metadata` goes into every
/// file's `__metadata__`.
pub fn save(
    vs: &VarStore,
    order: &[String],
    path: &Path,
    max_shard_bytes: Option<u64>,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let vars = vs.variables();
    let mut tensors = Vec::with_capacity(order.len());
    for name in order {
        let t = vars
            .get(name)
            .with_context(|| format!("the model has no variable {name}"))?;
        tensors.push((name.clone(), TensorBytes::from_tensor(t)?));
    }
    let Some(limit) = max_shard_bytes else {
        return write_file(&tensors, metadata, path);
    };
    let mut shards: Vec<Vec<(String, TensorBytes)>> = vec![Vec::new()];
    let mut size = 0u64;
    for (name, bytes) in tensors {
        if size > 0 && size + bytes.len() as u64 > limit {
            shards.push(Vec::new());
            size = 0;
        }
        size += bytes.len() as u64;
        shards
            .last_mut()
            .expect("one shard at least")
            .push((name, bytes));
    }
    std::fs::create_dir_all(path)
        .with_context(|| format!("cannot create checkpoint folder {}", path.display()))?;
    let n = shards.len();
    let mut weight_map = BTreeMap::new();
    let mut total = 0u64;
    for (k, shard) in shards.iter().enumerate() {
        let file = format!("model-{:05}-of-{:05}.safetensors", k + 1, n);
        for (name, bytes) in shard {
            weight_map.insert(name.clone(), file.clone());
            total += bytes.len() as u64;
        }
        write_file(shard, metadata, &path.join(&file))?;
    }
    let mut meta = serde_json::Map::new();
    meta.insert("total_size".into(), total.into());
    let index = Index {
        metadata: serde_json::Value::Object(meta),
        weight_map,
    };
    crate::atomic::write(
        &path.join(INDEX_FILE),
        serde_json::to_string_pretty(&index)?.as_bytes(),
    )
}

fn write_file(
    tensors: &[(String, TensorBytes)],
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<()> {
    crate::atomic::write_with(path, |out| write_safetensors(out, metadata, tensors))
        .with_context(|| format!("cannot write checkpoint {}", path.display()))
}

/// The files of a checkpoint and which file holds each tensor (`None`: the only file).
struct Layout {
    files: Vec<PathBuf>,
    weight_map: Option<BTreeMap<String, String>>,
    base: PathBuf,
}

fn layout(path: &Path) -> Result<Layout> {
    let index_path = if path.is_dir() {
        if path.join(INDEX_FILE).is_file() {
            path.join(INDEX_FILE)
        } else if path.join(SINGLE_FILE).is_file() {
            return Ok(Layout {
                files: vec![path.join(SINGLE_FILE)],
                weight_map: None,
                base: path.into(),
            });
        } else {
            bail!(
                "checkpoint folder {} holds neither {INDEX_FILE} nor {SINGLE_FILE}",
                path.display()
            )
        }
    } else if path.extension().is_some_and(|e| e == "json") {
        path.to_path_buf()
    } else {
        anyhow::ensure!(
            path.is_file(),
            "checkpoint {} does not exist",
            path.display()
        );
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        return Ok(Layout {
            files: vec![path.to_path_buf()],
            weight_map: None,
            base,
        });
    };
    let text = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read checkpoint index {}", index_path.display()))?;
    let index: Index = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a safetensors index (with a weight_map)",
            index_path.display()
        )
    })?;
    let base = index_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut files: Vec<PathBuf> = Vec::new();
    for file in index.weight_map.values() {
        anyhow::ensure!(
            !file.contains('/') && !file.contains('\\') && file != ".." && !file.is_empty(),
            "checkpoint index {} names the shard {file:?}, which is not a plain file name",
            index_path.display()
        );
        let p = base.join(file);
        if !files.contains(&p) {
            files.push(p);
        }
    }
    Ok(Layout {
        files,
        weight_map: Some(index.weight_map),
        base,
    })
}

/// Reads the `__metadata__` of a checkpoint's first file.
pub fn read_metadata(path: &Path) -> Result<std::collections::HashMap<String, String>> {
    let layout = layout(path)?;
    let file = layout.files.first().context("checkpoint has no files")?;
    let f = std::fs::File::open(file)
        .with_context(|| format!("cannot open checkpoint {}", file.display()))?;
    // SAFETY: the mapping is read-only and lives only in this function; a concurrent writer
    // could change bytes under us, which safetensors' checks turn into an error, not UB in Rust
    // code that only reads through slices.
    let map = unsafe { memmap2::Mmap::map(&f) }
        .with_context(|| format!("cannot map {}", file.display()))?;
    let (_, meta) = SafeTensors::read_metadata(&map)
        .map_err(|e| anyhow::anyhow!("{} is not a safetensors file: {e}", file.display()))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// Loads a checkpoint into the variables of `vs`, bit-exactly when the dtypes agree.
///
/// Every variable must be present with the variable's shape and a floating-point dtype
/// (converted to the variable's dtype when it differs); a tensor the model does not have is an
/// error too, except rotary `inv_freq` buffers that old Hugging Face checkpoints carry.
pub fn load(vs: &mut VarStore, path: &Path) -> Result<()> {
    let layout = layout(path)?;
    let mut vars: BTreeMap<String, tch::Tensor> = vs.variables().into_iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    for file in &layout.files {
        let f = std::fs::File::open(file)
            .with_context(|| format!("cannot open checkpoint {}", file.display()))?;
        // SAFETY: as in `read_metadata`.
        let map = unsafe { memmap2::Mmap::map(&f) }
            .with_context(|| format!("cannot map {}", file.display()))?;
        let st = SafeTensors::deserialize(&map).map_err(|e| {
            anyhow::anyhow!("{} is not a valid safetensors file: {e}", file.display())
        })?;
        for (name, view) in st.tensors() {
            if let Some(map) = &layout.weight_map {
                let owner = map.get(&name).map(|f| layout.base.join(f));
                if owner.as_ref() != Some(file) {
                    continue;
                }
            }
            if name.ends_with("rotary_emb.inv_freq") {
                continue;
            }
            let Some(var) = vars.get_mut(&name) else {
                bail!("checkpoint {} has a tensor {name} that the model does not have (is it for another model preset?)", file.display())
            };
            let want: Vec<i64> = var.size();
            let got: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if want != got {
                bail!(
                    "tensor {name} in {} has shape {got:?}, the model expects {want:?}",
                    file.display()
                );
            }
            let kind = kind_of(view.dtype())
                .filter(|k| matches!(k, Kind::Float | Kind::BFloat16 | Kind::Half | Kind::Double));
            let Some(kind) = kind else {
                bail!(
                    "tensor {name} in {} has dtype {:?}, the model expects a floating-point dtype ({})",
                    file.display(),
                    view.dtype(),
                    kind_name(var.kind())
                );
            };
            let src = tensor_from_bytes(view.data(), view.shape(), kind)
                .with_context(|| format!("tensor {name} in {}", file.display()))?;
            tch::no_grad(|| var.f_copy_(&src.to_kind(var.kind())))?;
            seen.insert(name);
        }
    }
    if let Some((name, var)) = vars.iter().find(|(n, _)| !seen.contains(*n)) {
        bail!(
            "checkpoint {} has no tensor {name} (the model expects {:?} {})",
            path.display(),
            var.size(),
            kind_name(var.kind())
        );
    }
    Ok(())
}

/// The file name of the checkpoint for a window in a checkpoint folder.
pub fn window_file(window: u64) -> String {
    format!("checkpoint-{window}.safetensors")
}

/// The newest checkpoint in `dir` for a window at or before `window`, with its window.
pub fn latest_at_or_before(dir: &Path, window: u64) -> Result<Option<(u64, PathBuf)>> {
    let mut best: Option<(u64, PathBuf)> = None;
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list checkpoint folder {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(w) = path.file_name().and_then(|n| n.to_str()).and_then(|n| {
            n.strip_prefix("checkpoint-")?
                .strip_suffix(".safetensors")?
                .parse::<u64>()
                .ok()
        }) else {
            continue;
        };
        if w <= window && best.as_ref().is_none_or(|(b, _)| w > *b) {
            best = Some((w, path));
        }
    }
    Ok(best)
}

/// `count` values from flat position `offset` of each named tensor of a checkpoint, as f32,
/// read straight from the file without loading the model.
pub fn read_slices(
    path: &Path,
    names: &[String],
    offset: usize,
    count: usize,
) -> Result<Vec<tch::Tensor>> {
    let layout = layout(path)?;
    let mut maps = Vec::new();
    for file in &layout.files {
        let f = std::fs::File::open(file)
            .with_context(|| format!("cannot open checkpoint {}", file.display()))?;
        // SAFETY: as in `read_metadata`.
        maps.push((
            file.clone(),
            unsafe { memmap2::Mmap::map(&f) }
                .with_context(|| format!("cannot map {}", file.display()))?,
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let file =
            match &layout.weight_map {
                Some(m) => layout.base.join(m.get(name).with_context(|| {
                    format!("checkpoint {} has no tensor {name}", path.display())
                })?),
                None => layout.files[0].clone(),
            };
        let (_, map) = maps
            .iter()
            .find(|(f, _)| *f == file)
            .with_context(|| format!("{} is not among the checkpoint's files", file.display()))?;
        let st = SafeTensors::deserialize(map).map_err(|e| {
            anyhow::anyhow!("{} is not a valid safetensors file: {e}", file.display())
        })?;
        let view = st
            .tensor(name)
            .map_err(|_| anyhow::anyhow!("checkpoint {} has no tensor {name}", path.display()))?;
        let kind = kind_of(view.dtype())
            .with_context(|| format!("tensor {name} has an unsupported dtype"))?;
        let width = kind.elt_size_in_bytes();
        let numel = view.data().len() / width;
        let (start, len) = crate::wire::sync::positions(numel as i64, offset, count);
        let bytes = &view.data()[start as usize * width..(start + len) as usize * width];
        out.push(tensor_from_bytes(bytes, &[len as usize], kind)?.to_kind(Kind::Float));
    }
    Ok(out)
}

/// Where the model of a window is: one file, or a folder of `checkpoint-{w}` files.
#[derive(Clone, Debug)]
pub enum Checkpoints {
    /// This file, whatever the window.
    File(PathBuf),
    /// The newest `checkpoint-{w}.safetensors` with `w` at or before the window.
    Folder(PathBuf),
}

impl Checkpoints {
    /// The checkpoint for `window`, and its window when it came from a folder.
    /// The checkpoint of exactly `window`, where the folder holds one.
    pub fn exactly(&self, window: u64) -> Option<PathBuf> {
        self.resolve(window)
            .ok()
            .filter(|(at, _)| *at == Some(window))
            .map(|(_, p)| p)
    }

    pub fn resolve(&self, window: u64) -> Result<(Option<u64>, PathBuf)> {
        match self {
            Checkpoints::File(p) => Ok((None, p.clone())),
            Checkpoints::Folder(dir) => {
                let (w, p) = latest_at_or_before(dir, window)?.with_context(|| {
                    format!(
                        "no checkpoint for window {window} or earlier in {}",
                        dir.display()
                    )
                })?;
                Ok((Some(w), p))
            }
        }
    }
}
