//! Request parameters as Mastodon clients send them: JSON bodies,
//! form-encoded bodies and query strings with Rails-style brackets
//! (`types[]=mention&types[]=follow`, `fields_attributes[0][name]=…`).
//! Apps differ in which they use, so every endpoint accepts all three.

use crate::error::{Error, ErrorKind};
use actix_web::{dev::Payload, web::Bytes, FromRequest, HttpRequest};
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use std::{future::Future, pin::Pin};

/// Parameters from the body (JSON or form-encoded), falling back to the
/// query string when the body is empty.
pub struct Form<T>(pub T);

/// Parameters from the query string.
pub struct Query<T>(pub T);

fn qs_config() -> serde_qs::Config {
    serde_qs::Config::new().max_depth(5).use_form_encoding(true)
}

fn invalid(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unprocessable, format!("invalid parameters: {e}"))
}

/// Parses a query string (or form body) into `T`.
pub fn parse_qs<T: DeserializeOwned>(input: &str) -> Result<T, Error> {
    qs_config().deserialize_str(input).map_err(invalid)
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_qs(req.query_string()).map(Query))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                Error::new(ErrorKind::PayloadTooLarge, format!("unreadable body: {e}"))
            })?;
            let content_type = req
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            if body.iter().all(u8::is_ascii_whitespace) {
                return parse_qs(req.query_string()).map(Form);
            }
            if content_type.starts_with("application/json") {
                return serde_json::from_slice(&body).map(Form).map_err(invalid);
            }
            if content_type.starts_with("multipart/") {
                return Err(Error::new(
                    ErrorKind::Unprocessable,
                    "multipart bodies are not supported: send JSON or form-encoded parameters",
                ));
            }
            let text = std::str::from_utf8(&body).map_err(invalid)?;
            parse_qs(text).map(Form)
        })
    }
}

/// A boolean as apps send it: `true`, `"true"`, `"1"`, `"on"`…
pub fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Str(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::Bool(b)) => Some(b),
        Some(Raw::Int(i)) => Some(i != 0),
        Some(Raw::Str(s)) => match s.to_ascii_lowercase().as_str() {
            "" => None,
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "false" | "0" | "off" | "no" | "f" => Some(false),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a boolean, got `{other}`"
                )))
            }
        },
    })
}

/// A list given as repeated `key[]=`, as indexed `key[0]=`, as a JSON array
/// or as a single value.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
        Indexed(std::collections::BTreeMap<String, String>),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => Vec::new(),
        Some(Raw::One(s)) => vec![s],
        Some(Raw::Many(v)) => v,
        Some(Raw::Indexed(m)) => m.into_values().collect(),
    })
}

/// A number given as a number or a string.
pub fn flexible_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Str(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Int(i)) => Ok(Some(i)),
        Some(Raw::Str(s)) if s.is_empty() => Ok(None),
        Some(Raw::Str(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got `{s}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct P {
        #[serde(default, deserialize_with = "one_or_many")]
        types: Vec<String>,
        #[serde(default, deserialize_with = "flexible_bool")]
        resolve: Option<bool>,
        #[serde(default, deserialize_with = "flexible_i64")]
        limit: Option<i64>,
    }

    #[test]
    fn brackets_and_strings() {
        let p: P = parse_qs("types%5B%5D=mention&types[]=follow&resolve=1&limit=5").unwrap();
        assert_eq!(p.types, vec!["mention", "follow"]);
        assert_eq!(p.resolve, Some(true));
        assert_eq!(p.limit, Some(5));
        let p: P = parse_qs("types=mention&resolve=false").unwrap();
        assert_eq!(p.types, vec!["mention"]);
        assert_eq!(p.resolve, Some(false));
        let p: P = parse_qs("").unwrap();
        assert!(p.types.is_empty() && p.resolve.is_none() && p.limit.is_none());
        assert!(parse_qs::<P>("limit=abc").is_err());
    }
}
