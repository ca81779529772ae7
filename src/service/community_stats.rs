//! A community's figures for its stewards (issue 13 §5): members per
//! instance, narrations per kind per week, open and answered asks, and the
//! median time to a first answer. Aggregates only: no names, no counts per
//! person, and an instance with fewer than [`MIN_GROUP`] members is folded
//! into "other", so a figure never points at one person (k-anonymity, see
//! docs/api.md). Shown to the community's moderators and the instance's
//! admins only, for local communities only (another server's community is
//! known here only in part).

use crate::{
    db::{
        actor::{Actor, ActorKind},
        community::Community,
        community_stats::{self as rows, AskRow},
        local_user::{LocalUser, Role},
        post::NarrationKind,
        Db, DbConn,
    },
    error::{Error, Result},
};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use serde::Serialize;

/// Instances with fewer members than this are counted together as
/// "other": a count of one or two on a named instance would say who.
pub const MIN_GROUP: usize = 3;

/// How many weeks the per-week counts and the median look back.
pub const WEEKS: i64 = 12;

/// The name the folded instances are shown under.
pub const OTHER: &str = "other";

/// Members on one instance (or on the instances folded into "other").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostCount {
    pub host: String,
    pub members: usize,
}

/// Posts shared in the community in one week, by narration kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekCounts {
    /// The week's Monday (ISO weeks, UTC).
    pub week: NaiveDate,
    pub doing: usize,
    pub learned: usize,
    pub stuck: usize,
    pub ask: usize,
    /// Posts of no kind.
    pub none: usize,
}

/// Everything the stewards see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityStats {
    /// Most members first; "other" last.
    pub members_per_instance: Vec<HostCount>,
    /// The last [`WEEKS`] weeks, oldest first, this week last.
    pub weeks: Vec<WeekCounts>,
    /// Asks without an accepted answer.
    pub open_asks: usize,
    /// Asks with an accepted answer.
    pub answered_asks: usize,
    /// Median time from an ask to its first reply by someone else, over
    /// the asks of the last [`WEEKS`] weeks that have one.
    pub median_first_answer_seconds: Option<i64>,
    /// How many asks that median is over.
    pub asks_with_replies: usize,
}

/// The figures of `group` for `viewer`.
///
/// Errors: `NotFound` when `group` is not a community; `Unprocessable`
/// for another server's community; `Forbidden` unless `viewer` moderates
/// it or is an admin.
pub async fn of_community(db: &Db, group: &Actor, viewer: &Actor) -> Result<CommunityStats> {
    if group.kind() != ActorKind::Group {
        return Err(Error::not_found("no such community"));
    }
    let (group_id, viewer_id) = (group.id.clone(), viewer.id.clone());
    db.run(move |conn| {
        if Community::by_actor_id(conn, &group_id)?.is_none() {
            return Err(Error::unprocessable(
                "figures are kept for this instance's communities only",
            ));
        }
        let admin =
            LocalUser::by_actor_id(conn, &viewer_id)?.is_some_and(|u| u.role() == Role::Admin);
        if !admin && !Community::is_moderator(conn, &group_id, &viewer_id)? {
            return Err(Error::forbidden(
                "only the community's moderators see its figures",
            ));
        }
        Ok(load(conn, &group_id, crate::db::now())?)
    })
    .await
}

/// [`of_community`] for a community given by actor id.
///
/// Errors: `NotFound` for an unknown id, and those of [`of_community`].
pub async fn of_community_id(db: &Db, group_id: &str, viewer: &Actor) -> Result<CommunityStats> {
    let id = group_id.to_string();
    let group = db
        .run(move |conn| Ok(Actor::by_id(conn, &id)?))
        .await?
        .ok_or_else(|| Error::not_found("no such community"))?;
    of_community(db, &group, viewer).await
}

