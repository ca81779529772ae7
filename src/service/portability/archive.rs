//! Reading an uploaded archive under limits: ours (`outbox.json`,
//! `actor.json`, `following.json`, `communities.json`, `markdown/…`) or
//! Mastodon's (`outbox.json`, `actor.json`, `likes.json`, media…).
//!
//! Everything about the zip is judged from its central directory before a
//! single entry is decompressed, and the whole archive is refused at the
//! first bad sign: too many entries, names that could escape a folder
//! (`..`, absolute paths, backslashes, drive letters), encrypted entries or
//! symlinks, duplicate names (two readers could disagree on which one
//! counts), a declared uncompressed total over the cap, or an entry whose
//! declared size is far larger than its compressed size (a zip bomb). The
//! few entries read are then read through a cap of their declared size, so
//! an entry that lies about its size cannot inflate past it. Nothing here
//! stores anything: the import only starts once [`read`] succeeded.

use crate::{
    config::ArchivesConfig,
    error::{Error, ErrorKind, Result},
};
use serde_json::Value;
use std::io::{Read, Seek};

/// The limits of [`read`] (see `[archives]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_uncompressed: u64,
    pub max_entries: usize,
    pub max_ratio: u64,
}

impl Limits {
    pub fn of(config: &ArchivesConfig) -> Limits {
        Limits {
            max_uncompressed: config.max_uncompressed,
            max_entries: config.max_entries,
            max_ratio: config.max_ratio,
        }
    }
}

/// Entries smaller than this are not judged by their ratio: a small file
/// of repeated text compresses very well and harms nobody.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Where an archive comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Outloud's export (it has `following.json` and `communities.json`).
    Outloud,
    /// Anything else with an `outbox.json`: Mastodon's archive and kin.
    Mastodon,
}

/// What an archive holds, parsed but not yet checked item by item.
#[derive(Debug, Clone)]
pub struct Archive {
    pub origin: Origin,
    /// `actor.json`, when present.
    pub actor: Option<Value>,
    /// The `orderedItems` of `outbox.json`, as found.
    pub activities: Vec<Value>,
    /// Actor URLs from `following.json` (ours only).
    pub following: Vec<String>,
    /// Community URLs from `communities.json` (ours only).
    pub communities: Vec<String>,
}

fn refused(message: impl Into<String>) -> Error {
    Error::unprocessable(message)
}

/// Whether an entry name could point outside the folder it is unpacked in
/// (or is otherwise not a plain relative path).
pub fn unsafe_name(name: &str) -> bool {
    name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.split('/').any(|part| part == "..")
        || name.as_bytes().get(1) == Some(&b':')
}

/// Reads and checks an archive; see the module documentation.
///
/// Errors: `Unprocessable` with a sentence for the person for anything
/// refused: not a zip, a limit passed, a hostile entry, no `outbox.json`,
/// JSON that does not parse.
pub fn read<R: Read + Seek>(reader: R, limits: &Limits) -> Result<Archive> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|_| {
        refused("This file is not a zip archive: upload the .zip file of an export.")
    })?;
    if zip.len() > limits.max_entries {
        return Err(refused(format!(
            "The archive has {} entries, more than the {} accepted.",
            zip.len(),
            limits.max_entries
        )));
    }
    if zip.metadata().has_duplicate_names() {
        return Err(refused("The archive has two entries with the same name."));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| refused(format!("The archive is damaged: {e}.")))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if unsafe_name(&name) {
            return Err(refused(format!(
                "The archive has an entry named `{}`, which points outside the archive: refused.",
                name.escape_default()
            )));
        }
        if entry.encrypted() || entry.is_symlink() {
            return Err(refused(format!(
                "The archive's entry `{name}` is encrypted or a link: refused."
            )));
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        total = total.saturating_add(size);
        if total > limits.max_uncompressed {
            return Err(refused(format!(
                "The archive unpacks to more than {} bytes: refused.",
                limits.max_uncompressed
            )));
        }
        if size > RATIO_FLOOR && size / compressed.max(1) > limits.max_ratio {
            return Err(refused(format!(
                "The archive's entry `{name}` unpacks to {size} bytes from {compressed}: \
                 that looks like a zip bomb, refused."
            )));
        }
    }
    let outbox = read_json(&mut zip, "outbox.json")?.ok_or_else(|| {
        refused("The archive has no outbox.json: is it an Outloud or Mastodon export?")
    })?;
    let activities = match outbox.get("orderedItems") {
        Some(Value::Array(items)) => items.clone(),
        _ => return Err(refused("outbox.json has no orderedItems list.")),
    };
    let actor = read_json(&mut zip, "actor.json")?;
    let following = read_json(&mut zip, "following.json")?;
    let communities = read_json(&mut zip, "communities.json")?;
    let origin = if following.is_some() || communities.is_some() {
        Origin::Outloud
    } else {
        Origin::Mastodon
    };
    Ok(Archive {
        origin,
        actor,
        activities,
        following: urls_in(following.as_ref()),
        communities: urls_in(communities.as_ref()),
    })
}

