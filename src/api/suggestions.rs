//! `/api/v2/suggestions`, `/api/v1/suggestions`: whom to follow
//! (`service::suggestions`).

use super::{auth::Auth, convert, entities::Account, params::Query};
use crate::{apub::Data, context::Context, error::Error, service::suggestions};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct LimitQuery {
    #[serde(default, deserialize_with = "super::params::flexible_i64")]
    limit: Option<i64>,
}

/// Mastodon's Suggestion entity: `sources`, and the deprecated `source`
/// older apps read.
#[derive(Serialize)]
struct Suggestion {
    source: &'static str,
    sources: Vec<&'static str>,
    account: Account,
}

async fn load(
    data: &Data<Context>,
    auth: &Auth,
    q: LimitQuery,
) -> Result<Vec<suggestions::Suggestion>, Error> {
    let me = auth.user("read")?;
    let limit = q.limit.unwrap_or(suggestions::DEFAULT_LIMIT);
    suggestions::suggestions(&data.db, me, limit).await
}

/// `GET /api/v2/suggestions`
async fn list_v2(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<LimitQuery>,
) -> Result<HttpResponse, Error> {
    let found = load(&data, &auth, q).await?;
    let mut out = Vec::with_capacity(found.len());
    for s in found {
        out.push(Suggestion {
            source: s.sources[0].legacy(),
            sources: s.sources.iter().map(|s| s.as_str()).collect(),
            account: convert::account(&data, &s.account).await?,
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/suggestions`: the accounts only.
async fn list_v1(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<LimitQuery>,
) -> Result<HttpResponse, Error> {
    let found = load(&data, &auth, q).await?;
    let actors: Vec<_> = found.into_iter().map(|s| s.account).collect();
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &actors).await?))
}

/// `DELETE /api/v1/suggestions/:account_id`
async fn dismiss(
    data: Data<Context>,
    auth: Auth,
    account_id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read")?;
    suggestions::dismiss(&data.db, me, &account_id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v2/suggestions", web::get().to(list_v2))
        .route("/api/v1/suggestions", web::get().to(list_v1))
        .route(
            "/api/v1/suggestions/{account_id}",
            web::delete().to(dismiss),
        );
}
