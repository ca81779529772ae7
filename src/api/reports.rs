//! `POST /api/v1/reports`, and the Report entity (also part of
//! `admin.report` notifications).

use super::{
    auth::Auth,
    convert, entities,
    params::{flexible_bool, one_or_many, Form},
};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::reports::{self, NewReport, ReportView},
};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// A report as Mastodon's Report entity.
pub async fn report_entity(
    data: &Data<Context>,
    view: &ReportView,
) -> Result<entities::Report, Error> {
    let r = &view.report;
    Ok(entities::Report {
        id: r.id.clone(),
        action_taken: r.resolved_at.is_some(),
        action_taken_at: r.resolved_at.map(convert::timestamp),
        category: r.category.clone(),
        comment: r.comment.clone(),
        forwarded: r.forwarded,
        created_at: convert::timestamp(r.created_at),
        status_ids: Some(view.posts.iter().map(|p| p.id.clone()).collect()),
        rule_ids: None,
        target_account: convert::account(data, &view.target).await?,
    })
}

#[derive(Deserialize)]
struct ReportParams {
    #[serde(default)]
    account_id: String,
    #[serde(default, deserialize_with = "one_or_many")]
    status_ids: Vec<String>,
    #[serde(default)]
    comment: String,
    #[serde(default, deserialize_with = "flexible_bool")]
    forward: Option<bool>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    rule_ids: Vec<String>,
}

/// `POST /api/v1/reports`
async fn create(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<ReportParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:reports")?;
    let view = reports::file(
        &data,
        me,
        NewReport {
            account_id: p.account_id,
            status_ids: p.status_ids,
            comment: p.comment,
            forward: p.forward.unwrap_or(false),
            category: p.category,
            rule_ids: p.rule_ids,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(report_entity(&data, &view).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/reports", web::post().to(create));
}
