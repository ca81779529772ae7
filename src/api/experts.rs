//! `GET /api/v1/outloud/experts` (an Outloud extension, docs/api.md):
//! the people who know about a hashtag or a community, from
//! `service::experts`. Public like the tag timeline: anyone may ask, and a
//! signed-in viewer's blocks and mutes are left out of what they see.

use super::{
    auth::MaybeAuth,
    convert, entities,
    params::{flexible_i64, Query},
};
use crate::{apub::Data, context::Context, error::Error, service::experts};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct ExpertsQuery {
    tag: Option<String>,
    community: Option<String>,
    #[serde(default, deserialize_with = "flexible_i64")]
    limit: Option<i64>,
}

/// One post that shows the person knows.
#[derive(Serialize)]
struct EvidenceEntity {
    id: String,
    url: String,
    kind: &'static str,
}

/// One person who knows, with the counts the ranking used.
#[derive(Serialize)]
struct ExpertEntity {
    account: entities::Account,
    accepted_answers: i64,
    learned: i64,
    evidence: Vec<EvidenceEntity>,
}

/// `GET /api/v1/outloud/experts?tag=NAME` or `?community=ID`.
async fn list(
    data: Data<Context>,
    auth: MaybeAuth,
    Query(q): Query<ExpertsQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read");
    let asked = experts::asked(q.tag.as_deref(), q.community.as_deref())?;
    let (topic, _) = experts::topic(&data.db, asked).await?;
    let limit = q
        .limit
        .map_or(experts::DEFAULT_LIMIT, |l| l.max(1) as usize);
    let found = experts::who_knows(&data.db, &topic, viewer, limit).await?;
    let actors: Vec<_> = found.iter().map(|e| e.actor.clone()).collect();
    let accounts = convert::accounts(&data, &actors).await?;
    let list: Vec<ExpertEntity> = found
        .into_iter()
        .zip(accounts)
        .map(|(e, account)| ExpertEntity {
            account,
            accepted_answers: e.accepted_answers,
            learned: e.learned,
            evidence: e
                .evidence
                .into_iter()
                .map(|ev| EvidenceEntity {
                    id: ev.post_id,
                    url: ev.url,
                    kind: ev.kind.as_str(),
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/outloud/experts", web::get().to(list));
}
