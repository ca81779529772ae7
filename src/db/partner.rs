//! Partner instances (`partner_instances`, issue 13 §5): hosts an admin
//! names as partner organisations. The rules (what a host is, who may add
//! one) are `service::partners`'s; the timeline over them is
//! `db::timeline::partners_posts`.

use super::{schema::partner_instances, DbConn};
use diesel::prelude::*;

/// One row of `partner_instances`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = partner_instances)]
pub struct PartnerInstance {
    /// `host[:port]`, normalised as `actors.domain` is stored.
    pub host: String,
    pub added_by: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

impl PartnerInstance {
    /// Names `host` a partner; `false` when it already was (adding twice
    /// keeps the first row, so who added it and when stay true).
    pub fn add(conn: &mut DbConn, host: &str, added_by: Option<&str>) -> QueryResult<bool> {
        conn.transaction(|conn| {
            let exists = partner_instances::table
                .find(host)
                .select(partner_instances::host)
                .first::<String>(conn)
                .optional()?
                .is_some();
            if exists {
                return Ok(false);
            }
            diesel::insert_into(partner_instances::table)
                .values(&PartnerInstance {
                    host: host.to_string(),
                    added_by: added_by.map(str::to_string),
                    created_at: super::now(),
                })
                .execute(conn)?;
            Ok(true)
        })
    }

    /// Forgets a partner; `false` when `host` was none.
    pub fn remove(conn: &mut DbConn, host: &str) -> QueryResult<bool> {
        Ok(diesel::delete(partner_instances::table.find(host)).execute(conn)? > 0)
    }

    /// Every partner, alphabetically.
    pub fn list(conn: &mut DbConn) -> QueryResult<Vec<PartnerInstance>> {
        partner_instances::table
            .order(partner_instances::host.asc())
            .select(PartnerInstance::as_select())
            .load(conn)
    }

    /// Whether the instance has any partner (the list alias is offered
    /// only then).
    pub fn any(conn: &mut DbConn) -> QueryResult<bool> {
        Ok(partner_instances::table
            .select(partner_instances::host)
            .first::<String>(conn)
            .optional()?
            .is_some())
    }
}
