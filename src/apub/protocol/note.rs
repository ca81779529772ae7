//! Notes, Articles and Pages on the wire.

use crate::{apub::protocol::actor::Source, db::actor::Actor};
use activitypub_federation::{
    fetch::object_id::ObjectId, protocol::helpers::deserialize_one_or_many,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// The Public collection, in the forms servers write it.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Whether an addressee means "everyone".
pub fn is_public(url: &Url) -> bool {
    matches!(url.as_str(), PUBLIC | "as:Public" | "Public")
}

/// A post. `kind` is `Note`, `Article` or `Page`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub attributed_to: ObjectId<Actor>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// An Article's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Content warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<Url>,
    /// The thread (the first post's id, for Outloud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Web page; servers send a string, a Link, or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Hashtags and mentions; kept loose so that odd entries from other
    /// servers (emoji, links) do not fail the whole post.
    #[serde(
        default,
        deserialize_with = "one_or_many_values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_map: Option<serde_json::Map<String, Value>>,
    /// FEP-1b12: the community a post belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
    /// Media: `Document`s (or `Image`, `Video`, `Audio`, `Link`), one or
    /// many; kept loose and read by [`Note::media`], so one odd entry does
    /// not fail the post.
    #[serde(
        default,
        deserialize_with = "one_or_many_values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<Value>,
    /// Outloud's `outloud:narrationKind` (doing, learned, stuck, ask): the
    /// narration's kind for Outloud peers; others read the kind hashtag
    /// in `tag`. Kept as a string so an unknown value is ignored, not an
    /// error.
    #[serde(
        default,
        deserialize_with = "string_or_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub narration_kind: Option<String>,
    /// schema.org's `acceptedAnswer` on an `ask` (issue 13 §2): the id of
    /// the reply its author accepted; absent while the ask is open. Only
    /// the ask's own server is believed (see docs/FEDERATION.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_answer: Option<Url>,
}

/// A hashtag or mention in `tag`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "type")]
    pub kind: String,
    pub href: Url,
    pub name: String,
}

impl Note {
    /// The entries of `tag` that are well-formed Hashtags or Mentions.
    pub fn tags(&self) -> Vec<Tag> {
        self.tag
            .iter()
            .filter_map(|v| serde_json::from_value::<Tag>(v.clone()).ok())
            .filter(|t| t.kind == "Hashtag" || t.kind == "Mention")
            .collect()
    }

    /// The first URL in `url`, however it was written.
    pub fn web_url(&self) -> Option<Url> {
        fn first(v: &Value) -> Option<Url> {
            match v {
                Value::String(s) => Url::parse(s)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https")),
                Value::Object(o) => o.get("href").and_then(first),
                Value::Array(a) => a.iter().find_map(first),
                _ => None,
            }
        }
        self.url.as_ref().and_then(first)
    }

    /// The language of the first `contentMap` entry.
    pub fn language(&self) -> Option<String> {
        self.content_map
            .as_ref()
            .and_then(|m| m.keys().next().cloned())
    }
}

/// A string, or `None` for anything else: an odd extension value must not
/// fail the whole post.
fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

fn one_or_many_values<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    })
}
