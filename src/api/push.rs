//! Web Push subscriptions: `/api/v1/push/subscription` (`POST`, `GET`,
//! `PUT`, `DELETE`), one per access token, scope `push`. Rules are in
//! `service::push`; sending is `crate::push`.

use super::{auth::Auth, params::flexible_bool, params::Form};
use crate::{
    apub::Data,
    context::Context,
    db::push::PushSubscription,
    error::Error,
    service::push::{self, NewSubscription, ALERT_TYPES},
};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Mastodon's WebPushSubscription.
#[derive(Debug, Clone, Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    pub alerts: BTreeMap<&'static str, bool>,
    pub server_key: String,
    pub policy: String,
}

pub fn entity(row: &PushSubscription, server_key: String) -> WebPushSubscription {
    let on = row.alert_types();
    WebPushSubscription {
        id: row.id.clone(),
        endpoint: row.endpoint.clone(),
        standard: row.standard,
        alerts: ALERT_TYPES
            .into_iter()
            .map(|t| (t, on.contains(&t)))
            .collect(),
        server_key,
        policy: row.policy.clone(),
    }
}

/// A boolean given in any of the forms apps send.
#[derive(Deserialize)]
struct Flag(#[serde(deserialize_with = "flexible_bool")] Option<bool>);

#[derive(Deserialize, Default)]
struct KeysParam {
    p256dh: Option<String>,
    auth: Option<String>,
}

#[derive(Deserialize, Default)]
struct SubscriptionParam {
    endpoint: Option<String>,
    #[serde(default)]
    keys: KeysParam,
    #[serde(default)]
    standard: Option<Flag>,
}

#[derive(Deserialize, Default)]
struct DataParam {
    alerts: Option<BTreeMap<String, Flag>>,
    policy: Option<String>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    subscription: SubscriptionParam,
    #[serde(default)]
    data: DataParam,
    /// Mastodon.py sends the policy here rather than as `data[policy]`.
    policy: Option<String>,
}

impl Params {
    fn policy(&mut self) -> Option<String> {
        self.data.policy.take().or(self.policy.take())
    }
}

fn switched_on(alerts: BTreeMap<String, Flag>) -> Vec<String> {
    alerts
        .into_iter()
        .filter(|(_, on)| on.0 == Some(true))
        .map(|(k, _)| k)
        .collect()
}

fn answer(data: &Data<Context>, row: &PushSubscription) -> HttpResponse {
    HttpResponse::Ok().json(entity(row, data.push.vapid.public_key()))
}

/// `POST /api/v1/push/subscription`: subscribes this token, replacing its
/// earlier subscription.
async fn create(
    data: Data<Context>,
    auth: Auth,
    Form(mut p): Form<Params>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("push")?;
    let policy = p.policy();
    let new = NewSubscription {
        endpoint: p.subscription.endpoint,
        p256dh: p.subscription.keys.p256dh,
        auth: p.subscription.keys.auth,
        standard: p.subscription.standard.and_then(|s| s.0).unwrap_or(false),
        alerts: p.data.alerts.map(switched_on).unwrap_or_default(),
        policy,
    };
    let row = push::subscribe(&data, &auth.token.id, &me.id, new).await?;
    Ok(answer(&data, &row))
}

/// `GET /api/v1/push/subscription`
async fn show(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("push")?;
    let row = push::get(&data, &auth.token.id).await?;
    Ok(answer(&data, &row))
}

/// `PUT /api/v1/push/subscription`: `data[alerts]` and `data[policy]`.
async fn update(
    data: Data<Context>,
    auth: Auth,
    Form(mut p): Form<Params>,
) -> Result<HttpResponse, Error> {
    auth.user("push")?;
    let policy = p.policy();
    let row = push::update(
        &data,
        &auth.token.id,
        p.data.alerts.map(switched_on),
        policy,
    )
    .await?;
    Ok(answer(&data, &row))
}

/// `DELETE /api/v1/push/subscription`: `{}`, subscribed or not.
async fn destroy(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("push")?;
    push::delete(&data, &auth.token.id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/push/subscription", web::post().to(create))
        .route("/api/v1/push/subscription", web::get().to(show))
        .route("/api/v1/push/subscription", web::put().to(update))
        .route("/api/v1/push/subscription", web::delete().to(destroy));
}
