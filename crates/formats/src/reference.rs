//! The reference network's files (`torch.save` archives) as a validator reads them: a
//! pseudo-gradient into the same [`CheckedParam`]s as the native format, through the same
//! checks, and a sync slice into plain values.
//!
//! Paper-era layout (Templar v0.2.88): `{"state_dict": SD, "global_step": int}` where SD
//! holds, per parameter `NAME`, `NAMEidxs` (int16, [grid…, k]), `NAMEvals` (uint8 codes, or
//! float32 before quantisation was switched on) and `NAMEquant_params` = (shift, scale,
//! offset, lookup[bins] float32, dtype), and `metadata` = {"window", "pages_info"}. The later
//! layout (v2.1.3) has the same keys with 12-bit packed uint8 indices, 4-bin codes, and
//! metadata {"window", "sample_digest", "sample_count"}.
//!
//! Every tensor's dtype and shape is checked against what its parameter needs before a byte
//! of it is taken, so however many views a file makes of one storage, what is staged is at
//! most what a valid file holds; a dense view is staged as a range of the file, not a copy.

use crate::gradient::{
    check_dtype_shape, read_params, CheckedParam, GradientSpec, IdxEncoding, Staged, StagedTensor,
};
use crate::torch_save::{self, TensorRef, TorchFile, Tree};
use crate::Reject;
use safetensors::Dtype;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The module wrappers torchtitan's training puts in a layer's parameter names.
const WRAPPERS: [&str; 2] = ["_orig_mod.", "_checkpoint_wrapped_module."];

/// A file's parameter name without module wrappers, so that files written with and without
/// `torch.compile` or activation checkpointing name a parameter alike.
pub fn unwrapped(name: &str) -> String {
    let mut out = name.to_string();
    for w in WRAPPERS {
        out = out.replace(w, "");
    }
    out
}

/// Whether the bytes are a zip archive (what `torch.save` writes).
pub fn is_torch_archive(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Another naming a network's files may use: the setting that selects it and the name its
/// files give the first parameter, so that a file named the other way is refused saying
/// which setting to change.
#[derive(Clone, Debug)]
pub struct OtherNaming {
    pub setting: String,
    pub first: String,
}

/// A checked reference gradient.
#[derive(Debug)]
pub struct RefGradient {
    pub window: u64,
    pub global_step: u64,
    pub params: Vec<CheckedParam>,
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

/// The state dict of a file, keyed by `key` of each name; a repeated key is refused.
fn state_dict<'t>(
    file: &'t TorchFile,
    what: &str,
    key: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, &'t Tree>, Reject> {
    let sd = file
        .root
        .get("state_dict")
        .ok_or_else(|| meta_err(format!("no \"state_dict\" in the file (not a {what})")))?;
    let Tree::Dict(items) = sd else {
        return Err(meta_err(format!("state_dict is {}, not a dict", sd.kind())));
    };
    let mut named = BTreeMap::new();
    for (k, v) in items {
        let Tree::Str(k) = k else {
            return Err(meta_err(format!("a state_dict key is {}", k.kind())));
        };
        if let Some(key) = key(k) {
            if named.insert(key, v).is_some() {
                return Err(Reject::DuplicateTensor { name: k.clone() });
            }
        }
    }
    Ok(named)
}

/// A file whose parameters are named as another layout names them is refused saying which
/// setting to change, rather than as a missing tensor.
fn check_naming(
    named: &BTreeMap<String, &Tree>,
    spec: &GradientSpec,
    others: &[OtherNaming],
) -> Result<(), Reject> {
    let Some(first) = spec.params.first() else {
        return Ok(());
    };
    let ours = &first.file_name;
    if named.keys().any(|k| k.starts_with(ours.as_str())) {
        return Ok(());
    }
    for o in others {
        let theirs = unwrapped(&o.first);
        if &theirs != ours && named.keys().any(|k| k.starts_with(&theirs)) {
            return Err(meta_err(format!(
                "the file names parameters as {} does ({theirs}…), where this network expects {ours}…: set network.param_names: {}",
                o.setting, o.setting
            )));
        }
    }
    Ok(())
}

/// Stages tensor `t` as `name` once its dtype and shape are what they must be (`flat`: only
/// its element count is, for packed indices stored in any shape).
fn stage<'a>(
    staged: &mut Staged<'a>,
    file: &TorchFile<'a>,
    name: String,
    t: &TensorRef,
    dtype: Dtype,
    shape: &[u64],
    flat: bool,
) -> Result<(), Reject> {
    let got = if flat {
        vec![t
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .unwrap_or(u64::MAX)]
    } else {
        t.shape.clone()
    };
    check_dtype_shape(&name, t.storage.dtype, &got, dtype, shape)?;
    let bytes = file.tensor(t)?;
    staged.tensors.push(StagedTensor {
        name,
        dtype,
        shape: shape.to_vec(),
        bytes,
    });
    Ok(())
}

