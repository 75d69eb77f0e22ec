//! The whole-file readers on files PyTorch's own `torch.save` wrote (the fuzz seeds, made by
//! `fuzz/make_seeds.py`): each is read to the values it holds, and a few single-field
//! changes to them are refused with the check that field fails.

use gauntlet_formats::gradient::{read_native, CheckedVals};
use gauntlet_formats::reference::{read_gradient, read_sync};
use gauntlet_formats::Reject;

#[path = "../../../fuzz/fuzz_targets/spec.rs"]
mod spec;

fn seed(target: &str, name: &str) -> (u8, Vec<u8>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target)
        .join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (data[0], data[1..].to_vec())
}

#[test]
fn every_valid_seed_is_read_in_each_codec() {
    for v in 0..4u8 {
        let (variant, file) = seed("native_gradient", &format!("valid-{v}"));
        let spec = spec::spec(variant);
        let (_, native) = read_native(&file, &spec, 1 << 16, |md| Ok(md.len())).unwrap();
        let (variant, file) = seed("reference_gradient", &format!("valid-{v}.pt"));
        let reference = read_gradient(&file, &spec::spec(variant), Some(5), &[]).unwrap();
        assert_eq!(reference.window, 5);
        assert_eq!(reference.global_step, 3);
        assert_eq!(native.len(), 2);
        for (n, r) in native.iter().zip(&reference.params) {
            assert_eq!(n.idx, r.idx, "variant {v}");
            match (&n.vals, &r.vals) {
                (CheckedVals::Float(a), CheckedVals::Float(b)) => assert_eq!(a, b),
                (
                    CheckedVals::Quantized {
                        codes: a,
                        lookup: la,
                        ..
                    },
                    CheckedVals::Quantized {
                        codes: b,
                        lookup: lb,
                        ..
                    },
                ) => {
                    assert_eq!(a, b);
                    assert_eq!(la, lb);
                }
                other => panic!("variant {v}: {other:?}"),
            }
        }
        assert_eq!(native[0].idx, [0, 5, 10, 15, 3, 8, 13, 2]);
    }
    let (_, sync) = seed("reference_gradient", "sync.pt");
    let values = read_sync(&sync, &spec::sync_params(), |s| s.to_string()).unwrap();
    assert_eq!(values, vec![vec![0.5, -1.0], vec![2.0]]);
}

#[test]
fn a_changed_field_is_refused_by_its_own_check() {
    let (variant, file) = seed("native_gradient", "valid-1");
    let spec = spec::spec(variant);
    let read = |f: &[u8]| read_native(f, &spec, 1 << 16, |_| Ok(())).err().unwrap();
    // The seed's data section: a.idxs (16 bytes), a.vals (8 codes), a.quant (40 bytes), …
    let header = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let data = 8 + header;
    let mut f = file.clone();
    f[data..data + 2].copy_from_slice(&16i16.to_le_bytes());
    assert_eq!(read(&f).code(), "index_out_of_range");
    let mut f = file.clone();
    f[data + 2..data + 4].copy_from_slice(&0i16.to_le_bytes());
    assert!(matches!(read(&f), Reject::DuplicateIndex { value: 0, .. }));
    let mut f = file.clone();
    f[data + 16] = 8;
    assert_eq!(read(&f).code(), "code_out_of_range");
    let mut f = file.clone();
    f[data + 24 + 4..data + 24 + 8].copy_from_slice(&0f32.to_le_bytes());
    assert_eq!(read(&f).code(), "bad_quant_scale");
    let mut f = file;
    f[data + 24 + 8..data + 24 + 12].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(read(&f).code(), "non_finite");
}
