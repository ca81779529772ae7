//! Local accounts: names, creation, lookup.

use crate::{
    crypto,
    db::{
        actor::{Actor, ActorKind},
        local_user::{LocalUser, Role},
        new_id, now, Db, DbUrl,
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
        discoverable: true,
        published: created,
        updated: None,
        last_fetched_at: None,
        hide_network: false,
        icon_url: None,
        fields_json: None,
    };
    let user = LocalUser {
        actor_id: actor.id.clone(),
        password_hash: hash,
        role: new.role.as_str().into(),
        created_at: created,
    };
    db.transaction(move |conn| {
        if Actor::local_by_name(conn, &name)?.is_some() {
            return Err(name_taken(&name));
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

/// Checks a name and password; the account on success.
///
/// Errors: `Unauthorized` for an unknown name or a wrong password (the same
/// error for both, so names cannot be probed).
pub async fn authenticate(db: &Db, name: &str, password: &str) -> Result<(Actor, LocalUser)> {
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
    let password = password.to_string();
    let hash = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash)).await?;
    if ok {
        Ok((actor, user))
    } else {
        Err(denied())
    }
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
