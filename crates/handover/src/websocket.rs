//! Whole WebSocket messages for Rust users, on top of the frame-level
//! `ws_send`/`ws_recv`: fragments reassembled, blocking with the
//! connection's timeouts, and the close handshake with code and reason.

use std::fmt;
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::easy::Easy;
use crate::error::{Error, ErrorKind};
use crate::options::ConnectOnly;
use crate::ws::{self, Frame};

/// The largest message [`WebSocket::recv`] assembles unless told otherwise.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// One WebSocket message.
///
/// # Examples
///
/// ```no_run
/// # fn demo(socket: &mut handover::websocket::WebSocket) -> Result<(), handover::Error> {
/// use handover::websocket::Message;
///
/// socket.send(&Message::Binary(vec![1, 2, 3]))?;
/// loop {
///     match socket.recv()? {
///         Message::Text(text) => println!("text: {text}"),
///         Message::Binary(bytes) => println!("{} bytes", bytes.len()),
///         Message::Ping(_) | Message::Pong(_) => {}
///         Message::Close(why) => {
///             println!("server closed: {why:?}");
///             break;
///         }
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (not checked for UTF-8 validity on the way out).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (only seen with `NOAUTOPONG`).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close, with its status code and reason if it carried one.
    Close(Option<(u16, String)>),
}

/// A WebSocket over a handed-over connection (connect-only = 2 on ws:// or
/// wss://), message by message.
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, websocket::{Message, WebSocket}};
///
/// let mut easy = Easy::new();
/// easy.url("wss://example.com/chat")?;
/// easy.connect_only(ConnectOnly::Headers)?;
/// easy.perform()?;
/// let mut socket = WebSocket::new(easy.take_connection()?)?;
/// socket.send(&Message::Text("hello".into()))?;
/// let answer = socket.recv()?;
/// socket.close(1000, "bye")?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Debug)]
pub struct WebSocket {
    conn: Connection,
    timeout: Option<Duration>,
    max_message: usize,
    /// A fragmented message in progress: control frames may arrive between
    /// its fragments and are returned first; the fragments wait here.
    partial: Vec<u8>,
    partial_kind: u32,
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

fn timed_out(what: &str) -> Error {
    Error::new(
        ErrorKind::OperationTimedout,
        format!("WebSocket {what} timed out"),
    )
}

/// [`WebSocket::new`] refused a connection that did not go through a
/// WebSocket upgrade; the connection comes back unharmed, as
/// [`std::io::IntoInnerError`] gives its writer back.
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, websocket::WebSocket};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.perform()?;
/// match WebSocket::new(easy.take_connection()?) {
///     Ok(socket) => { /* messages */ }
///     Err(refused) => {
///         eprintln!("{} (CURLcode {})", refused, refused.error().code());
///         let mut conn = refused.into_connection(); // still connected
///         conn.send(b"...")?;
///     }
/// }
/// # Ok::<(), handover::Error>(())
/// ```
pub struct IntoWebSocketError {
    error: Error,
    /// Boxed: the error stays small on the `Result`'s happy path.
    conn: Box<Connection>,
}

impl IntoWebSocketError {
    /// Why the connection was refused (`BadFunctionArgument`, 43).
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The connection, as it was handed in.
    pub fn into_connection(self) -> Connection {
        *self.conn
    }

    /// The error alone; the connection is closed.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The error and the connection.
    pub fn into_parts(self) -> (Error, Connection) {
        (self.error, *self.conn)
    }
}

impl fmt::Display for IntoWebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for IntoWebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoWebSocketError")
            .field("error", &self.error)
            .field("connection", &self.conn)
            .finish()
    }
}

impl std::error::Error for IntoWebSocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Lets `?` turn the refusal into a plain [`Error`] (closing the connection).
impl From<IntoWebSocketError> for Error {
    fn from(refused: IntoWebSocketError) -> Error {
        refused.error
    }
}

/// The scheme of `url` when it names one (`ws` in `ws://host/`).
fn scheme_of(url: &str) -> Option<&str> {
    url.split_once("://").map(|(scheme, _)| scheme)
}

