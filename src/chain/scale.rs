//! The chain's values that gauntlet reads and writes by their SCALE layout, without metadata:
//! commitments (`Registration` / `Data`), `AxonInfo`, the commit-reveal hash, and weights
//! normalised to `u16` the way the chain (and the Bittensor SDK) does.
//!
//! Everything decoded here comes from other people's transactions: a value that does not
//! parse is a named error, never a panic.

use parity_scale_codec::{Compact, Decode, Encode};

/// One field of a commitment (pallet Commitments' `Data`), as the chain stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    None,
    /// `Raw0..Raw128`: tag `n + 1`, then n bytes.
    Raw(Vec<u8>),
    /// BlakeTwo256 (130), Sha256 (131), Keccak256 (132), ShaThree256 (133).
    Hash(u8, [u8; 32]),
    /// 134: an encrypted payload and the drand round that reveals it.
    TimelockEncrypted {
        encrypted: Vec<u8>,
        reveal_round: u64,
    },
    /// 135.
    ResetBondsFlag,
    /// 136: up to 512 bytes.
    BigRaw(Vec<u8>),
}

/// A stored commitment: `CommitmentOf[netuid][hotkey]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub deposit: u64,
    pub block: u32,
    pub fields: Vec<Data>,
}

/// Why a stored value could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the value ends early ({0})")]
    Truncated(&'static str),
    #[error("unknown Data tag {0}")]
    UnknownTag(u8),
    #[error("{0} bytes left over after the value")]
    Trailing(usize),
    #[error("{what} declares {len} entries, more than the {max} allowed")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn compact_len(&mut self, what: &'static str, max: usize) -> Result<usize, DecodeError> {
        let mut input = self.bytes;
        let len = Compact::<u32>::decode(&mut input)
            .map_err(|_| DecodeError::Truncated(what))?
            .0 as usize;
        self.bytes = input;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        Ok(len)
    }

    fn end(&self) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }
}

impl Data {
    fn decode(c: &mut Cursor) -> Result<Data, DecodeError> {
        let tag = c.u8("Data tag")?;
        Ok(match tag {
            0 => Data::None,
            1..=129 => Data::Raw(c.take(tag as usize - 1, "Raw bytes")?.to_vec()),
            130..=133 => Data::Hash(tag, c.array::<32>("hash")?),
            134 => {
                let n = c.compact_len("TimelockEncrypted payload", 1024)?;
                let encrypted = c.take(n, "TimelockEncrypted payload")?.to_vec();
                let reveal_round = u64::from_le_bytes(c.array::<8>("reveal_round")?);
                Data::TimelockEncrypted {
                    encrypted,
                    reveal_round,
                }
            }
            135 => Data::ResetBondsFlag,
            136 => {
                let n = c.compact_len("BigRaw bytes", 512)?;
                Data::BigRaw(c.take(n, "BigRaw bytes")?.to_vec())
            }
            t => return Err(DecodeError::UnknownTag(t)),
        })
    }

    /// The SCALE bytes of this field, as `set_commitment` sends it.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Data::None => out.push(0),
            Data::Raw(b) => {
                out.push(b.len() as u8 + 1);
                out.extend_from_slice(b);
            }
            Data::Hash(tag, h) => {
                out.push(*tag);
                out.extend_from_slice(h);
            }
            Data::TimelockEncrypted {
                encrypted,
                reveal_round,
            } => {
                out.push(134);
                encrypted.encode_to(&mut out);
                reveal_round.encode_to(&mut out);
            }
            Data::ResetBondsFlag => out.push(135),
            Data::BigRaw(b) => {
                out.push(136);
                b.encode_to(&mut out);
            }
        }
        out
    }
}

impl Registration {
    /// `deposit u64 | block u32 | fields: Vec<Data>` (at most 3 fields).
    pub fn decode(bytes: &[u8]) -> Result<Registration, DecodeError> {
        let mut c = Cursor { bytes };
        let deposit = u64::from_le_bytes(c.array::<8>("deposit")?);
        let block = u32::from_le_bytes(c.array::<4>("block")?);
        let n = c.compact_len("commitment fields", 3)?;
        let fields = (0..n)
            .map(|_| Data::decode(&mut c))
            .collect::<Result<_, _>>()?;
        c.end()?;
        Ok(Registration {
            deposit,
            block,
            fields,
        })
    }
}

/// A peer's bucket as the reference commits it: 128 ASCII characters, account id (the bucket
/// name) + read access key id + read secret access key.
#[derive(Clone, PartialEq, Eq)]
pub struct BucketCommitment {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for BucketCommitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketCommitment")
            .field("account_id", &self.account_id)
            .field("access_key_id", &"<redacted>")
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl BucketCommitment {
    /// Reads the reference's commitment from a stored `Registration`: its first field must be
    /// `Raw128` holding 128 printable ASCII characters; anything else is refused with why.
    pub fn from_registration(r: &Registration) -> Result<BucketCommitment, String> {
        let Some(first) = r.fields.first() else {
            return Err("the commitment has no fields".into());
        };
        let Data::Raw(bytes) = first else {
            return Err(format!(
                "the commitment's first field is {}, not Raw128",
                data_kind(first)
            ));
        };
        if bytes.len() != 128 {
            return Err(format!(
                "the commitment is {} bytes long, not the 128 of account id + read key id + read secret",
                bytes.len()
            ));
        }
        if !bytes.iter().all(|b| b.is_ascii_graphic()) {
            return Err("the commitment is not printable ASCII".into());
        }
        let s = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let account_id = &s[..32];
        // The account id becomes the host `{id}.r2.cloudflarestorage.com`: anything but
        // letters and digits (`@`, `:`, `/`, `?`, `#`, `.`) would let a peer pick the host,
        // port or path the validator talks to. R2's ids are 32 lowercase hex characters.
        if !account_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "the account id {account_id:?} is not 32 lowercase letters and digits (an R2 account id is 32 hex characters), so it names no R2 bucket host"
            ));
        }
        Ok(BucketCommitment {
            account_id: account_id.to_string(),
            access_key_id: s[32..64].to_string(),
            secret_access_key: s[64..].to_string(),
        })
    }

    /// The 128 characters a peer commits.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{}{}{}",
            self.account_id, self.access_key_id, self.secret_access_key
        )
        .into_bytes()
    }
}

