//! `GET /api/v1/outloud/communities/:id/stats` (Outloud extension,
//! docs/api.md): a community's aggregate figures for its moderators and
//! the instance's admins. The rules are `service::community_stats`'s.

use super::auth::Auth;
use crate::{apub::Data, context::Context, error::Error, service::community_stats};
use actix_web::{web, HttpResponse};

/// 404 for an unknown community, 422 for another server's, 403 for
/// anyone who does not moderate it.
async fn show(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read")?;
    let stats = community_stats::of_community_id(&data.db, &id, me).await?;
    Ok(HttpResponse::Ok().json(stats))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/outloud/communities/{id}/stats",
        web::get().to(show),
    );
}
