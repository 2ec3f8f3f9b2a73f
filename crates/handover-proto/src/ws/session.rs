//! The WebSocket session after the `101`: one protocol core under every
//! face (tungstenite's shape) — libcurl's frame API, the write callback of
//! an ordinary ws transfer, and whole messages.
//!
//! ```text
//!   bytes in ──> receive / input_space+input_filled ──> Decoder ─┬─> recv_frame    (curl_ws_recv: chunks)
//!                                                                └─> recv_message  (whole, reassembled)
//!        PING ──> PONG owed (unless NOAUTOPONG)     ─┐
//!        CLOSE ─> CLOSE with its code owed (echo on) ┼─> queue ─┐   control frames go out only
//!   send_message ─> whole frame ─────────────────────┘          ├─> transmit / sent ──> bytes out
//!   start_send … finish_send (curl_ws_send) ─> SendState ───────┘   between two data frames
//!
//!   close:  Open ──we send CLOSE──> CloseSent ──────peer's CLOSE──────> Closed
//!             └───peer's CLOSE────> CloseReceived ──our CLOSE (echo)──> Closed
//!
//!   RAW_MODE: no framing; start_send passes bytes as they are, take_buffered gives them back.
//!   errors:   a protocol violation (sticky, from the Decoder), InvalidUtf8 and TooLarge
//!             (whole messages only), BadArgument (misuse), Closed (end without a CLOSE).
//! ```
//!
//! The frame API ([`Session::recv_frame`], [`Session::start_send`]) keeps
//! libcurl's semantics exactly: payload is delivered as it arrived (a text
//! frame is not checked for UTF-8), a CLOSE is the application's to answer
//! unless [`Session::set_close_echo`] is on (the write-callback model), and
//! sending after a CLOSE is not refused. The message API
//! ([`Session::recv_message`], [`Session::send_message`], in
//! `session/message.rs`) is strict as tungstenite is: a text message must
//! be UTF-8, a message is limited in size, the server's data after its
//! CLOSE is a protocol error, and nothing is sent after our CLOSE.
//!
//! The session owns the bytes received and not yet decoded, so a caller
//! that gives up waiting in the middle of a frame (a timeout) loses
//! nothing: the next call continues where this one stopped.
//!
//! Nothing here reads the clock or draws random numbers: the masks of the
//! frames come from a 32-byte seed the caller draws once (as quinn-proto
//! takes its RNG seed), expanded with SHA-256 in counter mode, or from a
//! function the caller names (libcurl's debug hooks, for curl's tests).

use std::fmt;

use sha2::{Digest, Sha256};

use super::encode::{Encoder, MAX_HEADER};
use super::{
    Decoder, Flags, Frame, Options, SendOutcome, SendState, WsError, WsErrorKind,
    MAX_CONTROL_PAYLOAD,
};

mod message;

pub use message::Message;

/// The largest message [`Session::recv_message`] assembles unless told
/// otherwise (64 MiB).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Where the close handshake stands (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseState {
    /// Neither side has sent a CLOSE.
    Open,
    /// We sent a CLOSE (or queued it); the server's answer has not come.
    CloseSent,
    /// The server sent a CLOSE; ours has not been sent.
    CloseReceived,
    /// Both sides sent a CLOSE: the server ends the connection next.
    Closed,
}

/// The frame masks: by default drawn from the caller's seed,
/// SHA-256(seed ‖ counter), eight masks a block; or one call of a
/// caller's function per frame ([`Session::set_mask_source`]).
#[derive(Clone)]
enum Masks {
    Seeded {
        seed: [u8; 32],
        counter: u64,
        block: [u8; 32],
        used: usize,
    },
    Drawn(fn() -> [u8; 4]),
}

