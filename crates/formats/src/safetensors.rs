//! A safetensors reader for hostile files: every length, offset and shape is checked before
//! anything is allocated from it, duplicate names are caught (a JSON map would silently keep
//! the last), and the tensors must tile the data section exactly.

use crate::Reject;
use safetensors::Dtype;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// One tensor's header entry, checked against the file.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    start: usize,
    end: usize,
}

/// A checked file: its metadata and tensors, borrowing the bytes.
pub struct SafeFile<'a> {
    pub metadata: BTreeMap<String, String>,
    pub entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> SafeFile<'a> {
    pub fn bytes(&self, e: &Entry) -> &'a [u8] {
        &self.data[e.start..e.end]
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// Parses and checks a safetensors file held in memory, whose header may not exceed
/// `header_cap` bytes.
pub fn parse(file: &[u8], header_cap: u64) -> Result<SafeFile<'_>, Reject> {
    let size = file.len() as u64;
    let Some(len_bytes) = file.get(..8) else {
        return Err(Reject::Truncated { size });
    };
    let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    if len > header_cap {
        return Err(Reject::HeaderTooLarge {
            len,
            cap: header_cap,
        });
    }
    if len > size - 8 {
        return Err(Reject::HeaderBeyondFile {
            len,
            available: size - 8,
        });
    }
    let header = &file[8..8 + len as usize];
    let data = &file[8 + len as usize..];
    let raw = parse_header(header)?;

    let mut metadata = BTreeMap::new();
    let mut entries = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (name, value) in raw {
        if !names.insert(name.clone()) {
            return Err(Reject::DuplicateTensor { name });
        }
        if name == "__metadata__" {
            let serde_json::Value::Object(m) = value else {
                return Err(Reject::BadMetadata {
                    why: "__metadata__ is not an object".into(),
                });
            };
            for (k, v) in m {
                let serde_json::Value::String(v) = v else {
                    return Err(Reject::BadMetadata {
                        why: format!("metadata value {k:?} is not a string"),
                    });
                };
                metadata.insert(k, v);
            }
            continue;
        }
        entries.push(entry(name, value, data.len() as u64)?);
    }
    entries.sort_by_key(|e| (e.start, e.end));
    let mut offset = 0usize;
    for (i, e) in entries.iter().enumerate() {
        if e.start < offset {
            return Err(Reject::OverlappingData {
                first: entries[i - 1].name.clone(),
                second: e.name.clone(),
            });
        }
        if e.start > offset {
            return Err(Reject::UnindexedData {
                offset: offset as u64,
                bytes: (e.start - offset) as u64,
            });
        }
        offset = e.end;
    }
    if offset < data.len() {
        return Err(Reject::UnindexedData {
            offset: offset as u64,
            bytes: (data.len() - offset) as u64,
        });
    }
    Ok(SafeFile {
        metadata,
        entries,
        data,
    })
}

fn entry(name: String, value: serde_json::Value, data_len: u64) -> Result<Entry, Reject> {
    let bad = |why: &str| Reject::BadEntry {
        name: name.clone(),
        why: why.to_string(),
    };
    let serde_json::Value::Object(m) = value else {
        return Err(bad("not an object"));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !["dtype", "shape", "data_offsets"].contains(&k.as_str()))
    {
        return Err(bad(&format!("unexpected field {k:?}")));
    }
    let dtype_name = m
        .get("dtype")
        .and_then(|v| v.as_str())
        .ok_or_else(|| bad("no dtype string"))?;
    let dtype = parse_dtype(dtype_name).ok_or_else(|| Reject::UnknownDtype {
        name: name.clone(),
        dtype: dtype_name.to_string(),
    })?;
    let shape: Vec<u64> = m
        .get("shape")
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad("no shape array"))?
        .iter()
        .map(|d| d.as_u64())
        .collect::<Option<_>>()
        .ok_or_else(|| bad("shape holds something other than non-negative integers"))?;
    if shape.len() > 8 {
        return Err(bad("more than 8 dimensions"));
    }
    let offsets: Vec<u64> = m
        .get("data_offsets")
        .and_then(|v| v.as_array())
        .filter(|a| a.len() == 2)
        .ok_or_else(|| bad("data_offsets is not a pair"))?
        .iter()
        .map(|d| d.as_u64())
        .collect::<Option<_>>()
        .ok_or_else(|| bad("data_offsets are not non-negative integers"))?;
    let (start, end) = (offsets[0], offsets[1]);
    if start > end {
        return Err(bad("data_offsets end before they start"));
    }
    if end > data_len {
        return Err(Reject::DataBeyondFile {
            name,
            start,
            end,
            len: data_len,
        });
    }
    let need = byte_len(&name, dtype, &shape)?;
    if need != end - start {
        return Err(Reject::SizeMismatch {
            name,
            bytes: end - start,
            need,
        });
    }
    Ok(Entry {
        name,
        dtype,
        shape,
        start: start as usize,
        end: end as usize,
    })
}

fn parse_dtype(s: &str) -> Option<Dtype> {
    Some(match s {
        "BOOL" => Dtype::BOOL,
        "U8" => Dtype::U8,
        "I8" => Dtype::I8,
        "I16" => Dtype::I16,
        "U16" => Dtype::U16,
        "I32" => Dtype::I32,
        "U32" => Dtype::U32,
        "I64" => Dtype::I64,
        "U64" => Dtype::U64,
        "F16" => Dtype::F16,
        "BF16" => Dtype::BF16,
        "F32" => Dtype::F32,
        "F64" => Dtype::F64,
        _ => return None,
    })
}

/// The header's top-level entries in file order, duplicates kept (so they can be refused).
fn parse_header(header: &[u8]) -> Result<Vec<(String, serde_json::Value)>, Reject> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let text = std::str::from_utf8(header).map_err(|e| Reject::HeaderNotJson {
        why: format!("not UTF-8: {e}"),
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let out = (&mut de)
        .deserialize_map(Entries)
        .map_err(|e| Reject::HeaderNotJson { why: e.to_string() })?;
    // Padding after the object is allowed (the format pads the header with spaces).
    de.end()
        .map_err(|e| Reject::HeaderNotJson { why: e.to_string() })?;
    Ok(out)
}

/// The bytes a tensor of this dtype and shape spans, or why it cannot be computed.
fn byte_len(name: &str, dtype: Dtype, shape: &[u64]) -> Result<u64, Reject> {
    shape
        .iter()
        .try_fold((dtype.bitsize() / 8) as u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Reject::ShapeOverflow {
            name: name.to_string(),
            shape: shape.to_vec(),
        })
}
