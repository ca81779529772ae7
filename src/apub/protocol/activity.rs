//! Activities on the wire.

use crate::{apub::protocol::note::Note, db::actor::Actor};
use activitypub_federation::{
    fetch::object_id::ObjectId,
    kinds::activity::{
        AcceptType, AnnounceType, CreateType, DeleteType, FollowType, LikeType, RejectType,
        UndoType, UpdateType,
    },
    protocol::helpers::deserialize_one_or_many,
};
use serde::{Deserialize, Serialize};
use url::Url;

/// `Follow`: `actor` asks to follow (or join) `object`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: FollowType,
    #[serde(deserialize_with = "actor_id")]
    pub actor: ObjectId<Actor>,
    #[serde(deserialize_with = "actor_id")]
    pub object: ObjectId<Actor>,
}

/// An actor named by its id, or embedded (of which only `id` is read; the
/// actor is then dereferenced from its origin as usual). ActivityStreams
/// allows both, and Fedify-based servers answer a Follow with an Accept whose
/// Follow embeds the actor they dereferenced.
fn actor_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ObjectId<Actor>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(Url),
        Object { id: Url },
    }
    Ok(match IdOrObject::deserialize(d)? {
        IdOrObject::Id(id) | IdOrObject::Object { id } => id.into(),
    })
}

/// The object of an `Accept` or `Reject`: the Follow itself, or (as some
/// servers send it) only its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FollowRef {
    Embedded(Follow),
    Id(Url),
}

impl FollowRef {
    pub fn id(&self) -> &Url {
        match self {
            FollowRef::Embedded(follow) => &follow.id,
            FollowRef::Id(id) => id,
        }
    }
}

/// `Accept(Follow)`: the followee agrees.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AcceptType,
    pub actor: ObjectId<Actor>,
    pub object: FollowRef,
}

/// `Reject(Follow)`: the followee refuses, or removes an existing follower.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: RejectType,
    pub actor: ObjectId<Actor>,
    pub object: FollowRef,
}

/// What an `Undo` takes back: an embedded activity (of which only `id` and
/// `type` matter, since we look it up by id), or just its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UndoneRef {
    Embedded {
        id: Url,
        #[serde(rename = "type")]
        kind: String,
        #[serde(flatten)]
        rest: serde_json::Map<String, serde_json::Value>,
    },
    Id(Url),
}

impl UndoneRef {
    pub fn id(&self) -> &Url {
        match self {
            UndoneRef::Embedded { id, .. } => id,
            UndoneRef::Id(id) => id,
        }
    }
}

/// `Undo`: takes back a Follow, Like or Announce.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Undo {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UndoType,
    pub actor: ObjectId<Actor>,
    pub object: UndoneRef,
}

/// `Create` of a Note, Article or Page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Create {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: CreateType,
    pub actor: ObjectId<Actor>,
    pub object: Note,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub cc: Vec<Url>,
    /// The activity as received, for communities that pass it on unchanged
    /// (FEP-1b12). Not part of the wire format.
    #[serde(skip)]
    pub raw: Option<serde_json::Value>,
}

/// `Update` of a post (an edit) or of an actor (a profile change). The
/// object stays JSON until its `type` says which.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UpdateType,
    pub actor: ObjectId<Actor>,
    pub object: serde_json::Value,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub cc: Vec<Url>,
}

/// An object named by id, or embedded (of which only `id` matters here).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectRef {
    Id(Url),
    Object {
        id: Url,
        #[serde(flatten)]
        rest: serde_json::Map<String, serde_json::Value>,
    },
}

impl ObjectRef {
    pub fn id(&self) -> &Url {
        match self {
            ObjectRef::Id(id) => id,
            ObjectRef::Object { id, .. } => id,
        }
    }
}

/// `Delete` of a post (or, from other servers, of an account).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delete {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: DeleteType,
    pub actor: ObjectId<Actor>,
    pub object: ObjectRef,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub cc: Vec<Url>,
}

/// `Like` of a post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Like {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: LikeType,
    pub actor: ObjectId<Actor>,
    pub object: Url,
}

/// `Announce` (boost) of a post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    pub actor: ObjectId<Actor>,
    pub object: ObjectRef,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    pub cc: Vec<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// `Flag`: a report. Mastodon sends it from its instance actor, with the
/// reported actor and posts as `object` and the comment as `content`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: activitypub_federation::kinds::activity::FlagType,
    pub actor: ObjectId<Actor>,
    #[serde(deserialize_with = "deserialize_one_or_many")]
    pub object: Vec<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "deserialize_one_or_many")]
    pub to: Vec<Url>,
}

/// `Block` of one person by another (Mastodon's). A `Block` with a
/// `target` or `audience` is a community ban instead
/// (`apub::activities::moderation`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonBlock {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: activitypub_federation::kinds::activity::BlockType,
    #[serde(deserialize_with = "actor_id")]
    pub actor: ObjectId<Actor>,
    #[serde(deserialize_with = "actor_id")]
    pub object: ObjectId<Actor>,
}

/// `Move` (Mastodon's account migration): `actor` moved to `target`. The
/// origin signs it and names itself as `object`; `target` must list the
/// origin in its `alsoKnownAs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: activitypub_federation::kinds::activity::MoveType,
    #[serde(deserialize_with = "actor_id")]
    pub actor: ObjectId<Actor>,
    #[serde(deserialize_with = "actor_id")]
    pub object: ObjectId<Actor>,
    #[serde(deserialize_with = "actor_id")]
    pub target: ObjectId<Actor>,
    #[serde(default, deserialize_with = "deserialize_one_or_many")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Url>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_embedding_a_follow_with_an_embedded_actor_parses() {
        // As Fedify sends it when the Follow's actor was dereferenced.
        let accept: Accept = serde_json::from_value(serde_json::json!({
            "id": "https://peer.example/activities/1",
            "type": "Accept",
            "actor": "https://peer.example/users/carol",
            "object": {
                "id": "https://acme.example/activities/2",
                "type": "Follow",
                "actor": {
                    "id": "https://acme.example/users/ana",
                    "type": "Person",
                    "inbox": "https://acme.example/users/ana/inbox"
                },
                "object": "https://peer.example/users/carol"
            }
        }))
        .unwrap();
        let FollowRef::Embedded(follow) = accept.object else {
            panic!("the Follow was not read as embedded");
        };
        assert_eq!(follow.id.as_str(), "https://acme.example/activities/2");
        assert_eq!(
            follow.actor.inner().as_str(),
            "https://acme.example/users/ana"
        );
        assert_eq!(
            follow.object.inner().as_str(),
            "https://peer.example/users/carol"
        );
        // Sent back out, the actor is an id again.
        let json = serde_json::to_value(&follow).unwrap();
        assert_eq!(json["actor"], "https://acme.example/users/ana");
    }
}
