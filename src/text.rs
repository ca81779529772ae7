//! Text of narrations: Markdown rendering, HTML sanitizing, and finding
//! hashtags and mentions. Pure functions, no I/O.

use std::collections::HashSet;

/// Cleans HTML from anywhere (our renderer or other servers) down to a
/// small allow-list: text formatting, links, lists, quotes, code. Scripts,
/// styles, event handlers and unknown attributes go; links get
/// `rel="nofollow noopener noreferrer"`.
///
/// The result is a fixed point: sanitizing it again changes nothing.
/// Removing a disallowed element keeps its children, which can leave a
/// nesting HTML cannot express (`<h1><x><h1>` becomes `<h1>` inside `<h1>`)
/// that a browser parses into another tree than the one that was checked;
/// cleaning the output again until it stops changing closes that gap
/// (found by the fuzz targets, docs/security.md). One extra pass is the
/// usual cost; the bound only guards against a parser that never settles.
pub fn sanitize_html(html: &str) -> String {
    const MAX_PASSES: usize = 4;
    let builder = sanitizer();
    let mut clean = builder.clean(html).to_string();
    for _ in 1..MAX_PASSES {
        let again = builder.clean(&clean).to_string();
        if again == clean {
            break;
        }
        clean = again;
    }
    clean
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "a",
            "span",
            "strong",
            "b",
            "em",
            "i",
            "u",
            "del",
            "s",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "sup",
            "sub",
        ]))
        .add_allowed_classes("a", &["mention", "hashtag", "u-url"])
        .add_allowed_classes("span", &["h-card", "invisible", "ellipsis"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("nofollow noopener noreferrer"));
    builder
}

/// Whether `url` is an absolute `http` or `https` URL: the only links from
/// other servers (a post's or an actor's `url`, an avatar) that are stored
/// and handed to clients. Anything else — `javascript:`, `data:` — could
/// run in a reader's browser when an app makes it a link.
pub fn is_http_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// A mention written in source text: `@name` (local) or `@name@host`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MentionText {
    pub name: String,
    pub host: Option<String>,
}

