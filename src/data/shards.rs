//! Token shards on disk and their manifest; rows of `seq_len` tokens and pages of rows.
//!
//! A shard is a flat file of little-endian `u16` or `u32` token ids. A row is `seq_len`
//! consecutive tokens of one shard; a page is `rows_per_page` consecutive rows of one shard
//! (a shard's tail that fills no whole page is not used). Pages are numbered across shards in
//! manifest order.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Tensor;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const FORMAT: &str = "gauntlet-tokens";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// `u16` or `u32`.
    pub dtype: String,
    pub vocab_size: u64,
    /// Ends every document; masked out of the loss as the reference masks pad (= EOS).
    pub eos_id: u32,
    pub tokenizer: String,
    pub documents: u64,
    pub shards: Vec<ShardInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub file: String,
    pub tokens: u64,
    pub blake3: String,
}

impl Manifest {
    pub fn token_bytes(&self) -> Result<usize> {
        match self.dtype.as_str() {
            "u16" => Ok(2),
            "u32" => Ok(4),
            other => bail!("manifest dtype {other:?} is neither u16 nor u32"),
        }
    }

    pub fn total_tokens(&self) -> u64 {
        self.shards.iter().map(|s| s.tokens).sum()
    }

    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: is {} a folder made by `gauntlet data pack`?",
                path.display(),
                dir.display()
            )
        })?;
        let m: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a token manifest", path.display()))?;
        anyhow::ensure!(
            m.format == FORMAT,
            "{} has format {:?}, expected {FORMAT:?}",
            path.display(),
            m.format
        );
        anyhow::ensure!(
            m.version == 1,
            "{} is version {}, this gauntlet reads version 1",
            path.display(),
            m.version
        );
        m.token_bytes()?;
        for s in &m.shards {
            anyhow::ensure!(
                !s.file.contains('/')
                    && !s.file.contains('\\')
                    && s.file != ".."
                    && !s.file.is_empty(),
                "{} names the shard {:?}, which is not a plain file name",
                path.display(),
                s.file
            );
        }
        Ok(m)
    }
}

struct Shard {
    map: memmap2::Mmap,
    first_page: u64,
    pages: u64,
}

/// Packed token shards, read as pages of rows.
pub struct Dataset {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub seq_len: usize,
    pub rows_per_page: usize,
    shards: Vec<Shard>,
    width: usize,
}

impl Dataset {
    /// Opens the shards in `dir`, checking each file's size against its manifest entry.
    /// The configured training data: `data.shards` cut as the hparams say.
    pub fn configured(cfg: &crate::config::Config) -> Result<Dataset> {
        let h = &cfg.hparams;
        Dataset::open(&cfg.data.shards, h.sequence_length, h.rows_per_page)
    }

    pub fn open(dir: &Path, seq_len: usize, rows_per_page: usize) -> Result<Dataset> {
        anyhow::ensure!(
            seq_len >= 2,
            "sequence length must be at least 2 tokens, not {seq_len}"
        );
        anyhow::ensure!(rows_per_page >= 1, "rows per page must be at least 1");
        let manifest = Manifest::read(dir)?;
        let width = manifest.token_bytes()?;
        let page_tokens = (seq_len * rows_per_page) as u64;
        let mut shards = Vec::new();
        let mut first_page = 0;
        for info in &manifest.shards {
            let path = dir.join(&info.file);
            let f = std::fs::File::open(&path)
                .with_context(|| format!("cannot open token shard {}", path.display()))?;
            let len = f.metadata()?.len();
            anyhow::ensure!(
                len == info.tokens * width as u64,
                "token shard {} is {len} bytes, its manifest entry says {} tokens of {width} bytes: the folder is damaged, pack it again",
                path.display(),
                info.tokens
            );
            // SAFETY: read-only mapping of a file we only read; see checkpoint::read_metadata.
            let map = unsafe { memmap2::Mmap::map(&f) }
                .with_context(|| format!("cannot map {}", path.display()))?;
            let pages = info.tokens / page_tokens;
            shards.push(Shard {
                map,
                first_page,
                pages,
            });
            first_page += pages;
        }
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest,
            seq_len,
            rows_per_page,
            shards,
            width,
        })
    }

    pub fn num_pages(&self) -> u64 {
        self.shards.iter().map(|s| s.pages).sum()
    }

    pub fn eos_id(&self) -> i64 {
        self.manifest.eos_id as i64
    }

    /// The page's rows as an int64 tensor [rows_per_page, seq_len].
    pub fn page(&self, page: u64) -> Result<Tensor> {
        let shard = self
            .shards
            .iter()
            .find(|s| page >= s.first_page && page < s.first_page + s.pages)
            .with_context(|| {
                format!(
                    "page {page} does not exist: the data has {} pages",
                    self.num_pages()
                )
            })?;
        let tokens = self.seq_len * self.rows_per_page;
        let start = (page - shard.first_page) as usize * tokens * self.width;
        let bytes = &shard.map[start..start + tokens * self.width];
        let ids: Vec<i64> = match self.width {
            2 => bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as i64)
                .collect(),
            _ => bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                .collect(),
        };
        Ok(Tensor::from_slice(&ids).view([self.rows_per_page as i64, self.seq_len as i64]))
    }

    /// Every row of `pages`, in order, as batches of up to `batch_size` rows [b, seq_len].
    pub fn batches(&self, pages: &[u64], batch_size: usize) -> Result<Vec<Tensor>> {
        anyhow::ensure!(batch_size >= 1, "batch size must be at least 1");
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        let rows = pages
            .iter()
            .map(|&p| self.page(p))
            .collect::<Result<Vec<_>>>()?;
        let all = Tensor::cat(&rows, 0);
        Ok(all.split(batch_size as i64, 0))
    }
}
