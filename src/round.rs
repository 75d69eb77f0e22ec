//! A validator's round in one process: the same stages, in the same order and with the same
//! library calls as the shell pipeline `peers | fetch | filter | dedupe | evaluate | rate |
//! commit`, then `aggregate`, so that both give the same records and state.
//!
//! `gauntlet run WORKFLOW.yaml` and `gauntlet demo` use it.

use crate::chain::{Chain, NetworkFile};
use crate::config::Config;
use crate::peer::Checkpoints;
use crate::record::Record;
use crate::state::State;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One stage of a round and its options, as a workflow file names it: a bare name
/// (`- fetch`), or a name with options (`- evaluate: {device: cuda}`, or the tagged
/// `- !evaluate {device: cuda}` that serialising writes).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Peers,
    Fetch,
    Filter,
    Dedupe,
    Select,
    Evaluate {
        device: Option<String>,
    },
    Rate,
    Commit {
        dry_run: bool,
    },
    Aggregate {
        /// Folder that receives the validator's sync slice.
        sync_store: Option<PathBuf>,
        uid: u16,
    },
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EvaluateOptions {
    device: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CommitOptions {
    dry_run: bool,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AggregateOptions {
    sync_store: Option<PathBuf>,
    uid: u16,
}

impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        use serde_yaml::Value;
        let (name, options) = match Value::deserialize(d)? {
            Value::String(name) => (name, Value::Null),
            Value::Tagged(t) => (t.tag.to_string().trim_start_matches('!').to_string(), t.value),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, v) = m.into_iter().next().expect("one entry");
                let Value::String(name) = k else {
                    return Err(D::Error::custom("a stage's name must be a string"));
                };
                (name, v)
            }
            _ => {
                return Err(D::Error::custom(
                    "a stage is a name (`- fetch`) or a name with options (`- evaluate: {device: cuda}`)",
                ))
            }
        };
        fn parse_options<T: Default + serde::de::DeserializeOwned, E: Error>(
            name: &str,
            v: Value,
        ) -> std::result::Result<T, E> {
            if v.is_null() {
                return Ok(T::default());
            }
            serde_yaml::from_value(v).map_err(|e| E::custom(format!("stage {name}: {e}")))
        }
        let no_options = |v: &Value| {
            if v.is_null() || v.as_mapping().is_some_and(|m| m.is_empty()) {
                Ok(())
            } else {
                Err(D::Error::custom(format!("stage {name} takes no options")))
            }
        };
        Ok(match name.as_str() {
            "peers" | "fetch" | "filter" | "dedupe" | "select" | "rate" => {
                no_options(&options)?;
                match name.as_str() {
                    "peers" => Stage::Peers,
                    "fetch" => Stage::Fetch,
                    "filter" => Stage::Filter,
                    "dedupe" => Stage::Dedupe,
                    "select" => Stage::Select,
                    _ => Stage::Rate,
                }
            }
            "evaluate" => {
                let o: EvaluateOptions = parse_options(&name, options)?;
                Stage::Evaluate { device: o.device }
            }
            "commit" => {
                let o: CommitOptions = parse_options(&name, options)?;
                Stage::Commit { dry_run: o.dry_run }
            }
            "aggregate" => {
                let o: AggregateOptions = parse_options(&name, options)?;
                Stage::Aggregate {
                    sync_store: o.sync_store,
                    uid: o.uid,
                }
            }
            other => {
                return Err(D::Error::custom(format!(
                    "unknown stage {other:?}: the stages are peers, fetch, filter, dedupe, select, evaluate, rate, commit and aggregate"
                )))
            }
        })
    }
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
/// hparams.validator_offset), the validator's checkpoint folder, where to keep each stage's
/// records, and the stages in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
    pub checkpoints: PathBuf,
    /// Folder that receives `{stage}-{window}.jsonl` after each stage, as round.sh keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<PathBuf>,
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
    /// Folder that receives each stage's records (`{stage}-{window}.jsonl`).
    pub keep: Option<PathBuf>,
}

/// What one stage said, for progress messages.
pub type Note = String;

/// What a round left: the records after the last stage, one note per stage, and the commit
/// stage's error, if it failed. As in round.sh, a failed commit does not stop the round: the
/// weights stay pending for the next one, and the outer step still runs.
#[derive(Debug)]
pub struct Outcome {
    pub records: Vec<Record>,
    pub notes: Vec<Note>,
    pub commit_error: Option<String>,
}

