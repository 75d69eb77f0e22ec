//! The evaluate stage: LossScore and the own-versus-random indicator.
//!
//! For each peer that passed `filter`, its pseudo-gradient is applied to the window's model,
//! θ' = θ − step · direction, and the loss measured before and after on a sample of the peer's
//! own pages and on the window's common random pages:
//!
//! * `score` (LossScore) = relative loss improvement on the random pages;
//! * `indicator` = +1 if the improvement on its own pages is larger, else −1.
//!
//! Paper-era variant: direction = sign(decode(g)), step = eval_lr_factor · lr. Later variant
//! (`clip-median`): direction = decode(g) with each parameter's values scaled down to the
//! median value norm over the window's peers (`torch.median`, the lower middle; factor
//! `clamp(median / (norm + 1e-8), max=1)` in f32, `score::stats::clip_factor`), step =
//! eval_lr_factor · outer_learning_rate.
//!
//! Faster than the reference, same numbers: one backup of the weights per window, restored
//! after each peer (no deep copies); the random pages' loss before any step measured once per
//! window and shared by every peer (common random numbers); batch samples seeded per window,
//! so a re-run gives the same records; the next peer's file read and checked on another
//! thread while the current peer's passes run.

use crate::codec::{Codec, Encoded, Layout};
use crate::config::Config;
use crate::data::{Dataset, PageAssigner};
use crate::model::checkpoint::Checkpoints;
use crate::model::{self, Model};
use crate::record::{EvalInfo, Record, Status};
use crate::score::stats;
use crate::wire::{self, gradient, Reject};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// How a peer's update is applied for evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvalVariant {
    /// θ − eval_lr_factor · lr · sign(decode(g)) (paper era).
    Sign,
    /// θ − eval_lr_factor · outer_learning_rate · clip · decode(g), clip = min(1, median
    /// norm / (own norm + 1e-8)) per parameter, in f32 ([C-HEAD]).
    ClipMedian,
}

/// `K/N`: this process evaluates the K-th of N contiguous blocks of the input's evaluable
/// records (K from 0); concatenating the N outputs in order gives the unsharded output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s:?}: expected K/N, e.g. 0/4"))?;
        let (index, count) = (k.trim().parse::<usize>(), n.trim().parse::<usize>());
        match (index, count) {
            (Ok(index), Ok(count)) if count >= 1 && index < count => Ok(Shard { index, count }),
            _ => Err(format!("--shard {s:?}: expected K/N with 0 ≤ K < N")),
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl serde::Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Shard {
    /// Which records of `records` belong to this shard: contiguous blocks, each with an equal
    /// share (±1) of the records that will be evaluated, so the work is balanced.
    pub fn select(&self, records: &[Record]) -> Vec<bool> {
        let evaluable: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| needs_eval(r))
            .map(|(i, _)| i)
            .collect();
        let n = evaluable.len();
        // Block b starts at the evaluable record of rank ⌈b·n/N⌉ (or at the end).
        let start = |b: usize| -> usize {
            if b == 0 {
                return 0;
            }
            let rank = (b * n).div_ceil(self.count);
            evaluable.get(rank).copied().unwrap_or(records.len())
        };
        let (lo, hi) = (
            start(self.index),
            if self.index + 1 == self.count {
                records.len()
            } else {
                start(self.index + 1)
            },
        );
        (0..records.len()).map(|i| i >= lo && i < hi).collect()
    }
}

fn needs_eval(r: &Record) -> bool {
    r.status.is_ok() && r.object.is_some() && r.eval.is_none()
}

/// A seeded choice of `k` distinct indices of `0..n`, in increasing order.
fn sample(key: &[u8; 32], tag: &str, n: usize, k: usize) -> Vec<usize> {
    let mut scored: Vec<(u64, usize)> = (0..n)
        .map(|i| {
            let mut h = blake3::Hasher::new_keyed(key);
            h.update(tag.as_bytes());
            h.update(&(i as u64).to_le_bytes());
            (
                u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes")),
                i,
            )
        })
        .collect();
    scored.sort();
    let mut chosen: Vec<usize> = scored.into_iter().take(k).map(|(_, i)| i).collect();
    chosen.sort();
    chosen
}

