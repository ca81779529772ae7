//! Partner organisations (issue 13 §5): hosts an admin names as partners,
//! and the Partners timeline over them, a "network of organisations" view
//! that stays on the open fediverse. Called by the CLI (`outloud admin
//! partners …`), the admin page, the client API (`/api/v1/outloud/partners`,
//! the reserved list [`LIST_ID`]) and the `/partners` page.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, list::List, partner::PartnerInstance, timeline, Db, Page},
    error::{Error, Result},
    service::{
        filters::{drop_hidden, FilterContext},
        timelines::Item,
    },
};

/// The id of the list alias: every signed-in account's `GET
/// /api/v1/lists` shows a list with this id while the instance has
/// partners, so Mastodon apps can open the Partners timeline as a list.
/// Real list ids are UUIDs, so it never collides with one.
pub const LIST_ID: &str = "partners";

/// Normalises what an admin typed into the form `actors.domain` has:
/// `host` or `host:port`, lower-case, international names in punycode
/// (`https://Bücher.Example:8443/x` → `xn--bcher-kva.example:8443`). The
/// port is kept when one is given, as instances on other ports are other
/// instances; a scheme's default port is dropped. The host itself is
/// checked by the federation policy's [`normalize_domain`], so both
/// accept the same names.
///
/// Errors: `Unprocessable` for something that is not a host.
///
/// [`normalize_domain`]: crate::service::policy::normalize_domain
pub fn normalize_host(input: &str) -> Result<String> {
    let invalid = || Error::unprocessable(format!("`{input}` is not a host name"));
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.contains(char::is_whitespace) || trimmed.contains('@') {
        return Err(invalid());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?;
    let host = crate::service::policy::normalize_domain(host).map_err(|_| invalid())?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Names a host a partner. Adding one twice is no error.
///
/// Errors: `Unprocessable` for something that is not a host.
pub async fn add(db: &Db, host: &str, added_by: Option<&Actor>) -> Result<String> {
    let host = normalize_host(host)?;
    let (h, by) = (host.clone(), added_by.map(|a| a.id.clone()));
    db.run(move |conn| Ok(PartnerInstance::add(conn, &h, by.as_deref())?))
        .await?;
    Ok(host)
}

/// Forgets a partner.
///
/// Errors: `Unprocessable` for something that is not a host; `NotFound`
/// when it is not a partner.
pub async fn remove(db: &Db, host: &str) -> Result<String> {
    let host = normalize_host(host)?;
    let h = host.clone();
    let removed = db
        .run(move |conn| Ok(PartnerInstance::remove(conn, &h)?))
        .await?;
    if removed {
        Ok(host)
    } else {
        Err(Error::not_found(format!("{host} is not a partner")))
    }
}

/// Every partner, alphabetically.
pub async fn list(db: &Db) -> Result<Vec<PartnerInstance>> {
    db.run(|conn| Ok(PartnerInstance::list(conn)?)).await
}

/// The Partners timeline (see `db::timeline::partners_posts`), with the
/// viewer's filters of the public context.
pub async fn timeline(data: &Data<Context>, viewer: &Actor, page: Page) -> Result<Vec<Item>> {
    let viewer = viewer.clone();
    data.db
        .run(move |conn| {
            let posts = timeline::partners_posts(conn, &viewer, &page)?;
            let items = posts.into_iter().map(Item::Post).collect();
            Ok(drop_hidden(
                conn,
                Some(&viewer),
                FilterContext::Public,
                items,
            )?)
        })
        .await
}

/// The list alias as `me`'s list, while the instance has partners.
pub async fn as_list(data: &Data<Context>, me: &Actor) -> Result<Option<List>> {
    let any = data.db.run(|conn| Ok(PartnerInstance::any(conn)?)).await?;
    let now = crate::db::now();
    Ok(any.then(|| List {
        id: LIST_ID.to_string(),
        account_id: me.id.clone(),
        title: "Partners".to_string(),
        replies_policy: "list".to_string(),
        exclusive: false,
        created_at: now,
        updated_at: now,
    }))
}

/// Refuses changes to the list alias: its posts follow from the admin's
/// partners, not from members.
///
/// Errors: `Unprocessable` when `list_id` is the alias.
pub fn refuse_edit(list_id: &str) -> Result<()> {
    if list_id == LIST_ID {
        return Err(Error::unprocessable(
            "The Partners list shows the instance's partner organisations and cannot be edited",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(normalize_host("Beta.Example").unwrap(), "beta.example");
        assert_eq!(
            normalize_host("beta.localhost:4000").unwrap(),
            "beta.localhost:4000"
        );
        assert_eq!(
            normalize_host("https://social.example:443/about").unwrap(),
            "social.example"
        );
        assert_eq!(
            normalize_host("http://Bücher.Example:8443").unwrap(),
            "xn--bcher-kva.example:8443"
        );
        for bad in ["", "not a host", "a..b", "@x", "alice@beta.example", "x:y"] {
            assert!(normalize_host(bad).is_err(), "{bad}");
        }
    }
}