/// (shift, scale, offset, lookup, dtype) → the native `NAME.quant` = [shift, scale, lookup…].
fn stage_quant(
    staged: &mut Staged,
    file: &TorchFile,
    param: &str,
    tree: &Tree,
    bins: u32,
) -> Result<(), Reject> {
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
    let native = format!("{param}.quant");
    if lookup.storage.dtype != Dtype::F32 || lookup.shape.len() != 1 {
        return Err(Reject::WrongDtype {
            tensor: name,
            got: format!("{:?} {:?}", lookup.storage.dtype, lookup.shape),
            want: "a float32 vector".into(),
        });
    }
    if lookup.shape[0] != bins as u64 {
        return Err(Reject::QuantTableLength {
            tensor: native,
            got: lookup.shape[0].saturating_add(2),
            want: bins as u64 + 2,
        });
    }
    let table = file.tensor(lookup)?;
    let mut bytes = Vec::with_capacity(8 + table.len());
    bytes.extend_from_slice(&(shift as f32).to_le_bytes());
    bytes.extend_from_slice(&(scale as f32).to_le_bytes());
    bytes.extend_from_slice(&table);
    let n = bins as u64 + 2;
    staged.tensors.push(StagedTensor {
        name: native,
        dtype: Dtype::F32,
        shape: vec![n],
        bytes: Cow::Owned(bytes),
    });
    Ok(())
}

