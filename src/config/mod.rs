//! The YAML configuration, with environment and command-line overrides.
//!
//! Layers, lowest first: the built-in defaults, the config file (`--config FILE`, else
//! `./gauntlet.yaml`, else `~/.config/gauntlet/config.yaml`), environment variables, and
//! `--set key.path=value` flags. Every leaf of the config has an environment variable: its
//! path upper-cased, sections joined by `__`, prefixed `GAUNTLET_`; for example
//! `hparams.openskill_beta` is `GAUNTLET_HPARAMS__OPENSKILL_BETA`.

mod hparams;
mod layers;

pub use hparams::HyperParams;
pub use layers::{env_var_name, redact, LoadedConfig, Source};

use serde::{Deserialize, Serialize};

/// `examples/local.yaml`, compiled in: the embedded local defaults that `gauntlet demo` runs on.
pub const LOCAL_DEFAULTS: &str = include_str!("../../examples/local.yaml");
use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The mechanism's constants (paper-era reference defaults).
    pub hparams: HyperParams,
    /// Which model the network trains.
    pub model: ModelSettings,
    /// Where the token shards are and how pages are assigned.
    pub data: DataSettings,
    /// Where and how computation runs.
    pub runtime: RuntimeSettings,
    /// The network this validator or peer belongs to.
    pub network: NetworkSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// Protocol version in every object key (`gradient-{window}-{uid}-v{version}…`): a new
    /// version forks the network's namespace, as the reference's code version does.
    pub version: String,
    /// The window the run started at: global step = window − start_window.
    pub start_window: u64,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            version: "1".into(),
            start_window: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// A preset name (`tiny`, `small`, `templar-1b`) or a path to a Hugging Face `config.json`.
    pub preset: String,
    /// Parameter dtype: `f32` or `bf16`.
    pub dtype: String,
    /// Seed of a freshly initialised model.
    pub init_seed: u64,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            preset: "tiny".into(),
            dtype: "f32".into(),
            init_seed: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSettings {
    /// Folder of token shards made by `gauntlet data pack` (holds `manifest.json`).
    pub shards: PathBuf,
    /// Network-wide key of the page assignment: every validator and peer must use the same.
    pub assignment_key: String,
}

impl Default for DataSettings {
    fn default() -> Self {
        DataSettings {
            shards: PathBuf::from("data/shards"),
            assignment_key: "gauntlet-pages-v1".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    /// `auto` (CUDA when present, else CPU), `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// CPU threads for tensor work; 0 leaves libtorch's default.
    pub threads: usize,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            device: "auto".into(),
            threads: 0,
        }
    }
}
