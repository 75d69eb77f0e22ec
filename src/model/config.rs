//! The model's shape: a LLaMA configuration whose field names are Hugging Face's
//! `config.json` keys, the presets, and the parameter list derived from it.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub num_key_value_heads: i64,
    pub max_position_embeddings: i64,
    #[serde(default = "default_rms_norm_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

fn default_rms_norm_eps() -> f64 {
    1e-6
}

fn default_rope_theta() -> f64 {
    10_000.0
}

/// The preset names `LlamaConfig::preset` knows.
pub const PRESETS: [&str; 3] = ["tiny", "small", "templar-1b"];

impl LlamaConfig {
    /// `tiny`: under 1M parameters, byte-level vocabulary; for tests and the demo on CPU.
    pub fn tiny() -> Self {
        LlamaConfig {
            vocab_size: 320,
            hidden_size: 128,
            intermediate_size: 384,
            num_hidden_layers: 4,
            num_attention_heads: 4,
            num_key_value_heads: 4,
            max_position_embeddings: 256,
            rms_norm_eps: 1e-6,
            rope_theta: 10_000.0,
            tie_word_embeddings: false,
        }
    }

    /// `small`: about 60M parameters with a 32,000-token vocabulary; for benchmarks.
    pub fn small() -> Self {
        LlamaConfig {
            vocab_size: 32_000,
            hidden_size: 512,
            intermediate_size: 1536,
            num_hidden_layers: 8,
            num_attention_heads: 8,
            num_key_value_heads: 8,
            max_position_embeddings: 1024,
            ..Self::tiny()
        }
    }

    /// `templar-1b`: the paper's model, `LlamaForCausalLM` with 1,204,881,408 parameters.
    pub fn templar_1b() -> Self {
        LlamaConfig {
            vocab_size: 32_000,
            hidden_size: 2048,
            intermediate_size: 8192,
            num_hidden_layers: 16,
            num_attention_heads: 8,
            num_key_value_heads: 8,
            max_position_embeddings: 2048,
            ..Self::tiny()
        }
    }

    /// A preset by name, or a Hugging Face `config.json` given by path.
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "tiny" => Ok(Self::tiny()),
            "small" => Ok(Self::small()),
            "templar-1b" | "templar_1b" => Ok(Self::templar_1b()),
            path if Path::new(path).is_file() => Self::from_hf_config(Path::new(path)),
            other => Err(crate::UsageError(format!(
                "unknown model preset {other:?}: use one of {} or the path of a Hugging Face config.json",
                PRESETS.join(", ")
            ))
            .into()),
        }
    }

    pub fn from_hf_config(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read model config {}", path.display()))?;
        let cfg: LlamaConfig = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a LLaMA config.json", path.display()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        for (name, v) in positive {
            anyhow::ensure!(v > 0, "model config: {name} must be positive, not {v}");
        }
        anyhow::ensure!(
            self.hidden_size % self.num_attention_heads == 0,
            "model config: hidden_size {} is not a multiple of num_attention_heads {}",
            self.hidden_size,
            self.num_attention_heads
        );
        anyhow::ensure!(
            self.num_attention_heads % self.num_key_value_heads == 0,
            "model config: num_attention_heads {} is not a multiple of num_key_value_heads {}",
            self.num_attention_heads,
            self.num_key_value_heads
        );
        anyhow::ensure!(
            self.head_dim() % 2 == 0,
            "model config: head dimension {} must be even for rotary embeddings",
            self.head_dim()
        );
        Ok(())
    }

    pub fn head_dim(&self) -> i64 {
        self.hidden_size / self.num_attention_heads
    }

    /// Every parameter's Hugging Face name and shape, in checkpoint order.
    pub fn param_shapes(&self) -> Vec<(String, Vec<i64>)> {
        let (h, i, v) = (self.hidden_size, self.intermediate_size, self.vocab_size);
        let kv = self.num_key_value_heads * self.head_dim();
        let mut out = vec![("model.embed_tokens.weight".to_string(), vec![v, h])];
        for l in 0..self.num_hidden_layers {
            let p = format!("model.layers.{l}");
            out.push((format!("{p}.self_attn.q_proj.weight"), vec![h, h]));
            out.push((format!("{p}.self_attn.k_proj.weight"), vec![kv, h]));
            out.push((format!("{p}.self_attn.v_proj.weight"), vec![kv, h]));
            out.push((format!("{p}.self_attn.o_proj.weight"), vec![h, h]));
            out.push((format!("{p}.mlp.gate_proj.weight"), vec![i, h]));
            out.push((format!("{p}.mlp.up_proj.weight"), vec![i, h]));
            out.push((format!("{p}.mlp.down_proj.weight"), vec![h, i]));
            out.push((format!("{p}.input_layernorm.weight"), vec![h]));
            out.push((format!("{p}.post_attention_layernorm.weight"), vec![h]));
        }
        out.push(("model.norm.weight".to_string(), vec![h]));
        if !self.tie_word_embeddings {
            out.push(("lm_head.weight".to_string(), vec![v, h]));
        }
        out
    }

    /// The parameter count, computed from the shapes without allocating anything.
    pub fn param_count(&self) -> u64 {
        self.param_shapes()
            .iter()
            .map(|(_, s)| s.iter().product::<i64>() as u64)
            .sum()
    }
}
