//! The reference network's files (`torch.save` archives): read and checked by
//! `gauntlet_formats::reference` (the layouts, §2.3 of the reference spec, are described
//! there) into the same checked [`Gradient`] as the native format, and written for peers that
//! speak the reference's format. The network's codec (hparams.codec, topk, quant_bins) says
//! which layout a file must be.

use super::gradient::{encoded, Expect, Gradient, GradientMeta, Receipt};
use super::Reject;
use crate::codec::CodecKind;
use crate::model::names::ParamNames;
use gauntlet_formats::reference::{read_gradient, read_sync, OtherNaming};
use safetensors::Dtype;

pub use gauntlet_formats::reference::is_torch_archive;

/// Reads and checks a reference gradient file held in memory, already checked against the
/// size cap by [`super::gradient::decode_file`]; every failure is a [`Reject`].
pub(super) fn decode_file(bytes: &[u8], expect: &Expect) -> Result<Gradient, Reject> {
    let spec = super::gradient::spec(expect.layouts, expect.codec);
    // A file named as the other naming does is refused saying which setting to change.
    let others: Vec<OtherNaming> = match expect.layouts.first() {
        Some(first) => [ParamNames::HuggingFace, ParamNames::Torchtitan]
            .into_iter()
            .map(|names| OtherNaming {
                setting: serde_json::to_value(names)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                first: names.file_name(&first.name),
            })
            .collect(),
        None => Vec::new(),
    };
    let file = read_gradient(bytes, &spec, expect.window, &others)?;
    let params = file
        .params
        .into_iter()
        .zip(expect.layouts)
        .map(|(p, l)| encoded(p, l))
        .collect();
    Ok(Gradient {
        meta: GradientMeta {
            window: file.window,
            // The reference's file does not carry its uid: the object key does.
            uid: expect.uid.unwrap_or(0),
            global_step: file.global_step,
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

/// Reads the reference's sync slice for parameters `(name, length)`, whichever naming the
/// file uses (the sync positions lie in the first row, which torchtitan's rotary order leaves
/// in place). The file does not carry its window and uid (the object key does): the
/// expected ones are taken.
pub fn decode_sync(
    bytes: &[u8],
    params: &[(String, i64)],
    window: Option<u64>,
    uid: Option<u16>,
) -> Result<super::SyncSlice, Reject> {
    let lengths: Vec<(String, u64)> = params
        .iter()
        .map(|(n, len)| (n.clone(), (*len).max(0) as u64))
        .collect();
    let values = read_sync(bytes, &lengths, |stem| {
        ParamNames::Torchtitan
            .model_name(stem)
            .unwrap_or_else(|| stem.to_string())
    })?;
    Ok(super::SyncSlice {
        window: window.unwrap_or(0),
        uid: uid.unwrap_or(0),
        values: values.iter().map(|v| tch::Tensor::from_slice(v)).collect(),
    })
}
