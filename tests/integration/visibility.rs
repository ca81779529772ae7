//! The visibility table: every way a post (or its existence) can leave the
//! server, tried by every kind of reader, for every kind of post.
//!
//! Rows are posts by ann@alpha, one of each kind: the five visibilities,
//! Mastodon's `unlisted` + `local_only`, a post in a members-only
//! community (posted the way a Mastodon user does, by mentioning it), a
//! post a moderator removed and one its author deleted. Columns are the
//! readers: anonymous, nia (local, follows nobody), fay (local, follows
//! ann), ada (local, mentioned in the followers-only and direct posts),
//! rex@beta (a remote server's signed fetch for someone who is not
//! addressed), rob@beta (remote follower of ann) and meg@gamma (remote
//! member of the members-only community).
//!
//! What a reader may see is written out once, for the status endpoint and
//! for the object endpoint; every other path — context, timelines, search,
//! counts, notifications, conversations, account statuses, outboxes,
//! collections, web pages, delivery — must show that reader nothing more.
//! The web app's pages and Atom feeds are in it, for visitors and for
//! signed-in people.
//!
//! Streaming is a column too: each local reader (and bea, who blocked ann,
//! and mo, who follows ann but muted her) holds one WebSocket on every
//! stream while the posts are made, and gets exactly what the same token
//! reads through the REST API (see [`streaming_paths`]).

use crate::{
    api_client::Api,
    communities::create_community,
    harness::{both_backends, settle, TestInstance},
    streaming_visibility::{open_streams, streaming_paths, Streams},
    web_narrations::WebClient,
};
use outloud::{
    config::Backend,
    db::community::Posting,
    service::{moderation, posts::NewPost},
};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

/// The rows, by name; each post's text carries `visword` and `#vis_<row>`.
pub(crate) const ROWS: [&str; 9] = [
    "public",
    "unlisted",
    "followers",
    "direct",
    "local",
    "local_unlisted",
    "members",
    "removed",
    "deleted",
];

/// Rows that are replies to ann's public root post.
const REPLIES: [&str; 7] = [
    "public",
    "unlisted",
    "followers",
    "direct",
    "local",
    "local_unlisted",
    "deleted",
];

pub(crate) type Rows = BTreeSet<&'static str>;

