//! The YAML configuration, with environment and command-line overrides.
//!
//! Layers, lowest first: the built-in defaults, the config file (`--config FILE`, else
//! `./gauntlet.yaml`, else `~/.config/gauntlet/config.yaml`), environment variables, and
//! `--set key.path=value` flags. Every leaf of the config has an environment variable: its
//! path upper-cased, sections joined by `__`, prefixed `GAUNTLET_`; for example
//! `hparams.openskill_beta` is `GAUNTLET_HPARAMS__OPENSKILL_BETA`.

mod hparams;
mod layers;
mod validate;

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
    /// How peers' files are downloaded.
    pub fetch: FetchSettings,
    /// The validator's evaluation.
    pub evaluate: EvaluateSettings,
    /// The validator's state database.
    pub state: StateSettings,
    /// The chain (subtensor) and the validator's hotkey.
    pub chain: ChainSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    /// Where peers come from and weights go: `finney`, `test`, `local` (a node on
    /// 127.0.0.1:9944), a `ws://`/`wss://` URL, or empty for the local network file
    /// (network.file). `--network` overrides it.
    pub network: String,
    /// The subnet.
    pub netuid: u16,
    /// The wallet folder, as btcli's `--wallet-path`.
    pub wallet_path: PathBuf,
    /// The wallet, as btcli's `--wallet-name`.
    pub wallet_name: String,
    /// The hotkey that signs weights, as btcli's `--wallet-hotkey`.
    pub wallet_hotkey: String,
    /// The weights' version key; empty = the subnet's `WeightsVersionKey`.
    pub version_key: Option<u64>,
    /// Seconds to connect and for each query before the chain counts as unreachable.
    pub timeout_seconds: f64,
    /// Seconds to wait for a submitted extrinsic to be finalized; past it, it stays pending.
    pub finalization_wait_seconds: f64,
    /// Seconds per block (to estimate times from block numbers).
    pub block_seconds: f64,
}

impl Default for ChainSettings {
    fn default() -> Self {
        ChainSettings {
            network: String::new(),
            netuid: 3,
            wallet_path: PathBuf::from("~/.bittensor/wallets"),
            wallet_name: "default".into(),
            wallet_hotkey: "default".into(),
            version_key: None,
            timeout_seconds: 30.0,
            finalization_wait_seconds: 120.0,
            block_seconds: 12.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// The SQLite file holding ratings, moving averages, history and weights.
    pub path: PathBuf,
    /// How long a process waits for another's transaction before giving up, in seconds.
    pub wait_seconds: f64,
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            path: PathBuf::from("state.db"),
            wait_seconds: 60.0,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluateSettings {
    /// The validator's private seed of the random pages and batch samples (with the window).
    /// Keep it secret: peers who know it can predict the random pages. A re-run with the same
    /// seed gives the same records.
    pub seed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchSettings {
    /// The content-addressed download cache.
    pub cache: PathBuf,
    /// Downloads at once.
    pub concurrency: usize,
    /// Attempts per request for timeouts, 5xx and dropped connections (403/404 are not retried).
    pub attempts: u32,
    /// The first retry waits this long (seconds); each later one twice as long.
    pub backoff_seconds: f64,
    /// Seconds to connect to a bucket.
    pub connect_timeout_seconds: f64,
    /// A download that receives nothing for this many seconds fails.
    pub read_timeout_seconds: f64,
    /// Largest gradient accepted, in bytes; 0 = the largest a valid file for the model can be.
    pub max_bytes: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            cache: PathBuf::from("cache"),
            concurrency: 16,
            attempts: 4,
            backoff_seconds: 0.25,
            connect_timeout_seconds: 5.0,
            read_timeout_seconds: 30.0,
            max_bytes: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// Protocol version in every object key (`gradient-{window}-{uid}-v{version}…`): a new
    /// version forks the network's namespace, as the reference's code version does.
    pub version: String,
    /// The window the run started at: global step = window − start_window.
    pub start_window: u64,
    /// The local network file: peers, their buckets and read credentials, the window clock.
    pub file: PathBuf,
    /// Object keys and file format: `native` (safetensors) or `templar` (the reference's
    /// `torch.save` files); readers take either.
    pub compat: crate::wire::Compat,
    /// How the network's files name the model's parameters: `hugging-face` (the model's own
    /// names, as the paper-era reference) or `torchtitan` (the reference since v2, whose
    /// `wq`/`wk` rows are also in torchtitan's rotary order).
    pub param_names: crate::model::names::ParamNames,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            version: "1".into(),
            start_window: 0,
            file: PathBuf::from("network.yaml"),
            compat: crate::wire::Compat::Native,
            param_names: crate::model::names::ParamNames::HuggingFace,
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
