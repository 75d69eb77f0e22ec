//! How far a peer's model has drifted from the validator's: each compared value's distance in
//! outer steps (|θ_validator − θ_peer| / lr, since a sign-SGD step moves a weight by lr),
//! aggregated by the mean (paper era), the median ([C-HEAD]) or the interquartile mean
//! ([C-LATEST]; robust to a few outlying values in either direction).

use super::stats;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMethod {
    Mean,
    Median,
    Iqm,
}

impl SyncMethod {
    pub fn name(&self) -> &'static str {
        match self {
            SyncMethod::Mean => "mean",
            SyncMethod::Median => "median",
            SyncMethod::Iqm => "iqm",
        }
    }
}

/// What one outer step is worth at a compared value, to count steps behind by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncDivisor {
    /// The outer learning rate: a sign-SGD step moves every weight by exactly lr (paper era).
    #[default]
    Lr,
    /// Per value, a moving average of how much the validator's own steps moved it (the latest
    /// reference's: `ema ← 0.8·ema + 0.2·|Δ|` over its outer steps, floored at 1e-9), for
    /// dense steps that move each weight by a different amount.
    Ema,
}

/// (aggregate, largest) steps behind over every compared value; infinite when a value is
/// missing or not finite, so such a peer can never look in sync. Each difference is divided
/// by `lr`, or, where `per_value` has an entry of the same shape for the parameter, by it
/// (floored at 1e-9).
pub fn steps_behind(
    validator: &[Tensor],
    peer: &[Tensor],
    lr: f64,
    per_value: Option<&[Tensor]>,
    method: SyncMethod,
) -> (f64, f64) {
    let mut steps: Vec<f64> = Vec::new();
    for (i, (v, p)) in validator.iter().zip(peer).enumerate() {
        if v.size() != p.size() {
            return (f64::INFINITY, f64::INFINITY);
        }
        let diff = (v.to_kind(Kind::Double) - p.to_kind(Kind::Double)).abs();
        let d = match per_value
            .and_then(|e| e.get(i))
            .filter(|e| e.size() == v.size())
        {
            Some(e) => diff / e.to_kind(Kind::Double).clamp_min(1e-9),
            None => diff / lr,
        };
        steps.extend(Vec::<f64>::try_from(&d.flatten(0, -1)).unwrap_or_default());
    }
    if steps.is_empty() || validator.len() != peer.len() || steps.iter().any(|s| !s.is_finite()) {
        return (f64::INFINITY, f64::INFINITY);
    }
    let max = steps.iter().cloned().fold(0.0, f64::max);
    (aggregate(&mut steps, method), max)
}

/// The mean, median or interquartile mean of `values`, as the reference computes them: the
/// median is `torch.median`'s (the lower middle value on an even count), the interquartile
/// mean is the mean of the values between `torch.quantile`'s quartiles, inclusive
/// ([`stats::iqm`], which also says what two distinct values give). The values are sorted.
pub fn aggregate(values: &mut [f64], method: SyncMethod) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    match method {
        SyncMethod::Mean => stats::mean(values),
        SyncMethod::Median => stats::median(values),
        SyncMethod::Iqm => stats::iqm(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates() {
        let v = [1.0, 2.0, 3.0, 4.0, 100.0, 0.0, 2.0, 2.0];
        assert_eq!(aggregate(&mut v.clone(), SyncMethod::Mean), 114.0 / 8.0);
        assert_eq!(aggregate(&mut v.clone(), SyncMethod::Median), 2.0);
        // sorted: 0 1 2 2 2 3 4 100; quartiles 1.75 and 3.25: 2 2 2 3
        assert_eq!(aggregate(&mut v.clone(), SyncMethod::Iqm), 2.25);
    }

    /// Expected values from torch 2.11.0 (/opt/torch-venv-2.11.0/bin/python):
    /// `x = torch.tensor(v, dtype=torch.float64)`; `x.median()`; `q1, q3 = x.quantile(.25),
    /// x.quantile(.75)`; `x[(x >= q1) & (x <= q3)].mean()`.
    #[test]
    fn median_and_iqm_follow_torch_on_even_and_odd_counts() {
        // Even: torch.median([0.5, 3, 1, 2]) -> 1.0, the lower middle (not 1.5).
        let even = [0.5, 3.0, 1.0, 2.0];
        assert_eq!(aggregate(&mut even.clone(), SyncMethod::Median), 1.0);
        // q1 0.875, q3 2.25 -> mean(1, 2) = 1.5
        assert_eq!(aggregate(&mut even.clone(), SyncMethod::Iqm), 1.5);
        // Odd, ties at q1 kept: torch.median([4, 0, 9, 1, 1]) -> 1.0; q1 1, q3 4 ->
        // mean(1, 1, 4) = 2.0
        let odd = [4.0, 0.0, 9.0, 1.0, 1.0];
        assert_eq!(aggregate(&mut odd.clone(), SyncMethod::Median), 1.0);
        assert_eq!(aggregate(&mut odd.clone(), SyncMethod::Iqm), 2.0);
        // Even, two outliers on top: [1, 2, 3, 4, 10, 100]: q1 2.25, q3 8.5 -> 3.5 (cutting
        // n/4 values off each end would give 4.75)
        let tail = [1.0, 2.0, 3.0, 4.0, 10.0, 100.0];
        assert_eq!(aggregate(&mut tail.clone(), SyncMethod::Iqm), 3.5);
        assert_eq!(aggregate(&mut tail.clone(), SyncMethod::Median), 3.0);
        // Two distinct values: torch's quartile mask is empty (NaN); here their mean.
        assert_eq!(aggregate(&mut [1.0, 2.0], SyncMethod::Iqm), 1.5);
        assert_eq!(aggregate(&mut [1.0, 2.0], SyncMethod::Median), 1.0);
    }
}