/// Everything fixed for one window: the model and its backup, the data, the random sample.
pub struct Evaluator<'a> {
    cfg: &'a Config,
    window: u64,
    model: Model,
    params: Vec<Tensor>,
    backup: Vec<Tensor>,
    codec: Codec,
    layouts: Vec<Layout>,
    data: Dataset,
    assigner: PageAssigner,
    key: [u8; 32],
    rand_batches: Vec<Tensor>,
    rand_before: f64,
    step: f64,
    variant: EvalVariant,
    /// Per parameter, the median over the window's peers of their value norms (clip-median;
    /// none where no peer had the parameter).
    median_norms: Option<Vec<Option<f32>>>,
}

impl<'a> Evaluator<'a> {
    /// Loads the window's model; `uids` are every peer of the window (their assigned pages are
    /// kept out of the random sample).
    pub fn new(
        cfg: &'a Config,
        checkpoints: &Checkpoints,
        window: u64,
        uids: &[u16],
        device: Device,
    ) -> Result<Evaluator<'a>> {
        let h = &cfg.hparams;
        let (config, _, dtype) = model::from_settings(cfg)?;
        let (_, path) = checkpoints.resolve(window)?;
        let model = Model::load(&config, device, dtype, &path)?;
        if device.is_cuda() {
            model.llama.set_compute_kind(Some(Kind::BFloat16));
        }
        let data = Dataset::configured(cfg)?;
        model::check_vocab(&config, &data)?;
        let assigner = PageAssigner::configured(cfg, &data)?;
        let (codec, layouts) = crate::wire::layouts(cfg, device)?;
        let vars = model.vs.variables();
        let params: Vec<Tensor> = layouts
            .iter()
            .map(|l| vars[&l.name].shallow_clone())
            .collect();
        let backup = tch::no_grad(|| params.iter().map(|p| p.copy()).collect());
        let key = sample_key(cfg.evaluate.seed, window);
        let rand_pages = random_pages(
            cfg.evaluate.seed,
            &assigner,
            window,
            h.pages_per_window,
            uids,
        )?;
        let all = data.batches(&rand_pages, h.batch_size)?;
        let k = sample_size(all.len(), h.validator_sample_rate);
        let rand_batches: Vec<Tensor> = sample(&key, "random", all.len(), k)
            .into_iter()
            .map(|i| all[i].to_device(device))
            .collect();
        let global_step = window.saturating_sub(cfg.network.start_window);
        let variant = h.eval_variant;
        let step = match variant {
            EvalVariant::Sign => h.eval_lr_factor * h.lr_at(global_step),
            EvalVariant::ClipMedian => h.eval_lr_factor * h.outer_learning_rate,
        };
        let mut e = Evaluator {
            cfg,
            window,
            model,
            params,
            backup,
            codec,
            layouts,
            data,
            assigner,
            key,
            rand_batches,
            rand_before: 0.0,
            step,
            variant,
            median_norms: None,
        };
        e.rand_before = e.loss(&e.rand_batches);
        Ok(e)
    }

    /// Σ over batches of each batch's mean loss, as the reference sums them.
    fn loss(&self, batches: &[Tensor]) -> f64 {
        let pad = Some(self.data.eos_id());
        tch::no_grad(|| {
            batches
                .iter()
                .map(|b| self.model.llama.loss(b, pad).double_value(&[]))
                .sum()
        })
    }

    /// The seeded sample of a peer's own batches this window.
    pub fn own_batches(&self, uid: u16) -> Result<Vec<Tensor>> {
        let h = &self.cfg.hparams;
        let all = self
            .data
            .batches(&self.assigner.assigned(uid, self.window), h.batch_size)?;
        let k = sample_size(all.len(), h.validator_sample_rate);
        Ok(sample(&self.key, &format!("own:{uid}"), all.len(), k)
            .into_iter()
            .map(|i| all[i].to_device(self.model.device()))
            .collect())
    }

    /// The window's sample of random batches, shared by every peer.
    pub fn rand_batches(&self) -> &[Tensor] {
        &self.rand_batches
    }

    /// The step size of this window's evaluation.
    pub fn step(&self) -> f64 {
        self.step
    }

    /// Reads and checks a record's gradient file (safe to run on another thread).
    pub fn read(&self, r: &Record) -> Result<Result<Vec<Encoded>, Reject>> {
        read_gradient(r, &self.layouts, &self.codec)
    }

    /// Computes the median value norms of the window's peers for the clip-median variant:
    /// per parameter, `torch.median` (the lower middle) of the f32 value norms of every peer
    /// of the window still to be evaluated (as the reference's `compute_peer_val_norms`, but
    /// over those peers rather than the window's gather, which a validator does not have
    /// until its outer step).
    pub fn prepare(&mut self, records: &[Record]) -> Result<()> {
        if self.variant != EvalVariant::ClipMedian {
            return Ok(());
        }
        let mut norms: Vec<Vec<f32>> = vec![Vec::new(); self.layouts.len()];
        for r in records
            .iter()
            .filter(|r| r.window == self.window && needs_eval(r))
        {
            if let Ok(encs) = self.read(r)? {
                for (i, e) in encs.iter().enumerate() {
                    norms[i].push(e.values().norm().double_value(&[]) as f32);
                }
            }
        }
        self.median_norms = Some(
            norms
                .iter()
                .map(|v| (!v.is_empty()).then(|| stats::median(v)))
                .collect(),
        );
        Ok(())
    }

    /// Evaluates one peer whose file `read` already checked; the model is left as it was.
    pub fn evaluate(&self, r: &mut Record, encoded: Result<Vec<Encoded>, Reject>) -> Result<()> {
        let encs = match encoded {
            Ok(e) => e,
            Err(reject) => {
                r.fail(Status::Malformed, reject.reason());
                return Ok(());
            }
        };
        let own = self.own_batches(r.uid)?;
        let own_before = self.loss(&own);
        tch::no_grad(|| -> Result<()> {
            for (i, ((l, e), p)) in self.layouts.iter().zip(&encs).zip(&self.params).enumerate() {
                let enc = Encoded {
                    idx: e.idx.to_device(p.device()),
                    vals: move_values(&e.vals, p.device()),
                };
                let dense = self.codec.decode(l, &enc);
                let direction = match self.variant {
                    EvalVariant::Sign => dense.sign(),
                    EvalVariant::ClipMedian => {
                        // As `update_model_with_gradient`: a parameter no peer had is clipped
                        // against the peer's own norm.
                        let own = e.values().norm().double_value(&[]) as f32;
                        let median = self.median_norms.as_ref().and_then(|m| m[i]).unwrap_or(own);
                        dense * stats::clip_factor(median, own) as f64
                    }
                };
                let mut p = p.shallow_clone();
                let _ = p.f_sub_(&(direction * self.step).to_kind(p.kind()))?;
            }
            Ok(())
        })?;
        let own_after = self.loss(&own);
        let rand_after = self.loss(&self.rand_batches);
        tch::no_grad(|| -> Result<()> {
            for (p, b) in self.params.iter().zip(&self.backup) {
                p.shallow_clone().f_copy_(b)?;
            }
            Ok(())
        })?;
        let score = (self.rand_before - rand_after) / self.rand_before;
        let own_improvement = (own_before - own_after) / own_before;
        let mut extra = serde_json::Map::new();
        extra.insert("own_improvement".into(), own_improvement.into());
        extra.insert("step".into(), self.step.into());
        extra.insert("own_batches".into(), own.len().into());
        extra.insert("rand_batches".into(), self.rand_batches.len().into());
        r.eval = Some(EvalInfo {
            own_before,
            own_after,
            rand_before: self.rand_before,
            rand_after,
            score,
            indicator: if own_improvement > score { 1 } else { -1 },
            extra,
        });
        Ok(())
    }
}

