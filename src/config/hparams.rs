//! The mechanism's hyper-parameters, with the paper-era reference's values as defaults.
//!
//! Sources: `gauntlet-reference.md` §12–13 (Templar v0.2.88, 2025-05-25, the release two days
//! before the paper). Every field is settable in the `hparams:` section of the YAML config,
//! by `GAUNTLET_HPARAMS__<FIELD>`, or by `--set hparams.<field>=<value>`.

use crate::codec::CodecKind;
use crate::evaluate::EvalVariant;
use crate::score::openskill::TieRule;
use crate::score::sync::{SyncDivisor, SyncMethod};
use crate::score::weights::{RampParams, Schedule};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HyperParams {
    // ----- windows and timing -----
    /// Chain blocks per window; window = floor(block / blocks_per_window).
    pub blocks_per_window: u64,
    /// Seconds between chain blocks (used to estimate window times off-chain).
    pub block_time_seconds: f64,
    /// Length of the put window: an upload counts if it lands in
    /// [T0, T0 + delta], T0 = timestamp of the first block of the next window.
    pub time_window_delta_seconds: f64,
    /// The validator scores window s once the chain is at window s + offset.
    pub validator_offset: u64,

    // ----- data -----
    /// Pages assigned to each peer per window.
    pub pages_per_window: usize,
    /// Rows (sequences of `sequence_length` tokens) per page.
    pub rows_per_page: usize,
    /// Sequences per training or evaluation batch.
    pub batch_size: usize,
    /// Tokens per sequence.
    pub sequence_length: usize,

    // ----- outer optimiser (sign-SGD) and its schedule -----
    /// Peak outer learning rate; each sign-SGD step moves a weight by exactly lr.
    pub learning_rate: f64,
    /// Weight decay, applied as p ← p·(1 − lr·λ).
    pub weight_decay: f64,
    /// Linear warm-up length in windows.
    pub warmup_steps: u64,
    /// Warm-up start factor: lr starts at this fraction of the peak.
    pub warmup_start_factor: f64,
    /// Cosine-with-warm-restarts period T_0 in windows, after warm-up.
    pub t_max: u64,
    /// Each restart period is T_mult times the previous one.
    pub t_mult: u64,
    /// Cosine floor as a fraction of the peak lr (eta_min = factor·lr).
    pub eta_min_factor: f64,

    // ----- compression (DeMo: DCT + top-k) -----
    /// Error-feedback (momentum) decay β of the peers' buffer.
    pub momentum_decay: f64,
    /// Target DCT chunk size per dimension (largest divisor ≤ this is used).
    pub target_chunk: usize,
    /// Coefficients kept per chunk.
    pub topk_compression: usize,
    /// `dct-topk` (chunked DCT, int16 indices; paper era) or `chunk-topk` (no DCT, 12-bit
    /// packed indices; the later variant, with top-64 and 4 bins).
    pub codec: CodecKind,
    /// Quantisation bins for values (256 = 8-bit); 0 turns quantisation off.
    pub quantization_bins: usize,
    /// Quantisation range in standard deviations (±range/2 σ).
    pub quantization_range: f64,

    // ----- evaluation (LossScore) -----
    /// Peers evaluated per window.
    pub uids_per_window: usize,
    /// Fraction of a peer's batches sampled for each loss estimate.
    pub validator_sample_rate: f64,
    /// Evaluation step = eval_lr_factor · lr applied along sign(decode(peer)).
    pub eval_lr_factor: f64,
    /// `sign` (θ − eval_lr_factor·lr·sign(update), paper era) or `clip-median` (no sign,
    /// values clipped to the peers' median norm, step eval_lr_factor·outer_learning_rate).
    pub eval_variant: EvalVariant,
    /// The later variant's outer learning rate (1.0 at [C-HEAD], 0.4 at [C-LATEST]).
    pub outer_learning_rate: f64,
    /// Rating bins for choosing whom to evaluate (used when peers ≥ bins × uids_per_window).
    pub num_evaluation_bins: usize,
    /// Peers with more stake than this are not evaluated (validators).
    pub eval_stake_max: f64,
    /// Stop evaluating when the chain's window changes (v2.1.28's window exhaustion): the
    /// peers not reached get `not_evaluated`, no slash and no score.
    pub evaluation_stops_at_window_change: bool,

    // ----- rating (OpenSkill Plackett–Luce) -----
    /// Initial mean of a new rating.
    pub openskill_mu: f64,
    /// Initial standard deviation of a new rating.
    pub openskill_sigma: f64,
    /// Performance noise β.
    pub openskill_beta: f64,
    /// Additive dynamics factor τ (σ² += τ² before every match).
    pub openskill_tau: f64,
    /// Floor κ for the variance shrink factor.
    pub openskill_kappa: f64,
    /// Never let a match raise σ above its value before τ was added.
    pub openskill_limit_sigma: bool,
    /// Whose tie handling to reproduce: "6.1.3" (the reference's lock) or "6.2.0".
    pub openskill_ties: TieRule,

    // ----- unique computation (the binary indicator's moving average) -----
    /// BMA ← (1 − α)·BMA + α·indicator.
    pub binary_score_ma_alpha: f64,

    // ----- synchronisation -----
    /// Values compared per parameter in the sync slice.
    pub sync_values_per_param: usize,
    /// Flat offset of the first compared value of each parameter (peers publish [10, 12)).
    pub sync_value_offset: usize,
    /// How the compared values' steps behind are aggregated: `mean` (paper era), `median`
    /// or `iqm` (interquartile mean, the latest reference's).
    pub sync_method: SyncMethod,
    /// A peer more than this many steps behind is slashed.
    pub sync_max_steps_behind: f64,
    /// What a step is worth at a compared value: `lr` (the outer learning rate, paper era)
    /// or `ema` (a moving average of the validator's own steps there, v2.1.28).
    pub sync_divisor: SyncDivisor,
    /// ema: the weight of the newest step, `ema ← (1 − α)·ema + α·|Δ|` (v2.1.28: 0.2).
    pub sync_ema_alpha: f64,
    /// ema: how many of the validator's latest outer steps (consecutive checkpoints) are
    /// folded in; older ones weigh under (1 − α)^this.
    pub sync_ema_windows: u64,
    /// The sync score reaches 0 at this many steps behind.
    pub sync_score_max_steps: f64,
    /// sync = (1 − min(x, max)/max)^exponent.
    pub sync_score_exponent: f64,

    // ----- slashes and inactivity -----
    /// Multiplier on final score and BMA for a missing, late or early gradient.
    pub missing_slash: f64,
    /// Multiplier on final score and BMA for a desynchronised peer.
    pub sync_slash: f64,
    /// Multiplier on the final score for each window a peer stays inactive.
    pub inactivity_slash: f64,
    /// Windows of inactivity after which a peer's state is reset entirely.
    pub reset_inactivity_windows: u64,
    /// A peer is active if it uploaded in any of the last this-many windows.
    pub recent_windows: u64,
    /// Below this gather success rate every skipped gather peer is zeroed instead of slashed.
    pub gather_peers_slash_threshold: f64,
    /// A final score below this after a slash is set to 0 (the latest reference's
    /// `score_zero_threshold`, 1e-4; 0: off).
    pub score_zero_threshold: f64,

    // ----- the latest reference's rules (v2.1.28); off at the paper era's defaults -----
    /// A BMA below this counts as 0 in the final score (0: off; v2.1.28: 0.10)…
    pub bma_threshold: f64,
    /// …once the state has applied this many windows (v2.1.28: 10, counted there from the
    /// network's start; here from this validator's first window, whose BMAs it holds).
    pub bma_warmup_windows: u64,
    /// A peer with no usable upload (missing, early, late, unreachable, too large, malformed)
    /// joins the window's rating match with this score (v2.1.28: −99), so that missing work
    /// costs rating; unset: it does not play.
    pub missing_gradient_penalty_score: Option<f64>,
    /// The missing slash by consecutive misses (v2.1.28: [0.75, 0.5, 0.0]: the first miss
    /// ×0.75, the second ×0.5, the third on ×0); empty: `missing_slash` every time.
    pub missing_slash_escalation: Vec<f64>,
    /// Misses remembered per peer (v2.1.28: 8; 0: off)…
    pub miss_history_windows: usize,
    /// …of which this share or more, with the history full, resets the peer and bars it for
    /// `naughty_windows` (v2.1.28: 0.5).
    pub miss_ban_ratio: f64,
    /// Evaluations remembered per peer, whether each scored below 0 (v2.1.28: 20; 0: off)…
    pub negative_history: usize,
    /// …of whose last `negative_window` (v2.1.28: 8)…
    pub negative_window: usize,
    /// …more than this many negative (v2.1.28: 4) multiply final and BMA by
    /// `negative_slash` (v2.1.28: 0.25) every window, unless the window's fifth-best score is
    /// itself negative (a bad window for everyone).
    pub negative_max: usize,
    pub negative_slash: f64,
    /// This many negative evaluations in a row (v2.1.28: 3)…
    pub consecutive_negative_threshold: u32,
    /// …leave the peer out of the aggregation until it scores non-negative again (v2.1.28:
    /// true).
    pub exclude_negative_peers: bool,

    // ----- copy detection (added after the paper; [C-HEAD] thresholds) -----
    /// Mean top-k index overlap from which a later uploader is a copier ("high": ×0.5).
    pub idx_overlap_threshold: f64,
    /// Overlap from which a copier's state is reset ("max").
    pub idx_overlap_reset_threshold: f64,
    /// Overlap from which a copier is also barred for `naughty_windows` ("mega").
    pub idx_overlap_ban_threshold: f64,
    /// Multiplier for a "high" overlap.
    pub idx_overlap_slash: f64,
    /// Windows a "mega" copier is excluded from evaluation and aggregation.
    pub naughty_windows: u64,
    /// A pair over the overlap threshold is a copy only if its values agree this well (cosine
    /// on the shared indices): peers with overlapping but independent data pick similar
    /// indices, not the same values.
    pub dedupe_min_cosine: f64,

    // ----- weights and aggregation -----
    /// `power` (weight ∝ final^power_normalisation, paper era) or `ramp` (burn share, top
    /// peers on a linear ramp, reserve peers; the later reference).
    pub weights_schedule: Schedule,
    /// weight ∝ final^power over peers with a positive final score.
    pub power_normalisation: f64,
    /// ramp: the share of weight burnt to `burn_uid`.
    pub burn_rate: f64,
    /// ramp: the uid that receives the burnt share.
    pub burn_uid: u16,
    /// ramp: of the rest, the share of the top `gather_peer_count` peers.
    pub gather_share: f64,
    /// ramp: how many top peers share `gather_share`.
    pub gather_peer_count: usize,
    /// ramp: the best gather peer's weight over the last one's.
    pub gather_top_ratio: f64,
    /// ramp: how many next peers share the remainder, halving.
    pub reserve_peer_count: usize,
    /// Top peers (by weight) whose updates are aggregated (G).
    pub max_topk_peers: usize,
    /// Fewest gather peers for an aggregation.
    pub minimum_peers: usize,
    /// Gather peers are re-selected every this-many windows.
    pub peer_replacement_frequency: u64,
    /// A posted peer list takes effect this many windows later.
    pub peer_list_window_margin: u64,
    /// Weights are set on chain every this-many windows.
    pub windows_per_weights: u64,
    /// A checkpoint is written every this-many global steps.
    pub checkpoint_frequency: u64,
}