impl Round<'_> {
    fn open_state(&self) -> Result<State> {
        State::open(
            &self.state,
            crate::chain::seconds(self.cfg.state.wait_seconds),
        )
    }

    /// Runs `stages` for `window`, telling `progress` each stage's note as it ends.
    pub fn run(&self, window: u64, stages: &[Stage], progress: &dyn Fn(&str)) -> Result<Outcome> {
        let mut out = Outcome {
            records: Vec::new(),
            notes: Vec::new(),
            commit_error: None,
        };
        // Read once per round: on subtensor each read is a metagraph query.
        let mut network = None;
        for stage in stages {
            let result = self.stage(window, stage, &mut out.records, &mut network);
            let note = match (stage, result) {
                (_, Ok(note)) => note,
                (Stage::Commit { .. }, Err(e)) => {
                    let why = format!("{e:#}; the weights stay pending for the next round");
                    out.commit_error = Some(why.clone());
                    format!("failed: {why}")
                }
                (_, Err(e)) => {
                    return Err(e.context(format!("stage {} of window {window}", stage.name())))
                }
            };
            let note = format!("{}: {note}", stage.name());
            progress(&note);
            out.notes.push(note);
            if let Some(dir) = &self.keep {
                keep(dir, stage, window, &out.records)?;
            }
        }
        Ok(out)
    }

    fn stage(
        &self,
        window: u64,
        stage: &Stage,
        records: &mut Vec<Record>,
        network: &mut Option<NetworkFile>,
    ) -> Result<Note> {
        let cfg = self.cfg;
        let checkpoints = Checkpoints::Folder(self.checkpoints.clone());
        let mut network = || -> Result<NetworkFile> {
            if network.is_none() {
                *network = Some(self.chain.network(window)?);
            }
            Ok(network.clone().expect("read just above"))
        };
        Ok(match stage {
            Stage::Peers => {
                *records = network()?.records(window, self.chain.current_window()?);
                format!("{} participants", records.len())
            }
            Stage::Fetch => {
                let network = network()?;
                let opts = crate::fetch::Options::from_config(cfg)?;
                let (out, stats) =
                    crate::fetch::fetch(std::mem::take(records), &network, &opts, &|| {})?;
                *records = out;
                format!("{} fetched, {} failed", stats.fetched, stats.failed)
            }
            Stage::Filter => {
                let clock = network()?.clock;
                let mut filter = crate::filter::Filter::new(cfg, clock, checkpoints)?;
                for r in records.iter_mut() {
                    filter.apply(r)?;
                }
                let ok = records.iter().filter(|r| r.status.is_ok()).count();
                match filter.warning() {
                    Some(warning) => format!("{ok} passed; {warning}"),
                    None => format!("{ok} passed"),
                }
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
                let chain = self.chain;
                *records = crate::evaluate::run(
                    cfg,
                    std::mem::take(records),
                    &checkpoints,
                    device,
                    None,
                    Some(&|| chain.current_window()),
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
                    crate::rate::Admission::Checked,
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
                    Some(o) => format!("window {}: {}: {}", o.window, o.action, o.detail),
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

/// Writes a stage's records to `{dir}/{stage}-{window}.jsonl`, whole or not at all.
fn keep(dir: &Path, stage: &Stage, window: u64, records: &[Record]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{}-{window}.jsonl", stage.name()));
    crate::atomic::write_with(&path, |out| {
        let mut w = crate::record::RecordWriter::new(out, crate::record::Format::Jsonl);
        for r in records {
            w.write(r)?;
        }
        w.finish().map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_as_names_one_key_maps_and_tags() {
        let yaml = "- peers\n- evaluate\n- evaluate: {device: cuda}\n- !commit {dry_run: true}\n- aggregate:\n    uid: 3\n- rate: {}\n";
        let stages: Vec<Stage> = serde_yaml::from_str(yaml).unwrap();
        assert_eq!(
            stages,
            [
                Stage::Peers,
                Stage::Evaluate { device: None },
                Stage::Evaluate {
                    device: Some("cuda".into())
                },
                Stage::Commit { dry_run: true },
                Stage::Aggregate {
                    sync_store: None,
                    uid: 3
                },
                Stage::Rate,
            ]
        );
        let written = serde_yaml::to_string(&stages).unwrap();
        assert_eq!(
            serde_yaml::from_str::<Vec<Stage>>(&written).unwrap(),
            stages
        );
    }

    #[test]
    fn unknown_stages_and_options_are_named() {
        let e = serde_yaml::from_str::<Vec<Stage>>("- evaluat\n").unwrap_err();
        assert!(e.to_string().contains("unknown stage \"evaluat\""), "{e}");
        let e = serde_yaml::from_str::<Vec<Stage>>("- evaluate: {gpu: 1}\n").unwrap_err();
        assert!(e.to_string().contains("stage evaluate"), "{e}");
        let e = serde_yaml::from_str::<Vec<Stage>>("- fetch: {x: 1}\n").unwrap_err();
        assert!(e.to_string().contains("takes no options"), "{e}");
    }
}
