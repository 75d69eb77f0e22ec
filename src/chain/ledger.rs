//! The local network file as a [`Chain`]: peers and the clock from the file, and a ledger of
//! the weights it receives (`ledger.jsonl` beside the file, one line per submission, appended
//! and synced), so that the demo shows what a chain would have been told.
//!
//! The local chain has no rate limit and no commit-reveal; a window counts as a block.

use super::calls::Call;
use super::local::{format_time, NetworkFile};
use super::subtensor::{Included, WeightRules};
use super::wallet::Hotkey;
use super::Chain;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct LocalChain {
    path: PathBuf,
    network: NetworkFile,
}

/// One submission the local chain received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The window (the local chain's block) it arrived in.
    pub block: u64,
    pub validator: String,
    pub uids: Vec<u16>,
    pub weights: Vec<u16>,
    pub version_key: u64,
    pub received_at: String,
}

impl LocalChain {
    pub fn open(path: &Path) -> Result<LocalChain> {
        Ok(LocalChain {
            path: path.to_path_buf(),
            network: NetworkFile::read(path)?,
        })
    }

    /// The ledger file of a network file.
    pub fn ledger_path(network_file: &Path) -> PathBuf {
        network_file.with_file_name("ledger.jsonl")
    }

    /// Every submission received, oldest first.
    pub fn ledger(network_file: &Path) -> Result<Vec<LedgerEntry>> {
        let path = LocalChain::ledger_path(network_file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).with_context(|| {
                    format!("{} line {} is not a ledger entry", path.display(), i + 1)
                })
            })
            .collect()
    }
}

impl Chain for LocalChain {
    fn describe(&self) -> String {
        format!("the local network file {}", self.path.display())
    }

    fn network(&self, _window: u64) -> Result<NetworkFile> {
        Ok(self.network.clone())
    }

    fn current_window(&self) -> Result<u64> {
        self.network.clock.window_at(SystemTime::now())
    }

    fn weight_rules(&self, _hotkey: Option<&Hotkey>) -> Result<WeightRules> {
        Ok(WeightRules {
            block: self.current_window()?,
            uid: None,
            rate_limit: 0,
            last_update: 0,
            version_key: 0,
            commit_reveal: false,
            commit_reveal_version: 0,
            tempo: 0,
            reveal_period_epochs: 0,
            epoch_schedule: None,
        })
    }

    fn call_data(&self, _call: &Call) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    fn submit(&self, call: &Call, signer: Option<&Hotkey>) -> Result<Included> {
        let Call::SetWeights {
            uids,
            values,
            version_key,
            ..
        } = call
        else {
            anyhow::bail!(
                "the local network file takes weights by set_weights only, not {}",
                call.describe()
            );
        };
        let entry = LedgerEntry {
            block: self.current_window()?,
            validator: signer.map_or_else(|| "local validator".into(), |h| h.ss58.clone()),
            uids: uids.clone(),
            weights: values.clone(),
            version_key: *version_key,
            received_at: format_time(SystemTime::now()),
        };
        let line = serde_json::to_string(&entry)? + "\n";
        let path = LocalChain::ledger_path(&self.path);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open the ledger {}", path.display()))?;
        f.write_all(line.as_bytes())?;
        f.sync_all()
            .with_context(|| format!("cannot sync the ledger {}", path.display()))?;
        let digest = sp_crypto_hashing::blake2_256(line.as_bytes());
        Ok(Included {
            block_hash: format!("local:{}", entry.block),
            extrinsic_hash: format!("0x{}", hex::encode(digest)),
        })
    }
}
