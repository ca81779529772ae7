//! PostgreSQL: one `LISTEN` connection per process, so an event committed
//! by any `outloud serve` process on the database (this one included)
//! reaches the streams connected here.
//!
//! It runs on a dedicated OS thread with its own connection (not one from
//! the pool, which would be lost to it): libpq only reads notifications
//! when asked, so the thread asks every [`POLL`] — a non-blocking read,
//! cheap when there is nothing — and reconnects when the connection
//! breaks. Events raised while it was reconnecting are lost; streams are
//! live views, and clients reload timelines when they reconnect anyway.

use crate::db::events::{self, StreamEvent, CHANNEL};
use diesel::RunQueryDsl;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the listener reads what the server sent: the added latency
/// of an event at worst.
const POLL: Duration = Duration::from_millis(5);

/// Starts the listener thread. It ends once nobody receives this
/// process's events any more (the server stopped).
pub fn spawn(url: String, sender: broadcast::Sender<StreamEvent>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("stream-listen".into())
        .spawn(move || run(&url, &sender))
        .map(|_| ())
}

fn run(url: &str, sender: &broadcast::Sender<StreamEvent>) {
    let stopped = || sender.receiver_count() == 0;
    while !stopped() {
        let mut conn = match crate::db::establish_postgres(url) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "stream listener cannot connect; retrying");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if let Err(e) = diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn) {
            tracing::warn!(error = %e, "stream listener cannot LISTEN; retrying");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        tracing::debug!("stream listener connected");
        'read: while !stopped() {
            for received in conn.notifications_iter() {
                match received {
                    Ok(n) => match events::parse(&n.payload) {
                        Some(event) => {
                            let _ = sender.send(event);
                        }
                        None => tracing::debug!(payload = %n.payload, "unknown stream event"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "stream listener lost its connection");
                        break 'read;
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    }
}
