//! The dedupe stage: peers whose upload copies another peer's of the same window.
//!
//! For every pair of the window's `ok` peers and every parameter: the per-chunk overlap of
//! their top-k index sets |I_a ∩ I_b| / k, and the cosine of their dequantised values over the
//! union of their indices; both averaged over parameters weighted by their size (chunks · k),
//! as the reference weighs overlap.
//!
//! Index overlap alone cannot tell a copy from honest work early in training, when every
//! peer's gradient points the same common way (measured on the tiny model: honest pairs
//! overlap 0.66–0.73, above the reference's 0.4; the reference skips its first 20 steps for
//! this reason). Values can: a copy agrees with its victim (cosine ≥ dedupe_min_cosine, 0.95;
//! honest pairs 0.74–0.80). So a pair is a copy when its overlap reaches idx_overlap_threshold
//! and its values agree; and a peer is a blend when its values agree with the sum of two
//! earlier uploads (tried for the three earlier peers most like it).
//!
//! The later uploader **of this window** is the copier (the reference compares the previous
//! window's objects); equal upload times leave the pair unresolved and nobody is blamed. The
//! copier's record becomes `duplicate`, with whom it copied, how closely, and the reference's
//! level by overlap: high (≥ 0.4), max (≥ 0.5, reset), mega (≥ 0.6, reset and barred).

use crate::codec::{Encoded, Layout};
use crate::config::HyperParams;
use crate::record::{DedupeInfo, DedupeLevel, Record, Status};
use serde::Serialize;
use tch::{Kind, Tensor};

/// How alike two peers' uploads are.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Similarity {
    pub overlap: f64,
    pub cosine: f64,
}

/// One peer's upload, ready to compare: per parameter, global indices (chunk · totalk +
/// index) sorted, the dequantised values in the same order, and the parameter's weight.
pub struct Fingerprint {
    params: Vec<(Tensor, Tensor, f64, i64)>,
}

impl Fingerprint {
    pub fn new(layouts: &[Layout], encoded: &[Encoded]) -> Fingerprint {
        let params = layouts
            .iter()
            .zip(encoded)
            .map(|(l, e)| {
                let chunks = l.num_chunks();
                let base =
                    Tensor::arange(chunks, (Kind::Int64, e.idx.device())).unsqueeze(-1) * l.totalk;
                let global = (e.idx.reshape([chunks, l.k]) + base).flatten(0, -1);
                let values = e.values().to_kind(Kind::Double).flatten(0, -1);
                let (sorted, order) = global.sort(0, false);
                (
                    sorted,
                    values.index_select(0, &order),
                    (chunks * l.k) as f64,
                    l.k,
                )
            })
            .collect();
        Fingerprint { params }
    }

    /// The coefficient-wise sum of two uploads (a blend of both would agree with it).
    pub fn sum(&self, other: &Fingerprint) -> Fingerprint {
        let params = self
            .params
            .iter()
            .zip(&other.params)
            .map(|((ia, va, w, k), (ib, vb, _, _))| {
                let idx = Tensor::cat(&[ia, ib], 0);
                let vals = Tensor::cat(&[va, vb], 0);
                let (sorted, order) = idx.sort(0, false);
                let (unique, inverse, _) = sorted.unique_consecutive(true, false, 0);
                let summed = Tensor::zeros([unique.size()[0]], (Kind::Double, vals.device()))
                    .index_add(0, &inverse, &vals.index_select(0, &order));
                (unique, summed, *w, *k)
            })
            .collect();
        Fingerprint { params }
    }

