//! Server-to-client WebSocket frames (RFC 6455 §5.2), decoded as a stream.
//!
//! ```text
//!   Header (1..14 bytes, kept across calls) ──> Payload ──> Header ──> …
//!      │  byte 0: RSV bits, opcode, FIN of a control frame, fragment order
//!      │  byte 1: MASK bit, control payload ≤ 125
//!      │  length: 16-bit, or 64-bit with the top bit clear
//!      └──────────────┴──> Failed(WsError)    every later call returns it again
//! ```
//!
//! [`Decoder::decode`] follows `curl_ws_recv`: one call returns at most one
//! chunk of one frame, so frames that arrived before a bad one are all
//! returned before the error surfaces, and an error is reported as soon as
//! the deciding header byte arrives. Header bytes are always consumed (the
//! decoder keeps a partial header itself); payload bytes are consumed only
//! as far as they fit into `out`.

use super::{Flags, Frame, WsError, WsErrorKind, MAX_CONTROL_PAYLOAD};

/// FIN (1 byte) + length (1) + 64-bit extended length (8) + mask key (4).
const MAX_HEADER: usize = 14;

const FIN: u8 = 0x80;
const RSV: u8 = 0x70;
const OPCODE: u8 = 0x0f;
const MASKED: u8 = 0x80;

/// The frame whose header has been read and whose payload is being delivered.
#[derive(Clone, Copy, Debug)]
struct Current {
    flags: Flags,
    len: u64,
    done: u64,
}

impl Current {
    fn meta(&self, len: usize) -> Frame {
        Frame {
            flags: self.flags,
            offset: self.done,
            bytesleft: self.len - self.done,
            len,
        }
    }
}

