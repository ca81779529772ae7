//! What a verified sign-in does to the local account, at every sign-in:
//! find it by (issuer, subject), else link it by a verified e-mail (when
//! `oidc.link_verified_email`), else create it; refuse people the
//! provider's groups do not allow (revoking what they still hold); set the
//! role from the role groups; join and leave the mapped communities.
//!
//! A new account's name comes from the username claim, brought to the name
//! rules (`service::accounts::normalize_name`): lower-cased, `.`, `-` and
//! spaces become `_`, other characters are dropped, at most 30 characters.
//! When the name is taken by another account or a community, the account
//! gets `name2`, `name3`, … and the person is told so after signing in.
//! Such accounts have no usable password (the provider signs them in), and
//! `instance.registrations` does not apply: the provider decides who may
//! have an account.

use crate::{
    apub::Data,
    config::OidcConfig,
    context::Context,
    crypto,
    db::{
        actor::{Actor, ActorKind},
        follow::Follow,
        local_user::{LocalUser, Role},
        now,
        oauth::{OauthCode, OauthToken},
        oidc::{self, OidcIdentity},
        web_session::WebSession,
    },
    error::{Error, Result},
    service::{
        accounts::{self, Admission, NewUser, MAX_NAME_LEN},
        follows,
    },
};
use std::collections::BTreeSet;

/// The verified claims of an ID token.
#[derive(Debug, Clone)]
pub struct Claims {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Every claim of the token, for the configured username and groups
    /// claims.
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl Claims {
    /// The groups claim: a list of strings (or one string).
    pub fn groups(&self, claim: &str) -> BTreeSet<String> {
        match self.raw.get(claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(serde_json::Value::String(one)) => BTreeSet::from([one.clone()]),
            _ => BTreeSet::new(),
        }
    }

    fn username(&self, claim: &str) -> Option<&str> {
        self.raw.get(claim).and_then(|v| v.as_str())
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub actor: Actor,
    pub notice: Option<String>,
}

/// The message of a sign-in the provider's groups do not allow.
pub const NOT_ALLOWED: &str =
    "Your account at the sign-in provider is not in a group allowed on this instance. Ask an admin of your organisation to add you.";

/// Brings a provider's username to the local name rules; `None` when
/// nothing usable is left.
pub fn sanitize_name(raw: &str) -> Option<String> {
    // An e-mail-like username keeps its local part.
    let raw = raw.split('@').next().unwrap_or(raw);
    let name: String = raw
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '.' | '-' | ' ' => Some('_'),
            _ => None,
        })
        .take(MAX_NAME_LEN)
        .collect();
    let name = name.trim_matches('_').to_string();
    (!name.is_empty()).then_some(name)
}

/// `base` with the suffix `n` (from 2), cut so the whole fits the limit.
fn numbered(base: &str, n: u32) -> String {
    let suffix = n.to_string();
    let keep = MAX_NAME_LEN.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", &base[..keep])
}

/// Applies a verified sign-in; `may_create` is false for a token refresh
/// (the account exists, or there is nothing to do).
///
/// Errors: `Forbidden` outside the allowed groups (after revoking what the
/// account held) or for a suspended or deleted account; `Unprocessable`
/// when no name can be made from the username claim.
pub async fn apply(
    data: &Data<Context>,
    claims: &Claims,
    refresh_token: Option<&str>,
    may_create: bool,
) -> Result<Provisioned> {
    let config = &data.config.oidc;
    let groups = claims.groups(&config.groups_claim);
    let existing = find_or_link(data, claims).await?;
    if !allowed(config, &groups) {
        if let Some(actor) = &existing {
            revoke_access(data, &actor.id).await?;
            tracing::info!(actor = %actor.username, "signed in at the provider outside the allowed groups: access revoked");
        }
        return Err(Error::forbidden(NOT_ALLOWED));
    }
    let (actor, notice) = match existing {
        Some(actor) => (actor, None),
        None if may_create => create(data, claims).await?,
        None => return Err(Error::forbidden(NOT_ALLOWED)),
    };
    let user = accounts::user_of(&data.db, &actor).await?;
    if accounts::standing(&user) != accounts::Standing::Active {
        return Err(Error::forbidden(accounts::SUSPENDED));
    }
    let (issuer, subject, refresh, id) = (
        claims.issuer.clone(),
        claims.subject.clone(),
        refresh_token.map(String::from),
        actor.id.clone(),
    );
    let role = config
        .manages_roles()
        .then(|| role_of(config, &groups))
        .filter(|role| *role != user.role());
    data.db
        .transaction(move |conn| {
            OidcIdentity::signed_in(conn, &issuer, &subject, refresh.as_deref(), now())?;
            if let Some(role) = role {
                LocalUser::set_role(conn, &id, role)?;
            }
            Ok(())
        })
        .await?;
    if let Some(role) = role {
        tracing::info!(actor = %actor.username, role = role.as_str(), "role set from the provider's groups");
    }
    sync_communities(data, config, &actor, &groups).await?;
    Ok(Provisioned { actor, notice })
}

