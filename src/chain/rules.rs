//! What the chain says about sending weights: the rules a submission must follow now, and
//! where a submission landed. Every [`super::Chain`] answers with these, the local network
//! file as well as subtensor.

use super::timelock::EpochSchedule;

/// What decides whether and how weights may be set now.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WeightRules {
    pub block: u64,
    pub uid: Option<u16>,
    pub rate_limit: u64,
    pub last_update: u64,
    pub version_key: u64,
    pub commit_reveal: bool,
    pub commit_reveal_version: u16,
    pub tempo: u16,
    pub reveal_period_epochs: u64,
    /// The epoch schedule, on runtimes whose epochs the subnet owner can also trigger; on
    /// older ones epochs follow the tempo alone ([`WeightRules::schedule`]).
    pub epoch_schedule: Option<EpochSchedule>,
    /// The beacon timelocked commits are encrypted to (compressed G2): `None` is drand's
    /// quicknet, as on subtensor.
    pub beacon_key: Option<Vec<u8>>,
    /// Seconds per block where the chain knows it (`None`: the config's `chain.block_seconds`).
    pub block_seconds: Option<f64>,
}

impl WeightRules {
    /// When this subnet's epochs run, from the block the rules were read at.
    pub fn schedule(&self, netuid: u16) -> EpochSchedule {
        self.epoch_schedule
            .unwrap_or_else(|| EpochSchedule::fixed(self.block, netuid, self.tempo))
    }

    /// The block a submission sent now lands in: the next one.
    pub fn landing_block(&self) -> u64 {
        self.block + 1
    }

    /// The first block a submission may land in: the chain allows it where
    /// `block − LastUpdate ≥ WeightsSetRateLimit`, counting the block that includes it.
    pub fn next_allowed_block(&self) -> u64 {
        if self.last_update == 0 {
            return self.landing_block();
        }
        (self.last_update + self.rate_limit).max(self.landing_block())
    }

    /// Whether a submission sent now lands within the rate limit.
    pub fn may_submit(&self) -> bool {
        self.landing_block() >= self.next_allowed_block()
    }
}

/// Where a submission landed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Included {
    /// The number of the block that included it.
    pub block: u64,
    pub block_hash: String,
    pub extrinsic_hash: String,
}
