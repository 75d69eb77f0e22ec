//! The validator's state: one SQLite file, changed only in transactions.
//!
//! Per peer: rating, indicator moving average (BMA), sync score, final score, waiting counter,
//! inactivity. Per window: whether it was applied, every record's figures (history), the
//! weights computed, and the submissions pending or sent. A window is applied in one
//! `BEGIN IMMEDIATE` transaction, so two processes never interleave (the second waits up to a
//! limit, then says who holds the lock), a crash leaves the previous state, and a window is
//! applied at most once. The schema is versioned (`PRAGMA user_version`) with migrations.

mod submission;
mod undo;

pub use submission::{Submission, SubmissionStatus};
pub use undo::{Forgotten, UNDO_WINDOWS};

use submission::{submission_from_row, SUBMISSION_COLUMNS};

use crate::score::openskill::Rating;
use crate::time::now;
use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Schema migrations, in order; entry k takes a database from version k to k + 1.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE peers (
    uid INTEGER PRIMARY KEY,
    mu REAL,
    sigma REAL,
    bma REAL NOT NULL DEFAULT 0,
    sync REAL NOT NULL DEFAULT 0,
    final REAL NOT NULL DEFAULT 0,
    waiting INTEGER NOT NULL DEFAULT 1,
    last_active INTEGER,
    inactive_since INTEGER,
    banned_until INTEGER
);
CREATE TABLE windows (
    window INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    matched INTEGER NOT NULL
);
CREATE TABLE history (
    window INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (window, uid)
);
CREATE TABLE weights (
    window INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    weight REAL NOT NULL,
    PRIMARY KEY (window, uid)
);
CREATE TABLE submissions (
    window INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    created_at TEXT NOT NULL,
    sent_at TEXT,
    detail TEXT
);
"#,
    r#"
CREATE TABLE selections (
    window INTEGER PRIMARY KEY,
    uids TEXT NOT NULL,
    detail TEXT NOT NULL
);
"#,
    // Weight submissions gain what commit-reveal must keep across restarts (the exact uids,
    // values and salt committed) and what the chain said.
    r#"
CREATE TABLE submissions_v3 (
    window INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'committed', 'sent', 'superseded')),
    created_at TEXT NOT NULL,
    sent_at TEXT,
    detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    uids TEXT,
    vals TEXT,
    salt TEXT,
    version_key INTEGER,
    commit_hash TEXT,
    commit_epoch INTEGER,
    block_hash TEXT,
    extrinsic_hash TEXT
);
INSERT INTO submissions_v3 (window, status, created_at, sent_at, detail)
    SELECT window, status, created_at, sent_at, detail FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_v3 RENAME TO submissions;
"#,
    // What the latest reference's rules remember per peer: its recent evaluations' signs and
    // its recent misses (JSON, `PeerHistory`).
    r#"
ALTER TABLE peers ADD COLUMN history TEXT;
"#,
    // What every peer was before each recent window was applied, so that `state forget` can
    // undo windows (`undo.rs`).
    r#"
CREATE TABLE snapshots (
    window INTEGER PRIMARY KEY,
    peers TEXT NOT NULL
);
"#,
];

/// Per uid, its weight.
pub type Weights = Vec<(u16, f64)>;

/// An error opening a state, with the way to recover where the file itself is damaged.
fn damaged(path: &Path, e: anyhow::Error) -> anyhow::Error {
    let corrupt = e.chain().any(|c| {
        c.downcast_ref::<rusqlite::Error>().is_some_and(|r| {
            matches!(
                r.sqlite_error_code(),
                Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
            )
        })
    });
    if !corrupt {
        return e;
    }
    anyhow::anyhow!(
        "the state database {} is damaged ({e:#}): restore a backup copy of it, or recover what SQLite can with `sqlite3 {} .recover | sqlite3 recovered.db`",
        path.display(),
        path.display()
    )
}

