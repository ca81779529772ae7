//! Web Push delivery (RFC 8030): the worker that sends queued pushes to
//! the apps' push services, and the instance's VAPID key.
//!
//! Pushes are queued in `push_deliveries` by `db::notification` in the
//! notification's own transaction, so none is lost to a crash. The worker
//! claims due rows under a lease ([`LEASE`]; rows of a killed process are
//! due again when it runs out), encrypts each for its subscription
//! ([`crypto`]), signs it with VAPID (RFC 8292) and POSTs it with the
//! federation's HTTP client, which outside dev mode refuses private
//! addresses at resolution time; the URL itself is checked with the
//! media proxy's `check_fetchable` first. 2xx removes the row; 404 and
//! 410 remove the subscription (the push service says it is gone);
//! 429, 5xx and network errors back off ([`SCHEDULE_SECONDS`]); other
//! answers are given up.

pub mod crypto;

use crate::{
    context::Context,
    db::{
        self,
        actor::Actor,
        events::StreamEvent,
        post::Post,
        push::{self as rows, ClaimedPush},
        Db, DbConn,
    },
    error::Result,
};
use chrono::TimeDelta;
use diesel::QueryResult;
use std::time::Duration;
use tracing::Instrument;

pub use crypto::VapidKey;

/// The `instance_settings` key of the VAPID private key (PEM).
pub const VAPID_SETTING: &str = "push.vapid_private_key";

/// How long a claimed push is leased to the claiming process: longer
/// than one request may take ([`crate::apub::client::REQUEST_TIMEOUT`]).
pub const LEASE: TimeDelta = TimeDelta::seconds(20);

/// Delays after the n-th failed attempt: pushes matter for minutes, not
/// days, so the schedule is short; after the last the push is dropped.
pub const SCHEDULE_SECONDS: [i64; 7] = [10, 30, 120, 600, 3600, 4 * 3600, 12 * 3600];

/// Attempts in all before a push is given up.
pub const MAX_ATTEMPTS: i64 = SCHEDULE_SECONDS.len() as i64 + 1;

/// How many pushes one claim takes.
const BATCH: i64 = 32;

/// How often the worker looks for due pushes when nothing wakes it (a
/// retry coming due, another process's notification on SQLite).
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// `TTL` of a push: how long the push service keeps it for an offline
/// device (Mastodon's 48 hours).
const TTL_SECONDS: u32 = 48 * 60 * 60;

/// VAPID JWTs are valid this long (RFC 8292 allows at most 24 hours).
const JWT_LIFETIME: TimeDelta = TimeDelta::hours(12);

/// What push delivery needs at hand: the VAPID key, shared by every
/// process on one database.
#[derive(Debug)]
pub struct Push {
    pub vapid: VapidKey,
}

impl Push {
    /// Loads the VAPID key, generating and storing it the first time.
    /// Several processes starting together on one PostgreSQL agree:
    /// each inserts only if absent, then reads back whichever won.
    pub async fn load(db: &Db) -> Result<Push> {
        let generated = VapidKey::generate()?.to_pem()?;
        let pem = db
            .run(move |conn| Ok(rows::vapid_key_pem(conn, VAPID_SETTING, &generated)?))
            .await?;
        Ok(Push {
            vapid: VapidKey::from_pem(&pem)?,
        })
    }
}

/// What became of one push attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// 404 or 410: the subscription was removed.
    Gone,
    /// Tried again later.
    Retry(String),
    /// Dropped: refused for good, or out of attempts.
    Dropped(String),
}

/// Starts the background worker: it sends due pushes, woken by this
/// process's notifications (and, on PostgreSQL, every process's, through
/// the streaming listener) or every [`POLL_INTERVAL`].
pub fn spawn(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tracing::info!("push worker started");
        let mut events = ctx.db.events().subscribe();
        loop {
            if let Err(e) = deliver_due(&ctx).await {
                tracing::error!(error = ?e, "sending pushes failed");
            }
            // Only notifications can queue pushes; other change events
            // (posts, reactions…) are skipped without a query.
            let notified = async {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    match events.recv().await {
                        Ok(StreamEvent::Notified { .. }) | Err(RecvError::Lagged(_)) => return,
                        Ok(_) => continue,
                        Err(RecvError::Closed) => {
                            tokio::time::sleep(POLL_INTERVAL).await;
                            return;
                        }
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = notified => {}
            }
        }
    })
}

