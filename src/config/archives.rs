//! `[archives]`: the limits an uploaded archive (issue 15 §3, import of
//! narrations) must stay within. All are checked before anything is
//! stored, and the upload itself stops at `max_upload` bytes.

use super::ConfigError;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ArchivesConfig {
    /// Largest upload (the compressed zip), in bytes: 413 beyond it.
    pub max_upload: u64,
    /// Largest total of the entries' uncompressed sizes, in bytes.
    pub max_uncompressed: u64,
    /// Most entries (files and folders) in one archive.
    pub max_entries: usize,
    /// Largest ratio of uncompressed to compressed size of an entry
    /// (entries under 1 MiB are not judged): beyond it, a zip bomb.
    pub max_ratio: u64,
}

impl Default for ArchivesConfig {
    fn default() -> Self {
        Self {
            max_upload: 100 * 1024 * 1024,
            max_uncompressed: 1024 * 1024 * 1024,
            max_entries: 20_000,
            max_ratio: 100,
        }
    }
}

impl ArchivesConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("max_upload", self.max_upload),
            ("max_uncompressed", self.max_uncompressed),
            ("max_entries", self.max_entries as u64),
            ("max_ratio", self.max_ratio),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("archives.{key} must be at least 1")));
            }
        }
        Ok(())
    }
}
