//! The sync slice: the few parameter values at fixed positions that a peer publishes for a
//! window, so a validator can tell how far its model has drifted (the reference's `debug-…`).
//! One f32 tensor per parameter, named as the parameter; `__metadata__` as for gradients.

use super::safetensors::parse;
use super::{check_header, Reject, FORMAT_VERSION};
use crate::tensor_io::{safetensors_bytes, TensorBytes};
use anyhow::Result;
use safetensors::Dtype;
use std::collections::BTreeMap;
use tch::{Kind, Tensor};

pub const FORMAT: &str = "gauntlet-sync";

/// `count` values from flat position `offset` of each parameter (fewer where it is small).
pub fn positions(numel: i64, offset: usize, count: usize) -> (i64, i64) {
    let start = (offset as i64).min(numel);
    (start, (count as i64).min(numel - start))
}

/// The `(name, length)` of each parameter's slice, in the layouts' order.
pub fn params(layouts: &[crate::codec::Layout], offset: usize, count: usize) -> Vec<(String, i64)> {
    layouts
        .iter()
        .map(|l| {
            (
                l.name.clone(),
                positions(l.shape.iter().product(), offset, count).1,
            )
        })
        .collect()
}

/// The largest file a valid slice for `params` can be, in either format: the values (as
/// float32, or as pickled Python floats of 9 bytes), each entry's name and container records,
/// and room for the file's own fields. Anything bigger is refused before it is read.
pub fn size_cap(params: &[(String, i64)]) -> u64 {
    64 * 1024
        + params
            .iter()
            .map(|(n, len)| 2 * n.len() as u64 + 512 + 9 * (*len).max(0) as u64)
            .sum::<u64>()
}

pub struct SyncSlice {
    pub window: u64,
    pub uid: u16,
    /// One f32 vector per parameter, in the order the reader was given the parameters.
    pub values: Vec<Tensor>,
}

impl SyncSlice {
    /// The slice of a model's parameters `(name, tensor)`, in that order.
    pub fn take(
        window: u64,
        uid: u16,
        params: &[(String, Tensor)],
        offset: usize,
        count: usize,
    ) -> SyncSlice {
        let values = params
            .iter()
            .map(|(_, t)| {
                let flat = t.detach().flatten(0, -1);
                let (start, len) = positions(flat.size()[0], offset, count);
                flat.narrow(0, start, len)
                    .to_kind(Kind::Float)
                    .to_device(tch::Device::Cpu)
            })
            .collect();
        SyncSlice {
            window,
            uid,
            values,
        }
    }

    pub fn encode(&self, names: &[String]) -> Result<Vec<u8>> {
        anyhow::ensure!(
            names.len() == self.values.len(),
            "{} names for {} slices",
            names.len(),
            self.values.len()
        );
        let tensors: Vec<(String, TensorBytes)> = names
            .iter()
            .zip(&self.values)
            .map(|(n, v)| Ok((n.clone(), TensorBytes::from_tensor(v)?)))
            .collect::<Result<_>>()?;
        let mut md = BTreeMap::new();
        md.insert("format".to_string(), FORMAT.to_string());
        md.insert("version".to_string(), FORMAT_VERSION.to_string());
        md.insert("window".to_string(), self.window.to_string());
        md.insert("uid".to_string(), self.uid.to_string());
        safetensors_bytes(&md, &tensors)
    }

    /// Reads a slice for parameters `(name, length)`; every failure is a named [`Reject`].
    pub fn decode(
        bytes: &[u8],
        params: &[(String, i64)],
        window: Option<u64>,
        uid: Option<u16>,
    ) -> Result<SyncSlice, Reject> {
        let cap = size_cap(params);
        if bytes.len() as u64 > cap {
            return Err(Reject::TooLarge {
                size: bytes.len() as u64,
                cap,
            });
        }
        if super::reference::is_torch_archive(bytes) {
            return super::reference::decode_sync(bytes, params, window, uid);
        }
        let file = parse(bytes, cap)?;
        let (w, u) = check_header(&file.metadata, FORMAT, window, uid)?;
        let mut values = Vec::with_capacity(params.len());
        for (name, len) in params {
            let e = file.get(name).ok_or_else(|| Reject::MissingTensor {
                param: name.clone(),
                tensor: name.clone(),
            })?;
            if e.dtype != Dtype::F32 {
                return Err(Reject::WrongDtype {
                    tensor: name.clone(),
                    got: format!("{:?}", e.dtype),
                    want: "F32".into(),
                });
            }
            if e.shape != [*len as u64] {
                return Err(Reject::WrongShape {
                    tensor: name.clone(),
                    got: e.shape.clone(),
                    want: vec![*len as u64],
                });
            }
            let v = gauntlet_formats::gradient::f32s(file.bytes(e));
            gauntlet_formats::gradient::check_finite(name, &v)?;
            values.push(Tensor::from_slice(&v));
        }
        if file.entries.len() != params.len() {
            let known: std::collections::HashSet<&String> = params.iter().map(|(n, _)| n).collect();
            let extra = file
                .entries
                .iter()
                .find(|e| !known.contains(&e.name))
                .map(|e| e.name.clone())
                .unwrap_or_default();
            return Err(Reject::UnexpectedTensor { tensor: extra });
        }
        Ok(SyncSlice {
            window: w,
            uid: u,
            values,
        })
    }
}
