//! The handed-over connection as a tokio stream.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::tokio::io::unix::{AsyncFd, AsyncFdReadyMutGuard};
use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::connection::Connection;
use crate::error::Error;
use crate::ws::{Flags, Frame};

/// A [`Connection`] on tokio's reactor: `AsyncRead + AsyncWrite`, with TLS
/// (to the server, and to an HTTPS proxy) inside, as
/// [`Easy::connect_async`](crate::Easy::connect_async) hands it over.
///
/// - Bytes that arrived with the proxy's CONNECT reply, the SOCKS answer,
///   the response head or the `101` are read first.
/// - An orderly close reads as `Ok(0)` (end of stream); a TLS peer that
///   closed without close_notify is an error of kind `UnexpectedEof`, as with
///   tokio-rustls (the library error, code 56, is its inner error).
/// - `poll_write` answers once TLS has taken the bytes; `flush` waits
///   until they are on the socket; `shutdown` sends close_notify to every
///   TLS peer, then shuts the socket's write side (reading goes on).
/// - [`ws_send`](AsyncConnection::ws_send) and
///   [`ws_recv`](AsyncConnection::ws_recv) are `curl_ws_send`/`_recv`
///   for async code, after a WebSocket upgrade.
///
/// The connection goes onto the reactor at its first read or write, so a
/// connection that is only unwrapped ([`into_tcp_stream`](AsyncConnection::into_tcp_stream),
/// [`into_inner`](AsyncConnection::into_inner)) or dropped never pays for
/// the registration.
///
/// Dropping it closes the connection.
pub struct AsyncConnection {
    io: Registration,
    /// Bytes `poll_write` reported written that TLS took in a send which
    /// answered `Again` (`Connection::send`'s retry rule): offered again,
    /// first, until they have left.
    owed: Vec<u8>,
}

impl AsyncConnection {
    /// Puts `conn` on the current runtime's reactor. Fails outside a
    /// runtime with IO enabled.
    pub fn new(conn: Connection) -> io::Result<AsyncConnection> {
        ::tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        Ok(AsyncConnection {
            io: Registration::Waiting(Some(conn)),
            owed: Vec::new(),
        })
    }

    /// The connection underneath, for questions (`is_plain`, `buffered`,
    /// `peer_addr`). Do not send or receive through it: use this stream.
    pub fn get_ref(&self) -> &Connection {
        match &self.io {
            Registration::Waiting(Some(conn)) => conn,
            Registration::Registered(io) => io.get_ref(),
            Registration::Waiting(None) => unreachable_state(),
        }
    }

    fn get_mut(&mut self) -> &mut Connection {
        match &mut self.io {
            Registration::Waiting(Some(conn)) => conn,
            Registration::Registered(io) => io.get_mut(),
            Registration::Waiting(None) => unreachable_state(),
        }
    }

    /// The connection on the reactor, registered now if it was not yet.
    fn reactor(&mut self) -> io::Result<&mut AsyncFd<Connection>> {
        if let Registration::Waiting(conn) = &mut self.io {
            let Some(conn) = conn.take() else {
                unreachable_state()
            };
            match super::reactor::register_connection(conn) {
                Ok(io) => self.io = Registration::Registered(io),
                Err((conn, e)) => {
                    self.io = Registration::Waiting(Some(conn));
                    return Err(e);
                }
            }
        }
        match &mut self.io {
            Registration::Registered(io) => Ok(io),
            Registration::Waiting(_) => unreachable_state(),
        }
    }

    /// The connection, off the reactor.
    fn into_connection(self) -> Connection {
        match self.io {
            Registration::Waiting(Some(conn)) => conn,
            Registration::Registered(io) => io.into_inner(),
            Registration::Waiting(None) => unreachable_state(),
        }
    }

    /// The connection off the reactor, for blocking use; `Err(self)` while
    /// bytes `poll_write` accepted are still owed (flush first).
    #[allow(clippy::result_large_err)] // the error is the stream itself, as for `into_tcp_stream`
    pub fn into_inner(mut self) -> Result<Connection, AsyncConnection> {
        if !self.owed.is_empty() {
            let owed = std::mem::take(&mut self.owed);
            let sent = self.get_mut().send(&owed);
            self.owed = owed;
            match sent {
                Ok(_) => self.owed.clear(),
                Err(_) => return Err(self),
            }
        }
        Ok(self.into_connection())
    }

