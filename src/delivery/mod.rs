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
mod enqueue;
pub mod metrics;
mod record;
pub mod sign;

use crate::{
    apub::client::REQUEST_TIMEOUT,
    context::Context,
    db::{
        self,
        delivery::{self as rows, ClaimedDelivery, Delivery as Row, DeliveryHost},
    },
    error::Result,
    urls::Urls,
};
use chrono::{NaiveDateTime, TimeDelta};
use metrics::{Gauges, Metrics, Outcome};
use openssl::pkey::{PKey, Private};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use url::Url;

pub use crate::db::delivery::DeliveryState;
pub use enqueue::{enqueue, host_seen_alive, plan_targets, Enqueued, Inbox};
use record::{decide, Attempted, Recorder};

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
