//! The rate stage: a window's evaluations and failures into ratings, moving averages,
//! slashes, final scores and weights, applied to the state once and in one transaction.
//!
//! Per record of the window, in order:
//! * evaluated (`ok` with `eval`): BMA ← (1 − α)·BMA + α·indicator; sync ← the record's score;
//! * `missing`, `early`, `late`, `unreachable`, `too_large`, `misassigned`: final and BMA ×
//!   missing_slash (or by the run of misses, `missing_slash_escalation`; half the remembered
//!   windows missed bars the peer: `score::penalties`);
//! * `desynced`: final and BMA × sync_slash;  `malformed`: final → 0;
//! * `duplicate` (dedupe): final and BMA × idx_overlap_slash ("high"), a full reset ("max"),
//!   or a reset and a bar of naughty_windows from evaluation ("mega");
//!
//! slashes touch only positive final scores (a slashed negative would rise). Runs of negative
//! evaluations slash and exclude (`negative_history`, off by default). Then one
//! Plackett–Luce match of the evaluated peers by score, in record order (≥ 2 players; peers
//! without a usable upload join with `missing_gradient_penalty_score` where set), and for
//! each of them final = ordinal · max(0, BMA) · sync (a BMA under `bma_threshold` counting
//! as 0 after `bma_warmup_windows`). Peers the state knows that uploaded
//! nothing for `recent_windows` decay by inactivity_slash per window and are reset after
//! reset_inactivity_windows. Weights come from every positive final score.

use crate::config::HyperParams;
use crate::record::{DedupeLevel, RatingInfo, Record, Roster, Status};
use crate::score::openskill::PlackettLuce;
use crate::score::penalties;
use crate::score::weights::{self, RampParams, Schedule};
use crate::state::{Peer, Reader, State};
use anyhow::Result;
use std::collections::BTreeMap;

pub struct Outcome {
    pub records: Vec<Record>,
    /// False when the window had been applied before and nothing changed.
    pub applied: bool,
}

/// Whether `rate` checks that a window is whole, has begun and comes after the last one applied
/// (`Checked`), or applies what it is given (`Forced`, the operator's explicit `--force`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Checked,
    Forced,
}

/// Refuses a window that is not whole (fewer or other peers than its roster), that had not
/// begun when its peers were listed, or that is older than the last window applied.
fn admit(read: &Reader, window: u64, records: &[Record]) -> Result<()> {
    const FORCE: &str = "or pass --force to rate these records as they are";
    let Some(roster) = records.first().and_then(|r| r.roster.as_ref()) else {
        anyhow::bail!(
            "window {window}: the records carry no roster, so whether the window is whole cannot be told; rate the records that `gauntlet peers` started for it, {FORCE}"
        );
    };
    anyhow::ensure!(
        records.iter().all(|r| r.roster.as_ref() == Some(roster)),
        "window {window}: the records come from more than one `gauntlet peers` listing; rate one listing's records, {FORCE}"
    );
    let mut uids: Vec<u16> = records.iter().map(|r| r.uid).collect();
    uids.sort_unstable();
    if uids.len() != roster.peers || Roster::digest(&uids) != roster.digest {
        let what = if uids.len() < roster.peers {
            format!("{} of them are missing", roster.peers - uids.len())
        } else {
            "its uids are not the ones listed".to_string()
        };
        anyhow::bail!(
            "window {window} is not whole: `gauntlet peers` listed {} peers, the input has {} records and {what} (a stage's output cut short or filtered?); nothing was applied. Rate the whole window (every shard's records concatenated), {FORCE}",
            roster.peers,
            uids.len()
        );
    }
    anyhow::ensure!(
        window <= roster.network_window,
        "window {window} had not begun: the network was at window {} when `gauntlet peers` listed it, so its peers cannot have uploaded; rate a window once it has ended, {FORCE}",
        roster.network_window
    );
    if let Some(last) = read.last_applied()? {
        anyhow::ensure!(
            window > last,
            "window {window} is older than window {last}, the last one applied: windows are rated in order. To rate it again, `gauntlet state forget --window {window}` and rate windows {window} to {last} again in order; {FORCE}"
        );
    }
    Ok(())
}

