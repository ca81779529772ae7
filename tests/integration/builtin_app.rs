//! Tokens made for scripts (`outloud admin create-token`) have an
//! application, as Mastodon clients expect of every token
//! (`GET /api/v1/apps/verify_credentials`), and no OAuth flow can act as
//! that built-in application.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    schema::assert_valid,
};
use diesel::connection::SimpleConnection;
use outloud::{
    config::Backend,
    db::{new_id, now, oauth::OauthToken},
    service::oauth::{hash_secret, ADMIN_APP_ID},
};

both_backends!(
    script_tokens_have_an_application,
    app_less_tokens_join_the_builtin_app,
);

async fn script_tokens_have_an_application(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    // Exactly the token `outloud admin create-token` makes.
    let api = Api::for_user(&alpha, "alice", "read").await;
    let app = api.get("/api/v1/apps/verify_credentials").await.expect(200);
    assert_valid("Application", &app);
    assert_eq!(app["name"], "outloud admin");
    assert_eq!(app["id"], ADMIN_APP_ID);
    assert_eq!(app["redirect_uris"], serde_json::json!([]));
    // The token still works everywhere else.
    let me = api.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_eq!(me["username"], "alice");

    // Nobody gets a token as the built-in application: it has no secret.
    let anonymous = Api::anonymous(&alpha);
    for secret in ["", "x", &hash_secret("")] {
        anonymous
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "outloud-admin"),
                    ("client_secret", secret),
                ],
            )
            .await
            .expect(401);
    }
}

/// A token made before the built-in application existed had none; the
/// migration gives it that application. (Its statements are run again
/// here: they are idempotent.)
async fn app_less_tokens_join_the_builtin_app(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let secret = "an old script token";
    let old = OauthToken {
        id: new_id(),
        token_hash: hash_secret(secret),
        refresh_hash: None,
        app_id: None,
        actor_id: Some(alice.id.clone()),
        scopes: "read".into(),
        created_at: now(),
        revoked_at: None,
        code_hash: None,
    };
    let up = match backend {
        Backend::Sqlite => {
            include_str!("../../migrations/sqlite/2026-12-02-000030_builtin_admin_app/up.sql")
        }
        Backend::Postgres => {
            include_str!("../../migrations/postgres/2026-12-02-000030_builtin_admin_app/up.sql")
        }
    };
    let api = Api::with_token(&alpha, secret);
    alpha
        .context
        .db
        .run(move |conn| Ok(OauthToken::insert(conn, &old)?))
        .await
        .unwrap();
    alpha
        .context
        .db
        .run(move |conn| Ok(conn.batch_execute(up)?))
        .await
        .unwrap();
    let app = api.get("/api/v1/apps/verify_credentials").await.expect(200);
    assert_valid("Application", &app);
    assert_eq!(app["name"], "outloud admin");
}
