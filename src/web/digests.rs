//! Weekly digests on the web (issue 13 §4), as `service::digests` makes
//! them:
//!
//! - `GET /digest[?week=YYYY-Www]`: the signed-in person's digest, the
//!   last complete week by default;
//! - `GET /c/{name}/digest[?week=…]`: a local community's (public);
//! - `GET /c/{name}/digest.atom`, `GET /digest/{token}.atom`: the last
//!   weeks' digests as Atom entries, the person's behind the secret token
//!   shown on their digest settings (feed readers cannot sign in);
//! - `GET/POST /settings/digest`: e-mail address, the weekly e-mail
//!   opt-in, the feed's address.

use super::{
    feeds::{self, Entry, Feed, Person},
    layout::{display_name, handle, render, see_other, sign_in_first, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::{Error, ErrorKind},
    service::digests::{self, Digest, Week},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// How many weeks a digest feed holds.
const FEED_WEEKS: usize = 4;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/digest", web::get().to(mine))
        .route("/digest/{token}.atom", web::get().to(person_feed))
        .route("/c/{name}/digest", web::get().to(community))
        .route("/c/{name}/digest.atom", web::get().to(community_feed))
        .route("/settings/digest", web::get().to(settings_page))
        .route("/settings/digest", web::post().to(save_settings));
}

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    week: Option<String>,
}

fn week_of(data: &Data<Context>, query: &WeekQuery) -> Result<Week, WebError> {
    Ok(digests::asked_week(data, query.week.as_deref())?)
}

#[derive(Template)]
#[template(path = "digest.html", config = "src/web/askama.toml")]
struct DigestPage {
    layout: Layout,
    digest: digests::View,
    /// Where the previous and next weeks are (this page with `?week=`).
    path: String,
    previous: String,
    next: Option<String>,
}

fn page(
    data: &Data<Context>,
    layout: Layout,
    digest: &Digest,
    title: String,
    path: String,
) -> Result<HttpResponse, WebError> {
    let current = digests::last_complete_week(data, chrono::Utc::now());
    let next = Week::parse(&next_week(digest.week)).ok();
    let page = DigestPage {
        layout,
        digest: digests::view(digest, title),
        previous: digest.week.previous().to_string(),
        next: next
            .filter(|_| digest.week != current && digest.week.previous() != current)
            .map(|w| w.to_string()),
        path,
    };
    render(StatusCode::OK, &page)
}

/// The week after `week` (`Week` only steps back; a step forward is a
/// step back from two weeks ahead, so compute it by date).
fn next_week(week: Week) -> String {
    let monday = chrono::NaiveDate::from_isoywd_opt(week.year, week.week, chrono::Weekday::Mon)
        .unwrap_or_default()
        + chrono::Days::new(7);
    let iso = chrono::Datelike::iso_week(&monday);
    format!("{}-W{:02}", iso.year(), iso.week())
}

/// `GET /digest`
pub async fn mine(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/digest");
    };
    let week = week_of(&data, &query)?;
    let digest = digests::for_person(&data, &me.actor, week).await?;
    let layout = Layout::new(&data, &viewer, format!("Your digest, week {week}"))
        .await?
        .nav("digest");
    let title = "Your weekly digest".to_string();
    Ok(viewer.finish(page(&data, layout, &digest, title, "/digest".into())?))
}