/// Claims and sends every due push, batch after batch, until none is due;
/// the outcomes. Tests step the queue with this (their instances run no
/// workers).
pub async fn deliver_due(ctx: &Context) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    loop {
        let token = db::new_id();
        let claim_token = token.clone();
        let claimed = ctx
            .db
            .run(move |conn| {
                let now = db::now();
                rows::claim_due(conn, now, now + LEASE, &claim_token, BATCH)?;
                Ok(rows::claimed(conn, &claim_token)?)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(outcomes);
        }
        let mut tasks = Vec::with_capacity(claimed.len());
        for push in claimed {
            let ctx = ctx.clone();
            let span = tracing::info_span!(
                "push",
                subscription = %push.subscription.id,
                notification = %push.notification.id,
            );
            tasks.push(tokio::spawn(
                async move { send(&ctx, push).await }.instrument(span),
            ));
        }
        for task in tasks {
            match task.await {
                Ok(Ok(outcome)) => outcomes.push(outcome),
                Ok(Err(e)) => tracing::error!(error = ?e, "recording a push failed"),
                Err(e) => tracing::error!(error = ?e, "a push task failed"),
            }
        }
    }
}

/// Sends one claimed push and records what happened.
async fn send(ctx: &Context, push: ClaimedPush) -> Result<Outcome> {
    let sub = push.subscription.clone();
    let (sub_id, notification_id) = (sub.id.clone(), push.notification.id.clone());
    let token_id = sub.token_id.clone();
    let notification = push.notification.clone();
    let base = ctx.urls.base().as_str().trim_end_matches('/').to_string();
    let prepared = ctx
        .db
        .run(move |conn| {
            if !rows::token_live(conn, &token_id)? {
                return Ok(None);
            }
            Ok(Some(payload(conn, &notification, &base)?))
        })
        .await?;
    let outcome = match prepared {
        // The token was revoked since the push was queued.
        None => Outcome::Gone,
        Some(payload) => attempt(ctx, &sub, &payload).await,
    };
    let attempts = push.delivery.attempts + 1;
    let outcome = match outcome {
        Outcome::Retry(error) if attempts >= MAX_ATTEMPTS => {
            Outcome::Dropped(format!("gave up after {attempts} attempts: {error}"))
        }
        other => other,
    };
    let recorded = outcome.clone();
    ctx.db
        .run(move |conn| {
            match &recorded {
                Outcome::Delivered | Outcome::Dropped(_) => {
                    rows::finish(conn, &sub_id, &notification_id)?
                }
                Outcome::Gone => {
                    rows::PushSubscription::delete(conn, &sub_id)?;
                }
                Outcome::Retry(error) => {
                    let index = usize::try_from(attempts - 1).unwrap_or(0);
                    let seconds = SCHEDULE_SECONDS
                        .get(index)
                        .copied()
                        .unwrap_or(SCHEDULE_SECONDS[SCHEDULE_SECONDS.len() - 1]);
                    let factor = 1.0
                        + crate::delivery::backoff::JITTER
                            * crate::delivery::backoff::random_jitter();
                    let delay = TimeDelta::milliseconds((seconds as f64 * 1000.0 * factor) as i64);
                    rows::retry_later(
                        conn,
                        &sub_id,
                        &notification_id,
                        attempts,
                        db::now() + delay,
                        error,
                    )?
                }
            }
            Ok(())
        })
        .await?;
    match &outcome {
        Outcome::Delivered => tracing::debug!("push delivered"),
        Outcome::Gone => tracing::info!("push subscription gone; removed"),
        Outcome::Retry(e) => tracing::info!(error = %e, attempts, "push failed; will retry"),
        Outcome::Dropped(e) => tracing::warn!(error = %e, "push dropped"),
    }
    Ok(outcome)
}

