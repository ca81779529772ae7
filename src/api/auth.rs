//! Bearer-token authentication and per-endpoint scopes.
//!
//! Handlers take [`Auth`] (a token is required) or [`MaybeAuth`] (public
//! endpoints that show more to a signed-in user), then call
//! [`Auth::user`] / [`Auth::app`] with the scope the endpoint needs, which
//! answers as Mastodon does: 401 for a missing, unknown or revoked token,
//! 403 for a missing scope, 422 when an app-only token calls a user
//! endpoint.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, oauth::OauthToken},
    error::{Error, ErrorKind},
    service::oauth::{self, Scopes, TokenProblem},
};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use std::{future::Future, pin::Pin};

/// A request's valid token.
#[derive(Debug, Clone)]
pub struct Auth {
    pub token: OauthToken,
    pub actor: Option<Actor>,
    scopes: Scopes,
}

/// A token if the request carries one (it must then be valid).
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Auth>);

pub const INVALID_TOKEN: &str = "The access token is invalid";
pub const OUTSIDE_SCOPES: &str = "This action is outside the authorized scopes";

fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, value) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn authenticate(req: HttpRequest) -> Result<Option<Auth>, Error> {
    let Some(value) = bearer(&req) else {
        return Ok(None);
    };
    let data = Data::<Context>::extract(&req)
        .await
        .map_err(|_| Error::internal(anyhow::anyhow!("no federation data on request")))?;
    authenticate_token(&data, &value).await.map(Some)
}

/// Checks a token however it came (the streaming API also takes it from
/// `Sec-WebSocket-Protocol` or `access_token`), with the same answers.
pub async fn authenticate_token(data: &Context, value: &str) -> Result<Auth, Error> {
    match oauth::authenticate(&data.db, value).await? {
        Ok((token, actor)) => {
            let scopes = Scopes::parse(&token.scopes)?;
            Ok(Auth {
                token,
                actor,
                scopes,
            })
        }
        Err(TokenProblem::Revoked) => Err(Error::new(
            ErrorKind::Unauthorized,
            "The access token was revoked",
        )),
        Err(TokenProblem::Unknown) => Err(Error::new(ErrorKind::Unauthorized, INVALID_TOKEN)),
    }
}

impl FromRequest for MaybeAuth {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(MaybeAuth) })
    }
}

impl FromRequest for Auth {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req)
                .await?
                .ok_or_else(|| Error::new(ErrorKind::Unauthorized, INVALID_TOKEN))
        })
    }
}

impl Auth {
    /// Checks `scope`, for endpoints an app token may call too.
    pub fn app(&self, scope: &str) -> Result<&Auth, Error> {
        if !self.scopes.allows(scope) {
            return Err(Error::new(ErrorKind::Forbidden, OUTSIDE_SCOPES));
        }
        Ok(self)
    }

    /// The signed-in account, if the token has `scope` and a user.
    pub fn user(&self, scope: &str) -> Result<&Actor, Error> {
        self.app(scope)?;
        self.actor.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Unprocessable,
                "This method requires an authenticated user",
            )
        })
    }

    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }
}

impl MaybeAuth {
    /// The viewer for a public endpoint: a token without `scope` or
    /// without a user reads as anonymous, as in Mastodon.
    pub fn viewer(&self, scope: &str) -> Option<&Actor> {
        self.0
            .as_ref()
            .filter(|a| a.scopes.allows(scope))
            .and_then(|a| a.actor.as_ref())
    }
}
