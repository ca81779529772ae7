//! The durable outbound delivery queue (DESIGN §4 Delivery, docs/delivery.md).
//!
//! The federation crate's own queue lives in memory, so a restart loses every
//! pending delivery. Here instead:
//!
//! 1. [`enqueue`] runs inside the transaction of the change that causes the
//!    activity: the JSON is stored once and one row is written per target
//!    inbox, with shared inboxes used and de-duplicated per host. Nothing is
//!    sent for a change that rolls back, and nothing is lost once it commits.
//! 2. Workers ([`spawn_workers`], or one bounded round with [`deliver_due`])
//!    claim due rows, sign them with openssl ([`sign`]) and POST them.
//! 3. Failures are retried on a back-off schedule ([`backoff`]); 4xx other
//!    than 408/429 are dropped; a host failing for a week is parked until it
//!    is seen alive again ([`host_seen_alive`]) or an admin revives it.
//! 4. Fairness: at most [`PER_HOST_CONCURRENCY`] sends per host at once and a
//!    10 s timeout, so a slow or dead host only ever holds its own slots.
//! 5. Every attempt runs in a `delivery` tracing span and is counted in
//!    [`metrics`].

pub mod backoff;
pub mod metrics;
pub mod sign;

use crate::{
    apub::{client::REQUEST_TIMEOUT, objects::actor::domain_of},
    context::Context,
    db::{
        self,
        actor::Actor,
        delivery::{
            self as rows, ClaimedDelivery, Delivery as Row, DeliveryHost, OutboundActivity,
        },
        DbConn,
    },
    error::{Error, Result},
    urls::Urls,
};
use backoff::Verdict;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::Connection;
use metrics::{Gauges, Metrics, Outcome};
use openssl::pkey::{PKey, Private};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{Notify, Semaphore};
use tracing::Instrument;
use url::Url;

pub use crate::db::delivery::DeliveryState;

/// Sends in flight to one host at once, per process. A dead host that takes
/// the full timeout holds at most these slots; every other host keeps going.
pub const PER_HOST_CONCURRENCY: usize = 4;

/// How long a claim lasts. A process that dies mid-send leaves its rows
/// claimed until then; they are sent again afterwards (at-least-once, which
/// receivers tolerate because activity ids are idempotent). Well above the
/// 10 s request timeout plus signing.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// How often an idle worker loop looks for due rows when nobody wakes it.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A recipient's inboxes, as its actor document lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    pub inbox: Url,
    /// `endpoints.sharedInbox`, when the recipient's server offers one.
    pub shared_inbox: Option<Url>,
}

impl Inbox {
    pub fn new(inbox: Url, shared_inbox: Option<Url>) -> Inbox {
        Inbox {
            inbox,
            shared_inbox,
        }
    }

    /// The inboxes of a stored actor.
    pub fn of_actor(actor: &Actor) -> Inbox {
        Inbox {
            inbox: actor.inbox_url.0.clone(),
            shared_inbox: actor
                .shared_inbox_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok()),
        }
    }
}

/// Chooses the URLs to POST to: per host of the recipients' inboxes, the
/// shared inbox when any recipient there offers one (one POST reaches all of
/// them), else each distinct personal inbox. Inboxes on `own_domain` (local
/// recipients) and non-http(s) URLs are left out. Sorted, no duplicates.
pub fn plan_targets(inboxes: Vec<Inbox>, own_domain: &str) -> Vec<Url> {
    let mut by_host: BTreeMap<String, Vec<Inbox>> = BTreeMap::new();
    for inbox in inboxes {
        if !matches!(inbox.inbox.scheme(), "http" | "https") || inbox.inbox.host().is_none() {
            continue;
        }
        by_host
            .entry(domain_of(&inbox.inbox))
            .or_default()
            .push(inbox);
    }
    let mut targets: Vec<Url> = Vec::new();
    for (host, recipients) in by_host {
        if host.eq_ignore_ascii_case(own_domain) {
            continue;
        }
        let shared: Vec<Url> = recipients
            .iter()
            .filter_map(|r| r.shared_inbox.clone())
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .collect();
        if shared.is_empty() {
            targets.extend(recipients.into_iter().map(|r| r.inbox));
        } else {
            targets.extend(shared);
        }
    }
    targets.sort();
    targets.dedup();
    targets
}

