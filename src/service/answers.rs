//! Questions with accepted answers (issue 13 §2). An `ask` narration is
//! open until its author, or a moderator of the community it was asked
//! in, accepts one reply as its answer; it can be re-opened, or another
//! reply accepted. What may be accepted is `db::answer::refusal` (shared
//! with received Notes); who may accept is decided here. A local ask's
//! change federates as an `Update` of its Note carrying `acceptedAnswer`
//! (see docs/FEDERATION.md, "Accepted answers").

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        answer::{refusal, AcceptedAnswer},
        community::Community,
        notification::Notification,
        now,
        post::{NarrationKind, Post},
        timeline::{AccountFilter, Origin},
        Page,
    },
    error::{Error, Result},
    service::{
        posts,
        timelines::{self, AccountStatuses},
    },
};

/// The accepted answer of `ask`, if it has one that is still there.
pub async fn accepted_answer(data: &Data<Context>, ask: &Post) -> Result<Option<Post>> {
    let id = ask.id.clone();
    data.db
        .run(move |conn| Ok(crate::apub::objects::post::accepted_answer_of(conn, &id)?))
        .await
}

/// Whether `by` may accept an answer to `ask`, or re-open it: the ask's
/// author, or a moderator of the (local) community it was asked in.
async fn may_decide(data: &Data<Context>, by: &Actor, ask: &Post) -> Result<bool> {
    if by.id == ask.author_id {
        return Ok(true);
    }
    let Some(group_id) = ask.community_id.clone() else {
        return Ok(false);
    };
    let by_id = by.id.clone();
    data.db
        .run(move |conn| Ok(Community::is_moderator(conn, &group_id, &by_id)?))
        .await
}

/// Whether the web page of `ask` offers `viewer` to accept a reply or to
/// re-open it (the same rule as [`accept`]'s).
pub async fn can_decide(data: &Data<Context>, viewer: Option<&Actor>, ask: &Post) -> Result<bool> {
    match viewer {
        Some(me) if ask.local && ask.narration_kind() == Some(NarrationKind::Ask) => {
            may_decide(data, me, ask).await
        }
        _ => Ok(false),
    }
}

/// The ask `by` wants to decide on, checked: visible to them (else 404),
/// theirs or their community's (403), an ask (422), and held here: a
/// remote ask's answer is its author's server's to say (422).
async fn decidable(data: &Data<Context>, by: &Actor, ask_id: &str) -> Result<Post> {
    let ask_id = timelines::shared_post_id(ask_id).unwrap_or_else(|| ask_id.to_string());
    let ask = posts::get(data, Some(by), &ask_id).await?;
    if !may_decide(data, by, &ask).await? {
        return Err(Error::forbidden(
            "only the asker or a moderator of its community may accept an answer or re-open it",
        ));
    }
    if ask.narration_kind() != Some(NarrationKind::Ask) {
        return Err(Error::unprocessable(
            "only an ask narration can have an accepted answer",
        ));
    }
    if !ask.local {
        return Err(Error::unprocessable(
            "this ask lives on another server: only its author there can accept an answer",
        ));
    }
    Ok(ask)
}

/// Accepts `answer_id` (a reply to the ask) as the answer of `ask_id`,
/// replacing any answer accepted before, notifies the asker and the
/// answer's author (never `by` itself), and sends the ask's `Update`.
/// Returns the ask.
///
/// Errors: `NotFound` (either post unseen by `by`), `Forbidden` (neither
/// asker nor moderator), `Unprocessable` (not an ask, not a reply to it,
/// a remote ask).
pub async fn accept(
    data: &Data<Context>,
    by: &Actor,
    ask_id: &str,
    answer_id: &str,
) -> Result<Post> {
    let ask = decidable(data, by, ask_id).await?;
    let answer_id = timelines::shared_post_id(answer_id).unwrap_or_else(|| answer_id.to_string());
    // The answer is a parameter, not the addressed resource: a reply the
    // caller cannot see, or one deleted since their page was drawn, is a
    // refusal with its reason (422), not a 404 or 410 of the request.
    let answer = posts::get(data, Some(by), &answer_id)
        .await
        .map_err(|e| match e.kind {
            crate::error::ErrorKind::NotFound => {
                Error::unprocessable("the accepted answer must be a reply to the ask")
            }
            crate::error::ErrorKind::Gone => Error::unprocessable("the reply was deleted"),
            _ => e,
        })?;
    if let Some(reason) = refusal(&ask, &answer) {
        return Err(Error::unprocessable(reason));
    }
    let (question, reply, by_id) = (ask.clone(), answer.clone(), by.id.clone());
    let changed = data
        .db
        .transaction(move |conn| {
            let before = AcceptedAnswer::of_question(conn, &question.id)?;
            if before.is_some_and(|b| b.answer_id == reply.id) {
                return Ok(false);
            }
            AcceptedAnswer::accept(conn, &question.id, &reply.id, Some(&by_id), now())?;
            for recipient in [&question.author_id, &reply.author_id] {
                Notification::notify(conn, recipient, "update", &by_id, Some(&question.id))?;
            }
            Ok(true)
        })
        .await?;
    if changed {
        let answer_author = posts::author_of(data, &answer).await?;
        posts::send_update(data, &ask, vec![answer_author]).await?;
    }
    Ok(ask)
}

