//! The native file format: round trips, and a corpus of hostile files each refused with its
//! own reason.

use gauntlet::codec::{Codec, CodecKind, CodecParams, Layout};
use gauntlet::wire::gradient::{decode_file, encode_file, Expect};
use gauntlet::wire::{GradientMeta, Receipt, Reject, SyncSlice};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tch::{Device, Kind, Tensor};

fn codec(kind: CodecKind, bins: usize) -> Codec {
    let topk = if kind == CodecKind::ChunkTopk { 64 } else { 32 };
    Codec::new(
        CodecParams {
            kind,
            target_chunk: 64,
            topk,
            quant_bins: bins,
            quant_range: 6.0,
        },
        Device::Cpu,
    )
    .unwrap()
}

fn layouts(c: &Codec) -> Vec<Layout> {
    vec![
        c.layout("model.w", &[128, 64]),
        c.layout("model.norm", &[64]),
    ]
}

fn valid(c: &Codec) -> Vec<u8> {
    let ls = layouts(c);
    let enc: Vec<_> = ls
        .iter()
        .map(|l| {
            c.encode(
                l,
                &Tensor::randn(l.shape.as_slice(), (Kind::Float, Device::Cpu)),
            )
        })
        .collect();
    let meta = GradientMeta {
        window: 7,
        uid: 3,
        global_step: 7,
        codec: c.params.clone(),
        receipt: Receipt {
            pages: vec![1, 2],
            batches: 4,
            tokens: 512,
        },
    };
    encode_file(&meta, &ls, &enc).unwrap()
}

fn check(c: &Codec, bytes: &[u8]) -> Result<(), Reject> {
    let ls = layouts(c);
    decode_file(
        bytes,
        &Expect {
            layouts: &ls,
            codec: &c.params,
            window: Some(7),
            uid: Some(3),
        },
    )
    .map(|_| ())
}

/// A file split into its header (as JSON) and data, to be altered and put back together.
struct Parts {
    header: serde_json::Map<String, Value>,
    data: Vec<u8>,
}

fn split(bytes: &[u8]) -> Parts {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    Parts {
        header: header.as_object().unwrap().clone(),
        data: bytes[8 + n..].to_vec(),
    }
}

