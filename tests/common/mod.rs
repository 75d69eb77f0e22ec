//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `gauntlet` binary, run in `dir` with a private HOME and no GAUNTLET_* variables
/// from the caller's environment, so that no config of the machine leaks in.
pub fn gauntlet(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    for (k, _) in std::env::vars() {
        if k.starts_with("GAUNTLET_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", dir).current_dir(dir);
    cmd
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn corpus() -> PathBuf {
    repo().join("examples/corpus")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the command and insists that it exits 0, showing its stderr otherwise.
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run gauntlet");
    assert!(
        out.status.success(),
        "gauntlet failed ({:?}):\n{}",
        out.status,
        stderr(&out)
    );
    out
}

/// The Python with torch 2.11.0 that scripts/setup installs (TORCH_VENV as there).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GAUNTLET_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = std::env::var_os("TORCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/torch-venv-2.11.0"));
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/setup (it installs the torch the reference scripts need)",
        py.display()
    );
    py
}

/// Runs a Python reference script from tests/reference with arguments.
pub fn run_reference(script: &str, args: &[&std::ffi::OsStr]) {
    let out = Command::new(python())
        .arg(repo().join("tests/reference").join(script))
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("run python");
    assert!(out.status.success(), "{script} failed:\n{}", stderr(&out));
}

pub fn write_f32(path: &Path, t: &tch::Tensor) {
    let t = t.to_kind(tch::Kind::Float).contiguous();
    let n = t.numel();
    let mut bytes = vec![0u8; n * 4];
    t.copy_data_u8(&mut bytes, n);
    std::fs::write(path, bytes).unwrap();
}

pub fn read_f32(path: &Path, shape: &[i64]) -> tch::Tensor {
    let bytes = std::fs::read(path).unwrap();
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    tch::Tensor::from_slice(&v).view(shape)
}

/// Runs gauntlet with `input` on stdin; returns its output (any exit status).
pub fn pipe(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = gauntlet(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gauntlet");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A working folder with the local defaults (paths made relative to it), packed data and
/// the window-0 checkpoint, as a validator and its peers would have.
pub fn local_net(dir: &Path) {
    std::fs::write(
        dir.join("gauntlet.yaml"),
        gauntlet::config::LOCAL_DEFAULTS.replace("gauntlet-demo/", ""),
    )
    .unwrap();
    ok(gauntlet(dir)
        .args(["data", "pack"])
        .arg(corpus())
        .args(["--out", "shards"]));
    ok(gauntlet(dir).args(["model", "init", "--out", "ckpts/checkpoint-0.safetensors"]));
}

pub fn records(out: &Output) -> Vec<gauntlet::record::Record> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A folder holding the packed embedded corpus and the tiny model's window-0 checkpoint
/// (`ckpts/checkpoint-0.safetensors`), and the local defaults pointed at it, on the CPU.
pub fn tiny_net() -> (tempfile::TempDir, gauntlet::config::Config) {
    use gauntlet::config::{LoadedConfig, LOCAL_DEFAULTS};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sets = [
        format!("data.shards={}", d.join("shards").display()),
        "runtime.device=cpu".into(),
    ];
    let cfg = LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &sets)
        .unwrap()
        .config;
    gauntlet::demo::pack_corpus(&d.join("corpus"), &d.join("shards")).unwrap();
    let model = gauntlet::model::Model::init(
        &gauntlet::model::LlamaConfig::tiny(),
        tch::Device::Cpu,
        tch::Kind::Float,
        0,
    )
    .unwrap();
    model
        .save(&d.join("ckpts/checkpoint-0.safetensors"), None)
        .unwrap();
    (dir, cfg)
}

/// Gives records of one window the roster `gauntlet peers` gives them, as listed once the
/// window had begun.
pub fn listed(mut records: Vec<gauntlet::record::Record>) -> Vec<gauntlet::record::Record> {
    let window = records.first().map_or(0, |r| r.window);
    let roster = gauntlet::record::Roster::of(records.iter().map(|r| r.uid), window);
    for r in &mut records {
        r.roster = Some(roster.clone());
    }
    records
}

/// A record as `evaluate` leaves it: uploaded, in sync (`sync`), with LossScore `score` and
/// the indicator `indicator`.
pub fn evaluated_record(
    window: u64,
    uid: u16,
    score: f64,
    indicator: i8,
    sync: f64,
) -> gauntlet::record::Record {
    use gauntlet::record::{EvalInfo, ObjectInfo, Record, SyncInfo};
    let mut r = Record::new(window, uid);
    r.object = Some(ObjectInfo {
        key: format!("gradient-{window}-{uid}-v1.safetensors"),
        ..Default::default()
    });
    r.sync = Some(SyncInfo {
        steps_behind: 0.0,
        score: sync,
        ..Default::default()
    });
    r.eval = Some(EvalInfo {
        score,
        indicator,
        own_before: 3.0,
        own_after: 2.9,
        rand_before: 3.0,
        rand_after: 3.0 - score * 3.0,
        ..Default::default()
    });
    r
}

/// Applies hand-made records of one window to a state as `rate --force` does: these tests
/// build windows without `peers`, so without a roster.
pub fn rate_as_given(
    state: &mut gauntlet::state::State,
    h: &gauntlet::config::HyperParams,
    records: Vec<gauntlet::record::Record>,
) -> gauntlet::rate::Outcome {
    let admission = gauntlet::rate::Admission::Forced;
    gauntlet::rate::rate(state, h, h.weights_schedule, &h.ramp(), records, admission).unwrap()
}