fn move_values(v: &crate::codec::Values, device: Device) -> crate::codec::Values {
    use crate::codec::{QuantTable, Values};
    match v {
        Values::Float(t) => Values::Float(t.to_device(device)),
        Values::Quantized { codes, table } => Values::Quantized {
            codes: codes.to_device(device),
            table: QuantTable {
                shift: table.shift,
                scale: table.scale,
                lookup: table.lookup.to_device(device),
            },
        },
    }
}

/// max(1, ⌊n · rate⌋) batches, as the reference samples them (never more than there are).
/// The key of a window's evaluation draws, from the validator's secret seed.
fn sample_key(seed: u64, window: u64) -> [u8; 32] {
    let mut material = seed.to_le_bytes().to_vec();
    material.extend_from_slice(&window.to_le_bytes());
    blake3::derive_key("gauntlet evaluation sample v1", &material)
}

/// The window's common random pages (none assigned to `uids`), drawn with the validator's
/// secret seed: a peer that knows the seed knows them.
pub fn random_pages(
    seed: u64,
    assigner: &PageAssigner,
    window: u64,
    count: usize,
    uids: &[u16],
) -> Result<Vec<u64>> {
    let key = sample_key(seed, window);
    let random_seed = u64::from_le_bytes(key[..8].try_into().expect("8 bytes"));
    assigner.random(random_seed, window, count, uids)
}

