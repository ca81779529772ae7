//! `Context`: everything a request, a delivery or an inbox handler needs.
//!
//! It is the federation crate's "app data": handlers receive it as
//! `Data<Context>`. Cheap to clone; no globals, so several instances can run
//! in one process (the integration tests do).

use crate::{config::Config, db::actor::Actor, db::Db, delivery::Delivery, urls::Urls};
use std::sync::Arc;

#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub config: Arc<Config>,
    pub urls: Urls,
    /// The instance actor (FEP-2677): signs fetches, owns instance-level
    /// activities.
    pub instance_actor: Arc<Actor>,
    /// The outbound delivery queue's client, limits and metrics.
    pub delivery: Arc<Delivery>,
    /// The HTTP client for plain requests to other servers (NodeInfo);
    /// ActivityPub fetches go through the federation crate, which uses the
    /// same client.
    pub http: reqwest_middleware::ClientWithMiddleware,
    /// Login and client-API rate limits of this process.
    pub limits: Arc<crate::ratelimit::Limits>,
    /// The streaming API's open connections in this process.
    pub streams: Arc<crate::streaming::Hub>,
    /// Where uploaded media files are kept (`[media] store`).
    pub media: Arc<dyn crate::media::MediaStore>,
    /// Web Push: the VAPID key every process on the database shares.
    pub push: Arc<crate::push::Push>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("domain", &self.urls.domain())
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}
