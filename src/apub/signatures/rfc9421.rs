//! RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`), as
//! Mastodon 4.5 and Fedify 1.6+ send them, with RFC 9530 `Content-Digest`.
//!
//! Both headers are Structured Field dictionaries (RFC 8941), parsed with
//! `sfv`. A signature must cover `@method` and the target (`@target-uri`,
//! or `@authority` with `@path` or `@request-target`), on a request with a
//! body also `content-digest`, and carry a `created` parameter inside the
//! window of the parent module. Component parameters (`;sf`, `;key`, `;req`,
//! …) are not supported: no fediverse server uses them, and refusing them is
//! safer than half-supporting them.

use super::{check_window, header_value, Algorithm, ParseError, Prepared, RequestView};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use sfv::{BareItem, Dictionary, ListEntry, Parser};

/// One signature of a request: the first label of `Signature-Input` that
/// also has a value in `Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc9421Signature {
    pub label: String,
    /// Covered component names, in order (lower-case field names or
    /// `@`-derived components).
    pub components: Vec<String>,
    /// The `@signature-params` line: the inner list re-serialized as RFC 9421
    /// §2.3 says.
    pub params: String,
    pub key_id: String,
    pub alg: Option<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub signature: Vec<u8>,
}

impl Rfc9421Signature {
    fn covers(&self, name: &str) -> bool {
        self.components.iter().any(|c| c == name)
    }
}

/// Parses `Signature-Input` and `Signature`. Public so the fuzz targets can
/// call it; never panics.
pub fn parse(signature_input: &str, signature: &str) -> Result<Rfc9421Signature, ParseError> {
    let inputs: Dictionary = Parser::new(signature_input)
        .parse()
        .map_err(|_| ParseError("Signature-Input is not a structured dictionary"))?;
    let values: Dictionary = Parser::new(signature)
        .parse()
        .map_err(|_| ParseError("Signature is not a structured dictionary"))?;
    let (label, entry, bytes) = inputs
        .iter()
        .find_map(|(label, entry)| match values.get(label) {
            Some(ListEntry::Item(item)) => item
                .bare_item
                .as_byte_sequence()
                .map(|bytes| (label, entry, bytes)),
            _ => None,
        })
        .ok_or(ParseError(
            "no Signature-Input label has a byte-sequence Signature",
        ))?;
    let ListEntry::InnerList(list) = entry else {
        return Err(ParseError("a Signature-Input member must be an inner list"));
    };
    let mut components = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let Some(name) = item.bare_item.as_string() else {
            return Err(ParseError("covered components must be strings"));
        };
        if !item.params.is_empty() {
            return Err(ParseError("component parameters are not supported"));
        }
        let name = name.as_str();
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ParseError("component names must be lower case"));
        }
        if components.iter().any(|c: &String| c == name) {
            return Err(ParseError("a component is covered twice"));
        }
        components.push(name.to_string());
    }
    let (mut key_id, mut alg, mut created, mut expires) = (None, None, None, None);
    for (name, value) in &list.params {
        match name.as_str() {
            "keyid" => key_id = Some(string_param(value)?),
            "alg" => alg = Some(string_param(value)?),
            "created" => created = Some(integer_param(value)?),
            "expires" => expires = Some(integer_param(value)?),
            _ => {}
        }
    }
    let mut serializer = sfv::ListSerializer::new();
    serializer.members(std::iter::once(entry));
    let params = serializer
        .finish()
        .ok_or(ParseError("empty Signature-Input"))?;
    Ok(Rfc9421Signature {
        label: label.as_str().to_string(),
        components,
        params,
        key_id: key_id.ok_or(ParseError("the signature has no keyid parameter"))?,
        alg,
        created,
        expires,
        signature: bytes.to_vec(),
    })
}

fn string_param(value: &BareItem) -> Result<String, ParseError> {
    value
        .as_string()
        .map(|s| s.as_str().to_string())
        .ok_or(ParseError("keyid and alg must be strings"))
}

