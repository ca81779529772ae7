//! What software remote hosts run, as their NodeInfo says, cached.

use super::{schema::host_software, DbConn};
use diesel::prelude::*;

/// One row of `host_software`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = host_software)]
pub struct HostSoftware {
    /// `host[:port]`.
    pub domain: String,
    /// NodeInfo `software.name`, lower-case; `unknown` when it had none.
    pub software: String,
    pub fetched_at: chrono::NaiveDateTime,
}

impl HostSoftware {
    pub fn by_domain(conn: &mut DbConn, domain: &str) -> QueryResult<Option<HostSoftware>> {
        host_software::table.find(domain).first(conn).optional()
    }

    /// Records (or replaces) what a host runs.
    pub fn set(conn: &mut DbConn, domain: &str, software: &str) -> QueryResult<()> {
        diesel::delete(host_software::table.find(domain)).execute(conn)?;
        diesel::insert_into(host_software::table)
            .values(&HostSoftware {
                domain: domain.to_string(),
                software: software.to_string(),
                fetched_at: super::now(),
            })
            .execute(conn)
            .map(|_| ())
    }
}
