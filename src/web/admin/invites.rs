//! `/admin/invites`: invite links with expiry, uses and an optional
//! community to join (create, revoke).

use super::{admin, fixable, notice, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{CsrfOnly, Form, SignedIn, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::{self},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub struct InviteRow {
    pub id: String,
    pub link: String,
    pub uses: String,
    pub expires: String,
    /// The community its users join (`@name`), if any.
    pub community: Option<String>,
    /// `live`, `expired`, `used up` or `revoked`.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "admin_invites.html", config = "src/web/askama.toml")]
struct InvitesPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    registrations: &'static str,
    invites: Vec<InviteRow>,
    /// The local communities' names, for the "joins" choice.
    communities: Vec<String>,
}

pub(super) async fn invites_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let at = crate::db::now();
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    let communities: Vec<(String, String)> =
        service::communities::local_communities(&data.db, &me.actor)
            .await?
            .into_iter()
            .map(|c| (c.actor.id, c.actor.username))
            .collect();
    let name_of = |id: &str| {
        communities
            .iter()
            .find(|(cid, _)| cid == id)
            .map(|(_, name)| format!("@{name}"))
    };
    let invites = service::invites::list(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|i| InviteRow {
            link: format!("{base}/register?invite={}", i.code),
            uses: match i.max_uses {
                Some(max) => format!("{} of {max} used, {} left", i.uses, (max - i.uses).max(0)),
                None => format!("{} used, no limit", i.uses),
            },
            expires: i.expires_at.map_or_else(|| "never".into(), when),
            community: i.community_id.as_deref().and_then(name_of),
            state: if i.revoked_at.is_some() {
                "revoked"
            } else if i.expires_at.is_some_and(|e| e <= at) {
                "expired"
            } else if i.max_uses.is_some_and(|m| i.uses >= m) {
                "used up"
            } else {
                "live"
            },
            id: i.id,
        })
        .collect();
    let registrations = match data.config.instance.registrations {
        crate::config::Registrations::Closed => "closed",
        crate::config::Registrations::Invite => "invite",
        crate::config::Registrations::Open => "open",
    };
    let layout = Layout::new(data, viewer, "Administration: invites")
        .await?
        .nav("admin");
    let page = InvitesPage {
        layout,
        tab: "invites",
        outcome,
        registrations,
        invites,
        communities: communities.into_iter().map(|(_, name)| name).collect(),
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/invites`
pub async fn invites_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/invites");
    }
    let me = admin(&data, &viewer).await?;
    invites_tab(&data, &viewer, me, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    max_uses: String,
    #[serde(default)]
    days: String,
    /// A local community's name, or empty.
    #[serde(default)]
    community: String,
}

/// An optional whole number from a form field (empty: none).
fn optional_number(field: &str, label: &str) -> Result<Option<i64>, Error> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse()
        .map(Some)
        .map_err(|_| Error::unprocessable(format!("{label} must be a whole number, or empty.")))
}

/// `POST /admin/invites`
pub async fn create_invite(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<InviteForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let created = match (
        optional_number(&form.max_uses, "Uses"),
        optional_number(&form.days, "Days"),
    ) {
        (Ok(max_uses), Ok(days)) => {
            let new = service::invites::NewInvite {
                max_uses,
                days,
                community: Some(form.community.as_str()),
            };
            service::invites::create(&data.db, &me.actor, new).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match created {
        Ok(_) => see_other("/admin/invites?done=invite"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::error(&e, "");
            invites_tab(
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

/// `POST /admin/invites/{id}/revoke`
pub async fn revoke_invite(
    data: Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    service::invites::revoke(&data.db, &me.actor, &id).await?;
    see_other("/admin/invites?done=revoked")
}
