//! How a network's files name the model's parameters, and the map to the model's own names
//! (Hugging Face's), as candle and nanoGPT load foreign checkpoints.
//!
//! The paper-era reference (Templar v0.2.88) uses Hugging Face's names. Its last scoring
//! release (v2.1.28) trains a torchtitan model: `tok_embeddings.weight`, `norm.weight`,
//! `layers.{i}._orig_mod._checkpoint_wrapped_module.attention.wq.weight` and so on (the two
//! infixes come from `torch.compile` and activation checkpointing), the output tied to the
//! embedding (no `output.weight`), and the rows of `wq`/`wk` in the other rotary order:
//! torchtitan pairs rotated dimensions as neighbours, Hugging Face as halves of each head.

use super::LlamaConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamNames {
    /// `model.layers.{i}.self_attn.q_proj.weight`, … (the model's own names).
    #[default]
    HuggingFace,
    /// `layers.{i}._orig_mod._checkpoint_wrapped_module.attention.wq.weight`, …
    Torchtitan,
}

/// Within a layer: (torchtitan, Hugging Face).
const LAYER: [(&str, &str); 9] = [
    ("attention.wq.weight", "self_attn.q_proj.weight"),
    ("attention.wk.weight", "self_attn.k_proj.weight"),
    ("attention.wv.weight", "self_attn.v_proj.weight"),
    ("attention.wo.weight", "self_attn.o_proj.weight"),
    ("feed_forward.w1.weight", "mlp.gate_proj.weight"),
    ("feed_forward.w2.weight", "mlp.down_proj.weight"),
    ("feed_forward.w3.weight", "mlp.up_proj.weight"),
    ("attention_norm.weight", "input_layernorm.weight"),
    ("ffn_norm.weight", "post_attention_layernorm.weight"),
];

/// Outside the layers: (torchtitan, Hugging Face).
const TOP: [(&str, &str); 3] = [
    ("tok_embeddings.weight", "model.embed_tokens.weight"),
    ("norm.weight", "model.norm.weight"),
    ("output.weight", "lm_head.weight"),
];

pub use gauntlet_formats::reference::unwrapped;

impl ParamNames {
    /// The name a parameter (by its Hugging Face name) has in this network's files.
    pub fn file_name(self, hf: &str) -> String {
        match self {
            ParamNames::HuggingFace => hf.to_string(),
            ParamNames::Torchtitan => {
                if let Some((titan, _)) = TOP.iter().find(|(_, h)| *h == hf) {
                    return titan.to_string();
                }
                if let Some((layer, sub)) = layer_of(hf, "model.layers.") {
                    if let Some((titan, _)) = LAYER.iter().find(|(_, h)| *h == sub) {
                        return format!(
                            "layers.{layer}._orig_mod._checkpoint_wrapped_module.{titan}"
                        );
                    }
                }
                hf.to_string()
            }
        }
    }

    /// The Hugging Face name of a name found in this network's files, if it names one.
    pub fn model_name(self, file: &str) -> Option<String> {
        match self {
            ParamNames::HuggingFace => Some(file.to_string()),
            ParamNames::Torchtitan => {
                let file = unwrapped(file);
                if let Some((_, hf)) = TOP.iter().find(|(t, _)| *t == file) {
                    return Some(hf.to_string());
                }
                let (layer, sub) = layer_of(&file, "layers.")?;
                let (_, hf) = LAYER.iter().find(|(t, _)| *t == sub)?;
                Some(format!("model.layers.{layer}.{hf}"))
            }
        }
    }

    /// For a parameter whose rows this network's files hold in torchtitan's rotary order
    /// (`wq`, `wk`), the number of heads those rows are grouped in.
    pub fn rope_heads(self, hf: &str, config: &LlamaConfig) -> Option<i64> {
        if self != ParamNames::Torchtitan {
            return None;
        }
        if hf.ends_with(".self_attn.q_proj.weight") {
            Some(config.num_attention_heads)
        } else if hf.ends_with(".self_attn.k_proj.weight") {
            Some(config.num_key_value_heads)
        } else {
            None
        }
    }
}

/// `("3", "self_attn.q_proj.weight")` for `"{prefix}3.self_attn.q_proj.weight"`.
fn layer_of<'a>(name: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = name.strip_prefix(prefix)?;
    let (layer, sub) = rest.split_once('.')?;
    layer.parse::<u32>().ok()?;
    Some((layer, sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tiny_parameter_maps_both_ways() {
        let mut config = LlamaConfig::tiny();
        config.tie_word_embeddings = true;
        for (hf, _) in config.param_shapes() {
            let titan = ParamNames::Torchtitan.file_name(&hf);
            assert_ne!(titan, hf);
            assert_eq!(ParamNames::Torchtitan.model_name(&titan), Some(hf.clone()));
        }
        assert_eq!(
            ParamNames::Torchtitan.file_name("model.layers.0.mlp.down_proj.weight"),
            "layers.0._orig_mod._checkpoint_wrapped_module.feed_forward.w2.weight"
        );
        assert_eq!(
            ParamNames::Torchtitan.model_name("layers.2.feed_forward.w3.weight"),
            Some("model.layers.2.mlp.up_proj.weight".into())
        );
        assert_eq!(
            ParamNames::Torchtitan.model_name("layers.x.attention.wq.weight"),
            None
        );
        assert_eq!(ParamNames::Torchtitan.model_name("metadata"), None);
    }
}
