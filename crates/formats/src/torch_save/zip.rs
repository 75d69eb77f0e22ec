//! The zip container of `torch.save`, read from memory with every field checked.
//!
//! PyTorch stores every entry uncompressed (method 0), so this reader accepts only stored
//! entries: a compressed entry (a zip bomb's whole trick) is refused before anything is
//! inflated. Archives over 4 GiB (zip64 sizes) are refused: no gradient is that large.

use crate::Reject as Refusal;

const EOCD_SIG: u32 = 0x0605_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
/// Far more entries than any gradient has (a 1.2B model's file has a few hundred).
pub const MAX_ENTRIES: usize = 65_535;

/// One stored entry: its name and where its bytes are in the archive.
#[derive(Clone, Debug)]
pub struct ZipEntry {
    pub name: String,
    pub start: usize,
    pub len: usize,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn bad(why: impl Into<String>) -> Refusal {
    Refusal::Archive { why: why.into() }
}

/// The entries of a zip archive held in memory.
pub fn entries(file: &[u8]) -> Result<Vec<ZipEntry>, Refusal> {
    if file.len() < EOCD_LEN {
        return Err(bad(format!(
            "{} bytes is too short for a zip archive",
            file.len()
        )));
    }
    // The end record is within the last 22 + 65535 (comment) bytes.
    let lowest = file.len().saturating_sub(EOCD_LEN + u16::MAX as usize);
    let eocd = (lowest..=file.len() - EOCD_LEN)
        .rev()
        .find(|&i| u32_at(file, i) == Some(EOCD_SIG))
        .ok_or_else(|| bad("no end-of-central-directory record: not a zip archive"))?;
    let count = u16_at(file, eocd + 10).unwrap_or(0) as usize;
    let cd_size = u32_at(file, eocd + 12).unwrap_or(0) as usize;
    let cd_offset = u32_at(file, eocd + 16).unwrap_or(0) as usize;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return Err(bad(
            "a zip64 archive (over 4 GiB or 65535 entries): no gradient is that large",
        ));
    }
    let cd_end = cd_offset
        .checked_add(cd_size)
        .filter(|&e| e <= eocd)
        .ok_or_else(|| {
            bad(format!(
                "the central directory [{cd_offset}, +{cd_size}) runs past its end record"
            ))
        })?;
    if count > MAX_ENTRIES || count.saturating_mul(CENTRAL_LEN) > cd_size {
        return Err(bad(format!(
            "{count} entries cannot fit a {cd_size}-byte central directory"
        )));
    }
    let mut out = Vec::with_capacity(count);
    let mut at = cd_offset;
    for n in 0..count {
        let field = |off: usize| u32_at(file, at + off);
        let short = |off: usize| u16_at(file, at + off);
        if at + CENTRAL_LEN > cd_end || field(0) != Some(CENTRAL_SIG) {
            return Err(bad(format!("central directory entry {n} is damaged")));
        }
        let method = short(10).unwrap_or(0);
        let compressed = field(20).unwrap_or(0) as usize;
        let size = field(24).unwrap_or(0) as usize;
        let name_len = short(28).unwrap_or(0) as usize;
        let extra_len = short(30).unwrap_or(0) as usize;
        let comment_len = short(32).unwrap_or(0) as usize;
        let local = field(42).unwrap_or(0) as usize;
        let next = at + CENTRAL_LEN + name_len + extra_len + comment_len;
        if next > cd_end {
            return Err(bad(format!(
                "central directory entry {n} runs past the directory"
            )));
        }
        let name = std::str::from_utf8(&file[at + CENTRAL_LEN..at + CENTRAL_LEN + name_len])
            .map_err(|_| bad(format!("entry {n}'s name is not UTF-8")))?
            .to_string();
        if method != 0 {
            return Err(bad(format!(
                "entry {name} is compressed (method {method}, {compressed} bytes inflating to {size}): torch.save never compresses, and nothing is inflated"
            )));
        }
        if compressed != size || size == 0xFFFF_FFFF {
            return Err(bad(format!(
                "entry {name} declares {compressed} stored bytes but a size of {size}"
            )));
        }
        if u32_at(file, local) != Some(LOCAL_SIG) {
            return Err(bad(format!(
                "entry {name}'s local header at {local} is missing"
            )));
        }
        let local_name = u16_at(file, local + 26).unwrap_or(0) as usize;
        let local_extra = u16_at(file, local + 28).unwrap_or(0) as usize;
        let start = local + LOCAL_LEN + local_name + local_extra;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= cd_offset)
            .ok_or_else(|| {
                bad(format!(
                    "entry {name}'s {size} bytes at {start} run past the archive's data"
                ))
            })?;
        out.push(ZipEntry {
            name,
            start,
            len: end - start,
        });
        at = next;
    }
    // Sorted, a repeated name sits beside its twin: n log n, not every pair.
    let mut names: Vec<&str> = out.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    if let Some(twin) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(format!("entry {} appears twice", twin[0])));
    }
    Ok(out)
}
