//! Inbound activities: one file per family, and [`InboxActivity`], the one
//! enum of everything an inbox accepts.

/// The `id` and `actor` accessors of the `Activity` trait, the same for
/// every activity struct here (fields `id: Url`, `actor: ObjectId<_>`).
macro_rules! activity_ids {
    () => {
        fn id(&self) -> &url::Url {
            &self.id
        }

        fn actor(&self) -> &url::Url {
            self.actor.inner()
        }
    };
}

pub mod block;
pub mod flag;
pub mod following;
pub mod moderation;
pub mod moving;
pub mod posts;
pub mod reactions;

use crate::{
    apub::{
        protocol::activity::{
            Accept, Announce, Create, Delete, Flag, Follow, Like, Move, PersonBlock, Reject, Undo,
            Update,
        },
        Data,
    },
    context::Context,
    error::{Error, Result},
};
use activitypub_federation::traits::Activity;
use serde::{de::Error as _, Deserialize, Deserializer};
use url::Url;

/// What an inbox accepts. Dispatch is by `type`: a known type that does not
/// parse is a 400 (with serde's reason), an unknown type is accepted and
/// ignored so that new vocabulary from other servers never causes errors.
#[derive(Debug, Clone)]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Accept),
    Reject(Reject),
    Undo(Undo),
    Create(Box<Create>),
    Update(Update),
    Delete(Delete),
    Like(Like),
    Announce(Announce),
    Moderation(moderation::ModerationActivity),
    /// A person blocking one of ours (a `Block` without `target`).
    Block(PersonBlock),
    Flag(Flag),
    /// An account moving elsewhere (Mastodon's migration).
    Move(Move),
    Other(OtherActivity),
}

/// An activity of a type Outloud does not handle (yet).
#[derive(Debug, Clone, Deserialize)]
pub struct OtherActivity {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: serde_json::Value,
    pub actor: Url,
}

impl<'de> Deserialize<'de> for InboxActivity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let parsed = match kind {
            "Follow" => serde_json::from_value(value).map(InboxActivity::Follow),
            "Accept" => serde_json::from_value(value).map(InboxActivity::Accept),
            "Reject" => serde_json::from_value(value).map(InboxActivity::Reject),
            "Undo" => serde_json::from_value(value).map(InboxActivity::Undo),
            "Create" => serde_json::from_value::<Create>(value.clone()).map(|mut c| {
                c.raw = Some(value);
                InboxActivity::Create(Box::new(c))
            }),
            "Update" => serde_json::from_value(value).map(InboxActivity::Update),
            "Delete" => serde_json::from_value(value).map(InboxActivity::Delete),
            "Like" => serde_json::from_value(value).map(InboxActivity::Like),
            "Announce" => serde_json::from_value(value).map(InboxActivity::Announce),
            // A Block naming a community (`target`, `audience`) is a ban.
            "Block" if value.get("target").is_none() && value.get("audience").is_none() => {
                serde_json::from_value(value).map(InboxActivity::Block)
            }
            "Flag" => serde_json::from_value(value).map(InboxActivity::Flag),
            "Move" => serde_json::from_value(value).map(InboxActivity::Move),
            "Block" | "Add" | "Remove" => {
                serde_json::from_value(value).map(InboxActivity::Moderation)
            }
            _ => serde_json::from_value(value).map(InboxActivity::Other),
        };
        parsed.map_err(D::Error::custom)
    }
}