/// The URL strings of a collection's `orderedItems` (or `items`).
fn urls_in(collection: Option<&Value>) -> Vec<String> {
    let Some(collection) = collection else {
        return Vec::new();
    };
    let items = collection
        .get("orderedItems")
        .or_else(|| collection.get("items"))
        .and_then(Value::as_array);
    items
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(url) => Some(url.clone()),
                    other => other.get("id").and_then(Value::as_str).map(String::from),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses the entry `name` as JSON, if there is one, reading no more than
/// its declared size (checked against the limits already).
fn read_json<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Result<Option<Value>> {
    let Some(index) = zip.index_for_name(name) else {
        return Ok(None);
    };
    let entry = zip
        .by_index(index)
        .map_err(|e| refused(format!("The archive's `{name}` cannot be read: {e}.")))?;
    let declared = entry.size();
    let mut bytes = Vec::new();
    entry
        .take(declared.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| refused(format!("The archive's `{name}` cannot be read: {e}.")))?;
    if bytes.len() as u64 > declared {
        return Err(refused(format!(
            "The archive's `{name}` is larger than it says: refused."
        )));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::Unprocessable,
            format!("The archive's `{name}` is not valid JSON: {e}."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    const LIMITS: Limits = Limits {
        max_uncompressed: 64 * 1024 * 1024,
        max_entries: 100,
        max_ratio: 100,
    };

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            out.start_file(*name, options).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn message(bytes: Vec<u8>, limits: &Limits) -> String {
        read(Cursor::new(bytes), limits)
            .unwrap_err()
            .safe_message()
            .to_string()
    }

    const OUTBOX: &[u8] = br#"{"type":"OrderedCollection","orderedItems":[{"type":"Create"}]}"#;

    #[test]
    fn reads_a_mastodon_archive() {
        let archive = read(
            Cursor::new(zip_of(&[("outbox.json", OUTBOX), ("likes.json", b"{}")])),
            &LIMITS,
        )
        .unwrap();
        assert_eq!(archive.origin, Origin::Mastodon);
        assert_eq!(archive.activities.len(), 1);
        assert!(archive.following.is_empty());
    }

    #[test]
    fn reads_ours_with_follows() {
        let following = br#"{"orderedItems":["https://b.example/users/bob"]}"#;
        let archive = read(
            Cursor::new(zip_of(&[
                ("outbox.json", OUTBOX),
                ("following.json", following),
                ("communities.json", br#"{"orderedItems":[]}"#),
                ("markdown/2026-01-01-x.md", b"---\n---\nhi"),
            ])),
            &LIMITS,
        )
        .unwrap();
        assert_eq!(archive.origin, Origin::Outloud);
        assert_eq!(archive.following, vec!["https://b.example/users/bob"]);
    }

    #[test]
    fn refuses_path_traversal_and_odd_names() {
        for name in [
            "../evil.json",
            "markdown/../../etc/passwd",
            "/etc/passwd",
            "a\\b.md",
            "C:/x.md",
        ] {
            let text = message(zip_of(&[("outbox.json", OUTBOX), (name, b"x")]), &LIMITS);
            assert!(text.contains("points outside"), "{name}: {text}");
        }
        assert!(!unsafe_name("markdown/2026-01-01-x.md"));
        assert!(!unsafe_name("media_attachments/files/a..b.png"));
    }

    #[test]
    fn refuses_a_zip_bomb() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let text = message(
            zip_of(&[("outbox.json", OUTBOX), ("zeros.bin", &zeros)]),
            &LIMITS,
        );
        assert!(text.contains("zip bomb"), "{text}");
    }

    #[test]
    fn refuses_too_much_uncompressed_and_too_many_entries() {
        let small = Limits {
            max_uncompressed: 100,
            ..LIMITS
        };
        let text = message(zip_of(&[("outbox.json", &[b' '; 200])]), &small);
        assert!(text.contains("more than 100 bytes"), "{text}");
        let few = Limits {
            max_entries: 1,
            ..LIMITS
        };
        let text = message(
            zip_of(&[("outbox.json", OUTBOX), ("actor.json", b"{}")]),
            &few,
        );
        assert!(text.contains("2 entries"), "{text}");
    }

    #[test]
    fn refuses_what_is_not_a_zip_or_not_an_export() {
        assert!(message(b"hello, not a zip".to_vec(), &LIMITS).contains("not a zip"));
        assert!(message(zip_of(&[("actor.json", b"{}")]), &LIMITS).contains("no outbox.json"));
        assert!(message(zip_of(&[("outbox.json", b"{nope")]), &LIMITS).contains("not valid JSON"));
        assert!(message(zip_of(&[("outbox.json", b"{}")]), &LIMITS).contains("orderedItems"));
    }
}
