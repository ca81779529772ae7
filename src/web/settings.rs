//! Settings of the signed-in person: the profile (display name, bio,
//! default visibility, discoverability, locked account), the password,
//! and the sessions and apps that may act for them.
//!
//! - `GET/POST /settings`: the profile, saved with
//!   `service::accounts::update_settings` (the client API's
//!   `update_credentials` rule, which federates an `Update`);
//! - `GET/POST /settings/password`: `service::accounts::change_password`,
//!   which ends every other session;
//! - `GET /settings/sessions`, `POST /settings/sessions/{id}/close`,
//!   `POST /settings/apps/{id}/revoke`.

use super::{
    layout::{render, see_other, sign_in_first, Layout, WebError},
    register::sentence,
    session::{CsrfOnly, Form, SignedIn, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::post::Visibility,
    error::{Error, ErrorKind},
    service::{self, relations::ProfileEdit},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(profile_page))
        .route("/settings", web::post().to(save_profile))
        .route("/settings/password", web::get().to(password_page))
        .route("/settings/password", web::post().to(change_password))
        .route("/settings/sessions", web::get().to(sessions_page))
        .route(
            "/settings/sessions/{id}/close",
            web::post().to(close_session),
        )
        .route("/settings/apps/{id}/revoke", web::post().to(revoke_app));
}

/// A choice of default visibility in the select.
pub struct VisibilityChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn visibility_label(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "Public: everyone, everywhere",
        Visibility::Unlisted => "Unlisted: anyone with the link, kept off public timelines",
        Visibility::Followers => "Followers only",
        Visibility::Local => "This instance only: never leaves your organisation",
        Visibility::LocalUnlisted => "This instance only, kept off public timelines",
        Visibility::Direct => "Mentioned people only",
    }
}

