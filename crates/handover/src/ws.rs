//! WebSocket frames over a handed-over connection, with libcurl's
//! `curl_ws_send`/`curl_ws_recv` semantics, on top of handover-proto's
//! sans-IO decoder and send state.
//!
//! The calls are `ws_send`/`ws_recv` on [`Easy`](crate::Easy),
//! [`EasyHandle`](crate::EasyHandle) and [`Connection`](crate::Connection),
//! after connect-only = 2 on a `ws://` or `wss://` URL; the constants here
//! are their flags. For whole messages and the close handshake, see
//! [`websocket::WebSocket`](crate::websocket::WebSocket).
//!
//! # Examples
//!
//! ```no_run
//! use handover::{ws, ConnectOnly, Easy};
//!
//! let mut easy = Easy::new();
//! easy.url("wss://echo.example/")?;
//! easy.connect_only(ConnectOnly::Headers)?;
//! easy.perform()?;
//!
//! // A text message in two fragments: CONT on every one but the last.
//! // (Each call returns how much payload it took; a short count means
//! // "call again with the rest", see Connection::ws_send.)
//! easy.ws_send(b"hello, ", 0, ws::TEXT | ws::CONT)?;
//! easy.ws_send(b"world", 0, ws::TEXT)?;
//!
//! let mut buf = [0u8; 1024];
//! loop {
//!     match easy.ws_recv(&mut buf) {
//!         Ok((n, frame)) => {
//!             println!("{:?}", String::from_utf8_lossy(&buf[..n]));
//!             if frame.bytesleft == 0 && frame.flags & ws::CONT == 0 {
//!                 break;
//!             }
//!         }
//!         Err(e) if e.is_again() => {
//!             easy.wait_readable(None)?;
//!         }
//!         Err(e) => return Err(e),
//!     }
//! }
//! # Ok::<(), handover::Error>(())
//! ```

/// What one [`ws_recv`](crate::Connection::ws_recv) call returned, as
/// libcurl's `struct curl_ws_frame`: the frame's type in `flags`
/// ([`TEXT`], [`BINARY`], [`CLOSE`], [`PING`], [`PONG`], with [`CONT`] on
/// every fragment but the last), and where the chunk sits in the frame.
///
/// # Examples
///
/// ```no_run
/// # fn demo(conn: &mut handover::Connection) -> Result<(), handover::Error> {
/// use handover::ws;
///
/// let mut buf = [0u8; 512];
/// let (n, frame) = conn.ws_recv(&mut buf)?;
/// let kind = match frame.flags & !ws::CONT {
///     ws::TEXT => "text",
///     ws::BINARY => "binary",
///     ws::CLOSE => "close",
///     ws::PING => "ping",
///     ws::PONG => "pong",
///     _ => "other",
/// };
/// println!("{kind}: bytes {}..{} of the frame, {} after them",
///          frame.offset, frame.offset + n as u64, frame.bytesleft);
/// # Ok(())
/// # }
/// ```
pub use handover_proto::ws::Frame;

use handover_proto::ws::{Decoder, Encoder, SendOutcome, SendState, WsError};

use crate::error::{Error, ErrorKind};
use crate::layer::{Io, Stack};

/// `CURLWS_TEXT`: a text frame.
pub const TEXT: u32 = handover_proto::ws::flags::TEXT;
/// `CURLWS_BINARY`: a binary frame.
pub const BINARY: u32 = handover_proto::ws::flags::BINARY;
/// `CURLWS_CONT`: not the last fragment of a message.
pub const CONT: u32 = handover_proto::ws::flags::CONT;
/// `CURLWS_CLOSE`: a close frame.
pub const CLOSE: u32 = handover_proto::ws::flags::CLOSE;
/// `CURLWS_PING`: a ping.
pub const PING: u32 = handover_proto::ws::flags::PING;
/// `CURLWS_OFFSET`: send part of a frame whose full size is `fragsize`.
pub const OFFSET: u32 = handover_proto::ws::flags::OFFSET;
/// `CURLWS_PONG`: a pong.
pub const PONG: u32 = handover_proto::ws::flags::PONG;
/// `CURLWS_RAW_MODE` (`ws_options`): no framing by handover at all.
pub const RAW_MODE: u32 = 1;
/// `CURLWS_NOAUTOPONG` (`ws_options`): PINGs go to the application.
pub const NOAUTOPONG: u32 = 2;

