//! Account migration, as Mastodon does it: the new account first lists the
//! old one among its aliases (`alsoKnownAs`); the old one then moves
//! (`movedTo`, and a `Move` to its followers), and every follower's server
//! re-follows the new account after checking both documents.
//!
//! - [`add_alias`], [`remove_alias`], [`aliases`]: the aliases of a local
//!   person (the settings' "Moving" page);
//! - [`move_account`] (and [`move_with_password`] for the web page): a
//!   local person moves out, here or to another server;
//! - [`receive_move`]: a `Move` arrived in an inbox (the inbound half of
//!   `apub::activities::moving`); the local followers of the origin follow
//!   the target instead.
//!
//! Followers are moved inline, in the request that causes the move: the
//! codebase has no background job queue besides outbound deliveries, and
//! each follower costs a few queries and at most two queued deliveries
//! (`Follow` to the target, `Undo(Follow)` to the origin), which the
//! delivery workers send later.

use crate::{
    apub::{activities::moving, Data},
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        follow::{Follow, FollowState},
        moves::{self, ActorMove},
    },
    error::{Error, ErrorKind, Result},
};
use activitypub_federation::fetch::object_id::ObjectId;
use url::Url;

/// A local person's aliases (ActivityPub ids), oldest first.
pub async fn aliases(data: &Data<Context>, actor: &Actor) -> Result<Vec<String>> {
    let id = actor.id.clone();
    data.db
        .run(move |conn| Ok(moves::aliases_of(conn, &id)?))
        .await
}

/// The account `actor` moved to, when it did and the account is known.
pub async fn moved_to(data: &Data<Context>, actor: &Actor) -> Result<Option<Actor>> {
    let id = actor.id.clone();
    data.db
        .run(move |conn| {
            let Some(row) = ActorMove::of(conn, &id)? else {
                return Ok(None);
            };
            let Ok(target) = Url::parse(&row.target_ap_id) else {
                return Ok(None);
            };
            Ok(Actor::by_ap_id(conn, &target)?)
        })
        .await
}

/// `me` (local) says it is also the account `query` (a handle
/// `@name@host` or an actor URL, resolved), so that account may move here.
/// The alias is its ActivityPub id; adding it again changes nothing.
///
/// Errors: `BadRequest`/`NotFound` when `query` resolves to nobody,
/// `Unprocessable` for oneself or an actor that is not a person.
pub async fn add_alias(data: &Data<Context>, me: &Actor, query: &str) -> Result<Actor> {
    let alias = crate::service::resolve::actor(data, query).await?;
    if alias.id == me.id {
        return Err(Error::unprocessable(
            "That is this account: an alias names your other account",
        ));
    }
    if alias.kind() != ActorKind::Person {
        return Err(Error::unprocessable(
            "Only a person's account can be an alias",
        ));
    }
    let (id, ap_id) = (me.id.clone(), alias.ap_id.to_string());
    let added = data
        .db
        .run(move |conn| Ok(moves::add_alias(conn, &id, &ap_id)?))
        .await?;
    if added {
        // Followers' servers see the new `alsoKnownAs` (the account that
        // moves here fetches it fresh anyway).
        crate::service::relations::send_actor_update(data, me).await?;
    }
    Ok(alias)
}

/// `me` no longer lists `alias` (an ActivityPub id).
///
/// Errors: `NotFound` when it was not an alias.
pub async fn remove_alias(data: &Data<Context>, me: &Actor, alias: &str) -> Result<()> {
    let (id, alias) = (me.id.clone(), alias.to_string());
    let removed = data
        .db
        .run(move |conn| Ok(moves::remove_alias(conn, &id, &alias)?))
        .await?;
    if removed == 0 {
        return Err(Error::not_found("that is not one of your aliases"));
    }
    crate::service::relations::send_actor_update(data, me).await
}

