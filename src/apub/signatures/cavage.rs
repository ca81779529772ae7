//! draft-cavage HTTP Signatures (`Signature: keyId="…",headers="…",…`), as
//! Mastodon, Pleroma, Lemmy, GoToSocial and Fedify send them.
//!
//! A signature must cover `(request-target)`, `host`, and `date` or
//! `(created)`; on a request with a body also `digest`, whose value must
//! match the body. What the covered timestamps say is checked against the
//! window of the parent module.

use super::{check_window, header_value, Algorithm, ParseError, Prepared, RequestView};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};

/// The parameters of a draft-cavage `Signature` header, borrowed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CavageSignature<'a> {
    pub key_id: &'a str,
    pub algorithm: Option<&'a str>,
    /// The `headers` parameter as sent (space-separated names); the draft's
    /// default is `date`.
    pub headers: Option<&'a str>,
    pub signature: &'a str,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

impl<'a> CavageSignature<'a> {
    /// The covered names in signing order.
    pub fn covered(&self) -> impl Iterator<Item = &'a str> {
        self.headers.unwrap_or("date").split_ascii_whitespace()
    }

    fn covers(&self, name: &str) -> bool {
        self.covered().any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Parses a draft-cavage `Signature` header: comma-separated `name=value`
/// pairs whose values are quoted strings (or bare integers for `created`
/// and `expires`). Unknown parameters are ignored, a repeated one refused.
/// Public so the fuzz targets can call it; never panics.
pub fn parse_signature(value: &str) -> Result<CavageSignature<'_>, ParseError> {
    let (mut key_id, mut algorithm, mut headers, mut signature) = (None, None, None, None);
    let (mut created, mut expires) = (None, None);
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or(ParseError("a Signature parameter has no value"))?;
        let name = name.trim();
        let after = after.trim_start();
        let (param, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or(ParseError("unterminated quoted string in Signature"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        let mut ignored = None;
        let slot = match name {
            "keyId" => &mut key_id,
            "algorithm" => &mut algorithm,
            "headers" => &mut headers,
            "signature" => &mut signature,
            "created" => &mut created,
            "expires" => &mut expires,
            _ => &mut ignored,
        };
        if slot.replace(param).is_some() {
            return Err(ParseError("a Signature parameter is repeated"));
        }
        rest = tail.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err(ParseError(
                "Signature parameters must be separated by commas",
            ));
        }
    }
    let timestamp = |v: Option<&str>| {
        v.map(|v| {
            v.parse::<i64>()
                .map_err(|_| ParseError("created/expires must be integers"))
        })
        .transpose()
    };
    Ok(CavageSignature {
        key_id: key_id.ok_or(ParseError("the Signature has no keyId"))?,
        algorithm,
        headers,
        signature: signature.ok_or(ParseError("the Signature has no signature"))?,
        created: timestamp(created)?,
        expires: timestamp(expires)?,
    })
}

/// Checks a `Digest` header (RFC 3230: `SHA-256=…`, optionally also
/// `SHA-512=…`, comma-separated) against `body`: at least one digest we
/// know, and every one we know must match. Never panics.
pub fn check_digest(header: &str, body: &[u8]) -> Result<(), ParseError> {
    let mut checked = false;
    for part in header.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else {
            return Err(ParseError("malformed Digest header"));
        };
        let expected = if name.eq_ignore_ascii_case("SHA-256") {
            openssl::base64::encode_block(&openssl::sha::sha256(body))
        } else if name.eq_ignore_ascii_case("SHA-512") {
            openssl::base64::encode_block(&openssl::sha::sha512(body))
        } else {
            continue;
        };
        if value.trim() != expected {
            return Err(ParseError("the Digest does not match the body"));
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(ParseError("the Digest has no SHA-256 or SHA-512 value"))
    }
}

/// Reads, checks and rebuilds a draft-cavage signature of `view`.
pub(super) fn prepare(
    view: &RequestView<'_>,
    header: &str,
    body: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let parsed = parse_signature(header).map_err(ParseError::unauthorized)?;
    let mut required: &[&str] = &["(request-target)", "host"];
    if body.is_some() {
        required = &["(request-target)", "host", "digest"];
    }
    for name in required {
        if !parsed.covers(name) {
            return Err(Error::unauthorized(format!(
                "the signature must cover {name}"
            )));
        }
    }
    let covers_date = parsed.covers("date");
    let covers_created = parsed.covers("(created)");
    if !covers_date && !covers_created {
        return Err(Error::unauthorized(
            "the signature must cover date or (created)",
        ));
    }
    if covers_date {
        let value = view
            .headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::unauthorized("missing Date header"))?;
        let date = DateTime::parse_from_rfc2822(value)
            .map_err(|_| Error::unauthorized("unreadable Date header"))?
            .with_timezone(&Utc);
        check_window("Date", date, None, now)?;
    }
    if covers_created || parsed.created.is_some() || parsed.expires.is_some() {
        let created = match parsed.created {
            Some(secs) => Some(
                DateTime::from_timestamp(secs, 0)
                    .ok_or_else(|| Error::unauthorized("created is out of range"))?,
            ),
            None if covers_created => {
                return Err(Error::unauthorized(
                    "the signature covers (created) but has no created parameter",
                ))
            }
            None => None,
        };
        let expires = super::expires_at(parsed.expires)?;
        if let Some(created) = created {
            check_window("created", created, expires, now)?;
        } else if let Some(expires) = expires {
            super::check_expires(expires, now)?;
        }
    }
    if let Some(body) = body {
        let digest = view
            .headers
            .get("digest")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::unauthorized("missing Digest header"))?;
        check_digest(digest, body).map_err(ParseError::unauthorized)?;
    }

    let mut base = String::with_capacity(256);
    for (i, name) in parsed.covered().enumerate() {
        if i > 0 {
            base.push('\n');
        }
        for c in name.chars() {
            base.push(c.to_ascii_lowercase());
        }
        base.push_str(": ");
        if name.eq_ignore_ascii_case("(request-target)") {
            for c in view.method.chars() {
                base.push(c.to_ascii_lowercase());
            }
            base.push(' ');
            base.push_str(view.target);
        } else if name.eq_ignore_ascii_case("(created)") {
            base.push_str(&parsed.created.unwrap_or_default().to_string());
        } else if name.eq_ignore_ascii_case("(expires)") {
            let expires = parsed.expires.ok_or_else(|| {
                Error::unauthorized("the signature covers (expires) but has no expires parameter")
            })?;
            base.push_str(&expires.to_string());
        } else {
            let value = header_value(view.headers, name).ok_or_else(|| {
                Error::unauthorized(format!("the signed header {name} is missing"))
            })?;
            base.push_str(&value);
        }
    }
    let algorithm = match parsed.algorithm.map(str::to_ascii_lowercase).as_deref() {
        // hs2019 leaves the algorithm to the key; RSA keys mean
        // RSASSA-PKCS1-v1_5 with SHA-256, as every fediverse server signs.
        None | Some("hs2019") => Algorithm::FromKey,
        Some("rsa-sha256") => Algorithm::RsaSha256,
        Some("rsa-sha512") => Algorithm::RsaSha512,
        Some("ed25519") => Algorithm::Ed25519,
        Some(_) => return Err(Error::unauthorized("unsupported signature algorithm")),
    };
    let signature = openssl::base64::decode_block(parsed.signature)
        .map_err(|_| Error::unauthorized("the signature is not base64"))?;
    Ok(Prepared {
        key_id: parsed.key_id.to_string(),
        algorithm,
        signature,
        base,
        scheme: super::Scheme::Cavage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mastodon_and_hs2019_headers() {
        let parsed = parse_signature(
            r#"keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2ln""#,
        )
        .unwrap();
        assert_eq!(parsed.key_id, "https://a.example/users/x#main-key");
        assert_eq!(parsed.algorithm, Some("rsa-sha256"));
        assert_eq!(
            parsed.covered().collect::<Vec<_>>(),
            ["(request-target)", "host", "date", "digest"]
        );
        let parsed = parse_signature(
            r#"keyId="k", algorithm="hs2019", created=1402170695, expires=1402170995, headers="(request-target) (created) host", signature="c2ln""#,
        )
        .unwrap();
        assert_eq!(parsed.created, Some(1_402_170_695));
        assert_eq!(parsed.expires, Some(1_402_170_995));
        // A keyId with a comma inside its quotes stays whole.
        let parsed = parse_signature(r#"keyId="a,b",signature="x""#).unwrap();
        assert_eq!(parsed.key_id, "a,b");
        assert_eq!(parsed.covered().collect::<Vec<_>>(), ["date"]);
    }

    #[test]
    fn refuses_malformed_headers() {
        for bad in [
            "",
            "keyId",
            r#"keyId="k""#,
            r#"signature="s""#,
            r#"keyId="k,signature="s""#,
            r#"keyId="k" signature="s""#,
            r#"keyId="k",keyId="j",signature="s""#,
            r#"keyId="k",signature="s",created=soon"#,
        ] {
            assert!(parse_signature(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_are_checked() {
        let body = b"{}";
        let sha256 = openssl::base64::encode_block(&openssl::sha::sha256(body));
        let sha512 = openssl::base64::encode_block(&openssl::sha::sha512(body));
        assert!(check_digest(&format!("SHA-256={sha256}"), body).is_ok());
        assert!(check_digest(&format!("sha-256={sha256},SHA-512={sha512}"), body).is_ok());
        assert!(check_digest(&format!("SHA-256={sha256},SHA-512={sha256}"), body).is_err());
        assert!(check_digest(&format!("SHA-256={sha256}"), b"[]").is_err());
        assert!(check_digest("MD5=abc", body).is_err());
        assert!(check_digest("nonsense", body).is_err());
    }
}
