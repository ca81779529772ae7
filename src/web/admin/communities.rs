//! `/admin/communities`: this instance's communities (create).

use super::{admin, fixable, notice, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{community_path, display_name, handle, render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{Form, SignedIn, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::community::Posting,
    service::{self},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub struct CommunityRow {
    pub name: String,
    pub handle: String,
    pub path: String,
    pub members: i64,
    pub last_post: String,
}

#[derive(Template)]
#[template(path = "admin_communities.html", config = "src/web/askama.toml")]
struct CommunitiesPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    communities: Vec<CommunityRow>,
    max_name: usize,
}

pub(super) async fn communities_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let communities = service::communities::local_communities(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|c| CommunityRow {
            name: display_name(&c.actor).to_string(),
            handle: handle(&c.actor),
            path: community_path(&c.actor),
            members: c.members,
            last_post: c.last_post.map_or_else(|| "no posts yet".into(), when),
        })
        .collect();
    let layout = Layout::new(data, viewer, "Administration: communities")
        .await?
        .nav("admin");
    let page = CommunitiesPage {
        layout,
        tab: "communities",
        outcome,
        communities,
        max_name: service::accounts::MAX_NAME_LEN,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/communities`
pub async fn communities_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/communities");
    }
    let me = admin(&data, &viewer).await?;
    communities_tab(&data, &viewer, me, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct CommunityForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    approval: Option<String>,
    members_only: Option<String>,
}

/// `POST /admin/communities`: a community owned (and first moderated) by
/// the admin, as `outloud admin create-community`.
pub async fn create_community(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<CommunityForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let created = service::communities::create(
        &data.db,
        &data.urls,
        service::communities::NewCommunity {
            name: form.name.trim(),
            owner: &me.actor,
            display_name: Some(form.display_name.trim().to_string()).filter(|n| !n.is_empty()),
            summary: Some(form.summary.trim().to_string()).filter(|s| !s.is_empty()),
            approval: form.approval.is_some() || form.members_only.is_some(),
            members_only: form.members_only.is_some(),
            posting: Posting::Members,
            icon: None,
        },
    )
    .await;
    match created {
        Ok(_) => see_other("/admin/communities?done=community"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::refused(&e, &form.name);
            communities_tab(
                &data,
                &viewer,
                me,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
