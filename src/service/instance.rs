//! The instance itself: its actor and its public statistics.

use crate::{
    crypto,
    db::{
        actor::{Actor, ActorKind},
        local_user::LocalUser,
        now, Db, DbUrl,
    },
    error::Result,
    urls::Urls,
};

/// Returns the instance actor (FEP-2677), creating it with a fresh key pair
/// on first start. Its `preferredUsername` is the domain, as Mastodon's is,
/// which cannot collide with a local name (those have no dots or colons).
pub async fn ensure_instance_actor(db: &Db, urls: &Urls) -> Result<Actor> {
    if let Some(actor) = db.run(|conn| Ok(Actor::instance_actor(conn)?)).await? {
        return Ok(actor);
    }
    let keys = tokio::task::spawn_blocking(crypto::generate_keypair).await??;
    let actor = Actor {
        id: crate::db::new_id(),
        ap_id: DbUrl(urls.instance_actor()),
        kind: ActorKind::Application.as_str().into(),
        username: urls.domain().to_string(),
        domain: urls.domain().to_string(),
        local: true,
        display_name: None,
        summary: None,
        summary_source: None,
        url: Some(urls.base().to_string()),
        inbox_url: DbUrl(urls.instance_actor_inbox()),
        shared_inbox_url: Some(urls.shared_inbox().into()),
        outbox_url: Some(urls.instance_actor_outbox().into()),
        followers_url: None,
        following_url: None,
        public_key_pem: keys.public_key_pem,
        private_key_pem: Some(keys.private_key_pem),
        // Nobody follows the instance actor; it only signs.
        manually_approves_followers: true,
        discoverable: false,
        published: now(),
        updated: None,
        last_fetched_at: None,
        hide_network: false,
        icon_url: None,
        fields_json: None,
    };
    db.run(move |conn| {
        // Two processes starting at once on one PostgreSQL: the unique name
        // index lets one insert win; the other reads the winner's row.
        match Actor::insert(conn, &actor) {
            Ok(()) => Ok(actor),
            Err(e) => Actor::instance_actor(conn)?.ok_or_else(|| e.into()),
        }
    })
    .await
}

/// Public usage figures (NodeInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub users: i64,
    pub communities: i64,
    pub local_posts: i64,
}

/// Counts local accounts and communities.
pub async fn usage(db: &Db) -> Result<Usage> {
    db.run(|conn| {
        Ok(Usage {
            users: LocalUser::count(conn)?,
            communities: Actor::count_local(conn, ActorKind::Group)?,
            local_posts: crate::db::post::Post::count_local(conn)?,
        })
    })
    .await
}
