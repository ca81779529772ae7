//! Narrations: the permalink with its thread (`GET /@{name}/{id}` for
//! local ones, `GET /narrations/{id}` for any stored one), where a
//! narration went (for its author), the card's actions (like, boost, their
//! undoing, delete) and the edit form. Visibility is the service's: a
//! narration the viewer may not see is 404, a deleted one 410, as in the
//! client API.

use super::{
    cards::{cards, media_of, post_path, Card, MediaView},
    compose::ComposeBox,
    compose::{draft_files, image_slots, ImageSlot},
    layout::{display_name, local_path, render, see_other, sign_in_first, Layout, WebError},
    multipart::FormWithFiles,
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        post::{Post, PostKind},
        reaction::ReactionKind,
    },
    error::{Error, ErrorKind},
    service::{
        self, composer::DraftMedia, deliveries::Status, media::MAX_ATTACHMENTS, posts::PostEdit,
        timelines::Item,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use std::collections::HashSet;

/// One receiving server of a narration, in "Where it went".
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub host: String,
    /// `delivered`, `queued`, `parked`, `failed`: a CSS class.
    pub state: &'static str,
    /// What happened, in words.
    pub label: String,
    pub attempts: i64,
    /// The last error, or when the next try is.
    pub detail: String,
}

fn delivery_rows(statuses: Vec<service::deliveries::DeliveryStatus>) -> Vec<DeliveryRow> {
    statuses
        .into_iter()
        .map(|s| {
            let label = match s.status {
                Status::Delivered => "Delivered".to_string(),
                Status::Queued => "Queued".to_string(),
                Status::Parked => "Queued: the server is not answering".to_string(),
                Status::Failed => "Failed".to_string(),
            };
            let detail = match (s.status, &s.last_error, s.next_attempt_at) {
                (Status::Delivered, _, _) => {
                    format!("Accepted {}", s.updated_at.format("%-d %B %Y, %H:%M UTC"))
                }
                (_, Some(error), Some(next)) => {
                    format!("{error}; next try {}", next.format("%H:%M UTC"))
                }
                (_, None, Some(next)) => format!("Next try {}", next.format("%H:%M UTC")),
                (_, Some(error), None) => error.clone(),
                (_, None, None) => String::new(),
            };
            DeliveryRow {
                host: s.host,
                state: s.status.as_str(),
                label,
                attempts: s.attempts,
                detail,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "narration.html", config = "src/web/askama.toml")]
struct NarrationPage {
    layout: Layout,
    ancestors: Vec<Card>,
    card: Card,
    replies: Vec<Card>,
    /// The reply form, for people signed in.
    compose: Option<ComposeBox>,
    /// For the author of a local narration: each receiving server.
    deliveries: Option<Vec<DeliveryRow>>,
    /// The narration stays on this server (local visibility).
    stays_here: bool,
    /// "Reply from your own server", for visitors on a public narration.
    remote: Option<super::profiles::RemoteForm>,
    /// oEmbed discovery, for the narrations that may be embedded.
    oembed: Option<String>,
    /// For an ask: open or answered, and the asker's (or moderator's)
    /// Accept and Re-open buttons.
    answers: Option<AnswerPanel>,
}

/// What the page of an ask shows about its answer.
pub struct AnswerPanel {
    /// The accepted reply's id.
    accepted: Option<String>,
    /// The viewer may accept a reply or re-open the ask.
    can_decide: bool,
    /// The direct replies (only they can be accepted).
    direct: HashSet<String>,
}

impl AnswerPanel {
    fn is_accepted(&self, id: &str) -> bool {
        self.accepted.as_deref() == Some(id)
    }

    fn may_accept(&self, id: &str) -> bool {
        self.can_decide && self.direct.contains(id) && !self.is_accepted(id)
    }
}

/// The page of a narration the viewer may see, with its thread.
async fn thread_page(
    req: &HttpRequest,
    data: &Data<Context>,
    viewer: &Viewer,
    post: Post,
    author: &Actor,
) -> Result<HttpResponse, WebError> {
    let (ancestors, replies) = service::posts::context(data, viewer.actor(), &post).await?;
    let deliveries = service::deliveries::where_it_went(data, viewer.actor(), &post)
        .await?
        .map(delivery_rows);
    let stays_here = post.visibility().is_local_only();
    let visibility = post.visibility();
    let oembed = (post.local
        && !post.is_deleted()
        && matches!(
            visibility,
            crate::db::post::Visibility::Public | crate::db::post::Visibility::Unlisted
        ))
    .then(|| {
        let page = data.urls.post_page(&author.username, &post.id);
        data.urls.oembed(&page).to_string()
    });
    let before: HashSet<String> = ancestors.iter().map(|p| p.id.clone()).collect();
    let answers = match post.narration_kind() {
        Some(crate::db::post::NarrationKind::Ask) => Some(AnswerPanel {
            accepted: service::answers::accepted_answer(data, &post)
                .await?
                .map(|a| a.id),
            can_decide: service::answers::can_decide(data, viewer.actor(), &post).await?,
            direct: replies
                .iter()
                .filter(|r| r.in_reply_to.as_deref() == Some(post.ap_id.as_str()))
                .map(|r| r.id.clone())
                .collect(),
        }),
        _ => None,
    };
    let id = post.id.clone();
    let title = post
        .title
        .clone()
        .unwrap_or_else(|| format!("Narration by {}", display_name(author)));
    let items = ancestors
        .into_iter()
        .chain(std::iter::once(post))
        .chain(replies)
        .map(Item::Post)
        .collect();
    let mut focus = None;
    let (mut above, mut below) = (Vec::new(), Vec::new());
    for card in cards(data, viewer.actor(), items).await? {
        if card.id == id {
            focus = Some(card);
        } else if before.contains(&card.id) {
            above.push(card);
        } else {
            below.push(card);
        }
    }
    let card = focus.ok_or_else(WebError::not_found)?;
    let compose = match viewer.actor() {
        Some(me) => Some(
            ComposeBox::new(data, me)
                .await?
                .replying_to(&card, visibility),
        ),
        None => None,
    };
    let layout = Layout::new(data, viewer, title)
        .await?
        .here(req.uri().path().to_string());
    let remote = (viewer.actor().is_none() && card.boostable)
        .then(|| super::profiles::RemoteForm::new(card.ap_id.clone(), "Reply", req.uri().path()));
    let with_remote = remote.is_some();
    let page = NarrationPage {
        layout,
        ancestors: above,
        card,
        replies: below,
        compose,
        deliveries,
        stays_here,
        remote,
        oembed,
        answers,
    };
    Ok(viewer.finish(super::profiles::render_with_remote(
        StatusCode::OK,
        &page,
        with_remote,
    )?))
}

/// `GET /@{name}/{id}`: a local narration and its thread.
pub async fn permalink(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let (name, id) = path.into_inner();
    let author = service::accounts::local_actor(&data.db, &name).await?;
    let post = service::posts::get(&data, viewer.actor(), &id).await?;
    if post.author_id != author.id || !post.local {
        return Err(WebError::not_found());
    }
    thread_page(&req, &data, &viewer, post, &author).await
}

/// `GET /narrations/{id}`: any stored narration; a local one is at its
/// author's address.
pub async fn show(
    req: HttpRequest,
    id: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let post = service::posts::get(&data, viewer.actor(), &id).await?;
    let author = service::relations::actor_by_id(&data, &post.author_id).await?;
    if post.local {
        return see_other(&post_path(&post, &author));
    }
    thread_page(&req, &data, &viewer, post, &author).await
}

/// A card action's form: where to come back to.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    return_to: Option<String>,
    /// `accept`: the reply accepted as the answer.
    answer_id: Option<String>,
}

/// `POST /narrations/{id}/{like,unlike,boost,unboost,delete}`
pub async fn act(
    path: web::Path<(String, String)>,
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (id, action) = path.into_inner();
    let me = &viewer.require()?.actor;
    let post = service::posts::get(&data, Some(me), &id).await?;
    let back = local_path(form.return_to.as_deref()).map(str::to_string);
    // Undoing what was never done changes nothing.
    let undo = |r: Result<(), Error>| match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    };
    match action.as_str() {
        "like" => service::posts::react(&data, me, &post, ReactionKind::Like).await?,
        "unlike" => undo(service::posts::unreact(&data, me, &post, ReactionKind::Like).await)?,
        "boost" => service::posts::react(&data, me, &post, ReactionKind::Announce).await?,
        "unboost" => undo(service::posts::unreact(&data, me, &post, ReactionKind::Announce).await)?,
        "accept" => {
            let answer = form.answer_id.as_deref().unwrap_or_default();
            service::answers::accept(&data, me, &post.id, answer).await?;
        }
        "reopen" => {
            service::answers::reopen(&data, me, &post.id).await?;
        }
        "delete" => {
            if post.author_id != me.id {
                return Err(not_yours("delete"));
            }
            service::posts::delete(&data, me, &post.id).await?;
            // Its own page is gone now.
            let to = back
                .filter(|b| !b.contains(&post.id))
                .unwrap_or_else(|| "/home".into());
            return see_other(&to);
        }
        _ => return Err(WebError::not_found()),
    }
    match back {
        Some(to) => see_other(&to),
        None => {
            let author = service::relations::actor_by_id(&data, &post.author_id).await?;
            see_other(&post_path(&post, &author))
        }
    }
}

