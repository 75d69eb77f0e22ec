//! Turning text into token ids: bytes by default, or a Hugging Face `tokenizer.json`.

use anyhow::{Context, Result};
use std::path::Path;

/// End-of-document token of the byte-level tokenizer (ids 0–255 are the bytes).
pub const BYTES_EOS: u32 = 256;

pub enum Tokenizer {
    /// One token per UTF-8 byte, plus an end-of-document token: needs no files.
    Bytes,
    /// A Hugging Face tokenizer, with the id it ends documents with.
    HuggingFace {
        inner: Box<tokenizers::Tokenizer>,
        eos_id: u32,
        name: String,
    },
}

impl Tokenizer {
    /// Loads a `tokenizer.json`; the end-of-document token is `eos` if given, else the first
    /// of `</s>`, `<|endoftext|>`, `<|end_of_text|>`, `<eos>` that the vocabulary has.
    pub fn from_file(path: &Path, eos: Option<&str>) -> Result<Tokenizer> {
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| anyhow::anyhow!("cannot load tokenizer {}: {e}", path.display()))?;
        let candidates: Vec<&str> = match eos {
            Some(e) => vec![e],
            None => vec!["</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>"],
        };
        let eos_id = candidates
            .iter()
            .find_map(|t| inner.token_to_id(t))
            .with_context(|| {
                format!("tokenizer {} has none of the end-of-document tokens {candidates:?}; name one with --eos-token", path.display())
            })?;
        Ok(Tokenizer::HuggingFace {
            inner: Box::new(inner),
            eos_id,
            name: path.display().to_string(),
        })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Tokenizer::Bytes => Ok(text.bytes().map(u32::from).collect()),
            Tokenizer::HuggingFace { inner, name, .. } => Ok(inner
                .encode(text, false)
                .map_err(|e| anyhow::anyhow!("tokenizer {name} failed: {e}"))?
                .get_ids()
                .to_vec()),
        }
    }

    pub fn eos_id(&self) -> u32 {
        match self {
            Tokenizer::Bytes => BYTES_EOS,
            Tokenizer::HuggingFace { eos_id, .. } => *eos_id,
        }
    }

    pub fn vocab_size(&self) -> usize {
        match self {
            Tokenizer::Bytes => BYTES_EOS as usize + 1,
            Tokenizer::HuggingFace { inner, .. } => inner.get_vocab_size(true),
        }
    }

    /// How the manifest names this tokenizer.
    pub fn describe(&self) -> String {
        match self {
            Tokenizer::Bytes => "bytes".into(),
            Tokenizer::HuggingFace { name, .. } => format!("huggingface:{name}"),
        }
    }
}