/// Applies one window's records (all of the same window) to the state.
pub fn rate(
    state: &mut State,
    h: &HyperParams,
    schedule: Schedule,
    ramp: &RampParams,
    records: Vec<Record>,
    admission: Admission,
) -> Result<Outcome> {
    let Some(window) = records.first().map(|r| r.window) else {
        return Ok(Outcome {
            records,
            applied: false,
        });
    };
    anyhow::ensure!(
        records.iter().all(|r| r.window == window),
        "rate takes one window at a time: the input mixes windows"
    );
    let mut seen = std::collections::HashSet::new();
    for r in &records {
        anyhow::ensure!(
            seen.insert(r.uid),
            "uid {} appears twice in window {window}",
            r.uid
        );
    }
    let tx = state.begin()?;
    if tx.read().applied(window)? {
        // Idempotent: the window's records as they were rated the first time.
        let rated = tx.read().history(window)?;
        return Ok(Outcome {
            records: if rated.is_empty() { records } else { rated },
            applied: false,
        });
    }
    if admission == Admission::Checked {
        admit(&tx.read(), window, &records)?;
    }
    let model = PlackettLuce::from_hparams(h);
    let mut peers: BTreeMap<u16, Peer> = tx.read().peers()?;
    tx.put_snapshot(window, &peers.values().collect::<Vec<_>>())?;
    let windows_applied = tx
        .read()
        .first_applied()?
        .map_or(0, |first| window.saturating_sub(first));
    let mut records = records;
    let slash = |p: &mut Peer, factor: f64| penalties::slash(p, factor, h);
    // The window's rating match: (record, score) of each evaluated peer, and of each peer
    // without a usable upload where a penalty score makes missing work cost rating.
    let mut players: Vec<(usize, f64)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let p = peers.entry(r.uid).or_insert_with(|| Peer {
            uid: r.uid,
            waiting: 1,
            ..Default::default()
        });
        let uploaded = r.object.is_some();
        if uploaded {
            p.last_active = Some(window);
            p.inactive_since = None;
        }
        let no_upload = matches!(
            r.status,
            Status::Missing
                | Status::Early
                | Status::Late
                | Status::Unreachable
                | Status::TooLarge
                | Status::Misassigned
                | Status::Malformed
        );
        if no_upload {
            if let Some(score) = h.missing_gradient_penalty_score {
                players.push((i, score));
            }
        } else if uploaded {
            penalties::delivered(p, h);
        }
        match (&r.status, &r.eval) {
            (Status::Ok, Some(e)) => {
                p.bma = (1.0 - h.binary_score_ma_alpha) * p.bma
                    + h.binary_score_ma_alpha * e.indicator as f64;
                if let Some(s) = &r.sync {
                    p.sync = s.score;
                }
                penalties::evaluated(p, e.score, h);
                players.push((i, e.score));
            }
            (
                Status::Missing
                | Status::Early
                | Status::Late
                | Status::Unreachable
                | Status::TooLarge
                | Status::Misassigned,
                _,
            ) => {
                penalties::missed(p, window, h);
            }
            (Status::Desynced, _) => slash(p, h.sync_slash),
            (Status::Duplicate, _) => match r.dedupe.as_ref().and_then(|d| d.level) {
                // The reference's levels: max resets the copier, mega also bars it.
                Some(level @ (DedupeLevel::Max | DedupeLevel::Mega)) => {
                    let banned = (level == DedupeLevel::Mega).then_some(window + h.naughty_windows);
                    *p = Peer {
                        uid: p.uid,
                        waiting: 1,
                        last_active: p.last_active,
                        banned_until: banned,
                        ..Default::default()
                    };
                }
                _ => slash(p, h.idx_overlap_slash),
            },
            (Status::Malformed, _) if p.final_score > 0.0 => p.final_score = 0.0,
            _ => {}
        }
    }
    // Runs of negative evaluations, for every peer that has them, before the match.
    let scores: Vec<f64> = players.iter().map(|&(_, s)| s).collect();
    let bad_window = penalties::bad_window(&scores);
    for p in peers.values_mut() {
        penalties::negatives(p, bad_window, h);
    }
    if players.len() >= 2 {
        let ratings: Vec<_> = players
            .iter()
            .map(|&(i, _)| {
                peers[&records[i].uid]
                    .rating
                    .unwrap_or_else(|| model.rating())
            })
            .collect();
        let rated = model.rate_scores(&ratings, &scores);
        for (&(i, _), new) in players.iter().zip(rated) {
            let p = peers.get_mut(&records[i].uid).expect("inserted above");
            p.rating = Some(new);
            // A peer that played with the penalty score keeps the final its slash left (the
            // reference recomputes it, undoing the slash; see the README); the lower rating
            // counts from its next evaluation on.
            if records[i].eval.is_some() {
                p.final_score =
                    new.ordinal() * penalties::effective_bma(p.bma, windows_applied, h) * p.sync;
            }
        }
    }
    // Inactivity: peers that uploaded nothing for recent_windows.
    for p in peers.values_mut() {
        let active = p
            .last_active
            .is_some_and(|w| window.saturating_sub(w) <= h.recent_windows);
        if active || p.last_active.is_none() {
            continue;
        }
        let since = *p.inactive_since.get_or_insert(window);
        if window.saturating_sub(since) > h.reset_inactivity_windows {
            *p = Peer {
                uid: p.uid,
                waiting: 1,
                last_active: p.last_active,
                ..Default::default()
            };
        } else if p.final_score > 0.0 {
            p.final_score *= h.inactivity_slash;
        }
    }
    let finals: Vec<(u16, f64)> = peers.values().map(|p| (p.uid, p.final_score)).collect();
    let weights = match schedule {
        Schedule::Power => weights::power(&finals, h.power_normalisation),
        Schedule::Ramp => weights::ramp(&finals, ramp),
    };
    let weight_of: BTreeMap<u16, f64> = weights.iter().copied().collect();
    for r in &mut records {
        let p = &peers[&r.uid];
        if let Some(rating) = p.rating {
            r.rating = Some(RatingInfo {
                mu: rating.mu,
                sigma: rating.sigma,
                ordinal: rating.ordinal(),
                bma: p.bma,
                final_score: p.final_score,
                excluded: p.history.excluded,
                extra: Default::default(),
            });
        }
        r.weight = Some(weight_of.get(&r.uid).copied().unwrap_or(0.0));
    }
    for p in peers.values() {
        tx.put_peer(p)?;
    }
    for r in &records {
        tx.put_history(r)?;
    }
    tx.put_weights(window, &weights)?;
    if h.windows_per_weights > 0 && window % h.windows_per_weights == 0 {
        tx.add_submission(window)?;
    }
    tx.mark_applied(window, records.len(), players.len())?;
    #[cfg(feature = "failpoints")]
    crate::failpoint::pause("rate_before_commit");
    tx.commit()?;
    Ok(Outcome {
        records,
        applied: true,
    })
}