fn not_yours(what: &str) -> WebError {
    WebError(Error::forbidden(format!(
        "You can only {what} your own narrations."
    )))
}

#[derive(Template)]
#[template(path = "edit.html", config = "src/web/askama.toml")]
struct EditPage {
    layout: Layout,
    id: String,
    /// Where the narration is: Cancel goes back there.
    path: String,
    is_article: bool,
    text: String,
    title: String,
    warning: String,
    max_chars: usize,
    error: Option<String>,
    preview: Option<String>,
    /// The images the narration has, as the form shows them.
    kept: Vec<KeptImage>,
    /// Inputs for new images: as many as are free.
    images: Vec<ImageSlot>,
    /// Files were sent with a form that came back.
    files_dropped: bool,
    /// The narration's kind (a form value), or empty.
    narration: String,
    /// The kinds offered.
    kinds: Vec<&'static str>,
}

/// An image the narration has, in the edit form.
#[derive(Debug, Clone)]
pub struct KeptImage {
    pub index: usize,
    pub view: MediaView,
    /// The alt text as stored or as last sent.
    pub alt: String,
    pub remove: bool,
}

/// The edit form's images: the narration's, with what `form` sent about
/// them (alt text, removal) when it came back, and the free inputs.
async fn edit_images<T>(
    data: &Data<Context>,
    post_id: &str,
    form: Option<&FormWithFiles<T>>,
) -> Result<(Vec<KeptImage>, Vec<ImageSlot>), WebError> {
    let kept: Vec<KeptImage> = media_of(data, post_id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(index, view)| {
            let sent = form.and_then(|f| {
                (0..MAX_ATTACHMENTS)
                    .find(|i| f.field(&format!("keep_{i}")) == Some(view.id.as_str()))
            });
            let (alt, remove) = match (form, sent) {
                (Some(f), Some(i)) => (
                    f.field(&format!("keep_alt_{i}"))
                        .unwrap_or_default()
                        .to_string(),
                    f.field(&format!("remove_{i}")).is_some(),
                ),
                _ => (view.alt.clone(), false),
            };
            KeptImage {
                index,
                view,
                alt,
                remove,
            }
        })
        .collect();
    let images = image_slots()
        .into_iter()
        .take(MAX_ATTACHMENTS.saturating_sub(kept.len()))
        .map(|mut slot| {
            if let Some(f) = form {
                slot.alt = f
                    .field(&format!("alt_{}", slot.index))
                    .unwrap_or_default()
                    .to_string();
            }
            slot
        })
        .collect();
    Ok((kept, images))
}

