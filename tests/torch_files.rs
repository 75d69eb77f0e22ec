//! The reference network's `torch.save` files: real ones written by PyTorch decode as PyTorch
//! decodes them, and hostile ones are refused with a reason, run nothing, and cost bounded
//! memory.

mod common;

use common::{gauntlet, python, stderr};
use gauntlet::codec::{Codec, CodecKind, CodecParams, Layout};
use gauntlet::wire::gradient::{decode_file, Expect};
use gauntlet::wire::Gradient;
use std::path::Path;
use std::process::Command;

fn script() -> std::path::PathBuf {
    common::repo().join("tests/reference/torch_files.py")
}

fn tiny(quant_bins: usize) -> (Codec, Vec<Layout>) {
    tiny_with(CodecKind::DctTopk, 32, quant_bins)
}

fn tiny_with(kind: CodecKind, topk: usize, quant_bins: usize) -> (Codec, Vec<Layout>) {
    let params = CodecParams {
        kind,
        target_chunk: 64,
        topk,
        quant_bins,
        quant_range: 6.0,
    };
    let codec = Codec::new(params, tch::Device::Cpu).unwrap();
    let layouts = gauntlet::model::LlamaConfig::tiny()
        .param_shapes()
        .iter()
        .map(|(n, s)| codec.layout(n, s))
        .collect();
    (codec, layouts)
}

/// Runs tests/reference/torch_files.py MODE on a JSON spec written into `dir`.
fn run_reference(dir: &Path, mode: &str, spec: serde_json::Value) {
    let path = dir.join(format!("{mode}.json"));
    std::fs::write(&path, spec.to_string()).unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg(mode)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "torch_files.py {mode}: {}",
        stderr(&out)
    );
}

/// Checks that every parameter of `g` decodes to the dense f32 values PyTorch wrote to
/// `dense` (parameters one after the other), to 1e-6.
fn assert_decodes_like_pytorch(codec: &Codec, layouts: &[Layout], g: &Gradient, dense: &[u8]) {
    let mut at = 0;
    for (l, enc) in layouts.iter().zip(&g.params) {
        let n = l.shape.iter().product::<i64>() as usize;
        let want: Vec<f32> = dense[at..at + 4 * n]
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        at += 4 * n;
        let want = tch::Tensor::from_slice(&want).view(l.shape.as_slice());
        let diff = (&codec.decode(l, enc) - &want)
            .abs()
            .max()
            .double_value(&[]);
        assert!(
            diff <= 1e-6,
            "{}: decode differs from PyTorch's by {diff}",
            l.name
        );
    }
    assert_eq!(at, dense.len());
}