impl Default for HyperParams {
    fn default() -> Self {
        HyperParams {
            blocks_per_window: 8,
            block_time_seconds: 12.0,
            time_window_delta_seconds: 10.0,
            validator_offset: 2,

            pages_per_window: 6,
            rows_per_page: 100,
            batch_size: 6,
            sequence_length: 2048,

            learning_rate: 4e-4,
            weight_decay: 0.0,
            warmup_steps: 250,
            warmup_start_factor: 0.1,
            t_max: 20_000,
            t_mult: 2,
            eta_min_factor: 0.1,

            momentum_decay: 0.999,
            target_chunk: 64,
            topk_compression: 32,
            codec: CodecKind::DctTopk,
            quantization_bins: 256,
            quantization_range: 6.0,

            uids_per_window: 4,
            validator_sample_rate: 0.1,
            eval_lr_factor: 0.2,
            eval_variant: EvalVariant::Sign,
            outer_learning_rate: 1.0,
            num_evaluation_bins: 10,
            eval_stake_max: 20_000.0,
            evaluation_stops_at_window_change: false,

            openskill_mu: 25.0,
            openskill_sigma: 25.0 / 3.0,
            openskill_beta: 7.0,
            openskill_tau: 0.1,
            openskill_kappa: 1e-4,
            openskill_limit_sigma: false,
            openskill_ties: TieRule::V6_1_3,

            binary_score_ma_alpha: 0.05,

            sync_values_per_param: 2,
            sync_value_offset: 10,
            sync_method: SyncMethod::Iqm,
            sync_max_steps_behind: 3.0,
            sync_divisor: SyncDivisor::Lr,
            sync_ema_alpha: 0.2,
            sync_ema_windows: 30,
            sync_score_max_steps: 5.0,
            sync_score_exponent: 2.5,

            missing_slash: 0.75,
            sync_slash: 0.75,
            inactivity_slash: 0.75,
            reset_inactivity_windows: 25,
            recent_windows: 5,
            gather_peers_slash_threshold: 0.4,
            score_zero_threshold: 0.0,

            bma_threshold: 0.0,
            bma_warmup_windows: 0,
            missing_gradient_penalty_score: None,
            missing_slash_escalation: Vec::new(),
            miss_history_windows: 0,
            miss_ban_ratio: 0.5,
            negative_history: 0,
            negative_window: 8,
            negative_max: 4,
            negative_slash: 0.25,
            consecutive_negative_threshold: 3,
            exclude_negative_peers: false,

            idx_overlap_threshold: 0.4,
            idx_overlap_reset_threshold: 0.5,
            idx_overlap_ban_threshold: 0.6,
            idx_overlap_slash: 0.5,
            naughty_windows: 200,
            dedupe_min_cosine: 0.95,

            weights_schedule: Schedule::Power,
            power_normalisation: 2.2,
            burn_rate: 0.5,
            burn_uid: 1,
            gather_share: 0.75,
            gather_peer_count: 20,
            gather_top_ratio: 2.0,
            reserve_peer_count: 10,
            max_topk_peers: 15,
            minimum_peers: 5,
            peer_replacement_frequency: 5,
            peer_list_window_margin: 2,
            windows_per_weights: 50,
            checkpoint_frequency: 100,
        }
    }
}

