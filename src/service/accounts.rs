//! Local accounts: names, creation, lookup, standing (approval and
//! suspension), passwords, the default visibility, and the admin's rule.

use crate::{
    crypto,
    db::{
        actor::{Actor, ActorKind},
        invite::Invite,
        local_user::{LocalUser, Role},
        new_id, now,
        post::Visibility,
        web_session::WebSession,
        Db, DbUrl,
    },
    error::{Error, ErrorKind, Result},
    urls::Urls,
};

/// Longest local name (DESIGN §3).
pub const MAX_NAME_LEN: usize = 30;
/// Shortest password accepted (Mastodon's minimum).
pub const MIN_PASSWORD_LEN: usize = 8;

/// Checks and normalises a local name: `[a-z0-9_]{1,30}`, case-insensitive,
/// so it is returned lower-cased. People and communities share this space.
pub fn normalize_name(name: &str) -> Result<String> {
    let lower = name.to_ascii_lowercase();
    if lower.is_empty() || lower.len() > MAX_NAME_LEN {
        return Err(Error::unprocessable(format!(
            "invalid name `{name}`: use 1 to {MAX_NAME_LEN} characters"
        )));
    }
    if !lower
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::unprocessable(format!(
            "invalid name `{name}`: use only letters a-z, digits and _"
        )));
    }
    Ok(lower)
}

/// Checks a new password against the minimum rules.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::unprocessable(format!(
            "password too short: use at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// What [`create_user`] needs to know.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub role: Role,
}

/// Creates a local account: a Person actor with a fresh RSA key pair and its
/// credentials, in one transaction.
///
/// Errors: `Unprocessable` for an invalid name or password, `Conflict` when
/// the name is taken by a person or a community.
pub async fn create_user(db: &Db, urls: &Urls, new: NewUser<'_>) -> Result<Actor> {
    let admission = Admission {
        approved: true,
        ..Admission::default()
    };
    create_account(db, urls, new, admission).await
}

/// How a new account comes in (`service::registrations` decides).
#[derive(Debug, Clone, Default)]
pub(crate) struct Admission {
    /// False: it waits for an admin.
    pub approved: bool,
    /// The invite (its id) it uses up one use of.
    pub invite: Option<String>,
    /// Why they want to join, for the admins approving it.
    pub reason: Option<String>,
}

/// Creates an account, approved or waiting for an admin, counting one use
/// of the admission's invite in the same transaction: when the invite has
/// no use left by then, nothing is created.
pub(crate) async fn create_account(
    db: &Db,
    urls: &Urls,
    new: NewUser<'_>,
    admission: Admission,
) -> Result<Actor> {
    let Admission {
        approved,
        invite,
        reason,
    } = admission;
    let name = normalize_name(new.name)?;
    check_password(new.password)?;
    // Key generation and hashing are CPU work: keep them off the executor.
    let password = new.password.to_string();
    let (keys, hash) = tokio::task::spawn_blocking(move || {
        Ok::<_, Error>((
            crypto::generate_keypair()?,
            crypto::hash_password(&password)?,
        ))
    })
    .await??;
    let created = now();
    let actor = Actor {
        id: new_id(),
        ap_id: DbUrl(urls.person(&name)),
        kind: ActorKind::Person.as_str().into(),
        username: name.clone(),
        domain: urls.domain().to_string(),
        local: true,
        display_name: None,
        summary: None,
        summary_source: None,
        url: Some(urls.profile_page(&name).into()),
        inbox_url: DbUrl(urls.person_inbox(&name)),
        shared_inbox_url: Some(urls.shared_inbox().into()),
        outbox_url: Some(urls.person_outbox(&name).into()),
        followers_url: Some(urls.person_followers(&name).into()),
        following_url: Some(urls.person_following(&name).into()),
        public_key_pem: keys.public_key_pem,
        private_key_pem: Some(keys.private_key_pem),
        manually_approves_followers: false,
        // Strictly opt-in (issue 13 §3): listed in the directory and in
        // "people who know" only once the person chooses it.
        discoverable: false,
        published: created,
        updated: None,
        last_fetched_at: None,
        hide_network: false,
        icon_url: None,
        fields_json: None,
        image_url: None,
    };
    let user = LocalUser {
        actor_id: actor.id.clone(),
        password_hash: hash,
        role: new.role.as_str().into(),
        created_at: created,
        approved,
        suspended_at: None,
        default_visibility: Visibility::Public.as_str().into(),
        registration_reason: reason,
    };
    db.transaction(move |conn| {
        if Actor::local_by_name(conn, &name)?.is_some() {
            return Err(name_taken(&name));
        }
        if let Some(invite) = &invite {
            if !Invite::take_use(conn, invite, created)? {
                return Err(crate::service::invites::not_valid());
            }
        }
        // A concurrent creation of the same name trips the unique index.
        Actor::insert(conn, &actor).map_err(|e| match Error::from(e) {
            e if e.kind == ErrorKind::Conflict => name_taken(&name),
            e => e,
        })?;
        LocalUser::insert(conn, &user)?;
        Ok(actor)
    })
    .await
}

