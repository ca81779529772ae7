//! Wire structs: what goes over the network, named after ActivityStreams
//! types. Serde only; behaviour lives in `objects/` and `activities/`.

pub mod activity;
pub mod actor;
pub mod context;
pub mod media;
pub mod note;
