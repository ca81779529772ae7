//! Signature header parsing as the inbox and signed GETs do it
//! (`apub::signatures`): draft-cavage `Signature` headers as Mastodon sends
//! them, RFC 9421 `Signature-Input` + `Signature` as Mastodon 4.5 and
//! Fedify send them, and the `Digest` / `Content-Digest` checks.

use crate::{cases, words, Input, Tally, MAX_LEN};
use bolero::generator::TypeGenerator;
use outloud::apub::signatures::{cavage, rfc9421};

const SIGNATURE_WORDS: &[&str] = &[
    "keyId",
    "algorithm",
    "headers",
    "signature",
    "created",
    "expires",
    "=",
    "\"",
    ",",
    " ",
    "\t",
    "\"https://a.example/users/ana#main-key\"",
    "\"rsa-sha256\"",
    "\"hs2019\"",
    "\"(request-target) host date digest\"",
    "\"\"",
    "\"abc+/=\"",
    "keyId=\"",
    "signature=\"",
    "headers=\"",
    "==",
    ",,",
    "\\\"",
    "sig1=(",
    "\"@method\"",
    "\"@target-uri\"",
    "\"content-digest\"",
    ");created=1700000000",
    ";keyid=\"https://a.example/k\"",
    ";alg=\"rsa-v1_5-sha256\"",
    "sig1=:",
    ":",
    "sha-256=:",
    "SHA-256=",
];

/// A well-formed header's parameters. Values are quoted strings without
/// `"` or `,` (real key ids are URLs; base64 has neither).
#[derive(Debug, TypeGenerator)]
struct Params {
    key_id: Vec<u8>,
    algorithm: Option<Vec<u8>>,
    headers: Option<Vec<Vec<u8>>>,
    signature: Vec<u8>,
    order: u8,
    spaces: bool,
}

const URL_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+;=%";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
const HEADER_NAMES: &[&str] = &[
    "(request-target)",
    "host",
    "date",
    "digest",
    "content-type",
    "Content-Length",
    "(created)",
    "accept",
    "X-Custom",
];

