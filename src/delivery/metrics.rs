//! Delivery metrics in the Prometheus text format (version 0.0.4), rendered
//! by hand: a few counters and one histogram do not justify a metrics crate.
//!
//! Counters and the latency histogram belong to this process (each process
//! behind a load balancer is scraped on its own); queue depth and unreachable
//! hosts are read from the database at scrape time, so they are the same
//! whichever process answers.

use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Upper bounds of the latency buckets, in seconds (the request timeout is
/// 10 s, so the last finite bucket catches timeouts).
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How one attempt ended, the histogram's `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Permanent 4xx: dropped.
    Rejected,
    /// Will be tried again (5xx, 408, 429, timeout, connection error).
    Retry,
    /// Retryable failure, but out of attempts: dropped.
    Expired,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Delivered,
        Outcome::Rejected,
        Outcome::Retry,
        Outcome::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Rejected => "rejected",
            Outcome::Retry => "retry",
            Outcome::Expired => "expired",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Process-local counters, shared by every worker of one instance.
#[derive(Debug, Default)]
pub struct Metrics {
    sent: AtomicU64,
    rejected: AtomicU64,
    expired: AtomicU64,
    retried: AtomicU64,
    /// Time spent computing RSA signatures (and digests), in microseconds.
    signing_micros: AtomicU64,
    latency: [Histogram; 4],
}

/// Gauges read from the database at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    pub queued: i64,
    pub parked: i64,
    pub unreachable_hosts: i64,
}

impl Metrics {
    /// Counts one attempt and its latency.
    pub fn observe(&self, outcome: Outcome, elapsed: Duration) {
        let counter = match outcome {
            Outcome::Delivered => &self.sent,
            Outcome::Rejected => &self.rejected,
            Outcome::Retry => &self.retried,
            Outcome::Expired => &self.expired,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let histogram = &self.latency[outcome.index()];
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        histogram.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Adds the time one request spent being signed (digest and RSA).
    pub fn observe_signing(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.signing_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Total time spent signing, summed over every attempt (CPU time on
    /// blocking threads, so it can exceed wall-clock time).
    pub fn signing_time(&self) -> Duration {
        Duration::from_micros(self.signing_micros.load(Ordering::Relaxed))
    }

    /// Renders everything in the Prometheus text format.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let plain = |v: i64| vec![(String::new(), v.to_string())];
        metric(
            "outloud_delivery_queue_depth",
            "gauge",
            "Deliveries waiting to be sent, not counting parked ones.",
            &plain(gauges.queued),
        );
        metric(
            "outloud_delivery_parked",
            "gauge",
            "Deliveries held back because their host is unreachable.",
            &plain(gauges.parked),
        );
        metric(
            "outloud_delivery_unreachable_hosts",
            "gauge",
            "Hosts marked unreachable after failing for longer than the retry window.",
            &plain(gauges.unreachable_hosts),
        );
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed).to_string();
        metric(
            "outloud_deliveries_sent_total",
            "counter",
            "Deliveries accepted by the receiving server (2xx).",
            &[(String::new(), load(&self.sent))],
        );
        metric(
            "outloud_deliveries_failed_total",
            "counter",
            "Deliveries given up: rejected (4xx other than 408/429) or expired (out of retries).",
            &[
                ("{reason=\"rejected\"}".into(), load(&self.rejected)),
                ("{reason=\"expired\"}".into(), load(&self.expired)),
            ],
        );
        metric(
            "outloud_deliveries_retried_total",
            "counter",
            "Attempts that failed and were scheduled again.",
            &[(String::new(), load(&self.retried))],
        );
        let signing = self.signing_micros.load(Ordering::Relaxed) as f64 / 1e6;
        metric(
            "outloud_delivery_signing_seconds_total",
            "counter",
            "Time spent computing digests and RSA signatures for deliveries.",
            &[(String::new(), signing.to_string())],
        );
        let mut lines = Vec::new();
        for outcome in Outcome::ALL {
            let h = &self.latency[outcome.index()];
            let label = outcome.as_str();
            for (bucket, bound) in h.buckets.iter().zip(BUCKETS) {
                lines.push((
                    format!("_bucket{{outcome=\"{label}\",le=\"{bound}\"}}"),
                    load(bucket),
                ));
            }
            lines.push((
                format!("_bucket{{outcome=\"{label}\",le=\"+Inf\"}}"),
                load(&h.count),
            ));
            let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            lines.push((format!("_sum{{outcome=\"{label}\"}}"), sum.to_string()));
            lines.push((format!("_count{{outcome=\"{label}\"}}"), load(&h.count)));
        }
        metric(
            "outloud_delivery_duration_seconds",
            "histogram",
            "Time to sign and send one delivery, by outcome.",
            &lines,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.observe(Outcome::Delivered, Duration::from_millis(20));
        m.observe(Outcome::Delivered, Duration::from_millis(300));
        m.observe(Outcome::Retry, Duration::from_secs(11));
        m.observe(Outcome::Rejected, Duration::from_millis(1));
        m.observe_signing(Duration::from_millis(1500));
        let text = m.render(Gauges {
            queued: 3,
            parked: 1,
            unreachable_hosts: 1,
        });
        for line in [
            "outloud_delivery_queue_depth 3",
            "outloud_delivery_parked 1",
            "outloud_delivery_unreachable_hosts 1",
            "outloud_deliveries_sent_total 2",
            "outloud_deliveries_failed_total{reason=\"rejected\"} 1",
            "outloud_deliveries_failed_total{reason=\"expired\"} 0",
            "outloud_deliveries_retried_total 1",
            "outloud_delivery_signing_seconds_total 1.5",
            "outloud_delivery_duration_seconds_bucket{outcome=\"delivered\",le=\"0.025\"} 1",
            "outloud_delivery_duration_seconds_bucket{outcome=\"delivered\",le=\"0.5\"} 2",
            "outloud_delivery_duration_seconds_bucket{outcome=\"retry\",le=\"10\"} 0",
            "outloud_delivery_duration_seconds_bucket{outcome=\"retry\",le=\"+Inf\"} 1",
            "outloud_delivery_duration_seconds_count{outcome=\"delivered\"} 2",
            "# TYPE outloud_delivery_duration_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }
}