    pub fn compare(&self, other: &Fingerprint) -> Similarity {
        let (mut overlap, mut cosine, mut weight) = (0.0, 0.0, 0.0);
        for ((ia, va, w, _k), (ib, vb, _, _)) in self.params.iter().zip(&other.params) {
            let in_b = Tensor::isin(ia, ib, true, false);
            let in_a = Tensor::isin(ib, ia, true, false);
            let shared = in_b.sum(Kind::Int64).int64_value(&[]) as f64;
            // Indices are distinct per chunk, so shared / (chunks · k) is the mean per-chunk overlap.
            overlap += w * (shared / w);
            let (sa, sb) = (va.masked_select(&in_b), vb.masked_select(&in_a));
            let dot = (&sa * &sb).sum(Kind::Double).double_value(&[]);
            let norms = va.norm().double_value(&[]) * vb.norm().double_value(&[]);
            cosine += w * if norms > 0.0 { dot / norms } else { 0.0 };
            weight += w;
        }
        Similarity {
            overlap: overlap / weight.max(1.0),
            cosine: cosine / weight.max(1.0),
        }
    }
}

/// The reference's level for an overlap: high, max or mega.
pub fn level(overlap: f64, h: &HyperParams) -> DedupeLevel {
    if overlap >= h.idx_overlap_ban_threshold {
        DedupeLevel::Mega
    } else if overlap >= h.idx_overlap_reset_threshold {
        DedupeLevel::Max
    } else {
        DedupeLevel::High
    }
}

/// Compares every pair of the given peers (`(record index, fingerprint)`) and marks copiers.
/// The dedupe stage over one window's records: each `ok` peer's file read and checked again
/// (a bad one becomes `malformed`), fingerprinted, and the copies judged. Returns how many
/// peers were compared.
pub fn run(cfg: &crate::config::Config, records: &mut [Record]) -> anyhow::Result<usize> {
    use crate::wire::{self, gradient};
    let (codec, layouts) = crate::wire::layouts(cfg, tch::Device::Cpu)?;
    let mut prints = Vec::new();
    for (i, r) in records.iter_mut().enumerate() {
        let Some(path) = r
            .object
            .as_ref()
            .and_then(|o| o.path.clone())
            .filter(|_| r.status.is_ok())
        else {
            continue;
        };
        let expect = gradient::Expect {
            layouts: &layouts,
            codec: &codec.params,
            window: Some(r.window),
            uid: Some(r.uid),
        };
        let sha = r.object.as_ref().and_then(|o| o.sha256.clone());
        match wire::cache::load(std::path::Path::new(&path), sha.as_deref(), &expect)? {
            Ok(g) => prints.push((i, Fingerprint::new(&layouts, &g.params))),
            Err(reject) => r.fail(Status::Malformed, reject.reason()),
        }
    }
    let data = crate::data::Dataset::configured(cfg)?;
    let assigner = crate::data::PageAssigner::configured(cfg, &data)?;
    let same_pages = |a: &Record, b: &Record| {
        let pages = |r: &Record| {
            let mut p = assigner.assigned(r.uid, r.window);
            p.sort_unstable();
            p
        };
        pages(a) == pages(b)
    };
    judge(records, &prints, &cfg.hparams, &same_pages);
    Ok(prints.len())
}