thread_local! {
    static CURRENT: std::cell::Cell<Option<Frame>> = const { std::cell::Cell::new(None) };
}

/// Inside a write callback of an ordinary ws/wss transfer: the frame the
/// delivered bytes belong to (`curl_ws_meta`). `None` anywhere else.
///
/// # Examples
///
/// ```no_run
/// use handover::{ws, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("wss://stream.example/ticks")?; // connect-only 0: payload to the callback
/// easy.write_function(|data| {
///     if let Some(frame) = ws::meta() {
///         if frame.flags & ws::CLOSE != 0 {
///             println!("close frame");
///         } else {
///             println!("{} payload bytes, {} to come", data.len(), frame.bytesleft);
///         }
///     }
///     Ok(data.len())
/// })?;
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
pub fn meta() -> Option<Frame> {
    CURRENT.with(|c| c.get())
}

/// Runs `f` (a write-callback delivery) with `frame` as the current meta.
pub(crate) fn with_current_frame<T>(frame: Frame, f: impl FnOnce() -> T) -> T {
    CURRENT.with(|c| c.set(Some(frame)));
    let out = f();
    CURRENT.with(|c| c.set(None));
    out
}

/// Bytes read from the connection per refill.
const READ_CHUNK: usize = 16 * 1024;

fn ws_error(e: &WsError) -> Error {
    let kind = match e.code() {
        100 => ErrorKind::TooLarge,
        43 => ErrorKind::BadFunctionArgument,
        _ => ErrorKind::RecvError,
    };
    Error::new(kind, e.message.clone())
}

fn mask() -> [u8; 4] {
    let mut m = [0u8; 4];
    // A predictable mask only weakens proxies' cache-poisoning defence;
    // fall back to the clock rather than fail the send.
    if getrandom::fill(&mut m).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        m = t.to_le_bytes();
    }
    m
}

/// The WebSocket state of a connection after a `101`.
pub(crate) struct WsSession {
    decoder: Decoder,
    sender: SendState,
    inbuf: Vec<u8>,
    in_pos: usize,
    raw: bool,
    autopong: bool,
    /// A PONG owed to the server (masked frame bytes, how many went out).
    pong: Option<(Vec<u8>, usize)>,
    /// The payload of a PING that arrived while a PONG was half-way out;
    /// answered once that one is complete (only the newest is kept).
    next_pong: Option<Vec<u8>>,
    /// A PING is being swallowed for auto-PONG: its payload goes to a
    /// scratch buffer, not the caller's.
    draining_ping: bool,
    /// A close was answered (callback model): the end of the stream is expected.
    pub closing: bool,
}

impl WsSession {
    pub fn new(options: u32) -> WsSession {
        WsSession {
            decoder: Decoder::new(),
            sender: SendState::new(),
            inbuf: Vec::new(),
            in_pos: 0,
            raw: options & RAW_MODE != 0,
            autopong: options & (RAW_MODE | NOAUTOPONG) == 0,
            pong: None,
            next_pong: None,
            draining_ping: false,
            closing: false,
        }
    }

    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// Received bytes not yet decoded into frames.
    pub fn pending(&self) -> usize {
        self.inbuf.len() - self.in_pos
    }

