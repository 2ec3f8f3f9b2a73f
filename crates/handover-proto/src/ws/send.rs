//! The bookkeeping of libcurl's `curl_ws_send`: which bytes one call puts on
//! the wire, and what the call reports, when the connection takes only part
//! of them.
//!
//! ```text
//!   Idle ──start──> Header ──sent──> Payload ──sent──> Idle
//!     ▲                │ (zero-length frame)               │
//!     └────────────────┴───────────────────────────────────┘
//!   every call:  start(buf, fragsize, flags, mask) ──> transmit / sent … ──> finish: Sent(n) | Again
//! ```
//!
//! A call starts a new frame only when none is in progress: its payload
//! length is `fragsize` with [`Flags::OFFSET`], else `buf.len()`. While a
//! frame is in progress (its header or payload not all written), a call
//! continues it whatever its `flags` and `fragsize`, as libcurl does: with
//! OFFSET the application passes the frame in pieces; without it, a call
//! that reported a short count is repeated with the remaining bytes.
//!
//! [`finish`](SendState::finish) reports what libcurl's `*sent` and return
//! code say: `Sent(n)` counts payload bytes only; [`SendOutcome::Again`]
//! (`CURLE_AGAIN`) means no payload byte of this call was taken — header
//! bytes may have gone out, and are not sent again.
//!
//! One difference from libcurl, on purpose: libcurl keeps masked payload it
//! could not write and refuses a later call with fewer bytes than that
//! ("smaller 'buflen' than bytes already buffered", 43). This machine keeps
//! nothing of the caller's payload: bytes that did not go out are masked
//! again from the next call's buffer (the mask index follows the frame
//! offset, so the bytes are the same), so any retry with the remaining bytes
//! is accepted. A layer below that needs the same bytes retried (OpenSSL
//! style) gets them when the caller repeats its call.

use super::encode::{Encoder, MAX_HEADER};
use super::{Flags, WsError, WsErrorKind};

/// What a `curl_ws_send` call reports (see the example on [`SendState`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// `CURLE_OK` with `*sent` = this many payload bytes (possibly fewer than
    /// the call passed: the caller continues with the rest).
    Sent(usize),
    /// `CURLE_AGAIN`: no payload byte was taken; call again with the same
    /// bytes when the connection is writable.
    Again,
}

/// A frame partly written.
#[derive(Clone, Copy, Debug)]
struct Outgoing {
    header: [u8; MAX_HEADER],
    header_len: usize,
    header_sent: usize,
    mask: [u8; 4],
    len: u64,
    payload_sent: u64,
}

impl Outgoing {
    fn done(&self) -> bool {
        self.header_sent == self.header_len && self.payload_sent == self.len
    }
}

/// `curl_ws_send` as a sans-IO machine: it builds the wire bytes of each
/// call (header still due + masked payload) and is told how many went out.
///
/// ```text
/// state.start(buf, fragsize, flags, mask)?;          // 43 / 100 on bad flags
/// while !state.transmit().is_empty() {
///     match io.write(state.transmit()) { Ok(n) => state.sent(n), Err(WouldBlock) => break, … }
/// }
/// match state.finish() { SendOutcome::Sent(n) => /* 0, *sent = n */, SendOutcome::Again => /* 81 */ }
/// ```
///
/// # Examples
///
/// A socket that first takes only 4 bytes, then everything:
///
/// ```
/// use handover_proto::ws::{Flags, SendOutcome, SendState};
///
/// let mut state = SendState::new();
/// let mask = [1, 2, 3, 4];
///
/// // First call: 6 header bytes + 5 payload bytes are due; 4 go out.
/// state.start(b"hello", 0, Flags::TEXT, mask)?;
/// assert_eq!(state.transmit().len(), 11);
/// state.sent(4);
/// assert_eq!(state.finish(), SendOutcome::Again); // no payload byte went: CURLE_AGAIN
///
/// // The caller repeats the call; the rest of the header comes first.
/// state.start(b"hello", 0, Flags::TEXT, mask)?;
/// assert_eq!(state.transmit().len(), 7);
/// state.sent(7);
/// assert_eq!(state.finish(), SendOutcome::Sent(5));
/// assert!(state.is_idle());
/// # Ok::<(), handover_proto::ws::WsError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct SendState {
    encoder: Encoder,
    frame: Option<Outgoing>,
    /// This call's bytes: the header still due, then the masked payload.
    wire: Vec<u8>,
    wire_sent: usize,
    /// Payload bytes of this call's buffer already written.
    accepted: usize,
    /// Whether this call passed an empty buffer.
    empty_call: bool,
}