/// What [`enqueue`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// `outbound_activities.id`.
    pub activity_row_id: String,
    /// Delivery rows added (targets already queued for this activity are
    /// not added twice).
    pub queued: usize,
}

/// Queues `activity_json` (whose id is `activity_id`) for delivery to
/// `inboxes`, signed later by the local actor `sender_actor_id` (`actors.id`;
/// the instance actor for instance-level activities). Synchronous, for use
/// inside [`crate::db::Db::transaction`] together with the change that causes
/// the activity. Enqueuing the same activity id again adds only new targets.
/// After the transaction commits, [`Delivery::wake`] shortens the wait.
pub fn enqueue(
    conn: &mut DbConn,
    sender_actor_id: &str,
    activity_id: &Url,
    activity_json: &serde_json::Value,
    inboxes: Vec<Inbox>,
) -> Result<Enqueued> {
    let sender = Actor::by_id(conn, sender_actor_id)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown sender {sender_actor_id}")))?;
    if !sender.local || sender.private_key_pem.is_none() {
        return Err(Error::internal(anyhow::anyhow!(
            "sender {} is not a local actor with a key",
            sender.ap_id
        )));
    }
    let now = db::now();
    let activity = match OutboundActivity::by_ap_id(conn, activity_id.as_str())? {
        Some(existing) => existing,
        None => {
            let row = OutboundActivity {
                id: db::new_id(),
                ap_id: activity_id.to_string(),
                sender_actor_id: sender.id.clone(),
                json: serde_json::to_string(activity_json)?,
                created_at: now,
            };
            OutboundActivity::insert(conn, &row)?;
            row
        }
    };
    let rows = plan_targets(inboxes, &sender.domain)
        .into_iter()
        .map(|url| Row::queued(&activity.id, url.as_str(), &domain_of(&url), now))
        .collect();
    let queued = Row::insert_new(conn, rows)?;
    Ok(Enqueued {
        activity_row_id: activity.id,
        queued,
    })
}

/// Called by the inbox after a successful request signed by an actor on
/// `host` (`host[:port]`): a host that was failing or parked is healthy
/// again, and its queued deliveries become due at once. One primary-key
/// read when the host was healthy. Returns whether anything changed.
pub fn host_seen_alive(conn: &mut DbConn, host: &str) -> Result<bool> {
    let revived = DeliveryHost::revive(conn, host, db::now())?;
    if revived {
        tracing::info!(host, "delivery host is alive again; its deliveries resume");
    }
    Ok(revived)
}

/// The delivery machinery of one instance: HTTP client, concurrency limits,
/// a private-key cache and metrics. Lives in [`Context`]; no globals.
pub struct Delivery {
    client: ClientWithMiddleware,
    workers: usize,
    permits: Arc<Semaphore>,
    in_flight: Mutex<HashMap<String, usize>>,
    keys: Mutex<HashMap<String, (String, PKey<Private>)>>,
    wake: Notify,
    pub metrics: Metrics,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// `workers` = concurrent sends per process (`delivery.workers`).
    pub fn new(client: ClientWithMiddleware, workers: usize) -> Delivery {
        let workers = workers.max(1);
        Delivery {
            client,
            workers,
            permits: Arc::new(Semaphore::new(workers)),
            in_flight: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            metrics: Metrics::default(),
        }
    }

    /// Tells an idle worker loop that rows were just committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn in_flight_snapshot(&self) -> HashMap<String, usize> {
        self.in_flight.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn begin(&self, host: &str) {
        if let Ok(mut m) = self.in_flight.lock() {
            *m.entry(host.to_string()).or_default() += 1;
        }
    }

