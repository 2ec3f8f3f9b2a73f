//! The handed-over connection: what the application owns after a
//! connect-only transfer.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::layer::{Io, Stack};
use crate::sys::{self, Interest, PollFd};
use crate::ws::{Flags, Frame, WsSession};

/// A live connection that handover set up: TCP, and TLS when the scheme
/// asked for it, ready for the application's own protocol.
///
/// [`send`](Connection::send) and [`recv`](Connection::recv) never wait,
/// like `curl_easy_send`/`curl_easy_recv`: they answer
/// [`ErrorKind::Again`](crate::ErrorKind::Again) when nothing can move.
/// [`Read`] and [`Write`] wait, up to the read and write timeouts.
///
/// Before waiting on the raw descriptor yourself, call `recv` until it says
/// `Again`, or check [`buffered`](Connection::buffered): TLS may hold
/// decrypted bytes the socket no longer shows as readable.
/// [`wait_readable`](Connection::wait_readable) does both for you.
///
/// Dropping the connection closes it.
///
/// # Examples
///
/// Blocking reads and writes with timeouts:
///
/// ```no_run
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use handover::{ConnectOnly, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.perform()?;
///
/// let mut conn = easy.take_connection()?;
/// conn.set_read_timeout(Some(Duration::from_secs(10)));
/// conn.set_write_timeout(Some(Duration::from_secs(10)));
/// conn.write_all(b"HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")?;
/// let mut answer = Vec::new();
/// conn.read_to_end(&mut answer)?; // io::ErrorKind::TimedOut after 10 s of silence
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-blocking, in your own event loop:
///
/// ```no_run
/// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
/// use std::os::fd::AsRawFd;
///
/// let fd = conn.as_raw_fd(); // register it for readability in your loop
/// // ... when the loop says fd is readable, or whenever conn.buffered() > 0:
/// let mut buf = [0u8; 16 * 1024];
/// loop {
///     match conn.recv(&mut buf) {
///         Ok(0) => break,                      // closed in order
///         Ok(n) => println!("{n} bytes"),
///         Err(e) if e.is_again() => break,     // drained: back to the loop
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Connection {
    stack: Stack,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Set after a WebSocket upgrade (connect-only = 2 on ws/wss).
    ws: Option<Box<WsSession>>,
}

impl Connection {
    pub(crate) fn new(stack: Stack) -> Connection {
        Connection {
            stack,
            read_timeout: None,
            write_timeout: None,
            ws: None,
        }
    }

    pub(crate) fn with_ws(mut self, session: WsSession) -> Connection {
        self.ws = Some(Box::new(session));
        self
    }

    /// The WebSocket session and the stack it frames, after an upgrade.
    pub(crate) fn ws_parts(&mut self) -> Option<(&mut WsSession, &mut Stack)> {
        Some((self.ws.as_deref_mut()?, &mut self.stack))
    }

    fn ws_session(&mut self, send: bool) -> Result<(&mut WsSession, &mut Stack), Error> {
        match self.ws.as_mut() {
            Some(ws) => Ok((ws, &mut self.stack)),
            None if send => Err(Error::new(
                ErrorKind::SendError,
                "Not a websocket transfer: use connect_only(Headers) on a ws:// or wss:// URL",
            )),
            None => Err(Error::new(
                ErrorKind::BadFunctionArgument,
                "connection is not setup for websocket",
            )),
        }
    }

    /// Sends one WebSocket frame, or part of one (`curl_ws_send`). Needs a
    /// connection that went through a WebSocket upgrade (connect-only = 2
    /// on `ws://` or `wss://`); for whole messages,
    /// [`WebSocket`](crate::websocket::WebSocket) is simpler.
    ///
    /// `flags` is one of [`ws::TEXT`](crate::ws::TEXT), `BINARY`, `CLOSE`,
    /// `PING`, `PONG` (a [`ws::Flags`](crate::ws::Flags)), with
    /// [`ws::CONT`](crate::ws::CONT) for a fragment that is not the last. With [`ws::OFFSET`](crate::ws::OFFSET) the first call
    /// gives the whole frame's size as `fragsize` and later calls continue the
    /// frame. Returns the payload bytes taken: fewer than offered means call
    /// again with the rest; `Again` means none were taken. A control frame
    /// over 125 bytes is `TooLarge` (100). In raw mode this is `send`.
    ///
    /// # Examples
    ///
    /// A large message sent in pieces, the first call giving its size:
    ///
    /// ```no_run
    /// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
    /// use handover::ws;
    ///
    /// let payload = vec![b'x'; 100_000];
    /// let mut sent = 0;
    /// while sent < payload.len() {
    ///     let fragsize = if sent == 0 { payload.len() as u64 } else { 0 };
    ///     match conn.ws_send(&payload[sent..], fragsize, ws::BINARY | ws::OFFSET) {
    ///         Ok(n) => sent += n,
    ///         Err(e) if e.is_again() => {
    ///             conn.wait_writable(None)?;
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn ws_send(&mut self, data: &[u8], fragsize: u64, flags: Flags) -> Result<usize, Error> {
        let (ws, stack) = self.ws_session(true)?;
        ws.send(stack, data, fragsize, flags)
    }

    /// Begins a WebSocket frame of `len` payload bytes whose payload the
    /// following [`ws_send`](Connection::ws_send) calls carry
    /// (`curl_ws_start_frame`, libcurl 8.16); their `fragsize` and `flags`
    /// are not looked at until the frame is complete. The header goes out
    /// with the next `ws_send` (for an empty frame: one `ws_send` of no
    /// bytes).
    ///
    /// Errors as libcurl's: `SendError` (55) when the connection is no
    /// WebSocket or a frame is still in progress, `FailedInit` (2) in raw
    /// mode, `BadFunctionArgument` (43) for flags that make no frame,
    /// `TooLarge` (100) for a control frame over 125 bytes.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
    /// use handover::ws;
    ///
    /// conn.ws_start_frame(ws::TEXT, 11)?;
    /// for piece in [&b"hello "[..], &b"world"[..]] {
    ///     let mut sent = 0;
    ///     while sent < piece.len() {
    ///         match conn.ws_send(&piece[sent..], 0, ws::Flags::empty()) {
    ///             Ok(n) => sent += n,
    ///             Err(e) if e.is_again() => {
    ///                 conn.wait_writable(None)?;
    ///             }
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn ws_start_frame(&mut self, flags: Flags, len: u64) -> Result<(), Error> {
        let (ws, _) = self.ws_session(true)?;
        ws.start_frame(flags, len)
    }

    /// Receives at most one frame's payload and its meta (`curl_ws_recv`):
    /// `Frame::offset`/`bytesleft` place the chunk in the frame; an empty
    /// `buf` returns just the next frame's meta. PINGs are answered and not
    /// returned unless `NOAUTOPONG`. A protocol violation by the server is
    /// `RecvError` (56), after every frame before it; a closed connection is
    /// `GotNothing` (52).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
    /// use handover::ws;
    ///
    /// let mut message = Vec::new();
    /// let mut buf = [0u8; 4096];
    /// loop {
    ///     match conn.ws_recv(&mut buf) {
    ///         Ok((n, frame)) => {
    ///             message.extend_from_slice(&buf[..n]);
    ///             if frame.flags.contains(ws::CLOSE) {
    ///                 break; // the server closes
    ///             }
    ///             if frame.bytesleft == 0 && !frame.flags.contains(ws::CONT) {
    ///                 break; // last chunk of the last fragment: message complete
    ///             }
    ///         }
    ///         Err(e) if e.is_again() => {
    ///             conn.wait_readable(None)?;
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn ws_recv(&mut self, buf: &mut [u8]) -> Result<(usize, Frame), Error> {
        let (ws, stack) = self.ws_session(false)?;
        ws.recv(stack, buf)
    }

    /// True after a WebSocket upgrade.
    pub fn is_websocket(&self) -> bool {
        self.ws.is_some()
    }

    /// Sends what can be sent now; `Again` when nothing can move. A zero
    /// length send returns `Ok(0)` (libcurl 8.7 and later).
    ///
    /// Over TLS, libcurl's rule holds: when the records carrying the bytes
    /// could not all leave, `send` answers `Again`, and the next call must
    /// offer the same bytes first (the same buffer, or a longer one starting
    /// with them); it reports them sent once they have left. Offering other
    /// bytes is [`ErrorKind::BadFunctionArgument`](crate::ErrorKind::BadFunctionArgument)
    /// rather than silent corruption. `Ok(n)` always means the bytes are on
    /// the socket, so waiting for the peer's answer after it cannot deadlock.
    pub fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
        self.stack.send(buf)
    }

    /// Receives what is there now: `Ok(0)` means the peer closed in order
    /// (every time it is asked again), `Again` means nothing is there yet.
    ///
    /// On a WebSocket connection these are the bytes as they arrived
    /// (raw mode): bytes the WebSocket session already holds and has not
    /// decoded come first, so none is skipped.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if let Some(ws) = self.ws.as_mut() {
            let held = ws.take_buffered(buf);
            if held > 0 {
                return Ok(held);
            }
        }
        self.stack.recv(buf)
    }

    /// Pushes protocol bytes queued inside the layers (a TLS key-update
    /// reply, say) without waiting; `Again` if some are still queued.
    pub fn flush_queued(&mut self) -> Result<(), Error> {
        self.stack.flush()
    }

    /// Ends the sending direction, as `shutdown(SHUT_WR)` does for a plain
    /// socket: TLS sends close_notify (to the server, then to an HTTPS
    /// proxy), then the socket's write side is shut down, so the peer reads
    /// the end of the stream. Receiving goes on until the peer closes its
    /// side. Never waits: `Again` while TLS records wait for room on the
    /// socket; call again (nothing is queued twice). libcurl has no such
    /// call; with it a relay can pass on a half-close.
    pub fn close_write(&mut self) -> Result<(), Error> {
        self.stack.close_write()
    }

    /// True when `recv` answers without the socket: bytes held, the end
    /// of the stream seen, or a failure to report.
    #[cfg(feature = "tokio")]
    pub(crate) fn ready_now(&self) -> bool {
        self.stack.ready() || self.ws.as_ref().is_some_and(|ws| ws.pending() > 0)
    }

    /// Bytes a `send` that answered `Again` took into TLS: the retry must
    /// offer them first.
    #[cfg(feature = "tokio")]
    pub(crate) fn owed(&self) -> usize {
        self.stack.owed()
    }

    /// Bytes `recv` will return without reading the socket.
    pub fn buffered(&self) -> usize {
        self.stack.buffered() + self.ws.as_ref().map_or(0, |ws| ws.pending())
    }

    /// Waits until `recv` has something to say (data, end of stream or an
    /// error), pushing queued output meanwhile. Returns `Ok(false)` on timeout;
    /// `None` waits without limit. Bytes TLS already decrypted count, so this
    /// never sleeps while `recv` could answer.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
    /// use std::time::Duration;
    ///
    /// let mut buf = [0u8; 4096];
    /// let n = loop {
    ///     match conn.recv(&mut buf) {
    ///         Err(e) if e.is_again() => {
    ///             if !conn.wait_readable(Some(Duration::from_secs(5)))? {
    ///                 println!("nothing for 5 s");
    ///             }
    ///         }
    ///         other => break other?,
    ///     }
    /// };
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_readable(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.wait(Interest::READ, timeout)
    }

    /// Waits until `send` can take bytes. Returns `Ok(false)` on timeout.
    pub fn wait_writable(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.wait(Interest::WRITE, timeout)
    }

    fn wait(&mut self, want: Interest, timeout: Option<Duration>) -> Result<bool, Error> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if want.read && (self.stack.ready() || self.buffered() > 0) {
                return Ok(true);
            }
            match self.stack.flush() {
                Ok(()) => {}
                Err(e) if e.is_again() => {}
                Err(e) => return Err(e),
            }
            let queued = self.stack.interest().write;
            let interest = Interest {
                read: want.read,
                write: want.write || queued,
            };
            let left = match deadline {
                None => None,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    Some(d - now)
                }
            };
            let mut fds = [PollFd::new(self.stack.fd(), interest)];
            sys::poll(&mut fds, left)
                .map_err(|e| Error::from_io(ErrorKind::UnrecoverablePoll, "poll failed", &e))?;
            let [fd] = fds;
            if want.read && fd.readable() {
                return Ok(true);
            }
            if fd.writable() {
                // Writable may only mean room for queued TLS records: push
                // them and report ready once nothing is queued.
                match self.stack.flush() {
                    Ok(()) if want.write => return Ok(true),
                    Ok(()) => {}
                    Err(e) if e.is_again() => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Sets how long [`Read::read`] waits; `None` (the default) waits forever.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Sets how long [`Write::write`] and [`Write::flush`] wait.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// The address of the first hop (the server, or the first proxy); an
    /// error over a Unix domain socket, which has no IP address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stack.peer().ip().ok_or_else(not_ip)
    }

    /// The local end of the socket; an error over a Unix domain socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stack
            .stream()
            .local_addr()?
            .as_socket()
            .ok_or_else(not_ip)
    }

    /// True when the bytes on the socket are the application's bytes: no
    /// TLS, and no handshake (SOCKS, CONNECT, the request of connect-only =
    /// 2) still holding bytes that arrived with its answer.
    /// [`into_tcp_stream`](Connection::into_tcp_stream) succeeds exactly when
    /// this is true and nothing is buffered.
    pub fn is_plain(&self) -> bool {
        self.stack.is_bare()
    }

    /// The plain `TcpStream`, when no TLS sits on it and nothing is
    /// buffered; otherwise the connection comes back unchanged. Direct
    /// connections and tunnels through SOCKS and HTTP proxies both unwrap;
    /// after connect-only = 2, only once the body bytes that came with the
    /// head have been received.
    ///
    /// The stream stays in the non-blocking mode handover used: `read` and
    /// `write` on it answer [`io::ErrorKind::WouldBlock`] instead of
    /// waiting. One call, `stream.set_nonblocking(false)`, makes it an
    /// ordinary blocking stream.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::io::{Read, Write};
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("telnet://127.0.0.1:7")?; // plain TCP to the echo port
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform()?;
    ///
    /// let mut stream = match easy.take_connection()?.into_tcp_stream() {
    ///     Ok(stream) => stream,
    ///     Err(_conn) => panic!("a layer or buffered bytes: keep using the Connection"),
    /// };
    /// stream.set_nonblocking(false)?;
    /// stream.write_all(b"ping")?;
    /// let mut echo = [0u8; 4];
    /// stream.read_exact(&mut echo)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_tcp_stream(self) -> Result<TcpStream, Connection> {
        if !self.unwraps_to_tcp() {
            return Err(self);
        }
        self.into_socket().map(TcpStream::from)
    }

    /// True when [`into_tcp_stream`](Connection::into_tcp_stream) succeeds.
    pub(crate) fn unwraps_to_tcp(&self) -> bool {
        self.stack.peer().ip().is_some() && !self.is_datagram() && self.unwraps_to_socket()
    }

    /// The UDP socket of a `tftp://` transfer: bound, not connected, with
    /// nothing sent — send the request with `send_to` to
    /// [`Easy::primary_ip`](crate::Easy::primary_ip)'s address and read
    /// the answer from the port it comes from, as TFTP does. Any other
    /// connection comes back unchanged. The socket is non-blocking.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("tftp://127.0.0.1:69/file")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform()?; // resolved, bound; no request sent
    /// let server: std::net::SocketAddr = "127.0.0.1:69".parse()?;
    /// let socket = easy.take_connection()?.into_udp_socket().ok().expect("tftp is UDP");
    /// socket.send_to(b"\x00\x01file\x00octet\x00", server)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_udp_socket(self) -> Result<UdpSocket, Connection> {
        if !self.is_datagram() {
            return Err(self);
        }
        self.into_socket().map(UdpSocket::from)
    }

    /// True for the UDP socket of a TFTP transfer.
    fn is_datagram(&self) -> bool {
        self.stack
            .stream()
            .r#type()
            .is_ok_and(|t| t == socket2::Type::DGRAM)
    }

    /// The plain `UnixStream`, for a connection over a Unix domain socket
    /// ([`Easy::unix_socket_path`](crate::Easy::unix_socket_path)), under
    /// the same conditions as [`into_tcp_stream`](Connection::into_tcp_stream):
    /// no TLS on it and nothing buffered; otherwise (or over TCP) the
    /// connection comes back unchanged. The stream is non-blocking.
    pub fn into_unix_stream(self) -> Result<UnixStream, Connection> {
        if self.stack.peer().ip().is_some() {
            return Err(self);
        }
        self.into_socket()
            .map(|socket| UnixStream::from(OwnedFd::from(socket)))
    }

    /// The bare socket, when nothing sits on it or waits in a buffer.
    fn into_socket(self) -> Result<socket2::Socket, Connection> {
        if !self.unwraps_to_socket() {
            return Err(self);
        }
        let (read_timeout, write_timeout) = (self.read_timeout, self.write_timeout);
        self.stack.into_stream().map_err(|stack| Connection {
            stack,
            read_timeout,
            write_timeout,
            ws: None,
        })
    }

    /// True when nothing sits on the socket or waits in a buffer.
    fn unwraps_to_socket(&self) -> bool {
        self.buffered() == 0 && self.ws.is_none() && self.stack.is_bare()
    }

    fn timed_out(what: &str, limit: Option<Duration>) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{what} timed out after {} ms",
                limit.map_or(0, |d| d.as_millis())
            ),
        )
    }
}

