//! WebSocket (RFC 6455) for `CONNECT_ONLY = 2`: the upgrade handshake, the
//! frame codec, and the [`Session`] that every face of handover uses —
//! libcurl's frame-level `curl_ws_recv` / `curl_ws_send`, the write
//! callback of an ordinary ws transfer, and whole messages — sans-IO.
//!
//! ```text
//!   handshake:   client_key(random) ──> GET + Upgrade headers ──> check_upgrade(101, headers)
//!                                                                    └──> UpgradeError
//!
//!   session:     bytes in ──> Decoder ──> recv_frame | recv_message      (auto-PONG, CLOSE echo,
//!                start_send | send_message ──> SendState/queue ──> bytes out    reassembly, close)
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
//! - [`session`]: the protocol core after the `101`: automatic PONG,
//!   the answer to the server's CLOSE, fragment reassembly, the close
//!   handshake, raw mode. The engine only moves its bytes.
//! - [`decode`]: server-to-client frames. One [`Decoder::decode`] call
//!   yields at most one chunk of one frame, described by a [`Frame`] exactly
//!   as libcurl's `struct curl_ws_frame` describes what `curl_ws_recv`
//!   returned.
//! - [`encode`]: client-to-server frame headers and masking.
//! - [`send`]: the bookkeeping of `curl_ws_send` (partial sends,
//!   `CURLWS_OFFSET`), telling the caller which bytes to write.
//! - [`Flags`] and [`Options`]: libcurl's `CURLWS_*` numbers as types.
//!
//! Nothing here draws random numbers or reads the clock: the 16 key bytes
//! come from the caller, and the masks from a seed the caller gives the
//! [`Session`] (or, for [`SendState`] alone, one mask per frame).

use std::fmt;

pub mod decode;
pub mod encode;
mod flags;
pub mod handshake;
pub mod send;
pub mod session;

pub use decode::Decoder;
pub use encode::Encoder;
pub use flags::{Flags, Options};
pub use handshake::{accept_for, check_upgrade, client_key, upgrade_headers, UpgradeError};
pub use send::{SendOutcome, SendState};
pub use session::{CloseState, Message, Session};

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
/// use handover_proto::ws::{Decoder, Flags};
///
/// // An unmasked server frame: FIN + text, 5 payload bytes.
/// let wire = b"\x81\x05hello";
/// let mut decoder = Decoder::new();
/// let mut out = [0u8; 16];
/// let (consumed, frame) = decoder.decode(wire, &mut out).unwrap();
/// let frame = frame.expect("a whole frame arrived");
/// assert_eq!(consumed, 7);
/// assert_eq!(frame.flags, Flags::TEXT);
/// assert_eq!((frame.offset, frame.bytesleft, frame.len), (0, 0, 5));
/// assert_eq!(&out[..frame.len], b"hello");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Frame {
    /// The frame type, one of the `CURLWS_*` flags `TEXT`, `BINARY`,
    /// `CLOSE`, `PING` or `PONG` (the constants of the `Flags` type, also
    /// `handover::ws::TEXT` and so on), plus `CONT` on every non-final
    /// fragment of a TEXT or BINARY message. Continuation frames carry the
    /// type of the message they continue.
    pub flags: Flags,
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
    /// A control frame payload over 125 bytes was asked for, or a message
    /// is over the session's limit (`CURLE_TOO_LARGE`, 100).
    TooLarge,
    /// A whole text message, or a close reason, is not UTF-8
    /// (`CURLE_RECV_ERROR`, 56). Only whole messages are checked; the frame
    /// API delivers payload as it is, as libcurl does.
    InvalidUtf8,
    /// The server ended the connection without the close handshake
    /// (`CURLE_GOT_NOTHING`, 52).
    Closed,
}

impl WsErrorKind {
    /// libcurl's `CURLcode` for this kind of failure.
    pub fn code(self) -> u32 {
        match self {
            WsErrorKind::Protocol | WsErrorKind::InvalidUtf8 => 56,
            WsErrorKind::BadArgument => 43,
            WsErrorKind::TooLarge => 100,
            WsErrorKind::Closed => 52,
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
