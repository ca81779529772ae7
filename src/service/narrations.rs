//! Typed narrations (issue 13 §1): a narration is `doing`, `learned`,
//! `stuck`, `ask`, or of no kind. The web composer offers the kind; from a
//! Mastodon app the kind hashtag in the text (`#learned`) sets it, so
//! Tusky or Ivory users need nothing new.

use crate::db::post::NarrationKind;

pub use crate::db::post::NarrationKind as Kind;

/// The kind of a narration: an explicit choice (the web composer's) wins;
/// else the first kind hashtag among `hashtags` (see [`Kind::of`], which
/// received notes share).
pub fn kind_of(explicit: Option<Kind>, hashtags: &[String]) -> Option<Kind> {
    Kind::of(explicit, hashtags)
}

/// The kind of an edited narration: the kind it had while the text still
/// carries that kind's hashtag (so an explicit choice survives an edit
/// that leaves the hashtag alone), else what the new text says.
pub fn kind_after_edit(before: Option<Kind>, hashtags: &[String]) -> Option<Kind> {
    let still_tagged = before.filter(|k| {
        hashtags
            .iter()
            .any(|t| t.trim_start_matches('#').eq_ignore_ascii_case(k.as_str()))
    });
    kind_of(still_tagged, hashtags)
}

/// The text with ` #kind` appended when it lacks the kind's hashtag, so
/// that Mastodon users (and `tag` on the wire) see the kind the web
/// composer chose.
pub fn with_kind_hashtag(source: &str, kind: Option<Kind>) -> String {
    let Some(kind) = kind else {
        return source.to_string();
    };
    let tagged = crate::text::find_hashtags(source)
        .iter()
        .any(|t| t == kind.as_str());
    let text = source.trim_end();
    match (tagged, text.is_empty()) {
        (true, _) => source.to_string(),
        // Media with no text: the hashtag alone.
        (false, true) => format!("#{}", kind.as_str()),
        (false, false) => format!("{text} #{}", kind.as_str()),
    }
}

/// A `kind` parameter (client API or web): empty means no filter; an
/// unknown value is `Err` with a message for a 422.
pub fn parse_filter(value: Option<&str>) -> Result<Option<Kind>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NarrationKind::parse(v)
            .map(Some)
            .ok_or_else(|| format!("unknown kind {v:?}: use doing, learned, stuck or ask")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn explicit_choice_wins() {
        assert_eq!(
            kind_of(Some(Kind::Ask), &tags(&["stuck", "learned"])),
            Some(Kind::Ask)
        );
    }

    #[test]
    fn first_kind_hashtag_sets_it() {
        assert_eq!(
            kind_of(None, &tags(&["rust", "Stuck", "learned"])),
            Some(Kind::Stuck)
        );
        assert_eq!(kind_of(None, &tags(&["#learned"])), Some(Kind::Learned));
        assert_eq!(kind_of(None, &tags(&["doing"])), Some(Kind::Doing));
    }

    #[test]
    fn no_kind_hashtag_no_kind() {
        assert_eq!(kind_of(None, &tags(&[])), None);
        assert_eq!(kind_of(None, &tags(&["learnedit", "asking", "rust"])), None);
    }

    #[test]
    fn edits_keep_an_explicit_kind_while_its_hashtag_stays() {
        assert_eq!(
            kind_after_edit(Some(Kind::Ask), &tags(&["stuck", "ask"])),
            Some(Kind::Ask)
        );
        assert_eq!(
            kind_after_edit(Some(Kind::Ask), &tags(&["stuck"])),
            Some(Kind::Stuck)
        );
        assert_eq!(kind_after_edit(Some(Kind::Ask), &tags(&[])), None);
    }

    #[test]
    fn the_chosen_kind_is_appended_once() {
        assert_eq!(with_kind_hashtag("Hi", Some(Kind::Learned)), "Hi #learned");
        assert_eq!(
            with_kind_hashtag("I #Learned a thing", Some(Kind::Learned)),
            "I #Learned a thing"
        );
        assert_eq!(with_kind_hashtag("Hi", None), "Hi");
        assert_eq!(with_kind_hashtag("  ", Some(Kind::Ask)), "#ask");
        assert_eq!(with_kind_hashtag("Hi\n\n", Some(Kind::Ask)), "Hi #ask");
    }

    #[test]
    fn filter_values() {
        assert_eq!(parse_filter(None), Ok(None));
        assert_eq!(parse_filter(Some("")), Ok(None));
        assert_eq!(parse_filter(Some("learned")), Ok(Some(Kind::Learned)));
        assert!(parse_filter(Some("bogus")).is_err());
    }
}