/// Re-opens an answered ask (no error if it was open) and sends its
/// `Update`, now without `acceptedAnswer` and without the "Answered:"
/// line. Returns the ask.
///
/// Errors: as [`accept`].
pub async fn reopen(data: &Data<Context>, by: &Actor, ask_id: &str) -> Result<Post> {
    let ask = decidable(data, by, ask_id).await?;
    let id = ask.id.clone();
    let removed = data
        .db
        .run(move |conn| Ok(AcceptedAnswer::reopen(conn, &id)?))
        .await?;
    if removed > 0 {
        posts::send_update(data, &ask, Vec::new()).await?;
    }
    Ok(ask)
}

/// Where a Questions view looks.
#[derive(Debug, Clone)]
pub enum Scope {
    /// What a community shared (a Group actor; boxed, as actors are large).
    Community(Box<Actor>),
    /// Public narrations with a hashtag, from every community known here.
    Tag(String),
}

/// A Questions view: what still needs an answer and what got one.
#[derive(Debug, Clone, Default)]
pub struct Questions {
    /// Open asks, the longest waiting first.
    pub open: Vec<Post>,
    /// Answered asks, newest first, with their answer when the reader may
    /// see it.
    pub answered: Vec<(Post, Option<Post>)>,
    /// `stuck` narrations (someone needs help), newest first.
    pub stuck: Vec<Post>,
}

/// How many narrations of each kind a Questions view looks at.
const VIEW_LIMIT: i64 = timelines::MAX_LIMIT;

/// The narrations of one kind in `scope` that `viewer` may see, through
/// the timelines (so their visibility rules, blocks and filters apply).
async fn of_kind(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    scope: &Scope,
    kind: NarrationKind,
) -> Result<Vec<Post>> {
    let page = Page {
        limit: VIEW_LIMIT,
        narration_kind: Some(kind),
        ..Page::default()
    };
    let items = match scope {
        Scope::Community(group) => {
            let options = AccountStatuses {
                filter: AccountFilter {
                    exclude_replies: true,
                    ..AccountFilter::default()
                },
                ..AccountStatuses::default()
            };
            timelines::account(data, viewer, group, options, page).await?
        }
        Scope::Tag(tag) => timelines::tag(data, viewer, tag, Origin::All, page).await?,
    };
    Ok(items.into_iter().map(|i| i.into_post()).collect())
}

/// The Questions view of `scope` for `viewer`.
///
/// Errors: `NotFound` for a community that is not a Group.
pub async fn questions(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    scope: &Scope,
) -> Result<Questions> {
    if let Scope::Community(group) = scope {
        if group.kind() != crate::db::actor::ActorKind::Group {
            return Err(Error::not_found("no such community"));
        }
    }
    let asks = of_kind(data, viewer, scope, NarrationKind::Ask).await?;
    let stuck = of_kind(data, viewer, scope, NarrationKind::Stuck).await?;
    let ids: Vec<String> = asks.iter().map(|p| p.id.clone()).collect();
    let rows = data
        .db
        .run(move |conn| {
            let mut found = Vec::new();
            for row in AcceptedAnswer::of_questions(conn, &ids)? {
                let answer = Post::by_id(conn, &row.answer_id)?.filter(|p| !p.is_deleted());
                found.push((row.question_id, answer));
            }
            Ok(found)
        })
        .await?;
    let mut view = Questions {
        stuck,
        ..Questions::default()
    };
    for ask in asks {
        match rows.iter().find(|(q, _)| *q == ask.id) {
            Some((_, answer)) => {
                let answer = match answer {
                    Some(a) if posts::can_see(data, viewer, a).await? => Some(a.clone()),
                    _ => None,
                };
                view.answered.push((ask, answer));
            }
            None => view.open.push(ask),
        }
    }
    view.open.sort_by_key(|a| a.published);
    Ok(view)
}

#[cfg(test)]
mod tests {
    use crate::db::{
        answer::refusal,
        new_id, now,
        post::{Post, PostKind, Visibility},
        DbUrl,
    };

    fn post(n: u32, kind: Option<&str>, in_reply_to: Option<&str>) -> Post {
        Post {
            id: new_id(),
            ap_id: DbUrl(url::Url::parse(&format!("http://a.localhost/objects/{n}")).unwrap()),
            author_id: "author".into(),
            kind: PostKind::Note.as_str().into(),
            visibility: Visibility::Public.as_str().into(),
            title: None,
            content: format!("<p>{n}</p>"),
            source: None,
            summary: None,
            sensitive: false,
            language: None,
            in_reply_to: in_reply_to.map(str::to_string),
            thread: None,
            url: None,
            to_json: "[]".into(),
            cc_json: "[]".into(),
            local: true,
            published: now(),
            updated: None,
            deleted_at: None,
            community_id: None,
            search_text: None,
            narration_kind: kind.map(str::to_string),
        }
    }

    #[test]
    fn a_reply_to_an_ask_may_be_accepted() {
        let ask = post(1, Some("ask"), None);
        let reply = post(2, None, Some(ask.ap_id.as_str()));
        assert_eq!(refusal(&ask, &reply), None);
    }

    #[test]
    fn only_replies_to_asks_may_be_accepted() {
        let ask = post(1, Some("ask"), None);
        let elsewhere = post(2, None, Some("http://a.localhost/objects/9"));
        assert!(refusal(&ask, &elsewhere).unwrap().contains("reply"));
        let top = post(3, None, None);
        assert!(refusal(&ask, &top).unwrap().contains("reply"));
        let stuck = post(4, Some("stuck"), None);
        let reply = post(5, None, Some(stuck.ap_id.as_str()));
        assert!(refusal(&stuck, &reply).unwrap().contains("ask"));
        let mut deleted = post(6, None, Some(ask.ap_id.as_str()));
        deleted.deleted_at = Some(now());
        assert!(refusal(&ask, &deleted).unwrap().contains("deleted"));
    }
}
