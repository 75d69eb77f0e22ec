//! Peer files written by the reference's own code (`../shared/reference/templar-files/`: the
//! paper era's v0.2.88 and the last scoring release v2.1.28, for a model of the `tiny`
//! preset's shapes), read through the commands an operator runs and compared with the
//! reference's own decodes and aggregate (`expected.safetensors`, `expected.json`) to 1e-6.

mod common;

use common::{gauntlet, python, stderr, stdout};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

fn files() -> PathBuf {
    common::repo().join("../shared/reference/templar-files")
}

/// One era's files and the settings under which gauntlet validates a network of them.
struct Era {
    dir: PathBuf,
    window: u64,
    uids: Vec<u16>,
    sets: Vec<String>,
    expected: Value,
    /// The reference's tensors: `peer{p}/NAME`, `agg/NAME`, `sums/…/NAME`, ….
    tensors: HashMap<String, Tensor>,
    tied: bool,
}

impl Era {
    fn open(version: &str, scratch: &Path) -> Era {
        let dir = files().join(version);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let tensors = Tensor::read_safetensors(dir.join("expected.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
        let mut sets: Vec<String> = vec![
            "network.compat=templar".into(),
            format!("network.version={}", version.trim_start_matches('v')),
        ];
        let tied = version == "v2.1.28";
        if tied {
            // The tiny shapes with the output tied to the embedding, as the reference's
            // production model (no output.weight in its files).
            let config = scratch.join("tiny-tied.json");
            std::fs::write(
                &config,
                r#"{"vocab_size": 320, "hidden_size": 128, "intermediate_size": 384,
                   "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 4,
                   "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
                   "tie_word_embeddings": true}"#,
            )
            .unwrap();
            sets.extend([
                format!("model.preset={}", config.display()),
                "hparams.codec=chunk-topk".into(),
                "hparams.topk_compression=64".into(),
                "hparams.quantization_bins=4".into(),
                "hparams.eval_variant=clip-median".into(),
                format!("hparams.outer_learning_rate={}", expected["outer_lr"]),
                "network.param_names=torchtitan".into(),
                // Its sync check: IQM of steps counted by the validator's own step sizes.
                "hparams.sync_divisor=ema".into(),
                "hparams.sync_method=iqm".into(),
                "hparams.sync_score_max_steps=3".into(),
                "hparams.sync_max_steps_behind=2".into(),
            ]);
        } else {
            // Global step 1234 at the files' window, as the reference's run.
            let start =
                expected["window"].as_u64().unwrap() - expected["global_step"].as_u64().unwrap();
            sets.push(format!("network.start_window={start}"));
            // v0.2.88's sync check: the mean of the compared values' steps behind.
            sets.push("hparams.sync_method=mean".into());
        }
        sets.push("hparams.max_topk_peers=8".into());
        sets.push("hparams.sequence_length=256".into());
        Era {
            window: expected["window"].as_u64().unwrap(),
            uids: expected["peers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_u64().unwrap() as u16)
                .collect(),
            dir,
            sets,
            expected,
            tensors,
            tied,
        }
    }

    fn version(&self) -> &str {
        self.expected["version"].as_str().unwrap()
    }

    fn gradient(&self, uid: u16) -> PathBuf {
        self.dir.join(format!(
            "gradient-{}-{uid}-{}.pt",
            self.window,
            self.version()
        ))
    }

    fn debug(&self, uid: u16) -> PathBuf {
        self.dir
            .join(format!("debug-{}-{uid}-{}.pt", self.window, self.version()))
    }

    /// `gauntlet ARGS --set …` in `dir`.
    fn run(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let mut cmd = gauntlet(dir);
        cmd.args(args);
        for s in &self.sets {
            cmd.args(["--set", s]);
        }
        cmd.output().unwrap()
    }

    /// One record per peer of its gradient file, as a stage takes them, with `extend`'s
    /// fields added, written to `path` as JSON lines.
    fn write_records(&self, path: &Path, extend: impl Fn(u16, &mut Value)) {
        let lines: String = self
            .uids
            .iter()
            .map(|&uid| {
                let file = self.gradient(uid);
                let mut r = serde_json::json!({
                    "window": self.window, "uid": uid, "status": "ok",
                    "object": {"key": file.file_name().unwrap().to_str(), "path": file},
                });
                extend(uid, &mut r);
                format!("{r}\n")
            })
            .collect();
        std::fs::write(path, lines).unwrap();
    }

    /// (file name, model name, shape) of every parameter, in the reference's order.
    fn params(&self) -> Vec<(String, String, Vec<i64>)> {
        self.expected["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let name = p["name"].as_str().unwrap().to_string();
                let hf = p["hf_name"].as_str().map_or(name.clone(), String::from);
                let shape = p["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_i64().unwrap());
                (name, hf, shape.collect())
            })
            .collect()
    }
}

/// A model-layout tensor in the file's row order: torchtitan's rotary order for `wq`/`wk`
/// (4 heads, and 4 KV heads, in the tiny shapes), as the reference decoded it.
fn in_file_order(name: &str, t: &Tensor) -> Tensor {
    if !(name.ends_with("attention.wq.weight") || name.ends_with("attention.wk.weight")) {
        return t.shallow_clone();
    }
    let (rows, cols) = (t.size()[0], t.size()[1]);
    let heads = 4;
    t.reshape([heads, 2, rows / heads / 2, cols])
        .transpose(1, 2)
        .reshape([rows, cols])
}

fn read(path: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap()
        .into_iter()
        .collect()
}

/// `[Σx, Σ|x|, Σx², Σ x_i·((i mod 251) + 1)/251]` in float64 over the row-major flat index.
fn sums(t: &Tensor) -> [f64; 4] {
    let x = t.to_kind(Kind::Double).flatten(0, -1);
    let n = x.size()[0];
    let w = (Tensor::arange(n, (Kind::Int64, tch::Device::Cpu)).remainder(251) + 1)
        .to_kind(Kind::Double)
        / 251.0;
    [
        x.sum(Kind::Double).double_value(&[]),
        x.abs().sum(Kind::Double).double_value(&[]),
        (&x * &x).sum(Kind::Double).double_value(&[]),
        (&x * &w).sum(Kind::Double).double_value(&[]),
    ]
}

/// Checks `got` (in the file's row order) against the reference's `which/NAME` tensors: the
/// dense one where the reference kept it (max |Δ| / max |ref| ≤ 1e-6), the sums always (the
/// README's rule: Σx, Σ|x| and Σx·w within 1e-6·Σ|x|, Σx² within 1e-6 relative).
fn compare(era: &Era, which: &str, name: &str, got: &Tensor) {
    if let Some(want) = era.tensors.get(&format!("{which}/{name}")) {
        let want = want.to_kind(Kind::Float);
        let err = (got - &want).abs().max().double_value(&[]);
        let scale = want.abs().max().double_value(&[]);
        assert!(
            err <= 1e-6 * scale,
            "{which}/{name}: max |Δ| {err:e} against max |ref| {scale:e}"
        );
    }
    let want = Vec::<f64>::try_from(&era.tensors[&format!("sums/{which}/{name}")]).unwrap();
    let got = sums(got);
    for i in [0, 1, 3] {
        assert!(
            (got[i] - want[i]).abs() <= 1e-6 * want[1],
            "sums/{which}/{name}[{i}]: {} against {}",
            got[i],
            want[i]
        );
    }
    assert!(
        (got[2] - want[2]).abs() <= 1e-6 * want[2].abs().max(f64::MIN_POSITIVE),
        "sums/{which}/{name}[2]: {} against {}",
        got[2],
        want[2]
    );
}

/// Every gradient and debug file of an era through `inspect`, its decode (`inspect --dense`)
/// against the reference's per-peer decode, `convert` to gauntlet's format and back (the
/// same decode, and a `.pt` PyTorch loads with the reference's keys and tensors), and the
/// three peers through `aggregate` against the reference's outer step.
fn era_end_to_end(version: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path();
    let era = Era::open(version, d);
    let params = era.params();
    let n_params = params.len();
    for (p, &uid) in era.uids.iter().enumerate() {
        let window = era.window.to_string();
        let uid_s = uid.to_string();
        let file = era.gradient(uid);
        let dense = d.join(format!("dense-{uid}.safetensors"));
        let out = era.run(
            d,
            &[
                "inspect",
                file.to_str().unwrap(),
                "--window",
                &window,
                "--uid",
                &uid_s,
                "--dense",
                dense.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "inspect {}: {}",
            file.display(),
            stderr(&out)
        );
        let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(summary["parameters"].as_u64().unwrap() as usize, n_params);
        assert_eq!(summary["global_step"], era.expected["global_step"]);
        let decoded = read(&dense);
        for (name, hf, shape) in &params {
            let t = &decoded[hf];
            assert_eq!(&t.size(), shape, "{hf}");
            compare(&era, &format!("peer{p}"), name, &in_file_order(name, t));
        }

        let debug = era.debug(uid);
        let out = era.run(d, &["inspect", debug.to_str().unwrap(), "--uid", &uid_s]);
        assert!(
            out.status.success(),
            "inspect {}: {}",
            debug.display(),
            stderr(&out)
        );
        let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(summary["parameters"].as_u64().unwrap() as usize, n_params);

        // To gauntlet's format: the same decode; and back to the reference's.
        let native = d.join(format!("gradient-{}-{uid}-v1.safetensors", era.window));
        let back = d.join(format!("back-{uid}.pt"));
        for (from, to) in [(&file, &native), (&native, &back)] {
            let out = era.run(
                d,
                &["convert", from.to_str().unwrap(), to.to_str().unwrap()],
            );
            assert!(out.status.success(), "convert: {}", stderr(&out));
        }
        let native_dense = d.join(format!("native-{uid}.safetensors"));
        let out = era.run(
            d,
            &[
                "inspect",
                native.to_str().unwrap(),
                "--dense",
                native_dense.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        for (hf, t) in read(&native_dense) {
            assert!(
                t.equal(&decoded[&hf]),
                "{hf}: the native file decodes otherwise"
            );
        }
        same_in_pytorch(&file, &back);
    }

    filter_reads_every_file(&era, d);
    evaluate_takes_every_file(&era, d);

    // The outer step of the three peers, from an all-zero model: θ' = −lr · update.
    let ckpts = d.join("ckpts");
    std::fs::create_dir_all(&ckpts).unwrap();
    let zeros: Vec<(String, Tensor)> = params
        .iter()
        .map(|(_, hf, shape)| {
            (
                hf.clone(),
                Tensor::zeros(shape.as_slice(), (Kind::Float, tch::Device::Cpu)),
            )
        })
        .collect();
    Tensor::write_safetensors(
        &zeros,
        ckpts.join(format!("checkpoint-{}.safetensors", era.window)),
    )
    .unwrap();
    era.write_records(&d.join("rated.jsonl"), |_, r| r["weight"] = 1.0.into());
    let out = era.run(
        d,
        &[
            "aggregate",
            "rated.jsonl",
            "--checkpoints",
            ckpts.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "aggregate: {}", stderr(&out));
    let next = read(&ckpts.join(format!("checkpoint-{}.safetensors", era.window + 1)));
    for (name, hf, _) in &params {
        let theta = in_file_order(name, &next[hf]);
        if era.tied {
            let lr = era.expected["outer_lr"].as_f64().unwrap();
            compare(&era, "agg", name, &(theta / -lr));
        } else {
            // Sign-SGD: the step's sign where the reference's pre-sign aggregate is clear of 0.
            let ours = theta.neg().sign();
            if let Some(want) = era.tensors.get(&format!("agg/{name}")) {
                let want = want.to_kind(Kind::Float);
                let mask = match era.tensors.get(&format!("agg_presign/{name}")) {
                    Some(pre) => pre.abs().gt(1e-6 * pre.abs().max().double_value(&[])),
                    None => want.ones_like().to_kind(Kind::Bool),
                };
                let differ = ours.ne_tensor(&want).logical_and(&mask).sum(Kind::Int64);
                assert_eq!(differ.int64_value(&[]), 0, "agg/{name}: signs differ");
            }
            compare(&era, "agg", name, &ours);
        }
    }
}

/// `filter` on the three peers' files: none is malformed; each debug file is compared with a
/// validator whose model holds what the first (in-sync) peer published. The fixture has no
/// gradient of the next window, so the debug file of window W (checked by the reference in
/// window W + 1) is given to window W's record, at the step count of W + 1. Both eras' steps
/// behind and sync scores then equal the reference's own (`expected.json` `sync_check`): the
/// paper era's mean over the learning rate, v2.1.28's IQM over the validator's step sizes.
fn filter_reads_every_file(era: &Era, d: &Path) {
    // The validator's model holds what the in-sync peers published after the step, and
    // before it (for v2.1.28's step sizes) what the lagging peer still holds.
    let ckpts = d.join("filter-ckpts");
    std::fs::create_dir_all(&ckpts).unwrap();
    let lagging = *era.uids.last().unwrap();
    for (window, uid) in [(era.window - 1, lagging), (era.window, era.uids[0])] {
        let published = debug_values(&era.debug(uid));
        let model: Vec<(String, Tensor)> = era
            .params()
            .into_iter()
            .map(|(name, hf, shape)| {
                let t = Tensor::zeros(shape.as_slice(), (Kind::Float, tch::Device::Cpu));
                let flat = t.view(-1);
                for (i, v) in published[&name].iter().enumerate() {
                    let _ = flat.get(10 + i as i64).fill_(*v);
                }
                (hf, t)
            })
            .collect();
        Tensor::write_safetensors(
            &model,
            ckpts.join(format!("checkpoint-{window}.safetensors")),
        )
        .unwrap();
    }
    // The put window of window W opens as window W + 1 starts.
    let net = format!(
        "clock:\n  genesis: \"2025-01-01T00:00:00Z\"\n  window_seconds: 60.0\n  windows:\n    {}: \"2026-01-01T00:00:00Z\"\npeers: []\n",
        era.window + 1
    );
    std::fs::write(d.join("net.yaml"), net).unwrap();
    era.write_records(&d.join("fetched.jsonl"), |uid, r| {
        let debug = era.debug(uid);
        r["object"]["uploaded_at"] = "2026-01-01T00:00:01Z".into();
        r["object"]["sync"] =
            serde_json::json!({"key": debug.file_name().unwrap().to_str(), "path": debug});
    });
    let mut era_next = Era::open(&format!("v{}", era.version().trim_start_matches('v')), d);
    if !era.tied {
        // The step count of window W + 1, as the reference's check ran.
        let start = era.window - era.expected["global_step"].as_u64().unwrap() - 1;
        era_next.sets.push(format!("network.start_window={start}"));
    }
    let out = era_next.run(
        d,
        &[
            "filter",
            "fetched.jsonl",
            "--network",
            "net.yaml",
            "--checkpoints",
            ckpts.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    );
    assert!(out.status.success(), "filter: {}", stderr(&out));
    let filtered: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(filtered.len(), 3);
    for r in &filtered {
        let uid = r["uid"].to_string();
        assert_ne!(r["status"], "malformed", "{r}");
        let want = &era.expected["sync_check"][&uid];
        let got = &r["sync"];
        if want["avg_steps_behind"] == 0.0 {
            assert_eq!(r["status"], "ok", "{r}");
            assert_eq!(got["steps_behind"], 0.0, "{r}");
        } else {
            let x = got["steps_behind"].as_f64().unwrap();
            let score = got["score"].as_f64().unwrap();
            let method = if era.tied {
                "interquartile_mean_steps_behind"
            } else {
                "avg_steps_behind"
            };
            let (want_x, want_score) = (
                want[method].as_f64().unwrap(),
                want["sync_score"].as_f64().unwrap(),
            );
            assert!(
                (x - want_x).abs() <= 1e-6 * want_x,
                "uid {uid}: {x} steps against {want_x}"
            );
            assert!(
                (score - want_score).abs() <= 1e-6,
                "uid {uid}: sync {score} against {want_score}"
            );
        }
    }
}

/// `evaluate` on the three peers' files, with the embedded corpus and a freshly initialised
/// model of the era's shapes: each file is read, applied and scored (its losses have no
/// counterpart in the fixture: the values are synthetic).
fn evaluate_takes_every_file(era: &Era, d: &Path) {
    gauntlet::demo::pack_corpus(&d.join("corpus"), &d.join("shards")).unwrap();
    let local = common::repo().join("examples/local.yaml");
    let shards = format!("data.shards={}", d.join("shards").display());
    let run = |args: &[&str]| {
        let mut cmd = gauntlet(d);
        cmd.args(args)
            .args(["--config", local.to_str().unwrap(), "--set", &shards]);
        for s in &era.sets {
            cmd.args(["--set", s]);
        }
        cmd.output().unwrap()
    };
    let out = run(&[
        "model",
        "init",
        "--out",
        "eval-ckpts/checkpoint-0.safetensors",
    ]);
    assert!(out.status.success(), "model init: {}", stderr(&out));
    era.write_records(&d.join("filtered.jsonl"), |_, _| {});
    let out = run(&[
        "evaluate",
        "filtered.jsonl",
        "--checkpoints",
        "eval-ckpts",
        "--device",
        "cpu",
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "evaluate: {}", stderr(&out));
    let evaluated: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(evaluated.len(), 3);
    for r in &evaluated {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["eval"]["score"].as_f64().unwrap().is_finite(), "{r}");
    }
}

/// A debug file's published values per parameter (by the file's names), as PyTorch reads them.
fn debug_values(path: &Path) -> HashMap<String, Vec<f64>> {
    let script = r#"
import sys, json, torch
sd = torch.load(sys.argv[1], weights_only=True, map_location="cpu")["state_dict"]
print(json.dumps({k[:-6]: [float(x) for x in v] for k, v in sd.items() if k.endswith("_debug")}))
"#;
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// PyTorch loads both `.pt` files with `weights_only=True` and finds the same keys (the
/// reference's names, wrappers included), the same index and code tensors, and the same
/// quantisation parameters.
fn same_in_pytorch(original: &Path, written: &Path) {
    let script = r#"
import sys, torch
a = torch.load(sys.argv[1], weights_only=True, map_location="cpu")["state_dict"]
b = torch.load(sys.argv[2], weights_only=True, map_location="cpu")["state_dict"]
ka = sorted(k for k in a if k != "metadata"); kb = sorted(k for k in b if k != "metadata")
assert ka == kb, (ka[:3], kb[:3])
for k in ka:
    if k.endswith("quant_params"):
        for i in (0, 1):
            assert float(a[k][i]) == float(b[k][i]), (k, i, a[k][i], b[k][i])
        assert torch.equal(a[k][3], b[k][3]), k
    else:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
print(len(ka))
"#;
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(original)
        .arg(written)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "PyTorch compared {} and {}: {}",
        original.display(),
        written.display(),
        stderr(&out)
    );
}

#[test]
fn paper_era_files_read_decode_and_aggregate_as_the_reference_did() {
    era_end_to_end("v0.2.88");
}

#[test]
fn latest_reference_files_read_decode_and_aggregate_as_the_reference_did() {
    era_end_to_end("v2.1.28");
}

#[test]
fn a_file_named_for_another_layout_says_which_setting_to_change() {
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path();
    let era = Era::open("v2.1.28", d);
    let file = era.gradient(era.uids[0]);
    let mut cmd = gauntlet(d);
    cmd.args(["inspect", file.to_str().unwrap()]);
    for s in era
        .sets
        .iter()
        .filter(|s| !s.starts_with("network.param_names"))
    {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("set network.param_names: torchtitan"),
        "{}",
        stderr(&out)
    );
}