    fn end(&self, host: &str) {
        if let Ok(mut m) = self.in_flight.lock() {
            if let Some(n) = m.get_mut(host) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(host);
                }
            }
        }
    }

    /// Parses (once per actor and key) the sender's PKCS#8 PEM key.
    fn key(&self, actor_id: &str, pem: &str) -> Result<PKey<Private>> {
        if let Ok(keys) = self.keys.lock() {
            if let Some((cached_pem, key)) = keys.get(actor_id) {
                if cached_pem == pem {
                    return Ok(key.clone());
                }
            }
        }
        let key = PKey::private_key_from_pem(pem.as_bytes())?;
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() > 10_000 {
                keys.clear();
            }
            keys.insert(actor_id.to_string(), (pem.to_string(), key.clone()));
        }
        Ok(key)
    }
}

/// What one round of [`deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows claimed (and attempted) in this round.
    pub claimed: usize,
    pub delivered: usize,
    /// Failed and scheduled again.
    pub retrying: usize,
    /// Dropped for good: rejected by the receiver, out of retries, or
    /// unsendable (e.g. the sender lost its key).
    pub failed: usize,
}

impl Report {
    /// Nothing was due (or everything due was blocked by per-host limits).
    pub fn is_idle(&self) -> bool {
        self.claimed == 0
    }

    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Retry => self.retrying += 1,
            Outcome::Rejected | Outcome::Expired => self.failed += 1,
        }
    }
}

/// One bounded round: claims up to `delivery.workers` due rows (at most
/// [`PER_HOST_CONCURRENCY`] per host), sends them concurrently, records
/// every result, and reports. Tests call it until [`Report::is_idle`]; the
/// background loop does the same work continuously.
pub async fn deliver_due(ctx: &Context) -> Result<Report> {
    deliver_round(ctx, None).await
}

/// [`deliver_due`] as if the clock read `now`: tests use it to reach
/// retries scheduled minutes or days ahead without waiting.
pub async fn deliver_due_at(ctx: &Context, now: NaiveDateTime) -> Result<Report> {
    deliver_round(ctx, Some(now)).await
}

async fn deliver_round(ctx: &Context, clock: Option<NaiveDateTime>) -> Result<Report> {
    let claimed = claim(ctx, clock.unwrap_or_else(db::now), ctx.delivery.workers).await?;
    let mut report = Report {
        claimed: claimed.len(),
        ..Report::default()
    };
    let mut tasks = tokio::task::JoinSet::new();
    for row in claimed {
        let ctx = ctx.clone();
        tasks.spawn(async move { attempt(&ctx, row, clock).await });
    }
    while let Some(done) = tasks.join_next().await {
        report.add(done?);
    }
    Ok(report)
}

/// Claims up to `max` due rows, respecting the per-host limit given what
/// this process already has in flight, and marks their hosts busy. Two
/// statements in the common case (see [`rows::claim_due`]), then one read
/// of the claimed rows with their activity and key.
async fn claim(ctx: &Context, now: NaiveDateTime, max: usize) -> Result<Vec<ClaimedDelivery>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let busy = ctx.delivery.in_flight_snapshot();
    let claimed = ctx
        .db
        .run(move |conn| {
            let token = db::new_id();
            let room = |host: &str| {
                PER_HOST_CONCURRENCY.saturating_sub(busy.get(host).copied().unwrap_or(0))
            };
            if rows::claim_due(conn, now, now + LEASE, &token, max, &room)? == 0 {
                return Ok(Vec::new());
            }
            Ok(rows::claimed(conn, &token)?)
        })
        .await?;
    for row in &claimed {
        ctx.delivery.begin(&row.host);
    }
    Ok(claimed)
}

/// Marks the host free again however the attempt ends (even on panic).
struct InFlight<'a> {
    delivery: &'a Delivery,
    host: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.delivery.end(&self.host);
    }
}

