//! The reference peer: its files decode, and an honest peer's update helps its own pages
//! more than random pages (the signal the mechanism rests on) where a free-rider's does not.

mod common;
use gauntlet::config::{Config, LoadedConfig, LOCAL_DEFAULTS};
use gauntlet::data::{Dataset, PageAssigner};
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::model::{LlamaConfig, Model};
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::store::{LocalStore, Store};
use gauntlet::wire::{self, gradient};
use tch::{Device, Kind, Tensor};

struct Net {
    _dir: tempfile::TempDir,
    cfg: Config,
    store: LocalStore,
    ckpts: std::path::PathBuf,
    state: std::path::PathBuf,
}

fn net() -> Net {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    let sets = [
        format!("data.shards={}", shards.display()),
        "runtime.device=cpu".to_string(),
    ];
    let cfg = LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &sets)
        .unwrap()
        .config;
    gauntlet::demo::pack_corpus(&dir.path().join("corpus"), &shards).unwrap();
    let ckpts = dir.path().join("ckpts");
    std::fs::create_dir(&ckpts).unwrap();
    Model::init(&LlamaConfig::tiny(), Device::Cpu, Kind::Float, 0)
        .unwrap()
        .save(&ckpts.join("checkpoint-0.safetensors"), None)
        .unwrap();
    let store = LocalStore::open(dir.path().join("store")).unwrap();
    Net {
        state: dir.path().join("state"),
        cfg,
        store,
        ckpts,
        _dir: dir,
    }
}

fn job(n: &Net, uid: u16, window: u64, behaviour: Behaviour) -> Job {
    Job {
        uid,
        window,
        behaviour,
        checkpoints: Checkpoints::Folder(n.ckpts.clone()),
        state_dir: n.state.clone(),
        max_batches: None,
    }
}

/// The relative loss improvements (own pages, random pages) from stepping the window's model
/// along sign(decoded update), as the reference evaluates a peer.
fn improvements(n: &Net, uid: u16, window: u64) -> (f64, f64) {
    let h = &n.cfg.hparams;
    let (codec, layouts) = gauntlet::wire::layouts(&n.cfg, Device::Cpu).unwrap();
    let bytes = n
        .store
        .get(&wire::gradient_key(window, uid, "1"))
        .unwrap()
        .unwrap();
    let g = gradient::decode_file(
        &bytes,
        &gradient::Expect {
            layouts: &layouts,
            codec: &codec.params,
            window: Some(window),
            uid: Some(uid),
        },
    )
    .unwrap();
    let data = Dataset::open(&n.cfg.data.shards, h.sequence_length, h.rows_per_page).unwrap();
    let pa = PageAssigner::new(
        &n.cfg.data.assignment_key,
        data.num_pages(),
        h.pages_per_window,
    )
    .unwrap();
    let own = data
        .batches(&pa.assigned(uid, window), h.batch_size)
        .unwrap();
    let random = data
        .batches(
            &pa.random(12345, window, h.pages_per_window, &[uid])
                .unwrap(),
            h.batch_size,
        )
        .unwrap();
    let m = Model::load(
        &LlamaConfig::tiny(),
        Device::Cpu,
        Kind::Float,
        &n.ckpts.join("checkpoint-0.safetensors"),
    )
    .unwrap();
    let pad = Some(data.eos_id());
    let (own_before, rand_before) = (m.mean_loss(&own, pad), m.mean_loss(&random, pad));
    let step = h.eval_lr_factor * h.lr_at(window);
    let vars = m.vs.variables();
    tch::no_grad(|| {
        for (l, e) in layouts.iter().zip(&g.params) {
            let mut v = vars[&l.name].shallow_clone();
            let _ = v.f_sub_(&(codec.decode(l, e).sign() * step)).unwrap();
        }
    });
    let (own_after, rand_after) = (m.mean_loss(&own, pad), m.mean_loss(&random, pad));
    (
        (own_before - own_after) / own_before,
        (rand_before - rand_after) / rand_before,
    )
}

