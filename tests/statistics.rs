//! The reference's statistics against torch and numpy themselves, asked at test time: the
//! median (`torch.median`), the quartiles and interquartile mean of the sync score
//! (`torch.quantile`), the clip-median factor (`torch.clamp(median / (norm + 1e-8), max=1)` in
//! f32), the evaluation bins (`numpy.array_split`), and round-half-to-even in the value
//! quantiser (`torch.round`) and in the weights sent to the chain (Python's `round`). Every
//! vector set has even and odd counts, and ties.

mod common;

use gauntlet::chain::scale::normalize_weights;
use gauntlet::codec::QuantTable;
use gauntlet::score::stats;
use gauntlet::score::sync::{aggregate, SyncMethod};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use tch::Tensor;

/// Runs `script` under the torch venv's Python with `input` (JSON) on stdin; returns the JSON
/// it prints.
fn torch(script: &str, input: &Value) -> Value {
    let mut child = Command::new(common::python())
        .args(["-c", script])
        .env("OMP_NUM_THREADS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}",
        common::stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("python's JSON")
}

/// A seeded xorshift stream of vectors of every length 1..=max_len (several per length),
/// some rounded to a coarse grid so that values tie.
fn vectors(seed: u64, max_len: usize) -> Vec<Vec<f64>> {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    for len in 1..=max_len {
        for k in 0..4 {
            let v: Vec<f64> = (0..len)
                .map(|_| {
                    let x = next() * 10.0;
                    match k {
                        0 => x.round(),
                        1 => (x * 4.0).round() / 4.0,
                        // f32-exact, as the clip factor's norms are
                        2 => x as f32 as f64,
                        _ => x * x * x,
                    }
                })
                .collect();
            out.push(v);
        }
    }
    out
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn median_quartiles_and_iqm_match_torch() {
    let vs = vectors(0x5eed_0017, 13);
    let got = torch(
        r#"
import json, sys, torch
out = []
for v in json.load(sys.stdin):
    x = torch.tensor(v, dtype=torch.float64)
    q1, q3 = torch.quantile(x, 0.25), torch.quantile(x, 0.75)
    kept = x[(x >= q1) & (x <= q3)]
    out.append({
        "median": torch.median(x).item(),
        "median32": torch.median(x.float()).item(),
        "q1": q1.item(), "q3": q3.item(),
        "iqm": kept.mean().item() if kept.numel() else None,
        "mean": x.mean().item(),
    })
print(json.dumps(out))
"#,
        &json!(vs),
    );
    let mut even_iqms = 0;
    for (v, t) in vs.iter().zip(got.as_array().unwrap()) {
        let what = format!("{v:?}: torch says {t}");
        assert_eq!(stats::median(v), t["median"].as_f64().unwrap(), "{what}");
        assert_eq!(
            aggregate(&mut v.clone(), SyncMethod::Median),
            t["median"].as_f64().unwrap(),
            "{what}"
        );
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        assert_eq!(
            stats::median(&v32) as f64,
            t["median32"].as_f64().unwrap(),
            "{what}"
        );
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(
            stats::quantile_sorted(&sorted, 0.25),
            t["q1"].as_f64().unwrap(),
            "{what}"
        );
        assert_eq!(
            stats::quantile_sorted(&sorted, 0.75),
            t["q3"].as_f64().unwrap(),
            "{what}"
        );
        let ours = aggregate(&mut v.clone(), SyncMethod::Iqm);
        match t["iqm"].as_f64() {
            Some(iqm) => {
                // torch sums in another order: the last bit may differ.
                assert!((ours - iqm).abs() <= 1e-12 * iqm.abs().max(1.0), "{what}");
                even_iqms += usize::from(v.len() % 2 == 0);
            }
            None => {
                // Only two distinct values leave torch's mask empty; here their mean.
                assert_eq!(v.len(), 2, "{what}");
                assert_eq!(ours, t["mean"].as_f64().unwrap(), "{what}");
            }
        }
    }
    assert!(even_iqms > 10, "even counts were compared");
}

#[test]
fn clip_factors_match_torch_in_f32_bit_for_bit() {
    let mut vs: Vec<Vec<f64>> = vectors(0xc11b, 7)
        .into_iter()
        .map(|v| v.iter().map(|&x| (x * 1e-3) as f32 as f64).collect())
        .collect();
    // Tiny norms, where the 1e-8 shows; a zero norm; ties.
    vs.push(vec![1e-8, 3e-8, 2e-8, 5e-9]);
    vs.push(vec![0.0, 1e-7, 2e-7]);
    vs.push(vec![0.25, 0.25, 0.5, 0.5]);
    let vs: Vec<Vec<f64>> = vs
        .into_iter()
        .map(|v| v.iter().map(|&x| x as f32 as f64).collect())
        .collect();
    let got = torch(
        r#"
import json, sys, torch
out = []
for v in json.load(sys.stdin):
    n = torch.tensor(v, dtype=torch.float32)
    m = torch.median(n)
    out.append([torch.clamp(m / (n[i] + 1e-8), max=1).item() for i in range(len(v))])
print(json.dumps(out))
"#,
        &json!(vs),
    );
    for (v, t) in vs.iter().zip(got.as_array().unwrap()) {
        let norms: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        let ours: Vec<f64> = stats::clip_factors(&norms)
            .into_iter()
            .map(f64::from)
            .collect();
        assert_eq!(ours, floats(t), "norms {v:?}");
    }
}

#[test]
fn bins_match_numpy_array_split() {
    let cases: Vec<(usize, usize)> = (0..=60)
        .flat_map(|n| (1..=11).map(move |b| (n, b)))
        .chain([(42, 10), (100, 5), (103, 5), (250, 10), (251, 10)])
        .collect();
    let got = torch(
        r#"
import json, sys, numpy
out = []
for n, b in json.load(sys.stdin):
    parts = numpy.array_split(numpy.arange(n), b)
    starts = [0]
    for p in parts:
        starts.append(starts[-1] + len(p))
    out.append([[starts[i], starts[i + 1]] for i in range(b)])
print(json.dumps(out))
"#,
        &json!(cases),
    );
    for (&(n, b), t) in cases.iter().zip(got.as_array().unwrap()) {
        let numpy: Vec<(usize, usize)> = t
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_u64().unwrap() as usize,
                    r[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let ours: Vec<(usize, usize)> = (0..b).map(|i| stats::split_bounds(n, b, i)).collect();
        assert_eq!(ours, numpy, "n = {n}, B = {b}");
        // select's bins (uids_per_window 1): numpy's once there are at least B candidates,
        // else one bin of all.
        let select = gauntlet::select::bins(n, b, 1);
        if b > 1 && n >= b {
            assert_eq!(select, numpy, "n = {n}, B = {b}");
        } else {
            assert_eq!(select, vec![(0, n)], "n = {n}, B = {b}");
        }
    }
}

#[test]
fn quantiser_rounds_half_to_even_as_torch_round() {
    // Mean 0 and std 4 exactly, so with 4 bins over ±3σ the bin width is 6 and ±3 fall on
    // exact halves: 3/6 + 2 = 2.5 and −3/6 + 2 = 1.5, both of which round to 2 (half away
    // from zero would give 3 for the first).
    let v = [3.0f32, -3.0, 3.0, -3.0, 6.0, -6.0, 3.0, -3.0, 3.0, -3.0];
    let (codes, table) = QuantTable::quantize(&Tensor::from_slice(&v), 4, 6.0);
    assert_eq!(table.scale, 6.0);
    assert_eq!(table.shift, 0.0);
    let ours: Vec<f64> = Vec::<u8>::try_from(&codes)
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    assert_eq!(ours, vec![2., 2., 2., 2., 3., 1., 2., 2., 2., 2.]);
    let got = torch(
        r#"
import json, sys, torch
x = torch.tensor(json.load(sys.stdin), dtype=torch.float32)
shift = x.mean()
scale = 6 * x.std() / 4
print(json.dumps({
    "codes": ((x - shift) / scale + 2).round().clamp(0, 3).tolist(),
    "halves": torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5])).tolist(),
}))
"#,
        &json!(v),
    );
    assert_eq!(ours, floats(&got["codes"]));
    // tch's round is torch.round: half to even.
    let halves = Tensor::from_slice(&[0.5f32, 1.5, 2.5, -0.5, -2.5]).round();
    let halves: Vec<f64> = Vec::<f32>::try_from(&halves)
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    assert_eq!(halves, floats(&got["halves"]));
}

