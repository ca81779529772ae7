//! `Flag`: a report from another server, about our accounts or posts (or
//! posts shared in one of our communities). Stored once per id; the
//! moderators who handle it are told (`service::reports`).

use crate::{
    apub::{protocol::activity::Flag, Data},
    context::Context,
    error::{Error, Result},
    service::reports,
};
use activitypub_federation::traits::Activity;

#[async_trait::async_trait]
impl Activity for Flag {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        if self.object.is_empty() {
            return Err(Error::bad_request("a Flag must name what it reports"));
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let sender = self.actor.dereference(data).await?;
        reports::receive_flag(data, &sender, &self.id, self.object, self.content).await
    }
}
