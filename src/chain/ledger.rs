//! The local network file as a [`Chain`]: peers and the clock from the file, and a ledger of
//! the weights it receives (`ledger.jsonl` beside the file, one line per submission, appended
//! and synced), so that the demo shows what a chain would have been told.
//!
//! The local chain has no rate limit; a window counts as a block. Where the network file has a
//! `commit_reveal` section it takes weights as commit-reveal v4 subnets do: the ledger keeps
//! each timelocked commit as it came, and shows its weights only once the local beacon's round
//! has come and its signature opens the commit.

use super::calls::Call;
use super::local::NetworkFile;
use super::subtensor::ss58;
use super::timelock::{self, LocalBeacon};
use super::wallet::Hotkey;
use super::Chain;
use super::{Included, WeightRules};
use crate::time::format_time;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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
    /// A commit-reveal v4 submission: its uids and weights stay empty until it is opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelocked: Option<Timelocked>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timelocked {
    pub reveal_round: u64,
    /// The ciphertext, hex.
    pub commit: String,
    /// Set when the ledger is read: `revealed`, `sealed` (its round has not come), or why the
    /// chain would drop it.
    #[serde(skip)]
    pub state: String,
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
        LocalChain::ledger_at(network_file, SystemTime::now())
    }

    /// The ledger as it reads at time `now`: timelocked commits whose drand round has come by
    /// then are opened.
    pub fn ledger_at(network_file: &Path, now: SystemTime) -> Result<Vec<LedgerEntry>> {
        let path = LocalChain::ledger_path(network_file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut entries = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).with_context(|| {
                    format!("{} line {} is not a ledger entry", path.display(), i + 1)
                })
            })
            .collect::<Result<Vec<LedgerEntry>>>()?;
        if entries.iter().any(|e| e.timelocked.is_some()) {
            let network = NetworkFile::read(network_file)?;
            let beacon = network
                .commit_reveal
                .as_ref()
                .map(|c| LocalBeacon::from_seed(&c.beacon_seed));
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            let round = timelock::round_at(now.as_secs_f64());
            for e in &mut entries {
                open_commit(e, beacon.as_ref(), round);
            }
        }
        Ok(entries)
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

    fn requires_registration(&self) -> bool {
        false
    }

    fn weight_rules(&self, _hotkey: Option<&Hotkey>) -> Result<WeightRules> {
        let cr = self.network.commit_reveal.as_ref();
        Ok(WeightRules {
            block: self.current_window()?,
            uid: None,
            rate_limit: 0,
            last_update: 0,
            version_key: 0,
            commit_reveal: cr.is_some(),
            commit_reveal_version: if cr.is_some() { 4 } else { 0 },
            tempo: cr.map_or(0, |c| c.tempo),
            reveal_period_epochs: cr.map_or(0, |c| c.reveal_period_epochs),
            epoch_schedule: None,
            beacon_key: cr.map(|c| LocalBeacon::from_seed(&c.beacon_seed).public_key()),
            block_seconds: Some(self.network.clock.window_seconds),
        })
    }

    fn call_data(&self, _call: &Call) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    fn submit(&self, call: &Call, signer: Option<&Hotkey>) -> Result<Included> {
        let mut entry = LedgerEntry {
            block: self.current_window()?,
            validator: signer.map_or_else(|| "local validator".into(), |h| h.ss58.clone()),
            uids: Vec::new(),
            weights: Vec::new(),
            version_key: 0,
            received_at: format_time(SystemTime::now()),
            timelocked: None,
        };
        let by_commit = self.network.commit_reveal.is_some();
        match call {
            Call::SetWeights {
                uids,
                values,
                version_key,
                ..
            } if !by_commit => {
                entry.uids = uids.clone();
                entry.weights = values.clone();
                entry.version_key = *version_key;
            }
            Call::CommitTimelockedWeights {
                commit,
                reveal_round,
                ..
            } if by_commit => {
                entry.timelocked = Some(Timelocked {
                    reveal_round: *reveal_round,
                    commit: hex::encode(commit),
                    state: String::new(),
                });
            }
            _ => anyhow::bail!(
                "{} takes weights by {} only, not {}",
                self.describe(),
                if by_commit {
                    "commit_timelocked_weights (its commit_reveal section)"
                } else {
                    "set_weights"
                },
                call.describe()
            ),
        }
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
            block: entry.block,
            block_hash: format!("local:{}", entry.block),
            extrinsic_hash: format!("0x{}", hex::encode(digest)),
        })
    }
}

/// Opens a timelocked entry whose round has come, as the chain would: its weights count only
/// if the commit decrypts and names the hotkey that sent it.
fn open_commit(e: &mut LedgerEntry, beacon: Option<&LocalBeacon>, round: u64) {
    let Some(t) = e.timelocked.as_mut() else {
        return;
    };
    let Some(beacon) = beacon else {
        t.state = "the network file has no commit_reveal section to open it with".into();
        return;
    };
    if round < t.reveal_round {
        t.state = "sealed".into();
        return;
    }
    let opened = hex::decode(&t.commit)
        .map_err(anyhow::Error::from)
        .and_then(|ct| timelock::decrypt(&ct, &beacon.signature(t.reveal_round)))
        .and_then(|bytes| timelock::decode_payload(&bytes));
    match opened {
        Ok(p) if <[u8; 32]>::try_from(&p.hotkey[..]).is_ok_and(|h| ss58(&h) == e.validator) => {
            e.uids = p.uids;
            e.weights = p.values;
            e.version_key = p.version_key;
            t.state = "revealed".into();
        }
        Ok(_) => t.state = "dropped: the commit names another hotkey than its sender".into(),
        Err(err) => t.state = format!("dropped: {err:#}"),
    }
}
