//! `Move` (Mastodon's account migration), both ways: [`send_move`] tells
//! an account's followers it moved; a received `Move` is checked and
//! honoured by `service::moves::receive_move`.

use crate::{
    apub::{outbox, protocol::activity::Move, Data},
    context::Context,
    db::actor::Actor,
    error::{Error, Result},
};
use activitypub_federation::{kinds::activity::MoveType, traits::Activity};

/// Sends `Move { actor: origin, object: origin, target }` to `recipients`
/// (the origin's remote followers; shared inboxes are used where they have
/// one), addressed to the origin's followers collection.
pub async fn send_move(
    data: &Data<Context>,
    origin: &Actor,
    target: &Actor,
    recipients: Vec<Actor>,
) -> Result<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    let activity = Move {
        id: data.urls.new_activity(),
        kind: MoveType::Move,
        actor: origin.ap_id.0.clone().into(),
        object: origin.ap_id.0.clone().into(),
        target: target.ap_id.0.clone().into(),
        to: origin
            .followers_url
            .as_deref()
            .and_then(|f| url::Url::parse(f).ok())
            .into_iter()
            .collect(),
    };
    let id = activity.id.clone();
    outbox::send(data, origin, &id, activity, recipients).await
}

#[async_trait::async_trait]
impl Activity for Move {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    /// Only the account that moves may announce it.
    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        if self.actor.inner() != self.object.inner() {
            return Err(Error::bad_request(
                "Move refused: only the account that moves may send its Move (actor must be object)",
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Context>) -> Result<()> {
        crate::service::moves::receive_move(
            data,
            self.actor.inner(),
            self.object.inner(),
            self.target.inner(),
        )
        .await
        .map(|_| ())
    }
}