/// Whether the groups allow an account (always, without `allowed_groups`).
fn allowed(config: &OidcConfig, groups: &BTreeSet<String>) -> bool {
    config.allowed_groups.is_empty() || config.allowed_groups.iter().any(|g| groups.contains(g))
}

fn role_of(config: &OidcConfig, groups: &BTreeSet<String>) -> Role {
    let member = |list: &[String]| list.iter().any(|g| groups.contains(g));
    if member(&config.admin_groups) {
        Role::Admin
    } else if member(&config.moderator_groups) {
        Role::Moderator
    } else {
        Role::User
    }
}

/// The account linked to the provider account, or (with
/// `link_verified_email`) the one whose e-mail is the provider's verified
/// e-mail, linked now.
async fn find_or_link(data: &Data<Context>, claims: &Claims) -> Result<Option<Actor>> {
    let (issuer, subject) = (claims.issuer.clone(), claims.subject.clone());
    let email = (data.config.oidc.link_verified_email && claims.email_verified)
        .then(|| claims.email.clone())
        .flatten();
    data.db
        .transaction(move |conn| {
            if let Some(identity) = OidcIdentity::find(conn, &issuer, &subject)? {
                return Actor::by_id(conn, &identity.actor_id)?
                    .map(Some)
                    .ok_or_else(|| Error::forbidden(accounts::SUSPENDED));
            }
            let Some(email) = email else {
                return Ok(None);
            };
            let Some(actor) = oidc::person_with_email(conn, &email)? else {
                return Ok(None);
            };
            // One provider account per local account.
            if OidcIdentity::of_actor(conn, &actor.id)?.is_some() {
                return Ok(None);
            }
            let at = now();
            OidcIdentity::insert(
                conn,
                &OidcIdentity {
                    issuer,
                    subject,
                    actor_id: actor.id.clone(),
                    refresh_token: None,
                    created_at: at,
                    last_sign_in_at: at,
                },
            )?;
            tracing::info!(actor = %actor.username, "linked a provider account by its verified e-mail");
            Ok(Some(actor))
        })
        .await
}

/// Creates the account of a first sign-in, under the first free name of
/// `name`, `name2`, `name3`, …; the notice says when it is not `name`.
async fn create(data: &Data<Context>, claims: &Claims) -> Result<(Actor, Option<String>)> {
    let claim = &data.config.oidc.username_claim;
    let wanted = claims.username(claim).unwrap_or_default();
    let base = sanitize_name(wanted).ok_or_else(|| {
        Error::unprocessable(format!(
            "The sign-in provider gave no usable name in its `{claim}` claim (got `{wanted}`): ask an admin of this instance."
        ))
    })?;
    // Never used to sign in: the hash is replaced by one no password
    // matches once the account exists.
    let throwaway = crypto::random_token(32)?;
    for n in 1..=50u32 {
        let name = if n == 1 {
            base.clone()
        } else {
            numbered(&base, n)
        };
        let created = accounts::create_account(
            &data.db,
            &data.urls,
            NewUser {
                name: &name,
                password: &throwaway,
                role: Role::User,
            },
            Admission {
                approved: true,
                ..Admission::default()
            },
        )
        .await;
        let actor = match created {
            Ok(actor) => actor,
            Err(e) if e.kind == crate::error::ErrorKind::Conflict => continue,
            Err(e) => return Err(e),
        };
        let at = now();
        let identity = OidcIdentity {
            issuer: claims.issuer.clone(),
            subject: claims.subject.clone(),
            actor_id: actor.id.clone(),
            refresh_token: None,
            created_at: at,
            last_sign_in_at: at,
        };
        let id = actor.id.clone();
        data.db
            .transaction(move |conn| {
                LocalUser::set_password_hash(conn, &id, NO_PASSWORD)?;
                OidcIdentity::insert(conn, &identity)?;
                Ok(())
            })
            .await?;
        tracing::info!(actor = %actor.username, "account created at a first OpenID Connect sign-in");
        let notice = (name != base).then(|| {
            format!(
                "The name `{base}` was already taken on this instance, so your account is `{name}`."
            )
        });
        return Ok((actor, notice));
    }
    Err(Error::conflict(format!(
        "The names `{base}`, `{base}2` … `{base}50` are all taken here: ask an admin of this instance to create your account."
    )))
}

