//! The small model the whole-file targets read against, and what each target does with an
//! input (so that `crates/formats/tests/regressions.rs` replays a crash through the same
//! calls): the input's first byte picks the codec (bit 0: quantised with 8 bins, bit 1:
//! 12-bit packed indices), as a validator's network settings would; the rest is the file.
//! `fuzz/make_seeds.py` writes valid files.
// Each includer (a target, a test) uses part of it.
#![allow(dead_code)]

use gauntlet_formats::gradient::{read_native, GradientSpec, IdxEncoding, ParamSpec};
use gauntlet_formats::reference::{read_gradient, read_sync, OtherNaming};

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

/// The sync slice's parameters: (name, values).
pub fn sync_params() -> [(String, u64); 2] {
    [("a".to_string(), 2), ("b".to_string(), 1)]
}

/// The `native_gradient` target: a whole native file as a validator reads it.
pub fn native(data: &[u8]) {
    if let Some((&variant, file)) = data.split_first() {
        let _ = read_native(file, &spec(variant), 1 << 16, |md| Ok(md.len()));
    }
}

/// The `reference_gradient` target: a whole reference file as a validator reads it, as a
/// gradient and as a sync slice.
pub fn reference(data: &[u8]) {
    let Some((&variant, file)) = data.split_first() else {
        return;
    };
    let others = [OtherNaming {
        setting: "torchtitan".into(),
        first: "tok_embeddings.weight".into(),
    }];
    let _ = read_gradient(file, &spec(variant), None, &others);
    let _ = read_sync(file, &sync_params(), |stem| stem.to_string());
}
