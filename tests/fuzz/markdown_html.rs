//! HTML sanitizing and Markdown rendering (`outloud::text`).

use crate::{cases, html_oracle::assert_clean, words, Input, Tally, MAX_LEN_HTML};
use outloud::text::{render_markdown, sanitize_html, strip_html, MentionText};

/// Fragments of hostile and ordinary HTML.
const HTML_WORDS: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "=",
    "\"",
    "'",
    "`",
    " ",
    "\n",
    "\t",
    "&",
    "&#",
    "&#x",
    ";",
    "&lt;",
    "&amp;",
    "&quot;",
    "<script>",
    "</script>",
    "<script",
    "<SCRIPT",
    "<scr<script>ipt>",
    "<style>",
    "</style>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=",
    "<object",
    "<embed",
    "<math>",
    "<mglyph>",
    "<table>",
    "<td>",
    "<form>",
    "<textarea>",
    "</textarea>",
    "<noscript>",
    "<template>",
    "<xmp>",
    "<plaintext>",
    "<title>",
    "<!--",
    "-->",
    "--!>",
    "<!",
    "<![CDATA[",
    "]]>",
    "<?",
    "<!DOCTYPE html>",
    "<p>",
    "</p>",
    "<p",
    "<a href=\"",
    "<a href=",
    "<a ",
    "</a>",
    "<span class=\"",
    "<span>",
    "</span>",
    "<b>",
    "<i>",
    "<pre>",
    "</pre>",
    "<code>",
    "<blockquote>",
    "<ul><li>",
    "<ol start=\"",
    "<br>",
    "<hr/>",
    "<h1>",
    "<div>",
    "</div>",
    "<base href=",
    "<meta ",
    "<link rel=",
    " onclick=\"",
    " onmouseover=",
    " ONLOAD=",
    " style=\"",
    " class=\"",
    "mention",
    "hashtag",
    "u-url",
    "h-card",
    "invisible",
    "evil",
    " title=\"",
    " rel=\"",
    " target=_blank",
    " href=\"",
    " srcdoc=",
    " formaction=",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "java&#x09;script:",
    "&#106;avascript:",
    "vbscript:",
    "data:text/html,",
    "https://a.example/x",
    "http://",
    "mailto:a@b.example",
    "//evil.example",
    "\u{0}",
    "\r\n",
    "\u{a0}",
];

/// What the sanitizer must guarantee for any input: only allow-listed
/// tags, attributes, classes and URL schemes survive, and cleaning again
/// changes nothing (stored HTML is sanitized once and served as is, and
/// remote HTML may already be the output of a sanitizer).
fn check_sanitizer(input: &str) {
    let clean = sanitize_html(input);
    assert_clean(input, &clean);
    let again = sanitize_html(&clean);
    assert_eq!(
        again, clean,
        "sanitizing is not idempotent\n  input: {input:?}"
    );
    // Plain text of any HTML is plain text.
    let _ = strip_html(input);
}

#[test]
fn fuzz_sanitize_html() {
    let tally = Tally::new("sanitize_html");
    let words = words(HTML_WORDS);
    bolero::check!()
        .with_type::<Input>()
        .with_max_len(MAX_LEN_HTML)
        .with_iterations(cases(1_500))
        .for_each(|input| {
            tally.tick();
            check_sanitizer(&input.text(&words));
        });
}

/// Markdown syntax, mentions and hashtags, and raw HTML (which must come
/// out as text).
const MARKDOWN_WORDS: &[&str] = &[
    "*",
    "**",
    "_",
    "__",
    "~~",
    "`",
    "```",
    "~~~",
    "#",
    "# ",
    "## ",
    "> ",
    "- ",
    "* ",
    "1. ",
    "\n",
    "\n\n",
    "  \n",
    "    ",
    "\t",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "<",
    ">",
    "<http://a.example>",
    "[x](javascript:alert(1))",
    "[x](https://a.example \"t\")",
    "[r]: https://a.example",
    "![i](https://a.example/i.png)",
    "\\",
    "&",
    "&amp;",
    "&#",
    "|",
    "---",
    "===",
    "<script>alert(1)</script>",
    "<a href=\"javascript:x\">",
    "<img src=x onerror=y>",
    "<!-- c -->",
    "<details>",
    "@",
    "@ana",
    "@Ana@acme.example",
    "@bob@beta.localhost:4000",
    "@x@y",
    "@@",
    "@a_b",
    "a@b.example",
    "#",
    "#Rust",
    "#rust_lang",
    "#2024",
    "#a#b",
    "&#39;",
    "#İ",
    "@İ",
    ".",
    ":",
    "'",
    "\"",
    " ",
];

fn mention_link(m: &MentionText) -> Option<String> {
    Some(match &m.host {
        Some(host) => format!("https://{host}/users/{}", m.name),
        None => format!("https://here.example/users/{}", m.name),
    })
}

fn tag_link(tag: &str) -> String {
    format!("https://here.example/tags/{tag}")
}

fn check_markdown(source: &str) {
    let html = render_markdown(source, mention_link, tag_link);
    assert_clean(source, &html);
    assert_eq!(
        sanitize_html(&html),
        html,
        "rendered Markdown changes when sanitized again\n  source: {source:?}"
    );
    // Unresolved mentions stay text; rendering must not depend on them.
    let plain = render_markdown(source, |_| None, tag_link);
    assert_clean(source, &plain);
}

#[test]
fn fuzz_render_markdown() {
    let tally = Tally::new("render_markdown");
    let words = words(MARKDOWN_WORDS);
    bolero::check!()
        .with_type::<Input>()
        .with_max_len(MAX_LEN_HTML)
        .with_iterations(cases(1_200))
        .for_each(|input| {
            tally.tick();
            check_markdown(&input.text(&words));
        });
}

/// Found by `fuzz_render_markdown`: linking mentions and hashtags used
/// offsets from a lower-cased copy of the text in the original, and `İ`
/// lower-cases to three bytes from two, so the offsets ran past the end
/// (a panic, so a 500 for a post like this) or cut a character.
#[test]
fn regression_lowercase_changes_length() {
    for source in [
        "İ @ana",
        "İ #rust",
        "İİİ @ana@acme.example #Rust İ",
        "#İ @İ",
    ] {
        let html = render_markdown(source, mention_link, tag_link);
        assert_clean(source, &html);
    }
    let html = render_markdown("İ @ana and #Rust", mention_link, tag_link);
    assert!(
        html.contains(r#"href="https://here.example/users/ana""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="https://here.example/tags/rust""#),
        "{html}"
    );
    assert!(html.starts_with("<p>İ "), "{html}");
}

/// Found by `fuzz_sanitize_html`: removing a disallowed element keeps its
/// children, which can leave a nesting HTML cannot express (`<h1>` in
/// `<h1>`); a browser (or the next sanitizing) parses it differently.
#[test]
fn regression_sanitized_html_is_a_fixed_point() {
    for input in [
        "<h1><s)><h1>",
        "<h1><div><h2>x</h2></div></h1>",
        "<p><div><p>x</p></div></p>",
    ] {
        check_sanitizer(input);
    }
}
