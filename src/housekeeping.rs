//! Deleting bookkeeping that has served its purpose, so the database does
//! not grow with every delivery ever made.
//!
//! Three kinds of rows are only useful for a while:
//! - finished deliveries (delivered, or given up on): they answer "what
//!   reached whom" for `outloud admin deliveries` and
//!   `service::deliveries::activity_status`;
//! - sent activities (`outbound_activities`) once no delivery refers to
//!   them; queued deliveries always keep theirs;
//! - ids of received activities: the inbox's duplicate check, which only
//!   has to outlast the 12-hour window of the `Date` header;
//! - expired OAuth authorization codes, kept after use so that a replayed
//!   code is recognised (and its tokens revoked) while it could matter.
//!
//! Besides, OpenID Connect sign-ins never finished are deleted an hour
//! after they started ([`prune_oidc_logins`]), and uploaded media attached to no status is deleted (row and
//! files) a day after upload ([`prune_media`], `service::media::prune_orphans`),
//! whatever `keep_days` says.
//!
//! All four are kept `housekeeping.keep_days` days (default 30). Every
//! `serve` process prunes once an hour, in batches of [`BATCH`] rows, each
//! its own short statement, so the queue's workers never wait behind a long
//! delete. Several processes pruning at once only delete the same rows.

use crate::{
    context::Context,
    db::{self, delivery, received_activity, Db},
    error::Result,
};
use chrono::{NaiveDateTime, TimeDelta};
use std::time::Duration;
use tracing::Instrument;

/// Rows deleted per statement.
pub const BATCH: i64 = 1_000;

/// How often a process prunes.
pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub deliveries: usize,
    pub activities: usize,
    pub received: usize,
    pub codes: usize,
}

/// Deletes everything older than `keep_days` before `now`; `keep_days = 0`
/// deletes nothing.
pub async fn prune(db: &Db, now: NaiveDateTime, keep_days: u32) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    if keep_days == 0 {
        return Ok(pruned);
    }
    let before = now - TimeDelta::days(i64::from(keep_days));
    // Deliveries first: an activity becomes unused once its last finished
    // delivery is gone.
    pruned.deliveries = in_batches(db, move |conn| {
        delivery::Delivery::prune_finished(conn, before, BATCH)
    })
    .await?;
    pruned.activities = in_batches(db, move |conn| {
        delivery::OutboundActivity::prune_unused(conn, before, BATCH)
    })
    .await?;
    pruned.received = in_batches(db, move |conn| {
        received_activity::prune(conn, before, BATCH)
    })
    .await?;
    pruned.codes = in_batches(db, move |conn| {
        db::oauth::OauthCode::prune_expired(conn, before, BATCH)
    })
    .await?;
    Ok(pruned)
}

