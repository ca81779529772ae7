//! ActivityPub: wire structs (`protocol`), the federation traits on our rows
//! (`objects`), the HTTP client other servers are reached with (`client`) and
//! the HTTP endpoints other servers call (`http`).

pub mod activities;
pub mod client;
pub mod http;
pub mod inbox;
pub mod objects;
pub mod objects_http;
pub mod outbox;
pub mod policy;
pub mod protocol;
pub mod signatures;

pub use activitypub_federation::config::Data;
pub use activitypub_federation::FEDERATION_CONTENT_TYPE;
