//! `[mail]` (the SMTP server outgoing e-mail goes through) and `[digest]`
//! (when the weekly digest is made), issue 13 §4.

use super::ConfigError;
use serde::Deserialize;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain text: only for a server on this machine (or a test sink).
    None,
    /// Plain, then `STARTTLS` (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[mail]`: unset `smtp_host` means no e-mail is sent at all.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    pub smtp_host: String,
    /// 0: the usual port of `tls` (25, 587 or 465).
    pub smtp_port: u16,
    pub tls: MailTls,
    pub username: String,
    pub password: String,
    /// The sender, `Outloud <digest@example.org>` or a bare address.
    pub from: String,
}

impl MailConfig {
    /// Whether e-mail is configured.
    pub fn enabled(&self) -> bool {
        !self.smtp_host.is_empty()
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        match (self.smtp_port, self.tls) {
            (0, MailTls::None) => 25,
            (0, MailTls::Starttls) => 587,
            (0, MailTls::Tls) => 465,
            (port, _) => port,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled() {
            return Ok(());
        }
        if self.smtp_host.contains(['/', ' ', ':']) {
            return Err(ConfigError(format!(
                "mail.smtp_host: `{}` must be a host name or address, without port (set mail.smtp_port)",
                self.smtp_host
            )));
        }
        if self.from.is_empty() {
            return Err(ConfigError(
                "mail.from must be set when mail.smtp_host is (the sender of digest e-mails)"
                    .into(),
            ));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!(
                "mail.from: `{}` is not an address like `Outloud <digest@example.org>`",
                self.from
            )));
        }
        if self.username.is_empty() != self.password.is_empty() {
            return Err(ConfigError(
                "mail.username and mail.password go together: set both or neither".into(),
            ));
        }
        Ok(())
    }
}

/// `[digest]`: the weekly moment digests are mailed, in a time zone.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DigestConfig {
    pub enabled: bool,
    /// `mon` … `sun`.
    pub day: String,
    /// 0–23.
    pub hour: u32,
    /// An IANA time zone name (`Europe/Berlin`), `UTC` by default.
    pub timezone: String,
    /// How often each `serve` process checks whether the moment passed.
    pub check_seconds: u64,
}

impl Default for DigestConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            day: "mon".into(),
            hour: 7,
            timezone: "UTC".into(),
            check_seconds: 300,
        }
    }
}

/// The weekday a `digest.day` names.
pub fn weekday(day: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday::*;
    Some(match day {
        "mon" => Mon,
        "tue" => Tue,
        "wed" => Wed,
        "thu" => Thu,
        "fri" => Fri,
        "sat" => Sat,
        "sun" => Sun,
        _ => return None,
    })
}

impl DigestConfig {
    /// The configured weekday (validated at load).
    pub fn weekday(&self) -> chrono::Weekday {
        weekday(&self.day).unwrap_or(chrono::Weekday::Mon)
    }

    /// The configured time zone (validated at load).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if weekday(&self.day).is_none() {
            return Err(ConfigError(format!(
                "digest.day: `{}` is not one of mon, tue, wed, thu, fri, sat, sun",
                self.day
            )));
        }
        if self.hour > 23 {
            return Err(ConfigError(format!(
                "digest.hour: {} is not an hour from 0 to 23",
                self.hour
            )));
        }
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(ConfigError(format!(
                "digest.timezone: `{}` is no IANA time zone name like Europe/Berlin",
                self.timezone
            )));
        }
        if self.check_seconds == 0 {
            return Err(ConfigError(
                "digest.check_seconds must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn load(toml: &str) -> Result<Config, String> {
        Config::from_sources(Some(toml), Vec::new()).map_err(|e| e.0)
    }

    #[test]
    fn mail_and_digest_are_checked() {
        let base = "[instance]\ndomain = \"a.localhost\"\n";
        let ok = load(&format!(
            "{base}[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = 2525\ntls = \"none\"\nfrom = \"O <d@a.localhost>\"\n[digest]\nday = \"fri\"\nhour = 18\ntimezone = \"Europe/Berlin\"\n"
        ))
        .unwrap();
        assert_eq!(ok.mail.port(), 2525);
        assert_eq!(ok.digest.weekday(), chrono::Weekday::Fri);
        assert!(load(&format!("{base}[mail]\nsmtp_host = \"h\"\n"))
            .unwrap_err()
            .contains("mail.from"));
        assert!(load(&format!(
            "{base}[mail]\nsmtp_host = \"h\"\nfrom = \"nope\"\n"
        ))
        .unwrap_err()
        .contains("mail.from"));
        assert!(load(&format!("{base}[mail]\ntls = \"ssl\"\n")).is_err());
        assert!(load(&format!("{base}[digest]\nday = \"monday\"\n"))
            .unwrap_err()
            .contains("digest.day"));
        assert!(load(&format!("{base}[digest]\nhour = 24\n"))
            .unwrap_err()
            .contains("digest.hour"));
        assert!(
            load(&format!("{base}[digest]\ntimezone = \"Mars/Olympus\"\n"))
                .unwrap_err()
                .contains("digest.timezone")
        );
        let env = Config::from_sources(
            Some(base),
            vec![
                (
                    "OUTLOUD_MAIL__SMTP_HOST".to_string(),
                    "localhost".to_string(),
                ),
                ("OUTLOUD_MAIL__SMTP_PORT".to_string(), "2526".to_string()),
                (
                    "OUTLOUD_MAIL__FROM".to_string(),
                    "d@a.localhost".to_string(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(env.mail.smtp_host, "localhost");
        assert_eq!(env.mail.port(), 2526);
    }
}
