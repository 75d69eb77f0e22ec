//! What a rational dishonest peer uploads instead of its own work: other peers' uploads,
//! copied, blended, shuffled, relabelled from an earlier window, or with a small hint of its
//! own data mixed in. Each reads its victims' files from the store as any peer could.

use crate::codec::{Codec, Encoded, Layout, QuantTable, Values};
use crate::config::Config;
use crate::model;
use crate::store::Store;
use crate::wire::gradient;
use anyhow::{bail, Result};
use tch::{Kind, Tensor};

/// Where the victims' uploads are read.
pub struct Victims<'a> {
    pub store: &'a dyn Store,
    pub cfg: &'a Config,
    pub codec: &'a Codec,
    pub layouts: &'a [Layout],
}

impl Victims<'_> {
    /// Peer `of`'s upload of `window`, decoded.
    pub fn upload(&self, of: u16, window: u64) -> Result<Vec<Encoded>> {
        let key = self
            .cfg
            .network
            .compat
            .gradient_key(window, of, &self.cfg.network.version);
        let Some(bytes) = self.store.get(&key)? else {
            bail!(
                "the victim's {key} is not in {} yet; run the victim first",
                self.store.describe()
            )
        };
        let expect = gradient::Expect {
            layouts: self.layouts,
            codec: &self.codec.params,
            window: Some(window),
            uid: Some(of),
        };
        let g = gradient::decode_file(&bytes, &expect)
            .map_err(|r| anyhow::anyhow!("the victim's {key} is invalid: {}", r.reason()))?;
        Ok(g.params)
    }

    /// The dense updates of several peers' uploads of `window`, per parameter.
    fn dense(&self, of: &[u16], window: u64) -> Result<Vec<Vec<Tensor>>> {
        let uploads = of
            .iter()
            .map(|&v| self.upload(v, window))
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .layouts
            .iter()
            .enumerate()
            .map(|(i, l)| {
                uploads
                    .iter()
                    .map(|u| self.codec.decode(l, &u[i]))
                    .collect()
            })
            .collect())
    }

    /// Another peer's upload of the window, its values perturbed by `perturb` (relative
    /// noise; 0 = an exact copy); with several victims, the mean of their updates, encoded
    /// afresh.
    pub fn copy(&self, of: &[u16], window: u64, perturb: f64, seed: u64) -> Result<Vec<Encoded>> {
        match of {
            [] => bail!("name at least one victim"),
            [one] => {
                let upload = self.upload(*one, window)?;
                if perturb == 0.0 {
                    return Ok(upload);
                }
                Ok(upload
                    .into_iter()
                    .zip(self.layouts)
                    .map(|(e, l)| self.perturbed(e, l, perturb, seed))
                    .collect())
            }
            many => {
                let dense = self.dense(many, window)?;
                Ok(self
                    .layouts
                    .iter()
                    .zip(dense)
                    .map(|(l, d)| {
                        let mean = d.into_iter().reduce(|a, b| a + b).expect("victims");
                        self.codec.encode(l, &(mean / many.len() as f64))
                    })
                    .collect())
            }
        }
    }

    fn perturbed(&self, e: Encoded, l: &Layout, perturb: f64, seed: u64) -> Encoded {
        let v = e.values();
        let noise = model::seeded_normal_like(seed, &l.name, &v, 1.0);
        let noisy = &v + noise * (v.abs().mean(Kind::Float) * perturb);
        let vals = match &e.vals {
            Values::Float(_) => Values::Float(noisy),
            Values::Quantized { table, .. } => {
                let (codes, table) = QuantTable::quantize(
                    &noisy,
                    table.bins() as usize,
                    self.cfg.hparams.quantization_range,
                );
                Values::Quantized { codes, table }
            }
        };
        Encoded { idx: e.idx, vals }
    }

    /// Peer `of`'s update of the window plus `hint` (the copier's own small gradient step;
    /// `orthogonal`: less its component along the copy), scaled per parameter to `scale`
    /// times the copied update's norm, encoded afresh (top-k per chunk and requantised, as an
    /// honest upload is).
    pub fn with_hint(
        &self,
        of: u16,
        window: u64,
        hint: &[Tensor],
        scale: f64,
        orthogonal: bool,
    ) -> Result<Vec<Encoded>> {
        let dense = self.dense(&[of], window)?;
        Ok(self
            .layouts
            .iter()
            .zip(dense)
            .zip(hint)
            .map(|((l, mut d), h)| {
                let victim = d.pop().expect("one victim");
                let vv = (&victim * &victim).sum(Kind::Double).double_value(&[]);
                let h = if orthogonal && vv > 0.0 {
                    let hv = (h * &victim).sum(Kind::Double).double_value(&[]);
                    h - &victim * (hv / vv)
                } else {
                    h.shallow_clone()
                };
                let (vn, hn) = (victim.norm().double_value(&[]), h.norm().double_value(&[]));
                let h = if hn > 0.0 {
                    h * (scale * vn / hn)
                } else {
                    h.shallow_clone()
                };
                self.codec.encode(l, &(victim + h))
            })
            .collect())
    }

    /// Peer `of`'s upload of the window with `fraction` of each chunk's indices moved to
    /// indices the chunk did not hold, their values kept.
    pub fn shuffled(&self, of: u16, window: u64, fraction: f64, seed: u64) -> Result<Vec<Encoded>> {
        let upload = self.upload(of, window)?;
        Ok(upload
            .into_iter()
            .zip(self.layouts)
            .map(|(e, l)| {
                let shape = e.idx.size();
                let mut idx = Vec::<i64>::try_from(e.idx.flatten(0, -1)).expect("int64 indices");
                let mut stream = model::seeded_stream(seed, &l.name);
                let mut next = || {
                    let mut b = [0u8; 8];
                    stream.fill(&mut b);
                    u64::from_le_bytes(b)
                };
                let per_mille = (fraction.clamp(0.0, 1.0) * 1000.0) as u64;
                for chunk in idx.chunks_mut(l.k as usize) {
                    for pos in 0..chunk.len() {
                        if next() % 1000 >= per_mille {
                            continue;
                        }
                        // Draw until the index is one the chunk does not hold.
                        let fresh = loop {
                            let c = (next() % l.totalk as u64) as i64;
                            if !chunk.contains(&c) {
                                break c;
                            }
                        };
                        chunk[pos] = fresh;
                    }
                }
                let idx = Tensor::from_slice(&idx).view(shape.as_slice());
                Encoded { idx, vals: e.vals }
            })
            .collect())
    }
}
