//! The incentive table: every strategy a rational peer might run, against honest peers, on
//! the demo's local network (the `tiny` model, the embedded corpus, the demo's settings),
//! for several windows and seeds. Prints, per strategy, its final weight over the honest
//! peers' mean weight (mean, min and max over the seeds), the honest peers' share of all
//! weight, and how often an honest peer was flagged as a copy.
//!
//!     cargo bench --bench incentives [-- --windows 12 --seeds 3 --set KEY=VALUE ...]
//!
//! A strategy that does less than the honest work must not earn more than the honest mean.
//! The evaluation seed stays the public default (0), so that predict-random knows the
//! validator's random pages exactly: its strongest form.

mod common;

use gauntlet::config::{Config, LoadedConfig, LOCAL_DEFAULTS};
use gauntlet::data::{Dataset, PageAssigner};
use gauntlet::dedupe::{Fingerprint, Similarity};
use gauntlet::demo::Net;
use gauntlet::peer::Behaviour;
use gauntlet::record::{Record, Status};
use gauntlet::state::State;
use gauntlet::wire::gradient;
use std::collections::BTreeMap;

/// The line-up: four honest peers (uids 1–4), then one of each strategy.
fn lineup() -> Vec<(u16, Behaviour)> {
    let mut peers: Vec<(u16, Behaviour)> = (1..=4).map(|u| (u, Behaviour::Honest)).collect();
    let all: Vec<u16> = (1..=15).collect();
    peers.extend([
        (
            5,
            Behaviour::CopyHint {
                of: 1,
                rows: 1,
                scale: 1.0,
                orthogonal: true,
            },
        ),
        (
            6,
            Behaviour::Copycat {
                of: vec![1, 2, 3],
                perturb: 0.0,
            },
        ),
        (
            7,
            Behaviour::Shuffle {
                of: 2,
                fraction: 0.5,
            },
        ),
        (8, Behaviour::Relabel { of: 3 }),
        (
            9,
            Behaviour::Partial {
                rows: 1,
                feedback: true,
            },
        ),
        (
            10,
            Behaviour::Partial {
                rows: 1,
                feedback: false,
            },
        ),
        (11, Behaviour::Feedback),
        (12, Behaviour::PredictRandom { uids: all }),
        (13, Behaviour::FreeRider),
        (
            15,
            Behaviour::Copycat {
                of: vec![4],
                perturb: 0.0,
            },
        ),
        (
            14,
            Behaviour::CopyHint {
                of: 4,
                rows: 1,
                scale: 3.0,
                orthogonal: true,
            },
        ),
    ]);
    peers
}

fn label(b: &Behaviour) -> String {
    match b {
        Behaviour::CopyHint {
            rows,
            scale,
            orthogonal,
            ..
        } => format!(
            "copy-hint ({rows} row{}, ×{scale}{})",
            if *rows == 1 { "" } else { "s" },
            if *orthogonal { ", ⊥" } else { "" }
        ),
        Behaviour::Copycat { of, .. } if of.len() > 1 => format!("blend of {}", of.len()),
        Behaviour::Copycat { .. } => "copy".into(),
        Behaviour::Shuffle { fraction, .. } => format!("shuffle ({:.0}% moved)", fraction * 100.0),
        Behaviour::Partial { rows, feedback } => format!(
            "partial ({rows} row{}, {})",
            if *rows == 1 { "" } else { "s" },
            if *feedback { "with EF" } else { "no EF" }
        ),
        other => other.name().to_string(),
    }
}

fn config(seed: u64, sets: &[String]) -> Config {
    let mut all = vec![
        "runtime.device=cpu".to_string(),
        format!("model.init_seed={seed}"),
        format!("data.assignment_key=incentives-{seed}"),
    ];
    all.extend(sets.iter().cloned());
    LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &all)
        .unwrap()
        .config
}

