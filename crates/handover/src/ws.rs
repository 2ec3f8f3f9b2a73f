//! WebSocket frames over a handed-over connection, with libcurl's
//! `curl_ws_send`/`curl_ws_recv` semantics. The protocol (automatic PONG,
//! the answer to the server's CLOSE, reassembly, the close handshake, raw
//! mode) is handover-proto's sans-IO `ws::Session`; this module only moves
//! its bytes to and from the connection.
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
//!             if frame.bytesleft == 0 && !frame.flags.contains(ws::CONT) {
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
/// let kind = match frame.flags - ws::CONT {
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

/// libcurl's `CURLWS_*` frame flags as a type: what
/// [`ws_recv`](crate::Connection::ws_recv) received (`Frame::flags`) and
/// what [`ws_send`](crate::Connection::ws_send) should send. The constants
/// below ([`TEXT`], [`CONT`], …) are its values; `bits()` and
/// `from_bits()` map libcurl's numbers.
///
/// # Examples
///
/// ```
/// use handover::ws::{self, Flags};
///
/// let flags = ws::TEXT | ws::CONT;
/// assert!(flags.contains(ws::CONT));
/// assert_eq!(flags - ws::CONT, ws::TEXT);
/// assert_eq!(flags.bits(), 5); // CURLWS_TEXT | CURLWS_CONT
/// assert_eq!(Flags::from_bits(16), Some(ws::PING));
/// assert_eq!(Flags::from_bits(128), None);
/// ```
pub use handover_proto::ws::Flags;

/// libcurl's `CURLOPT_WS_OPTIONS` bits as a type, for
/// [`Easy::ws_options`](crate::Easy::ws_options): [`RAW_MODE`] and
/// [`NOAUTOPONG`].
///
/// # Examples
///
/// ```
/// use handover::ws::{self, Options};
///
/// let mut easy = handover::Easy::new();
/// easy.ws_options(ws::NOAUTOPONG)?;
/// assert_eq!(Options::from_bits(2), Some(ws::NOAUTOPONG));
/// # Ok::<(), handover::Error>(())
/// ```
pub use handover_proto::ws::Options;

use handover_proto::ws::{Message, SendOutcome, Session, WsError, WsErrorKind};

use crate::error::{Error, ErrorKind};
use crate::layer::Io;

/// `CURLWS_TEXT`: a text frame.
pub const TEXT: Flags = Flags::TEXT;
/// `CURLWS_BINARY`: a binary frame.
pub const BINARY: Flags = Flags::BINARY;
/// `CURLWS_CONT`: not the last fragment of a message.
pub const CONT: Flags = Flags::CONT;
/// `CURLWS_CLOSE`: a close frame.
pub const CLOSE: Flags = Flags::CLOSE;
/// `CURLWS_PING`: a ping.
pub const PING: Flags = Flags::PING;
/// `CURLWS_OFFSET`: send part of a frame whose full size is `fragsize`.
pub const OFFSET: Flags = Flags::OFFSET;
/// `CURLWS_PONG`: a pong.
pub const PONG: Flags = Flags::PONG;
/// `CURLWS_RAW_MODE` (`ws_options`): no framing by handover at all.
pub const RAW_MODE: Options = Options::RAW_MODE;
/// `CURLWS_NOAUTOPONG` (`ws_options`): PINGs go to the application.
pub const NOAUTOPONG: Options = Options::NOAUTOPONG;

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
///         if frame.flags.contains(ws::CLOSE) {
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

/// A session error as a handover error with libcurl's code.
fn ws_error(e: WsError) -> Error {
    let kind = match e.kind {
        WsErrorKind::TooLarge => ErrorKind::TooLarge,
        WsErrorKind::BadArgument => ErrorKind::BadFunctionArgument,
        WsErrorKind::Closed => ErrorKind::GotNothing,
        WsErrorKind::Protocol | WsErrorKind::InvalidUtf8 => ErrorKind::RecvError,
    };
    Error::new(kind, e.message)
}

