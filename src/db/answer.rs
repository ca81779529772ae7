//! Accepted answers (`accepted_answers`, issue 13 §2): which reply answers
//! an `ask` narration. One row per answered ask, keyed by the ask; the
//! rules (who may accept, what may be accepted) are `service::answers`'s,
//! this file only stores the decision.

use super::{
    post::{NarrationKind, Post},
    schema::accepted_answers,
    DbConn,
};
use diesel::prelude::*;

/// Why `answer` cannot be the accepted answer of `ask`, if it cannot: the
/// ask must be an `ask` narration, the answer a reply to it, and neither
/// deleted. The one statement of "what may be accepted", shared by
/// `service::answers` (local acceptance, a 422 with this reason) and the
/// inbound Note conversion (a peer's claim, ignored and logged).
pub fn refusal(ask: &Post, answer: &Post) -> Option<&'static str> {
    if ask.is_deleted() {
        return Some("the question was deleted");
    }
    if ask.narration_kind() != Some(NarrationKind::Ask) {
        return Some("only an ask narration can have an accepted answer");
    }
    if answer.is_deleted() {
        return Some("the reply was deleted");
    }
    if answer.in_reply_to.as_deref() != Some(ask.ap_id.as_str()) {
        return Some("the accepted answer must be a reply to the ask");
    }
    None
}

/// One row of `accepted_answers`: `answer_id` answers `question_id`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = accepted_answers)]
pub struct AcceptedAnswer {
    /// The ask (a post id).
    pub question_id: String,
    /// The accepted reply (a post id).
    pub answer_id: String,
    /// The actor who accepted it, the asker or a moderator.
    pub accepted_by: Option<String>,
    pub accepted_at: chrono::NaiveDateTime,
}

impl AcceptedAnswer {
    /// Records `answer_id` as the answer of `question_id`, replacing the
    /// answer accepted before (accepting another reply is a change of
    /// mind, not a second answer).
    pub fn accept(
        conn: &mut DbConn,
        question_id: &str,
        answer_id: &str,
        accepted_by: Option<&str>,
        accepted_at: chrono::NaiveDateTime,
    ) -> QueryResult<AcceptedAnswer> {
        let row = AcceptedAnswer {
            question_id: question_id.to_string(),
            answer_id: answer_id.to_string(),
            accepted_by: accepted_by.map(str::to_string),
            accepted_at,
        };
        diesel::delete(accepted_answers::table.find(question_id)).execute(conn)?;
        diesel::insert_into(accepted_answers::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    }

    /// Re-opens the ask: it has no accepted answer any more. Re-opening an
    /// open ask is no error; the number of rows removed says which it was.
    pub fn reopen(conn: &mut DbConn, question_id: &str) -> QueryResult<usize> {
        diesel::delete(accepted_answers::table.find(question_id)).execute(conn)
    }

    /// The accepted answer of an ask, if it has one.
    pub fn of_question(
        conn: &mut DbConn,
        question_id: &str,
    ) -> QueryResult<Option<AcceptedAnswer>> {
        accepted_answers::table
            .find(question_id)
            .select(AcceptedAnswer::as_select())
            .first(conn)
            .optional()
    }

    /// The accepted answers of several asks (one query; pages of cards).
    pub fn of_questions(
        conn: &mut DbConn,
        question_ids: &[String],
    ) -> QueryResult<Vec<AcceptedAnswer>> {
        if question_ids.is_empty() {
            return Ok(Vec::new());
        }
        accepted_answers::table
            .filter(accepted_answers::question_id.eq_any(question_ids))
            .select(AcceptedAnswer::as_select())
            .load(conn)
    }

    /// Which of `post_ids` are accepted answers (one query; marking the
    /// accepted reply in a thread).
    pub fn accepted_among(
        conn: &mut DbConn,
        post_ids: &[String],
    ) -> QueryResult<Vec<AcceptedAnswer>> {
        if post_ids.is_empty() {
            return Ok(Vec::new());
        }
        accepted_answers::table
            .filter(accepted_answers::answer_id.eq_any(post_ids))
            .select(AcceptedAnswer::as_select())
            .load(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{
            new_id, now,
            post::{Post, PostKind, Visibility},
            DbUrl,
        },
        testing::for_each_backend,
    };

    fn post(author: &str, n: u32, in_reply_to: Option<&str>) -> Post {
        Post {
            id: new_id(),
            ap_id: DbUrl(
                url::Url::parse(&format!("http://alpha.localhost:1/objects/{n}")).unwrap(),
            ),
            author_id: author.to_string(),
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
            narration_kind: None,
        }
    }

    /// Accepting another reply replaces the answer; re-opening clears it
    /// and says whether there was one.
    #[test]
    fn accept_replaces_and_reopen_clears() {
        for_each_backend("answer", |db| {
            let author = crate::testing::migrated_with_person(db, "ana");
            let conn = &mut db.get().unwrap();
            let ask = post(&author.id, 1, None);
            let first = post(&author.id, 2, Some(&ask.id));
            let second = post(&author.id, 3, Some(&ask.id));
            for p in [&ask, &first, &second] {
                Post::insert(conn, p, &[]).unwrap();
            }
            AcceptedAnswer::accept(conn, &ask.id, &first.id, Some(&author.id), now()).unwrap();
            AcceptedAnswer::accept(conn, &ask.id, &second.id, Some(&author.id), now()).unwrap();
            let row = AcceptedAnswer::of_question(conn, &ask.id).unwrap().unwrap();
            assert_eq!(row.answer_id, second.id);
            let among =
                AcceptedAnswer::accepted_among(conn, &[first.id.clone(), second.id.clone()])
                    .unwrap();
            assert_eq!(among, vec![row]);
            assert_eq!(AcceptedAnswer::reopen(conn, &ask.id).unwrap(), 1);
            assert_eq!(AcceptedAnswer::reopen(conn, &ask.id).unwrap(), 0);
            assert!(AcceptedAnswer::of_question(conn, &ask.id)
                .unwrap()
                .is_none());
        });
    }
}
