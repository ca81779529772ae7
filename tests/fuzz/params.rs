//! Client-API parameters (`api::params`): Rails-bracket query strings and
//! form bodies through `parse_qs`, JSON bodies through serde_json, and the
//! lenient field readers (`one_or_many`, `flexible_bool`, `flexible_i64`).

use crate::{cases, words, Input, Tally, MAX_LEN};
use bolero::generator::TypeGenerator;
use outloud::api::{
    instance::{DirectoryQuery, MarkerQuery},
    oauth::TokenParams,
    params::{flexible_bool, flexible_i64, one_or_many, parse_qs},
    PageParams,
};
use serde::Deserialize;
use serde_json::json;
use url::form_urlencoded::Serializer;

/// The shapes the endpoints declare, using every lenient reader.
#[derive(Debug, Deserialize, PartialEq)]
struct Params {
    #[serde(default, deserialize_with = "one_or_many")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    resolve: Option<bool>,
    #[serde(default, deserialize_with = "flexible_i64")]
    limit: Option<i64>,
    q: Option<String>,
}

const QS_WORDS: &[&str] = &[
    "&",
    "=",
    "[",
    "]",
    "[]",
    "%5B",
    "%5D",
    "%5B%5D",
    "%",
    "%0",
    "%zz",
    "%ff",
    "%C3%A9",
    "+",
    "types",
    "types[]",
    "types[0]",
    "types[a]",
    "types[][]",
    "types[0][1][2][3][4][5]",
    "resolve",
    "limit",
    "q",
    "max_id",
    "since_id",
    "min_id",
    "timeline[]",
    "local",
    "offset",
    "grant_type",
    "fields_attributes[0][name]",
    "true",
    "false",
    "1",
    "0",
    "on",
    "yes",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e3",
    "0x10",
    "{",
    "}",
    ":",
    ",",
    "\"",
    "null",
    "[1,2]",
    "{\"types\":",
    "\"limit\":",
    "\"resolve\":",
    " ",
    "\n",
];

/// Well-formed parameters, each written in one of the ways apps write it.
#[derive(Debug, TypeGenerator)]
struct Written {
    types: Vec<u8>,
    list_style: u8,
    resolve: Option<(bool, u8)>,
    limit: Option<(i64, bool)>,
    q: Option<String>,
    json: bool,
}

const TYPES: &[&str] = &[
    "mention",
    "follow",
    "favourite",
    "reblog",
    "poll",
    "status",
    "a b",
    "é&=?",
];
const TRUE: &[&str] = &["true", "1", "on", "yes", "t", "TRUE", "True"];
const FALSE: &[&str] = &["false", "0", "off", "no", "f", "FALSE"];

impl Written {
    fn expected(&self) -> Params {
        Params {
            types: self.type_list(),
            resolve: self.resolve.map(|(b, _)| b),
            limit: self.limit.map(|(n, _)| n),
            q: self.q.clone().filter(|q| !q.is_empty()),
        }
    }

    fn type_list(&self) -> Vec<String> {
        self.types
            .iter()
            .take(12)
            .map(|t| TYPES[*t as usize % TYPES.len()].to_string())
            .collect()
    }

