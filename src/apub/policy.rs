//! The federation policy as the federation crate sees it: every remote URL it
//! fetches from or delivers to passes [`PolicyVerifier`] first.

use crate::{
    config::FederationPolicy,
    db::{domain_policy, Db},
};
use activitypub_federation::{config::UrlVerifier, error::Error};
use url::Url;

/// Refuses URLs on hosts the policy does not allow.
#[derive(Clone)]
pub struct PolicyVerifier {
    pub db: Db,
    pub mode: FederationPolicy,
}

#[async_trait::async_trait]
impl UrlVerifier for PolicyVerifier {
    async fn verify(&self, url: &Url) -> Result<(), Error> {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return Err(Error::UrlVerificationError("URL has no host"));
        };
        let mode = self.mode;
        let allowed = self
            .db
            .run(move |conn| Ok(domain_policy::allows(conn, mode, &host)?))
            .await
            .map_err(|e| Error::Other(format!("policy check failed: {e}")))?;
        if allowed {
            Ok(())
        } else {
            Err(Error::UrlVerificationError(
                "host is not allowed by this instance's federation policy",
            ))
        }
    }
}
