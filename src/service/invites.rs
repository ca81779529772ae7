//! Invite links: an admin makes a code good for some sign-ups until a
//! date, optionally naming a local community its users join;
//! `/register?invite=CODE` and `POST /api/v1/accounts` with `invite_code`
//! use it (`service::registrations`).

use crate::{
    crypto,
    db::{invite::Invite, new_id, now, Db},
    error::{Error, ErrorKind, Result},
    service::accounts,
};

/// Longest an invite may last, and most uses it may have.
pub const MAX_DAYS: i64 = 365;
pub const MAX_USES: i64 = 1000;

/// What a registration with a bad code hears.
pub(crate) fn not_valid() -> Error {
    Error::unprocessable(
        "That invite code is not valid: it may have expired, been used up or revoked. Ask for a new invite.",
    )
}

/// What an admin asks of a new invite.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewInvite<'a> {
    /// Sign-ups it allows (`None`: any number).
    pub max_uses: Option<i64>,
    /// Days it lasts (`None`: no expiry).
    pub days: Option<i64>,
    /// The name of a local community the people who sign up with it join.
    pub community: Option<&'a str>,
}

/// An admin makes an invite.
///
/// Errors: `Forbidden` for anyone but an admin, `Unprocessable` for limits
/// out of range or a community that is not one of this instance's.
pub async fn create(
    db: &Db,
    admin: &crate::db::actor::Actor,
    new: NewInvite<'_>,
) -> Result<Invite> {
    let NewInvite {
        max_uses,
        days,
        community,
    } = new;
    accounts::require_admin(db, admin).await?;
    if max_uses.is_some_and(|m| !(1..=MAX_USES).contains(&m)) {
        return Err(Error::unprocessable(format!(
            "Uses must be between 1 and {MAX_USES}, or empty for no limit."
        )));
    }
    if days.is_some_and(|d| !(1..=MAX_DAYS).contains(&d)) {
        return Err(Error::unprocessable(format!(
            "Expiry must be between 1 and {MAX_DAYS} days, or empty for none."
        )));
    }
    let community_id = match community.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(name) => {
            let name = name.trim_start_matches('@');
            match crate::service::communities::local(db, name).await {
                Ok((group, _)) => Some(group.id),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    return Err(Error::unprocessable(format!(
                        "There is no community named `{name}` on this instance."
                    )))
                }
                Err(e) => return Err(e),
            }
        }
    };
    let at = now();
    let invite = Invite {
        id: new_id(),
        code: crypto::random_token(12)?,
        created_by: admin.id.clone(),
        max_uses,
        uses: 0,
        expires_at: days.map(|d| at + chrono::Duration::days(d)),
        revoked_at: None,
        created_at: at,
        community_id,
    };
    let row = invite.clone();
    db.run(move |conn| Ok(Invite::insert(conn, &row)?)).await?;
    Ok(invite)
}

/// Every invite, newest first (admins only).
///
/// Errors: `Forbidden`.
pub async fn list(db: &Db, admin: &crate::db::actor::Actor) -> Result<Vec<Invite>> {
    accounts::require_admin(db, admin).await?;
    db.run(|conn| Ok(Invite::all(conn)?)).await
}

/// An admin revokes an invite.
///
/// Errors: `Forbidden`, `NotFound` for an unknown or already revoked one.
pub async fn revoke(db: &Db, admin: &crate::db::actor::Actor, id: &str) -> Result<()> {
    accounts::require_admin(db, admin).await?;
    let id = id.to_string();
    let revoked = db
        .run(move |conn| Ok(Invite::revoke(conn, &id, now())?))
        .await?;
    if revoked {
        Ok(())
    } else {
        Err(Error::not_found("no such invite"))
    }
}

/// The live invite behind a code.
///
/// Errors: `Unprocessable` for an unknown, expired, used-up or revoked code.
pub async fn usable(db: &Db, code: &str) -> Result<Invite> {
    let code = code.trim().to_string();
    if code.is_empty() || code.len() > 100 {
        return Err(not_valid());
    }
    db.run(move |conn| {
        Invite::by_code(conn, &code)?
            .filter(|i| i.usable(now()))
            .ok_or_else(not_valid)
    })
    .await
}
