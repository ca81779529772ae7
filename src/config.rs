//! Configuration as plain data (DESIGN §2).
//!
//! A TOML file (`--config`, else `OUTLOUD_CONFIG`, else none) is merged with
//! `OUTLOUD_<SECTION>__<KEY>` environment variables, then deserialized with
//! `deny_unknown_fields` so that a typo is an error rather than a silently
//! ignored setting, and finally validated once. The result travels inside
//! `Context` as `Arc<Config>`; there is no global.

use serde::Deserialize;
use std::{net::SocketAddr, path::Path};

/// Prefix of every environment variable that overrides a configuration key.
pub const ENV_PREFIX: &str = "OUTLOUD_";
/// Environment variable naming the configuration file when `--config` is absent.
pub const ENV_CONFIG_FILE: &str = "OUTLOUD_CONFIG";

/// A configuration that could not be read or is not valid. The message names
/// the key and the problem, and is meant to be shown to the operator as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

mod archives;
mod mail;
mod oidc;
mod streaming;
pub use archives::ArchivesConfig;
pub use mail::{DigestConfig, MailConfig, MailTls};
pub use oidc::OidcConfig;
pub use streaming::StreamingConfig;

/// The whole configuration, one field per TOML section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub instance: InstanceConfig,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub federation: FederationConfig,
    pub delivery: DeliveryConfig,
    pub communities: CommunitiesConfig,
    pub api: ApiConfig,
    pub housekeeping: HousekeepingConfig,
    pub log: LogConfig,
    pub streaming: StreamingConfig,
    pub media: MediaConfig,
    pub mail: MailConfig,
    pub digest: DigestConfig,
    pub oidc: OidcConfig,
    pub archives: ArchivesConfig,
}

/// `[instance]`: who this instance is.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// `host[:port]` under which the instance is reached; every ActivityPub id
    /// derives from it. A DNS name, never an IP literal.
    pub domain: String,
    pub name: String,
    pub description: String,
    pub registrations: Registrations,
    /// Whether a registration waits for an admin's approval before the
    /// person can sign in (registrations with an invite do not).
    pub approve_registrations: bool,
    /// Where people reach the instance's administrators (client API
    /// `contact.email`); empty until set.
    pub contact_email: String,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self {
            domain: "localhost:8080".into(),
            name: "Outloud".into(),
            description: String::new(),
            registrations: Registrations::Closed,
            approve_registrations: false,
            contact_email: String::new(),
        }
    }
}

/// Who may create an account through the web or the client API.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Registrations {
    Closed,
    Invite,
    Open,
}

/// `[http]`: the listener.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub bind: String,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For`
    /// is believed. Empty: the connection's own address is the client's,
    /// so a forged header changes nothing (`client_ip`).
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// `trusted_proxies` as networks; a bare address is a /32 or /128.
    /// Entries that do not parse are left out here: `validate()` refuses
    /// them at start.
    pub fn trusted_networks(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|entry| parse_network(entry))
            .collect()
    }
}

fn parse_network(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// `[database]`: SQLite (`sqlite://path`) or PostgreSQL (`postgres://…`).
#[derive(Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
}

impl std::fmt::Debug for DatabaseConfig {
    /// The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://outloud-data/outloud.db".into(),
            pool_size: 8,
        }
    }
}

/// `[federation]`: how this instance talks to others.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    pub policy: FederationPolicy,
    /// `None` means "derive from the domain" (see [`Config::dev_mode`]).
    pub dev_mode: Option<bool>,
    pub signed_fetch: bool,
}

/// `open`: everyone but blocked hosts; `allowlist`: only listed hosts.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FederationPolicy {
    #[default]
    Open,
    Allowlist,
}

/// `[delivery]`: the outbound queue.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    pub workers: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self { workers: 16 }
    }
}

/// `[housekeeping]`: how long bookkeeping rows are kept.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HousekeepingConfig {
    /// Days to keep finished deliveries (and the activities they sent) and
    /// the ids of received activities; `0` keeps them forever.
    pub keep_days: u32,
}

