//! The narration-kind filter of the web timelines (issue 13 §1): home,
//! profiles, communities and tags accept `?kind=doing|learned|stuck|ask`
//! and show a small nav of links to each kind. The filter itself is the
//! page's `narration_kind`, applied by `db::timeline` as for the client API.

use crate::db::post::NarrationKind;

/// The kind a page's `?kind=` asks for. An unknown value shows everything
/// (a hand-edited link should not end in an error page).
pub fn asked(value: Option<&str>) -> Option<NarrationKind> {
    value.and_then(NarrationKind::parse)
}

/// One link of the filter nav.
#[derive(Debug, Clone)]
pub struct KindLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The filter nav of the page at `base` (a path without query).
#[derive(Debug, Clone)]
pub struct KindNav {
    pub links: Vec<KindLink>,
}

impl KindNav {
    pub fn new(base: &str, current: Option<NarrationKind>) -> KindNav {
        let mut links = vec![KindLink {
            label: "All",
            href: base.to_string(),
            current: current.is_none(),
        }];
        links.extend(NarrationKind::ALL.into_iter().map(|k| KindLink {
            label: k.as_str(),
            href: format!("{base}?kind={}", k.as_str()),
            current: current == Some(k),
        }));
        KindNav { links }
    }
}

/// A pager link (`/home?max_id=…`) that keeps the kind filtered by.
pub fn keep_kind(link: Option<String>, kind: Option<NarrationKind>) -> Option<String> {
    match (link, kind) {
        (Some(link), Some(kind)) => {
            let sep = if link.contains('?') { '&' } else { '?' };
            Some(format!("{link}{sep}kind={}", kind.as_str()))
        }
        (link, _) => link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nav_marks_the_current_kind() {
        let nav = KindNav::new("/home", Some(NarrationKind::Stuck));
        let current: Vec<_> = nav.links.iter().filter(|l| l.current).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].href, "/home?kind=stuck");
        assert_eq!(nav.links[0].href, "/home");
    }

    #[test]
    fn pager_links_keep_the_kind() {
        let k = Some(NarrationKind::Ask);
        assert_eq!(
            keep_kind(Some("/home?max_id=a".into()), k).as_deref(),
            Some("/home?max_id=a&kind=ask")
        );
        assert_eq!(
            keep_kind(Some("/home".into()), k).as_deref(),
            Some("/home?kind=ask")
        );
        assert_eq!(keep_kind(None, k), None);
        assert_eq!(asked(Some("bogus")), None);
    }
}
