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
            self as rows, AttemptResult, ClaimedDelivery, Delivery as Row, DeliveryHost, HostNews,
            OutboundActivity, RowUpdate,
        },
        DbConn,
    },
    error::{Error, Result},
    urls::Urls,
};
use backoff::Verdict;
use chrono::{NaiveDateTime, TimeDelta};
use metrics::{Gauges, Metrics, Outcome};
use openssl::pkey::{PKey, Private};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
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

/// A send still waiting for its answer after this long gives its worker
/// slot back (it keeps counting towards its host's limit until it ends, at
/// the latest at the 10 s timeout). So a slow host holds worker slots for
/// at most this long per request, and even when every host is slow at most
/// about `workers` × (10 s ÷ 1 s) sends are in flight.
pub const SLOW_AFTER: Duration = Duration::from_secs(1);

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
    /// Hosts that refused a connection (or could not be reached) lately,
    /// and when: see [`REFUSED_MEMORY`].
    refused: Mutex<HashMap<String, Instant>>,
    keys: Derived<PKey<Private>>,
    payloads: Derived<Arc<sign::Payload>>,
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
            refused: Mutex::new(HashMap::new()),
            keys: Derived::new(),
            payloads: Derived::new(),
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
        self.keys.get(actor_id, pem, |pem| {
            Ok(PKey::private_key_from_pem(pem.as_bytes())?)
        })
    }

    /// The body and digest of an activity (by its id), computed once for
    /// all its deliveries.
    fn payload(&self, activity_ap_id: &str, json: &str) -> Arc<sign::Payload> {
        let Ok(payload) = self.payloads.get(activity_ap_id, json, |json| {
            Ok::<_, std::convert::Infallible>(Arc::new(sign::Payload::new(json.to_string())))
        });
        payload
    }
}

/// Values derived from a text (a parsed key from its PEM, a payload from an
/// activity's JSON), by id, so that the work is done once per sender or
/// activity rather than once per delivery. An entry is derived again when
/// its text changes (a rotated key); the map is emptied when it grows past
/// 10,000 entries.
struct Derived<V> {
    entries: Mutex<HashMap<String, (String, V)>>,
}

