//! What a validator checks in a pseudo-gradient's values, on plain slices: index ranges,
//! repeated indices within a chunk, finiteness, quantisation codes and tables. Both formats
//! (the native safetensors file and the reference's `torch.save` archive) end here, through
//! [`read_params`], so that one set of checks, reachable by the fuzzers, guards every file.
//!
//! A parameter is described by a [`ParamSpec`] (what its tensors must be); its checked values
//! come out as a [`CheckedParam`] of plain vectors, which the caller turns into tensors.

use crate::safetensors::SafeFile;
use crate::Reject;
use safetensors::Dtype;
use std::borrow::Cow;

/// How a parameter's indices are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdxEncoding {
    I16,
    I32,
    /// Two 12-bit indices in three bytes, the later reference's `chunk-topk` packing.
    Packed12,
}

/// What one parameter's tensors must be.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    /// The parameter's name: the stem of its native tensors (`NAME.idxs`, …).
    pub name: String,
    /// Its name in the reference's files, without module wrappers (`NAMEidxs`, …).
    pub file_name: String,
    /// The indices' and values' shape, [grid…, k].
    pub shape: Vec<u64>,
    /// Coefficients per chunk: every index is below it.
    pub totalk: u64,
    pub idx: IdxEncoding,
}

impl ParamSpec {
    /// Coefficients kept per chunk.
    pub fn k(&self) -> usize {
        self.shape.last().copied().unwrap_or(1) as usize
    }

    /// Indices (and values) in all.
    pub fn count(&self) -> u64 {
        self.shape.iter().product()
    }

    pub fn idx_dtype(&self) -> Dtype {
        match self.idx {
            IdxEncoding::I16 => Dtype::I16,
            IdxEncoding::I32 => Dtype::I32,
            IdxEncoding::Packed12 => Dtype::U8,
        }
    }

    /// The shape the index tensor is stored with.
    pub fn idx_stored_shape(&self) -> Vec<u64> {
        match self.idx {
            IdxEncoding::Packed12 => vec![self.count().div_ceil(2) * 3],
            _ => self.shape.clone(),
        }
    }
}

/// What a whole gradient must be: its parameters, in the model's order, and its codes.
#[derive(Clone, Debug)]
pub struct GradientSpec {
    pub params: Vec<ParamSpec>,
    /// Quantisation bins (0: values are float32).
    pub quant_bins: u32,
}

impl GradientSpec {
    /// The bytes of a valid gradient's tensors: with a header cap, the largest valid file.
    pub fn tensor_bytes(&self) -> u64 {
        self.params
            .iter()
            .map(|p| {
                let idx = p.idx_stored_shape().iter().product::<u64>()
                    * (p.idx_dtype().bitsize() / 8) as u64;
                let vals = if self.quant_bins > 0 {
                    p.count() + 4 * (self.quant_bins as u64 + 2)
                } else {
                    4 * p.count()
                };
                idx + vals
            })
            .sum()
    }
}

/// A parameter's values, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckedVals {
    Float(Vec<f32>),
    /// uint8 codes below the bin count, and the table [shift, scale, lookup…] they index.
    Quantized {
        codes: Vec<u8>,
        shift: f32,
        scale: f32,
        lookup: Vec<f32>,
    },
}

/// One parameter, checked: indices in [0, totalk), none repeated within a chunk, in the
/// spec's shape (flattened row-major), and their values.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedParam {
    pub idx: Vec<i64>,
    pub vals: CheckedVals,
}

/// A tensor as a reader hands it out: dtype, shape and its little-endian bytes.
pub struct View<'b> {
    pub dtype: Dtype,
    pub shape: &'b [u64],
    pub bytes: &'b [u8],
}

/// Where [`read_params`] finds tensors by name.
pub trait Tensors {
    fn find(&self, name: &str) -> Option<View<'_>>;
}

impl Tensors for SafeFile<'_> {
    fn find(&self, name: &str) -> Option<View<'_>> {
        self.get(name).map(|e| View {
            dtype: e.dtype,
            shape: &e.shape,
            bytes: self.bytes(e),
        })
    }
}

/// Tensors gathered from another container (the reference's archive), each either a range
/// of that file (a dense view) or one copy (a strided view), taken only after its dtype and
/// shape were checked against what the parameter needs.
#[derive(Default)]
pub struct Staged<'a> {
    pub tensors: Vec<StagedTensor<'a>>,
}

