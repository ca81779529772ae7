//! Invite links: an admin makes a code good for some sign-ups until a
//! date; `/register?invite=CODE` uses it (`service::registrations`).

use crate::{
    crypto,
    db::{invite::Invite, new_id, now, Db},
    error::{Error, Result},
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

/// An admin makes an invite: `max_uses` sign-ups (`None`: any number)
/// within `days` days (`None`: no expiry).
///
/// Errors: `Forbidden` for anyone but an admin, `Unprocessable` for limits
/// out of range.
pub async fn create(
    db: &Db,
    admin: &crate::db::actor::Actor,
    max_uses: Option<i64>,
    days: Option<i64>,
) -> Result<Invite> {
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
