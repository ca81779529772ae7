//! Web Push subscriptions (Mastodon's `/api/v1/push/subscription`): one
//! per access token, checked before it is stored so that the worker
//! (`crate::push`) only ever meets usable endpoints and keys.
//!
//! Rules: the endpoint is an absolute `https` URL (plain `http` only in
//! dev mode) whose host is not a loopback, private or otherwise internal
//! address outside dev mode (the federation's SSRF rule, `check_fetchable`;
//! names are checked again when the worker connects). `p256dh` decodes
//! (base64url or base64, padded or not) to an uncompressed P-256 point,
//! `auth` to 16 bytes. The policy is one of `all`, `followed`, `follower`,
//! `none`. Unknown alert types are ignored, as Mastodon does.

use crate::{
    context::Context,
    db::{
        self,
        push::{alerts_column, PushSubscription},
    },
    error::{Error, Result},
    push::crypto,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// The notification types a subscription may ask pushes for (Mastodon's).
pub const ALERT_TYPES: [&str; 10] = [
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
];

/// Who may cause a push: anyone, people the subscriber follows, people
/// who follow the subscriber, or no one.
pub const POLICIES: [&str; 4] = ["all", "followed", "follower", "none"];

/// Longest endpoint URL kept (push services' URLs are a few hundred
/// characters).
const MAX_ENDPOINT: usize = 2048;

/// A subscription as `POST` gives it.
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    pub endpoint: Option<String>,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub standard: bool,
    /// The alert types switched on.
    pub alerts: Vec<String>,
    pub policy: Option<String>,
}

/// Checks an endpoint URL (see the module documentation).
pub fn check_endpoint(endpoint: &str, dev_mode: bool) -> Result<url::Url> {
    let invalid = || Error::unprocessable("Validation failed: Endpoint is not a valid https URL");
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Endpoint can't be blank",
        ));
    }
    if endpoint.len() > MAX_ENDPOINT {
        return Err(Error::unprocessable(
            "Validation failed: Endpoint is too long",
        ));
    }
    let url = url::Url::parse(endpoint).map_err(|_| invalid())?;
    match url.scheme() {
        "https" => {}
        "http" if dev_mode => {}
        _ => return Err(invalid()),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    if crate::apub::client::check_fetchable(&url, dev_mode).is_err() {
        return Err(Error::unprocessable(
            "Validation failed: Endpoint is an internal address",
        ));
    }
    Ok(url)
}

/// Checks `p256dh` and `auth`; both as stored (base64url, no padding).
pub fn check_keys(p256dh: &str, auth: &str) -> Result<(String, String)> {
    let public = crypto::decode_base64(p256dh)
        .filter(|raw| crypto::is_p256_point(raw))
        .ok_or_else(|| {
            Error::unprocessable(
                "Validation failed: Keys p256dh is not an uncompressed P-256 public key",
            )
        })?;
    let secret = crypto::decode_base64(auth)
        .filter(|raw| raw.len() == crypto::AUTH_LEN)
        .ok_or_else(|| Error::unprocessable("Validation failed: Keys auth is not 16 bytes"))?;
    Ok((
        URL_SAFE_NO_PAD.encode(public),
        URL_SAFE_NO_PAD.encode(secret),
    ))
}

pub fn check_policy(policy: Option<&str>) -> Result<String> {
    let policy = policy
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("all");
    if POLICIES.contains(&policy) {
        Ok(policy.to_string())
    } else {
        Err(Error::unprocessable(format!(
            "Validation failed: Policy `{policy}` is not one of all, followed, follower, none"
        )))
    }
}

/// The known alert types among `alerts`, in [`ALERT_TYPES`] order.
fn known_alerts(alerts: &[String]) -> Vec<&'static str> {
    ALERT_TYPES
        .into_iter()
        .filter(|t| alerts.iter().any(|a| a == t))
        .collect()
}

