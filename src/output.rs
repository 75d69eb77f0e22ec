//! Everything a command writes on stdout, in one place: records, a JSON value, a list of
//! items, tables and plain text, each in the format `--format` chose.
//!
//! JSON (`json`) is pretty and whole; JSON lines (`jsonl`) put one value per line (a list
//! streams, one item a line); a table (`table`) is for people. Nothing here panics on a
//! failed write, as `println!` does: the error is returned, and a closed pipe
//! (`gauntlet … | head -1`) is recognised by [`is_broken_pipe`], which `main` turns into a
//! quiet exit 0.

use crate::record::RecordWriter;
use anyhow::Result;
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::Write;

/// How output is written: a table for people, JSON lines or one JSON document for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Json,
    Table,
}

/// A command's stdout (or any writer, for tests) in a format. Every write is flushed before
/// it returns, so a closed pipe is reported by the call that hit it.
pub struct Output<W: Write> {
    out: W,
    format: Format,
}

impl Output<std::io::StdoutLock<'static>> {
    pub fn stdout(format: Format) -> Self {
        Output::new(std::io::stdout().lock(), format)
    }
}

impl<W: Write> Output<W> {
    pub fn new(out: W, format: Format) -> Self {
        Output { out, format }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Records: JSON lines stream one a line; JSON and tables are written on `finish`.
    pub fn records(self) -> RecordWriter<W> {
        RecordWriter::new(self.out, self.format)
    }

    /// One value: pretty JSON, one JSON line, or as a table ([`value_table`]).
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.value_or_table(value, value_table)
    }

    /// One value, with its own table for people.
    pub fn value_or_table<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        table: impl FnOnce(&Value) -> String,
    ) -> Result<()> {
        match self.format {
            Format::Json => self.json_line(value, true),
            Format::Jsonl => self.json_line(value, false),
            Format::Table => {
                let t = table(&serde_json::to_value(value)?);
                self.text(&t)
            }
        }
    }

    /// A map of like objects keyed by `key` (e.g. `{"<uid>": {...}}`): the map as JSON, or a
    /// table of one row per entry, its key in the first column.
    pub fn keyed<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        self.value_or_table(value, |v| match v {
            Value::Object(map) => rows_table(
                &map.iter()
                    .map(|(k, v)| {
                        let mut row = Map::new();
                        row.insert(key.to_string(), Value::String(k.clone()));
                        match v {
                            Value::Object(fields) => {
                                row.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())))
                            }
                            other => {
                                row.insert("value".into(), other.clone());
                            }
                        }
                        Value::Object(row)
                    })
                    .collect::<Vec<_>>(),
            ),
            other => value_table(other),
        })
    }

    /// A list: one JSON line per item as it comes, one pretty JSON array, or one table with
    /// a row per item and a column per field any of them has.
    pub fn items<T: Serialize>(&mut self, items: impl IntoIterator<Item = T>) -> Result<()> {
        match self.format {
            Format::Jsonl => {
                for item in items {
                    self.json_line(&item, false)?;
                }
                Ok(())
            }
            Format::Json => {
                let all = items
                    .into_iter()
                    .map(serde_json::to_value)
                    .collect::<Result<Vec<_>, _>>()?;
                self.json_line(&all, true)
            }
            Format::Table => {
                let all = items
                    .into_iter()
                    .map(serde_json::to_value)
                    .collect::<Result<Vec<_>, _>>()?;
                if all.is_empty() {
                    return Ok(());
                }
                self.text(&rows_table(&all))
            }
        }
    }

    /// A table (tabled) as it is, whatever the format: for the table branch of a command.
    pub fn table(&mut self, table: &tabled::Table) -> Result<()> {
        self.text(&table.to_string())
    }

    /// Plain text, ended by a newline if it has none.
    pub fn text(&mut self, text: &str) -> Result<()> {
        self.out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Bytes as they are (e.g. a generated script).
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()?;
        Ok(())
    }

    /// The value serialised first and then written whole, so that a write error is an
    /// `io::Error` (not one wrapped in a `serde_json::Error`).
    fn json_line<T: Serialize + ?Sized>(&mut self, value: &T, pretty: bool) -> Result<()> {
        let mut bytes = if pretty {
            serde_json::to_vec_pretty(value)?
        } else {
            serde_json::to_vec(value)?
        };
        bytes.push(b'\n');
        self.bytes(&bytes)
    }
}

/// Whether an error is a write to a closed pipe (the reader, e.g. `head`, went away): not a
/// failure of the command, which ends quietly with exit 0.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// A tabled table in the style every command uses.
pub fn styled(mut table: tabled::Table) -> tabled::Table {
    table.with(tabled::settings::Style::sharp());
    table
}

/// A table with no header row (key/value rows, lists of lists): no line under the first row.
fn headless(mut table: tabled::Table) -> tabled::Table {
    table.with(tabled::settings::Style::sharp().remove_horizontals());
    table
}

