//! OpenSkill's Plackett–Luce rating, as the reference validator runs it: openskill.py 6.1.3
//! (the version the reference locks) by default, 6.2.0 by a switch; every player a team of
//! one. The arithmetic follows the library operation for operation, in the same order, so the
//! results agree to the last bits (`shared/spec/openskill.md` §3).

use serde::{Deserialize, Serialize};

/// Which release's tie handling to reproduce. They differ only when a match has ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TieRule {
    /// openskill 6.1.3: a score of exactly 0.0 ranks as its position (`-s or i`), and every
    /// tied opponent counts as a win in the omega term.
    #[serde(rename = "6.1.3")]
    V6_1_3,
    /// openskill 6.2.0: scores rank as they are; only the player itself counts as a win.
    #[serde(rename = "6.2.0")]
    V6_2_0,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub mu: f64,
    pub sigma: f64,
}

impl Rating {
    /// mu − 3·sigma: what a peer is paid on.
    pub fn ordinal(&self) -> f64 {
        self.mu - 3.0 * self.sigma
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlackettLuce {
    pub mu: f64,
    pub sigma: f64,
    pub beta: f64,
    pub kappa: f64,
    pub tau: f64,
    pub limit_sigma: bool,
    pub ties: TieRule,
}

impl PlackettLuce {
    pub fn from_hparams(h: &crate::config::HyperParams) -> PlackettLuce {
        PlackettLuce {
            mu: h.openskill_mu,
            sigma: h.openskill_sigma,
            beta: h.openskill_beta,
            kappa: h.openskill_kappa,
            tau: h.openskill_tau,
            limit_sigma: h.openskill_limit_sigma,
            ties: h.openskill_ties,
        }
    }

    /// A new player's rating.
    pub fn rating(&self) -> Rating {
        Rating {
            mu: self.mu,
            sigma: self.sigma,
        }
    }

    /// Ranks from scores, higher better, as the library turns `scores=` into ranks.
    pub fn ranks_from_scores(&self, scores: &[f64]) -> Vec<usize> {
        let keys: Vec<f64> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let k = -s;
                // 6.1.x: `-s or i` — a zero key (from a score of ±0.0) becomes the position.
                if self.ties == TieRule::V6_1_3 && k == 0.0 {
                    i as f64
                } else {
                    k
                }
            })
            .collect();
        keys.iter()
            .map(|k| keys.iter().filter(|j| *j < k).count())
            .collect()
    }

    /// One match, players given in the caller's order with higher scores better; returns the
    /// new ratings in the same order.
    pub fn rate_scores(&self, players: &[Rating], scores: &[f64]) -> Vec<Rating> {
        assert_eq!(players.len(), scores.len(), "one score per player");
        self.rate_ranked(players, &self.ranks_from_scores(scores))
    }

    /// One match with explicit ranks (lower is better; `trunc` as Python's `int()`).
    pub fn rate_ranks(&self, players: &[Rating], ranks: &[f64]) -> Vec<Rating> {
        assert_eq!(players.len(), ranks.len(), "one rank per player");
        let ranks: Vec<i64> = ranks.iter().map(|r| r.trunc() as i64).collect();
        let min = ranks.iter().copied().min().unwrap_or(0);
        let as_usize: Vec<usize> = ranks.iter().map(|r| (r - min) as usize).collect();
        // Only the order of ranks matters; shifting them keeps it.
        self.rate_ranked(players, &as_usize)
    }

    fn rate_ranked(&self, players: &[Rating], ranks: &[usize]) -> Vec<Rating> {
        let n = players.len();
        if n < 2 {
            return players.to_vec();
        }
        // tau is always added: sig = sqrt(sigma² + tau²).
        let sig: Vec<f64> = players
            .iter()
            .map(|p| (p.sigma * p.sigma + self.tau * self.tau).sqrt())
            .collect();
        // Players in stable rank order; every sum below runs in this order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| ranks[i]);
        let rank: Vec<usize> = order.iter().map(|&i| ranks[i]).collect();
        let mu: Vec<f64> = order.iter().map(|&i| players[i].mu).collect();
        let s2: Vec<f64> = order.iter().map(|&i| sig[i] * sig[i]).collect();
        let beta2 = self.beta * self.beta;
        let mut total = 0.0;
        for v in &s2 {
            total += v + beta2;
        }
        let c = total.sqrt();
        let e: Vec<f64> = mu.iter().map(|m| (m / c).exp()).collect();
        let mut sum_q = vec![0.0; n];
        let mut started = vec![false; n];
        for i in 0..n {
            for q in 0..n {
                if rank[i] >= rank[q] {
                    if started[q] {
                        sum_q[q] += e[i];
                    } else {
                        sum_q[q] = e[i];
                        started[q] = true;
                    }
                }
            }
        }
        let a: Vec<f64> = (0..n)
            .map(|q| rank.iter().filter(|&&r| r == rank[q]).count() as f64)
            .collect();
        let mut out = vec![
            Rating {
                mu: 0.0,
                sigma: 0.0
            };
            n
        ];
        for i in 0..n {
            let (mut omega, mut delta) = (0.0f64, 0.0f64);
            for q in 0..n {
                if rank[q] > rank[i] {
                    continue;
                }
                let x = e[i] / sum_q[q];
                delta += x * (1.0 - x) / a[q];
                let wins = match self.ties {
                    TieRule::V6_2_0 => q == i,
                    TieRule::V6_1_3 => rank[q] == rank[i],
                };
                if wins {
                    omega += (1.0 - x) / a[q];
                } else {
                    omega -= x / a[q];
                }
            }
            omega *= s2[i] / c;
            delta *= s2[i] / (c * c);
            delta *= s2[i].sqrt() / c;
            let original = order[i];
            let sig_i = sig[original];
            let mut sigma = sig_i
                * (1.0 - (sig_i * sig_i / s2[i]) * delta)
                    .max(self.kappa)
                    .sqrt();
            if self.limit_sigma {
                sigma = sigma.min(players[original].sigma);
            }
            out[original] = Rating {
                mu: mu[i] + (sig_i * sig_i / s2[i]) * omega,
                sigma,
            };
        }
        out
    }
}
