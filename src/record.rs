//! The per-peer record that flows between stages, and reading and writing record streams.
//!
//! One JSON object per line, one line per peer, keyed by `(window, uid)`. Each stage adds its
//! own section and never removes another's; fields and sections this binary does not know are
//! kept as they came (a newer stage's output survives an older binary).

use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;
use std::io::{BufRead, Write};
use std::path::Path;

type Extra = Map<String, Value>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub window: u64,
    pub uid: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotkey: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake: Option<f64>,
    /// Where the peer's files are; never credentials (those are looked up by uid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectInfo>,
    #[serde(default)]
    pub status: Status,
    /// Why, when the status is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<DedupeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// The window's participants as `peers` listed them, so that `rate` can tell a whole
    /// window from part of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster: Option<Roster>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Who took part in a window, carried by each of its records: how many peers `peers` listed,
/// a digest of their uids, and the network's window when it listed them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub peers: usize,
    pub digest: String,
    /// The network's current window at listing time: a later window had not begun.
    pub network_window: u64,
}

impl Roster {
    /// The roster of these uids (in any order), listed while the network was at
    /// `network_window`.
    pub fn of(uids: impl IntoIterator<Item = u16>, network_window: u64) -> Roster {
        let mut uids: Vec<u16> = uids.into_iter().collect();
        uids.sort_unstable();
        uids.dedup();
        Roster {
            peers: uids.len(),
            digest: Roster::digest(&uids),
            network_window,
        }
    }

    /// The digest of a sorted, duplicate-free uid list.
    pub fn digest(sorted_uids: &[u16]) -> String {
        let mut h = blake3::Hasher::new_derive_key("gauntlet window roster v1");
        for uid in sorted_uids {
            h.update(&uid.to_le_bytes());
        }
        h.finalize().to_hex()[..32].to_string()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<crate::time::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The peer's sync slice for the window, fetched beside the gradient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<Box<ObjectInfo>>,
    /// Why the sync slice could not be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_error: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncInfo {
    pub steps_behind: f64,
    pub score: f64,
    /// How steps behind were aggregated over the compared values: mean, median or iqm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The largest single value's steps behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps_behind: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What `dedupe` found: whom the peer copied (or blended), or resembles without blame, how
/// closely, and the reference's level of the copy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DedupeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied_from: Option<u16>,
    /// The two earlier uploads whose sum it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_of: Option<[u16; 2]>,
    /// A peer it resembles where no one can be blamed (`unresolved` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar_to: Option<u16>,
    /// Top-k index overlap, size-weighted over parameters.
    pub overlap: f64,
    /// Cosine of the values on shared indices.
    pub cosine: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<DedupeLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// How bad a copy is, by its overlap (the reference's levels): `high` is slashed, `max`
/// resets the copier, `mega` also bars it for hparams.naughty_windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DedupeLevel {
    High,
    Max,
    Mega,
}

impl fmt::Display for DedupeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DedupeLevel::High => "high",
            DedupeLevel::Max => "max",
            DedupeLevel::Mega => "mega",
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalInfo {
    pub own_before: f64,
    pub own_after: f64,
    pub rand_before: f64,
    pub rand_after: f64,
    pub score: f64,
    pub indicator: i8,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingInfo {
    pub mu: f64,
    pub sigma: f64,
    pub ordinal: f64,
    pub bma: f64,
    #[serde(rename = "final")]
    pub final_score: f64,
    /// Left out of the aggregation for a run of negative evaluations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub excluded: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What happened to a peer's contribution this window. A status this binary does not know
/// (from a newer stage) is kept verbatim as `Other`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Status {
    #[default]
    Ok,
    Missing,
    Early,
    Late,
    Malformed,
    TooLarge,
    Unreachable,
    Desynced,
    Duplicate,
    /// Its receipt names other pages, rows or batches than the validator computes for it
    /// (`filter`): the two run with different settings, named in the reason.
    Misassigned,
    /// Not chosen for evaluation this window (`select`): no slash, no score.
    NotSelected,
    /// Chosen, but the chain's window changed before its evaluation was reached
    /// (`evaluation_stops_at_window_change`): no slash, no score.
    NotEvaluated,
    Other(String),
}

impl Status {
    const NAMED: [(Status, &'static str); 12] = [
        (Status::Ok, "ok"),
        (Status::Missing, "missing"),
        (Status::Early, "early"),
        (Status::Late, "late"),
        (Status::Malformed, "malformed"),
        (Status::TooLarge, "too_large"),
        (Status::Unreachable, "unreachable"),
        (Status::Desynced, "desynced"),
        (Status::Duplicate, "duplicate"),
        (Status::Misassigned, "misassigned"),
        (Status::NotSelected, "not_selected"),
        (Status::NotEvaluated, "not_evaluated"),
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Status::Other(s) => s,
            known => Self::NAMED
                .iter()
                .find(|(s, _)| s == known)
                .map(|(_, n)| *n)
                .unwrap_or("?"),
        }
    }

    pub fn parse(s: &str) -> Status {
        Self::NAMED
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(st, _)| st.clone())
            .unwrap_or_else(|| Status::Other(s.to_string()))
    }

    pub fn is_ok(&self) -> bool {
        *self == Status::Ok
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Status::parse(&s))
    }
}