/// Stores the subscription of `token_id` (replacing the token's earlier
/// one, as Mastodon does).
pub async fn subscribe(
    ctx: &Context,
    token_id: &str,
    account_id: &str,
    new: NewSubscription,
) -> Result<PushSubscription> {
    let endpoint = check_endpoint(new.endpoint.as_deref().unwrap_or(""), ctx.config.dev_mode())?;
    let (p256dh, auth) = check_keys(
        new.p256dh.as_deref().unwrap_or(""),
        new.auth.as_deref().unwrap_or(""),
    )?;
    let policy = check_policy(new.policy.as_deref())?;
    let now = db::now();
    let row = PushSubscription {
        id: db::new_id(),
        token_id: token_id.to_string(),
        account_id: account_id.to_string(),
        endpoint: endpoint.to_string(),
        p256dh,
        auth,
        standard: new.standard,
        alerts: alerts_column(&known_alerts(&new.alerts)),
        policy,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    ctx.db
        .transaction(move |conn| Ok(PushSubscription::replace(conn, &stored)?))
        .await?;
    Ok(row)
}

fn not_found() -> Error {
    Error::not_found("Record not found")
}

/// The subscription of `token_id`; 404 without one.
pub async fn get(ctx: &Context, token_id: &str) -> Result<PushSubscription> {
    let token_id = token_id.to_string();
    ctx.db
        .run(move |conn| Ok(PushSubscription::of_token(conn, &token_id)?))
        .await?
        .ok_or_else(not_found)
}

/// Changes what a token's subscription pushes: `alerts` (when given)
/// replaces the set, as in Mastodon; `policy` (when given) replaces the
/// policy. 404 without a subscription.
pub async fn update(
    ctx: &Context,
    token_id: &str,
    alerts: Option<Vec<String>>,
    policy: Option<String>,
) -> Result<PushSubscription> {
    let alerts = alerts.map(|a| alerts_column(&known_alerts(&a)));
    let policy = match policy {
        Some(p) => Some(check_policy(Some(&p))?),
        None => None,
    };
    let token = token_id.to_string();
    let changed = ctx
        .db
        .transaction(move |conn| {
            Ok(PushSubscription::update(
                conn,
                &token,
                alerts.as_deref(),
                policy.as_deref(),
            )?)
        })
        .await?;
    if changed == 0 {
        return Err(not_found());
    }
    get(ctx, token_id).await
}

/// Removes a token's subscription, if any (its queued pushes go too).
pub async fn delete(ctx: &Context, token_id: &str) -> Result<()> {
    let token_id = token_id.to_string();
    ctx.db
        .run(move |conn| Ok(PushSubscription::delete_of_token(conn, &token_id)?))
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn kind<T: std::fmt::Debug>(r: Result<T>) -> ErrorKind {
        r.unwrap_err().kind
    }

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://push.example.net/wpush/v2/abc", false).is_ok());
        for bad in [
            "",
            "not a url",
            "/relative/path",
            "ftp://push.example.net/x",
            "http://push.example.net/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://localhost/x",
            "https://app.localhost/x",
        ] {
            assert_eq!(
                kind(check_endpoint(bad, false)),
                ErrorKind::Unprocessable,
                "{bad}"
            );
        }
        // Dev mode: plain http and loopback (tests, local development).
        assert!(check_endpoint("http://127.0.0.1:9999/push", true).is_ok());
        assert_eq!(
            kind(check_endpoint("ftp://127.0.0.1/x", true)),
            ErrorKind::Unprocessable
        );
        let long = format!("https://push.example.net/{}", "a".repeat(MAX_ENDPOINT));
        assert_eq!(kind(check_endpoint(&long, false)), ErrorKind::Unprocessable);
    }

    #[test]
    fn keys() {
        let vapid = crypto::VapidKey::generate().unwrap();
        let public = vapid.public_key();
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let (p, a) = check_keys(&public, &auth).unwrap();
        assert_eq!((p.as_str(), a.as_str()), (public.as_str(), auth.as_str()));
        // Padded standard base64 is accepted and stored normalized.
        let padded = base64::engine::general_purpose::STANDARD.encode(vapid.public_raw());
        assert_eq!(check_keys(&padded, &auth).unwrap().0, public);
        for (p256dh, auth) in [
            ("", auth.as_str()),
            ("!!!", auth.as_str()),
            (&URL_SAFE_NO_PAD.encode([4u8; 65]), auth.as_str()),
            (&URL_SAFE_NO_PAD.encode([1u8; 32]), auth.as_str()),
            (public.as_str(), ""),
            (public.as_str(), &URL_SAFE_NO_PAD.encode([7u8; 15])),
            (public.as_str(), "@@"),
        ] {
            assert_eq!(
                kind(check_keys(p256dh, auth)),
                ErrorKind::Unprocessable,
                "{p256dh} / {auth}"
            );
        }
    }

    #[test]
    fn policies_and_alerts() {
        assert_eq!(check_policy(None).unwrap(), "all");
        assert_eq!(check_policy(Some("")).unwrap(), "all");
        for p in POLICIES {
            assert_eq!(check_policy(Some(p)).unwrap(), p);
        }
        assert_eq!(
            kind(check_policy(Some("friends"))),
            ErrorKind::Unprocessable
        );
        let asked = vec![
            "follow".to_string(),
            "mention".into(),
            "bogus".into(),
            "admin.report".into(),
        ];
        assert_eq!(known_alerts(&asked), ["mention", "follow", "admin.report"]);
        assert_eq!(
            alerts_column(&known_alerts(&asked)),
            ",mention,follow,admin.report,"
        );
    }
}
