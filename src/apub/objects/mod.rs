//! `Object` and `Actor` implementations on database rows: the only place
//! where ActivityStreams JSON and rows are converted into each other.

pub mod actor;
pub mod post;
