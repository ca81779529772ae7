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
        image_url: None,
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

/// What the instance calls itself: the admin page's values over the
/// configuration file's (`instance.name`, `instance.description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub description: String,
}

/// Longest instance name and description an admin may set.
pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 2000;

/// The instance's name and description, as every page, the client API and
/// NodeInfo show them.
pub async fn identity(db: &Db, config: &crate::config::InstanceConfig) -> Result<Identity> {
    let mut identity = Identity {
        name: config.name.clone(),
        description: config.description.clone(),
    };
    let settings = db
        .run(|conn| Ok(crate::db::instance_setting::InstanceSetting::all(conn)?))
        .await?;
    for setting in settings {
        match setting.key.as_str() {
            "name" => identity.name = setting.value,
            "description" => identity.description = setting.value,
            _ => {}
        }
    }
    Ok(identity)
}

/// An admin renames or redescribes the instance.
///
/// Errors: `Forbidden` for anyone but an admin, `Unprocessable` for an
/// empty or over-long name or an over-long description (nothing saved).
pub async fn set_identity(db: &Db, admin: &Actor, name: &str, description: &str) -> Result<()> {
    crate::service::accounts::require_admin(db, admin).await?;
    let name = name.trim().to_string();
    let description = description.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(crate::error::Error::unprocessable(format!(
            "Give the instance a name of 1 to {MAX_NAME} characters."
        )));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(crate::error::Error::unprocessable(format!(
            "Keep the description under {MAX_DESCRIPTION} characters."
        )));
    }
    db.transaction(move |conn| {
        use crate::db::instance_setting::InstanceSetting;
        InstanceSetting::set(conn, "name", &name)?;
        InstanceSetting::set(conn, "description", &description)?;
        Ok(())
    })
    .await
}
