//! Integration tests: real instances on 127.0.0.1 ephemeral ports, talked to
//! over HTTP as a foreign server or a browser would. One test binary, so it
//! links once. Every scenario runs on SQLite and again on PostgreSQL when one
//! is reachable (see `harness`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_client;
mod browser;
mod fake_server;
mod harness;
mod schema;

mod actors;
mod answers;
mod blocks;
mod builtin_app;
mod cli;
mod client_accounts;
mod client_extras;
mod client_federation;
mod client_filters;
mod client_lists;
mod client_oauth;
mod client_statuses;
mod client_tags;
mod communities;
mod community_shares;
mod community_stats;
mod delivery;
mod delivery_scale;
mod digests;
mod discovery;
mod experts;
mod following;
mod foreign_peer;
mod inbox;
mod mastodon_py;
mod media_api;
mod media_federation;
mod media_s3;
mod media_support;
mod moves;
mod narration_kinds;
mod narrations;
mod notification_policy;
mod oidc;
mod oidc_apps;
mod oidc_web;
mod partners;
mod peer_learning;
mod portability;
mod push;
mod remote_content;
mod reports;
mod signatures;
mod signed_fetch;
mod streaming;
mod streaming_client;
mod streaming_masto;
mod streaming_port;
mod streaming_processes;
mod streaming_visibility;
mod suspension;
mod visibility;
mod web_account;
mod web_communities;
mod web_discover;
mod web_joins;
mod web_media;
mod web_narrations;
mod web_smoke;