impl Default for HousekeepingConfig {
    fn default() -> Self {
        Self { keep_days: 30 }
    }
}

/// `[communities]`: limits of communities of practice.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CommunitiesConfig {
    /// A post addressed to more of this instance's communities than this is
    /// refused as mass-mention spam.
    pub max_mentions: u32,
}

impl Default for CommunitiesConfig {
    fn default() -> Self {
        Self { max_mentions: 5 }
    }
}

/// `[api]`: the Mastodon client API.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Requests per 5 minutes per access token (or per IP address without
    /// one), per server process; 0 turns the limit off. Mastodon's is 300.
    pub rate_limit: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { rate_limit: 300 }
    }
}

/// `[media]`: uploaded files, their limits and where they are stored
/// (docs/configuration.md, "Media").
#[derive(Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// `local` (a directory) or `s3` (S3-compatible object storage).
    pub store: MediaStoreKind,
    /// Directory of the local store; empty means `media/` next to the
    /// SQLite file (or `outloud-data/media` with PostgreSQL).
    pub path: String,
    /// Base URL the files are public under (a CDN or a public bucket);
    /// empty means this server serves them at `/media/{key}`.
    pub public_url: String,
    /// Largest image upload, in bytes (Mastodon: 16 MB).
    pub image_size_limit: u64,
    /// Most pixels (width × height) an image may have; larger ones,
    /// decompression bombs included, are refused before decoding.
    pub image_matrix_limit: u64,
    /// Largest video or audio upload, in bytes (Mastodon: 99 MB).
    pub video_size_limit: u64,
    /// Longest alt text, in characters.
    pub description_limit: u32,
    pub s3_bucket: String,
    /// e.g. `https://s3.eu-central-1.amazonaws.com` or a MinIO URL.
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key: String,
    pub s3_secret_key: String,
    /// Path-style URLs (`endpoint/bucket/key`), as MinIO and most
    /// S3-compatible servers want; `false` for virtual-hosted style.
    pub s3_path_style: bool,
}

/// Where media files live.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MediaStoreKind {
    #[default]
    Local,
    S3,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            store: MediaStoreKind::Local,
            path: String::new(),
            public_url: String::new(),
            image_size_limit: 16 * 1024 * 1024,
            image_matrix_limit: 33_177_600,
            video_size_limit: 99 * 1024 * 1024,
            description_limit: 1_500,
            s3_bucket: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key: String::new(),
            s3_secret_key: String::new(),
            s3_path_style: true,
        }
    }
}

impl std::fmt::Debug for MediaConfig {
    /// The S3 secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig")
            .field("store", &self.store)
            .field("path", &self.path)
            .field("public_url", &self.public_url)
            .field("image_size_limit", &self.image_size_limit)
            .field("image_matrix_limit", &self.image_matrix_limit)
            .field("video_size_limit", &self.video_size_limit)
            .field("description_limit", &self.description_limit)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key", &self.s3_access_key)
            .field("s3_path_style", &self.s3_path_style)
            .finish_non_exhaustive()
    }
}

impl MediaConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("image_size_limit", self.image_size_limit),
            ("image_matrix_limit", self.image_matrix_limit),
            ("video_size_limit", self.video_size_limit),
            ("description_limit", u64::from(self.description_limit)),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError(format!("media.{key} must be at least 1")));
            }
        }
        if !self.public_url.is_empty() && url::Url::parse(&self.public_url).is_err() {
            return Err(ConfigError(format!(
                "media.public_url: `{}` is not a URL",
                self.public_url
            )));
        }
        if self.store == MediaStoreKind::S3 {
            for (key, value) in [
                ("s3_bucket", &self.s3_bucket),
                ("s3_endpoint", &self.s3_endpoint),
                ("s3_region", &self.s3_region),
                ("s3_access_key", &self.s3_access_key),
                ("s3_secret_key", &self.s3_secret_key),
            ] {
                if value.is_empty() {
                    return Err(ConfigError(format!(
                        "media.{key} must be set when media.store = \"s3\""
                    )));
                }
            }
            if url::Url::parse(&self.s3_endpoint).is_err() {
                return Err(ConfigError(format!(
                    "media.s3_endpoint: `{}` is not a URL",
                    self.s3_endpoint
                )));
            }
        }
        Ok(())
    }
}

