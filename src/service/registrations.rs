//! Signing up on the web (`/register`), by `instance.registrations`:
//! `closed` (only admins make accounts), `invite` (a live invite code is
//! needed; each sign-up counts one use) or `open`; with
//! `instance.approve_registrations`, an open sign-up waits for an admin
//! (`accounts::approve`) before it can sign in. A sign-up with an invite is
//! approved by the invite, and joins the community the invite names.

use crate::{
    apub::Data,
    config::Registrations,
    db::{
        actor::{Actor, ActorKind},
        local_user::Role,
    },
    error::{Error, ErrorKind, Result},
    service::{accounts, invites},
    Context,
};

/// What someone filled in.
#[derive(Debug, Clone)]
pub struct SignUp<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub invite: Option<&'a str>,
    /// The address it came from, for the sign-up limit.
    pub ip: &'a str,
    /// Why they want to join (Mastodon's `reason`), for the admin who
    /// approves the account; kept only when it waits for one.
    pub reason: Option<&'a str>,
}

/// The longest a reason to join may be (Mastodon's limit).
pub const MAX_REASON_CHARS: usize = 420;

/// A new account, and whether it may sign in now.
#[derive(Debug, Clone)]
pub struct Registered {
    pub actor: Actor,
    pub approved: bool,
}

/// What a refusal for closed registrations says.
pub const CLOSED: &str =
    "Registrations are closed on this instance: ask an admin to make an account for you.";

/// Creates an account as the instance's registration rules allow.
///
/// Errors: `Forbidden` when registrations are closed; `TooManyRequests`
/// past the sign-up attempts one address may make; `Unprocessable` for
/// a missing or dead invite code (invite mode, or any code given), a bad
/// name or a weak password; `Conflict` for a taken name.
pub async fn register(ctx: &Data<Context>, sign_up: SignUp<'_>) -> Result<Registered> {
    let instance = &ctx.config.instance;
    let code = sign_up.invite.map(str::trim).filter(|c| !c.is_empty());
    let invite = match (instance.registrations, code) {
        (Registrations::Closed, _) => return Err(Error::forbidden(CLOSED)),
        _ if !ctx
            .limits
            .sign_up_ip
            .hit(&format!("ip:{}", sign_up.ip))
            .allowed =>
        {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "Too many sign-ups from your address: try again in a few minutes.",
            ))
        }
        (Registrations::Invite, None) => {
            return Err(Error::unprocessable(
                "Registrations on this instance need an invite: enter your invite code.",
            ))
        }
        (_, Some(code)) => Some(invites::usable(&ctx.db, code).await?),
        (Registrations::Open, None) => None,
    };
    // Check the name and password before paying for key generation.
    accounts::normalize_name(sign_up.name)?;
    accounts::check_password(sign_up.password)?;
    let reason = sign_up
        .reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Error::unprocessable(format!(
            "Tell us why you want to join in at most {MAX_REASON_CHARS} characters."
        )));
    }
    let approved = invite.is_some() || !instance.approve_registrations;
    let community = invite.as_ref().and_then(|i| i.community_id.clone());
    let actor = accounts::create_account(
        &ctx.db,
        &ctx.urls,
        accounts::NewUser {
            name: sign_up.name,
            password: sign_up.password,
            role: Role::User,
        },
        accounts::Admission {
            approved,
            invite: invite.map(|i| i.id),
            // Only an admin deciding on the account reads it.
            reason: reason.filter(|_| !approved),
        },
    )
    .await?;
    if let Some(group_id) = community {
        join_invited_community(ctx, &actor, &group_id).await;
    }
    Ok(Registered { actor, approved })
}

/// Joins the community an invite names, as the person would by following
/// it: a community that approves its members gets a join request. The
/// account exists by now, so a failure here (the community deleted since
/// the invite was made) is logged and does not undo the sign-up.
async fn join_invited_community(ctx: &Data<Context>, person: &Actor, group_id: &str) {
    let group = match crate::service::relations::actor_by_id(ctx, group_id).await {
        Ok(group) if group.local && group.kind() == ActorKind::Group => group,
        Ok(_) | Err(_) => {
            tracing::warn!(group_id, person = %person.username,
                "the invite's community is gone; the new account joins nothing");
            return;
        }
    };
    if let Err(e) = crate::service::follows::follow(ctx, person, &group).await {
        tracing::warn!(error = ?e, group = %group.username, person = %person.username,
            "could not join the invite's community");
    }
}