pub fn sample_size(n: usize, rate: f64) -> usize {
    (((n as f64) * rate).floor() as usize).max(1).min(n)
}

pub fn read_gradient(
    r: &Record,
    layouts: &[Layout],
    codec: &Codec,
) -> Result<Result<Vec<Encoded>, Reject>> {
    let path = r
        .object
        .as_ref()
        .and_then(|o| o.path.clone())
        .context("the record has no fetched object (run fetch and filter first)")?;
    let expect = gradient::Expect {
        layouts,
        codec: &codec.params,
        window: Some(r.window),
        uid: Some(r.uid),
    };
    let sha = r.object.as_ref().and_then(|o| o.sha256.as_deref());
    Ok(wire::cache::load(Path::new(&path), sha, &expect)?.map(|g| g.params))
}

/// Evaluates the records (those of this shard), window by window, in input order; `done` is
/// called per record. Returns this shard's records.
/// The chain's current window, for evaluations that stop when it changes.
pub type WindowNow<'a> = &'a dyn Fn() -> Result<u64>;

pub fn run(
    cfg: &Config,
    records: Vec<Record>,
    checkpoints: &Checkpoints,
    device: Device,
    shard: Option<Shard>,
    chain_window: Option<WindowNow>,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Record>> {
    let chain_window = chain_window.filter(|_| cfg.hparams.evaluation_stops_at_window_change);
    let mine = shard
        .map(|s| s.select(&records))
        .unwrap_or_else(|| vec![true; records.len()]);
    let mut windows: Vec<u64> = records
        .iter()
        .filter(|r| needs_eval(r))
        .map(|r| r.window)
        .collect();
    windows.sort();
    windows.dedup();
    let mut records = records;
    for w in windows {
        let uids: Vec<u16> = records
            .iter()
            .filter(|r| r.window == w)
            .map(|r| r.uid)
            .collect();
        let mut ev = Evaluator::new(cfg, checkpoints, w, &uids, device)?;
        ev.prepare(&records)?;
        let todo: Vec<usize> = (0..records.len())
            .filter(|&i| mine[i] && records[i].window == w && needs_eval(&records[i]))
            .collect();
        let layouts = ev.layouts.clone();
        let codec_params = ev.codec.params.clone();
        // A reader thread checks the next files while this one runs the passes.
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, Result<Result<Vec<Encoded>, Reject>>)>(1);
        let snapshot: Vec<Record> = todo.iter().map(|&i| records[i].clone()).collect();
        let started_in = chain_window.map(|now| now()).transpose()?;
        std::thread::scope(|s| -> Result<()> {
            s.spawn(move || {
                let codec = match Codec::new(codec_params, Device::Cpu) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send((usize::MAX, Err(e)));
                        return;
                    }
                };
                for (j, r) in snapshot.iter().enumerate() {
                    if tx.send((j, read_gradient(r, &layouts, &codec))).is_err() {
                        return;
                    }
                }
            });
            for (j, encoded) in rx {
                let encoded = encoded?;
                if let (Some(now), Some(start)) = (chain_window, started_in) {
                    let current = now()?;
                    if current != start {
                        for &i in &todo[j..] {
                            records[i].fail(
                                Status::NotEvaluated,
                                format!("the chain moved from window {start} to {current} before this peer's evaluation; it is not scored this window"),
                            );
                            done();
                        }
                        break;
                    }
                }
                ev.evaluate(&mut records[todo[j]], encoded)?;
                done();
            }
            Ok(())
        })?;
    }
    Ok(records
        .into_iter()
        .zip(mine)
        .filter(|(_, m)| *m)
        .map(|(r, _)| r)
        .collect())
}
