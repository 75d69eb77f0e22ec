//! The filter stage: cheap checks that drop a peer before any expensive evaluation.
//!
//! In order, for each record still `ok` with a fetched object:
//! 1. `early` / `late`: the upload time against the put window of its window, which opens at
//!    the start of the next window and lasts `time_window_delta_seconds`;
//! 2. `malformed`: every check of the wire reader, with its reason; `misassigned`: a receipt
//!    naming other pages, rows or batches than this validator computes (`data::receipt`);
//! 3. `desynced`: the peer's sync slice against the validator's model for the window — the
//!    steps behind (mean, median or IQM), the sync score, and a slash threshold.

use crate::chain::Clock;
use crate::codec::Layout;
use crate::config::Config;
use crate::data::{Dataset, PageAssigner};
use crate::model::checkpoint;
use crate::model::checkpoint::Checkpoints;
use crate::record::{Record, Status, SyncInfo};
use crate::score::sync::{steps_behind, SyncDivisor};
use crate::time::Timestamp;
use crate::wire::gradient::Receipt;
use crate::wire::{self, gradient, SyncSlice};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::Tensor;

pub struct Filter<'a> {
    cfg: &'a Config,
    clock: Clock,
    checkpoints: Checkpoints,
    codec: crate::codec::Codec,
    layouts: Vec<Layout>,
    /// The validator's compared values per window.
    validator: HashMap<u64, Vec<Tensor>>,
    /// Per window, the moving average of the validator's step sizes (`sync_divisor: ema`).
    step_emas: HashMap<u64, Option<Vec<Tensor>>>,
    /// The validator's data and page assignment, opened at the first receipt to check.
    assignment: Option<(Dataset, PageAssigner)>,
    /// Receipts checked, and how many of them disagreed.
    receipts: (usize, usize),
}

