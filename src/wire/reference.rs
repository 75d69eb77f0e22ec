//! The reference network's gradient files (`torch.save` archives), read into the same checked
//! [`Gradient`] as the native format, through the same per-parameter checks.
//!
//! Paper-era layout (Templar v0.2.88, §2.3 of the reference spec): `{"state_dict": SD,
//! "global_step": int}` where SD holds, per parameter `NAME`, `NAMEidxs` (int16, [grid…, k]),
//! `NAMEvals` (uint8 codes, or float32 before quantisation was switched on) and
//! `NAMEquant_params` = (shift, scale, offset, lookup[bins] float32, dtype), and `metadata` =
//! {"window", "pages_info"}. The later layout (v2.1.3) has the same keys with 12-bit packed
//! uint8 indices, 4-bin codes, and metadata {"window", "sample_digest", "sample_count"}; the
//! network's codec (hparams.codec, topk, quant_bins) says which one a file must be.

use super::gradient::{read_param, Expect, Gradient, GradientMeta, Receipt};
use super::safetensors::SafeFile;
use super::Reject;
use crate::codec::CodecKind;
use crate::model::names::{unwrapped, ParamNames};
use crate::torch_save::{self, TensorRef, TorchFile, Tree};
use safetensors::Dtype;
use std::collections::BTreeMap;

/// Whether the bytes are a zip archive (what `torch.save` writes).
pub fn is_torch_archive(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn meta_err(why: impl Into<String>) -> Reject {
    Reject::BadMetadata { why: why.into() }
}

fn tensor_of<'t>(tree: &'t Tree, name: &str) -> Result<&'t TensorRef, Reject> {
    match tree {
        Tree::Tensor(t) => Ok(t),
        other => Err(Reject::BadEntry {
            name: name.into(),
            why: format!("{} where a tensor was expected", other.kind()),
        }),
    }
}

/// A quantisation parameter as the reference stores it: a Python number, or a one-element
/// float32 tensor (v0.2.88 keeps `shift` and `scale` as 0-d tensors; its all-zero fallback
/// and the later layout write `float(scale)`).
fn scalar(file: &TorchFile, tree: &Tree, what: &str) -> Result<f64, Reject> {
    match tree {
        Tree::Tensor(t)
            if t.shape.iter().product::<u64>() == 1 && t.storage.dtype == Dtype::F32 =>
        {
            let b = file.tensor(t)?;
            Ok(f32::from_le_bytes(b[..4].try_into().expect("one f32")) as f64)
        }
        Tree::Tensor(t) => Err(meta_err(format!(
            "{what} is a {:?} tensor of shape {:?}, not one float32",
            t.storage.dtype, t.shape
        ))),
        other => number(other, what),
    }
}

fn number(tree: &Tree, what: &str) -> Result<f64, Reject> {
    match tree {
        Tree::Float(f) => Ok(*f),
        Tree::Int(i) => Ok(*i as f64),
        other => Err(meta_err(format!(
            "{what} is {}, not a number",
            other.kind()
        ))),
    }
}

/// Collects the named tensors (and the quantisation tables, rewritten as the native
/// `NAME.quant` = [shift, scale, lookup…]) into one buffer that the native checks read.
struct Staged {
    entries: Vec<(String, Dtype, Vec<u64>, std::ops::Range<usize>)>,
    data: Vec<u8>,
}

impl Staged {
    fn push(&mut self, name: String, dtype: Dtype, shape: Vec<u64>, bytes: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        self.entries
            .push((name, dtype, shape, start..self.data.len()));
    }

    fn tensor(
        &mut self,
        file: &TorchFile,
        name: String,
        t: &TensorRef,
        flat: bool,
    ) -> Result<(), Reject> {
        let bytes = file.tensor(t)?;
        let shape = if flat {
            vec![t.shape.iter().product()]
        } else {
            t.shape.clone()
        };
        self.push(name, t.storage.dtype, shape, &bytes);
        Ok(())
    }

