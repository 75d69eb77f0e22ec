//! `gauntlet data`: pack text into token shards, describe them, show page assignments.

use crate::cli::Ctx;
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use gauntlet::data::pack::{self, DocSplit};
use gauntlet::data::{Dataset, Manifest, PageAssigner, Tokenizer};
use std::path::PathBuf;

/// Training data: token shards and page assignment
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Pack text files into token shards (byte-level tokens unless --tokenizer is given)
    Pack(PackArgs),
    /// Describe a shard folder: tokens, documents, pages under the current hparams
    Info(InfoArgs),
    /// Show the pages a peer trains on in a window, or the window's random pages
    Pages(PagesArgs),
}

#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// Text files, or folders searched recursively
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder [default: data.shards from the config]
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// A Hugging Face tokenizer.json [default: one token per byte]
    #[arg(long, value_name = "FILE")]
    tokenizer: Option<PathBuf>,
    /// End-of-document token of the tokenizer [default: </s>, <|endoftext|>, … whichever exists]
    #[arg(long, value_name = "TOKEN", requires = "tokenizer")]
    eos_token: Option<String>,
    /// What makes one document
    #[arg(long, value_enum, default_value_t = SplitArg::Paragraph)]
    split: SplitArg,
    /// Tokens per shard file
    #[arg(long, default_value_t = 64 << 20)]
    shard_tokens: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SplitArg {
    File,
    Paragraph,
    Line,
}

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Shard folder [default: data.shards from the config]
    dir: Option<PathBuf>,
    /// Also check every shard's BLAKE3 hash against the manifest
    #[arg(long)]
    verify: bool,
}

#[derive(clap::Args, Debug)]
pub struct PagesArgs {
    /// The peer
    #[arg(long, required_unless_present = "random")]
    uid: Option<u16>,
    /// The window
    #[arg(long)]
    window: u64,
    /// Also show this many following windows
    #[arg(long, default_value_t = 1)]
    windows: u64,
    /// Show the window's random pages for this validator seed instead, excluding the pages of --exclude peers
    #[arg(long, value_name = "SEED")]
    random: Option<u64>,
    /// Peers whose assigned pages the random pages avoid (with --random)
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<u16>,
}

pub fn run(ctx: &Ctx, cmd: Command) -> Result<()> {
    let cfg = ctx.config();
    match cmd {
        Command::Pack(a) => {
            let out = a.out.unwrap_or_else(|| cfg.data.shards.clone());
            let tokenizer = match &a.tokenizer {
                Some(p) => Tokenizer::from_file(p, a.eos_token.as_deref())?,
                None => Tokenizer::Bytes,
            };
            let split = match a.split {
                SplitArg::File => DocSplit::File,
                SplitArg::Paragraph => DocSplit::Paragraph,
                SplitArg::Line => DocSplit::Line,
            };
            let m = pack::pack(&a.inputs, &out, &tokenizer, split, a.shard_tokens)?;
            ctx.ui.info(format!(
                "packed {} documents, {} tokens ({}), into {} shard(s) in {}",
                m.documents,
                m.total_tokens(),
                m.tokenizer,
                m.shards.len(),
                out.display()
            ));
            Ok(())
        }
        Command::Info(a) => {
            let dir = a.dir.unwrap_or_else(|| cfg.data.shards.clone());
            let m = Manifest::read(&dir)?;
            if a.verify {
                for s in &m.shards {
                    let bytes = std::fs::read(dir.join(&s.file))?;
                    let h = blake3::hash(&bytes).to_hex().to_string();
                    anyhow::ensure!(
                        h == s.blake3,
                        "shard {} is damaged: its BLAKE3 is {h}, the manifest says {}",
                        s.file,
                        s.blake3
                    );
                }
                ctx.ui.info(format!(
                    "all {} shard(s) match their hashes",
                    m.shards.len()
                ));
            }
            let ds = Dataset::open(&dir, cfg.hparams.sequence_length, cfg.hparams.rows_per_page)?;
            let summary = serde_json::json!({
                "dir": dir.display().to_string(),
                "tokenizer": m.tokenizer,
                "vocab_size": m.vocab_size,
                "eos_id": m.eos_id,
                "documents": m.documents,
                "tokens": m.total_tokens(),
                "shards": m.shards.len(),
                "sequence_length": cfg.hparams.sequence_length,
                "rows_per_page": cfg.hparams.rows_per_page,
                "pages": ds.num_pages(),
            });
            ctx.output().value(&summary)
        }
        Command::Pages(a) => {
            let ds = Dataset::configured(cfg)?;
            let pa = PageAssigner::configured(cfg, &ds)?;
            let rows = (a.window..a.window.saturating_add(a.windows)).map(
                |w| -> Result<serde_json::Value> {
                    let (who, pages) = match (a.random, a.uid) {
                        (Some(seed), _) => (
                            "random".to_string(),
                            pa.random(seed, w, cfg.hparams.pages_per_window, &a.exclude)?,
                        ),
                        (None, Some(uid)) => (uid.to_string(), pa.assigned(uid, w)),
                        (None, None) => unreachable!("clap requires --uid without --random"),
                    };
                    Ok(serde_json::json!({ "window": w, "uid": who, "pages": pages }))
                },
            );
            // JSON lines stream a line per window; an error stops the list where it occurs.
            let mut failed = None;
            let rows =
                rows.map_while(|r: Result<serde_json::Value>| r.map_err(|e| failed = Some(e)).ok());
            ctx.output().items(rows)?;
            failed.map_or(Ok(()), Err)
        }
    }
}
