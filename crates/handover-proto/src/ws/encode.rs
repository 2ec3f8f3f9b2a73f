//! Client-to-server WebSocket frames (RFC 6455 §5.2, §5.3): headers and
//! masking.
//!
//! ```text
//!   flags ──> first byte ──┬──> FIN + opcode            (TEXT, BINARY, CLOSE, PING, PONG)
//!     (message open?)      ├──> opcode, no FIN          (TEXT|CONT, BINARY|CONT: message opens)
//!                          ├──> continuation (0) …      (while a message is open)
//!                          └──> WsError                 (no type, two types, CONT on control)
//! ```
//!
//! The flags follow libcurl's `curl_ws_send` (`ws_frame_flags2firstbyte`):
//! [`Flags::OFFSET`] is ignored here (it describes the call, not the
//! frame); while a fragmented message is open, TEXT or BINARY (with or
//! without CONT) continue it, and for compatibility so do no flags at all
//! (final fragment) and CONT alone (another fragment). The type of a
//! continuation is not compared with the message's: the wire carries
//! opcode 0 either way, as in libcurl.

use super::{Flags, WsError, WsErrorKind, MAX_CONTROL_PAYLOAD};

/// The longest client frame header: 2 bytes, 8 of extended length, 4 of mask.
pub const MAX_HEADER: usize = 14;

/// Builds client frame headers, remembering whether a fragmented message is
/// open so that its later frames get the continuation opcode.
///
/// # Examples
///
/// ```
/// use handover_proto::ws::{Encoder, Flags};
///
/// let mut encoder = Encoder::new();
/// let mask = [0x37, 0xfa, 0x21, 0x3d];
/// // "Hel", the first fragment of a text message: no FIN, opcode 1, masked, length 3.
/// assert_eq!(encoder.header(Flags::TEXT | Flags::CONT, 3, mask)?, [0x01, 0x83, 0x37, 0xfa, 0x21, 0x3d]);
/// assert!(encoder.message_open());
/// // "lo", the last one: FIN, continuation opcode 0.
/// assert_eq!(encoder.header(Flags::TEXT, 2, mask)?[..2], [0x80, 0x82]);
///
/// let mut payload = *b"Hel";
/// Encoder::mask(&mut payload, mask, 0);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d]); // RFC 6455 §5.7's masked "Hel"
/// # Ok::<(), handover_proto::ws::WsError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    continuing: bool,
}

impl Encoder {
    /// An encoder with no message open.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Whether a TEXT or BINARY message was started with CONT and its final
    /// frame has not been encoded yet.
    pub fn message_open(&self) -> bool {
        self.continuing
    }

