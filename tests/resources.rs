//! Reading a hostile file costs what reading a valid one costs, plus a bounded margin: for
//! each class of resource attack, a file written by Python's own pickle and zipfile or
//! PyTorch's own torch.save (`tests/reference/hostile_files.py`), sized to the model's cap,
//! is read by `gauntlet inspect` in a child process whose peak memory and CPU time are taken
//! from its own rusage (wait4), and held against a valid gradient's at the `tiny` and the
//! `templar-1b` caps: refused with a named reason, exit 1, no signal, at most 256 MiB and 2 s
//! of CPU more than the valid file. The table is printed (`--nocapture`).

mod common;
use common::{gauntlet, python, repo, stderr};
use gauntlet::codec::{Encoded, Values};
use gauntlet::config::{Config, LoadedConfig, LOCAL_DEFAULTS};
use gauntlet::wire::gradient::{self, GradientMeta, Receipt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use tch::{Kind, Tensor};

const MEMORY_MARGIN_MIB: f64 = 256.0;
const CPU_MARGIN_S: f64 = 2.0;

struct Cost {
    code: Option<i32>,
    signal: Option<i32>,
    peak_mib: f64,
    cpu_s: f64,
    stderr: String,
}

/// `gauntlet [--set model.preset=P] inspect FILE` in `dir`, measured by wait4 (which reaps
/// the child: `Child::wait` would lose its rusage).
#[allow(clippy::zombie_processes)]
fn inspect(dir: &Path, preset: &str, file: &Path) -> Cost {
    let child = gauntlet(dir)
        .args(["--set", &format!("model.preset={preset}"), "inspect"])
        .arg(file)
        .env("OMP_NUM_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut err = child.stderr.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut err, &mut text).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes the exit status and one rusage struct for the child `pid`.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let status = std::process::ExitStatus::from_raw(status);
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Cost {
        code: status.code(),
        signal: status.signal(),
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
        cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        stderr: text,
    }
}

fn config(preset: &str) -> Config {
    let sets = [
        format!("model.preset={preset}"),
        "runtime.device=cpu".into(),
    ];
    LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &sets)
        .unwrap()
        .config
}

/// A valid native gradient for the model: each chunk keeps indices 0..k, values mid-range.
fn write_valid(cfg: &Config, path: &Path) -> u64 {
    let (codec, layouts) = gauntlet::wire::layouts(cfg, tch::Device::Cpu).unwrap();
    let bins = codec.params.quant_bins as i64;
    let params: Vec<Encoded> = layouts
        .iter()
        .map(|l| {
            let shape = l.idx_shape();
            let idx = Tensor::arange(l.k, (Kind::Int64, tch::Device::Cpu))
                .expand(shape.as_slice(), false)
                .contiguous();
            let vals = if bins > 0 {
                Values::Quantized {
                    codes: Tensor::full(
                        shape.as_slice(),
                        bins / 2,
                        (Kind::Uint8, tch::Device::Cpu),
                    ),
                    table: gauntlet::codec::QuantTable {
                        shift: 0.0,
                        scale: 1.0,
                        lookup: Tensor::arange(bins, (Kind::Float, tch::Device::Cpu)),
                    },
                }
            } else {
                Values::Float(Tensor::zeros(
                    shape.as_slice(),
                    (Kind::Float, tch::Device::Cpu),
                ))
            };
            Encoded { idx, vals }
        })
        .collect();
    let meta = GradientMeta {
        window: 0,
        uid: 1,
        global_step: 0,
        codec: codec.params.clone(),
        receipt: Receipt::default(),
    };
    let bytes = gradient::encode_file(&meta, &layouts, &params).unwrap();
    std::fs::write(path, &bytes).unwrap();
    gradient::size_cap(&layouts, &codec.params)
}

/// The model's parameters as the reference's files hold them, for the generator.
fn reference_params(cfg: &Config) -> serde_json::Value {
    let (codec, layouts) = gauntlet::wire::layouts(cfg, tch::Device::Cpu).unwrap();
    let spec = gradient::spec(&layouts, &codec.params);
    let quant = spec.quant_bins > 0;
    serde_json::Value::Array(
        spec.params
            .iter()
            .map(|p| {
                serde_json::json!({
                    "file_name": p.file_name,
                    "idx_dtype": format!("{:?}", p.idx_dtype()),
                    "idx_stored": p.idx_stored_shape(),
                    "shape": p.shape,
                    "vals_dtype": if quant { "U8" } else { "F32" },
                })
            })
            .collect(),
    )
}

fn check_cap(preset: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("gauntlet.yaml"), LOCAL_DEFAULTS).unwrap();
    let cfg = config(preset);
    let valid = d.join("gradient-0-1-v1.safetensors");
    let cap = write_valid(&cfg, &valid);
    let hostile = d.join("hostile");
    let spec = serde_json::json!({
        "out": hostile,
        "cap": cap,
        "quant_bins": cfg.hparams.codec_params().quant_bins,
        "params": reference_params(&cfg),
    });
    let spec_path = d.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/reference/hostile_files.py"))
        .arg(&spec_path)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "hostile_files.py: {}", stderr(&out));

    let base = inspect(d, preset, &valid);
    assert_eq!(base.code, Some(0), "the valid file: {}", base.stderr);
    println!("\n{preset} (cap {cap} bytes)");
    println!(
        "{:<28} {:>10} {:>9} {:>7}  reason",
        "file", "bytes", "peak MiB", "CPU s"
    );
    let row = |name: &str, size: u64, c: &Cost, why: &str| {
        println!(
            "{name:<28} {size:>10} {:>9.0} {:>7.2}  {why}",
            c.peak_mib, c.cpu_s
        )
    };
    row(
        "valid gradient",
        std::fs::metadata(&valid).unwrap().len(),
        &base,
        "read",
    );
    let mut files: Vec<_> = std::fs::read_dir(&hostile)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 9, "{files:?}");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let c = inspect(d, preset, &f);
        let reason = c
            .stderr
            .split_once("is refused: ")
            .map(|(_, why)| why.trim().to_string())
            .unwrap_or_default();
        row(&name, std::fs::metadata(&f).unwrap().len(), &c, &reason);
        assert_eq!(c.signal, None, "{name} killed the reader: {}", c.stderr);
        assert_eq!(c.code, Some(1), "{name} was not refused: {}", c.stderr);
        assert!(
            !reason.is_empty(),
            "{name}: no named reason in {:?}",
            c.stderr
        );
        assert!(
            c.peak_mib <= base.peak_mib + MEMORY_MARGIN_MIB,
            "{name}: peak {:.0} MiB against the valid file's {:.0} MiB",
            c.peak_mib,
            base.peak_mib
        );
        assert!(
            c.cpu_s <= base.cpu_s + CPU_MARGIN_S,
            "{name}: {:.2} s of CPU against the valid file's {:.2} s",
            c.cpu_s,
            base.cpu_s
        );
    }
}

#[test]
fn hostile_files_cost_a_valid_files_resources_at_the_tiny_cap() {
    check_cap("tiny");
}

#[test]
fn hostile_files_cost_a_valid_files_resources_at_the_templar_1b_cap() {
    check_cap("templar-1b");
}