fn choices(current: &str) -> Vec<VisibilityChoice> {
    service::accounts::default_visibility_choices()
        .into_iter()
        .map(|v| VisibilityChoice {
            value: v.as_str(),
            label: visibility_label(v),
            selected: v.as_str() == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "settings.html", config = "src/web/askama.toml")]
struct ProfileSettingsPage {
    layout: Layout,
    tab: &'static str,
    display_name: String,
    note: String,
    visibilities: Vec<VisibilityChoice>,
    discoverable: bool,
    locked: bool,
    saved: bool,
    error: Option<String>,
    max_display_name: usize,
    max_note: usize,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /settings`
pub async fn profile_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/settings");
    };
    let layout = Layout::new(&data, &viewer, "Settings")
        .await?
        .nav("settings");
    let page = ProfileSettingsPage {
        layout,
        tab: "profile",
        display_name: me.actor.display_name.clone().unwrap_or_default(),
        note: me.actor.summary_source.clone().unwrap_or_default(),
        visibilities: choices(&me.user.default_visibility),
        discoverable: me.actor.discoverable,
        locked: me.actor.manually_approves_followers,
        saved: query.saved.is_some(),
        error: None,
        max_display_name: service::relations::MAX_DISPLAY_NAME,
        max_note: service::relations::MAX_NOTE,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    default_visibility: String,
    discoverable: Option<String>,
    locked: Option<String>,
}

/// `POST /settings`
pub async fn save_profile(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<ProfileForm>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let edit = ProfileEdit {
        display_name: Some(form.display_name.clone()),
        note: Some(form.note.clone()),
        locked: Some(form.locked.is_some()),
        discoverable: Some(form.discoverable.is_some()),
        ..ProfileEdit::default()
    };
    let saved = match Visibility::parse(&form.default_visibility) {
        Some(visibility) => {
            service::accounts::update_settings(&data, &me.actor, edit, visibility).await
        }
        None => Err(Error::unprocessable(
            "Choose who sees your new narrations by default.",
        )),
    };
    match saved {
        Ok(_) => see_other("/settings?saved=1"),
        Err(e) if e.kind == ErrorKind::Unprocessable => {
            let layout = Layout::new(&data, &viewer, "Settings")
                .await?
                .nav("settings");
            let page = ProfileSettingsPage {
                layout,
                tab: "profile",
                visibilities: choices(&form.default_visibility),
                display_name: form.display_name,
                note: form.note,
                discoverable: form.discoverable.is_some(),
                locked: form.locked.is_some(),
                saved: false,
                error: Some(e.safe_message().to_string()),
                max_display_name: service::relations::MAX_DISPLAY_NAME,
                max_note: service::relations::MAX_NOTE,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "settings_password.html", config = "src/web/askama.toml")]
struct PasswordPage {
    layout: Layout,
    tab: &'static str,
    changed: bool,
    error: Option<String>,
    min_len: usize,
}

/// `GET /settings/password`
pub async fn password_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/settings/password");
    }
    let layout = Layout::new(&data, &viewer, "Password")
        .await?
        .nav("settings");
    let page = PasswordPage {
        layout,
        tab: "password",
        changed: query.saved.is_some(),
        error: None,
        min_len: service::accounts::MIN_PASSWORD_LEN,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /settings/password`: on success every other session ends.
pub async fn change_password(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let me: &SignedIn = viewer.require()?;
    let result = if form.new != form.confirm {
        Err(Error::unprocessable(
            "The two new passwords differ: type the same one twice.",
        ))
    } else {
        service::accounts::change_password(
            &data.db,
            &me.actor,
            &form.current,
            &form.new,
            Some(&me.session.id),
        )
        .await
    };
    match result {
        Ok(()) => see_other("/settings/password?saved=1"),
        Err(e) if matches!(e.kind, ErrorKind::Unprocessable | ErrorKind::Unauthorized) => {
            let layout = Layout::new(&data, &viewer, "Password")
                .await?
                .nav("settings");
            let page = PasswordPage {
                layout,
                tab: "password",
                changed: false,
                error: Some(sentence(e.safe_message())),
                min_len: service::accounts::MIN_PASSWORD_LEN,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// A session in the list.
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub last_used: String,
    pub last_used_iso: String,
    pub started: String,
    pub current: bool,
}

/// An authorised app in the list.
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: String,
    pub since: String,
}

fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A short description of a browser from its user agent.
fn device(agent: &str) -> String {
    let agent = agent.trim();
    if agent.is_empty() {
        return "Unknown browser".into();
    }
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        _ => agent.chars().take(60).collect(),
    }
}

#[derive(Template)]
#[template(path = "settings_sessions.html", config = "src/web/askama.toml")]
struct SessionsPage {
    layout: Layout,
    tab: &'static str,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
}

/// `GET /settings/sessions`: where the person is signed in, and which apps
/// may act for them.
pub async fn sessions_page(data: Data<Context>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/settings/sessions");
    };
    let sessions = service::sessions::list(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == me.session.id,
            device: device(&s.user_agent),
            ip: s.ip,
            last_used: when(s.last_seen_at),
            last_used_iso: s.last_seen_at.and_utc().to_rfc3339(),
            started: when(s.created_at),
            id: s.id,
        })
        .collect();
    let apps = service::oauth::authorised_apps(&data.db, &me.actor)
        .await?
        .into_iter()
        .filter_map(|a| {
            Some(AppRow {
                id: a.app_id?,
                name: a.name,
                website: a.website,
                scopes: a.scopes.join(" "),
                since: when(a.since),
            })
        })
        .collect();
    let layout = Layout::new(&data, &viewer, "Sessions and apps")
        .await?
        .nav("settings");
    let page = SessionsPage {
        layout,
        tab: "sessions",
        sessions,
        apps,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// `POST /settings/sessions/{id}/close`: signs that browser out.
pub async fn close_session(
    data: Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    service::sessions::close(&data.db, &me.actor, &id).await?;
    if *id == me.session.id {
        return see_other("/login");
    }
    see_other("/settings/sessions")
}

/// `POST /settings/apps/{id}/revoke`: the app's tokens stop working.
pub async fn revoke_app(
    data: Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    service::oauth::revoke_app(&data.db, &me.actor, &id).await?;
    see_other("/settings/sessions#apps")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_briefly() {
        assert_eq!(
            device("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
            "Firefox on Linux"
        );
        assert_eq!(device(""), "Unknown browser");
        assert_eq!(device("curl/8.0"), "curl/8.0");
    }
}
