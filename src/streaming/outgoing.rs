//! A connection the dispatcher writes to itself (the streaming port's).
//!
//! Why: with a queue per connection, one post to 10,000 readers costs
//! 10,000 queue pushes, 10,000 task wake-ups and 10,000 polls before the
//! 10,000 socket writes, and the wake-ups alone were a third of the time
//! from post to the last reader (docs/performance.md, "Streaming"). Here
//! the dispatcher writes a frame straight to the socket when nothing is
//! waiting before it and the socket's buffer takes it: one non-blocking
//! `send` and no task involved. Only what the socket does not take at
//! once waits in a backlog, which the connection's own task writes out
//! when the socket can take more; a backlog of more than `limit` pieces
//! means the reader fell behind, and closes the connection as the queue
//! would.
//!
//! Everything the connection sends goes through here (frames, the
//! transport's own heartbeats and answers), so nothing is interleaved and
//! the order is the order of [`Outgoing::send`] calls.

use bytes::{Buf, Bytes};
use std::{
    collections::VecDeque,
    io::ErrorKind,
    sync::{Mutex, MutexGuard},
};
use tokio::{net::tcp::OwnedWriteHalf, sync::Notify};

/// The writing half of a connection, shared by its task and the hub.
#[derive(Debug)]
pub struct Outgoing {
    socket: OwnedWriteHalf,
    state: Mutex<Backlog>,
    /// Tells the connection's task that its backlog needs writing or that
    /// the connection is closed.
    wake: Notify,
    limit: usize,
}

#[derive(Debug, Default)]
struct Backlog {
    pieces: VecDeque<Bytes>,
    closed: bool,
}

impl Outgoing {
    /// `limit`: pieces that may wait before the reader counts as fallen
    /// behind (`streaming.queue`).
    pub fn new(socket: OwnedWriteHalf, limit: usize) -> Outgoing {
        Outgoing {
            socket,
            state: Mutex::new(Backlog::default()),
            wake: Notify::new(),
            limit: limit.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Backlog> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `bytes` after everything sent before: written now when
    /// nothing waits and the socket takes it, else kept for the
    /// connection's task. Never waits. `false` once the connection is
    /// closed: broken, or fallen more than `limit` pieces behind.
    pub fn send(&self, bytes: Bytes) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        if !state.pieces.is_empty() {
            if state.pieces.len() >= self.limit {
                tracing::info!("closing a stream that fell behind");
                return self.close_locked(&mut state);
            }
            state.pieces.push_back(bytes);
            return true;
        }
        match self.socket.try_write(&bytes) {
            Ok(n) if n == bytes.len() => return true,
            Ok(n) => state.pieces.push_back(bytes.slice(n..)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => state.pieces.push_back(bytes),
            Err(_) => return self.close_locked(&mut state),
        }
        drop(state);
        self.wake.notify_one();
        true
    }

    fn close_locked(&self, state: &mut Backlog) -> bool {
        state.closed = true;
        state.pieces.clear();
        self.wake.notify_one();
        false
    }

    /// Closes the connection: later sends fail, and [`Outgoing::serve`]
    /// returns.
    pub fn close(&self) {
        let mut state = self.lock();
        self.close_locked(&mut state);
    }

    /// The connection task's side: writes the backlog out whenever there
    /// is one, and returns once the connection is closed (by [`close`],
    /// a reader fallen behind, or a broken socket). Cancel-safe: what is
    /// not yet written stays in the backlog for the next call.
    ///
    /// [`close`]: Outgoing::close
    pub async fn serve(&self) {
        loop {
            match self.write_backlog() {
                Written::Closed => return,
                Written::All => self.wake.notified().await,
                Written::Blocked => {
                    if self.socket.writable().await.is_err() {
                        self.close();
                        return;
                    }
                }
            }
        }
    }

    /// Writes as much of the backlog as the socket takes now.
    fn write_backlog(&self) -> Written {
        let mut state = self.lock();
        if state.closed {
            return Written::Closed;
        }
        while let Some(front) = state.pieces.front_mut() {
            match self.socket.try_write(front) {
                Ok(n) if n == front.len() => {
                    state.pieces.pop_front();
                }
                Ok(n) => front.advance(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Written::Blocked,
                Err(_) => {
                    self.close_locked(&mut state);
                    return Written::Closed;
                }
            }
        }
        Written::All
    }
}

/// What [`Outgoing::write_backlog`] managed.
enum Written {
    All,
    Blocked,
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::{
        io::AsyncReadExt,
        net::{TcpListener, TcpStream},
    };

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    /// A reader that does not read at first: the socket's buffer fills,
    /// the rest waits in the backlog, and once the reader reads, the
    /// connection's task writes it all out, in order.
    #[tokio::test]
    async fn what_the_socket_does_not_take_is_written_later_in_order() {
        let (mut client, server) = pair().await;
        let (_read, write) = server.into_split();
        let out = Arc::new(Outgoing::new(write, 10_000));
        let task = tokio::spawn({
            let out = out.clone();
            async move { out.serve().await }
        });
        let piece = |i: u32| Bytes::from(format!("{i:08}").repeat(1024));
        let pieces = 2_000u32; // 16 MiB: more than loopback buffers hold
        for i in 0..pieces {
            assert!(out.send(piece(i)));
        }
        assert!(
            !out.lock().pieces.is_empty(),
            "the socket took 16 MiB at once"
        );
        let mut expected = Vec::new();
        for i in 0..pieces {
            expected.extend_from_slice(&piece(i));
        }
        let mut got = vec![0u8; expected.len()];
        client.read_exact(&mut got).await.unwrap();
        assert!(got == expected, "bytes arrived out of order");
        out.close();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_reader_fallen_behind_is_closed() {
        let (_client, server) = pair().await;
        let (_read, write) = server.into_split();
        let out = Outgoing::new(write, 3);
        let big = Bytes::from(vec![b'x'; 1 << 20]);
        let mut sent = 0;
        while out.send(big.clone()) {
            sent += 1;
            assert!(sent < 1_000, "never closed");
        }
        assert!(!out.send(Bytes::from_static(b"more")));
        // Closed: `serve` returns at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), out.serve())
            .await
            .unwrap();
    }
}