    /// (shift, scale, offset, lookup, dtype) → [shift, scale, lookup…] as f32.
    fn quant(&mut self, file: &TorchFile, param: &str, tree: &Tree) -> Result<(), Reject> {
        let name = format!("{param}quant_params");
        let Tree::Tuple(parts) = tree else {
            return Err(meta_err(format!(
                "{name} is {}, not a 5-tuple",
                tree.kind()
            )));
        };
        let [shift, scale, _offset, lookup, dtype] = parts.as_slice() else {
            return Err(meta_err(format!("{name} has {} parts, not 5", parts.len())));
        };
        if !matches!(dtype, Tree::Dtype(Dtype::F32)) {
            return Err(meta_err(format!(
                "{name}: values of dtype {dtype:?} (only float32 values are read)"
            )));
        }
        let shift = scalar(file, shift, &format!("{name}'s shift"))?;
        let scale = scalar(file, scale, &format!("{name}'s scale"))?;
        let lookup = tensor_of(lookup, &name)?;
        if lookup.storage.dtype != Dtype::F32 || lookup.shape.len() != 1 {
            return Err(Reject::WrongDtype {
                tensor: name,
                got: format!("{:?} {:?}", lookup.storage.dtype, lookup.shape),
                want: "a float32 vector".into(),
            });
        }
        let table = file.tensor(lookup)?;
        let mut bytes = Vec::with_capacity(8 + table.len());
        bytes.extend_from_slice(&(shift as f32).to_le_bytes());
        bytes.extend_from_slice(&(scale as f32).to_le_bytes());
        bytes.extend_from_slice(&table);
        let n = lookup.shape[0] + 2;
        self.push(format!("{}.quant", param), Dtype::F32, vec![n], &bytes);
        Ok(())
    }
}

/// A file whose parameters are named as another layout names them (torchtitan's where the
/// network is set for Hugging Face's, or the reverse) is refused saying which setting to change,
/// rather than as a missing tensor: its rows could not be put in the model's order otherwise.
fn check_naming(
    named: &BTreeMap<String, &Tree>,
    layouts: &[crate::codec::Layout],
) -> Result<(), Reject> {
    let Some(first) = layouts.first() else {
        return Ok(());
    };
    let ours = unwrapped(&first.file_name);
    if named.keys().any(|k| k.starts_with(&ours)) {
        return Ok(());
    }
    for names in [ParamNames::HuggingFace, ParamNames::Torchtitan] {
        let theirs = unwrapped(&names.file_name(&first.name));
        if theirs != ours && named.keys().any(|k| k.starts_with(&theirs)) {
            let setting = serde_json::to_value(names)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            return Err(meta_err(format!(
                "the file names parameters as {setting} does ({theirs}…), where this network expects {ours}…: set network.param_names: {setting}"
            )));
        }
    }
    Ok(())
}

/// Reads and checks a reference gradient file held in memory, already checked against the
/// size cap by [`super::gradient::decode_file`]; every failure is a [`Reject`].
pub(super) fn decode_file(bytes: &[u8], expect: &Expect) -> Result<Gradient, Reject> {
    let file = torch_save::read(bytes)?;
    let sd = file
        .root
        .get("state_dict")
        .ok_or_else(|| meta_err("no \"state_dict\" in the file (not a reference gradient)"))?;
    let Tree::Dict(items) = sd else {
        return Err(meta_err(format!("state_dict is {}, not a dict", sd.kind())));
    };
    let global_step = match file.root.get("global_step") {
        Some(Tree::Int(s)) if *s >= 0 => *s as u64,
        None => 0,
        Some(other) => return Err(meta_err(format!("global_step is {}", other.kind()))),
    };
    // Keyed without module wrappers (torch.compile's, activation checkpointing's), which
    // production settings add to torchtitan's names and which name no parameter of their own.
    let mut named: BTreeMap<String, &Tree> = BTreeMap::new();
    for (k, v) in items {
        let Tree::Str(k) = k else {
            return Err(meta_err(format!("a state_dict key is {}", k.kind())));
        };
        if named.insert(unwrapped(k), v).is_some() {
            return Err(Reject::DuplicateTensor { name: k.clone() });
        }
    }
    check_naming(&named, expect.layouts)?;
    let window = match named.get("metadata").and_then(|m| m.get("window")) {
        Some(Tree::Int(w)) if *w >= 0 => *w as u64,
        _ => {
            return Err(meta_err(
                "metadata.window is missing or not a window number",
            ))
        }
    };
    if let Some(want) = expect.window.filter(|&w| w != window) {
        return Err(Reject::WrongWindow { got: window, want });
    }
    let packed = expect.codec.kind == CodecKind::ChunkTopk;
    let mut staged = Staged {
        entries: Vec::new(),
        data: Vec::new(),
    };
    let mut used = 1;
    for l in expect.layouts {
        let n = &unwrapped(&l.file_name);
        let missing = |suffix: &str| Reject::MissingTensor {
            param: l.name.clone(),
            tensor: format!("{}{suffix}", l.file_name),
        };
        let idx = named
            .get(format!("{n}idxs").as_str())
            .ok_or_else(|| missing("idxs"))?;
        staged.tensor(
            &file,
            format!("{}.idxs", l.name),
            tensor_of(idx, &format!("{n}idxs"))?,
            packed,
        )?;
        let vals = named
            .get(format!("{n}vals").as_str())
            .ok_or_else(|| missing("vals"))?;
        staged.tensor(
            &file,
            format!("{}.vals", l.name),
            tensor_of(vals, &format!("{n}vals"))?,
            false,
        )?;
        used += 2;
        match named.get(format!("{n}quant_params").as_str()) {
            Some(Tree::None) | None if expect.codec.quant_bins == 0 => {
                used += named.contains_key(format!("{n}quant_params").as_str()) as usize;
            }
            Some(q) if expect.codec.quant_bins > 0 => {
                staged.quant(&file, &l.name, q)?;
                used += 1;
            }
            Some(_) => {
                return Err(Reject::UnexpectedTensor {
                    tensor: format!("{n}quant_params"),
                })
            }
            None => return Err(missing("quant_params")),
        }
    }
    if used != named.len() {
        let known: std::collections::HashSet<String> = expect
            .layouts
            .iter()
            .flat_map(|l| {
                let n = unwrapped(&l.file_name);
                ["idxs", "vals", "quant_params"].map(|s| format!("{n}{s}"))
            })
            .chain(["metadata".to_string()])
            .collect();
        let extra = named
            .keys()
            .find(|k| !known.contains(*k))
            .cloned()
            .unwrap_or_default();
        return Err(Reject::UnexpectedTensor { tensor: extra });
    }
    let safe = SafeFile::from_parts(BTreeMap::new(), staged.entries, &staged.data)?;
    let mut params = Vec::with_capacity(expect.layouts.len());
    for l in expect.layouts {
        params.push(read_param(&safe, l, expect.codec)?.0);
    }
    Ok(Gradient {
        meta: GradientMeta {
            window,
            // The reference's file does not carry its uid: the object key does.
            uid: expect.uid.unwrap_or(0),
            global_step,
            codec: expect.codec.clone(),
            receipt: Receipt::default(),
        },
        params,
    })
}

