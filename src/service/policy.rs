//! The instance's federation policy, as the admin sets it.

use crate::{
    config::FederationPolicy,
    db::{
        domain_policy::{self, DomainPolicy, PolicyAction},
        Db,
    },
    error::{Error, Result},
};

/// Normalises what an admin typed: a host name, lower-case, without scheme,
/// port or path (`https://Social.Example:443/x` → `social.example`).
pub fn normalize_domain(input: &str) -> Result<String> {
    let trimmed = input.trim();
    let host = match url::Url::parse(trimmed) {
        Ok(url) if url.host_str().is_some() && trimmed.contains("://") => {
            url.host_str().unwrap_or_default().to_string()
        }
        _ => crate::config::host_of(trimmed).to_string(),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !valid {
        return Err(Error::unprocessable(format!(
            "`{input}` is not a domain name"
        )));
    }
    Ok(host)
}

/// Allows (allowlist mode) or blocks (open mode) a domain.
///
/// Errors: `Unprocessable` for something that is not a domain.
pub async fn set(db: &Db, domain: &str, action: PolicyAction) -> Result<String> {
    let domain = normalize_domain(domain)?;
    let d = domain.clone();
    db.run(move |conn| Ok(DomainPolicy::set(conn, &d, action)?))
        .await?;
    Ok(domain)
}

/// Forgets what was said about a domain.
///
/// Errors: `NotFound` when nothing was.
pub async fn remove(db: &Db, domain: &str) -> Result<String> {
    let domain = normalize_domain(domain)?;
    let d = domain.clone();
    let removed = db
        .run(move |conn| Ok(DomainPolicy::remove(conn, &d)?))
        .await?;
    if removed {
        Ok(domain)
    } else {
        Err(Error::not_found(format!("no policy for {domain}")))
    }
}

/// The federation mode in force: an admin's choice (admin page) over the
/// configuration file's `federation.policy`.
pub async fn mode(db: &Db, configured: FederationPolicy) -> Result<FederationPolicy> {
    db.run(move |conn| Ok(domain_policy::effective_mode(conn, configured)?))
        .await
}

/// Switches the federation mode for every process over this database.
/// In allowlist mode only allowed hosts are talked to; blocked hosts are
/// refused in both.
pub async fn set_mode(db: &Db, mode: FederationPolicy) -> Result<()> {
    let value = match mode {
        FederationPolicy::Open => "open",
        FederationPolicy::Allowlist => "allowlist",
    };
    db.run(move |conn| {
        Ok(crate::db::instance_setting::InstanceSetting::set(
            conn,
            domain_policy::MODE_SETTING,
            value,
        )?)
    })
    .await
}

/// Every domain with a policy, alphabetically.
pub async fn list(db: &Db) -> Result<Vec<DomainPolicy>> {
    db.run(|conn| Ok(DomainPolicy::list(conn)?)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            normalize_domain("Social.Example").unwrap(),
            "social.example"
        );
        assert_eq!(
            normalize_domain("https://social.example:443/about").unwrap(),
            "social.example"
        );
        assert_eq!(
            normalize_domain("beta.localhost:4000").unwrap(),
            "beta.localhost"
        );
        for bad in ["", "not a domain", "a..b", "@x"] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
    }
}
