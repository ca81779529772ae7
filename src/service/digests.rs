//! Weekly digests (issue 13 §4): what a week brought to a person (the
//! people they follow, the communities they joined) or to a community —
//! what was learned, questions answered, open questions, who is stuck, new
//! members — for the web page, the Atom feeds and the weekly e-mail.
//!
//! Weeks are ISO weeks (Monday to Monday) in `digest.timezone`. What a
//! person sees is what their home timeline shows them (`db::digest` filters
//! `timeline::home_query`); a community's digest is public, so it holds
//! public posts only, and nothing for a members-only community.
//!
//! The e-mail goes out once per person per week, whichever of several
//! `serve` processes on one database gets there first: see [`run_due`]
//! and `db::digest::claim`.

mod mail;
pub use mail::{view, Fragment, View};

use crate::{
    context::Context,
    db::{
        actor::Actor,
        digest::{self, DigestSettings, Scope},
        facts,
        post::Post,
        Db,
    },
    error::{Error, Result},
};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::{collections::HashMap, fmt};

/// At most this many entries in each part of a digest.
pub const PART_LENGTH: i64 = 20;

/// An ISO week, `2026-W48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub year: i32,
    pub week: u32,
}

impl fmt::Display for Week {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

impl Week {
    /// Reads `YYYY-Www`.
    ///
    /// Errors: `BadRequest` for anything else, or a week the year lacks.
    pub fn parse(raw: &str) -> Result<Week> {
        let bad = || Error::bad_request(format!("`{raw}` is no week like 2026-W05"));
        let (year, week) = raw.split_once("-W").ok_or_else(bad)?;
        if year.len() != 4 || week.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        Ok(Week { year, week })
    }

    fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, chrono::Weekday::Mon).unwrap_or_default()
    }

    fn of_date(date: NaiveDate) -> Week {
        let iso = date.iso_week();
        Week {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// The week `now` falls in, in `tz`.
    pub fn containing(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Week {
        Week::of_date(now.with_timezone(&tz).date_naive())
    }

    pub fn previous(self) -> Week {
        Week::of_date(self.monday() - chrono::Days::new(7))
    }

    /// `day` of this week at `hour`:00 in `tz`, as UTC.
    fn moment(self, day: chrono::Weekday, hour: u32, tz: chrono_tz::Tz) -> NaiveDateTime {
        let date = self.monday() + chrono::Days::new(u64::from(day.num_days_from_monday()));
        let local = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
        // A moment skipped by a daylight-saving change is taken as UTC.
        tz.from_local_datetime(&local)
            .earliest()
            .map(|t| t.naive_utc())
            .unwrap_or(local)
    }

    /// `[start, end)` in UTC: Monday 00:00 to the next Monday, in `tz`.
    pub fn bounds(self, tz: chrono_tz::Tz) -> (NaiveDateTime, NaiveDateTime) {
        let next = Week::of_date(self.monday() + chrono::Days::new(7));
        (
            self.moment(chrono::Weekday::Mon, 0, tz),
            next.moment(chrono::Weekday::Mon, 0, tz),
        )
    }
}

/// The week a digest shows when none is asked for: the last complete one.
pub fn last_complete_week(ctx: &Context, now: DateTime<Utc>) -> Week {
    Week::containing(now, ctx.config.digest.tz()).previous()
}

/// The week a reader asked for (`YYYY-Www`), or the last complete one
/// when they named none: what the web pages and the client API show.
///
/// Errors: `BadRequest` for a malformed week.
pub fn asked_week(ctx: &Context, raw: Option<&str>) -> Result<Week> {
    match raw.map(str::trim).filter(|w| !w.is_empty()) {
        Some(raw) => Week::parse(raw),
        None => Ok(last_complete_week(ctx, Utc::now())),
    }
}

/// The week whose e-mail is due at `now`: the last complete week, once the
/// configured moment of the current week has passed.
pub fn due_week(ctx: &Context, now: DateTime<Utc>) -> Option<Week> {
    let config = &ctx.config.digest;
    let tz = config.tz();
    let current = Week::containing(now, tz);
    let moment = current.moment(config.weekday(), config.hour, tz);
    (now.naive_utc() >= moment).then(|| current.previous())
}

/// A digest, each part newest first, posts with their authors.
#[derive(Debug, Clone)]
pub struct Digest {
    pub week: Week,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub learned: Vec<(Post, Actor)>,
    pub answered: Vec<(Post, Actor)>,
    pub open: Vec<(Post, Actor)>,
    pub stuck: Vec<(Post, Actor)>,
    /// (new member, community).
    pub new_members: Vec<(Actor, Actor)>,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.learned.is_empty()
            && self.answered.is_empty()
            && self.open.is_empty()
            && self.stuck.is_empty()
            && self.new_members.is_empty()
    }
}

/// Loads a digest: the rows, then every actor they name in one query.
async fn load(ctx: &Context, scope: OwnedScope, week: Week) -> Result<Digest> {
    let (start, end) = week.bounds(ctx.config.digest.tz());
    ctx.db
        .run(move |conn| {
            let rows = match &scope {
                OwnedScope::Person(viewer) => {
                    digest::week(conn, Scope::Person(viewer), start, end, PART_LENGTH)?
                }
                OwnedScope::Community(group_id) => digest::week(
                    conn,
                    Scope::Community {
                        group_id,
                        visibilities: &["public"],
                    },
                    start,
                    end,
                    PART_LENGTH,
                )?,
            };
            let mut ids: Vec<String> = [&rows.learned, &rows.answered, &rows.open, &rows.stuck]
                .iter()
                .flat_map(|posts| posts.iter().map(|p| p.author_id.clone()))
                .chain(
                    rows.new_members
                        .iter()
                        .flat_map(|(m, c)| [m.clone(), c.clone()]),
                )
                .collect();
            ids.sort();
            ids.dedup();
            let actors = facts::actors_by_ids(conn, &ids)?;
            let with_authors = |posts: Vec<Post>| -> Vec<(Post, Actor)> {
                posts
                    .into_iter()
                    .filter_map(|p| {
                        let author = actors.get(&p.author_id)?.clone();
                        Some((p, author))
                    })
                    .collect()
            };
            let pair = |(m, c): (String, String), actors: &HashMap<String, Actor>| {
                Some((actors.get(&m)?.clone(), actors.get(&c)?.clone()))
            };
            Ok(Digest {
                week,
                start,
                end,
                new_members: rows
                    .new_members
                    .into_iter()
                    .filter_map(|p| pair(p, &actors))
                    .collect(),
                learned: with_authors(rows.learned),
                answered: with_authors(rows.answered),
                open: with_authors(rows.open),
                stuck: with_authors(rows.stuck),
            })
        })
        .await
}

/// Whose digest: a person (boxed: an actor row is large) or a community.
enum OwnedScope {
    Person(Box<Actor>),
    Community(String),
}

/// A person's digest of `week`: only what they may read.
pub async fn for_person(ctx: &Context, person: &Actor, week: Week) -> Result<Digest> {
    load(ctx, OwnedScope::Person(Box::new(person.clone())), week).await
}

/// A local community's digest of `week`: its public posts (none for a
/// members-only community, whose digest would otherwise be public).
///
/// Errors: `NotFound` when `name` is no local community.
pub async fn for_community(ctx: &Context, name: &str, week: Week) -> Result<(Actor, Digest)> {
    let (group, community) = crate::service::communities::local(&ctx.db, name).await?;
    let scope = if community.members_only {
        // A group id no post carries: an empty digest, still with its week.
        OwnedScope::Community(String::new())
    } else {
        OwnedScope::Community(group.id.clone())
    };
    let digest = load(ctx, scope, week).await?;
    Ok((group, digest))
}

/// A local community's digest of `week`, the community named by its
/// account id (the client API's way), as [`for_community`].
///
/// Errors: `NotFound` for an unknown account or one that is no community;
/// `Unprocessable` for another server's community, whose digest is its
/// own server's to make.
pub async fn for_community_id(ctx: &Context, id: &str, week: Week) -> Result<(Actor, Digest)> {
    let id = id.to_string();
    let actor = ctx
        .db
        .run(move |conn| Ok(Actor::by_id(conn, &id)?))
        .await?
        .filter(|a| a.kind() == crate::db::actor::ActorKind::Group)
        .ok_or_else(|| Error::not_found("no such community"))?;
    if !actor.local {
        return Err(Error::unprocessable(
            "digests are made for this server's communities; this one lives on another server",
        ));
    }
    for_community(ctx, &actor.username, week).await
}

/// A person's digest settings, made (with a new feed token) on first use.
pub async fn settings(db: &Db, person_id: &str) -> Result<DigestSettings> {
    let token = crate::crypto::random_token(24)?;
    let id = person_id.to_string();
    db.run(move |conn| Ok(DigestSettings::ensure(conn, &id, &token, crate::db::now())?))
        .await
}

/// Saves a person's e-mail address and whether they want the weekly
/// e-mail; an empty address removes it.
///
/// Errors: `Unprocessable` for an address that is none, or asking for the
/// e-mail without an address.
pub async fn save_email(db: &Db, person_id: &str, email: &str, digest_email: bool) -> Result<()> {
    let email = email.trim();
    if email.len() > 254 || (!email.is_empty() && email.parse::<lettre::Address>().is_err()) {
        return Err(Error::unprocessable(format!(
            "`{email}` is no e-mail address like ana@example.org."
        )));
    }
    if digest_email && email.is_empty() {
        return Err(Error::unprocessable(
            "To get the weekly digest by e-mail, give an e-mail address.",
        ));
    }
    settings(db, person_id).await?;
    let (id, email) = (person_id.to_string(), email.to_string());
    db.run(move |conn| {
        let email = Some(email.as_str()).filter(|e| !e.is_empty());
        DigestSettings::set_email(conn, &id, email, digest_email, crate::db::now())?;
        Ok(())
    })
    .await
}

/// The person whose digest feed `token` opens.
///
/// Errors: `NotFound` for a token that is no one's.
pub async fn person_by_token(db: &Db, token: &str) -> Result<Actor> {
    let token = token.to_string();
    db.run(move |conn| Ok(DigestSettings::by_token(conn, &token)?))
        .await?
        .ok_or_else(|| Error::not_found("no such digest feed"))
}

/// What one scheduler pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub failed: usize,
}