/// [`move_account`] after checking `origin`'s password, as Mastodon asks
/// before a move.
///
/// Errors: `Unauthorized` for a wrong password, then as [`move_account`].
pub async fn move_with_password(
    data: &Data<Context>,
    origin: &Actor,
    password: &str,
    target: &str,
) -> Result<Actor> {
    crate::service::accounts::check_credentials(&data.db, &origin.username, password)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::Unauthorized => {
                Error::unauthorized("Your password is not right. Type it again.")
            }
            _ => e,
        })?;
    move_account(data, origin, target).await
}

/// Local person `origin` moves to `target` (a handle or URL; here or on
/// another server). The target's document is fetched fresh and must list
/// `origin` in its `alsoKnownAs`. Then `origin` records `movedTo`, its
/// document is sent again as an `Update`, a `Move` goes to its remote
/// followers, and its local followers follow the target instead.
/// Moving again to the same target sends the `Move` again (a follower's
/// server that missed it gets another chance) and changes nothing else.
///
/// Errors: `Unprocessable` when the target does not list `origin`, is
/// `origin` itself, is not a person, or has moved itself; as
/// [`crate::service::resolve::actor`] when the target is not found.
pub async fn move_account(data: &Data<Context>, origin: &Actor, target: &str) -> Result<Actor> {
    if !origin.local || origin.kind() != ActorKind::Person {
        return Err(Error::unprocessable("only a local person can move"));
    }
    let found = crate::service::resolve::actor(data, target).await?;
    let target = fresh(data, &found.ap_id).await?;
    if target.id == origin.id {
        return Err(Error::unprocessable("An account cannot move to itself"));
    }
    if target.kind() != ActorKind::Person {
        return Err(Error::unprocessable(
            "An account can only move to another person's account",
        ));
    }
    let (origin_id, origin_ap, target_row) =
        (origin.id.clone(), origin.ap_id.to_string(), target.clone());
    data.db
        .transaction(move |conn| {
            if ActorMove::of(conn, &target_row.id)?.is_some() {
                return Err(Error::unprocessable(
                    "That account has moved itself: move to where it moved instead",
                ));
            }
            if !moves::has_alias(conn, &target_row.id, &origin_ap)? {
                return Err(Error::unprocessable(format!(
                    "{} does not list this account as an alias (alsoKnownAs). \
                     Add {} as an alias on that account first, then move again",
                    target_row.ap_id, origin_ap
                )));
            }
            ActorMove::set(conn, &origin_id, target_row.ap_id.as_str())?;
            Ok(())
        })
        .await?;
    tracing::info!(origin = %origin.ap_id, target = %target.ap_id, "account moved");
    crate::service::relations::send_actor_update(data, origin).await?;
    let origin_id = origin.id.clone();
    let followers = data
        .db
        .run(move |conn| Ok(Follow::all_followers(conn, &origin_id)?))
        .await?;
    let (local, remote): (Vec<Actor>, Vec<Actor>) = followers.into_iter().partition(|f| f.local);
    moving::send_move(data, origin, &target, remote).await?;
    migrate_followers(data, origin, &target, local).await?;
    Ok(target)
}

/// What a received `Move` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Local followers now following the target.
    pub followers: usize,
}

