//! Reports: filed through the client API, forwarded as `Flag` to the
//! reported account's server, and handled there by its admins and by the
//! moderators of the community concerned (the admin API).

use crate::{
    api_client::Api,
    communities::create_community,
    harness::{both_backends, settle, settled, TestInstance},
    schema::{assert_all_valid, assert_valid},
};
use outloud::{
    config::Backend,
    db::{community::Posting, local_user::Role},
    service::accounts::{self, NewUser},
};
use serde_json::{json, Value};

both_backends!(
    a_forwarded_report_reaches_the_reported_server,
    reports_refuse_bad_input_and_outsiders,
);

/// An admin account on `instance`.
pub async fn create_admin(instance: &TestInstance, name: &str) {
    accounts::create_user(
        &instance.context.db,
        &instance.context.urls,
        NewUser {
            name,
            password: "password for tests",
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
}

/// The `admin.report` notifications of `api`'s user.
async fn report_notifications(api: &Api) -> Vec<Value> {
    let list = api
        .get("/api/v1/notifications?types[]=admin.report")
        .await
        .ok();
    assert_all_valid("Notification", &list);
    list.as_array().unwrap().clone()
}

async fn a_forwarded_report_reaches_the_reported_server(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    create_admin(&alpha, "ana").await;
    beta.create_user("bob").await;
    create_admin(&beta, "bea").await;
    let max = beta.create_user("max").await;
    create_community(&beta, "rust", &max, false, false, Posting::Anyone).await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let ana = Api::for_user(&alpha, "ana", "read admin:read admin:write").await;
    let bob = Api::for_user(&beta, "bob", "read write").await;
    let bea = Api::for_user(&beta, "bea", "read admin:read admin:write").await;
    let max_api = Api::for_user(&beta, "max", "read admin:read admin:write").await;

    // Bob shares a post in beta's community `rust`.
    let shared = bob
        .status(json!({"status": format!("@rust@{} buy my pills", beta.domain)}))
        .await;
    settle(&[&alpha, &beta]).await;

    // Alice finds it from alpha and reports it, forwarding the report.
    let found = alice
        .get(&format!(
            "/api/v2/search?q={}&resolve=true&type=statuses",
            shared["uri"].as_str().unwrap()
        ))
        .await
        .ok();
    let status = &found["statuses"][0];
    let bob_id = status["account"]["id"].as_str().unwrap();
    let report = alice
        .post(
            "/api/v1/reports",
            json!({
                "account_id": bob_id,
                "status_ids": [status["id"]],
                "comment": "Spam in a community",
                "category": "spam",
                "forward": true,
            }),
        )
        .await
        .ok();
    assert_valid("Report", &report);
    assert_eq!(report["category"], "spam");
    assert_eq!(report["forwarded"], true);
    assert_eq!(report["action_taken"], false);
    assert_eq!(report["status_ids"], json!([status["id"]]));
    assert_eq!(report["target_account"]["id"], bob_id);

    // Alpha's admin hears of it; alice does not.
    let on_alpha = report_notifications(&ana).await;
    assert_eq!(on_alpha.len(), 1, "{on_alpha:?}");
    assert_eq!(on_alpha[0]["report"]["id"], report["id"]);
    assert!(report_notifications(&alice).await.is_empty());

    // Beta receives the Flag: its admin sees the report and is notified.
    let listed = settled(&[&alpha, &beta], || async {
        let list = bea.get("/api/v1/admin/reports").await.ok();
        (!list.as_array().unwrap().is_empty()).then_some(list)
    })
    .await;
    assert_all_valid("AdminReport", &listed);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let received = &listed[0];
    assert_eq!(received["target_account"]["username"], "bob");
    assert_eq!(received["comment"], "Spam in a community");
    assert_eq!(received["forwarded"], true);
    // Alpha's instance actor reported it, so the reporter stays anonymous.
    assert_ne!(received["account"]["username"], "alice");
    assert_eq!(received["statuses"][0]["uri"], shared["uri"], "{received}");
    let on_beta = report_notifications(&bea).await;
    assert_eq!(on_beta.len(), 1, "{on_beta:?}");
    assert_eq!(on_beta[0]["report"]["id"], received["id"]);
    // Grouped notifications carry the report too.
    let grouped = bea
        .get("/api/v2/notifications?types[]=admin.report")
        .await
        .ok();
    assert_valid("GroupedNotificationsResults", &grouped);
    assert_eq!(grouped["notification_groups"][0]["type"], "admin.report");
    assert_eq!(
        grouped["notification_groups"][0]["report"]["id"],
        received["id"]
    );

    // The community's moderator is told and sees it, without being admin.
    let on_max = report_notifications(&max_api).await;
    assert_eq!(on_max.len(), 1, "{on_max:?}");
    let by_max = max_api.get("/api/v1/admin/reports").await.ok();
    assert_eq!(Api::ids(&by_max), vec![received["id"].as_str().unwrap()]);

    // The same Flag again stores nothing more.
    let flag_id = received["id"].as_str().unwrap().to_string();
    let instance_actor = alpha.context.instance_actor.as_ref().clone();
    let again = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": alpha.url("/activities/repeated-flag"),
        "type": "Flag",
        "actor": instance_actor.ap_id.to_string(),
        "object": [beta.actor_url("bob"), shared["uri"]],
        "content": "once",
    });
    for _ in 0..2 {
        let answer = alpha
            .signed_post(&instance_actor, &beta.url("/inbox"), &again)
            .await;
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    let all = bea.get("/api/v1/admin/reports").await.ok();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    // A Flag about nothing of beta's is ignored.
    let stray = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": alpha.url("/activities/stray-flag"),
        "type": "Flag",
        "actor": instance_actor.ap_id.to_string(),
        "object": alpha.actor_url("alice"),
    });
    let answer = alpha
        .signed_post(&instance_actor, &beta.url("/inbox"), &stray)
        .await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let all = bea.get("/api/v1/admin/reports").await.ok();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");

    // Beta's admin resolves it, then reopens it.
    let resolved = bea
        .post(
            &format!("/api/v1/admin/reports/{flag_id}/resolve"),
            json!({}),
        )
        .await
        .ok();
    assert_valid("AdminReport", &resolved);
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(resolved["action_taken_by_account"]["username"], "bea");
    let open = bea.get("/api/v1/admin/reports").await.ok();
    assert!(!Api::ids(&open).contains(&flag_id), "{open}");
    let done = bea.get("/api/v1/admin/reports?resolved=true").await.ok();
    assert_eq!(Api::ids(&done), vec![flag_id.clone()]);
    let reopened = bea
        .post(
            &format!("/api/v1/admin/reports/{flag_id}/reopen"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reopened["action_taken"], false);
    let shown = bea
        .get(&format!("/api/v1/admin/reports/{flag_id}"))
        .await
        .ok();
    assert_valid("AdminReport", &shown);
}