pub struct StagedTensor<'a> {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    pub bytes: Cow<'a, [u8]>,
}

impl Tensors for Staged<'_> {
    fn find(&self, name: &str) -> Option<View<'_>> {
        self.tensors.iter().find(|t| t.name == name).map(|t| View {
            dtype: t.dtype,
            shape: &t.shape,
            bytes: &t.bytes,
        })
    }
}

fn expect<'b>(
    src: &'b impl Tensors,
    param: &str,
    tensor: &str,
    dtype: Dtype,
    shape: &[u64],
) -> Result<View<'b>, Reject> {
    let v = src.find(tensor).ok_or_else(|| Reject::MissingTensor {
        param: param.into(),
        tensor: tensor.into(),
    })?;
    check_dtype_shape(tensor, v.dtype, v.shape, dtype, shape)?;
    let need = shape.iter().product::<u64>() * (dtype.bitsize() / 8) as u64;
    if v.bytes.len() as u64 != need {
        return Err(Reject::SizeMismatch {
            name: tensor.into(),
            bytes: v.bytes.len() as u64,
            need,
        });
    }
    Ok(v)
}

/// A tensor's dtype and shape against what it must be.
pub fn check_dtype_shape(
    tensor: &str,
    dtype: Dtype,
    shape: &[u64],
    want_dtype: Dtype,
    want_shape: &[u64],
) -> Result<(), Reject> {
    if dtype != want_dtype {
        return Err(Reject::WrongDtype {
            tensor: tensor.into(),
            got: format!("{dtype:?}"),
            want: format!("{want_dtype:?}"),
        });
    }
    if shape != want_shape {
        return Err(Reject::WrongShape {
            tensor: tensor.into(),
            got: shape.to_vec(),
            want: want_shape.to_vec(),
        });
    }
    Ok(())
}

/// Little-endian f32s.
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

/// The first `count` indices of a stored index tensor.
pub fn decode_indices(bytes: &[u8], encoding: IdxEncoding, count: usize) -> Vec<i64> {
    match encoding {
        IdxEncoding::I16 => bytes
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as i64)
            .collect(),
        IdxEncoding::I32 => bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")) as i64)
            .collect(),
        IdxEncoding::Packed12 => bytes
            .chunks_exact(3)
            .flat_map(|b| {
                let (b0, b1, b2) = (b[0] as i64, b[1] as i64, b[2] as i64);
                [b0 | (b1 & 0x0F) << 8, b1 >> 4 | b2 << 4]
            })
            .take(count)
            .collect(),
    }
}

/// Every index in [0, totalk) and none repeated within a chunk (each run of `k`). Reports the
/// first index out of range, else the smallest repeated one of the first chunk with one.
pub fn check_indices(tensor: &str, idx: &[i64], k: usize, totalk: u64) -> Result<(), Reject> {
    if let Some(&v) = idx.iter().find(|&&v| v < 0 || v as u64 >= totalk) {
        return Err(Reject::IndexOutOfRange {
            tensor: tensor.into(),
            value: v,
            totalk: totalk as i64,
        });
    }
    let mut chunk = Vec::with_capacity(k);
    for row in idx.chunks(k.max(1)) {
        chunk.clear();
        chunk.extend_from_slice(row);
        chunk.sort_unstable();
        if let Some(w) = chunk.windows(2).find(|w| w[0] == w[1]) {
            return Err(Reject::DuplicateIndex {
                tensor: tensor.into(),
                value: w[0],
            });
        }
    }
    Ok(())
}

/// No NaN or infinity.
pub fn check_finite(tensor: &str, vals: &[f32]) -> Result<(), Reject> {
    if vals.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Reject::NonFinite {
            tensor: tensor.into(),
        })
    }
}

/// Every code below the bin count.
pub fn check_codes(tensor: &str, codes: &[u8], bins: u32) -> Result<(), Reject> {
    match codes.iter().find(|&&c| c as u32 >= bins) {
        Some(&c) => Err(Reject::CodeOutOfRange {
            tensor: tensor.into(),
            value: c as i64,
            bins: bins as i64,
        }),
        None => Ok(()),
    }
}

