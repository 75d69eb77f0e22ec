//! Building the effective config from its layers, and printing it without secrets.

use super::Config;
use crate::UsageError;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Value};

/// Where an effective value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    Embedded(&'static str),
    File(PathBuf),
    Env(String),
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Embedded(name) => write!(f, "embedded {name}"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag => f.write_str("--set"),
        }
    }
}

/// The effective config, the file it was read from, and each leaf's source.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: Config,
    pub file: Option<PathBuf>,
    pub sources: BTreeMap<String, Source>,
}

impl LoadedConfig {
    /// Loads the config: defaults, then `file` (or the first default location that exists),
    /// then `GAUNTLET_*` variables from `env`, then `sets` (`key.path=value`).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        sets: &[String],
    ) -> Result<LoadedConfig> {
        Self::load_over(None, file, env, sets)
    }

    /// As [`LoadedConfig::load`], with `base` (a name and YAML text, such as
    /// [`super::LOCAL_DEFAULTS`]) applied over the built-in defaults, under everything else.
    pub fn load_over(
        base: Option<(&'static str, &str)>,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        sets: &[String],
    ) -> Result<LoadedConfig> {
        let defaults = yaml_serde::to_value(Config::default())?;
        let mut leaves = BTreeMap::new();
        collect_leaves(&defaults, "", &mut leaves);
        let mut sources: BTreeMap<String, Source> = leaves
            .keys()
            .map(|k| (k.clone(), Source::Default))
            .collect();
        let mut tree = defaults.clone();

        if let Some((name, text)) = base {
            let layer: Value = yaml_serde::from_str(text)
                .with_context(|| format!("embedded config {name} is not valid YAML"))?;
            let mut touched = Vec::new();
            merge(&mut tree, &layer, "", &mut touched)
                .map_err(|e| UsageError(format!("in embedded config {name}: {}", e.0)))?;
            for key in touched {
                sources.insert(key, Source::Embedded(name));
            }
        }

        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None => default_locations().into_iter().find(|p| p.is_file()),
        };
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let layer: Value = yaml_serde::from_str(&text)
                .with_context(|| format!("config file {} is not valid YAML", path.display()))?;
            if !layer.is_null() {
                let mut touched = Vec::new();
                merge(&mut tree, &layer, "", &mut touched).map_err(|e| {
                    UsageError(format!("in config file {}: {}", path.display(), e.0))
                })?;
                for key in touched {
                    sources.insert(key, Source::File(path.clone()));
                }
            }
        }

        let env: BTreeMap<String, String> = env.into_iter().collect();
        let known: std::collections::HashSet<String> =
            leaves.keys().map(|k| env_var_name(k)).collect();
        if let Some(name) = env
            .keys()
            .find(|n| n.starts_with("GAUNTLET_") && !known.contains(*n) && !not_config(n))
        {
            return Err(UsageError(format!(
                "{name} names no config key (see `gauntlet config --sources` for every key's variable); unset it or correct its name"
            ))
            .into());
        }
        for (key, default) in &leaves {
            let name = env_var_name(key);
            if let Some(raw) = env.get(&name) {
                set_leaf(&mut tree, key, parse_scalar(raw, default));
                sources.insert(key.clone(), Source::Env(name));
            }
        }

        for set in sets {
            let Some((key, raw)) = set.split_once('=') else {
                return Err(UsageError(format!(
                    "--set {set:?}: expected KEY=VALUE, e.g. --set hparams.openskill_beta=7"
                ))
                .into());
            };
            let key = key.trim();
            let Some(default) = leaves.get(key) else {
                return Err(UsageError(format!(
                    "--set {key}: no such config key (see `gauntlet config` for every key)"
                ))
                .into());
            };
            set_leaf(&mut tree, key, parse_scalar(raw, default));
            sources.insert(key.to_string(), Source::Flag);
        }

        let config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
            let key = e.path().to_string();
            let source = sources
                .get(&key)
                .map(|s| format!(" (set by {s})"))
                .unwrap_or_default();
            UsageError(format!(
                "invalid configuration: {key}{source}: {}",
                e.inner()
            ))
        })?;
        let mut effective = BTreeMap::new();
        collect_leaves(&yaml_serde::to_value(&config)?, "", &mut effective);
        super::validate::check(&effective, &sources)?;
        Ok(LoadedConfig {
            config,
            file,
            sources,
        })
    }
}

/// The `GAUNTLET_*` variables that are not config keys: the config file's path and the test
/// suite's python (and, in a build with failpoints, theirs).
const NOT_CONFIG: [&str; 2] = ["GAUNTLET_CONFIG", "GAUNTLET_TEST_PYTHON"];

fn not_config(name: &str) -> bool {
    #[cfg(feature = "failpoints")]
    if name.starts_with(crate::failpoint::PREFIX) {
        return true;
    }
    NOT_CONFIG.contains(&name)
}

/// `GAUNTLET_` + the key's path upper-cased, sections joined by `__`.
pub fn env_var_name(key: &str) -> String {
    format!("GAUNTLET_{}", key.replace('.', "__").to_uppercase())
}

fn default_locations() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("gauntlet.yaml")];
    if let Some(home) = std::env::var_os("HOME") {
        v.push(Path::new(&home).join(".config/gauntlet/config.yaml"));
    }
    v
}

fn collect_leaves(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let k = k.as_str().unwrap_or_default();
                let path = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_leaves(child, &path, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// Overlays `layer` on `base`; a key `base` does not know is an error naming it.
fn merge(
    base: &mut Value,
    layer: &Value,
    prefix: &str,
    touched: &mut Vec<String>,
) -> Result<(), UsageError> {
    match (base, layer) {
        (Value::Mapping(b), Value::Mapping(l)) => {
            for (k, lv) in l {
                let name = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                match b.get_mut(k) {
                    Some(bv) => merge(bv, lv, &path, touched)?,
                    None => {
                        return Err(UsageError(format!(
                            "unknown config key `{path}` (see `gauntlet config` for every key)"
                        )))
                    }
                }
            }
            Ok(())
        }
        (Value::Mapping(_), other) => Err(UsageError(format!(
            "config key `{prefix}` is a section, but the file gives it the value {other:?}"
        ))),
        (b, l) => {
            *b = l.clone();
            touched.push(prefix.to_string());
            Ok(())
        }
    }
}

fn set_leaf(tree: &mut Value, key: &str, value: Value) {
    let mut node = tree;
    for part in key.split('.') {
        let Value::Mapping(m) = node else { return };
        node = m
            .entry(Value::String(part.to_string()))
            .or_insert(Value::Null);
    }
    *node = value;
}

/// Parses an override as YAML, except that a string field takes the raw text as it is (so
/// `--set model.preset=123` stays the string "123").
fn parse_scalar(raw: &str, default: &Value) -> Value {
    if default.is_string() {
        return Value::String(raw.to_string());
    }
    yaml_serde::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// A copy of a config tree with every secret-looking leaf replaced by `<redacted>`.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, child) in m {
                let secret = k.as_str().is_some_and(is_secret_key) && !child.is_null();
                let child = if secret {
                    Value::String("<redacted>".into())
                } else {
                    redact(child)
                };
                out.insert(k.clone(), child);
            }
            Value::Mapping(out)
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "passphrase",
        "private",
        "access_key",
        "mnemonic",
        "seed_phrase",
    ]
    .iter()
    .any(|s| k.contains(s))
}