fn join_text(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

impl Parts {
    fn join(&self) -> Vec<u8> {
        join_text(&Value::Object(self.header.clone()).to_string(), &self.data)
    }
    fn entry(&mut self, name: &str) -> &mut serde_json::Map<String, Value> {
        self.header
            .get_mut(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .as_object_mut()
            .unwrap()
    }
    fn offsets(&self, name: &str) -> (usize, usize) {
        let o = &self.header[name]["data_offsets"];
        (
            o[0].as_u64().unwrap() as usize,
            o[1].as_u64().unwrap() as usize,
        )
    }
    fn meta(&mut self, key: &str, value: &str) {
        self.entry("__metadata__")
            .insert(key.into(), Value::String(value.into()));
    }
    /// Replaces a tensor's data bytes in place (same length).
    fn patch(&mut self, name: &str, f: impl FnOnce(&mut [u8])) {
        let (s, e) = self.offsets(name);
        f(&mut self.data[s..e]);
    }
}

#[test]
fn valid_files_round_trip_for_every_codec() {
    for (kind, bins) in [
        (CodecKind::DctTopk, 256),
        (CodecKind::DctTopk, 0),
        (CodecKind::ChunkTopk, 4),
    ] {
        let c = codec(kind, bins);
        let ls = layouts(&c);
        let xs: Vec<Tensor> = ls
            .iter()
            .map(|l| Tensor::randn(l.shape.as_slice(), (Kind::Float, Device::Cpu)))
            .collect();
        let enc: Vec<_> = ls.iter().zip(&xs).map(|(l, x)| c.encode(l, x)).collect();
        let meta = GradientMeta {
            window: 7,
            uid: 3,
            global_step: 2,
            codec: c.params.clone(),
            receipt: Receipt {
                pages: vec![5],
                batches: 1,
                tokens: 64,
            },
        };
        let bytes = encode_file(&meta, &ls, &enc).unwrap();
        assert!(
            bytes.len() as u64
                <= Expect {
                    layouts: &ls,
                    codec: &c.params,
                    window: None,
                    uid: None
                }
                .size_cap()
        );
        let g = decode_file(
            &bytes,
            &Expect {
                layouts: &ls,
                codec: &c.params,
                window: Some(7),
                uid: Some(3),
            },
        )
        .unwrap();
        assert_eq!(g.meta, meta);
        for ((l, a), b) in ls.iter().zip(&enc).zip(&g.params) {
            assert!(a.idx.equal(&b.idx), "{kind:?} {}", l.name);
            assert!(c.decode(l, a).equal(&c.decode(l, b)), "{kind:?} {}", l.name);
        }
    }
}

#[test]
fn sync_slices_round_trip_and_are_checked() {
    let params = vec![
        (
            "a".to_string(),
            Tensor::arange(100, (Kind::Float, Device::Cpu)),
        ),
        (
            "b".to_string(),
            Tensor::ones([11], (Kind::Float, Device::Cpu)),
        ),
    ];
    let slice = SyncSlice::take(4, 9, &params, 10, 2);
    assert_eq!(slice.values[0], Tensor::from_slice(&[10f32, 11.0]));
    assert_eq!(
        slice.values[1].size(),
        vec![1],
        "only one value past offset 10 of 11"
    );
    let names = vec!["a".to_string(), "b".to_string()];
    let bytes = slice.encode(&names).unwrap();
    let spec = vec![("a".to_string(), 2), ("b".to_string(), 1)];
    let back = SyncSlice::decode(&bytes, &spec, Some(4), Some(9)).unwrap();
    assert!(back.values[0].equal(&slice.values[0]));
    assert_eq!(
        SyncSlice::decode(&bytes, &spec, Some(5), None)
            .err()
            .unwrap()
            .code(),
        "wrong_window"
    );
    let wrong = vec![("a".to_string(), 3), ("b".to_string(), 1)];
    assert_eq!(
        SyncSlice::decode(&bytes, &wrong, None, None)
            .err()
            .unwrap()
            .code(),
        "wrong_shape"
    );
    let mut p = split(&bytes);
    p.patch("a", |b| b[..4].copy_from_slice(&f32::NAN.to_le_bytes()));
    assert_eq!(
        SyncSlice::decode(&p.join(), &spec, None, None)
            .err()
            .unwrap()
            .code(),
        "non_finite"
    );
}

#[test]
fn hostile_files_are_each_refused_with_their_own_reason() {
    let dct = codec(CodecKind::DctTopk, 256);
    let float = codec(CodecKind::DctTopk, 0);
    let two_bit = codec(CodecKind::ChunkTopk, 4);
    let good = valid(&dct);
    let good_float = valid(&float);
    let good_two_bit = valid(&two_bit);
    check(&dct, &good).unwrap();

    let mut cases: Vec<(&str, &Codec, Vec<u8>)> = Vec::new();
    cases.push(("truncated", &dct, good[..5].to_vec()));
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    cases.push(("header_too_large", &dct, huge));
    let mut beyond = good.clone();
    beyond[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
    cases.push(("header_beyond_file", &dct, beyond));
    cases.push((
        "header_not_json",
        &dct,
        join_text("this is not json {", b""),
    ));
    cases.push(("header_not_json", &dct, join_text("\"a string\"", b"")));
    cases.push((
        "duplicate_tensor",
        &dct,
        join_text(r#"{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, &[0, 0]),
    ));
    cases.push((
        "bad_entry",
        &dct,
        join_text(
            r#"{"x":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#,
            &[0],
        ),
    ));
    cases.push((
        "bad_entry",
        &dct,
        join_text(
            r#"{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#,
            &[0],
        ),
    ));
    cases.push((
        "unknown_dtype",
        &dct,
        join_text(
            r#"{"x":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#,
            &[0; 16],
        ),
    ));
    cases.push((
        "shape_overflow",
        &dct,
        join_text(
            r#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}"#,
            b"",
        ),
    ));
    cases.push((
        "data_beyond_file",
        &dct,
        join_text(
            r#"{"x":{"dtype":"F32","shape":[50000,50000],"data_offsets":[0,10000000000]}}"#,
            &[0; 64],
        ),
    ));
    cases.push((
        "size_mismatch",
        &dct,
        join_text(
            r#"{"x":{"dtype":"F32","shape":[10],"data_offsets":[0,8]}}"#,
            &[0; 8],
        ),
    ));
    cases.push((
        "overlapping_data",
        &dct,
        join_text(r#"{"x":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"y":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, &[0; 8]),
    ));
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0; 16]);
    cases.push(("unindexed_data", &dct, trailing));

    let mut p = split(&good);
    p.entry("__metadata__").insert("window".into(), json!(7));
    cases.push(("bad_metadata", &dct, p.join()));
    let mut p = split(&good);
    p.meta("format", "gauntlet-sync");
    cases.push(("wrong_format", &dct, p.join()));
    let mut p = split(&good);
    p.meta("version", "99");
    cases.push(("unsupported_version", &dct, p.join()));
    let mut p = split(&good);
    p.meta("window", "8");
    cases.push(("wrong_window", &dct, p.join()));
    let mut p = split(&good);
    p.meta("uid", "4");
    cases.push(("wrong_uid", &dct, p.join()));
    let mut p = split(&good);
    p.meta(
        "codec",
        r#"{"kind":"dct-topk","target_chunk":64,"topk":16,"quant_bins":256,"quant_range":6.0}"#,
    );
    cases.push(("codec_mismatch", &dct, p.join()));

    // Tensor-level attacks on a valid file: renaming keeps the data section tiled.
    let mut p = split(&good);
    let e = p.header.remove("model.w.vals").unwrap();
    p.header.insert("model.w.valz".into(), e);
    cases.push(("missing_tensor", &dct, p.join()));
    let mut p = split(&good);
    let len = p.data.len();
    p.data.extend_from_slice(&[1, 2, 3, 4]);
    p.header.insert(
        "evil.payload".into(),
        json!({"dtype":"U8","shape":[4],"data_offsets":[len, len + 4]}),
    );
    cases.push(("unexpected_tensor", &dct, p.join()));
    let mut p = split(&good);
    let (s, e) = p.offsets("model.w.idxs");
    p.entry("model.w.idxs").insert("dtype".into(), json!("U16"));
    assert_eq!((e - s) % 2, 0);
    cases.push(("wrong_dtype", &dct, p.join()));
    let mut p = split(&good);
    p.entry("model.w.idxs")
        .insert("shape".into(), json!([2, 32, 1]));
    cases.push(("wrong_shape", &dct, p.join()));
    let mut p = split(&good);
    p.patch("model.w.idxs", |b| {
        b[..2].copy_from_slice(&4096i16.to_le_bytes())
    });
    cases.push(("index_out_of_range", &dct, p.join()));
    let mut p = split(&good);
    p.patch("model.w.idxs", |b| {
        b[..2].copy_from_slice(&(-1i16).to_le_bytes())
    });
    cases.push(("index_out_of_range", &dct, p.join()));
    let mut p = split(&good);
    p.patch("model.w.idxs", |b| {
        let second = [b[2], b[3]];
        b[..2].copy_from_slice(&second);
    });
    cases.push(("duplicate_index", &dct, p.join()));
    let mut p = split(&good_float);
    p.patch("model.norm.vals", |b| {
        b[4..8].copy_from_slice(&f32::INFINITY.to_le_bytes())
    });
    cases.push(("non_finite", &float, p.join()));
    let mut p = split(&good);
    p.patch("model.w.quant", |b| {
        b[12..16].copy_from_slice(&f32::NAN.to_le_bytes())
    });
    cases.push(("non_finite", &dct, p.join()));
    let mut p = split(&good);
    let (s, e) = p.offsets("model.w.quant");
    p.entry("model.w.quant")
        .insert("shape".into(), json!([(e - s) / 4 - 1]));
    p.entry("model.w.quant")
        .insert("data_offsets".into(), json!([s, e - 4]));
    p.data.drain(e - 4..e);
    // Every later tensor moves down by four bytes.
    for (name, v) in p.header.iter_mut().filter(|(n, _)| *n != "__metadata__") {
        let o = v["data_offsets"].clone();
        let (a, b) = (
            o[0].as_u64().unwrap() as usize,
            o[1].as_u64().unwrap() as usize,
        );
        if a >= e {
            v.as_object_mut()
                .unwrap()
                .insert("data_offsets".into(), json!([a - 4, b - 4]));
        }
        let _ = name;
    }
    cases.push(("quant_table_length", &dct, p.join()));
    let mut p = split(&good);
    p.patch("model.w.quant", |b| {
        b[4..8].copy_from_slice(&0f32.to_le_bytes())
    });
    cases.push(("bad_quant_scale", &dct, p.join()));
    let mut p = split(&good_two_bit);
    p.patch("model.w.vals", |b| b[0] = 7);
    cases.push(("code_out_of_range", &two_bit, p.join()));
    let mut p = split(&good_two_bit);
    // Packed 12-bit indices: set the first index's high nibble so it reads as 4095 + …: a
    // value over the chunk's 4096 coefficients cannot be made, so repeat the second instead.
    p.patch("model.w.idxs", |b| {
        let (b0, b1, b2) = (b[0] as u16, b[1] as u16, b[2] as u16);
        let second = (b1 >> 4) | (b2 << 4);
        let _ = b0;
        b[0] = (second & 0xFF) as u8;
        b[1] = ((second >> 8) as u8 & 0x0F) | (b1 as u8 & 0xF0);
    });
    cases.push(("duplicate_index", &two_bit, p.join()));
    let mut big = good.clone();
    big.resize(
        Expect {
            layouts: &layouts(&dct),
            codec: &dct.params,
            window: None,
            uid: None,
        }
        .size_cap() as usize
            + 1,
        b' ',
    );
    cases.push(("too_large", &dct, big));

    let mut codes = BTreeSet::new();
    for (i, (want, c, bytes)) in cases.iter().enumerate() {
        let got = match check(c, bytes) {
            Ok(()) => panic!("case {i} ({want}) was accepted"),
            Err(r) => r,
        };
        assert_eq!(got.code(), *want, "case {i}: {}", got.reason());
        assert!(!got.to_string().is_empty());
        codes.insert(got.code());
    }
    assert!(
        cases.len() >= 30 && codes.len() >= 25,
        "{} cases, {} distinct reasons",
        cases.len(),
        codes.len()
    );
    // The reasons name what they concern.
    let mut p = split(&good);
    p.patch("model.w.idxs", |b| {
        b[..2].copy_from_slice(&5000i16.to_le_bytes())
    });
    let r = check(&dct, &p.join()).unwrap_err();
    assert!(
        r.reason().contains("model.w.idxs") && r.reason().contains("5000"),
        "{}",
        r.reason()
    );
}

#[test]
fn random_bytes_never_panic() {
    let dct = codec(CodecKind::DctTopk, 256);
    let good = valid(&dct);
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2000 {
        let mut bytes = good.clone();
        for _ in 0..(next() % 8 + 1) {
            let i = (next() as usize) % bytes.len();
            bytes[i] = next() as u8;
        }
        if next() % 4 == 0 {
            let n = (next() as usize) % bytes.len();
            bytes.truncate(n);
        }
        let _ = check(&dct, &bytes);
    }
}
