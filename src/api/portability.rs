//! Taking one's narrations along (issue 15 §3), for apps:
//! `GET /api/v1/outloud/export` (scope `read`) streams the person's
//! archive as a zip; an admin may add `?username=NAME` for any local
//! account. `POST /api/v1/outloud/import` (scope `write`, multipart
//! `archive`) imports an Outloud or Mastodon archive and answers its
//! summary. The upload reader here also serves the web settings page.

use super::auth::Auth;
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service::{self, portability::ArchiveStream},
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use std::io::{Seek, SeekFrom, Write};

/// Largest text field sent beside the archive (the web form's `csrf`).
const MAX_FIELD_BYTES: usize = 4096;

/// An uploaded archive, on disk (deleted when dropped), and the text
/// fields sent with it.
pub struct Upload {
    pub file: std::fs::File,
    pub fields: Vec<(String, String)>,
}

impl Upload {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the `multipart/form-data` body's `archive` part into an
/// anonymous temporary file as it arrives, stopping with 413 as soon as
/// it passes `max` bytes: an archive may be large, so it is never held in
/// memory, and a 10 GB upload costs `max` bytes of disk at most. (The
/// chunks are written synchronously: they are small, and a local file.)
///
/// Errors: `Unprocessable` for a body that is not multipart or has no
/// `archive`, `BadRequest` for a malformed one, `PayloadTooLarge`.
pub async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    max: u64,
) -> Result<Upload, Error> {
    if !super::media::is_multipart(req) {
        return Err(Error::unprocessable(
            "Send the archive as multipart/form-data in `archive`.",
        ));
    }
    let io = |e: std::io::Error| Error::internal(e);
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::BadRequest,
            format!("unreadable multipart body: {e}"),
        )
    };
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| bad(&e))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "archive" && file.is_none() {
            let mut out = tempfile::tempfile().map_err(io)?;
            let mut written: u64 = 0;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| bad(&e))?;
                written += chunk.len() as u64;
                if written > max {
                    return Err(Error::new(
                        ErrorKind::PayloadTooLarge,
                        format!("The archive is larger than the {max} bytes accepted."),
                    ));
                }
                out.write_all(&chunk).map_err(io)?;
            }
            if written > 0 {
                out.seek(SeekFrom::Start(0)).map_err(io)?;
                file = Some(out);
            }
        } else {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| bad(&e))?;
                if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(Error::new(
                        ErrorKind::PayloadTooLarge,
                        format!("`{name}` is too large"),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    let file = file.ok_or_else(|| Error::unprocessable("Choose the archive (.zip) to import."))?;
    Ok(Upload { file, fields })
}

/// The archive as an HTTP download.
pub fn download(stream: ArchiveStream, file_name: &str) -> HttpResponse {
    let mut stream = stream;
    let body = futures_util::stream::poll_fn(move |cx| stream.poll_recv(cx));
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

#[derive(Deserialize)]
struct ExportQuery {
    username: Option<String>,
}

/// `GET /api/v1/outloud/export`
#[tracing::instrument(skip_all)]
async fn export(
    data: Data<Context>,
    auth: Auth,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read")?;
    let person = service::portability::whose(&data.db, me, query.username.as_deref()).await?;
    let name = service::portability::file_name(&person);
    Ok(download(service::portability::export(&data, person), &name))
}

/// `POST /api/v1/outloud/import`
#[tracing::instrument(skip_all)]
async fn import(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write")?.clone();
    let upload = read_upload(&req, payload, data.config.archives.max_upload).await?;
    let summary = service::portability::import(&data, &me, upload.file).await?;
    Ok(HttpResponse::Ok().json(summary))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/outloud/export", web::get().to(export))
        .route("/api/v1/outloud/import", web::post().to(import));
}
