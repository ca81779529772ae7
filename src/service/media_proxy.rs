//! The media proxy: remote attachments, avatars and headers served from
//! this server, so that readers' browsers never contact other servers
//! (which would tell them who reads what, and from where).
//!
//! A file is fetched once through the outbound client
//! (`apub::client::fetch_capped`: internal addresses refused outside dev
//! mode, redirects re-checked, the client's timeouts, a size cap), its type
//! is detected from the bytes (only images, video and audio; the remote
//! Content-Type is never trusted), and it is cached in the media store:
//! an attachment's key is recorded on its row, an avatar's or header's key
//! is derived from its URL (so a new avatar is a new key). Later requests
//! are served from the store without contacting the origin.

use crate::{
    apub::client::{self, FetchError},
    context::Context,
    db::{actor::Actor, media::MediaAttachment, now, post::Post},
    error::{Error, ErrorKind, Result},
};
use tracing::Instrument;

/// A file ready to be served.
#[derive(Debug, Clone)]
pub struct Proxied {
    pub bytes: Vec<u8>,
    /// Detected from the bytes.
    pub content_type: &'static str,
}

/// Which of a remote actor's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorImage {
    Avatar,
    Header,
}

/// Hex SHA-256 of a URL: names an avatar's cached file, and versions its
/// proxy URL.
pub fn url_digest(url: &str) -> String {
    openssl::sha::sha256(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The type of a file the proxy may serve, from its first bytes: images,
/// video and audio only. HTML, SVG, scripts and unknown data are refused.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let kind = infer::get(bytes)?;
    matches!(
        kind.matcher_type(),
        infer::MatcherType::Image | infer::MatcherType::Video | infer::MatcherType::Audio
    )
    .then(|| (kind.mime_type(), kind.extension()))
}

/// The most bytes fetched: the larger of the configured image and video
/// limits; images are held to the image limit once their type is known.
fn max_bytes(ctx: &Context) -> u64 {
    let m = &ctx.config.media;
    m.image_size_limit.max(m.video_size_limit)
}

fn bad_gateway(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Federation, message)
}

fn unavailable(e: anyhow::Error) -> Error {
    Error::from_source(ErrorKind::Unavailable, e)
}

/// Fetches `url` and checks what came back. Errors: `Federation` (502)
/// for a refused address, a failed or too large fetch, or a body that is
/// not image, video or audio.
async fn fetch_checked(ctx: &Context, url: &str) -> Result<(Vec<u8>, &'static str, &'static str)> {
    let parsed =
        url::Url::parse(url).map_err(|_| bad_gateway("the remote file has no valid URL"))?;
    let bytes = client::fetch_capped(&ctx.http, &parsed, ctx.config.dev_mode(), max_bytes(ctx))
        .await
        .map_err(|e| {
            tracing::info!(%url, error = %e, "media proxy fetch failed");
            match e {
                FetchError::TooLarge(_) => bad_gateway("the remote file is too large"),
                FetchError::Refused(_) => bad_gateway("the remote file's address is not allowed"),
                _ => bad_gateway("the remote file could not be fetched"),
            }
        })?;
    let (mime, ext) = sniff(&bytes).ok_or_else(|| {
        tracing::info!(%url, "media proxy refused a file that is not image, video or audio");
        bad_gateway("the remote file is not an image, video or audio file")
    })?;
    if mime.starts_with("image/") && bytes.len() as u64 > ctx.config.media.image_size_limit {
        return Err(bad_gateway("the remote file is too large"));
    }
    Ok((bytes, mime, ext))
}

/// A cached file, if the store still has it and it is still servable.
async fn cached(ctx: &Context, key: &str) -> Result<Option<Proxied>> {
    let Some(bytes) = ctx.media.get(key).await.map_err(unavailable)? else {
        return Ok(None);
    };
    Ok(sniff(&bytes).map(|(content_type, _)| Proxied {
        bytes,
        content_type,
    }))
}

