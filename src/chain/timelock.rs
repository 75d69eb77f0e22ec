//! Commit-reveal v4: weights timelock-encrypted to a future round of drand's quicknet beacon,
//! which the chain decrypts and applies by itself once that round's pulse has reached it.
//!
//! Three parts, each checked against the PyPI `bittensor-drand` 2.0.0 that the Bittensor SDK
//! uses (tests/timelock.rs):
//! - the payload, `WeightsTlockPayload { hotkey, uids, values, version_key }` SCALE-encoded;
//! - the ciphertext: Boneh–Franklin IBE to the identity `sha256(round as u64 big-endian)` under
//!   quicknet's key, AES-GCM for the body, serialized in the layout of the `tle` revision the
//!   chain runs (the IBE's `v` and `w` carry a u64 length, which `timelock` 0.3.0 leaves out);
//! - the round: the first block at which the chain reveals a commit made now, found by
//!   stepping its epoch schedule block by block, then turned into a drand round by time.

use anyhow::{bail, Context, Result};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use sha2::Digest;
use timelock::block_ciphers::AESGCMBlockCipherProvider;
use timelock::engines::{drand::TinyBLS381, EngineBLS};
use timelock::ibe::fullident::{Ciphertext, Identity};
use timelock::tlock::{tld, tle, TLECiphertext};

/// drand quicknet's public key (G2, compressed), as the chain's `pallet_drand` verifies it.
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// Unix time of quicknet's round 1.
pub const QUICKNET_GENESIS: u64 = 1_692_803_367;
/// Seconds between quicknet rounds.
pub const QUICKNET_PERIOD: u64 = 3;
/// The largest commit `commit_timelocked_weights` takes.
pub const MAX_COMMIT_BYTES: usize = 5000;

/// Blocks added to the reveal block so that the round's pulse is already on chain by then.
const SECURITY_BLOCKS: u64 = 3;
/// A commit sent now lands in the next block.
const INCLUSION_BLOCKS: u64 = 1;
/// The chain's upper bound on a subnet's tempo; a subnet this far past its last step runs one.
const MAX_TEMPO: u64 = 50_400;

/// The chain's `WeightsTlockPayload`: what a timelocked commit says when opened, the
/// committing hotkey and its weights.
#[derive(Clone, Debug, PartialEq, parity_scale_codec::Encode, parity_scale_codec::Decode)]
pub struct Payload {
    pub hotkey: Vec<u8>,
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
    pub version_key: u64,
}

/// The SCALE encoding of a hotkey's `WeightsTlockPayload`.
pub fn payload(hotkey: &[u8; 32], uids: &[u16], values: &[u16], version_key: u64) -> Vec<u8> {
    parity_scale_codec::Encode::encode(&Payload {
        hotkey: hotkey.to_vec(),
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key,
    })
}

/// Decodes an opened commit, refusing trailing bytes.
pub fn decode_payload(bytes: &[u8]) -> Result<Payload> {
    use parity_scale_codec::DecodeAll;
    Payload::decode_all(&mut &bytes[..])
        .map_err(|e| anyhow::anyhow!("the opened commit is not a WeightsTlockPayload: {e}"))
}

/// The current Unix time in seconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The quicknet round current at Unix time `now` (rounds start at 1 at genesis).
pub fn round_at(now: f64) -> u64 {
    (((now - QUICKNET_GENESIS as f64) / QUICKNET_PERIOD as f64).floor() as u64).max(1)
}

/// A stand-in for drand on a local network: a BLS key derived from a seed signs each round,
/// on quicknet's clock. Its key is no one's secret; it only lets a local chain open commits.
pub struct LocalBeacon {
    secret: <TinyBLS381 as EngineBLS>::Scalar,
}

impl LocalBeacon {
    pub fn from_seed(seed: &str) -> LocalBeacon {
        use ark_ff::PrimeField;
        let digest =
            sha2::Sha256::digest([&b"gauntlet local beacon\n"[..], seed.as_bytes()].concat());
        LocalBeacon {
            secret: PrimeField::from_le_bytes_mod_order(&digest),
        }
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ark_ec::PrimeGroup;
        let key = <TinyBLS381 as EngineBLS>::PublicKeyGroup::generator() * self.secret;
        let mut out = Vec::new();
        key.serialize_compressed(&mut out)
            .expect("a G2 point serializes");
        out
    }

    /// The round's signature, which opens what was encrypted to it.
    pub fn signature(&self, round: u64) -> Vec<u8> {
        let sig = identity(round).extract::<TinyBLS381>(self.secret).0;
        let mut out = Vec::new();
        sig.serialize_compressed(&mut out)
            .expect("a G1 point serializes");
        out
    }
}

/// A beacon's public key: a compressed BLS12-381 G2 point.
fn public_key(bytes: &[u8]) -> Result<<TinyBLS381 as EngineBLS>::PublicKeyGroup> {
    <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(bytes)
        .context("the beacon's public key is not a compressed BLS12-381 G2 point")
}