/// Runs `step` until it deletes less than a full batch; returns the total.
async fn in_batches<F>(db: &Db, step: F) -> Result<usize>
where
    F: Fn(&mut db::DbConn) -> diesel::QueryResult<usize> + Clone + Send + 'static,
{
    let mut total = 0;
    loop {
        let step = step.clone();
        let deleted = db.run(move |conn| Ok(step(conn)?)).await?;
        total += deleted;
        if (deleted as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Deletes uploads that no status attached within a day of `now`, with
/// their files; returns how many.
pub async fn prune_media(ctx: &Context, now: NaiveDateTime) -> Result<usize> {
    crate::service::media::prune_orphans(ctx, now).await
}

/// Deletes OpenID Connect sign-ins started more than an hour before `now`
/// (they expire after `service::oidc::LOGIN_MINUTES`; the hour leaves
/// room for clocks); returns how many. Whatever `keep_days` says: an
/// unfinished sign-in is of no use to anyone.
pub async fn prune_oidc_logins(db: &Db, now: NaiveDateTime) -> Result<usize> {
    let before = now - TimeDelta::hours(1);
    in_batches(db, move |conn| {
        db::oidc::OidcLogin::prune(conn, before, BATCH)
    })
    .await
}

/// The background task of `serve`: prunes a minute after start (not at
/// once, to keep start-up quick), then every [`INTERVAL`].
pub fn spawn(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let keep_days = ctx.config.housekeeping.keep_days;
        if keep_days == 0 {
            tracing::info!("housekeeping of bookkeeping rows off: housekeeping.keep_days = 0");
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        let mut ticks = tokio::time::interval(INTERVAL);
        loop {
            ticks.tick().await;
            match prune_media(&ctx, db::now())
                .instrument(tracing::info_span!("housekeeping_media"))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(media = n, "pruned unattached media uploads"),
                Err(e) => tracing::warn!(error = ?e, "pruning media failed"),
            }
            match prune_oidc_logins(&ctx.db, db::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(logins = n, "pruned unfinished OpenID Connect sign-ins"),
                Err(e) => tracing::warn!(error = ?e, "pruning OpenID Connect sign-ins failed"),
            }
            if keep_days == 0 {
                continue;
            }
            let span = tracing::info_span!("housekeeping", keep_days);
            match prune(&ctx.db, db::now(), keep_days).instrument(span).await {
                Ok(pruned) if pruned == Pruned::default() => {}
                Ok(pruned) => tracing::info!(
                    deliveries = pruned.deliveries,
                    activities = pruned.activities,
                    received = pruned.received,
                    codes = pruned.codes,
                    "pruned old bookkeeping rows"
                ),
                Err(e) => tracing::warn!(error = ?e, "housekeeping failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{
            delivery::{Delivery, DeliveryState, OutboundActivity},
            local_user::Role,
            migrations, new_id,
        },
        service::accounts::{create_user, NewUser},
        testing::for_each_backend,
    };
    use diesel::prelude::*;

    fn days_ago(now: NaiveDateTime, days: i64) -> NaiveDateTime {
        now - TimeDelta::days(days)
    }

    /// An activity created `age` days ago with one delivery per state given.
    fn activity(
        conn: &mut db::DbConn,
        sender: &str,
        now: NaiveDateTime,
        age: i64,
        states: &[DeliveryState],
    ) -> String {
        let at = days_ago(now, age);
        let id = new_id();
        OutboundActivity::insert(
            conn,
            &OutboundActivity {
                id: id.clone(),
                ap_id: format!("http://alpha.localhost:1/activities/{id}"),
                sender_actor_id: sender.to_string(),
                json: "{}".into(),
                created_at: at,
            },
        )
        .unwrap();
        let rows = states
            .iter()
            .enumerate()
            .map(|(n, state)| Delivery {
                state: state.as_str().into(),
                ..Delivery::queued(&id, &format!("http://h{n}.localhost/inbox"), "h", at)
            })
            .collect();
        Delivery::insert_new(conn, rows).unwrap();
        id
    }

    fn count_deliveries(conn: &mut db::DbConn, activity: &str) -> i64 {
        db::schema::deliveries::table
            .filter(db::schema::deliveries::activity_id.eq(activity))
            .count()
            .get_result(conn)
            .unwrap()
    }

    fn activity_exists(conn: &mut db::DbConn, id: &str) -> bool {
        db::schema::outbound_activities::table
            .find(id)
            .count()
            .get_result::<i64>(conn)
            .unwrap()
            == 1
    }

    #[test]
    fn prunes_only_old_finished_rows() {
        for_each_backend("housekeeping", |db| {
            let mut conn = db.get().unwrap();
            migrations::run_pending(&mut conn).unwrap();
            let now = db::now();
            let rt = tokio::runtime::Runtime::new().unwrap();
            let urls = crate::urls::Urls::new("http", "alpha.localhost:1").unwrap();
            let new = NewUser {
                name: "ana",
                password: "long enough",
                role: Role::User,
            };
            let sender = rt.block_on(create_user(db, &urls, new)).unwrap();
            use DeliveryState::{Delivered, Failed, Queued};
            // Old and finished: deliveries and activity go.
            let old_done = activity(&mut conn, &sender.id, now, 40, &[Delivered, Failed]);
            // Old, one delivery still queued (a parked host): the queued
            // row and its activity stay, the finished one goes.
            let old_mixed = activity(&mut conn, &sender.id, now, 40, &[Delivered, Queued]);
            // Recent: everything stays.
            let recent = activity(&mut conn, &sender.id, now, 3, &[Delivered, Failed]);
            for (n, age) in [(1, 40), (2, 3)] {
                diesel::insert_into(db::schema::received_activities::table)
                    .values((
                        db::schema::received_activities::ap_id
                            .eq(format!("http://beta.localhost:1/activities/{n}")),
                        db::schema::received_activities::received_at.eq(days_ago(now, age)),
                    ))
                    .execute(&mut conn)
                    .unwrap();
            }
            drop(conn);

            // keep_days = 0 keeps everything.
            let none = rt.block_on(prune(db, now, 0)).unwrap();
            assert_eq!(none, Pruned::default());

            let pruned = rt.block_on(prune(db, now, 30)).unwrap();
            assert_eq!(
                pruned,
                Pruned {
                    deliveries: 3,
                    activities: 1,
                    received: 1,
                    codes: 0,
                }
            );
            let mut conn = db.get().unwrap();
            assert!(!activity_exists(&mut conn, &old_done));
            assert_eq!(count_deliveries(&mut conn, &old_done), 0);
            assert!(activity_exists(&mut conn, &old_mixed));
            assert_eq!(count_deliveries(&mut conn, &old_mixed), 1);
            assert!(activity_exists(&mut conn, &recent));
            assert_eq!(count_deliveries(&mut conn, &recent), 2);
            let seen = url::Url::parse("http://beta.localhost:1/activities/2").unwrap();
            assert!(received_activity::seen(&mut conn, &seen).unwrap());
            drop(conn);

            // A second pass finds nothing more.
            let again = rt.block_on(prune(db, now, 30)).unwrap();
            assert_eq!(again, Pruned::default());
        });
    }

    #[test]
    fn prunes_unfinished_oidc_sign_ins_once_stale() {
        use crate::db::oidc::OidcLogin;
        for_each_backend("housekeeping_oidc", |db| {
            let mut conn = db.get().unwrap();
            migrations::run_pending(&mut conn).unwrap();
            let now = db::now();
            for (state, minutes) in [("old", 90), ("fresh", 5)] {
                let login = OidcLogin {
                    state_hash: state.into(),
                    nonce: "n".into(),
                    pkce_verifier: "v".into(),
                    return_to: "/home".into(),
                    created_at: now - TimeDelta::minutes(minutes),
                };
                OidcLogin::insert(&mut conn, &login).unwrap();
            }
            drop(conn);
            let rt = tokio::runtime::Runtime::new().unwrap();
            assert_eq!(rt.block_on(prune_oidc_logins(db, now)).unwrap(), 1);
            let mut conn = db.get().unwrap();
            assert!(OidcLogin::take(&mut conn, "old").unwrap().is_none());
            // Single use: the second take finds nothing.
            assert!(OidcLogin::take(&mut conn, "fresh").unwrap().is_some());
            assert!(OidcLogin::take(&mut conn, "fresh").unwrap().is_none());
        });
    }
}