/// Reads the rows and computes the figures as of `now`.
fn load(
    conn: &mut DbConn,
    group_id: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<CommunityStats> {
    let first_week = week_of(now) - TimeDelta::weeks(WEEKS - 1);
    let since = first_week.and_hms_opt(0, 0, 0).unwrap_or(now);
    let hosts = rows::member_hosts(conn, group_id)?;
    let kinds = rows::kinds_since(conn, group_id, since)?;
    let asks = rows::asks(conn, group_id)?;
    let ids: Vec<String> = asks.iter().map(|a| a.id.clone()).collect();
    let answered = rows::answered_among(conn, &ids)?;
    let recent: Vec<String> = asks
        .iter()
        .filter(|a| a.published >= since)
        .map(|a| a.ap_id.clone())
        .collect();
    let replies = rows::replies_to(conn, &recent)?;
    Ok(compute(now, hosts, kinds, &asks, answered.len(), &replies))
}

/// The Monday of `at`'s ISO week.
fn week_of(at: NaiveDateTime) -> NaiveDate {
    let date = at.date();
    date - TimeDelta::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The figures from the rows (pure, so the arithmetic is tested alone).
fn compute(
    now: NaiveDateTime,
    hosts: Vec<String>,
    kinds: Vec<(NaiveDateTime, Option<String>)>,
    asks: &[AskRow],
    answered: usize,
    replies: &[(String, String, NaiveDateTime)],
) -> CommunityStats {
    // Members per instance, small instances folded into "other".
    let mut per_host = std::collections::BTreeMap::<String, usize>::new();
    for host in hosts {
        *per_host.entry(host).or_default() += 1;
    }
    let mut other = 0;
    let mut members: Vec<HostCount> = Vec::new();
    for (host, count) in per_host {
        if count < MIN_GROUP {
            other += count;
        } else {
            members.push(HostCount {
                host,
                members: count,
            });
        }
    }
    members.sort_by(|a, b| b.members.cmp(&a.members).then(a.host.cmp(&b.host)));
    if other > 0 {
        members.push(HostCount {
            host: OTHER.to_string(),
            members: other,
        });
    }

    // Per kind per week, zero weeks included.
    let first = week_of(now) - TimeDelta::weeks(WEEKS - 1);
    let mut weeks: Vec<WeekCounts> = (0..WEEKS)
        .map(|i| WeekCounts {
            week: first + TimeDelta::weeks(i),
            doing: 0,
            learned: 0,
            stuck: 0,
            ask: 0,
            none: 0,
        })
        .collect();
    for (published, kind) in kinds {
        let Some(week) = weeks.iter_mut().find(|w| w.week == week_of(published)) else {
            continue;
        };
        match kind.as_deref().and_then(NarrationKind::parse) {
            Some(NarrationKind::Doing) => week.doing += 1,
            Some(NarrationKind::Learned) => week.learned += 1,
            Some(NarrationKind::Stuck) => week.stuck += 1,
            Some(NarrationKind::Ask) => week.ask += 1,
            None => week.none += 1,
        }
    }

    // Time to the first reply by someone other than the asker.
    let since = first.and_hms_opt(0, 0, 0).unwrap_or(now);
    let mut waits: Vec<i64> = asks
        .iter()
        .filter(|a| a.published >= since)
        .filter_map(|ask| {
            replies
                .iter()
                .filter(|(to, author, _)| *to == ask.ap_id && *author != ask.author_id)
                .map(|(_, _, at)| *at)
                .min()
                .map(|at| (at - ask.published).num_seconds().max(0))
        })
        .collect();
    waits.sort_unstable();
    let median = match waits.len() {
        0 => None,
        n if n % 2 == 1 => Some(waits[n / 2]),
        n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2),
    };

    CommunityStats {
        members_per_instance: members,
        weeks,
        open_asks: asks.len().saturating_sub(answered),
        answered_asks: answered,
        median_first_answer_seconds: median,
        asks_with_replies: waits.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    fn ask(n: u32, day: u32) -> AskRow {
        AskRow {
            id: format!("ask{n}"),
            ap_id: format!("http://a/{n}"),
            author_id: "asker".into(),
            published: at(day, 0),
        }
    }

    #[test]
    fn figures_fold_small_instances_and_take_the_median() {
        let hosts = ["a", "a", "a", "b", "c", "c", "d", "d", "d", "d"]
            .map(String::from)
            .to_vec();
        // Thursday 3 December 2026: its week starts Monday 30 November.
        let now = at(3, 12);
        let kinds = vec![
            (at(1, 0), Some("ask".to_string())),
            (at(2, 0), None),
            (at(2, 1), Some("doing".to_string())),
            (
                NaiveDate::from_ymd_opt(2026, 11, 29)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
                None,
            ),
        ];
        let asks = [ask(1, 1), ask(2, 1), ask(3, 1)];
        let replies = vec![
            // The asker's own reply does not count.
            ("http://a/1".to_string(), "asker".to_string(), at(1, 1)),
            ("http://a/1".to_string(), "x".to_string(), at(1, 4)),
            ("http://a/1".to_string(), "y".to_string(), at(1, 9)),
            ("http://a/2".to_string(), "x".to_string(), at(1, 2)),
        ];
        let stats = compute(now, hosts, kinds, &asks, 1, &replies);
        assert_eq!(
            stats.members_per_instance,
            vec![
                HostCount {
                    host: "d".into(),
                    members: 4
                },
                HostCount {
                    host: "a".into(),
                    members: 3
                },
                HostCount {
                    host: OTHER.into(),
                    members: 3
                },
            ]
        );
        assert_eq!(stats.weeks.len(), WEEKS as usize);
        let this = stats.weeks.last().unwrap();
        assert_eq!(this.week, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!((this.ask, this.doing, this.none), (1, 1, 1));
        assert_eq!(stats.weeks[WEEKS as usize - 2].none, 1);
        assert_eq!((stats.open_asks, stats.answered_asks), (2, 1));
        // Waits of 4 h and 2 h: the median is 3 h.
        assert_eq!(stats.median_first_answer_seconds, Some(3 * 3600));
        assert_eq!(stats.asks_with_replies, 2);
    }
}
