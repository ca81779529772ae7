//! The address a request came from, as the rate limits and the sessions
//! list need it.
//!
//! Behind a reverse proxy every connection comes from the proxy, so limits
//! keyed on the peer address would put all visitors in one bucket (one
//! person's failed logins would lock everyone out). The proxy says who the
//! client was in `X-Forwarded-For`, but anyone can send that header, so it
//! is believed only from `http.trusted_proxies`, and read from the right:
//! the first address that is not itself a trusted proxy is the client (the
//! entries left of it were written by the client and may be forged).

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::config::HttpConfig;

/// The client's address of `req`, seen through the proxies of
/// `http.trusted_proxies`; "unknown" when the connection has no peer
/// address (never on TCP).
pub fn of(req: &HttpRequest, http: &HttpConfig) -> String {
    let trusted = http.trusted_networks();
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    behind_proxies(peer, &forwarded, &trusted).to_string()
}

/// The rule of [`of`] on plain values.
fn behind_proxies(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.rsplit(',') {
        match parse_entry(entry) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            // A garbled entry ends what can be believed: the last trusted
            // hop is the best answer.
            None => return client,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`1.2.3.4:5678`, `[::1]:5678`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            behind_proxies(ip("203.0.113.9"), "198.51.100.1", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "198.51.100.1", &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_from_the_right() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        // The client forged the leftmost entry; the proxies appended the rest.
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "1.1.1.1, 198.51.100.7, 10.1.2.3", &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "[2001:db8::1]:443", &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "198.51.100.7:51000", &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn missing_or_garbled_headers_fall_back_to_the_last_trusted_hop() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "", &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), "nonsense, 10.0.0.5", &trusted),
            ip("10.0.0.5")
        );
    }
}
