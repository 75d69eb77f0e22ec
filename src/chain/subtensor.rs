//! Subtensor over subxt's dynamic API: metadata is fetched when connecting, so a runtime
//! upgrade needs no new gauntlet build as long as the calls and storage keep their shape.
//!
//! Every network step has a deadline (`timeout`), and every error names the endpoint.

use super::calls::Call;
use super::scale::{epoch_index, BucketCommitment, Registration};
use super::timelock::EpochSchedule;
use super::{Included, WeightRules};
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subxt::client::{ClientAtBlock, OnlineClientAtBlockImpl};
use subxt::config::substrate::SubstrateConfig;
use subxt::dynamic::{self, Value};
use subxt::ext::frame_decode::storage::{IntoDecodableValues, IntoEncodableValues};
use subxt::OnlineClient;
use subxt_signer::sr25519::Keypair;

/// What a storage entry's key parts must be for subxt's dynamic addresses.
trait StorageKeys: IntoEncodableValues + IntoDecodableValues {}
impl<K: IntoEncodableValues + IntoDecodableValues> StorageKeys for K {}

type AtBlock = ClientAtBlock<SubstrateConfig, OnlineClientAtBlockImpl<SubstrateConfig>>;

/// The endpoint of a network name as btcli spells them, or the URL itself.
pub fn endpoint_of(network: &str) -> Result<String> {
    Ok(match network {
        "finney" => "wss://entrypoint-finney.opentensor.ai:443".into(),
        "test" => "wss://test.finney.opentensor.ai:443".into(),
        "local" => "ws://127.0.0.1:9944".into(),
        url if url.starts_with("ws://") || url.starts_with("wss://") => url.into(),
        other => anyhow::bail!(
            "unknown network {other:?}: use finney, test, local, or a ws:// or wss:// URL"
        ),
    })
}

/// One registered uid of the subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct Neuron {
    pub uid: u16,
    pub hotkey: [u8; 32],
    pub ss58: String,
    /// The hotkey's alpha stake on the subnet, in whole units (9 decimals on chain).
    pub stake: f64,
    pub validator_permit: bool,
    pub last_update: u64,
}

pub struct Subtensor {
    rt: tokio::runtime::Runtime,
    api: OnlineClient<SubstrateConfig>,
    pub endpoint: String,
    pub netuid: u16,
    timeout: Duration,
}

fn storage_bytes<K: StorageKeys>(
    pallet: &str,
    entry: &str,
) -> subxt::storage::DynamicAddress<K, Value> {
    dynamic::storage::<K, Value>(pallet, entry)
}

impl Subtensor {
    pub fn connect(network: &str, netuid: u16, timeout: Duration) -> Result<Subtensor> {
        let endpoint = endpoint_of(network)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let api = rt
            .block_on(async {
                tokio::time::timeout(timeout, async {
                    if endpoint.starts_with("wss://") {
                        OnlineClient::<SubstrateConfig>::from_url(&endpoint).await
                    } else {
                        OnlineClient::<SubstrateConfig>::from_insecure_url(&endpoint).await
                    }
                })
                .await
            })
            .map_err(|_| {
                anyhow!(
                    "cannot reach the chain at {endpoint}: no answer within {} s; check the endpoint (--network) and your connection",
                    timeout.as_secs_f64()
                )
            })?
            .map_err(|e| {
                anyhow!(
                    "cannot connect to the chain at {endpoint}: {}",
                    plain_error(&e)
                )
            })?;
        Ok(Subtensor {
            rt,
            api,
            endpoint,
            netuid,
            timeout,
        })
    }

