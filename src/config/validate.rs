//! The effective configuration checked once, after loading: every number finite, durations
//! not negative, probabilities and fractions within [0, 1], counts and scales that must be
//! positive so. A bad value is a usage error (exit 2) naming its key, its value and where it
//! was set, before any command runs on it.

use super::layers::Source;
use crate::UsageError;
use std::collections::BTreeMap;
use yaml_serde::Value;

/// What a key's value must be.
#[derive(Clone, Copy)]
enum Rule {
    /// Within [0, 1].
    Fraction,
    /// Above zero.
    Positive,
    /// At least one.
    AtLeastOne,
}

/// The rule of each constrained key, by its last path segment (durations, by their
/// `_seconds` suffix, must not be negative).
fn rule(name: &str) -> Option<Rule> {
    use Rule::*;
    Some(match name {
        "validator_sample_rate"
        | "binary_score_ma_alpha"
        | "sync_ema_alpha"
        | "missing_slash"
        | "sync_slash"
        | "inactivity_slash"
        | "idx_overlap_threshold"
        | "idx_overlap_reset_threshold"
        | "idx_overlap_ban_threshold"
        | "idx_overlap_slash"
        | "dedupe_min_cosine"
        | "burn_rate"
        | "gather_share"
        | "miss_ban_ratio"
        | "negative_slash"
        | "momentum_decay"
        | "warmup_start_factor"
        | "eta_min_factor" => Fraction,
        "openskill_sigma"
        | "openskill_beta"
        | "power_normalisation"
        | "eval_lr_factor"
        | "block_time_seconds"
        | "gather_top_ratio" => Positive,
        "blocks_per_window"
        | "pages_per_window"
        | "rows_per_page"
        | "batch_size"
        | "sequence_length"
        | "target_chunk"
        | "topk_compression"
        | "uids_per_window"
        | "num_evaluation_bins"
        | "max_topk_peers"
        | "windows_per_weights"
        | "concurrency"
        | "attempts"
        | "sync_values_per_param" => AtLeastOne,
        _ => return None,
    })
}

/// Checks the effective config's leaves; `sources` says where each key was set.
pub fn check(
    leaves: &BTreeMap<String, Value>,
    sources: &BTreeMap<String, Source>,
) -> Result<(), UsageError> {
    for (key, value) in leaves {
        let Some(x) = value.as_f64() else { continue };
        let name = key.rsplit('.').next().unwrap_or(key);
        let why = if !x.is_finite() {
            Some("must be a finite number")
        } else {
            match rule(name) {
                Some(Rule::Fraction) if !(0.0..=1.0).contains(&x) => Some("must be within [0, 1]"),
                Some(Rule::Positive) if x <= 0.0 => Some("must be above 0"),
                Some(Rule::AtLeastOne) if x < 1.0 => Some("must be at least 1"),
                None if name.ends_with("_seconds") && x < 0.0 => {
                    Some("is a duration and must not be negative")
                }
                _ => None,
            }
        };
        if let Some(why) = why {
            let source = sources
                .get(key)
                .map(|s| format!(" (set by {s})"))
                .unwrap_or_default();
            return Err(UsageError(format!(
                "invalid configuration: {key} = {x}{source} {why}"
            )));
        }
    }
    Ok(())
}
