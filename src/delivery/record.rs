//! What an attempt's answer means for its row (retry, give up, done) and
//! for its host, decided in memory ([`decide`]), and the task that writes
//! the results in batches ([`Recorder`]).

use super::{backoff, backoff::Verdict, metrics::Outcome, Answer};
use crate::{
    context::Context,
    db,
    db::delivery::{self as rows, AttemptResult, ClaimedDelivery, HostNews, RowUpdate},
};
use chrono::{NaiveDateTime, TimeDelta};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// An answer turned into the row's next state and news of its host,
/// decided in memory; [`Recorder`] writes it.
pub(super) struct Decision {
    outcome: Outcome,
    /// Why it failed, for the log.
    note: String,
    result: AttemptResult,
}

/// Decides what `answer` means for `row` at `now` (`jitter` as in
/// [`backoff::next_delay`]).
pub(super) fn decide(
    row: &ClaimedDelivery,
    answer: Answer,
    now: NaiveDateTime,
    jitter: f64,
) -> Decision {
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
pub(super) const MAX_BATCH: usize = 256;

/// One attempt on its way to the database.
pub(super) struct Attempted {
    pub(super) decision: Decision,
    /// Sign and send time.
    pub(super) elapsed: Duration,
    pub(super) span: tracing::Span,
    /// Told the outcome once it is written.
    pub(super) done: Option<oneshot::Sender<Outcome>>,
}

/// Writes attempt results in batches: one task takes every result that is
/// waiting and records them in one transaction ([`rows::record_results`]),
/// so while one batch is written the next one gathers. Then it logs and
/// counts each outcome. At most `capacity` results wait; beyond that,
/// attempts wait to hand theirs over, so a slow database slows sending
/// instead of letting unwritten results pile up. A result not written
/// before a crash only means the row is sent again after its lease.
#[derive(Clone)]
pub(super) struct Recorder {
    results: mpsc::Sender<Attempted>,
}

impl Recorder {
    /// Starts the writing task; it ends when the last clone is dropped.
    pub(super) fn start(ctx: &Context, clock: Option<NaiveDateTime>, capacity: usize) -> Recorder {
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
    pub(super) async fn submit(&self, attempted: Attempted) {
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
