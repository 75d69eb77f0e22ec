//! The latest reference's (Templar v2.1.28) rules on what a peer keeps doing wrong, as pure
//! functions of a peer's state: escalating slashes for consecutive misses and a bar for a
//! peer that misses half its windows, slashes for a run of negative evaluations and leaving
//! such a peer out of the aggregation, and the BMA threshold of the final score. Each rule is
//! off at the paper era's defaults (`HyperParams`); `../shared/spec/templar-v2.1.28.md` §4.4,
//! §5.1 and §7 give them.

use crate::config::HyperParams;
use crate::state::Peer;

/// Multiplies a positive final score and its BMA by `factor`; a final left under
/// `score_zero_threshold` becomes 0. A negative final is left alone (slashing it would raise
/// it).
pub fn slash(p: &mut Peer, factor: f64, h: &HyperParams) {
    if p.final_score > 0.0 {
        p.final_score *= factor;
        p.bma *= factor;
        if p.final_score < h.score_zero_threshold {
            p.final_score = 0.0;
        }
    }
}

fn remember(history: &mut Vec<bool>, value: bool, keep: usize) {
    history.push(value);
    let excess = history.len().saturating_sub(keep);
    history.drain(..excess);
}

/// What a miss did to a peer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Miss {
    /// Final and BMA multiplied by this.
    Slashed(f64),
    /// Missed `miss_ban_ratio` of its remembered windows: reset and barred.
    Barred,
}

/// A window in which the peer had no usable upload. With `miss_history_windows` 0 this is
/// the paper era's flat `missing_slash`.
pub fn missed(p: &mut Peer, window: u64, h: &HyperParams) -> Miss {
    if h.miss_history_windows > 0 {
        remember(&mut p.history.misses, true, h.miss_history_windows);
        p.history.consecutive_misses += 1;
        let misses = p.history.misses.iter().filter(|&&m| m).count();
        if p.history.misses.len() >= h.miss_history_windows
            && misses as f64 >= h.miss_ban_ratio * p.history.misses.len() as f64
        {
            *p = Peer {
                uid: p.uid,
                waiting: 1,
                last_active: p.last_active,
                banned_until: Some(window + h.naughty_windows),
                ..Default::default()
            };
            return Miss::Barred;
        }
    }
    let factor = match h.missing_slash_escalation.as_slice() {
        [] => h.missing_slash,
        steps => {
            let run = (p.history.consecutive_misses.max(1) as usize).min(steps.len());
            steps[run - 1]
        }
    };
    slash(p, factor, h);
    Miss::Slashed(factor)
}

/// A window in which the peer's upload was usable: its run of misses ends.
pub fn delivered(p: &mut Peer, h: &HyperParams) {
    if h.miss_history_windows > 0 {
        remember(&mut p.history.misses, false, h.miss_history_windows);
    }
    p.history.consecutive_misses = 0;
}

/// An evaluation's score: remembered as negative or not (exactly 0 is not negative). A
/// non-negative one ends a run of negatives and with it the peer's exclusion.
pub fn evaluated(p: &mut Peer, score: f64, h: &HyperParams) {
    if h.negative_history == 0 {
        return;
    }
    let negative = score < 0.0;
    remember(&mut p.history.negatives, negative, h.negative_history);
    if negative {
        p.history.consecutive_negatives += 1;
    } else {
        p.history.consecutive_negatives = 0;
        p.history.excluded = false;
    }
}

