//! The outer step: the validator's own copy of the model moves by the top peers' combined
//! update, once per window (the reference's `apply_gathered_gradients`).
//!
//! The top-G records by weight (ok, positive weight, fetched) are read and checked again as
//! hostile files; per parameter their values are L2-normalised per chunk, scatter-averaged
//! per index and inverted (`Codec::decode_many`), then `p ← p·(1 − lr·λ) − lr·sign(G)` with the
//! window's outer learning rate. The later variant (`hparams.eval_variant: clip-median`)
//! clips each peer to the median norm instead, takes no sign and steps by
//! `outer_learning_rate`. The result is `checkpoint-{window+1}`; a checkpoint already there
//! means the step was taken, so a re-run changes nothing.

use crate::codec::{Encoded, Values};
use crate::config::Config;
use crate::evaluate::{read_gradient, EvalVariant};
use crate::model::checkpoint::Checkpoints;
use crate::model::{self, checkpoint, Model};
use crate::record::{Record, Status};
use crate::score::stats;
use crate::store::Store;
use crate::wire::sync::SyncSlice;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tch::Tensor;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub window: u64,
    /// The checkpoint written (or found already there).
    pub checkpoint: PathBuf,
    /// Whether this run took the step (false: the checkpoint was already there, or no peer).
    pub applied: bool,
    /// The peers whose updates went in, by weight.
    pub peers: Vec<u16>,
    /// Peers chosen but refused, with why.
    pub skipped: Vec<(u16, String)>,
    pub lr: f64,
}

/// The records that go into the outer step: ok, positive weight, fetched, not excluded for
/// a run of negative evaluations; the top `max_topk_peers` by weight (ties by uid).
pub fn gather_set(cfg: &Config, records: &[Record]) -> Vec<Record> {
    let mut chosen: Vec<Record> = records
        .iter()
        .filter(|r| {
            r.status == Status::Ok
                && r.weight.is_some_and(|w| w > 0.0)
                && !r.rating.as_ref().is_some_and(|g| g.excluded)
                && r.object.as_ref().is_some_and(|o| o.path.is_some())
        })
        .cloned()
        .collect();
    chosen.sort_by(|a, b| {
        b.weight
            .partial_cmp(&a.weight)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.uid.cmp(&b.uid))
    });
    chosen.truncate(cfg.hparams.max_topk_peers);
    chosen
}

/// Takes the outer step for the records' window from the checkpoint in `dir` at or before it,
/// writing `checkpoint-{window+1}` there, and the validator's sync slice of the new model to
/// `store` as `uid` when given.
pub fn aggregate(
    cfg: &Config,
    records: &[Record],
    dir: &Path,
    sync_to: Option<(&dyn Store, u16)>,
) -> Result<Report> {
    let window = records
        .first()
        .map(|r| r.window)
        .context("no records to aggregate (give the records of one window from `rate`)")?;
    anyhow::ensure!(
        records.iter().all(|r| r.window == window),
        "the records span several windows: aggregate one window at a time"
    );
    let out = dir.join(checkpoint::window_file(window + 1));
    let h = &cfg.hparams;
    let lr = match h.eval_variant {
        EvalVariant::Sign => h.lr_at(window.saturating_sub(cfg.network.start_window)),
        EvalVariant::ClipMedian => h.outer_learning_rate,
    };
    let mut report = Report {
        window,
        checkpoint: out.clone(),
        applied: false,
        peers: Vec::new(),
        skipped: Vec::new(),
        lr,
    };
    if out.exists() {
        return Ok(report);
    }
    let (config, device, dtype) = model::from_settings(cfg)?;
    let (codec, layouts) = crate::wire::layouts(cfg, device)?;
    let mut gathered: Vec<Vec<Encoded>> = Vec::new();
    for r in gather_set(cfg, records) {
        match read_gradient(&r, &layouts, &codec)? {
            Ok(encs) => {
                report.peers.push(r.uid);
                gathered.push(encs);
            }
            Err(reject) => report.skipped.push((r.uid, reject.reason())),
        }
    }
    if gathered.is_empty() {
        return Ok(report);
    }
    let (_, path) = Checkpoints::Folder(dir.to_path_buf()).resolve(window)?;
    let m = Model::load(&config, device, dtype, &path)?;
    let vars = m.vs.variables();
    tch::no_grad(|| -> Result<()> {
        for (i, l) in layouts.iter().enumerate() {
            let encs: Vec<Encoded> = gathered.iter().map(|g| on_device(&g[i], device)).collect();
            let mut p = vars[&l.name].shallow_clone();
            let update = match h.eval_variant {
                EvalVariant::Sign => {
                    let refs: Vec<&Encoded> = encs.iter().collect();
                    let g = codec.decode_many(l, &refs, true);
                    if h.weight_decay > 0.0 {
                        let _ = p.f_mul_scalar_(1.0 - lr * h.weight_decay)?;
                    }
                    g.sign()
                }
                EvalVariant::ClipMedian => {
                    let clipped = clip_to_median(&encs);
                    let refs: Vec<&Encoded> = clipped.iter().collect();
                    codec.decode_many(l, &refs, false)
                }
            };
            let _ = p.f_sub_(&(update * lr).to_kind(p.kind()))?;
        }
        Ok(())
    })?;
    m.save(&out, None)
        .with_context(|| format!("cannot write {}", out.display()))?;
    if let Some((store, uid)) = sync_to {
        let params: Vec<(String, Tensor)> = layouts
            .iter()
            .map(|l| (l.name.clone(), vars[&l.name].shallow_clone()))
            .collect();
        let slice = SyncSlice::take(
            window + 1,
            uid,
            &params,
            h.sync_value_offset,
            h.sync_values_per_param,
        );
        let compat = cfg.network.compat;
        let names = compat.param_names(&layouts);
        let key = compat.sync_key(window + 1, uid, &cfg.network.version);
        store
            .put(&key, &compat.encode_sync(&slice, &names)?)
            .with_context(|| format!("cannot upload {key} to {}", store.describe()))?;
    }
    report.applied = true;
    Ok(report)
}

fn on_device(e: &Encoded, device: tch::Device) -> Encoded {
    Encoded {
        idx: e.idx.to_device(device),
        vals: Values::Float(e.values().to_device(device)),
    }
}

/// Each peer's values scaled by its clip factor ([C-HEAD]'s outer step, `batch_decompress`
/// with `clip_norm=True`): `clamp(median / (norm + 1e-8), max=1)` in f32, the median being
/// `torch.median` of the peers' f32 value norms ([`stats::clip_factors`]).
fn clip_to_median(encs: &[Encoded]) -> Vec<Encoded> {
    let norms: Vec<f32> = encs
        .iter()
        .map(|e| e.values().norm().double_value(&[]) as f32)
        .collect();
    encs.iter()
        .zip(stats::clip_factors(&norms))
        .map(|(e, clip)| Encoded {
            idx: e.idx.shallow_clone(),
            vals: Values::Float(e.values() * clip as f64),
        })
        .collect()
}
