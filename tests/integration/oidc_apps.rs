//! The Mastodon-app door of OpenID Connect sign-in: Mastodon.py's
//! `auth_request_url` → Outloud's authorization page → the provider →
//! back at the consent screen → code → token (tests/client/
//! mastodon_py_oidc.py); and deprovisioning at the `refresh_token` grant:
//! once the provider no longer allows a person, refreshing their app's
//! token fails and what they held is revoked.

use crate::{
    harness::{both_backends, TestInstance},
    mastodon_py::{run_client_script, venv_python},
    oidc::{account, instance_and_provider, register_app, Browser},
};
use outloud::config::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    mastodon_py_signs_in_through_the_provider,
    refresh_asks_the_provider
);

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

async fn mastodon_py_signs_in_through_the_provider(backend: Backend) {
    let python = tokio::task::spawn_blocking(venv_python)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let accounts = json!({ "sub-fay": account("Fay", "fay@corp.example", &["staff"]) });
    let (alpha, _provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let base = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", base.as_str()),
        ("OIDC_LOGIN", "sub-fay"),
        ("OIDC_USERNAME", "fay"),
    ];
    run_client_script(python, "mastodon_py_oidc.py", &envs, async || {}).await;
    alpha.local("fay").await;
}

/// An app's tokens of a person signed in through the provider, by the
/// authorization page in `browser`: (access, refresh).
async fn app_tokens(
    alpha: &TestInstance,
    browser: &mut Browser,
    login: &str,
) -> (Value, (String, String)) {
    let app = register_app(alpha).await;
    let client_id = app["client_id"].as_str().unwrap().to_string();
    let authorize = format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=read",
        url::form_urlencoded::byte_serialize(OOB.as_bytes()).collect::<String>()
    );
    let page = browser.get(&alpha.url(&authorize)).await;
    let start = between(&page.body, "id=\"oidc-sign-in\" href=\"", "\"").replace("&#38;", "&");
    let back = browser.sign_in_at_provider(&alpha.url(&start), login).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    let consent = browser.get(back.location.as_deref().unwrap()).await;
    assert!(
        consent.body.contains("id=\"signed-in-as\""),
        "{}",
        consent.body
    );
    let csrf = between(&consent.body, "name=\"csrf\" value=\"", "\"");
    let approved = browser
        .send(
            &alpha.url("/oauth/authorize"),
            Some(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", OOB),
                ("scope", "read"),
                ("csrf", &csrf),
                ("decision", "approve"),
            ]),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{approved:?}");
    let code = between(&approved.body, "id=\"authorization-code\">", "<");
    let token: Value = alpha
        .client
        .post(alpha.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("redirect_uri", OOB),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap().to_string();
    let refresh = token["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    (app, (access, refresh))
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {text}"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    text[from..to].to_string()
}

async fn refresh(alpha: &TestInstance, app: &Value, token: &str) -> reqwest::Response {
    alpha
        .client
        .post(alpha.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("refresh_token", token),
        ])
        .send()
        .await
        .unwrap()
}

async fn verify(alpha: &TestInstance, access: &str) -> StatusCode {
    alpha
        .client
        .get(alpha.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}

/// While the provider allows gus, a refresh works (and asks the provider:
/// the refreshed ID token's groups apply). Once out of `staff`, the next
/// refresh is `invalid_grant`, and the app's tokens and gus's web session
/// are revoked.
async fn refresh_asks_the_provider(backend: Backend) {
    let accounts = json!({ "sub-gus": account("gus", "gus@corp.example", &["staff"]) });
    let (alpha, mut provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let mut browser = Browser::default();
    let (app, (access, refresh_token)) = app_tokens(&alpha, &mut browser, "sub-gus").await;
    assert_eq!(verify(&alpha, &access).await, StatusCode::OK);

    // Still allowed, now a moderator: the refresh re-reads the groups.
    provider.set("accounts.sub-gus.groups", json!(["staff", "mods"]));
    let fresh = refresh(&alpha, &app, &refresh_token).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let fresh: Value = fresh.json().await.unwrap();
    let (access, refresh_token) = (
        fresh["access_token"].as_str().unwrap().to_string(),
        fresh["refresh_token"].as_str().unwrap().to_string(),
    );
    let gus = alpha.local("gus").await;
    let user = outloud::service::accounts::user_of(&alpha.context.db, &gus)
        .await
        .unwrap();
    assert_eq!(user.role(), outloud::db::local_user::Role::Moderator);

    // Out of staff: refused, and everything revoked.
    provider.set("accounts.sub-gus.groups", json!(["mods"]));
    let refused = refresh(&alpha, &app, &refresh_token).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(verify(&alpha, &access).await, StatusCode::UNAUTHORIZED);
    let session = browser.cookie(&alpha.url("/"), "outloud_session").unwrap();
    assert!(
        outloud::service::sessions::find(&alpha.context.db, &session)
            .await
            .unwrap()
            .is_none()
    );
}
