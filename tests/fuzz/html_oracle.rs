//! An independent reading of sanitized HTML: html5ever's tokenizer (the
//! spec's tokenization, as a browser does it) lists every tag and attribute
//! of the output, and each must be on Outloud's allow-list.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

/// The tags `text::sanitize_html` keeps, written out again on purpose: an
/// oracle that read the implementation's list would accept whatever was
/// added to it.
pub const ALLOWED_TAGS: &[&str] = &[
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
];

/// Attributes ammonia's defaults allow on those tags, plus `class` (checked
/// below against the class allow-list) and the `rel` it sets on links.
const ALLOWED_ATTRIBUTES: &[&str] = &[
    "lang", "title", "href", "hreflang", "cite", "datetime", "start", "class", "rel",
];

#[derive(Default)]
struct Sink {
    problems: RefCell<Vec<String>>,
}

impl Sink {
    fn problem(&self, p: String) {
        self.problems.borrow_mut().push(p);
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                if !ALLOWED_TAGS.contains(&name.as_str()) {
                    self.problem(format!("tag <{name}> is not on the allow-list"));
                }
                if tag.kind == TagKind::StartTag {
                    for attr in &tag.attrs {
                        self.check_attribute(&name, &attr.name.local, &attr.value);
                    }
                }
            }
            Token::CommentToken(c) => self.problem(format!("comment <!--{c}--> kept")),
            Token::DoctypeToken(_) => self.problem("doctype kept".into()),
            Token::NullCharacterToken => self.problem("NUL character kept".into()),
            Token::CharacterTokens(_) | Token::EOFToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

impl Sink {
    fn check_attribute(&self, tag: &str, name: &str, value: &StrTendril) {
        if name.starts_with("on") {
            self.problem(format!("event handler {name} on <{tag}>"));
        }
        if !ALLOWED_ATTRIBUTES.contains(&name) {
            self.problem(format!("attribute {name} on <{tag}> is not allowed"));
        }
        if name == "href" || name == "cite" {
            if let Some(scheme) = url_scheme(value) {
                if !matches!(scheme.as_str(), "http" | "https" | "mailto") {
                    self.problem(format!("{name}={value:?} on <{tag}> has scheme {scheme}"));
                }
            }
        }
        if name == "class" {
            let allowed: &[&str] = match tag {
                "a" => &["mention", "hashtag", "u-url"],
                "span" => &["h-card", "invisible", "ellipsis"],
                _ => &[],
            };
            for class in value.split_ascii_whitespace() {
                if !allowed.contains(&class) {
                    self.problem(format!("class {class:?} on <{tag}>"));
                }
            }
        }
    }
}

/// The scheme a browser would see: it drops ASCII tab and newline anywhere
/// and leading C0 controls and spaces before parsing a URL; `None` for a
/// relative URL.
fn url_scheme(value: &str) -> Option<String> {
    let cleaned: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    // The URL standard's scheme state: a letter, then letters, digits,
    // `+`, `-` or `.`, up to `:`; anything else makes the URL relative.
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Every problem found in `html` (empty when it is clean).
pub fn problems(html: &str) -> Vec<String> {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let mut found = tokenizer.sink.problems.take();
    // Belt and braces, whatever the tokenizer's state machine thinks.
    let lower = html.to_ascii_lowercase();
    for needle in ["<script", "<style", "<iframe", "<svg", "<img"] {
        if lower.contains(needle) {
            found.push(format!("output contains {needle}"));
        }
    }
    found
}

/// Panics with the input and output when `html` breaks an invariant.
pub fn assert_clean(input: &str, html: &str) {
    let found = problems(html);
    assert!(
        found.is_empty(),
        "unsafe output\n  input:  {input:?}\n  output: {html:?}\n  problems: {found:?}"
    );
}

#[test]
fn oracle_catches_what_it_should() {
    // The oracle itself must be able to fail.
    assert!(
        problems("<p>fine <a href=\"https://x.example\" rel=\"nofollow\">x</a></p>").is_empty()
    );
    assert!(!problems("<script>x</script>").is_empty());
    assert!(!problems("<p onclick=\"x\">a</p>").is_empty());
    assert!(!problems("<a href=\" java\tscript:alert(1)\">a</a>").is_empty());
    assert!(!problems("<a class=\"evil\">a</a>").is_empty());
    assert!(!problems("<a href=\"Data:text/html,x\">a</a>").is_empty());
    assert!(problems("<a href=\"/x y:z\">a</a>").is_empty());
    assert!(!problems("<div>a</div>").is_empty());
    assert!(!problems("<!-- c -->").is_empty());
}