#[async_trait::async_trait]
impl Activity for InboxActivity {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => a.id(),
            InboxActivity::Accept(a) => a.id(),
            InboxActivity::Reject(a) => a.id(),
            InboxActivity::Undo(a) => a.id(),
            InboxActivity::Create(a) => a.id(),
            InboxActivity::Update(a) => a.id(),
            InboxActivity::Delete(a) => a.id(),
            InboxActivity::Like(a) => a.id(),
            InboxActivity::Announce(a) => a.id(),
            InboxActivity::Moderation(a) => a.id(),
            InboxActivity::Block(a) => a.id(),
            InboxActivity::Flag(a) => a.id(),
            InboxActivity::Move(a) => a.id(),
            InboxActivity::Other(a) => &a.id,
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => a.actor(),
            InboxActivity::Accept(a) => a.actor(),
            InboxActivity::Reject(a) => a.actor(),
            InboxActivity::Undo(a) => a.actor(),
            InboxActivity::Create(a) => a.actor(),
            InboxActivity::Update(a) => a.actor(),
            InboxActivity::Delete(a) => a.actor(),
            InboxActivity::Like(a) => a.actor(),
            InboxActivity::Announce(a) => a.actor(),
            InboxActivity::Moderation(a) => a.actor(),
            InboxActivity::Block(a) => a.actor(),
            InboxActivity::Flag(a) => a.actor(),
            InboxActivity::Move(a) => a.actor(),
            InboxActivity::Other(a) => &a.actor,
        }
    }

    async fn verify(&self, data: &Data<Context>) -> Result<()> {
        match self {
            InboxActivity::Follow(a) => a.verify(data).await,
            InboxActivity::Accept(a) => a.verify(data).await,
            InboxActivity::Reject(a) => a.verify(data).await,
            InboxActivity::Undo(a) => a.verify(data).await,
            InboxActivity::Create(a) => a.verify(data).await,
            InboxActivity::Update(a) => a.verify(data).await,
            InboxActivity::Delete(a) => a.verify(data).await,
            InboxActivity::Like(a) => a.verify(data).await,
            InboxActivity::Announce(a) => a.verify(data).await,
            InboxActivity::Moderation(a) => a.verify(data).await,
            InboxActivity::Block(a) => a.verify(data).await,
            InboxActivity::Flag(a) => a.verify(data).await,
            InboxActivity::Move(a) => a.verify(data).await,
            InboxActivity::Other(_) => Ok(()),
        }
    }

    async fn receive(self, data: &Data<Context>) -> Result<()> {
        match self {
            InboxActivity::Follow(a) => a.receive(data).await,
            InboxActivity::Accept(a) => a.receive(data).await,
            InboxActivity::Reject(a) => a.receive(data).await,
            InboxActivity::Undo(a) => a.receive(data).await,
            InboxActivity::Create(a) => a.receive(data).await,
            InboxActivity::Update(a) => a.receive(data).await,
            InboxActivity::Delete(a) => a.receive(data).await,
            InboxActivity::Like(a) => a.receive(data).await,
            InboxActivity::Announce(a) => a.receive(data).await,
            InboxActivity::Moderation(a) => a.receive(data).await,
            InboxActivity::Block(a) => a.receive(data).await,
            InboxActivity::Flag(a) => a.receive(data).await,
            InboxActivity::Move(a) => a.receive(data).await,
            InboxActivity::Other(a) => {
                tracing::debug!(id = %a.id, kind = %a.kind, "ignoring activity of unhandled type");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_by_type() {
        let follow = serde_json::json!({
            "id": "https://a.example/activities/1", "type": "Follow",
            "actor": "https://a.example/users/ana", "object": "https://b.example/users/bo"
        });
        assert!(matches!(
            serde_json::from_value::<InboxActivity>(follow).unwrap(),
            InboxActivity::Follow(_)
        ));
        let unknown = serde_json::json!({
            "id": "https://a.example/activities/2", "type": "EmojiReact",
            "actor": "https://a.example/users/ana", "object": "https://b.example/x"
        });
        assert!(matches!(
            serde_json::from_value::<InboxActivity>(unknown).unwrap(),
            InboxActivity::Other(_)
        ));
        // A known type missing a required field is an error, not ignored.
        let broken = serde_json::json!({
            "id": "https://a.example/activities/3", "type": "Follow",
            "actor": "https://a.example/users/ana"
        });
        assert!(serde_json::from_value::<InboxActivity>(broken).is_err());
        // Accept with only the Follow's id.
        let accept = serde_json::json!({
            "id": "https://b.example/activities/4", "type": "Accept",
            "actor": "https://b.example/users/bo", "object": "https://a.example/activities/1"
        });
        assert!(matches!(
            serde_json::from_value::<InboxActivity>(accept).unwrap(),
            InboxActivity::Accept(_)
        ));
        // A Block naming a community is a ban; without one, a person's block.
        let mut block = serde_json::json!({
            "id": "https://a.example/activities/5", "type": "Block",
            "actor": "https://a.example/users/ana", "object": "https://b.example/users/bo"
        });
        assert!(matches!(
            serde_json::from_value::<InboxActivity>(block.clone()).unwrap(),
            InboxActivity::Block(_)
        ));
        block["target"] = "https://b.example/c/rust".into();
        assert!(matches!(
            serde_json::from_value::<InboxActivity>(block).unwrap(),
            InboxActivity::Moderation(_)
        ));
        // A Move (account migration), actors as ids or embedded.
        let mv = serde_json::json!({
            "id": "https://a.example/activities/7", "type": "Move",
            "actor": "https://a.example/users/ana", "object": {"id": "https://a.example/users/ana"},
            "target": "https://b.example/users/ana"
        });
        let InboxActivity::Move(mv) = serde_json::from_value::<InboxActivity>(mv).unwrap() else {
            panic!("a Move was not read as one");
        };
        assert_eq!(mv.object.inner(), mv.actor.inner());
        assert_eq!(mv.target.inner().as_str(), "https://b.example/users/ana");
        // A Move without its target is an error.
        let broken = serde_json::json!({
            "id": "https://a.example/activities/8", "type": "Move",
            "actor": "https://a.example/users/ana", "object": "https://a.example/users/ana"
        });
        assert!(serde_json::from_value::<InboxActivity>(broken).is_err());
        // A Flag naming one object or several.
        for object in [
            serde_json::json!("https://b.example/users/bo"),
            serde_json::json!(["https://b.example/users/bo", "https://b.example/objects/1"]),
        ] {
            let flag = serde_json::json!({
                "id": "https://a.example/activities/6", "type": "Flag",
                "actor": "https://a.example/actor", "object": object, "content": "spam"
            });
            assert!(matches!(
                serde_json::from_value::<InboxActivity>(flag).unwrap(),
                InboxActivity::Flag(_)
            ));
        }
    }
}