/// One POST to the push service.
async fn attempt(ctx: &Context, sub: &rows::PushSubscription, payload: &[u8]) -> Outcome {
    let dev_mode = ctx.config.dev_mode();
    let Ok(endpoint) = url::Url::parse(&sub.endpoint) else {
        return Outcome::Dropped("the endpoint is not a URL".into());
    };
    if crate::apub::client::check_fetchable(&endpoint, dev_mode).is_err()
        || (!dev_mode && endpoint.scheme() != "https")
    {
        return Outcome::Dropped(format!("refused to contact {endpoint}"));
    }
    let vapid = &ctx.push.vapid;
    let sealed = match crypto::encrypt(&sub.p256dh, &sub.auth, sub.standard, payload, vapid) {
        Ok(sealed) => sealed,
        Err(e) => return Outcome::Dropped(e.to_string()),
    };
    let aud = endpoint.origin().ascii_serialization();
    let exp = (chrono::Utc::now() + JWT_LIFETIME).timestamp();
    let jwt = match vapid.jwt(&aud, exp, &subject(ctx)) {
        Ok(jwt) => jwt,
        Err(e) => return Outcome::Retry(format!("signing: {e}")),
    };
    let mut request = ctx
        .http
        .post(endpoint.clone())
        .header("TTL", TTL_SECONDS.to_string())
        .header("Urgency", "normal")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Encoding", sealed.content_encoding);
    if sub.standard {
        request = request.header(
            "Authorization",
            format!("vapid t={jwt},k={}", vapid.public_key()),
        );
    } else {
        // The draft's form: the key travels in Crypto-Key (p256ecdsa=).
        request = request.header("Authorization", format!("WebPush {jwt}"));
    }
    for (name, value) in &sealed.headers {
        request = request.header(*name, value.as_str());
    }
    match request.body(sealed.body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match status {
                200..=299 => Outcome::Delivered,
                404 | 410 => Outcome::Gone,
                408 | 429 | 500..=599 => {
                    Outcome::Retry(format!("the push service answered {status}"))
                }
                _ => Outcome::Dropped(format!("the push service answered {status}")),
            }
        }
        Err(e) => Outcome::Retry(format!("{e:#}")),
    }
}

/// The VAPID `sub`: the instance's contact address, or its URL.
fn subject(ctx: &Context) -> String {
    let email = ctx.config.instance.contact_email.trim();
    if email.is_empty() {
        ctx.urls.base().as_str().trim_end_matches('/').to_string()
    } else {
        format!("mailto:{email}")
    }
}

/// The JSON Mastodon pushes: `notification_id`, `notification_type`,
/// `title`, `body`, `icon`, `preferred_locale` and `access_token`, which
/// is empty here: tokens are stored only as hashes, so apps find the
/// account from the subscription they made instead.
fn payload(
    conn: &mut DbConn,
    n: &db::notification::Notification,
    base: &str,
) -> QueryResult<Vec<u8>> {
    let actor = Actor::by_id(conn, &n.actor_id)?;
    let name = actor
        .as_ref()
        .map(|a| {
            a.display_name
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| a.username.clone())
        })
        .unwrap_or_default();
    let title = match n.kind.as_str() {
        "mention" => format!("{name} mentioned you"),
        "status" => format!("{name} just posted"),
        "reblog" => format!("{name} boosted your post"),
        "favourite" => format!("{name} favourited your post"),
        "follow" => format!("{name} is now following you"),
        "follow_request" => format!("{name} has requested to follow you"),
        "update" => format!("{name} edited a post"),
        "poll" => "A poll has ended".to_string(),
        "admin.report" => format!("{name} filed a report"),
        "admin.sign_up" => format!("{name} signed up"),
        other => format!("{name}: {other}"),
    };
    let body = match &n.post_id {
        Some(post) => Post::by_id(conn, post)?
            .map(|p| crate::text::strip_html(&p.content))
            .unwrap_or_default(),
        None => String::new(),
    };
    let body: String = if body.chars().count() > 140 {
        body.chars().take(139).chain(['…']).collect()
    } else {
        body
    };
    let icon = actor
        .as_ref()
        .filter(|a| a.local)
        .and_then(|a| a.icon_url.clone())
        .filter(|u| crate::text::is_http_url(u))
        .unwrap_or_else(|| format!("{base}/static/avatar.svg"));
    let json = serde_json::json!({
        "access_token": "",
        "preferred_locale": "en",
        "notification_id": n.id,
        "notification_type": n.kind,
        "icon": icon,
        "title": title,
        "body": body,
    });
    Ok(json.to_string().into_bytes())
}
