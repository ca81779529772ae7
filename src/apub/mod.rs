//! ActivityPub: wire structs (`protocol`), the federation traits on our rows
//! (`objects`), the HTTP client other servers are reached with (`client`) and
//! the HTTP endpoints other servers call (`http`).

pub mod client;
pub mod http;
pub mod objects;
pub mod protocol;

pub use activitypub_federation::config::Data;
pub use activitypub_federation::FEDERATION_CONTENT_TYPE;
