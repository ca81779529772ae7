//! Compose: `GET /compose` (also `?in_reply_to={post id}` and
//! `?community={id, name or handle}`) and `POST /compose`. The form is one
//! partial (`_compose_box.html`, view model [`ComposeBox`]) shared with the
//! home page and the reply box of a permalink. A "Preview" button re-renders
//! the page with the server-rendered Markdown; validation errors re-show
//! the form with what was written and a message (422), storing nothing.
//! Publishing goes through `service::posts::publish_draft`, the same
//! `publish` the client API calls.

use super::{
    cards::{cards, post_path, Card},
    layout::{display_name, handle, render, see_other, sign_in_first, Layout, WebError},
    multipart::{FilePart, FormWithFiles},
    session::Viewer,
};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        post::{NarrationKind, Visibility},
    },
    error::ErrorKind,
    service::{
        self,
        composer::{Draft, DraftFile},
        media::MAX_ATTACHMENTS,
    },
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// One of the five visibilities the composer offers.
#[derive(Debug, Clone, Copy)]
pub struct VisibilityChoice {
    /// The form value.
    pub value: &'static str,
    /// What the option says.
    pub label: &'static str,
    /// One line on who sees it.
    pub explain: &'static str,
    /// The submit button's text when it is chosen.
    pub submit: &'static str,
}

/// The composer's visibilities, in the order offered.
pub const VISIBILITIES: [VisibilityChoice; 5] = [
    VisibilityChoice {
        value: "public",
        label: "Public",
        explain: "Anyone can see it, here and on other servers, and it shows in public timelines.",
        submit: "Share publicly",
    },
    VisibilityChoice {
        value: "unlisted",
        label: "Unlisted",
        explain: "Anyone with the link can see it, but it stays out of public timelines.",
        submit: "Share unlisted",
    },
    VisibilityChoice {
        value: "followers",
        label: "Followers only",
        explain: "Only your followers and the people you mention see it.",
        submit: "Share with followers",
    },
    VisibilityChoice {
        value: "direct",
        label: "Mentioned people only",
        explain: "Only the people you @mention see it.",
        submit: "Send to the people mentioned",
    },
    VisibilityChoice {
        value: "local",
        label: "This organisation only",
        explain: "Everyone with an account on this server sees it; it never leaves this server.",
        submit: "Share in this organisation",
    },
];

/// The visibility a form value names, among the five offered.
pub fn parse_visibility(value: &str) -> Option<Visibility> {
    match value {
        "" | "public" => Some(Visibility::Public),
        "unlisted" => Some(Visibility::Unlisted),
        "followers" => Some(Visibility::Followers),
        "direct" => Some(Visibility::Direct),
        "local" => Some(Visibility::Local),
        _ => None,
    }
}

/// The choice a stored visibility starts a reply with.
fn choice_of(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Unlisted => "unlisted",
        Visibility::Followers => "followers",
        Visibility::Direct => "direct",
        Visibility::Local | Visibility::LocalUnlisted => "local",
    }
}

/// A joined community in the picker.
#[derive(Debug, Clone)]
pub struct CommunityChoice {
    /// The community's actor id (the form value).
    pub id: String,
    pub name: String,
}

/// The compose form's view model.
#[derive(Debug, Clone)]
pub struct ComposeBox {
    /// The form's `id`: `compose`, or `reply` under a narration.
    pub anchor: &'static str,
    /// The label of the text area.
    pub text_label: &'static str,
    pub text: String,
    pub title: String,
    pub warning: String,
    /// The chosen visibility (a form value).
    pub visibility: String,
    /// The chosen community's id, or empty.
    pub community: String,
    /// The post answered (its id), or empty.
    pub in_reply_to: String,
    pub communities: Vec<CommunityChoice>,
    pub visibilities: &'static [VisibilityChoice],
    pub max_chars: usize,
    /// What went wrong, shown in `role="alert"`.
    pub error: Option<String>,
    /// The rendered Markdown, after "Preview".
    pub preview: Option<String>,
    /// The image inputs with the alt text written for each (files cannot
    /// be kept when the form comes back; alt text is).
    pub images: Vec<ImageSlot>,
    /// Files were sent with a form that came back: say to choose them again.
    pub files_dropped: bool,
    /// The chosen narration kind (a form value), or empty for none.
    pub narration: String,
    /// The kinds offered (`doing`, `learned`, `stuck`, `ask`).
    pub kinds: Vec<&'static str>,
}

/// One image input of the composer and its alt text field.
#[derive(Debug, Clone, Default)]
pub struct ImageSlot {
    pub index: usize,
    pub alt: String,
}

