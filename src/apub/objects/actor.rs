//! Actors as ActivityPub objects: serving ours, storing theirs.

use crate::{
    apub::protocol::actor::{ActorObject, Endpoints, Source},
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        community::{Community, Posting},
        local_user::LocalUser,
        moves, now, DbUrl,
    },
    error::{Error, Result},
    text,
};
use activitypub_federation::{
    config::Data,
    protocol::{public_key::PublicKey, verification::verify_domains_match},
    traits,
};
use chrono::{DateTime, Utc};
use url::Url;

/// `host[:port]` of a URL: how we record which server an actor lives on.
pub fn domain_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => String::new(),
    }
}

/// An `Image` object for a stored avatar or header URL.
fn image_of(url: Option<&str>) -> Option<crate::apub::protocol::actor::Image> {
    url.and_then(|u| Url::parse(u).ok())
        .map(|url| crate::apub::protocol::actor::Image {
            kind: "Image".into(),
            url,
            media_type: None,
        })
}

/// At most this many of a remote actor's `alsoKnownAs` are kept.
const MAX_ALIASES: usize = 16;

/// A local actor's `alsoKnownAs` and `movedTo` as stored (remote actors'
/// documents are never rendered from rows).
async fn migration_of(data: &Data<Context>, actor: &Actor) -> Result<(Vec<Url>, Option<Url>)> {
    if !actor.local {
        return Ok((Vec::new(), None));
    }
    let id = actor.id.clone();
    let (aliases, moved) = data
        .db
        .run(move |conn| {
            Ok((
                moves::aliases_of(conn, &id)?,
                moves::ActorMove::of(conn, &id)?,
            ))
        })
        .await?;
    Ok((
        aliases.iter().filter_map(|a| Url::parse(a).ok()).collect(),
        moved.and_then(|m| Url::parse(&m.target_ap_id).ok()),
    ))
}

fn parse_opt(url: &Option<String>) -> Option<Url> {
    url.as_deref().and_then(|u| Url::parse(u).ok())
}

tokio::task_local! {
    /// The stored row of the actor whose signature an inbox request
    /// carries, read with the request's other lookups in one database
    /// round trip (`apub::inbox`).
    static SIGNER: std::cell::RefCell<Option<Actor>>;
}

/// Runs `f` with `signer` as the row [`traits::Object::read_from_id`]
/// answers for that actor: verifying the signature and storing the
/// signer's post each dereference it, and one request should read it once.
/// The crate's staleness check still applies to the copy (a day-old actor
/// is fetched again), and a refresh ([`traits::Object::from_json`])
/// replaces it, so the copy is never older than the row.
pub async fn with_signer<F: std::future::Future>(signer: Option<Actor>, f: F) -> F::Output {
    SIGNER.scope(std::cell::RefCell::new(signer), f).await
}

fn signer_copy(id: &Url) -> Option<Actor> {
    SIGNER
        .try_with(|s| s.borrow().as_ref().filter(|a| &a.ap_id.0 == id).cloned())
        .ok()
        .flatten()
}

/// A refreshed signer replaces the request's copy.
fn refresh_signer_copy(actor: &Actor) {
    let _ = SIGNER.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.as_ref().is_some_and(|a| a.ap_id == actor.ap_id) {
            *s = Some(actor.clone());
        }
    });
}

