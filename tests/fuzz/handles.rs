//! Handles and WebFinger resources: `@name@host` in text
//! (`text::find_mentions`), `acct:` resources (`wellknown::parse_resource`)
//! and our actor URLs (`urls::Urls`).

use crate::{cases, words, Input, Tally, MAX_LEN};
use bolero::generator::TypeGenerator;
use outloud::{
    text::find_mentions,
    urls::Urls,
    wellknown::{parse_resource, Resource},
};
use url::Url;

const DOMAIN: &str = "here.example";

const HANDLE_WORDS: &[&str] = &[
    "@",
    "@@",
    "acct:",
    "acct:@",
    "ana",
    "Ana",
    "a_b",
    "bo",
    "@ana@acme.example",
    "@ana@",
    "here.example",
    "HERE.EXAMPLE",
    "beta.localhost:4000",
    "localhost",
    ".",
    "..",
    ":",
    "::",
    "-",
    "_",
    "/",
    "?",
    "#",
    "%40",
    "%2F",
    " ",
    "\n",
    "https://",
    "http://",
    "https://here.example/users/",
    "https://here.example/@",
    "https://here.example/users/ana/",
    "ftp://",
    "//",
    "[::1]",
    "xn--",
    "a@b.example",
    "mail me at x@y.example.",
];

/// A well-formed handle's parts: a user name as Outloud allows them and a
/// host of dotted labels, optionally with a port.
#[derive(Debug, TypeGenerator)]
struct Handle {
    name: Vec<u8>,
    labels: Vec<Vec<u8>>,
    port: Option<u16>,
    before: u8,
    after: u8,
}

fn pick(bytes: &[u8], alphabet: &[u8], min: usize) -> String {
    let mut s: String = bytes
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect();
    while s.len() < min {
        s.push(alphabet[s.len() % alphabet.len()] as char);
    }
    s
}

impl Handle {
    fn name(&self) -> String {
        pick(
            &self.name[..self.name.len().min(30)],
            b"abcdefghijklmnopqrstuvwxyz0123456789_",
            1,
        )
    }

    fn host(&self) -> String {
        let mut labels: Vec<String> = self
            .labels
            .iter()
            .take(4)
            .map(|l| {
                pick(
                    &l[..l.len().min(20)],
                    b"abcdefghijklmnopqrstuvwxyz0123456789",
                    1,
                )
            })
            .collect();
        if labels.is_empty() {
            labels.push("a".into());
        }
        labels.push("example".into());
        let host = labels.join(".");
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }
}

/// Text around a mention that must not change what is found.
const BEFORE: &[&str] = &["", " ", "\n", "(", "hi ", "> ", "\"", "¡"];
const AFTER: &[&str] = &["", " ", ".", ",", "!", ")", ". Next", ": ", "?", "\n"];

fn check_text(text: &str) {
    for mention in find_mentions(text) {
        // A found mention, written back, is found again as itself.
        let written = mention.as_written();
        assert_eq!(
            find_mentions(&written),
            vec![mention.clone()],
            "{written:?} (from {text:?}) does not read back"
        );
        if let Some(host) = &mention.host {
            // And as a WebFinger resource it names that account.
            let resource = format!("acct:{}@{host}", mention.name);
            assert_eq!(
                parse_resource(&resource, host).ok(),
                Some(Resource::LocalName(mention.name.clone())),
                "{resource:?}"
            );
        }
    }
}

fn check_resource(resource: &str) {
    match parse_resource(resource, DOMAIN) {
        Ok(Resource::LocalName(name)) => {
            assert!(!name.is_empty() && !name.contains('@'), "{resource:?}");
            // Formatting the parsed name again names the same account.
            let again = format!("acct:{name}@{DOMAIN}");
            assert_eq!(
                parse_resource(&again, DOMAIN).ok(),
                Some(Resource::LocalName(name.clone())),
                "{resource:?}"
            );
        }
        Ok(Resource::Url(url)) => {
            assert!(matches!(url.scheme(), "http" | "https") && url.host().is_some());
        }
        Ok(Resource::Elsewhere) | Err(_) => {}
    }
}

fn check_url(urls: &Urls, text: &str) {
    if let Ok(url) = Url::parse(text) {
        if let Some(name) = urls.parse_person(&url) {
            assert!(!name.is_empty() && !name.contains('/'), "{url}");
        }
        if let Some(name) = urls.parse_profile_page(&url) {
            assert!(!name.is_empty() && !name.contains('/'), "{url}");
        }
        let _ = urls.parse_community(&url);
        let _ = urls.parse_object(&url);
    }
}

#[derive(Debug, TypeGenerator)]
enum HandleInput {
    Text(Input),
    Handle(Handle),
}

#[test]
fn fuzz_handles() {
    let tally = Tally::new("handles and WebFinger resources");
    let urls = Urls::new("https", DOMAIN).unwrap();
    let words = words(HANDLE_WORDS);
    bolero::check!()
        .with_type::<HandleInput>()
        .with_max_len(MAX_LEN)
        .with_iterations(cases(8_000))
        .for_each(|input| {
            tally.tick();
            match input {
                HandleInput::Text(input) => {
                    let text = input.text(&words);
                    check_text(&text);
                    check_resource(&text);
                    check_url(&urls, &text);
                }
                HandleInput::Handle(handle) => {
                    let (name, host) = (handle.name(), handle.host());
                    let before = BEFORE[handle.before as usize % BEFORE.len()];
                    let after = AFTER[handle.after as usize % AFTER.len()];
                    let text = format!("{before}@{name}@{host}{after}");
                    let found = find_mentions(&text);
                    assert!(
                        found
                            .iter()
                            .any(|m| m.name == name && m.host.as_deref() == Some(&*host)),
                        "{text:?}: {found:?}"
                    );
                    check_text(&text);
                    for resource in [
                        format!("acct:{name}@{host}"),
                        format!("acct:@{name}@{host}"),
                    ] {
                        assert_eq!(
                            parse_resource(&resource, &host).ok(),
                            Some(Resource::LocalName(name.clone())),
                            "{resource:?}"
                        );
                        assert_eq!(
                            parse_resource(&resource, "other.example").ok(),
                            Some(Resource::Elsewhere),
                            "{resource:?}"
                        );
                    }
                    // Our actor URLs round-trip for every valid name.
                    let here = Urls::new("https", &host).unwrap();
                    assert_eq!(here.parse_person(&here.person(&name)), Some(name.clone()));
                    assert_eq!(
                        here.parse_profile_page(&here.profile_page(&name)),
                        Some(name.clone())
                    );
                    assert_eq!(here.parse_person(&urls.person(&name)), None, "other host");
                }
            }
        });
}
