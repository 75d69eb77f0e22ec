//! Times as gauntlet reads and writes them: RFC 3339, UTC, to the millisecond (whole seconds
//! are written without a fraction). A [`Timestamp`] is cut to the millisecond when it is
//! made, so that a time compared in one process equals the same time read back from a record.

use anyhow::{Context, Result};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, to the millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    pub fn parse(s: &str) -> Result<Timestamp> {
        parse_time(s).map(Timestamp::from)
    }

    pub fn system_time(self) -> SystemTime {
        self.0
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let millis = Duration::from_millis(since.as_millis() as u64);
        Timestamp(UNIX_EPOCH + millis)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_time(self.0))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Timestamp> {
        Timestamp::parse(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
    }
}

/// Parses an RFC 3339 time (`2026-11-25T10:00:00Z`, with or without a fraction).
pub fn parse_time(s: &str) -> Result<SystemTime> {
    humantime::parse_rfc3339_weak(s)
        .with_context(|| format!("{s:?} is not an RFC 3339 time such as 2026-11-25T10:00:00Z"))
}

/// Writes a time as RFC 3339 in UTC: whole seconds bare, else to the millisecond.
pub fn format_time(t: SystemTime) -> String {
    let whole = t
        .duration_since(UNIX_EPOCH)
        .is_ok_and(|d| d.subsec_millis() == 0);
    if whole {
        humantime::format_rfc3339_seconds(t).to_string()
    } else {
        humantime::format_rfc3339_millis(t).to_string()
    }
}

/// Now, written as `format_time` writes it.
pub fn now() -> String {
    format_time(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_as_they_were_written() {
        for s in ["2026-11-25T10:00:00Z", "2026-11-25T10:00:00.250Z"] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(t.to_string(), s);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{s}\""));
        }
        let fine = UNIX_EPOCH + Duration::new(1_780_000_000, 123_456_789);
        let t = Timestamp::from(fine);
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        assert!(Timestamp::parse("yesterday").is_err());
    }
}
