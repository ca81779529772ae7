//! The JSON-LD `@context` Outloud sends with every document.

use serde_json::{json, Value};

/// Outloud's own vocabulary: the IRI its terms expand to (documented in
/// docs/FEDERATION.md). Stable: peers compare expanded IRIs, so it must not
/// change with the instance's domain.
pub const OUTLOUD_NS: &str = "https://outloud.example/ns#";

/// ActivityStreams, the security vocabulary (for `publicKey`), the
/// extension terms Mastodon and Lemmy use, so that JSON-LD processors expand
/// our documents the way those servers expect, and Outloud's own terms.
pub fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "suspended": "toot:suspended",
            "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
            "movedTo": { "@id": "as:movedTo", "@type": "@id" },
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "blurhash": "toot:blurhash",
            "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "lemmy": "https://join-lemmy.org/ns#",
            "moderators": { "@id": "lemmy:moderators", "@type": "@id" },
            "outloud": OUTLOUD_NS,
            "narrationKind": "outloud:narrationKind",
            "acceptedAnswer": { "@id": "schema:acceptedAnswer", "@type": "@id" }
        }
    ])
}
