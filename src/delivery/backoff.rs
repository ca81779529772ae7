//! When to try again, and when to stop: the retry schedule and the rules
//! that sort an HTTP answer into delivered / rejected / retry.

use chrono::TimeDelta;
use std::time::Duration;

/// Delay after the n-th failed attempt (n = 1…): about 1 min, 5 min, 30 min,
/// 2 h, 12 h, then daily, so that the last attempt falls just short of a
/// week after the first (DESIGN §4). Mastodon and Lemmy use similar curves.
const SCHEDULE_MINUTES: [i64; 11] = [
    1,
    5,
    30,
    2 * 60,
    12 * 60,
    24 * 60,
    24 * 60,
    24 * 60,
    24 * 60,
    24 * 60,
    24 * 60,
];

/// Attempts in all before a delivery is given up (the first plus one per
/// schedule entry): the last is made ~6 days 15 h after the first.
pub const MAX_ATTEMPTS: i64 = SCHEDULE_MINUTES.len() as i64 + 1;

/// How long a host may fail continuously before it is marked unreachable
/// and its deliveries are parked: the same week as the retry window.
pub const UNREACHABLE_AFTER: TimeDelta = TimeDelta::days(7);

/// Jitter spreads retries of a fan-out that failed together (±10 %).
pub const JITTER: f64 = 0.10;

/// The longest `Retry-After` honoured; a larger one is clamped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delay before the next attempt after `attempts` failed attempts, or
/// `None` when the delivery should be given up. `jitter` is in [-1, 1] and
/// scales the delay by up to ±[`JITTER`].
pub fn next_delay(attempts: i64, jitter: f64) -> Option<TimeDelta> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let minutes = *SCHEDULE_MINUTES.get(index)?;
    let base_ms = minutes * 60_000;
    let factor = 1.0 + JITTER * jitter.clamp(-1.0, 1.0);
    // Rounding to whole milliseconds keeps the value exact on both backends.
    Some(TimeDelta::milliseconds(
        (base_ms as f64 * factor).round() as i64
    ))
}

/// A uniformly random jitter in [-1, 1] from openssl's CSPRNG (no extra
/// crate for one number); 0 if the generator fails, which only loses spread.
pub fn random_jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match openssl::rand::rand_bytes(&mut bytes) {
        Ok(()) => (f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)) * 2.0 - 1.0,
        Err(_) => 0.0,
    }
}

/// What an HTTP answer means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx (and 3xx are not followed: see below).
    Delivered,
    /// 4xx other than 408 and 429: the receiver will never accept it (bad
    /// signature, gone actor, blocked). Dropped with a log line.
    Rejected,
    /// 429: try again after `Retry-After` when given, else on the schedule.
    RateLimited,
    /// 5xx, 408, and anything unexpected: try again on the schedule.
    Retry,
}

/// Sorts a status code. Redirects count as retryable failures: inbox POSTs
/// are not followed across hosts (the client never follows redirects), and a
/// redirect usually means a misconfigured proxy that may be fixed.
pub fn classify(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        408 => Verdict::Retry,
        429 => Verdict::RateLimited,
        400..=499 => Verdict::Rejected,
        _ => Verdict::Retry,
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3),
/// clamped to [`MAX_RETRY_AFTER`]. A date in the past means "now".
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(d: TimeDelta) -> f64 {
        d.num_milliseconds() as f64 / 60_000.0
    }

    #[test]
    fn schedule_without_jitter() {
        let got: Vec<f64> = (1..MAX_ATTEMPTS)
            .map(|n| minutes(next_delay(n, 0.0).unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![1.0, 5.0, 30.0, 120.0, 720.0, 1440.0, 1440.0, 1440.0, 1440.0, 1440.0, 1440.0]
        );
    }

    #[test]
    fn gives_up_within_a_week() {
        assert_eq!(next_delay(MAX_ATTEMPTS, 0.0), None);
        assert_eq!(next_delay(MAX_ATTEMPTS + 5, 0.0), None);
        assert_eq!(next_delay(0, 0.0), None);
        assert_eq!(next_delay(-1, 0.0), None);
        // Even with maximal jitter the last attempt is inside 7 days, and
        // without it the schedule still spans more than 6 days.
        let total = |j: f64| {
            (1..MAX_ATTEMPTS)
                .map(|n| next_delay(n, j).unwrap())
                .fold(TimeDelta::zero(), |a, b| a + b)
        };
        assert!(total(1.0) < TimeDelta::days(7) + TimeDelta::days(1));
        assert!(total(0.0) > TimeDelta::days(6));
        assert!(total(0.0) < UNREACHABLE_AFTER);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for n in 1..MAX_ATTEMPTS {
            let base = next_delay(n, 0.0).unwrap().num_milliseconds() as f64;
            for j in [-1.0, -0.5, 0.3, 1.0, 7.0, -7.0] {
                let d = next_delay(n, j).unwrap().num_milliseconds() as f64;
                assert!((d - base).abs() <= base * JITTER + 1.0, "n={n} j={j}");
            }
        }
        for _ in 0..100 {
            let j = random_jitter();
            assert!((-1.0..=1.0).contains(&j));
        }
    }

    #[test]
    fn permanent_failure_rules() {
        assert_eq!(classify(200), Verdict::Delivered);
        assert_eq!(classify(202), Verdict::Delivered);
        assert_eq!(classify(204), Verdict::Delivered);
        for status in [400, 401, 403, 404, 410, 413, 422] {
            assert_eq!(classify(status), Verdict::Rejected, "{status}");
        }
        assert_eq!(classify(408), Verdict::Retry);
        assert_eq!(classify(429), Verdict::RateLimited);
        for status in [500, 502, 503, 504, 301, 302, 100] {
            assert_eq!(classify(status), Verdict::Retry, "{status}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = std::time::SystemTime::now();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 5 ", now), Some(Duration::from_secs(5)));
        let later = now + Duration::from_secs(300);
        let date = httpdate::fmt_http_date(later);
        let got = parse_retry_after(&date, now).unwrap();
        assert!(got <= Duration::from_secs(300) && got >= Duration::from_secs(298));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(300));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
