//! The model: presets, forward/backward, learning on packed text, checkpoints.

mod common;
use gauntlet::data::pack::{pack, DocSplit};
use gauntlet::data::{Dataset, Tokenizer};
use gauntlet::model::{LlamaConfig, Model, Trainer};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

fn tiny() -> Model {
    Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 0).unwrap()
}

fn snapshot(m: &Model) -> BTreeMap<String, Tensor> {
    m.vs.variables()
        .into_iter()
        .map(|(k, v)| (k, v.copy()))
        .collect()
}

fn assert_bit_equal(a: &BTreeMap<String, Tensor>, b: &BTreeMap<String, Tensor>) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, t) in a {
        assert!(t.equal(&b[name]), "{name} differs");
    }
}

#[test]
fn templar_1b_has_exactly_the_reference_parameter_count() {
    let cfg = LlamaConfig::templar_1b();
    assert_eq!(cfg.param_count(), 1_204_881_408);
    let shapes = cfg.param_shapes();
    assert_eq!(
        shapes.len(),
        147,
        "16 layers × 9 tensors + embed, norm, lm_head: the reference's 147"
    );
    assert_eq!(
        shapes[0],
        ("model.embed_tokens.weight".to_string(), vec![32000, 2048])
    );
    assert!(shapes.contains(&(
        "model.layers.15.mlp.down_proj.weight".to_string(),
        vec![2048, 8192]
    )));
    assert!(LlamaConfig::tiny().param_count() <= 2_000_000);
    let small = LlamaConfig::small().param_count();
    assert!(
        (50_000_000..=100_000_000).contains(&small),
        "small has {small}"
    );
}

#[test]
fn built_variables_match_the_declared_shapes_and_hf_names() {
    let m = tiny();
    let vars: BTreeMap<String, Vec<i64>> =
        m.vs.variables()
            .into_iter()
            .map(|(k, v)| (k, v.size()))
            .collect();
    let declared: BTreeMap<String, Vec<i64>> =
        LlamaConfig::tiny().param_shapes().into_iter().collect();
    assert_eq!(vars, declared);
    assert_eq!(m.param_count(), LlamaConfig::tiny().param_count());
}

#[test]
fn forward_backward_shapes_and_initial_loss() {
    let m = tiny();
    let ids = Tensor::randint(320, [2, 16], (Kind::Int64, Device::Cpu));
    let logits = m.llama.forward(&ids);
    assert_eq!(logits.size(), vec![2, 16, 320]);
    let loss = m.llama.loss(&ids, None);
    let l = loss.double_value(&[]);
    assert!(
        (l - 320f64.ln()).abs() < 0.3,
        "a fresh model is near uniform: {l}"
    );
    loss.backward();
    for (name, v) in m.vs.variables() {
        let g = v.grad();
        assert!(g.defined(), "{name} has a gradient");
        assert!(
            g.isfinite().all().int64_value(&[]) == 1,
            "{name} gradient is finite"
        );
    }
}

#[test]
fn causal_attention_cannot_see_the_future() {
    let m = tiny();
    let a = Tensor::from_slice(&[5i64, 9, 42, 7, 100, 3]).view([1, 6]);
    let b = Tensor::from_slice(&[5i64, 9, 42, 7, 200, 201]).view([1, 6]);
    let (la, lb) = (m.llama.forward(&a), m.llama.forward(&b));
    assert!(
        la.narrow(1, 0, 4)
            .allclose(&lb.narrow(1, 0, 4), 1e-6, 1e-6, false),
        "positions before the change are untouched"
    );
    assert!(!la
        .narrow(1, 4, 2)
        .allclose(&lb.narrow(1, 4, 2), 1e-6, 1e-6, false));
}

#[test]
fn pad_tokens_are_left_out_of_the_loss() {
    let m = tiny();
    let ids = Tensor::from_slice(&[1i64, 2, 3, 256, 256, 256]).view([1, 6]);
    let masked = m.llama.loss(&ids, Some(256)).double_value(&[]);
    let logits = m.llama.forward(&ids).log_softmax(-1, Kind::Float);
    let by_hand = -(logits.double_value(&[0, 0, 2]) + logits.double_value(&[0, 1, 3])) / 2.0;
    assert!((masked - by_hand).abs() < 1e-5, "{masked} vs {by_hand}");
}

#[test]
fn tiny_model_learns_packed_text() {
    let dir = tempfile::tempdir().unwrap();
    pack(
        &[common::corpus()],
        dir.path(),
        &Tokenizer::Bytes,
        DocSplit::Paragraph,
        1 << 20,
    )
    .unwrap();
    let data = Dataset::open(dir.path(), 64, 4).unwrap();
    let batches = data.batches(&[0, 1, 2], 4).unwrap();
    let m = tiny();
    let pad = Some(data.eos_id());
    let before = m.mean_loss(&batches, pad);
    let mut trainer = Trainer::new(&m, 3e-3, pad).unwrap();
    let losses = trainer.run(&m, &batches, 15).unwrap();
    let after = m.mean_loss(&batches, pad);
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(after < before - 1.0, "loss {before:.3} -> {after:.3}");
}

