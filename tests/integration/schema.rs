//! Validation of client-API responses against Mastodon's entity schemas
//! (`mastodon-schemas.json`: the `components.schemas` of an OpenAPI
//! description of Mastodon 4.7's API, generated from its documentation).

use serde_json::{json, Value};
use std::{collections::HashMap, sync::Mutex, sync::OnceLock};

fn schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut all: Value =
            serde_json::from_str(include_str!("mastodon-schemas.json")).expect("schemas parse");
        // The generated schema types this id as an integer; Mastodon's
        // documentation (which wins) and its clients (masto.js) treat it
        // as a string, like every other id.
        all["components"]["schemas"]["NotificationGroup"]["properties"]
            ["most_recent_notification_id"] = json!({ "type": "string" });
        all
    })
}

fn validator(entity: &str) -> &'static jsonschema::Validator {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap();
    if let Some(v) = cache.get(entity) {
        return v;
    }
    let all = schemas();
    assert!(
        all["components"]["schemas"].get(entity).is_some(),
        "no schema named {entity}"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{entity}"),
        "components": all["components"],
    });
    let built = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {entity} does not compile: {e}"));
    let leaked: &'static jsonschema::Validator = Box::leak(Box::new(built));
    cache.insert(entity.to_string(), leaked);
    leaked
}

/// Panics, listing every violation, unless `value` is a valid `entity`.
pub fn assert_valid(entity: &str, value: &Value) {
    let errors: Vec<String> = validator(entity)
        .iter_errors(value)
        .map(|e| format!("  at {}: {}", e.instance_path(), e))
        .collect();
    assert!(
        errors.is_empty(),
        "response is not a valid Mastodon {entity}:\n{}\nbody: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Every element of a JSON array is a valid `entity`.
pub fn assert_all_valid(entity: &str, value: &Value) {
    let items = value
        .as_array()
        .unwrap_or_else(|| panic!("expected a JSON array of {entity}, got {value}"));
    for item in items {
        assert_valid(entity, item);
    }
}