impl<V: Clone> Derived<V> {
    fn new() -> Derived<V> {
        Derived {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get<E>(
        &self,
        id: &str,
        text: &str,
        derive: impl FnOnce(&str) -> std::result::Result<V, E>,
    ) -> std::result::Result<V, E> {
        if let Ok(entries) = self.entries.lock() {
            if let Some((cached, value)) = entries.get(id) {
                if cached == text {
                    return Ok(value.clone());
                }
            }
        }
        let value = derive(text)?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(id.to_string(), (text.to_string(), value.clone()));
        }
        Ok(value)
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
    let recorder = Recorder::start(ctx, clock, ctx.delivery.workers);
    let mut tasks = tokio::task::JoinSet::new();
    for row in claimed {
        let ctx = ctx.clone();
        let recorder = recorder.clone();
        tasks.spawn(async move {
            let (done, written) = oneshot::channel();
            attempt(&ctx, &recorder, row, clock, None, Some(done)).await;
            // Not written (the recorder stopped): the lease expires and the
            // row is tried again.
            written.await.unwrap_or(Outcome::Retry)
        });
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
    let full: Vec<String> = busy
        .iter()
        .filter(|(_, n)| **n >= PER_HOST_CONCURRENCY)
        .map(|(host, _)| host.clone())
        .collect();
    let claimed = ctx
        .db
        .run(move |conn| {
            let token = db::new_id();
            let room = |host: &str| {
                PER_HOST_CONCURRENCY.saturating_sub(busy.get(host).copied().unwrap_or(0))
            };
            if rows::claim_due(conn, now, now + LEASE, &token, max, &room, &full)? == 0 {
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

/// Signs and sends one claimed delivery, in its own span, and hands the
/// result to `recorder`. Returns once the recorder has taken it (not once it
/// is written: `done` hears the outcome then), so the worker slot and the
/// host's in-flight count are freed as soon as the request is over. A
/// worker slot (`slot`) is given back early when the request is still
/// waiting after [`SLOW_AFTER`].
async fn attempt(
    ctx: &Context,
    recorder: &Recorder,
    row: ClaimedDelivery,
    clock: Option<NaiveDateTime>,
    slot: Option<OwnedSemaphorePermit>,
    done: Option<oneshot::Sender<Outcome>>,
) {
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
    let started = Instant::now();
    let sending = send(ctx, &row).instrument(span.clone());
    tokio::pin!(sending);
    let mut slot = slot;
    let answer = tokio::select! {
        answer = &mut sending => answer,
        _ = tokio::time::sleep(SLOW_AFTER), if slot.is_some() => {
            // A slow host: let another delivery have the slot meanwhile.
            slot = None;
            sending.await
        }
    };
    let elapsed = started.elapsed();
    let now = clock.unwrap_or_else(db::now);
    let decision = decide(&row, answer, now, backoff::random_jitter());
    recorder
        .submit(Attempted {
            decision,
            elapsed,
            span,
            done,
        })
        .await;
    drop(slot);
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
    if let Some(note) = ctx.delivery.recently_refused(&row.host) {
        return Answer::Unreachable(note);
    }
    let key_id = Urls::key_id(&sender).to_string();
    let payload = ctx.delivery.payload(&row.activity_ap_id, &row.json);
    let request = match sign::signed_post_timed(
        &ctx.delivery.client,
        &inbox,
        key_id,
        key,
        &payload,
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
            ctx.delivery.note_answered(&row.host);
            let status = response.status().as_u16();
            tracing::Span::current().record("status", status);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| backoff::parse_retry_after(v, std::time::SystemTime::now()));
            Answer::Status(status, retry_after)
        }
        Err(e) => {
            let unreachable = match &e {
                reqwest_middleware::Error::Reqwest(e) => e.is_connect(),
                reqwest_middleware::Error::Middleware(_) => false,
            };
            if unreachable {
                ctx.delivery.note_refused(&row.host);
            }
            Answer::Unreachable(error_chain(&e))
        }
    }
}

/// How long a host that could not be connected to is not tried again by
/// this process: its other deliveries in that time fail as if tried (one
/// attempt each, the usual back-off) without spending an RSA signature and
/// a connection on a host that is down. A host that comes back is tried at
/// the next retry, a minute or so later.
pub const REFUSED_MEMORY: Duration = Duration::from_secs(10);

impl Delivery {
    /// When `host` lately could not be connected to, why it is not tried.
    fn recently_refused(&self, host: &str) -> Option<String> {
        let mut refused = self.refused.lock().ok()?;
        match refused.get(host) {
            Some(at) if at.elapsed() < REFUSED_MEMORY => Some(format!(
                "not tried: the host could not be reached {:.1} s ago",
                at.elapsed().as_secs_f64()
            )),
            Some(_) => {
                refused.remove(host);
                None
            }
            None => None,
        }
    }

    fn note_refused(&self, host: &str) {
        if let Ok(mut refused) = self.refused.lock() {
            if refused.len() > 10_000 {
                refused.retain(|_, at| at.elapsed() < REFUSED_MEMORY);
            }
            refused.insert(host.to_string(), Instant::now());
        }
    }

    fn note_answered(&self, host: &str) {
        if let Ok(mut refused) = self.refused.lock() {
            refused.remove(host);
        }
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

/// An answer turned into the row's next state and news of its host,
/// decided in memory; [`Recorder`] writes it.
struct Decision {
    outcome: Outcome,
    /// Why it failed, for the log.
    note: String,
    result: AttemptResult,
}

/// Decides what `answer` means for `row` at `now` (`jitter` as in
/// [`backoff::next_delay`]).
fn decide(row: &ClaimedDelivery, answer: Answer, now: NaiveDateTime, jitter: f64) -> Decision {
    let attempts = row.attempts + 1;
    let retry = |status: Option<i64>, error: String, delay: Option<TimeDelta>| match delay
        .or_else(|| backoff::next_delay(attempts, jitter))
    {
        Some(delay) => (
            Outcome::Retry,
            format!("{error}; next attempt in {delay}"),
            RowUpdate::Retry {
                next_attempt_at: now + delay,
                status,
                error,
            },
        ),
        None => {
            let error = format!("{error} (gave up after {attempts} attempts)");
            (
                Outcome::Expired,
                error.clone(),
                RowUpdate::Failed { status, error },
            )
        }
    };
    let ((outcome, note, update), host_news) = match answer {
        Answer::Status(status, retry_after) => {
            let code = Some(i64::from(status));
            match backoff::classify(status) {
                Verdict::Delivered => (
                    (
                        Outcome::Delivered,
                        String::new(),
                        RowUpdate::Delivered {
                            status: i64::from(status),
                        },
                    ),
                    HostNews::Alive,
                ),
                Verdict::Rejected => {
                    let error = format!("rejected with HTTP {status}");
                    (
                        (
                            Outcome::Rejected,
                            error.clone(),
                            RowUpdate::Failed {
                                status: code,
                                error,
                            },
                        ),
                        HostNews::Alive,
                    )
                }
                // The host is up, just busy: not a failure towards
                // unreachability.
                Verdict::RateLimited => (
                    retry(
                        code,
                        "rate limited (HTTP 429)".into(),
                        retry_after.and_then(|d| TimeDelta::from_std(d).ok()),
                    ),
                    HostNews::Alive,
                ),
                Verdict::Retry => (
                    retry(code, format!("HTTP {status}"), None),
                    HostNews::Failing,
                ),
            }
        }
        Answer::Unreachable(error) => (retry(None, error, None), HostNews::Failing),
        Answer::Unsendable(error) => (
            (
                Outcome::Expired,
                error.clone(),
                RowUpdate::Failed {
                    status: None,
                    error,
                },
            ),
            HostNews::Unknown,
        ),
    };
    Decision {
        outcome,
        note,
        result: AttemptResult {
            id: row.id.clone(),
            host: row.host.clone(),
            update,
            host_news,
        },
    }
}

/// Most results written in one transaction.
const MAX_BATCH: usize = 256;

/// One attempt on its way to the database.
struct Attempted {
    decision: Decision,
    /// Sign and send time.
    elapsed: Duration,
    span: tracing::Span,
    /// Told the outcome once it is written.
    done: Option<oneshot::Sender<Outcome>>,
}

/// Writes attempt results in batches: one task takes every result that is
/// waiting and records them in one transaction ([`rows::record_results`]),
/// so while one batch is written the next one gathers. Then it logs and
/// counts each outcome. At most `capacity` results wait; beyond that,
/// attempts wait to hand theirs over, so a slow database slows sending
/// instead of letting unwritten results pile up. A result not written
/// before a crash only means the row is sent again after its lease.
#[derive(Clone)]
struct Recorder {
    results: mpsc::Sender<Attempted>,
}

impl Recorder {
    /// Starts the writing task; it ends when the last clone is dropped.
    fn start(ctx: &Context, clock: Option<NaiveDateTime>, capacity: usize) -> Recorder {
        let (results, mut waiting) = mpsc::channel::<Attempted>(capacity.max(1));
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let results: Vec<AttemptResult> =
                    batch.iter().map(|a| a.decision.result.clone()).collect();
                let now = clock.unwrap_or_else(db::now);
                let written = ctx
                    .db
                    .run(move |conn| {
                        Ok(rows::record_results(
                            conn,
                            &results,
                            now,
                            backoff::UNREACHABLE_AFTER,
                        )?)
                    })
                    .await;
                let written = match written {
                    Ok(unreachable) => {
                        for host in unreachable {
                            tracing::warn!(
                                host,
                                "host has failed for longer than the retry window: marked \
                                 unreachable, its deliveries are parked until it is seen alive"
                            );
                        }
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "could not record delivery results");
                        false
                    }
                };
                for attempted in batch.drain(..) {
                    attempted.finish(&ctx, written);
                }
            }
        });
        Recorder { results }
    }

    /// Hands over one result, waiting while the queue of results is full.
    async fn submit(&self, attempted: Attempted) {
        if let Err(mpsc::error::SendError(attempted)) = self.results.send(attempted).await {
            attempted.finish_unwritten();
        }
    }
}

impl Attempted {
    /// Logs and counts the outcome once the result is written (or not:
    /// then the lease expires and the row is tried again).
    fn finish(self, ctx: &Context, written: bool) {
        let outcome = if written {
            self.decision.outcome
        } else {
            Outcome::Retry
        };
        self.span.in_scope(|| {
            let note = &self.decision.note;
            match outcome {
                Outcome::Delivered => tracing::debug!("delivered"),
                Outcome::Retry => tracing::info!(reason = %note, "delivery failed; will retry"),
                Outcome::Rejected | Outcome::Expired => {
                    tracing::warn!(reason = %note, "delivery dropped")
                }
            }
            tracing::Span::current().record("outcome", outcome.as_str());
        });
        ctx.delivery.metrics.observe(outcome, self.elapsed);
        if let Some(done) = self.done {
            let _ = done.send(outcome);
        }
    }

    /// The recorder is gone (its runtime stopped): nothing is written.
    fn finish_unwritten(self) {
        tracing::error!(parent: &self.span, "could not record a delivery result");
        if let Some(done) = self.done {
            let _ = done.send(Outcome::Retry);
        }
    }
}

/// Starts the background worker loop of `serve`: keeps up to
/// `delivery.workers` sends in flight, claims more as slots free up, and
/// polls every [`POLL_INTERVAL`] when idle (or sooner after
/// [`Delivery::wake`]). Runs until the runtime stops; rows in flight at that
/// moment are re-sent after their lease.
pub fn spawn_workers(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let workers = ctx.delivery.workers;
        tracing::info!(workers, "delivery workers started");
        let recorder = Recorder::start(&ctx, None, 4 * workers);
        // Claimed rows wait here for a worker slot. The claimer claims a
        // whole batch as soon as there is room to hold it, while the
        // previous batch is still waiting or being sent, so that claiming
        // (a database round trip) never leaves the workers idle. Waiting
        // rows count as in flight for the per-host limit.
        // Four workers' worth per claim: each claim is a transaction of
        // several round trips, which on PostgreSQL cost more than the
        // sends they feed when taken sixteen rows at a time.
        let batch = 4 * workers;
        let (claimed, mut ready) = mpsc::channel::<ClaimedDelivery>(2 * batch);
        let claimer = async {
            loop {
                let Ok(room) = claimed.reserve_many(batch).await else {
                    return;
                };
                let rows = match claim(&ctx, db::now(), batch).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = ?e, "claiming deliveries failed");
                        Vec::new()
                    }
                };
                if rows.is_empty() {
                    drop(room);
                    tokio::select! {
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                        _ = ctx.delivery.wake.notified() => {}
                    }
                    continue;
                }
                for (slot, row) in room.zip(rows) {
                    slot.send(row);
                }
            }
        };
        let sender = async {
            while let Some(row) = ready.recv().await {
                let Ok(permit) = ctx.delivery.permits.clone().acquire_owned().await else {
                    return;
                };
                let ctx = ctx.clone();
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    attempt(&ctx, &recorder, row, None, Some(permit), None).await;
                });
            }
        };
        tokio::join!(claimer, sender);
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
