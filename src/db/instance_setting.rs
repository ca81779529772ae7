//! Instance settings an admin changed on the admin page, as key/value rows
//! over the configuration file's values (`service::instance::identity`).

use super::{schema::instance_settings, DbConn};
use diesel::prelude::*;

/// One row of `instance_settings`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = instance_settings)]
pub struct InstanceSetting {
    pub key: String,
    pub value: String,
    pub updated_at: chrono::NaiveDateTime,
}

impl InstanceSetting {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<InstanceSetting>> {
        instance_settings::table.load(conn)
    }

    /// Sets `key` to `value`, replacing what was there.
    pub fn set(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
        conn.transaction(|conn| {
            diesel::delete(instance_settings::table.find(key)).execute(conn)?;
            diesel::insert_into(instance_settings::table)
                .values(&InstanceSetting {
                    key: key.to_string(),
                    value: value.to_string(),
                    updated_at: super::now(),
                })
                .execute(conn)
                .map(|_| ())
        })
    }
}
