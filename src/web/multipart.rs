//! [`FormWithFiles`]: a form that may carry files (`multipart/form-data`,
//! the composer and the edit form), CSRF-checked like [`Form`] before the
//! handler runs. A plain urlencoded body is accepted too (a form without
//! files, or a client that sends none), so one handler serves both.
//!
//! Nothing here stores anything: the file parts are handed to the handler
//! as bytes, bounded per file by the media limits and in total, and the
//! handler passes them to `service::`.

use super::{
    layout::WebError,
    session::{viewer_of, Form, MAX_FORM_BYTES},
};
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service::media::MAX_ATTACHMENTS,
};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::{future::Future, pin::Pin};

/// One chosen file of the form.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// The input's name (`media_0` … `media_3`).
    pub field: String,
    /// The name the browser gave (only shown in messages).
    pub filename: String,
    /// The content; empty when `too_large`.
    pub bytes: Vec<u8>,
    /// Larger than any upload may be: its content was not kept.
    pub too_large: bool,
}

/// The text fields as `T`, all text fields as sent (for the numbered
/// fields that go with files, such as `alt_0`), and the chosen files in
/// the order sent. Inputs where no file was chosen are left out.
#[derive(Debug)]
pub struct FormWithFiles<T> {
    pub fields: T,
    pub pairs: Vec<(String, String)>,
    pub files: Vec<FilePart>,
}

impl<T> FormWithFiles<T> {
    /// The text field `name`, if sent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn unreadable() -> WebError {
    WebError(Error::bad_request("The form could not be read."))
}

fn too_large() -> WebError {
    WebError(Error::new(
        ErrorKind::PayloadTooLarge,
        "The form is too large: choose fewer or smaller files.",
    ))
}

impl<T: DeserializeOwned + 'static> FromRequest for FormWithFiles<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_multipart = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !is_multipart {
            let form = Form::<T>::from_request(req, payload);
            return Box::pin(async move {
                let Form(fields) = form.await?;
                Ok(FormWithFiles {
                    fields,
                    pairs: Vec::new(),
                    files: Vec::new(),
                })
            });
        }
        let req = req.clone();
        let multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            let data = Data::<Context>::extract(&req)
                .await
                .map_err(|_| WebError(Error::internal(anyhow::anyhow!("no context"))))?;
            let media = &data.config.media;
            let per_file = media.image_size_limit.max(media.video_size_limit) as usize;
            let (pairs, files) = read(multipart, per_file).await?;
            let viewer = viewer_of(&req).await?;
            let sent = pairs
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str());
            if !viewer.csrf_matches(sent) {
                return Err(WebError(Error::forbidden(
                    "This form has expired or did not come from this site. Go back, reload the page and try again.",
                )));
            }
            let encoded = serde_urlencoded::to_string(&pairs).map_err(|_| unreadable())?;
            let fields = serde_urlencoded::from_str(&encoded).map_err(|e| {
                WebError(Error::bad_request(format!(
                    "The form could not be read: {e}."
                )))
            })?;
            Ok(FormWithFiles {
                fields,
                pairs,
                files,
            })
        })
    }
}

/// Reads every part. Text fields are bounded together by the form limit;
/// each file by `per_file` (a larger one is marked, its content dropped);
/// files after the most a narration may have are kept only as names, so
/// the handler can say so without holding them.
async fn read(
    mut multipart: actix_multipart::Multipart,
    per_file: usize,
) -> Result<(Vec<(String, String)>, Vec<FilePart>), WebError> {
    let mut pairs = Vec::new();
    let mut files: Vec<FilePart> = Vec::new();
    let mut text_bytes = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let keep = match &filename {
            Some(_) => files.len() < MAX_ATTACHMENTS,
            None => true,
        };
        let mut bytes = Vec::new();
        let mut oversized = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if filename.is_none() {
                text_bytes += chunk.len();
                if text_bytes > MAX_FORM_BYTES {
                    return Err(too_large());
                }
            }
            if oversized || !keep {
                continue;
            }
            if filename.is_some() && bytes.len() + chunk.len() > per_file {
                oversized = true;
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            // An input where nothing was chosen.
            Some(f) if f.is_empty() && bytes.is_empty() && !oversized => {}
            Some(filename) => files.push(FilePart {
                field: name,
                filename,
                bytes,
                too_large: oversized,
            }),
            None => {
                let text = String::from_utf8(bytes).map_err(|_| unreadable())?;
                pairs.push((name, text));
            }
        }
    }
    Ok((pairs, files))
}