fn paper_era(quant: bool) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (codec, layouts) = tiny(if quant { 256 } else { 0 });
    let spec = serde_json::json!({
        "shapes": layouts.iter().map(|l| (l.name.clone(), l.shape.clone())).collect::<Vec<_>>(),
        "out": d.join("gradient-7-5-v0.2.88.pt"),
        "dense": d.join("dense.f32"),
        "seed": if quant { 1 } else { 2 },
        "quant": quant,
        "window": 7,
        "global_step": 41,
        "topk": 32,
    });
    run_reference(d, "paper", spec);

    let bytes = std::fs::read(d.join("gradient-7-5-v0.2.88.pt")).unwrap();
    let expect = Expect {
        layouts: &layouts,
        codec: &codec.params,
        window: Some(7),
        uid: Some(5),
    };
    let g = decode_file(&bytes, &expect).unwrap_or_else(|r| panic!("{}", r.reason()));
    assert_eq!((g.meta.window, g.meta.uid, g.meta.global_step), (7, 5, 41));
    let dense = std::fs::read(d.join("dense.f32")).unwrap();
    assert_decodes_like_pytorch(&codec, &layouts, &g, &dense);

    // A stage reads it as it reads the native format: inspect through the binary.
    let out = gauntlet(d)
        .args([
            "inspect",
            "--window",
            "7",
            "--uid",
            "5",
            "--set",
            "hparams.topk_compression=32",
        ])
        .args([
            "--set",
            &format!("hparams.quantization_bins={}", if quant { 256 } else { 0 }),
        ])
        .arg(d.join("gradient-7-5-v0.2.88.pt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        common::stdout(&out).contains("\"global_step\":41"),
        "{}",
        common::stdout(&out)
    );

    // To the native format and back: the native file is the same gradient, and the .pt written
    // from it loads in PyTorch with weights_only=True and decodes to the same values.
    let sets = [
        "--set".to_string(),
        "hparams.topk_compression=32".to_string(),
        "--set".to_string(),
        format!("hparams.quantization_bins={}", if quant { 256 } else { 0 }),
    ];
    let native = d.join("gradient-7-5-v1.safetensors");
    let back = d.join("back.pt");
    common::ok(
        gauntlet(d)
            .args(&sets)
            .arg("convert")
            .arg(d.join("gradient-7-5-v0.2.88.pt"))
            .arg(&native),
    );
    common::ok(
        gauntlet(d)
            .args(&sets)
            .arg("convert")
            .arg(&native)
            .arg(&back),
    );
    let again = decode_file(&std::fs::read(&native).unwrap(), &expect).unwrap();
    assert_eq!(
        again.meta.uid, 5,
        "the uid came from the reference file's name"
    );
    for (a, b) in g.params.iter().zip(&again.params) {
        assert!(a.idx.equal(&b.idx) && a.values().equal(&b.values()));
    }
    let spec = serde_json::json!({
        "shapes": layouts.iter().map(|l| (l.name.clone(), l.shape.clone())).collect::<Vec<_>>(),
        "file": back,
        "dense": d.join("back.f32"),
        "quant": quant,
        "window": 7,
        "global_step": 41,
    });
    run_reference(d, "decode", spec);
    let back_dense = std::fs::read(d.join("back.f32")).unwrap();
    let max_diff = dense
        .chunks(4)
        .zip(back_dense.chunks(4))
        .map(|(a, b)| {
            (f32::from_le_bytes(a.try_into().unwrap()) - f32::from_le_bytes(b.try_into().unwrap()))
                .abs()
        })
        .fold(0.0f32, f32::max);
    assert_eq!(back_dense.len(), dense.len());
    assert!(
        max_diff <= 1e-6,
        "the converted file decodes {max_diff} away in PyTorch"
    );

    // The wrong window is refused by name.
    let wrong = Expect {
        window: Some(8),
        ..expect
    };
    assert_eq!(
        decode_file(&bytes, &wrong).err().unwrap().code(),
        "wrong_window"
    );
}

#[test]
fn paper_era_quantised_files_decode_as_pytorch_does() {
    paper_era(true);
}

#[test]
fn paper_era_float_files_decode_as_pytorch_does() {
    paper_era(false);
}

#[test]
fn later_layout_files_decode_as_pytorch_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (codec, layouts) = tiny_with(CodecKind::ChunkTopk, 64, 4);
    let spec = serde_json::json!({
        "shapes": layouts.iter().map(|l| (l.name.clone(), l.shape.clone())).collect::<Vec<_>>(),
        "out": d.join("gradient-9-2-v2.1.3.pt"),
        "dense": d.join("dense.f32"),
        "seed": 3,
        "window": 9,
        "global_step": 12,
        "topk": 64,
    });
    run_reference(d, "later", spec);
    let bytes = std::fs::read(d.join("gradient-9-2-v2.1.3.pt")).unwrap();
    let expect = Expect {
        layouts: &layouts,
        codec: &codec.params,
        window: Some(9),
        uid: Some(2),
    };
    let g = decode_file(&bytes, &expect).unwrap_or_else(|r| panic!("{}", r.reason()));
    assert_eq!((g.meta.window, g.meta.global_step), (9, 12));
    let dense = std::fs::read(d.join("dense.f32")).unwrap();
    assert_decodes_like_pytorch(&codec, &layouts, &g, &dense);
}

/// Runs `cmd` to its end; returns its exit code and its own peak resident memory in MiB.
// The child is reaped by wait4, which also gives its own rusage, not by Child::wait.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command) -> (Option<i32>, String, f64) {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.unwrap(), &mut err).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 reaps this child (not waited for elsewhere) and fills the two structs.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, err, usage.ru_maxrss as f64 / 1024.0)
}

fn hostile(kind: &str, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let file = dir.join(format!("gradient-0-1-{kind}.pt"));
    let marker = dir.join(format!("marker-{kind}"));
    let out = Command::new(python())
        .arg(script())
        .args(["hostile", kind])
        .arg(&file)
        .arg(&marker)
        .output()
        .unwrap();
    assert!(out.status.success(), "{kind}: {}", stderr(&out));
    (file, marker)
}