struct Run {
    /// Final weight per uid.
    weights: BTreeMap<u16, f64>,
    /// Windows in which an honest peer was marked a duplicate.
    honest_flagged: usize,
    /// Per uid: windows marked duplicate, windows evaluated, windows with indicator +1.
    verdicts: BTreeMap<u16, (usize, usize, usize)>,
    /// (overlap, cosine) of every pair of honest uploads, and of each other upload with
    /// the honest upload most like it.
    honest_pairs: Vec<Similarity>,
    closest: BTreeMap<u16, Vec<Similarity>>,
}

/// The fingerprints of a window's uploads that were fetched.
fn fingerprints(cfg: &Config, records: &[Record]) -> BTreeMap<u16, Fingerprint> {
    let (codec, layouts) = gauntlet::wire::layouts(cfg, tch::Device::Cpu).unwrap();
    let mut out = BTreeMap::new();
    for r in records {
        let Some(path) = r.object.as_ref().and_then(|o| o.path.clone()) else {
            continue;
        };
        let expect = gradient::Expect {
            layouts: &layouts,
            codec: &codec.params,
            window: None,
            uid: None,
        };
        if let Ok(g) = gradient::decode_file(&std::fs::read(path).unwrap(), &expect) {
            out.insert(r.uid, Fingerprint::new(&layouts, &g.params));
        }
    }
    out
}