impl Record {
    pub fn new(window: u64, uid: u16) -> Record {
        Record {
            window,
            uid,
            ..Default::default()
        }
    }

    pub fn key(&self) -> (u64, u16) {
        (self.window, self.uid)
    }

    /// Marks the record as failed with a reason; later stages pass it through untouched.
    pub fn fail(&mut self, status: Status, reason: impl Into<String>) {
        self.status = status;
        self.reason = Some(reason.into());
    }
}

/// Reads records, one JSON object per line, naming the source and line of any bad one.
pub struct RecordReader<R> {
    input: R,
    source: String,
    line_no: usize,
    buf: String,
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(input: R, source: impl Into<String>) -> Self {
        RecordReader {
            input,
            source: source.into(),
            line_no: 0,
            buf: String::new(),
        }
    }
}

impl RecordReader<Box<dyn BufRead>> {
    /// Records from a file, or from stdin when `path` is `None` or `-`.
    pub fn open(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(p) if p != Path::new("-") => {
                let f = std::fs::File::open(p)
                    .with_context(|| format!("cannot open record file {}", p.display()))?;
                Ok(RecordReader::new(
                    Box::new(std::io::BufReader::new(f)),
                    p.display().to_string(),
                ))
            }
            _ => Ok(RecordReader::new(
                Box::new(std::io::stdin().lock()),
                "<stdin>",
            )),
        }
    }
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            self.buf.clear();
            self.line_no += 1;
            match self.input.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(anyhow::anyhow!(
                        "{} line {}: cannot read: {e}",
                        self.source,
                        self.line_no
                    )))
                }
            }
            let line = self.buf.trim();
            if line.is_empty() {
                continue;
            }
            return Some(serde_json::from_str::<Record>(line).map_err(|e| {
                anyhow::anyhow!(
                    "{} line {}: not a valid record: {e} (each line must be one JSON object with at least \"window\" and \"uid\")",
                    self.source,
                    self.line_no
                )
            }));
        }
    }
}

/// How records are written: a table for people, JSON lines or one JSON array for programs.
pub use crate::output::Format;

/// Writes records in a format; JSONL streams line by line, the others on `finish`.
pub struct RecordWriter<W: Write> {
    out: W,
    format: Format,
    held: Vec<Record>,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W, format: Format) -> Self {
        RecordWriter {
            out,
            format,
            held: Vec::new(),
        }
    }

    pub fn write(&mut self, record: &Record) -> Result<()> {
        match self.format {
            Format::Jsonl => {
                // Serialised first, so that a closed pipe is a plain `io::Error`.
                let mut line = serde_json::to_vec(record)?;
                line.push(b'\n');
                self.out.write_all(&line)?;
            }
            Format::Json | Format::Table => self.held.push(record.clone()),
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<W> {
        match self.format {
            Format::Jsonl => {}
            Format::Json => {
                let mut all = serde_json::to_vec_pretty(&self.held)?;
                all.push(b'\n');
                self.out.write_all(&all)?;
            }
            Format::Table => writeln!(self.out, "{}", table(&self.held))?,
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The records as a table with the columns that any of them fills.
pub fn table(records: &[Record]) -> String {
    type Column = (&'static str, fn(&Record) -> Option<String>);
    let columns: [Column; 12] = [
        ("window", |r| Some(r.window.to_string())),
        ("uid", |r| Some(r.uid.to_string())),
        ("status", |r| Some(r.status.to_string())),
        ("stake", |r| r.stake.map(|s| format!("{s:.2}"))),
        ("size", |r| {
            r.object
                .as_ref()
                .and_then(|o| o.size)
                .map(|s| s.to_string())
        }),
        ("sync", |r| {
            r.sync.as_ref().map(|s| format!("{:.3}", s.score))
        }),
        ("score", |r| {
            r.eval.as_ref().map(|e| format!("{:.3e}", e.score))
        }),
        ("ind", |r| {
            r.eval.as_ref().map(|e| format!("{:+}", e.indicator))
        }),
        ("ordinal", |r| {
            r.rating.as_ref().map(|x| format!("{:.2}", x.ordinal))
        }),
        ("bma", |r| {
            r.rating.as_ref().map(|x| format!("{:.3}", x.bma))
        }),
        ("weight", |r| r.weight.map(|w| format!("{w:.4}"))),
        ("reason", |r| r.reason.clone()),
    ];
    let shown: Vec<&Column> = columns
        .iter()
        .filter(|(_, get)| records.iter().any(|r| get(r).is_some()))
        .collect();
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(shown.iter().map(|(name, _)| name.to_string()));
    for r in records {
        builder.push_record(shown.iter().map(|(_, get)| get(r).unwrap_or_default()));
    }
    let mut t = builder.build();
    t.with(tabled::settings::Style::sharp());
    t.to_string()
}