/// What the network said, before it is turned into a row update.
enum Answer {
    Status(u16, Option<Duration>),
    Unreachable(String),
    Unsendable(String),
}

/// Signs, sends and records one claimed delivery, in its own span.
async fn attempt(ctx: &Context, row: ClaimedDelivery, clock: Option<NaiveDateTime>) -> Outcome {
    let _in_flight = InFlight {
        delivery: &ctx.delivery,
        host: row.host.clone(),
    };
    let span = tracing::info_span!(
        "delivery",
        id = %row.id,
        activity = %row.activity_ap_id,
        inbox = %row.inbox_url,
        attempt = row.attempts + 1,
        outcome = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let answer = send(ctx, &row).await;
        let elapsed = started.elapsed();
        let outcome = match record(ctx, &row, answer, clock).await {
            Ok(outcome) => outcome,
            Err(e) => {
                // The lease expires and the row is tried again.
                tracing::error!(error = ?e, "could not record a delivery result");
                Outcome::Retry
            }
        };
        tracing::Span::current().record("outcome", outcome.as_str());
        ctx.delivery.metrics.observe(outcome, elapsed);
        outcome
    }
    .instrument(span)
    .await
}

async fn send(ctx: &Context, row: &ClaimedDelivery) -> Answer {
    let Some(pem) = row.private_key_pem.as_deref() else {
        return Answer::Unsendable("the sender has no private key".into());
    };
    let key = match ctx.delivery.key(&row.sender_actor_id, pem) {
        Ok(key) => key,
        Err(e) => return Answer::Unsendable(format!("the sender's key does not load: {e}")),
    };
    let (inbox, sender) = match (Url::parse(&row.inbox_url), Url::parse(&row.sender_ap_id)) {
        (Ok(inbox), Ok(sender)) => (inbox, sender),
        _ => return Answer::Unsendable("unparsable inbox or sender URL".into()),
    };
    let key_id = Urls::key_id(&sender).to_string();
    let request = match sign::signed_post_timed(
        &ctx.delivery.client,
        &inbox,
        key_id,
        key,
        row.json.clone(),
        REQUEST_TIMEOUT,
    )
    .await
    {
        Ok((request, signing)) => {
            ctx.delivery.metrics.observe_signing(signing);
            request
        }
        Err(e) => return Answer::Unsendable(e.to_string()),
    };
    match ctx.delivery.client.execute(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            tracing::Span::current().record("status", status);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| backoff::parse_retry_after(v, std::time::SystemTime::now()));
            Answer::Status(status, retry_after)
        }
        Err(e) => Answer::Unreachable(error_chain(&e)),
    }
}

