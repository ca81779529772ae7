//! The archive of a person: a zip written as it is sent, never whole in
//! memory. A task reads the person's rows page by page and hands pieces
//! (an entry's name, then its bytes) over a bounded channel to a blocking
//! task that runs the `ZipWriter` in stream mode; its output goes in
//! 64 KiB chunks over a second bounded channel, which the caller drains
//! (an HTTP body, or a file for the CLI). A slow reader slows the whole
//! chain down instead of filling memory, and a reader that goes away
//! stops it.

use crate::{
    apub::{protocol::context::context, Data},
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        follow::Follow,
        post::{Post, Visibility},
    },
    error::{Error, Result},
};
use activitypub_federation::traits::Object;
use bytes::Bytes;
use serde_json::{json, Value};
use std::io::{self, Write};
use tokio::sync::mpsc;

/// Rows read from the database at a time.
const PAGE: i64 = 100;
/// Bytes of zip output sent at a time.
const CHUNK: usize = 64 * 1024;

/// Every visibility: an archive is the person's own, all of it.
pub const ALL: [Visibility; 6] = [
    Visibility::Public,
    Visibility::Unlisted,
    Visibility::Followers,
    Visibility::Direct,
    Visibility::Local,
    Visibility::LocalUnlisted,
];

/// The zip's bytes as they are made; an `Err` item ends a broken archive.
pub type ArchiveStream = mpsc::Receiver<io::Result<Bytes>>;

/// What the reading task hands the zip writer.
enum Piece {
    /// Starts the entry of that name (ending the previous one), dated
    /// when given (a narration's file, by its `published`), else now.
    Entry(String, Option<chrono::NaiveDateTime>),
    /// Bytes of the current entry.
    Bytes(Vec<u8>),
}

/// Whose archive `me` asks for: their own, or (admins only) the local
/// account `username`.
///
/// Errors: `Forbidden` for another account when `me` is no admin,
/// `NotFound` for an unknown one.
pub async fn whose(db: &crate::db::Db, me: &Actor, username: Option<&str>) -> Result<Actor> {
    match username {
        Some(name) if name != me.username => {
            crate::service::accounts::require_admin(db, me).await?;
            crate::service::accounts::local_person(db, name).await
        }
        _ => Ok(me.clone()),
    }
}

/// The file name offered for a person's archive.
pub fn file_name(person: &Actor) -> String {
    format!(
        "outloud-{}-{}.zip",
        person.username,
        chrono::Utc::now().format("%Y-%m-%d")
    )
}

/// Starts writing the archive of local `person` (see docs/web.md, "Your
/// archive", for its layout). Who may ask is the caller's business (the
/// person, or an admin).
pub fn export(data: &Data<Context>, person: Actor) -> ArchiveStream {
    let (out_tx, out_rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let (piece_tx, piece_rx) = mpsc::channel::<Piece>(16);
    let zipper_out = out_tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = write_zip(piece_rx, zipper_out.clone()) {
            tracing::warn!(error = %e, "archive export stopped");
            let _ = zipper_out.blocking_send(Err(e));
        }
    });
    let data = data.reset_request_count();
    tokio::spawn(async move {
        let username = person.username.clone();
        if let Err(e) = produce(&data, &person, &piece_tx).await {
            tracing::warn!(person = %username, error = ?e, "archive export failed");
            // Dropping the pieces' sender would end the zip as if
            // complete; say it is broken instead.
            let _ = out_tx
                .send(Err(io::Error::other(e.safe_message().to_string())))
                .await;
        }
    });
    out_rx
}

/// The blocking half: pieces in, zip bytes out.
fn write_zip(
    mut pieces: mpsc::Receiver<Piece>,
    out: mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(ChannelWriter {
        tx: out,
        buf: Vec::with_capacity(CHUNK),
    });
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    while let Some(piece) = pieces.blocking_recv() {
        match piece {
            Piece::Entry(name, date) => {
                let date = date.unwrap_or_else(crate::db::now);
                let options = match zip_time(date) {
                    Some(time) => options.last_modified_time(time),
                    None => options,
                };
                zip.start_file(name, options).map_err(io::Error::other)?
            }
            Piece::Bytes(bytes) => zip.write_all(&bytes)?,
        }
    }
    let mut inner = zip.finish().map_err(io::Error::other)?;
    inner.flush()
}

/// A zip entry's date (zip dates run from 1980 to 2107).
fn zip_time(at: chrono::NaiveDateTime) -> Option<zip::DateTime> {
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        u16::try_from(at.year()).ok()?,
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .ok()
}

/// A `Write` whose bytes go, in chunks, to the archive's reader.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Sends one piece; the zip writer stopping (its reader went away) ends
/// the export.
async fn send(pieces: &mpsc::Sender<Piece>, piece: Piece) -> Result<()> {
    pieces
        .send(piece)
        .await
        .map_err(|_| Error::internal(anyhow::anyhow!("the archive's reader went away")))
}

async fn entry(pieces: &mpsc::Sender<Piece>, name: &str, bytes: Vec<u8>) -> Result<()> {
    send(pieces, Piece::Entry(name.to_string(), None)).await?;
    send(pieces, Piece::Bytes(bytes)).await
}

/// The reading half: every entry, in order.
async fn produce(data: &Data<Context>, person: &Actor, pieces: &mpsc::Sender<Piece>) -> Result<()> {
    let mut actor = serde_json::to_value(person.clone().into_json(data).await?)?;
    actor["@context"] = context();
    entry(pieces, "actor.json", serde_json::to_vec_pretty(&actor)?).await?;
    let (people, groups) = follows(data, person).await?;
    entry(
        pieces,
        "following.json",
        collection("following.json", &people)?,
    )
    .await?;
    entry(
        pieces,
        "communities.json",
        collection("communities.json", &groups)?,
    )
    .await?;
    outbox(data, person, pieces).await?;
    markdown(data, person, pieces).await
}