/// `[log]`: output format; the level comes from `RUST_LOG`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Which database engine a `database.url` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme; anything else is refused rather
    /// than guessed (diesel's own `establish` would open a SQLite file named
    /// after a mistyped PostgreSQL URL).
    pub fn from_url(url: &str) -> Result<Backend, ConfigError> {
        if url.starts_with("sqlite://") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(ConfigError(format!(
                "database.url: `{}` must start with sqlite:// or postgres://",
                redact_url(url)
            )))
        }
    }
}

impl Config {
    /// Reads the file (if any) and the process environment, then validates.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("cannot read config file {}: {e}", path.display()))
            })?),
            None => None,
        };
        Self::from_sources(text.as_deref(), std::env::vars())
    }

    /// Merges a TOML text with `OUTLOUD_*` variables and validates the result.
    /// Separate from [`Config::load`] so tests need neither files nor the
    /// process environment.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = match toml_text {
            Some(text) => text.parse().map_err(|e: toml::de::Error| {
                let line = e
                    .span()
                    .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
                match line {
                    Some(line) => {
                        ConfigError(format!("config file, line {line}: {}", one_line(&e)))
                    }
                    None => ConfigError(format!("config file: {}", one_line(&e))),
                }
            })?,
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if name == ENV_CONFIG_FILE || name.starts_with("OUTLOUD_TEST_") {
                continue;
            }
            let Some((section, key)) = rest.split_once("__") else {
                return Err(ConfigError(format!(
                    "environment variable {name}: expected OUTLOUD_<SECTION>__<KEY>"
                )));
            };
            let (section, key) = (section.to_lowercase(), key.to_lowercase());
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(section_table) = entry else {
                return Err(ConfigError(format!(
                    "config: `{section}` must be a section"
                )));
            };
            section_table.insert(key, env_value(&value));
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(format!("config: {}", one_line(&e))))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: shapes of strings and ranges of numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_domain(&self.instance.domain)?;
        self.http.bind.parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!(
                "http.bind: `{}` is not an address like 127.0.0.1:8080",
                self.http.bind
            ))
        })?;
        if let Some(bad) = self
            .http
            .trusted_proxies
            .iter()
            .find(|entry| parse_network(entry).is_none())
        {
            return Err(ConfigError(format!(
                "http.trusted_proxies: `{bad}` is not an address or a CIDR range like 10.0.0.0/8"
            )));
        }
        Backend::from_url(&self.database.url)?;
        if self.database.pool_size == 0 {
            return Err(ConfigError("database.pool_size must be at least 1".into()));
        }
        if self.delivery.workers == 0 {
            return Err(ConfigError("delivery.workers must be at least 1".into()));
        }
        self.streaming.validate()?;
        self.media.validate()?;
        self.mail.validate()?;
        self.digest.validate()?;
        self.oidc.validate()?;
        self.archives.validate()?;
        Ok(())
    }

    /// Dev mode (plain http, explicit ports, loopback peers) is on by default
    /// only for `localhost` and `*.localhost` domains.
    pub fn dev_mode(&self) -> bool {
        self.federation
            .dev_mode
            .unwrap_or_else(|| is_localhost(self.host()))
    }

    /// The domain without its port.
    pub fn host(&self) -> &str {
        host_of(&self.instance.domain)
    }

    /// `https`, or `http` in dev mode.
    pub fn scheme(&self) -> &'static str {
        if self.dev_mode() {
            "http"
        } else {
            "https"
        }
    }

    /// The database backend named by `database.url` (validated at load).
    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.database.url).unwrap_or(Backend::Sqlite)
    }

    /// The local media store's directory: `media.path`, else `media/` next
    /// to the SQLite file, so `serve` without a configuration keeps its
    /// uploads beside its database.
    pub fn media_path(&self) -> std::path::PathBuf {
        if !self.media.path.is_empty() {
            return self.media.path.clone().into();
        }
        let parent = self
            .database
            .url
            .strip_prefix("sqlite://")
            .map(Path::new)
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty() && !p.starts_with(":memory:"))
            .unwrap_or_else(|| Path::new("outloud-data"));
        parent.join("media")
    }

    /// A configuration for an in-process test instance.
    pub fn for_test(domain: &str, database_url: &str) -> Config {
        let mut config = Config::default();
        config.instance.domain = domain.into();
        config.http.bind = "127.0.0.1:0".into();
        config.database.url = database_url.into();
        config.database.pool_size = 4;
        config.federation.dev_mode = Some(true);
        config
    }
}

