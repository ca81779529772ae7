//! The HTTP client used for every request to another server.
//!
//! In production it uses the federation crate's validating DNS resolver,
//! which refuses names that resolve to loopback or private addresses (SSRF,
//! DNS rebinding). In dev mode it instead resolves every name under
//! `.localhost` to 127.0.0.1 (RFC 6761), so test instances can have distinct
//! host names (`alpha.localhost`, `beta.localhost`) on one machine — which
//! origin checks, policy and per-host fairness all need (DESIGN §7).

use activitypub_federation::resolver::ValidatingDnsResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

/// Per-request timeout for federation traffic.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an idle connection to another server is kept for reuse.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// Resolves `localhost` and `*.localhost` to 127.0.0.1 and everything else
/// through the system resolver. Dev mode and tests only.
#[derive(Debug, Clone, Default)]
pub struct LocalhostResolver;

impl Resolve for LocalhostResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if crate::config::is_localhost(&host) {
                let addrs: Addrs =
                    Box::new(std::iter::once(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))));
                return Ok(addrs);
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The `User-Agent` Outloud sends: software, version and where it runs.
pub fn user_agent(domain: &str) -> String {
    format!(
        "Outloud/{} (+{domain})",
        env!("CARGO_PKG_VERSION"),
        domain = domain
    )
}

/// Builds the federation client. Redirects are not followed (an object must
/// be served from its own id), and every request has a timeout.
pub fn build(dev_mode: bool, domain: &str) -> reqwest::Result<ClientWithMiddleware> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        // Drop idle connections before common servers do (actix-web closes
        // after 5 s, nginx after 75 s): reusing one the server has just
        // closed fails a POST outright, which would cost a delivery a retry.
        .pool_idle_timeout(IDLE_TIMEOUT)
        .user_agent(user_agent(domain));
    let builder = if dev_mode {
        builder.dns_resolver(Arc::new(LocalhostResolver))
    } else {
        builder.dns_resolver(Arc::new(ValidatingDnsResolver::new(vec![], true)))
    };
    Ok(builder.build()?.into())
}