    fn bool_word(&self) -> Option<&'static str> {
        self.resolve.map(|(b, i)| {
            let words = if b { TRUE } else { FALSE };
            words[i as usize % words.len()]
        })
    }

    fn query(&self) -> String {
        let mut s = Serializer::new(String::new());
        let types = self.type_list();
        match (self.list_style % 3, types.len()) {
            (_, 0) => {}
            (0, 1) => {
                s.append_pair("types", &types[0]);
            }
            (1, _) => {
                for (i, t) in types.iter().enumerate() {
                    s.append_pair(&format!("types[{i}]"), t);
                }
            }
            _ => {
                for t in &types {
                    s.append_pair("types[]", t);
                }
            }
        }
        if let Some(word) = self.bool_word() {
            s.append_pair("resolve", word);
        }
        if let Some((n, _)) = self.limit {
            s.append_pair("limit", &n.to_string());
        }
        if let Some(q) = self.q.as_ref().filter(|q| !q.is_empty()) {
            s.append_pair("q", q);
        }
        s.finish()
    }

    fn json(&self) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        let types = self.type_list();
        if !types.is_empty() {
            body.insert(
                "types".into(),
                if types.len() == 1 && self.list_style.is_multiple_of(2) {
                    json!(types[0])
                } else {
                    json!(types)
                },
            );
        }
        if let Some((b, i)) = self.resolve {
            body.insert(
                "resolve".into(),
                match i % 3 {
                    0 => json!(b),
                    1 => json!(u8::from(b)),
                    _ => json!(self.bool_word()),
                },
            );
        }
        if let Some((n, as_string)) = self.limit {
            body.insert(
                "limit".into(),
                if as_string {
                    json!(n.to_string())
                } else {
                    json!(n)
                },
            );
        }
        if let Some(q) = self.q.as_ref().filter(|q| !q.is_empty()) {
            body.insert("q".into(), json!(q));
        }
        serde_json::to_vec(&body).unwrap()
    }
}

#[derive(Debug, TypeGenerator)]
enum ParamsInput {
    Text(Input),
    Written(Written),
    /// A `limit` that is not a number or a `resolve` that is not a boolean.
    Bad(String, bool),
}

/// Arbitrary input: every parser returns, `Err` or `Ok`, and what parses
/// keeps the endpoints' own limits.
fn check_any(text: &str) {
    let _ = parse_qs::<Params>(text);
    let _ = serde_json::from_str::<Params>(text);
    if let Ok(page) = parse_qs::<PageParams>(text) {
        let limit = page.page(20, 40).limit;
        assert!((1..=40).contains(&limit), "{text:?}: limit {limit}");
    }
    let _ = serde_json::from_str::<PageParams>(text);
    let _ = parse_qs::<MarkerQuery>(text);
    let _ = parse_qs::<DirectoryQuery>(text);
    let _ = parse_qs::<TokenParams>(text);
    let _ = serde_json::from_str::<TokenParams>(text);
}

#[test]
fn fuzz_client_params() {
    let tally = Tally::new("client-API parameters");
    let words = words(QS_WORDS);
    bolero::check!()
        .with_type::<ParamsInput>()
        .with_max_len(MAX_LEN)
        .with_iterations(cases(10_000))
        .for_each(|input| {
            tally.tick();
            match input {
                ParamsInput::Text(input) => check_any(&input.text(&words)),
                ParamsInput::Written(w) => {
                    let expected = w.expected();
                    let (got, written) = if w.json {
                        let body = w.json();
                        let text = String::from_utf8_lossy(&body).into_owned();
                        (
                            serde_json::from_slice::<Params>(&body).map_err(|e| e.to_string()),
                            text,
                        )
                    } else {
                        let query = w.query();
                        (parse_qs::<Params>(&query).map_err(|e| e.to_string()), query)
                    };
                    assert_eq!(got, Ok(expected), "{written:?}");
                }
                ParamsInput::Bad(value, is_limit) => {
                    let value = value.trim();
                    let (key, bad) = if *is_limit {
                        ("limit", !value.is_empty() && value.parse::<i64>().is_err())
                    } else {
                        let lower = value.to_ascii_lowercase();
                        (
                            "resolve",
                            !lower.is_empty()
                                && !TRUE
                                    .iter()
                                    .chain(FALSE)
                                    .any(|w| w.eq_ignore_ascii_case(&lower)),
                        )
                    };
                    if bad {
                        let query = Serializer::new(String::new())
                            .append_pair(key, value)
                            .finish();
                        assert!(
                            parse_qs::<Params>(&query).is_err(),
                            "{query:?} was accepted"
                        );
                        let body = json!({ key: value }).to_string();
                        assert!(
                            serde_json::from_str::<Params>(&body).is_err(),
                            "{body} was accepted"
                        );
                    }
                }
            }
        });
}
