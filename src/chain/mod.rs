//! Who the peers are, where their buckets are, and where the weights go: the chain behind
//! one trait, with two implementations, subtensor (over subxt) and the local network file of
//! the embedded default (whose ledger records the weights it receives).

pub mod calls;
pub mod ledger;
pub mod local;
pub mod rules;
pub mod scale;
pub mod subtensor;
pub mod timelock;
pub mod wallet;

pub use local::{BucketSpec, Clock, NetworkFile, PeerEntry};

use anyhow::Result;
use calls::Call;
use std::path::PathBuf;
use std::time::Duration;
use wallet::Hotkey;

pub use rules::{Included, WeightRules};

/// A chain gauntlet reads peers from and sends weights to.
pub trait Chain {
    /// Where it is, for messages (an endpoint or a file; never credentials).
    fn describe(&self) -> String;
    /// The participants and their buckets (credentials included: they stay in memory and
    /// never reach a record) and the clock around `window`.
    fn network(&self, window: u64) -> Result<NetworkFile>;
    /// The window the chain is in now.
    fn current_window(&self) -> Result<u64>;
    /// Whether a hotkey must be registered on the subnet to send weights.
    fn requires_registration(&self) -> bool {
        true
    }
    /// What decides when and how this hotkey may set weights now.
    fn weight_rules(&self, hotkey: Option<&Hotkey>) -> Result<WeightRules>;
    /// The SCALE call data of a call, where the chain has metadata to encode it.
    fn call_data(&self, call: &Call) -> Result<Option<Vec<u8>>>;
    /// Signs and submits a call; returns once the chain included it. A real chain needs the
    /// signer; the local file records who sent it when one is given.
    fn submit(&self, call: &Call, signer: Option<&Hotkey>) -> Result<Included>;
}

/// Where the chain is: `--network` as btcli spells it (finney, test, local, a ws(s):// URL),
/// or a local network file.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    File(PathBuf),
    Subtensor { network: String, netuid: u16 },
}

impl Source {
    /// A chain name or URL is subtensor; anything else is a network file's path.
    pub fn parse(network: &str, netuid: u16) -> Source {
        let is_chain = matches!(network, "finney" | "test" | "local")
            || network.starts_with("ws://")
            || network.starts_with("wss://");
        if is_chain {
            Source::Subtensor {
                network: network.into(),
                netuid,
            }
        } else {
            Source::File(PathBuf::from(network))
        }
    }

    /// Refuses the public default evaluation seed on a chain network: with `evaluate.seed`
    /// at 0 every peer can compute the validator's random pages and batch samples.
    pub fn require_secret_seed(&self, cfg: &crate::config::Config) -> Result<()> {
        if let (Source::Subtensor { network, .. }, 0) = (self, cfg.evaluate.seed) {
            return Err(crate::UsageError(format!(
                "evaluate.seed is the public default 0 on the chain network {network}: every peer could compute the validator's random pages and train on them. Set a secret seed, e.g. `export GAUNTLET_EVALUATE__SEED=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')`, or `seed:` under `evaluate:` in the config file, and keep it private"
            ))
            .into());
        }
        Ok(())
    }

    pub fn open(&self, cfg: &crate::config::Config) -> Result<Box<dyn Chain>> {
        Ok(match self {
            Source::File(path) => Box::new(ledger::LocalChain::open(path)?),
            Source::Subtensor { network, netuid } => {
                Box::new(subtensor::SubtensorChain::connect(network, *netuid, cfg)?)
            }
        })
    }
}

/// Seconds from a config value, never negative.
pub fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}
