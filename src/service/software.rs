//! What software a remote host runs, from its NodeInfo, cached for a day.
//! Communities use it to tell group-aware servers (which understand an
//! `Announce` wrapping any activity) from microblogs (which show every
//! `Announce` as a boost in home timelines).

use crate::{apub::Data, context::Context, db::host_software::HostSoftware, error::Result};
use chrono::TimeDelta;
use serde::Deserialize;

/// How long a host's answer is trusted.
pub const CACHE_FOR: TimeDelta = TimeDelta::days(1);

/// Servers that implement FEP-1b12 groups.
const GROUP_AWARE: &[&str] = &[
    "outloud",
    "lemmy",
    "mbin",
    "kbin",
    "friendica",
    "piefed",
    "nodebb",
    "hubzilla",
];

/// Whether software of this name understands group `Announce`s of
/// activities (FEP-1b12). Unknown software is treated as a microblog.
pub fn is_group_aware(software: &str) -> bool {
    GROUP_AWARE.contains(&software)
}

#[derive(Deserialize)]
struct Links {
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    rel: String,
    href: String,
}

#[derive(Deserialize)]
struct NodeInfo {
    software: Software,
}

#[derive(Deserialize)]
struct Software {
    name: String,
}

/// The software name of `domain` (`host[:port]`), lower-case, or `unknown`
/// when it publishes no NodeInfo. Cached; a failed lookup is cached too, so
/// an unresponsive host costs one request a day.
pub async fn of_host(data: &Data<Context>, domain: &str) -> Result<String> {
    let key = domain.to_string();
    let cached = data
        .db
        .run(move |conn| Ok(HostSoftware::by_domain(conn, &key)?))
        .await?;
    if let Some(cached) = cached {
        if crate::db::now() - cached.fetched_at < CACHE_FOR {
            return Ok(cached.software);
        }
    }
    let software = fetch(data, domain).await.unwrap_or_else(|e| {
        tracing::debug!(%domain, error = %e, "no NodeInfo");
        "unknown".to_string()
    });
    let (key, name) = (domain.to_string(), software.clone());
    data.db
        .run(move |conn| Ok(HostSoftware::set(conn, &key, &name)?))
        .await?;
    Ok(software)
}

async fn fetch(data: &Data<Context>, domain: &str) -> anyhow::Result<String> {
    let url = format!("{}://{domain}/.well-known/nodeinfo", data.config.scheme());
    let links: Links = data
        .http
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let href = links
        .links
        .iter()
        .find(|l| {
            l.rel
                .starts_with("http://nodeinfo.diaspora.software/ns/schema/2.")
        })
        .map(|l| l.href.clone())
        .ok_or_else(|| anyhow::anyhow!("no NodeInfo 2.x link"))?;
    // The document must live on the host it describes.
    let parsed = url::Url::parse(&href)?;
    if crate::apub::objects::actor::domain_of(&parsed) != domain {
        anyhow::bail!("NodeInfo link points to another host");
    }
    let info: NodeInfo = data
        .http
        .get(href)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(info.software.name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_awareness() {
        assert!(is_group_aware("lemmy"));
        assert!(is_group_aware("outloud"));
        assert!(!is_group_aware("mastodon"));
        assert!(!is_group_aware("unknown"));
    }
}
