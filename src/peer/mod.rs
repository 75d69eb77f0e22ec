//! A reference peer: for `(uid, window)` it trains on its assigned pages from the window's
//! model, encodes its update `lr·ḡ` (the mean gradient over its batches) with the network's
//! codec, and uploads the pseudo-gradient and its sync slice.
//!
//! The paper-era reference's peer folds the gradient into an error-feedback buffer
//! `e ← β·e + lr·ḡ` and sends the buffer's top-k; that is `Behaviour::Feedback` here. The
//! validator scores an update by what one step of it does to the loss now, and the buffer's
//! older gradients point less well than the fresh one (measured by `benches/incentives.rs`:
//! the fresh gradient earns far more), so the honest peer sends the fresh gradient: the
//! full work, in the way the score pays best. `Behaviour` makes it misbehave the ways real
//! and rational dishonest peers do, so that tests, benches and the demo have every kind of
//! contribution to judge.

pub mod adversary;

use crate::codec::{Codec, Encoded, Layout};
use crate::config::Config;
use crate::data::{Dataset, PageAssigner};
use crate::model::checkpoint::Checkpoints;
use crate::model::{self, checkpoint, Model};
use crate::store::Store;
use crate::tensor_io::{tensor_from_bytes, write_safetensors, TensorBytes};
use crate::wire::layouts;
use crate::wire::{GradientMeta, Receipt, SyncSlice};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tch::{Kind, Tensor};

#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    /// Trains on its assigned pages from the current model and sends the fresh gradient's
    /// top-k: the strategy the score pays best (see `benches/incentives.rs`).
    Honest,
    /// Trains, but on pages that are not its own.
    FreeRider,
    /// Re-uploads another peer's pseudo-gradient of the same window as its own, with values
    /// perturbed by `perturb` (relative noise; 0 = an exact copy); with several victims, the
    /// average of their decoded updates, encoded afresh.
    Copycat { of: Vec<u16>, perturb: f64 },
    /// Random values in a valid file.
    Noise,
    /// An all-zero update in a valid file.
    Zero,
    /// Honest work uploaded `by` seconds late.
    Late { by: f64 },
    /// Trains from the model of `by` windows ago.
    Stale { by: u64 },
    /// Trains on only this fraction of its batches (at least one).
    Lazy { fraction: f64 },
    /// Honest work with a sync slice that does not match its model.
    Desync,
    /// Another peer's update of the window plus a hint of its own: the gradient of `rows`
    /// rows of its own pages (`orthogonal`: less its component along the copied update, so
    /// that the sum looks less like the copy), scaled per parameter to `scale` times the
    /// copied update's norm, encoded afresh.
    CopyHint {
        of: u16,
        rows: usize,
        scale: f64,
        orthogonal: bool,
    },
    /// Another peer's upload with `fraction` of each chunk's indices moved elsewhere.
    Shuffle { of: u16, fraction: f64 },
    /// Another peer's upload of the previous window, as its own of this one (of the same
    /// window in the first).
    Relabel { of: u16 },
    /// Honest work on only `rows` rows of its pages; `feedback`: through its error-feedback
    /// buffer, else the fresh gradient alone.
    Partial { rows: usize, feedback: bool },
    /// Honest work on all its pages, sent through an error-feedback buffer (e ← β·e + lr·g,
    /// the paper-era reference peer's update): the buffer's older gradients make its update
    /// score below the fresh gradient's.
    Feedback,
    /// Trains on the pages it predicts the validator draws at random for `uids`, taking the
    /// validator's evaluation seed to be the public default (0).
    PredictRandom { uids: Vec<u16> },
}

impl Behaviour {
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Honest => "honest",
            Behaviour::FreeRider => "free-rider",
            Behaviour::Copycat { .. } => "copycat",
            Behaviour::Noise => "noise",
            Behaviour::Zero => "zero",
            Behaviour::Late { .. } => "late",
            Behaviour::Stale { .. } => "stale",
            Behaviour::Lazy { .. } => "lazy",
            Behaviour::Desync => "desync",
            Behaviour::CopyHint { .. } => "copy-hint",
            Behaviour::Shuffle { .. } => "shuffle",
            Behaviour::Relabel { .. } => "relabel",
            Behaviour::Partial { .. } => "partial",
            Behaviour::Feedback => "feedback",
            Behaviour::PredictRandom { .. } => "predict-random",
        }
    }
}

