//! The digest as a reader sees it ([`View`]: the web page, the feeds' entry
//! content and the e-mail share it) and the e-mail itself: multipart text
//! and HTML, sent through `[mail]`'s SMTP server with `lettre`.

use super::Digest;
use crate::{
    config::{MailConfig, MailTls},
    context::Context,
    db::{actor::Actor, digest::DigestSettings, post::Post},
    error::{Error, Result},
};
use askama::Template;
use lettre::{
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

/// One line of a part: who, what (plain text), and where to read it.
#[derive(Debug, Clone)]
pub struct Item {
    pub who: String,
    pub text: String,
    pub link: String,
}

/// One part of a digest (`learned`, `answered`, …).
#[derive(Debug, Clone)]
pub struct Part {
    pub id: &'static str,
    pub heading: &'static str,
    pub items: Vec<Item>,
}

/// A digest ready to render.
#[derive(Debug, Clone)]
pub struct View {
    pub title: String,
    pub week: String,
    pub parts: Vec<Part>,
}

#[derive(Template)]
#[template(path = "_digest.html", config = "src/web/askama.toml")]
pub struct Fragment<'a> {
    pub digest: &'a View,
}

#[derive(Template)]
#[template(path = "digest_email.html", config = "src/web/askama.toml")]
struct EmailHtml<'a> {
    digest: &'a View,
    page: String,
}

fn link_of(actor: &Actor) -> String {
    actor.url.clone().unwrap_or_else(|| actor.ap_id.to_string())
}

fn who(actor: &Actor) -> String {
    let name = actor
        .display_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&actor.username);
    format!("{name} (@{}@{})", actor.username, actor.domain)
}

fn post_item((post, author): &(Post, Actor)) -> Item {
    let text = crate::text::strip_html(&post.content);
    let text: Vec<&str> = text.split_whitespace().collect();
    let mut text = text.join(" ");
    if text.chars().count() > 280 {
        text = format!("{}…", text.chars().take(279).collect::<String>());
    }
    Item {
        who: who(author),
        text,
        link: post.url.clone().unwrap_or_else(|| post.ap_id.to_string()),
    }
}

/// The reader's view of `digest`, titled `title`.
pub fn view(digest: &Digest, title: String) -> View {
    let posts = |posts: &[(Post, Actor)]| posts.iter().map(post_item).collect();
    View {
        title,
        week: digest.week.to_string(),
        parts: vec![
            Part {
                id: "learned",
                heading: "What was learned",
                items: posts(&digest.learned),
            },
            Part {
                id: "answered",
                heading: "Questions answered",
                items: posts(&digest.answered),
            },
            Part {
                id: "open",
                heading: "Open questions",
                items: posts(&digest.open),
            },
            Part {
                id: "stuck",
                heading: "Who is stuck",
                items: posts(&digest.stuck),
            },
            Part {
                id: "members",
                heading: "New members",
                items: digest
                    .new_members
                    .iter()
                    .map(|(member, community)| Item {
                        who: who(member),
                        text: format!("joined {}", who(community)),
                        link: link_of(member),
                    })
                    .collect(),
            },
        ],
    }
}

/// The plain-text part of the e-mail.
fn text(view: &View, page: &str) -> String {
    let mut out = format!("{} — week {}\n\n", view.title, view.week);
    for part in &view.parts {
        out.push_str(&format!(
            "{}\n{}\n",
            part.heading,
            "-".repeat(part.heading.len())
        ));
        if part.items.is_empty() {
            out.push_str("Nothing this week.\n");
        }
        for item in &part.items {
            out.push_str(&format!("* {}: {}\n  {}\n", item.who, item.text, item.link));
        }
        out.push('\n');
    }
    out.push_str(&format!("Read it on the web: {page}\n"));
    out
}

/// The e-mail of a person's digest.
pub fn message(
    ctx: &Context,
    settings: &DigestSettings,
    person: &Actor,
    digest: &Digest,
) -> Result<Message> {
    let instance = if ctx.config.instance.name.is_empty() {
        ctx.urls.domain().to_string()
    } else {
        ctx.config.instance.name.clone()
    };
    let view = view(digest, format!("Your weekly digest on {instance}"));
    let page = ctx
        .urls
        .base()
        .join(&format!("/digest?week={}", digest.week))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let html = EmailHtml {
        digest: &view,
        page: page.clone(),
    }
    .render()
    .map_err(|e| Error::internal(anyhow::anyhow!("digest e-mail template: {e}")))?;
    let address = settings
        .email
        .as_deref()
        .unwrap_or_default()
        .parse::<lettre::Address>()
        .map_err(|e| Error::unprocessable(format!("the digest's address: {e}")))?;
    let to = Mailbox::new(person.display_name.clone(), address);
    let from: Mailbox = ctx
        .config
        .mail
        .from
        .parse()
        .map_err(|e| Error::internal(anyhow::anyhow!("mail.from: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(format!("{} — week {}", view.title, view.week))
        .multipart(MultiPart::alternative_plain_html(text(&view, &page), html))
        .map_err(|e| Error::internal(anyhow::anyhow!("building the digest e-mail: {e}")))
}

/// The SMTP transport of `[mail]`.
pub struct Mailer(AsyncSmtpTransport<Tokio1Executor>);

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Mailer> {
        let host = config.smtp_host.as_str();
        let tls_error = |e| Error::internal(anyhow::anyhow!("mail TLS for {host}: {e}"));
        let mut builder = match config.tls {
            MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            MailTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
            }
            MailTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?,
        }
        .port(config.port())
        .timeout(Some(std::time::Duration::from_secs(30)));
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                config.password.clone(),
            ));
        }
        Ok(Mailer(builder.build()))
    }

    pub async fn send(&self, message: Message) -> Result<()> {
        self.0
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Error::internal(anyhow::anyhow!("SMTP: {e}")))
    }
}
