//! `gauntlet commit`: the state's pending weights to the chain.

use crate::cli::{ChainArgs, Ctx, WalletArgs};
use anyhow::Result;
use gauntlet::chain::wallet::Hotkey;
use gauntlet::commit::{commit, Options};
use gauntlet::record::{RecordReader, RecordWriter};
use gauntlet::state::State;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Send the newest pending weights from the state to the chain; records pass through unchanged
///
/// Weights are the state's for the newest pending window, normalised to u16 as the chain does
/// (the largest is 65535), with the subnet's version key. Where the subnet runs commit-reveal
/// v4 (CommitRevealWeightsVersion 4), the weights go out encrypted to the drand round at which
/// the chain reveals them itself (commit_timelocked_weights); on runtimes with the hash
/// commit-reveal (v2), they are committed as a hash now and revealed by a later run in the
/// reveal epoch, commit epoch + RevealPeriodEpochs, as the chain counts it from the block that
/// included the commit (the salt is kept in the state, so a restart still reveals; a commit
/// whose reveal epoch passed is committed again). Commit-reveal v3 is refused, saying so. The
/// subnet's rate limit is read first, counted at the block a submission would land in: when
/// it is not allowed yet, the run says from which block, leaves the weights pending and exits
/// 0. A failed submission stays pending with its error and the next run retries it; nothing is
/// marked sent before a finalized block included it. With the local network file, the weights
/// go to its ledger (ledger.jsonl beside it).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records to pass through (from `gauntlet rate`) [default: stdin when it is a pipe]
    input: Option<PathBuf>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    wallet: WalletArgs,
    /// The weights' version key [default: chain.version_key, else the subnet's]
    #[arg(long)]
    version_key: Option<u64>,
    /// Print each call and its encoded bytes instead of sending it; change nothing
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: the validator's hotkey by its ss58 address, where its wallet is not on
    /// this machine (nothing can be signed with it)
    #[arg(long, value_name = "SS58", requires = "dry_run", conflicts_with_all = ["wallet_name", "wallet_hotkey", "wallet_path"])]
    hotkey_ss58: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = match &args.input {
        Some(p) => RecordReader::open(Some(p))?.collect::<Result<Vec<_>>>()?,
        None if !std::io::stdin().is_terminal() => {
            RecordReader::open(None)?.collect::<Result<Vec<_>>>()?
        }
        None => Vec::new(),
    };
    let source = args.chain.source(cfg);
    let signer = match &args.hotkey_ss58 {
        Some(address) => Some(Hotkey::address(address)?),
        None => args.wallet.signer(cfg, &source).map_err(|e| {
            if args.dry_run {
                e.context("a dry run without the wallet can name the validator's hotkey by its address instead: --hotkey-ss58 5…")
            } else {
                e
            }
        })?,
    };
    let path = args.state.unwrap_or_else(|| cfg.state.path.clone());
    let mut state = State::open_existing(&path, gauntlet::chain::seconds(cfg.state.wait_seconds))?;
    let chain = source.open(cfg)?;
    let opts = Options {
        netuid: args.chain.netuid.unwrap_or(cfg.chain.netuid),
        version_key: args.version_key.or(cfg.chain.version_key),
        dry_run: args.dry_run,
        block_seconds: cfg.chain.block_seconds,
    };
    let outcomes = commit(&mut state, chain.as_ref(), signer.as_ref(), &opts)?;
    if outcomes.is_empty() {
        ctx.ui.info("commit: no weights pending");
    }
    for o in &outcomes {
        let mut line = format!("commit: window {}: {}: {}", o.window, o.action, o.detail);
        if let Some(data) = &o.call_data {
            line.push_str(&format!("\n  call data {data}"));
        }
        if o.failed() {
            ctx.ui.warn(line);
        } else if args.dry_run {
            // A dry run's whole point is this output: print it even with --quiet.
            eprintln!("{line}");
        } else {
            ctx.ui.info(line);
        }
    }
    let mut out = RecordWriter::new(std::io::stdout().lock(), ctx.format);
    for r in &records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    if outcomes.iter().any(|o| o.failed()) {
        anyhow::bail!(
            "weights could not be sent to {}; they stay pending in {} and the next `gauntlet commit` retries them",
            chain.describe(),
            path.display()
        );
    }
    Ok(())
}
