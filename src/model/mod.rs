//! The model the network trains: its configuration and presets, the LLaMA decoder,
//! checkpoints, and where it runs.

pub mod checkpoint;
pub mod config;
pub mod llama;
pub mod names;
pub mod train;

pub use config::LlamaConfig;
pub use llama::Llama;
pub use train::Trainer;

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};

/// The device named by `auto`, `cpu`, `cuda` or `cuda:N`; asking for CUDA where there is none
/// is an error that says so, not a silent fall-back to the CPU.
pub fn parse_device(spec: &str) -> Result<Device> {
    let count = || tch::Cuda::device_count();
    match spec.trim() {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let index: usize = match s.strip_prefix("cuda:") {
                None => 0,
                Some(n) => n.parse().map_err(|_| {
                    crate::UsageError(format!("device {s:?}: expected cuda:N with N a number"))
                })?,
            };
            anyhow::ensure!(
                tch::Cuda::is_available() && (index as i64) < count(),
                "device {s} was asked for, but {} CUDA device(s) are visible to libtorch: run with --device cpu (or auto), or check the GPU driver and CUDA_VISIBLE_DEVICES",
                count()
            );
            Ok(Device::Cuda(index))
        }
        other => Err(crate::UsageError(format!(
            "unknown device {other:?}: use auto, cpu, cuda or cuda:N"
        ))
        .into()),
    }
}

/// The parameter dtype named by `f32` or `bf16`.
pub fn parse_dtype(spec: &str) -> Result<Kind> {
    match spec {
        "f32" | "float32" | "fp32" => Ok(Kind::Float),
        "bf16" | "bfloat16" => Ok(Kind::BFloat16),
        other => {
            Err(crate::UsageError(format!("unknown model dtype {other:?}: use f32 or bf16")).into())
        }
    }
}

/// The model a config's `model` section names, on the device its `runtime` section names.
pub fn from_settings(cfg: &crate::config::Config) -> Result<(LlamaConfig, Device, Kind)> {
    let config = LlamaConfig::preset(&cfg.model.preset)?;
    let device = parse_device(&cfg.runtime.device)?;
    let dtype = parse_dtype(&cfg.model.dtype)?;
    anyhow::ensure!(
        cfg.hparams.sequence_length as i64 <= config.max_position_embeddings,
        "hparams.sequence_length {} is longer than the {} model's context of {} tokens",
        cfg.hparams.sequence_length,
        cfg.model.preset,
        config.max_position_embeddings
    );
    Ok((config, device, dtype))
}

/// Checks that a dataset's token ids fit the model's vocabulary.
pub fn check_vocab(config: &LlamaConfig, data: &crate::data::Dataset) -> Result<()> {
    anyhow::ensure!(
        data.manifest.vocab_size <= config.vocab_size as u64,
        "the data in {} has a vocabulary of {} tokens ({}), the model only {}: pack it with the model's tokenizer or pick a model preset that fits",
        data.dir.display(),
        data.manifest.vocab_size,
        data.manifest.tokenizer,
        config.vocab_size
    );
    Ok(())
}

/// A stream of random bytes keyed by `seed` and `name` (BLAKE3's XOF): the same on every
/// machine, whatever else the process draws.
pub fn seeded_stream(seed: u64, name: &str) -> blake3::OutputReader {
    let mut hasher = blake3::Hasher::new_derive_key("gauntlet model init v1");
    hasher.update(&seed.to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.finalize_xof()
}

/// `n` normal(0, `std`) values from the stream of `seed` and `name` (Box–Muller).
pub fn seeded_normal(seed: u64, name: &str, n: usize, std: f64) -> Vec<f32> {
    let mut stream = seeded_stream(seed, name);
    let mut out = Vec::with_capacity(n);
    let mut buf = [0u8; 4096];
    while out.len() < n {
        stream.fill(&mut buf);
        for pair in buf.chunks_exact(16) {
            // Two uniforms in (0, 1] and [0, 1) from 53 random bits each.
            let a = u64::from_le_bytes(pair[..8].try_into().expect("8 bytes")) >> 11;
            let b = u64::from_le_bytes(pair[8..].try_into().expect("8 bytes")) >> 11;
            let u1 = (a + 1) as f64 / (1u64 << 53) as f64;
            let u2 = b as f64 / (1u64 << 53) as f64;
            let r = (-2.0 * u1.ln()).sqrt() * std;
            let theta = std::f64::consts::TAU * u2;
            out.push((r * theta.cos()) as f32);
            out.push((r * theta.sin()) as f32);
        }
    }
    out.truncate(n);
    out
}

/// A tensor like `like` (shape, device) of normal(0, `std`) values from `seeded_normal`.
pub fn seeded_normal_like(seed: u64, name: &str, like: &Tensor, std: f64) -> Tensor {
    let values = seeded_normal(seed, name, like.numel(), std);
    Tensor::from_slice(&values)
        .view(like.size().as_slice())
        .to_device(like.device())
}

/// A model with its variables.
pub struct Model {
    pub vs: nn::VarStore,
    pub llama: Llama,
}

impl Model {
    /// A freshly initialised model as Hugging Face initialises LLaMA (normal(0, 0.02) for
    /// matrices, ones for norms). The values come from a BLAKE3 stream keyed by the seed and
    /// each tensor's name, not from libtorch's global generator: the same seed gives the same
    /// weights on every device and whatever else the process is doing.
    pub fn init(config: &LlamaConfig, device: Device, dtype: Kind, seed: u64) -> Result<Model> {
        config.validate()?;
        let mut vs = nn::VarStore::new(device);
        let llama = Llama::new(&vs.root(), config);
        for (name, var) in vs.variables() {
            if !name.ends_with("norm.weight") {
                let values = seeded_normal(seed, &name, var.numel(), 0.02);
                let t = Tensor::from_slice(&values)
                    .view(var.size().as_slice())
                    .to_device(device);
                tch::no_grad(|| var.shallow_clone().f_copy_(&t))?;
            }
        }
        if dtype != Kind::Float {
            vs.set_kind(dtype);
        }
        Ok(Model { vs, llama })
    }

    /// A model with the weights of a checkpoint (a file, a sharded index, or a folder).
    pub fn load(config: &LlamaConfig, device: Device, dtype: Kind, path: &Path) -> Result<Model> {
        let mut model = Model::init(config, device, dtype, 0)?;
        checkpoint::load(&mut model.vs, path)
            .with_context(|| format!("cannot load checkpoint {}", path.display()))?;
        Ok(model)
    }

    /// Writes the weights to `path`, sharded into files of at most `max_shard_bytes` if given.
    pub fn save(&self, path: &Path, max_shard_bytes: Option<u64>) -> Result<()> {
        let order: Vec<String> = self
            .llama
            .config
            .param_shapes()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let mut meta = BTreeMap::new();
        meta.insert("format".to_string(), "gauntlet-model".to_string());
        meta.insert(
            "config".to_string(),
            serde_json::to_string(&self.llama.config)?,
        );
        checkpoint::save(&self.vs, &order, path, max_shard_bytes, &meta)
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn param_count(&self) -> u64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as u64)
            .sum()
    }

    /// Mean next-token loss over `batches` of token ids, without gradients.
    pub fn mean_loss(&self, batches: &[Tensor], pad_id: Option<i64>) -> f64 {
        tch::no_grad(|| {
            let total: f64 = batches
                .iter()
                .map(|b| {
                    self.llama
                        .loss(&b.to_device(self.device()), pad_id)
                        .double_value(&[])
                })
                .sum();
            total / batches.len().max(1) as f64
        })
    }
}
