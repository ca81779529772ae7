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

/// The instance's longer "about" text (Mastodon's extended description):
/// Markdown written by an admin on the admin page, and the time it was
/// saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedDescription {
    /// The Markdown as written; empty when none was set.
    pub source: String,
    /// Rendered and sanitized.
    pub html: String,
    pub updated_at: chrono::NaiveDateTime,
}

/// The settings key of the extended description.
const EXTENDED_DESCRIPTION: &str = "extended_description";

/// Longest extended description an admin may set.
pub const MAX_EXTENDED_DESCRIPTION: usize = 20_000;

/// The extended description. When none was ever saved it is empty, dated
/// when the instance was set up (its actor's creation), since Mastodon's
/// entity always carries a time.
pub async fn extended_description(db: &Db, urls: &Urls) -> Result<ExtendedDescription> {
    let (setting, since) = db
        .run(|conn| {
            let setting = crate::db::instance_setting::InstanceSetting::all(conn)?
                .into_iter()
                .find(|s| s.key == EXTENDED_DESCRIPTION);
            let since = Actor::instance_actor(conn)?.map(|a| a.published);
            Ok((setting, since))
        })
        .await?;
    let (source, updated_at) = match setting {
        Some(s) => (s.value, s.updated_at),
        None => (String::new(), since.unwrap_or_else(now)),
    };
    Ok(ExtendedDescription {
        html: render_about(&source, urls),
        source,
        updated_at,
    })
}

/// Markdown to sanitized HTML, with the renderer of narrations (raw HTML
/// shows as text); hashtags link to their pages, mentions stay text.
fn render_about(source: &str, urls: &Urls) -> String {
    if source.trim().is_empty() {
        return String::new();
    }
    crate::text::render_markdown(source, |_| None, |tag| urls.tag(tag).to_string())
}

/// An admin sets the extended description (empty clears it).
///
/// Errors: `Forbidden` for anyone but an admin, `Unprocessable` when over
/// [`MAX_EXTENDED_DESCRIPTION`] characters (nothing saved).
pub async fn set_extended_description(db: &Db, admin: &Actor, source: &str) -> Result<()> {
    crate::service::accounts::require_admin(db, admin).await?;
    let source = source.trim().to_string();
    if source.chars().count() > MAX_EXTENDED_DESCRIPTION {
        return Err(crate::error::Error::unprocessable(format!(
            "Keep the extended description under {MAX_EXTENDED_DESCRIPTION} characters."
        )));
    }
    db.transaction(move |conn| {
        crate::db::instance_setting::InstanceSetting::set(conn, EXTENDED_DESCRIPTION, &source)?;
        Ok(())
    })
    .await
}

/// One week of [`weekly_activity`]: counts since `week_start` (a Monday,
/// 00:00 UTC) for a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekActivity {
    pub week_start: chrono::NaiveDateTime,
    pub statuses: i64,
    pub logins: i64,
    pub registrations: i64,
}

/// Weeks [`weekly_activity`] reports, as Mastodon's (about three months).
pub const ACTIVITY_WEEKS: usize = 12;

/// Monday 00:00 UTC of the week `at` falls in.
pub fn week_start(at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    let date = at.date();
    let monday = date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()));
    monday.and_time(chrono::NaiveTime::MIN)
}

/// The last [`ACTIVITY_WEEKS`] weeks, this one first: local posts, local
/// accounts that signed in (see `db::activity::logins` for how that is
/// approximated) and local accounts created.
pub async fn weekly_activity(db: &Db) -> Result<Vec<WeekActivity>> {
    let this_week = week_start(now());
    db.run(move |conn| {
        use crate::db::activity;
        let mut weeks = Vec::with_capacity(ACTIVITY_WEEKS);
        for back in 0..ACTIVITY_WEEKS {
            let from = this_week - chrono::TimeDelta::weeks(back as i64);
            let to = from + chrono::TimeDelta::weeks(1);
            weeks.push(WeekActivity {
                week_start: from,
                statuses: activity::statuses(conn, from, to)?,
                logins: activity::logins(conn, from, to)?,
                registrations: activity::registrations(conn, from, to)?,
            });
        }
        Ok(weeks)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_midnight() {
        let thursday = chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_opt(6, 30, 0)
            .unwrap();
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(week_start(thursday), monday);
        assert_eq!(week_start(monday), monday);
    }
}