fn closed_by_server() -> Error {
    Error::new(
        ErrorKind::GotNothing,
        "the WebSocket connection was closed by the server",
    )
}

/// What [`WsSession::stream`] handed over for the write callback.
pub(crate) enum Streamed {
    /// `n` bytes at the start of the buffer: payload described by the
    /// frame, or raw bytes (raw mode) with no frame.
    Bytes(usize, Option<Frame>),
    /// The server ended the connection after its CLOSE (or, in raw mode,
    /// at all): the transfer is complete.
    End,
}

/// The WebSocket state of a connection after a `101`: a proto
/// [`Session`] and the moving of its bytes. Every call takes the
/// connection (`io`) it works on.
pub(crate) struct WsSession {
    session: Session,
}

impl WsSession {
    /// For connect-only = 2: libcurl's frame API, in which the application
    /// answers the server's CLOSE.
    pub fn frames(options: Options) -> Result<WsSession, Error> {
        #[cfg(feature = "test-hooks")]
        if let Some(source) = crate::test_hooks::ws_mask_source() {
            let mut session = Session::new(options, [0; 32]);
            session.set_mask_source(source);
            return Ok(WsSession { session });
        }
        let mut seed = [0u8; 32];
        crate::random::fill(&mut seed, "WebSocket masks")?;
        Ok(WsSession {
            session: Session::new(options, seed),
        })
    }

    /// For an ordinary ws transfer: the frames go to the write callback and
    /// the server's CLOSE is answered with its status code.
    pub fn callbacks(options: Options) -> Result<WsSession, Error> {
        let mut ws = WsSession::frames(options)?;
        ws.session.set_close_echo(true);
        Ok(ws)
    }

    pub fn is_raw(&self) -> bool {
        self.session.options().contains(Options::RAW_MODE)
    }

    /// True when the session has bytes due for the peer (a PONG, a CLOSE
    /// echo) that met a full socket.
    pub fn wants_write(&self) -> bool {
        !self.session.transmit().is_empty()
    }

    /// Received bytes the session holds, not yet decoded.
    pub fn pending(&self) -> usize {
        self.session.buffered()
    }

    /// Hands held, undecoded bytes to a plain `recv`, so that none is skipped.
    pub fn take_buffered(&mut self, buf: &mut [u8]) -> usize {
        self.session.take_buffered(buf)
    }

    /// Whole messages answer the server's CLOSE (tungstenite); the frame
    /// API leaves it to the application (libcurl).
    pub fn set_close_echo(&mut self, on: bool) {
        self.session.set_close_echo(on);
    }

    pub fn set_max_message(&mut self, bytes: usize) {
        self.session.set_max_message(bytes);
    }

    /// Reads once from the connection into the session: the byte count,
    /// `0` at the end of the stream, `Again` when nothing is there.
    fn fill(&mut self, io: &mut dyn Io) -> Result<usize, Error> {
        let n = io.recv(self.session.input_space(READ_CHUNK))?;
        self.session.input_filled(n);
        Ok(n)
    }

    /// Writes what the session has due (PONGs, a CLOSE echo, a queued
    /// message); `Again` while some of it is left.
    pub fn flush(&mut self, io: &mut dyn Io) -> Result<(), Error> {
        loop {
            let out = self.session.transmit();
            if out.is_empty() {
                return Ok(());
            }
            match io.send(out)? {
                0 => return Err(Error::again()),
                n => self.session.sent(n),
            }
        }
    }

    /// [`flush`](WsSession::flush) where a full socket is no failure: the
    /// bytes wait for the next call.
    fn push(&mut self, io: &mut dyn Io) -> Result<(), Error> {
        match self.flush(io) {
            Err(e) if !e.is_again() => Err(e),
            _ => Ok(()),
        }
    }

