//! evaluate: the mechanism's signal on real peers' updates, reproducibility, sharding.

mod common;
use gauntlet::config::{Config, LOCAL_DEFAULTS};
use gauntlet::evaluate::{self, Shard};
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::record::{ObjectInfo, Record, Status};
use gauntlet::store::LocalStore;
use gauntlet::wire;
use std::collections::BTreeMap;
use tch::Device;

struct Net {
    dir: tempfile::TempDir,
    cfg: Config,
}

fn net() -> Net {
    let (dir, cfg) = common::tiny_net();
    Net { dir, cfg }
}

const BEHAVIOURS: [(u16, &str); 6] = [
    (1, "honest"),
    (2, "honest"),
    (3, "free-rider"),
    (4, "copycat"),
    (5, "noise"),
    (6, "zero"),
];

fn behaviour(name: &str) -> Behaviour {
    match name {
        "honest" => Behaviour::Honest,
        "free-rider" => Behaviour::FreeRider,
        "copycat" => Behaviour::Copycat {
            of: vec![1],
            perturb: 0.0,
        },
        "noise" => Behaviour::Noise,
        _ => Behaviour::Zero,
    }
}

/// Every peer's upload for `windows`, as records that fetch and filter would pass on.
fn uploads(n: &Net, windows: std::ops::Range<u64>) -> Vec<Record> {
    let d = n.dir.path();
    let store = LocalStore::open(d.join("store")).unwrap();
    let mut records = Vec::new();
    for w in windows {
        for (uid, b) in BEHAVIOURS {
            let job = Job {
                uid,
                window: w,
                behaviour: behaviour(b),
                checkpoints: Checkpoints::Folder(d.join("ckpts")),
                state_dir: d.join("state"),
                max_batches: None,
            };
            peer::run(&n.cfg, &job, &store).unwrap();
            let mut r = Record::new(w, uid);
            let key = wire::gradient_key(w, uid, "1");
            r.object = Some(ObjectInfo {
                path: Some(d.join("store").join(&key).display().to_string()),
                key,
                ..Default::default()
            });
            records.push(r);
        }
    }
    records
}

fn evaluate_all(n: &Net, records: Vec<Record>, shard: Option<Shard>) -> Vec<Record> {
    evaluate::run(
        &n.cfg,
        records,
        &Checkpoints::Folder(n.dir.path().join("ckpts")),
        Device::Cpu,
        shard,
        None,
        &|| {},
    )
    .unwrap()
}

#[test]
fn honest_peers_score_and_pass_the_indicator_where_others_do_not() {
    let n = net();
    let out = evaluate_all(&n, uploads(&n, 1..9), None);
    let mut by: BTreeMap<&str, Vec<(f64, i8)>> = BTreeMap::new();
    for r in &out {
        assert_eq!(r.status, Status::Ok, "{:?}", r.reason);
        let e = r.eval.as_ref().unwrap();
        assert!(e.own_before.is_finite() && e.rand_after.is_finite());
        let name = BEHAVIOURS.iter().find(|(u, _)| *u == r.uid).unwrap().1;
        by.entry(name).or_default().push((e.score, e.indicator));
    }
    let plus = |name: &str| by[name].iter().filter(|(_, i)| *i > 0).count();
    let scores = |name: &str| by[name].iter().map(|(s, _)| *s).collect::<Vec<_>>();
    for (name, v) in &by {
        eprintln!(
            "{name:>10}: +1 in {}/{}, scores {:?}",
            plus(name),
            v.len(),
            scores(name)
                .iter()
                .map(|s| format!("{s:.2e}"))
                .collect::<Vec<_>>()
        );
    }
    // Honest peers lower the loss on random pages every window, and mostly more on their own.
    assert!(scores("honest").iter().all(|&s| s > 0.0));
    assert!(plus("honest") >= 12, "honest +1 in {}/16", plus("honest"));
    // Free-riders and copycats show no own-page advantage: −1 about as often as +1.
    for name in ["free-rider", "copycat"] {
        assert!(
            (2..=6).contains(&plus(name)),
            "{name} +1 in {}/8",
            plus(name)
        );
    }
    // A zero update changes nothing; noise is a random direction: its mean score is not
    // positive, and every one of its scores is tiny next to any honest peer's.
    assert!(scores("zero").iter().all(|&s| s == 0.0));
    let noise = scores("noise");
    assert!(
        noise.iter().sum::<f64>() <= 0.0,
        "noise mean score is positive: {noise:?}"
    );
    // Honest peers come in pairs per window (uids 1 and 2): compare within each window.
    let honest = scores("honest");
    for (w, s) in noise.iter().enumerate() {
        assert!(
            s.abs() < 0.05 * honest[2 * w].min(honest[2 * w + 1]),
            "window {w}: noise {s:e} vs honest {:e}",
            honest[2 * w]
        );
    }
}