pub struct Job {
    pub uid: u16,
    pub window: u64,
    pub behaviour: Behaviour,
    pub checkpoints: Checkpoints,
    /// Where the error-feedback buffer lives between windows.
    pub state_dir: PathBuf,
    /// Train on at most this many batches.
    pub max_batches: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub uid: u16,
    pub window: u64,
    pub behaviour: String,
    pub model_window: Option<u64>,
    pub pages: Vec<u64>,
    pub batches: u64,
    pub tokens: u64,
    pub train_loss: Option<f64>,
    pub gradient_key: String,
    pub gradient_bytes: u64,
    pub sync_key: String,
}

pub fn run(cfg: &Config, job: &Job, store: &dyn Store) -> Result<Report> {
    let h = &cfg.hparams;
    let (config, device, dtype) = model::from_settings(cfg)?;
    let data = Dataset::configured(cfg)?;
    model::check_vocab(&config, &data)?;
    let assigner = PageAssigner::configured(cfg, &data)?;
    let (codec, layouts) = layouts(cfg, device)?;

    let model_window = match job.behaviour {
        Behaviour::Stale { by } => job.window.saturating_sub(by),
        _ => job.window,
    };
    let (ckpt_window, ckpt) = job.checkpoints.resolve(model_window)?;
    let m = Model::load(&config, device, dtype, &ckpt)?;
    let params: Vec<(String, Tensor)> = {
        let vars = m.vs.variables();
        layouts
            .iter()
            .map(|l| (l.name.clone(), vars[&l.name].shallow_clone()))
            .collect()
    };

    let global_step = job.window.saturating_sub(cfg.network.start_window);
    // Misbehaviours draw their randomness from (uid, window), so a test or demo is repeatable.
    let seed = ((job.uid as u64) << 48) ^ job.window;
    let lr = h.lr_at(global_step);
    let own = assigner.assigned(job.uid, job.window);
    let pages = match &job.behaviour {
        Behaviour::FreeRider => assigner.random(
            free_rider_seed(job.uid),
            job.window,
            h.pages_per_window,
            &[job.uid],
        )?,
        Behaviour::PredictRandom { uids } => {
            crate::evaluate::random_pages(0, &assigner, job.window, h.pages_per_window, uids)?
        }
        _ => own.clone(),
    };
    let mut batches = data.batches(&pages, h.batch_size)?;
    match job.behaviour {
        Behaviour::Lazy { fraction } => {
            batches.truncate(((batches.len() as f64 * fraction).ceil() as usize).max(1))
        }
        Behaviour::Partial { rows, .. } | Behaviour::CopyHint { rows, .. } => {
            batches = first_rows(&batches, rows)
        }
        _ => {}
    }
    if let Some(n) = job.max_batches {
        batches.truncate(n.max(1));
    }
    let tokens = batches.iter().map(|b| b.numel() as u64).sum();
    // The receipt names the assigned pages whatever was trained on: a rational peer training
    // elsewhere would not confess it (the validator checks receipts, `data::receipt`); the
    // evaluation is what catches it.
    let receipt = Receipt {
        pages: own.clone(),
        batches: batches.len() as u64,
        tokens,
    };
    let meta = GradientMeta {
        window: job.window,
        uid: job.uid,
        global_step,
        codec: codec.params.clone(),
        receipt,
    };

    let victims = adversary::Victims {
        store,
        cfg,
        codec: &codec,
        layouts: &layouts,
    };
    let train = || -> Result<(Vec<Tensor>, f64)> {
        let loss = accumulate_gradients(&m, &batches, Some(data.eos_id()))?;
        Ok((gradients(&params), loss))
    };
    let (encoded, train_loss) = match &job.behaviour {
        Behaviour::Copycat { of, perturb } => (victims.copy(of, job.window, *perturb, seed)?, None),
        Behaviour::CopyHint {
            of,
            scale,
            orthogonal,
            ..
        } => {
            let (hint, loss) = train()?;
            let copied = victims.with_hint(*of, job.window, &hint, *scale, *orthogonal)?;
            (copied, Some(loss))
        }
        Behaviour::Shuffle { of, fraction } => {
            (victims.shuffled(*of, job.window, *fraction, seed)?, None)
        }
        // In the first window there is nothing earlier: it copies the current upload.
        Behaviour::Relabel { of } => (victims.upload(*of, job.window.saturating_sub(1))?, None),
        Behaviour::Noise => {
            let enc = params
                .iter()
                .zip(&layouts)
                .map(|((n, p), l)| codec.encode(l, &model::seeded_normal_like(seed, n, p, lr)))
                .collect();
            (enc, None)
        }
        Behaviour::Zero => (
            params
                .iter()
                .zip(&layouts)
                .map(|((_, p), l)| codec.encode(l, &p.zeros_like()))
                .collect(),
            None,
        ),
        Behaviour::Feedback | Behaviour::Partial { feedback: true, .. } => {
            let (grads, loss) = train()?;
            let enc = error_feedback(
                &codec,
                &layouts,
                &grads,
                lr,
                h.momentum_decay,
                &job.state_dir,
                job.uid,
                job.window,
            )?;
            (enc, Some(loss))
        }
        _ => {
            let (grads, loss) = train()?;
            let enc = layouts
                .iter()
                .zip(&grads)
                .map(|(l, g)| codec.encode(l, &(g * lr)))
                .collect();
            (enc, Some(loss))
        }
    };

    let compat = cfg.network.compat;
    let bytes = compat.encode_gradient(&meta, &layouts, &encoded)?;
    let version = &cfg.network.version;
    let gradient_key = compat.gradient_key(job.window, job.uid, version);
    store
        .put(&gradient_key, &bytes)
        .with_context(|| format!("cannot upload {gradient_key} to {}", store.describe()))?;
    if let Behaviour::Late { by } = job.behaviour {
        let at = SystemTime::now() + Duration::from_secs_f64(by.max(0.0));
        if !store.backdate(&gradient_key, at)? {
            std::thread::sleep(Duration::from_secs_f64(by.max(0.0)));
            store.put(&gradient_key, &bytes)?;
        }
    }

    let mut slice = SyncSlice::take(
        job.window,
        job.uid,
        &params,
        h.sync_value_offset,
        h.sync_values_per_param,
    );
    if job.behaviour == Behaviour::Desync {
        // Ten steps' worth of drift in a random direction per value: a step as the network's
        // last one moved the value (dense steps differ per weight), else lr.
        let steps = last_step(job, ckpt_window.unwrap_or(model_window), &layouts, h)?;
        slice.values = slice
            .values
            .iter()
            .zip(&layouts)
            .zip(steps)
            .map(|((v, l), step)| {
                let step = step.map_or_else(|| v.ones_like() * lr, |s| s.clamp_min(lr));
                v + model::seeded_normal_like(seed, &l.name, v, 1.0).sign() * step * 10.0
            })
            .collect();
    }
    let names = compat.param_names(&layouts);
    let sync_key = compat.sync_key(job.window, job.uid, version);
    store
        .put(&sync_key, &compat.encode_sync(&slice, &names)?)
        .with_context(|| format!("cannot upload {sync_key} to {}", store.describe()))?;

    Ok(Report {
        uid: job.uid,
        window: job.window,
        behaviour: job.behaviour.name().to_string(),
        model_window: ckpt_window,
        pages,
        batches: meta.receipt.batches,
        tokens,
        train_loss,
        gradient_key,
        gradient_bytes: bytes.len() as u64,
        sync_key,
    })
}