    /// `curl_ws_recv`: at most one frame's worth of payload, with its meta.
    pub fn recv(&mut self, io: &mut dyn Io, buf: &mut [u8]) -> Result<(usize, Frame), Error> {
        loop {
            let got = self.session.recv_frame(buf).map_err(ws_error)?;
            // A PONG owed for a PING just read goes out now, not at the
            // next call: the application may wait for readability next.
            self.push(io)?;
            if let Some(frame) = got {
                return Ok((frame.len, frame));
            }
            if self.fill(io)? == 0 {
                return Err(closed_by_server());
            }
        }
    }

    /// `curl_ws_send`: payload bytes taken (the rest is the caller's to
    /// offer again), or `Again` with none taken.
    pub fn send(
        &mut self,
        io: &mut dyn Io,
        data: &[u8],
        fragsize: u64,
        flags: Flags,
    ) -> Result<usize, Error> {
        self.session
            .start_send(data, fragsize, flags)
            .map_err(ws_error)?;
        let written = self.flush(io);
        let outcome = self.session.finish_send();
        match written {
            Err(e) if !e.is_again() => Err(e),
            _ => match outcome {
                SendOutcome::Sent(n) => Ok(n),
                SendOutcome::Again => Err(Error::again()),
            },
        }
    }

    /// `curl_ws_start_frame`: begins a frame of `len` payload bytes that
    /// the next `send` calls carry. libcurl's codes: raw mode is
    /// `FailedInit` (2), a frame still in progress `SendError` (55).
    pub fn start_frame(&mut self, flags: Flags, len: u64) -> Result<(), Error> {
        if self.is_raw() {
            return Err(Error::new(
                ErrorKind::FailedInit,
                "cannot curl_ws_start_frame() with CURLWS_RAW_MODE enabled",
            ));
        }
        if self.session.frame_in_progress() {
            return Err(Error::new(
                ErrorKind::SendError,
                "previous WebSocket frame not finished",
            ));
        }
        self.session.start_frame(flags, len).map_err(ws_error)
    }

    /// The write-callback model of an ordinary ws transfer: the next chunk
    /// into `buf`, or the end. The session answers PINGs and the server's
    /// CLOSE; in raw mode the bytes come as they are.
    pub fn stream(&mut self, io: &mut dyn Io, buf: &mut [u8]) -> Result<Streamed, Error> {
        if self.is_raw() {
            let held = self.session.take_buffered(buf);
            if held > 0 {
                return Ok(Streamed::Bytes(held, None));
            }
            return match io.recv(buf)? {
                0 => Ok(Streamed::End),
                n => Ok(Streamed::Bytes(n, None)),
            };
        }
        loop {
            let got = self.session.recv_frame(buf).map_err(ws_error)?;
            self.push(io)?;
            if let Some(frame) = got {
                return Ok(Streamed::Bytes(frame.len, Some(frame)));
            }
            if self.fill(io)? == 0 {
                self.session.peer_closed().map_err(|_| closed_by_server())?;
                return Ok(Streamed::End);
            }
        }
    }

    /// The next whole message; `Again` when it has not all arrived.
    pub fn recv_message(&mut self, io: &mut dyn Io) -> Result<Message, Error> {
        loop {
            let got = self.session.recv_message().map_err(ws_error)?;
            self.push(io)?;
            if let Some(message) = got {
                return Ok(message);
            }
            if self.fill(io)? == 0 {
                return Err(closed_by_server());
            }
        }
    }

    /// Queues one whole message and writes what it can; `Again` while some
    /// of it is left (then [`flush`](WsSession::flush) until `Ok`).
    pub fn send_message(&mut self, io: &mut dyn Io, message: &Message) -> Result<(), Error> {
        self.session.send_message(message).map_err(ws_error)?;
        self.flush(io)
    }
}

#[cfg(test)]
mod tests {

    use handover_proto::ws::Encoder;

    use super::*;

    use crate::layer::test_pipe::Pipe;

    /// The client frames written: (first byte, unmasked payload).
    fn frames_written(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while wire.len() >= 6 {
            let len = usize::from(wire[1] & 0x7f);
            assert!(len < 126, "only short frames here");
            let mask = [wire[2], wire[3], wire[4], wire[5]];
            let mut payload = wire[6..6 + len].to_vec();
            Encoder::mask(&mut payload, mask, 0);
            frames.push((wire[0], payload));
            wire = &wire[6 + len..];
        }
        assert!(wire.is_empty(), "a cut frame");
        frames
    }

