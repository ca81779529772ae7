//! "Your archive" in the settings (issue 15 §3):
//!
//! - `GET /settings/archive`: the download button and the import form;
//! - `GET /settings/archive/download`: the person's archive, streamed
//!   (`?username=NAME`: any local account's, for admins);
//! - `POST /settings/archive/import`: multipart `archive` and `csrf`; the
//!   page again with the import's summary, or why the archive was refused.

use super::{
    layout::{render, sign_in_first, Layout, WebError},
    session::Viewer,
};
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service::{self, portability::Summary},
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/archive", web::get().to(page))
        .route("/settings/archive/download", web::get().to(download))
        .route("/settings/archive/import", web::post().to(import));
}

#[derive(Template)]
#[template(path = "settings_archive.html", config = "src/web/askama.toml")]
struct ArchivePage {
    layout: Layout,
    tab: &'static str,
    summary: Option<Summary>,
    error: Option<String>,
    max_upload_mib: u64,
}

async fn view(
    data: &Data<Context>,
    viewer: &Viewer,
    summary: Option<Summary>,
    error: Option<String>,
) -> Result<ArchivePage, WebError> {
    let layout = Layout::new(data, viewer, "Your archive")
        .await?
        .nav("settings");
    Ok(ArchivePage {
        layout,
        tab: "archive",
        summary,
        error,
        max_upload_mib: data.config.archives.max_upload.div_ceil(1024 * 1024),
    })
}

/// `GET /settings/archive`
#[tracing::instrument(skip_all)]
async fn page(data: Data<Context>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/settings/archive");
    }
    let page = view(&data, &viewer, None, None).await?;
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
struct DownloadQuery {
    username: Option<String>,
}

/// `GET /settings/archive/download`
#[tracing::instrument(skip_all)]
async fn download(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let person =
        service::portability::whose(&data.db, &me.actor, query.username.as_deref()).await?;
    let name = service::portability::file_name(&person);
    let stream = service::portability::export(&data, person);
    Ok(crate::api::portability::download(stream, &name))
}

/// `POST /settings/archive/import`
#[tracing::instrument(skip_all)]
async fn import(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?.actor.clone();
    let max = data.config.archives.max_upload;
    let outcome = match crate::api::portability::read_upload(&req, payload, max).await {
        Ok(upload) if !viewer.csrf_matches(upload.field("csrf")) => {
            return Err(WebError(Error::forbidden(
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            )));
        }
        Ok(upload) => service::portability::import(&data, &me, upload.file).await,
        Err(e) => Err(e),
    };
    let (status, page) = match outcome {
        Ok(summary) => (
            StatusCode::OK,
            view(&data, &viewer, Some(summary), None).await?,
        ),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Unprocessable | ErrorKind::PayloadTooLarge
            ) =>
        {
            let message = e.safe_message().to_string();
            (
                e.kind.status(),
                view(&data, &viewer, None, Some(message)).await?,
            )
        }
        Err(e) => return Err(e.into()),
    };
    render(status, &page)
}