/// Empty image inputs, as many as a narration may carry.
pub fn image_slots() -> Vec<ImageSlot> {
    (0..MAX_ATTACHMENTS)
        .map(|index| ImageSlot {
            index,
            alt: String::new(),
        })
        .collect()
}

/// The files of a form with their alt text (`media_{i}` goes with
/// `alt_{i}`), or the message for a file too large to read.
pub fn draft_files<T>(form: &FormWithFiles<T>) -> Result<Vec<DraftFile>, String> {
    form.files
        .iter()
        .map(|f: &FilePart| {
            if f.too_large {
                return Err(format!(
                    "\"{}\" is too large to attach. Choose a smaller image and try again.",
                    f.filename
                ));
            }
            let alt = f
                .field
                .strip_prefix("media_")
                .and_then(|i| form.field(&format!("alt_{i}")))
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string);
            Ok(DraftFile {
                filename: f.filename.clone(),
                bytes: f.bytes.clone(),
                description: alt,
            })
        })
        .collect()
}

impl ComposeBox {
    /// An empty composer for `me`, with the communities they joined and
    /// their default visibility (settings).
    pub async fn new(data: &Data<Context>, me: &Actor) -> Result<ComposeBox, WebError> {
        let default = service::accounts::default_visibility(&data.db, me).await?;
        let communities = service::communities::subscriptions(&data.db, me)
            .await?
            .iter()
            .map(|c| CommunityChoice {
                id: c.id.clone(),
                name: display_name(c).to_string(),
            })
            .collect();
        Ok(ComposeBox {
            anchor: "compose",
            text_label: "What are you working on, or what did you learn?",
            text: String::new(),
            title: String::new(),
            warning: String::new(),
            visibility: choice_of(default).into(),
            community: String::new(),
            in_reply_to: String::new(),
            communities,
            visibilities: &VISIBILITIES,
            max_chars: service::posts::MAX_NOTE_CHARS,
            error: None,
            preview: None,
            images: image_slots(),
            files_dropped: false,
            narration: String::new(),
            kinds: NarrationKind::ALL.iter().map(|k| k.as_str()).collect(),
        })
    }

    /// The composer as a reply to `parent`: same audience to start with.
    pub fn replying_to(mut self, parent: &Card, visibility: Visibility) -> ComposeBox {
        self.anchor = "reply";
        self.text_label = "Your reply";
        self.in_reply_to = parent.id.clone();
        self.visibility = choice_of(visibility).into();
        self
    }

    /// The composer with what was sent kept.
    fn with_input(mut self, input: &ComposeInput) -> ComposeBox {
        self.text = input.text.clone();
        self.title = input.title.clone();
        self.warning = input.warning.clone();
        self.visibility = input.visibility.clone();
        self.community = input.community.clone();
        self.in_reply_to = input.in_reply_to.clone();
        self.narration = input.kind.clone();
        if !self.in_reply_to.is_empty() {
            self.text_label = "Your reply";
        }
        self
    }

    /// The chosen visibility's explanation.
    pub fn explain(&self) -> &'static str {
        VISIBILITIES
            .iter()
            .find(|v| v.value == self.visibility)
            .unwrap_or(&VISIBILITIES[0])
            .explain
    }

    /// What the submit button says: what will happen.
    pub fn submit_label(&self) -> String {
        if let Some(c) = self.communities.iter().find(|c| c.id == self.community) {
            return format!("Post in {}", c.name);
        }
        VISIBILITIES
            .iter()
            .find(|v| v.value == self.visibility)
            .unwrap_or(&VISIBILITIES[0])
            .submit
            .to_string()
    }
}

#[derive(Template)]
#[template(path = "compose.html", config = "src/web/askama.toml")]
struct ComposePage {
    layout: Layout,
    compose: ComposeBox,
    /// The narration answered.
    parent: Option<Card>,
}

#[derive(Deserialize)]
pub struct ComposeQuery {
    in_reply_to: Option<String>,
    community: Option<String>,
}

/// The card of the narration answered, when the viewer may see it.
async fn parent_card(
    data: &Data<Context>,
    me: &Actor,
    id: &str,
) -> Result<Option<(Card, Visibility)>, WebError> {
    let post = service::timelines::item_by_id(data, Some(me), id)
        .await?
        .into_post();
    let visibility = post.visibility();
    let card = cards(data, Some(me), vec![service::timelines::Item::Post(post)])
        .await?
        .pop();
    Ok(card.map(|c| (c, visibility)))
}

