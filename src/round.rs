//! A validator's round in one process: the stages of a workflow in order, each through the
//! same entry point as its command (`stage::run`), so that the shell pipeline `peers | fetch |
//! filter | dedupe | evaluate | rate | commit`, then `aggregate`, and the round give the same
//! records and state.
//!
//! `gauntlet run WORKFLOW.yaml` and `gauntlet demo` use it.

pub use crate::stage::Stage;

use crate::record::Record;
use crate::stage::{Context, Done, Message};
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
        let w: Workflow = yaml_serde::from_str(&text)
            .with_context(|| format!("the workflow {} is not valid", path.display()))?;
        anyhow::ensure!(
            matches!(w.stages.first(), Some(Stage::Peers)),
            "the workflow {} must start with the peers stage",
            path.display()
        );
        Ok(w)
    }
}

/// What a round left: the records after the last stage, one note per stage, and the commit
/// stage's error, if it failed. As in round.sh, a failed commit does not stop the round: the
/// weights stay pending for the next one, and the outer step still runs.
#[derive(Debug)]
pub struct Outcome {
    pub records: Vec<Record>,
    pub notes: Vec<String>,
    /// Each stage's name and wall time.
    pub times: Vec<(&'static str, std::time::Duration)>,
    pub commit_error: Option<String>,
}

/// Runs `stages` for `window` in `ctx`, telling `progress` each stage's note and messages as
/// it ends, and keeping each stage's records in `keep` (`{stage}-{window}.jsonl`) where given.
pub fn run(
    ctx: &Context,
    window: u64,
    stages: &[Stage],
    keep: Option<&Path>,
    progress: &dyn Fn(&str),
) -> Result<Outcome> {
    let mut out = Outcome {
        records: Vec::new(),
        notes: Vec::new(),
        times: Vec::new(),
        commit_error: None,
    };
    for stage in stages {
        let name = stage.name();
        let commits = matches!(stage, Stage::Commit { .. });
        // A commit that fails leaves the records as they were, for the stages after it.
        let input = if commits {
            out.records.clone()
        } else {
            std::mem::take(&mut out.records)
        };
        let started = std::time::Instant::now();
        let result = crate::stage::run(ctx, stage, window, input, &|| {});
        out.times.push((name, started.elapsed()));
        let done = match (commits, result) {
            (_, Ok(done)) => done,
            // As round.sh: the round goes on with the records the commit was given.
            (true, Err(e)) => Done::failed(
                std::mem::take(&mut out.records),
                format!("{e:#}; the weights stay pending for the next round"),
            ),
            (_, Err(e)) => return Err(e.context(format!("stage {name} of window {window}"))),
        };
        for m in &done.messages {
            match m {
                Message::Info(m) | Message::Warn(m) | Message::Shown(m) => {
                    progress(&format!("{name}: {m}"))
                }
            }
        }
        if let (true, Some(why)) = (commits, &done.failure) {
            out.commit_error = Some(why.clone());
        }
        let note = format!("{name}: {}", done.note);
        progress(&note);
        out.notes.push(note);
        out.records = done.records;
        if let Some(dir) = keep {
            keep_records(dir, stage, window, &out.records)?;
        }
    }
    Ok(out)
}

/// Writes a stage's records to `{dir}/{stage}-{window}.jsonl`, whole or not at all.
fn keep_records(dir: &Path, stage: &Stage, window: u64, records: &[Record]) -> Result<()> {
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
