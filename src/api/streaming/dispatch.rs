//! The dispatcher: one task per process turns each change event (ids only,
//! from `db::events`) into frames for the connections it concerns.
//!
//! Exactness comes from asking, per reader and stream, the REST API's own
//! questions: is this post on this reader's home (public, tag, direct)
//! timeline (`service::streams`), is this notification one the
//! notifications API returns (`service::notifications::get`), and from
//! rendering with the REST conversion (`api::convert`). Rendering is done
//! once per reader and stream and shared by that reader's connections, so
//! ten thousand connections of one reader cost one query, not ten
//! thousand.
//!
//! A post's events (`update`, `status.update`, `delete`) usually concern
//! many readers: asked one by one, 10,000 followers cost 10,000 queries
//! and seconds per post. For those the questions are answered for all
//! connected readers at once (`service::streams::audience`, the same rules
//! batched), and a status is rendered once for every reader it renders the
//! same for: all but those who liked, boosted, bookmarked or pinned it.

use crate::{
    api::{convert, notifications as api_notifications, timelines as api_timelines},
    apub::Data,
    context::Context,
    db::{actor::Actor, audience::Audience, events::StreamEvent, timeline::Origin},
    error::Result,
    service::{
        self,
        filters::FilterContext,
        streams::{self, Timeline},
        timelines::{comes_as_share, home_entry, Conversation, Item},
    },
    streaming::{Frame, Stream},
};
use activitypub_federation::config::FederationConfig;
use std::{collections::HashMap, sync::Arc};
use tokio::sync::broadcast::error::RecvError;

