//! The codec against the reference's own algorithm (tests/reference/demo_codec.py).

mod common;
use gauntlet::codec::{chunk_size, pack12, Codec, CodecKind, CodecParams};
use tch::{Device, Kind, Tensor};

fn params(kind: CodecKind, topk: usize, bins: usize) -> CodecParams {
    CodecParams {
        kind,
        target_chunk: 64,
        topk,
        quant_bins: bins,
        quant_range: 6.0,
    }
}

/// Deterministic normal input, whatever other tests do with libtorch's global generator.
fn randn(name: &str, shape: &[i64]) -> Tensor {
    gauntlet::model::seeded_normal_like(
        7,
        name,
        &Tensor::zeros(shape, (Kind::Float, Device::Cpu)),
        1.0,
    )
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

const SHAPES: [&[i64]; 7] = [
    &[128, 192],
    &[192, 128],
    &[96],
    &[320],
    &[67, 130],
    &[130, 67],
    &[100, 36],
];

#[test]
fn chunk_sizes_are_the_largest_divisor_up_to_the_target() {
    assert_eq!(chunk_size(2048, 64), 64);
    assert_eq!(chunk_size(32000, 64), 64);
    assert_eq!(chunk_size(8192, 64), 64);
    assert_eq!(chunk_size(96, 64), 48);
    assert_eq!(chunk_size(67, 64), 1, "a prime over 64 gets chunks of one");
    assert_eq!(chunk_size(36, 64), 36);
    assert_eq!(chunk_size(100, 64), 50);
}

#[test]
fn keeping_every_coefficient_is_the_identity() {
    for kind in [CodecKind::DctTopk, CodecKind::ChunkTopk] {
        let codec = Codec::new(params(kind, 1 << 20, 0), Device::Cpu).unwrap();
        for shape in SHAPES {
            let x = randn(&format!("{shape:?}"), shape);
            let l = codec.layout("p", shape);
            let enc = codec.encode(&l, &x);
            let d = max_abs_diff(&codec.decode(&l, &enc), &x);
            assert!(d < 1e-5, "{kind:?} {shape:?}: {d}");
            let d = max_abs_diff(&codec.inverse(&l, &codec.transform(&l, &x)), &x);
            assert!(d < 1e-5, "{kind:?} {shape:?} transform: {d}");
        }
    }
}

#[test]
fn top_k_decode_equals_the_reference_quantised_and_not() {
    let dir = tempfile::tempdir().unwrap();
    // Every case's spec first, so that the reference runs once for all of them.
    let mut cases = Vec::new();
    let mut specs = Vec::new();
    for bins in [0usize, 256] {
        for (i, shape) in SHAPES.iter().enumerate() {
            let x = randn(&format!("x{i}-{bins}"), shape);
            let input = dir.path().join(format!("x{i}-{bins}.f32"));
            common::write_f32(&input, &x);
            let out = dir.path().join(format!("o{i}-{bins}.f32"));
            let tables = dir.path().join(format!("t{i}-{bins}.f32"));
            let spec = serde_json::json!({"shape": shape, "topk": 32, "bins": bins, "inputs": [input], "out": out, "tables": tables});
            let spec_path = dir.path().join(format!("spec{i}-{bins}.json"));
            std::fs::write(&spec_path, spec.to_string()).unwrap();
            specs.push(spec_path);
            cases.push((bins, *shape, x, out, tables));
        }
    }
    common::run_reference(
        "demo_codec.py",
        &specs.iter().map(|p| p.as_os_str()).collect::<Vec<_>>(),
    );
    for (bins, shape, x, out, tables) in cases {
        let want = common::read_f32(&out, shape);
        let codec = Codec::new(params(CodecKind::DctTopk, 32, bins), Device::Cpu).unwrap();
        let l = codec.layout("p", shape);
        let enc = codec.encode(&l, &x);
        let got = codec.decode(&l, &enc);
        let scale = want.abs().max().double_value(&[]).max(1e-12);
        let d = max_abs_diff(&got, &want);
        assert!(
            d <= 1e-5 * scale.max(1.0),
            "bins {bins} shape {shape:?}: max difference {d} (scale {scale})"
        );
        // The dense scatter + inverse path gives the same result as the sparse decode.
        let dense = codec.inverse(&l, &codec.scatter(&l, &enc.idx, &enc.values()));
        assert!(max_abs_diff(&dense, &got) <= 1e-5 * scale.max(1.0));
        if bins > 0 {
            let want_table = common::read_f32(&tables, &[bins as i64 + 2]);
            let gauntlet::codec::Values::Quantized { table, .. } = &enc.vals else {
                panic!("quantised")
            };
            assert!(
                max_abs_diff(&table.to_tensor(), &want_table) < 1e-6,
                "quantisation table of {shape:?}"
            );
        }
    }
}

#[test]
fn many_peers_decode_equals_the_reference_batch_decompress() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut specs = Vec::new();
    for bins in [0usize, 256] {
        for (j, shape) in [&[128i64, 192][..], &[96]].into_iter().enumerate() {
            let xs: Vec<Tensor> = (0..5)
                .map(|p| randn(&format!("m{p}-{j}-{bins}"), shape))
                .collect();
            let inputs: Vec<_> = xs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let p = dir.path().join(format!("m{i}-{j}-{bins}.f32"));
                    common::write_f32(&p, x);
                    p
                })
                .collect();
            let out = dir.path().join(format!("batch-{j}-{bins}.f32"));
            let spec = serde_json::json!({"shape": shape, "topk": 32, "bins": bins, "inputs": inputs, "out": out, "mode": "batch", "normalise": true});
            let spec_path = dir.path().join(format!("spec-{j}-{bins}.json"));
            std::fs::write(&spec_path, spec.to_string()).unwrap();
            specs.push(spec_path);
            cases.push((bins, shape, xs, out));
        }
    }
    common::run_reference(
        "demo_codec.py",
        &specs.iter().map(|p| p.as_os_str()).collect::<Vec<_>>(),
    );
    for (bins, shape, xs, out) in cases {
        let want = common::read_f32(&out, shape);
        let codec = Codec::new(params(CodecKind::DctTopk, 32, bins), Device::Cpu).unwrap();
        let l = codec.layout("p", shape);
        let encs: Vec<_> = xs.iter().map(|x| codec.encode(&l, x)).collect();
        let got = codec.decode_many(&l, &encs.iter().collect::<Vec<_>>(), true);
        let d = max_abs_diff(&got, &want);
        assert!(d < 1e-5, "bins {bins} {shape:?}: {d}");
    }
}

