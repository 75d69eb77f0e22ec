//! Which peers to evaluate when not all can be: the reference's rating bins and waiting
//! counters ([C-0.2.88] §4.4).
//!
//! Candidates are the window's `ok` peers with stake ≤ eval_stake_max. With at least
//! num_evaluation_bins × uids_per_window of them, they are sorted by ordinal (unrated = 0,
//! best first; ties by uid) and cut into num_evaluation_bins contiguous bins as the reference
//! cuts them (`numpy.array_split`: ⌊n/B⌋ each, one more in each of the first n mod B), and
//! one bin is picked at random; otherwise all form one bin. From the bin, uids_per_window
//! peers are drawn without replacement with probability proportional to their waiting
//! counters; the chosen reset to 1, the others gain 1. So every match is between peers of
//! similar rating, and nobody starves. The draw is seeded by the validator's evaluate.seed and
//! the window, and stored: re-running a window repeats its selection and counts nothing twice.

use crate::config::Config;
use crate::record::{Record, Status};
use crate::state::{Peer, State};
use anyhow::Result;

/// The evaluation bins of `n` candidates sorted best first, as index ranges: with at least
/// `num_bins × uids_per_window` candidates (and more than one bin), `num_bins` contiguous
/// bins cut as the reference cuts them (`numpy.array_split`: ⌊n/B⌋ each, one more in each
/// of the first n mod B); otherwise one bin of all.
pub fn bins(n: usize, num_bins: usize, uids_per_window: usize) -> Vec<(usize, usize)> {
    if num_bins > 1 && n >= num_bins * uids_per_window {
        (0..num_bins)
            .map(|i| crate::score::stats::split_bounds(n, num_bins, i))
            .collect()
    } else {
        vec![(0, n)]
    }
}

/// Marks the records not chosen as `not_selected`; returns the chosen uids.
pub fn select(state: &mut State, cfg: &Config, records: &mut [Record]) -> Result<Vec<u16>> {
    let Some(window) = records.first().map(|r| r.window) else {
        return Ok(Vec::new());
    };
    let h = &cfg.hparams;
    let tx = state.begin()?;
    let (chosen, detail) = match tx.read().selection(window)? {
        Some(done) => done,
        None => {
            let mut peers = tx.read().peers()?;
            // Copiers caught at the "mega" level sit out naughty_windows.
            let barred = |uid: u16| {
                peers
                    .get(&uid)
                    .and_then(|p| p.banned_until)
                    .is_some_and(|until| window < until)
            };
            let mut candidates: Vec<u16> = records
                .iter()
                .filter(|r| {
                    r.window == window
                        && r.status.is_ok()
                        && r.stake.unwrap_or(0.0) <= h.eval_stake_max
                        && !barred(r.uid)
                })
                .map(|r| r.uid)
                .collect();
            let ordinal = |uid: &u16| {
                peers
                    .get(uid)
                    .and_then(|p| p.rating)
                    .map(|r| r.ordinal())
                    .unwrap_or(0.0)
            };
            candidates.sort_by(|a, b| ordinal(b).total_cmp(&ordinal(a)).then(a.cmp(b)));
            let mut stream = blake3::Hasher::new_derive_key("gauntlet evaluation selection v1")
                .update(&cfg.evaluate.seed.to_le_bytes())
                .update(&window.to_le_bytes())
                .finalize_xof();
            let mut uniform = || {
                let mut b = [0u8; 8];
                stream.fill(&mut b);
                (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
            };
            let n = candidates.len();
            let ranges = bins(n, h.num_evaluation_bins, h.uids_per_window);
            let of = ranges.len();
            let bin = if of > 1 {
                ((uniform() * of as f64) as usize).min(of - 1)
            } else {
                0
            };
            let (lo, hi) = ranges[bin];
            let mut pool: Vec<u16> = candidates[lo..hi].to_vec();
            let mut chosen = Vec::new();
            while chosen.len() < h.uids_per_window && !pool.is_empty() {
                let weights: Vec<f64> = pool
                    .iter()
                    .map(|u| peers.get(u).map(|p| p.waiting.max(1)).unwrap_or(1) as f64)
                    .collect();
                let mut x = uniform() * weights.iter().sum::<f64>();
                let mut pick = pool.len() - 1;
                for (i, w) in weights.iter().enumerate() {
                    if x < *w {
                        pick = i;
                        break;
                    }
                    x -= w;
                }
                chosen.push(pool.remove(pick));
            }
            for uid in &candidates {
                let p = peers.entry(*uid).or_insert_with(|| Peer {
                    uid: *uid,
                    waiting: 1,
                    ..Default::default()
                });
                p.waiting = if chosen.contains(uid) {
                    1
                } else {
                    p.waiting.max(1) + 1
                };
                tx.put_peer(p)?;
            }
            let detail = format!(
                "bin {} of {of} ({} candidates, {} in the bin)",
                bin + 1,
                n,
                hi - lo
            );
            tx.put_selection(window, &chosen, &detail)?;
            (chosen, detail)
        }
    };
    tx.commit()?;
    for r in records.iter_mut() {
        if r.status.is_ok() && !chosen.contains(&r.uid) {
            r.fail(
                Status::NotSelected,
                format!("not selected for evaluation in window {window}: {detail}"),
            );
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::bins;

    fn sizes(b: &[(usize, usize)]) -> Vec<usize> {
        b.iter().map(|(lo, hi)| hi - lo).collect()
    }

    /// Expected sizes from numpy 2.4.6 (/opt/torch-venv-2.11.0/bin/python):
    /// `[len(b) for b in numpy.array_split(range(n), B)]`.
    #[test]
    fn bins_are_cut_as_numpy_array_split() {
        // n = 42, B = 10 -> [5, 5, 4, 4, 4, 4, 4, 4, 4, 4]: the extras go to the best bins.
        let b = bins(42, 10, 4);
        assert_eq!(sizes(&b), vec![5, 5, 4, 4, 4, 4, 4, 4, 4, 4]);
        assert_eq!(b[0], (0, 5));
        assert_eq!(b[2], (10, 14));
        assert_eq!(b[9], (38, 42));
        // Odd: n = 103, B = 5 -> [21, 21, 21, 20, 20]
        assert_eq!(sizes(&bins(103, 5, 20)), vec![21, 21, 21, 20, 20]);
        // Even: n = 44, B = 10 -> [5, 5, 5, 5, 4, 4, 4, 4, 4, 4]; n = 40 -> ten of 4
        assert_eq!(sizes(&bins(44, 10, 4)), vec![5, 5, 5, 5, 4, 4, 4, 4, 4, 4]);
        assert_eq!(sizes(&bins(40, 10, 4)), vec![4; 10]);
        // Fewer than B × uids_per_window candidates, or one bin: a single bin of all.
        assert_eq!(bins(39, 10, 4), vec![(0, 39)]);
        assert_eq!(bins(99, 5, 20), vec![(0, 99)]);
        assert_eq!(bins(7, 1, 4), vec![(0, 7)]);
        assert_eq!(bins(0, 0, 4), vec![(0, 0)]);
    }
}