/// Whether the window was bad for everyone, so that no one is punished for negative scores:
/// its fifth-best score (or its worst, with fewer) is itself negative. `scores` are the
/// window's rating scores, penalty scores included.
pub fn bad_window(scores: &[f64]) -> bool {
    if scores.is_empty() {
        return false;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted[4.min(sorted.len() - 1)] < 0.0
}

/// Once per window, for every peer with a history of evaluations (evaluated this window or
/// not): more than `negative_max` negatives among the last `negative_window` multiply final
/// and BMA by `negative_slash` (again each window, as long as the history says so), and
/// `consecutive_negative_threshold` negatives in a row exclude it from the aggregation.
/// Neither happens in a bad window. Returns whether it was slashed.
pub fn negatives(p: &mut Peer, bad_window: bool, h: &HyperParams) -> bool {
    let history = &p.history.negatives;
    if h.negative_history == 0 || history.is_empty() || bad_window {
        return false;
    }
    let recent = &history[history.len().saturating_sub(h.negative_window)..];
    let slashed = history.len() >= h.negative_window
        && recent.iter().filter(|&&n| n).count() > h.negative_max;
    if h.exclude_negative_peers
        && p.history.consecutive_negatives >= h.consecutive_negative_threshold
    {
        p.history.excluded = true;
    }
    if slashed {
        slash(p, h.negative_slash, h);
    }
    slashed
}

/// The BMA that enters the final score: `max(0, BMA)`, and 0 under `bma_threshold` once the
/// validator has applied `bma_warmup_windows` windows.
pub fn effective_bma(bma: f64, windows_applied: u64, h: &HyperParams) -> f64 {
    let bma = bma.max(0.0);
    if h.bma_threshold > 0.0 && windows_applied >= h.bma_warmup_windows && bma < h.bma_threshold {
        return 0.0;
    }
    bma
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The latest reference's values for these rules (spec §13).
    fn latest() -> HyperParams {
        HyperParams {
            score_zero_threshold: 1e-4,
            bma_threshold: 0.10,
            bma_warmup_windows: 10,
            missing_gradient_penalty_score: Some(-99.0),
            missing_slash_escalation: vec![0.75, 0.5, 0.0],
            miss_history_windows: 8,
            miss_ban_ratio: 0.5,
            negative_history: 20,
            negative_window: 8,
            negative_max: 4,
            negative_slash: 0.25,
            consecutive_negative_threshold: 3,
            exclude_negative_peers: true,
            naughty_windows: 20,
            ..HyperParams::default()
        }
    }

    fn peer(final_score: f64, bma: f64) -> Peer {
        Peer {
            uid: 7,
            final_score,
            bma,
            ..Default::default()
        }
    }

    #[test]
    fn consecutive_misses_escalate_and_a_delivery_restarts_them() {
        let h = latest();
        let mut p = peer(1.0, 0.5);
        assert_eq!(missed(&mut p, 1, &h), Miss::Slashed(0.75));
        assert_eq!(missed(&mut p, 2, &h), Miss::Slashed(0.5));
        assert_eq!((p.final_score, p.bma), (0.375, 0.1875));
        assert_eq!(missed(&mut p, 3, &h), Miss::Slashed(0.0));
        assert_eq!(missed(&mut p, 4, &h), Miss::Slashed(0.0));
        assert_eq!((p.final_score, p.bma), (0.0, 0.0));
        let mut q = peer(1.0, 0.5);
        missed(&mut q, 1, &h);
        delivered(&mut q, &h);
        assert_eq!(
            missed(&mut q, 3, &h),
            Miss::Slashed(0.75),
            "the run restarted"
        );
        // The paper era: a flat missing_slash, nothing remembered.
        let paper = HyperParams::default();
        let mut r = peer(1.0, 0.5);
        for w in 0..3 {
            assert_eq!(missed(&mut r, w, &paper), Miss::Slashed(0.75));
        }
        assert!(r.history.misses.is_empty());
    }

    #[test]
    fn half_the_windows_missed_bars_a_peer_even_when_the_misses_alternate() {
        let h = latest();
        let mut p = peer(2.0, 0.5);
        // Alternating: never past the first step, but 4 of 8 once the history is full.
        for w in 0..7 {
            if w % 2 == 0 {
                assert_eq!(missed(&mut p, w, &h), Miss::Slashed(0.75));
            } else {
                delivered(&mut p, &h);
            }
        }
        assert_eq!(p.history.misses.len(), 7);
        delivered(&mut p, &h);
        assert_eq!(missed(&mut p, 8, &h), Miss::Barred);
        assert_eq!(p.banned_until, Some(28));
        assert_eq!((p.final_score, p.bma, p.rating), (0.0, 0.0, None));
        // 3 of 8: not barred.
        let mut q = peer(2.0, 0.5);
        for w in 0..8 {
            if w % 3 == 0 {
                missed(&mut q, w, &h);
            } else {
                delivered(&mut q, &h);
            }
        }
        assert_eq!(q.banned_until, None);
    }

    #[test]
    fn a_slash_zeroes_a_final_under_the_threshold_and_leaves_a_negative_alone() {
        let h = latest();
        let mut p = peer(1.2e-4, 0.3);
        slash(&mut p, 0.75, &h);
        assert_eq!(p.final_score, 0.0);
        let mut n = peer(-3.0, 0.3);
        slash(&mut n, 0.5, &h);
        assert_eq!((n.final_score, n.bma), (-3.0, 0.3));
    }

    #[test]
    fn a_run_of_negative_evaluations_slashes_every_window_and_excludes() {
        let h = latest();
        let mut p = peer(4.0, 0.8);
        for score in [0.1, -0.1, -0.2] {
            evaluated(&mut p, score, &h);
        }
        assert!(
            !negatives(&mut p, false, &h),
            "3 evaluations: too few to count"
        );
        assert!(!p.history.excluded, "2 in a row");
        evaluated(&mut p, -0.3, &h);
        negatives(&mut p, false, &h);
        assert!(p.history.excluded, "3 in a row");
        for score in [-0.1, -0.1, -0.1, 0.0] {
            evaluated(&mut p, score, &h);
        }
        assert!(
            !p.history.excluded,
            "exactly 0 is not negative: the run ends"
        );
        // 8 evaluations, 6 negative: over 4 of the last 8.
        assert!(negatives(&mut p, false, &h));
        assert_eq!((p.final_score, p.bma), (1.0, 0.2));
        assert!(negatives(&mut p, false, &h), "again the next window");
        assert_eq!(p.final_score, 0.25);
        // Not in a window that was bad for everyone.
        assert!(!negatives(&mut p, true, &h));
        // Off at the paper era's defaults.
        let mut q = peer(4.0, 0.8);
        for _ in 0..10 {
            evaluated(&mut q, -1.0, &HyperParams::default());
        }
        assert!(!negatives(&mut q, false, &HyperParams::default()));
        assert!(q.history.negatives.is_empty());
    }

    #[test]
    fn a_bad_window_is_one_whose_fifth_best_score_is_negative() {
        assert!(!bad_window(&[]));
        assert!(bad_window(&[-1.0]), "one score: the worst is the fifth");
        assert!(
            bad_window(&[0.3, -5.0]),
            "with two scores the worst decides"
        );
        assert!(
            !bad_window(&[0.5, 0.0, 0.1, 0.2, 0.3]),
            "a fifth-best of 0 is not negative"
        );
        assert!(!bad_window(&[0.5, 0.4, 0.3, 0.2, 0.1, -99.0, -99.0]));
        assert!(bad_window(&[0.5, 0.4, 0.3, 0.2, -0.1, -99.0]));
    }

    #[test]
    fn the_bma_threshold_applies_after_the_warm_up() {
        let h = latest();
        assert_eq!(effective_bma(0.05, 9, &h), 0.05, "still warming up");
        assert_eq!(effective_bma(0.05, 10, &h), 0.0);
        assert_eq!(effective_bma(0.10, 10, &h), 0.10, "at the threshold counts");
        assert_eq!(effective_bma(-0.3, 0, &h), 0.0);
        assert_eq!(effective_bma(0.05, 100, &HyperParams::default()), 0.05);
    }
}
