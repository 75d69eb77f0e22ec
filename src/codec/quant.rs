//! The reference's value quantisation: one grid per tensor spanning ±range/2 standard
//! deviations around the mean, and a lookup table of each bin's mean for dequantisation.

use tch::{Kind, Tensor};

/// `shift` (the values' mean), `scale` (bin width) and `lookup` (each bin's mean of the
/// centred values). Codes are `round((v − shift)/scale) + bins/2`, clamped to the bins.
pub struct QuantTable {
    pub shift: f32,
    pub scale: f32,
    pub lookup: Tensor,
}

impl QuantTable {
    pub fn bins(&self) -> i64 {
        self.lookup.size()[0]
    }

    /// Quantises `vals` (any shape) into uint8 codes and their table.
    pub fn quantize(vals: &Tensor, bins: usize, range: f64) -> (Tensor, QuantTable) {
        let v = vals.to_kind(Kind::Float);
        let n = v.numel();
        let shift = v.mean(Kind::Float);
        let centred = &v - &shift;
        let std = if n <= 1 {
            0.0
        } else {
            centred.norm().double_value(&[]) / ((n - 1) as f64).sqrt()
        };
        let mut scale = (range * std / bins as f64) as f32;
        if scale == 0.0 || !scale.is_finite() {
            scale = 1.0;
        }
        let offset = (bins / 2) as f64;
        let codes = (&centred / scale as f64 + offset)
            .round()
            .clamp(0.0, (bins - 1) as f64)
            .to_kind(Kind::Uint8);
        let flat_codes = codes.flatten(0, -1).to_kind(Kind::Int64);
        let flat = centred.flatten(0, -1);
        let zeros = Tensor::zeros([bins as i64], (Kind::Float, v.device()));
        let sums = zeros.scatter_add(0, &flat_codes, &flat);
        let counts = zeros.scatter_add(0, &flat_codes, &flat.ones_like());
        let lookup = sums
            .divide(&counts.clamp_min(1.0))
            .where_self(&counts.gt(0.0), &zeros);
        let table = QuantTable {
            shift: shift.double_value(&[]) as f32,
            scale,
            lookup,
        };
        (codes, table)
    }

    /// `lookup[code] + shift`, as f32 of the codes' shape.
    pub fn dequantize(&self, codes: &Tensor) -> Tensor {
        let lookup = self.lookup.to_device(codes.device());
        let flat = lookup.index_select(0, &codes.flatten(0, -1).to_kind(Kind::Int64));
        (flat + self.shift as f64).view(codes.size().as_slice())
    }

    /// The table as the wire stores it: [shift, scale, lookup…].
    pub fn to_tensor(&self) -> Tensor {
        let head = Tensor::from_slice(&[self.shift, self.scale]).to_device(self.lookup.device());
        Tensor::cat(&[head, self.lookup.to_kind(Kind::Float)], 0)
    }

    /// The inverse of `to_tensor` for a checked f32 vector of length bins + 2.
    pub fn from_tensor(t: &Tensor) -> QuantTable {
        let shift = t.double_value(&[0]) as f32;
        let scale = t.double_value(&[1]) as f32;
        QuantTable {
            shift,
            scale,
            lookup: t.narrow(0, 2, t.size()[0] - 2).copy(),
        }
    }
}
