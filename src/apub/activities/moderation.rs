//! Moderation activities from moderators on other servers, addressed to a
//! local community: `Block` (ban), `Add`/`Remove` to the `featured`
//! collection (pin) or the `moderators` collection, and `Undo(Block)`
//! (handled with the other Undos). Each is checked against the community's
//! moderators; anyone else gets 403 and a log line.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, post::Post},
    error::{Error, Result},
    service::moderation,
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Activity};
use serde::{Deserialize, Serialize};
use url::Url;

/// `Block`, `Add` or `Remove` by a moderator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationActivity {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: ObjectId<Actor>,
    pub object: Url,
    #[serde(default)]
    pub target: Option<Url>,
    #[serde(default)]
    pub audience: Option<Url>,
}

/// The local community a moderation activity is about, and which of its
/// collections (`featured`, `moderators`) it targets, if any.
async fn community_of(
    data: &Data<Context>,
    activity: &ModerationActivity,
) -> Result<Option<(Actor, Option<&'static str>)>> {
    for url in activity.target.iter().chain(activity.audience.iter()) {
        let mut group_url = url.clone();
        let mut collection = None;
        for suffix in ["featured", "moderators"] {
            if let Some(stripped) = url.as_str().strip_suffix(&format!("/{suffix}")) {
                group_url = Url::parse(stripped).map_err(Error::internal)?;
                collection = Some(suffix);
            }
        }
        if let Some(name) = data.urls.parse_community(&group_url) {
            let (group, _) = crate::service::communities::local(&data.db, &name).await?;
            return Ok(Some((group, collection)));
        }
    }
    Ok(None)
}

#[async_trait::async_trait]
impl Activity for ModerationActivity {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// Acts for a local community's moderator; ignores activities about
    /// other servers' communities (they only inform us).
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let Some((group, collection)) = community_of(data, &self).await? else {
            tracing::debug!(kind = %self.kind, "moderation activity about no local community");
            return Ok(());
        };
        let moderator = self.actor.dereference(data).await?;
        let adding = self.kind == "Add";
        match (self.kind.as_str(), collection) {
            ("Block", _) => {
                let target: ObjectId<Actor> = self.object.clone().into();
                let target = target.dereference(data).await?;
                moderation::ban(data, &moderator, &group, &target, None).await
            }
            ("Add" | "Remove", Some("featured")) => {
                let object = self.object.clone();
                let post = data
                    .db
                    .run(move |conn| {
                        Post::by_ap_id(conn, &object)?
                            .ok_or_else(|| Error::not_found("no such post"))
                    })
                    .await?;
                moderation::pin(data, &moderator, &group, &post, adding).await
            }
            ("Add" | "Remove", Some("moderators")) => {
                let target: ObjectId<Actor> = self.object.clone().into();
                let target = target.dereference(data).await?;
                moderation::set_moderator(data, &moderator, &group, &target, adding).await
            }
            _ => Err(Error::bad_request(format!(
                "unsupported moderation activity {} for {}",
                self.kind, group.ap_id
            ))),
        }
    }
}

/// `Undo(Block)` by a moderator of a local community: lifts the ban.
pub async fn undo_block(
    data: &Data<Context>,
    actor: &Url,
    block: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let get = |key: &str| {
        block
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(|s| Url::parse(s).ok())
    };
    let (Some(object), target) = (get("object"), get("target").or_else(|| get("audience"))) else {
        return Ok(());
    };
    let Some(name) = target.as_ref().and_then(|t| data.urls.parse_community(t)) else {
        return Ok(());
    };
    let (group, _) = crate::service::communities::local(&data.db, &name).await?;
    let moderator: ObjectId<Actor> = actor.clone().into();
    let moderator = moderator.dereference(data).await?;
    let banned: ObjectId<Actor> = object.into();
    let banned = banned.dereference(data).await?;
    moderation::unban(data, &moderator, &group, &banned).await
}