#[test]
fn peer_files_decode_for_every_behaviour() {
    let n = net();
    let behaviours = [
        (1, Behaviour::Honest),
        (2, Behaviour::FreeRider),
        (
            3,
            Behaviour::Copycat {
                of: vec![1],
                perturb: 0.0,
            },
        ),
        (
            4,
            Behaviour::Copycat {
                of: vec![1],
                perturb: 0.1,
            },
        ),
        (5, Behaviour::Noise),
        (6, Behaviour::Zero),
        (7, Behaviour::Late { by: 30.0 }),
        (8, Behaviour::Stale { by: 3 }),
        (9, Behaviour::Lazy { fraction: 0.1 }),
        (10, Behaviour::Desync),
    ];
    let (codec, layouts) = gauntlet::wire::layouts(&n.cfg, Device::Cpu).unwrap();
    for (uid, b) in &behaviours {
        let report = peer::run(&n.cfg, &job(&n, *uid, 3, b.clone()), &n.store).unwrap();
        assert_eq!(report.behaviour, b.name());
        let bytes = n.store.get(&report.gradient_key).unwrap().unwrap();
        let g = gradient::decode_file(
            &bytes,
            &gradient::Expect {
                layouts: &layouts,
                codec: &codec.params,
                window: Some(3),
                uid: Some(*uid),
            },
        )
        .unwrap_or_else(|r| panic!("{}: {}", b.name(), r.reason()));
        let total: f64 = layouts
            .iter()
            .zip(&g.params)
            .map(|(l, e)| codec.decode(l, e).abs().sum(Kind::Double).double_value(&[]))
            .sum();
        if *b == Behaviour::Zero {
            assert_eq!(total, 0.0);
        } else {
            assert!(total > 0.0, "{} sends something", b.name());
        }
    }
    let meta = |uid: u16| n.store.head(&wire::gradient_key(3, uid, "1")).unwrap();
    assert!(
        meta(7).uploaded_at > meta(1).uploaded_at + std::time::Duration::from_secs(25),
        "the late peer's upload time is late"
    );
    let decode = |uid: u16| {
        let bytes = n
            .store
            .get(&wire::gradient_key(3, uid, "1"))
            .unwrap()
            .unwrap();
        gradient::decode_file(
            &bytes,
            &gradient::Expect {
                layouts: &layouts,
                codec: &codec.params,
                window: None,
                uid: None,
            },
        )
        .unwrap()
    };
    let (honest, exact, noisy) = (decode(1), decode(3), decode(4));
    assert!(layouts
        .iter()
        .zip(honest.params.iter().zip(&exact.params))
        .all(|(l, (a, b))| codec.decode(l, a).equal(&codec.decode(l, b))));
    assert!(!layouts
        .iter()
        .zip(honest.params.iter().zip(&noisy.params))
        .all(|(l, (a, b))| codec.decode(l, a).equal(&codec.decode(l, b))));
    assert_eq!(exact.meta.uid, 3, "a copycat re-labels the copy as its own");
    assert_eq!(
        honest.meta.receipt.pages.len(),
        n.cfg.hparams.pages_per_window
    );
    let lazy = decode(9);
    assert_eq!(lazy.meta.receipt.batches, 1);
}

#[test]
fn honest_updates_help_their_own_pages_more_than_random_pages_and_free_riders_do_not() {
    let n = net();
    // From window 1: at initialisation the gradient is mostly unigram statistics that help
    // every page alike, so window 0 carries little own-data signal for anyone.
    let windows = 1..9u64;
    let mut honest = Vec::new();
    let mut free = Vec::new();
    for w in windows.clone() {
        peer::run(&n.cfg, &job(&n, 1, w, Behaviour::Honest), &n.store).unwrap();
        peer::run(&n.cfg, &job(&n, 2, w, Behaviour::FreeRider), &n.store).unwrap();
        let (o, r) = improvements(&n, 1, w);
        honest.push(o - r);
        let (o, r) = improvements(&n, 2, w);
        free.push(o - r);
    }
    eprintln!("own − random improvement, honest: {honest:.5?}");
    eprintln!("own − random improvement, free-rider: {free:.5?}");
    let wins = |v: &[f64]| v.iter().filter(|&&x| x > 0.0).count();
    assert!(
        wins(&honest) >= 7,
        "honest indicator +1 in {}/8 windows",
        wins(&honest)
    );
    assert!(
        wins(&free) <= 6,
        "free-rider indicator +1 in {}/8 windows",
        wins(&free)
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&honest) > 2.0 * mean(&free).max(0.0),
        "honest margin {:.5} vs free-rider {:.5}",
        mean(&honest),
        mean(&free)
    );
}

#[test]
fn rerunning_a_window_gives_the_same_file() {
    let n = net();
    peer::run(&n.cfg, &job(&n, 1, 0, Behaviour::Feedback), &n.store).unwrap();
    peer::run(&n.cfg, &job(&n, 1, 1, Behaviour::Feedback), &n.store).unwrap();
    let first = n
        .store
        .get(&wire::gradient_key(1, 1, "1"))
        .unwrap()
        .unwrap();
    peer::run(&n.cfg, &job(&n, 1, 1, Behaviour::Feedback), &n.store).unwrap();
    assert!(
        n.store
            .get(&wire::gradient_key(1, 1, "1"))
            .unwrap()
            .unwrap()
            == first,
        "the error-feedback buffer is not applied twice"
    );
    let _ = Tensor::zeros([1], (Kind::Float, Device::Cpu));
}