fn name_taken(name: &str) -> Error {
    Error::conflict(format!("the name `{name}` is already taken"))
}

/// A local person or community by name, for discovery (WebFinger, actor
/// documents, profile pages).
///
/// Errors: `NotFound` when no such local actor exists.
pub async fn local_actor(db: &Db, name: &str) -> Result<Actor> {
    let name = normalize_name(name).map_err(|_| Error::not_found("no such account"))?;
    db.run(move |conn| {
        Actor::local_by_name(conn, &name)?
            .filter(|a| matches!(a.kind(), ActorKind::Person | ActorKind::Group))
            .ok_or_else(|| Error::not_found("no such account"))
    })
    .await
}

/// A local person by name (the actor served at `/users/{name}`).
///
/// Errors: `NotFound`.
pub async fn local_person(db: &Db, name: &str) -> Result<Actor> {
    let actor = local_actor(db, name).await?;
    if actor.kind() != ActorKind::Person {
        return Err(Error::not_found("no such account"));
    }
    Ok(actor)
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// Registered, waiting for an admin's approval.
    AwaitingApproval,
    /// Suspended by an admin.
    Suspended,
}

/// What a sign-in refused for the account's standing says.
pub const AWAITING_APPROVAL: &str =
    "Your account is waiting for approval by an admin. Try again once they have approved it.";
pub const SUSPENDED: &str = "This account is suspended. Ask an admin of this instance why.";

/// An account's standing.
pub fn standing(user: &LocalUser) -> Standing {
    if user.suspended_at.is_some() {
        Standing::Suspended
    } else if !user.approved {
        Standing::AwaitingApproval
    } else {
        Standing::Active
    }
}

/// Checks a name and password, whatever the account's standing.
///
/// Errors: `Unauthorized` for an unknown name or a wrong password (the same
/// error for both, so names cannot be probed).
pub async fn check_credentials(db: &Db, name: &str, password: &str) -> Result<(Actor, LocalUser)> {
    let denied = || Error::unauthorized("invalid name or password");
    let name = normalize_name(name).map_err(|_| denied())?;
    let found = db
        .run(move |conn| {
            let Some(actor) = Actor::local_by_name_and_kind(conn, &name, ActorKind::Person)? else {
                return Ok(None);
            };
            let user = LocalUser::by_actor_id(conn, &actor.id)?;
            Ok(user.map(|u| (actor, u)))
        })
        .await?;
    let (actor, user) = found.ok_or_else(denied)?;
    if verify(password, &user.password_hash).await? {
        Ok((actor, user))
    } else {
        Err(denied())
    }
}

async fn verify(password: &str, hash: &str) -> Result<bool> {
    let (password, hash) = (password.to_string(), hash.to_string());
    Ok(tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash)).await?)
}

/// Checks a name and password; the account on success, if it may sign in.
///
/// Errors: `Unauthorized` for an unknown name or a wrong password (the same
/// error for both, so names cannot be probed); `Forbidden` (after a right
/// password only) for an account waiting for approval or suspended.
pub async fn authenticate(db: &Db, name: &str, password: &str) -> Result<(Actor, LocalUser)> {
    let (actor, user) = check_credentials(db, name, password).await?;
    match standing(&user) {
        Standing::Active => Ok((actor, user)),
        Standing::AwaitingApproval => Err(Error::forbidden(AWAITING_APPROVAL)),
        Standing::Suspended => Err(Error::forbidden(SUSPENDED)),
    }
}

