//! Fixed-window rate limits kept in memory, per process: login attempts
//! per IP and per account, and API requests per token or IP. Several
//! processes behind one load balancer each keep their own counts, so the
//! effective limit is the per-process limit times the number of processes.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// Counts hits per key in windows of `window`.
#[derive(Debug)]
pub struct RateLimiter {
    pub limit: u32,
    pub window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

/// What a check found, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds since the Unix epoch when the window resets.
    pub reset_at: u64,
}

impl Verdict {
    /// The reset time as ISO 8601, as Mastodon sends `X-RateLimit-Reset`.
    pub fn reset_iso(&self) -> String {
        chrono::DateTime::from_timestamp(self.reset_at as i64, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default()
    }
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    fn verdict(&self, started: Instant, count: u32) -> Verdict {
        let left = self.window.saturating_sub(started.elapsed());
        let reset_at = (SystemTime::now() + left)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Verdict {
            allowed: count <= self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(count),
            reset_at,
        }
    }

    /// Counts one hit for `key`.
    pub fn hit(&self, key: &str) -> Verdict {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return self.verdict(now, 0);
        };
        if hits.len() > 100_000 {
            let window = self.window;
            hits.retain(|_, (started, _)| started.elapsed() < window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if entry.0.elapsed() >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let (started, count) = *entry;
        self.verdict(started, count)
    }

    /// Whether `key` is over its limit, without counting a hit.
    pub fn is_blocked(&self, key: &str) -> bool {
        let Ok(hits) = self.hits.lock() else {
            return false;
        };
        hits.get(key)
            .is_some_and(|(started, count)| started.elapsed() < self.window && *count >= self.limit)
    }

    pub fn reset(&self, key: &str) {
        if let Ok(mut hits) = self.hits.lock() {
            hits.remove(key);
        }
    }
}

/// The limits the client API applies.
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per IP (5 minutes).
    pub login_ip: RateLimiter,
    /// Failed logins per account (15 minutes).
    pub login_account: RateLimiter,
    /// API requests per token, or per IP without one (5 minutes).
    pub api: RateLimiter,
}

impl Limits {
    pub fn new(api_per_5_minutes: u32) -> Limits {
        Limits {
            login_ip: RateLimiter::new(25, Duration::from_secs(300)),
            login_account: RateLimiter::new(10, Duration::from_secs(900)),
            api: RateLimiter::new(api_per_5_minutes, Duration::from_secs(300)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let limiter = RateLimiter::new(2, Duration::from_millis(200));
        assert!(limiter.hit("a").allowed);
        let second = limiter.hit("a");
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert!(!limiter.hit("a").allowed);
        assert!(limiter.is_blocked("a"));
        assert!(limiter.hit("b").allowed, "keys are independent");
        std::thread::sleep(Duration::from_millis(250));
        assert!(limiter.hit("a").allowed, "a new window starts afresh");
        limiter.reset("a");
        assert!(!limiter.is_blocked("a"));
    }
}
