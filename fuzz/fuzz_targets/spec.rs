//! The small model the whole-file targets read against: the input's first byte picks the
//! codec (bit 0: quantised with 8 bins, bit 1: 12-bit packed indices), as a validator's
//! network settings would; the rest is the file. `fuzz/make_seeds.py` writes valid files.

use gauntlet_formats::gradient::{GradientSpec, IdxEncoding, ParamSpec};

pub fn spec(variant: u8) -> GradientSpec {
    let idx = if variant & 2 != 0 {
        IdxEncoding::Packed12
    } else {
        IdxEncoding::I16
    };
    let param = |name: &str, shape: Vec<u64>, totalk: u64| ParamSpec {
        name: name.into(),
        file_name: format!("{name}."),
        shape,
        totalk,
        idx,
    };
    GradientSpec {
        params: vec![param("a", vec![2, 4], 16), param("b", vec![1, 2], 4096)],
        quant_bins: if variant & 1 != 0 { 8 } else { 0 },
    }
}
