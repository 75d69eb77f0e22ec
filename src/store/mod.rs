//! Object stores: where peers put their files and validators get them.
//!
//! One trait; a local folder implementation (`file://` URLs, the embedded default). Keys are
//! flat names such as `gradient-12-3-v1.safetensors`.

mod local;

pub use local::LocalStore;

use anyhow::Result;
use std::time::SystemTime;

/// What a HEAD tells about an object.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub uploaded_at: SystemTime,
    pub etag: Option<String>,
}

pub trait Store: Send + Sync {
    /// A description for messages, never holding credentials.
    fn describe(&self) -> String;
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// `None` when there is no such object.
    fn head(&self, key: &str) -> Result<Option<ObjectMeta>>;
    /// The whole object, `None` when there is no such object.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Keys starting with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Sets an object's upload time where the store allows it (simulating late peers);
    /// `false` where it does not.
    fn backdate(&self, _key: &str, _at: SystemTime) -> Result<bool> {
        Ok(false)
    }
}

/// Refuses keys that could name something outside a store (`/`, `..`, control characters).
pub fn check_key(key: &str) -> Result<()> {
    anyhow::ensure!(
        !key.is_empty()
            && key != "."
            && key != ".."
            && !key.contains(['/', '\\'])
            && !key.chars().any(char::is_control),
        "object key {key:?} is not a plain name"
    );
    Ok(())
}