/// A round's signature: a compressed BLS12-381 G1 point.
fn signature(bytes: &[u8]) -> Result<<TinyBLS381 as EngineBLS>::SignatureGroup> {
    <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(bytes)
        .context("the signature is not a compressed BLS12-381 G1 point")
}

/// Takes one u64-length-prefixed byte string off the front of `rest`, checking the length
/// against what is there before anything is reserved for it.
fn take_prefixed<'a>(rest: &mut &'a [u8], what: &str) -> Result<&'a [u8]> {
    let Some((len, tail)) = rest.split_first_chunk::<8>() else {
        bail!("the ciphertext ends before its {what}")
    };
    let len = u64::from_le_bytes(*len);
    anyhow::ensure!(
        len <= tail.len() as u64,
        "the ciphertext's {what} claims {len} bytes, more than it holds"
    );
    let (part, tail) = tail.split_at(len as usize);
    *rest = tail;
    Ok(part)
}

/// The beacon's identity for a round.
fn identity(round: u64) -> Identity {
    Identity::new(b"", &sha2::Sha256::digest(round.to_be_bytes()))
}

/// Encrypts `plaintext` so that round `round`'s signature of the beacon with `public_key`
/// (compressed G2) decrypts it; returns the ciphertext in the chain's layout.
pub fn encrypt(plaintext: &[u8], round: u64, public_key: &[u8]) -> Result<Vec<u8>> {
    let mut rng = rand_core::OsRng;
    let key = self::public_key(public_key)?;
    let mut secret = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rng, &mut secret);
    let ct = tle::<TinyBLS381, AESGCMBlockCipherProvider, _>(
        key,
        secret,
        plaintext,
        identity(round),
        rng,
    )
    .map_err(|e| anyhow::anyhow!("timelock encryption failed: {e:?}"))?;
    let mut out = Vec::with_capacity(200 + plaintext.len());
    ct.header
        .u
        .serialize_compressed(&mut out)
        .context("serializing the ciphertext")?;
    for part in [
        &ct.header.v[..],
        &ct.header.w[..],
        &ct.body,
        &ct.cipher_suite,
    ] {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// Decrypts a ciphertext in the chain's layout with a round's signature (compressed G1).
pub fn decrypt(ciphertext: &[u8], signature: &[u8]) -> Result<Vec<u8>> {
    let mut rest = ciphertext;
    let u = <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&mut rest)
        .context("the ciphertext does not start with a G2 point")?;
    let hash = |what: &str, rest: &mut &[u8]| -> Result<[u8; 32]> {
        take_prefixed(rest, what)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("the ciphertext's {what} is not 32 bytes"))
    };
    let v = hash("IBE v", &mut rest)?;
    let w = hash("IBE w", &mut rest)?;
    let body = take_prefixed(&mut rest, "body")?.to_vec();
    check_body(&body)?;
    let cipher_suite = take_prefixed(&mut rest, "cipher suite")?.to_vec();
    anyhow::ensure!(rest.is_empty(), "the ciphertext has trailing bytes");
    let sig = self::signature(signature)?;
    let ct = TLECiphertext::<TinyBLS381> {
        header: Ciphertext { u, v, w },
        body,
        cipher_suite,
    };
    tld::<TinyBLS381, AESGCMBlockCipherProvider>(ct, sig)
        .map_err(|e| anyhow::anyhow!("timelock decryption failed: {e:?}"))
}

/// The body is two length-prefixed byte strings (the AES-GCM ciphertext and its nonce), and
/// must be exactly that: the deserializer reserves whatever a length claims before reading.
fn check_body(body: &[u8]) -> Result<()> {
    let mut rest = body;
    take_prefixed(&mut rest, "body's ciphertext")?;
    take_prefixed(&mut rest, "body's nonce")?;
    anyhow::ensure!(rest.is_empty(), "the ciphertext's body has trailing bytes");
    Ok(())
}

/// Whether `signature` is the beacon's signature of `round` (the pairing check drand's
/// clients make), so a test vector or a pulse can be trusted before it is used.
pub fn verify_round(round: u64, signature: &[u8], public_key: &[u8]) -> Result<bool> {
    use ark_ec::PrimeGroup;
    let key = self::public_key(public_key)?;
    let sig = self::signature(signature)?;
    let g2 = <TinyBLS381 as EngineBLS>::PublicKeyGroup::generator();
    Ok(TinyBLS381::pairing(g2, sig)
        == TinyBLS381::pairing(key, identity(round).public::<TinyBLS381>()))
}

