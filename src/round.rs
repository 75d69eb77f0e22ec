//! A validator's round in one process: the same stages, in the same order and with the same
//! library calls as the shell pipeline `peers | fetch | filter | dedupe | evaluate | rate |
//! commit`, then `aggregate`, so that both give the same records and state.
//!
//! `gauntlet run WORKFLOW.yaml` and `gauntlet demo` use it.

use crate::chain::Chain;
use crate::config::Config;
use crate::peer::Checkpoints;
use crate::record::Record;
use crate::state::State;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One stage of a round and its options, as a workflow file names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Stage {
    Peers,
    Fetch,
    Filter,
    Dedupe,
    Select,
    Evaluate {
        #[serde(default)]
        device: Option<String>,
    },
    Rate,
    Commit {
        #[serde(default)]
        dry_run: bool,
    },
    Aggregate {
        /// Folder that receives the validator's sync slice.
        #[serde(default)]
        sync_store: Option<PathBuf>,
        #[serde(default)]
        uid: u16,
    },
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Peers => "peers",
            Stage::Fetch => "fetch",
            Stage::Filter => "filter",
            Stage::Dedupe => "dedupe",
            Stage::Select => "select",
            Stage::Evaluate { .. } => "evaluate",
            Stage::Rate => "rate",
            Stage::Commit { .. } => "commit",
            Stage::Aggregate { .. } => "aggregate",
        }
    }
}

/// A round as a YAML workflow: the window (default: the chain's current window minus
/// hparams.validator_offset), the validator's checkpoint folder, and the stages in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    #[serde(default)]
    pub window: Option<u64>,
    pub checkpoints: PathBuf,
    pub stages: Vec<Stage>,
}

impl Workflow {
    pub fn read(path: &Path) -> Result<Workflow> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the workflow {}", path.display()))?;
        let w: Workflow = serde_yaml::from_str(&text)
            .with_context(|| format!("the workflow {} is not valid", path.display()))?;
        anyhow::ensure!(
            matches!(w.stages.first(), Some(Stage::Peers)),
            "the workflow {} must start with the peers stage",
            path.display()
        );
        Ok(w)
    }
}

/// What the round needs besides the records.
pub struct Round<'a> {
    pub cfg: &'a Config,
    pub chain: &'a dyn Chain,
    pub checkpoints: PathBuf,
    pub state: PathBuf,
    pub signer: Option<&'a crate::chain::wallet::Hotkey>,
    pub netuid: u16,
}

/// What one stage said, for progress messages.
pub type Note = String;

impl Round<'_> {
    fn open_state(&self) -> Result<State> {
        State::open(
            &self.state,
            crate::chain::seconds(self.cfg.state.wait_seconds),
        )
    }

    /// Runs `stages` for `window`; returns the records after the last stage and one note per
    /// stage.
    pub fn run(&self, window: u64, stages: &[Stage]) -> Result<(Vec<Record>, Vec<Note>)> {
        let mut records = Vec::new();
        let mut notes = Vec::new();
        for stage in stages {
            let note = self
                .stage(window, stage, &mut records)
                .with_context(|| format!("stage {} of window {window}", stage.name()))?;
            notes.push(format!("{}: {note}", stage.name()));
        }
        Ok((records, notes))
    }

    fn stage(&self, window: u64, stage: &Stage, records: &mut Vec<Record>) -> Result<Note> {
        let cfg = self.cfg;
        let checkpoints = Checkpoints::Folder(self.checkpoints.clone());
        Ok(match stage {
            Stage::Peers => {
                *records = self.chain.network(window)?.records(window);
                format!("{} participants", records.len())
            }
            Stage::Fetch => {
                let network = self.chain.network(window)?;
                let opts = crate::fetch::Options::from_config(cfg)?;
                let (out, stats) =
                    crate::fetch::fetch(std::mem::take(records), &network, &opts, &|| {})?;
                *records = out;
                format!("{} fetched, {} failed", stats.fetched, stats.failed)
            }
            Stage::Filter => {
                let clock = self.chain.network(window)?.clock;
                let mut filter = crate::filter::Filter::new(cfg, clock, checkpoints)?;
                for r in records.iter_mut() {
                    filter.apply(r)?;
                }
                let ok = records.iter().filter(|r| r.status.is_ok()).count();
                format!("{ok} passed")
            }
            Stage::Dedupe => {
                let compared = crate::dedupe::run(cfg, records)?;
                format!("{compared} compared")
            }
            Stage::Select => {
                let mut state = self.open_state()?;
                let chosen = crate::select::select(&mut state, cfg, records)?;
                format!("evaluating {chosen:?}")
            }
            Stage::Evaluate { device } => {
                let device =
                    crate::model::parse_device(device.as_deref().unwrap_or(&cfg.runtime.device))?;
                *records = crate::evaluate::run(
                    cfg,
                    std::mem::take(records),
                    &checkpoints,
                    device,
                    None,
                    &|| {},
                )?;
                "done".into()
            }
            Stage::Rate => {
                let mut state = self.open_state()?;
                let h = &cfg.hparams;
                let outcome = crate::rate::rate(
                    &mut state,
                    h,
                    h.weights_schedule,
                    &h.ramp(),
                    std::mem::take(records),
                )?;
                *records = outcome.records;
                if outcome.applied {
                    "applied".into()
                } else {
                    "already applied; nothing changed".into()
                }
            }
            Stage::Commit { dry_run } => {
                let mut state = self.open_state()?;
                let opts = crate::commit::Options {
                    netuid: self.netuid,
                    version_key: cfg.chain.version_key,
                    dry_run: *dry_run,
                    block_seconds: cfg.chain.block_seconds,
                };
                let outcomes = crate::commit::commit(&mut state, self.chain, self.signer, &opts)?;
                if let Some(failed) = outcomes.iter().find(|o| o.failed()) {
                    anyhow::bail!("{}", failed.detail);
                }
                match outcomes.last() {
                    Some(o) => format!("window {}: {}", o.window, o.action),
                    None => "no weights pending".into(),
                }
            }
            Stage::Aggregate { sync_store, uid } => {
                let store = sync_store
                    .as_deref()
                    .map(crate::store::LocalStore::open)
                    .transpose()?;
                let sync_to = store
                    .as_ref()
                    .map(|s| (s as &dyn crate::store::Store, *uid));
                let report = crate::aggregate::aggregate(cfg, records, &self.checkpoints, sync_to)?;
                format!("peers {:?}, applied {}", report.peers, report.applied)
            }
        })
    }
}
