//! Following people and joining communities, here or elsewhere; approving
//! and refusing follow requests.

use crate::{
    apub::{activities::following, protocol::activity::Follow as FollowActivity, Data},
    context::Context,
    db::{
        actor::Actor,
        follow::{Follow, FollowState},
        new_id, now, DbUrl,
    },
    error::{Error, Result},
};

/// `follower` (local) follows `target` (any actor). Local targets are
/// followed at once (or pending approval); remote ones get a `Follow` and
/// the edge stays pending until their `Accept` arrives.
///
/// Errors: `Unprocessable` for following oneself.
pub async fn follow(data: &Data<Context>, follower: &Actor, target: &Actor) -> Result<Follow> {
    if follower.id == target.id {
        return Err(Error::unprocessable("you cannot follow yourself"));
    }
    let activity = FollowActivity::new(data, follower, target);
    let auto_accept = target.local && !target.manually_approves_followers;
    let edge = Follow {
        id: new_id(),
        ap_id: DbUrl(activity.id.clone()),
        follower_id: follower.id.clone(),
        followee_id: target.id.clone(),
        state: if auto_accept {
            FollowState::Accepted
        } else {
            FollowState::Pending
        }
        .as_str()
        .into(),
        created_at: now(),
        updated_at: now(),
    };
    let (f, t) = (edge.follower_id.clone(), edge.followee_id.clone());
    let stored = data
        .db
        .transaction(move |conn| {
            match Follow::between(conn, &edge.follower_id, &edge.followee_id)? {
                Some(existing) => Ok((existing, false)),
                None => {
                    Follow::insert(conn, &edge)?;
                    Ok((edge, true))
                }
            }
        })
        .await;
    let (edge, created) = match stored {
        // A concurrent request (a double tap) stored the follow first.
        Err(e) if e.is_unique_violation() => {
            let existing = data
                .db
                .run(move |conn| Ok(Follow::between(conn, &f, &t)?))
                .await?;
            (existing.ok_or(e)?, false)
        }
        other => other?,
    };
    // Re-send a pending remote follow: the first may have been lost.
    if !target.local && (created || edge.state() == FollowState::Pending) {
        let activity = following::follow_of(&edge, follower, target);
        let id = activity.id.clone();
        crate::apub::outbox::send(data, follower, &id, activity, vec![target.clone()]).await?;
    }
    Ok(edge)
}

/// `follower` stops following `target` (or withdraws a request).
///
/// Errors: `NotFound` when there was no follow.
pub async fn unfollow(data: &Data<Context>, follower: &Actor, target: &Actor) -> Result<()> {
    let (f, t) = (follower.id.clone(), target.id.clone());
    let edge = data
        .db
        .transaction(move |conn| {
            let edge = Follow::between(conn, &f, &t)?
                .ok_or_else(|| Error::not_found("you do not follow this actor"))?;
            Follow::delete(conn, &edge.id)?;
            Ok(edge)
        })
        .await?;
    if !target.local {
        let activity = following::follow_of(&edge, follower, target);
        following::send_undo_follow(data, follower, target, activity).await?;
    }
    Ok(())
}

/// `followee` (local) drops `follower` (a follower or a pending request),
/// telling a remote follower with `Reject(Follow)` as Mastodon does.
/// Nothing to drop is not an error.
pub async fn remove_follower(
    data: &Data<Context>,
    followee: &Actor,
    follower: &Actor,
) -> Result<()> {
    let (f, g) = (follower.id.clone(), followee.id.clone());
    let edge = data
        .db
        .transaction(move |conn| {
            let edge = Follow::between(conn, &f, &g)?;
            if let Some(edge) = &edge {
                Follow::delete(conn, &edge.id)?;
            }
            Ok(edge)
        })
        .await?;
    if let Some(edge) = edge.filter(|_| !follower.local) {
        let activity = following::follow_of(&edge, follower, followee);
        following::send_reject(data, followee, follower, activity).await?;
    }
    Ok(())
}

/// Follow requests waiting for `followee`'s decision.
pub async fn pending_requests(data: &Data<Context>, followee: &Actor) -> Result<Vec<Actor>> {
    let id = followee.id.clone();
    data.db
        .run(move |conn| {
            Ok(Follow::list_followers(
                conn,
                &id,
                FollowState::Pending,
                0,
                1000,
            )?)
        })
        .await
}

/// `followee` (local) accepts or refuses `follower`'s pending request.
///
/// Errors: `NotFound` when there is no pending request.
pub async fn decide(
    data: &Data<Context>,
    followee: &Actor,
    follower: &Actor,
    approve: bool,
) -> Result<()> {
    let (f, g) = (follower.id.clone(), followee.id.clone());
    let edge = data
        .db
        .transaction(move |conn| {
            let edge = Follow::between(conn, &f, &g)?
                .filter(|e| e.state() == FollowState::Pending)
                .ok_or_else(|| Error::not_found("no pending follow request from this actor"))?;
            if approve {
                Follow::accept(conn, &edge.id)?;
            } else {
                Follow::delete(conn, &edge.id)?;
            }
            Ok(edge)
        })
        .await?;
    if !follower.local {
        let activity = following::follow_of(&edge, follower, followee);
        if approve {
            following::send_accept(data, followee, follower, activity).await?;
        } else {
            following::send_reject(data, followee, follower, activity).await?;
        }
    }
    Ok(())
}

/// Whether `follower` follows `followee`, and how far it got.
pub async fn state(
    data: &Data<Context>,
    follower: &Actor,
    followee: &Actor,
) -> Result<Option<FollowState>> {
    let (f, g) = (follower.id.clone(), followee.id.clone());
    data.db
        .run(move |conn| Ok(Follow::between(conn, &f, &g)?.map(|e| e.state())))
        .await
}

/// Sets whether `actor` approves followers by hand.
pub async fn set_manual_approval(
    data: &Data<Context>,
    actor: &Actor,
    manual: bool,
) -> Result<Actor> {
    let mut updated = actor.clone();
    updated.manually_approves_followers = manual;
    updated.updated = Some(now());
    let row = updated.clone();
    data.db
        .run(move |conn| Ok(Actor::update(conn, &row)?))
        .await?;
    Ok(updated)
}