#[test]
fn checkpoint_round_trip_is_bit_exact_single_and_sharded() {
    let dir = tempfile::tempdir().unwrap();
    let m = Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 42).unwrap();
    let want = snapshot(&m);

    let single = dir.path().join("m.safetensors");
    m.save(&single, None).unwrap();
    let loaded = Model::load(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, &single).unwrap();
    assert_bit_equal(&want, &snapshot(&loaded));
    let meta = gauntlet::model::checkpoint::read_metadata(&single).unwrap();
    let cfg: LlamaConfig = serde_json::from_str(&meta["config"]).unwrap();
    assert_eq!(cfg, LlamaConfig::tiny());

    let sharded = dir.path().join("sharded");
    m.save(&sharded, Some(300_000)).unwrap();
    let shards = std::fs::read_dir(&sharded)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "safetensors")
        .count();
    assert!(shards >= 3, "{shards} shards");
    for path in [
        sharded.clone(),
        sharded.join("model.safetensors.index.json"),
    ] {
        let loaded = Model::load(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, &path).unwrap();
        assert_bit_equal(&want, &snapshot(&loaded));
    }

    // bf16 models save and load bit-exactly too, and an f32 checkpoint loads into bf16.
    let bf = Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::BFloat16, 3).unwrap();
    let p = dir.path().join("bf16.safetensors");
    bf.save(&p, None).unwrap();
    let loaded = Model::load(&LlamaConfig::tiny(), Device::Cpu, Kind::BFloat16, &p).unwrap();
    assert_bit_equal(&snapshot(&bf), &snapshot(&loaded));
    let converted =
        Model::load(&LlamaConfig::tiny(), Device::Cpu, Kind::BFloat16, &single).unwrap();
    assert_eq!(
        converted.vs.variables()["lm_head.weight"].kind(),
        Kind::BFloat16
    );
}

fn write_tensors(path: &std::path::Path, tensors: Vec<(String, Tensor)>) {
    Tensor::write_safetensors(&tensors, path).unwrap();
}

fn load_err(path: &std::path::Path) -> String {
    match Model::load(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn wrong_checkpoints_are_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let base = snapshot(&tiny());
    let good = || {
        base.iter()
            .map(|(k, v)| (k.clone(), v.shallow_clone()))
            .collect::<Vec<(String, Tensor)>>()
    };
    let name = "model.layers.2.mlp.up_proj.weight";

    let mut wrong_shape = good();
    wrong_shape.iter_mut().find(|(n, _)| n == name).unwrap().1 =
        Tensor::zeros([384, 127], (Kind::Float, Device::Cpu));
    let p = dir.path().join("shape.safetensors");
    write_tensors(&p, wrong_shape);
    let err = load_err(&p);
    assert!(
        err.contains(name) && err.contains("[384, 127]") && err.contains("[384, 128]"),
        "{err}"
    );

    let missing: Vec<_> = good().into_iter().filter(|(n, _)| n != name).collect();
    let p = dir.path().join("missing.safetensors");
    write_tensors(&p, missing);
    let err = load_err(&p);
    assert!(err.contains(name) && err.contains("has no tensor"), "{err}");

    let mut extra = good();
    extra.push((
        "model.layers.9.mlp.up_proj.weight".into(),
        Tensor::zeros([2], (Kind::Float, Device::Cpu)),
    ));
    let p = dir.path().join("extra.safetensors");
    write_tensors(&p, extra);
    assert!(load_err(&p).contains("model.layers.9.mlp.up_proj.weight"));

    let mut wrong_dtype = good();
    wrong_dtype.iter_mut().find(|(n, _)| n == name).unwrap().1 =
        Tensor::zeros([384, 128], (Kind::Int64, Device::Cpu));
    let p = dir.path().join("dtype.safetensors");
    write_tensors(&p, wrong_dtype);
    let err = load_err(&p);
    assert!(err.contains(name) && err.contains("I64"), "{err}");

    let p = dir.path().join("garbage.safetensors");
    std::fs::write(&p, b"\xff\xff\xff\xff\xff\xff\xff\x7fnot a header").unwrap();
    assert!(load_err(&p).contains("not a valid safetensors file"));

    let shard_dir = dir.path().join("evil");
    std::fs::create_dir(&shard_dir).unwrap();
    std::fs::write(
        shard_dir.join("model.safetensors.index.json"),
        r#"{"weight_map":{"lm_head.weight":"../../etc/passwd"}}"#,
    )
    .unwrap();
    assert!(load_err(&shard_dir).contains("not a plain file name"));
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let a = snapshot(&Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 5).unwrap());
    let b = snapshot(&Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 5).unwrap());
    let c = snapshot(&Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 6).unwrap());
    assert_bit_equal(&a, &b);
    assert!(!a["lm_head.weight"].equal(&c["lm_head.weight"]));
    let w = &a["model.layers.1.mlp.up_proj.weight"];
    let (mean, std) = (
        w.mean(Kind::Double).double_value(&[]),
        w.std(true).double_value(&[]),
    );
    assert!(
        mean.abs() < 1e-3 && (std - 0.02).abs() < 5e-4,
        "normal(0, 0.02): mean {mean}, std {std}"
    );
    assert!(
        a["model.norm.weight"].eq(1.0).all().int64_value(&[]) == 1,
        "norms start at one"
    );
}

#[test]
fn devices_are_parsed_and_cuda_is_never_silently_replaced() {
    use gauntlet::model::parse_device;
    assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
    assert_eq!(parse_device("auto").unwrap(), Device::cuda_if_available());
    assert!(parse_device("tpu")
        .unwrap_err()
        .downcast_ref::<gauntlet::UsageError>()
        .is_some());
    assert!(parse_device("cuda:x").is_err());
    if !tch::Cuda::is_available() {
        let err = parse_device("cuda").unwrap_err().to_string();
        assert!(err.contains("--device cpu"), "{err}");
    } else {
        assert_eq!(parse_device("cuda:0").unwrap(), Device::Cuda(0));
    }
}