/// The URLs of the actors `person` follows: people, then communities.
async fn follows(data: &Data<Context>, person: &Actor) -> Result<(Vec<String>, Vec<String>)> {
    let (mut people, mut groups) = (Vec::new(), Vec::new());
    let mut offset = 0;
    loop {
        let id = person.id.clone();
        let page = data
            .db
            .run(move |conn| Ok(Follow::list_following(conn, &id, offset, PAGE)?))
            .await?;
        for actor in &page {
            match actor.kind() {
                ActorKind::Group => groups.push(actor.ap_id.to_string()),
                _ => people.push(actor.ap_id.to_string()),
            }
        }
        if (page.len() as i64) < PAGE {
            return Ok((people, groups));
        }
        offset += PAGE;
    }
}

fn collection(id: &str, urls: &[String]) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": urls.len(),
        "orderedItems": urls,
    }))?)
}

/// One page of `person`'s narrations, newest first, before `before`.
async fn page_of(
    data: &Data<Context>,
    person: &Actor,
    before: Option<String>,
) -> Result<Vec<Post>> {
    let id = person.id.clone();
    data.db
        .run(move |conn| {
            Ok(Post::list_by_author(
                conn,
                &id,
                &ALL,
                before.as_deref(),
                PAGE,
            )?)
        })
        .await
}

/// `outbox.json`, written item by item: the `Create` of each narration as
/// it federates (rendered HTML in `content`, Markdown in `source`), with
/// Outloud's `visibility` beside it, since `local` cannot be read from
/// the addressing.
async fn outbox(data: &Data<Context>, person: &Actor, pieces: &mpsc::Sender<Piece>) -> Result<()> {
    let id = person.id.clone();
    let total = data
        .db
        .run(move |conn| Ok(Post::count_by_author(conn, &id, &ALL)?))
        .await?;
    send(pieces, Piece::Entry("outbox.json".into(), None)).await?;
    let head = json!({
        "@context": context(),
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": total,
    })
    .to_string();
    // `{…}` without its closing brace, then the items.
    let head = format!("{},\"orderedItems\":[\n", head.trim_end_matches('}'));
    send(pieces, Piece::Bytes(head.into_bytes())).await?;
    let mut before = None;
    let mut first = true;
    loop {
        let posts = page_of(data, person, before.clone()).await?;
        let mut bytes = Vec::new();
        for post in &posts {
            if !first {
                bytes.extend_from_slice(b",\n");
            }
            first = false;
            let create = create_of(data, post).await?;
            serde_json::to_writer(&mut bytes, &create)?;
        }
        send(pieces, Piece::Bytes(bytes)).await?;
        match posts.last() {
            Some(last) if posts.len() as i64 == PAGE => before = Some(last.id.clone()),
            _ => break,
        }
    }
    send(pieces, Piece::Bytes(b"\n]}\n".to_vec())).await
}

async fn create_of(data: &Data<Context>, post: &Post) -> Result<Value> {
    let note = post.clone().into_json(data).await?;
    Ok(json!({
        "id": data.urls.activity(&post.id).as_str(),
        "type": "Create",
        "actor": note.attributed_to.inner().as_str(),
        "published": note.published,
        "to": note.to,
        "cc": note.cc,
        "visibility": post.visibility().as_str(),
        "object": note,
    }))
}

/// `markdown/<yyyy-mm-dd>-<id>.md`: each narration's Markdown under a
/// small front matter, for people rather than programs.
async fn markdown(
    data: &Data<Context>,
    person: &Actor,
    pieces: &mpsc::Sender<Piece>,
) -> Result<()> {
    let mut before = None;
    loop {
        let posts = page_of(data, person, before.clone()).await?;
        for post in &posts {
            let community = match post.community_id.clone() {
                Some(id) => data
                    .db
                    .run(move |conn| Ok(Actor::by_id(conn, &id)?))
                    .await?
                    .map(|g| g.ap_id.to_string()),
                None => None,
            };
            let name = format!(
                "markdown/{}-{}.md",
                post.published.format("%Y-%m-%d"),
                post.id
            );
            send(pieces, Piece::Entry(name, Some(post.published))).await?;
            send(
                pieces,
                Piece::Bytes(front_matter(post, community).into_bytes()),
            )
            .await?;
        }
        match posts.last() {
            Some(last) if posts.len() as i64 == PAGE => before = Some(last.id.clone()),
            _ => return Ok(()),
        }
    }
}

/// The Markdown file of a narration: `key: value` lines (values as JSON,
/// so any text survives) between `---` lines, then the source.
pub fn front_matter(post: &Post, community: Option<String>) -> String {
    let line = |key: &str, value: Value| format!("{key}: {value}\n");
    let mut out = String::from("---\n");
    out += &line("id", json!(post.ap_id.as_str()));
    out += &line("url", json!(post.url));
    out += &line("published", json!(post.published.and_utc().to_rfc3339()));
    out += &line("type", json!(post.kind));
    out += &line("kind", json!(post.narration_kind));
    out += &line("visibility", json!(post.visibility));
    if let Some(title) = &post.title {
        out += &line("title", json!(title));
    }
    out += &line(
        "communities",
        json!(community.into_iter().collect::<Vec<_>>()),
    );
    out += &line("in_reply_to", json!(post.in_reply_to));
    out += "---\n\n";
    out += post.source.as_deref().unwrap_or(&post.content);
    out += "\n";
    out
}
