//! Web Push rows: subscriptions (one per access token) and the durable
//! queue of pushes (`push_deliveries`), written in the transaction of the
//! notification it announces so that a crash never loses one.
//!
//! Claiming works as for federation deliveries (`delivery::claim`): a
//! lease (`claimed_until`) tagged with a fresh token; `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, a re-checking `UPDATE` on SQLite. A process
//! killed while sending leaves its rows leased; they are due again when
//! the lease runs out, in whichever process claims next.

use super::{
    notification::Notification,
    schema::{follows, notifications, oauth_tokens, push_deliveries, push_subscriptions},
    DbConn,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// One row of `push_subscriptions`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = push_subscriptions)]
pub struct PushSubscription {
    pub id: String,
    pub token_id: String,
    pub account_id: String,
    pub endpoint: String,
    /// base64url, no padding: a 65-byte uncompressed P-256 point.
    pub p256dh: String,
    /// base64url, no padding: 16 bytes.
    pub auth: String,
    /// RFC 8291 `aes128gcm` when true, the legacy `aesgcm` draft otherwise.
    pub standard: bool,
    /// `,mention,follow,`: see [`alerts_column`].
    pub alerts: String,
    pub policy: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PushSubscription {
    /// The alert types of the stored `alerts` column.
    pub fn alert_types(&self) -> Vec<&str> {
        self.alerts.split(',').filter(|a| !a.is_empty()).collect()
    }
}

/// The `alerts` column of a set of types: commas around each, so that one
/// `LIKE '%,type,%'` finds a type.
pub fn alerts_column<S: AsRef<str>>(types: &[S]) -> String {
    let mut out = String::from(",");
    for t in types {
        out.push_str(t.as_ref());
        out.push(',');
    }
    out
}

/// One row of `push_deliveries`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = push_deliveries)]
pub struct PushDelivery {
    pub subscription_id: String,
    pub notification_id: String,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub claim_token: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A claimed push with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedPush {
    pub delivery: PushDelivery,
    pub subscription: PushSubscription,
    pub notification: Notification,
}

impl PushSubscription {
    /// Stores `row` as its token's subscription, replacing any other (a
    /// token has at most one, as in Mastodon).
    pub fn replace(conn: &mut DbConn, row: &PushSubscription) -> QueryResult<()> {
        conn.transaction(|conn| {
            diesel::delete(
                push_subscriptions::table.filter(push_subscriptions::token_id.eq(&row.token_id)),
            )
            .execute(conn)?;
            diesel::insert_into(push_subscriptions::table)
                .values(row)
                .execute(conn)
                .map(|_| ())
        })
    }

    pub fn of_token(conn: &mut DbConn, token_id: &str) -> QueryResult<Option<PushSubscription>> {
        push_subscriptions::table
            .filter(push_subscriptions::token_id.eq(token_id))
            .first(conn)
            .optional()
    }

    /// Changes the alerts and policy of a token's subscription; `None`
    /// keeps a field.
    pub fn update(
        conn: &mut DbConn,
        token_id: &str,
        alerts: Option<&str>,
        policy: Option<&str>,
    ) -> QueryResult<usize> {
        let target = push_subscriptions::table.filter(push_subscriptions::token_id.eq(token_id));
        let now = super::now();
        match (alerts, policy) {
            (Some(a), Some(p)) => diesel::update(target)
                .set((
                    push_subscriptions::alerts.eq(a),
                    push_subscriptions::policy.eq(p),
                    push_subscriptions::updated_at.eq(now),
                ))
                .execute(conn),
            (Some(a), None) => diesel::update(target)
                .set((
                    push_subscriptions::alerts.eq(a),
                    push_subscriptions::updated_at.eq(now),
                ))
                .execute(conn),
            (None, Some(p)) => diesel::update(target)
                .set((
                    push_subscriptions::policy.eq(p),
                    push_subscriptions::updated_at.eq(now),
                ))
                .execute(conn),
            (None, None) => diesel::update(target)
                .set(push_subscriptions::updated_at.eq(now))
                .execute(conn),
        }
    }

    pub fn delete_of_token(conn: &mut DbConn, token_id: &str) -> QueryResult<usize> {
        diesel::delete(push_subscriptions::table.filter(push_subscriptions::token_id.eq(token_id)))
            .execute(conn)
    }

    /// Removes a subscription (its queued pushes go with it).
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(push_subscriptions::table.find(id)).execute(conn)
    }

    /// Removes the subscriptions of revoked tokens: revoking keeps the
    /// token row (so a reused token answers "revoked"), which the foreign
    /// key's cascade never sees.
    pub fn delete_of_revoked_tokens(conn: &mut DbConn) -> QueryResult<usize> {
        diesel::delete(
            push_subscriptions::table.filter(
                push_subscriptions::token_id.eq_any(
                    oauth_tokens::table
                        .filter(oauth_tokens::revoked_at.is_not_null())
                        .select(oauth_tokens::id),
                ),
            ),
        )
        .execute(conn)
    }
}

/// Queues a push of notification `notification_id` (of `kind`, to
/// `recipient_id`, caused by `actor_id`) for every subscription of the
/// recipient that wants that kind and whose policy admits the actor, in
/// one `INSERT … SELECT`. Runs in the notification's transaction.
pub fn enqueue(
    conn: &mut DbConn,
    notification_id: &str,
    recipient_id: &str,
    kind: &str,
    actor_id: &str,
) -> QueryResult<usize> {
    use diesel::dsl::exists;
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    let now = super::now();
    let accepted = super::follow::FollowState::Accepted.as_str();
    // "followed": the recipient follows the actor; "follower": the actor
    // follows the recipient.
    let recipient_follows = exists(
        follows::table
            .filter(follows::follower_id.eq(recipient_id.to_string()))
            .filter(follows::followee_id.eq(actor_id.to_string()))
            .filter(follows::state.eq(accepted)),
    );
    let actor_follows = exists(
        follows::table
            .filter(follows::follower_id.eq(actor_id.to_string()))
            .filter(follows::followee_id.eq(recipient_id.to_string()))
            .filter(follows::state.eq(accepted)),
    );
    let wanted = push_subscriptions::table
        .inner_join(oauth_tokens::table.on(oauth_tokens::id.eq(push_subscriptions::token_id)))
        .filter(push_subscriptions::account_id.eq(recipient_id.to_string()))
        .filter(oauth_tokens::revoked_at.is_null())
        .filter(push_subscriptions::alerts.like(format!("%,{kind},%")))
        .filter(
            push_subscriptions::policy
                .eq("all")
                .or(push_subscriptions::policy
                    .eq("followed")
                    .and(recipient_follows))
                .or(push_subscriptions::policy.eq("follower").and(actor_follows)),
        )
        .select((
            push_subscriptions::id,
            notification_id.to_string().into_sql::<Text>(),
            0i64.into_sql::<BigInt>(),
            now.into_sql::<Timestamp>(),
            None::<String>.into_sql::<Nullable<Text>>(),
            None::<NaiveDateTime>.into_sql::<Nullable<Timestamp>>(),
            None::<String>.into_sql::<Nullable<Text>>(),
            now.into_sql::<Timestamp>(),
        ));
    diesel::insert_into(push_deliveries::table)
        .values(wanted)
        .into_columns((
            push_deliveries::subscription_id,
            push_deliveries::notification_id,
            push_deliveries::attempts,
            push_deliveries::next_attempt_at,
            push_deliveries::claim_token,
            push_deliveries::claimed_until,
            push_deliveries::last_error,
            push_deliveries::created_at,
        ))
        .execute(conn)
}

/// Claims up to `limit` due, unleased pushes until `lease_until` with
/// `token`; how many were claimed.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    token: &str,
    limit: i64,
) -> QueryResult<usize> {
    macro_rules! candidates {
        () => {
            push_deliveries::table
                .filter(push_deliveries::next_attempt_at.le(now))
                .filter(
                    push_deliveries::claimed_until
                        .is_null()
                        .or(push_deliveries::claimed_until.lt(now)),
                )
                .order(push_deliveries::next_attempt_at.asc())
                .select((
                    push_deliveries::subscription_id,
                    push_deliveries::notification_id,
                ))
                .limit(limit)
        };
    }
    let mark = |conn: &mut DbConn, keys: Vec<(String, String)>| -> QueryResult<usize> {
        let mut marked = 0;
        for (subscription, notification) in keys {
            // Re-checks the lease: another claimer may have taken the row
            // between the read and this write (SQLite).
            marked += diesel::update(
                push_deliveries::table
                    .find((subscription, notification))
                    .filter(
                        push_deliveries::claimed_until
                            .is_null()
                            .or(push_deliveries::claimed_until.lt(now)),
                    ),
            )
            .set((
                push_deliveries::claim_token.eq(Some(token)),
                push_deliveries::claimed_until.eq(Some(lease_until)),
            ))
            .execute(conn)?;
        }
        Ok(marked)
    };
    match conn {
        DbConn::Postgresql(_) => conn.transaction(|conn| {
            let keys: Vec<(String, String)> = match conn {
                DbConn::Postgresql(pg) => candidates!().for_update().skip_locked().load(pg)?,
                DbConn::Sqlite(sqlite) => candidates!().load(sqlite)?,
            };
            mark(conn, keys)
        }),
        DbConn::Sqlite(sqlite) => {
            let keys: Vec<(String, String)> = candidates!().load(sqlite)?;
            mark(conn, keys)
        }
    }
}

/// The pushes claimed with `token`, with their subscription and
/// notification.
pub fn claimed(conn: &mut DbConn, token: &str) -> QueryResult<Vec<ClaimedPush>> {
    let rows: Vec<(PushDelivery, PushSubscription)> = push_deliveries::table
        .inner_join(push_subscriptions::table)
        .filter(push_deliveries::claim_token.eq(token))
        .select((PushDelivery::as_select(), PushSubscription::as_select()))
        .order(push_deliveries::next_attempt_at.asc())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (delivery, subscription) in rows {
        let notification: Option<Notification> = notifications::table
            .find(&delivery.notification_id)
            .select(Notification::as_select())
            .first(conn)
            .optional()?;
        // The cascade removes a dismissed notification's pushes; a row
        // still here without one was claimed as it went.
        if let Some(notification) = notification {
            out.push(ClaimedPush {
                delivery,
                subscription,
                notification,
            });
        }
    }
    Ok(out)
}

/// Whether a token is still live (not revoked, not deleted).
pub fn token_live(conn: &mut DbConn, token_id: &str) -> QueryResult<bool> {
    let n: i64 = oauth_tokens::table
        .filter(oauth_tokens::id.eq(token_id))
        .filter(oauth_tokens::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A push was accepted (or given up): its row goes.
pub fn finish(conn: &mut DbConn, subscription_id: &str, notification_id: &str) -> QueryResult<()> {
    diesel::delete(push_deliveries::table.find((subscription_id, notification_id)))
        .execute(conn)
        .map(|_| ())
}

/// A failed attempt: tried again at `next_attempt_at`, lease released.
pub fn retry_later(
    conn: &mut DbConn,
    subscription_id: &str,
    notification_id: &str,
    attempts: i64,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(push_deliveries::table.find((subscription_id, notification_id)))
        .set((
            push_deliveries::attempts.eq(attempts),
            push_deliveries::next_attempt_at.eq(next_attempt_at),
            push_deliveries::claim_token.eq(None::<String>),
            push_deliveries::claimed_until.eq(None::<NaiveDateTime>),
            push_deliveries::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How many pushes wait (for tests and metrics).
pub fn queued(conn: &mut DbConn) -> QueryResult<i64> {
    push_deliveries::table.count().get_result(conn)
}

/// The instance setting `key`, set to `generated` first if absent (one
/// statement, so processes starting together keep one value); the value
/// that is stored.
pub fn vapid_key_pem(conn: &mut DbConn, key: &str, generated: &str) -> QueryResult<String> {
    use super::{instance_setting::InstanceSetting, schema::instance_settings};
    let row = InstanceSetting {
        key: key.to_string(),
        value: generated.to_string(),
        updated_at: super::now(),
    };
    crate::per_backend!(conn, |c| diesel::insert_into(instance_settings::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    instance_settings::table
        .find(key)
        .select(instance_settings::value)
        .first(conn)
}