/// A free-rider's pages come from a draw no honest peer makes.
fn free_rider_seed(uid: u16) -> u64 {
    0xF4EE_0000_0000 | uid as u64
}

/// The first `rows` rows of `batches`, as one batch.
fn first_rows(batches: &[Tensor], rows: usize) -> Vec<Tensor> {
    let all = Tensor::cat(batches, 0);
    let n = (rows as i64).clamp(1, all.size()[0]);
    vec![all.narrow(0, 0, n)]
}

/// The model's gradients as f32 (zeros where a parameter took none).
fn gradients(params: &[(String, Tensor)]) -> Vec<Tensor> {
    params
        .iter()
        .map(|(_, p)| {
            let g = p.grad();
            if g.defined() {
                g.to_kind(Kind::Float)
            } else {
                p.zeros_like().to_kind(Kind::Float)
            }
        })
        .collect()
}

/// Sums the gradients of the mean loss over `batches` into the model's variables; returns
/// the mean loss.
fn accumulate_gradients(m: &Model, batches: &[Tensor], pad: Option<i64>) -> Result<f64> {
    anyhow::ensure!(!batches.is_empty(), "the peer has no batches to train on");
    for v in m.vs.trainable_variables() {
        let mut g = v.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
    let n = batches.len() as f64;
    let mut total = 0.0;
    for b in batches {
        let loss = m.llama.loss(&b.to_device(m.device()), pad);
        total += loss.f_double_value(&[])?;
        (loss / n).f_backward()?;
    }
    Ok(total / n)
}

/// e ← β·e + lr·g; send top-k of e; keep what was not sent. The buffer after window `w` is
/// kept as `ef-{uid}-{w}.safetensors`; a re-run of a window starts from the same earlier
/// buffer, so it gives the same file.
#[allow(clippy::too_many_arguments)]
fn error_feedback(
    codec: &Codec,
    layouts: &[Layout],
    grads: &[Tensor],
    lr: f64,
    beta: f64,
    state_dir: &Path,
    uid: u16,
    window: u64,
) -> Result<Vec<Encoded>> {
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create peer state folder {}", state_dir.display()))?;
    let previous = latest_buffer(state_dir, uid, window)?;
    let mut encoded = Vec::with_capacity(layouts.len());
    let mut next: Vec<(String, TensorBytes)> = Vec::with_capacity(layouts.len());
    for (l, g) in layouts.iter().zip(grads) {
        let e = match previous.as_ref().and_then(|p| p.get(&l.name)) {
            Some(prev) => prev.to_device(g.device()) * beta + g * lr,
            None => g * lr,
        };
        let enc = codec.encode(l, &e);
        let rest = &e - codec.decode(l, &enc);
        next.push((l.name.clone(), TensorBytes::from_tensor(&rest)?));
        encoded.push(enc);
    }
    let path = state_dir.join(format!("ef-{uid}-{window}.safetensors"));
    crate::atomic::write_with(&path, |out| {
        write_safetensors(out, &Default::default(), &next)
    })?;
    for old in buffer_files(state_dir, uid)?
        .into_iter()
        .filter(|(w, _)| *w + 2 < window)
    {
        let _ = std::fs::remove_file(old.1);
    }
    Ok(encoded)
}

fn buffer_files(dir: &Path, uid: u16) -> Result<Vec<(u64, PathBuf)>> {
    let prefix = format!("ef-{uid}-");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(w) = path.file_name().and_then(|n| n.to_str()).and_then(|n| {
            n.strip_prefix(&prefix)?
                .strip_suffix(".safetensors")?
                .parse()
                .ok()
        }) {
            out.push((w, path));
        }
    }
    Ok(out)
}

