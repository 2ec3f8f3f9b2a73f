//! Whole WebSocket messages for Rust users: fragments reassembled, text
//! checked for UTF-8, blocking with a timeout, and the close handshake with
//! code and reason. The protocol is the connection's WebSocket session
//! (the same one under the frame-level `ws_send`/`ws_recv`); this module
//! waits for the connection and nothing more.

use std::fmt;
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::easy::Easy;
use crate::error::{Error, ErrorKind};
use crate::layer::Stack;
use crate::options::ConnectOnly;
use crate::ws::WsSession;

/// The largest message [`WebSocket::recv`] assembles unless told otherwise.
pub const DEFAULT_MAX_MESSAGE: usize = handover_proto::ws::session::DEFAULT_MAX_MESSAGE;

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
pub use handover_proto::ws::Message;

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
///
/// The protocol — reassembly, the UTF-8 check of text, automatic PONGs,
/// answering the server's CLOSE, the close handshake — is the connection's
/// WebSocket session (handover-proto's `ws::Session`); this type adds the
/// waiting, with one timeout per call. A call that times out loses
/// nothing: the part of a frame already read waits for the next call.
#[derive(Debug)]
pub struct WebSocket {
    conn: Connection,
    timeout: Option<Duration>,
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
        if let Some(url) = easy.opts.url.as_ref().map(crate::options::UrlOption::raw) {
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
        let mut socket = WebSocket {
            conn,
            timeout: None,
        };
        // Whole messages answer the server's CLOSE, as tungstenite does.
        if let Ok((ws, _)) = socket.session() {
            ws.set_close_echo(true);
        }
        Ok(socket)
    }

    /// The session and the stack under it (`new` checked they exist).
    fn session(&mut self) -> Result<(&mut WsSession, &mut Stack), Error> {
        self.conn
            .ws_parts()
            .ok_or_else(|| Error::new(ErrorKind::BadFunctionArgument, "not a WebSocket connection"))
    }

    /// How long `send`, `recv` and `close` may wait; `None` (the default)
    /// waits without limit.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The largest message `recv` assembles; bigger ones fail with
    /// `TooLarge` (100), and the next `recv` goes on after them.
    pub fn set_max_message(&mut self, bytes: usize) {
        if let Ok((ws, _)) = self.session() {
            ws.set_max_message(bytes);
        }
    }

    /// The connection back, for frame-level use (the server's CLOSE is then
    /// the application's to answer again, as with libcurl).
    pub fn into_inner(mut self) -> Connection {
        if let Ok((ws, _)) = self.session() {
            ws.set_close_echo(false);
        }
        self.conn
    }

    /// Sends one message as one frame, waiting until it is out.
    ///
    /// After [`close`](WebSocket::close) (or once the server's CLOSE was
    /// answered) only another close is accepted, and ignored; anything else
    /// is `BadFunctionArgument` (43).
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        let until = deadline(self.timeout);
        let (ws, stack) = self.session()?;
        let mut result = ws.send_message(stack, message);
        loop {
            match result {
                Err(e) if e.is_again() => self.wait(until, false, "send")?,
                other => return other,
            }
            let (ws, stack) = self.session()?;
            result = ws.flush(stack);
        }
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

    /// Receives the next whole message, joining fragments; control frames
    /// that arrive between fragments come first. PINGs are answered and not
    /// returned (unless `NOAUTOPONG`); the server's CLOSE is answered with
    /// its status code and returned. A text message that is not UTF-8 is
    /// `RecvError` (56), as in tungstenite; the next `recv` goes on after
    /// it. A closed connection is `GotNothing` (52).
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
        loop {
            let (ws, stack) = self.session()?;
            match ws.recv_message(stack) {
                Err(e) if e.is_again() => self.wait(until, true, "recv")?,
                other => return other,
            }
        }
    }

    /// The close handshake: sends a close with `code` and `reason`, then
    /// reads (and drops) messages until the server's close arrives, and
    /// returns its code and reason.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<Option<(u16, String)>, Error> {
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
