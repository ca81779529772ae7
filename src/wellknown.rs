//! Discovery endpoints: WebFinger (RFC 7033), NodeInfo 2.1, host-meta, and
//! the health checks operators and load balancers poll.

use crate::{
    apub::{Data, FEDERATION_CONTENT_TYPE},
    context::Context,
    db::actor::{Actor, ActorKind},
    error::{Error, Result},
    service,
};
use actix_web::{http::header, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/webfinger", web::get().to(webfinger))
        .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
        .route("/nodeinfo/2.1", web::get().to(nodeinfo))
        .route("/.well-known/host-meta", web::get().to(host_meta))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// What a WebFinger `resource` names.
#[derive(Debug, PartialEq, Eq)]
pub enum Resource {
    /// `acct:name@domain` on this instance (name not yet checked).
    LocalName(String),
    /// `acct:` on another domain: not ours to answer.
    Elsewhere,
    /// An http(s) URL, to be matched against our actor URLs.
    Url(Url),
}

/// Parses a WebFinger resource; `Err` means malformed (400).
pub fn parse_resource(resource: &str, our_domain: &str) -> Result<Resource> {
    let malformed = || Error::bad_request("resource must be acct:name@domain or an http(s) URL");
    if let Some(acct) = resource.strip_prefix("acct:") {
        // Some clients send a leading `@` (acct:@alice@host).
        let acct = acct.strip_prefix('@').unwrap_or(acct);
        let (name, domain) = acct.rsplit_once('@').ok_or_else(malformed)?;
        if name.is_empty() || domain.is_empty() || name.contains('@') {
            return Err(malformed());
        }
        return Ok(if domain.eq_ignore_ascii_case(our_domain) {
            Resource::LocalName(name.to_string())
        } else {
            Resource::Elsewhere
        });
    }
    match Url::parse(resource) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(Resource::Url(url))
        }
        _ => Err(malformed()),
    }
}

/// `GET /.well-known/webfinger?resource=acct:name@domain`
async fn webfinger(query: web::Query<WebfingerQuery>, data: Data<Context>) -> Result<HttpResponse> {
    let resource = query
        .resource
        .as_deref()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Error::bad_request("the resource parameter is required"))?;
    let urls = &data.urls;
    let actor = match parse_resource(resource, urls.domain())? {
        Resource::LocalName(name) => service::accounts::local_actor(&data.db, &name).await?,
        Resource::Elsewhere => return Err(Error::not_found("not an account of this server")),
        Resource::Url(url) if url == urls.instance_actor() => (*data.instance_actor).clone(),
        Resource::Url(url) => {
            let name = urls
                .parse_person(&url)
                .or_else(|| urls.parse_profile_page(&url))
                .ok_or_else(|| Error::not_found("not an account of this server"))?;
            service::accounts::local_actor(&data.db, &name).await?
        }
    };
    let mut body = webfinger_document(&actor, urls.domain());
    // Remote interaction (Mastodon's remote follow): where someone from
    // elsewhere is sent to follow or answer something from this server.
    if let Some(links) = body["links"].as_array_mut() {
        links.push(json!({
            "rel": service::resolve::SUBSCRIBE_REL,
            "template": format!("{}authorize_interaction?uri={{uri}}", urls.base()),
        }));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/jrd+json; charset=utf-8")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(body))
}

/// The JRD for one local actor: `self` for servers, `profile-page` for people.
pub fn webfinger_document(actor: &Actor, domain: &str) -> serde_json::Value {
    let mut links = vec![json!({
        "rel": "self",
        "type": FEDERATION_CONTENT_TYPE,
        "href": actor.ap_id.as_str(),
    })];
    let mut aliases = vec![json!(actor.ap_id.as_str())];
    if let Some(page) = &actor.url {
        links.insert(
            0,
            json!({
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": page,
            }),
        );
        if page != actor.ap_id.as_str() {
            aliases.push(json!(page));
        }
    }
    let subject = match actor.kind() {
        ActorKind::Application => format!("acct:{domain}@{domain}"),
        _ => format!("acct:{}@{domain}", actor.username),
    };
    json!({ "subject": subject, "aliases": aliases, "links": links })
}

/// `GET /.well-known/nodeinfo`: where the NodeInfo document and the instance
/// actor (FEP-2677) are.
async fn nodeinfo_links(data: Data<Context>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(json!({
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": data.urls.nodeinfo().as_str(),
                },
                {
                    "rel": "https://www.w3.org/ns/activitystreams#Application",
                    "href": data.urls.instance_actor().as_str(),
                }
            ]
        }))
}

/// `GET /nodeinfo/2.1`
async fn nodeinfo(data: Data<Context>) -> Result<HttpResponse> {
    let usage = service::instance::usage(&data.db).await?;
    let config = &data.config;
    let identity = service::instance::identity(&data.db, &config.instance).await?;
    let body = json!({
        "version": "2.1",
        "software": {
            "name": "outloud",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations":
            config.instance.registrations == crate::config::Registrations::Open,
        // Only what is counted: active-user figures come once logins are tracked.
        "usage": {
            "users": { "total": usage.users },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": identity.name,
            "nodeDescription": identity.description,
            "communities": usage.communities,
        },
    });
    Ok(HttpResponse::Ok()
        .content_type(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        )
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(body))
}

/// `GET /.well-known/host-meta`: the XRD older clients use to find WebFinger.
async fn host_meta(data: Data<Context>) -> HttpResponse {
    let template = xml_escape(&data.urls.webfinger_template());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{template}\"/>\n\
         </XRD>\n"
    );
    HttpResponse::Ok()
        .content_type("application/xrd+xml; charset=utf-8")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(body)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the process can serve, i.e. its database answers.
async fn readyz(data: Data<Context>) -> HttpResponse {
    match data.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": e.safe_message() }))
        }
    }
}

/// `GET /metrics`: Prometheus text format (delivery queue and workers).
/// Like `/healthz`, meant for the operator's network: put it behind the
/// reverse proxy's access rules in production.
async fn metrics(data: Data<Context>) -> Result<HttpResponse> {
    let body = crate::delivery::render_metrics(&data).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse() {
        let d = "alpha.localhost:4000";
        assert_eq!(
            parse_resource("acct:alice@alpha.localhost:4000", d).unwrap(),
            Resource::LocalName("alice".into())
        );
        assert_eq!(
            parse_resource("acct:@alice@ALPHA.localhost:4000", d).unwrap(),
            Resource::LocalName("alice".into())
        );
        assert_eq!(
            parse_resource("acct:alice@beta.localhost:4000", d).unwrap(),
            Resource::Elsewhere
        );
        assert!(matches!(
            parse_resource("http://alpha.localhost:4000/users/alice", d).unwrap(),
            Resource::Url(_)
        ));
        for bad in [
            "alice",
            "acct:alice",
            "acct:@x",
            "acct:a@",
            "mailto:a@b",
            "ftp://x/y",
            "acct:a@b@c",
        ] {
            assert!(parse_resource(bad, d).is_err(), "{bad}");
        }
    }
}