impl MentionText {
    /// `@name@host` or `@name`, as written.
    pub fn as_written(&self) -> String {
        match &self.host {
            Some(host) => format!("@{}@{host}", self.name),
            None => format!("@{}", self.name),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':')
}

/// Finds `@name` and `@name@host` mentions (not inside words or e-mail
/// addresses), in order, each once.
pub fn find_mentions(text: &str) -> Vec<MentionText> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(is_name_char(chars[i - 1]) || chars[i - 1] == '@');
        if chars[i] == '@' && starts_word {
            let mut j = i + 1;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            if j > i + 1 {
                let name: String = chars[i + 1..j].iter().collect();
                let mut host = None;
                if j < chars.len() && chars[j] == '@' {
                    let mut k = j + 1;
                    while k < chars.len() && is_host_char(chars[k]) {
                        k += 1;
                    }
                    let candidate: String = chars[j + 1..k].iter().collect();
                    let candidate = candidate.trim_end_matches(['.', ':']).to_string();
                    if candidate.contains('.') || candidate.starts_with("localhost") {
                        k = j + 1 + candidate.chars().count();
                        host = Some(candidate.to_ascii_lowercase());
                        j = k;
                    }
                }
                let mention = MentionText {
                    name: name.to_ascii_lowercase(),
                    host,
                };
                if !found.contains(&mention) {
                    found.push(mention);
                }
                i = j;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Finds `#hashtags` (letters, digits, `_`; not all digits), lower-cased,
/// in order, each once.
pub fn find_hashtags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '&' || chars[i - 1] == '#');
        if chars[i] == '#' && starts_word {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let tag: String = chars[i + 1..j].iter().collect::<String>().to_lowercase();
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) && !found.contains(&tag)
            {
                found.push(tag);
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    found
}

/// Renders Markdown to sanitized HTML, turning the given mentions and
/// hashtags into links (`class="mention"` / `class="hashtag"`, as Mastodon
/// marks them). `link_for_mention` returns the actor's profile URL for a
/// mention it resolved, `None` to leave the text as is.
pub fn render_markdown(
    source: &str,
    link_for_mention: impl Fn(&MentionText) -> Option<String>,
    link_for_tag: impl Fn(&str) -> String,
) -> String {
    use pulldown_cmark::{html, Event, Options, Parser};
    let mut out = String::new();
    let mut in_code = 0usize;
    let events = Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        Event::Start(pulldown_cmark::Tag::CodeBlock(_)) => {
            in_code += 1;
            event
        }
        Event::End(pulldown_cmark::TagEnd::CodeBlock) => {
            in_code = in_code.saturating_sub(1);
            event
        }
        Event::Text(text) if in_code == 0 => {
            Event::InlineHtml(linkify(&text, &link_for_mention, &link_for_tag).into())
        }
        // Raw HTML in Markdown source is shown as text, never interpreted.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    html::push_html(&mut out, events);
    sanitize_html(&out)
}

/// Escapes text for HTML and links its mentions and hashtags.
fn linkify(
    text: &str,
    link_for_mention: &impl Fn(&MentionText) -> Option<String>,
    link_for_tag: &impl Fn(&str) -> String,
) -> String {
    let mut out = html_escape(text);
    for mention in find_mentions(text) {
        if let Some(href) = link_for_mention(&mention) {
            let written = html_escape(&mention.as_written());
            let link = format!(
                "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                html_escape(&href),
                html_escape(&mention.name)
            );
            out = replace_word(&out, &written, &link);
        }
    }
    for tag in find_hashtags(text) {
        let href = link_for_tag(&tag);
        let link = format!(
            "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
            html_escape(&href),
            html_escape(&tag)
        );
        out = replace_hashtag(&out, &tag, &link);
    }
    out
}

/// Replaces whole-word, case-insensitive occurrences of `word` (which starts
/// with `@`).
fn replace_word(haystack: &str, word: &str, with: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, end) in case_insensitive_matches(haystack, word) {
        if start < last {
            continue;
        }
        let before_ok = haystack[..start]
            .chars()
            .last()
            .is_none_or(|c| !(is_name_char(c) || c == '@'));
        let after_ok = haystack[end..].chars().next().is_none_or(|c| {
            !(is_name_char(c)
                || c == '@'
                || (c == '.'
                    && haystack[end + 1..].starts_with(|n: char| n.is_ascii_alphanumeric())))
        });
        if before_ok && after_ok {
            out.push_str(&haystack[last..start]);
            out.push_str(with);
            last = end;
        }
    }
    out.push_str(&haystack[last..]);
    out
}

fn replace_hashtag(haystack: &str, tag: &str, with: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, end) in case_insensitive_matches(haystack, &format!("#{tag}")) {
        let before_ok = haystack[..start]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '&' || c == '#'));
        let after_ok = haystack[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if before_ok && after_ok && start >= last {
            out.push_str(&haystack[last..start]);
            out.push_str(with);
            last = end;
        }
    }
    out.push_str(&haystack[last..]);
    out
}

/// Where `needle` occurs in `haystack` ignoring case, as byte ranges of
/// `haystack`. Lower-casing can change a text's length (`İ` is two bytes,
/// its lower case `i̇` three), so offsets found in a lower-cased copy are
/// mapped back to the original; a match that starts or ends inside one
/// original character's lower case is no match.
fn case_insensitive_matches(haystack: &str, needle: &str) -> Vec<(usize, usize)> {
    let mut lower = String::with_capacity(haystack.len());
    // (offset in `lower`, offset in `haystack`) at every character start,
    // and both lengths at the end.
    let mut starts = Vec::with_capacity(haystack.len() + 1);
    for (at, c) in haystack.char_indices() {
        starts.push((lower.len(), at));
        lower.extend(c.to_lowercase());
    }
    starts.push((lower.len(), haystack.len()));
    let original = |offset: usize| {
        starts
            .binary_search_by_key(&offset, |&(l, _)| l)
            .ok()
            .map(|i| starts[i].1)
    };
    let needle = needle.to_lowercase();
    lower
        .match_indices(&needle)
        .filter_map(|(start, m)| Some((original(start)?, original(start + m.len())?)))
        .collect()
}