fn data_kind(d: &Data) -> String {
    match d {
        Data::None => "None".into(),
        Data::Raw(b) => format!("Raw{}", b.len()),
        Data::Hash(t, _) => format!("a hash (tag {t})"),
        Data::TimelockEncrypted { .. } => "TimelockEncrypted".into(),
        Data::ResetBondsFlag => "ResetBondsFlag".into(),
        Data::BigRaw(b) => format!("BigRaw({})", b.len()),
    }
}

/// `SubtensorModule::Axons` values.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AxonInfo {
    pub block: u64,
    pub version: u32,
    pub ip: u128,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
    pub placeholder1: u8,
    pub placeholder2: u8,
}

impl AxonInfo {
    pub fn decode_exact(bytes: &[u8]) -> Result<AxonInfo, DecodeError> {
        let mut input = bytes;
        let a = AxonInfo::decode(&mut input).map_err(|_| DecodeError::Truncated("AxonInfo"))?;
        Cursor { bytes: input }.end()?;
        Ok(a)
    }

    /// The axon's address as text (`ip_type` 4 or 6).
    pub fn address(&self) -> String {
        if self.ip_type == 6 {
            format!("[{}]:{}", std::net::Ipv6Addr::from(self.ip), self.port)
        } else {
            format!("{}:{}", std::net::Ipv4Addr::from(self.ip as u32), self.port)
        }
    }
}

/// The commit-reveal (v2) hash the chain checks a reveal against:
/// `blake2_256(SCALE((who, netuid_index, uids, values, salt, version_key)))`.
pub fn commit_hash(
    who: &[u8; 32],
    netuid_index: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    let encoded = (who, netuid_index, uids, values, salt, version_key).encode();
    sp_crypto_hashing::blake2_256(&encoded)
}

/// Weights as the chain takes them: uids with a positive weight, in uid order, the largest
/// scaled to 65535 and the rest rounded half to even (as the Bittensor SDK's
/// `convert_weights_and_uids_for_emit` does with Python's `round`); zero weights are dropped.
pub fn normalize_weights(weights: &[(u16, f64)]) -> (Vec<u16>, Vec<u16>) {
    let mut w: Vec<(u16, f64)> = weights
        .iter()
        .copied()
        .filter(|(_, x)| x.is_finite() && *x > 0.0)
        .collect();
    w.sort_by_key(|(uid, _)| *uid);
    w.dedup_by_key(|(uid, _)| *uid);
    let max = w.iter().map(|(_, x)| *x).fold(0.0f64, f64::max);
    let mut uids = Vec::new();
    let mut values = Vec::new();
    if max <= 0.0 {
        return (uids, values);
    }
    for (uid, x) in w {
        let v = (x / max * u16::MAX as f64).round_ties_even();
        if v >= 1.0 {
            uids.push(uid);
            values.push(v.min(u16::MAX as f64) as u16);
        }
    }
    (uids, values)
}

/// The chain's epoch of a block for a subnet (`get_epoch_index`):
/// `(block + netuid + 1) / (tempo + 1)`.
pub fn epoch_index(block: u64, netuid: u16, tempo: u16) -> u64 {
    (block + netuid as u64 + 1) / (tempo as u64 + 1)
}

/// The first block of an epoch for a subnet (inverse of `epoch_index`).
pub fn epoch_start(epoch: u64, netuid: u16, tempo: u16) -> u64 {
    (epoch * (tempo as u64 + 1)).saturating_sub(netuid as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::normalize_weights;

    /// Ties go to the even neighbour, as Python's `round` sends them. The ratios were found
    /// with /opt/torch-venv-2.11.0/bin/python: `r = (k + 0.5) / 65535` with `r * 65535 ==
    /// k + 0.5` exactly, and `round(r * 65535)` gives 0, 2 and 4 for k = 0, 2, 3.
    #[test]
    fn ties_round_half_to_even() {
        // k = 2: 2.5 -> 2 (half away from zero would give 3).
        let r2 = 2.5 / 65535.0;
        assert_eq!(r2 * 65535.0, 2.5);
        assert_eq!(normalize_weights(&[(0, 1.0), (1, r2)]).1, vec![65535, 2]);
        // k = 3: 3.5 -> 4.
        let r3 = 3.5 / 65535.0;
        assert_eq!(r3 * 65535.0, 3.5);
        assert_eq!(normalize_weights(&[(0, 1.0), (1, r3)]).1, vec![65535, 4]);
        // k = 0: 0.5 -> 0, and a zero weight is not sent.
        let r0 = 0.5 / 65535.0;
        assert_eq!(r0 * 65535.0, 0.5);
        assert_eq!(
            normalize_weights(&[(0, 1.0), (1, r0)]),
            (vec![0], vec![65535])
        );
    }
}
