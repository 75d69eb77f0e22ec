//! The local network file: the participants (uid, hotkey, stake, bucket and its read
//! credentials) and the window clock, in YAML. Credentials stay here: records carry only the
//! bucket's URL and endpoint, and a stage that needs the keys looks them up by uid.

use crate::record::{Bucket, Record};
use crate::secret::Secret;
use crate::time::parse_time;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub clock: Clock,
    pub peers: Vec<PeerEntry>,
    /// Participants without a usable bucket (a chain's uids with no or a bad commitment):
    /// they get a `missing` record that says why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlisted: Vec<Unlisted>,
    /// Weights by commit-reveal v4, as most subnets take them (absent: by `set_weights`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_reveal: Option<LocalCommitReveal>,
    /// The folder relative bucket paths are resolved against (the file's own folder).
    #[serde(skip)]
    pub base: PathBuf,
}

/// A local chain that takes weights as a commit-reveal v4 subnet does: timelocked to a round
/// of a local beacon (drand's stand-in, [`LocalBeacon`](crate::chain::timelock::LocalBeacon)),
/// and revealed into the ledger once that round has come. A window counts as a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalCommitReveal {
    /// Windows per epoch.
    pub tempo: u16,
    #[serde(default = "one_epoch")]
    pub reveal_period_epochs: u64,
    /// Seed of the local beacon's key (any text: it only lets this file's chain open commits).
    pub beacon_seed: String,
}

fn one_epoch() -> u64 {
    1
}

/// When each window starts: `genesis + window · window_seconds`, unless `windows` gives the
/// start of a window explicitly (as a chain's block timestamps would).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    /// RFC 3339 start time of window 0.
    pub genesis: String,
    pub window_seconds: f64,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub windows: std::collections::BTreeMap<u64, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    pub uid: u16,
    #[serde(default)]
    pub hotkey: String,
    #[serde(default)]
    pub stake: f64,
    pub bucket: BucketSpec,
}

/// A participant without a usable bucket, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unlisted {
    pub uid: u16,
    #[serde(default)]
    pub hotkey: String,
    #[serde(default)]
    pub stake: f64,
    pub reason: String,
}

/// A peer's bucket: `file:///folder` (or a folder path), or `s3://bucket` with an endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSpec {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<Secret>,
}

impl BucketSpec {
    /// What a record may say about the bucket: no credentials.
    pub fn public(&self) -> Bucket {
        Bucket {
            url: self.url.clone(),
            endpoint: self.endpoint.clone(),
            extra: Default::default(),
        }
    }
}

impl Clock {
    /// The start of a window.
    pub fn window_start(&self, window: u64) -> Result<SystemTime> {
        if let Some(t) = self.windows.get(&window) {
            return parse_time(t);
        }
        let genesis = parse_time(&self.genesis)?;
        anyhow::ensure!(
            self.window_seconds > 0.0,
            "clock.window_seconds must be positive"
        );
        Ok(genesis + Duration::from_secs_f64(window as f64 * self.window_seconds))
    }

    /// The put window of a window's uploads: from the start of the next window, for `delta`.
    pub fn put_window(&self, window: u64, delta_seconds: f64) -> Result<(SystemTime, SystemTime)> {
        let open = self.window_start(window + 1)?;
        Ok((open, open + Duration::from_secs_f64(delta_seconds.max(0.0))))
    }

    /// The window a time falls in: the last one started by then, explicit starts (a chain's
    /// block times, the demo's own clock) taking precedence over the formula.
    pub fn window_at(&self, t: SystemTime) -> Result<u64> {
        let genesis = parse_time(&self.genesis)?;
        let since = t.duration_since(genesis).unwrap_or_default().as_secs_f64();
        let mut w = (since / self.window_seconds).floor() as u64;
        for (&n, start) in &self.windows {
            if n > w && parse_time(start)? <= t {
                w = n;
            }
        }
        while w > 0
            && self
                .windows
                .get(&w)
                .map(|s| parse_time(s))
                .transpose()?
                .is_some_and(|s| s > t)
        {
            w -= 1;
        }
        Ok(w)
    }
}

impl NetworkFile {
    pub fn read(path: &Path) -> Result<NetworkFile> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the network file {} (set network.file in the config)",
                path.display()
            )
        })?;
        let mut n: NetworkFile = yaml_serde::from_str(&text)
            .with_context(|| format!("network file {} is not valid", path.display()))?;
        n.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for uid in n
            .peers
            .iter()
            .map(|p| p.uid)
            .chain(n.unlisted.iter().map(|u| u.uid))
        {
            anyhow::ensure!(
                seen.insert(uid),
                "network file {} lists uid {} twice",
                path.display(),
                uid
            );
        }
        n.clock.window_start(0)?;
        Ok(n)
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        crate::atomic::write(path, yaml_serde::to_string(self)?.as_bytes())
            .with_context(|| format!("cannot write the network file {}", path.display()))
    }

    pub fn peer(&self, uid: u16) -> Option<&PeerEntry> {
        self.peers.iter().find(|p| p.uid == uid)
    }

    /// One record per participant for a window, in uid order; those without a usable bucket
    /// are `missing`, with why. Each carries the window's roster, listed while the network
    /// was at `network_window`.
    pub fn records(&self, window: u64, network_window: u64) -> Vec<Record> {
        let base = |uid: u16, hotkey: &str, stake: f64| {
            let mut r = Record::new(window, uid);
            r.hotkey = (!hotkey.is_empty()).then(|| hotkey.to_string());
            r.stake = Some(stake);
            r
        };
        let mut out: Vec<Record> = self
            .peers
            .iter()
            .map(|p| {
                let mut r = base(p.uid, &p.hotkey, p.stake);
                r.bucket = Some(p.bucket.public());
                r
            })
            .chain(self.unlisted.iter().map(|u| {
                let mut r = base(u.uid, &u.hotkey, u.stake);
                r.status = crate::record::Status::Missing;
                r.reason = Some(u.reason.clone());
                r
            }))
            .collect();
        out.sort_by_key(|r| r.uid);
        let roster = crate::record::Roster::of(out.iter().map(|r| r.uid), network_window);
        for r in &mut out {
            r.roster = Some(roster.clone());
        }
        out
    }
}
