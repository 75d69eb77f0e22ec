//! aggregate: the outer step on real peers' updates lowers the loss, takes only the top-G
//! peers, refuses bad files with a reason, writes the validator's sync slice, and is taken
//! once per window.

mod common;
use gauntlet::data::{Dataset, PageAssigner};
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::model::{LlamaConfig, Model};
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::record::{ObjectInfo, Record};
use gauntlet::store::LocalStore;
use gauntlet::wire;
use tch::{Device, Kind};

fn upload(n: &(tempfile::TempDir, gauntlet::config::Config), uid: u16, b: Behaviour) -> Record {
    let d = n.0.path();
    let store = LocalStore::open(d.join("store")).unwrap();
    let job = Job {
        uid,
        window: 0,
        behaviour: b,
        checkpoints: Checkpoints::Folder(d.join("ckpts")),
        state_dir: d.join("state"),
        max_batches: None,
    };
    peer::run(&n.1, &job, &store).unwrap();
    let mut r = Record::new(0, uid);
    let key = wire::gradient_key(0, uid, "1");
    r.object = Some(ObjectInfo {
        path: Some(d.join("store").join(&key).display().to_string()),
        key,
        ..Default::default()
    });
    r
}

/// Mean loss of a checkpoint on pages no peer trained on this window.
fn heldout_loss(n: &(tempfile::TempDir, gauntlet::config::Config), ckpt: &str) -> f64 {
    let cfg = &n.1;
    let h = &cfg.hparams;
    let data = Dataset::open(&cfg.data.shards, h.sequence_length, h.rows_per_page).unwrap();
    let pa = PageAssigner::new(
        &cfg.data.assignment_key,
        data.num_pages(),
        h.pages_per_window,
    )
    .unwrap();
    let pages = pa.random(99, 0, h.pages_per_window, &[1, 2, 3, 4]).unwrap();
    let batches = data.batches(&pages, h.batch_size).unwrap();
    let m = Model::load(
        &LlamaConfig::tiny(),
        Device::Cpu,
        Kind::Float,
        &n.0.path().join("ckpts").join(ckpt),
    )
    .unwrap();
    m.mean_loss(&batches, Some(data.eos_id()))
}

#[test]
fn the_outer_step_lowers_the_loss_once_per_window_from_the_top_peers_only() {
    let mut n = common::tiny_net();
    n.1.hparams.max_topk_peers = 3;
    // A large step so that one window's change is clearly measurable on the tiny model.
    n.1.hparams.learning_rate = 2e-3;
    n.1.hparams.warmup_steps = 0;
    let d = n.0.path().to_path_buf();
    let mut records: Vec<Record> = (1..=4)
        .map(|uid| upload(&n, uid, Behaviour::Honest))
        .collect();
    let mut noise = upload(&n, 5, Behaviour::Noise);
    noise.weight = Some(0.01);
    for (r, w) in records.iter_mut().zip([0.4, 0.3, 0.2, 0.1]) {
        r.weight = Some(w);
    }
    // uid 2's file is damaged after upload: refused with a reason, the others go in.
    let damaged = d.join("store").join(wire::gradient_key(0, 2, "1"));
    let bytes = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    records.push(noise);

    let sync_store = LocalStore::open(d.join("validator")).unwrap();
    let report =
        gauntlet::aggregate::aggregate(&n.1, &records, &d.join("ckpts"), Some((&sync_store, 0)))
            .unwrap();
    assert!(report.applied);
    // Top 3 by weight are 1, 2, 3; 2 is refused; 4 (fourth) and 5 (noise, last) stay out.
    assert_eq!(report.peers, vec![1, 3]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].0, 2);
    assert!(!report.skipped[0].1.is_empty());
    let before = heldout_loss(&n, "checkpoint-0.safetensors");
    let after = heldout_loss(&n, "checkpoint-1.safetensors");
    assert!(after < before, "held-out loss {before} -> {after}");

    // The validator's sync slice of the new model is published and reads back.
    let slice_key = wire::sync_key(1, 0, "1");
    let slice = std::fs::read(d.join("validator").join(&slice_key)).unwrap();
    let shapes: Vec<(String, i64)> = LlamaConfig::tiny()
        .param_shapes()
        .iter()
        .map(|(name, s)| {
            let numel: i64 = s.iter().product();
            let (_, len) = wire::sync::positions(
                numel,
                n.1.hparams.sync_value_offset,
                n.1.hparams.sync_values_per_param,
            );
            (name.clone(), len)
        })
        .collect();
    assert!(wire::sync::SyncSlice::decode(&slice, &shapes, Some(1), Some(0)).is_ok());

    // Taken once: a re-run leaves the checkpoint as it is.
    let written = std::fs::read(d.join("ckpts/checkpoint-1.safetensors")).unwrap();
    let again = gauntlet::aggregate::aggregate(&n.1, &records, &d.join("ckpts"), None).unwrap();
    assert!(!again.applied);
    assert_eq!(
        std::fs::read(d.join("ckpts/checkpoint-1.safetensors")).unwrap(),
        written
    );

    // Through the binary, into a second folder with the same window-0 model: the records pass
    // through and the checkpoint is the library's, byte for byte.
    std::fs::create_dir_all(d.join("ckpts2")).unwrap();
    std::fs::copy(
        d.join("ckpts/checkpoint-0.safetensors"),
        d.join("ckpts2/checkpoint-0.safetensors"),
    )
    .unwrap();
    std::fs::write(d.join("gauntlet.yaml"), gauntlet::config::LOCAL_DEFAULTS).unwrap();
    let shards = format!("data.shards={}", n.1.data.shards.display());
    let input: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    let args = [
        "aggregate",
        "--checkpoints",
        "ckpts2",
        "--set",
        &shards,
        "--set",
        "runtime.device=cpu",
        "--set",
        "hparams.max_topk_peers=3",
        "--set",
        "hparams.learning_rate=2e-3",
        "--set",
        "hparams.warmup_steps=0",
    ];
    let out = common::pipe(&d, &args, input.as_bytes());
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(common::records(&out), records);
    assert_eq!(
        std::fs::read(d.join("ckpts2/checkpoint-1.safetensors")).unwrap(),
        written
    );
}
