//! Moving tensors between tch and safetensors bytes: dtype mapping, a `View` over a tensor's
//! bytes for writing, and a tensor built from checked bytes for reading.

use anyhow::{bail, Result};
use safetensors::{Dtype, View};
use std::borrow::Cow;
use tch::{Kind, Tensor};

/// The tch kind of a safetensors dtype, for the dtypes gauntlet reads.
pub fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F16 => Kind::Half,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        _ => return None,
    })
}

/// The safetensors dtype of a tch kind.
pub fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Half => Dtype::F16,
        Kind::Double => Dtype::F64,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Int16 => Dtype::I16,
        Kind::Int8 => Dtype::I8,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::BOOL,
        _ => return None,
    })
}

/// Lower-case dtype names as they appear in messages and headers.
pub fn kind_name(kind: Kind) -> String {
    dtype_of(kind)
        .map(|d| format!("{d:?}").to_lowercase())
        .unwrap_or_else(|| format!("{kind:?}"))
}

/// A tensor's bytes on the CPU, ready to be written as one safetensors entry.
pub struct TensorBytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl TensorBytes {
    pub fn from_tensor(t: &Tensor) -> Result<TensorBytes> {
        let Some(dtype) = dtype_of(t.kind()) else {
            bail!("cannot store a tensor of kind {:?}", t.kind())
        };
        let t = t.to_device(tch::Device::Cpu).contiguous();
        let numel = t.numel();
        let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        Ok(TensorBytes { dtype, shape, data })
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl View for &TensorBytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Writes a safetensors file deterministically: `__metadata__` first with its keys sorted,
/// then the tensors in the order given, the header padded with spaces to 8 bytes. The same
/// tensors and metadata always give the same bytes (the `safetensors` crate's writer orders
/// metadata by a `HashMap`, so its output varies from run to run).
pub fn write_safetensors(
    out: &mut impl std::io::Write,
    metadata: &std::collections::BTreeMap<String, String>,
    tensors: &[(String, TensorBytes)],
) -> Result<()> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::to_value(metadata)?);
    }
    let mut offset = 0usize;
    for (name, t) in tensors {
        anyhow::ensure!(
            name != "__metadata__" && !header.contains_key(name),
            "tensor name {name:?} is reserved or repeated"
        );
        let dtype = format!("{:?}", t.dtype);
        header.insert(name.clone(), serde_json::json!({"dtype": dtype, "shape": t.shape, "data_offsets": [offset, offset + t.len()]}));
        offset += t.len();
    }
    let mut text = serde_json::to_string(&serde_json::Value::Object(header))?;
    while text.len() % 8 != 0 {
        text.push(' ');
    }
    out.write_all(&(text.len() as u64).to_le_bytes())?;
    out.write_all(text.as_bytes())?;
    for (_, t) in tensors {
        out.write_all(&t.data)?;
    }
    Ok(())
}

/// As [`write_safetensors`], into memory.
pub fn safetensors_bytes(
    metadata: &std::collections::BTreeMap<String, String>,
    tensors: &[(String, TensorBytes)],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(tensors.iter().map(|(_, t)| t.len()).sum::<usize>() + 4096);
    write_safetensors(&mut out, metadata, tensors)?;
    Ok(out)
}

/// A CPU tensor from bytes whose length the caller has already checked against the shape.
pub fn tensor_from_bytes(data: &[u8], shape: &[usize], kind: Kind) -> Result<Tensor> {
    let numel: usize = shape.iter().product();
    anyhow::ensure!(
        data.len() == numel * kind.elt_size_in_bytes(),
        "tensor data is {} bytes, its shape {:?} of {:?} needs {}",
        data.len(),
        shape,
        kind,
        numel * kind.elt_size_in_bytes()
    );
    let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    Ok(Tensor::f_from_data_size(data, &shape, kind)?)
}
