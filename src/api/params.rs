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
    qs_config()
        .deserialize_str(&collapse_list_brackets(input))
        .map_err(invalid)
}

/// `key[][]=v` read as `key[]=v`, as Rails reads it. Mastodon.py appends
/// `[]` to every list parameter, also to one its caller already named
/// `id[]` (`dismiss_multiple_notification_requests`), and the bracket
/// parser would refuse the doubled form. Input without it passes as is.
fn collapse_list_brackets(input: &str) -> std::borrow::Cow<'_, str> {
    let lower = input.to_ascii_lowercase();
    if !lower.contains("[][]") && !lower.contains("%5b%5d%5b%5d") {
        return input.into();
    }
    let pairs = url::form_urlencoded::parse(input.as_bytes()).map(|(key, value)| {
        let mut key = key.into_owned();
        while key.ends_with("[][]") {
            key.truncate(key.len() - 2);
        }
        (key, value)
    });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into()
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
        let is_multipart = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if is_multipart {
            let multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
            return Box::pin(async move {
                let pairs = multipart_fields(multipart).await?;
                let encoded = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                parse_qs(&encoded).map(Form)
            });
        }
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
            let text = std::str::from_utf8(&body).map_err(invalid)?;
            parse_qs(text).map(Form)
        })
    }
}

/// Largest text field of a multipart body.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The text fields of a `multipart/form-data` body (Tusky sends profile
/// edits so). File parts are refused here: the endpoints that take files
/// (media uploads, `update_credentials`) read them with
/// `api::media::read_multipart`.
async fn multipart_fields(
    mut multipart: actix_multipart::Multipart,
) -> Result<Vec<(String, String)>, Error> {
    use futures_util::StreamExt;
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::BadRequest,
            format!("unreadable multipart body: {e}"),
        )
    };
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| bad(&e))?;
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .is_some();
        let value = field
            .bytes(MAX_FIELD_BYTES)
            .await
            .map_err(|_| Error::new(ErrorKind::PayloadTooLarge, "a multipart field is too large"))?
            .map_err(|e| bad(&e))?;
        if is_file {
            if value.is_empty() {
                continue;
            }
            return Err(Error::unprocessable(format!(
                "`{name}`: media uploads are not supported"
            )));
        }
        let text = String::from_utf8(value.to_vec())
            .map_err(|_| Error::unprocessable(format!("`{name}` is not UTF-8 text")))?;
        pairs.push((name, text));
    }
    Ok(pairs)
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
        // Mastodon.py's doubled brackets, raw and encoded.
        let p: P = parse_qs("types[][]=mention&types%5B%5D%5B%5D=follow").unwrap();
        assert_eq!(p.types, vec!["mention", "follow"]);
    }
}
