//! Orthonormal DCT-II bases, computed once per chunk size and device.

use std::collections::HashMap;
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// `f[n][k] = s_k·cos(π·k·(2n+1)/(2N))`, `s_0 = √(1/N)`, `s_k = √(2/N)`: x·f is the DCT-II of
/// the rows of x, and (the basis being orthonormal) the inverse basis is `f` transposed.
fn forward_basis(n: i64) -> Vec<f32> {
    let nf = n as f64;
    let mut f = vec![0f32; (n * n) as usize];
    for row in 0..n {
        for k in 0..n {
            let s = if k == 0 {
                (1.0 / nf).sqrt()
            } else {
                (2.0 / nf).sqrt()
            };
            let v = s * (std::f64::consts::PI * k as f64 * (2 * row + 1) as f64 / (2.0 * nf)).cos();
            f[(row * n + k) as usize] = v as f32;
        }
    }
    f
}

pub struct Bases {
    device: Device,
    cache: Mutex<HashMap<i64, (Tensor, Tensor)>>,
}

impl Bases {
    pub fn new(device: Device) -> Bases {
        Bases {
            device,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, n: i64) -> (Tensor, Tensor) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (f, b) = cache.entry(n).or_insert_with(|| {
            let f = Tensor::from_slice(&forward_basis(n))
                .view([n, n])
                .to_kind(Kind::Float)
                .to_device(self.device);
            let b = f.tr().contiguous();
            (f, b)
        });
        (f.shallow_clone(), b.shallow_clone())
    }

    /// The forward basis of chunk size `n`: coefficients = x · f.
    pub fn forward(&self, n: i64) -> Tensor {
        self.get(n).0
    }

    /// The inverse basis `b[k][n]` (the reference's `_idct(I)`): x = coefficients · b.
    pub fn inverse(&self, n: i64) -> Tensor {
        self.get(n).1
    }
}
