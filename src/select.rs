//! Which peers to evaluate when not all can be: the reference's rating bins and waiting
//! counters ([C-0.2.88] §4.4).
//!
//! Candidates are the window's `ok` peers with stake ≤ eval_stake_max. With at least
//! num_evaluation_bins × uids_per_window of them, they are sorted by ordinal (unrated = 0,
//! best first) and cut into num_evaluation_bins contiguous bins, and one bin is picked at
//! random; otherwise all form one bin. From the bin, uids_per_window peers are drawn without
//! replacement with probability proportional to their waiting counters; the chosen reset to 1,
//! the others gain 1. So every match is between peers of similar rating, and nobody starves.
//! The draw is seeded by the validator's evaluate.seed and the window, and stored: re-running a
//! window repeats its selection and counts nothing twice.

use crate::config::Config;
use crate::record::{Record, Status};
use crate::state::{Peer, State};
use anyhow::Result;

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
            let bins = h.num_evaluation_bins.max(1);
            let n = candidates.len();
            let (bin, of) = if n >= bins * h.uids_per_window && bins > 1 {
                (((uniform() * bins as f64) as usize).min(bins - 1), bins)
            } else {
                (0, 1)
            };
            let (lo, hi) = (bin * n / of, (bin + 1) * n / of);
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
