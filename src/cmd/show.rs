//! `gauntlet show`: records, read from a file or stdin, written in the chosen format.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::record::RecordReader;
use std::path::PathBuf;

/// Show records as a table (on a terminal), JSON lines or JSON; checks every line on the way
///
/// Fields this binary does not know are kept as they are. A malformed line stops the command
/// with its line number and what is wrong.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Record file (JSON lines) [default: stdin; `-` is stdin too]
    input: Option<PathBuf>,
    /// Only records of this uid
    #[arg(long)]
    uid: Option<u16>,
    /// Only records whose status is not ok
    #[arg(long)]
    failed: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let mut out = ctx.output().records();
    for record in RecordReader::open(args.input.as_deref())? {
        let record = record?;
        if args.uid.is_some_and(|u| u != record.uid) || (args.failed && record.status.is_ok()) {
            continue;
        }
        out.write(&record)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