/// The password hash of accounts the provider signs in: not a PHC string,
/// so no password verifies against it.
pub const NO_PASSWORD: &str = "!oidc";

/// Ends every web session, revokes every OAuth token and drops unused
/// authorization codes of an account (the provider no longer allows it).
pub async fn revoke_access(data: &Data<Context>, actor_id: &str) -> Result<()> {
    let id = actor_id.to_string();
    data.db
        .transaction(move |conn| {
            WebSession::delete_others(conn, &id, None)?;
            OauthToken::revoke_of_actor(conn, &id, None)?;
            OauthCode::delete_unused_of_actor(conn, &id)?;
            Ok(())
        })
        .await
}

/// Joins the mapped communities of the person's groups and leaves the
/// mapped ones of groups they are no longer in, through the same
/// `service::follows` calls as the community page's buttons.
async fn sync_communities(
    data: &Data<Context>,
    config: &OidcConfig,
    actor: &Actor,
    groups: &BTreeSet<String>,
) -> Result<()> {
    for (group, community) in &config.communities {
        let (name, me) = (community.to_lowercase(), actor.id.clone());
        let found = data
            .db
            .run(move |conn| {
                let Some(group) = Actor::local_by_name_and_kind(conn, &name, ActorKind::Group)?
                else {
                    return Ok(None);
                };
                let follow = Follow::between(conn, &me, &group.id)?;
                Ok(Some((group, follow.is_some())))
            })
            .await?;
        let Some((target, member)) = found else {
            tracing::warn!(community = %community, "oidc.communities names no local community");
            continue;
        };
        let wanted = groups.contains(group);
        if wanted && !member {
            follows::follow(data, actor, &target).await?;
        } else if !wanted && member {
            follows::unfollow(data, actor, &target).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_brought_to_the_rules() {
        assert_eq!(sanitize_name("Alice").as_deref(), Some("alice"));
        assert_eq!(
            sanitize_name("jean-luc.picard").as_deref(),
            Some("jean_luc_picard")
        );
        assert_eq!(sanitize_name("bob@corp.example").as_deref(), Some("bob"));
        assert_eq!(sanitize_name("Zoë Ünal").as_deref(), Some("zo_nal"));
        assert_eq!(sanitize_name("ü…").as_deref(), None);
        let long = sanitize_name(&"x".repeat(40)).unwrap();
        assert_eq!(long.len(), MAX_NAME_LEN);
        assert_eq!(numbered(&long, 2).len(), MAX_NAME_LEN);
        assert!(numbered(&long, 12).ends_with("12"));
        assert_eq!(numbered("alice", 2), "alice2");
        for name in ["Alice", "jean-luc.picard", "Zoë Ünal"] {
            let sane = sanitize_name(name).unwrap();
            assert_eq!(accounts::normalize_name(&sane).unwrap(), sane);
        }
    }

    #[test]
    fn groups_decide_roles_and_admission() {
        let config = OidcConfig {
            allowed_groups: vec!["staff".into()],
            admin_groups: vec!["ops".into()],
            moderator_groups: vec!["mods".into()],
            ..OidcConfig::default()
        };
        let set = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert!(!allowed(&config, &set(&["ops"])));
        assert!(allowed(&config, &set(&["staff"])));
        assert_eq!(
            role_of(&config, &set(&["staff", "ops", "mods"])),
            Role::Admin
        );
        assert_eq!(role_of(&config, &set(&["staff", "mods"])), Role::Moderator);
        assert_eq!(role_of(&config, &set(&["staff"])), Role::User);
        assert!(!crypto::verify_password("", NO_PASSWORD));
        let claims = Claims {
            issuer: "i".into(),
            subject: "s".into(),
            email: None,
            email_verified: false,
            raw: serde_json::json!({"groups": ["a", "b", 3], "g": "one"})
                .as_object()
                .cloned()
                .unwrap(),
        };
        assert_eq!(claims.groups("groups"), set(&["a", "b"]));
        assert_eq!(claims.groups("g"), set(&["one"]));
        assert!(claims.groups("none").is_empty());
    }
}