impl HyperParams {
    /// The outer learning rate at a global step: linear warm-up from
    /// `warmup_start_factor·lr` to `lr` over `warmup_steps`, then cosine annealing with warm
    /// restarts (T_0 = `t_max`, T_mult = `t_mult`, floor `eta_min_factor·lr`), as torch's
    /// `SequentialLR(LinearLR, CosineAnnealingWarmRestarts)` gives it.
    pub fn lr_at(&self, step: u64) -> f64 {
        let lr = self.learning_rate;
        if step < self.warmup_steps {
            let f0 = self.warmup_start_factor;
            return lr * (f0 + (1.0 - f0) * step as f64 / self.warmup_steps as f64);
        }
        let mut t = step - self.warmup_steps;
        let mut period = self.t_max.max(1);
        while t >= period {
            t -= period;
            period = period.saturating_mul(self.t_mult.max(1));
        }
        let eta_min = self.eta_min_factor * lr;
        eta_min
            + (lr - eta_min) * (1.0 + (std::f64::consts::PI * t as f64 / period as f64).cos()) / 2.0
    }

    /// The ramp schedule's parameters.
    /// The codec these hparams set.
    pub fn codec_params(&self) -> crate::codec::CodecParams {
        crate::codec::CodecParams {
            kind: self.codec,
            target_chunk: self.target_chunk,
            topk: self.topk_compression,
            quant_bins: self.quantization_bins,
            quant_range: self.quantization_range,
        }
    }

    pub fn ramp(&self) -> RampParams {
        RampParams {
            burn_rate: self.burn_rate,
            burn_uid: self.burn_uid,
            gather_share: self.gather_share,
            gather_peer_count: self.gather_peer_count,
            top_ratio: self.gather_top_ratio,
            reserve_peer_count: self.reserve_peer_count,
        }
    }

    /// sync score = max(0, (1 − min(x, max)/max)^exponent) for x steps behind.
    pub fn sync_score(&self, steps_behind: f64) -> f64 {
        let max = self.sync_score_max_steps;
        if !steps_behind.is_finite() {
            return 0.0;
        }
        let x = steps_behind.clamp(0.0, max);
        (1.0 - x / max).powf(self.sync_score_exponent).max(0.0)
    }
}
