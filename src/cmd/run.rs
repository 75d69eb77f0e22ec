//! `gauntlet run`: a round described in a YAML workflow, in one process.

use crate::cli::{ChainArgs, Ctx, WalletArgs};
use anyhow::Result;
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::round::{self, Stage, Workflow};
use gauntlet::stage::Context;
use std::path::PathBuf;

/// Run a validation round from a workflow file, in one process; the last stage's records to stdout
///
/// The workflow names the stages in order (peers first, then any of fetch, filter, dedupe,
/// select, evaluate, rate, commit, aggregate, with their options), the validator's checkpoint
/// folder and, optionally, the window and a folder to keep each stage's records in
/// (`{stage}-{window}.jsonl`). The stages are the same library calls as the commands, so the
/// result is the one `peers | fetch | filter | dedupe | evaluate | rate` then `commit` and
/// `aggregate` give (workflows/round.sh and workflows/round.yaml are the same round). The
/// chain is read once per round. As in round.sh, a failed commit does not stop the round: the
/// weights stay pending, the outer step still runs, and the run exits 1 at the end. Relative
/// paths in the workflow are taken from the working directory, as the shell's are.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workflow file (see workflows/round.yaml)
    workflow: PathBuf,
    /// The window [default: the workflow's, else the current window − validator_offset]
    #[arg(long)]
    window: Option<u64>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    /// Keep each stage's records in DIR [default: the workflow's keep]
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    wallet: WalletArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let workflow = Workflow::read(&args.workflow)?;
    let source = args.chain.source(cfg);
    if workflow.stages.iter().any(Stage::seeded) {
        source.require_secret_seed(cfg)?;
    }
    let commits = workflow
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Commit { .. }));
    let signer = if commits {
        args.wallet.signer(cfg, &source)?
    } else {
        None
    };
    let mut context = Context::new(cfg, source);
    context.checkpoints = Some(Checkpoints::Folder(workflow.checkpoints.clone()));
    if let Some(path) = args.state {
        context.state = path;
    }
    context.signer = signer.as_ref();
    context.netuid = args.chain.netuid.unwrap_or(cfg.chain.netuid);
    let window = match args.window.or(workflow.window) {
        Some(w) => w,
        None => context.scored_window()?,
    };
    let chain = context.chain()?.describe();
    ctx.ui.info(format!(
        "run: window {window} on {chain}: {}",
        workflow
            .stages
            .iter()
            .map(Stage::name)
            .collect::<Vec<_>>()
            .join(" → ")
    ));
    let keep = args.keep.or(workflow.keep.clone());
    let outcome = round::run(
        &context,
        window,
        &workflow.stages,
        keep.as_deref(),
        &|note| ctx.ui.info(format!("run: {note}")),
    )?;
    let mut out = ctx.output().records();
    for r in &outcome.records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    if let Some(e) = outcome.commit_error {
        anyhow::bail!("window {window}: the weights were not sent to {chain}: {e}");
    }
    Ok(())
}