/// The local account of a person.
///
/// Errors: `NotFound` for an actor that is not a local account.
pub async fn user_of(db: &Db, actor: &Actor) -> Result<LocalUser> {
    let id = actor.id.clone();
    db.run(move |conn| {
        LocalUser::by_actor_id(conn, &id)?.ok_or_else(|| Error::not_found("no such account"))
    })
    .await
}

/// Refuses anyone but an admin: the one rule behind every admin page,
/// API call and action.
///
/// Errors: `Forbidden`.
pub async fn require_admin(db: &Db, actor: &Actor) -> Result<()> {
    let user = user_of(db, actor)
        .await
        .map_err(|_| Error::forbidden("Only admins may do that."))?;
    if user.role() == Role::Admin && standing(&user) == Standing::Active {
        Ok(())
    } else {
        Err(Error::forbidden("Only admins may do that."))
    }
}

/// Refuses anyone but an admin or an instance moderator: the rule for
/// handling reports and suspending accounts.
///
/// Errors: `Forbidden`.
pub async fn require_staff(db: &Db, actor: &Actor) -> Result<()> {
    let refused = || Error::forbidden("Only admins and moderators may do that.");
    let user = user_of(db, actor).await.map_err(|_| refused())?;
    if user.role().is_staff() && standing(&user) == Standing::Active {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The visibility a person's new narrations start with (the compose form).
pub async fn default_visibility(db: &Db, actor: &Actor) -> Result<Visibility> {
    let user = user_of(db, actor).await?;
    Ok(Visibility::parse(&user.default_visibility).unwrap_or(Visibility::Public))
}

/// The visibilities a person may choose as their default: all but direct
/// messages, which need someone to address.
pub fn default_visibility_choices() -> [Visibility; 5] {
    [
        Visibility::Public,
        Visibility::Unlisted,
        Visibility::Followers,
        Visibility::Local,
        Visibility::LocalUnlisted,
    ]
}

/// What the settings page saves: the profile and the default visibility.
///
/// Errors: `Unprocessable` for a default the person may not choose or a
/// profile text over its limit (then nothing is saved).
pub async fn update_settings(
    data: &crate::apub::Data<crate::context::Context>,
    me: &Actor,
    edit: crate::service::relations::ProfileEdit,
    visibility: Visibility,
) -> Result<Actor> {
    if !default_visibility_choices().contains(&visibility) {
        return Err(Error::unprocessable(
            "Choose public, unlisted, followers, local or local unlisted as your default.",
        ));
    }
    let actor = crate::service::relations::update_profile(data, me, edit).await?;
    let id = actor.id.clone();
    data.db
        .run(move |conn| {
            Ok(LocalUser::set_default_visibility(
                conn,
                &id,
                visibility.as_str(),
            )?)
        })
        .await?;
    Ok(actor)
}

/// Changes a person's password after checking the current one, and ends
/// every other session (`keep` is the session that asked).
///
/// Errors: `Unauthorized` when `current` is wrong, `Unprocessable` when
/// the new one is too weak.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<()> {
    let user = user_of(db, actor).await?;
    if !verify(current, &user.password_hash).await? {
        return Err(Error::unauthorized(
            "Your current password is not right. Type it again.",
        ));
    }
    check_password(new)?;
    let new = new.to_string();
    let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&new)).await??;
    let (id, keep) = (actor.id.clone(), keep.map(String::from));
    db.transaction(move |conn| {
        LocalUser::set_password_hash(conn, &id, &hash)?;
        WebSession::delete_others(conn, &id, keep.as_deref())?;
        Ok(())
    })
    .await
}

/// A local account as the admin page lists it.
#[derive(Debug, Clone)]
pub struct UserEntry {
    pub actor: Actor,
    pub user: LocalUser,
    pub standing: Standing,
}

/// Every local account, newest first (admins and moderators: the people
/// page, where moderators suspend and reinstate).
///
/// Errors: `Forbidden` for anyone else.
pub async fn list_users(db: &Db, admin: &Actor) -> Result<Vec<UserEntry>> {
    require_staff(db, admin).await?;
    let rows = db.run(|conn| Ok(LocalUser::all_with_actors(conn)?)).await?;
    Ok(rows
        .into_iter()
        .filter(|(_, a)| a.kind() == ActorKind::Person)
        .map(|(user, actor)| UserEntry {
            standing: standing(&user),
            actor,
            user,
        })
        .collect())
}