impl SendState {
    /// Nothing sent yet, no message open.
    pub fn new() -> SendState {
        SendState::default()
    }

    /// Begins one `curl_ws_send(buf, fragsize, flags)` call. `mask` is the
    /// fresh random mask for the frame; it is used only when this call
    /// starts a new frame. Bytes of an earlier call that were never written
    /// are dropped (see the module doc).
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::BadArgument`] for flags that make no frame (see
    /// [`Encoder::header`]) and for a `buf` longer than what is left of the
    /// frame; [`WsErrorKind::TooLarge`] for a control frame over 125 bytes.
    /// The state is unchanged by a failed call.
    pub fn start(
        &mut self,
        buf: &[u8],
        fragsize: u64,
        frame_flags: Flags,
        mask: [u8; 4],
    ) -> Result<(), WsError> {
        self.clear_call();
        let frame = match self.frame {
            Some(frame) => {
                let left = frame.len - frame.payload_sent;
                if buf.len() as u64 > left {
                    return Err(WsError::new(
                        WsErrorKind::BadArgument,
                        format!(
                            "WebSocket send of {} bytes while the frame in progress has \
                             {left} bytes left",
                            buf.len()
                        ),
                    ));
                }
                frame
            }
            None => {
                let len = if frame_flags.contains(Flags::OFFSET) {
                    if buf.len() as u64 > fragsize {
                        return Err(WsError::new(
                            WsErrorKind::BadArgument,
                            format!(
                                "WebSocket send of {} bytes for a frame of {fragsize} bytes",
                                buf.len()
                            ),
                        ));
                    }
                    fragsize
                } else {
                    buf.len() as u64
                };
                let (header, header_len) = self.encoder.encode_header(frame_flags, len, mask)?;
                Outgoing {
                    header,
                    header_len,
                    header_sent: 0,
                    mask,
                    len,
                    payload_sent: 0,
                }
            }
        };
        self.frame = Some(frame);
        self.wire.extend_from_slice(
            frame
                .header
                .get(frame.header_sent..frame.header_len)
                .unwrap_or_default(),
        );
        let payload_start = self.wire.len();
        self.wire.extend_from_slice(buf);
        if let Some(payload) = self.wire.get_mut(payload_start..) {
            Encoder::mask(payload, frame.mask, frame.payload_sent);
        }
        self.empty_call = buf.is_empty();
        Ok(())
    }

    /// `curl_ws_start_frame(flags, len)`: begins a frame of `len` payload
    /// bytes whose header goes out with the next [`start`](SendState::start)
    /// call; that call and the ones after it carry the payload (their flags
    /// and `fragsize` are then not looked at, as libcurl's).
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::BadArgument`] when a frame is still in progress or
    /// the flags make no frame; [`WsErrorKind::TooLarge`] for a control
    /// frame over 125 bytes. The state is unchanged by a failed call.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::ws::{Flags, SendOutcome, SendState};
    ///
    /// let mut state = SendState::new();
    /// state.start_frame(Flags::TEXT, 10, [0; 4])?;
    /// state.start(b"hello", 0, Flags::empty(), [0; 4])?;
    /// assert_eq!(state.transmit().len(), 6 + 5); // the header, then 5 bytes
    /// state.sent(11);
    /// assert_eq!(state.finish(), SendOutcome::Sent(5));
    /// assert_eq!(state.frame_remaining(), 5);
    /// # Ok::<(), handover_proto::ws::WsError>(())
    /// ```
    pub fn start_frame(
        &mut self,
        frame_flags: Flags,
        len: u64,
        mask: [u8; 4],
    ) -> Result<(), WsError> {
        if let Some(frame) = self.frame {
            return Err(WsError::new(
                WsErrorKind::BadArgument,
                format!(
                    "previous WebSocket frame not finished: {} payload bytes left",
                    frame.len - frame.payload_sent
                ),
            ));
        }
        let (header, header_len) = self.encoder.encode_header(frame_flags, len, mask)?;
        self.clear_call();
        self.frame = Some(Outgoing {
            header,
            header_len,
            header_sent: 0,
            mask,
            len,
            payload_sent: 0,
        });
        Ok(())
    }

    /// The bytes of this call still to be written.
    pub fn transmit(&self) -> &[u8] {
        self.wire.get(self.wire_sent..).unwrap_or_default()
    }

    /// Reports that the first `n` bytes of [`transmit`](SendState::transmit)
    /// were written (more than that counts as all of them).
    pub fn sent(&mut self, n: usize) {
        let n = n.min(self.transmit().len());
        let Some(frame) = &mut self.frame else {
            return;
        };
        self.wire_sent += n;
        let header = n.min(frame.header_len - frame.header_sent);
        frame.header_sent += header;
        let payload = n - header;
        frame.payload_sent += payload as u64;
        self.accepted += payload;
        if frame.done() {
            self.frame = None;
        }
    }

    /// Ends the call: what `curl_ws_send` returns. Unwritten bytes of the
    /// call are dropped.
    pub fn finish(&mut self) -> SendOutcome {
        let outcome = if self.accepted > 0 || (self.empty_call && self.transmit().is_empty()) {
            SendOutcome::Sent(self.accepted)
        } else {
            SendOutcome::Again
        };
        self.clear_call();
        outcome
    }

    /// Payload bytes of the current call written so far (`*sent` so far).
    pub fn accepted(&self) -> usize {
        self.accepted
    }

    /// Whether no frame is in progress, so the next call starts one: the
    /// place where a control frame (an automatic PONG) may be slipped in.
    pub fn is_idle(&self) -> bool {
        self.frame.is_none()
    }

    /// Payload bytes of the frame in progress not yet written (0 when idle).
    pub fn frame_remaining(&self) -> u64 {
        self.frame.map_or(0, |f| f.len - f.payload_sent)
    }

    /// Whether a fragmented message is open (its final frame not started).
    pub fn message_open(&self) -> bool {
        self.encoder.message_open()
    }

    fn clear_call(&mut self) {
        self.wire.clear();
        self.wire_sent = 0;
        self.accepted = 0;
        self.empty_call = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{hexdump, Garbage};

    /// The whole frame as one write would send it.
    fn one_shot(frame_flags: Flags, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut frame = Encoder::new()
            .header(frame_flags, payload.len() as u64, mask)
            .unwrap();
        let mut masked = payload.to_vec();
        Encoder::mask(&mut masked, mask, 0);
        frame.extend_from_slice(&masked);
        frame
    }

    #[test]
    fn again_takes_no_payload_even_after_header_bytes_went_out() {
        let mask = [9, 8, 7, 6];
        let mut state = SendState::new();
        state.start(b"hello", 0, Flags::TEXT, mask).unwrap();
        assert_eq!(state.transmit().len(), 2 + 4 + 5);
        state.sent(3);
        assert_eq!(state.finish(), SendOutcome::Again);
        assert!(!state.is_idle());

        // The retry sends the rest of the header, not the header again.
        let mut wire = one_shot(Flags::TEXT, b"hello", mask)[..3].to_vec();
        state.start(b"hello", 0, Flags::BINARY, [0; 4]).unwrap();
        wire.extend_from_slice(state.transmit());
        state.sent(usize::MAX);
        assert_eq!(state.finish(), SendOutcome::Sent(5));
        assert!(state.is_idle());
        assert_eq!(
            wire,
            one_shot(Flags::TEXT, b"hello", mask),
            "\n{}",
            hexdump(&wire)
        );
    }

    #[test]
    fn short_count_then_remaining_bytes_completes_the_frame() {
        let mask = [0xde, 0xad, 0xbe, 0xef];
        let payload = b"0123456789";
        let mut state = SendState::new();
        state.start(payload, 0, Flags::BINARY, mask).unwrap();
        let mut wire = state.transmit()[..6 + 3].to_vec();
        state.sent(6 + 3);
        assert_eq!(state.finish(), SendOutcome::Sent(3));
        assert_eq!(state.frame_remaining(), 7);

        state
            .start(&payload[3..], 0, Flags::BINARY, [0; 4])
            .unwrap();
        wire.extend_from_slice(state.transmit());
        state.sent(7);
        assert_eq!(state.finish(), SendOutcome::Sent(7));
        assert_eq!(wire, one_shot(Flags::BINARY, payload, mask));
    }

    #[test]
    fn every_write_size_gives_the_one_shot_frame() {
        let mut garbage = Garbage::new(0x5753);
        let payload = garbage.bytes(300);
        let mask = [0x11, 0x22, 0x33, 0x44];
        let expected = one_shot(Flags::TEXT, &payload, mask);
        for limit in 1..=23 {
            let mut state = SendState::new();
            let mut wire = Vec::new();
            let mut rest = &payload[..];
            let mut calls = 0;
            loop {
                calls += 1;
                assert!(calls < 1000, "no progress with writes of {limit}");
                state.start(rest, 0, Flags::TEXT, mask).unwrap();
                // One write of at most `limit` bytes, then the socket blocks.
                let n = state.transmit().len().min(limit);
                wire.extend_from_slice(&state.transmit()[..n]);
                state.sent(n);
                match state.finish() {
                    SendOutcome::Sent(n) => rest = &rest[n..],
                    SendOutcome::Again => {}
                }
                if rest.is_empty() && state.is_idle() {
                    break;
                }
            }
            assert_eq!(wire, expected, "writes of {limit}\n{}", hexdump(&wire));
        }
    }

    #[test]
    fn offset_sends_header_first_then_payload_in_pieces() {
        let mask = [1, 2, 3, 4];
        let mut state = SendState::new();
        state
            .start(&[], 10, Flags::BINARY | Flags::OFFSET, mask)
            .unwrap();
        let mut wire = state.transmit().to_vec();
        assert_eq!(wire.len(), 6);
        state.sent(6);
        assert_eq!(state.finish(), SendOutcome::Sent(0));
        assert_eq!(state.frame_remaining(), 10);
        for piece in [&b"0123"[..], b"", b"456789"] {
            state
                .start(piece, 0, Flags::BINARY | Flags::OFFSET, [0; 4])
                .unwrap();
            wire.extend_from_slice(state.transmit());
            state.sent(piece.len());
            assert_eq!(state.finish(), SendOutcome::Sent(piece.len()));
        }
        assert!(state.is_idle());
        assert_eq!(wire, one_shot(Flags::BINARY, b"0123456789", mask));
    }

    #[test]
    fn empty_frames_are_sent_whole_or_again() {
        let mut state = SendState::new();
        state.start(&[], 0, Flags::PING, [5; 4]).unwrap();
        state.sent(2);
        assert_eq!(state.finish(), SendOutcome::Again);
        state.start(&[], 0, Flags::PING, [0; 4]).unwrap();
        assert_eq!(state.transmit(), [5; 4]);
        state.sent(4);
        assert_eq!(state.finish(), SendOutcome::Sent(0));
        assert!(state.is_idle());
        // OFFSET with fragsize 0 is a zero-length frame too (lib2700 echoes
        // empty frames that way).
        state
            .start(&[], 0, Flags::CLOSE | Flags::OFFSET, [0; 4])
            .unwrap();
        assert_eq!(state.transmit(), [0x88, 0x80, 0, 0, 0, 0]);
    }

    #[test]
    fn misuse_is_refused_and_changes_nothing() {
        let mut state = SendState::new();
        let error = state.start(b"abc", 0, Flags::empty(), [0; 4]).unwrap_err();
        assert_eq!(error.code(), 43);
        let error = state.start(b"abc", 2, Flags::TEXT | Flags::OFFSET, [0; 4]);
        assert_eq!(error.unwrap_err().kind, WsErrorKind::BadArgument);
        let error = state.start(&[0; 126], 0, Flags::PING, [0; 4]).unwrap_err();
        assert_eq!(error.code(), 100);
        assert!(state.is_idle() && !state.message_open());

        state
            .start(b"abcd", 0, Flags::TEXT | Flags::CONT, [0; 4])
            .unwrap();
        state.sent(6 + 1);
        assert_eq!(state.finish(), SendOutcome::Sent(1));
        let error = state.start(b"bcdef", 0, Flags::TEXT, [0; 4]).unwrap_err();
        assert_eq!(error.kind, WsErrorKind::BadArgument);
        assert_eq!(state.frame_remaining(), 3);
        assert!(state.message_open());
    }

    #[test]
    fn sent_without_a_call_is_ignored() {
        let mut state = SendState::new();
        state.sent(10);
        assert_eq!(state.finish(), SendOutcome::Again);
        assert!(state.is_idle());
    }

    #[test]
    fn garbage_calls_never_panic() {
        let mut garbage = Garbage::new(0x53454e44);
        let mut state = SendState::new();
        for _ in 0..20_000 {
            let word = garbage.next_u64();
            let len = (word % 40) as usize;
            let buf = garbage.bytes(len);
            let fragsize = (word >> 8) % 64;
            let frame_flags = Flags::from_bits_retain(((word >> 16) % 256) as u32);
            if state
                .start(&buf, fragsize, frame_flags, [1, 2, 3, 4])
                .is_ok()
            {
                let n = ((word >> 32) % 50) as usize;
                state.sent(n);
                if let SendOutcome::Sent(n) = state.finish() {
                    assert!(n <= len);
                }
            }
        }
    }
}