impl Connection {
    /// Repeats a non-blocking call until it stops saying `Again`, waiting
    /// for readiness in between, up to `timeout`.
    fn blocking(
        &mut self,
        timeout: Option<Duration>,
        what: &str,
        mut op: impl FnMut(&mut Connection) -> Result<usize, Error>,
        want: Interest,
    ) -> io::Result<usize> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            match op(self) {
                Ok(n) => return Ok(n),
                Err(e) if e.is_again() => {}
                Err(e) => return Err(e.into()),
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) || !self.wait(want, left)? {
                return Err(Connection::timed_out(what, timeout));
            }
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.blocking(self.read_timeout, "read", |c| c.recv(buf), Interest::READ)
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.blocking(
            self.write_timeout,
            "write",
            |c| c.send(buf),
            Interest::WRITE,
        )
    }

    /// Waits until every byte accepted by `write` has left for the socket.
    fn flush(&mut self) -> io::Result<()> {
        let deadline = self
            .write_timeout
            .and_then(|t| Instant::now().checked_add(t));
        loop {
            match self.stack.flush() {
                Ok(()) => return Ok(()),
                Err(e) if e.is_again() => {}
                Err(e) => return Err(e.into()),
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(Connection::timed_out("flush", self.write_timeout));
            }
            let mut fds = [PollFd::new(self.stack.fd(), Interest::WRITE)];
            sys::poll(&mut fds, left)?;
        }
    }
}

impl AsRawFd for Connection {
    /// The socket to the first hop (`CURLINFO_ACTIVESOCKET`). Wait on it,
    /// but do I/O through the connection: TLS bytes on it are not yours.
    fn as_raw_fd(&self) -> RawFd {
        self.stack.fd()
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stack.stream().as_fd()
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.stack.peer())
            .field("fd", &self.stack.fd())
            .field("plain", &self.is_plain())
            .field("buffered", &self.buffered())
            .finish()
    }
}

/// The error of an IP-only question about a Unix socket connection.
fn not_ip() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the connection is over a Unix domain socket: it has no IP address",
    )
}