/// A JSON value as tables: an object as key/value rows (nested objects flattened to
/// `a.b` keys) followed by a table for each of its lists of objects or lists; a list as
/// [`rows_table`]; anything else as its text.
pub fn value_table(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut pairs = Vec::new();
            let mut lists = Vec::new();
            flatten("", map, &mut pairs, &mut lists);
            let mut b = tabled::builder::Builder::default();
            for (k, v) in &pairs {
                b.push_record([k.clone(), cell(v)]);
            }
            let mut parts = Vec::new();
            if !pairs.is_empty() {
                parts.push(headless(b.build()).to_string());
            }
            for (k, items) in lists {
                parts.push(format!("{k}:\n{}", rows_table(items)));
            }
            parts.join("\n")
        }
        Value::Array(items) => rows_table(items),
        other => cell(other),
    }
}

/// A list as one table: objects give a row each and a column per field any of them has
/// (nested objects flattened to `a.b`); lists give a row each, one cell per element;
/// anything else one cell per row.
pub fn rows_table(items: &[Value]) -> String {
    let mut b = tabled::builder::Builder::default();
    if !items.iter().all(Value::is_object) {
        for item in items {
            match item {
                Value::Array(cells) => b.push_record(cells.iter().map(cell)),
                other => b.push_record([cell(other)]),
            }
        }
        return headless(b.build()).to_string();
    }
    let rows: Vec<Vec<(String, Value)>> = items
        .iter()
        .map(|item| {
            let mut pairs = Vec::new();
            if let Value::Object(map) = item {
                flatten_all("", map, &mut pairs);
            }
            pairs
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for (k, _) in rows.iter().flatten() {
        if !columns.contains(k) {
            columns.push(k.clone());
        }
    }
    b.push_record(columns.iter().cloned());
    for row in &rows {
        b.push_record(columns.iter().map(|c| {
            row.iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| cell(v))
                .unwrap_or_default()
        }));
    }
    styled(b.build()).to_string()
}

/// An object's scalar fields as `prefix.key` pairs; its lists of objects or lists apart.
fn flatten<'a>(
    prefix: &str,
    map: &'a Map<String, Value>,
    pairs: &mut Vec<(String, &'a Value)>,
    lists: &mut Vec<(String, &'a [Value])>,
) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => flatten(&key, inner, pairs, lists),
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                lists.push((key, items.as_slice()))
            }
            _ => pairs.push((key, v)),
        }
    }
}

/// An object's fields as `prefix.key` pairs, nested objects flattened.
fn flatten_all(prefix: &str, map: &Map<String, Value>, pairs: &mut Vec<(String, Value)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => flatten_all(&key, inner, pairs),
            _ => pairs.push((key, v.clone())),
        }
    }
}

/// One value as a table cell: strings without quotes, nothing for null, lists of scalars
/// as `[a, b]`, anything else as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            format!(
                "[{}]",
                items.iter().map(cell).collect::<Vec<_>>().join(", ")
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(format: Format, f: impl FnOnce(&mut Output<&mut Vec<u8>>) -> Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut Output::new(&mut buf, format)).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn a_value_follows_the_format() {
        let v = json!({"window": 3, "weights": [{"uid": 1, "weight": 0.5}], "tags": ["a", "b"]});
        assert_eq!(
            written(Format::Jsonl, |o| o.value(&v)),
            format!("{}\n", serde_json::to_string(&v).unwrap())
        );
        assert_eq!(
            written(Format::Json, |o| o.value(&v)),
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        );
        let t = written(Format::Table, |o| o.value(&v));
        assert!(t.contains("window") && t.contains("[a, b]"), "{t}");
        assert!(
            t.contains("weights:") && t.contains("weight") && t.contains("0.5"),
            "{t}"
        );
    }

    #[test]
    fn items_stream_as_lines_or_gather_into_an_array_or_a_table() {
        let items = [
            json!({"uid": 1, "r": {"mu": 2}}),
            json!({"uid": 2, "x": null}),
        ];
        assert_eq!(
            written(Format::Jsonl, |o| o.items(&items)),
            "{\"uid\":1,\"r\":{\"mu\":2}}\n{\"uid\":2,\"x\":null}\n"
        );
        let back: Vec<Value> =
            serde_json::from_str(&written(Format::Json, |o| o.items(&items))).unwrap();
        assert_eq!(back, items);
        let t = written(Format::Table, |o| o.items(&items));
        let header = t.lines().nth(1).unwrap();
        assert!(
            header.contains("uid") && header.contains("r.mu") && header.contains('x'),
            "{t}"
        );
        assert_eq!(written(Format::Table, |o| o.items(Vec::<Value>::new())), "");
    }

    #[test]
    fn a_keyed_map_is_a_table_with_the_key_first() {
        let v = json!({"3": {"mu": 1.5, "sigma": 2}, "7": {"mu": 0, "sigma": 1}});
        let t = written(Format::Table, |o| o.keyed("uid", &v));
        let header = t.lines().nth(1).unwrap();
        assert!(header.find("uid") < header.find("mu"), "{t}");
        assert_eq!(t.lines().filter(|l| l.contains("1.5")).count(), 1, "{t}");
    }

    #[test]
    fn a_closed_pipe_is_an_error_not_a_panic() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut out = Output::new(Closed, Format::Jsonl);
        let err = out.value(&json!({"a": 1})).unwrap_err();
        assert!(is_broken_pipe(&err));
        let err = out.items([1, 2]).unwrap_err();
        assert!(is_broken_pipe(&err));
        let err = anyhow::Error::from(serde_json::to_writer(Closed, &[1]).unwrap_err());
        assert!(is_broken_pipe(&err), "through serde_json too");
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