#[test]
fn twelve_bit_packing_round_trips() {
    let idx = Tensor::randint(4096, [3, 5, 64], (Kind::Int64, Device::Cpu));
    let packed = pack12::pack(&idx);
    assert_eq!(packed.size(), vec![3, 5, 96]);
    assert_eq!(packed.kind(), Kind::Uint8);
    assert!(pack12::unpack(&packed).equal(&idx));
    let edge = Tensor::from_slice(&[0i64, 4095, 4095, 0, 1, 2048]).view([3, 2]);
    assert!(pack12::unpack(&pack12::pack(&edge)).equal(&edge));
}

#[test]
fn later_variant_keeps_even_top_64_with_two_bit_values() {
    let p = CodecParams {
        kind: CodecKind::ChunkTopk,
        target_chunk: 64,
        topk: 63,
        quant_bins: 4,
        quant_range: 6.0,
    };
    let codec = Codec::new(p, Device::Cpu).unwrap();
    let l = codec.layout("w", &[128, 128]);
    assert_eq!(
        (l.k, l.totalk),
        (62, 4096),
        "k rounded down to even for 12-bit pairs"
    );
    let x = Tensor::randn([128, 128], (Kind::Float, Device::Cpu));
    let enc = codec.encode(&l, &x);
    let gauntlet::codec::Values::Quantized { codes, .. } = &enc.vals else {
        panic!("quantised")
    };
    assert!(codes.max().int64_value(&[]) <= 3);
    // Without a transform the decoded update holds exactly the kept entries.
    let d = codec.decode(&l, &enc);
    assert_eq!(d.ne(0.0).sum(Kind::Int64).int64_value(&[]), 4 * 62);
}

#[test]
fn quantisation_of_zeros_and_a_lone_outlier() {
    let codec = Codec::new(params(CodecKind::DctTopk, 32, 256), Device::Cpu).unwrap();
    let l = codec.layout("z", &[64, 64]);
    let enc = codec.encode(&l, &Tensor::zeros([64, 64], (Kind::Float, Device::Cpu)));
    assert_eq!(
        codec.decode(&l, &enc).abs().max().double_value(&[]),
        0.0,
        "zeros decode to zeros"
    );
    // A single large value is clipped into the top bin, but the bin-mean table brings it back exactly.
    let (codes, table) = gauntlet::codec::QuantTable::quantize(
        &Tensor::from_slice(&[0.0f32, 0.0, 0.0, 0.0, 100.0]),
        256,
        6.0,
    );
    let back = table.dequantize(&codes);
    assert!((back.double_value(&[4]) - 100.0).abs() < 1e-4);
}
