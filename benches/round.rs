//! A validator's round in one process (`gauntlet run`'s path) on the `small` model (60M
//! parameters) with 16 honest peers on CPU: each stage's time and the gradient decodes per
//! file, with every stage decoding for itself (as separate processes of a shell pipeline do,
//! and as `run` did before the decode cache) and with the cache; and evaluate's time per peer
//! beside its limit in exact arithmetic: the forward passes it must run (its own pages before
//! and after, the random pages after) plus one decode. All in one run.
//!
//!     cargo bench --bench round [-- --peers 16 --threads 1]

mod common;

use gauntlet::chain::Source;
use gauntlet::config::{LoadedConfig, LOCAL_DEFAULTS};
use gauntlet::demo::Net;
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::model::{self, Model};
use gauntlet::peer::Behaviour;
use gauntlet::round::{self, Stage};
use gauntlet::stage::Context;
use gauntlet::wire::{cache, gradient};
use std::sync::atomic::Ordering;
use std::time::Instant;

fn main() {
    let peers = common::arg("--peers", 16) as u16;
    let threads = common::arg("--threads", 1);
    tch::set_num_threads(threads as i32);
    let dir = tempfile::tempdir().unwrap();
    // Sixteen peers of the small model train one after another for minutes: the put window is
    // widened so that none is late and every file goes through every stage.
    let sets = [
        "model.preset=small".to_string(),
        "runtime.device=cpu".into(),
        "hparams.time_window_delta_seconds=3600".into(),
    ];
    let cfg = LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &sets)
        .unwrap()
        .config;
    let lineup = (1..=peers).map(|u| (u, Behaviour::Honest)).collect();
    let mut net = Net::with_peers(&cfg, dir.path(), lineup).unwrap();
    let t = Instant::now();
    net.upload(0).unwrap();
    eprintln!(
        "{peers} peers trained and uploaded in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let stages = [
        Stage::Peers,
        Stage::Fetch { stats: None },
        Stage::Filter,
        Stage::Dedupe,
        Stage::Evaluate {
            device: None,
            shard: None,
        },
        Stage::Rate { force: false },
        Stage::Aggregate {
            sync_store: None,
            uid: 0,
        },
    ];
    let mut results = Vec::new();
    for (pass, cached) in [("every stage decodes", false), ("decoded once", true)] {
        cache::bypass(!cached);
        // Each pass on its own state and checkpoint folder, so both apply the window.
        let ckpts = dir.path().join(format!("ckpts-{cached}"));
        std::fs::create_dir_all(&ckpts).unwrap();
        let first = gauntlet::model::checkpoint::window_file(0);
        std::fs::copy(net.checkpoints().join(&first), ckpts.join(&first)).unwrap();
        let mut ctx = Context::new(&net.cfg, Source::File(net.cfg.network.file.clone()));
        ctx.checkpoints = Some(Checkpoints::Folder(ckpts));
        ctx.state = dir.path().join(format!("state-{cached}.db"));
        let before = cache::DECODES.load(Ordering::Relaxed);
        let outcome = round::run(&ctx, 0, &stages, None, &|_| {}).unwrap();
        let decodes = cache::DECODES.load(Ordering::Relaxed) - before;
        let times: Vec<(String, f64)> = outcome
            .times
            .iter()
            .map(|(name, t)| (name.to_string(), t.as_secs_f64()))
            .collect();
        results.push((pass, times, decodes, outcome.records));
    }
    cache::bypass(false);

    println!("\nround of {peers} peers, small model, CPU, {threads} thread(s)");
    print!("{:<22}", "stage");
    for (pass, ..) in &results {
        print!(" {pass:>20}");
    }
    println!();
    for (i, (name, _)) in results[0].1.iter().enumerate() {
        print!("{name:<22}");
        for (_, times, ..) in &results {
            print!(" {:>18.2} s", times[i].1);
        }
        println!();
    }
    let files = results[1].3.iter().filter(|r| r.object.is_some()).count();
    let evaluated = results[1].3.iter().filter(|r| r.eval.is_some()).count();
    print!("{:<22}", "decodes per file");
    for (_, _, decodes, _) in &results {
        print!(" {:>20.2}", *decodes as f64 / files.max(1) as f64);
    }
    println!("  ({files} files fetched, {evaluated} evaluated)");

    // Evaluate's limit: the forward passes it runs for one peer, plus one decode.
    let records = &results[1].3;
    let r = records
        .iter()
        .find(|r| r.eval.is_some())
        .expect("an evaluated peer");
    let e = r.eval.as_ref().unwrap();
    let count = |k: &str| e.extra.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
    let (own_n, rand_n) = (count("own_batches"), count("rand_batches"));
    let (config, device, dtype) = model::from_settings(&net.cfg).unwrap();
    let (_, ckpt) = Checkpoints::Folder(net.checkpoints()).resolve(0).unwrap();
    let m = Model::load(&config, device, dtype, &ckpt).unwrap();
    let evaluator = gauntlet::evaluate::Evaluator::new(
        &net.cfg,
        &Checkpoints::Folder(net.checkpoints()),
        0,
        &(1..=peers).collect::<Vec<_>>(),
        device,
    )
    .unwrap();
    let own = evaluator.own_batches(r.uid).unwrap();
    let rand = evaluator.rand_batches();
    assert_eq!((own.len(), rand.len()), (own_n, rand_n));
    let t = Instant::now();
    let reps = 3;
    for _ in 0..reps {
        m.mean_loss(&own, None);
        m.mean_loss(&own, None);
        m.mean_loss(rand, None);
    }
    let forward = t.elapsed().as_secs_f64() / reps as f64;
    let (codec, layouts) = gauntlet::wire::layouts(&net.cfg, device).unwrap();
    let path = r.object.as_ref().and_then(|o| o.path.clone()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let expect = gradient::Expect {
        layouts: &layouts,
        codec: &codec.params,
        window: Some(0),
        uid: Some(r.uid),
    };
    let t = Instant::now();
    gradient::decode_file(&bytes, &expect).unwrap();
    let decode = t.elapsed().as_secs_f64();
    let evaluate = results[1]
        .1
        .iter()
        .find(|(n, _)| n == "evaluate")
        .map(|(_, s)| *s)
        .unwrap();
    let per_peer = evaluate / evaluated.max(1) as f64;
    let limit = forward + decode;
    println!(
        "evaluate per peer {per_peer:.3} s; limit {limit:.3} s ({own_n}+{own_n} own and {rand_n} random batches forward {forward:.3} s, one decode {decode:.3} s); ratio {:.2}",
        per_peer / limit
    );
}
