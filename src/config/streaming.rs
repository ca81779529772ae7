//! `[streaming]`: the streaming API (`/api/v1/streaming`), its heartbeats
//! and queues, and the streaming port (docs/configuration.md, "Streaming").

use super::ConfigError;
use serde::Deserialize;

/// `[streaming]`: the streaming API (`/api/v1/streaming`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StreamingConfig {
    /// Seconds between heartbeats (SSE `:thump` lines, WebSocket pings),
    /// which keep proxies from closing idle streams.
    pub heartbeat_secs: u64,
    /// Events that may wait for one slow connection; a connection that
    /// falls this far behind is closed (clients reconnect).
    pub queue: usize,
    /// Where to serve the streaming API on a listener of its own as well
    /// (`host:port`; empty: only on `http.bind`). Like Mastodon's
    /// streaming server on port 4000 behind the same reverse proxy: a
    /// connection there costs a few KB instead of the ~16 KB of buffers
    /// actix keeps for every open response (docs/performance.md).
    pub bind: String,
    /// The streaming API's base URL that clients are told
    /// (`urls.streaming`), e.g. `wss://streaming.example.org`; empty: the
    /// instance's own origin, for a proxy that routes
    /// `/api/v1/streaming` to `bind`.
    pub url: String,
}

impl Default for StreamingConfig {
    fn default() -> Self {
        Self {
            heartbeat_secs: 15,
            queue: 64,
            bind: String::new(),
            url: String::new(),
        }
    }
}

impl StreamingConfig {
    /// Errors: a zero heartbeat or queue, a `bind` that is not an address
    /// and port, a `url` that is not ws(s) or http(s); each by name.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.heartbeat_secs == 0 || self.queue == 0 {
            return Err(ConfigError(
                "streaming.heartbeat_secs and streaming.queue must be at least 1".into(),
            ));
        }
        if !self.bind.is_empty() && self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "streaming.bind must be an address and port such as 127.0.0.1:4000, not {:?}",
                self.bind
            )));
        }
        if !self.url.is_empty() {
            let ok = url::Url::parse(&self.url)
                .is_ok_and(|u| matches!(u.scheme(), "ws" | "wss" | "http" | "https"));
            if !ok {
                return Err(ConfigError(format!(
                    "streaming.url must be a ws://, wss://, http:// or https:// URL, not {:?}",
                    self.url
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_streaming_settings_are_named() {
        let ok = StreamingConfig {
            bind: "127.0.0.1:4000".into(),
            url: "https://streaming.example.org".into(),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for (bad, named) in [
            (
                StreamingConfig {
                    bind: "localhost".into(),
                    ..Default::default()
                },
                "streaming.bind",
            ),
            (
                StreamingConfig {
                    url: "ftp://x.example".into(),
                    ..Default::default()
                },
                "streaming.url",
            ),
            (
                StreamingConfig {
                    queue: 0,
                    ..Default::default()
                },
                "streaming.queue",
            ),
        ] {
            let error = bad.validate().unwrap_err().0;
            assert!(error.contains(named), "{error}");
        }
    }
}