/// A peer's row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Peer {
    pub uid: u16,
    pub rating: Option<Rating>,
    pub bma: f64,
    pub sync: f64,
    pub final_score: f64,
    pub waiting: i64,
    pub last_active: Option<u64>,
    pub inactive_since: Option<u64>,
    pub banned_until: Option<u64>,
    /// Its recent evaluations and misses, for the rules that count them.
    pub history: PeerHistory,
}

/// What the latest reference's rules remember of a peer (`score::penalties`), newest last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerHistory {
    /// Whether each of its last evaluations scored below zero.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub negatives: Vec<bool>,
    pub consecutive_negatives: u32,
    /// Whether it missed (no usable upload) each of its last windows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<bool>,
    pub consecutive_misses: u32,
    /// Left out of the aggregation for its run of negative evaluations.
    pub excluded: bool,
}

impl PeerHistory {
    fn is_empty(&self) -> bool {
        *self == PeerHistory::default()
    }
}

pub struct State {
    conn: Connection,
    path: PathBuf,
    wait: Duration,
}

/// What an open transaction on the state can read and change.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl State {
    /// Opens (creating and migrating) the state at `path`; a writer waits up to `wait` for
    /// another process's transaction to end.
    pub fn open(path: &Path, wait: Duration) -> Result<State> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the state database {}", path.display()))?;
        Self::with(conn, path, wait).map_err(|e| damaged(path, e))
    }

    /// Opens a state that must already exist, for commands that read it: a missing file is
    /// an error naming the path (a typo must not look like an empty state), never a new one.
    pub fn open_existing(path: &Path, wait: Duration) -> Result<State> {
        use rusqlite::OpenFlags;
        anyhow::ensure!(
            path.is_file(),
            "there is no state database at {}: check --state (or state.path); a validator's state is made by `gauntlet rate`",
            path.display()
        );
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the state database {}", path.display()))?;
        Self::with(conn, path, wait).map_err(|e| damaged(path, e))
    }

    /// Opens an existing state for reading only (`state export`, `audit`, …): nothing this
    /// connection does can change it. A state of an older schema is upgraded first.
    pub fn open_read_only(path: &Path, wait: Duration) -> Result<State> {
        use rusqlite::OpenFlags;
        let current = State::open_existing(path, wait)?;
        drop(current);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the state database {}", path.display()))?;
        conn.busy_timeout(wait)?;
        Ok(State {
            conn,
            path: path.to_path_buf(),
            wait,
        })
    }

    fn with(conn: Connection, path: &Path, wait: Duration) -> Result<State> {
        conn.busy_timeout(wait)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut state = State {
            conn,
            path: path.to_path_buf(),
            wait,
        };
        state.migrate()?;
        Ok(state)
    }

    fn migrate(&mut self) -> Result<()> {
        // A file that is no database fails here first: say so with the way back.
        let version = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?
            as usize;
        anyhow::ensure!(
            version <= MIGRATIONS.len(),
            "the state database {} has schema version {version}, newer than this gauntlet knows ({}): upgrade gauntlet",
            self.path.display(),
            MIGRATIONS.len()
        );
        for (v, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.begin_raw()?;
            tx.execute_batch(sql)
                .with_context(|| format!("migration to schema version {}", v + 1))?;
            tx.pragma_update(None, "user_version", (v + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn begin_raw(&mut self) -> Result<rusqlite::Transaction<'_>> {
        let (path, wait) = (self.path.clone(), self.wait);
        self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => anyhow::anyhow!(
                "the state database {} is locked by another gauntlet process (waited {} s): wait for it to finish, or raise state.wait_seconds",
                path.display(),
                wait.as_secs()
            ),
            e => anyhow::anyhow!("cannot start a transaction on {}: {e}", path.display()),
        })
    }

    /// A write transaction; nothing it changes is kept unless `commit` is called.
    pub fn begin(&mut self) -> Result<Tx<'_>> {
        Ok(Tx {
            tx: self.begin_raw()?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads without a write lock.
    pub fn read(&self) -> Reader<'_> {
        Reader { conn: &self.conn }
    }
}

/// Read access, shared by a transaction and a plain read.
pub struct Reader<'a> {
    conn: &'a Connection,
}

