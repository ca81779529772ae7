//! The verifier against requests signed here with openssl, both schemes.

use super::*;
use actix_web::http::header::{HeaderName, HeaderValue};
use openssl::{pkey::Private, sign::Signer};

const AUTHORITY: &str = "alpha.localhost:8080";
const TARGET: &str = "/users/alice/inbox";
const BODY: &[u8] = br#"{"type":"Follow"}"#;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_633_600, 0).unwrap()
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn keys() -> (PKey<Private>, String) {
    let pair = crate::crypto::generate_keypair().unwrap();
    (
        PKey::private_key_from_pem(pair.private_key_pem.as_bytes()).unwrap(),
        pair.public_key_pem,
    )
}

fn sign(key: &PKey<Private>, text: &str) -> Vec<u8> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(text.as_bytes()).unwrap();
    signer.sign_to_vec().unwrap()
}

fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn view<'a>(method: &'a str, headers: &'a HeaderMap) -> RequestView<'a> {
    RequestView {
        method,
        target: TARGET,
        headers,
        scheme: "http",
        authority: AUTHORITY,
    }
}

fn sha256_b64(body: &[u8]) -> String {
    openssl::base64::encode_block(&openssl::sha::sha256(body))
}

/// A cavage-signed POST covering `covered`, dated `date`.
fn cavage_post(key: &PKey<Private>, covered: &str, date: DateTime<Utc>) -> HeaderMap {
    let date = http_date(date);
    let digest = format!("SHA-256={}", sha256_b64(BODY));
    let lines: Vec<String> = covered
        .split(' ')
        .map(|name| match name {
            "(request-target)" => format!("(request-target): post {TARGET}"),
            "host" => format!("host: {AUTHORITY}"),
            "date" => format!("date: {date}"),
            "digest" => format!("digest: {digest}"),
            other => panic!("{other}"),
        })
        .collect();
    let signature = openssl::base64::encode_block(&sign(key, &lines.join("\n")));
    headers(&[
        ("host", AUTHORITY.into()),
        ("date", date),
        ("digest", digest),
        (
            "signature",
            format!(
                r#"keyId="http://beta.localhost/users/bob#main-key",algorithm="rsa-sha256",headers="{covered}",signature="{signature}""#
            ),
        ),
    ])
}

fn check_cavage(headers: &HeaderMap, public: &str) -> Result<()> {
    let prepared = prepare(&view("POST", headers), Some(BODY), now())?;
    assert_eq!(prepared.scheme, Scheme::Cavage);
    if verifies(public, &prepared) {
        Ok(())
    } else {
        Err(Error::unauthorized("does not verify"))
    }
}

#[test]
fn cavage_posts_must_cover_date_and_digest() {
    let (key, public) = keys();
    let full = "(request-target) host date digest";
    check_cavage(&cavage_post(&key, full, now()), &public).unwrap();
    for partial in ["(request-target) host digest", "(request-target) host date"] {
        let err = check_cavage(&cavage_post(&key, partial, now()), &public).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unauthorized, "{partial}");
        assert!(err.safe_message().contains("must cover"), "{err}");
    }
}

#[test]
fn cavage_dates_are_checked_against_the_window() {
    let (key, public) = keys();
    let full = "(request-target) host date digest";
    let two_hours_old = cavage_post(&key, full, now() - TimeDelta::hours(2));
    check_cavage(&two_hours_old, &public).unwrap();
    for (date, reason) in [
        (now() - TimeDelta::hours(13), "12 hours old"),
        (now() + TimeDelta::hours(2), "in the future"),
    ] {
        let err = check_cavage(&cavage_post(&key, full, date), &public).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unauthorized);
        assert!(err.safe_message().contains(reason), "{err}");
    }
}

#[test]
fn cavage_tampering_is_detected() {
    let (key, public) = keys();
    let headers = cavage_post(&key, "(request-target) host date digest", now());
    let prepared = prepare(&view("POST", &headers), Some(b"{}"), now());
    assert!(prepared.unwrap_err().safe_message().contains("Digest"));
    let prepared = prepare(&view("PUT", &headers), Some(BODY), now()).unwrap();
    assert!(!verifies(&public, &prepared));
    let (_, other) = keys();
    let prepared = prepare(&view("POST", &headers), Some(BODY), now()).unwrap();
    assert!(!verifies(&other, &prepared));
}

