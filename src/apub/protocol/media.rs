//! Media attachments of posts on the wire, as Mastodon writes and reads
//! them: `{type: "Document", mediaType, url, name, blurhash, focalPoint,
//! width, height}`. Other servers write `url` as a string, a `Link` or a
//! list of links, and `type` as `Image`, `Video`, `Audio` or `Link`; the
//! reader accepts all of these.

use serde::Serialize;
use serde_json::Value;

/// Most attachments kept from one remote post (Mastodon's limit; the rest
/// are dropped, as Mastodon does).
pub const MAX_REMOTE_ATTACHMENTS: usize = 4;
/// Longest alt text kept from a remote attachment, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1_500;

/// An attachment as Outloud sends it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: String,
    pub url: String,
    /// Alt text; Mastodon sends `null` when there is none.
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blurhash: Option<String>,
    /// `[x, y]`, each -1..1 (Mastodon's focus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

/// What is kept of one attachment another server sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteMedia {
    /// An http(s) URL.
    pub url: String,
    /// Mastodon's type: `image`, `video`, `audio` or `unknown`.
    pub kind: &'static str,
    /// As sent, or `application/octet-stream` when none was.
    pub media_type: String,
    /// Alt text, as plain text.
    pub description: Option<String>,
    pub blurhash: Option<String>,
    pub focus: Option<(f64, f64)>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

fn http_url(s: &str) -> Option<String> {
    url::Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .map(|u| u.to_string())
}

/// The first http(s) URL in `url` (a string, a Link, a list of either),
/// with the link's `mediaType` when it names one.
fn first_link(v: &Value) -> Option<(String, Option<String>)> {
    match v {
        Value::String(s) => http_url(s).map(|u| (u, None)),
        Value::Object(o) => {
            let href = o.get("href").and_then(Value::as_str).and_then(http_url)?;
            let media_type = o.get("mediaType").and_then(Value::as_str).map(String::from);
            Some((href, media_type))
        }
        Value::Array(items) => items.iter().find_map(first_link),
        _ => None,
    }
}

/// Mastodon's type from the MIME type, else from the ActivityStreams type.
fn kind_of(media_type: Option<&str>, as_type: &str) -> &'static str {
    let top = media_type.and_then(|m| m.split('/').next()).unwrap_or("");
    match (top, as_type) {
        ("image", _) => "image",
        ("video", _) => "video",
        ("audio", _) => "audio",
        (_, "Image") => "image",
        (_, "Video") => "video",
        (_, "Audio") => "audio",
        _ => "unknown",
    }
}

/// A blurhash is 6 to 100 characters of its base-83 alphabet; anything
/// else is dropped rather than handed to clients.
fn valid_blurhash(s: &str) -> bool {
    const EXTRA: &[u8] = b"#$%*+,-.:;=?@[]^_{|}~";
    (6..=100).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || EXTRA.contains(&b))
}

fn focus_of(v: Option<&Value>) -> Option<(f64, f64)> {
    let items = v?.as_array()?;
    let (x, y) = (items.first()?.as_f64()?, items.get(1)?.as_f64()?);
    (x.is_finite() && y.is_finite()).then(|| (x.clamp(-1.0, 1.0), y.clamp(-1.0, 1.0)))
}

fn dimension(v: Option<&Value>) -> Option<i64> {
    v?.as_i64().filter(|n| (1..=1_000_000).contains(n))
}

/// One entry of `attachment`, if it is media with an http(s) URL.
pub fn remote_media(v: &Value) -> Option<RemoteMedia> {
    let o = v.as_object()?;
    let as_type = o.get("type").and_then(Value::as_str).unwrap_or("Document");
    if !matches!(as_type, "Document" | "Image" | "Video" | "Audio" | "Link") {
        return None;
    }
    let (url, link_type) = if as_type == "Link" {
        first_link(v)?
    } else {
        first_link(o.get("url")?)?
    };
    let media_type = o
        .get("mediaType")
        .and_then(Value::as_str)
        .map(String::from)
        .or(link_type)
        .filter(|m| m.len() <= 100 && m.contains('/'));
    let description = o
        .get("name")
        .and_then(Value::as_str)
        .map(|n| crate::text::strip_html(n).trim().to_string())
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(MAX_DESCRIPTION_CHARS).collect());
    Some(RemoteMedia {
        url,
        kind: kind_of(media_type.as_deref(), as_type),
        media_type: media_type.unwrap_or_else(|| "application/octet-stream".into()),
        description,
        blurhash: o
            .get("blurhash")
            .and_then(Value::as_str)
            .filter(|b| valid_blurhash(b))
            .map(String::from),
        focus: focus_of(o.get("focalPoint")),
        width: dimension(o.get("width")),
        height: dimension(o.get("height")),
    })
}

/// The media of a post's `attachment`: usable entries, duplicates (same
/// URL) dropped, at most [`MAX_REMOTE_ATTACHMENTS`].
pub fn remote_media_of(attachment: &[Value]) -> Vec<RemoteMedia> {
    let mut out: Vec<RemoteMedia> = Vec::new();
    for media in attachment.iter().filter_map(remote_media) {
        if out.len() == MAX_REMOTE_ATTACHMENTS {
            break;
        }
        if !out.iter().any(|m| m.url == media.url) {
            out.push(media);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mastodon_document_is_read_with_all_fields() {
        let m = remote_media(&json!({
            "type": "Document", "mediaType": "image/png",
            "url": "https://m.example/a.png", "name": "a <b>cat</b>",
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "focalPoint": [0.5, -2.0],
            "width": 640, "height": 480
        }))
        .unwrap();
        assert_eq!(m.url, "https://m.example/a.png");
        assert_eq!(m.kind, "image");
        assert_eq!(m.description.as_deref(), Some("a cat"));
        assert_eq!(m.focus, Some((0.5, -1.0)));
        assert_eq!((m.width, m.height), (Some(640), Some(480)));
        assert!(m.blurhash.is_some());
    }

    #[test]
    fn url_forms_types_and_limits() {
        let link = json!({"type": "Image", "url": {"type": "Link", "href": "https://x.example/v", "mediaType": "video/mp4"}});
        let m = remote_media(&link).unwrap();
        assert_eq!((m.kind, m.media_type.as_str()), ("video", "video/mp4"));
        let list =
            json!({"type": "Audio", "url": ["ftp://x/a", {"href": "http://x.example/a.ogg"}]});
        let m = remote_media(&list).unwrap();
        assert_eq!(
            (m.url.as_str(), m.kind),
            ("http://x.example/a.ogg", "audio")
        );
        assert_eq!(m.media_type, "application/octet-stream");
        let bare_link =
            json!({"type": "Link", "href": "https://x.example/l.jpg", "mediaType": "image/jpeg"});
        assert_eq!(remote_media(&bare_link).unwrap().kind, "image");
        assert!(remote_media(&json!({"type": "Document", "url": "javascript:alert(1)"})).is_none());
        assert!(
            remote_media(&json!({"type": "PropertyValue", "url": "https://x.example/"})).is_none()
        );
        assert!(remote_media(
            &json!({"type": "Document", "url": "https://x/a", "blurhash": "<script>"})
        )
        .unwrap()
        .blurhash
        .is_none());
        let many: Vec<Value> = (0..6)
            .map(|i| json!({"type": "Document", "url": format!("https://x.example/{i}")}))
            .chain([json!({"type": "Document", "url": "https://x.example/0"})])
            .collect();
        let kept = remote_media_of(&many);
        assert_eq!(kept.len(), 4);
        assert_eq!(kept[0].url, "https://x.example/0");
    }
}