fn peer_from_row(r: &rusqlite::Row) -> rusqlite::Result<Peer> {
    let mu: Option<f64> = r.get(1)?;
    let sigma: Option<f64> = r.get(2)?;
    Ok(Peer {
        uid: r.get(0)?,
        rating: mu.zip(sigma).map(|(mu, sigma)| Rating { mu, sigma }),
        bma: r.get(3)?,
        sync: r.get(4)?,
        final_score: r.get(5)?,
        waiting: r.get(6)?,
        last_active: r.get::<_, Option<i64>>(7)?.map(|w| w as u64),
        inactive_since: r.get::<_, Option<i64>>(8)?.map(|w| w as u64),
        banned_until: r.get::<_, Option<i64>>(9)?.map(|w| w as u64),
        history: match r.get::<_, Option<String>>(10)? {
            None => PeerHistory::default(),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    10,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
        },
    })
}

const PEER_COLUMNS: &str =
    "uid, mu, sigma, bma, sync, final, waiting, last_active, inactive_since, banned_until, history";

impl Reader<'_> {
    pub fn peers(&self) -> Result<BTreeMap<u16, Peer>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {PEER_COLUMNS} FROM peers ORDER BY uid"))?;
        let rows = stmt.query_map([], peer_from_row)?;
        Ok(rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|p| (p.uid, p))
            .collect())
    }

    /// The latest window this state applied, if any.
    pub fn last_applied(&self) -> Result<Option<u64>> {
        self.one_window("SELECT MAX(window) FROM windows")
    }

    /// The first window this state applied, if any.
    pub fn first_applied(&self) -> Result<Option<u64>> {
        self.one_window("SELECT MIN(window) FROM windows")
    }

    /// The window number a query of one row and column gives (NULL: none).
    fn one_window(&self, sql: &str) -> Result<Option<u64>> {
        Ok(self
            .conn
            .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))?
            .map(|w| w as u64))
    }

    pub fn applied(&self, window: u64) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM windows WHERE window = ?1",
                [window as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The records of a window as `rate` left them.
    pub fn history(&self, window: u64) -> Result<Vec<crate::record::Record>> {
        let mut stmt = self
            .conn
            .prepare("SELECT record FROM history WHERE window = ?1 ORDER BY rowid")?;
        let rows = stmt.query_map([window as i64], |r| r.get::<_, String>(0))?;
        rows.map(|t| Ok(serde_json::from_str(&t?)?)).collect()
    }

    /// One peer's records over windows, oldest first, at most `last` of them.
    pub fn peer_history(&self, uid: u16, last: usize) -> Result<Vec<crate::record::Record>> {
        let mut stmt = self.conn.prepare("SELECT record FROM (SELECT window, record FROM history WHERE uid = ?1 ORDER BY window DESC LIMIT ?2) ORDER BY window")?;
        let rows = stmt.query_map(params![uid, last as i64], |r| r.get::<_, String>(0))?;
        rows.map(|t| Ok(serde_json::from_str(&t?)?)).collect()
    }

    /// The weights computed for a window (or the latest window with any).
    pub fn weights(&self, window: Option<u64>) -> Result<(Option<u64>, Weights)> {
        let window: Option<u64> = match window {
            Some(w) => Some(w),
            None => self.one_window("SELECT MAX(window) FROM weights")?,
        };
        let Some(w) = window else {
            return Ok((None, Vec::new()));
        };
        let mut stmt = self
            .conn
            .prepare("SELECT uid, weight FROM weights WHERE window = ?1 ORDER BY uid")?;
        let rows = stmt.query_map([w as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((Some(w), rows.collect::<rusqlite::Result<_>>()?))
    }

    /// The peers selected for evaluation in a window, and how, if `select` ran for it.
    pub fn selection(&self, window: u64) -> Result<Option<(Vec<u16>, String)>> {
        let row = self
            .conn
            .query_row(
                "SELECT uids, detail FROM selections WHERE window = ?1",
                [window as i64],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        row.map(|(u, d)| Ok((serde_json::from_str(&u)?, d)))
            .transpose()
    }

    /// Every weight submission with the given statuses, oldest window first.
    pub fn submissions(&self, statuses: &[SubmissionStatus]) -> Result<Vec<Submission>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions ORDER BY window"
        ))?;
        let rows = stmt.query_map([], submission_from_row)?;
        let all: Vec<Submission> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(all
            .into_iter()
            .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
            .collect())
    }

    /// Windows whose weights wait to be submitted, oldest first.
    pub fn pending(&self) -> Result<Vec<u64>> {
        windows(
            self.conn,
            "SELECT window FROM submissions WHERE status = 'pending' ORDER BY window",
            [],
        )
    }
}