/// The peer's own buffer from its latest window before `window`.
fn latest_buffer(dir: &Path, uid: u16, window: u64) -> Result<Option<HashMap<String, Tensor>>> {
    let Some((_, path)) = buffer_files(dir, uid)?
        .into_iter()
        .filter(|(w, _)| *w < window)
        .max_by_key(|(w, _)| *w)
    else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is damaged: {e}; delete it to start the buffer afresh",
            path.display()
        )
    })?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        out.insert(
            name,
            tensor_from_bytes(view.data(), view.shape(), Kind::Float)?,
        );
    }
    Ok(Some(out))
}

/// Per parameter, how far the network's last outer step moved the sync values: the checkpoints
/// of `window` and the window before, where both are there.
fn last_step(
    job: &Job,
    window: u64,
    layouts: &[Layout],
    h: &crate::config::HyperParams,
) -> Result<Vec<Option<Tensor>>> {
    let exact = |w| job.checkpoints.exactly(w);
    let (Some(before), Some(after)) = (exact(window.wrapping_sub(1)), exact(window)) else {
        return Ok(layouts.iter().map(|_| None).collect());
    };
    let names: Vec<String> = layouts.iter().map(|l| l.name.clone()).collect();
    let read = |p: &std::path::Path| {
        checkpoint::read_slices(p, &names, h.sync_value_offset, h.sync_values_per_param)
    };
    Ok(read(&before)?
        .iter()
        .zip(read(&after)?)
        .map(|(b, a)| Some((a - b).abs()))
        .collect())
}
