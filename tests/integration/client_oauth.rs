//! OAuth 2 as Mastodon apps use it: app registration, the authorization
//! page, the code, password, client-credentials and refresh grants,
//! revocation, scopes, and the errors of each.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    schema::assert_valid,
};
use outloud::config::Backend;
use serde_json::{json, Value};

const REDIRECT: &str = "https://app.example/callback";

/// Hidden and text inputs of the authorization form, as a browser sends them.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for input in html.split("<input").skip(1) {
        let tag = &input[..input.find('>').unwrap()];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                rest[..rest.find('"').unwrap()]
                    .replace("&#x2f;", "/")
                    .replace("&amp;", "&")
            })
        };
        if let Some(name) = attr("name") {
            fields.push((name, attr("value").unwrap_or_default()));
        }
    }
    fields
}

async fn register(api: &Api, redirect: &str, scopes: &str) -> Value {
    let app = api
        .post_form(
            "/api/v1/apps",
            &[
                ("client_name", "Test app"),
                ("redirect_uris", redirect),
                ("scopes", scopes),
                ("website", "https://app.example"),
            ],
        )
        .await
        .ok();
    assert_valid("CredentialApplication", &app);
    app
}

/// Logs in on the authorization page; the answer to the form's POST.
async fn submit_login(instance: &TestInstance, query: &str, password: &str) -> reqwest::Response {
    let page = instance.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/oauth/authorize\">"),
        "{html}"
    );
    let mut fields = form_fields(&html);
    for (name, value) in fields.iter_mut() {
        match name.as_str() {
            "username" => *value = "alice".into(),
            "password" => *value = password.into(),
            _ => {}
        }
    }
    fields.push(("decision".into(), "approve".into()));
    instance
        .client
        .post(instance.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

async fn authorization_code_flow(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let anon = Api::anonymous(&alpha);
    let app = register(&anon, REDIRECT, "read write follow").await;
    let client_id = app["client_id"].as_str().unwrap();
    let client_secret = app["client_secret"].as_str().unwrap();
    let verifier = "a-long-enough-pkce-verifier-0123456789-abcdefghijklmnop";
    let challenge = outloud::service::oauth::pkce_challenge(verifier);
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read+write&state=xyz&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(REDIRECT)
    );

    // A wrong password shows the form again with 401.
    let refused = submit_login(&alpha, &query, "wrong password").await;
    assert_eq!(refused.status(), 401);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password"));

    let approved = submit_login(&alpha, &query, "password for tests").await;
    assert_eq!(approved.status(), 302);
    let location = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");
    let code = params["code"].clone();

    // A wrong PKCE verifier spends the code.
    let token_form = |code: &str, verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("client_id", client_id.to_string()),
            ("client_secret", client_secret.to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code", code.to_string()),
            ("code_verifier", verifier.to_string()),
        ]
    };
    let post_token = |form: Vec<(&'static str, String)>| post_token(&alpha, form);
    let (status, body) = post_token(token_form(&code, verifier)).await;
    assert_eq!(status, 200, "{body}");
    assert_valid("Token", &body);
    assert_eq!(body["scope"], "read write");
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    // (A code works once: `reused_code_revokes_its_tokens`.)

    let api = Api::with_token(&alpha, &access);
    let me = api.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_valid("CredentialAccount", &me);
    assert_eq!(me["username"], "alice");
    let app_seen = api.get("/api/v1/apps/verify_credentials").await.ok();
    assert_valid("Application", &app_seen);
    assert_eq!(app_seen["name"], "Test app");

    // Refreshing revokes the old pair.
    let (status, body) = post_token(vec![
        ("grant_type", "refresh_token".to_string()),
        ("client_id", client_id.to_string()),
        ("client_secret", client_secret.to_string()),
        ("refresh_token", refresh.clone()),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let renewed = Api::with_token(&alpha, body["access_token"].as_str().unwrap());
    renewed
        .get("/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let revoked = api
        .get("/api/v1/accounts/verify_credentials")
        .await
        .expect(401);
    assert_eq!(revoked["error"], "The access token was revoked");

    // Revocation by the client.
    let r = alpha
        .client
        .post(alpha.url("/oauth/revoke"))
        .form(&[
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("token", renewed.token.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    renewed
        .get("/api/v1/accounts/verify_credentials")
        .await
        .expect(401);
}

/// A code exchanged twice is refused, and every token issued from it —
/// the first exchange's and the one refreshed from it — is revoked
/// (RFC 6749 §4.1.2): whoever replays a stolen code gets nothing, and the
/// thief who exchanged it first loses access too.
async fn reused_code_revokes_its_tokens(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let app = register(&Api::anonymous(&alpha), REDIRECT, "read").await;
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read",
        urlencode(REDIRECT)
    );
    let approved = submit_login(&alpha, &query, "password for tests").await;
    assert_eq!(approved.status(), 302);
    let location = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token = |pairs: Vec<(&'static str, String)>| post_token(&alpha, pairs);
    let exchange = || {
        token(
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("redirect_uri", REDIRECT),
                ("code", &code),
            ]
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
        )
    };
    let (status, first) = exchange().await;
    assert_eq!(status, 200, "{first}");
    let (status, refreshed) = token(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", client_id.into()),
        ("client_secret", secret.into()),
        (
            "refresh_token",
            first["refresh_token"].as_str().unwrap().into(),
        ),
    ])
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let renewed = Api::with_token(&alpha, refreshed["access_token"].as_str().unwrap());
    renewed
        .get("/api/v1/accounts/verify_credentials")
        .await
        .ok();

    let (status, again) = exchange().await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"], "invalid_grant");
    let revoked = renewed
        .get("/api/v1/accounts/verify_credentials")
        .await
        .expect(401);
    assert_eq!(revoked["error"], "The access token was revoked");
    // A third try changes nothing and still gets nothing.
    let (status, _) = exchange().await;
    assert_eq!(status, 400);
}

/// POSTs a form to `/oauth/token`; the status and the JSON answer.
async fn post_token(instance: &TestInstance, form: Vec<(&'static str, String)>) -> (u16, Value) {
    let r = instance
        .client
        .post(instance.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json::<Value>().await.unwrap())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn other_grants_and_errors(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let anon = Api::anonymous(&alpha);
    let app = register(&anon, "urn:ietf:wg:oauth:2.0:oob", "read write").await;
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );

    // Out-of-band: the code is shown on the page.
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read",
        urlencode("urn:ietf:wg:oauth:2.0:oob")
    );
    let shown = submit_login(&alpha, &query, "password for tests").await;
    assert_eq!(shown.status(), 200);
    assert!(shown
        .text()
        .await
        .unwrap()
        .contains("id=\"authorization-code\""));

    // Bad authorization requests are refused before any login.
    let bad = alpha
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}",
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(bad.status(), 400);
    // A browser shows the refusal: an HTML page naming the problem.
    assert!(bad.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(bad.text().await.unwrap().contains("redirect_uri"));
    let bad = alpha
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=admin:read",
            urlencode("urn:ietf:wg:oauth:2.0:oob")
        ))
        .await;
    assert_eq!(bad.status(), 400);

    // Password grant (scripts) and client credentials (app-only token).
    let password = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("username", "alice"),
                ("password", "password for tests"),
                ("scope", "read"),
            ],
        )
        .await
        .ok();
    assert_valid("Token", &password);
    // A read-only token may not post.
    let reader = Api::with_token(&alpha, password["access_token"].as_str().unwrap());
    reader.get("/api/v1/timelines/home").await.ok();
    let refused = reader
        .post("/api/v1/statuses", json!({"status": "hello"}))
        .await
        .expect(403);
    assert_eq!(
        refused["error"],
        "This action is outside the authorized scopes"
    );
    let wrong = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("username", "alice"),
                ("password", "nope"),
            ],
        )
        .await
        .expect(400);
    assert_eq!(wrong["error"], "invalid_grant");
    let app_token = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "read"),
            ],
        )
        .await
        .ok();
    let app_only = Api::with_token(&alpha, app_token["access_token"].as_str().unwrap());
    app_only.get("/api/v1/apps/verify_credentials").await.ok();
    let needs_user = app_only
        .get("/api/v1/accounts/verify_credentials")
        .await
        .expect(422);
    assert_eq!(
        needs_user["error"],
        "This method requires an authenticated user"
    );

    // Wrong secret, unknown grant, scope beyond the app's.
    let e = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", "wrong"),
            ],
        )
        .await
        .expect(401);
    assert_eq!(e["error"], "invalid_client");
    let e = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "magic"),
                ("client_id", client_id),
                ("client_secret", secret),
            ],
        )
        .await
        .expect(400);
    assert_eq!(e["error"], "unsupported_grant_type");
    let e = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "follow"),
            ],
        )
        .await
        .expect(400);
    assert_eq!(e["error"], "invalid_scope");

    // App registration errors are 422 with a readable message.
    let e = anon
        .post_form(
            "/api/v1/apps",
            &[("client_name", "x"), ("redirect_uris", "not a uri")],
        )
        .await
        .expect(422);
    assert!(
        e["error"].as_str().unwrap().contains("redirect_uris"),
        "{e}"
    );
    let e = anon
        .post_form(
            "/api/v1/apps",
            &[
                ("client_name", "x"),
                ("redirect_uris", REDIRECT),
                ("scopes", "read bogus"),
            ],
        )
        .await
        .expect(422);
    assert!(e["error"].as_str().unwrap().contains("bogus"), "{e}");

    // No token, a bad token.
    let e = anon
        .get("/api/v1/accounts/verify_credentials")
        .await
        .expect(401);
    assert_eq!(e["error"], "The access token is invalid");
    Api::with_token(&alpha, "nonsense")
        .get("/api/v1/timelines/home")
        .await
        .expect(401);

    // The `profile` scope reads the signed-in account and nothing else.
    let profile = Api::for_user(&alpha, "alice", "profile").await;
    profile
        .get("/api/v1/accounts/verify_credentials")
        .await
        .ok();
    profile.get("/api/v1/timelines/home").await.expect(403);

    // Server metadata (RFC 8414).
    let meta = anon
        .get("/.well-known/oauth-authorization-server")
        .await
        .ok();
    assert!(meta["token_endpoint"]
        .as_str()
        .unwrap()
        .ends_with("/oauth/token"));
    assert!(meta["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("write:statuses")));
}

/// Login attempts are limited per address and per (address, account),
/// with headers that describe the limit that refused. Wrong passwords from
/// one address never lock the account's owner out elsewhere: they only
/// slow its logins down.
async fn login_attempts_are_limited(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let anon = Api::anonymous(&alpha);
    let app = register(&anon, REDIRECT, "read").await;
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap().to_string(),
        app["client_secret"].as_str().unwrap().to_string(),
    );
    let attempt = |api: &Api, password: &'static str| {
        let api = api.clone();
        let (client_id, secret) = (client_id.clone(), secret.clone());
        async move {
            api.post_form(
                "/oauth/token",
                &[
                    ("grant_type", "password"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                    ("username", "alice"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    for _ in 0..10 {
        assert_eq!(attempt(&anon, "wrong").await.status, 400);
    }
    // The guessing address is refused for this account, and the headers
    // say why: the per-(address, account) limit of 10, none left.
    let limited = attempt(&anon, "password for tests").await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.header("x-ratelimit-limit").as_deref(), Some("10"));
    assert_eq!(
        limited.header("x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    let reset = limited.header("x-ratelimit-reset").unwrap();
    let reset = chrono::DateTime::parse_from_rfc3339(&reset).unwrap();
    let left = reset.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::TimeDelta::minutes(10) && left <= chrono::TimeDelta::minutes(15),
        "reset in {left}"
    );
    // The owner, from another address, still gets in.
    let elsewhere = Api::anonymous_from(&alpha, "127.0.0.2".parse().unwrap());
    let owner = attempt(&elsewhere, "password for tests").await;
    assert_eq!(owner.status, 200, "{}", owner.text);
    // Another account from the guessing address is not affected either.
    alpha.create_user("bob").await;
    let bob = anon
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("username", "bob"),
                ("password", "password for tests"),
            ],
        )
        .await;
    assert_eq!(bob.status, 200, "{}", bob.text);
}

both_backends!(
    authorization_code_flow,
    reused_code_revokes_its_tokens,
    other_grants_and_errors,
    login_attempts_are_limited
);