fn run(seed: u64, windows: u64, sets: &[String], peers: &[(u16, Behaviour)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(seed, sets);
    let mut net = Net::with_peers(&cfg, dir.path(), peers.to_vec()).unwrap();
    let data = Dataset::configured(&net.cfg).unwrap();
    let assigner = PageAssigner::configured(&net.cfg, &data).unwrap();
    let mut honest_flagged = 0;
    let mut verdicts: BTreeMap<u16, (usize, usize, usize)> = BTreeMap::new();
    let (mut honest_pairs, mut closest) = (Vec::new(), BTreeMap::<u16, Vec<Similarity>>::new());
    for w in 0..windows {
        net.upload(w).unwrap();
        let outcome = net.validate(w, &|_| {}).unwrap();
        honest_flagged += outcome
            .records
            .iter()
            .filter(|r| r.status == Status::Duplicate && r.uid <= 4)
            .count();
        for r in &outcome.records {
            if r.uid <= 4 && r.status == Status::Duplicate {
                eprintln!(
                    "  seed {seed} window {w}: honest uid {} flagged: {:?}",
                    r.uid, r.reason
                );
            }
            let v = verdicts.entry(r.uid).or_default();
            v.0 += (r.status == Status::Duplicate) as usize;
            if let Some(e) = &r.eval {
                v.1 += 1;
                v.2 += (e.indicator > 0) as usize;
            }
        }
        let prints = fingerprints(&net.cfg, &outcome.records);
        let pages = |uid: u16| {
            let mut p = assigner.assigned(uid, w);
            p.sort_unstable();
            p
        };
        for (&a, fa) in &prints {
            let honest: Vec<Similarity> = prints
                .iter()
                .filter(|(&b, _)| b <= 4 && b != a)
                .map(|(_, fb)| fa.compare(fb))
                .collect();
            if a <= 4 {
                // Pairs assigned the same pages are alike by design (and not judged).
                honest_pairs.extend(
                    prints
                        .iter()
                        .filter(|(&b, _)| b <= 4 && b > a && pages(a) != pages(b))
                        .map(|(_, fb)| fa.compare(fb)),
                );
            } else if let Some(best) = honest
                .into_iter()
                .max_by(|x, y| x.cosine.total_cmp(&y.cosine))
            {
                closest.entry(a).or_default().push(best);
            }
        }
        eprintln!("  seed {seed} window {w} done");
    }
    let state = State::open(&net.cfg.state.path, std::time::Duration::from_secs(5)).unwrap();
    let (_, weights) = state.read().weights(None).unwrap();
    Run {
        weights: weights.into_iter().collect(),
        honest_flagged,
        verdicts,
        honest_pairs,
        closest,
    }
}

fn main() {
    let windows = common::arg("--windows", 12) as u64;
    let seeds = common::arg("--seeds", 3) as u64;
    let args: Vec<String> = std::env::args().collect();
    let sets: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--set")
        .map(|w| w[1].clone())
        .collect();
    tch::set_num_threads(1);
    let peers = lineup();
    let runs: Vec<Run> = (1..=seeds)
        .map(|s| run(s, windows, &sets, &peers))
        .collect();
    let _ = LOCAL_DEFAULTS;

    println!("\nincentive table: tiny model, {windows} windows, {seeds} seeds; weight over the honest mean");
    println!(
        "{:<32} {:>6} {:>6} {:>6}  {:>9} {:>9}  {:>14} {:>14}",
        "strategy", "mean", "min", "max", "copy", "own>rand", "overlap", "cosine"
    );
    let honest_mean = |r: &Run| {
        (1..=4u16)
            .map(|u| r.weights.get(&u).copied().unwrap_or(0.0))
            .sum::<f64>()
            / 4.0
    };
    for (uid, b) in &peers {
        let ratios: Vec<f64> = runs
            .iter()
            .map(|r| {
                let h = honest_mean(r);
                let w = r.weights.get(uid).copied().unwrap_or(0.0);
                if h > 0.0 {
                    w / h
                } else if w > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let name = if *b == Behaviour::Honest {
            format!("honest (uid {uid})")
        } else {
            label(b)
        };
        let (dup, evaluated, plus) = runs.iter().fold((0, 0, 0), |acc, r| {
            let v = r.verdicts.get(uid).copied().unwrap_or_default();
            (acc.0 + v.0, acc.1 + v.1, acc.2 + v.2)
        });
        let sims: Vec<Similarity> = if *uid <= 4 {
            Vec::new()
        } else {
            runs.iter()
                .flat_map(|r| r.closest.get(uid).cloned().unwrap_or_default())
                .collect()
        };
        let span = |f: fn(&Similarity) -> f64| {
            if sims.is_empty() {
                "-".to_string()
            } else {
                let lo = sims.iter().map(f).fold(f64::INFINITY, f64::min);
                let hi = sims.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
                format!("{lo:.2}–{hi:.2}")
            }
        };
        println!(
            "{name:<32} {mean:>6.2} {min:>6.2} {max:>6.2}  {:>9} {:>9}  {:>14} {:>14}",
            format!("{dup}/{}", runs.len() * windows as usize),
            format!("{plus}/{evaluated}"),
            span(|s| s.overlap),
            span(|s| s.cosine)
        );
    }
    let shares: Vec<f64> = runs
        .iter()
        .map(|r| {
            let total: f64 = r.weights.values().sum();
            4.0 * honest_mean(r) / total.max(f64::MIN_POSITIVE)
        })
        .collect();
    println!(
        "honest share of all weight: {}",
        shares
            .iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "honest peers flagged as copies: {} (peer-windows, all seeds)",
        runs.iter().map(|r| r.honest_flagged).sum::<usize>()
    );
    let pairs: Vec<Similarity> = runs.iter().flat_map(|r| r.honest_pairs.clone()).collect();
    let quantile = |f: fn(&Similarity) -> f64, q: f64| {
        let mut v: Vec<f64> = pairs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(((v.len().saturating_sub(1)) as f64 * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "honest pairs on different pages ({}): overlap median {:.2}, 99th percentile {:.2}, max {:.2}; cosine median {:.2}, 99th percentile {:.2}, max {:.2} (a copy's gate: cosine {})",
        pairs.len(),
        quantile(|s| s.overlap, 0.5),
        quantile(|s| s.overlap, 0.99),
        quantile(|s| s.overlap, 1.0),
        quantile(|s| s.cosine, 0.5),
        quantile(|s| s.cosine, 0.99),
        quantile(|s| s.cosine, 1.0),
        config(1, &sets).hparams.dedupe_min_cosine
    );
}