/// Reads and checks a reference gradient file held in memory (already within its size cap)
/// for `spec`, whose parameters' `file_name`s are unwrapped; `window` is the one it must be
/// for, if known.
pub fn read_gradient(
    bytes: &[u8],
    spec: &GradientSpec,
    window: Option<u64>,
    others: &[OtherNaming],
) -> Result<RefGradient, Reject> {
    let file = torch_save::read(bytes)?;
    let global_step = match file.root.get("global_step") {
        Some(Tree::Int(s)) if *s >= 0 => *s as u64,
        None => 0,
        Some(other) => return Err(meta_err(format!("global_step is {}", other.kind()))),
    };
    // Keyed without module wrappers (torch.compile's, activation checkpointing's), which
    // production settings add to torchtitan's names and which name no parameter of their own.
    let named = state_dict(&file, "reference gradient", |k| Some(unwrapped(k)))?;
    check_naming(&named, spec, others)?;
    let got = match named.get("metadata").and_then(|m| m.get("window")) {
        Some(Tree::Int(w)) if *w >= 0 => *w as u64,
        _ => {
            return Err(meta_err(
                "metadata.window is missing or not a window number",
            ))
        }
    };
    if let Some(want) = window.filter(|&w| w != got) {
        return Err(Reject::WrongWindow { got, want });
    }
    let mut staged = Staged::default();
    let mut used = 1;
    for p in &spec.params {
        let n = &p.file_name;
        let missing = |suffix: &str| Reject::MissingTensor {
            param: p.name.clone(),
            tensor: format!("{n}{suffix}"),
        };
        let idx = named
            .get(&format!("{n}idxs"))
            .ok_or_else(|| missing("idxs"))?;
        let idx = tensor_of(idx, &format!("{n}idxs"))?;
        let packed = p.idx == IdxEncoding::Packed12;
        let idx_shape = p.idx_stored_shape();
        let idx_name = format!("{}.idxs", p.name);
        stage(
            &mut staged,
            &file,
            idx_name,
            idx,
            p.idx_dtype(),
            &idx_shape,
            packed,
        )?;
        let vals = named
            .get(&format!("{n}vals"))
            .ok_or_else(|| missing("vals"))?;
        let vals = tensor_of(vals, &format!("{n}vals"))?;
        let vals_dtype = if spec.quant_bins > 0 {
            Dtype::U8
        } else {
            Dtype::F32
        };
        let vals_name = format!("{}.vals", p.name);
        stage(
            &mut staged,
            &file,
            vals_name,
            vals,
            vals_dtype,
            &p.shape,
            false,
        )?;
        used += 2;
        let quant = format!("{n}quant_params");
        match named.get(&quant) {
            Some(Tree::None) | None if spec.quant_bins == 0 => {
                used += named.contains_key(&quant) as usize;
            }
            Some(q) if spec.quant_bins > 0 => {
                stage_quant(&mut staged, &file, &p.name, q, spec.quant_bins)?;
                used += 1;
            }
            Some(_) => return Err(Reject::UnexpectedTensor { tensor: quant }),
            None => return Err(missing("quant_params")),
        }
    }
    if used != named.len() {
        let known: std::collections::HashSet<String> = spec
            .params
            .iter()
            .flat_map(|p| ["idxs", "vals", "quant_params"].map(|s| format!("{}{s}", p.file_name)))
            .chain(["metadata".to_string()])
            .collect();
        let extra = named
            .keys()
            .find(|k| !known.contains(*k))
            .cloned()
            .unwrap_or_default();
        return Err(Reject::UnexpectedTensor { tensor: extra });
    }
    let names = staged.tensors.iter().map(|t| t.name.as_str());
    let params = read_params(&staged, names, spec)?;
    Ok(RefGradient {
        window: got,
        global_step,
        params,
    })
}

/// Reads the reference's sync slice for parameters `(name, length)`: `NAME_debug` as a
/// float32 tensor or a list of numbers, each checked for its length before it is read and
/// for finiteness after. `model_name` maps a file's parameter name to the model's.
pub fn read_sync(
    bytes: &[u8],
    params: &[(String, u64)],
    model_name: impl Fn(&str) -> String,
) -> Result<Vec<Vec<f32>>, Reject> {
    let file = torch_save::read(bytes)?;
    let by_model = state_dict(&file, "reference sync slice", |k| {
        k.strip_suffix("_debug").map(&model_name)
    })?;
    let mut values = Vec::with_capacity(params.len());
    for (name, len) in params {
        let key = format!("{name}_debug");
        let wrong = |got: u64| Reject::WrongShape {
            tensor: key.clone(),
            got: vec![got],
            want: vec![*len],
        };
        let got: Vec<f32> = match by_model.get(name).copied() {
            None => {
                return Err(Reject::MissingTensor {
                    param: name.clone(),
                    tensor: key,
                })
            }
            Some(Tree::Tensor(t)) if t.storage.dtype == Dtype::F32 => {
                let numel = t.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
                if numel != Some(*len) {
                    return Err(wrong(numel.unwrap_or(u64::MAX)));
                }
                crate::gradient::f32s(&file.tensor(t)?)
            }
            Some(Tree::List(items)) | Some(Tree::Tuple(items)) => {
                if items.len() as u64 != *len {
                    return Err(wrong(items.len() as u64));
                }
                items
                    .iter()
                    .map(|i| number(i, &key).map(|x| x as f32))
                    .collect::<Result<_, _>>()?
            }
            Some(other) => {
                return Err(Reject::BadEntry {
                    name: key,
                    why: format!("{} where float32 values were expected", other.kind()),
                })
            }
        };
        crate::gradient::check_finite(&key, &got)?;
        values.push(got);
    }
    Ok(values)
}
