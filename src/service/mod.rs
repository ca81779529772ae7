//! Use cases shared by the command line, the client API, web pages and the
//! inbox. No HTTP types here: functions take the database, URLs and plain
//! values, and return rows or [`crate::error::Error`]s.

pub mod accounts;
pub mod answers;
pub mod blocks;
pub mod communities;
pub mod community_stats;
pub mod composer;
pub mod deliveries;
pub mod digests;
pub mod embeds;
pub mod experts;
pub mod feeds;
pub mod filters;
pub mod follows;
pub mod instance;
pub mod invites;
pub mod lists;
pub mod media;
pub mod media_proxy;
pub mod moderation;
pub mod moves;
pub mod narrations;
pub mod notification_policy;
pub mod notifications;
pub mod oauth;
pub mod oidc;
pub mod partners;
pub mod policy;
pub mod portability;
pub mod posts;
pub mod push;
pub mod reactions;
pub mod registrations;
pub mod relations;
pub mod reports;
pub mod resolve;
pub mod search;
pub mod sessions;
pub mod software;
pub mod streams;
pub mod suggestions;
pub mod suspension;
pub mod tags;
pub mod threads;
pub mod timelines;
