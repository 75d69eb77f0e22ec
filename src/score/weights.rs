//! From final scores to weights.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// weight ∝ final^p over positive final scores (paper era).
    Power,
    /// [C-HEAD]: a burn share to one uid; of the rest, `gather_share` to the top peers on a
    /// linear ramp (the best gets `top_ratio` × the last), the remainder to the next reserve
    /// peers, halving, none above the smallest gather weight.
    Ramp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RampParams {
    pub burn_rate: f64,
    pub burn_uid: u16,
    pub gather_share: f64,
    pub gather_peer_count: usize,
    pub top_ratio: f64,
    pub reserve_peer_count: usize,
}

/// Power-normalised weights of the positive final scores; all zero when their sum of powers
/// is below 1e-8 (the reference's guard).
pub fn power(finals: &[(u16, f64)], p: f64) -> Vec<(u16, f64)> {
    let powered: Vec<(u16, f64)> = finals
        .iter()
        .map(|&(u, f)| (u, if f > 0.0 { f.powf(p) } else { 0.0 }))
        .collect();
    let total: f64 = powered.iter().map(|(_, v)| v).sum();
    powered
        .into_iter()
        .map(|(u, v)| (u, if total < 1e-8 { 0.0 } else { v / total }))
        .collect()
}

/// The later reference's schedule (see [`Schedule::Ramp`]).
pub fn ramp(finals: &[(u16, f64)], r: &RampParams) -> Vec<(u16, f64)> {
    let mut ranked: Vec<(u16, f64)> = finals
        .iter()
        .copied()
        .filter(|&(u, f)| f > 0.0 && u != r.burn_uid)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: BTreeMapVec = finals.iter().map(|&(u, _)| (u, 0.0)).collect();
    let share = 1.0 - r.burn_rate;
    let gather: Vec<u16> = ranked
        .iter()
        .take(r.gather_peer_count)
        .map(|p| p.0)
        .collect();
    let reserve: Vec<u16> = ranked
        .iter()
        .skip(r.gather_peer_count)
        .take(r.reserve_peer_count)
        .map(|p| p.0)
        .collect();
    let g = gather.len();
    let mut smallest_gather = f64::INFINITY;
    if g > 0 {
        // Linear from top_ratio (best) down to 1 (last), normalised to the gather share.
        let raw: Vec<f64> = (0..g)
            .map(|i| {
                if g == 1 {
                    1.0
                } else {
                    r.top_ratio - (r.top_ratio - 1.0) * i as f64 / (g - 1) as f64
                }
            })
            .collect();
        let sum: f64 = raw.iter().sum();
        let pool = share
            * if reserve.is_empty() {
                1.0
            } else {
                r.gather_share
            };
        for (uid, w) in gather.iter().zip(raw) {
            let v = pool * w / sum;
            smallest_gather = smallest_gather.min(v);
            set(&mut out, *uid, v);
        }
    }
    if !reserve.is_empty() {
        let pool = share * (1.0 - r.gather_share);
        let raw: Vec<f64> = (0..reserve.len()).map(|i| 0.5f64.powi(i as i32)).collect();
        let sum: f64 = raw.iter().sum();
        for (uid, w) in reserve.iter().zip(raw) {
            set(&mut out, *uid, (pool * w / sum).min(smallest_gather));
        }
    }
    let burnt = 1.0 - out.iter().map(|(_, v)| v).sum::<f64>();
    set(&mut out, r.burn_uid, burnt.max(0.0));
    out
}

/// Per uid, its weight, sorted by uid.
type BTreeMapVec = Vec<(u16, f64)>;

fn set(v: &mut BTreeMapVec, uid: u16, value: f64) {
    match v.iter_mut().find(|(u, _)| *u == uid) {
        Some(e) => e.1 = value,
        None => {
            v.push((uid, value));
            v.sort_by_key(|e| e.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_weights() {
        let w = power(&[(1, 2.0), (2, 1.0), (3, -1.0), (4, 0.0)], 2.2);
        let expect = 2f64.powf(2.2) / (2f64.powf(2.2) + 1.0);
        assert!((w[0].1 - expect).abs() < 1e-15 && w[2].1 == 0.0 && w[3].1 == 0.0);
        assert!(power(&[(1, 1e-9)], 2.2).iter().all(|(_, v)| *v == 0.0));
    }

    #[test]
    fn ramp_weights() {
        let r = RampParams {
            burn_rate: 0.5,
            burn_uid: 1,
            gather_share: 0.75,
            gather_peer_count: 3,
            top_ratio: 2.0,
            reserve_peer_count: 2,
        };
        let finals: Vec<(u16, f64)> = (2..10).map(|u| (u, u as f64)).collect();
        let w = ramp(&finals, &r);
        let get = |u: u16| w.iter().find(|e| e.0 == u).unwrap().1;
        assert!((w.iter().map(|e| e.1).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(
            (get(9) / get(7) - 2.0).abs() < 1e-12,
            "the best gets twice the last gather peer"
        );
        assert!(get(6) <= get(7) && get(5) <= get(6) && get(4) == 0.0);
        assert!(get(1) >= 0.5);
    }
}
