//! The extrinsics gauntlet sends, built with subxt's dynamic API against whatever metadata the
//! chain (or a metadata file, offline) provides, and signed by the validator's hotkey.

use super::scale::BucketCommitment;
use anyhow::{Context, Result};
use subxt::config::substrate::{SpecVersionForRange, SubstrateConfig};
use subxt::config::DefaultExtrinsicParamsBuilder;
use subxt::dynamic::Value;
use subxt::metadata::{ArcMetadata, Metadata};
use subxt::transactions::DynamicPayload;
use subxt::OfflineClient;
use subxt_signer::sr25519::Keypair;

/// One extrinsic gauntlet knows how to build.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    SetWeights {
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    },
    CommitWeights {
        netuid: u16,
        commit_hash: [u8; 32],
    },
    RevealWeights {
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    },
    SetCommitment {
        netuid: u16,
        bucket: BucketCommitment,
    },
    /// Commit-reveal v4: weights the chain itself decrypts and applies at `reveal_round`.
    CommitTimelockedWeights {
        netuid: u16,
        commit: Vec<u8>,
        reveal_round: u64,
        commit_reveal_version: u16,
    },
}

fn u16s(v: &[u16]) -> Value {
    Value::unnamed_composite(v.iter().map(|x| Value::u128(*x as u128)))
}

/// A commitment field as the metadata names it: `Raw{n}` holding n bytes.
fn raw_data_value(bytes: &[u8]) -> Value {
    Value::unnamed_variant(format!("Raw{}", bytes.len()), [Value::from_bytes(bytes)])
}

impl Call {
    /// The subxt payload of this call (pallet, call name and arguments by name).
    pub fn payload(&self) -> DynamicPayload<Value> {
        let (pallet, name, fields) = match self {
            Call::SetWeights {
                netuid,
                uids,
                values,
                version_key,
            } => (
                "SubtensorModule",
                "set_weights",
                vec![
                    ("netuid", Value::u128(*netuid as u128)),
                    ("dests", u16s(uids)),
                    ("weights", u16s(values)),
                    ("version_key", Value::u128(*version_key as u128)),
                ],
            ),
            Call::CommitWeights {
                netuid,
                commit_hash,
            } => (
                "SubtensorModule",
                "commit_weights",
                vec![
                    ("netuid", Value::u128(*netuid as u128)),
                    ("commit_hash", Value::from_bytes(commit_hash)),
                ],
            ),
            Call::RevealWeights {
                netuid,
                uids,
                values,
                salt,
                version_key,
            } => (
                "SubtensorModule",
                "reveal_weights",
                vec![
                    ("netuid", Value::u128(*netuid as u128)),
                    ("uids", u16s(uids)),
                    ("values", u16s(values)),
                    ("salt", u16s(salt)),
                    ("version_key", Value::u128(*version_key as u128)),
                ],
            ),
            Call::CommitTimelockedWeights {
                netuid,
                commit,
                reveal_round,
                commit_reveal_version,
            } => (
                "SubtensorModule",
                "commit_timelocked_weights",
                vec![
                    ("netuid", Value::u128(*netuid as u128)),
                    ("commit", Value::from_bytes(commit)),
                    ("reveal_round", Value::u128(*reveal_round as u128)),
                    (
                        "commit_reveal_version",
                        Value::u128(*commit_reveal_version as u128),
                    ),
                ],
            ),
            Call::SetCommitment { netuid, bucket } => (
                "Commitments",
                "set_commitment",
                vec![
                    ("netuid", Value::u128(*netuid as u128)),
                    (
                        "info",
                        Value::named_composite([(
                            "fields",
                            Value::unnamed_composite([raw_data_value(&bucket.to_bytes())]),
                        )]),
                    ),
                ],
            ),
        };
        subxt::dynamic::transaction(pallet, name, Value::named_composite(fields))
    }

    /// A one-line description for logs and `--dry-run` (never secrets).
    pub fn describe(&self) -> String {
        match self {
            Call::SetWeights {
                netuid,
                uids,
                version_key,
                ..
            } => format!(
                "SubtensorModule.set_weights(netuid {netuid}, {} uids, version_key {version_key})",
                uids.len()
            ),
            Call::CommitWeights {
                netuid,
                commit_hash,
            } => format!(
                "SubtensorModule.commit_weights(netuid {netuid}, 0x{})",
                hex::encode(commit_hash)
            ),
            Call::RevealWeights {
                netuid,
                uids,
                version_key,
                ..
            } => format!(
                "SubtensorModule.reveal_weights(netuid {netuid}, {} uids, version_key {version_key})",
                uids.len()
            ),
            Call::CommitTimelockedWeights {
                netuid,
                commit,
                reveal_round,
                commit_reveal_version,
            } => format!(
                "SubtensorModule.commit_timelocked_weights(netuid {netuid}, {} encrypted bytes, drand round {reveal_round}, version {commit_reveal_version})",
                commit.len()
            ),
            Call::SetCommitment { netuid, bucket } => format!(
                "Commitments.set_commitment(netuid {netuid}, bucket {})",
                bucket.account_id
            ),
        }
    }
}

/// The chain facts an offline signature needs.
#[derive(Clone, Debug)]
pub struct OfflineChain {
    pub metadata: ArcMetadata,
    pub genesis_hash: [u8; 32],
    pub spec_version: u32,
    pub transaction_version: u32,
}

/// An extrinsic signed offline: what would be submitted, and what was signed.
pub struct Signed {
    pub call_data: Vec<u8>,
    pub signer_payload: Vec<u8>,
    pub extrinsic: Vec<u8>,
    pub hash: [u8; 32],
}

impl OfflineChain {
    /// Metadata as `state_getMetadata` returns it (the `meta`-prefixed bytes).
    pub fn from_metadata_bytes(
        bytes: &[u8],
        genesis_hash: [u8; 32],
        spec_version: u32,
        transaction_version: u32,
    ) -> Result<OfflineChain> {
        let metadata = Metadata::decode_from(bytes)
            .context("the metadata does not decode")?
            .arc();
        Ok(OfflineChain {
            metadata,
            genesis_hash,
            spec_version,
            transaction_version,
        })
    }

    fn client(&self) -> OfflineClient<SubstrateConfig> {
        let config = SubstrateConfig::builder()
            .set_genesis_hash(self.genesis_hash.into())
            .set_metadata_for_spec_versions([(self.spec_version, self.metadata.clone())])
            .set_spec_version_for_block_ranges([SpecVersionForRange {
                block_range: 0..u64::MAX,
                spec_version: self.spec_version,
                transaction_version: self.transaction_version,
            }])
            .build();
        OfflineClient::new_with_config(config)
    }

    /// The SCALE call data of a call, checked against the metadata.
    pub fn call_data(&self, call: &Call) -> Result<Vec<u8>> {
        let at = self.client().at_block(0u64)?;
        Ok(at.transactions().call_data(&call.payload())?)
    }

    /// Signs a call as an immortal transaction at `nonce` with no tip.
    pub fn sign(&self, call: &Call, signer: &Keypair, nonce: u64) -> Result<Signed> {
        let at = self.client().at_block(0u64)?;
        let payload = call.payload();
        let call_data = at.transactions().call_data(&payload)?;
        let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
            .immortal()
            .nonce(nonce)
            .build();
        let mut signable = at
            .transactions()
            .create_signable_offline(&payload, params)?;
        let signer_payload = signable.signer_payload()?;
        let signed = signable.sign(signer)?;
        Ok(Signed {
            call_data,
            signer_payload,
            extrinsic: signed.encoded().to_vec(),
            hash: signed.hash().0,
        })
    }
}