/// `GET /c/{name}/digest`
pub async fn community(
    data: Data<Context>,
    viewer: Viewer,
    name: web::Path<String>,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, WebError> {
    let week = week_of(&data, &query)?;
    let (group, digest) = digests::for_community(&data, &name, week).await?;
    let title = format!("Weekly digest of {}", display_name(&group));
    let path = format!("/c/{}/digest", group.username);
    let layout = Layout::new(&data, &viewer, format!("{title}, week {week}"))
        .await?
        .feed(format!("{path}.atom"));
    Ok(viewer.finish(page(&data, layout, &digest, title, path)?))
}

/// A digest feed: one entry per week, the last [`FEED_WEEKS`] complete ones.
fn feed_of(
    data: &Data<Context>,
    actor: &Actor,
    title: String,
    weeks: Vec<Digest>,
    self_href: String,
    page: String,
) -> Result<HttpResponse, WebError> {
    let author = Person {
        name: feeds::xml_text(&format!("{} ({})", display_name(actor), handle(actor))),
        uri: Some(actor.url.clone().unwrap_or_else(|| actor.ap_id.to_string())),
    };
    let mut entries = Vec::new();
    for digest in &weeks {
        let view = digests::view(digest, title.clone());
        let content = digests::Fragment { digest: &view }
            .render()
            .map_err(|e| WebError(Error::internal(anyhow::anyhow!("digest template: {e}"))))?;
        let link = format!("{page}?week={}", digest.week);
        entries.push(Entry {
            id: link.clone(),
            title: format!("{title}, week {}", digest.week),
            published: feeds::timestamp(digest.end),
            updated: feeds::timestamp(digest.end),
            author: Person {
                name: author.name.clone(),
                uri: author.uri.clone(),
            },
            link,
            summary: None,
            content_html: feeds::xml_text(&content),
        });
    }
    let updated = entries
        .first()
        .map(|e| e.updated.clone())
        .unwrap_or_else(|| feeds::timestamp(crate::db::now()));
    feeds::respond(Feed {
        id: self_href.clone(),
        title: feeds::xml_text(&title),
        subtitle: None,
        updated,
        author,
        self_href,
        alternate_href: page,
        icon: feeds::icon(data),
        entries,
    })
}

fn recent_weeks(data: &Data<Context>) -> Vec<Week> {
    let mut week = digests::last_complete_week(data, chrono::Utc::now());
    let mut weeks = Vec::new();
    for _ in 0..FEED_WEEKS {
        weeks.push(week);
        week = week.previous();
    }
    weeks
}

/// `GET /c/{name}/digest.atom`
pub async fn community_feed(
    data: Data<Context>,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let mut digests_of = Vec::new();
    let mut group = None;
    for week in recent_weeks(&data) {
        let (g, digest) = digests::for_community(&data, &name, week).await?;
        group = Some(g);
        digests_of.push(digest);
    }
    let group = group.ok_or_else(|| WebError(Error::not_found("no such community")))?;
    let page = data
        .urls
        .base()
        .join(&format!("/c/{}/digest", group.username))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let title = format!("Weekly digest of {}", display_name(&group));
    feed_of(
        &data,
        &group,
        title,
        digests_of,
        format!("{page}.atom"),
        page,
    )
}

/// `GET /digest/{token}.atom`: 404 for a token that is no one's.
pub async fn person_feed(
    data: Data<Context>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let person = digests::person_by_token(&data.db, &token).await?;
    let mut digests_of = Vec::new();
    for week in recent_weeks(&data) {
        digests_of.push(digests::for_person(&data, &person, week).await?);
    }
    let base = data.urls.base();
    let page = base
        .join("/digest")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let self_href = base
        .join(&format!("/digest/{}.atom", token.as_str()))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let title = format!("Weekly digest of {}", display_name(&person));
    let mut response = feed_of(&data, &person, title, digests_of, self_href, page)?;
    // A secret feed: not for shared caches.
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "settings_digest.html", config = "src/web/askama.toml")]
struct SettingsPage {
    layout: Layout,
    tab: &'static str,
    email: String,
    digest_email: bool,
    feed_url: String,
    mail_configured: bool,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn settings_view(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &Actor,
    form: Option<(String, bool, String)>,
    saved: bool,
) -> Result<SettingsPage, WebError> {
    let settings = digests::settings(&data.db, &me.id).await?;
    let feed_url = data
        .urls
        .base()
        .join(&format!("/digest/{}.atom", settings.feed_token))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let layout = Layout::new(data, viewer, "Digest").await?.nav("settings");
    let (email, digest_email, error) = match form {
        Some((email, digest_email, error)) => (email, digest_email, Some(error)),
        None => (
            settings.email.unwrap_or_default(),
            settings.digest_email,
            None,
        ),
    };
    Ok(SettingsPage {
        layout,
        tab: "digest",
        email,
        digest_email,
        feed_url,
        mail_configured: data.config.mail.enabled(),
        saved,
        error,
    })
}

/// `GET /settings/digest`
pub async fn settings_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/settings/digest");
    };
    let page = settings_view(&data, &viewer, &me.actor, None, query.saved.is_some()).await?;
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    email: String,
    digest_email: Option<String>,
}

/// `POST /settings/digest`
pub async fn save_settings(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let wanted = form.digest_email.is_some();
    match digests::save_email(&data.db, &me.actor.id, &form.email, wanted).await {
        Ok(()) => see_other("/settings/digest?saved=1"),
        Err(e) if e.kind == ErrorKind::Unprocessable => {
            let message = e.safe_message().to_string();
            let page = settings_view(
                &data,
                &viewer,
                &me.actor,
                Some((form.email, wanted, message)),
                false,
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}