    /// Runs one chain step with the deadline; errors name the endpoint and the step.
    fn run<T, E: std::fmt::Display>(
        &self,
        what: &str,
        f: impl Future<Output = Result<T, E>>,
    ) -> Result<T> {
        // The deadline is made inside the runtime: a tokio timer built outside it panics.
        let deadline = self.timeout;
        match self
            .rt
            .block_on(async move { tokio::time::timeout(deadline, f).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(anyhow!(
                "{what} at {} failed: {}",
                self.endpoint,
                plain_error(&e)
            )),
            Err(_) => Err(anyhow!(
                "{what} at {} got no answer within {} s",
                self.endpoint,
                self.timeout.as_secs_f64()
            )),
        }
    }

    fn at_current(&self) -> Result<AtBlock> {
        self.run("reading the current block", self.api.at_current_block())
    }

    pub fn current_block(&self) -> Result<u64> {
        Ok(self.at_current()?.block_number())
    }

    /// `Timestamp::Now` at a block: when the block was made. The genesis block has none
    /// (the storage default, 0, is not a time), which is an error naming the block.
    pub fn block_time(&self, block: u64) -> Result<SystemTime> {
        let ms: u64 = self.run("reading a block's timestamp", async {
            let at = self.api.at_block(block).await.map_err(|e| e.to_string())?;
            Self::value(&at, "Timestamp", "Now", ()).await
        })?;
        anyhow::ensure!(
            ms > 0,
            "block {block} at {} has no timestamp (Timestamp.Now is unset: the genesis block has none)",
            self.endpoint
        );
        Ok(UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// A storage value; an absent one is the entry's default where it has one, else an error.
    async fn value<K: StorageKeys, T: subxt::ext::scale_decode::DecodeAsType>(
        at: &AtBlock,
        pallet: &str,
        entry: &str,
        key: K,
    ) -> Result<T, String> {
        Self::optional(at, pallet, entry, key)
            .await?
            .ok_or_else(|| format!("{pallet}.{entry}: no value is stored and it has no default"))
    }

    /// A storage value, `None` where nothing is stored and the entry has no default.
    async fn optional<K: StorageKeys, T: subxt::ext::scale_decode::DecodeAsType>(
        at: &AtBlock,
        pallet: &str,
        entry: &str,
        key: K,
    ) -> Result<Option<T>, String> {
        let read = |e: &dyn std::fmt::Display| format!("reading {pallet}.{entry}: {e}");
        let v = at
            .storage()
            .try_fetch(storage_bytes::<K>(pallet, entry), key)
            .await
            .map_err(|e| read(&e))?;
        v.map(|v| v.decode_as::<T>().map_err(|e| read(&e)))
            .transpose()
    }

    /// A storage value of an entry that older runtimes lack: `None` where the runtime's
    /// metadata has no such entry; a failed read of an entry it has is an error.
    async fn if_known<K: StorageKeys, T: subxt::ext::scale_decode::DecodeAsType>(
        at: &AtBlock,
        pallet: &str,
        entry: &str,
        key: K,
    ) -> Result<Option<T>, String> {
        let known = at
            .metadata_ref()
            .pallet_by_name(pallet)
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(entry))
            .is_some();
        if !known {
            return Ok(None);
        }
        Self::value(at, pallet, entry, key).await.map(Some)
    }

    /// Every entry of a storage map under the subnet's prefix, as (key bytes, value bytes).
    async fn entries<K: StorageKeys>(
        at: &AtBlock,
        pallet: &str,
        entry: &str,
        netuid: u16,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String>
    where
        (u16,): subxt::storage::PrefixOf<K>,
    {
        let mut it = at
            .storage()
            .iter(storage_bytes::<K>(pallet, entry), (netuid,))
            .await
            .map_err(|e| format!("{pallet}.{entry}: {e}"))?;
        let mut out = Vec::new();
        while let Some(kv) = it.next().await {
            let kv = kv.map_err(|e| format!("{pallet}.{entry}: {e}"))?;
            out.push((kv.key_bytes().to_vec(), kv.value().bytes().to_vec()));
        }
        Ok(out)
    }

    /// The subnet's registered uids with hotkey, stake, permit and last update.
    pub fn metagraph(&self) -> Result<Vec<Neuron>> {
        let netuid = self.netuid;
        let at = self.at_current()?;
        self.run("reading the metagraph", async {
            let mut keys = BTreeMap::new();
            for (key, value) in
                Self::entries::<(u16, u16)>(&at, "SubtensorModule", "Keys", netuid).await?
            {
                if key.len() < 2 || value.len() != 32 {
                    continue;
                }
                let uid = u16::from_le_bytes([key[key.len() - 2], key[key.len() - 1]]);
                let mut hotkey = [0u8; 32];
                hotkey.copy_from_slice(&value);
                keys.insert(uid, hotkey);
            }
            let permits: Vec<bool> =
                Self::value(&at, "SubtensorModule", "ValidatorPermit", (netuid,)).await?;
            let last: Vec<u64> =
                Self::value(&at, "SubtensorModule", "LastUpdate", (netuid,)).await?;
            let mut out = Vec::with_capacity(keys.len());
            for (uid, hotkey) in keys {
                let alpha: u64 =
                    Self::value(&at, "SubtensorModule", "TotalHotkeyAlpha", (hotkey, netuid))
                        .await
                        .map_err(|e| format!("uid {uid}'s stake: {e}"))?;
                out.push(Neuron {
                    uid,
                    hotkey,
                    ss58: ss58(&hotkey),
                    stake: alpha as f64 / 1e9,
                    validator_permit: permits.get(uid as usize).copied().unwrap_or(false),
                    last_update: last.get(uid as usize).copied().unwrap_or(0),
                });
            }
            Ok::<_, String>(out)
        })
    }

    /// Every hotkey's commitment on the subnet, read as the reference's bucket string; a
    /// commitment that is not one says why.
    pub fn commitments(&self) -> Result<BTreeMap<[u8; 32], Result<BucketCommitment, String>>> {
        let netuid = self.netuid;
        let at = self.at_current()?;
        self.run("reading the commitments", async {
            let mut out = BTreeMap::new();
            for (key, value) in
                Self::entries::<(u16, [u8; 32])>(&at, "Commitments", "CommitmentOf", netuid).await?
            {
                if key.len() < 32 {
                    continue;
                }
                let mut hotkey = [0u8; 32];
                hotkey.copy_from_slice(&key[key.len() - 32..]);
                let parsed = Registration::decode(&value)
                    .map_err(|e| format!("the stored commitment does not decode: {e}"))
                    .and_then(|r| BucketCommitment::from_registration(&r));
                out.insert(hotkey, parsed);
            }
            Ok::<_, String>(out)
        })
    }

    /// The rules that decide when this hotkey may set weights, and how.
    pub fn weight_rules(&self, hotkey: &[u8; 32]) -> Result<WeightRules> {
        let netuid = self.netuid;
        let at = self.at_current()?;
        let block = at.block_number();
        self.run("reading the subnet's weight settings", async {
            const SUBTENSOR: &str = "SubtensorModule";
            let uid: Option<u16> =
                Self::optional(&at, SUBTENSOR, "Uids", (netuid, *hotkey)).await?;
            let last: Vec<u64> = Self::value(&at, SUBTENSOR, "LastUpdate", (netuid,)).await?;
            let tempo: u16 = Self::value(&at, SUBTENSOR, "Tempo", (netuid,)).await?;
            Ok::<_, String>(WeightRules {
                block,
                uid,
                rate_limit: Self::value(&at, SUBTENSOR, "WeightsSetRateLimit", (netuid,)).await?,
                last_update: uid.and_then(|u| last.get(u as usize).copied()).unwrap_or(0),
                version_key: Self::value(&at, SUBTENSOR, "WeightsVersionKey", (netuid,)).await?,
                commit_reveal: Self::value(&at, SUBTENSOR, "CommitRevealWeightsEnabled", (netuid,))
                    .await?,
                // Runtimes before commit-reveal v3 have no version: theirs is the hash commit (v2).
                commit_reveal_version: Self::if_known(
                    &at,
                    SUBTENSOR,
                    "CommitRevealWeightsVersion",
                    (),
                )
                .await?
                .unwrap_or(0),
                tempo,
                reveal_period_epochs: Self::if_known(
                    &at,
                    SUBTENSOR,
                    "RevealPeriodEpochs",
                    (netuid,),
                )
                .await?
                .unwrap_or(1),
                epoch_schedule: Self::epoch_schedule(&at, netuid, block, tempo).await?,
                beacon_key: None,
                block_seconds: None,
            })
        })
    }

    /// The subnet's epoch schedule, where the runtime keeps one (`None` where it does not).
    async fn epoch_schedule(
        at: &AtBlock,
        netuid: u16,
        block: u64,
        tempo: u16,
    ) -> Result<Option<EpochSchedule>, String> {
        let read =
            |entry: &'static str| Self::if_known::<_, u64>(at, "SubtensorModule", entry, (netuid,));
        // A runtime that lacks one of them runs epochs by the tempo alone: read no further.
        let Some(last_epoch_block) = read("LastEpochBlock").await? else {
            return Ok(None);
        };
        let Some(pending_epoch_at) = read("PendingEpochAt").await? else {
            return Ok(None);
        };
        let Some(epoch_index) = read("SubnetEpochIndex").await? else {
            return Ok(None);
        };
        let Some(blocks_since_last_step) = read("BlocksSinceLastStep").await? else {
            return Ok(None);
        };
        Ok(Some(EpochSchedule {
            last_epoch_block,
            pending_epoch_at,
            epoch_index,
            tempo: tempo as u64,
            blocks_since_last_step,
            block,
        }))
    }

    /// The epoch a block falls in for this subnet.
    pub fn epoch(&self, rules: &WeightRules) -> u64 {
        epoch_index(rules.block, self.netuid, rules.tempo)
    }

    /// Signs and submits a call, and waits until a finalized block includes it and its events
    /// say it succeeded. Nothing is reported as included before that.
    pub fn submit(&self, call: &Call, signer: &Keypair, wait: Duration) -> Result<Included> {
        let payload = call.payload();
        let progress = self.run("submitting the transaction", async {
            let at = self
                .api
                .at_current_block()
                .await
                .map_err(|e| e.to_string())?;
            at.transactions()
                .sign_and_submit_then_watch_default(&payload, signer)
                .await
                .map_err(|e| e.to_string())
        })?;
        let endpoint = self.endpoint.clone();
        let finalized = async move {
            let in_block = progress
                .wait_for_finalized()
                .await
                .map_err(|e| plain_error(&e))?;
            let events = in_block
                .wait_for_success()
                .await
                .map_err(|e| plain_error(&e))?;
            // The block that included it decides its epoch (commit-reveal) and its rate limit.
            let block = in_block
                .at()
                .await
                .map_err(|e| plain_error(&e))?
                .block_number();
            Ok::<_, String>(Included {
                block,
                block_hash: format!("0x{}", hex::encode(in_block.block_hash().0)),
                extrinsic_hash: format!("0x{}", hex::encode(events.extrinsic_hash().0)),
            })
        };
        self.rt
            .block_on(async move { tokio::time::timeout(wait, finalized).await })
            .map_err(|_| {
                anyhow!(
                    "{} was submitted to {endpoint} but not finalized within {} s; it stays pending and the next run checks again",
                    call.describe(),
                    wait.as_secs()
                )
            })?
            .map_err(|e| anyhow!("{} was refused by {endpoint}: {e}", call.describe()))
    }
}

/// An error's text with the prefixes its layers repeat said once ("RPC error: client error:
/// RPC error: client error: …" reads "RPC error: client error: …").
pub fn plain_error(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let mut parts: Vec<&str> = text.split(": ").collect();
    let mut n = 1;
    while n <= 3 {
        let repeat = (0..parts.len().saturating_sub(2 * n - 1))
            .find(|&i| i + 2 * n <= parts.len() && parts[i..i + n] == parts[i + n..i + 2 * n]);
        match repeat {
            Some(i) => {
                parts.drain(i + n..i + 2 * n);
            }
            None => n += 1,
        }
    }
    parts.join(": ")
}

/// An account's ss58 address with the generic prefix 42.
pub fn ss58(account: &[u8; 32]) -> String {
    subxt::utils::AccountId32(*account).to_string()
}

/// Subtensor as gauntlet's [`Chain`]: peers from the metagraph and the reference's bucket
/// commitments, weights by `set_weights`, hash commit-reveal (v2) or timelocked commits (v4).
pub struct SubtensorChain {
    chain: Subtensor,
    blocks_per_window: u64,
    block_seconds: f64,
    finalization_wait: Duration,
}

impl SubtensorChain {
    pub fn connect(
        network: &str,
        netuid: u16,
        cfg: &crate::config::Config,
    ) -> Result<SubtensorChain> {
        anyhow::ensure!(
            cfg.hparams.blocks_per_window > 0,
            "hparams.blocks_per_window must be positive"
        );
        Ok(SubtensorChain {
            chain: Subtensor::connect(network, netuid, super::seconds(cfg.chain.timeout_seconds))?,
            blocks_per_window: cfg.hparams.blocks_per_window,
            block_seconds: cfg.chain.block_seconds,
            finalization_wait: super::seconds(cfg.chain.finalization_wait_seconds),
        })
    }
}

impl super::Chain for SubtensorChain {
    fn describe(&self) -> String {
        format!("subnet {} at {}", self.chain.netuid, self.chain.endpoint)
    }

    fn network(&self, window: u64) -> Result<super::NetworkFile> {
        use super::local::{BucketSpec, Clock, NetworkFile, PeerEntry, Unlisted};
        use crate::time::format_time;
        let neurons = self.chain.metagraph()?;
        let mut commitments = self.chain.commitments()?;
        let block = self.chain.current_block()?;
        let now = self.chain.block_time(block)?;
        let genesis = now
            .checked_sub(Duration::from_secs_f64(block as f64 * self.block_seconds))
            .unwrap_or(UNIX_EPOCH);
        let mut windows = BTreeMap::new();
        for w in [window, window + 1] {
            let b = w * self.blocks_per_window;
            // The genesis block has no timestamp: window 0 starts at the clock's genesis.
            if b > 0 && b <= block {
                windows.insert(w, format_time(self.chain.block_time(b)?));
            }
        }
        let mut peers = Vec::new();
        let mut unlisted = Vec::new();
        for n in neurons {
            match commitments.remove(&n.hotkey) {
                Some(Ok(c)) => peers.push(PeerEntry {
                    uid: n.uid,
                    hotkey: n.ss58,
                    stake: n.stake,
                    bucket: BucketSpec {
                        url: format!("s3://{}", c.account_id),
                        endpoint: Some(format!(
                            "https://{}.r2.cloudflarestorage.com",
                            c.account_id
                        )),
                        region: Some("auto".into()),
                        access_key_id: Some(crate::secret::Secret::new(c.access_key_id)),
                        secret_access_key: Some(crate::secret::Secret::new(c.secret_access_key)),
                    },
                }),
                Some(Err(reason)) => unlisted.push(Unlisted {
                    uid: n.uid,
                    hotkey: n.ss58,
                    stake: n.stake,
                    reason: format!("its bucket commitment is unusable: {reason}"),
                }),
                None => unlisted.push(Unlisted {
                    uid: n.uid,
                    hotkey: n.ss58,
                    stake: n.stake,
                    reason: "it has no bucket commitment on chain".into(),
                }),
            }
        }
        Ok(NetworkFile {
            clock: Clock {
                genesis: format_time(genesis),
                window_seconds: self.blocks_per_window as f64 * self.block_seconds,
                windows,
            },
            peers,
            unlisted,
            commit_reveal: None,
            base: Default::default(),
        })
    }

    fn current_window(&self) -> Result<u64> {
        Ok(self.chain.current_block()? / self.blocks_per_window)
    }

    fn weight_rules(&self, hotkey: Option<&super::wallet::Hotkey>) -> Result<WeightRules> {
        self.chain.weight_rules(&needs_hotkey(hotkey)?.account)
    }

    fn call_data(&self, call: &Call) -> Result<Option<Vec<u8>>> {
        let at = self.chain.at_current()?;
        Ok(Some(at.transactions().call_data(&call.payload())?))
    }

    fn submit(&self, call: &Call, signer: Option<&super::wallet::Hotkey>) -> Result<Included> {
        self.chain.submit(
            call,
            needs_hotkey(signer)?.keypair()?,
            self.finalization_wait,
        )
    }
}

fn needs_hotkey(h: Option<&super::wallet::Hotkey>) -> Result<&super::wallet::Hotkey> {
    h.ok_or_else(|| {
        anyhow!("setting weights on subtensor needs the validator's hotkey: give --wallet-name and --wallet-hotkey (and --wallet-path if not ~/.bittensor/wallets)")
    })
}

#[cfg(test)]
mod tests {
    use super::plain_error;

    #[test]
    fn repeated_error_prefixes_are_said_once() {
        let e = "RPC error: client error: RPC error: client error: Connection refused";
        assert_eq!(
            plain_error(&e),
            "RPC error: client error: Connection refused"
        );
        assert_eq!(plain_error(&"a: a: b"), "a: b");
        assert_eq!(plain_error(&"a: b: c"), "a: b: c");
    }
}