#[async_trait::async_trait]
impl traits::Object for Actor {
    type DataType = Context;
    type Kind = ActorObject;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.ap_id
    }

    /// Remote actors are re-fetched when older than a day (the crate checks).
    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        if self.local {
            None
        } else {
            self.last_fetched_at.map(|t| t.and_utc())
        }
    }

    /// The inbox request's copy of its signer when that is the actor asked
    /// for ([`with_signer`]), else the stored row.
    async fn read_from_id(id: Url, data: &Data<Context>) -> Result<Option<Actor>> {
        if let Some(signer) = signer_copy(&id) {
            return Ok(Some(signer));
        }
        data.db
            .run(move |conn| Ok(Actor::by_ap_id(conn, &id)?))
            .await
    }

    /// A suspended local account is served as Mastodon serves one: with
    /// `suspended: true` and without its profile (name, bio, fields,
    /// avatar, header), so followers' servers stop showing it.
    async fn into_json(self, data: &Data<Context>) -> Result<ActorObject> {
        let community = if self.local && self.kind() == ActorKind::Group {
            let id = self.id.clone();
            data.db
                .run(move |conn| Ok(Community::by_actor_id(conn, &id)?))
                .await?
        } else {
            None
        };
        let suspended = if self.local && self.kind() == ActorKind::Person {
            let id = self.id.clone();
            data.db
                .run(move |conn| Ok(LocalUser::is_suspended(conn, &id)?))
                .await?
        } else {
            false
        };
        let (also_known_as, moved_to) = migration_of(data, &self).await?;
        if suspended {
            return Ok(ActorObject {
                name: Some(self.username.clone()),
                summary: Some(String::new()),
                source: None,
                manually_approves_followers: false,
                discoverable: Some(false),
                icon: None,
                image: None,
                attachment: Vec::new(),
                suspended: Some(true),
                ..self.object_of(data, None)
            });
        }
        Ok(ActorObject {
            also_known_as,
            moved_to,
            ..self.object_of(data, community.as_ref())
        })
    }
    /// The actor must live where it was fetched from, and own its key.
    async fn verify(
        json: &ActorObject,
        expected_domain: &Url,
        _data: &Data<Context>,
    ) -> Result<()> {
        verify_domains_match(&json.id, expected_domain)?;
        verify_domains_match(&json.id, &json.inbox)?;
        if json.public_key.owner != json.id {
            return Err(Error::bad_request("publicKey.owner is not the actor"));
        }
        Ok(())
    }

    /// Stores (or refreshes) a remote actor. Its summary is sanitized HTML.
    async fn from_json(json: ActorObject, data: &Data<Context>) -> Result<Actor> {
        let icon = json
            .icon
            .as_ref()
            .map(|i| i.url.to_string())
            .filter(|u| text::is_http_url(u));
        let header = json
            .image
            .as_ref()
            .map(|i| i.url.to_string())
            .filter(|u| text::is_http_url(u));
        let also_known_as: Vec<String> = json
            .also_known_as
            .iter()
            .filter(|u| text::is_http_url(u.as_str()))
            .take(MAX_ALIASES)
            .map(|u| u.to_string())
            .collect();
        let moved_to = json
            .moved_to
            .as_ref()
            .map(|u| u.to_string())
            .filter(|u| text::is_http_url(u));
        let fetched = Actor {
            id: crate::db::new_id(),
            domain: domain_of(&json.id),
            ap_id: DbUrl(json.id),
            kind: ActorKind::parse(&json.kind).as_str().to_string(),
            username: json.preferred_username,
            local: false,
            // Display names are plain text; summaries get the one
            // allow-list every remote HTML field gets.
            display_name: json.name.map(|n| text::strip_html(&n)),
            summary: json.summary.map(|s| text::sanitize_html(&s)),
            summary_source: None,
            url: json.url.map(String::from).filter(|u| text::is_http_url(u)),
            inbox_url: DbUrl(json.inbox),
            shared_inbox_url: json
                .endpoints
                .and_then(|e| e.shared_inbox)
                .map(String::from),
            outbox_url: json.outbox.map(String::from),
            followers_url: json.followers.map(String::from),
            following_url: json.following.map(String::from),
            public_key_pem: json.public_key.public_key_pem,
            private_key_pem: None,
            manually_approves_followers: json.manually_approves_followers,
            discoverable: json.discoverable.unwrap_or(false),
            published: json.published.map(|t| t.naive_utc()).unwrap_or_else(now),
            updated: json.updated.map(|t| t.naive_utc()),
            last_fetched_at: Some(now()),
            hide_network: false,
            icon_url: icon,
            fields_json: crate::apub::protocol::actor::fields_from_attachment(&json.attachment),
            image_url: header,
        };
        // Not one transaction: two inbox requests may fetch the same new
        // actor at once, and the loser of the insert must be able to read
        // the winner's row (an aborted PostgreSQL transaction could not).
        data.db
            .run(move |conn| {
                let stored = match Actor::by_ap_id(conn, &fetched.ap_id)? {
                    Some(existing) if existing.local => {
                        return Err(Error::bad_request("refusing to overwrite a local actor"))
                    }
                    Some(existing) => {
                        let refreshed = Actor {
                            id: existing.id,
                            ..fetched
                        };
                        Actor::update(conn, &refreshed)?;
                        refreshed
                    }
                    None => match Actor::insert(conn, &fetched) {
                        Ok(()) => fetched,
                        Err(e) => Actor::by_ap_id(conn, &fetched.ap_id)?
                            .filter(|a| !a.local)
                            .ok_or(e)?,
                    },
                };
                // What the document says about account migration, as it
                // says it now (a `Move` is checked against a fresh fetch).
                moves::set_aliases(conn, &stored.id, &also_known_as)?;
                match &moved_to {
                    Some(target) => {
                        moves::ActorMove::set(conn, &stored.id, target)?;
                    }
                    None => {
                        moves::ActorMove::clear(conn, &stored.id)?;
                    }
                }
                Ok(stored)
            })
            .await
            .inspect(refresh_signer_copy)
    }
}