/// An admin approves a registration waiting for approval.
///
/// Errors: `Forbidden` for anyone but an admin, `NotFound` for an unknown
/// account.
pub async fn approve(db: &Db, admin: &Actor, actor_id: &str) -> Result<()> {
    require_admin(db, admin).await?;
    let id = actor_id.to_string();
    let changed = db
        .run(move |conn| Ok(LocalUser::set_approved(conn, &id, true)?))
        .await?;
    if changed == 0 {
        return Err(Error::not_found("no such account"));
    }
    Ok(())
}

/// An admin rejects a registration waiting for approval: the account is
/// deleted and its name is free again, as Mastodon's "Reject" does. It
/// never signed in, so nothing was federated and nothing is sent.
///
/// Errors: `Forbidden` for anyone but an admin, `NotFound` for an unknown
/// account, `Unprocessable` for an approved one (suspend it instead).
pub async fn reject(db: &Db, admin: &Actor, actor_id: &str) -> Result<()> {
    require_admin(db, admin).await?;
    let id = actor_id.to_string();
    db.transaction(move |conn| {
        let user = LocalUser::by_actor_id(conn, &id)?
            .ok_or_else(|| Error::not_found("no such account"))?;
        if user.approved {
            return Err(Error::unprocessable(
                "Only an account waiting for approval can be rejected; suspend this one instead.",
            ));
        }
        LocalUser::delete_waiting(conn, &id)?;
        Ok(())
    })
    .await
}

/// An actor's counts as its profile shows them: narrations, followers,
/// following (zero when nothing was counted yet).
pub async fn stats(db: &Db, actor: &Actor) -> Result<crate::db::stats::ActorStats> {
    let id = actor.id.clone();
    db.run(move |conn| {
        Ok(crate::db::stats::of(conn, std::slice::from_ref(&id))?
            .remove(&id)
            .unwrap_or(crate::db::stats::ActorStats {
                actor_id: id,
                ..Default::default()
            }))
    })
    .await
}

/// The people directory: local people who chose to be discoverable, by
/// name, `limit` from `offset`. Nobody else is ever listed.
pub async fn discoverable_people(db: &Db, offset: i64, limit: i64) -> Result<Vec<Actor>> {
    db.run(move |conn| {
        Ok(Actor::discoverable_local_people(
            conn,
            offset.max(0),
            limit.clamp(1, 80),
        )?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_lowered() {
        assert_eq!(normalize_name("Alice_1").unwrap(), "alice_1");
        for bad in ["", "a b", "ana@x", "é", "a-b", &"x".repeat(31)] {
            let e = normalize_name(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Unprocessable, "{bad}");
        }
        assert!(normalize_name(&"x".repeat(30)).is_ok());
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
    }

    #[test]
    fn create_authenticate_and_conflict_on_both_backends() {
        crate::testing::for_each_backend("accounts", |db| {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let mut conn = db.get().unwrap();
                crate::db::migrations::run_pending(&mut conn).unwrap();
                drop(conn);
                let urls = Urls::new("http", "alpha.localhost:1").unwrap();
                let new = |name| NewUser {
                    name,
                    password: "long enough",
                    role: Role::User,
                };
                let alice = create_user(db, &urls, new("Alice")).await.unwrap();
                assert_eq!(alice.username, "alice");
                assert_eq!(alice.ap_id.as_str(), "http://alpha.localhost:1/users/alice");
                let e = create_user(db, &urls, new("ALICE")).await.unwrap_err();
                assert_eq!(e.kind, ErrorKind::Conflict);
                let e = create_user(db, &urls, new("bad name")).await.unwrap_err();
                assert_eq!(e.kind, ErrorKind::Unprocessable);

                let (found, user) = authenticate(db, "alice", "long enough").await.unwrap();
                assert_eq!(found.id, alice.id);
                assert_eq!(user.role(), Role::User);
                let e = authenticate(db, "alice", "wrong password")
                    .await
                    .unwrap_err();
                assert_eq!(e.kind, ErrorKind::Unauthorized);
                let e = authenticate(db, "nobody", "long enough").await.unwrap_err();
                assert_eq!(e.kind, ErrorKind::Unauthorized);

                assert_eq!(local_person(db, "ALICE").await.unwrap().id, alice.id);
                let e = local_person(db, "bob").await.unwrap_err();
                assert_eq!(e.kind, ErrorKind::NotFound);
            });
        });
    }
}
