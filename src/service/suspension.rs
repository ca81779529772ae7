//! Suspending and reinstating local accounts, from the admin page or the
//! command line (`outloud admin suspend|unsuspend`).
//!
//! A suspension takes effect here at once (no sign-in, no session, no
//! token) and is federated as Mastodon federates it: an `Update` of the
//! actor to its followers' servers, whose document now carries
//! `suspended: true` and none of the profile. It is not a `Delete`: a
//! suspension can be undone, and servers that receive a `Delete` of an actor
//! drop the account and its follows for good; Mastodon keeps the `Delete`
//! for the account's deletion. Reinstating sends an `Update` again, without
//! the flag and with the profile back.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        local_user::LocalUser,
        now,
        oauth::{OauthCode, OauthToken},
        web_session::WebSession,
        Db,
    },
    error::{Error, Result},
    service::{accounts::require_staff, relations::send_actor_update},
};
use tracing::Instrument;

/// Who suspends an account.
#[derive(Debug, Clone, Copy)]
pub enum Suspender<'a> {
    /// An admin on the admin page; admins cannot suspend themselves.
    Admin(&'a Actor),
    /// The operator at the command line, who has no account here: whoever
    /// can run `outloud admin` can change the database anyway.
    Operator,
}

/// Suspends (`true`) or reinstates an account; whether its standing
/// changed (`false`: it already was as asked, and nothing is federated).
///
/// A suspended person cannot sign in; their web sessions end, their OAuth
/// tokens are revoked (with the push subscriptions made with them) and
/// their unexchanged authorization codes dropped, in the transaction that
/// records the suspension. Their followers' servers then get an `Update` of
/// the actor.
///
/// Errors: `Forbidden` for anyone but an admin or a moderator, or for one
/// suspending themselves; `NotFound` for an unknown account.
pub async fn set_suspended(
    data: &Data<Context>,
    by: Suspender<'_>,
    actor_id: &str,
    suspended: bool,
) -> Result<bool> {
    if let Suspender::Admin(admin) = by {
        require_staff(&data.db, admin).await?;
        if admin.id == actor_id {
            return Err(Error::forbidden("You cannot suspend your own account."));
        }
    }
    let id = actor_id.to_string();
    let (changed, actor) = data
        .db
        .transaction(move |conn| {
            let (Some(user), Some(actor)) =
                (LocalUser::by_actor_id(conn, &id)?, Actor::by_id(conn, &id)?)
            else {
                return Err(Error::not_found("no such account"));
            };
            let changed = user.suspended_at.is_some() != suspended;
            if changed {
                LocalUser::set_suspended(conn, &id, suspended.then(now))?;
            }
            if suspended {
                // Also when it already was: nothing may outlive a
                // suspension, whatever was issued since.
                WebSession::delete_others(conn, &id, None)?;
                OauthToken::revoke_of_actor(conn, &id, None)?;
                OauthCode::delete_unused_of_actor(conn, &id)?;
            }
            Ok((changed, actor))
        })
        .await?;
    if changed {
        let span = tracing::info_span!("federate_suspension", actor = %actor.ap_id, suspended);
        send_actor_update(data, &actor).instrument(span).await?;
    }
    Ok(changed)
}

/// Whether an admin suspended this account (`false` for other servers'
/// actors and communities): profile pages say so.
pub async fn is_suspended(db: &Db, actor: &Actor) -> Result<bool> {
    if !actor.local {
        return Ok(false);
    }
    let id = actor.id.clone();
    db.run(move |conn| Ok(LocalUser::is_suspended(conn, &id)?))
        .await
}
