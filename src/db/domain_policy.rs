//! The instance's federation policy: domains allowed (allowlist mode) or
//! blocked (open mode).

use super::{schema::domain_policies, DbConn};
use diesel::prelude::*;

/// What the admin said about a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyAction {
    Allow,
    Block,
}

impl PolicyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Allow => "allow",
            PolicyAction::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<PolicyAction> {
        match s {
            "allow" => Some(PolicyAction::Allow),
            "block" => Some(PolicyAction::Block),
            _ => None,
        }
    }
}

/// One row of `domain_policies`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = domain_policies)]
pub struct DomainPolicy {
    /// A host name, lower-case, without port.
    pub domain: String,
    pub action: String,
    pub created_at: chrono::NaiveDateTime,
}

impl DomainPolicy {
    pub fn action(&self) -> Option<PolicyAction> {
        PolicyAction::parse(&self.action)
    }

    pub fn by_domain(conn: &mut DbConn, domain: &str) -> QueryResult<Option<DomainPolicy>> {
        domain_policies::table.find(domain).first(conn).optional()
    }

    /// Sets the action for a domain, replacing any earlier one.
    pub fn set(conn: &mut DbConn, domain: &str, action: PolicyAction) -> QueryResult<()> {
        conn.transaction(|conn| {
            diesel::delete(domain_policies::table.find(domain)).execute(conn)?;
            diesel::insert_into(domain_policies::table)
                .values(&DomainPolicy {
                    domain: domain.to_string(),
                    action: action.as_str().to_string(),
                    created_at: super::now(),
                })
                .execute(conn)
                .map(|_| ())
        })
    }

    /// Removes what was said about a domain; `false` if nothing was.
    pub fn remove(conn: &mut DbConn, domain: &str) -> QueryResult<bool> {
        Ok(diesel::delete(domain_policies::table.find(domain)).execute(conn)? > 0)
    }

    pub fn list(conn: &mut DbConn) -> QueryResult<Vec<DomainPolicy>> {
        domain_policies::table
            .order(domain_policies::domain.asc())
            .load(conn)
    }
}

/// Whether the policy lets this instance federate with `host` (lower-case,
/// without port): in `open` mode every host not blocked, in `allowlist` mode
/// only hosts allowed.
///
/// `mode` is the configuration file's; an admin's choice on the admin page
/// ([`effective_mode`]) overrides it, read here so that every process over
/// one database follows it at once.
pub fn allows(
    conn: &mut DbConn,
    mode: crate::config::FederationPolicy,
    host: &str,
) -> QueryResult<bool> {
    let mode = effective_mode(conn, mode)?;
    let action =
        DomainPolicy::by_domain(conn, &host.to_ascii_lowercase())?.and_then(|p| p.action());
    Ok(match mode {
        crate::config::FederationPolicy::Open => action != Some(PolicyAction::Block),
        crate::config::FederationPolicy::Allowlist => action == Some(PolicyAction::Allow),
    })
}

/// The `instance_settings` key of the admin's choice of mode.
pub const MODE_SETTING: &str = "federation.policy";

/// The federation mode in force: the admin's choice if they made one, else
/// `configured`.
pub fn effective_mode(
    conn: &mut DbConn,
    configured: crate::config::FederationPolicy,
) -> QueryResult<crate::config::FederationPolicy> {
    use super::schema::instance_settings;
    let chosen: Option<String> = instance_settings::table
        .find(MODE_SETTING)
        .select(instance_settings::value)
        .first(conn)
        .optional()?;
    Ok(match chosen.as_deref() {
        Some("open") => crate::config::FederationPolicy::Open,
        Some("allowlist") => crate::config::FederationPolicy::Allowlist,
        _ => configured,
    })
}
