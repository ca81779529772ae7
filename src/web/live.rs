//! `GET /live`: live updates for the web app's pages (progressive
//! enhancement in `static/outloud.js`; every page works without it).
//!
//! The signed-in person's `user` stream as server-sent events, the same
//! frames the client API's `/api/v1/streaming/user` sends, authenticated
//! by the session cookie instead of a bearer token. Same-origin and
//! read-only, so it needs no CSRF token; the pages' CSP allows it
//! (`connect-src 'self'`).

use super::{Viewer, WebError};
use crate::{apub::Data, context::Context, streaming::Stream};
use actix_web::{web, HttpResponse};

async fn live(data: Data<Context>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let registration = data.streams.register(me.actor.clone(), vec![Stream::User]);
    Ok(crate::api::streaming::sse::respond(
        registration,
        data.streams.heartbeat,
        data.db.clone(),
        crate::api::streaming::sse::Holder::Session(me.session.id.clone()),
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/live", web::get().to(live));
}
