//! Why an uploaded file was refused: one named reason per check, with the tensor or
//! parameter it concerns. The code (`Reject::code`) is stable, for records and scripts.

use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum Reject {
    #[error("the file is {size} bytes, over the {cap}-byte cap for this model")]
    TooLarge { size: u64, cap: u64 },
    #[error("the file is truncated: {size} bytes, too short to hold a header length")]
    Truncated { size: u64 },
    #[error("the header length {len} is over the {cap}-byte cap")]
    HeaderTooLarge { len: u64, cap: u64 },
    #[error("the header length {len} runs past the end of the file ({available} bytes follow it)")]
    HeaderBeyondFile { len: u64, available: u64 },
    #[error("the header is not a JSON object: {why}")]
    HeaderNotJson { why: String },
    #[error("tensor {name} is listed twice in the header")]
    DuplicateTensor { name: String },
    #[error("header entry {name}: {why}")]
    BadEntry { name: String, why: String },
    #[error("tensor {name} has the unknown dtype {dtype:?}")]
    UnknownDtype { name: String, dtype: String },
    #[error("tensor {name} has a shape {shape:?} whose size overflows")]
    ShapeOverflow { name: String, shape: Vec<u64> },
    #[error("tensor {name} claims bytes [{start}, {end}) but the file holds {len} data bytes")]
    DataBeyondFile {
        name: String,
        start: u64,
        end: u64,
        len: u64,
    },
    #[error("tensor {name} spans {bytes} bytes, its shape and dtype need {need}")]
    SizeMismatch { name: String, bytes: u64, need: u64 },
    #[error("tensors {first} and {second} claim the same bytes")]
    OverlappingData { first: String, second: String },
    #[error("{bytes} data bytes at offset {offset} belong to no tensor")]
    UnindexedData { offset: u64, bytes: u64 },
    #[error("bad metadata: {why}")]
    BadMetadata { why: String },
    #[error("the file is a {got:?}, not a {want:?}")]
    WrongFormat { got: String, want: String },
    #[error("format version {got:?} is not supported (this gauntlet reads {want:?})")]
    UnsupportedVersion { got: String, want: String },
    #[error("the file is for window {got}, not {want}")]
    WrongWindow { got: u64, want: u64 },
    #[error("the file is for uid {got}, not {want}")]
    WrongUid { got: u16, want: u16 },
    #[error("the file's codec {got} differs from the network's {want}")]
    CodecMismatch { got: String, want: String },
    #[error("parameter {param}: tensor {tensor} is missing")]
    MissingTensor { param: String, tensor: String },
    #[error("tensor {tensor} is not part of this model")]
    UnexpectedTensor { tensor: String },
    #[error("tensor {tensor} has dtype {got}, expected {want}")]
    WrongDtype {
        tensor: String,
        got: String,
        want: String,
    },
    #[error("tensor {tensor} has shape {got:?}, expected {want:?}")]
    WrongShape {
        tensor: String,
        got: Vec<u64>,
        want: Vec<u64>,
    },
    #[error("tensor {tensor} holds the index {value}, outside [0, {totalk})")]
    IndexOutOfRange {
        tensor: String,
        value: i64,
        totalk: i64,
    },
    #[error("tensor {tensor} repeats the index {value} within one chunk")]
    DuplicateIndex { tensor: String, value: i64 },
    #[error("tensor {tensor} holds a NaN or infinite value")]
    NonFinite { tensor: String },
    #[error("tensor {tensor}: the quantisation table has {got} entries, expected {want}")]
    QuantTableLength { tensor: String, got: u64, want: u64 },
    #[error("tensor {tensor}: the quantisation scale {scale} is not positive")]
    BadQuantScale { tensor: String, scale: f64 },
    #[error("the archive is refused: {why}")]
    Archive { why: String },
    #[error("the pickle names the global {name}, which is not allowed: only tensors, dicts, lists, tuples, numbers and strings are read, and nothing was run")]
    ForbiddenGlobal { name: String },
    #[error("the pickle uses opcode {opcode} at byte {at}, which is not allowed: nothing was run")]
    ForbiddenOpcode { opcode: String, at: u64 },
    #[error("the pickle is refused: {why}")]
    BadPickle { why: String },
    #[error("a tensor's storage is refused: {why}")]
    BadStorage { why: String },
    #[error("tensor {tensor} holds the code {value}, outside the {bins} quantisation bins")]
    CodeOutOfRange {
        tensor: String,
        value: i64,
        bins: i64,
    },
}

impl Reject {
    /// A short stable name of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::TooLarge { .. } => "too_large",
            Reject::Truncated { .. } => "truncated",
            Reject::HeaderTooLarge { .. } => "header_too_large",
            Reject::HeaderBeyondFile { .. } => "header_beyond_file",
            Reject::HeaderNotJson { .. } => "header_not_json",
            Reject::DuplicateTensor { .. } => "duplicate_tensor",
            Reject::BadEntry { .. } => "bad_entry",
            Reject::UnknownDtype { .. } => "unknown_dtype",
            Reject::ShapeOverflow { .. } => "shape_overflow",
            Reject::DataBeyondFile { .. } => "data_beyond_file",
            Reject::SizeMismatch { .. } => "size_mismatch",
            Reject::OverlappingData { .. } => "overlapping_data",
            Reject::UnindexedData { .. } => "unindexed_data",
            Reject::BadMetadata { .. } => "bad_metadata",
            Reject::WrongFormat { .. } => "wrong_format",
            Reject::UnsupportedVersion { .. } => "unsupported_version",
            Reject::WrongWindow { .. } => "wrong_window",
            Reject::WrongUid { .. } => "wrong_uid",
            Reject::CodecMismatch { .. } => "codec_mismatch",
            Reject::MissingTensor { .. } => "missing_tensor",
            Reject::UnexpectedTensor { .. } => "unexpected_tensor",
            Reject::WrongDtype { .. } => "wrong_dtype",
            Reject::WrongShape { .. } => "wrong_shape",
            Reject::IndexOutOfRange { .. } => "index_out_of_range",
            Reject::DuplicateIndex { .. } => "duplicate_index",
            Reject::NonFinite { .. } => "non_finite",
            Reject::QuantTableLength { .. } => "quant_table_length",
            Reject::BadQuantScale { .. } => "bad_quant_scale",
            Reject::CodeOutOfRange { .. } => "code_out_of_range",
            Reject::Archive { .. } => "bad_archive",
            Reject::ForbiddenGlobal { .. } => "forbidden_global",
            Reject::ForbiddenOpcode { .. } => "forbidden_opcode",
            Reject::BadPickle { .. } => "bad_pickle",
            Reject::BadStorage { .. } => "bad_storage",
        }
    }

    /// `code: explanation`, as a record's `reason` carries it.
    pub fn reason(&self) -> String {
        format!("{}: {self}", self.code())
    }
}
