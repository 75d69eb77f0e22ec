//! A peer's pseudo-gradient for one window, in the native format: per parameter
//! `NAME.idxs` (int16 indices, or 12-bit packed bytes for `chunk-topk`), `NAME.vals` (f32,
//! or uint8 codes) and, when quantised, `NAME.quant` ([shift, scale, lookup…]); and a
//! `__metadata__` with the format version, window, uid, global step, codec and data receipt.

use super::safetensors::{parse, Entry, SafeFile};
use super::{all_true, check_header, Reject, FORMAT_VERSION, HEADER_CAP};
use crate::codec::{pack12, CodecKind, CodecParams, Encoded, Layout, QuantTable, Values};
use crate::tensor_io::{safetensors_bytes, tensor_from_bytes, TensorBytes};
use anyhow::Result;
use safetensors::Dtype;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::{Kind, Tensor};

pub const FORMAT: &str = "gauntlet-gradient";

/// What a peer says it trained on: the validator can recompute and compare it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub pages: Vec<u64>,
    pub batches: u64,
    pub tokens: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GradientMeta {
    pub window: u64,
    pub uid: u16,
    pub global_step: u64,
    pub codec: CodecParams,
    pub receipt: Receipt,
}

/// A checked pseudo-gradient: one encoding per parameter, in the layouts' order.
pub struct Gradient {
    pub meta: GradientMeta,
    pub params: Vec<Encoded>,
}

fn idx_dtype(layout: &Layout, kind: CodecKind) -> Dtype {
    match kind {
        CodecKind::ChunkTopk => Dtype::U8,
        CodecKind::DctTopk if layout.totalk <= i16::MAX as i64 + 1 => Dtype::I16,
        CodecKind::DctTopk => Dtype::I32,
    }
}

fn idx_stored_shape(layout: &Layout, kind: CodecKind) -> Vec<u64> {
    match kind {
        CodecKind::ChunkTopk => vec![((layout.num_chunks() * layout.k + 1) / 2) as u64 * 3],
        CodecKind::DctTopk => layout.idx_shape().iter().map(|&d| d as u64).collect(),
    }
}

fn u64s(v: &[i64]) -> Vec<u64> {
    v.iter().map(|&d| d as u64).collect()
}

/// The largest file a valid gradient for these layouts can be: its tensors' bytes plus the
/// header cap. Anything bigger is refused before it is downloaded.
pub fn size_cap(layouts: &[Layout], codec: &CodecParams) -> u64 {
    let mut bytes = 8 + HEADER_CAP;
    for l in layouts {
        let n = (l.num_chunks() * l.k) as u64;
        bytes += idx_stored_shape(l, codec.kind).iter().product::<u64>()
            * (idx_dtype(l, codec.kind).bitsize() / 8) as u64;
        bytes += if codec.quant_bins > 0 {
            n + 4 * (codec.quant_bins as u64 + 2)
        } else {
            4 * n
        };
    }
    bytes
}

/// The file bytes of a gradient whose parameters were encoded for `layouts`.
pub fn encode_file(meta: &GradientMeta, layouts: &[Layout], params: &[Encoded]) -> Result<Vec<u8>> {
    anyhow::ensure!(
        layouts.len() == params.len(),
        "{} layouts for {} encoded parameters",
        layouts.len(),
        params.len()
    );
    let mut tensors: Vec<(String, TensorBytes)> = Vec::new();
    for (l, e) in layouts.iter().zip(params) {
        let idx = match meta.codec.kind {
            CodecKind::DctTopk => e
                .idx
                .to_kind(if idx_dtype(l, meta.codec.kind) == Dtype::I16 {
                    Kind::Int16
                } else {
                    Kind::Int
                }),
            CodecKind::ChunkTopk => {
                let flat = e.idx.flatten(0, -1);
                let flat = if flat.size()[0] % 2 == 1 {
                    Tensor::cat(
                        &[flat, Tensor::zeros([1], (Kind::Int64, e.idx.device()))],
                        0,
                    )
                } else {
                    flat
                };
                pack12::pack(&flat.view([-1, 2])).flatten(0, -1)
            }
        };
        tensors.push((format!("{}.idxs", l.name), TensorBytes::from_tensor(&idx)?));
        match &e.vals {
            Values::Float(v) => tensors.push((
                format!("{}.vals", l.name),
                TensorBytes::from_tensor(&v.to_kind(Kind::Float))?,
            )),
            Values::Quantized { codes, table } => {
                tensors.push((format!("{}.vals", l.name), TensorBytes::from_tensor(codes)?));
                tensors.push((
                    format!("{}.quant", l.name),
                    TensorBytes::from_tensor(&table.to_tensor())?,
                ));
            }
        }
    }
    let mut md = BTreeMap::new();
    md.insert("format".to_string(), FORMAT.to_string());
    md.insert("version".to_string(), FORMAT_VERSION.to_string());
    md.insert("window".to_string(), meta.window.to_string());
    md.insert("uid".to_string(), meta.uid.to_string());
    md.insert("global_step".to_string(), meta.global_step.to_string());
    md.insert("codec".to_string(), serde_json::to_string(&meta.codec)?);
    md.insert("receipt".to_string(), serde_json::to_string(&meta.receipt)?);
    safetensors_bytes(&md, &tensors)
}

