//! Fixed-window rate limits kept in memory, per process: login attempts
//! per IP and per account, sign-ups per IP, and API requests per token or
//! IP. Several
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
        self.count(key) >= self.limit
    }

    /// Hits counted for `key` in its current window.
    pub fn count(&self, key: &str) -> u32 {
        let Ok(hits) = self.hits.lock() else {
            return 0;
        };
        hits.get(key)
            .filter(|(started, _)| started.elapsed() < self.window)
            .map_or(0, |(_, count)| *count)
    }

    /// The verdict for `key` as it stands, without counting a hit: what
    /// the `X-RateLimit-*` headers say when this limit refused a request.
    pub fn peek(&self, key: &str) -> Verdict {
        let now = Instant::now();
        let Ok(hits) = self.hits.lock() else {
            return self.verdict(now, 0);
        };
        match hits.get(key) {
            Some(&(started, count)) if started.elapsed() < self.window => {
                let mut verdict = self.verdict(started, count);
                verdict.allowed = count < self.limit;
                verdict
            }
            _ => self.verdict(now, 0),
        }
    }

    pub fn reset(&self, key: &str) {
        if let Ok(mut hits) = self.hits.lock() {
            hits.remove(key);
        }
    }
}

/// The limits the client API applies.
///
/// Logins are limited per address and per (address, account), never per
/// account alone: a lock per account would let anyone shut its owner out
/// by guessing wrong on purpose. Failures on one account from everywhere
/// only slow its logins down ([`Limits::login_delay`]).
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per IP (5 minutes).
    pub login_ip: RateLimiter,
    /// Failed logins per (IP, account) (15 minutes).
    pub login_pair: RateLimiter,
    /// Failed logins per account from any address (15 minutes): counted
    /// for the slow-down, never refused.
    pub login_account: RateLimiter,
    /// API requests per token, or per IP without one (5 minutes).
    pub api: RateLimiter,
    /// Sign-up attempts per IP, web and API alike (5 minutes): as
    /// Mastodon's 25, generous enough for an office behind one address on
    /// launch day, not for a script making accounts.
    pub sign_up_ip: RateLimiter,
}

/// Failures on one account (from anywhere, 15 minutes) before its logins
/// slow down.
pub const SLOW_DOWN_AFTER: u32 = 5;
/// Sign-up attempts one address may make in 5 minutes.
pub const SIGN_UPS_PER_5_MINUTES: u32 = 25;
/// The longest a login attempt is held back.
pub const MAX_LOGIN_DELAY: Duration = Duration::from_secs(3);

impl Limits {
    pub fn new(api_per_5_minutes: u32) -> Limits {
        Limits {
            login_ip: RateLimiter::new(25, Duration::from_secs(300)),
            login_pair: RateLimiter::new(10, Duration::from_secs(900)),
            login_account: RateLimiter::new(u32::MAX, Duration::from_secs(900)),
            api: RateLimiter::new(api_per_5_minutes, Duration::from_secs(300)),
            sign_up_ip: RateLimiter::new(SIGN_UPS_PER_5_MINUTES, Duration::from_secs(300)),
        }
    }

    /// How long to hold back a login attempt on an account that `failures`
    /// wrong passwords were tried on lately: nothing for the first
    /// [`SLOW_DOWN_AFTER`], then 250 ms more for each, up to
    /// [`MAX_LOGIN_DELAY`]. Guessing gets slow; the owner still gets in.
    pub fn login_delay(failures: u32) -> Duration {
        let over = failures.saturating_sub(SLOW_DOWN_AFTER);
        Duration::from_millis(250)
            .saturating_mul(over)
            .min(MAX_LOGIN_DELAY)
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

    #[test]
    fn peek_reports_without_counting() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert_eq!(limiter.peek("a").remaining, 2);
        limiter.hit("a");
        limiter.hit("a");
        let seen = limiter.peek("a");
        assert!(!seen.allowed);
        assert_eq!((seen.limit, seen.remaining), (2, 0));
        assert_eq!(limiter.count("a"), 2, "peeking counts nothing");
    }

    #[test]
    fn login_delay_grows_then_stops() {
        assert_eq!(Limits::login_delay(0), Duration::ZERO);
        assert_eq!(Limits::login_delay(SLOW_DOWN_AFTER), Duration::ZERO);
        assert_eq!(
            Limits::login_delay(SLOW_DOWN_AFTER + 2),
            Duration::from_millis(500)
        );
        assert_eq!(Limits::login_delay(10_000), MAX_LOGIN_DELAY);
    }
}
