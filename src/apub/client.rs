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

/// Why a plain fetch of another server's file (the media proxy's) failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL may not be fetched at all: not http(s), or a loopback,
    /// private or otherwise internal address outside dev mode.
    #[error("refused to fetch {0}")]
    Refused(String),
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the remote server answered {0}")]
    Status(u16),
    #[error("too many redirects")]
    Redirects,
    #[error("fetching failed: {0}")]
    Network(String),
}

/// Whether `ip` is an address other servers' files may live at: not
/// loopback, private, link-local, shared (CGNAT), unspecified, multicast,
/// documentation or IPv6 unique-local space. The resolver checks names;
/// this checks addresses written into URLs, which no resolver sees.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks a URL before a plain fetch: http(s) only and, outside dev mode,
/// no internal address literal (names are checked by the resolver).
pub fn check_fetchable(url: &url::Url, dev_mode: bool) -> Result<(), FetchError> {
    let refused = || FetchError::Refused(url.to_string());
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused());
    }
    match url.host() {
        None => Err(refused()),
        Some(_) if dev_mode => Ok(()),
        Some(url::Host::Ipv4(ip)) if !is_public_ip(ip.into()) => Err(refused()),
        Some(url::Host::Ipv6(ip)) if !is_public_ip(ip.into()) => Err(refused()),
        Some(url::Host::Domain(d)) if crate::config::is_localhost(&d.to_ascii_lowercase()) => {
            Err(refused())
        }
        Some(_) => Ok(()),
    }
}

/// Most redirects [`fetch_capped`] follows (each target checked again).
const MAX_REDIRECTS: usize = 3;

/// GETs a file from another server through `client` (its resolver refuses
/// internal addresses outside dev mode), following at most
/// [`MAX_REDIRECTS`] redirects, each checked with [`check_fetchable`], and
/// reading at most `max_bytes` of body: a larger declared or actual body
/// fails with `TooLarge` before more is read. The client's timeouts
/// bound every request.
pub async fn fetch_capped(
    client: &ClientWithMiddleware,
    url: &url::Url,
    dev_mode: bool,
    max_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        check_fetchable(&current, dev_mode)?;
        let mut response = client
            .get(current.clone())
            .header(reqwest::header::ACCEPT, "image/*, video/*, audio/*")
            .send()
            .await
            .map_err(|e| FetchError::Network(e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or(FetchError::Status(status.as_u16()))?;
            current = current
                .join(location)
                .map_err(|_| FetchError::Refused(location.to_string()))?;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Network(e.to_string()))?
        {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(FetchError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(body);
    }
    Err(FetchError::Redirects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_outside_dev_mode() {
        for bad in [
            "http://127.0.0.1/a.png",
            "http://10.1.2.3/a.png",
            "http://192.168.0.1/a.png",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/a.png",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/a.png",
            "http://x.localhost/a.png",
            "file:///etc/passwd",
            "ftp://example.com/a.png",
        ] {
            let url = url::Url::parse(bad).unwrap();
            assert!(check_fetchable(&url, false).is_err(), "{bad} was allowed");
        }
        for good in ["https://files.example/a.png", "http://93.184.216.34/a.png"] {
            let url = url::Url::parse(good).unwrap();
            assert!(check_fetchable(&url, false).is_ok(), "{good} was refused");
        }
        let local = url::Url::parse("http://alpha.localhost:8080/a.png").unwrap();
        assert!(check_fetchable(&local, true).is_ok());
    }
}
