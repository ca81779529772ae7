//! `/api/v2/search`.

use super::{
    auth::MaybeAuth,
    convert, entities,
    params::{flexible_bool, flexible_i64, Query},
};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::search::{self, Kind, SearchQuery},
};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// Search parameters, shared with `/api/v1/accounts/search`.
#[derive(Deserialize)]
pub(super) struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    resolve: Option<bool>,
    #[serde(default, deserialize_with = "flexible_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "flexible_i64")]
    offset: Option<i64>,
}

impl SearchParams {
    /// The query for `kind`, with `limit` defaulting to `default` and
    /// capped at `max`.
    pub(super) fn query(self, kind: Option<Kind>, default: i64, max: i64) -> SearchQuery {
        SearchQuery {
            q: self.q,
            kind,
            resolve: self.resolve.unwrap_or(false),
            limit: self.limit.unwrap_or(default).clamp(1, max),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}

/// `GET /api/v2/search`
async fn search(
    data: Data<Context>,
    auth: MaybeAuth,
    Query(p): Query<SearchParams>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:search");
    let kind = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some("accounts") => Some(Kind::Accounts),
        Some("statuses") => Some(Kind::Statuses),
        Some("hashtags") => Some(Kind::Hashtags),
        Some(other) => {
            return Err(Error::bad_request(format!(
                "type `{other}` is not one of accounts, statuses, hashtags"
            )))
        }
    };
    let query = p.query(kind, 20, 40);
    if viewer.is_none() && query.offset > 0 {
        return Err(Error::unauthorized(
            "Search queries with offset require a signed-in user",
        ));
    }
    let results = search::search(&data, viewer, query).await?;
    Ok(HttpResponse::Ok().json(entities::Search {
        accounts: convert::accounts(&data, &results.accounts).await?,
        statuses: convert::posts(&data, viewer, results.statuses).await?,
        hashtags: results
            .hashtags
            .iter()
            .map(|t| convert::tag(&data.urls, t))
            .collect(),
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v2/search", web::get().to(search));
}
