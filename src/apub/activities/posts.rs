//! The post family: Create, Update and Delete of Notes, Articles and Pages
//! (and Update of actors, which arrives the same way).

use crate::{
    apub::{
        protocol::{
            activity::{Create, Delete, Update},
            actor::ActorObject,
            note::Note,
        },
        Data,
    },
    context::Context,
    db::{actor::Actor, post::Post},
    error::{Error, Result},
    service::{communities, moderation},
};
use activitypub_federation::{
    protocol::verification::verify_domains_match,
    traits::{Activity, Object},
};
use url::Url;

/// A post must be by the activity's actor and live on the actor's server.
fn check_authorship(note: &Note, actor: &Url) -> Result<()> {
    verify_domains_match(&note.id, actor)?;
    if note.attributed_to.inner() != actor {
        return Err(Error::bad_request("the actor is not the post's author"));
    }
    Ok(())
}

#[async_trait::async_trait]
impl Activity for Create {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, data: &Data<Context>) -> Result<()> {
        check_authorship(&self.object, self.actor.inner())?;
        Post::verify(&self.object, &self.id, data).await
    }

    /// Stores the post; if it is addressed to local communities, each
    /// decides whether to accept and share it.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let mut addressees: Vec<Url> = self.to.iter().chain(&self.cc).cloned().collect();
        addressees.extend(self.object.to.iter().chain(&self.object.cc).cloned());
        addressees.extend(self.object.audience.clone());
        addressees.extend(
            self.object
                .tags()
                .into_iter()
                .filter(|t| t.kind == "Mention")
                .map(|t| t.href),
        );
        let communities = communities::addressed(data, &addressees).await?;
        let limit = data.config.communities.max_mentions as usize;
        if communities.len() > limit {
            return Err(Error::bad_request(format!(
                "refused as mass-mention spam: addressed to {} communities here, at most {limit}",
                communities.len()
            )));
        }
        let raw = match self.raw.clone() {
            Some(raw) => raw,
            None => serde_json::to_value(&self)?,
        };
        let post = Post::from_json(self.object, data).await?;
        for (group, community) in communities {
            communities::receive_post(data, &group, &community, &post, &raw).await?;
        }
        Ok(())
    }
}

/// The object of an Update, once its type is known.
enum Updated {
    Post(Box<Note>),
    Actor(Box<ActorObject>),
}

fn updated_object(value: &serde_json::Value) -> Result<Updated> {
    let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let bad = |e: serde_json::Error| Error::bad_request(format!("invalid Update object: {e}"));
    match kind {
        "Note" | "Article" | "Page" => Ok(Updated::Post(Box::new(
            serde_json::from_value(value.clone()).map_err(bad)?,
        ))),
        "Person" | "Group" | "Service" | "Application" | "Organization" => Ok(Updated::Actor(
            Box::new(serde_json::from_value(value.clone()).map_err(bad)?),
        )),
        other => Err(Error::bad_request(format!("cannot Update a {other:?}"))),
    }
}

#[async_trait::async_trait]
impl Activity for Update {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, data: &Data<Context>) -> Result<()> {
        match updated_object(&self.object)? {
            Updated::Post(note) => {
                // Someone else's post (an ask's `acceptedAnswer` forged by
                // a stranger, say): refused as forbidden, and logged.
                let actor = self.actor.inner();
                if note.attributed_to.inner() != actor || note.id.host_str() != actor.host_str() {
                    tracing::warn!(actor = %actor, object = %note.id, "refused an Update of someone else's post");
                    return Err(Error::forbidden("only the author may update a post"));
                }
                check_authorship(&note, actor)?;
                Post::verify(&note, &self.id, data).await
            }
            Updated::Actor(actor) => {
                if &actor.id != self.actor.inner() {
                    return Err(Error::bad_request("an actor may only update itself"));
                }
                Actor::verify(&actor, &self.id, data).await
            }
        }
    }

    /// An edit replaces a known post (an unknown one is stored, as the
    /// original may have been missed); a profile update refreshes the actor.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        match updated_object(&self.object)? {
            Updated::Post(note) => {
                let raw = serde_json::to_value(&self)?;
                let post = Post::from_json(*note, data).await?;
                communities::share_change(data, &post, &raw).await?;
            }
            Updated::Actor(actor) => {
                Actor::from_json(*actor, data).await?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Activity for Delete {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    /// Who may delete what is decided on receipt: the author, or a
    /// moderator of the community the post was shared in (who may live on
    /// another server than the post).
    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// Only the author deletes a post (the row stays as a tombstone), or a
    /// moderator of the local community it was shared in (a removal).
    /// Unknown objects (and account deletions, not handled yet) are ignored.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let object = self.object.id().clone();
        let actor = self.actor.dereference(data).await?;
        let found = data
            .db
            .run(move |conn| {
                let Some(post) = Post::by_ap_id(conn, &object)? else {
                    return Ok(None);
                };
                let author = Actor::by_id(conn, &post.author_id)?;
                let group = match &post.community_id {
                    Some(id) => Actor::by_id(conn, id)?,
                    None => None,
                };
                Ok(Some((post, author, group)))
            })
            .await?;
        let Some((post, author, group)) = found else {
            return Ok(());
        };
        if author.is_some_and(|a| a.id == actor.id) {
            let id = post.id.clone();
            data.db
                .run(move |conn| Ok(Post::mark_deleted(conn, &id).map(|_| ())?))
                .await?;
            let raw = serde_json::to_value(&self)?;
            return communities::share_change(data, &post, &raw).await;
        }
        match group.filter(|g| g.local) {
            Some(group) => moderation::remove_post(data, &actor, &group, &post, None).await,
            None => Err(Error::forbidden("only the author may delete a post")),
        }
    }
}