/// The window numbers a query of one column gives, in its order.
fn windows(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<u64>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, |r| r.get::<_, i64>(0).map(|w| w as u64))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Tx<'_> {
    pub fn read(&self) -> Reader<'_> {
        Reader { conn: &self.tx }
    }

    pub fn put_peer(&self, p: &Peer) -> Result<()> {
        self.tx.execute(
            &format!("INSERT OR REPLACE INTO peers ({PEER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                p.uid,
                p.rating.map(|r| r.mu),
                p.rating.map(|r| r.sigma),
                p.bma,
                p.sync,
                p.final_score,
                p.waiting,
                p.last_active.map(|w| w as i64),
                p.inactive_since.map(|w| w as i64),
                p.banned_until.map(|w| w as i64),
                (!p.history.is_empty())
                    .then(|| serde_json::to_string(&p.history))
                    .transpose()?
            ],
        )?;
        Ok(())
    }

    pub fn put_history(&self, r: &crate::record::Record) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO history (window, uid, record) VALUES (?1, ?2, ?3)",
            params![r.window as i64, r.uid, serde_json::to_string(r)?],
        )?;
        Ok(())
    }

    pub fn put_weights(&self, window: u64, weights: &[(u16, f64)]) -> Result<()> {
        self.tx
            .execute("DELETE FROM weights WHERE window = ?1", [window as i64])?;
        for (uid, w) in weights {
            self.tx.execute(
                "INSERT INTO weights (window, uid, weight) VALUES (?1, ?2, ?3)",
                params![window as i64, uid, w],
            )?;
        }
        Ok(())
    }

    pub fn add_submission(&self, window: u64) -> Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO submissions (window, status, created_at) VALUES (?1, 'pending', ?2)",
            params![window as i64, now()],
        )?;
        Ok(())
    }

    /// Writes a submission's row as given (its window must exist).
    pub fn put_submission(&self, s: &Submission) -> Result<()> {
        let json = |v: &Option<Vec<u16>>| v.as_ref().map(serde_json::to_string).transpose();
        let changed = self.tx.execute(
            "UPDATE submissions SET status = ?2, sent_at = ?3, detail = ?4, attempts = ?5, last_error = ?6, uids = ?7, vals = ?8, salt = ?9, version_key = ?10, commit_hash = ?11, commit_epoch = ?12, block_hash = ?13, extrinsic_hash = ?14 WHERE window = ?1",
            params![
                s.window as i64,
                s.status,
                s.sent_at,
                s.detail,
                s.attempts,
                s.last_error,
                json(&s.uids)?,
                json(&s.values)?,
                json(&s.salt)?,
                s.version_key.map(|v| v as i64),
                s.commit_hash,
                s.commit_epoch.map(|v| v as i64),
                s.block_hash,
                s.extrinsic_hash
            ],
        )?;
        anyhow::ensure!(changed == 1, "no submission for window {}", s.window);
        Ok(())
    }

    pub fn put_selection(&self, window: u64, uids: &[u16], detail: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO selections (window, uids, detail) VALUES (?1, ?2, ?3)",
            params![window as i64, serde_json::to_string(uids)?, detail],
        )?;
        Ok(())
    }

    pub fn mark_applied(&self, window: u64, records: usize, matched: usize) -> Result<()> {
        self.tx.execute(
            "INSERT INTO windows (window, applied_at, records, matched) VALUES (?1, ?2, ?3, ?4)",
            params![window as i64, now(), records as i64, matched as i64],
        )?;
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}
