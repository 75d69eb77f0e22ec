//! Which pages each peer trains on in each window, and the validator's random pages.
//!
//! The reference seeds a generator with the uid and advances it by `window·pages_per_window`
//! draws; each page uses at least two draws, so a peer's pages in consecutive windows overlap.
//! Here each uid has its own keyed pseudo-random permutation of all pages (a Feistel network
//! keyed by `(assignment key, uid)` with a BLAKE3 round function), and window `w` takes the
//! permutation's positions `w·P … w·P + P − 1` (mod the page count). So:
//!
//! * anyone with the network's assignment key computes the same pages for `(uid, window)`;
//! * a peer's pages in consecutive windows never overlap (while the data has at least `2·P`
//!   pages), and a peer sees every page once before it sees any twice;
//! * different peers' pages are independent draws: without the key nobody can steer which
//!   pages another peer gets.

use anyhow::{bail, Result};
use std::collections::HashSet;

const ROUNDS: u8 = 8;

/// A keyed pseudo-random permutation of `0..n` (balanced Feistel with cycle walking).
struct Permutation {
    key: [u8; 32],
    n: u64,
    half_bits: u32,
}

impl Permutation {
    fn new(key: [u8; 32], n: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        Permutation {
            key,
            n,
            half_bits: bits.div_ceil(2).max(1),
        }
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let mut input = [0u8; 9];
        input[0] = round;
        input[1..].copy_from_slice(&half.to_le_bytes());
        let h = blake3::keyed_hash(&self.key, &input);
        u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes")) & self.mask()
    }

    fn mask(&self) -> u64 {
        (1u64 << self.half_bits) - 1
    }

    fn once(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half_bits, x & self.mask());
        for round in 0..ROUNDS {
            (l, r) = (r, l ^ self.round(round, r));
        }
        (l << self.half_bits) | r
    }

    /// The image of `x < n`; walking the cycle keeps it inside `0..n`.
    fn apply(&self, x: u64) -> u64 {
        debug_assert!(x < self.n);
        let mut y = self.once(x);
        while y >= self.n {
            y = self.once(y);
        }
        y
    }
}

/// Assigns pages of a dataset of `num_pages` pages.
#[derive(Clone, Debug)]
pub struct PageAssigner {
    key: [u8; 32],
    num_pages: u64,
    pages_per_window: usize,
}

impl PageAssigner {
    /// The network's assignment of `data`'s pages, as the config sets it.
    pub fn configured(cfg: &crate::config::Config, data: &super::Dataset) -> Result<Self> {
        PageAssigner::new(
            &cfg.data.assignment_key,
            data.num_pages(),
            cfg.hparams.pages_per_window,
        )
    }

    /// `assignment_key` is the network-wide key every validator and peer shares.
    pub fn new(assignment_key: &str, num_pages: u64, pages_per_window: usize) -> Result<Self> {
        if pages_per_window == 0 {
            bail!("pages_per_window must be at least 1");
        }
        if num_pages < pages_per_window as u64 {
            bail!(
                "the data has {num_pages} pages, fewer than the {pages_per_window} pages a peer trains on per window: pack more text, or lower hparams.pages_per_window or hparams.rows_per_page"
            );
        }
        let key = blake3::derive_key("gauntlet page assignment v1", assignment_key.as_bytes());
        Ok(PageAssigner {
            key,
            num_pages,
            pages_per_window,
        })
    }

    pub fn num_pages(&self) -> u64 {
        self.num_pages
    }

    fn uid_permutation(&self, uid: u16) -> Permutation {
        let mut input = b"uid:".to_vec();
        input.extend_from_slice(&uid.to_le_bytes());
        Permutation::new(
            *blake3::keyed_hash(&self.key, &input).as_bytes(),
            self.num_pages,
        )
    }

    /// The pages peer `uid` trains on in `window`, in training order.
    pub fn assigned(&self, uid: u16, window: u64) -> Vec<u64> {
        let perm = self.uid_permutation(uid);
        let p = self.pages_per_window as u64;
        let start = ((window as u128 * p as u128) % self.num_pages as u128) as u64;
        (0..p)
            .map(|i| perm.apply((start + i) % self.num_pages))
            .collect()
    }

    /// The window's common random pages: `count` distinct pages drawn with the validator's
    /// `seed`, none of them assigned in this window to any of `uids`.
    pub fn random(&self, seed: u64, window: u64, count: usize, uids: &[u16]) -> Result<Vec<u64>> {
        let taken: HashSet<u64> = uids
            .iter()
            .flat_map(|&u| self.assigned(u, window))
            .collect();
        let free = self.num_pages - taken.len() as u64;
        if free < count as u64 {
            bail!(
                "the data has {} pages and the {} peers of window {window} are assigned {} of them, leaving {free} for {count} random pages: pack more text or lower pages_per_window",
                self.num_pages,
                uids.len(),
                taken.len()
            );
        }
        let mut input = b"random:".to_vec();
        input.extend_from_slice(&seed.to_le_bytes());
        input.extend_from_slice(&window.to_le_bytes());
        let perm = Permutation::new(
            *blake3::keyed_hash(&self.key, &input).as_bytes(),
            self.num_pages,
        );
        // Walking a permutation visits every page once, so this ends after at most num_pages steps.
        Ok((0..self.num_pages)
            .map(|i| perm.apply(i))
            .filter(|p| !taken.contains(p))
            .take(count)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_for_awkward_sizes() {
        for n in [1u64, 2, 3, 7, 64, 100, 257, 1000] {
            let perm = Permutation::new([7; 32], n);
            let mut seen: Vec<u64> = (0..n).map(|x| perm.apply(x)).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
