//! A window's weight submission as the state keeps it: how far it got, and what commit-reveal
//! must remember across restarts.

use serde::{Deserialize, Serialize};

/// How far a window's weight submission got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubmissionStatus {
    /// Waiting to be sent (or retried).
    #[default]
    Pending,
    /// Commit-reveal: committed, waiting for its reveal epoch.
    Committed,
    /// Included on chain.
    Sent,
    /// A later window's weights were sent first.
    Superseded,
}

impl SubmissionStatus {
    const ALL: [SubmissionStatus; 4] = [
        SubmissionStatus::Pending,
        SubmissionStatus::Committed,
        SubmissionStatus::Sent,
        SubmissionStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Pending => "pending",
            SubmissionStatus::Committed => "committed",
            SubmissionStatus::Sent => "sent",
            SubmissionStatus::Superseded => "superseded",
        }
    }
}

impl rusqlite::types::ToSql for SubmissionStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for SubmissionStatus {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = v.as_str()?;
        SubmissionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                rusqlite::types::FromSqlError::Other(
                    format!("unknown submission status {text:?}").into(),
                )
            })
    }
}

/// One window's weight submission and how far it got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub window: u64,
    pub status: SubmissionStatus,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub detail: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// What was (or is being) committed, kept so that a restart reveals exactly it.
    pub uids: Option<Vec<u16>>,
    pub values: Option<Vec<u16>>,
    pub salt: Option<Vec<u16>>,
    pub version_key: Option<u64>,
    pub commit_hash: Option<String>,
    pub commit_epoch: Option<u64>,
    pub block_hash: Option<String>,
    pub extrinsic_hash: Option<String>,
}

pub(super) const SUBMISSION_COLUMNS: &str = "window, status, created_at, sent_at, detail, attempts, last_error, uids, vals, salt, version_key, commit_hash, commit_epoch, block_hash, extrinsic_hash";

fn json_u16s(v: Option<String>) -> rusqlite::Result<Option<Vec<u16>>> {
    v.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

pub(super) fn submission_from_row(r: &rusqlite::Row) -> rusqlite::Result<Submission> {
    Ok(Submission {
        window: r.get::<_, i64>(0)? as u64,
        status: r.get(1)?,
        created_at: r.get(2)?,
        sent_at: r.get(3)?,
        detail: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        uids: json_u16s(r.get(7)?)?,
        values: json_u16s(r.get(8)?)?,
        salt: json_u16s(r.get(9)?)?,
        version_key: r.get::<_, Option<i64>>(10)?.map(|v| v as u64),
        commit_hash: r.get(11)?,
        commit_epoch: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
        block_hash: r.get(13)?,
        extrinsic_hash: r.get(14)?,
    })
}