    /// The header of a frame of `payload_len` bytes: FIN unless CONT, the
    /// opcode (0 when continuing a fragmented message), the MASK bit, the
    /// shortest length encoding, then `mask`. At most [`MAX_HEADER`] bytes.
    ///
    /// `flags` holds exactly one of TEXT, BINARY, CLOSE, PING, PONG, plus
    /// CONT for a non-final TEXT or BINARY fragment (see the module doc for
    /// the compatibility forms). A successful call is taken as the frame
    /// having been sent: it opens or closes the fragmented message.
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::BadArgument`] for flags that select no frame type
    /// (none, several, unknown bits, CONT on a control frame, continuation
    /// with no message open) or a length of 2^63 or more;
    /// [`WsErrorKind::TooLarge`] for a control frame over 125 bytes.
    pub fn header(
        &mut self,
        flags: Flags,
        payload_len: u64,
        mask: [u8; 4],
    ) -> Result<Vec<u8>, WsError> {
        let (bytes, len) = self.encode_header(flags, payload_len, mask)?;
        Ok(bytes.get(..len).unwrap_or(&bytes).to_vec())
    }

    /// [`header`](Encoder::header) into a fixed buffer: the bytes and how
    /// many of them are the header.
    pub(crate) fn encode_header(
        &mut self,
        frame_flags: Flags,
        payload_len: u64,
        mask: [u8; 4],
    ) -> Result<([u8; MAX_HEADER], usize), WsError> {
        let first = self.first_byte(frame_flags)?;
        if first & 0x08 != 0 && payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(WsError::new(
                WsErrorKind::TooLarge,
                format!(
                    "WebSocket control frame payload of {payload_len} bytes is over the \
                     {MAX_CONTROL_PAYLOAD}-byte limit"
                ),
            ));
        }
        if payload_len >> 63 != 0 {
            return Err(bad_argument(format!(
                "WebSocket frame payload of {payload_len} bytes does not fit a 63-bit length"
            )));
        }

        let mut bytes = [0; MAX_HEADER];
        bytes[0] = first;
        let len = if payload_len < 126 {
            bytes[1] = 0x80 | payload_len as u8;
            bytes[2..6].copy_from_slice(&mask);
            6
        } else if let Ok(short) = u16::try_from(payload_len) {
            bytes[1] = 0x80 | 126;
            bytes[2..4].copy_from_slice(&short.to_be_bytes());
            bytes[4..8].copy_from_slice(&mask);
            8
        } else {
            bytes[1] = 0x80 | 127;
            bytes[2..10].copy_from_slice(&payload_len.to_be_bytes());
            bytes[10..14].copy_from_slice(&mask);
            14
        };

        // Only data frames open or close a fragmented message; control
        // frames may come in between.
        if first & 0x08 == 0 {
            self.continuing = first & 0x80 == 0;
        }
        Ok((bytes, len))
    }

    /// XORs `payload` with `mask` in place (RFC 6455 §5.3). `offset` is
    /// where `payload` starts within the frame's payload, so a frame can be
    /// masked in chunks; unmasking is the same operation.
    pub fn mask(payload: &mut [u8], mask: [u8; 4], offset: u64) {
        let start = (offset % 4) as usize;
        for (byte, key) in payload.iter_mut().zip(mask.iter().cycle().skip(start)) {
            *byte ^= key;
        }
    }

    fn first_byte(&self, frame_flags: Flags) -> Result<u8, WsError> {
        const FIN: u8 = 0x80;
        const TEXT_CONT: Flags = Flags::TEXT.union(Flags::CONT);
        const BINARY_CONT: Flags = Flags::BINARY.union(Flags::CONT);
        let cont = self.continuing;
        let data = |opcode: u8, fin: u8| if cont { fin } else { opcode | fin };
        let first = match frame_flags - Flags::OFFSET {
            f if f.is_empty() && cont => FIN,
            Flags::CONT if cont => 0,
            Flags::TEXT => data(1, FIN),
            TEXT_CONT => data(1, 0),
            Flags::BINARY => data(2, FIN),
            BINARY_CONT => data(2, 0),
            Flags::CLOSE => FIN | 8,
            Flags::PING => FIN | 9,
            Flags::PONG => FIN | 10,
            f if f.is_empty() => {
                return Err(bad_argument("WebSocket send: no frame type in flags 0"))
            }
            Flags::CONT => {
                return Err(bad_argument(
                    "WebSocket send: CONT without a fragmented message to continue",
                ))
            }
            f if f.contains(Flags::CONT) && (f - Flags::CONT).is_control() => {
                return Err(bad_argument(format!(
                    "WebSocket send: control frame flags {frame_flags:#x} with CONT; \
                     control frames cannot be fragmented"
                )))
            }
            _ => {
                return Err(bad_argument(format!(
                    "WebSocket send: flags {frame_flags:#x} do not name exactly one frame type"
                )))
            }
        };
        Ok(first)
    }
}

fn bad_argument(message: impl Into<String>) -> WsError {
    WsError::new(WsErrorKind::BadArgument, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hexdump;

    #[test]
    fn rfc_6455_masked_hello_is_byte_exact() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = Encoder::new().header(Flags::TEXT, 5, mask).unwrap();
        let mut payload = *b"Hello";
        Encoder::mask(&mut payload, mask, 0);
        assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        frame.extend_from_slice(&payload);
        assert_eq!(
            frame,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
            "\n{}",
            hexdump(&frame)
        );
    }

    #[test]
    fn masking_in_chunks_continues_the_key_index() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut whole = *b"Hello, WebSocket world";
        Encoder::mask(&mut whole, mask, 0);
        for split in 0..=whole.len() {
            let mut chunked = *b"Hello, WebSocket world";
            let (head, tail) = chunked.split_at_mut(split);
            Encoder::mask(head, mask, 0);
            Encoder::mask(tail, mask, split as u64);
            assert_eq!(chunked, whole, "split at {split}");
        }
        // Offsets past 2^32 still pick the right key byte.
        let mut byte = [0];
        Encoder::mask(&mut byte, mask, (1 << 40) + 2);
        assert_eq!(byte, [0x21]);
    }

    #[test]
    fn lengths_use_the_shortest_encoding() {
        let mask = [1, 2, 3, 4];
        let cases: [(u64, &[u8]); 8] = [
            (0, &[0x82, 0x80]),
            (125, &[0x82, 0xfd]),
            (126, &[0x82, 0xfe, 0x00, 0x7e]),
            (65535, &[0x82, 0xfe, 0xff, 0xff]),
            (65536, &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0]),
            ((1 << 32) + 1, &[0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 1]),
            (
                (1 << 63) - 1,
                &[0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            (70000, &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ];
        for (len, expected) in cases {
            let header = Encoder::new().header(Flags::BINARY, len, mask).unwrap();
            assert_eq!(header, [expected, &mask[..]].concat(), "length {len}");
        }
        let error = Encoder::new()
            .header(Flags::BINARY, 1 << 63, mask)
            .unwrap_err();
        assert_eq!(error.kind, WsErrorKind::BadArgument);
    }

    /// (flags, message open before, first byte or error kind, message open after)
    type FlagCase = (Flags, bool, Result<u8, WsErrorKind>, bool);

    #[test]
    fn flags_select_first_byte_as_curl_ws_send() {
        use WsErrorKind::BadArgument;
        let unknown = Flags::from_bits_retain;
        let cases: &[FlagCase] = &[
            (Flags::TEXT, false, Ok(0x81), false),
            (Flags::BINARY, false, Ok(0x82), false),
            (Flags::CLOSE, false, Ok(0x88), false),
            (Flags::PING, false, Ok(0x89), false),
            (Flags::PONG, false, Ok(0x8a), false),
            (Flags::TEXT | Flags::OFFSET, false, Ok(0x81), false),
            (Flags::TEXT | Flags::CONT, false, Ok(0x01), true),
            (Flags::BINARY | Flags::CONT, false, Ok(0x02), true),
            (Flags::TEXT | Flags::CONT, true, Ok(0x00), true),
            (Flags::TEXT, true, Ok(0x80), false),
            (Flags::BINARY, true, Ok(0x80), false),
            (Flags::empty(), true, Ok(0x80), false),
            (Flags::CONT, true, Ok(0x00), true),
            (Flags::PING, true, Ok(0x89), true),
            (Flags::PONG, true, Ok(0x8a), true),
            (Flags::CLOSE, true, Ok(0x88), true),
            (Flags::empty(), false, Err(BadArgument), false),
            (Flags::OFFSET, false, Err(BadArgument), false),
            (Flags::CONT, false, Err(BadArgument), false),
            (Flags::CLOSE | Flags::CONT, false, Err(BadArgument), false),
            (Flags::PING | Flags::CONT, true, Err(BadArgument), true),
            (Flags::PONG | Flags::CONT, false, Err(BadArgument), false),
            (Flags::TEXT | Flags::BINARY, false, Err(BadArgument), false),
            (Flags::PING | Flags::PONG, false, Err(BadArgument), false),
            (Flags::TEXT | unknown(128), false, Err(BadArgument), false),
            (unknown(1 << 31), true, Err(BadArgument), true),
        ];
        for &(frame_flags, open, expected, open_after) in cases {
            let mut encoder = Encoder { continuing: open };
            let got = encoder
                .header(frame_flags, 3, [0; 4])
                .map(|header| header[0])
                .map_err(|e| e.kind);
            assert_eq!(got, expected, "flags {frame_flags:?}, open {open}");
            assert_eq!(encoder.message_open(), open_after, "flags {frame_flags:?}");
        }
    }

    #[test]
    fn control_payload_over_125_is_too_large() {
        for control in [Flags::CLOSE, Flags::PING, Flags::PONG] {
            let mut encoder = Encoder::new();
            assert!(encoder.header(control, 125, [0; 4]).is_ok());
            let error = encoder.header(control, 126, [0; 4]).unwrap_err();
            assert_eq!(error.kind, WsErrorKind::TooLarge);
            assert_eq!(error.code(), 100);
            // A data frame of the same size is fine.
            assert!(encoder.header(Flags::BINARY, 200, [0; 4]).is_ok());
        }
        // Bad flags win over size, as in libcurl (43 before 100).
        let error = Encoder::new()
            .header(Flags::PING | Flags::CONT, 200, [0; 4])
            .unwrap_err();
        assert_eq!(error.kind, WsErrorKind::BadArgument);
    }
}
