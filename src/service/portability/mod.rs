//! Taking one's narrations along (issue 15 §3): the archive of a person
//! ([`export`]) and re-publishing an archive's narrations, follows and
//! community memberships on this instance ([`import`]); [`archive`] reads
//! and checks an uploaded zip before anything is stored.

pub mod archive;
pub mod export;
pub mod import;

pub use export::{export, file_name, whose, ArchiveStream};
pub use import::{import, Summary};
