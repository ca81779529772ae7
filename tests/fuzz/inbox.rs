//! Inbox activity parsing: what `POST /inbox` reads before and after the
//! signature is checked.

use crate::{cases, Input, Tally, MAX_LEN};
use activitypub_federation::traits::Activity;
use bolero::generator::TypeGenerator;
use outloud::apub::{activities::InboxActivity, inbox::Envelope, objects::actor::domain_of};
use serde_json::{Map, Value};
use url::Url;

const KEYS: &[&str] = &[
    "@context",
    "id",
    "type",
    "actor",
    "object",
    "to",
    "cc",
    "bto",
    "audience",
    "target",
    "origin",
    "content",
    "contentMap",
    "attributedTo",
    "published",
    "updated",
    "inReplyTo",
    "tag",
    "name",
    "href",
    "summary",
    "sensitive",
    "url",
    "mediaType",
    "source",
    "context",
    "conversation",
    "attachment",
    "replies",
    "quoteUrl",
    "signature",
    "instrument",
    "result",
];

const STRINGS: &[&str] = &[
    "https://a.example/users/ana",
    "https://a.example/activities/1",
    "https://a.example/notes/1",
    "https://b.example/users/bo",
    "https://b.example/communities/rust",
    "https://b.example/users/bo/followers",
    "http://a.example:8080/users/ana",
    "https://A.EXAMPLE/users/ana",
    "https://a.example./users/ana",
    "https://xn--nxasmq6b.example/u",
    "https://[::1]/users/x",
    "https://127.0.0.1/x",
    "https://user:pass@a.example/x",
    "https://a.example/x#main-key",
    "https://www.w3.org/ns/activitystreams#Public",
    "as:Public",
    "Public",
    "https://www.w3.org/ns/activitystreams",
    "acct:ana@a.example",
    "javascript:alert(1)",
    "data:text/plain,x",
    "mailto:a@a.example",
    "urn:uuid:1",
    "//a.example/x",
    "/users/ana",
    "",
    " ",
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Create",
    "Update",
    "Delete",
    "Like",
    "Announce",
    "Block",
    "Add",
    "Remove",
    "EmojiReact",
    "Flag",
    "Move",
    "Note",
    "Article",
    "Page",
    "Question",
    "Tombstone",
    "Person",
    "Group",
    "Service",
    "Mention",
    "Hashtag",
    "text/html",
    "text/markdown",
    "2024-01-01T00:00:00Z",
    "2024-13-45T99:99:99Z",
    "<p>hi <script>x</script></p>",
];

/// A JSON value, biased towards the keys and strings of activities.
#[derive(Debug, TypeGenerator)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Array(Vec<Json>),
    Object(Vec<(Text, Json)>),
}

#[derive(Debug, TypeGenerator)]
enum Text {
    Known(u8),
    Key(u8),
    Any(String),
}

impl Text {
    fn get(&self) -> String {
        match self {
            Text::Known(i) => STRINGS[*i as usize % STRINGS.len()].to_string(),
            Text::Key(i) => KEYS[*i as usize % KEYS.len()].to_string(),
            Text::Any(s) => s.clone(),
        }
    }
}