/// `GET /compose`
pub async fn page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<ComposeQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/compose");
    };
    let mut compose = ComposeBox::new(&data, &me.actor).await?;
    let mut parent = None;
    if let Some(id) = query.in_reply_to.as_deref().filter(|id| !id.is_empty()) {
        let (card, visibility) = parent_card(&data, &me.actor, id)
            .await?
            .ok_or_else(WebError::not_found)?;
        compose = compose.replying_to(&card, visibility);
        compose.anchor = "compose";
        parent = Some(card);
    }
    if let Some(wanted) = query.community.as_deref().filter(|c| !c.is_empty()) {
        let joined = service::communities::subscriptions(&data.db, &me.actor).await?;
        if let Some(c) = joined.iter().find(|c| names(c, wanted)) {
            compose.community = c.id.clone();
        }
    }
    let title = if parent.is_some() { "Reply" } else { "Narrate" };
    let layout = Layout::new(&data, &viewer, title).await?;
    let page = ComposePage {
        layout,
        compose,
        parent,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// Whether `wanted` (an id, an actor URL, `name` or `name@host`, with or
/// without `@`) names the community `c`.
fn names(c: &Actor, wanted: &str) -> bool {
    let wanted = wanted.trim_start_matches('@');
    c.id == wanted
        || c.ap_id.as_str() == wanted
        || handle(c).trim_start_matches('@') == wanted
        || (c.local && c.username == wanted)
}

/// What the compose form sends.
#[derive(Debug, Deserialize)]
pub struct ComposeInput {
    #[serde(default)]
    text: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    warning: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    in_reply_to: String,
    /// The narration kind chosen, or empty.
    #[serde(default)]
    kind: String,
    /// Set by the "Preview" button.
    preview: Option<String>,
}

/// `POST /compose`: publishes, or previews, or shows what is wrong.
pub async fn submit(
    data: Data<Context>,
    viewer: Viewer,
    form: FormWithFiles<ComposeInput>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let input = &form.fields;
    let mut compose = ComposeBox::new(&data, &me.actor).await?.with_input(input);
    for slot in &mut compose.images {
        slot.alt = form
            .field(&format!("alt_{}", slot.index))
            .unwrap_or_default()
            .to_string();
    }
    compose.files_dropped = !form.files.is_empty();
    if input.preview.is_some() {
        compose.preview = Some(service::posts::preview(&data, &input.text));
        return again(&data, &viewer, compose, StatusCode::OK).await;
    }
    let Some(visibility) = parse_visibility(&input.visibility) else {
        compose.visibility = "public".into();
        compose.error = Some(
            "Choose who can see it: public, unlisted, followers only, mentioned people only or this organisation only."
                .into(),
        );
        return again(&data, &viewer, compose, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let narration = match service::narrations::parse_filter(Some(&input.kind)) {
        Ok(kind) => kind,
        Err(_) => {
            compose.narration = String::new();
            compose.error = Some(
                "Choose what kind of narration it is: doing, learned, stuck, ask or none.".into(),
            );
            return again(&data, &viewer, compose, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let files = match draft_files(&form) {
        Ok(files) => files,
        Err(message) => {
            compose.error = Some(message);
            return again(&data, &viewer, compose, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let input = form.fields;
    let draft = Draft {
        title: Some(input.title),
        source: input.text,
        visibility,
        summary: Some(input.warning),
        in_reply_to: Some(input.in_reply_to),
        community: Some(input.community),
        files,
        narration,
    };
    match service::composer::publish_draft(&data, &me.actor, draft).await {
        Ok(post) => see_other(&post_path(&post, &me.actor)),
        Err(e) if e.kind == ErrorKind::Unprocessable => {
            compose.error = Some(e.safe_message().to_string());
            again(&data, &viewer, compose, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The compose page again, with the form as sent.
async fn again(
    data: &Data<Context>,
    viewer: &Viewer,
    compose: ComposeBox,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let parent = if compose.in_reply_to.is_empty() {
        None
    } else {
        // Gone or hidden: the form says so when it is sent.
        parent_card(data, &me.actor, &compose.in_reply_to)
            .await
            .ok()
            .flatten()
            .map(|(card, _)| card)
    };
    let title = if compose.in_reply_to.is_empty() {
        "Narrate"
    } else {
        "Reply"
    };
    let layout = Layout::new(data, viewer, title).await?;
    let page = ComposePage {
        layout,
        compose,
        parent,
    };
    Ok(viewer.finish(render(status, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/compose", web::get().to(page))
        .route("/compose", web::post().to(submit));
}