/// Starts the dispatcher of this process. It subscribes before returning,
/// so no event committed after this call is missed.
pub fn spawn(federation: FederationConfig<Context>) -> tokio::task::JoinHandle<()> {
    let mut events = federation.to_request_data().db.events().subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let data = federation.to_request_data();
                    dispatch(&data, &event).await;
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the stream dispatcher fell behind; events lost");
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// Offers one event to every connection it concerns.
#[tracing::instrument(skip(data))]
pub async fn dispatch(data: &Data<Context>, event: &StreamEvent) {
    let mut by_viewer: ByViewer = HashMap::new();
    for (id, subscriber) in data.streams.snapshot() {
        let only = match event {
            StreamEvent::Notified { recipient, .. } => Some(recipient),
            StreamEvent::FiltersChanged { account } => Some(account),
            _ => None,
        };
        if only.is_some_and(|o| *o != subscriber.viewer.id) {
            continue;
        }
        by_viewer
            .entry(subscriber.viewer.id.clone())
            .or_insert_with(|| (subscriber.viewer.clone(), Vec::new()))
            .1
            .push((id, subscriber.streams()));
    }
    if let StreamEvent::Posted { post }
    | StreamEvent::Edited { post }
    | StreamEvent::Deleted { post } = event
    {
        if let Err(e) = for_post(data, event, post, by_viewer).await {
            tracing::warn!(error = ?e, post = %post, "could not render a stream event");
        }
        return;
    }
    for (viewer_id, (_, connections)) in by_viewer {
        if let Err(e) = for_viewer(data, event, &viewer_id, connections).await {
            tracing::warn!(error = ?e, viewer = %viewer_id, "could not render a stream event");
        }
    }
}

/// Renders the event for one reader, once per stream, and offers it to
/// that reader's connections.
async fn for_viewer(
    data: &Data<Context>,
    event: &StreamEvent,
    viewer_id: &str,
    connections: Vec<(u64, Vec<Stream>)>,
) -> Result<()> {
    let id = viewer_id.to_string();
    let Some(viewer) = data
        .db
        .run(move |conn| Ok(Actor::by_id(conn, &id)?))
        .await?
    else {
        return Ok(());
    };
    let mut rendered: HashMap<Stream, Option<Arc<Frame>>> = HashMap::new();
    let mut offers = Vec::new();
    let done = async {
        for (connection, streams) in connections {
            for stream in streams {
                let frame = match rendered.get(&stream) {
                    Some(frame) => frame.clone(),
                    None => {
                        let frame = render(data, &viewer, &stream, event)
                            .await?
                            .map(|(e, p)| Arc::new(Frame::new(stream.clone(), e, p.into())));
                        rendered.insert(stream.clone(), frame.clone());
                        frame
                    }
                };
                if let Some(frame) = frame {
                    offers.push((connection, frame));
                }
            }
        }
        Ok(())
    }
    .await;
    // What was rendered before a failure is still delivered.
    deliver(data, offers).await;
    done
}

/// Hands frames to the hub. The streaming port's connections are written
/// to right there, one system call each, so many frames (a post to
/// thousands of readers) are handed over from a blocking thread rather
/// than holding up one of the runtime's few workers for tens of
/// milliseconds. Awaited, so one event's frames are all written before
/// the next event's.
async fn deliver(data: &Data<Context>, offers: Vec<(u64, Arc<Frame>)>) {
    const INLINE: usize = 64;
    if offers.len() <= INLINE {
        data.streams.offer(offers);
        return;
    }
    // One share per core, split by connection so that each connection's
    // frames stay in one share, in order.
    let shares = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let mut split: Vec<Vec<(u64, Arc<Frame>)>> = (0..shares).map(|_| Vec::new()).collect();
    for offer in offers {
        split[(offer.0 % shares) as usize].push(offer);
    }
    let writers: Vec<_> = split
        .into_iter()
        .map(|share| {
            let hub = data.streams.clone();
            tokio::task::spawn_blocking(move || hub.offer(share))
        })
        .collect();
    for writer in writers {
        if let Err(e) = writer.await {
            tracing::warn!(error = %e, "could not offer stream frames");
        }
    }
}

/// Connections by reader: the reader as its streams keep it, and each
/// connection's id and streams.
type ByViewer = HashMap<String, (Arc<Actor>, Vec<(u64, Vec<Stream>)>)>;

/// A post's event for every connected reader at once (see the module's
/// comment): one batch of queries decides which readers' streams show the
/// post, and frames are shared by all readers who see the same thing.
async fn for_post(
    data: &Data<Context>,
    event: &StreamEvent,
    post_id: &str,
    by_viewer: ByViewer,
) -> Result<()> {
    let started = std::time::Instant::now();
    let deleted = matches!(event, StreamEvent::Deleted { .. });
    let ids: Vec<String> = by_viewer.keys().cloned().collect();
    let Some(audience) = streams::audience(data, post_id, ids.clone(), deleted).await? else {
        return Ok(());
    };
    let t_audience = started.elapsed();
    // Readers with filters get their frames rendered alone (with their
    // `filtered`, or none for `hide`); the rest share frames as before.
    let filtered = service::filters::readers_with_filters(data, ids).await?;
    let t_filters = started.elapsed();
    let mut shared = HashMap::new();
    let mut offers = Vec::with_capacity(by_viewer.len());
    let readers = by_viewer.len();
    for (viewer_id, (viewer, connections)) in by_viewer {
        let alone = filtered.contains(&viewer_id);
        let viewer = &*viewer;
        let mut mine: HashMap<Stream, Option<Arc<Frame>>> = HashMap::new();
        for (connection, streams) in connections {
            for stream in streams {
                let frame = match mine.get(&stream) {
                    Some(frame) => frame.clone(),
                    None => {
                        let frame = match post_frame(
                            data,
                            &audience,
                            viewer,
                            &stream,
                            event,
                            &mut shared,
                            alone,
                        )
                        .await
                        {
                            Ok(frame) => frame,
                            Err(e) => {
                                tracing::warn!(error = ?e, viewer = %viewer_id,
                                        "could not render a stream event");
                                None
                            }
                        };
                        mine.insert(stream.clone(), frame.clone());
                        frame
                    }
                };
                if let Some(frame) = frame {
                    offers.push((connection, frame));
                }
            }
        }
    }
    let t_frames = started.elapsed();
    deliver(data, offers).await;
    tracing::debug!(
        readers,
        audience_us = t_audience.as_micros() as u64,
        filters_us = (t_filters - t_audience).as_micros() as u64,
        frames_us = (t_frames - t_filters).as_micros() as u64,
        offers_us = (started.elapsed() - t_frames).as_micros() as u64,
        "post event dispatched"
    );
    Ok(())
}

/// Frames shared between readers, by stream and whether the post comes as
/// a community's share (home shows a post shared in a community the reader
/// joined as that share).
type Shared = HashMap<(Stream, bool), Arc<Frame>>;

/// The frame of a post's event on one reader's stream, or `None` when the
/// post is not (or, deleted, was not) on it.
#[allow(clippy::too_many_arguments)]
async fn post_frame(
    data: &Data<Context>,
    audience: &Audience,
    viewer: &Actor,
    stream: &Stream,
    event: &StreamEvent,
    shared: &mut Shared,
    alone: bool,
) -> Result<Option<Arc<Frame>>> {
    let frame = |(event, payload): (&'static str, String)| {
        Arc::new(Frame::new(stream.clone(), event, payload.into()))
    };
    let on = match stream {
        Stream::User => audience.on_home(viewer),
        Stream::Public => audience.on_public(viewer, Origin::All),
        Stream::PublicLocal => audience.on_public(viewer, Origin::Local),
        Stream::PublicRemote => audience.on_public(viewer, Origin::Remote),
        Stream::Hashtag(tag) => audience.on_tag(viewer, tag.trim_start_matches('#'), Origin::All),
        Stream::HashtagLocal(tag) => {
            audience.on_tag(viewer, tag.trim_start_matches('#'), Origin::Local)
        }
        // A conversation is rendered for its few participants, and lists
        // are per reader: both keep the one-by-one path.
        Stream::Direct | Stream::List(_) => {
            return Ok(render(data, viewer, stream, event).await?.map(frame));
        }
        Stream::UserNotification => false,
    };
    if !on {
        return Ok(None);
    }
    let post = &audience.post;
    if let StreamEvent::Deleted { .. } = event {
        // Mastodon's `delete` payload is the bare id: one frame per
        // stream for everyone.
        let shared_frame = shared
            .entry((stream.clone(), false))
            .or_insert_with(|| frame(("delete", post.id.clone())));
        return Ok(Some(shared_frame.clone()));
    }
    let name = match event {
        StreamEvent::Edited { .. } => "status.update",
        _ => "update",
    };
    let joined = audience.joined(viewer);
    let as_share = *stream == Stream::User && comes_as_share(post, &joined, viewer);
    let key = (stream.clone(), as_share);
    let alone = alone || !audience.renders_as_stranger(viewer);
    // Most readers get the frame rendered for the first reader like
    // them: looked up before the post is even copied.
    if !alone {
        if let Some(shared_frame) = shared.get(&key) {
            return Ok(Some(shared_frame.clone()));
        }
    }
    let item = match stream {
        Stream::User => home_entry(post.clone(), &joined, viewer),
        _ => Item::Post(post.clone()),
    };
    if alone {
        return Ok(status_payload(data, viewer, stream, item, name)
            .await?
            .map(frame));
    }
    let rendered = status_payload(data, viewer, stream, item, name)
        .await?
        .map(frame);
    if let Some(f) = &rendered {
        shared.insert(key, f.clone());
    }
    Ok(rendered)
}

/// The timeline whose posts a stream carries, if it carries posts.
fn timeline_of(stream: &Stream) -> Option<Timeline<'_>> {
    Some(match stream {
        Stream::User => Timeline::Home,
        Stream::Public => Timeline::Public(Origin::All),
        Stream::PublicLocal => Timeline::Public(Origin::Local),
        Stream::PublicRemote => Timeline::Public(Origin::Remote),
        Stream::Hashtag(tag) => Timeline::Tag(tag, Origin::All),
        Stream::HashtagLocal(tag) => Timeline::Tag(tag, Origin::Local),
        Stream::Direct => Timeline::Direct,
        Stream::UserNotification | Stream::List(_) => return None,
    })
}