/// What the reader expects of a file.
pub struct Expect<'a> {
    pub layouts: &'a [Layout],
    pub codec: &'a CodecParams,
    pub window: Option<u64>,
    pub uid: Option<u16>,
}

impl Expect<'_> {
    pub fn size_cap(&self) -> u64 {
        size_cap(self.layouts, self.codec)
    }
}

/// Reads and checks a gradient file held in memory; every failure is a named [`Reject`].
/// A `torch.save` archive (the reference network's format) is read by
/// [`super::reference::decode_file`] into the same checked gradient.
pub fn decode_file(bytes: &[u8], expect: &Expect) -> Result<Gradient, Reject> {
    let cap = expect.size_cap();
    if bytes.len() as u64 > cap {
        return Err(Reject::TooLarge {
            size: bytes.len() as u64,
            cap,
        });
    }
    if super::reference::is_torch_archive(bytes) {
        return super::reference::decode_file(bytes, expect);
    }
    let file = parse(bytes, HEADER_CAP)?;
    let meta = read_meta(&file, expect)?;
    let mut params = Vec::with_capacity(expect.layouts.len());
    let mut used = 0usize;
    for l in expect.layouts {
        let (enc, n) = read_param(&file, l, expect.codec)?;
        used += n;
        params.push(enc);
    }
    if used != file.entries.len() {
        let known: std::collections::HashSet<String> = expect
            .layouts
            .iter()
            .flat_map(|l| {
                [
                    format!("{}.idxs", l.name),
                    format!("{}.vals", l.name),
                    format!("{}.quant", l.name),
                ]
            })
            .collect();
        let extra = file
            .entries
            .iter()
            .find(|e| !known.contains(&e.name))
            .map(|e| e.name.clone())
            .unwrap_or_default();
        return Err(Reject::UnexpectedTensor { tensor: extra });
    }
    Ok(Gradient { meta, params })
}

fn read_meta(file: &SafeFile, expect: &Expect) -> Result<GradientMeta, Reject> {
    let md: &BTreeMap<String, String> = &file.metadata;
    let (window, uid) = check_header(md, FORMAT, expect.window, expect.uid)?;
    let global_step = md
        .get("global_step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Reject::BadMetadata {
            why: "global_step is missing or not a number".into(),
        })?;
    let codec_text = md.get("codec").ok_or_else(|| Reject::BadMetadata {
        why: "no \"codec\" field".into(),
    })?;
    let codec: CodecParams = serde_json::from_str(codec_text).map_err(|e| Reject::BadMetadata {
        why: format!("codec: {e}"),
    })?;
    if &codec != expect.codec {
        return Err(Reject::CodecMismatch {
            got: codec_text.clone(),
            want: serde_json::to_string(expect.codec).unwrap_or_default(),
        });
    }
    let receipt = match md.get("receipt") {
        Some(r) => serde_json::from_str(r).map_err(|e| Reject::BadMetadata {
            why: format!("receipt: {e}"),
        })?,
        None => Receipt::default(),
    };
    Ok(GradientMeta {
        window,
        uid,
        global_step,
        codec,
        receipt,
    })
}

fn expect_entry<'f>(
    file: &'f SafeFile,
    param: &str,
    tensor: String,
    dtype: Dtype,
    shape: &[u64],
) -> Result<&'f Entry, Reject> {
    let e = file.get(&tensor).ok_or_else(|| Reject::MissingTensor {
        param: param.into(),
        tensor: tensor.clone(),
    })?;
    if e.dtype != dtype {
        return Err(Reject::WrongDtype {
            tensor,
            got: format!("{:?}", e.dtype),
            want: format!("{dtype:?}"),
        });
    }
    if e.shape != shape {
        return Err(Reject::WrongShape {
            tensor,
            got: e.shape.clone(),
            want: shape.to_vec(),
        });
    }
    Ok(e)
}