/// An RFC 9421 request as Fedify signs it.
fn rfc9421_request(
    key: &PKey<Private>,
    method: &str,
    components: &[&str],
    created: DateTime<Utc>,
    alg: Option<&str>,
) -> HeaderMap {
    let date = http_date(created);
    let digest = format!("sha-256=:{}:", sha256_b64(BODY));
    let quoted: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
    let alg = alg.map_or(String::new(), |a| format!(r#";alg="{a}""#));
    let params = format!(
        r#"({}){alg};keyid="http://beta.localhost/users/bob#main-key";created={}"#,
        quoted.join(" "),
        created.timestamp()
    );
    let mut base = String::new();
    for component in components {
        let value = match *component {
            "@method" => method.to_string(),
            "@target-uri" => format!("http://{AUTHORITY}{TARGET}"),
            "@authority" => AUTHORITY.to_string(),
            "@path" => TARGET.to_string(),
            "host" => AUTHORITY.to_string(),
            "date" => date.clone(),
            "content-digest" => digest.clone(),
            other => panic!("{other}"),
        };
        base.push_str(&format!("\"{component}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    let signature = openssl::base64::encode_block(&sign(key, &base));
    headers(&[
        ("host", AUTHORITY.into()),
        ("date", date),
        ("content-digest", digest),
        ("signature-input", format!("sig1={params}")),
        ("signature", format!("sig1=:{signature}:")),
    ])
}

const FEDIFY: &[&str] = &[
    "@method",
    "@target-uri",
    "@authority",
    "host",
    "date",
    "content-digest",
];

fn check_rfc9421(
    method: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    public: &str,
) -> Result<()> {
    let prepared = prepare(&view(method, headers), body, now())?;
    assert_eq!(prepared.scheme, Scheme::Rfc9421);
    if verifies(public, &prepared) {
        Ok(())
    } else {
        Err(Error::unauthorized("does not verify"))
    }
}

#[test]
fn rfc9421_posts_and_gets_verify() {
    let (key, public) = keys();
    let post = rfc9421_request(&key, "POST", FEDIFY, now(), Some("rsa-v1_5-sha256"));
    check_rfc9421("POST", &post, Some(BODY), &public).unwrap();
    // No alg: derived from the (RSA) key.
    let post = rfc9421_request(&key, "POST", FEDIFY, now(), None);
    check_rfc9421("POST", &post, Some(BODY), &public).unwrap();
    // @authority + @path instead of @target-uri; a GET needs no digest.
    let get = rfc9421_request(
        &key,
        "GET",
        &["@method", "@authority", "@path", "date"],
        now(),
        None,
    );
    check_rfc9421("GET", &get, None, &public).unwrap();
    // The same signature on another method does not verify.
    assert!(check_rfc9421("PUT", &post, Some(BODY), &public).is_err());
}

#[test]
fn rfc9421_refusals_name_their_reason() {
    let (key, public) = keys();
    let post = rfc9421_request(&key, "POST", FEDIFY, now(), None);
    let err = check_rfc9421("POST", &post, Some(b"{}"), &public).unwrap_err();
    assert!(err.safe_message().contains("Content-Digest"), "{err}");
    let no_digest = rfc9421_request(&key, "POST", &FEDIFY[..5], now(), None);
    let err = check_rfc9421("POST", &no_digest, Some(BODY), &public).unwrap_err();
    assert!(err.safe_message().contains("content-digest"), "{err}");
    let stale = rfc9421_request(&key, "POST", FEDIFY, now() - TimeDelta::hours(13), None);
    let err = check_rfc9421("POST", &stale, Some(BODY), &public).unwrap_err();
    assert!(err.safe_message().contains("12 hours"), "{err}");
    let no_target = rfc9421_request(&key, "GET", &["@method", "host", "date"], now(), None);
    let err = check_rfc9421("GET", &no_target, None, &public).unwrap_err();
    assert!(err.safe_message().contains("@target-uri"), "{err}");
    let unknown = rfc9421_request(&key, "POST", FEDIFY, now(), Some("hmac-sha256"));
    let err = check_rfc9421("POST", &unknown, Some(BODY), &public).unwrap_err();
    assert!(err.safe_message().contains("algorithm"), "{err}");
}

#[test]
fn rfc9421_is_preferred_over_cavage() {
    let (key, public) = keys();
    let mut both = rfc9421_request(&key, "POST", FEDIFY, now(), None);
    let cavage = cavage_post(&key, "(request-target) host date digest", now());
    both.insert(
        HeaderName::from_static("digest"),
        cavage.get("digest").unwrap().clone(),
    );
    check_rfc9421("POST", &both, Some(BODY), &public).unwrap();
}

#[test]
fn rsa_pss_sha512_and_ed25519_verify() {
    let (key, public) = keys();
    let base = "\"@method\": GET\n\"@signature-params\": (\"@method\")";
    let mut signer = Signer::new(MessageDigest::sha512(), &key).unwrap();
    signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
    signer.set_rsa_mgf1_md(MessageDigest::sha512()).unwrap();
    signer
        .set_rsa_pss_saltlen(RsaPssSaltlen::custom(64))
        .unwrap();
    signer.update(base.as_bytes()).unwrap();
    let mut prepared = Prepared {
        key_id: String::new(),
        algorithm: Algorithm::RsaPssSha512,
        signature: signer.sign_to_vec().unwrap(),
        base: base.to_string(),
        scheme: Scheme::Rfc9421,
    };
    assert!(verifies(&public, &prepared));
    prepared.algorithm = Algorithm::RsaSha256;
    assert!(!verifies(&public, &prepared));

    let ed = PKey::generate_ed25519().unwrap();
    let ed_public = String::from_utf8(ed.public_key_to_pem().unwrap()).unwrap();
    let mut signer = Signer::new_without_digest(&ed).unwrap();
    prepared.signature = signer.sign_oneshot_to_vec(base.as_bytes()).unwrap();
    prepared.algorithm = Algorithm::FromKey;
    assert!(verifies(&ed_public, &prepared));
    // An Ed25519 signature never verifies against an RSA key, and back.
    assert!(!verifies(&public, &prepared));
}

#[test]
fn key_documents_name_their_owner() {
    let key = "https://gts.example/users/x/main-key";
    let stub = serde_json::json!({
        "id": "https://gts.example/users/x",
        "type": "Person",
        "publicKey": {"id": key, "owner": "https://gts.example/users/x", "publicKeyPem": "…"},
    });
    assert_eq!(
        owner_in_key_document(&stub, key).unwrap().as_str(),
        "https://gts.example/users/x"
    );
    let standalone = serde_json::json!({"id": key, "owner": "https://gts.example/users/x"});
    assert!(owner_in_key_document(&standalone, key).is_some());
    // A document about another key names nobody.
    assert!(owner_in_key_document(&stub, "https://gts.example/users/y/main-key").is_none());
}

#[test]
fn repeated_headers_are_joined() {
    let map = headers(&[("x-a", "1".into()), ("x-a", " 2 ".into())]);
    assert_eq!(header_value(&map, "x-a").unwrap(), "1, 2");
    assert!(header_value(&map, "x-b").is_none());
}
