//! `gauntlet config`: the effective configuration, secrets redacted.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::config::{env_var_name, redact};
use gauntlet::record::Format;

/// Print the effective configuration (defaults < file < environment < --set), secrets redacted
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Every key KEY.PATH can be set by the environment variable GAUNTLET_KEY__PATH (upper case, sections joined by __) or by --set key.path=value."
)]
pub struct Args {
    /// Show where each value comes from, and its environment variable
    #[arg(long)]
    sources: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if args.sources {
        let mut builder = tabled::builder::Builder::default();
        builder.push_record(["key", "source", "environment variable"]);
        for (key, source) in &ctx.loaded.sources {
            builder.push_record([key.clone(), source.to_string(), env_var_name(key)]);
        }
        let mut table = builder.build();
        table.with(tabled::settings::Style::sharp());
        println!("{table}");
        return Ok(());
    }
    let tree = redact(&serde_yaml::to_value(ctx.config())?);
    match ctx.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&tree)?),
        Format::Jsonl => println!("{}", serde_json::to_string(&tree)?),
        Format::Table => print!("{}", serde_yaml::to_string(&tree)?),
    }
    Ok(())
}