#[test]
fn chain_weights_round_half_to_even_as_python_round() {
    // r·65535 is exactly k + 0.5 for these r (found with Python: (k + 0.5) / 65535 * 65535
    // == k + 0.5), with k even and odd.
    let ks = [0u32, 1, 2, 3, 4, 100, 101, 32766, 65532];
    let rs: Vec<f64> = ks.iter().map(|&k| (k as f64 + 0.5) / 65535.0).collect();
    let got = torch(
        r#"
import json, sys
rs = json.load(sys.stdin)
print(json.dumps([[r * 65535 == int(r * 65535) + 0.5, round(r / 1.0 * 65535)] for r in rs]))
"#,
        &json!(rs),
    );
    let mut ties = 0;
    for ((k, r), t) in ks.iter().zip(&rs).zip(got.as_array().unwrap()) {
        let python = t[1].as_u64().unwrap();
        let (uids, values) = normalize_weights(&[(0, 1.0), (1, *r)]);
        if python == 0 {
            // 0.5 rounds to 0: the chain gets no weight for uid 1.
            assert_eq!(uids, vec![0], "k = {k}");
        } else {
            assert_eq!(values, vec![65535, python as u16], "k = {k}");
        }
        if t[0].as_bool().unwrap() {
            assert_eq!(python % 2, 0, "a tie goes to the even neighbour (k = {k})");
            ties += 1;
        }
    }
    assert_eq!(ties, ks.len(), "every case is a tie");
}