/// A quantisation table [shift, scale, lookup…] of `bins` + 2 finite entries and a
/// positive scale.
pub fn check_quant_table(tensor: &str, table: &[f32], bins: u32) -> Result<(), Reject> {
    let want = bins as u64 + 2;
    if table.len() as u64 != want {
        return Err(Reject::QuantTableLength {
            tensor: tensor.into(),
            got: table.len() as u64,
            want,
        });
    }
    check_finite(tensor, table)?;
    if table[1].partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err(Reject::BadQuantScale {
            tensor: tensor.into(),
            scale: table[1] as f64,
        });
    }
    Ok(())
}

/// Reads and checks one parameter's tensors (`NAME.idxs`, `NAME.vals`, `NAME.quant` when
/// quantised); returns it and the number of tensors it used.
pub fn read_param(
    src: &impl Tensors,
    spec: &ParamSpec,
    quant_bins: u32,
) -> Result<(CheckedParam, usize), Reject> {
    let name = &spec.name;
    let idx_name = format!("{name}.idxs");
    let stored = expect(
        src,
        name,
        &idx_name,
        spec.idx_dtype(),
        &spec.idx_stored_shape(),
    )?;
    let idx = decode_indices(stored.bytes, spec.idx, spec.count() as usize);
    check_indices(&idx_name, &idx, spec.k(), spec.totalk)?;
    let vals_name = format!("{name}.vals");
    if quant_bins == 0 {
        let v = f32s(expect(src, name, &vals_name, Dtype::F32, &spec.shape)?.bytes);
        check_finite(&vals_name, &v)?;
        let vals = CheckedVals::Float(v);
        return Ok((CheckedParam { idx, vals }, 2));
    }
    let codes = expect(src, name, &vals_name, Dtype::U8, &spec.shape)?.bytes;
    check_codes(&vals_name, codes, quant_bins)?;
    let quant_name = format!("{name}.quant");
    let q = src.find(&quant_name).ok_or_else(|| Reject::MissingTensor {
        param: name.clone(),
        tensor: quant_name.clone(),
    })?;
    let want = quant_bins as u64 + 2;
    if q.dtype == Dtype::F32 && q.shape.len() == 1 && q.shape[0] != want {
        return Err(Reject::QuantTableLength {
            tensor: quant_name,
            got: q.shape[0],
            want,
        });
    }
    let table = f32s(expect(src, name, &quant_name, Dtype::F32, &[want])?.bytes);
    check_quant_table(&quant_name, &table, quant_bins)?;
    let vals = CheckedVals::Quantized {
        codes: codes.to_vec(),
        shift: table[0],
        scale: table[1],
        lookup: table[2..].to_vec(),
    };
    Ok((CheckedParam { idx, vals }, 3))
}

/// Reads and checks every parameter of `spec`, in its order; then refuses any tensor the
/// spec does not name. `names` lists the source's tensors.
pub fn read_params<'n>(
    src: &impl Tensors,
    names: impl Iterator<Item = &'n str>,
    spec: &GradientSpec,
) -> Result<Vec<CheckedParam>, Reject> {
    let mut params = Vec::with_capacity(spec.params.len());
    let mut used = 0;
    for p in &spec.params {
        let (param, n) = read_param(src, p, spec.quant_bins)?;
        used += n;
        params.push(param);
    }
    let names: Vec<&str> = names.collect();
    if used != names.len() {
        let known: std::collections::HashSet<String> = spec
            .params
            .iter()
            .flat_map(|p| ["idxs", "vals", "quant"].map(|s| format!("{}.{s}", p.name)))
            .collect();
        let extra = names
            .iter()
            .find(|n| !known.contains(**n))
            .map(|n| n.to_string())
            .unwrap_or_default();
        return Err(Reject::UnexpectedTensor { tensor: extra });
    }
    Ok(params)
}

/// Reads and checks a native gradient file (safetensors) held in memory: the container, its
/// metadata (by `meta`, before any value is read), then every parameter.
pub fn read_native<M>(
    bytes: &[u8],
    spec: &GradientSpec,
    header_cap: u64,
    meta: impl FnOnce(&std::collections::BTreeMap<String, String>) -> Result<M, Reject>,
) -> Result<(M, Vec<CheckedParam>), Reject> {
    let file = crate::safetensors::parse(bytes, header_cap)?;
    let meta = meta(&file.metadata)?;
    let names = file.entries.iter().map(|e| e.name.as_str());
    let params = read_params(&file, names, spec)?;
    Ok((meta, params))
}