#[test]
fn a_rerun_is_bit_identical_and_shards_concatenate_to_the_unsharded_output() {
    let n = net();
    let mut records = uploads(&n, 2..4);
    // A record that failed earlier passes through untouched, in its place.
    records[3].fail(Status::Late, "uploaded late");
    let text = |rs: &[Record]| {
        rs.iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect::<String>()
    };
    let once = text(&evaluate_all(&n, records.clone(), None));
    let twice = text(&evaluate_all(&n, records.clone(), None));
    assert!(once == twice, "a re-run changed the records");
    for count in [2, 3, 5] {
        let mut joined = String::new();
        for index in 0..count {
            joined += &text(&evaluate_all(
                &n,
                records.clone(),
                Some(Shard { index, count }),
            ));
        }
        assert!(
            joined == once,
            "{count} shards differ from the unsharded run"
        );
    }
    let late: Record = serde_json::from_str(once.lines().nth(3).unwrap()).unwrap();
    assert_eq!((late.status, late.eval), (Status::Late, None));
}

#[test]
fn shards_are_balanced_contiguous_blocks() {
    let mut records: Vec<Record> = (0..10).map(|u| Record::new(1, u)).collect();
    for r in &mut records {
        r.object = Some(ObjectInfo::default());
    }
    records[0].fail(Status::Missing, "x");
    let shards: Vec<Vec<bool>> = (0..3)
        .map(|index| Shard { index, count: 3 }.select(&records))
        .collect();
    for i in 0..10 {
        assert_eq!(
            shards.iter().filter(|s| s[i]).count(),
            1,
            "record {i} belongs to exactly one shard"
        );
    }
    let sizes: Vec<usize> = shards
        .iter()
        .map(|s| {
            s.iter()
                .enumerate()
                .filter(|(i, b)| **b && records[*i].status.is_ok())
                .count()
        })
        .collect();
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    assert!(
        "3/3".parse::<Shard>().is_err()
            && "1-2".parse::<Shard>().is_err()
            && "0/0".parse::<Shard>().is_err()
    );
}

#[test]
fn the_later_variant_clips_to_the_median_norm_without_sign() {
    let mut n = net();
    n.cfg.hparams.eval_variant = evaluate::EvalVariant::ClipMedian;
    n.cfg.hparams.outer_learning_rate = 0.4;
    let out = evaluate_all(&n, uploads(&n, 3..4), None);
    for r in &out {
        let e = r.eval.as_ref().unwrap();
        assert!(e.score.is_finite());
        assert!((e.extra["step"].as_f64().unwrap() - 0.2 * 0.4).abs() < 1e-12);
        if r.uid == 1 {
            assert!(
                e.score > 0.0,
                "an honest update helps under the later variant too: {}",
                e.score
            );
        }
        if r.uid == 6 {
            assert_eq!(e.score, 0.0);
        }
    }
}

#[test]
fn evaluate_through_the_binary_and_a_clear_error_without_cuda() {
    let n = net();
    let d = n.dir.path();
    let records = uploads(&n, 1..2);
    let input: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(
        d.join("gauntlet.yaml"),
        LOCAL_DEFAULTS.replace("gauntlet-demo/shards", "shards"),
    )
    .unwrap();
    let out = common::pipe(
        d,
        &[
            "evaluate",
            "--checkpoints",
            "ckpts",
            "--format",
            "jsonl",
            "--device",
            "cpu",
        ],
        input.as_bytes(),
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let evaluated = common::records(&out);
    assert_eq!(evaluated.len(), 6);
    assert!(evaluated.iter().all(|r| r.eval.is_some()));
    if !tch::Cuda::is_available() {
        let out = common::pipe(
            d,
            &["evaluate", "--checkpoints", "ckpts", "--device", "cuda"],
            input.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            common::stderr(&out).contains("--device cpu"),
            "{}",
            common::stderr(&out)
        );
    }
    let out = common::pipe(
        d,
        &["evaluate", "--checkpoints", "ckpts", "--shard", "4/2"],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2), "a bad --shard is a usage error");
}

#[test]
fn evaluation_stops_when_the_chain_moves_to_the_next_window() {
    let mut n = net();
    let records = uploads(&n, 0..1);
    // The chain (an injected clock): window 5 while the first two peers are evaluated, then 6.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let now = || -> anyhow::Result<u64> {
        let k = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(if k <= 2 { 5 } else { 6 })
    };
    let checkpoints = Checkpoints::Folder(n.dir.path().join("ckpts"));
    // Off (the paper era): the chain is not asked, everyone is evaluated.
    let all = evaluate::run(
        &n.cfg,
        records.clone(),
        &checkpoints,
        Device::Cpu,
        None,
        Some(&now),
        &|| {},
    )
    .unwrap();
    assert!(all.iter().all(|r| r.eval.is_some()));
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 0);
    n.cfg.hparams.evaluation_stops_at_window_change = true;
    let out = evaluate::run(
        &n.cfg,
        records,
        &checkpoints,
        Device::Cpu,
        None,
        Some(&now),
        &|| {},
    )
    .unwrap();
    let evaluated: Vec<u16> = out
        .iter()
        .filter(|r| r.eval.is_some())
        .map(|r| r.uid)
        .collect();
    assert_eq!(evaluated, vec![1, 2]);
    for r in out.iter().filter(|r| r.uid > 2) {
        assert_eq!(r.status, Status::NotEvaluated, "{r:?}");
        assert!(r.reason.as_deref().unwrap().contains("from window 5 to 6"));
    }
}