/// The event name and payload of `event` on `stream` for `viewer`, or
/// `None` when the event does not belong there.
async fn render(
    data: &Data<Context>,
    viewer: &Actor,
    stream: &Stream,
    event: &StreamEvent,
) -> Result<Option<(&'static str, String)>> {
    match event {
        StreamEvent::Posted { post } => posted(data, viewer, stream, post, "update").await,
        StreamEvent::Edited { post } => posted(data, viewer, stream, post, "status.update").await,
        // A share is news to the community's members only: the public
        // streams carried the post when it was posted.
        StreamEvent::Shared { post } if *stream == Stream::User => {
            posted(data, viewer, stream, post, "update").await
        }
        StreamEvent::Shared { .. } => Ok(None),
        StreamEvent::Deleted { post } => {
            let was_on = match (timeline_of(stream), stream) {
                (Some(timeline), _) => streams::post_on(data, viewer, timeline, post, true)
                    .await?
                    .is_some(),
                (None, Stream::List(list)) => {
                    streams::list_contains(data, viewer, list, post).await?
                }
                (None, _) => false,
            };
            // Mastodon's `delete` payload is the bare id.
            Ok(was_on.then(|| ("delete", post.clone())))
        }
        StreamEvent::Boosted { reaction } if *stream == Stream::User => {
            match streams::boost_on_home(data, viewer, reaction).await? {
                Some(item) => status_payload(data, viewer, stream, item, "update").await,
                None => Ok(None),
            }
        }
        StreamEvent::Boosted { .. } => Ok(None),
        StreamEvent::Notified { id, recipient } => {
            if *recipient != viewer.id || !matches!(stream, Stream::User | Stream::UserNotification)
            {
                return Ok(None);
            }
            // What `GET /api/v1/notifications/:id` answers, or nothing.
            let Ok(entry) = service::notifications::get(data, viewer, id).await else {
                return Ok(None);
            };
            match api_notifications::entity(data, viewer, entry).await? {
                Some(entity) => Ok(Some(("notification", serde_json::to_string(&entity)?))),
                None => Ok(None),
            }
        }
        StreamEvent::FiltersChanged { account } => Ok((*account == viewer.id
            && *stream == Stream::User)
            .then(|| ("filters_changed", String::new()))),
    }
}

