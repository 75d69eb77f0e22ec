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
    /// The parameter's name in the network's files (its own name unless they use another
    /// naming, [`crate::model::names::ParamNames`]).
    pub file_name: String,
    /// Where the network's files hold a matrix's rows in torchtitan's rotary order (`wq`,
    /// `wk`): its number of heads. The codec works on the file's order; the dense tensor is
    /// turned to the model's (Hugging Face's) order in [`Layout::from_chunks`] and back in
    /// [`Layout::to_chunks`].
    pub rope_heads: Option<i64>,
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
            file_name: name.to_string(),
            rope_heads: None,
        }
    }

    /// The layout as a network whose files name parameters by `names` holds it.
    pub fn in_files(
        mut self,
        names: crate::model::names::ParamNames,
        config: &crate::model::LlamaConfig,
    ) -> Layout {
        self.file_name = names.file_name(&self.name);
        self.rope_heads = names
            .rope_heads(&self.name, config)
            .filter(|&h| self.shape.len() == 2 && self.shape[0] % (2 * h) == 0);
        self
    }

    /// Rows from torchtitan's rotary order to Hugging Face's (`to_hf` of torchtitan's
    /// state-dict adapter: per head, interleaved pairs become two halves), or back.
    fn rope_rows(&self, x: &Tensor, to_model: bool) -> Tensor {
        let Some(heads) = self.rope_heads else {
            return x.shallow_clone();
        };
        let (rows, cols) = (self.shape[0], self.shape[1]);
        let half = rows / heads / 2;
        let grouped = if to_model {
            x.reshape([heads, half, 2, cols])
        } else {
            x.reshape([heads, 2, half, cols])
        };
        grouped.transpose(1, 2).reshape([rows, cols])
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
        let x = &self.rope_rows(x, false);
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
        self.rope_rows(&x.reshape(self.shape.as_slice()), true)
    }
}
