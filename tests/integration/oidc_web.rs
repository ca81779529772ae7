//! OpenID Connect sign-in through the web app against panva's
//! `oidc-provider` (see oidc.rs for the provider and the browser): account
//! creation and linking, groups to roles and communities, refusals, the
//! `oidc.only` mode, and a real browser clicking the button.

use crate::{
    communities::create_community,
    harness::{both_backends, TestInstance},
    oidc::{account, instance_and_provider, register_app, Browser},
};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::Follow, local_user::Role},
    service::suspension::{self, Suspender},
};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    sign_in_creates_links_and_maps_groups,
    refusals_are_clear_pages,
    only_mode_refuses_passwords,
    a_real_browser_signs_in_with_the_button,
);

/// Whose live session the browser holds on `instance`, if any.
async fn signed_in_as(instance: &TestInstance, browser: &mut Browser) -> Option<String> {
    let token = browser.cookie(&instance.url("/"), "outloud_session")?;
    outloud::service::sessions::find(&instance.context.db, &token)
        .await
        .unwrap()
        .map(|(_, actor, _)| actor.username)
}

async fn role_of(instance: &TestInstance, name: &str) -> Role {
    let actor = instance.local(name).await;
    outloud::service::accounts::user_of(&instance.context.db, &actor)
        .await
        .unwrap()
        .role()
}

async fn member_of(instance: &TestInstance, person: &str, community: &str) -> bool {
    let (person, group) = (
        instance.local(person).await,
        instance.local(community).await,
    );
    instance
        .context
        .db
        .run(move |conn| Ok(Follow::between(conn, &person.id, &group.id)?))
        .await
        .unwrap()
        .is_some()
}