impl Masks {
    fn new(seed: [u8; 32]) -> Masks {
        Masks::Seeded {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next(&mut self) -> [u8; 4] {
        match self {
            Masks::Drawn(source) => source(),
            Masks::Seeded {
                seed,
                counter,
                block,
                used,
            } => {
                if *used + 4 > block.len() {
                    let mut hash = Sha256::new();
                    hash.update(*seed);
                    hash.update(counter.to_be_bytes());
                    *block = hash.finalize().into();
                    *counter = counter.wrapping_add(1);
                    *used = 0;
                }
                let mut mask = [0; 4];
                if let Some(bytes) = block.get(*used..*used + 4) {
                    mask.copy_from_slice(bytes);
                }
                *used += 4;
                mask
            }
        }
    }
}

/// A control frame's payload (at most 125 bytes), kept without allocating.
#[derive(Clone, Copy)]
struct ControlPayload {
    bytes: [u8; MAX_CONTROL_PAYLOAD],
    len: usize,
}

impl ControlPayload {
    fn new(payload: &[u8]) -> ControlPayload {
        let len = payload.len().min(MAX_CONTROL_PAYLOAD);
        let mut bytes = [0; MAX_CONTROL_PAYLOAD];
        if let (Some(to), Some(from)) = (bytes.get_mut(..len), payload.get(..len)) {
            to.copy_from_slice(from);
        }
        ControlPayload { bytes, len }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// A raw-mode send call: the caller's bytes as they are.
#[derive(Default)]
struct RawCall {
    wire: Vec<u8>,
    sent: usize,
}

/// A WebSocket connection's protocol state after the `101`, sans-IO:
/// bytes in, frames and messages out; frames and messages in, bytes out.
///
/// The driver moves bytes: what arrives goes in through
/// [`receive`](Session::receive) (or [`input_space`](Session::input_space)
/// and [`input_filled`](Session::input_filled), without a copy) whenever a
/// `recv_*` call returns `None`; what [`transmit`](Session::transmit) shows
/// goes out, reported with [`sent`](Session::sent) — after every call, as
/// automatic PONGs and the CLOSE echo are queued while receiving.
///
/// # Examples
///
/// The frame API (`curl_ws_recv`) on a PING and a text frame arriving
/// together: the PING is answered, not delivered.
///
/// ```
/// use handover_proto::ws::{Flags, Options, Session};
///
/// let mut session = Session::new(Options::empty(), [1; 32]);
/// session.receive(b"\x89\x02hi\x81\x05hello");
/// let mut buf = [0u8; 64];
/// let frame = session.recv_frame(&mut buf)?.expect("a frame arrived");
/// assert_eq!((frame.flags, &buf[..frame.len]), (Flags::TEXT, &b"hello"[..]));
/// assert_eq!(session.recv_frame(&mut buf)?, None); // needs more bytes
///
/// // The PONG: FIN + opcode 0xA, MASK bit + length 2, a 4-byte mask, the masked payload.
/// let pong = session.transmit().to_vec();
/// assert_eq!(&pong[..2], b"\x8a\x82");
/// let payload: Vec<u8> = pong[6..].iter().zip(pong[2..6].iter().cycle()).map(|(b, m)| b ^ m).collect();
/// assert_eq!(payload, b"hi");
/// session.sent(pong.len());
/// assert!(session.transmit().is_empty());
/// # Ok::<(), handover_proto::ws::WsError>(())
/// ```
pub struct Session {
    options: Options,
    close_echo: bool,
    max_message: usize,
    decoder: Decoder,
    /// Bytes received; `input[start..end]` are not decoded yet.
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// The current `curl_ws_send` call and the frame it continues.
    call: SendState,
    raw: RawCall,
    /// Whole frames the session wrote (control frames, messages);
    /// `queue[queue_sent..]` is still to go out.
    queue: Vec<u8>,
    queue_sent: usize,
    /// Control frames owed to the server, queued at the next boundary
    /// between two outgoing frames. Only the newest PING is answered
    /// (RFC 6455 §5.5.3 allows it).
    owed_pong: Option<ControlPayload>,
    owed_close: Option<ControlPayload>,
    close_sent: bool,
    close_received: bool,
    /// The payload of the control frame the last decode completed.
    last_control: ControlPayload,
    /// The message being reassembled by `recv_message`.
    assembly: Vec<u8>,
    /// The rest of a message over the size limit is read and dropped.
    discarding: bool,
    masks: Masks,
}

/// The state, not the buffers (they hold payload) nor the mask seed.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("options", &self.options)
            .field("close_echo", &self.close_echo)
            .field("close_state", &self.close_state())
            .field("buffered", &self.buffered())
            .field("frame_in", &self.decoder.current())
            .field("queued", &(self.queue.len() - self.queue_sent))
            .field("sending", &!self.call.is_idle())
            .field("owed_pong", &self.owed_pong.is_some())
            .field("owed_close", &self.owed_close.is_some())
            .field("message_bytes", &self.assembly.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session right after the `101`, with libcurl's `CURLOPT_WS_OPTIONS`
    /// and a seed for the frame masks (32 bytes from a CSPRNG; a
    /// predictable seed only weakens the masking's protection of
    /// intermediaries, RFC 6455 §10.3).
    pub fn new(options: Options, mask_seed: [u8; 32]) -> Session {
        Session {
            options,
            close_echo: false,
            max_message: DEFAULT_MAX_MESSAGE,
            decoder: Decoder::new(),
            input: Vec::new(),
            start: 0,
            end: 0,
            call: SendState::new(),
            raw: RawCall::default(),
            queue: Vec::new(),
            queue_sent: 0,
            owed_pong: None,
            owed_close: None,
            close_sent: false,
            close_received: false,
            last_control: ControlPayload::new(&[]),
            assembly: Vec::new(),
            discarding: false,
            masks: Masks::new(mask_seed),
        }
    }

    /// Draws each frame's mask by one call of `source` instead of from the
    /// seed. It exists for libcurl's debug hooks (handover's `test-hooks`
    /// feature): curl's test suite expects the masks libcurl's
    /// predictable random numbers give, one draw per frame.
    pub fn set_mask_source(&mut self, source: fn() -> [u8; 4]) {
        self.masks = Masks::Drawn(source);
    }

    /// The `CURLOPT_WS_OPTIONS` the session was made with.
    pub fn options(&self) -> Options {
        self.options
    }

    fn is_raw(&self) -> bool {
        self.options.contains(Options::RAW_MODE)
    }

    fn autopong(&self) -> bool {
        !self
            .options
            .intersects(Options::RAW_MODE | Options::NOAUTOPONG)
    }

    /// Whether the server's CLOSE is answered with a CLOSE carrying its
    /// status code (off by default, as in libcurl's frame API where the
    /// application answers; on for the write-callback model and for
    /// whole messages).
    pub fn set_close_echo(&mut self, on: bool) {
        self.close_echo = on;
    }

    /// The largest message [`recv_message`](Session::recv_message)
    /// assembles; a bigger one fails with `TooLarge` and is skipped.
    pub fn set_max_message(&mut self, bytes: usize) {
        self.max_message = bytes;
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        match (self.close_sent, self.close_received) {
            (false, false) => CloseState::Open,
            (true, false) => CloseState::CloseSent,
            (false, true) => CloseState::CloseReceived,
            (true, true) => CloseState::Closed,
        }
    }

    // ---- bytes in ------------------------------------------------------------

    /// Takes bytes the server sent (a copy; see
    /// [`input_space`](Session::input_space) for none). Call it when a
    /// `recv_*` call returned `None`: the session then holds at most what it
    /// was given.
    pub fn receive(&mut self, input: &[u8]) {
        let space = self.input_space(input.len());
        space.copy_from_slice(input);
        self.input_filled(input.len());
    }

    /// Room for up to `max` bytes from the server, to read into directly;
    /// report how many arrived with [`input_filled`](Session::input_filled).
    pub fn input_space(&mut self, max: usize) -> &mut [u8] {
        if self.start > 0 {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = self.end + max;
        if self.input.len() < want {
            self.input.resize(want, 0);
        }
        self.input.get_mut(self.end..want).unwrap_or_default()
    }

    /// Reports that `n` bytes were read into [`input_space`](Session::input_space).
    pub fn input_filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.input.len());
    }

    /// Bytes received and not decoded yet.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Gives back received bytes the session has not decoded, as they
    /// arrived (raw mode, or a caller that reads the connection itself):
    /// none is skipped. Returns how many were copied into `out`.
    pub fn take_buffered(&mut self, out: &mut [u8]) -> usize {
        let held = self.input.get(self.start..self.end).unwrap_or_default();
        let n = held.len().min(out.len());
        if let (Some(to), Some(from)) = (out.get_mut(..n), held.get(..n)) {
            to.copy_from_slice(from);
        }
        self.start += n;
        n
    }

    /// The server ended the connection. `Ok` when its CLOSE came first (an
    /// orderly end); [`WsErrorKind::Closed`] when it did not.
    pub fn peer_closed(&mut self) -> Result<(), WsError> {
        if self.close_received {
            Ok(())
        } else {
            Err(WsError::new(
                WsErrorKind::Closed,
                "the WebSocket connection was closed by the server without a CLOSE frame",
            ))
        }
    }

    // ---- frames in (curl_ws_recv) ---------------------------------------------

    /// `curl_ws_recv`: at most one chunk of one frame into `out`, described
    /// by the returned [`Frame`] (`frame.len` bytes of `out`). An empty
    /// `out` returns the next frame's meta without payload. `None`: every
    /// byte held was used; give the session more.
    ///
    /// PINGs are answered and not returned unless `NOAUTOPONG`; the PONG
    /// waits in [`transmit`](Session::transmit).
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::Protocol`] when the server breaks RFC 6455 (after
    /// every frame before the bad one); [`WsErrorKind::BadArgument`] in raw
    /// mode.
    pub fn recv_frame(&mut self, out: &mut [u8]) -> Result<Option<Frame>, WsError> {
        if self.is_raw() {
            return Err(WsError::new(
                WsErrorKind::BadArgument,
                "raw mode WebSocket: use recv, not ws_recv",
            ));
        }
        let autopong = self.autopong();
        let swallow = |flags: Flags| autopong && flags.contains(Flags::PING);
        let mut scratch = [0; MAX_CONTROL_PAYLOAD];
        loop {
            let current = self.decoder.current();
            // The header is read on its own first, so that the payload of a
            // swallowed PING never lands in the caller's buffer.
            let target: &mut [u8] = match current {
                None => &mut [],
                Some(frame) if swallow(frame.flags) => &mut scratch,
                Some(_) => &mut *out,
            };
            let Some(frame) = self.decode(target)? else {
                return Ok(None);
            };
            if swallow(frame.flags) {
                continue;
            }
            if current.is_none() && frame.bytesleft > 0 && !out.is_empty() {
                continue;
            }
            return Ok(Some(frame));
        }
    }

    /// One decode step over the held input; handles a completed control
    /// frame (PONG owed, CLOSE state, echo).
    fn decode(&mut self, out: &mut [u8]) -> Result<Option<Frame>, WsError> {
        let input = self.input.get(self.start..self.end).unwrap_or_default();
        let (used, event) = self.decoder.decode(input, out)?;
        self.start += used;
        if let Some((flags, payload)) = self.decoder.control_payload() {
            self.last_control = ControlPayload::new(payload);
            self.on_control(flags)?;
        }
        Ok(event)
    }

    fn on_control(&mut self, flags: Flags) -> Result<(), WsError> {
        let payload = self.last_control;
        match flags {
            Flags::PING if self.autopong() => self.owed_pong = Some(payload),
            Flags::CLOSE if !self.close_received => {
                self.close_received = true;
                if self.close_echo && !self.close_sent {
                    // The status code alone: the answer the write-callback
                    // model has always given.
                    let code = payload.as_slice().get(..2).unwrap_or_default();
                    self.owed_close = Some(ControlPayload::new(code));
                }
            }
            _ => {}
        }
        self.promote()
    }

    // ---- frames out (curl_ws_send) --------------------------------------------

    /// Begins one `curl_ws_send(buf, fragsize, flags)` call; write
    /// [`transmit`](Session::transmit), report with
    /// [`sent`](Session::sent), then [`finish_send`](Session::finish_send)
    /// says what the call returns. Owed control frames go out first when
    /// no frame is half-way out. In raw mode the bytes go as they are.
    ///
    /// # Errors
    ///
    /// As [`SendState::start`]: [`WsErrorKind::BadArgument`] for flags that
    /// make no frame, [`WsErrorKind::TooLarge`] for a control frame over
    /// 125 bytes; in raw mode, `BadArgument` for any flag or `fragsize`.
    pub fn start_send(&mut self, buf: &[u8], fragsize: u64, flags: Flags) -> Result<(), WsError> {
        if self.is_raw() {
            if fragsize != 0 || !flags.is_empty() {
                return Err(WsError::new(
                    WsErrorKind::BadArgument,
                    "raw mode WebSocket: flags and fragsize must be 0",
                ));
            }
            self.raw.wire.clear();
            self.raw.wire.extend_from_slice(buf);
            self.raw.sent = 0;
            return Ok(());
        }
        self.promote()?;
        let starts_frame = self.call.is_idle();
        let mask = if starts_frame {
            self.masks.next()
        } else {
            [0; 4]
        };
        self.call.start(buf, fragsize, flags, mask)?;
        if starts_frame && flags.contains(Flags::CLOSE) {
            self.close_sent = true;
            self.owed_close = None;
        }
        Ok(())
    }

    /// `curl_ws_start_frame(flags, len)`: begins a frame of `len` payload
    /// bytes; the following [`start_send`](Session::start_send) calls carry
    /// its payload (see [`SendState::start_frame`]). Owed control frames go
    /// out before it.
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::BadArgument`] in raw mode, while a frame is in
    /// progress ([`frame_in_progress`](Session::frame_in_progress)), or for
    /// flags that make no frame; [`WsErrorKind::TooLarge`] for a control
    /// frame over 125 bytes.
    pub fn start_frame(&mut self, flags: Flags, len: u64) -> Result<(), WsError> {
        if self.is_raw() {
            return Err(WsError::new(
                WsErrorKind::BadArgument,
                "cannot start a WebSocket frame in raw mode",
            ));
        }
        if self.frame_in_progress() {
            // Checked before promoting, so a refused call queues nothing.
            return self.call.start_frame(flags, len, [0; 4]);
        }
        self.promote()?;
        let mask = self.masks.next();
        self.call.start_frame(flags, len, mask)?;
        if flags.contains(Flags::CLOSE) {
            self.close_sent = true;
            self.owed_close = None;
        }
        Ok(())
    }

    /// Whether a frame begun by a send call or
    /// [`start_frame`](Session::start_frame) still has bytes to go.
    pub fn frame_in_progress(&self) -> bool {
        !self.call.is_idle()
    }

    /// Ends the call begun by [`start_send`](Session::start_send): the
    /// payload bytes taken, or `Again` when none were (see
    /// [`SendState::finish`]). Bytes of the call that did not go out are
    /// dropped; control frames stay queued.
    pub fn finish_send(&mut self) -> SendOutcome {
        if self.is_raw() {
            let call = std::mem::take(&mut self.raw);
            return if call.sent > 0 || call.wire.is_empty() {
                SendOutcome::Sent(call.sent)
            } else {
                SendOutcome::Again
            };
        }
        self.call.finish()
    }

    // ---- bytes out -------------------------------------------------------------

    /// The bytes to write now: queued whole frames first, then the current
    /// send call's. Empty when nothing is due.
    pub fn transmit(&self) -> &[u8] {
        match self.queue.get(self.queue_sent..) {
            Some(queued) if !queued.is_empty() => queued,
            _ if self.is_raw() => self.raw.wire.get(self.raw.sent..).unwrap_or_default(),
            _ => self.call.transmit(),
        }
    }

    /// Reports that the first `n` bytes of [`transmit`](Session::transmit)
    /// were written.
    pub fn sent(&mut self, n: usize) {
        let queued = self.queue.len() - self.queue_sent;
        if queued > 0 {
            self.queue_sent += n.min(queued);
            if self.queue_sent == self.queue.len() {
                self.queue.clear();
                self.queue_sent = 0;
            }
        } else if self.is_raw() {
            self.raw.sent = (self.raw.sent + n).min(self.raw.wire.len());
        } else {
            self.call.sent(n);
            // A frame just ended: owed control frames may go now. They
            // came from received control frames, so they always encode.
            let _ = self.promote();
        }
    }

    /// Queues owed control frames when no frame is half-way out.
    fn promote(&mut self) -> Result<(), WsError> {
        if !self.call.is_idle() {
            return Ok(());
        }
        if let Some(pong) = self.owed_pong.take() {
            self.queue_frame(Flags::PONG, pong.as_slice())?;
        }
        if let Some(close) = self.owed_close.take() {
            if !self.close_sent {
                self.queue_frame(Flags::CLOSE, close.as_slice())?;
                self.close_sent = true;
            }
        }
        Ok(())
    }

    /// Appends one whole, masked, final frame to the queue.
    fn queue_frame(&mut self, flags: Flags, payload: &[u8]) -> Result<(), WsError> {
        let mask = self.masks.next();
        // A fresh encoder: whole frames never continue a message.
        let (header, header_len) =
            Encoder::new().encode_header(flags, payload.len() as u64, mask)?;
        self.queue
            .extend_from_slice(header.get(..header_len.min(MAX_HEADER)).unwrap_or_default());
        let start = self.queue.len();
        self.queue.extend_from_slice(payload);
        if let Some(body) = self.queue.get_mut(start..) {
            Encoder::mask(body, mask, 0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
