//! How far a peer's model has drifted from the validator's: each compared value's distance in
//! outer steps (|θ_validator − θ_peer| / lr, since a sign-SGD step moves a weight by lr),
//! aggregated by the mean (paper era), the median ([C-HEAD]) or the interquartile mean
//! ([C-LATEST]; robust to a few outlying values in either direction).

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

/// (aggregate, largest) steps behind over every compared value; infinite when a value is
/// missing or not finite, so such a peer can never look in sync.
pub fn steps_behind(
    validator: &[Tensor],
    peer: &[Tensor],
    lr: f64,
    method: SyncMethod,
) -> (f64, f64) {
    let mut steps: Vec<f64> = Vec::new();
    for (v, p) in validator.iter().zip(peer) {
        if v.size() != p.size() {
            return (f64::INFINITY, f64::INFINITY);
        }
        let d = (v.to_kind(Kind::Double) - p.to_kind(Kind::Double)).abs() / lr;
        steps.extend(Vec::<f64>::try_from(&d.flatten(0, -1)).unwrap_or_default());
    }
    if steps.is_empty() || validator.len() != peer.len() || steps.iter().any(|s| !s.is_finite()) {
        return (f64::INFINITY, f64::INFINITY);
    }
    let max = steps.iter().cloned().fold(0.0, f64::max);
    (aggregate(&mut steps, method), max)
}

/// The mean, median or interquartile mean (the mean of the middle half) of `values`.
pub fn aggregate(values: &mut [f64], method: SyncMethod) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    match method {
        SyncMethod::Mean => mean(values),
        SyncMethod::Median => {
            values.sort_by(f64::total_cmp);
            if n % 2 == 1 {
                values[n / 2]
            } else {
                (values[n / 2 - 1] + values[n / 2]) / 2.0
            }
        }
        SyncMethod::Iqm => {
            values.sort_by(f64::total_cmp);
            let cut = n / 4;
            mean(&values[cut..n - cut])
        }
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
        // sorted: 0 1 2 2 2 3 4 100; middle half: 2 2 2 3
        assert_eq!(aggregate(&mut v.clone(), SyncMethod::Iqm), 2.25);
    }
}