/// The chain's epoch schedule of a subnet at a block: what decides in which block an epoch
/// runs (storage `LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex`, `Tempo`,
/// `BlocksSinceLastStep` on runtimes with owner-triggered epochs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EpochSchedule {
    pub last_epoch_block: u64,
    /// An owner-triggered epoch due at this block (0: none).
    pub pending_epoch_at: u64,
    pub epoch_index: u64,
    pub tempo: u64,
    pub blocks_since_last_step: u64,
    /// The block this state was read at.
    pub block: u64,
}

impl EpochSchedule {
    /// The schedule of a runtime without owner-triggered epochs, where an epoch runs at every
    /// block with `(block + netuid + 1) % (tempo + 1) == 0`.
    pub fn fixed(block: u64, netuid: u16, tempo: u16) -> EpochSchedule {
        let period = tempo as u64 + 1;
        let offset = netuid as u64 + 1;
        let epoch_index = (block + offset) / period;
        let last_epoch_block = (epoch_index * period).saturating_sub(offset);
        // Near genesis the last epoch block would be negative: name the next one instead.
        let pending_epoch_at = if epoch_index * period < offset {
            period - offset % period
        } else {
            0
        };
        EpochSchedule {
            last_epoch_block,
            pending_epoch_at,
            epoch_index,
            tempo: if tempo == 0 { 0 } else { period },
            blocks_since_last_step: block - last_epoch_block.min(block),
            block,
        }
    }

    fn runs_epoch(&self, block: u64) -> bool {
        if self.tempo == 0 {
            return false;
        }
        (self.pending_epoch_at > 0 && block >= self.pending_epoch_at)
            || self.blocks_since_last_step > MAX_TEMPO
            || block.saturating_sub(self.last_epoch_block) >= self.tempo
    }

    /// The epoch a reveal in `block` sees: reveals run before that block's epoch step.
    fn epoch_at(&self, block: u64) -> u64 {
        self.epoch_index + self.runs_epoch(block) as u64
    }

    /// The state after `block`'s epoch step.
    fn after(&self, block: u64) -> EpochSchedule {
        let mut next = *self;
        next.blocks_since_last_step += 1;
        next.block = block;
        if next.runs_epoch(block) {
            next.last_epoch_block = block;
            next.pending_epoch_at = 0;
            next.epoch_index += 1;
            next.blocks_since_last_step = 0;
        }
        next
    }

    /// The first block in which the chain reveals a commit sent now (it lands in the next
    /// block), `reveal_period_epochs` epochs after the commit's.
    pub fn first_reveal_block(&self, reveal_period_epochs: u64) -> Result<u64> {
        anyhow::ensure!(
            self.tempo > 0,
            "the subnet's tempo is 0: it runs no epochs, so a commit would never be revealed"
        );
        let landing = self.block + INCLUSION_BLOCKS;
        let target = self.epoch_at(landing) + reveal_period_epochs;
        let mut state = *self;
        let limit = reveal_period_epochs
            .saturating_add(1)
            .saturating_mul(MAX_TEMPO);
        for block in landing..=landing.saturating_add(limit) {
            if state.epoch_at(block) == target {
                return Ok(block);
            }
            state = state.after(block);
        }
        bail!("no reveal block within {limit} blocks of block {landing}: the epoch schedule read from the chain is inconsistent")
    }
}

/// The drand round to encrypt to so that the chain reveals at `reveal_block`: the round
/// current a few blocks after it, by wall-clock time `now` (Unix seconds) and the block time.
pub fn reveal_round(reveal_block: u64, block: u64, block_seconds: f64, now: f64) -> u64 {
    let blocks = (reveal_block + SECURITY_BLOCKS).saturating_sub(block);
    round_at(now + blocks as f64 * block_seconds)
}

/// Quicknet's public key as bytes.
pub fn quicknet_key() -> Vec<u8> {
    hex::decode(QUICKNET_PUBLIC_KEY).expect("the quicknet key constant is hex")
}

/// One timelocked commit ready for `commit_timelocked_weights`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelockedCommit {
    pub ciphertext: Vec<u8>,
    pub round: u64,
    pub reveal_block: u64,
}

/// Encrypts a [`payload`], to the beacon with `beacon_key`, for the round in which the chain
/// will reveal it.
pub fn commit(
    plaintext: &[u8],
    schedule: &EpochSchedule,
    reveal_period_epochs: u64,
    block_seconds: f64,
    beacon_key: &[u8],
) -> Result<TimelockedCommit> {
    let reveal_block = schedule.first_reveal_block(reveal_period_epochs)?;
    let round = reveal_round(reveal_block, schedule.block, block_seconds, unix_now());
    let ciphertext = encrypt(plaintext, round, beacon_key)?;
    anyhow::ensure!(
        ciphertext.len() <= MAX_COMMIT_BYTES,
        "the encrypted weights are {} bytes, over the chain's limit of {MAX_COMMIT_BYTES}: send fewer uids",
        ciphertext.len()
    );
    Ok(TimelockedCommit {
        ciphertext,
        round,
        reveal_block,
    })
}
