//! A peer's pseudo-gradient for one window, in the native format: per parameter
//! `NAME.idxs` (int16 indices, or 12-bit packed bytes for `chunk-topk`), `NAME.vals` (f32,
//! or uint8 codes) and, when quantised, `NAME.quant` ([shift, scale, lookup…]); and a
//! `__metadata__` with the format version, window, uid, global step, codec and data receipt.

use super::{check_header, Reject, FORMAT_VERSION, HEADER_CAP};
use crate::codec::{pack12, CodecKind, CodecParams, Encoded, Layout, QuantTable, Values};
use crate::model::names::unwrapped;
use crate::tensor_io::{safetensors_bytes, TensorBytes};
use anyhow::Result;
use gauntlet_formats::gradient::{
    read_native, CheckedParam, CheckedVals, GradientSpec, IdxEncoding, ParamSpec,
};
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

fn idx_encoding(layout: &Layout, kind: CodecKind) -> IdxEncoding {
    match kind {
        CodecKind::ChunkTopk => IdxEncoding::Packed12,
        CodecKind::DctTopk if layout.totalk <= i16::MAX as i64 + 1 => IdxEncoding::I16,
        CodecKind::DctTopk => IdxEncoding::I32,
    }
}

fn u64s(v: &[i64]) -> Vec<u64> {
    v.iter().map(|&d| d as u64).collect()
}

/// What the readers in `gauntlet_formats` check a gradient for these layouts against.
pub fn spec(layouts: &[Layout], codec: &CodecParams) -> GradientSpec {
    GradientSpec {
        params: layouts
            .iter()
            .map(|l| ParamSpec {
                name: l.name.clone(),
                file_name: unwrapped(&l.file_name),
                shape: u64s(&l.idx_shape()),
                totalk: l.totalk as u64,
                idx: idx_encoding(l, codec.kind),
            })
            .collect(),
        quant_bins: codec.quant_bins as u32,
    }
}

/// The largest file a valid gradient for these layouts can be: its tensors' bytes plus the
/// header cap. Anything bigger is refused before it is downloaded.
pub fn size_cap(layouts: &[Layout], codec: &CodecParams) -> u64 {
    8 + HEADER_CAP + spec(layouts, codec).tensor_bytes()
}

/// A checked parameter as the codec's tensors.
pub(super) fn encoded(p: CheckedParam, l: &Layout) -> Encoded {
    let shape = l.idx_shape();
    let idx = Tensor::from_slice(&p.idx).view(shape.as_slice());
    let vals = match p.vals {
        CheckedVals::Float(v) => Values::Float(Tensor::from_slice(&v).view(shape.as_slice())),
        CheckedVals::Quantized {
            codes,
            shift,
            scale,
            lookup,
        } => Values::Quantized {
            codes: Tensor::from_slice(&codes).view(shape.as_slice()),
            table: QuantTable {
                shift,
                scale,
                lookup: Tensor::from_slice(&lookup),
            },
        },
    };
    Encoded { idx, vals }
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
            CodecKind::DctTopk => {
                e.idx
                    .to_kind(if idx_encoding(l, meta.codec.kind) == IdxEncoding::I16 {
                        Kind::Int16
                    } else {
                        Kind::Int
                    })
            }
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
    let spec = spec(expect.layouts, expect.codec);
    let (meta, checked) = read_native(bytes, &spec, HEADER_CAP, |md| read_meta(md, expect))?;
    let params = checked
        .into_iter()
        .zip(expect.layouts)
        .map(|(p, l)| encoded(p, l))
        .collect();
    Ok(Gradient { meta, params })
}

fn read_meta(md: &BTreeMap<String, String>, expect: &Expect) -> Result<GradientMeta, Reject> {
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