/// Judges the window's fingerprinted peers. `same_pages` says whether two peers were
/// assigned the same pages (on a small dataset two assignments can coincide): their uploads
/// are alike by design, and neither is blamed.
pub fn judge(
    records: &mut [Record],
    prints: &[(usize, Fingerprint)],
    h: &HyperParams,
    same_pages: &dyn Fn(&Record, &Record) -> bool,
) {
    let mut verdicts: Vec<(usize, DedupeInfo)> = Vec::new();
    let n = prints.len();
    let mut sims = vec![
        vec![
            Similarity {
                overlap: 0.0,
                cosine: 0.0
            };
            n
        ];
        n
    ];
    for a in 0..n {
        for b in a + 1..n {
            let s = prints[a].1.compare(&prints[b].1);
            sims[a][b] = s;
            sims[b][a] = s;
        }
    }
    let mut caught = vec![false; n];
    for (x, (i, _)) in prints.iter().enumerate() {
        for (y, (j, _)) in prints.iter().enumerate().skip(x + 1) {
            let s = sims[x][y];
            if s.overlap < h.idx_overlap_threshold || s.cosine < h.dedupe_min_cosine {
                continue;
            }
            if same_pages(&records[*i], &records[*j]) {
                for (k, other) in [(*i, *j), (*j, *i)] {
                    let why =
                        "assigned the same pages this window: alike by design, no one is blamed";
                    verdicts.push((k, unresolved(records[other].uid, s, why)));
                }
                continue;
            }
            let (ta, tb) = (uploaded(&records[*i]), uploaded(&records[*j]));
            let (copier, victim) = match ta.cmp(&tb) {
                std::cmp::Ordering::Greater => (*i, *j),
                std::cmp::Ordering::Less => (*j, *i),
                std::cmp::Ordering::Equal => {
                    for (k, other) in [(*i, *j), (*j, *i)] {
                        let why = "uploaded at the same time: no one is blamed";
                        verdicts.push((k, unresolved(records[other].uid, s, why)));
                    }
                    continue;
                }
            };
            let lvl = level(s.overlap, h);
            caught[if copier == *i { x } else { y }] = true;
            verdicts.push((
                copier,
                DedupeInfo {
                    copied_from: Some(records[victim].uid),
                    overlap: s.overlap,
                    cosine: s.cosine,
                    level: Some(lvl),
                    ..Default::default()
                },
            ));
        }
    }
    // Blends: a peer whose values agree with the sum of two earlier uploads.
    for c in 0..n {
        if caught[c] {
            continue;
        }
        let tc = uploaded(&records[prints[c].0]);
        let mut earlier: Vec<usize> = (0..n)
            .filter(|&o| o != c && uploaded(&records[prints[o].0]) < tc)
            .collect();
        earlier.sort_by(|&a, &b| sims[c][b].cosine.total_cmp(&sims[c][a].cosine));
        earlier.truncate(3);
        let mut best: Option<(f64, usize, usize, Similarity)> = None;
        for (p, &a) in earlier.iter().enumerate() {
            for &b in &earlier[p + 1..] {
                let s = prints[c].1.compare(&prints[a].1.sum(&prints[b].1));
                if s.cosine >= h.dedupe_min_cosine && best.as_ref().is_none_or(|x| s.cosine > x.0) {
                    best = Some((s.cosine, a, b, s));
                }
            }
        }
        if let Some((_, a, b, s)) = best {
            let closest = if sims[c][a].overlap >= sims[c][b].overlap {
                a
            } else {
                b
            };
            let overlap = sims[c][closest].overlap;
            verdicts.push((
                prints[c].0,
                DedupeInfo {
                    copied_from: Some(records[prints[closest].0].uid),
                    blend_of: Some([records[prints[a].0].uid, records[prints[b].0].uid]),
                    overlap,
                    cosine: s.cosine,
                    level: Some(level(overlap, h)),
                    ..Default::default()
                },
            ));
        }
    }
    for (k, v) in verdicts {
        let r = &mut records[k];
        if let (Some(from), Some(level)) = (v.copied_from, v.level) {
            // Keep the closest match if a peer copied several.
            let closer = r.dedupe.as_ref().is_none_or(|d| d.overlap < v.overlap);
            if closer || r.status.is_ok() {
                r.status = Status::Duplicate;
                r.reason = Some(format!(
                    "copies uid {from}'s upload of this window (top-k overlap {:.3}, value cosine {:.3}; uploaded later): level {level}",
                    v.overlap, v.cosine
                ));
                r.dedupe = Some(v);
            }
        } else if r.status.is_ok() && r.dedupe.is_none() {
            r.dedupe = Some(v);
        }
    }
}

/// A likeness no one is blamed for, and why.
fn unresolved(other: u16, s: Similarity, why: &str) -> DedupeInfo {
    DedupeInfo {
        similar_to: Some(other),
        overlap: s.overlap,
        cosine: s.cosine,
        unresolved: Some(why.to_string()),
        ..Default::default()
    }
}

fn uploaded(r: &Record) -> Option<crate::time::Timestamp> {
    r.object.as_ref().and_then(|o| o.uploaded_at)
}
