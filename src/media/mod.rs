//! Media files: processing uploads ([`process`]) and the store they are
//! kept in ([`MediaStore`]): a local directory by default, or an
//! S3-compatible bucket (`[media] store = "s3"`). Rows live in
//! `db::media`; the rules (who may upload, attach, delete) in
//! `service::media`. No HTTP types here.

pub mod process;
mod store;

pub use store::{build_store, key_is_valid, LocalStore, MediaStore, S3Store};
