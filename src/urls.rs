//! The only place that builds or parses this instance's URLs (DESIGN §3).

use url::Url;

/// Builds URLs under `{scheme}://{domain}`.
#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
    domain: String,
}

impl Urls {
    /// `scheme` is `https`, or `http` in dev mode; `domain` is `host[:port]`
    /// (validated by the configuration).
    pub fn new(scheme: &str, domain: &str) -> Result<Urls, url::ParseError> {
        Ok(Urls {
            base: Url::parse(&format!("{scheme}://{domain}/"))?,
            domain: domain.to_string(),
        })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The streaming API's base (`urls.streaming` of the instance): the
    /// instance's origin as `wss://` behind https, `ws://` in dev mode.
    pub fn streaming(&self) -> String {
        let scheme = if self.base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        let origin = self.base.as_str().trim_end_matches('/');
        let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        format!("{scheme}://{rest}")
    }

    /// `path` starts with `/`; our paths are fixed or made of validated names,
    /// so joining cannot fail, but fall back to the base rather than panic.
    fn at(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    pub fn person(&self, name: &str) -> Url {
        self.at(&format!("/users/{name}"))
    }
    pub fn person_inbox(&self, name: &str) -> Url {
        self.at(&format!("/users/{name}/inbox"))
    }
    pub fn person_outbox(&self, name: &str) -> Url {
        self.at(&format!("/users/{name}/outbox"))
    }
    pub fn person_followers(&self, name: &str) -> Url {
        self.at(&format!("/users/{name}/followers"))
    }
    pub fn person_following(&self, name: &str) -> Url {
        self.at(&format!("/users/{name}/following"))
    }
    pub fn community(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}"))
    }
    pub fn community_inbox(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}/inbox"))
    }
    pub fn community_outbox(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}/outbox"))
    }
    pub fn community_followers(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}/followers"))
    }
    pub fn community_moderators(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}/moderators"))
    }
    pub fn community_featured(&self, name: &str) -> Url {
        self.at(&format!("/communities/{name}/featured"))
    }
    /// A community's web page.
    pub fn community_page(&self, name: &str) -> Url {
        self.at(&format!("/c/{name}"))
    }
    /// If `url` is one of our community actors, the community's name.
    pub fn parse_community(&self, url: &Url) -> Option<String> {
        if url.origin() != self.base.origin() {
            return None;
        }
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next(), segments.next()) {
            (Some("communities"), Some(name), None) if !name.is_empty() => Some(name.to_string()),
            _ => None,
        }
    }
    /// Where an OpenID provider sends the browser back (`web::oidc`).
    pub fn oidc_callback(&self) -> Url {
        self.at("/auth/oidc/callback")
    }
    /// The HTML profile page.
    pub fn profile_page(&self, name: &str) -> Url {
        self.at(&format!("/@{name}"))
    }
    /// The key id of an actor: its id with a `#main-key` fragment (Mastodon's
    /// convention, which other servers expect).
    pub fn key_id(actor: &Url) -> Url {
        let mut key = actor.clone();
        key.set_fragment(Some("main-key"));
        key
    }
    pub fn instance_actor(&self) -> Url {
        self.at("/actor")
    }
    pub fn instance_actor_inbox(&self) -> Url {
        self.at("/actor/inbox")
    }
    pub fn instance_actor_outbox(&self) -> Url {
        self.at("/actor/outbox")
    }
    /// A post: `/objects/{id}`.
    pub fn object(&self, id: &str) -> Url {
        self.at(&format!("/objects/{id}"))
    }
    /// A post's web page: `/@{name}/{id}`.
    pub fn post_page(&self, name: &str, id: &str) -> Url {
        self.at(&format!("/@{name}/{id}"))
    }
    /// A local post's embeddable card (oEmbed's iframe): `/@{name}/{id}/embed`.
    pub fn post_embed(&self, name: &str, id: &str) -> Url {
        self.at(&format!("/@{name}/{id}/embed"))
    }
    /// The oEmbed answer for the page `page`: `/api/oembed?url=…`.
    pub fn oembed(&self, page: &Url) -> Url {
        let mut url = self.at("/api/oembed");
        url.query_pairs_mut().append_pair("url", page.as_str());
        url
    }
    /// If `url` is one of our post pages (`/@name/{id}`), the name and id.
    pub fn parse_post_page(&self, url: &Url) -> Option<(String, String)> {
        if url.origin() != self.base.origin() {
            return None;
        }
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next(), segments.next()) {
            (Some(name), Some(id), None) if name.len() > 1 && !id.is_empty() => {
                let name = name.strip_prefix('@')?;
                Some((name.to_string(), id.to_string()))
            }
            _ => None,
        }
    }
    /// An activity: `/activities/{id}`.
    pub fn activity(&self, id: &str) -> Url {
        self.at(&format!("/activities/{id}"))
    }
    /// A hashtag's page.
    pub fn tag(&self, tag: &str) -> Url {
        self.at(&format!("/tags/{tag}"))
    }
    /// A local person's Atom feed.
    pub fn person_feed(&self, name: &str) -> Url {
        self.at(&format!("/@{name}.atom"))
    }
    /// A local community's Atom feed.
    pub fn community_feed(&self, name: &str) -> Url {
        self.at(&format!("/c/{name}.atom"))
    }
    /// A hashtag's Atom feed.
    pub fn tag_feed(&self, tag: &str) -> Url {
        self.at(&format!("/tags/{tag}.atom"))
    }
    /// Where this server serves stored media files: `/media/` (a file is
    /// `/media/{key}`).
    pub fn media_base(&self) -> Url {
        self.at("/media/")
    }
    /// If `url` is one of our objects, its id.
    pub fn parse_object(&self, url: &Url) -> Option<String> {
        if url.origin() != self.base.origin() {
            return None;
        }
        let id = url.path().strip_prefix("/objects/")?;
        (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
    }
    /// A new id for an activity we send: `/activities/{uuid}`.
    pub fn new_activity(&self) -> Url {
        self.at(&format!("/activities/{}", uuid::Uuid::now_v7()))
    }
    pub fn shared_inbox(&self) -> Url {
        self.at("/inbox")
    }
    pub fn nodeinfo(&self) -> Url {
        self.at("/nodeinfo/2.1")
    }
    pub fn webfinger_template(&self) -> String {
        format!("{}.well-known/webfinger?resource={{uri}}", self.base)
    }

    /// If `url` is one of our person URLs, the person's name.
    pub fn parse_person(&self, url: &Url) -> Option<String> {
        if url.origin() != self.base.origin() {
            return None;
        }
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next(), segments.next()) {
            (Some("users"), Some(name), None) if !name.is_empty() => Some(name.to_string()),
            _ => None,
        }
    }

    /// If `url` is one of our profile pages (`/@name`), the name.
    pub fn parse_profile_page(&self, url: &Url) -> Option<String> {
        if url.origin() != self.base.origin() {
            return None;
        }
        let name = url.path().strip_prefix("/@")?;
        (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_person_urls() {
        let urls = Urls::new("http", "alpha.localhost:4000").unwrap();
        let alice = urls.person("alice");
        assert_eq!(alice.as_str(), "http://alpha.localhost:4000/users/alice");
        assert_eq!(urls.parse_person(&alice).as_deref(), Some("alice"));
        assert_eq!(
            Urls::key_id(&alice).as_str(),
            "http://alpha.localhost:4000/users/alice#main-key"
        );
        let page = urls.profile_page("alice");
        assert_eq!(page.as_str(), "http://alpha.localhost:4000/@alice");
        assert_eq!(urls.parse_profile_page(&page).as_deref(), Some("alice"));
        let other = Urls::new("http", "beta.localhost:4000").unwrap();
        assert_eq!(urls.parse_person(&other.person("alice")), None);
        assert_eq!(urls.parse_person(&urls.person_inbox("alice")), None);
        assert_eq!(
            urls.webfinger_template(),
            "http://alpha.localhost:4000/.well-known/webfinger?resource={uri}"
        );
    }

    #[test]
    fn builds_and_parses_post_pages() {
        let urls = Urls::new("http", "alpha.localhost:4000").unwrap();
        let page = urls.post_page("alice", "0190-ab");
        assert_eq!(
            urls.parse_post_page(&page),
            Some(("alice".to_string(), "0190-ab".to_string()))
        );
        assert_eq!(
            urls.post_embed("alice", "0190-ab").as_str(),
            "http://alpha.localhost:4000/@alice/0190-ab/embed"
        );
        assert_eq!(
            urls.oembed(&page).as_str(),
            "http://alpha.localhost:4000/api/oembed?url=http%3A%2F%2Falpha.localhost%3A4000%2F%40alice%2F0190-ab"
        );
        assert_eq!(urls.parse_post_page(&urls.profile_page("alice")), None);
        assert_eq!(urls.parse_post_page(&urls.person("alice")), None);
        let other = Urls::new("http", "beta.localhost:4000").unwrap();
        assert_eq!(urls.parse_post_page(&other.post_page("alice", "x")), None);
    }

    #[test]
    fn streaming_urls_follow_the_scheme() {
        let dev = Urls::new("http", "alpha.localhost:4000").unwrap();
        assert_eq!(dev.streaming(), "ws://alpha.localhost:4000");
        let live = Urls::new("https", "example.org").unwrap();
        assert_eq!(live.streaming(), "wss://example.org");
    }
}