/// A new or edited post on a stream: a status (`update`,
/// `status.update`), or on `direct` its conversation (`conversation`).
async fn posted(
    data: &Data<Context>,
    viewer: &Actor,
    stream: &Stream,
    post_id: &str,
    event: &'static str,
) -> Result<Option<(&'static str, String)>> {
    let Some(timeline) = timeline_of(stream) else {
        return match stream {
            Stream::List(list) if streams::list_contains(data, viewer, list, post_id).await? => {
                let item = service::timelines::item_by_id(data, Some(viewer), post_id).await?;
                status_payload(data, viewer, stream, item, event).await
            }
            _ => Ok(None),
        };
    };
    let Some(item) = streams::post_on(data, viewer, timeline, post_id, false).await? else {
        return Ok(None);
    };
    if timeline == Timeline::Direct {
        let last = item.into_post();
        let conversation = Conversation {
            id: last
                .thread
                .clone()
                .unwrap_or_else(|| last.ap_id.to_string()),
            last,
        };
        let entity = api_timelines::conversation_entity(data, viewer, conversation).await?;
        return Ok(Some(("conversation", serde_json::to_string(&entity)?)));
    }
    status_payload(data, viewer, stream, item, event).await
}

/// The filter context of a stream's statuses.
fn filter_context(stream: &Stream) -> Option<FilterContext> {
    match stream {
        // The Partners alias is a public timeline under a list's name, and
        // filters as the canonical partners timeline does.
        Stream::List(list) if list == service::partners::LIST_ID => Some(FilterContext::Public),
        Stream::User | Stream::List(_) => Some(FilterContext::Home),
        Stream::Public
        | Stream::PublicLocal
        | Stream::PublicRemote
        | Stream::Hashtag(_)
        | Stream::HashtagLocal(_) => Some(FilterContext::Public),
        Stream::UserNotification => Some(FilterContext::Notifications),
        Stream::Direct => None,
    }
}

/// A timeline item as the REST API renders it for `viewer` (with the
/// `filtered` of the reader's filters), or `None` when one of the
/// reader's `hide` filters of the stream's context matches it.
async fn status_payload(
    data: &Data<Context>,
    viewer: &Actor,
    stream: &Stream,
    item: Item,
    event: &'static str,
) -> Result<Option<(&'static str, String)>> {
    if let Some(context) = filter_context(stream) {
        let (v, post) = (viewer.clone(), item.post().clone());
        let hidden = data
            .db
            .run(move |conn| Ok(service::filters::hides_post(conn, &v, context, &post)?))
            .await?;
        if hidden {
            return Ok(None);
        }
    }
    let status = convert::statuses(data, Some(viewer), vec![item]).await?;
    match status.first() {
        Some(status) => Ok(Some((event, serde_json::to_string(status)?))),
        None => Ok(None),
    }
}