impl WebSocket {
    /// Connects to a `ws://` or `wss://` URL and completes the upgrade, in
    /// one call (tungstenite's `connect`): an [`Easy`] with libcurl's
    /// defaults (TLS verified against the system store, proxies from the
    /// environment) and connect-only = 2. For proxies, TLS options,
    /// timeouts or extra request headers, use
    /// [`connect_with`](WebSocket::connect_with).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::websocket::{Message, WebSocket};
    ///
    /// let mut socket = WebSocket::connect("wss://echo.example/chat")?;
    /// socket.send(&Message::Text("hello".into()))?;
    /// let answer = socket.recv()?;
    /// socket.close(1000, "bye")?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn connect(url: &str) -> Result<WebSocket, Error> {
        let mut easy = Easy::new();
        easy.url(url)?;
        WebSocket::connect_with(&mut easy)
    }

    /// Completes the upgrade with the options set on `easy` (its URL,
    /// proxies, TLS, timeouts, headers) and takes its connection. Sets
    /// connect-only = 2 on the handle. The handle keeps what the transfer
    /// learned: [`Easy::response_header`] on the `101`, timings, addresses.
    ///
    /// Fails with `UnsupportedProtocol` (1) before connecting when the URL
    /// is not `ws://` or `wss://`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use handover::{Easy, websocket::WebSocket};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("wss://chat.internal/socket")?;
    /// easy.proxy("http://proxy.corp:3128")?;
    /// easy.cainfo("/etc/corp/ca.pem")?;
    /// easy.connect_timeout(Duration::from_secs(10))?;
    /// let mut socket = WebSocket::connect_with(&mut easy)?;
    /// println!("server chose {:?}", easy.response_header("Sec-WebSocket-Protocol"));
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn connect_with(easy: &mut Easy) -> Result<WebSocket, Error> {
        if let Some(url) = easy.opts.url.as_deref() {
            // Only the scheme goes into the message: the URL may carry a password.
            let refused = match scheme_of(url) {
                Some(s) if s.eq_ignore_ascii_case("ws") || s.eq_ignore_ascii_case("wss") => None,
                Some(s) if s.len() <= 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    Some(format!("a {s}:// URL"))
                }
                _ => Some("a URL without a ws:// or wss:// scheme".to_owned()),
            };
            if let Some(what) = refused {
                return Err(Error::new(
                    ErrorKind::UnsupportedProtocol,
                    format!("a WebSocket connects to a ws:// or wss:// URL, not {what}"),
                ));
            }
        }
        easy.connect_only(ConnectOnly::Headers)?;
        easy.perform()?;
        Ok(WebSocket::new(easy.take_connection()?)?)
    }

    /// Wraps a connection that went through a WebSocket upgrade
    /// (connect-only = 2 on a `ws://` or `wss://` URL). Any other
    /// connection is refused and given back inside the error.
    pub fn new(conn: Connection) -> Result<WebSocket, IntoWebSocketError> {
        if !conn.is_websocket() {
            return Err(IntoWebSocketError {
                error: Error::new(
                    ErrorKind::BadFunctionArgument,
                    "not a WebSocket connection: use connect_only(Headers) on a ws:// or wss:// URL",
                ),
                conn: Box::new(conn),
            });
        }
        Ok(WebSocket {
            conn,
            timeout: None,
            max_message: DEFAULT_MAX_MESSAGE,
            partial: Vec::new(),
            partial_kind: 0,
        })
    }

    /// How long `send`, `recv` and `close` may wait; `None` (the default)
    /// waits without limit.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The largest message `recv` assembles; bigger ones fail with
    /// `TooLarge` (100).
    pub fn set_max_message(&mut self, bytes: usize) {
        self.max_message = bytes;
    }

    /// The connection back, for frame-level use.
    pub fn into_inner(self) -> Connection {
        self.conn
    }

    /// Sends one message as one frame, waiting until it is out.
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        let close_payload;
        let (flags, payload): (u32, &[u8]) = match message {
            Message::Text(t) => (ws::TEXT, t.as_bytes()),
            Message::Binary(b) => (ws::BINARY, b),
            Message::Ping(p) => (ws::PING, p),
            Message::Pong(p) => (ws::PONG, p),
            Message::Close(None) => (ws::CLOSE, &[]),
            Message::Close(Some((code, reason))) => {
                let mut p = code.to_be_bytes().to_vec();
                p.extend_from_slice(reason.as_bytes());
                close_payload = p;
                (ws::CLOSE, &close_payload)
            }
        };
        let until = deadline(self.timeout);
        let mut sent = 0;
        let mut first = true;
        while first || sent < payload.len() {
            let rest = payload.get(sent..).unwrap_or(&[]);
            let fragsize = if first { payload.len() as u64 } else { 0 };
            match self.conn.ws_send(rest, fragsize, flags | ws::OFFSET) {
                Ok(n) => {
                    sent += n;
                    first = false;
                }
                Err(e) if e.is_again() => self.wait(until, false, "send")?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn wait(&mut self, until: Option<Instant>, read: bool, what: &str) -> Result<(), Error> {
        let left = match until {
            None => None,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(timed_out(what));
                }
                Some(d - now)
            }
        };
        let ready = if read {
            self.conn.wait_readable(left)?
        } else {
            self.conn.wait_writable(left)?
        };
        if ready {
            Ok(())
        } else {
            Err(timed_out(what))
        }
    }

    /// Receives the next whole message, joining fragments.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(socket: &mut handover::websocket::WebSocket) -> Result<(), handover::Error> {
    /// use std::time::Duration;
    ///
    /// socket.set_timeout(Some(Duration::from_secs(30)));
    /// match socket.recv() {
    ///     Ok(message) => println!("{message:?}"),
    ///     Err(e) if e.is_operation_timedout() => println!("quiet for 30 s"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(&mut self) -> Result<Message, Error> {
        let until = deadline(self.timeout);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let (n, frame) = match self.conn.ws_recv(&mut buf) {
                Ok(got) => got,
                Err(e) if e.is_again() => {
                    self.wait(until, true, "recv")?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Frame {
                flags, bytesleft, ..
            } = frame;
            let control = flags & (ws::CLOSE | ws::PING | ws::PONG);
            if control != 0 {
                // Control frames are at most 125 bytes; collect this one alone.
                let mut payload = buf.get(..n).unwrap_or(&[]).to_vec();
                let mut left = bytesleft;
                while left > 0 {
                    match self.conn.ws_recv(&mut buf) {
                        Ok((k, f)) => {
                            payload.extend_from_slice(buf.get(..k).unwrap_or(&[]));
                            left = f.bytesleft;
                        }
                        Err(e) if e.is_again() => self.wait(until, true, "recv")?,
                        Err(e) => return Err(e),
                    }
                }
                return Ok(match control {
                    ws::PING => Message::Ping(payload),
                    ws::PONG => Message::Pong(payload),
                    _ => Message::Close(parse_close(&payload)),
                });
            }
            if self.partial_kind == 0 {
                self.partial_kind = flags & (ws::TEXT | ws::BINARY);
            }
            if self.partial.len() + n > self.max_message {
                self.partial.clear();
                self.partial_kind = 0;
                return Err(Error::new(
                    ErrorKind::TooLarge,
                    format!("WebSocket message larger than {} bytes", self.max_message),
                ));
            }
            self.partial.extend_from_slice(buf.get(..n).unwrap_or(&[]));
            if bytesleft == 0 && flags & ws::CONT == 0 {
                let data = std::mem::take(&mut self.partial);
                let kind = std::mem::replace(&mut self.partial_kind, 0);
                return Ok(if kind == ws::TEXT {
                    match String::from_utf8(data) {
                        Ok(text) => Message::Text(text),
                        Err(e) => Message::Binary(e.into_bytes()),
                    }
                } else {
                    Message::Binary(data)
                });
            }
        }
    }

    /// The close handshake: sends a close with `code` and `reason`, then
    /// reads (and drops) messages until the server's close arrives, and
    /// returns its code and reason.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<Option<(u16, String)>, Error> {
        if reason.len() > 123 {
            return Err(Error::new(
                ErrorKind::TooLarge,
                "a close reason holds at most 123 bytes",
            ));
        }
        self.send(&Message::Close(Some((code, reason.to_owned()))))?;
        loop {
            match self.recv() {
                Ok(Message::Close(answer)) => return Ok(answer),
                Ok(_) => {}
                // The server may end the connection right after its close.
                Err(e) if e.kind() == ErrorKind::GotNothing => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

fn parse_close(payload: &[u8]) -> Option<(u16, String)> {
    let code = payload.get(..2)?;
    let code = u16::from_be_bytes([code[0], code[1]]);
    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or(&[])).into_owned();
    Some((code, reason))
}