impl traits::Actor for Actor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        self.inbox_url.0.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        parse_opt(&self.shared_inbox_url)
    }
}

impl Actor {
    /// The document of one of our actors as it stands (`community`: its
    /// settings, for a local Group).
    fn object_of(&self, data: &Data<Context>, community: Option<&Community>) -> ActorObject {
        let public_key = PublicKey {
            id: crate::urls::Urls::key_id(&self.ap_id).to_string(),
            owner: self.ap_id.0.clone(),
            public_key_pem: self.public_key_pem.clone(),
        };
        ActorObject {
            kind: self.kind.clone(),
            id: self.ap_id.0.clone(),
            preferred_username: self.username.clone(),
            // Always present, as Mastodon sends them: some servers treat a
            // missing `name` or `summary` as malformed.
            name: Some(self.display_name.clone().unwrap_or_default()),
            summary: Some(self.summary.clone().unwrap_or_default()),
            source: self.summary_source.as_ref().map(|content| Source {
                content: content.clone(),
                media_type: "text/markdown".into(),
            }),
            url: parse_opt(&self.url),
            inbox: self.inbox_url.0.clone(),
            outbox: parse_opt(&self.outbox_url),
            followers: parse_opt(&self.followers_url),
            following: parse_opt(&self.following_url),
            endpoints: parse_opt(&self.shared_inbox_url).map(|shared_inbox| Endpoints {
                shared_inbox: Some(shared_inbox),
            }),
            public_key,
            manually_approves_followers: self.manually_approves_followers,
            discoverable: Some(self.discoverable),
            icon: image_of(self.icon_url.as_deref()),
            image: image_of(self.image_url.as_deref()),
            attributed_to: community.map(|_| data.urls.community_moderators(&self.username)),
            featured: community.map(|_| data.urls.community_featured(&self.username)),
            posting_restricted_to_mods: community.map(|c| c.posting() == Posting::Moderators),
            published: Some(self.published.and_utc()),
            updated: self.updated.map(|t| t.and_utc()),
            attachment: crate::apub::protocol::actor::attachment_from_fields(
                self.fields_json.as_deref(),
            ),
            suspended: None,
            also_known_as: Vec::new(),
            moved_to: None,
        }
    }
}