/// The whole error chain in one line ("error sending request: … refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Turns an answer into the row's next state and the host's health.
async fn record(
    ctx: &Context,
    row: &ClaimedDelivery,
    answer: Answer,
    clock: Option<NaiveDateTime>,
) -> Result<Outcome> {
    let id = row.id.clone();
    let host = row.host.clone();
    let attempts = row.attempts + 1;
    let jitter = backoff::random_jitter();
    let (outcome, note) = ctx
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let now = clock.unwrap_or_else(db::now);
                let retry = |conn: &mut DbConn,
                             status: Option<i64>,
                             error: &str,
                             delay: Option<TimeDelta>|
                 -> Result<(Outcome, String)> {
                    let delay = delay.or_else(|| backoff::next_delay(attempts, jitter));
                    match delay {
                        Some(delay) => {
                            Row::mark_retry(conn, &id, now + delay, status, error, now)?;
                            Ok((Outcome::Retry, format!("{error}; next attempt in {delay}")))
                        }
                        None => {
                            let error = format!("{error} (gave up after {attempts} attempts)");
                            Row::mark_failed(conn, &id, status, &error, now)?;
                            Ok((Outcome::Expired, error))
                        }
                    }
                };
                match answer {
                    Answer::Status(status, retry_after) => {
                        let code = Some(i64::from(status));
                        match backoff::classify(status) {
                            Verdict::Delivered => {
                                Row::mark_delivered(conn, &id, i64::from(status), now)?;
                                DeliveryHost::record_success(conn, &host, now)?;
                                Ok((Outcome::Delivered, String::new()))
                            }
                            Verdict::Rejected => {
                                let error = format!("rejected with HTTP {status}");
                                Row::mark_failed(conn, &id, code, &error, now)?;
                                DeliveryHost::record_success(conn, &host, now)?;
                                Ok((Outcome::Rejected, error))
                            }
                            Verdict::RateLimited => {
                                // The host is up, just busy: not a failure
                                // towards unreachability.
                                DeliveryHost::record_success(conn, &host, now)?;
                                let delay = retry_after.and_then(|d| TimeDelta::from_std(d).ok());
                                retry(conn, code, "rate limited (HTTP 429)", delay)
                            }
                            Verdict::Retry => {
                                mark_host_failing(conn, &host, now)?;
                                retry(conn, code, &format!("HTTP {status}"), None)
                            }
                        }
                    }
                    Answer::Unreachable(error) => {
                        mark_host_failing(conn, &host, now)?;
                        retry(conn, None, &error, None)
                    }
                    Answer::Unsendable(error) => {
                        Row::mark_failed(conn, &id, None, &error, now)?;
                        Ok((Outcome::Expired, error))
                    }
                }
            })
        })
        .await?;
    match outcome {
        Outcome::Delivered => tracing::debug!("delivered"),
        Outcome::Retry => tracing::info!(reason = %note, "delivery failed; will retry"),
        Outcome::Rejected | Outcome::Expired => {
            tracing::warn!(reason = %note, "delivery dropped")
        }
    }
    Ok(outcome)
}

fn mark_host_failing(conn: &mut DbConn, host: &str, now: NaiveDateTime) -> Result<()> {
    if DeliveryHost::record_failure(conn, host, now, backoff::UNREACHABLE_AFTER)? {
        tracing::warn!(
            host,
            "host has failed for longer than the retry window: marked unreachable, \
             its deliveries are parked until it is seen alive"
        );
    }
    Ok(())
}

/// Starts the background worker loop of `serve`: keeps up to
/// `delivery.workers` sends in flight, claims more as slots free up, and
/// polls every [`POLL_INTERVAL`] when idle (or sooner after
/// [`Delivery::wake`]). Runs until the runtime stops; rows in flight at that
/// moment are re-sent after their lease.
pub fn spawn_workers(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tracing::info!(workers = ctx.delivery.workers, "delivery workers started");
        loop {
            let Ok(first) = ctx.delivery.permits.clone().acquire_owned().await else {
                return;
            };
            // A whole batch per claim, not just the free slots: claiming is
            // a database round trip, so doing it once per `workers` sends
            // rather than once per send keeps the database out of the way.
            // Rows claimed beyond the free slots wait here for a permit
            // (they count as in flight for the per-host limit meanwhile),
            // well within their lease.
            let claimed = match claim(&ctx, db::now(), ctx.delivery.workers).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!(error = ?e, "claiming deliveries failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                drop(first);
                tokio::select! {
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = ctx.delivery.wake.notified() => {}
                }
                continue;
            }
            let mut first = Some(first);
            for row in claimed {
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => match ctx.delivery.permits.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    attempt(&ctx, row, None).await;
                    drop(permit);
                });
            }
        }
    })
}

/// Renders `/metrics`: this process's counters plus queue gauges read now.
pub async fn render_metrics(ctx: &Context) -> Result<String> {
    let gauges = ctx
        .db
        .run(|conn| {
            let (queued, parked) = Row::queue_depth(conn)?;
            let unreachable_hosts = DeliveryHost::unreachable(conn)?.len() as i64;
            Ok(Gauges {
                queued,
                parked,
                unreachable_hosts,
            })
        })
        .await?;
    Ok(ctx.delivery.metrics.render(gauges))
}

#[cfg(test)]
mod tests;
