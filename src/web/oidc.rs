//! Signing in through the OpenID Connect provider (`[oidc]`):
//! `GET /auth/oidc` sends the browser to the provider, `GET
//! /auth/oidc/callback` brings it back signed in (`service::oidc`). Both
//! doors use it: the sign-in page, and the OAuth authorization page of
//! Mastodon apps, whose `return` is the authorization page itself, so the
//! browser comes back to the consent screen signed in.
//!
//! The `state` is also kept in a cookie of this browser (`outloud_oidc`,
//! `HttpOnly`, `SameSite=Lax` so that it comes along on the provider's
//! top-level redirect back), which the callback must match.

use super::{
    layout::{local_path, render, see_other, Layout, WebError},
    session::{self, Viewer},
};
use crate::{apub::Data, context::Context, error::Error, service};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

const STATE_COOKIE: &str = "outloud_oidc";

/// The longest `return` path kept.
const MAX_RETURN: usize = 4096;

/// `/auth/oidc?return=…`: the href of the provider button for a page that
/// wants to come back to `return_to` (a local path).
pub fn start_href(return_to: &str) -> String {
    let to: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/auth/oidc?return={to}")
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(rename = "return")]
    return_to: Option<String>,
}

/// `GET /auth/oidc`: a new sign-in at the provider. `return` must be a
/// local path; anything else (another site) is ignored for `/home`, so the
/// button cannot be made an open redirect.
#[tracing::instrument(skip_all)]
pub async fn start(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, WebError> {
    // A long path (an app's authorization request) fits; a huge one is
    // not kept in the database.
    let return_to = local_path(query.return_to.as_deref())
        .filter(|to| to.len() <= MAX_RETURN)
        .unwrap_or("/home");
    if viewer.signed_in().is_some() {
        return see_other(return_to);
    }
    let started = service::oidc::start(&data, return_to).await?;
    let mut response = see_other(started.authorize_url.as_str())?;
    let mut cookie = session::cookie(STATE_COOKIE, started.state, !data.config.dev_mode());
    cookie.set_path("/auth/oidc");
    cookie.set_max_age(actix_web::cookie::time::Duration::minutes(
        service::oidc::LOGIN_MINUTES,
    ));
    response
        .add_cookie(&cookie)
        .map_err(|e| WebError(Error::internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc_welcome.html", config = "src/web/askama.toml")]
struct WelcomePage<'a> {
    layout: Layout,
    notice: &'a str,
    return_to: &'a str,
}

/// `GET /auth/oidc/callback`: finishes the sign-in, opens a web session
/// and goes to where the sign-in was started from. Refusals (a wrong or
/// expired `state`, a forged ID token, a person outside the allowed
/// groups, the provider's own `error`) are HTML pages saying what to do.
#[tracing::instrument(skip_all)]
pub async fn callback(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, WebError> {
    let browser_state = req.cookie(STATE_COOKIE);
    let finished = service::oidc::finish(
        &data,
        service::oidc::Callback {
            state: query.state.as_deref(),
            code: query.code.as_deref(),
            browser_state: browser_state.as_ref().map(|c| c.value()),
            error: query.error.as_deref(),
            error_description: query.error_description.as_deref(),
        },
    )
    .await;
    let mut gone = session::cookie(STATE_COOKIE, String::new(), !data.config.dev_mode());
    gone.set_path("/auth/oidc");
    gone.make_removal();
    let mut response = match finished {
        Ok(signed_in) => {
            let return_to = local_path(Some(&signed_in.return_to)).unwrap_or("/home");
            match &signed_in.notice {
                // Told once, on a page of its own, before going on.
                Some(notice) => {
                    let page = WelcomePage {
                        layout: Layout::new(&data, &viewer, "Welcome").await?,
                        notice,
                        return_to,
                    };
                    let response = render(StatusCode::OK, &page)?;
                    session::with_new_session(&req, &data, &signed_in.actor, response).await?
                }
                None => {
                    let response = see_other(return_to)?;
                    session::with_new_session(&req, &data, &signed_in.actor, response).await?
                }
            }
        }
        Err(e) => actix_web::ResponseError::error_response(&WebError(e)),
    };
    if let Err(e) = response.add_cookie(&gone) {
        tracing::warn!(error = %e, "could not clear the OpenID Connect state cookie");
    }
    Ok(response)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/oidc", web::get().to(start))
        .route("/auth/oidc/callback", web::get().to(callback));
}