/// An environment value is TOML if it parses as a bare TOML value (numbers,
/// booleans, arrays, inline tables), else a string:
/// `OUTLOUD_DATABASE__POOL_SIZE=4` is a number,
/// `OUTLOUD_HTTP__TRUSTED_PROXIES='["10.0.0.1"]'` a list,
/// `OUTLOUD_OIDC__COMMUNITIES='{ "rust-guild" = "rust" }'` a table,
/// `OUTLOUD_HTTP__BIND=127.0.0.1:8080` a string.
fn env_value(raw: &str) -> toml::Value {
    let parsed: Result<toml::Table, _> = format!("v = {raw}").parse();
    match parsed.ok().and_then(|mut t| t.remove("v")) {
        Some(
            v @ (toml::Value::Integer(_)
            | toml::Value::Boolean(_)
            | toml::Value::Float(_)
            | toml::Value::Array(_)
            | toml::Value::Table(_)),
        ) => v,
        _ => toml::Value::String(raw.to_string()),
    }
}

fn one_line(error: &toml::de::Error) -> String {
    error.message().replace('\n', " ")
}

/// `host[:port]` → `host`.
pub fn host_of(domain: &str) -> &str {
    domain.rsplit_once(':').map_or(domain, |(host, _)| host)
}

/// RFC 6761: `localhost` and every name under it is loopback.
pub fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

fn validate_domain(domain: &str) -> Result<(), ConfigError> {
    let fail = |why: &str| ConfigError(format!("instance.domain: `{domain}` {why}"));
    if domain.is_empty() {
        return Err(fail("is empty"));
    }
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    if let Some(port) = port {
        if port.parse::<u16>().is_err() {
            return Err(fail("has an invalid port"));
        }
    }
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return Err(fail(
            "is an IP address; use a DNS name (e.g. localhost:8080) because ActivityPub ids need one",
        ));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(fail(
            "is not a valid host name (letters, digits, '-' and '.')",
        ));
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(fail("must be lower case"));
    }
    Ok(())
}

