//! `[oidc]`: signing in through an OpenID Connect provider (issue 15 §1).
//!
//! Unset `issuer` means no provider: the sign-in page has no provider
//! button and `/auth/oidc` answers 404. The provider's groups decide, at
//! every sign-in, who may have an account at all (`allowed_groups`), who is
//! an admin or a moderator, and which mapped communities a person is in.

use super::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[oidc]`
#[derive(Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer URL; its `/.well-known/openid-configuration` is read at
    /// every sign-in (several processes share no cache).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The button's words: "Sign in with {display_name}".
    pub display_name: String,
    /// Scopes asked for besides `openid`, which is always asked for.
    pub scopes: Vec<String>,
    /// The ID token claim the new account's name comes from.
    pub username_claim: String,
    /// The ID token claim holding the person's groups (a list of strings).
    pub groups_claim: String,
    /// Link a first sign-in to the local account whose e-mail (the digest
    /// address) is the provider's, when the provider says it is verified.
    pub link_verified_email: bool,
    /// Hide the password form and refuse password sign-in everywhere.
    pub only: bool,
    /// Non-empty: only members of one of these groups may sign in.
    pub allowed_groups: Vec<String>,
    /// Members are admins; non-members are not (when any group setting
    /// about roles is given).
    pub admin_groups: Vec<String>,
    /// Members are moderators (reports and suspensions).
    pub moderator_groups: Vec<String>,
    /// Provider group → local community name: members join it at sign-in,
    /// and leave it once no longer in the group.
    pub communities: BTreeMap<String, String>,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            display_name: "single sign-on".into(),
            scopes: vec!["profile".into(), "email".into()],
            username_claim: "preferred_username".into(),
            groups_claim: "groups".into(),
            link_verified_email: false,
            only: false,
            allowed_groups: Vec::new(),
            admin_groups: Vec::new(),
            moderator_groups: Vec::new(),
            communities: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for OidcConfig {
    /// The client secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("display_name", &self.display_name)
            .field("scopes", &self.scopes)
            .field("username_claim", &self.username_claim)
            .field("groups_claim", &self.groups_claim)
            .field("link_verified_email", &self.link_verified_email)
            .field("only", &self.only)
            .field("allowed_groups", &self.allowed_groups)
            .field("admin_groups", &self.admin_groups)
            .field("moderator_groups", &self.moderator_groups)
            .field("communities", &self.communities)
            .finish()
    }
}

impl OidcConfig {
    /// Whether a provider is configured.
    pub fn enabled(&self) -> bool {
        !self.issuer.is_empty()
    }

    /// Whether password sign-in is refused (a provider is configured and
    /// `only` is set).
    pub fn password_refused(&self) -> bool {
        self.enabled() && self.only
    }

    /// Whether the provider's groups decide roles: without any role group
    /// configured, roles set here (CLI, admin page) are left alone.
    pub fn manages_roles(&self) -> bool {
        !self.admin_groups.is_empty() || !self.moderator_groups.is_empty()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled() {
            if self.only {
                return Err(ConfigError(
                    "oidc.only = true needs oidc.issuer: nobody could sign in".into(),
                ));
            }
            return Ok(());
        }
        match url::Url::parse(&self.issuer) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => {}
            _ => {
                return Err(ConfigError(format!(
                    "oidc.issuer: `{}` is not an http(s) URL",
                    self.issuer
                )))
            }
        }
        for (key, value) in [
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("username_claim", &self.username_claim),
            ("groups_claim", &self.groups_claim),
        ] {
            if value.is_empty() {
                return Err(ConfigError(format!(
                    "oidc.{key} must be set when oidc.issuer is"
                )));
            }
        }
        if let Some((group, _)) = self.communities.iter().find(|(_, c)| c.trim().is_empty()) {
            return Err(ConfigError(format!(
                "oidc.communities: group `{group}` maps to no community name"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_only_needs_an_issuer() {
        let config = OidcConfig::default();
        assert!(!config.enabled());
        assert!(config.validate().is_ok());
        let only = OidcConfig {
            only: true,
            ..OidcConfig::default()
        };
        assert!(only.validate().unwrap_err().0.contains("oidc.issuer"));
    }

    #[test]
    fn an_issuer_needs_a_client_and_a_url() {
        let mut config = OidcConfig {
            issuer: "https://id.example.org/realms/staff".into(),
            ..OidcConfig::default()
        };
        assert!(config.validate().unwrap_err().0.contains("client_id"));
        config.client_id = "outloud".into();
        config.client_secret = "s3cret".into();
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("s3cret"));
        config.issuer = "id.example.org".into();
        assert!(config
            .validate()
            .unwrap_err()
            .0
            .contains("not an http(s) URL"));
    }

    #[test]
    fn the_environment_sets_groups_and_communities() {
        let env = [
            ("OUTLOUD_OIDC__ISSUER", "https://id.example.org"),
            ("OUTLOUD_OIDC__CLIENT_ID", "outloud"),
            ("OUTLOUD_OIDC__CLIENT_SECRET", "s"),
            ("OUTLOUD_OIDC__ALLOWED_GROUPS", r#"["staff"]"#),
            ("OUTLOUD_OIDC__COMMUNITIES", r#"{ "rust-guild" = "rust" }"#),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = crate::config::Config::from_sources(None, env).unwrap();
        assert_eq!(config.oidc.allowed_groups, ["staff"]);
        assert_eq!(config.oidc.communities["rust-guild"], "rust");
    }
}