    /// Sends an owed PONG when no data frame is half-way out. A PONG that
    /// could only partly leave is offered again from where it stopped: the
    /// same bytes, as the TLS layer's retry rule wants.
    fn push_pong(&mut self, io: &mut Stack) -> Result<(), Error> {
        if !self.sender.is_idle() {
            return Ok(());
        }
        while let Some((bytes, pos)) = &mut self.pong {
            let rest = bytes.get(*pos..).unwrap_or(&[]);
            if rest.is_empty() {
                self.pong = None;
                if let Some(payload) = self.next_pong.take() {
                    self.owe_pong(&payload)?;
                }
                continue;
            }
            match io.send(rest) {
                Ok(n) => *pos += n,
                Err(e) if e.is_again() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn owe_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        if self.pong.as_ref().is_some_and(|(_, pos)| *pos > 0) {
            // Never cut a PONG already on the wire: answer this PING next.
            self.next_pong = Some(payload.to_vec());
            return Ok(());
        }
        let m = mask();
        let mut frame = Encoder::new()
            .header(PONG, payload.len() as u64, m)
            .map_err(|e| ws_error(&e))?;
        let start = frame.len();
        frame.extend_from_slice(payload);
        if let Some(body) = frame.get_mut(start..) {
            Encoder::mask(body, m, 0);
        }
        self.pong = Some((frame, 0));
        Ok(())
    }

    /// `curl_ws_recv`: at most one frame's worth of payload, with its meta.
    pub fn recv(&mut self, io: &mut Stack, buf: &mut [u8]) -> Result<(usize, Frame), Error> {
        if self.raw {
            return Err(Error::new(
                ErrorKind::BadFunctionArgument,
                "raw mode WebSocket: use recv, not ws_recv",
            ));
        }
        loop {
            self.push_pong(io)?;
            if self.in_pos < self.inbuf.len() {
                let input = self.inbuf.get(self.in_pos..).unwrap_or(&[]);
                // A swallowed PING's payload must be consumed even when the
                // caller's buffer is empty (it asked for meta only).
                let mut scratch = [0u8; 125];
                let out: &mut [u8] = if self.draining_ping {
                    &mut scratch
                } else {
                    buf
                };
                let (used, event) = self.decoder.decode(input, out).map_err(|e| ws_error(&e))?;
                self.in_pos += used;
                if let Some(frame) = event {
                    if self.autopong && frame.flags & PING != 0 {
                        self.draining_ping = frame.bytesleft > 0;
                        if frame.bytesleft == 0 {
                            let payload = self.decoder.ping_payload().unwrap_or(&[]).to_vec();
                            self.owe_pong(&payload)?;
                        }
                        continue;
                    }
                    return Ok((frame.len, frame));
                }
                if used > 0 {
                    continue;
                }
            }
            if self.in_pos == self.inbuf.len() {
                self.inbuf.clear();
                self.in_pos = 0;
            }
            let start = self.inbuf.len();
            self.inbuf.resize(start + READ_CHUNK, 0);
            let read = io.recv(&mut self.inbuf[start..]);
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.inbuf.truncate(start);
                    return Err(e);
                }
            };
            self.inbuf.truncate(start + n);
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::GotNothing,
                    "the WebSocket connection was closed by the server",
                ));
            }
        }
    }

    /// `curl_ws_send`: payload bytes taken (the rest is the caller's to
    /// offer again), or `Again` with none taken.
    pub fn send(
        &mut self,
        io: &mut Stack,
        data: &[u8],
        fragsize: u64,
        flags: u32,
    ) -> Result<usize, Error> {
        if self.raw {
            if fragsize != 0 || flags != 0 {
                return Err(Error::new(
                    ErrorKind::BadFunctionArgument,
                    "raw mode WebSocket: flags and fragsize must be 0",
                ));
            }
            return io.send(data);
        }
        self.push_pong(io)?;
        if self.pong.is_some() && self.sender.is_idle() {
            return Err(Error::again());
        }
        self.sender
            .start(data, fragsize, flags, mask())
            .map_err(|e| ws_error(&e))?;
        loop {
            let out = self.sender.transmit();
            if out.is_empty() {
                break;
            }
            match io.send(out) {
                Ok(n) => self.sender.sent(n),
                Err(e) if e.is_again() => break,
                Err(e) => return Err(e),
            }
        }
        match self.sender.finish() {
            SendOutcome::Sent(n) => Ok(n),
            SendOutcome::Again => Err(Error::again()),
        }
    }
}
