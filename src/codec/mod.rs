//! The pseudo-gradient codec of the reference network (DeMo): each parameter is cut into
//! chunks, each chunk transformed by an orthonormal DCT-II, the `k` largest coefficients by
//! magnitude kept as (index, value) pairs, and the values optionally quantised to 8 bits
//! against one per-tensor table. Decoding scatters them back and inverts the transform.
//!
//! `chunk-topk` is the later reference variant: no DCT, top-64, indices packed at 12 bits,
//! 2-bit values. Everything runs on tch, on whichever device the tensors live.

mod dct;
mod layout;
pub mod pack12;
mod quant;

pub use layout::{chunk_size, Layout};
pub use quant::QuantTable;

use anyhow::Result;
use dct::Bases;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Which transform and wire layout the codec uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodecKind {
    /// Chunked 2-D DCT-II, top-k, int16 indices (paper era).
    DctTopk,
    /// Chunks without a transform, top-k (even), 12-bit packed indices (the later variant).
    ChunkTopk,
}

/// Everything that fixes how a pseudo-gradient is encoded; peers and validator must agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodecParams {
    pub kind: CodecKind,
    pub target_chunk: usize,
    pub topk: usize,
    /// Quantisation bins (256 = 8-bit, 4 = 2-bit); 0 sends f32 values.
    pub quant_bins: usize,
    /// The quantisation grid spans this many standard deviations.
    pub quant_range: f64,
}

impl CodecParams {
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            self.target_chunk >= 1,
            "codec: target_chunk must be at least 1"
        );
        anyhow::ensure!(self.topk >= 1, "codec: topk must be at least 1");
        anyhow::ensure!(
            self.quant_bins == 0 || (2..=256).contains(&self.quant_bins),
            "codec: quantization_bins must be 0 or 2..=256, not {}",
            self.quant_bins
        );
        anyhow::ensure!(
            self.quant_range.is_finite() && self.quant_range > 0.0,
            "codec: quantization_range must be positive"
        );
        if self.kind == CodecKind::ChunkTopk {
            anyhow::ensure!(
                self.target_chunk <= 64,
                "codec chunk-topk packs indices in 12 bits: target_chunk must be at most 64"
            );
        }
        Ok(())
    }
}

/// The values of an encoded parameter: floats, or 8-bit codes with their table.
pub enum Values {
    Float(Tensor),
    Quantized { codes: Tensor, table: QuantTable },
}

/// One parameter, encoded: `idx` int64 [grid…, k] (indices into each chunk's flattened
/// coefficients) and the matching values.
pub struct Encoded {
    pub idx: Tensor,
    pub vals: Values,
}

impl Encoded {
    /// The values as f32, dequantised.
    pub fn values(&self) -> Tensor {
        match &self.vals {
            Values::Float(v) => v.to_kind(Kind::Float),
            Values::Quantized { codes, table } => table.dequantize(codes),
        }
    }
}

/// Encodes and decodes the parameters of one model shape.
pub struct Codec {
    pub params: CodecParams,
    bases: Bases,
}

impl Codec {
    pub fn new(params: CodecParams, device: Device) -> Result<Codec> {
        params.validate()?;
        Ok(Codec {
            params,
            bases: Bases::new(device),
        })
    }

    /// The geometry of a parameter of this shape under this codec.
    pub fn layout(&self, name: &str, shape: &[i64]) -> Layout {
        Layout::new(name, shape, &self.params)
    }

    /// Chunked coefficients [grid…, chunk elements] of a dense parameter.
    pub fn transform(&self, layout: &Layout, x: &Tensor) -> Tensor {
        let chunks = layout.to_chunks(&x.to_kind(Kind::Float));
        let out = match (self.params.kind, layout.chunk.len()) {
            (CodecKind::ChunkTopk, _) => chunks,
            (CodecKind::DctTopk, 1) => chunks.matmul(&self.bases.forward(layout.chunk[0])),
            (CodecKind::DctTopk, _) => {
                let (f1, f2) = (
                    self.bases.forward(layout.chunk[0]),
                    self.bases.forward(layout.chunk[1]),
                );
                f1.tr().matmul(&chunks).matmul(&f2)
            }
        };
        out.flatten(layout.grid.len() as i64, -1)
    }