/// The reference's paper-era file for a checked gradient: `{"state_dict": {NAMEidxs,
/// NAMEvals, NAMEquant_params…, "metadata": {"window", "pages_info"}}, "global_step"}`, as
/// `torch.save` writes it (PyTorch loads it with `weights_only=True`).
pub fn encode_file(
    meta: &GradientMeta,
    layouts: &[crate::codec::Layout],
    params: &[crate::codec::Encoded],
) -> anyhow::Result<Vec<u8>> {
    use crate::torch_save::write::{save, Value};
    let native = super::gradient::encode_file(meta, layouts, params)?;
    let file = super::safetensors::parse(&native, super::HEADER_CAP)?;
    let tensor = |name: &str| -> anyhow::Result<Value> {
        let e = file
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("{name} is missing from the encoded gradient"))?;
        Ok(Value::Tensor {
            dtype: e.dtype,
            shape: e.shape.clone(),
            data: file.bytes(e).to_vec(),
        })
    };
    let mut sd = Vec::new();
    // The paper era (DCT) keeps `scale` a 0-d tensor, the later layout a Python float.
    let scale_as_tensor = meta.codec.kind != CodecKind::ChunkTopk;
    for l in layouts {
        let (n, f) = (&l.name, &l.file_name);
        sd.push((
            Value::str(format!("{f}idxs")),
            tensor(&format!("{n}.idxs"))?,
        ));
        sd.push((
            Value::str(format!("{f}vals")),
            tensor(&format!("{n}.vals"))?,
        ));
        let quant = match file.get(&format!("{n}.quant")) {
            None => Value::None,
            Some(q) => {
                let b = file.bytes(q);
                let scale = if scale_as_tensor {
                    Value::Tensor {
                        dtype: Dtype::F32,
                        shape: Vec::new(),
                        data: b[4..8].to_vec(),
                    }
                } else {
                    Value::Float(f32::from_le_bytes(b[4..8].try_into()?) as f64)
                };
                let bins = (b.len() / 4 - 2) as i64;
                Value::Tuple(vec![
                    Value::Tensor {
                        dtype: Dtype::F32,
                        shape: Vec::new(),
                        data: b[..4].to_vec(),
                    },
                    scale,
                    Value::Int(bins / 2),
                    Value::Tensor {
                        dtype: Dtype::F32,
                        shape: vec![bins as u64],
                        data: b[8..].to_vec(),
                    },
                    Value::Dtype(Dtype::F32),
                ])
            }
        };
        sd.push((Value::str(format!("{f}quant_params")), quant));
    }
    let pages = meta
        .receipt
        .pages
        .iter()
        .map(|&p| {
            Value::Tuple(vec![
                Value::str("gauntlet"),
                Value::Int(p as i64),
                Value::str("train"),
            ])
        })
        .collect();
    sd.push((
        Value::str("metadata"),
        Value::Dict(vec![
            (Value::str("pages_info"), Value::List(pages)),
            (Value::str("window"), Value::Int(meta.window as i64)),
        ]),
    ));
    let root = Value::Dict(vec![
        (Value::str("state_dict"), Value::Dict(sd)),
        (
            Value::str("global_step"),
            Value::Int(meta.global_step as i64),
        ),
    ]);
    Ok(save(
        &root,
        &format!("gradient-{}-{}", meta.window, meta.uid),
    ))
}