/// Escapes `& < > " '` for HTML text and attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text of HTML (for search, previews and titles).
pub fn strip_html(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    cleaned
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizer_strips_scripts_and_handlers() {
        let dirty = r#"<p onclick="steal()">hi<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a><a href="https://ok.example" class="mention evil">ok</a></p>"#;
        let clean = sanitize_html(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(clean.contains(r#"href="https://ok.example""#), "{clean}");
        assert!(clean.contains(r#"class="mention""#), "{clean}");
        assert!(!clean.contains("evil"), "{clean}");
    }

    #[test]
    fn finds_mentions() {
        let found = find_mentions("Thanks @Ana@acme.example and @bob! mail me at x@y.example. @carol@beta.localhost:4000.");
        assert_eq!(
            found,
            vec![
                MentionText {
                    name: "ana".into(),
                    host: Some("acme.example".into())
                },
                MentionText {
                    name: "bob".into(),
                    host: None
                },
                MentionText {
                    name: "carol".into(),
                    host: Some("beta.localhost:4000".into())
                },
            ]
        );
    }

    #[test]
    fn finds_hashtags() {
        assert_eq!(
            find_hashtags("#Rust and #rust, #2024 but #ops_life; a#b &#39;"),
            vec!["rust".to_string(), "ops_life".to_string()]
        );
    }

    #[test]
    fn renders_markdown_with_links() {
        let html = render_markdown(
            "Learned **a lot** from @ana@acme.example about #Rust.\n\n<script>x</script>\n\n```\n#notatag @nobody\n```",
            |m| (m.name == "ana").then(|| "https://acme.example/users/ana".to_string()),
            |t| format!("https://here.example/tags/{t}"),
        );
        assert!(html.contains("<strong>a lot</strong>"), "{html}");
        assert!(
            html.contains(r#"href="https://acme.example/users/ana""#),
            "{html}"
        );
        assert!(html.contains(r#"class="u-url mention""#), "{html}");
        assert!(
            html.contains(r#"href="https://here.example/tags/rust""#),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("#notatag"), "{html}");
        assert!(!html.contains("tags/notatag"), "{html}");
    }

    #[test]
    fn strips_html_to_text() {
        assert_eq!(strip_html("<p>a &amp; <b>b</b></p>"), "a & b");
    }
}

/// Removes a mention of one of `hrefs` at the very start of a post's HTML
/// (Mastodon users post into a community by starting with `@community@host`;
/// the mention is addressing, not content). Only the leading one goes.
pub fn strip_leading_mention(html: &str, hrefs: &[&str]) -> String {
    let (prefix, rest) = match html.strip_prefix("<p>") {
        Some(rest) => ("<p>", rest),
        None => ("", html),
    };
    // The mention: an optional h-card span around the link.
    let (wrapped, inner) = match rest.strip_prefix("<span class=\"h-card\">") {
        Some(inner) => (true, inner),
        None => (false, rest),
    };
    let Some(after_open) = inner.strip_prefix("<a ") else {
        return html.to_string();
    };
    let Some(tag_end) = after_open.find('>') else {
        return html.to_string();
    };
    let attributes = &after_open[..tag_end];
    let ours = hrefs
        .iter()
        .any(|h| attributes.contains(&format!("href=\"{}\"", html_escape(h))));
    if !ours {
        return html.to_string();
    }
    let Some(close) = after_open.find("</a>") else {
        return html.to_string();
    };
    let mut remainder = &after_open[close + "</a>".len()..];
    if wrapped {
        match remainder.strip_prefix("</span>") {
            Some(r) => remainder = r,
            None => return html.to_string(),
        }
    }
    let remainder = remainder.trim_start_matches([' ', '\u{a0}']);
    let remainder = remainder.strip_prefix("<br>").unwrap_or(remainder);
    format!("{prefix}{}", remainder.trim_start())
}

#[cfg(test)]
mod strip_tests {
    use super::*;

    #[test]
    fn strips_only_a_leading_group_mention() {
        let group = "https://beta.example/communities/rust";
        let html = format!(
            "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>rust</span></a></span> How do you test async code?</p>"
        );
        assert_eq!(
            strip_leading_mention(&html, &[group]),
            "<p>How do you test async code?</p>"
        );
        let other = "<p><a href=\"https://x.example/users/bo\" class=\"mention\">@bo</a> hi</p>";
        assert_eq!(strip_leading_mention(other, &[group]), other);
        let later = format!("<p>Hello <a href=\"{group}\">@rust</a></p>");
        assert_eq!(strip_leading_mention(&later, &[group]), later);
    }
}
