//! `/api/v1/media` and `/api/v2/media`: uploading, reading, describing and
//! deleting attachments before a status uses them (Mastodon's semantics:
//! an attachment a status uses is no longer found here; it is changed
//! through the status). Also the `MediaAttachment` entity and the
//! multipart reader the profile upload shares.
//!
//! Uploads are processed synchronously, so v2 answers 200 with `url` set
//! where Mastodon may answer 202 while it is still processing.

use super::{
    auth::Auth,
    params::{self, Form},
};
use crate::{
    apub::Data,
    context::Context,
    db::media::MediaAttachment,
    error::{Error, ErrorKind},
    service::{self, media::MediaLinks},
};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// The `MediaAttachment` entity.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    /// Deprecated in Mastodon; the file's URL for local uploads.
    pub text_url: Option<String>,
    pub meta: Meta,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<Dimensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub small: Option<Dimensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<Focus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dimensions {
    pub width: i64,
    pub height: i64,
    /// `"WxH"`.
    pub size: String,
    pub aspect: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Focus {
    pub x: f64,
    pub y: f64,
}

fn dimensions(width: Option<i64>, height: Option<i64>) -> Option<Dimensions> {
    let (width, height) = (width?, height?);
    (width > 0 && height > 0).then(|| Dimensions {
        width,
        height,
        size: format!("{width}x{height}"),
        aspect: width as f64 / height as f64,
    })
}

/// The entity of a row. URLs come from [`MediaLinks`] only, so the media
/// proxy (remote files) and `[media] public_url` apply everywhere.
pub fn attachment(links: &MediaLinks, m: &MediaAttachment) -> Attachment {
    let (url, preview_url) = links.of_row(m);
    let kind = match m.kind.as_str() {
        k @ ("image" | "gifv" | "video" | "audio") => k,
        _ => "unknown",
    };
    Attachment {
        id: m.id.clone(),
        kind: kind.to_string(),
        text_url: m.file_key.as_ref().and(url.clone()),
        url,
        preview_url,
        remote_url: m.remote_url.clone(),
        meta: Meta {
            original: dimensions(m.width, m.height),
            small: dimensions(m.thumbnail_width, m.thumbnail_height),
            focus: m.focus_x.zip(m.focus_y).map(|(x, y)| Focus { x, y }),
        },
        description: m.description.clone(),
        blurhash: m.blurhash.clone(),
    }
}

// ---- multipart -------------------------------------------------------------

/// Largest text field of a multipart body, and most parts.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_PARTS: usize = 64;

/// A file part of a multipart body.
pub struct FilePart {
    pub name: String,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// A multipart body read under caps: its text fields and the file parts
/// named in `file_names`.
pub struct Multipart {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FilePart>,
}

impl Multipart {
    /// The text fields, parsed as a form body would be.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.fields)
            .finish();
        params::parse_qs(&encoded)
    }

    pub fn take_file(&mut self, name: &str) -> Option<FilePart> {
        let at = self.files.iter().position(|f| f.name == name)?;
        Some(self.files.remove(at))
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn too_large(max: u64) -> Error {
    Error::new(
        ErrorKind::PayloadTooLarge,
        format!("Validation failed: File size must be less than {max} bytes"),
    )
}

/// Reads a `multipart/form-data` body as it streams in: each file part
/// (those named in `file_names`) is cut off at `max_file` bytes with 413,
/// text parts at 64 KiB, so no body is ever buffered beyond the limits.
/// An empty file part counts as absent (browsers send one for an empty
/// file input).
///
/// Errors: `BadRequest` for a malformed body or an unexpected file part,
/// `PayloadTooLarge` beyond the caps.
pub async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    file_names: &[&str],
    max_file: u64,
) -> Result<Multipart, Error> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::BadRequest,
            format!("unreadable multipart body: {e}"),
        )
    };
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut out = Multipart {
        fields: Vec::new(),
        files: Vec::new(),
    };
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "too many multipart parts",
            ));
        }
        let mut field = field.map_err(|e| bad(&e))?;
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(String::from);
        let is_file = file_names.contains(&name.as_str());
        if filename.is_some() && !is_file {
            return Err(Error::unprocessable(format!(
                "`{name}`: this endpoint takes no file there"
            )));
        }
        let cap = if is_file {
            max_file as usize
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| bad(&e))?;
            if bytes.len() + chunk.len() > cap {
                return Err(if is_file {
                    too_large(max_file)
                } else {
                    Error::new(ErrorKind::PayloadTooLarge, format!("`{name}` is too large"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if !bytes.is_empty() {
                out.files.push(FilePart {
                    name,
                    filename,
                    bytes,
                });
            }
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::unprocessable(format!("`{name}` is not UTF-8 text")))?;
            out.fields.push((name, text));
        }
    }
    Ok(out)
}

// ---- handlers ----------------------------------------------------------------

/// The scope of every media endpoint (`write` covers it).
const SCOPE: &str = "write:media";

/// `POST /api/v1/media`, `POST /api/v2/media`: multipart `file`,
/// `description`, `focus`.
async fn create(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let me = auth.user(SCOPE)?.clone();
    if !is_multipart(&req) {
        return Err(Error::unprocessable(
            "Validation failed: send the file as multipart/form-data in `file`",
        ));
    }
    let max = service::media::limits(&data).max_upload();
    let mut body = read_multipart(&req, payload, &["file", "thumbnail"], max).await?;
    let file = body
        .take_file("file")
        .ok_or_else(|| Error::unprocessable("Validation failed: File can't be blank"))?;
    let focus = match body.field("focus") {
        Some(raw) => service::media::parse_focus(raw)?,
        None => None,
    };
    let description = body.field("description").map(String::from);
    let row = service::media::upload(
        &data,
        &me,
        file.bytes,
        file.filename.as_deref(),
        description,
        focus,
    )
    .await?;
    Ok(HttpResponse::Ok().json(attachment(&MediaLinks::of(&data), &row)))
}

/// `GET /api/v1/media/:id`: an upload no status uses yet.
async fn show(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user(SCOPE)?;
    let row = service::media::unattached(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(attachment(&MediaLinks::of(&data), &row)))
}

#[derive(Deserialize)]
struct MediaUpdate {
    description: Option<String>,
    focus: Option<String>,
}

/// `PUT /api/v1/media/:id`: `description`, `focus` (JSON, form or
/// multipart), on an upload no status uses yet.
async fn update(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    Form(p): Form<MediaUpdate>,
) -> Result<HttpResponse, Error> {
    let me = auth.user(SCOPE)?;
    let focus = match p.focus.as_deref() {
        Some(raw) => service::media::parse_focus(raw)?,
        None => None,
    };
    let row = service::media::update(&data, me, &id, p.description, focus).await?;
    Ok(HttpResponse::Ok().json(attachment(&MediaLinks::of(&data), &row)))
}

/// `DELETE /api/v1/media/:id`: the deleted upload (422 when a status uses it).
async fn delete(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user(SCOPE)?;
    let row = service::media::delete(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(attachment(&MediaLinks::of(&data), &row)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/media", web::post().to(create))
        .route("/api/v2/media", web::post().to(create))
        .route("/api/v1/media/{id}", web::get().to(show))
        .route("/api/v1/media/{id}", web::put().to(update))
        .route("/api/v1/media/{id}", web::delete().to(delete));
}