#[test]
fn hostile_archives_are_refused_with_a_reason_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("gauntlet.yaml"), gauntlet::config::LOCAL_DEFAULTS).unwrap();
    let (codec, layouts) = tiny(256);
    let expect = Expect {
        layouts: &layouts,
        codec: &codec.params,
        window: None,
        uid: None,
    };
    let cases = [
        ("os_system", "forbidden_global", "posix.system"),
        ("builtins_eval", "forbidden_global", "__builtin__.eval"),
        ("arbitrary_class", "forbidden_global", "__main__.Arbitrary"),
        ("recursive", "bad_pickle", "nested deeper"),
        ("offset_past_data", "bad_storage", "reaches past storage"),
        (
            "huge_storage",
            "bad_storage",
            "declares 2684354560 elements",
        ),
        ("zip_bomb", "bad_archive", "compressed"),
    ];
    for (kind, code, words) in cases {
        let (file, marker) = hostile(kind, d);
        let bytes = std::fs::read(&file).unwrap();
        let reject = decode_file(&bytes, &expect)
            .err()
            .unwrap_or_else(|| panic!("{kind} was accepted"));
        assert_eq!(reject.code(), code, "{kind}: {}", reject.reason());
        assert!(
            reject.reason().contains(words),
            "{kind}: {}",
            reject.reason()
        );

        let (exit, err, peak) = run_measured(gauntlet(d).arg("inspect").arg(&file));
        assert_eq!(exit, Some(1), "{kind}: {err}");
        assert!(err.contains(code), "{kind}: {err}");
        assert!(peak < 1024.0, "{kind}: inspect peaked at {peak:.0} MiB");
        assert!(
            !marker.exists(),
            "{kind}: something ran and created {}",
            marker.display()
        );
    }

    // The same files do run code in a careless reader: the markers above could have appeared.
    for kind in ["os_system", "builtins_eval"] {
        let (file, marker) = hostile(kind, d);
        let _ = Command::new(python())
            .arg("-c")
            .arg("import sys, torch; torch.load(sys.argv[1], weights_only=False)")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            marker.exists(),
            "{kind}: torch.load(weights_only=False) did not run it"
        );
    }
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Standing {
    uid: u16,
    ordinal: f64,
    bma: f64,
    sync: f64,
    weight: f64,
}

#[derive(serde::Deserialize)]
struct Report {
    leaderboard: Vec<Standing>,
    windows: Vec<serde_json::Value>,
}

fn demo(dir: &Path, compat: &str) -> Report {
    let out = common::ok(gauntlet(dir).args([
        "demo",
        "--dir",
        "net",
        "--windows",
        "2",
        "--format",
        "json",
        "--set",
        &format!("network.compat={compat}"),
    ]));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_network_on_the_reference_files_rates_as_one_on_the_native_files() {
    let native = tempfile::tempdir().unwrap();
    let templar = tempfile::tempdir().unwrap();
    let a = demo(native.path(), "native");
    let b = demo(templar.path(), "templar");
    assert_eq!(
        a.leaderboard, b.leaderboard,
        "the same peers rated differently"
    );
    let held = |r: &Report| -> Vec<f64> {
        r.windows
            .iter()
            .map(|w| w["heldout_loss"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(held(&a), held(&b), "the outer steps differ");

    // Every upload and the validator's own slice went out in the reference's format and
    // keys, and PyTorch loads them with weights_only=True.
    let buckets = templar.path().join("net/buckets");
    let names: Vec<String> = std::fs::read_dir(&buckets)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".pt")), "{names:?}");
    assert!(
        names.contains(&"gradient-1-3-v1.pt".to_string()),
        "{names:?}"
    );
    // The reference names a sync slice by the window whose update it follows: peer 3's slice
    // checked in window 1 is `debug-0`, the validator's after window 1's step `debug-1`.
    assert!(names.contains(&"debug-0-3-v1.pt".to_string()), "{names:?}");
    let slices = templar.path().join("net/validator");
    assert!(slices.join("debug-1-0-v1.pt").exists());
    let out = Command::new(python())
        .arg("-c")
        .arg(
            "import sys, torch\n\
             g = torch.load(sys.argv[1], weights_only=True)\n\
             d = torch.load(sys.argv[2], weights_only=True)\n\
             assert g['state_dict']['metadata']['window'] == 1\n\
             assert any(k.endswith('_debug') for k in d['state_dict'])\n",
        )
        .arg(buckets.join("gradient-1-3-v1.pt"))
        .arg(slices.join("debug-1-0-v1.pt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