/// A `Move` from `actor` of `object` to `target` arrived. Honoured only
/// when the origin signed it (`actor` = `object`), the origin's document
/// (fetched fresh) says `movedTo` the target, and the target's document
/// (fetched fresh when remote) lists the origin in `alsoKnownAs`. Then
/// every local follower of the origin follows the target and stops
/// following the origin. A repeated `Move` finds nobody left to move; a
/// `Move` of an account nobody here follows is accepted and ignored
/// without fetching anything.
///
/// Errors: `BadRequest` when any check fails (nothing changes), as the
/// fetches fail otherwise.
pub async fn receive_move(
    data: &Data<Context>,
    actor: &Url,
    object: &Url,
    target: &Url,
) -> Result<Moved> {
    let refuse = |why: String| {
        tracing::warn!(origin = %object, %target, "Move refused: {why}");
        Err(Error::bad_request(format!("Move refused: {why}")))
    };
    if actor != object {
        return refuse(
            "only the account that moves may send its Move (actor must be object)".into(),
        );
    }
    if actor == target {
        return refuse("an account cannot move to itself".into());
    }
    if ObjectId::<Actor>::from(object.clone()).is_local(data) {
        return refuse("the origin is an account of this instance".into());
    }
    // Nobody here follows the origin: nothing to do, and nothing fetched
    // (a Move must not make this server fetch whatever it names).
    let known = object.clone();
    let followed_here = data
        .db
        .run(move |conn| {
            let Some(origin) = Actor::by_ap_id(conn, &known)? else {
                return Ok(false);
            };
            Ok(Follow::all_followers(conn, &origin.id)?
                .iter()
                .any(|f| f.local))
        })
        .await?;
    if !followed_here {
        tracing::debug!(origin = %object, "Move of an account nobody here follows: ignored");
        return Ok(Moved { followers: 0 });
    }
    let origin = fresh(data, object).await?;
    let target_actor = fresh(data, target).await?;
    let (origin_id, target_id, origin_ap) = (
        origin.id.clone(),
        target_actor.id.clone(),
        origin.ap_id.to_string(),
    );
    let (moved_to, listed) = data
        .db
        .run(move |conn| {
            Ok((
                ActorMove::of(conn, &origin_id)?.map(|m| m.target_ap_id),
                moves::has_alias(conn, &target_id, &origin_ap)?,
            ))
        })
        .await?;
    if moved_to.as_deref() != Some(target.as_str()) {
        return refuse(format!(
            "{} does not say movedTo {} (it says {})",
            origin.ap_id,
            target,
            moved_to.as_deref().unwrap_or("nothing")
        ));
    }
    if !listed {
        return refuse(format!(
            "{} does not list {} in alsoKnownAs",
            target_actor.ap_id, origin.ap_id
        ));
    }
    let origin_id = origin.id.clone();
    let local: Vec<Actor> = data
        .db
        .run(move |conn| Ok(Follow::all_followers(conn, &origin_id)?))
        .await?
        .into_iter()
        .filter(|f| f.local)
        .collect();
    let followers = migrate_followers(data, &origin, &target_actor, local).await?;
    tracing::info!(origin = %origin.ap_id, target = %target_actor.ap_id, followers, "Move received");
    Ok(Moved { followers })
}

/// An actor as its server serves it now (local ones from the database),
/// so that `alsoKnownAs` and `movedTo` are current.
async fn fresh(data: &Data<Context>, id: &Url) -> Result<Actor> {
    ObjectId::<Actor>::from(id.clone())
        .dereference_forced(data)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::Internal | ErrorKind::NotFound => {
                Error::not_found(format!("{id} could not be fetched"))
            }
            _ => e,
        })
}

/// Each local follower in `followers` follows `target` (through the
/// follow service: a `Follow` for a remote target, an edge for a local
/// one) and stops following `origin`. A locked local target accepts at
/// once, since it listed `origin` as its own alias (Mastodon does the
/// same). A follower a block keeps from the target stays where it is.
async fn migrate_followers(
    data: &Data<Context>,
    origin: &Actor,
    target: &Actor,
    followers: Vec<Actor>,
) -> Result<usize> {
    let mut moved = 0;
    for follower in followers {
        if follower.id == target.id {
            continue;
        }
        match crate::service::relations::follow(data, &follower, target).await {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Forbidden => {
                tracing::info!(follower = %follower.ap_id, "not moved: a block stands between them");
                continue;
            }
            Err(e) => return Err(e),
        }
        if target.local
            && crate::service::follows::state(data, &follower, target).await?
                == Some(FollowState::Pending)
        {
            crate::service::follows::decide(data, target, &follower, true).await?;
        }
        crate::service::relations::unfollow(data, &follower, origin).await?;
        moved += 1;
    }
    Ok(moved)
}