fn to_tensor(file: &SafeFile, e: &Entry, kind: Kind) -> Tensor {
    let shape: Vec<usize> = e.shape.iter().map(|&d| d as usize).collect();
    tensor_from_bytes(file.bytes(e), &shape, kind).expect("sizes were checked against the shape")
}

/// The first element of `t` where `bad` holds, if any.
fn first_where(t: &Tensor, bad: &Tensor) -> Option<i64> {
    let hits = t.masked_select(bad);
    (hits.numel() > 0).then(|| hits.int64_value(&[0]))
}

pub(super) fn read_param(
    file: &SafeFile,
    l: &Layout,
    codec: &CodecParams,
) -> Result<(Encoded, usize), Reject> {
    let name = &l.name;
    let idx_shape = l.idx_shape();
    let idx_name = format!("{name}.idxs");
    let e = expect_entry(
        file,
        name,
        idx_name.clone(),
        idx_dtype(l, codec.kind),
        &idx_stored_shape(l, codec.kind),
    )?;
    let idx = match codec.kind {
        CodecKind::DctTopk => to_tensor(
            file,
            e,
            if e.dtype == Dtype::I16 {
                Kind::Int16
            } else {
                Kind::Int
            },
        )
        .to_kind(Kind::Int64),
        CodecKind::ChunkTopk => {
            let n = l.num_chunks() * l.k;
            pack12::unpack(&to_tensor(file, e, Kind::Uint8).view([-1, 3]))
                .flatten(0, -1)
                .narrow(0, 0, n)
                .view(idx_shape.as_slice())
        }
    };
    if let Some(v) = first_where(&idx, &idx.lt(0).logical_or(&idx.ge(l.totalk))) {
        return Err(Reject::IndexOutOfRange {
            tensor: idx_name,
            value: v,
            totalk: l.totalk,
        });
    }
    let (sorted, _) = idx.sort(-1, false);
    let k = l.k;
    if k > 1 {
        let same = sorted
            .narrow(-1, 1, k - 1)
            .eq_tensor(&sorted.narrow(-1, 0, k - 1));
        if let Some(v) = first_where(&sorted.narrow(-1, 1, k - 1), &same) {
            return Err(Reject::DuplicateIndex {
                tensor: idx_name,
                value: v,
            });
        }
    }
    let vals_name = format!("{name}.vals");
    let shape = u64s(&idx_shape);
    if codec.quant_bins == 0 {
        let e = expect_entry(file, name, vals_name.clone(), Dtype::F32, &shape)?;
        let v = to_tensor(file, e, Kind::Float);
        if !all_true(&v.isfinite().all()) {
            return Err(Reject::NonFinite { tensor: vals_name });
        }
        return Ok((
            Encoded {
                idx,
                vals: Values::Float(v),
            },
            2,
        ));
    }
    let e = expect_entry(file, name, vals_name.clone(), Dtype::U8, &shape)?;
    let codes = to_tensor(file, e, Kind::Uint8);
    let bins = codec.quant_bins as i64;
    let wide = codes.to_kind(Kind::Int64);
    if let Some(v) = first_where(&wide, &wide.ge(bins)) {
        return Err(Reject::CodeOutOfRange {
            tensor: vals_name,
            value: v,
            bins,
        });
    }
    let quant_name = format!("{name}.quant");
    let want = bins as u64 + 2;
    let q = file.get(&quant_name).ok_or_else(|| Reject::MissingTensor {
        param: name.clone(),
        tensor: quant_name.clone(),
    })?;
    if q.dtype == Dtype::F32 && q.shape.len() == 1 && q.shape[0] != want {
        return Err(Reject::QuantTableLength {
            tensor: quant_name,
            got: q.shape[0],
            want,
        });
    }
    let q = expect_entry(file, name, quant_name.clone(), Dtype::F32, &[want])?;
    let table = to_tensor(file, q, Kind::Float);
    if !all_true(&table.isfinite().all()) {
        return Err(Reject::NonFinite { tensor: quant_name });
    }
    let table = QuantTable::from_tensor(&table);
    if table.scale.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err(Reject::BadQuantScale {
            tensor: quant_name,
            scale: table.scale as f64,
        });
    }
    Ok((
        Encoded {
            idx,
            vals: Values::Quantized { codes, table },
        },
        3,
    ))
}