/// First sign-in creates the account (under `alice2`: `alice` is an
/// unlinked local account, and the page says so), with the moderator role
/// and the community of `rust-guild`; the next sign-in finds the same
/// account, makes it an admin and leaves `rust`; a verified e-mail links
/// an existing account; out of `staff`, the next sign-in is refused and
/// every session of the account ends.
async fn sign_in_creates_links_and_maps_groups(backend: Backend) {
    let accounts = json!({
        "sub-alice": account("Alice", "alice@corp.example", &["staff", "rust-guild", "mods"]),
        "sub-bob": account("bob.builder", "bob@corp.example", &["staff"]),
    });
    let (alpha, mut provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let owner = alpha.create_user("alice").await;
    create_community(&alpha, "rust", &owner, false, false, Posting::Anyone).await;
    let bob = alpha.create_user("bobby").await;
    outloud::service::digests::save_email(&alpha.context.db, &bob.id, "bob@corp.example", false)
        .await
        .unwrap();

    // The sign-in page has the button.
    let mut browser = Browser::default();
    let login = browser.get(&alpha.url("/login")).await;
    assert!(
        login.body.contains("Sign in with Corp ID"),
        "{}",
        login.body
    );
    assert!(login.body.contains("id=\"password\""));

    let back = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc?return=/notifications"), "sub-alice")
        .await;
    assert_eq!(back.status, StatusCode::OK, "{back:?}");
    assert!(
        back.body.contains("so your account is `alice2`"),
        "{}",
        back.body
    );
    assert!(
        back.body.contains("href=\"/notifications\""),
        "{}",
        back.body
    );
    let me = signed_in_as(&alpha, &mut browser).await.expect("signed in");
    assert!(me.contains("alice2"), "{me}");
    assert_eq!(role_of(&alpha, "alice2").await, Role::Moderator);
    assert!(member_of(&alpha, "alice2", "rust").await);
    // A moderator may suspend and reinstate (here the other alice).
    let moderator = alpha.local("alice2").await;
    for on in [true, false] {
        let by = Suspender::Admin(&moderator);
        assert!(suspension::set_suspended(&alpha.data(), by, &owner.id, on)
            .await
            .unwrap());
    }
    // And on the people page, which is all of the administration they see.
    let people = browser.get(&alpha.url("/admin")).await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.body);
    assert!(people.body.contains("Moderator"));
    assert!(!people.body.contains("href=\"/admin/instance\""));
    assert!(!people.body.contains("new-user-heading"));
    let csrf = people.body.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf[..csrf.find('"').unwrap()].to_string();
    for action in ["suspend", "unsuspend"] {
        let url = alpha.url(&format!("/admin/users/{}/{action}", owner.id));
        let done = browser.send(&url, Some(&[("csrf", csrf.as_str())])).await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            done.body
        );
    }
    let instance_page = browser.send(&alpha.url("/admin/instance"), None).await;
    assert_eq!(instance_page.status, StatusCode::FORBIDDEN);
    // No password signs in to an account the provider made.
    let user = outloud::service::accounts::user_of(&alpha.context.db, &alpha.local("alice2").await)
        .await
        .unwrap();
    assert_eq!(
        user.password_hash,
        outloud::service::oidc::provision::NO_PASSWORD
    );

    // Again, in another browser, after the provider moved alice to ops.
    provider.set("accounts.sub-alice.groups", json!(["staff", "ops"]));
    let mut second = Browser::default();
    let back = second
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-alice")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert!(back.location.as_deref().unwrap().ends_with("/home"));
    assert!(signed_in_as(&alpha, &mut second)
        .await
        .unwrap()
        .contains("alice2"));
    assert_eq!(role_of(&alpha, "alice2").await, Role::Admin);
    assert!(!member_of(&alpha, "alice2", "rust").await);
    assert!(alpha
        .context
        .db
        .run(|conn| Ok(outloud::db::actor::Actor::local_by_name(conn, "alice3")?))
        .await
        .unwrap()
        .is_none());

    // bob's verified e-mail is bobby's: linked, not created.
    let mut third = Browser::default();
    let back = third
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-bob")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert!(signed_in_as(&alpha, &mut third)
        .await
        .unwrap()
        .contains("bobby"));
    assert!(alpha
        .context
        .db
        .run(|conn| Ok(outloud::db::actor::Actor::local_by_name(
            conn,
            "bob_builder"
        )?))
        .await
        .unwrap()
        .is_none());

    // A suspended account cannot sign in through the provider either.
    let bobby = alpha.local("bobby").await;
    suspension::set_suspended(&alpha.data(), Suspender::Operator, &bobby.id, true)
        .await
        .unwrap();
    let refused = Browser::default()
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-bob")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(refused.body.contains("suspended"), "{}", refused.body);
    assert!(signed_in_as(&alpha, &mut third).await.is_none());

    // Out of staff: refused, and both of alice's browsers are signed out.
    provider.set("accounts.sub-alice.groups", json!(["ops"]));
    let mut fourth = Browser::default();
    let refused = fourth
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-alice")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(
        refused.body.contains("not in a group allowed"),
        "{}",
        refused.body
    );
    assert!(fourth.cookie(&alpha.url("/"), "outloud_session").is_none());
    assert!(signed_in_as(&alpha, &mut browser).await.is_none());
    assert!(signed_in_as(&alpha, &mut second).await.is_none());
}