impl<'a> Filter<'a> {
    pub fn new(cfg: &'a Config, clock: Clock, checkpoints: Checkpoints) -> Result<Filter<'a>> {
        let (codec, layouts) = crate::wire::layouts(cfg, tch::Device::Cpu)?;
        Ok(Filter {
            cfg,
            clock,
            checkpoints,
            codec,
            layouts,
            validator: HashMap::new(),
            step_emas: HashMap::new(),
            assignment: None,
            receipts: (0, 0),
        })
    }

    /// Applies every check to a record that is still `ok`; others pass untouched.
    pub fn apply(&mut self, r: &mut Record) -> Result<()> {
        if !r.status.is_ok() {
            return Ok(());
        }
        let Some(object) = r.object.clone() else {
            r.fail(
                Status::Missing,
                "no object was fetched for this record (run fetch before filter)",
            );
            return Ok(());
        };
        if let Some(why) = self.timing(r.window, object.uploaded_at)? {
            let status = if why.0 { Status::Early } else { Status::Late };
            r.fail(status, why.1);
            return Ok(());
        }
        let path = object
            .path
            .as_deref()
            .context("the fetched object has no cache path")?;
        let expect = gradient::Expect {
            layouts: &self.layouts,
            codec: &self.codec.params,
            window: Some(r.window),
            uid: Some(r.uid),
        };
        let checked = wire::cache::load(Path::new(path), object.sha256.as_deref(), &expect)?;
        let gradient = match checked {
            Ok(g) => g,
            Err(reject) => {
                r.fail(Status::Malformed, reject.reason());
                return Ok(());
            }
        };
        if let Some(why) = self.receipt(r, &gradient.meta.receipt)? {
            r.fail(Status::Misassigned, why);
            return Ok(());
        }
        self.sync(r)
    }

    /// Why a peer's receipt disagrees with this validator's assignment, if it does.
    fn receipt(&mut self, r: &Record, receipt: &Receipt) -> Result<Option<String>> {
        if receipt.pages.is_empty() {
            return Ok(None);
        }
        if self.assignment.is_none() {
            let data = Dataset::configured(self.cfg)
                .context("filter checks the peers' receipts against this validator's pages")?;
            let assigner = PageAssigner::configured(self.cfg, &data)?;
            self.assignment = Some((data, assigner));
        }
        let (data, assigner) = self.assignment.as_ref().expect("opened just above");
        let why = crate::data::receipt::disagreement(
            receipt,
            assigner,
            data,
            &self.cfg.hparams,
            r.uid,
            r.window,
        );
        self.receipts.0 += 1;
        self.receipts.1 += usize::from(why.is_some());
        Ok(why)
    }

    /// A warning for the operator when most receipts disagree with this validator's own
    /// assignment: then its settings, not the peers, are the likelier cause.
    pub fn warning(&self) -> Option<String> {
        let (checked, disagreeing) = self.receipts;
        (disagreeing > 0 && 2 * disagreeing >= checked).then(|| {
            format!(
                "{disagreeing} of {checked} peers' receipts disagree with this validator's page assignment (status misassigned): check the settings their reasons name against the network's before trusting this window's scores"
            )
        })
    }

    /// `Some((early?, reason))` when the upload missed its put window.
    fn timing(
        &self,
        window: u64,
        uploaded_at: Option<Timestamp>,
    ) -> Result<Option<(bool, String)>> {
        let Some(at) = uploaded_at else {
            return Ok(Some((false, "the upload time is unknown".into())));
        };
        let at = at.system_time();
        let delta = self.cfg.hparams.time_window_delta_seconds;
        let (open, close) = self.clock.put_window(window, delta)?;
        let fmt = crate::time::format_time;
        if at < open {
            let early = open.duration_since(at).unwrap_or_default().as_secs_f64();
            return Ok(Some((
                true,
                format!(
                    "uploaded at {}, {early:.1} s before the put window opened at {}",
                    fmt(at),
                    fmt(open)
                ),
            )));
        }
        if at > close {
            let late = at.duration_since(close).unwrap_or_default().as_secs_f64();
            return Ok(Some((
                false,
                format!("uploaded at {}, {late:.1} s after the put window closed at {} ({delta} s after it opened)", fmt(at), fmt(close)),
            )));
        }
        Ok(None)
    }

    fn validator_values(&mut self, window: u64) -> Result<&Vec<Tensor>> {
        if !self.validator.contains_key(&window) {
            let (_, path) = self.checkpoints.resolve(window)?;
            let names: Vec<String> = self.layouts.iter().map(|l| l.name.clone()).collect();
            let h = &self.cfg.hparams;
            let values = checkpoint::read_slices(
                &path,
                &names,
                h.sync_value_offset,
                h.sync_values_per_param,
            )?;
            self.validator.insert(window, values);
        }
        Ok(&self.validator[&window])
    }

    /// Per compared value, the moving average of how much the validator's own outer steps
    /// moved it up to `window` (`|θ_{t+1} − θ_t|` between consecutive checkpoints, oldest
    /// first, the first taken as it is); `None` where the folder holds no two consecutive
    /// checkpoints, and the learning rate is the divisor then, as in the reference.
    fn step_ema(&mut self, window: u64) -> Result<Option<Vec<Tensor>>> {
        if !self.step_emas.contains_key(&window) {
            let ema = self.fold_steps(window)?;
            self.step_emas.insert(window, ema);
        }
        Ok(self.step_emas[&window].as_deref().map(shallow))
    }

    /// [`Filter::step_ema`] computed from the checkpoints, once per window.
    fn fold_steps(&mut self, window: u64) -> Result<Option<Vec<Tensor>>> {
        let h = self.cfg.hparams.clone();
        let mut ema: Option<Vec<Tensor>> = None;
        let first = window.saturating_sub(h.sync_ema_windows);
        for t in first..window {
            if self.checkpoints.exactly(t).is_none() || self.checkpoints.exactly(t + 1).is_none() {
                continue;
            }
            let before = shallow(self.validator_values(t)?);
            let after = shallow(self.validator_values(t + 1)?);
            let step: Vec<Tensor> = before
                .iter()
                .zip(after.iter())
                .map(|(b, a)| (a.to_kind(tch::Kind::Double) - b.to_kind(tch::Kind::Double)).abs())
                .collect();
            ema = Some(match ema {
                None => step,
                Some(e) => e
                    .iter()
                    .zip(&step)
                    .map(|(e, d)| e * (1.0 - h.sync_ema_alpha) + d * h.sync_ema_alpha)
                    .collect(),
            });
        }
        Ok(ema)
    }

    /// The sync check of one record: its sync slice against the validator's model for the
    /// window, as [`Filter::apply`] runs it after the other checks.
    pub fn sync(&mut self, r: &mut Record) -> Result<()> {
        let h = self.cfg.hparams.clone();
        let object = r.object.as_ref().expect("checked by apply");
        let Some(sync) = object.sync.as_ref().and_then(|s| s.path.clone()) else {
            let why = object
                .sync_error
                .clone()
                .unwrap_or_else(|| "not fetched".into());
            r.fail(Status::Desynced, format!("no usable sync slice: {why}"));
            return Ok(());
        };
        let params =
            wire::sync::params(&self.layouts, h.sync_value_offset, h.sync_values_per_param);
        let slice = wire::read_capped(Path::new(&sync), wire::sync::size_cap(&params))?
            .and_then(|b| SyncSlice::decode(&b, &params, Some(r.window), Some(r.uid)));
        let slice = match slice {
            Ok(s) => s,
            Err(reject) => {
                r.fail(
                    Status::Desynced,
                    format!("sync slice refused: {}", reject.reason()),
                );
                return Ok(());
            }
        };
        let lr = match h.eval_variant {
            crate::evaluate::EvalVariant::Sign => {
                h.lr_at(r.window.saturating_sub(self.cfg.network.start_window))
            }
            crate::evaluate::EvalVariant::ClipMedian => h.outer_learning_rate,
        };
        let per_value = match h.sync_divisor {
            SyncDivisor::Lr => None,
            SyncDivisor::Ema => self.step_ema(r.window)?,
        };
        let validator = shallow(self.validator_values(r.window)?);
        let (x, max) = steps_behind(
            &validator,
            &slice.values,
            lr,
            per_value.as_deref(),
            h.sync_method,
        );
        let score = h.sync_score(x);
        r.sync = Some(SyncInfo {
            steps_behind: x,
            score,
            method: Some(h.sync_method.name().to_string()),
            max_steps_behind: Some(max),
            extra: Default::default(),
        });
        // NaN or infinite steps (a missing value) count as out of sync.
        if x.is_nan() || x > h.sync_max_steps_behind {
            r.fail(
                Status::Desynced,
                format!("{x:.2} steps behind the validator's model ({} of the compared values), over the limit of {}", h.sync_method.name(), h.sync_max_steps_behind),
            );
        }
        Ok(())
    }
}

fn shallow(values: &[Tensor]) -> Vec<Tensor> {
    values.iter().map(Tensor::shallow_clone).collect()
}
