//! Who the peers are and where their buckets are. For now the local network file of the
//! embedded default; the chain-backed source (subtensor) comes behind the same records.

pub mod local;

pub use local::{BucketSpec, Clock, NetworkFile, PeerEntry};