    /// The plain `tokio::net::TcpStream`, when no TLS sits on the
    /// connection and nothing is buffered
    /// ([`Connection::into_tcp_stream`]'s rule); otherwise `Err(self)`,
    /// unchanged. The inner `io::Result` is the stream's registration with
    /// the reactor.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(conn: handover::tokio::AsyncConnection) -> std::io::Result<()> {
    /// match conn.into_tcp_stream() {
    ///     Ok(stream) => {
    ///         let stream: tokio::net::TcpStream = stream?;
    ///         stream.set_nodelay(true)?;
    ///     }
    ///     Err(_conn) => { /* TLS or buffered bytes: keep the AsyncConnection */ }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn into_tcp_stream(self) -> Result<io::Result<::tokio::net::TcpStream>, AsyncConnection> {
        if !self.owed.is_empty() || !self.get_ref().unwraps_to_tcp() {
            return Err(self);
        }
        Ok(match self.into_connection().into_tcp_stream() {
            Ok(stream) => ::tokio::net::TcpStream::from_std(stream),
            // `unwraps_to_tcp` said it would: not reached.
            Err(_) => Err(io::Error::other("the connection did not unwrap to TCP")),
        })
    }

    /// True when the bytes on the socket are the application's: see
    /// [`Connection::is_plain`].
    pub fn is_plain(&self) -> bool {
        self.get_ref().is_plain()
    }

    /// The address of the first hop (the server, or the first proxy).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().peer_addr()
    }

    /// The local end of the socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }

    /// Sends one WebSocket frame or part of one (`curl_ws_send`), waiting
    /// until the socket takes some of it: see [`Connection::ws_send`].
    pub async fn ws_send(
        &mut self,
        data: &[u8],
        fragsize: u64,
        flags: Flags,
    ) -> Result<usize, Error> {
        std::future::poll_fn(|cx| {
            self.poll_io(cx, Direction::Write, |conn| {
                conn.ws_send(data, fragsize, flags)
            })
        })
        .await
    }

    /// Receives at most one frame's payload and its meta (`curl_ws_recv`),
    /// waiting until there is one: see [`Connection::ws_recv`]. PINGs are
    /// answered meanwhile.
    pub async fn ws_recv(&mut self, buf: &mut [u8]) -> Result<(usize, Frame), Error> {
        std::future::poll_fn(|cx| self.poll_io(cx, Direction::Read, |conn| conn.ws_recv(buf))).await
    }

    /// Runs a non-blocking connection call until it stops saying `Again`,
    /// waiting for the reactor in between. Bytes the connection holds are
    /// served without waiting; readiness is cleared only after the call
    /// found the socket empty (or full).
    fn poll_io<T>(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&mut Connection) -> Result<T, Error>,
    ) -> Poll<Result<T, Error>> {
        if direction == Direction::Read && self.get_ref().ready_now() {
            match op(self.get_mut()) {
                Err(e) if e.is_again() => {}
                other => return Poll::Ready(other),
            }
        }
        loop {
            let io = match self.reactor() {
                Ok(io) => io,
                Err(e) => return Poll::Ready(Err(reactor_error(&e))),
            };
            let mut guard = match ready!(direction.poll(io, cx)) {
                Ok(guard) => guard,
                Err(e) => return Poll::Ready(Err(reactor_error(&e))),
            };
            match op(guard.get_inner_mut()) {
                Err(e) if e.is_again() => guard.clear_ready(),
                other => return Poll::Ready(other),
            }
        }
    }

    /// Sends the owed bytes until none is left.
    fn poll_owed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.owed.is_empty() {
            let owed = std::mem::take(&mut self.owed);
            let sent = self.poll_io(cx, Direction::Write, |conn| conn.send(&owed));
            self.owed = owed;
            match ready!(sent) {
                Ok(n) => drop(self.owed.drain(..n.min(self.owed.len()))),
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Which readiness a call waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

impl Direction {
    fn poll<'a>(
        self,
        io: &'a mut AsyncFd<Connection>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, Connection>>> {
        match self {
            Direction::Read => io.poll_read_ready_mut(cx),
            Direction::Write => io.poll_write_ready_mut(cx),
        }
    }
}

/// Where the connection is.
enum Registration {
    /// Not on the reactor yet; `None` only inside [`AsyncConnection::reactor`].
    Waiting(Option<Connection>),
    Registered(AsyncFd<Connection>),
}

/// The registration is taken out and put back within one call: never seen.
fn unreachable_state() -> ! {
    unreachable!("an AsyncConnection between registration states")
}

fn reactor_error(e: &io::Error) -> Error {
    Error::from_io(
        crate::ErrorKind::UnrecoverablePoll,
        "tokio readiness failed",
        e,
    )
}

impl AsyncRead for AsyncConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // Owed bytes ride along with reading (a reader that never flushes
        // still gets them out); waiting for room is `poll_write`'s job.
        if !this.owed.is_empty() {
            let _ = this.poll_owed(cx);
        }
        let room = buf.initialize_unfilled();
        match ready!(this.poll_io(cx, Direction::Read, |conn| conn.recv(room))) {
            Ok(n) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }
}

impl AsyncWrite for AsyncConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_owed(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let mut guard = match ready!(this.reactor()?.poll_write_ready_mut(cx)) {
                Ok(guard) => guard,
                Err(e) => return Poll::Ready(Err(e)),
            };
            match guard.get_inner_mut().send(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.is_again() => {
                    // TLS may have taken bytes it could not send: they are
                    // written as far as the caller is concerned, and owed.
                    let taken = guard.get_inner().owed().min(buf.len());
                    guard.clear_ready();
                    if taken > 0 {
                        this.owed.extend_from_slice(&buf[..taken]);
                        return Poll::Ready(Ok(taken));
                    }
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_owed(cx))?;
        match ready!(this.poll_io(cx, Direction::Write, Connection::flush_queued)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_owed(cx))?;
        match ready!(this.poll_io(cx, Direction::Write, Connection::close_write)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }
}

impl AsRawFd for AsyncConnection {
    /// The socket to the first hop; do I/O through the stream.
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncConnection")
            .field("connection", self.get_ref())
            .field("owed", &self.owed.len())
            .finish()
    }
}
