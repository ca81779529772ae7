//! The web app: server-rendered pages for people with a browser
//! (docs/web.md). It mirrors `api/`: one file per page group, each handler
//! a few lines that read the request, call one `service/` function (the
//! same ones the client API and the inbox call, so a page shows exactly
//! what an app would) and render an askama template from
//! `web/templates/`. Templates share one layout (`base.html`) and a few
//! partials: the narration card, the actor card, form fields, the pager.
//!
//! - `layout`: the shared page data, security headers, the error page;
//! - `session`: the session cookie, the viewer, CSRF-checked forms,
//!   sign-in and sign-out;
//! - `cards`: the view models of the partials;
//! - `pages`: the start page;
//! - `timelines`: home; `compose`: the composer; `narrations`: permalinks
//!   with their thread, card actions, editing;
//! - `search`, `tags`, `notifications`: finding people, communities,
//!   narrations and hashtags, and what happened to you; `feeds`: Atom.
//! - `profiles`: people's profiles and following;
//! - `communities`: community pages, moderation, the directories;
//! - `interaction`: following and answering across servers.
//! - `media_proxy`: remote attachments, avatars and headers served from here.

pub mod admin;
pub mod cards;
pub mod communities;
pub mod community_stats;
pub mod compose;
pub mod digests;
pub mod embed;
pub mod experts;
pub mod feeds;
pub mod interaction;
pub mod kinds;
pub mod layout;
pub mod live;
pub mod media_files;
pub mod media_proxy;
pub mod moving;
pub mod multipart;
pub mod narrations;
pub mod notifications;
pub mod oidc;
pub mod pages;
pub mod partners;
pub mod portability;
pub mod profiles;
pub mod questions;
pub mod register;
pub mod search;
pub mod session;
pub mod settings;
pub mod tags;
pub mod timelines;

use actix_web::{http::header, web, HttpResponse};

pub use layout::{render, see_other, sign_in_first, Layout, WebError};
pub use session::{Form, Viewer};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Feeds first: `/@{name}` and `/c/{name}` would match `/@alice.atom`.
    // Then the page groups whose POST routes under `/@{name}/…` must be
    // matched before the narration permalink `/@{name}/{id}`.
    cfg.configure(questions::configure)
        .configure(feeds::configure)
        .configure(digests::configure)
        .configure(profiles::configure)
        .configure(communities::configure)
        .configure(community_stats::configure)
        .configure(interaction::configure)
        .route("/", web::get().to(pages::start))
        .route("/login", web::get().to(session::login_page))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
        .configure(oidc::configure)
        .route("/static/{file}", web::get().to(asset))
        .configure(media_files::configure)
        // Browsers ask for it where a page names no icon (feeds, images).
        .route(
            "/favicon.ico",
            web::get().to(|| asset(web::Path::from("icon.svg".to_string()))),
        )
        .configure(compose::configure)
        .configure(embed::configure)
        .configure(narrations::configure)
        .configure(notifications::configure)
        .configure(search::configure)
        .configure(tags::configure)
        .configure(experts::configure)
        .configure(timelines::configure)
        .configure(partners::configure)
        .configure(settings::configure)
        .configure(portability::configure)
        .configure(moving::configure)
        .configure(register::configure)
        .configure(admin::configure)
        .configure(live::configure)
        .configure(media_proxy::configure);
}

/// The stylesheet, the script and the icon, built into the binary: one
/// file each, no CDN, nothing fetched from elsewhere.
async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, kind): (&'static str, &str) = match file.as_str() {
        "outloud.css" => (
            include_str!("static/outloud.css"),
            "text/css; charset=utf-8",
        ),
        "outloud.js" => (
            include_str!("static/outloud.js"),
            "text/javascript; charset=utf-8",
        ),
        "icon.svg" => (include_str!("static/icon.svg"), "image/svg+xml"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

#[cfg(test)]
mod tests {
    /// The stylesheet's custom properties of one palette (the first
    /// `:root` block is the light one, the one inside the dark media
    /// query the dark one).
    fn palette(css: &str, dark: bool) -> std::collections::HashMap<String, String> {
        let block = if dark {
            let at = css.find("prefers-color-scheme: dark").unwrap_or(0);
            &css[at..]
        } else {
            css
        };
        let start = block.find(":root {").map(|i| i + 7).unwrap_or(0);
        let end = block[start..]
            .find('}')
            .map(|i| start + i)
            .unwrap_or(block.len());
        block[start..end]
            .split(';')
            .filter_map(|decl| decl.trim().split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// WCAG 2.2 AA: every text colour on every background it is used on,
    /// in both palettes, at least 4.5:1.
    #[test]
    fn text_colours_contrast_at_least_4_5_to_1() {
        let css = include_str!("static/outloud.css");
        for dark in [false, true] {
            let p = palette(css, dark);
            let pairs = [
                ("--text", "--bg"),
                ("--text", "--surface"),
                ("--text", "--accent-soft"),
                ("--muted", "--bg"),
                ("--muted", "--surface"),
                ("--muted", "--accent-soft"),
                ("--accent", "--bg"),
                ("--accent", "--surface"),
                ("--danger", "--surface"),
                ("--danger", "--bg"),
                ("--ok", "--surface"),
                ("--accent-text", "--accent"),
            ];
            for (fg, bg) in pairs {
                let ratio = contrast(&p[fg], &p[bg]);
                assert!(ratio >= 4.5, "{fg} on {bg} (dark: {dark}): {ratio:.2}:1");
            }
        }
    }
}