    #[test]
    fn recv_answers_a_ping_and_returns_the_frame_after_it() {
        let mut pipe = Pipe::reading(&[b"\x89\x02hi\x81", b"\x03abc"]);
        let mut ws = WsSession::frames(Options::empty()).unwrap();
        let mut buf = [0u8; 16];
        let (n, frame) = ws.recv(&mut pipe, &mut buf).unwrap();
        assert_eq!((frame.flags, &buf[..n]), (TEXT, &b"abc"[..]));
        assert_eq!(frames_written(&pipe.out), [(0x8a, b"hi".to_vec())]);
        assert!(ws.recv(&mut pipe, &mut buf).unwrap_err().is_again());
    }

    #[test]
    fn a_pong_that_meets_a_full_socket_goes_out_with_the_next_call() {
        let mut pipe = Pipe::reading(&[b"\x89\x01p"]);
        pipe.room = 3;
        let mut ws = WsSession::frames(Options::empty()).unwrap();
        assert!(ws.recv(&mut pipe, &mut [0; 8]).unwrap_err().is_again());
        assert_eq!(pipe.out.len(), 3, "part of the PONG");
        pipe.room = usize::MAX;
        // The next send call finishes the PONG first, then its own frame.
        assert_eq!(ws.send(&mut pipe, b"x", 0, BINARY).unwrap(), 1);
        assert_eq!(
            frames_written(&pipe.out),
            [(0x8a, b"p".to_vec()), (0x82, b"x".to_vec())]
        );
    }

    #[test]
    fn stream_echoes_the_servers_close_and_ends_when_the_server_does() {
        // The CLOSE arrives cut in two, then the end of the stream.
        let mut pipe = Pipe::reading(&[b"\x81\x02hi\x88\x04\x03", b"\xe8ok", b""]);
        let mut ws = WsSession::callbacks(Options::empty()).unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while let Streamed::Bytes(n, frame) = ws.stream(&mut pipe, &mut buf).unwrap() {
            got.push((frame.map(|f| f.flags), buf[..n].to_vec()));
        }
        assert_eq!(
            got,
            [
                (Some(TEXT), b"hi".to_vec()),
                (Some(CLOSE), b"\x03".to_vec()),
                (Some(CLOSE), b"\xe8ok".to_vec()),
            ]
        );
        assert_eq!(frames_written(&pipe.out), [(0x88, b"\x03\xe8".to_vec())]);
    }

    #[test]
    fn stream_without_the_servers_close_is_got_nothing() {
        let mut pipe = Pipe::reading(&[b"\x81\x01a", b""]);
        let mut ws = WsSession::callbacks(Options::empty()).unwrap();
        let mut buf = [0u8; 8];
        assert!(matches!(
            ws.stream(&mut pipe, &mut buf),
            Ok(Streamed::Bytes(1, Some(_)))
        ));
        let err = ws.stream(&mut pipe, &mut buf).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::GotNothing, "{err}");
    }

    #[test]
    fn raw_mode_moves_bytes_untouched() {
        let mut pipe = Pipe::reading(&[b"\x89\x00", b""]);
        let mut ws = WsSession::callbacks(RAW_MODE).unwrap();
        let mut buf = [0u8; 8];
        assert!(matches!(
            ws.stream(&mut pipe, &mut buf),
            Ok(Streamed::Bytes(2, None))
        ));
        assert!(matches!(ws.stream(&mut pipe, &mut buf), Ok(Streamed::End)));
        assert!(pipe.out.is_empty(), "no PONG in raw mode");
        assert_eq!(ws.send(&mut pipe, b"abc", 0, Flags::empty()).unwrap(), 3);
        assert_eq!(pipe.out, b"abc");
        let err = ws.recv(&mut pipe, &mut buf).unwrap_err();
        assert_eq!(err.code(), 43);
    }
}
