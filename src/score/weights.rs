//! From final scores to weights.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// weight ∝ final^p over positive final scores (paper era).
    Power,
    /// The latest reference's (v2.1.28, spec §11): a burn share to one uid; of the rest,
    /// `gather_share` to the top peers on a linear ramp (the best gets `top_ratio` × the
    /// last), the remainder to the next reserve peers, halving; a reserve that would top the
    /// last gather peer is scaled down to half of it, then all is rescaled to 1 − burn.
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
    // The gather peers on a linear ramp from top_ratio (best) to 1 (last), the reserve
    // halving, each group normalised to its share of what is not burnt.
    let g = gather.len();
    let ramp: Vec<f64> = (0..g)
        .map(|i| match g {
            1 => r.top_ratio,
            _ => r.top_ratio - (r.top_ratio - 1.0) * i as f64 / (g - 1) as f64,
        })
        .collect();
    let ramp_sum: f64 = ramp.iter().sum();
    let share = 1.0 - r.burn_rate;
    let mut gathered: Vec<f64> = ramp
        .iter()
        .map(|p| share * r.gather_share * p / ramp_sum)
        .collect();
    let halving: Vec<f64> = (0..reserve.len()).map(|i| 0.5f64.powi(i as i32)).collect();
    let halving_sum: f64 = halving.iter().sum();
    let mut reserved: Vec<f64> = halving
        .iter()
        .map(|q| share * (1.0 - r.gather_share) * q / halving_sum)
        .collect();
    // No reserve peer above half the last gather peer: the reserve is scaled down as a whole.
    let least_gathered = gathered.iter().copied().fold(f64::INFINITY, f64::min);
    let most_reserved = reserved.iter().copied().fold(0.0, f64::max);
    if g > 0 && most_reserved > least_gathered {
        let factor = least_gathered / most_reserved * 0.5;
        reserved.iter_mut().for_each(|w| *w *= factor);
    }
    // What is not burnt goes to the ranked peers, in those proportions; with none, the burn
    // uid takes everything.
    let total: f64 = gathered.iter().chain(&reserved).sum();
    if total > 0.0 {
        let scale = share / total;
        gathered.iter_mut().for_each(|w| *w *= scale);
        reserved.iter_mut().for_each(|w| *w *= scale);
    }
    for (uid, w) in gather
        .iter()
        .zip(gathered)
        .chain(reserve.iter().zip(reserved))
    {
        set(&mut out, *uid, w);
    }
    set(
        &mut out,
        r.burn_uid,
        if total > 0.0 { r.burn_rate } else { 1.0 },
    );
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
        assert_eq!(get(1), 0.5);
    }

    /// The latest reference's `update_weights` (spec §11), worked by hand: gather peers on a
    /// ramp from 2 to 1, reserve peers halving, the reserve scaled down by half of (least
    /// gather / most reserve) where it would top a gather peer, then all rescaled to
    /// 1 − burn; fewer peers than the ramp, none, and the burn uid's exact share.
    #[test]
    fn ramp_weights_as_the_latest_reference() {
        let r = RampParams {
            burn_rate: 0.5,
            burn_uid: 1,
            gather_share: 0.75,
            gather_peer_count: 3,
            top_ratio: 2.0,
            reserve_peer_count: 2,
        };
        let finals: Vec<(u16, f64)> = (2..=6).map(|u| (u, u as f64)).collect();
        let w = ramp(&finals, &r);
        let get = |w: &[(u16, f64)], u: u16| w.iter().find(|e| e.0 == u).unwrap().1;
        // Gather 6, 5, 4: 0.375·[2, 1.5, 1]/4.5; reserve 3, 2: 0.125·[1, 0.5]/1.5.
        let want = [
            (6, 0.375 * 2.0 / 4.5),
            (5, 0.375 * 1.5 / 4.5),
            (4, 0.375 / 4.5),
            (3, 0.125 / 1.5),
            (2, 0.125 * 0.5 / 1.5),
        ];
        for (u, v) in want {
            assert!(
                (get(&w, u) - v).abs() < 1e-15,
                "uid {u}: {} against {v}",
                get(&w, u)
            );
        }
        // 10 gather peers: the last gets 0.375·1/15 = 0.025, under the reserve's 1/12: the
        // reserve is scaled by 0.5·0.025/(1/12) = 0.15, then all rescaled to 0.5.
        let r10 = RampParams {
            gather_peer_count: 10,
            ..r.clone()
        };
        let finals: Vec<(u16, f64)> = (2..=13).map(|u| (u, u as f64)).collect();
        let w = ramp(&finals, &r10);
        let gathered = 0.375;
        let reserved = 0.125 * 0.15;
        let scale = 0.5 / (gathered + reserved);
        assert!((get(&w, 3) - 0.125 / 1.5 * 0.15 * scale).abs() < 1e-15);
        assert!((get(&w, 13) - 0.375 * 2.0 / 15.0 * scale).abs() < 1e-15);
        assert!(
            get(&w, 3) < get(&w, 4),
            "a reserve peer under every gather peer"
        );
        assert_eq!(get(&w, 1), 0.5);
        assert!((w.iter().map(|e| e.1).sum::<f64>() - 1.0).abs() < 1e-12);
        // No positive final: everything to the burn uid.
        let w = ramp(&[(2, 0.0), (3, -1.0)], &r);
        assert_eq!((get(&w, 1), get(&w, 2), get(&w, 3)), (1.0, 0.0, 0.0));
        // Fewer peers than the ramp: one gather peer takes the whole unburnt half.
        let w = ramp(&[(7, 3.0)], &r);
        assert_eq!((get(&w, 1), get(&w, 7)), (0.5, 0.5));
    }
}
