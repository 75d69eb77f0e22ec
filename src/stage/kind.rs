//! The stages of a round and their options, as a command line or a workflow file gives them.

use crate::evaluate::Shard;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One stage of a round and its options. A workflow file names one as a bare name
/// (`- fetch`), or a name with options (`- evaluate: {device: cuda}`, or the tagged
/// `- !evaluate {device: cuda}` that serialising writes).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Peers,
    Fetch {
        /// Where to write the JSON summary (objects fetched, from cache, failed, bytes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stats: Option<PathBuf>,
    },
    Filter,
    Dedupe,
    Select,
    Evaluate {
        device: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shard: Option<Shard>,
    },
    Rate {
        /// Apply part of a window, a window not begun, or one out of order.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        force: bool,
    },
    Commit {
        dry_run: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version_key: Option<u64>,
    },
    Aggregate {
        /// Folder that receives the validator's sync slice.
        sync_store: Option<PathBuf>,
        uid: u16,
    },
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FetchOptions {
    stats: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EvaluateOptions {
    device: Option<String>,
    shard: Option<Shard>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RateOptions {
    force: bool,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CommitOptions {
    dry_run: bool,
    version_key: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AggregateOptions {
    sync_store: Option<PathBuf>,
    uid: u16,
}

impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        use yaml_serde::Value;
        let (name, options) = match Value::deserialize(d)? {
            Value::String(name) => (name, Value::Null),
            Value::Tagged(t) => (t.tag.to_string().trim_start_matches('!').to_string(), t.value),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, v) = m.into_iter().next().expect("one entry");
                let Value::String(name) = k else {
                    return Err(D::Error::custom("a stage's name must be a string"));
                };
                (name, v)
            }
            _ => {
                return Err(D::Error::custom(
                    "a stage is a name (`- fetch`) or a name with options (`- evaluate: {device: cuda}`)",
                ))
            }
        };
        fn parse<T: Default + serde::de::DeserializeOwned, E: Error>(
            name: &str,
            v: Value,
        ) -> std::result::Result<T, E> {
            if v.is_null() {
                return Ok(T::default());
            }
            yaml_serde::from_value(v).map_err(|e| E::custom(format!("stage {name}: {e}")))
        }
        let no_options = |v: &Value| {
            if v.is_null() || v.as_mapping().is_some_and(|m| m.is_empty()) {
                Ok(())
            } else {
                Err(D::Error::custom(format!("stage {name} takes no options")))
            }
        };
        Ok(match name.as_str() {
            "peers" | "filter" | "dedupe" | "select" => {
                no_options(&options)?;
                match name.as_str() {
                    "peers" => Stage::Peers,
                    "filter" => Stage::Filter,
                    "dedupe" => Stage::Dedupe,
                    _ => Stage::Select,
                }
            }
            "fetch" => {
                let o: FetchOptions = parse(&name, options)?;
                Stage::Fetch { stats: o.stats }
            }
            "evaluate" => {
                let o: EvaluateOptions = parse(&name, options)?;
                Stage::Evaluate {
                    device: o.device,
                    shard: o.shard,
                }
            }
            "rate" => {
                let o: RateOptions = parse(&name, options)?;
                Stage::Rate { force: o.force }
            }
            "commit" => {
                let o: CommitOptions = parse(&name, options)?;
                Stage::Commit {
                    dry_run: o.dry_run,
                    version_key: o.version_key,
                }
            }
            "aggregate" => {
                let o: AggregateOptions = parse(&name, options)?;
                Stage::Aggregate {
                    sync_store: o.sync_store,
                    uid: o.uid,
                }
            }
            other => {
                return Err(D::Error::custom(format!(
                    "unknown stage {other:?}: the stages are peers, fetch, filter, dedupe, select, evaluate, rate, commit and aggregate"
                )))
            }
        })
    }
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Peers => "peers",
            Stage::Fetch { .. } => "fetch",
            Stage::Filter => "filter",
            Stage::Dedupe => "dedupe",
            Stage::Select => "select",
            Stage::Evaluate { .. } => "evaluate",
            Stage::Rate { .. } => "rate",
            Stage::Commit { .. } => "commit",
            Stage::Aggregate { .. } => "aggregate",
        }
    }

    /// Whether the stage draws on the validator's secret `evaluate.seed`.
    pub fn seeded(&self) -> bool {
        matches!(self, Stage::Evaluate { .. } | Stage::Select)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_as_names_one_key_maps_and_tags() {
        let yaml = "- peers\n- evaluate\n- evaluate: {device: cuda, shard: 1/4}\n- !commit {dry_run: true}\n- aggregate:\n    uid: 3\n- rate: {}\n- rate: {force: true}\n- fetch\n";
        let stages: Vec<Stage> = yaml_serde::from_str(yaml).unwrap();
        assert_eq!(
            stages,
            [
                Stage::Peers,
                Stage::Evaluate {
                    device: None,
                    shard: None
                },
                Stage::Evaluate {
                    device: Some("cuda".into()),
                    shard: Some(Shard { index: 1, count: 4 })
                },
                Stage::Commit {
                    dry_run: true,
                    version_key: None
                },
                Stage::Aggregate {
                    sync_store: None,
                    uid: 3
                },
                Stage::Rate { force: false },
                Stage::Rate { force: true },
                Stage::Fetch { stats: None },
            ]
        );
        let written = yaml_serde::to_string(&stages).unwrap();
        assert_eq!(
            yaml_serde::from_str::<Vec<Stage>>(&written).unwrap(),
            stages
        );
    }

    #[test]
    fn unknown_stages_and_options_are_named() {
        let e = yaml_serde::from_str::<Vec<Stage>>("- evaluat\n").unwrap_err();
        assert!(e.to_string().contains("unknown stage \"evaluat\""), "{e}");
        let e = yaml_serde::from_str::<Vec<Stage>>("- evaluate: {gpu: 1}\n").unwrap_err();
        assert!(e.to_string().contains("stage evaluate"), "{e}");
        let e = yaml_serde::from_str::<Vec<Stage>>("- dedupe: {x: 1}\n").unwrap_err();
        assert!(e.to_string().contains("takes no options"), "{e}");
        let e = yaml_serde::from_str::<Vec<Stage>>("- evaluate: {shard: 4/4}\n").unwrap_err();
        assert!(e.to_string().contains("0 ≤ K < N"), "{e}");
    }
}
