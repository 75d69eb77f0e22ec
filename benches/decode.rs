//! Decode throughput of one peer's full pseudo-gradient for the `small` model (60M
//! parameters, paper-era codec: DCT, top-32, 8-bit values): gauntlet (read, check every
//! field, decode to dense updates) against the reference's decode in PyTorch
//! (benches/reference/decode_ref.py) on the same file, in one run.
//!
//!     cargo bench --bench decode [-- --threads N --reps R]

mod common;

use gauntlet::codec::Codec;
use gauntlet::config::HyperParams;
use gauntlet::model::LlamaConfig;
use gauntlet::wire::gradient::{decode_file, encode_file, Expect};
use gauntlet::wire::{GradientMeta, Receipt};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

fn main() {
    let threads = common::arg("--threads", 1);
    let reps = common::arg("--reps", 3);
    tch::set_num_threads(threads as i32);
    tch::manual_seed(0);
    let config = LlamaConfig::small();
    let params = HyperParams::default().codec_params();
    let codec = Codec::new(params.clone(), Device::Cpu).unwrap();
    let shapes = config.param_shapes();
    let layouts: Vec<_> = shapes.iter().map(|(n, s)| codec.layout(n, s)).collect();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gradient-0-1-v1.safetensors");
    let encoded: Vec<_> = layouts
        .iter()
        .map(|l| {
            codec.encode(
                l,
                &Tensor::randn(l.shape.as_slice(), (Kind::Float, Device::Cpu)),
            )
        })
        .collect();
    let meta = GradientMeta {
        window: 0,
        uid: 1,
        global_step: 0,
        codec: params.clone(),
        receipt: Receipt::default(),
    };
    std::fs::write(&file, encode_file(&meta, &layouts, &encoded).unwrap()).unwrap();
    let shapes_json = dir.path().join("shapes.json");
    std::fs::write(&shapes_json, serde_json::to_string(&shapes).unwrap()).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();

    let expect = Expect {
        layouts: &layouts,
        codec: &params,
        window: Some(0),
        uid: Some(1),
    };
    let mut best = f64::INFINITY;
    let mut sums = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let bytes = std::fs::read(&file).unwrap();
        let g = decode_file(&bytes, &expect).unwrap();
        let dense: Vec<Tensor> = layouts
            .iter()
            .zip(&g.params)
            .map(|(l, e)| codec.decode(l, e))
            .collect();
        best = best.min(t0.elapsed().as_secs_f64());
        sums = dense
            .iter()
            .map(|d| {
                (
                    d.abs().sum(Kind::Double).double_value(&[]),
                    d.pow_tensor_scalar(2).sum(Kind::Double).double_value(&[]),
                )
            })
            .collect();
    }

    let python = common::python();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/reference/decode_ref.py"
    );
    let reference = common::run_json(
        std::process::Command::new(&python)
            .args([
                script,
                file.to_str().unwrap(),
                shapes_json.to_str().unwrap(),
                &reps.to_string(),
                &threads.to_string(),
            ])
            .env("OMP_NUM_THREADS", threads.to_string()),
        "the PyTorch reference (scripts/setup installs it)",
    );
    let ref_secs = reference["seconds"].as_f64().unwrap();
    let mut worst = 0f64;
    for (i, (a, b)) in sums.iter().enumerate() {
        let (ra, rb) = (
            reference["sums"][i][0].as_f64().unwrap(),
            reference["sums"][i][1].as_f64().unwrap(),
        );
        worst = worst
            .max(((a - ra) / ra.abs().max(1e-30)).abs())
            .max(((b - rb) / rb.abs().max(1e-30)).abs());
    }
    let params_total = config.param_count();
    println!("decode of one `small` peer file ({params_total} parameters, {size} bytes), {threads} thread(s), best of {reps}:");
    println!(
        "  gauntlet (read + check + sparse decode)  {:8.1} ms   {:6.1} M params/s",
        best * 1e3,
        params_total as f64 / best / 1e6
    );
    println!(
        "  reference PyTorch (read + decompress + einsum IDCT) {:8.1} ms   {:6.1} M params/s",
        ref_secs * 1e3,
        params_total as f64 / ref_secs / 1e6
    );
    println!(
        "  ratio {:.2}x; largest relative difference of per-parameter |x|₁ and |x|₂²: {worst:.2e}",
        ref_secs / best
    );
}