/// The reference's sync slice (`debug-{w}-{uid}-v{ver}.pt`): `{"state_dict": {NAME_debug:
/// float32 tensor, …, "successful_peers": [], "skipped_peers": []}, "global_step": 0}`.
pub fn encode_sync(slice: &super::SyncSlice, names: &[String]) -> anyhow::Result<Vec<u8>> {
    use crate::torch_save::write::{save, Value};
    anyhow::ensure!(
        names.len() == slice.values.len(),
        "{} names for {} slices",
        names.len(),
        slice.values.len()
    );
    let mut sd = Vec::new();
    for (n, v) in names.iter().zip(&slice.values) {
        let values = Vec::<f32>::try_from(v.to_kind(tch::Kind::Float).flatten(0, -1))?;
        sd.push((
            Value::str(format!("{n}_debug")),
            Value::Tensor {
                dtype: Dtype::F32,
                shape: vec![values.len() as u64],
                data: values.iter().flat_map(|x| x.to_le_bytes()).collect(),
            },
        ));
    }
    sd.push((Value::str("successful_peers"), Value::List(Vec::new())));
    sd.push((Value::str("skipped_peers"), Value::List(Vec::new())));
    let root = Value::Dict(vec![
        (Value::str("state_dict"), Value::Dict(sd)),
        (Value::str("global_step"), Value::Int(0)),
    ]);
    Ok(save(
        &root,
        &format!("debug-{}-{}", slice.window, slice.uid),
    ))
}

/// Reads the reference's sync slice for parameters `(name, length)`: `NAME_debug` as a
/// float32 tensor or a list of numbers. The file does not carry its window and uid (the
/// object key does): the expected ones are taken.
pub fn decode_sync(
    bytes: &[u8],
    params: &[(String, i64)],
    window: Option<u64>,
    uid: Option<u16>,
) -> Result<super::SyncSlice, Reject> {
    let file = torch_save::read(bytes)?;
    let sd = file
        .root
        .get("state_dict")
        .ok_or_else(|| meta_err("no \"state_dict\" in the file (not a reference sync slice)"))?;
    let Tree::Dict(items) = sd else {
        return Err(meta_err(format!("state_dict is {}, not a dict", sd.kind())));
    };
    // By the model's name, whichever naming the file uses (the sync positions lie in the
    // first row, which torchtitan's rotary order leaves in place).
    let mut by_model: BTreeMap<String, &Tree> = BTreeMap::new();
    for (k, v) in items {
        let Tree::Str(k) = k else {
            return Err(meta_err(format!("a state_dict key is {}", k.kind())));
        };
        let Some(stem) = k.strip_suffix("_debug") else {
            continue;
        };
        let model = ParamNames::Torchtitan
            .model_name(stem)
            .unwrap_or_else(|| stem.to_string());
        if by_model.insert(model, v).is_some() {
            return Err(Reject::DuplicateTensor { name: k.clone() });
        }
    }
    let mut values = Vec::with_capacity(params.len());
    for (name, len) in params {
        let key = format!("{name}_debug");
        let got: Vec<f32> = match by_model.get(name).copied() {
            None => {
                return Err(Reject::MissingTensor {
                    param: name.clone(),
                    tensor: key,
                })
            }
            Some(Tree::Tensor(t)) if t.storage.dtype == Dtype::F32 => file
                .tensor(t)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
            Some(Tree::List(items)) | Some(Tree::Tuple(items)) => items
                .iter()
                .map(|i| number(i, &key).map(|x| x as f32))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(Reject::BadEntry {
                    name: key,
                    why: format!("{} where float32 values were expected", other.kind()),
                })
            }
        };
        if got.len() as i64 != *len {
            return Err(Reject::WrongShape {
                tensor: key,
                got: vec![got.len() as u64],
                want: vec![*len as u64],
            });
        }
        if got.iter().any(|x| !x.is_finite()) {
            return Err(Reject::NonFinite { tensor: key });
        }
        values.push(tch::Tensor::from_slice(&got));
    }
    Ok(super::SyncSlice {
        window: window.unwrap_or(0),
        uid: uid.unwrap_or(0),
        values,
    })
}