async fn reports_refuse_bad_input_and_outsiders(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let bob_row = alpha.create_user("bob").await;
    alpha.create_user("cy").await;
    create_admin(&alpha, "ana").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    let cy = Api::for_user(&alpha, "cy", "read write admin:read admin:write").await;
    let ana = Api::for_user(&alpha, "ana", "read admin:read admin:write").await;
    let ana_plain = Api::for_user(&alpha, "ana", "read write").await;
    let bobs = bob.status(json!({"status": "hello"})).await;
    let alices = alice.status(json!({"status": "mine"})).await;

    let try_report = |body: Value| {
        let alice = alice.clone();
        async move { alice.post("/api/v1/reports", body).await }
    };
    let unknown = try_report(json!({"account_id": "no-such-account"})).await;
    assert_eq!(unknown.status.as_u16(), 422, "{}", unknown.text);
    assert!(unknown.json["error"].is_string());
    let not_his = try_report(json!({"account_id": bob_row.id, "status_ids": [alices["id"]]})).await;
    assert_eq!(not_his.status.as_u16(), 422, "{}", not_his.text);
    let long = try_report(json!({"account_id": bob_row.id, "comment": "x".repeat(1001)})).await;
    assert_eq!(long.status.as_u16(), 422, "{}", long.text);
    let category = try_report(json!({"account_id": bob_row.id, "category": "boring"})).await;
    assert_eq!(category.status.as_u16(), 422, "{}", category.text);
    let read_only = Api::for_user(&alpha, "alice", "read").await;
    read_only
        .post("/api/v1/reports", json!({"account_id": bob_row.id}))
        .await
        .expect(403);

    // A good one, in form encoding as most apps send it.
    let report = alice
        .post_form(
            "/api/v1/reports",
            &[
                ("account_id", bob_row.id.as_str()),
                ("status_ids[]", bobs["id"].as_str().unwrap()),
                ("comment", &"y".repeat(1000)),
            ],
        )
        .await
        .ok();
    assert_valid("Report", &report);
    assert_eq!(report["category"], "other");
    assert_eq!(report["forwarded"], false);
    let id = report["id"].as_str().unwrap();

    // Neither admin nor moderator: 403 everywhere in the admin API.
    cy.get("/api/v1/admin/reports").await.expect(403);
    cy.get(&format!("/api/v1/admin/reports/{id}"))
        .await
        .expect(403);
    cy.post(&format!("/api/v1/admin/reports/{id}/resolve"), json!({}))
        .await
        .expect(403);
    // An admin without the admin scopes: 403 too.
    ana_plain.get("/api/v1/admin/reports").await.expect(403);
    let listed = ana.get("/api/v1/admin/reports").await.ok();
    assert_all_valid("AdminReport", &listed);
    assert_eq!(Api::ids(&listed), vec![id]);
    ana.get("/api/v1/admin/reports/nope").await.expect(404);
    assert_eq!(report_notifications(&ana).await.len(), 1);
}
