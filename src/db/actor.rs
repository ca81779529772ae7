//! Actors: local and remote people, communities and the instance actor.

use super::{schema::actors, DbConn, DbUrl};
use diesel::prelude::*;

/// The ActivityStreams type of an actor, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    Person,
    Group,
    Application,
    Service,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Person => "Person",
            ActorKind::Group => "Group",
            ActorKind::Application => "Application",
            ActorKind::Service => "Service",
        }
    }

    /// Unknown types (Organization, bots of other shapes) read as `Service`.
    pub fn parse(s: &str) -> ActorKind {
        match s {
            "Person" => ActorKind::Person,
            "Group" => ActorKind::Group,
            "Application" => ActorKind::Application,
            _ => ActorKind::Service,
        }
    }
}

/// One row of `actors`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = actors)]
#[diesel(treat_none_as_null = true)]
pub struct Actor {
    pub id: String,
    pub ap_id: DbUrl,
    pub kind: String,
    pub username: String,
    /// `host[:port]` of the server the actor lives on.
    pub domain: String,
    pub local: bool,
    pub display_name: Option<String>,
    /// Sanitized HTML.
    pub summary: Option<String>,
    /// The Markdown the summary was rendered from (local actors).
    pub summary_source: Option<String>,
    /// Profile page for people.
    pub url: Option<String>,
    pub inbox_url: DbUrl,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub public_key_pem: String,
    /// Only for local actors.
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    /// When a remote actor was last fetched from its origin.
    pub last_fetched_at: Option<chrono::NaiveDateTime>,
    /// Whether the follower and following lists are hidden from others
    /// (their sizes stay public).
    pub hide_network: bool,
    /// Avatar (people) or icon (communities), as a URL.
    pub icon_url: Option<String>,
    /// Profile metadata, a JSON array of `{"name", "value"}` (local
    /// accounts set it through the client API).
    pub fields_json: Option<String>,
    /// Header image (people), as a URL.
    pub image_url: Option<String>,
}

impl Actor {
    pub fn kind(&self) -> ActorKind {
        ActorKind::parse(&self.kind)
    }

    /// Inserts a new actor.
    pub fn insert(conn: &mut DbConn, actor: &Actor) -> QueryResult<()> {
        diesel::insert_into(actors::table)
            .values(actor)
            .execute(conn)
            .map(|_| ())
    }

    /// Overwrites every column of an existing actor (matched by `id`).
    pub fn update(conn: &mut DbConn, actor: &Actor) -> QueryResult<()> {
        diesel::update(actors::table.find(&actor.id))
            .set(actor)
            .execute(conn)
            .map(|_| ())
    }

    /// The hosts of every remote actor known here (the instance's peers).
    pub fn known_domains(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        actors::table
            .filter(actors::local.eq(false))
            .select(actors::domain)
            .distinct()
            .order(actors::domain.asc())
            .load(conn)
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Actor>> {
        actors::table.find(id).first(conn).optional()
    }

    pub fn by_ap_id(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<Option<Actor>> {
        actors::table
            .filter(actors::ap_id.eq(ap_id.as_str()))
            .first(conn)
            .optional()
    }

    /// A local actor by its (lower-case) name, of any kind.
    pub fn local_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<Actor>> {
        actors::table
            .filter(actors::local.eq(true))
            .filter(actors::username.eq(name.to_lowercase()))
            .first(conn)
            .optional()
    }

    /// The local actor of one kind by name.
    pub fn local_by_name_and_kind(
        conn: &mut DbConn,
        name: &str,
        kind: ActorKind,
    ) -> QueryResult<Option<Actor>> {
        actors::table
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq(kind.as_str()))
            .filter(actors::username.eq(name.to_lowercase()))
            .first(conn)
            .optional()
    }

    /// The local instance actor (FEP-2677), if created yet.
    pub fn instance_actor(conn: &mut DbConn) -> QueryResult<Option<Actor>> {
        actors::table
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq(ActorKind::Application.as_str()))
            .first(conn)
            .optional()
    }

    /// Number of local actors of one kind.
    pub fn count_local(conn: &mut DbConn, kind: ActorKind) -> QueryResult<i64> {
        actors::table
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq(kind.as_str()))
            .count()
            .get_result(conn)
    }
}

impl Actor {
    /// Local people who chose to be listed in directories, by name.
    pub fn discoverable_local_people(
        conn: &mut DbConn,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Actor>> {
        actors::table
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq(ActorKind::Person.as_str()))
            .filter(actors::discoverable.eq(true))
            .order(actors::username.asc())
            .offset(offset)
            .limit(limit)
            .load(conn)
    }

    /// Every Group actor this instance knows, local and remote.
    pub fn all_groups(conn: &mut DbConn) -> QueryResult<Vec<Actor>> {
        actors::table
            .filter(actors::kind.eq(ActorKind::Group.as_str()))
            .order(actors::username.asc())
            .load(conn)
    }
}