#[test]
fn peer_through_the_binary() {
    let n = net();
    let dir = n.state.parent().unwrap();
    std::fs::write(
        dir.join("gauntlet.yaml"),
        LOCAL_DEFAULTS.replace("gauntlet-demo/shards", "shards"),
    )
    .unwrap();
    let out = common::ok(common::gauntlet(dir).args([
        "peer",
        "--uid",
        "4",
        "--window",
        "2",
        "--store",
        "store",
        "--checkpoints",
        "ckpts",
    ]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["gradient_key"], "gradient-2-4-v1.safetensors");
    common::ok(common::gauntlet(dir).args([
        "inspect",
        "store/gradient-2-4-v1.safetensors",
        "--window",
        "2",
        "--uid",
        "4",
    ]));
    common::ok(common::gauntlet(dir).args(["inspect", "store/sync-2-4-v1.safetensors"]));
    let out = common::gauntlet(dir)
        .args([
            "peer",
            "--uid",
            "5",
            "--window",
            "2",
            "--store",
            "store",
            "--checkpoints",
            "ckpts",
            "--behave",
            "copycat",
            "--of",
            "9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("run the victim first"),
        "{}",
        common::stderr(&out)
    );
}

/// The rational adversaries of `benches/incentives.rs` do what they claim: a relabel is the
/// victim's earlier upload, a shuffle moves about the asked fraction of each chunk's indices
/// and keeps the values, and an orthogonal hint at three times the copy's norm no longer
/// looks like the copy to dedupe, while a small aligned hint still does.
#[test]
fn the_rational_adversaries_upload_what_they_claim() {
    use gauntlet::dedupe::Fingerprint;
    let n = net();
    let (codec, layouts) = gauntlet::wire::layouts(&n.cfg, Device::Cpu).unwrap();
    let read = |uid: u16, window: u64| {
        let bytes = n
            .store
            .get(&wire::gradient_key(window, uid, "1"))
            .unwrap()
            .unwrap();
        let expect = gradient::Expect {
            layouts: &layouts,
            codec: &codec.params,
            window: Some(window),
            uid: Some(uid),
        };
        gradient::decode_file(&bytes, &expect).unwrap().params
    };
    for w in 0..2 {
        peer::run(&n.cfg, &job(&n, 1, w, Behaviour::Honest), &n.store).unwrap();
    }
    let hint = |scale, orthogonal| Behaviour::CopyHint {
        of: 1,
        rows: 1,
        scale,
        orthogonal,
    };
    for (uid, b) in [
        (2, Behaviour::Relabel { of: 1 }),
        (
            3,
            Behaviour::Shuffle {
                of: 1,
                fraction: 0.5,
            },
        ),
        (4, hint(3.0, true)),
        (5, hint(0.2, false)),
        (
            6,
            Behaviour::Partial {
                rows: 1,
                feedback: false,
            },
        ),
    ] {
        let report = peer::run(&n.cfg, &job(&n, uid, 1, b), &n.store).unwrap();
        assert_eq!(report.window, 1);
    }
    let victim = read(1, 1);
    for (a, b) in read(2, 1).iter().zip(read(1, 0)) {
        assert!(a.idx.equal(&b.idx) && a.values().equal(&b.values()));
    }
    let (mut moved, mut total) = (0i64, 0i64);
    for ((s, v), l) in read(3, 1).iter().zip(&victim).zip(&layouts) {
        assert!(s.values().equal(&v.values()), "{}: values kept", l.name);
        moved += s.idx.ne_tensor(&v.idx).sum(Kind::Int64).int64_value(&[]);
        total += v.idx.numel() as i64;
    }
    let share = moved as f64 / total as f64;
    assert!(
        (0.4..0.6).contains(&share),
        "{share:.3} of the indices moved"
    );
    let print = |p: &[gauntlet::codec::Encoded]| Fingerprint::new(&layouts, p);
    let original = print(&victim);
    let drowned = print(&read(4, 1)).compare(&original);
    let aligned = print(&read(5, 1)).compare(&original);
    let h = &n.cfg.hparams;
    assert!(drowned.cosine < h.dedupe_min_cosine, "{drowned:?}");
    assert!(aligned.cosine >= h.dedupe_min_cosine, "{aligned:?}");
    let partial = peer::run(
        &n.cfg,
        &job(
            &n,
            7,
            1,
            Behaviour::Partial {
                rows: 1,
                feedback: false,
            },
        ),
        &n.store,
    )
    .unwrap();
    assert_eq!(partial.batches, 1);
    assert_eq!(partial.tokens, h.sequence_length as u64);
}
