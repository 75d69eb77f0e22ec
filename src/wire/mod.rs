//! Pseudo-gradient files and sync slices: the native format (safetensors) and the checks
//! that make peers' uploads safe to read.
//!
//! Everything a peer uploads is hostile until checked. A reader gets the file's bytes only
//! after its size was checked against a cap computed from the model and codec; the header is
//! parsed within a cap of its own; every dtype, shape and offset is checked before a tensor
//! is built; then index ranges, duplicates, finiteness and quantisation codes. A failed check
//! is a [`Reject`], never a panic.

pub mod cache;
pub mod gradient;
pub mod reference;
pub mod sync;

pub use gauntlet_formats::safetensors;
pub use gauntlet_formats::Reject;
pub use gradient::{Gradient, GradientMeta, Receipt};
pub use sync::SyncSlice;

/// The format version this gauntlet writes and reads.
pub const FORMAT_VERSION: &str = "1";

/// The header cap: a `templar-1b` gradient's header is about 60 KB.
pub const HEADER_CAP: u64 = 4 << 20;

/// The network's object keys and file format: gauntlet's own (safetensors), or the reference
/// network's (`torch.save` archives, `gradient-…pt` and `debug-…pt`). Readers take either
/// format whatever this says (a zip signature selects the reference reader); it decides what
/// `fetch` looks for and what peers and the validator write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compat {
    #[default]
    Native,
    Templar,
}

impl Compat {
    pub fn gradient_key(self, window: u64, uid: u16, version: &str) -> String {
        match self {
            Compat::Native => gradient_key(window, uid, version),
            Compat::Templar => format!("gradient-{window}-{uid}-v{version}.pt"),
        }
    }

    /// The key of the sync slice a validator checks in `window`: the peer's model as that
    /// window starts. The reference names it by the window whose update it follows: a peer
    /// writes `debug-{w}` after applying window w's aggregate, and the validator reads
    /// `debug-{s−1}` while it processes window s.
    pub fn sync_key(self, window: u64, uid: u16, version: &str) -> String {
        match self {
            Compat::Native => sync_key(window, uid, version),
            Compat::Templar => {
                let after = window.saturating_sub(1);
                format!("debug-{after}-{uid}-v{version}.pt")
            }
        }
    }

    /// A checked gradient's file in this format.
    pub fn encode_gradient(
        self,
        meta: &GradientMeta,
        layouts: &[crate::codec::Layout],
        params: &[crate::codec::Encoded],
    ) -> anyhow::Result<Vec<u8>> {
        match self {
            Compat::Native => gradient::encode_file(meta, layouts, params),
            Compat::Templar => reference::encode_file(meta, layouts, params),
        }
    }

    /// The names parameters have in this format's files: the model's own in native files,
    /// the network's naming (`network.param_names`) in the reference's.
    pub fn param_names(self, layouts: &[crate::codec::Layout]) -> Vec<String> {
        layouts
            .iter()
            .map(|l| match self {
                Compat::Native => l.name.clone(),
                Compat::Templar => l.file_name.clone(),
            })
            .collect()
    }

    /// A sync slice's file in this format, its parameters named `names`.
    pub fn encode_sync(self, slice: &SyncSlice, names: &[String]) -> anyhow::Result<Vec<u8>> {
        match self {
            Compat::Native => slice.encode(names),
            Compat::Templar => reference::encode_sync(slice, names),
        }
    }
}

/// The object key of a peer's pseudo-gradient for a window.
pub fn gradient_key(window: u64, uid: u16, version: &str) -> String {
    format!("gradient-{window}-{uid}-v{version}.safetensors")
}

/// The object key of a peer's sync slice for a window (the reference's `debug-…`).
pub fn sync_key(window: u64, uid: u16, version: &str) -> String {
    format!("sync-{window}-{uid}-v{version}.safetensors")
}

/// Checks the metadata fields every native file carries.
fn check_header(
    meta: &std::collections::BTreeMap<String, String>,
    format: &str,
    window: Option<u64>,
    uid: Option<u16>,
) -> Result<(u64, u16), Reject> {
    let field = |k: &str| {
        meta.get(k).ok_or_else(|| Reject::BadMetadata {
            why: format!("no {k:?} field"),
        })
    };
    let got = field("format")?;
    if got != format {
        return Err(Reject::WrongFormat {
            got: got.clone(),
            want: format.into(),
        });
    }
    let version = field("version")?;
    if version != FORMAT_VERSION {
        return Err(Reject::UnsupportedVersion {
            got: version.clone(),
            want: FORMAT_VERSION.into(),
        });
    }
    let number = |k: &str| -> Result<u64, Reject> {
        field(k)?.parse::<u64>().map_err(|_| Reject::BadMetadata {
            why: format!("{k:?} is not a number"),
        })
    };
    let w = number("window")?;
    let u = u16::try_from(number("uid")?).map_err(|_| Reject::BadMetadata {
        why: "uid is over 65535".into(),
    })?;
    if let Some(want) = window.filter(|&want| want != w) {
        return Err(Reject::WrongWindow { got: w, want });
    }
    if let Some(want) = uid.filter(|&want| want != u) {
        return Err(Reject::WrongUid { got: u, want });
    }
    Ok((w, u))
}

/// Reads a file from disk for checking: its size is compared with `cap` before a byte is
/// read, so a huge file costs nothing.
pub fn read_capped(path: &std::path::Path, cap: u64) -> anyhow::Result<Result<Vec<u8>, Reject>> {
    use anyhow::Context;
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > cap {
        return Ok(Err(Reject::TooLarge { size, cap }));
    }
    Ok(Ok(std::fs::read(path).with_context(|| {
        format!("cannot read {}", path.display())
    })?))
}

/// The codec and the layouts of every parameter of the configured model, in checkpoint order.
pub fn layouts(
    cfg: &crate::config::Config,
    device: tch::Device,
) -> anyhow::Result<(crate::codec::Codec, Vec<crate::codec::Layout>)> {
    let config = crate::model::LlamaConfig::preset(&cfg.model.preset)?;
    let codec = crate::codec::Codec::new(cfg.hparams.codec_params(), device)?;
    let layouts = config
        .param_shapes()
        .iter()
        .map(|(n, s)| {
            codec
                .layout(n, s)
                .in_files(cfg.network.param_names, &config)
        })
        .collect();
    Ok((codec, layouts))
}
