//! `data pack`: text files into token shards and a manifest.

use super::shards::{Manifest, ShardInfo, FORMAT, MANIFEST_FILE};
use super::tokenizer::Tokenizer;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What counts as one document: each ends with the end-of-document token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocSplit {
    /// A whole file is one document.
    File,
    /// Paragraphs (separated by blank lines) are documents.
    Paragraph,
    /// Every non-empty line is a document.
    Line,
}

/// Packs the text of `inputs` (files, or folders searched recursively for files) into
/// shards of at most `shard_tokens` tokens in `out`, and writes the manifest last, so a folder
/// with a manifest is always complete. Inputs are read in sorted path order.
pub fn pack(
    inputs: &[PathBuf],
    out: &Path,
    tokenizer: &Tokenizer,
    split: DocSplit,
    shard_tokens: usize,
) -> Result<Manifest> {
    anyhow::ensure!(shard_tokens > 0, "shard size must be at least one token");
    let files = list_files(inputs)?;
    anyhow::ensure!(!files.is_empty(), "no input files found in {inputs:?}");
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let _ = std::fs::remove_file(out.join(MANIFEST_FILE));
    let vocab = tokenizer.vocab_size() as u64;
    let wide = vocab > u16::MAX as u64 + 1;
    let mut writer = ShardWriter::new(out, shard_tokens, wide);
    let mut documents = 0u64;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
        for doc in split_docs(&text, split) {
            let mut ids = tokenizer.encode(doc)?;
            ids.push(tokenizer.eos_id());
            writer.push(&ids)?;
            documents += 1;
        }
    }
    let shards = writer.finish()?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        dtype: if wide { "u32" } else { "u16" }.into(),
        vocab_size: vocab,
        eos_id: tokenizer.eos_id(),
        tokenizer: tokenizer.describe(),
        documents,
        shards,
    };
    crate::atomic::write(
        &out.join(MANIFEST_FILE),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    Ok(manifest)
}

fn list_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = inputs.to_vec();
    while let Some(p) = stack.pop() {
        let meta =
            std::fs::metadata(&p).with_context(|| format!("cannot read input {}", p.display()))?;
        if meta.is_dir() {
            for entry in
                std::fs::read_dir(&p).with_context(|| format!("cannot list {}", p.display()))?
            {
                stack.push(entry?.path());
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

fn split_docs(text: &str, split: DocSplit) -> Vec<&str> {
    let docs: Vec<&str> = match split {
        DocSplit::File => vec![text.trim()],
        DocSplit::Line => text.lines().map(str::trim).collect(),
        DocSplit::Paragraph => text.split("\n\n").map(str::trim).collect(),
    };
    docs.into_iter().filter(|d| !d.is_empty()).collect()
}

struct ShardWriter {
    dir: PathBuf,
    limit: usize,
    wide: bool,
    current: Option<(std::io::BufWriter<std::fs::File>, blake3::Hasher, u64)>,
    done: Vec<ShardInfo>,
}

impl ShardWriter {
    fn new(dir: &Path, limit: usize, wide: bool) -> Self {
        ShardWriter {
            dir: dir.to_path_buf(),
            limit,
            wide,
            current: None,
            done: Vec::new(),
        }
    }

    fn name(k: usize) -> String {
        format!("tokens-{k:05}.bin")
    }

    fn push(&mut self, ids: &[u32]) -> Result<()> {
        for &id in ids {
            if self.current.is_none() {
                let path = self.dir.join(Self::name(self.done.len()));
                let f = std::fs::File::create(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                self.current = Some((std::io::BufWriter::new(f), blake3::Hasher::new(), 0));
            }
            let (w, h, n) = self.current.as_mut().expect("opened above");
            let bytes: &[u8] = if self.wide {
                &id.to_le_bytes()
            } else {
                &(id as u16).to_le_bytes()
            };
            w.write_all(bytes)?;
            h.update(bytes);
            *n += 1;
            if *n as usize >= self.limit {
                self.close()?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some((mut w, h, n)) = self.current.take() {
            w.flush()?;
            self.done.push(ShardInfo {
                file: Self::name(self.done.len()),
                tokens: n,
                blake3: h.finalize().to_hex().to_string(),
            });
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<ShardInfo>> {
        self.close()?;
        Ok(self.done)
    }
}
