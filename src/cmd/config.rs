//! `gauntlet config`: the effective configuration, secrets redacted.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::config::{env_var_name, redact};
use gauntlet::output::{styled, Format};

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
    let mut out = ctx.output();
    if args.sources {
        if out.format() == Format::Table {
            let mut builder = tabled::builder::Builder::default();
            builder.push_record(["key", "source", "environment variable"]);
            for (key, source) in &ctx.loaded.sources {
                builder.push_record([key.clone(), source.to_string(), env_var_name(key)]);
            }
            return out.table(&styled(builder.build()));
        }
        return out.items(ctx.loaded.sources.iter().map(|(key, source)| {
            serde_json::json!({
                "key": key,
                "source": source.to_string(),
                "variable": env_var_name(key),
            })
        }));
    }
    let tree = redact(&yaml_serde::to_value(ctx.config())?);
    match out.format() {
        // For people, the configuration reads best as the YAML it is written in.
        Format::Table => out.text(&yaml_serde::to_string(&tree)?),
        Format::Json | Format::Jsonl => out.value(&tree),
    }
}
