//! Evaluating peers on the `small` model (60M parameters) on CPU: gauntlet's evaluate stage
//! against the reference validator's procedure in PyTorch (benches/reference/evaluate_ref.py:
//! a deep copy of the model per data set, the update decoded and applied to each copy, four
//! loss passes per peer) on the same checkpoint, peer files and batches, in one run. Prints
//! the per-peer time of each, the ratio, and the largest score difference.
//!
//!     cargo bench --bench evaluate [-- --peers N --threads T]

mod common;

use gauntlet::config::LoadedConfig;
use gauntlet::evaluate::{self, Evaluator};
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::model::{LlamaConfig, Model};
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::record::{ObjectInfo, Record};
use gauntlet::store::LocalStore;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

fn write_batches(path: &std::path::Path, batches: &[Tensor]) {
    let t = Tensor::stack(batches, 0).to_kind(Kind::Int64).contiguous();
    let n = t.numel();
    let mut bytes = vec![0u8; n * 8];
    t.copy_data_u8(&mut bytes, n);
    std::fs::write(path, bytes).unwrap();
}

fn main() {
    let peers = common::arg("--peers", 4) as u16;
    let threads = common::arg("--threads", 1);
    // Batches per estimate: 2 uses all of a peer's batches (the local default's sample rate
    // 1.0); 1 is what the reference's rate 0.1 gives on the local data.
    let per_estimate = common::arg("--batches", 2);
    tch::set_num_threads(threads as i32);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sets = [
        format!("data.shards={}", d.join("shards").display()),
        "model.preset=small".into(),
        "runtime.device=cpu".into(),
        format!(
            "hparams.validator_sample_rate={}",
            per_estimate as f64 / 2.0
        ),
    ];
    let cfg = LoadedConfig::load_over(
        Some(("local", gauntlet::config::LOCAL_DEFAULTS)),
        None,
        Vec::new(),
        &sets,
    )
    .unwrap()
    .config;
    gauntlet::demo::pack_corpus(&d.join("corpus"), &d.join("shards")).unwrap();
    let ckpt = d.join("ckpts/checkpoint-0.safetensors");
    Model::init(&LlamaConfig::small(), Device::Cpu, Kind::Float, 0)
        .unwrap()
        .save(&ckpt, None)
        .unwrap();
    let store = LocalStore::open(d.join("store")).unwrap();
    let window = 3;
    let mut records = Vec::new();
    for uid in 1..=peers {
        let job = Job {
            uid,
            window,
            behaviour: Behaviour::Honest,
            checkpoints: Checkpoints::Folder(d.join("ckpts")),
            state_dir: d.join("state"),
            max_batches: None,
        };
        let report = peer::run(&cfg, &job, &store).unwrap();
        let mut r = Record::new(window, uid);
        r.object = Some(ObjectInfo {
            path: Some(
                d.join("store")
                    .join(&report.gradient_key)
                    .display()
                    .to_string(),
            ),
            key: report.gradient_key,
            ..Default::default()
        });
        records.push(r);
    }

    let checkpoints = Checkpoints::File(ckpt.clone());
    let t0 = Instant::now();
    let ours = evaluate::run(
        &cfg,
        records.clone(),
        &checkpoints,
        Device::Cpu,
        None,
        None,
        &|| {},
    )
    .unwrap();
    let ours_per_peer = t0.elapsed().as_secs_f64() / peers as f64;

    // The same batches and step for the reference.
    let uids: Vec<u16> = records.iter().map(|r| r.uid).collect();
    let ev = Evaluator::new(&cfg, &checkpoints, window, &uids, Device::Cpu).unwrap();
    write_batches(&d.join("rand.i64"), ev.rand_batches());
    let mut spec_peers = Vec::new();
    for r in &records {
        let own = d.join(format!("own-{}.i64", r.uid));
        write_batches(&own, &ev.own_batches(r.uid).unwrap());
        spec_peers.push(
            serde_json::json!({"uid": r.uid, "file": r.object.as_ref().unwrap().path, "own": own}),
        );
    }
    let config = LlamaConfig::small();
    let spec = serde_json::json!({
        "checkpoint": ckpt, "config": config, "shapes": config.param_shapes(), "step": ev.step(), "eos": 256,
        "threads": threads, "random": d.join("rand.i64"), "peers": spec_peers,
        "batch": [cfg.hparams.batch_size, cfg.hparams.sequence_length],
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let python = common::python();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/reference/evaluate_ref.py"
    );
    let reference = common::run_json(
        std::process::Command::new(python)
            .arg(script)
            .arg(d.join("spec.json"))
            .env("OMP_NUM_THREADS", threads.to_string()),
        "the PyTorch reference (scripts/setup installs it)",
    );
    let theirs_per_peer = reference["seconds_per_peer"].as_f64().unwrap();

    let mut worst = 0f64;
    let mut agree = 0;
    for (mine, theirs) in ours.iter().zip(reference["peers"].as_array().unwrap()) {
        let e = mine.eval.as_ref().unwrap();
        let s = theirs["score"].as_f64().unwrap();
        worst = worst.max(((e.score - s) / s.abs().max(1e-30)).abs());
        agree += (e.indicator as i64 == theirs["indicator"].as_i64().unwrap()) as usize;
        eprintln!(
            "uid {}: score {:.6e} (reference {:.6e}), indicator {:+} ({:+})",
            mine.uid, e.score, s, e.indicator, theirs["indicator"]
        );
    }
    let b = (cfg.hparams.batch_size, cfg.hparams.sequence_length);
    println!("evaluating {peers} peers on the `small` model ({} parameters), CPU, {threads} thread(s), batches of {}×{}, {} own + {} random batches per peer:", config.param_count(), b.0, b.1, ev.own_batches(1).unwrap().len(), ev.rand_batches().len());
    println!("  gauntlet evaluate (one backup, shared random-page loss, sparse decode)  {:6.2} s per peer", ours_per_peer);
    println!("  reference (deep copies, four passes, einsum decode, PyTorch)            {:6.2} s per peer", theirs_per_peer);
    println!("  ratio {:.2}x; largest relative score difference {worst:.2e}; indicators agree {agree}/{peers}", theirs_per_peer / ours_per_peer);
}