/// A wrong, replayed or other browser's `state`, the provider's `error`,
/// an ID token forged, expired, for another client or with another nonce: each a 4xx HTML page saying what
/// happened, and nobody signed in. `return` to another site is ignored.
async fn refusals_are_clear_pages(backend: Backend) {
    let accounts = json!({ "sub-carol": account("carol", "carol@corp.example", &["staff"]) });
    let (alpha, mut provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let mut browser = Browser::default();

    // Without [oidc]: no button, no route.
    let beta = TestInstance::spawn("beta", backend).await;
    let login = browser.get(&beta.url("/login")).await;
    assert!(!login.body.contains("oidc-sign-in"));
    let none = browser.send(&beta.url("/auth/oidc"), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    let bogus = browser
        .send(&alpha.url("/auth/oidc/callback?state=made-up&code=x"), None)
        .await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
    assert!(
        bogus.body.contains("unknown or was already used"),
        "{}",
        bogus.body
    );

    let denied = browser
        .send(
            &alpha.url(
                "/auth/oidc/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E",
            ),
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST);
    assert!(
        denied.body.contains("did not sign you in: &#60;b&#62;no"),
        "{}",
        denied.body
    );

    // Another site as `return`: home instead.
    let back = browser
        .sign_in_at_provider(
            &alpha.url("/auth/oidc?return=https://evil.example/x"),
            "sub-carol",
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert_eq!(back.location.as_deref(), Some(alpha.url("/home").as_str()));
    // The same callback again: the state was used.
    let replay = browser.send(&back.url, None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{replay:?}");

    // A callback pushed into a browser that did not start the sign-in.
    let mut starter = Browser::default();
    let start = starter.send(&alpha.url("/auth/oidc"), None).await;
    let authorize = start.location.unwrap();
    let state = reqwest::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let mut victim = Browser::default();
    let pushed = victim
        .send(
            &alpha.url(&format!("/auth/oidc/callback?state={state}&code=x")),
            None,
        )
        .await;
    assert_eq!(pushed.status, StatusCode::BAD_REQUEST);
    assert!(
        pushed.body.contains("started in another browser"),
        "{}",
        pushed.body
    );

    for mode in ["forged", "expired", "audience", "nonce"] {
        provider.set("tamper", json!(mode));
        let mut browser = Browser::default();
        let refused = browser
            .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-carol")
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{mode}: {refused:?}"
        );
        assert!(
            refused.body.contains("could not be verified"),
            "{}",
            refused.body
        );
        assert!(browser.cookie(&alpha.url("/"), "outloud_session").is_none());
    }
    provider.set("tamper", json!("none"));
    let mut browser = Browser::default();
    let fine = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-carol")
        .await;
    assert_eq!(fine.status, StatusCode::SEE_OTHER, "untampered: {fine:?}");
}

/// `oidc.only`: no password form, and every password door is 403.
async fn only_mode_refuses_passwords(backend: Backend) {
    let accounts = json!({ "sub-dan": account("dan", "dan@corp.example", &["staff"]) });
    let (alpha, _provider) =
        instance_and_provider(backend, accounts, |config| config.oidc.only = true).await;
    alpha.create_user("erin").await;
    let mut browser = Browser::default();
    let login = browser.get(&alpha.url("/login")).await;
    assert!(login.body.contains("Sign in with Corp ID"));
    assert!(!login.body.contains("id=\"password\""), "{}", login.body);
    let csrf = browser.cookie(&alpha.url("/"), "outloud_csrf").unwrap();
    let refused = browser
        .send(
            &alpha.url("/login"),
            Some(&[
                ("csrf", csrf.as_str()),
                ("username", "erin"),
                ("password", "password for tests"),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Password sign-in is off"),
        "{}",
        refused.body
    );

    let app = register_app(&alpha).await;
    let grant = alpha
        .client
        .post(alpha.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("username", "erin"),
            ("password", "password for tests"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::FORBIDDEN);
    let body: Value = grant.json().await.unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("Password sign-in is off"));

    // An app's authorization page: the button only, and a name and
    // password sent anyway are refused.
    let client_id = app["client_id"].as_str().unwrap();
    let authorize = format!(
        "/oauth/authorize?response_type=code&client_id={client_id}\
         &redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&scope=read"
    );
    let page = browser.get(&alpha.url(&authorize)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"oidc-sign-in\""), "{}", page.body);
    assert!(!page.body.contains("id=\"password\""));
    assert!(!page.body.contains("id=\"approve\""));
    let pushed = browser
        .send(
            &alpha.url("/oauth/authorize"),
            Some(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
                ("scope", "read"),
                ("username", "erin"),
                ("password", "password for tests"),
                ("decision", "approve"),
            ]),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::FORBIDDEN);
    assert!(
        pushed.body.contains("Password sign-in is off"),
        "{}",
        pushed.body
    );

    // The provider still signs people in.
    let back = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-dan")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
}

/// Headless Chromium clicks "Sign in with Corp ID" on the sign-in page,
/// signs in at the provider and lands at home, signed in (the sign-in
/// page's screenshot is docs/screenshots/sign-in-oidc.png).
async fn a_real_browser_signs_in_with_the_button(backend: Backend) {
    let accounts = json!({ "sub-hana": account("hana", "hana@corp.example", &["staff"]) });
    let (alpha, _provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let label = format!("oidc-{backend:?}").to_lowercase();
    let Some(b) = crate::browser::Browser::start(&label).await else {
        return;
    };
    b.visit(&alpha.url("/login"), "sign-in").await;
    assert_eq!(b.text("#oidc-sign-in").await, "Sign in with Corp ID");
    b.click("#oidc-sign-in").await;
    // The provider's own page (not Outloud's: no console check).
    b.fill("input[name=login]", "sub-hana").await;
    b.click("form button").await;
    let url = b.current_url().await;
    assert!(url.ends_with("/home"), "landed at {url}");
    assert!(b.source().await.contains("hana"));
    b.assert_console_clean().await;
    b.close().await;
}