fn chars(bytes: &[u8], alphabet: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

#[derive(Debug, TypeGenerator)]
enum SignatureInput {
    Text(Input),
    WellFormed(Params),
    Rfc9421(Rfc9421Params),
}

fn check_well_formed(p: &Params) {
    let key_id = format!("https://a.example/{}", chars(&p.key_id, URL_CHARS));
    let algorithm = p
        .algorithm
        .as_ref()
        .map(|a| chars(a, b"abcdefghijklmnopqrstuvwxyz0123456789-"));
    let headers: Option<Vec<String>> = p.headers.as_ref().map(|hs| {
        hs.iter()
            .map(|h| {
                HEADER_NAMES[h.first().copied().unwrap_or(0) as usize % HEADER_NAMES.len()]
                    .to_string()
            })
            .collect()
    });
    let signature = chars(&p.signature, BASE64);
    let mut parts = vec![
        format!("keyId=\"{key_id}\""),
        format!("signature=\"{signature}\""),
    ];
    if let Some(a) = &algorithm {
        parts.push(format!("algorithm=\"{a}\""));
    }
    if let Some(h) = &headers {
        parts.push(format!("headers=\"{}\"", h.join(" ")));
    }
    // Parameter order is free.
    let turn = p.order as usize % parts.len();
    parts.rotate_left(turn);
    let header = parts.join(if p.spaces { ", " } else { "," });
    let parsed = cavage::parse_signature(&header)
        .unwrap_or_else(|e| panic!("well-formed header does not parse ({e:?}): {header:?}"));
    let joined = headers.as_ref().map(|h| h.join(" "));
    assert_eq!(parsed.key_id, key_id, "{header:?}");
    assert_eq!(parsed.algorithm, algorithm.as_deref(), "{header:?}");
    assert_eq!(parsed.headers, joined.as_deref(), "{header:?}");
    assert_eq!(parsed.signature, signature, "{header:?}");
    // Without `headers`, only `date` is covered (the draft's default).
    let covered: Vec<&str> = parsed.covered().collect();
    match &headers {
        Some(h) => assert_eq!(covered, h.iter().map(String::as_str).collect::<Vec<_>>()),
        None => assert_eq!(covered, ["date"]),
    }
}

/// A well-formed RFC 9421 pair: `Signature-Input` with the given covered
/// components and parameters, `Signature` with the given bytes.
#[derive(Debug, TypeGenerator)]
struct Rfc9421Params {
    components: Vec<u8>,
    created: u32,
    key_id: Vec<u8>,
    alg: Option<u8>,
    signature: Vec<u8>,
}

const COMPONENTS: &[&str] = &[
    "@method",
    "@target-uri",
    "@authority",
    "@path",
    "@request-target",
    "content-digest",
    "date",
    "host",
];
const ALGS: &[&str] = &["rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"];

fn check_rfc9421(p: &Rfc9421Params) {
    use base64::Engine;
    // Each component at most once (a repeated one is refused, §2.5).
    let mut components: Vec<&str> = Vec::new();
    for c in p.components.iter().take(8) {
        let name = COMPONENTS[*c as usize % COMPONENTS.len()];
        if !components.contains(&name) {
            components.push(name);
        }
    }
    let key_id = format!(
        "https://a.example/{}",
        chars(&p.key_id, b"abcdefghijklmnopqrstuvwxyz0123456789-._~/#")
    );
    let alg = p.alg.map(|a| ALGS[a as usize % ALGS.len()]);
    let list: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
    let mut input = format!(
        "sig1=({});created={};keyid=\"{key_id}\"",
        list.join(" "),
        p.created
    );
    if let Some(alg) = alg {
        input.push_str(&format!(";alg=\"{alg}\""));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&p.signature);
    let parsed = rfc9421::parse(&input, &format!("sig1=:{encoded}:"))
        .unwrap_or_else(|e| panic!("well-formed pair does not parse ({e:?}): {input}"));
    assert_eq!(parsed.label, "sig1");
    assert_eq!(parsed.components, components, "{input}");
    assert_eq!(parsed.key_id, key_id);
    assert_eq!(parsed.alg.as_deref(), alg);
    assert_eq!(parsed.created, Some(i64::from(p.created)));
    assert_eq!(parsed.signature, p.signature);
    // The signature base's parameter line is the inner list as sent.
    assert!(
        input.ends_with(&parsed.params),
        "{input} vs {}",
        parsed.params
    );
}

#[test]
fn fuzz_signature_header() {
    let tally = Tally::new("Signature header parsing");
    let words = words(SIGNATURE_WORDS);
    bolero::check!()
        .with_type::<SignatureInput>()
        .with_max_len(MAX_LEN)
        .with_iterations(cases(10_000))
        .for_each(|input| {
            tally.tick();
            match input {
                SignatureInput::Text(text) => {
                    let text = text.text(&words);
                    if let Ok(parsed) = cavage::parse_signature(&text) {
                        // What parses names what a verifier needs.
                        assert!(text.contains(parsed.key_id) && text.contains(parsed.signature));
                    }
                    // Split anywhere (at a character boundary) into the
                    // two RFC 9421 headers; neither half may panic.
                    let cut = text
                        .char_indices()
                        .map(|(i, _)| i)
                        .nth(text.chars().count() / 2)
                        .unwrap_or(text.len());
                    let (input, signature) = text.split_at(cut);
                    let _ = rfc9421::parse(input, signature);
                    let _ = rfc9421::parse(&text, &text);
                    assert!(cavage::check_digest(&text, b"body").is_err() || text.contains('='));
                    let _ = rfc9421::check_content_digest(&text, b"body");
                }
                SignatureInput::WellFormed(params) => check_well_formed(params),
                SignatureInput::Rfc9421(params) => check_rfc9421(params),
            }
        });
}
