//! Person, Group, Application and Service actors on the wire.

use activitypub_federation::protocol::public_key::PublicKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// Any actor document. `kind` keeps the ActivityStreams type as sent; other
/// servers' actors of unexpected types (Organization, bots) are still read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(default)]
    pub manually_approves_followers: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    /// Avatar or community icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// Header image (Mastodon's profile header). Read leniently: a header
    /// Outloud cannot use must not make the whole actor unreadable.
    #[serde(
        default,
        deserialize_with = "lenient_image",
        skip_serializing_if = "Option::is_none"
    )]
    pub image: Option<Image>,
    /// Groups (FEP-1b12): the collection of moderators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributed_to: Option<Url>,
    /// Groups: the collection of pinned posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    /// Groups (Lemmy's term): only moderators may post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posting_restricted_to_mods: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Profile metadata as Mastodon sends it: `PropertyValue`s with `name`
    /// and HTML `value` (other attachment types are ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<serde_json::Value>,
    /// Mastodon's `toot:suspended`: the account is suspended on its server
    /// (only ever sent as `true`). Read, not yet recorded, for other
    /// servers' actors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// The other accounts this actor says it also is (Mastodon's aliases):
    /// an account moving here must be listed before its `Move` is honoured.
    /// Read leniently: entries that are not URLs are dropped.
    #[serde(
        default,
        deserialize_with = "lenient_urls",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub also_known_as: Vec<Url>,
    /// Where this actor moved to (its `Move`'s target).
    #[serde(
        default,
        deserialize_with = "lenient_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub moved_to: Option<Url>,
}

/// An id from a string or an object with `id`.
fn url_of(v: &serde_json::Value) -> Option<Url> {
    match v {
        serde_json::Value::String(s) => Url::parse(s).ok(),
        serde_json::Value::Object(o) => o.get("id").and_then(url_of),
        _ => None,
    }
}

/// One URL or many (as ids or objects with `id`); anything else is dropped.
fn lenient_urls<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items.iter().filter_map(url_of).collect(),
        other => url_of(&other).into_iter().collect(),
    })
}

/// A URL (or an object with `id`); anything else reads as none.
fn lenient_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    Ok(url_of(&serde_json::Value::deserialize(d)?))
}

/// Profile fields from an actor's `attachment`, as the JSON stored in
/// `actors.fields_json` (`[{"name", "value"}]`, values sanitized).
pub fn fields_from_attachment(attachment: &[serde_json::Value]) -> Option<String> {
    let fields: Vec<serde_json::Value> = attachment
        .iter()
        .filter(|a| a.get("type").and_then(|t| t.as_str()) == Some("PropertyValue"))
        .filter_map(|a| {
            let name = a.get("name")?.as_str()?;
            let value = a.get("value")?.as_str()?;
            Some(serde_json::json!({
                "name": crate::text::html_escape(&crate::text::strip_html(name)),
                "value": crate::text::sanitize_html(value),
            }))
        })
        .take(16)
        .collect();
    (!fields.is_empty()).then(|| serde_json::Value::Array(fields).to_string())
}

/// An actor's stored fields as `PropertyValue` attachments.
pub fn attachment_from_fields(fields_json: Option<&str>) -> Vec<serde_json::Value> {
    fields_json
        .and_then(|j| serde_json::from_str::<Vec<serde_json::Value>>(j).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "type": "PropertyValue",
                "name": f.get("name").cloned().unwrap_or_default(),
                "value": f.get("value").cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// `endpoints` of an actor; only the shared inbox matters to us.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<Url>,
}

/// The source a `content` or `summary` was rendered from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content: String,
    pub media_type: String,
}

/// An image by URL (`icon`, `image`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// An `Image` if the value is one, else `None` (a list of images gives its
/// first usable one).
fn lenient_image<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Image>, D::Error> {
    fn image_of(v: serde_json::Value) -> Option<Image> {
        match v {
            serde_json::Value::Array(items) => items.into_iter().find_map(image_of),
            other => serde_json::from_value(other).ok(),
        }
    }
    Ok(image_of(serde_json::Value::deserialize(d)?))
}

#[cfg(test)]
mod image_tests {
    use super::*;

    #[test]
    fn aliases_and_move_are_read_leniently() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct T {
            #[serde(default, deserialize_with = "lenient_urls")]
            also_known_as: Vec<Url>,
            #[serde(default, deserialize_with = "lenient_url")]
            moved_to: Option<Url>,
        }
        let t: T = serde_json::from_value(serde_json::json!({
            "alsoKnownAs": ["https://a.example/u/1", 7, {"id": "https://b.example/u/2"}, "nope"],
            "movedTo": "https://c.example/u/3"
        }))
        .unwrap();
        assert_eq!(t.also_known_as.len(), 2);
        assert_eq!(t.moved_to.unwrap().as_str(), "https://c.example/u/3");
        let t: T = serde_json::from_value(serde_json::json!({
            "alsoKnownAs": "https://a.example/u/1", "movedTo": 3
        }))
        .unwrap();
        assert_eq!(t.also_known_as.len(), 1);
        assert!(t.moved_to.is_none());
        let t: T = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(t.also_known_as.is_empty() && t.moved_to.is_none());
    }

    #[test]
    fn odd_header_images_are_ignored_not_fatal() {
        let read = |v: serde_json::Value| {
            #[derive(Deserialize)]
            struct T {
                #[serde(default, deserialize_with = "lenient_image")]
                image: Option<Image>,
            }
            serde_json::from_value::<T>(serde_json::json!({ "image": v }))
                .unwrap()
                .image
                .map(|i| i.url.to_string())
        };
        let url = "https://x.example/h.png";
        assert_eq!(
            read(serde_json::json!({"type": "Image", "url": url})).as_deref(),
            Some(url)
        );
        assert_eq!(
            read(serde_json::json!([{"type": "Image", "url": url}])).as_deref(),
            Some(url)
        );
        assert_eq!(
            read(serde_json::json!({"type": "Image", "url": {"href": url}})),
            None
        );
        assert_eq!(read(serde_json::json!("nonsense")), None);
    }
}