/// `GET /media/proxy/{id}`: a remote attachment, fetched on first use.
///
/// Errors: `NotFound` for an unknown id, a local upload (served at
/// `/media/{key}`) or an attachment of a deleted post; `Federation` when
/// the origin fails or sends something unacceptable.
pub async fn attachment(ctx: &Context, id: &str) -> Result<Proxied> {
    let span = tracing::info_span!("media_proxy", kind = "attachment", id);
    async move {
        let lookup = id.to_string();
        let row = ctx
            .db
            .run(move |conn| {
                let Some(row) = MediaAttachment::by_id(conn, &lookup)? else {
                    return Ok(None);
                };
                let post = match &row.post_id {
                    Some(post_id) => Post::by_id(conn, post_id)?,
                    None => None,
                };
                Ok(post.filter(|p| p.deleted_at.is_none()).map(|_| row))
            })
            .await?;
        let not_found = || Error::not_found("Record not found");
        let row = row.ok_or_else(not_found)?;
        let remote_url = row.remote_url.clone().ok_or_else(not_found)?;
        if let Some(key) = &row.file_key {
            if let Some(hit) = cached(ctx, key).await? {
                return Ok(hit);
            }
        }
        let (bytes, content_type, ext) = fetch_checked(ctx, &remote_url).await?;
        let key = format!("{}.{ext}", crate::crypto::random_token(16)?);
        ctx.media
            .put(&key, bytes.clone(), content_type)
            .await
            .map_err(unavailable)?;
        let (row_id, k, size) = (row.id.clone(), key.clone(), bytes.len() as i64);
        let stale = row.file_key.clone();
        let recorded = ctx
            .db
            .run(move |conn| {
                if let Some(stale) = &stale {
                    // The recorded file vanished from the store: forget it.
                    MediaAttachment::clear_cached_file(conn, &row_id, stale)?;
                }
                Ok(MediaAttachment::set_cached_file(
                    conn,
                    &row_id,
                    &k,
                    content_type,
                    size,
                    now(),
                )?)
            })
            .await?;
        if !recorded {
            // Another request cached it meanwhile; keep one copy.
            let _ = ctx.media.delete(&key).await;
        }
        tracing::info!(%key, content_type, size, "media proxy cached a remote file");
        Ok(Proxied {
            bytes,
            content_type,
        })
    }
    .instrument(span)
    .await
}

/// `GET /media/proxy/avatar/{actor_id}` and `…/header/{actor_id}`: a
/// remote actor's image, fetched on first use.
///
/// Errors: `NotFound` for an unknown or local actor or one without that
/// image; `Federation` as [`attachment`].
pub async fn actor_image(ctx: &Context, actor_id: &str, which: ActorImage) -> Result<Proxied> {
    let span = tracing::info_span!("media_proxy", kind = ?which, actor_id);
    async move {
        let lookup = actor_id.to_string();
        let actor = ctx
            .db
            .run(move |conn| Ok(Actor::by_id(conn, &lookup)?))
            .await?;
        let url = actor
            .filter(|a| !a.local)
            .and_then(|a| match which {
                ActorImage::Avatar => a.icon_url,
                ActorImage::Header => a.image_url,
            })
            .filter(|u| crate::text::is_http_url(u))
            .ok_or_else(|| Error::not_found("Record not found"))?;
        let key = format!("remote-{}.bin", &url_digest(&url)[..40]);
        if let Some(hit) = cached(ctx, &key).await? {
            return Ok(hit);
        }
        let (bytes, content_type, _) = fetch_checked(ctx, &url).await?;
        ctx.media
            .put(&key, bytes.clone(), content_type)
            .await
            .map_err(unavailable)?;
        tracing::info!(%key, content_type, "media proxy cached a remote actor image");
        Ok(Proxied {
            bytes,
            content_type,
        })
    }
    .instrument(span)
    .await
}

/// Deletes the cached files of attachments a remote post no longer has
/// (after an Update replaced them); a failure is logged, not raised: the
/// rows are gone, a stray file is only space.
pub async fn forget_cached(ctx: &Context, removed: &[MediaAttachment]) {
    for key in removed.iter().filter_map(|m| m.file_key.as_deref()) {
        if let Err(e) = ctx.media.delete(key).await {
            tracing::warn!(%key, error = %e, "could not delete a cached remote file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_types_are_servable() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        assert_eq!(sniff(&png).map(|t| t.0), Some("image/png"));
        assert!(sniff(b"<!doctype html><html><script>alert(1)</script>").is_none());
        assert!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>").is_none());
        assert!(sniff(b"%PDF-1.4").is_none());
        assert!(sniff(b"").is_none());
    }
}
