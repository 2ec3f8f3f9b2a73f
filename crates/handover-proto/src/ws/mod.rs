//! WebSocket (RFC 6455) for `CONNECT_ONLY = 2`: the upgrade handshake and
//! libcurl's frame-level `curl_ws_recv` / `curl_ws_send` semantics, sans-IO.
//!
//! ```text
//!   handshake:   client_key(random) ──> GET + Upgrade headers ──> check_upgrade(101, headers)
//!                                                                    └──> UpgradeError
//!
//!   receive:     Decoder:  Header ──> Payload (chunks of ≤ out.len()) ──> Header ──> …
//!                             └───────────┴──> Failed(WsError)   (sticky: every later call repeats it)
//!
//!   send:        SendState: Idle ──start──> Header ──sent──> Payload ──sent──> Idle
//!                           (Encoder::header + Encoder::mask underneath)
//! ```
//!
//! - [`handshake`]: `Sec-WebSocket-Key` from caller-supplied random bytes,
//!   the expected `Sec-WebSocket-Accept`, and the check of the 101 reply.
//! - [`decode`]: server-to-client frames. One [`Decoder::decode`] call
//!   yields at most one chunk of one frame, described by a [`Frame`] exactly
//!   as libcurl's `struct curl_ws_frame` describes what `curl_ws_recv`
//!   returned.
//! - [`encode`]: client-to-server frame headers and masking.
//! - [`send`]: the bookkeeping of `curl_ws_send` (partial sends,
//!   `CURLWS_OFFSET`), telling the caller which bytes to write.
//!
//! Nothing here draws random numbers or reads the clock: the 16 key bytes
//! and every 4-byte mask come from the caller.
//!
//! # Automatic PONG
//!
//! libcurl answers a complete PING with a PONG echoing its payload and does
//! not hand the PING to the application (unless `CURLWS_NOAUTOPONG` or raw
//! mode). The engine does that with this module as follows: it calls
//! [`Decoder::decode`] with an empty `out` to learn the next frame's
//! [`Frame::flags`]; for a [`flags::PING`] it drains the payload into a
//! scratch buffer of [`MAX_CONTROL_PAYLOAD`] bytes instead of the
//! application's buffer. The call that completes the PING makes
//! [`Decoder::ping_payload`] return the whole payload (the decoder keeps up
//! to 125 bytes of every control frame for this), which the engine sends
//! back with [`SendState::start`] and [`flags::PONG`] once
//! [`SendState::is_idle`] (a control frame may go between two frames of a
//! fragmented message, never inside a frame).

use std::fmt;

pub mod decode;
pub mod encode;
pub mod handshake;
pub mod send;

pub use decode::Decoder;
pub use encode::Encoder;
pub use handshake::{accept_for, check_upgrade, client_key, upgrade_headers, UpgradeError};
pub use send::{SendOutcome, SendState};

/// libcurl's `CURLWS_*` frame flags (`include/curl/websockets.h`), as used
/// in [`Frame::flags`] and in the `flags` arguments of the encoder.
pub mod flags {
    /// `CURLWS_TEXT`: a text message (the payload is not checked for UTF-8).
    pub const TEXT: u32 = 1;
    /// `CURLWS_BINARY`: a binary message.
    pub const BINARY: u32 = 2;
    /// `CURLWS_CONT`: not the final fragment of a TEXT or BINARY message.
    pub const CONT: u32 = 4;
    /// `CURLWS_CLOSE`: a close frame (optional 2-byte code, then a reason).
    pub const CLOSE: u32 = 8;
    /// `CURLWS_PING`: a ping.
    pub const PING: u32 = 16;
    /// `CURLWS_OFFSET`, send only: the call passes part of a frame; the first
    /// call's `fragsize` is the whole frame's payload length.
    pub const OFFSET: u32 = 32;
    /// `CURLWS_PONG`: a pong.
    pub const PONG: u32 = 64;
}

/// The longest payload a control frame (CLOSE, PING, PONG) may carry
/// (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

// handover re-exports this type (`handover::ws::Frame`) with these docs:
// links into this crate would show as literal brackets where handover is
// documented without handover-proto, so the flags are named in plain text.
/// What one decoded chunk is, as libcurl's `struct curl_ws_frame`.
///
/// # Examples
///
/// ```
/// use handover_proto::ws::{flags, Decoder};
///
/// // An unmasked server frame: FIN + text, 5 payload bytes.
/// let wire = b"\x81\x05hello";
/// let mut decoder = Decoder::new();
/// let mut out = [0u8; 16];
/// let (consumed, frame) = decoder.decode(wire, &mut out).unwrap();
/// let frame = frame.expect("a whole frame arrived");
/// assert_eq!(consumed, 7);
/// assert_eq!(frame.flags, flags::TEXT);
/// assert_eq!((frame.offset, frame.bytesleft, frame.len), (0, 0, 5));
/// assert_eq!(&out[..frame.len], b"hello");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Frame {
    /// The frame type, one of the `CURLWS_*` flags `TEXT`, `BINARY`,
    /// `CLOSE`, `PING` or `PONG` (the constants of `handover_proto::ws::flags`,
    /// also in `handover::ws`), plus `CONT` on every non-final fragment of a
    /// TEXT or BINARY message. Continuation frames carry the type of the
    /// message they continue.
    pub flags: u32,
    /// Where this chunk starts within the frame's payload.
    pub offset: u64,
    /// Payload bytes of the frame still to come after this chunk; `0` means
    /// the frame is complete.
    pub bytesleft: u64,
    /// Payload bytes in this chunk.
    pub len: usize,
}

/// Why a WebSocket operation failed (see the example on [`WsError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WsErrorKind {
    /// The server violated RFC 6455 (`CURLE_RECV_ERROR`, 56).
    Protocol,
    /// The caller passed flags or lengths that make no frame
    /// (`CURLE_BAD_FUNCTION_ARGUMENT`, 43).
    BadArgument,
    /// A control frame payload over 125 bytes was asked for
    /// (`CURLE_TOO_LARGE`, 100).
    TooLarge,
}

impl WsErrorKind {
    /// libcurl's `CURLcode` for this kind of failure.
    pub fn code(self) -> u32 {
        match self {
            WsErrorKind::Protocol => 56,
            WsErrorKind::BadArgument => 43,
            WsErrorKind::TooLarge => 100,
        }
    }
}

/// A WebSocket failure: its kind and what exactly went wrong.
///
/// # Examples
///
/// ```
/// use handover_proto::ws::{Decoder, WsErrorKind};
///
/// // Servers must not mask their frames (RFC 6455 §5.1).
/// let error = Decoder::new().decode(b"\x81\x85", &mut [0u8; 8]).unwrap_err();
/// assert_eq!(error.kind, WsErrorKind::Protocol);
/// assert_eq!(error.code(), 56); // CURLE_RECV_ERROR
/// println!("{error}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsError {
    /// The kind, which decides libcurl's return code.
    pub kind: WsErrorKind,
    /// What failed, e.g. `WebSocket server sent a masked frame (second byte 0x80)`.
    pub message: String,
}

impl WsError {
    pub(crate) fn new(kind: WsErrorKind, message: impl Into<String>) -> Self {
        WsError {
            kind,
            message: message.into(),
        }
    }

    /// libcurl's `CURLcode` for this error (see [`WsErrorKind::code`]).
    pub fn code(&self) -> u32 {
        self.kind.code()
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests;