/// What a multipart edit form says about the images: the kept ones (in
/// order, with their alt text) and the new files.
fn draft_media<T>(form: &FormWithFiles<T>) -> Result<DraftMedia, String> {
    let keep = (0..MAX_ATTACHMENTS)
        .filter_map(|i| {
            let id = form.field(&format!("keep_{i}"))?;
            if form.field(&format!("remove_{i}")).is_some() {
                return None;
            }
            let alt = form.field(&format!("keep_alt_{i}")).map(str::to_string);
            Some((id.to_string(), alt))
        })
        .collect();
    Ok(DraftMedia {
        keep,
        files: draft_files(form)?,
    })
}

/// The narration to edit: one the viewer may see, and theirs.
async fn own(data: &Data<Context>, me: &Actor, id: &str) -> Result<Post, WebError> {
    let post = service::posts::get(data, Some(me), id).await?;
    if post.author_id != me.id {
        return Err(not_yours("edit"));
    }
    Ok(post)
}

/// `GET /narrations/{id}/edit`
pub async fn edit_page(
    id: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first(&format!("/narrations/{id}/edit"));
    };
    let post = own(&data, &me.actor, &id).await?;
    let is_article = post.kind() == PostKind::Article;
    let (kept, images) = edit_images::<EditInput>(&data, &post.id, None).await?;
    let page = EditPage {
        layout: Layout::new(&data, &viewer, "Edit").await?,
        id: post.id.clone(),
        path: post_path(&post, &me.actor),
        is_article,
        text: post
            .source
            .clone()
            .unwrap_or_else(|| crate::text::strip_html(&post.content)),
        title: post.title.clone().unwrap_or_default(),
        warning: post.summary.clone().unwrap_or_default(),
        max_chars: max_chars(is_article),
        error: None,
        preview: None,
        kept,
        images,
        files_dropped: false,
        narration: post
            .narration_kind()
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        kinds: kind_choices(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

fn max_chars(is_article: bool) -> usize {
    if is_article {
        service::posts::MAX_ARTICLE_CHARS
    } else {
        service::posts::MAX_NOTE_CHARS
    }
}

/// What the edit form sends.
#[derive(Debug, Deserialize)]
pub struct EditInput {
    #[serde(default)]
    text: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    warning: String,
    /// The kind chosen, or empty: the text's kind hashtag decides.
    #[serde(default)]
    kind: String,
    preview: Option<String>,
}

/// The kinds the edit form offers.
fn kind_choices() -> Vec<&'static str> {
    crate::db::post::NarrationKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
}

/// `POST /narrations/{id}/edit`
pub async fn edit(
    id: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    form: FormWithFiles<EditInput>,
) -> Result<HttpResponse, WebError> {
    let me = &viewer.require()?.actor;
    let post = own(&data, me, &id).await?;
    let is_article = post.kind() == PostKind::Article;
    // A form without files (no multipart) leaves the images as they are.
    let multipart = !form.pairs.is_empty();
    let (kept, images) = edit_images(&data, &post.id, multipart.then_some(&form)).await?;
    let media = multipart.then(|| draft_media(&form));
    let input = form.fields;
    let mut page = EditPage {
        layout: Layout::new(&data, &viewer, "Edit").await?,
        id: post.id.clone(),
        path: post_path(&post, me),
        is_article,
        text: input.text.clone(),
        title: input.title.clone(),
        warning: input.warning.clone(),
        max_chars: max_chars(is_article),
        error: None,
        preview: None,
        kept,
        images,
        files_dropped: !form.files.is_empty(),
        narration: input.kind.clone(),
        kinds: kind_choices(),
    };
    if input.preview.is_some() {
        page.preview = Some(service::posts::preview(&data, &input.text));
        return Ok(viewer.finish(render(StatusCode::OK, &page)?));
    }
    let Ok(narration) = service::narrations::parse_filter(Some(&input.kind)) else {
        page.narration = String::new();
        page.error =
            Some("Choose what kind of narration it is: doing, learned, stuck, ask or none.".into());
        return Ok(viewer.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
    };
    let change = PostEdit {
        title: is_article.then_some(input.title),
        source: input.text,
        summary: Some(input.warning),
        sensitive: post.sensitive,
        language: None,
        narration,
    };
    let result = match media {
        None => service::posts::edit(&data, me, &post.id, change).await,
        Some(Err(message)) => {
            page.error = Some(message);
            return Ok(viewer.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
        }
        Some(Ok(media)) => service::composer::edit_draft(&data, me, &post.id, change, media).await,
    };
    match result {
        Ok(updated) => see_other(&post_path(&updated, me)),
        Err(e) if e.kind == ErrorKind::Unprocessable => {
            page.error = Some(e.safe_message().to_string());
            Ok(viewer.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/@{name}/{id}", web::get().to(permalink))
        .route("/narrations/{id}", web::get().to(show))
        .route("/narrations/{id}/edit", web::get().to(edit_page))
        .route("/narrations/{id}/edit", web::post().to(edit))
        .route("/narrations/{id}/{action}", web::post().to(act));
}