/// Mails the due week's digest to every person who asked for it and has
/// not had it: each is claimed first (`db::digest::claim`), so processes
/// passing at once, or a process restarted mid-week, send nothing twice;
/// a failed sending is recorded and tried again on a later pass. Does
/// nothing without `[mail]`, with `digest.enabled = false`, or before the
/// week's moment.
pub async fn run_due(ctx: &Context, now: DateTime<Utc>) -> Result<Pass> {
    let mut pass = Pass::default();
    if !ctx.config.mail.enabled() || !ctx.config.digest.enabled {
        return Ok(pass);
    }
    let Some(week) = due_week(ctx, now) else {
        return Ok(pass);
    };
    let recipients = ctx
        .db
        .run(|conn| Ok(DigestSettings::recipients(conn)?))
        .await?;
    if recipients.is_empty() {
        return Ok(pass);
    }
    let mailer = mail::Mailer::new(&ctx.config.mail)?;
    let key = week.to_string();
    for (settings, person) in recipients {
        let (id, k) = (person.id.clone(), key.clone());
        let claimed = ctx
            .db
            .run(move |conn| Ok(digest::claim(conn, &id, &k, now.naive_utc())?))
            .await?;
        if !claimed {
            continue;
        }
        let outcome = async {
            let digest = for_person(ctx, &person, week).await?;
            let message = mail::message(ctx, &settings, &person, &digest)?;
            mailer.send(message).await
        }
        .await;
        match &outcome {
            Ok(()) => pass.sent += 1,
            Err(e) => {
                pass.failed += 1;
                tracing::warn!(person = %person.username, week = %key, error = ?e, "digest e-mail failed");
            }
        }
        let (id, k) = (person.id.clone(), key.clone());
        let outcome = outcome.map_err(|e| format!("{e:?}"));
        ctx.db
            .run(move |conn| Ok(digest::finish(conn, &id, &k, outcome, crate::db::now())?))
            .await?;
    }
    Ok(pass)
}

/// The background task of `serve`: every `digest.check_seconds`, a
/// [`run_due`] pass (mail configured only).
pub fn spawn(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !ctx.config.mail.enabled() || !ctx.config.digest.enabled {
            tracing::info!("digest e-mails off: no [mail] smtp_host, or digest.enabled = false");
            return;
        }
        let every = std::time::Duration::from_secs(ctx.config.digest.check_seconds);
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match run_due(&ctx, Utc::now()).await {
                Ok(Pass { sent: 0, failed: 0 }) => {}
                Ok(pass) => {
                    tracing::info!(sent = pass.sent, failed = pass.failed, "digest e-mails")
                }
                Err(e) => tracing::warn!(error = ?e, "digest pass failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_print_and_bound() {
        let week = Week::parse("2026-W01").unwrap();
        assert_eq!(week.to_string(), "2026-W01");
        assert_eq!(week.previous().to_string(), "2025-W52");
        for bad in [
            "2026-W1",
            "2026W01",
            "2026-W54",
            "x",
            "2026-W00",
            "20260-W01",
        ] {
            assert!(Week::parse(bad).is_err(), "{bad}");
        }
        let (start, end) = week.bounds(chrono_tz::Europe::Berlin);
        assert_eq!(start.to_string(), "2025-12-28 23:00:00");
        assert_eq!(end.to_string(), "2026-01-04 23:00:00");
        let now = Utc.with_ymd_and_hms(2026, 1, 4, 23, 30, 0).unwrap();
        assert_eq!(
            Week::containing(now, chrono_tz::Europe::Berlin).to_string(),
            "2026-W02"
        );
        assert_eq!(
            Week::containing(now, chrono_tz::UTC).to_string(),
            "2026-W01"
        );
    }
}