/// A streaming decoder of the frames a server sends.
///
/// Feed it whatever bytes arrived; it says how many it consumed and returns
/// at most one [`Frame`] per call. The caller loops until the call returns
/// no frame, which happens only once every input byte has been consumed.
///
/// # Examples
///
/// Two frames arriving together, decoded into a small buffer:
///
/// ```
/// use handover_proto::ws::{Decoder, Flags};
///
/// let mut input: &[u8] = b"\x81\x05hello\x89\x00"; // text "hello", then an empty PING
/// let mut decoder = Decoder::new();
/// let mut out = [0u8; 3];
/// let mut events = Vec::new();
/// loop {
///     let (consumed, frame) = decoder.decode(input, &mut out)?;
///     input = &input[consumed..];
///     let Some(frame) = frame else { break };
///     events.push((frame.flags, out[..frame.len].to_vec(), frame.bytesleft));
/// }
/// assert_eq!(events, [
///     (Flags::TEXT, b"hel".to_vec(), 2),
///     (Flags::TEXT, b"lo".to_vec(), 0),
///     (Flags::PING, Vec::new(), 0),
/// ]);
/// # Ok::<(), handover_proto::ws::WsError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decoder {
    header: [u8; MAX_HEADER],
    header_len: usize,
    frame: Option<Current>,
    /// The type (TEXT or BINARY) of a fragmented message whose final frame
    /// has not been read yet.
    message: Option<Flags>,
    control: [u8; MAX_CONTROL_PAYLOAD],
    control_len: usize,
    /// Set by the call that completed a control frame, cleared by the next call.
    completed_control: Option<Flags>,
    failed: Option<WsError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of the stream (right after the 101 headers).
    pub fn new() -> Decoder {
        Decoder {
            header: [0; MAX_HEADER],
            header_len: 0,
            frame: None,
            message: None,
            control: [0; MAX_CONTROL_PAYLOAD],
            control_len: 0,
            completed_control: None,
            failed: None,
        }
    }

    /// Decodes from `input`, copying payload bytes of the current frame into
    /// `out`; returns how many input bytes were consumed and what, if
    /// anything, was delivered.
    ///
    /// - `Some(frame)` with `frame.len > 0`: `out[..frame.len]` holds the
    ///   payload bytes at `frame.offset` of the frame.
    /// - `Some(frame)` with `frame.len == 0` and `frame.bytesleft == 0`: a
    ///   frame with an empty payload, now complete.
    /// - `Some(frame)` with `frame.len == 0` and `frame.bytesleft > 0`: only
    ///   when `out` is empty — the meta of the current frame, libcurl's
    ///   `curl_ws_recv(NULL, 0)`. No payload byte is consumed, so the same
    ///   meta comes back until a call with room in `out`.
    /// - `None`: every input byte was consumed and more are needed.
    ///
    /// A frame is complete exactly when an event has `bytesleft == 0`.
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::Protocol`] when a frame header breaks RFC 6455: RSV
    /// bits, reserved opcodes, a masked frame, a control frame that is
    /// fragmented or longer than 125 bytes, a continuation without a started
    /// message, a new message while one is fragmented, a 64-bit length with
    /// its top bit set. The decoder stays failed: later calls return the
    /// same error.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, Option<Frame>), WsError> {
        self.completed_control = None;
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut consumed = 0;
        let mut current = match self.frame {
            Some(current) => current,
            None => match self.read_header(input) {
                Ok((used, Some(current))) => {
                    consumed = used;
                    self.frame = Some(current);
                    self.control_len = 0;
                    current
                }
                Ok((used, None)) => return Ok((used, None)),
                Err(error) => {
                    self.failed = Some(error.clone());
                    return Err(error);
                }
            },
        };

        let available = input.get(consumed..).unwrap_or_default();
        let remaining = current.len - current.done;
        let n = out
            .len()
            .min(available.len())
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        if n == 0 {
            if remaining == 0 {
                self.frame = None;
                self.note_complete(current.flags);
                return Ok((consumed, Some(current.meta(0))));
            }
            if out.is_empty() {
                return Ok((consumed, Some(current.meta(0))));
            }
            return Ok((consumed, None));
        }

        let (Some(chunk), Some(room)) = (available.get(..n), out.get_mut(..n)) else {
            // n is the minimum of both lengths.
            return Ok((consumed, None));
        };
        room.copy_from_slice(chunk);
        if current.flags.is_control() {
            // A control payload is at most 125 bytes (checked in the header),
            // so it always fits; `get_mut` only guards the invariant.
            if let Some(room) = self.control.get_mut(self.control_len..self.control_len + n) {
                room.copy_from_slice(chunk);
                self.control_len += n;
            }
        }
        let meta = current.meta(n);
        current.done += n as u64;
        if current.done == current.len {
            self.frame = None;
            self.note_complete(current.flags);
        } else {
            self.frame = Some(current);
        }
        Ok((
            consumed + n,
            Some(Frame {
                bytesleft: current.len - current.done,
                ..meta
            }),
        ))
    }

    /// Whether a fragmented TEXT or BINARY message has started and its final
    /// frame has not been read yet.
    pub fn message_open(&self) -> bool {
        self.message.is_some()
    }

    /// The meta of the frame whose header has been read and whose payload is
    /// not fully delivered (`len` 0), if any.
    pub fn current(&self) -> Option<Frame> {
        self.frame.map(|current| current.meta(0))
    }

    /// Whether the decoder stands between two frames with no partial header:
    /// a connection that ends here ended cleanly at a frame boundary.
    pub fn at_frame_boundary(&self) -> bool {
        self.frame.is_none() && self.header_len == 0
    }

    /// The error the decoder failed with, if it has.
    pub fn error(&self) -> Option<&WsError> {
        self.failed.as_ref()
    }

    /// When the last [`decode`](Decoder::decode) call completed a control
    /// frame (CLOSE, PING or PONG): its flags and its whole payload (at most
    /// 125 bytes, kept by the decoder as the chunks went by). `None` after
    /// any other call: read it right after the completing call.
    pub fn control_payload(&self) -> Option<(Flags, &[u8])> {
        let flags = self.completed_control?;
        Some((flags, self.control.get(..self.control_len)?))
    }

    /// When the last [`decode`](Decoder::decode) call completed a PING: its
    /// whole payload, which a PONG must echo (RFC 6455 §5.5.3). `None`
    /// after any other call.
    pub fn ping_payload(&self) -> Option<&[u8]> {
        match self.control_payload()? {
            (Flags::PING, payload) => Some(payload),
            _ => None,
        }
    }

    fn note_complete(&mut self, frame_flags: Flags) {
        if frame_flags.is_control() {
            self.completed_control = Some(frame_flags);
        }
    }

    /// How many header bytes must be buffered before the next check.
    fn header_target(&self) -> usize {
        match self.header_len {
            0 => 1,
            1 => 2,
            _ => {
                2 + match self.header[1] & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                }
            }
        }
    }

    /// Buffers header bytes from `input`, checking each part as soon as it
    /// is there. Returns the bytes used and the frame once the header is
    /// complete.
    fn read_header(&mut self, input: &[u8]) -> Result<(usize, Option<Current>), WsError> {
        let mut used = 0;
        loop {
            let target = self.header_target();
            if self.header_len == target {
                break;
            }
            let take = (target - self.header_len).min(input.len() - used);
            if take == 0 {
                return Ok((used, None));
            }
            let room = self.header.get_mut(self.header_len..self.header_len + take);
            let (Some(room), Some(src)) = (room, input.get(used..used + take)) else {
                // `target` never exceeds the header array, `take` the input.
                return Ok((used, None));
            };
            room.copy_from_slice(src);
            self.header_len += take;
            used += take;
            let header = self.header;
            match self.header_len {
                1 => self.check_first_byte(header[0])?,
                2 => check_second_byte(header[0], header[1])?,
                _ => {}
            }
        }
        let header = self.header;
        let len = match header[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
            127 => {
                let mut bytes = [0; 8];
                bytes.copy_from_slice(&header[2..10]);
                let len = u64::from_be_bytes(bytes);
                if len >> 63 != 0 {
                    return Err(protocol(format!(
                        "WebSocket server sent a 64-bit payload length with the most \
                         significant bit set ({len:#018x})"
                    )));
                }
                len
            }
            short => u64::from(short),
        };
        let first = header[0];
        self.header_len = 0;
        let fin = first & FIN != 0;
        let frame_flags = match first & OPCODE {
            0 => {
                let Some(kind) = self.message else {
                    // check_first_byte refused this already.
                    return Err(continuation_without_message(first));
                };
                if fin {
                    self.message = None;
                    kind
                } else {
                    kind | Flags::CONT
                }
            }
            opcode @ (1 | 2) => {
                let kind = if opcode == 1 {
                    Flags::TEXT
                } else {
                    Flags::BINARY
                };
                if fin {
                    kind
                } else {
                    self.message = Some(kind);
                    kind | Flags::CONT
                }
            }
            8 => Flags::CLOSE,
            9 => Flags::PING,
            _ => Flags::PONG,
        };
        Ok((
            used,
            Some(Current {
                flags: frame_flags,
                len,
                done: 0,
            }),
        ))
    }

    /// FIN, RSV and opcode, against the state of fragmented messages.
    fn check_first_byte(&self, first: u8) -> Result<(), WsError> {
        if first & RSV != 0 {
            return Err(protocol(format!(
                "WebSocket server frame has reserved bits set (first byte {first:#04x}); \
                 no extension was negotiated"
            )));
        }
        match first & OPCODE {
            0 if self.message.is_none() => Err(continuation_without_message(first)),
            1 | 2 if self.message.is_some() => Err(protocol(format!(
                "WebSocket server started a new message (first byte {first:#04x}) \
                 before finishing the fragmented one"
            ))),
            0..=2 => Ok(()),
            8..=10 if first & FIN == 0 => Err(protocol(format!(
                "WebSocket server sent a fragmented control frame (first byte {first:#04x})"
            ))),
            8..=10 => Ok(()),
            opcode => Err(protocol(format!(
                "WebSocket server frame uses reserved opcode {opcode:#x} (first byte {first:#04x})"
            ))),
        }
    }
}

/// The MASK bit and a control frame's length.
fn check_second_byte(first: u8, second: u8) -> Result<(), WsError> {
    if second & MASKED != 0 {
        return Err(protocol(format!(
            "WebSocket server sent a masked frame (second byte {second:#04x})"
        )));
    }
    let short = usize::from(second & 0x7f);
    if first & 0x08 != 0 && short > MAX_CONTROL_PAYLOAD {
        return Err(protocol(format!(
            "WebSocket server sent a control frame (first byte {first:#04x}) with a payload \
             longer than {MAX_CONTROL_PAYLOAD} bytes"
        )));
    }
    Ok(())
}

fn continuation_without_message(first: u8) -> WsError {
    protocol(format!(
        "WebSocket server sent a continuation frame (first byte {first:#04x}) \
         with no fragmented message to continue"
    ))
}

fn protocol(message: String) -> WsError {
    WsError::new(WsErrorKind::Protocol, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_split, hexdump};

    fn decode_all(input: &[u8]) -> Result<Vec<Frame>, WsError> {
        let mut decoder = Decoder::new();
        let mut out = [0; 64];
        let mut rest = input;
        let mut frames = Vec::new();
        loop {
            let (used, frame) = decoder.decode(rest, &mut out)?;
            rest = &rest[used..];
            match frame {
                Some(frame) => frames.push(frame),
                None => return Ok(frames),
            }
        }
    }

    #[test]
    fn empty_out_returns_the_same_meta_without_consuming_payload() {
        let mut decoder = Decoder::new();
        let input = b"\x82\x03abc";
        let expected = Frame {
            flags: Flags::BINARY,
            offset: 0,
            bytesleft: 3,
            len: 0,
        };
        assert_eq!(decoder.decode(input, &mut []), Ok((2, Some(expected))));
        assert_eq!(
            decoder.decode(&input[2..], &mut []),
            Ok((0, Some(expected)))
        );
        assert_eq!(decoder.current(), Some(expected));
        let mut out = [0; 2];
        let got = decoder.decode(&input[2..], &mut out);
        assert_eq!(
            got,
            Ok((
                2,
                Some(Frame {
                    flags: Flags::BINARY,
                    offset: 0,
                    bytesleft: 1,
                    len: 2
                })
            ))
        );
        assert_eq!(&out, b"ab");
        assert_eq!(
            decoder.decode(&input[4..], &mut []),
            Ok((
                0,
                Some(Frame {
                    flags: Flags::BINARY,
                    offset: 2,
                    bytesleft: 1,
                    len: 0
                })
            ))
        );
    }

    #[test]
    fn bytes_after_a_frame_are_left_for_the_next_call() {
        let mut decoder = Decoder::new();
        let mut out = [0; 16];
        let (used, frame) = decoder.decode(b"\x81\x02hi\x81\x01!", &mut out).unwrap();
        assert_eq!(used, 4);
        assert_eq!(frame.map(|f| f.len), Some(2));
        assert!(decoder.at_frame_boundary());
    }

    #[test]
    fn error_surfaces_at_the_deciding_byte_and_sticks() {
        let mut decoder = Decoder::new();
        // The RSV1 bit is known from the first byte alone.
        let error = decoder.decode(b"\xc1", &mut [0; 4]).unwrap_err();
        assert_eq!(error.kind, WsErrorKind::Protocol);
        assert_eq!(error.code(), 56);
        assert_eq!(decoder.decode(b"\x81\x00", &mut [0; 4]), Err(error.clone()));
        assert_eq!(decoder.error(), Some(&error));
    }

    #[test]
    fn header_errors_name_the_offending_byte() {
        let cases: [(&[u8], &str); 7] = [
            (b"\x83\x00", "reserved opcode 0x3 (first byte 0x83)"),
            (b"\xa1\x00", "reserved bits set (first byte 0xa1)"),
            (b"\x81\x80", "masked frame (second byte 0x80)"),
            (b"\x89\x7e", "control frame (first byte 0x89)"),
            (b"\x09\x00", "fragmented control frame (first byte 0x09)"),
            (b"\x80\x00", "continuation frame (first byte 0x80)"),
            (
                b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00",
                "most significant bit set (0x8000000000000000)",
            ),
        ];
        for (input, needle) in cases {
            let error = decode_all(input).unwrap_err();
            assert!(
                error.message.contains(needle),
                "{:?} lacks {needle:?}\n{}",
                error.message,
                hexdump(input)
            );
        }
    }

    #[test]
    fn ping_payload_is_whole_after_the_completing_call_only() {
        let input = b"\x89\x05hello\x8a\x00";
        for_each_split(input, |offset, head, tail| {
            let mut decoder = Decoder::new();
            let mut pings = Vec::new();
            for part in [head, tail] {
                let mut rest = part;
                loop {
                    // Chunks of 2 bytes, so the payload spans several calls.
                    let (used, frame) = decoder.decode(rest, &mut [0; 2]).unwrap();
                    rest = &rest[used..];
                    if let Some(payload) = decoder.ping_payload() {
                        pings.push(payload.to_vec());
                    }
                    if frame.is_none() {
                        break;
                    }
                }
            }
            assert_eq!(pings, [b"hello".to_vec()], "split at {offset}");
        });
    }

    #[test]
    fn control_payload_reports_close_and_empty_frames() {
        let mut decoder = Decoder::new();
        let mut out = [0; 8];
        decoder.decode(b"\x88\x02\x03\xe8", &mut out).unwrap();
        assert_eq!(
            decoder.control_payload(),
            Some((Flags::CLOSE, &b"\x03\xe8"[..]))
        );
        assert_eq!(decoder.ping_payload(), None);
        decoder.decode(b"\x89\x00", &mut out).unwrap();
        assert_eq!(decoder.ping_payload(), Some(&b""[..]));
        decoder.decode(b"", &mut out).unwrap();
        assert_eq!(decoder.control_payload(), None);
    }

    #[test]
    fn message_open_follows_fragments() {
        let mut decoder = Decoder::new();
        let mut out = [0; 8];
        decoder.decode(b"\x01\x01a", &mut out).unwrap();
        assert!(decoder.message_open());
        decoder.decode(b"\x8a\x00", &mut out).unwrap();
        assert!(decoder.message_open(), "a control frame leaves it open");
        decoder.decode(b"\x80\x01b", &mut out).unwrap();
        assert!(!decoder.message_open());
    }
}