fn integer_param(value: &BareItem) -> Result<i64, ParseError> {
    value
        .as_integer()
        .map(i64::from)
        .ok_or(ParseError("created and expires must be integers"))
}

/// Checks an RFC 9530 `Content-Digest` (`sha-256=:…:, sha-512=:…:`) against
/// `body`: at least one digest we know, and every one we know must match.
/// Never panics.
pub fn check_content_digest(header: &str, body: &[u8]) -> Result<(), ParseError> {
    let digests: Dictionary = Parser::new(header)
        .parse()
        .map_err(|_| ParseError("Content-Digest is not a structured dictionary"))?;
    let mut checked = false;
    for (name, entry) in &digests {
        let matches = |value: &[u8]| match entry {
            ListEntry::Item(item) => item.bare_item.as_byte_sequence() == Some(value),
            ListEntry::InnerList(_) => false,
        };
        let ok = match name.as_str() {
            "sha-256" => matches(&openssl::sha::sha256(body)),
            "sha-512" => matches(&openssl::sha::sha512(body)),
            _ => continue,
        };
        if !ok {
            return Err(ParseError("the Content-Digest does not match the body"));
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(ParseError(
            "the Content-Digest has no sha-256 or sha-512 value",
        ))
    }
}

/// Reads, checks and rebuilds (RFC 9421 §2.5) the signature base of `view`.
pub(super) fn prepare(
    view: &RequestView<'_>,
    signature_input: &str,
    signature: &str,
    body: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let parsed = parse(signature_input, signature).map_err(ParseError::unauthorized)?;
    if !parsed.covers("@method") {
        return Err(Error::unauthorized("the signature must cover @method"));
    }
    let covers_target = parsed.covers("@target-uri")
        || (parsed.covers("@authority")
            && (parsed.covers("@path") || parsed.covers("@request-target")));
    if !covers_target {
        return Err(Error::unauthorized(
            "the signature must cover @target-uri (or @authority and @path)",
        ));
    }
    if body.is_some() && !parsed.covers("content-digest") {
        return Err(Error::unauthorized(
            "the signature must cover content-digest",
        ));
    }
    let created = parsed
        .created
        .ok_or_else(|| Error::unauthorized("the signature has no created parameter"))?;
    let created = DateTime::from_timestamp(created, 0)
        .ok_or_else(|| Error::unauthorized("created is out of range"))?;
    let expires = super::expires_at(parsed.expires)?;
    check_window("created", created, expires, now)?;
    if let Some(body) = body {
        let digest = view
            .headers
            .get("content-digest")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::unauthorized("missing Content-Digest header"))?;
        check_content_digest(digest, body).map_err(ParseError::unauthorized)?;
    }

    let (path, query) = view
        .target
        .split_once('?')
        .map_or((view.target, None), |(p, q)| (p, Some(q)));
    let mut base = String::with_capacity(384);
    for name in &parsed.components {
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        match name.as_str() {
            "@method" => base.push_str(view.method),
            "@target-uri" => {
                base.push_str(view.scheme);
                base.push_str("://");
                base.push_str(view.authority);
                base.push_str(view.target);
            }
            "@authority" => base.push_str(view.authority),
            "@scheme" => base.push_str(view.scheme),
            "@request-target" => base.push_str(view.target),
            "@path" => base.push_str(path),
            "@query" => {
                base.push('?');
                base.push_str(query.unwrap_or(""));
            }
            derived if derived.starts_with('@') => {
                return Err(Error::unauthorized(format!(
                    "unsupported derived component {derived}"
                )))
            }
            field => {
                let value = header_value(view.headers, field).ok_or_else(|| {
                    Error::unauthorized(format!("the signed header {field} is missing"))
                })?;
                base.push_str(&value);
            }
        }
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&parsed.params);
    let algorithm = match parsed.alg.as_deref() {
        None => Algorithm::FromKey,
        Some("rsa-v1_5-sha256") => Algorithm::RsaSha256,
        Some("rsa-pss-sha512") => Algorithm::RsaPssSha512,
        Some("ed25519") => Algorithm::Ed25519,
        Some(_) => return Err(Error::unauthorized("unsupported signature algorithm")),
    };
    Ok(Prepared {
        key_id: parsed.key_id,
        algorithm,
        signature: parsed.signature,
        base,
        scheme: super::Scheme::Rfc9421,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEDIFY_INPUT: &str = r#"sig1=("@method" "@target-uri" "@authority" "host" "date" "content-digest");alg="rsa-v1_5-sha256";keyid="https://peer.example/users/carol#main-key";created=1733100000"#;

    #[test]
    fn parses_what_fedify_sends() {
        let parsed = parse(FEDIFY_INPUT, "sig1=:c2lnbmF0dXJl:").unwrap();
        assert_eq!(parsed.label, "sig1");
        assert_eq!(
            parsed.components,
            [
                "@method",
                "@target-uri",
                "@authority",
                "host",
                "date",
                "content-digest"
            ]
        );
        assert_eq!(parsed.key_id, "https://peer.example/users/carol#main-key");
        assert_eq!(parsed.alg.as_deref(), Some("rsa-v1_5-sha256"));
        assert_eq!(parsed.created, Some(1_733_100_000));
        assert_eq!(parsed.signature, b"signature");
        // Re-serialized exactly as sent (the `@signature-params` line).
        assert_eq!(parsed.params, FEDIFY_INPUT.trim_start_matches("sig1="));
    }

    #[test]
    fn picks_the_label_that_has_a_signature() {
        let input = format!(r#"other=("@method");keyid="x";created=1, {FEDIFY_INPUT}"#);
        let parsed = parse(&input, "sig1=:AAAA:").unwrap();
        assert_eq!(parsed.label, "sig1");
    }

    #[test]
    fn refuses_malformed_input() {
        for (input, signature) in [
            ("", ""),
            ("sig1=(\"@method\")", "sig1=:AAAA:"),
            ("sig1=(\"@method\");created=1", "sig2=:AAAA:"),
            ("sig1=(\"@method\");keyid=\"k\"", "sig1=\"not bytes\""),
            ("sig1=\"@method\";keyid=\"k\"", "sig1=:AAAA:"),
            ("sig1=(\"@Method\");keyid=\"k\"", "sig1=:AAAA:"),
            ("sig1=(\"@method\";req);keyid=\"k\"", "sig1=:AAAA:"),
            ("sig1=(\"@method\" \"@method\");keyid=\"k\"", "sig1=:AAAA:"),
            ("sig1=(\"@method\");keyid=k", "sig1=:AAAA:"),
            (
                "sig1=(\"@method\");keyid=\"k\";created=\"1\"",
                "sig1=:AAAA:",
            ),
        ] {
            assert!(parse(input, signature).is_err(), "{input} / {signature}");
        }
    }

    #[test]
    fn content_digests_are_checked() {
        let body = b"{}";
        let sha256 = openssl::base64::encode_block(&openssl::sha::sha256(body));
        let sha512 = openssl::base64::encode_block(&openssl::sha::sha512(body));
        assert!(check_content_digest(&format!("sha-256=:{sha256}:"), body).is_ok());
        assert!(
            check_content_digest(&format!("sha-512=:{sha512}:, sha-256=:{sha256}:"), body).is_ok()
        );
        assert!(
            check_content_digest(&format!("sha-256=:{sha256}:, sha-512=:{sha256}:"), body).is_err()
        );
        assert!(check_content_digest(&format!("sha-256=:{sha256}:"), b"[]").is_err());
        assert!(check_content_digest("md5=:AAAA:", body).is_err());
        assert!(check_content_digest("not a dictionary (", body).is_err());
    }
}
