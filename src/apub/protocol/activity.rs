//! Activities on the wire.

use crate::db::actor::Actor;
use activitypub_federation::{
    fetch::object_id::ObjectId,
    kinds::activity::{AcceptType, FollowType, RejectType, UndoType},
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
    pub actor: ObjectId<Actor>,
    pub object: ObjectId<Actor>,
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