pub(crate) fn rows(names: &[&'static str]) -> Rows {
    names.iter().copied().collect()
}

/// The world of the table: three instances, the readers, the posts.
pub(crate) struct World {
    pub alpha: TestInstance,
    beta: TestInstance,
    gamma: TestInstance,
    /// Row name → local post id on alpha.
    ids: HashMap<&'static str, String>,
    root: String,
}

impl World {
    pub(crate) fn id(&self, row: &str) -> &str {
        &self.ids[row]
    }

    /// The row names of the post ids in `list` (others ignored).
    pub(crate) fn rows_in<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Rows {
        let ids: BTreeSet<&str> = ids.into_iter().collect();
        ROWS.iter()
            .copied()
            .filter(|row| ids.contains(self.id(row)))
            .collect()
    }

    fn object_url(&self, row: &str) -> String {
        self.alpha.url(&format!("/objects/{}", self.id(row)))
    }
}

async fn world(backend: Backend) -> (World, Streams) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    let ann = alpha.create_user("ann").await;
    for name in ["fay", "nia", "ada", "bea", "mo", "lea"] {
        alpha.create_user(name).await;
    }
    beta.create_user("rex").await;
    beta.create_user("rob").await;
    gamma.create_user("meg").await;
    create_community(&alpha, "guild", &ann, true, true, Posting::Members).await;
    create_community(&alpha, "open", &ann, false, false, Posting::Anyone).await;
    let guild = alpha.local("guild").await;
    let open = alpha.local("open").await;

    alpha.follow("fay", &alpha.handle_of("ann")).await;
    beta.follow("rob", &alpha.handle_of("ann")).await;
    gamma
        .follow("meg", &format!("guild@{}", alpha.domain))
        .await;
    settle(&[&alpha, &beta, &gamma]).await;
    let meg_at_alpha = alpha.resolve(&gamma.handle_of("meg")).await;
    moderation::decide_join(&alpha.data(), &ann, &guild, &meg_at_alpha, true)
        .await
        .unwrap();
    settle(&[&alpha, &beta, &gamma]).await;
    alpha
        .follow("lea", &format!("guild@{}", alpha.domain))
        .await;
    let lea = alpha.local("lea").await;
    moderation::decide_join(&alpha.data(), &ann, &guild, &lea, true)
        .await
        .unwrap();
    // bea blocks ann; mo follows her but mutes her.
    alpha.follow("mo", &alpha.handle_of("ann")).await;
    let bea = Api::for_user(&alpha, "bea", "read write").await;
    bea.post(&format!("/api/v1/accounts/{}/block", ann.id), json!({}))
        .await
        .ok();
    let mo = Api::for_user(&alpha, "mo", "read write").await;
    mo.post(&format!("/api/v1/accounts/{}/mute", ann.id), json!({}))
        .await
        .ok();
    let streams = open_streams(&alpha).await;

    // Everything a client can post, ann posts through the client API.
    let api = Api::for_user(&alpha, "ann", "read write").await;
    let root = api
        .status(json!({ "status": "The root visword #vis_root" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = HashMap::new();
    let replies = [
        ("public", "public", false, ""),
        ("unlisted", "unlisted", false, ""),
        ("followers", "private", false, "@ada "),
        ("direct", "direct", false, "@ada "),
        ("local", "public", true, ""),
        ("local_unlisted", "unlisted", true, ""),
        ("deleted", "public", false, ""),
    ];
    for (row, visibility, local_only, mention) in replies {
        let status = api
            .status(json!({
                "status": format!("{mention}A {row} reply visword #vis_{row}"),
                "visibility": visibility,
                "local_only": local_only,
                "in_reply_to_id": root,
            }))
            .await;
        ids.insert(row, status["id"].as_str().unwrap().to_string());
    }
    // A Mastodon user posts into a community by mentioning it.
    let members = api
        .status(json!({
            "status": format!("@guild@{} Members only visword #vis_members", alpha.domain),
            "visibility": "public",
        }))
        .await;
    ids.insert("members", members["id"].as_str().unwrap().to_string());
    let removed = alpha
        .publish(
            "ann",
            NewPost {
                community: Some(open.ap_id.0.clone()),
                ..NewPost::note("Soon removed visword #vis_removed")
            },
        )
        .await;
    ids.insert("removed", removed.id.clone());
    settle(&[&alpha, &beta, &gamma]).await;

    let removed = alpha.stored_post(removed.ap_id.as_str()).await.unwrap();
    moderation::remove_post(&alpha.data(), &ann, &open, &removed, None)
        .await
        .unwrap();
    api.delete(&format!("/api/v1/statuses/{}", ids["deleted"]))
        .await
        .ok();
    let members_id = ids["members"].clone();
    let members_post = alpha
        .context
        .db
        .run(move |conn| Ok(outloud::db::post::Post::by_id(conn, &members_id)?))
        .await
        .unwrap()
        .unwrap();
    moderation::pin(&alpha.data(), &ann, &guild, &members_post, true)
        .await
        .unwrap();
    settle(&[&alpha, &beta, &gamma]).await;
    (
        World {
            alpha,
            beta,
            gamma,
            ids,
            root,
        },
        streams,
    )
}

/// What the status endpoint shows each local reader (the ground truth for
/// every client-API path).
pub(crate) fn api_may_see(reader: &str) -> Rows {
    match reader {
        "anonymous" => rows(&["public", "unlisted"]),
        "nia" => rows(&["public", "unlisted", "local", "local_unlisted"]),
        "fay" => rows(&["public", "unlisted", "followers", "local", "local_unlisted"]),
        "ada" => rows(&[
            "public",
            "unlisted",
            "followers",
            "direct",
            "local",
            "local_unlisted",
        ]),
        other => panic!("no column {other}"),
    }
}

/// What public listings (public, local and hashtag timelines) show.
fn listed_for(reader: &str) -> Rows {
    match reader {
        "anonymous" => rows(&["public"]),
        _ => rows(&["public", "local"]),
    }
}

/// What `/objects/{id}` and `/activities/{id}` show a signed (or unsigned)
/// remote fetch.
fn ap_may_see(reader: &str) -> Rows {
    match reader {
        "anonymous" | "rex" => rows(&["public", "unlisted"]),
        "rob" => rows(&["public", "unlisted", "followers"]),
        "meg" => rows(&["public", "unlisted", "members"]),
        other => panic!("no column {other}"),
    }
}

pub(crate) fn ids_of(list: &Value) -> Vec<&str> {
    // A reblog (a boost, or a community's share) shows its post too.
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .flat_map(|s| [s["id"].as_str(), s["reblog"]["id"].as_str()])
        .flatten()
        .collect()
}

/// The ids of the statuses under `field` of each entry of `list`
/// (notifications' `status`, conversations' `last_status`).
pub(crate) fn ids_within<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|entry| entry[field]["id"].as_str())
        .collect()
}

/// `found` shows nothing outside `allowed`.
#[track_caller]
pub(crate) fn within(path: &str, reader: &str, found: &Rows, allowed: &Rows) {
    let leaked: Vec<_> = found.difference(allowed).collect();
    assert!(
        leaked.is_empty(),
        "{path} shows {reader} rows they may not see: {leaked:?} (found {found:?})"
    );
}

async fn client_api_paths(w: &World) {
    let ann = w.alpha.local("ann").await;
    let guild = w.alpha.local("guild").await;
    let open = w.alpha.local("open").await;
    for reader in ["anonymous", "nia", "fay", "ada"] {
        let api = match reader {
            "anonymous" => Api::anonymous(&w.alpha),
            name => Api::for_user(&w.alpha, name, "read").await,
        };
        let allowed = api_may_see(reader);

        // The status itself: exactly the table.
        let mut seen = Rows::new();
        for row in ROWS {
            let answer = api.get(&format!("/api/v1/statuses/{}", w.id(row))).await;
            match answer.status.as_u16() {
                200 => {
                    seen.insert(row);
                }
                404 | 410 => {}
                other => panic!("status of {row} for {reader}: {other} {}", answer.text),
            }
        }
        assert_eq!(seen, allowed, "GET /api/v1/statuses/:id for {reader}");

        // The thread: every visible reply, nothing else.
        let context = api
            .get(&format!("/api/v1/statuses/{}/context", w.root))
            .await
            .ok();
        let found = w.rows_in(ids_of(&context["descendants"]));
        let expected: Rows = allowed
            .iter()
            .copied()
            .filter(|r| REPLIES.contains(r))
            .collect();
        assert_eq!(found, expected, "context descendants for {reader}");

        // Counts never reveal a hidden reply: Mastodon counts public and
        // unlisted ones, for everyone.
        let root = api.get(&format!("/api/v1/statuses/{}", w.root)).await.ok();
        assert_eq!(root["replies_count"], 2, "replies_count for {reader}");

        // The author's statuses.
        let statuses = api
            .get(&format!("/api/v1/accounts/{}/statuses?limit=40", ann.id))
            .await
            .ok();
        let found = w.rows_in(ids_of(&statuses));
        within("account statuses", reader, &found, &allowed);
        assert!(found.contains("public"), "account statuses for {reader}");

        // The communities' statuses: what they shared, as the reader may
        // see it (none of these readers is a member of the guild).
        for community in [&guild, &open] {
            let statuses = api
                .get(&format!("/api/v1/accounts/{}/statuses", community.id))
                .await
                .ok();
            let found = w.rows_in(ids_of(&statuses));
            within("community statuses", reader, &found, &allowed);
        }

        // Public listings.
        for path in [
            "/api/v1/timelines/public?limit=40",
            "/api/v1/timelines/public?local=true&limit=40",
        ] {
            let list = api.get(path).await.ok();
            assert_eq!(
                w.rows_in(ids_of(&list)),
                listed_for(reader),
                "{path} for {reader}"
            );
        }
        let mut tagged = Rows::new();
        for row in ROWS {
            let list = api
                .get(&format!("/api/v1/timelines/tag/vis_{row}"))
                .await
                .ok();
            tagged.extend(w.rows_in(ids_of(&list)));
        }
        assert_eq!(tagged, listed_for(reader), "hashtag timelines for {reader}");

        // Search: statuses the reader may see, hashtags only of public posts.
        let found = api
            .get("/api/v2/search?q=visword&type=statuses&limit=40")
            .await;
        if found.status == 200 {
            let found = w.rows_in(ids_of(&found.json["statuses"]));
            within("status search", reader, &found, &allowed);
        } else {
            assert_eq!(
                reader, "anonymous",
                "status search for {reader}: {}",
                found.text
            );
        }
        let tags = api
            .get("/api/v2/search?q=%23vis_&type=hashtags&limit=40")
            .await
            .ok();
        let names: BTreeSet<&str> = tags["hashtags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(
            names,
            BTreeSet::from(["vis_public", "vis_root", "vis_unlisted"]),
            "hashtag search for {reader}"
        );

        if reader == "anonymous" {
            continue;
        }
        // Home, notifications, conversations: nothing beyond the table.
        let home = api.get("/api/v1/timelines/home?limit=40").await.ok();
        let found = w.rows_in(ids_of(&home));
        within("home", reader, &found, &allowed);
        if reader == "fay" {
            assert!(found.contains("followers"), "fay's home: {found:?}");
        }
        let notifications = api.get("/api/v1/notifications?limit=40").await.ok();
        let found = w.rows_in(ids_within(&notifications, "status"));
        within("notifications", reader, &found, &allowed);
        if reader == "ada" {
            assert!(found.contains("direct"), "ada is notified of the DM");
        }
        let grouped = api.get("/api/v2/notifications?limit=40").await.ok();
        let found = w.rows_in(ids_of(&grouped["statuses"]));
        within("grouped notifications", reader, &found, &allowed);
        let conversations = api.get("/api/v1/conversations").await.ok();
        let found = w.rows_in(ids_within(&conversations, "last_status"));
        within("conversations", reader, &found, &allowed);
    }
}

async fn activitypub_paths(w: &World) {
    let rex = w.beta.local("rex").await;
    let rob = w.beta.local("rob").await;
    let meg = w.gamma.local("meg").await;
    for reader in ["anonymous", "rex", "rob", "meg"] {
        let fetch = |url: String| {
            let (alpha, beta, gamma) = (&w.alpha, &w.beta, &w.gamma);
            let (rex, rob, meg) = (&rex, &rob, &meg);
            async move {
                let response = match reader {
                    "anonymous" => alpha
                        .client
                        .get(&url)
                        .header("Accept", "application/activity+json")
                        .send()
                        .await
                        .unwrap(),
                    "rex" => beta.signed_get(rex, &url).await,
                    "rob" => beta.signed_get(rob, &url).await,
                    _ => gamma.signed_get(meg, &url).await,
                };
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        let allowed = ap_may_see(reader);
        for kind in ["objects", "activities"] {
            let mut seen = Rows::new();
            for row in ROWS {
                let url = w.alpha.url(&format!("/{kind}/{}", w.id(row)));
                match fetch(url).await.0 {
                    200 => {
                        seen.insert(row);
                    }
                    401 | 403 | 404 | 410 => {}
                    other => panic!("/{kind}/ of {row} for {reader}: {other}"),
                }
            }
            assert_eq!(seen, allowed, "/{kind}/:id for {reader}");
        }

        // ann's outbox lists public and unlisted posts only.
        let (status, page) = fetch(w.alpha.url("/users/ann/outbox?page=true")).await;
        assert_eq!(status, 200);
        let objects: Vec<&str> = page["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["object"]["id"].as_str())
            .collect();
        let mut found = Rows::new();
        for row in ROWS {
            if objects.contains(&w.object_url(row).as_str()) {
                found.insert(row);
            }
        }
        assert_eq!(found, rows(&["public", "unlisted"]), "outbox for {reader}");

        // The members-only community's collections: members only.
        for path in ["/communities/guild/outbox", "/communities/guild/featured"] {
            let (status, collection) = fetch(w.alpha.url(path)).await;
            if reader == "meg" {
                assert_eq!(status, 200, "{path} for meg");
                assert!(
                    collection.to_string().contains(&w.object_url("members")),
                    "{path} for meg: {collection}"
                );
            } else {
                assert_eq!(status, 404, "{path} for {reader}");
            }
        }
        // The open community's: the removed post is gone.
        for path in ["/communities/open/outbox", "/communities/open/featured"] {
            let (status, collection) = fetch(w.alpha.url(path)).await;
            assert_eq!(status, 200, "{path} for {reader}");
            assert!(
                !collection.to_string().contains(&w.object_url("removed")),
                "{path} shows the removed post to {reader}"
            );
        }
    }
}

/// The rows whose card is on an HTML page (cards carry `id="n-{post id}"`).
fn cards_on(w: &World, page: &str) -> Rows {
    ROWS.iter()
        .copied()
        .filter(|row| page.contains(&format!("id=\"n-{}\"", w.id(row))))
        .collect()
}

/// The rows whose ActivityPub id is in a feed.
fn entries_in(w: &World, feed: &str) -> Rows {
    ROWS.iter()
        .copied()
        .filter(|row| feed.contains(&format!("<id>{}</id>", w.object_url(row))))
        .collect()
}

async fn web_paths(w: &World) {
    let mut seen = Rows::new();
    for row in ROWS {
        let page = w.alpha.get_html(&format!("/@ann/{}", w.id(row))).await;
        match page.status().as_u16() {
            200 => {
                seen.insert(row);
            }
            404 | 410 => {}
            other => panic!("web page of {row}: {other}"),
        }
    }
    assert_eq!(seen, rows(&["public", "unlisted"]), "post pages, anonymous");
    let profile = w.alpha.get_html("/@ann").await.text().await.unwrap();
    for row in ROWS.iter().filter(|r| !["public", "unlisted"].contains(r)) {
        assert!(
            !profile.contains(&format!("vis_{row}")),
            "the profile page shows {row}"
        );
    }
    let anonymous = api_may_see("anonymous");
    for path in [
        "/@ann".to_string(),
        format!("/@ann/{}", w.root),
        "/search?q=visword".to_string(),
        "/c/guild".to_string(),
        "/c/open".to_string(),
    ] {
        let page = w.alpha.get_html(&path).await.text().await.unwrap();
        within(
            &format!("web {path}"),
            "anonymous",
            &cards_on(w, &page),
            &anonymous,
        );
        if path.starts_with("/@ann/") {
            // Not vacuous: the thread shows what a visitor may see.
            assert_eq!(cards_on(w, &page), anonymous, "the thread, anonymous");
        }
    }
    for row in ROWS {
        let path = format!("/tags/vis_{row}");
        let page = w.alpha.get_html(&path).await.text().await.unwrap();
        within(
            &format!("web {path}"),
            "anonymous",
            &cards_on(w, &page),
            &listed_for("anonymous"),
        );
    }

    // Atom feeds: public narrations only, for anyone.
    let mut feeds = vec![
        "/@ann.atom".to_string(),
        "/c/guild.atom".into(),
        "/c/open.atom".into(),
    ];
    feeds.extend(ROWS.iter().map(|row| format!("/tags/vis_{row}.atom")));
    for path in feeds {
        let feed = w.alpha.get(&path).await.text().await.unwrap();
        within(
            &format!("feed {path}"),
            "anyone",
            &entries_in(w, &feed),
            &rows(&["public"]),
        );
    }
    let ann = w.alpha.get("/@ann.atom").await.text().await.unwrap();
    assert_eq!(entries_in(w, &ann), rows(&["public"]), "ann's feed");

    // Signed-in people on alpha, through the same pages: each narration's
    // page exactly as the status endpoint, and no page shows more.
    for reader in ["nia", "fay", "ada"] {
        let web = WebClient::sign_in(&w.alpha, reader).await;
        let allowed = api_may_see(reader);
        let mut seen = Rows::new();
        for row in ROWS {
            let page = web.get(&format!("/@ann/{}", w.id(row))).await;
            match page.status().as_u16() {
                200 => {
                    seen.insert(row);
                }
                404 | 410 => {}
                other => panic!("web page of {row} for {reader}: {other}"),
            }
        }
        assert_eq!(seen, allowed, "post pages, {reader}");
        for path in [
            "/home".to_string(),
            "/@ann".to_string(),
            format!("/@ann/{}", w.root),
            "/search?q=visword".to_string(),
            "/notifications".to_string(),
            "/c/guild".to_string(),
            "/c/open".to_string(),
        ] {
            let page = web.page(&path).await;
            within(
                &format!("web {path}"),
                reader,
                &cards_on(w, &page),
                &allowed,
            );
            if path.starts_with("/@ann/") {
                // The thread shows each reader every reply they may see.
                let replies: Rows = allowed
                    .iter()
                    .copied()
                    .filter(|r| REPLIES.contains(r))
                    .collect();
                assert_eq!(cards_on(w, &page), replies, "the thread, {reader}");
            }
        }
        for row in ROWS {
            let path = format!("/tags/vis_{row}");
            let page = web.page(&path).await;
            within(
                &format!("web {path}"),
                reader,
                &cards_on(w, &page),
                &listed_for(reader),
            );
        }
    }
}

/// Who was sent what: beta (rob follows ann) gets what ann's followers
/// get; gamma (meg is a member of the guild) gets the guild's post and
/// nothing of ann's own.
async fn delivery(w: &World) {
    let mut at_beta = Rows::new();
    let mut at_gamma = Rows::new();
    for row in ROWS.iter().filter(|r| !["removed", "deleted"].contains(r)) {
        let ap_id = w.object_url(row);
        if w.beta.stored_post(&ap_id).await.is_some() {
            at_beta.insert(*row);
        }
        if w.gamma.stored_post(&ap_id).await.is_some() {
            at_gamma.insert(*row);
        }
    }
    assert_eq!(
        at_beta,
        rows(&["public", "unlisted", "followers"]),
        "delivered to beta"
    );
    assert_eq!(at_gamma, rows(&["members"]), "delivered to gamma");
}

async fn visibility_table(backend: Backend) {
    let (w, streams) = world(backend).await;
    client_api_paths(&w).await;
    activitypub_paths(&w).await;
    web_paths(&w).await;
    delivery(&w).await;
    // Last: its marker post would show in the searches above.
    streaming_paths(&w, streams).await;

    // The members-only post is the members' whatever the client asked.
    let members = Api::for_user(&w.alpha, "ann", "read")
        .await
        .get(&format!("/api/v1/statuses/{}", w.id("members")))
        .await
        .ok();
    assert_eq!(members["visibility"], "direct", "{members}");
    let local_unlisted = Api::for_user(&w.alpha, "ann", "read")
        .await
        .get(&format!("/api/v1/statuses/{}", w.id("local_unlisted")))
        .await
        .ok();
    assert_eq!(local_unlisted["visibility"], "unlisted");
    assert_eq!(local_unlisted["local_only"], true);
}

both_backends!(visibility_table);
