//! Outloud: a federated ActivityPub server for working out loud and
//! communities of practice.
//!
//! The binary (`main.rs`) is a thin command line over this library; the
//! module map is in `docs/architecture.md`. Three rules keep the graph
//! acyclic: HTTP stays at the edge (`service` never sees actix), the inbound
//! half of `apub` may call `service` but the outbound half never does, and
//! `db` is a leaf.

// Tests may unwrap: a panic there is a failed assertion.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod apub;
pub mod client_ip;
pub mod config;
pub mod context;
pub mod crypto;
pub mod db;
pub mod delivery;
pub mod error;
pub mod housekeeping;
pub mod media;
pub mod push;
pub mod ratelimit;
pub mod service;
pub mod startup;
pub mod streaming;
pub mod telemetry;
pub mod testing;
pub mod text;
pub mod urls;
pub mod web;
pub mod wellknown;

pub use config::Config;
pub use context::Context;
pub use error::{Error, ErrorKind, Result};
pub use startup::{build, RunningServer, ServerOptions};