/// Hides the password of a database URL for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn trusted_proxies_come_from_the_environment_and_are_checked() {
        let config = Config::from_sources(
            None,
            env(&[(
                "OUTLOUD_HTTP__TRUSTED_PROXIES",
                r#"["127.0.0.1", "10.0.0.0/8"]"#,
            )]),
        )
        .unwrap();
        assert_eq!(config.http.trusted_networks().len(), 2);
        let error = Config::from_sources(
            None,
            env(&[("OUTLOUD_HTTP__TRUSTED_PROXIES", r#"["10.0.0.0/33"]"#)]),
        )
        .unwrap_err();
        assert!(
            error.0.contains("http.trusted_proxies: `10.0.0.0/33`"),
            "{}",
            error.0
        );
    }

    #[test]
    fn example_config_parses_and_matches_defaults() {
        let text = include_str!("../config.example.toml");
        let config = Config::from_sources(Some(text), env(&[])).unwrap();
        // The example documents the defaults; if it drifts, this fails.
        let mut expected = Config::default();
        expected.federation.dev_mode = config.federation.dev_mode;
        assert_eq!(config, expected);
    }

    #[test]
    fn no_file_gives_defaults() {
        let config = Config::from_sources(None, env(&[])).unwrap();
        assert_eq!(config.instance.domain, "localhost:8080");
        assert!(config.dev_mode());
        assert_eq!(config.scheme(), "http");
        assert_eq!(config.backend(), Backend::Sqlite);
    }

    #[test]
    fn env_overrides_file() {
        let config = Config::from_sources(
            Some("[http]\nbind = \"127.0.0.1:9000\"\n[database]\npool_size = 2\n"),
            env(&[
                ("OUTLOUD_HTTP__BIND", "0.0.0.0:7000"),
                ("OUTLOUD_DATABASE__POOL_SIZE", "5"),
                ("OUTLOUD_INSTANCE__DOMAIN", "social.example.org"),
                ("OUTLOUD_FEDERATION__SIGNED_FETCH", "true"),
                ("OUTLOUD_CONFIG", "/ignored"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.http.bind, "0.0.0.0:7000");
        assert_eq!(config.database.pool_size, 5);
        assert!(config.federation.signed_fetch);
        assert!(!config.dev_mode());
        assert_eq!(config.scheme(), "https");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::from_sources(Some("[http]\nbnid = \"x\"\n"), env(&[])).unwrap_err();
        assert!(err.0.contains("bnid"), "{err}");
        let err = Config::from_sources(None, env(&[("OUTLOUD_HTTP__PORTT", "1")])).unwrap_err();
        assert!(err.0.contains("portt"), "{err}");
        let err = Config::from_sources(Some("[nope]\na = 1\n"), env(&[])).unwrap_err();
        assert!(err.0.contains("nope"), "{err}");
        let err = Config::from_sources(None, env(&[("OUTLOUD_JUNK", "1")])).unwrap_err();
        assert!(err.0.contains("OUTLOUD_JUNK"), "{err}");
    }

    #[test]
    fn bad_values_are_errors() {
        for (toml, needle) in [
            ("[instance]\ndomain = \"127.0.0.1:8080\"", "IP address"),
            ("[instance]\ndomain = \"bad domain\"", "valid host"),
            ("[instance]\ndomain = \"example.org:99999\"", "port"),
            ("[instance]\nregistrations = \"maybe\"", "maybe"),
            ("[http]\nbind = \"nowhere\"", "http.bind"),
            ("[database]\nurl = \"mysql://x\"", "database.url"),
            ("[database]\npool_size = 0", "pool_size"),
            ("[database]\npool_size = \"many\"", "many"),
            ("[delivery]\nworkers = 0", "workers"),
            ("[federation]\npolicy = \"closed\"", "closed"),
            ("[log]\nformat = \"xml\"", "xml"),
            ("[media]\nimage_size_limit = 0", "media.image_size_limit"),
            ("[media]\nstore = \"s3\"", "media.s3_bucket"),
            ("[media]\nstore = \"ftp\"", "ftp"),
            ("not toml", "config file"),
        ] {
            let err = Config::from_sources(Some(toml), env(&[])).unwrap_err();
            assert!(err.0.contains(needle), "{toml}: {err}");
            assert!(!err.0.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn dev_mode_follows_domain_unless_set() {
        let with = |domain: &str, dev: Option<bool>| {
            let mut c = Config::default();
            c.instance.domain = domain.into();
            c.federation.dev_mode = dev;
            c.dev_mode()
        };
        assert!(with("alpha.localhost:4000", None));
        assert!(with("localhost", None));
        assert!(!with("social.example.org", None));
        assert!(!with("localhost.example.org", None));
        assert!(with("social.example.org", Some(true)));
        assert!(!with("localhost:8080", Some(false)));
    }

    #[test]
    fn database_password_is_redacted() {
        let c = DatabaseConfig {
            url: "postgres://me:secret@db/outloud".into(),
            pool_size: 1,
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
