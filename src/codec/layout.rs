//! The geometry of one parameter under the codec: its chunks, grid and top-k.

use super::{CodecKind, CodecParams};
use tch::Tensor;

/// The largest divisor of `dim` that is at most `target` (the reference's
/// `_get_smaller_split`): 64 for every dimension of the 1.2B model, 1 for a prime over 64.
pub fn chunk_size(dim: i64, target: i64) -> i64 {
    (1..=target.min(dim).max(1))
        .rev()
        .find(|d| dim % d == 0)
        .unwrap_or(1)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub name: String,
    pub shape: Vec<i64>,
    /// Chunk size per dimension (one entry for vectors, two for matrices).
    pub chunk: Vec<i64>,
    /// Number of chunks per dimension.
    pub grid: Vec<i64>,
    /// Coefficients per chunk.
    pub totalk: i64,
    /// Coefficients kept per chunk.
    pub k: i64,
}

impl Layout {
    /// Tensors of more than two dimensions are treated as matrices [first, rest].
    pub fn new(name: &str, shape: &[i64], params: &CodecParams) -> Layout {
        let dims: Vec<i64> = match shape.len() {
            0 => vec![1],
            1 => vec![shape[0]],
            _ => vec![shape[0], shape[1..].iter().product()],
        };
        let target = params.target_chunk as i64;
        let chunk: Vec<i64> = dims.iter().map(|&d| chunk_size(d, target)).collect();
        let grid: Vec<i64> = dims.iter().zip(&chunk).map(|(d, c)| d / c).collect();
        let totalk: i64 = chunk.iter().product();
        let mut k = (params.topk as i64).clamp(1, totalk);
        if params.kind == CodecKind::ChunkTopk && totalk >= 2 {
            k -= k % 2; // 12-bit packing stores indices in pairs
        }
        Layout {
            name: name.to_string(),
            shape: shape.to_vec(),
            chunk,
            grid,
            totalk,
            k,
        }
    }

    pub fn num_chunks(&self) -> i64 {
        self.grid.iter().product()
    }

    /// The shape of the index and value tensors: [grid…, k].
    pub fn idx_shape(&self) -> Vec<i64> {
        let mut s = self.grid.clone();
        s.push(self.k);
        s
    }

    /// [grid…, chunk…]: chunks as matrices (or vectors).
    pub fn chunked_shape(&self) -> Vec<i64> {
        self.grid.iter().chain(&self.chunk).copied().collect()
    }

    /// "(y h)(x w) -> y x h w" for matrices, "(x w) -> x w" for vectors.
    pub fn to_chunks(&self, x: &Tensor) -> Tensor {
        if self.chunk.len() == 1 {
            return x.reshape([self.grid[0], self.chunk[0]]);
        }
        x.reshape([self.grid[0], self.chunk[0], self.grid[1], self.chunk[1]])
            .permute([0, 2, 1, 3])
    }

    /// The inverse of `to_chunks`, back to the parameter's shape.
    pub fn from_chunks(&self, x: &Tensor) -> Tensor {
        let x = if self.chunk.len() == 1 {
            x.shallow_clone()
        } else {
            x.permute([0, 2, 1, 3])
        };
        x.reshape(self.shape.as_slice())
    }
}