impl Json {
    fn value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Float(f) => Value::from(*f),
            Json::Str(s) => Value::String(s.get()),
            Json::Array(items) => Value::Array(items.iter().map(Json::value).collect()),
            Json::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.get(), v.value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// An activity-shaped object: the top-level fields an inbox looks at,
/// each present or not, plus extra fields; nested objects (a Note inside a
/// Create, a Follow inside an Undo) come from the same shape.
#[derive(Debug, TypeGenerator)]
struct ActivityShape {
    id: Option<Text>,
    kind: Option<Text>,
    actor: Option<Json>,
    object: Option<Json>,
    nested: Option<Box<ActivityShape>>,
    extra: Vec<(Text, Json)>,
}

impl ActivityShape {
    fn value(&self) -> Value {
        let mut map = Map::new();
        if let Some(id) = &self.id {
            map.insert("id".into(), Value::String(id.get()));
        }
        if let Some(kind) = &self.kind {
            map.insert("type".into(), Value::String(kind.get()));
        }
        if let Some(actor) = &self.actor {
            map.insert("actor".into(), actor.value());
            map.insert("attributedTo".into(), actor.value());
        }
        if let Some(object) = &self.object {
            map.insert("object".into(), object.value());
        }
        if let Some(nested) = &self.nested {
            map.insert("object".into(), nested.value());
        }
        for (k, v) in &self.extra {
            map.insert(k.get(), v.value());
        }
        Value::Object(map)
    }
}

#[derive(Debug, TypeGenerator)]
enum InboxInput {
    Raw(Input),
    Structured(ActivityShape),
}

/// What must hold for any body: parsing never panics; and when the body is
/// an activity, the envelope the inbox reads first (for the policy check
/// and the log span) names the same id and actor as the activity the
/// signature is then verified for, so policy cannot be checked against one
/// actor and the activity processed as another's.
fn check_body(body: &[u8]) {
    let envelope = serde_json::from_slice::<Envelope>(body);
    let activity = serde_json::from_slice::<InboxActivity>(body);
    if let Ok(activity) = &activity {
        let envelope = envelope.as_ref().unwrap_or_else(|e| {
            panic!(
                "activity parses but its envelope does not ({e})\n  body: {}",
                String::from_utf8_lossy(body)
            )
        });
        assert_eq!(activity.id(), &envelope.id, "id differs");
        assert_eq!(activity.actor(), &envelope.actor, "actor differs");
        check_url(activity.id());
        check_url(activity.actor());
    }
    if let Ok(envelope) = &envelope {
        check_url(&envelope.actor);
    }
}

/// `domain_of` records which server an actor lives on: for a URL with a
/// host it is that host (with the port when one is given), and reads back
/// as the same host and port.
fn check_url(url: &Url) {
    let domain = domain_of(url);
    match url.host_str() {
        None => assert!(domain.is_empty(), "{url} has no host but domain {domain:?}"),
        Some(host) => {
            assert!(domain.starts_with(host), "{url}: {domain:?}");
            if matches!(url.scheme(), "http" | "https") {
                let back = Url::parse(&format!("{}://{domain}/", url.scheme()))
                    .unwrap_or_else(|e| panic!("{url}: domain {domain:?} does not parse: {e}"));
                assert_eq!(back.host_str(), Some(host), "{url}");
                assert_eq!(back.port(), url.port(), "{url}");
            }
        }
    }
}

#[test]
fn fuzz_inbox_activity() {
    let tally = Tally::new("inbox activity parsing");
    // Raw bodies: JSON punctuation, quoted keys and strings, anything.
    let quoted: Vec<String> = KEYS
        .iter()
        .chain(STRINGS)
        .map(|s| format!("{s:?}"))
        .collect();
    let mut words: Vec<&str> = vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\\u0000",
        "\\ud800",
        "null",
        "true",
        "1e999",
        "-0",
        " ",
        "{\"id\":\"https://a.example/1\",\"actor\":\"https://a.example/u\",",
    ];
    words.extend(quoted.iter().map(String::as_str));
    bolero::check!()
        .with_type::<InboxInput>()
        .with_max_len(MAX_LEN)
        .with_iterations(cases(4_000))
        .for_each(|input| {
            tally.tick();
            let body = match input {
                InboxInput::Raw(raw) => raw.bytes(&words),
                InboxInput::Structured(activity) => serde_json::to_vec(&activity.value()).unwrap(),
            };
            check_body(&body);
        });
}

#[test]
fn known_activities_parse_and_agree() {
    // The property above must be reachable: well-formed activities parse.
    let follow = br#"{"id":"https://a.example/activities/1","type":"Follow","actor":"https://a.example/users/ana","object":"https://b.example/users/bo"}"#;
    assert!(serde_json::from_slice::<InboxActivity>(follow).is_ok());
    check_body(follow);
    let other = br#"{"id":"https://a.example/activities/2","type":"Arrive","actor":"https://a.example/users/ana"}"#;
    assert!(serde_json::from_slice::<InboxActivity>(other).is_ok());
    check_body(other);
}