    /// The dense parameter of chunked coefficients [grid…, chunk elements].
    pub fn inverse(&self, layout: &Layout, coeffs: &Tensor) -> Tensor {
        let c = coeffs.view(layout.chunked_shape().as_slice());
        let x = match (self.params.kind, layout.chunk.len()) {
            (CodecKind::ChunkTopk, _) => c,
            (CodecKind::DctTopk, 1) => c.matmul(&self.bases.inverse(layout.chunk[0])),
            (CodecKind::DctTopk, _) => {
                let (b1, b2) = (
                    self.bases.inverse(layout.chunk[0]),
                    self.bases.inverse(layout.chunk[1]),
                );
                b1.tr().matmul(&c).matmul(&b2)
            }
        };
        layout.from_chunks(&x)
    }

    /// Top-k of the transform of `x`, values quantised when the codec says so.
    pub fn encode(&self, layout: &Layout, x: &Tensor) -> Encoded {
        let coeffs = self.transform(layout, x);
        let (_, idx) = coeffs.abs().topk(layout.k, -1, true, false);
        let vals = coeffs.gather(-1, &idx, false);
        let vals = if self.params.quant_bins > 0 {
            let (codes, table) =
                QuantTable::quantize(&vals, self.params.quant_bins, self.params.quant_range);
            Values::Quantized { codes, table }
        } else {
            Values::Float(vals)
        };
        Encoded { idx, vals }
    }

    /// The dense coefficients [grid…, chunk elements]: each index's mean over the entries
    /// that name it (scatter-mean, as the reference), zero where none does.
    pub fn scatter(&self, layout: &Layout, idx: &Tensor, vals: &Tensor) -> Tensor {
        let mut shape = layout.grid.clone();
        shape.push(layout.totalk);
        let zeros = Tensor::zeros(shape.as_slice(), (Kind::Float, vals.device()));
        zeros.internal_scatter_reduce(-1, idx, &vals.to_kind(Kind::Float), "mean", false)
    }

    /// The dense update one peer's encoded parameter stands for.
    ///
    /// For the DCT codec this rebuilds each chunk from its k coefficients directly (a sum of k
    /// rank-one basis products, one batched matmul with inner size k) instead of scattering
    /// into a dense grid and inverting it: the same result with about n/k fewer operations.
    /// Indices within a chunk must be distinct (the wire reader checks that).
    pub fn decode(&self, layout: &Layout, enc: &Encoded) -> Tensor {
        let vals = enc.values();
        if self.params.kind == CodecKind::ChunkTopk {
            return self.inverse(layout, &self.scatter(layout, &enc.idx, &vals));
        }
        let chunks: i64 = layout.grid.iter().product();
        let k = layout.k;
        let idx = enc.idx.reshape([chunks * k]);
        let vals = vals.reshape([chunks, k, 1]);
        let x = if layout.chunk.len() == 1 {
            let n = layout.chunk[0];
            let rows = self
                .bases
                .inverse(n)
                .index_select(0, &idx)
                .view([chunks, k, n]);
            (rows * vals).sum_dim_intlist(1, false, Kind::Float)
        } else {
            let (n1, n2) = (layout.chunk[0], layout.chunk[1]);
            let (a, b) = (idx.divide_scalar_mode(n2, "floor"), idx.remainder(n2));
            let u = self
                .bases
                .inverse(n1)
                .index_select(0, &a)
                .view([chunks, k, n1])
                * vals;
            let w = self
                .bases
                .inverse(n2)
                .index_select(0, &b)
                .view([chunks, k, n2]);
            u.transpose(1, 2).matmul(&w)
        };
        layout.from_chunks(&x.view(layout.chunked_shape().as_slice()))
    }

    /// The combined dense update of several peers' encodings of one parameter: each peer's
    /// values L2-normalised per chunk (when `normalise`), all entries scatter-averaged per
    /// index, then inverted — the reference's `batch_decompress` followed by the inverse DCT.
    pub fn decode_many(&self, layout: &Layout, encs: &[&Encoded], normalise: bool) -> Tensor {
        let mut idxs = Vec::with_capacity(encs.len());
        let mut vals = Vec::with_capacity(encs.len());
        for e in encs {
            let v = e.values();
            let v = if normalise {
                &v / (v.norm_scalaropt_dim(2, [-1i64].as_slice(), true) + 1e-8)
            } else {
                v
            };
            idxs.push(e.idx.shallow_clone());
            vals.push(v);
        }
        let idx = Tensor::cat(&idxs, -1);
        let vals = Tensor::cat(&vals, -1);
        self.inverse(layout, &self.scatter(layout, &idx, &vals))
    }
}
