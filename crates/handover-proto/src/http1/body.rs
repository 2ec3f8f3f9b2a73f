//! Response bodies: their framing, decoding it, and whether the connection
//! outlives the response.
//!
//! ```text
//!   BodyReader::new(head, method)
//!     ├──> NoBody ───────────────────────────────────────────────────> Done
//!     ├──> Length(n) ──── n bytes ───────────────────────────────────> Done
//!     ├──> Chunked:  Size ─> Data ─> DataEnd ─> Size … 0 ─> Trailers ─> Done
//!     └──> UntilClose ──── on_close ─────────────────────────────────> Done
//!   malformed framing, or on_close before the end ──> Failed (sticky)
//! ```
//!
//! The reader never consumes a byte past the end of the body: on a kept-alive
//! connection the next bytes are the next response's. [`BodySkipper`] is the
//! same decoder with the body thrown away.

use std::mem;

use super::head::{malformed, parse_trailers, HeadError, ResponseHead};

/// Longest chunk-size line accepted (size, whitespace and extensions).
pub const MAX_CHUNK_LINE: usize = 4096;
/// Largest trailer section accepted after the last chunk.
pub const MAX_TRAILER_BYTES: usize = 100 * 1024;

/// How the end of a body is found (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    NoBody,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Framing {
    /// In RFC 9112 §6.3 order: no body for a response to HEAD or a 2xx to
    /// CONNECT, nor for 1xx, 204 and 304; chunked when the last transfer
    /// coding is `chunked`; until the peer closes when another transfer
    /// coding is present or there is no `Content-Length`; else
    /// `Content-Length` bytes. Only an invalid or conflicting
    /// `Content-Length` that decides the framing is an error.
    fn of(head: &ResponseHead, request_method: &str) -> Result<Framing, HeadError> {
        let success = (200..300).contains(&head.status);
        let no_body = request_method == "HEAD"
            || (request_method == "CONNECT" && success)
            || (100..200).contains(&head.status)
            || head.status == 204
            || head.status == 304;
        Ok(if no_body {
            Framing::NoBody
        } else if head.header("transfer-encoding").is_some() {
            if head.is_chunked() {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else {
            match head.content_length()? {
                Some(length) => Framing::Length(length),
                None => Framing::UntilClose,
            }
        })
    }
}

/// Decodes the body that follows a response head: `Content-Length` bytes,
/// chunked (extensions ignored, trailers kept), everything until the peer
/// closes, or nothing at all.
///
/// Once an error is returned, every later call returns it again.
///
/// # Examples
///
/// A chunked body, arriving with the start of the next response behind it:
///
/// ```
/// use handover_proto::http1::{parse_response_head, BodyReader, Limits, Parsed};
///
/// let received = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
///                  5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\nHTTP/1.1";
/// let Parsed::Complete { head, len } = parse_response_head(received, Limits::DEFAULT)? else {
///     unreachable!()
/// };
/// let mut reader = BodyReader::new(&head, "GET")?;
/// let mut input = &received[len..];
/// let mut body = Vec::new();
/// let mut out = [0u8; 4];
/// while !reader.is_done() {
///     let (consumed, produced) = reader.read(input, &mut out)?;
///     body.extend_from_slice(&out[..produced]);
///     input = &input[consumed..];
/// }
/// assert_eq!(body, b"hello world");
/// assert_eq!(reader.trailers(), [("X-Sum".to_string(), "42".to_string())]);
/// assert_eq!(input, b"HTTP/1.1"); // the next response, untouched
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct BodyReader {
    framing: Framing,
    state: State,
    /// Trailer bytes gathered until the blank line that ends them.
    trailer_bytes: Vec<u8>,
    trailers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
enum State {
    Done,
    Length(u64),
    UntilClose,
    Chunked(Chunk),
    Failed(HeadError),
}

#[derive(Clone, Debug)]
enum Chunk {
    /// Reading a chunk-size line; `len` counts its bytes so far.
    Size {
        value: u64,
        digits: usize,
        phase: SizePhase,
        len: usize,
    },
    /// Chunk data still to come.
    Data(u64),
    /// The CRLF after chunk data; `cr` once the CR is seen.
    DataEnd { cr: bool },
    /// Trailer section after the last chunk: `line` counts the current
    /// line's bytes, `cr_only` says they are a single CR (so a LF now ends
    /// the section), `total` counts all bytes.
    Trailers {
        line: usize,
        cr_only: bool,
        total: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SizePhase {
    Digits,
    /// Whitespace after the digits (RFC 9112 allows BWS before `;`).
    Space,
    Extension,
    Cr,
}

const NEW_SIZE_LINE: Chunk = Chunk::Size {
    value: 0,
    digits: 0,
    phase: SizePhase::Digits,
    len: 0,
};

/// Where decoded body bytes go.
enum Sink<'a> {
    /// Nowhere: the body is skipped, with no bound on how much per call.
    Discard,
    /// Into `out`, of which `filled` bytes are used.
    Buffer { out: &'a mut [u8], filled: usize },
}

impl Sink<'_> {
    fn room(&self) -> usize {
        match self {
            Sink::Discard => usize::MAX,
            Sink::Buffer { out, filled } => out.len().saturating_sub(*filled),
        }
    }

    /// Takes up to [`room`](Sink::room) bytes from the front of `input`;
    /// returns how many.
    fn put(&mut self, input: &[u8], limit: u64) -> usize {
        let take = clamp(limit, input.len().min(self.room()));
        if let Sink::Buffer { out, filled } = self {
            if let (Some(dst), Some(src)) =
                (out.get_mut(*filled..*filled + take), input.get(..take))
            {
                dst.copy_from_slice(src);
                *filled += take;
            }
        }
        take
    }

    fn produced(&self) -> usize {
        match self {
            Sink::Discard => 0,
            Sink::Buffer { filled, .. } => *filled,
        }
    }
}

impl BodyReader {
    /// A reader for the body that follows `head`, the answer to a
    /// `request_method` request (`HEAD` and a 2xx to `CONNECT` have no
    /// body). Errors when `Content-Length` is invalid or conflicting and
    /// decides the framing.
    pub fn new(head: &ResponseHead, request_method: &str) -> Result<BodyReader, HeadError> {
        let framing = Framing::of(head, request_method)?;
        let state = match framing {
            Framing::NoBody | Framing::Length(0) => State::Done,
            Framing::Length(length) => State::Length(length),
            Framing::Chunked => State::Chunked(NEW_SIZE_LINE),
            Framing::UntilClose => State::UntilClose,
        };
        Ok(BodyReader {
            framing,
            state,
            trailer_bytes: Vec::new(),
            trailers: Vec::new(),
        })
    }

    /// Decodes framing: consumes from `input`, writes body bytes into
    /// `out`; returns `(consumed, produced)`.
    ///
    /// Never consumes past the end of the body: bytes after it belong to the
    /// next response on a kept-alive connection. Framing bytes (chunk-size
    /// lines, CRLFs, trailers) are consumed even when `out` is full, so the
    /// body can end in a call that produces nothing; body bytes wait for
    /// room in `out`. When bad framing follows body bytes decoded in the
    /// same call, those bytes are returned first and the error on the next
    /// call.
    pub fn read(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), HeadError> {
        let mut sink = Sink::Buffer { out, filled: 0 };
        let consumed = self.decode(input, &mut sink)?;
        Ok((consumed, sink.produced()))
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Whether the body ends only when the peer closes the connection, so
    /// the connection cannot carry another exchange.
    pub fn until_close(&self) -> bool {
        self.framing == Framing::UntilClose
    }

    /// The peer closed the connection (end of stream). That ends a body
    /// read until close; any other body not yet complete is truncated, an
    /// error (libcurl's `CURLE_PARTIAL_FILE`).
    pub fn on_close(&mut self) -> Result<(), HeadError> {
        let error = match &self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(());
            }
            State::Failed(error) => return Err(error.clone()),
            State::Length(remaining) => malformed(format!(
                "transfer closed with {remaining} bytes remaining to read"
            )),
            State::Chunked(_) => malformed("transfer closed with outstanding read data remaining"),
        };
        self.state = State::Failed(error.clone());
        Err(error)
    }

    /// The body length `Content-Length` announced, when it frames the body;
    /// `None` for chunked, until-close and bodiless responses.
    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(length) => Some(length),
            _ => None,
        }
    }

    /// How many more input bytes certainly belong to this body: a caller
    /// that reads at most this many from the connection never takes bytes
    /// past the body's end (the next response's, on a kept-alive
    /// connection). At least 1 until the body is done; 0 once it is done or
    /// failed; `u64::MAX` for a body that runs until the peer closes.
    ///
    /// For a chunked body the bound counts the shortest framing that can
    /// still follow (`\n0\n\n` after chunk data, bare LFs allowed), so a
    /// reader takes each chunk's data and the framing around it in one read.
    pub fn min_remaining(&self) -> u64 {
        match &self.state {
            State::Done | State::Failed(_) => 0,
            State::UntilClose => u64::MAX,
            State::Length(remaining) => *remaining,
            State::Chunked(chunk) => match *chunk {
                // The data, its line end, then at least "0\n\n".
                Chunk::Data(remaining) => remaining.saturating_add(4),
                Chunk::DataEnd { .. } => 4,
                // No digit yet: at least "0\n\n".
                Chunk::Size { digits: 0, .. } => 3,
                // The last chunk: the line end and the blank line.
                Chunk::Size { value: 0, .. } => 2,
                // The line end, the data, its line end, and "0\n\n".
                Chunk::Size { value, .. } => value.saturating_add(5),
                Chunk::Trailers { .. } => 1,
            },
        }
    }

    /// The trailer fields of a chunked body, once [`is_done`](Self::is_done);
    /// empty before, and for other framings.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// The one decoder behind [`read`](Self::read) and [`BodySkipper::feed`]:
    /// returns how many bytes of `input` were consumed.
    fn decode(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<usize, HeadError> {
        let (used, outcome) = match &mut self.state {
            State::Done => (0, Ok(())),
            State::Failed(error) => (0, Err(error.clone())),
            State::UntilClose => (sink.put(input, u64::MAX), Ok(())),
            State::Length(remaining) => {
                let used = sink.put(input, *remaining);
                *remaining -= used as u64;
                if *remaining == 0 {
                    self.state = State::Done;
                }
                (used, Ok(()))
            }
            State::Chunked(chunk) => {
                let (used, outcome) = decode_chunked(chunk, &mut self.trailer_bytes, input, sink);
                let outcome = match outcome {
                    Ok(true) => parse_trailers(&mem::take(&mut self.trailer_bytes)).map(|fields| {
                        self.trailers = fields;
                        self.state = State::Done;
                    }),
                    Ok(false) => Ok(()),
                    Err(error) => Err(error),
                };
                (used, outcome)
            }
        };
        match outcome {
            Ok(()) => Ok(used),
            Err(error) => {
                self.state = State::Failed(error.clone());
                // Body bytes decoded before the fault are delivered first.
                if sink.produced() > 0 {
                    Ok(used)
                } else {
                    Err(error)
                }
            }
        }
    }
}

/// `min(remaining, available)` without a lossy cast.
fn clamp(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |remaining| remaining.min(available))
}

/// Advances the chunked decoder over `input`, writing chunk data to `sink`.
/// Returns the bytes used (up to the fault, on error) and whether the body
/// ended; trailer bytes are appended to `trailers`.
fn decode_chunked(
    chunk: &mut Chunk,
    trailers: &mut Vec<u8>,
    input: &[u8],
    sink: &mut Sink<'_>,
) -> (usize, Result<bool, HeadError>) {
    let mut used = 0;
    loop {
        let rest = input.get(used..).unwrap_or_default();
        match chunk {
            Chunk::Data(remaining) => {
                let take = sink.put(rest, *remaining);
                if take == 0 {
                    // No input left, or no room for the data.
                    return (used, Ok(false));
                }
                used += take;
                *remaining -= take as u64;
                if *remaining == 0 {
                    *chunk = Chunk::DataEnd { cr: false };
                }
            }
            Chunk::Trailers {
                line,
                cr_only,
                total,
            } => {
                let (taken, outcome) = scan_trailers(line, cr_only, total, rest);
                trailers.extend_from_slice(rest.get(..taken).unwrap_or_default());
                return (used + taken, outcome);
            }
            Chunk::Size { .. } | Chunk::DataEnd { .. } => {
                let Some(&byte) = rest.first() else {
                    return (used, Ok(false));
                };
                if let Err(error) = framing_byte(chunk, byte) {
                    return (used, Err(error));
                }
                used += 1;
            }
        }
    }
}

/// One byte of a chunk-size line or of the CRLF after chunk data.
fn framing_byte(chunk: &mut Chunk, byte: u8) -> Result<(), HeadError> {
    match chunk {
        Chunk::Size {
            value,
            digits,
            phase,
            len,
        } => {
            *len += 1;
            if *len > MAX_CHUNK_LINE {
                return Err(malformed(format!(
                    "chunk-size line longer than {MAX_CHUNK_LINE} bytes"
                )));
            }
            let end_of_line = match (*phase, byte) {
                (SizePhase::Digits, _) if byte.is_ascii_hexdigit() => {
                    let digit = char::from(byte).to_digit(16).unwrap_or(0);
                    *value = value
                        .checked_mul(16)
                        .and_then(|v| v.checked_add(u64::from(digit)))
                        .ok_or_else(|| malformed("chunk size too large"))?;
                    *digits += 1;
                    false
                }
                (SizePhase::Cr, b'\n') => true,
                (SizePhase::Cr, _) => return Err(malformed("CR without LF in chunk-size line")),
                _ if *digits == 0 => return Err(malformed("chunk-size line has no size")),
                (SizePhase::Digits | SizePhase::Space, b' ' | b'\t') => {
                    *phase = SizePhase::Space;
                    false
                }
                (SizePhase::Digits | SizePhase::Space, b';') => {
                    *phase = SizePhase::Extension;
                    false
                }
                (_, b'\r') => {
                    *phase = SizePhase::Cr;
                    false
                }
                (_, b'\n') => true,
                (SizePhase::Extension, 0) => return Err(malformed("NUL in chunk extension")),
                (SizePhase::Extension, _) => false,
                _ => return Err(malformed("bad character in chunk size")),
            };
            if end_of_line {
                *chunk = if *value == 0 {
                    Chunk::Trailers {
                        line: 0,
                        cr_only: false,
                        total: 0,
                    }
                } else {
                    Chunk::Data(*value)
                };
            }
            Ok(())
        }
        Chunk::DataEnd { cr } => match byte {
            b'\r' if !*cr => {
                *cr = true;
                Ok(())
            }
            b'\n' => {
                *chunk = NEW_SIZE_LINE;
                Ok(())
            }
            _ => Err(malformed("chunk data not followed by CRLF")),
        },
        Chunk::Data(_) | Chunk::Trailers { .. } => Ok(()),
    }
}

/// Finds the blank line that ends the trailer section; returns how many
/// bytes of `input` belong to the section and whether it ended.
fn scan_trailers(
    line: &mut usize,
    cr_only: &mut bool,
    total: &mut usize,
    input: &[u8],
) -> (usize, Result<bool, HeadError>) {
    for (index, &byte) in input.iter().enumerate() {
        *total += 1;
        if *total > MAX_TRAILER_BYTES {
            return (
                index,
                Err(malformed(format!(
                    "chunked trailers longer than {MAX_TRAILER_BYTES} bytes"
                ))),
            );
        }
        if byte == b'\n' {
            if *line == 0 || *cr_only {
                return (index + 1, Ok(true));
            }
            *line = 0;
            *cr_only = false;
        } else {
            *cr_only = *line == 0 && byte == b'\r';
            *line += 1;
        }
    }
    (input.len(), Ok(false))
}

/// Reads past a response body without keeping it, so the connection can
/// carry the next exchange (a new `CONNECT` after a 407, for instance).
///
/// A [`BodyReader`] that throws the body away: the framing is the same.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{parse_response_head, BodySkipper, Limits, Parsed};
///
/// let received = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
///                  Content-Length: 6\r\n\r\ndeniedHTTP/1.1 200";
/// let Parsed::Complete { head, len } = parse_response_head(received, Limits::DEFAULT)? else {
///     unreachable!()
/// };
/// let mut skipper = BodySkipper::new(&head, false)?;
/// assert_eq!(skipper.feed(&received[len..])?, 6);
/// assert!(skipper.is_done()); // the next answer starts right after
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct BodySkipper {
    reader: BodyReader,
}

impl BodySkipper {
    /// A skipper for the body that follows `head`.
    /// `request_was_head_or_connect_2xx` says the request was HEAD, or a
    /// CONNECT that this 2xx answers: such responses have no body whatever
    /// their headers say. Errors when `Content-Length` is invalid or
    /// conflicting and decides the framing.
    pub fn new(
        head: &ResponseHead,
        request_was_head_or_connect_2xx: bool,
    ) -> Result<BodySkipper, HeadError> {
        let method = if request_was_head_or_connect_2xx {
            "HEAD"
        } else {
            "GET"
        };
        Ok(BodySkipper {
            reader: BodyReader::new(head, method)?,
        })
    }

    /// Skips body bytes from the front of `input`; returns how many were
    /// body. Stops at the end of the body: bytes after it are not consumed.
    /// Once an error is returned, every later call returns it again.
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, HeadError> {
        self.reader.decode(input, &mut Sink::Discard)
    }

    /// Whether the whole body has been skipped.
    pub fn is_done(&self) -> bool {
        self.reader.is_done()
    }

    /// Whether the body ends only when the peer closes the connection, so
    /// the connection cannot carry another exchange.
    pub fn until_close(&self) -> bool {
        self.reader.until_close()
    }
}

/// Whether the connection may carry another request after this response
/// to a GET-like request: see [`keep_alive_via`].
pub fn keep_alive(head: &ResponseHead) -> bool {
    keep_alive_via(head, "GET", Via::Direct)
}

/// Whether the connection may carry another request after this response
/// to a `request_method` request, straight from the server: see
/// [`keep_alive_via`].
pub fn keep_alive_after(head: &ResponseHead, request_method: &str) -> bool {
    keep_alive_via(head, request_method, Via::Direct)
}

/// What a response came through, which decides whether its
/// `Proxy-Connection` header speaks for the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// Straight from the server, no HTTP proxy on the connection.
    Direct,
    /// An HTTP proxy is on the connection: its answer to `CONNECT`, or a
    /// request it forwards or tunnels (libcurl's `conn->bits.httpproxy`).
    HttpProxy,
}

/// Whether the connection may carry another request after this response
/// to a `request_method` request, as libcurl decides (`lib/http.c`,
/// `http_header` and `http_statusline`): HTTP/1.1 unless `Connection:
/// close`; HTTP/1.0 only with `Connection: keep-alive`, or, when an HTTP
/// proxy is on the connection, `Proxy-Connection: keep-alive` (libcurl
/// honours that header only then). Never when the body runs until close
/// or its framing is invalid, after `101` (the connection now speaks
/// another protocol) or a 2xx to `CONNECT` (a tunnel).
///
/// `Proxy-Connection: close` counts as close whoever sent it (libcurl
/// heeds it only from a proxy, on HTTP/1.1): closing is always safe. The
/// CONNECT tunnel uses the same rule after a 407; libcurl's own tunnel
/// filter (`cf-h1-proxy.c`) closes only on a `close` token and would keep
/// a bare HTTP/1.0 407 connection, which this rule closes — again the
/// safe side: the next round goes out on a new connection.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{keep_alive_via, parse_response_head, Limits, Parsed, Via};
///
/// let wire = b"HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n";
/// let Parsed::Complete { head, .. } = parse_response_head(wire, Limits::DEFAULT)? else {
///     unreachable!()
/// };
/// assert!(keep_alive_via(&head, "GET", Via::HttpProxy));
/// assert!(!keep_alive_via(&head, "GET", Via::Direct)); // HTTP/1.0 closes by default
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
pub fn keep_alive_via(head: &ResponseHead, request_method: &str, via: Via) -> bool {
    let tunnel = request_method == "CONNECT" && (200..300).contains(&head.status);
    if head.status == 101 || tunnel {
        return false;
    }
    if !matches!(Framing::of(head, request_method), Ok(framing) if framing != Framing::UntilClose) {
        return false;
    }
    let says = |name: &str, token: &str| {
        head.headers_named(name).any(|value| {
            value
                .split(',')
                .any(|item| item.trim_matches([' ', '\t']).eq_ignore_ascii_case(token))
        })
    };
    if says("Connection", "close") || says("Proxy-Connection", "close") {
        return false;
    }
    head.minor_version >= 1
        || says("Connection", "keep-alive")
        || (via == Via::HttpProxy && says("Proxy-Connection", "keep-alive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::head::tests::head_with;
    use crate::testing::{for_each_split, hexdump, Garbage};

    /// Header fields, for table rows.
    type Fields<'a> = &'a [(&'a str, &'a str)];
    /// Status, headers, method, done at once, until close, content length.
    type FramingRow<'a> = (u16, Fields<'a>, &'a str, bool, bool, Option<u64>);

    #[test]
    fn body_framing_follows_status_request_and_headers() {
        // (status, headers, HEAD/CONNECT 2xx, done at once, until close)
        let cases: &[(u16, Fields, bool, bool, bool)] = &[
            (200, &[("Content-Length", "10")], true, true, false),
            (100, &[("Content-Length", "10")], false, true, false),
            (101, &[], false, true, false),
            (204, &[("Transfer-Encoding", "chunked")], false, true, false),
            (304, &[("Content-Length", "10")], false, true, false),
            (407, &[("Content-Length", "0")], false, true, false),
            (407, &[("Content-Length", "10")], false, false, false),
            (
                407,
                &[("Transfer-Encoding", "chunked")],
                false,
                false,
                false,
            ),
            (
                407,
                &[("Transfer-Encoding", "chunked"), ("Content-Length", "x")],
                false,
                false,
                false,
            ),
            (407, &[("Transfer-Encoding", "gzip")], false, false, true),
            (407, &[], false, false, true),
            (200, &[], false, false, true),
        ];
        for (status, headers, head_or_connect, done, close) in cases {
            let skipper = BodySkipper::new(&head_with(*status, headers), *head_or_connect).unwrap();
            assert_eq!(
                (skipper.is_done(), skipper.until_close()),
                (*done, *close),
                "{status} {headers:?}"
            );
        }
        let conflicting = head_with(407, &[("Content-Length", "1"), ("Content-Length", "2")]);
        assert!(BodySkipper::new(&conflicting, false).is_err());
    }

    #[test]
    fn content_length_body_is_skipped_exactly() {
        let head = head_with(407, &[("Content-Length", "5")]);
        let input = b"hello\r\nHTTP/1.1 200 OK\r\n\r\n";
        for_each_split(input, |offset, first, second| {
            let mut skipper = BodySkipper::new(&head, false).unwrap();
            let a = skipper.feed(first).unwrap();
            assert_eq!(a, offset.min(5));
            let b = skipper.feed(&input[a..]).unwrap();
            assert_eq!(a + b, 5, "at {offset}");
            assert!(skipper.is_done());
            assert_eq!(skipper.feed(second).unwrap(), 0);
        });
        let mut until_close = BodySkipper::new(&head_with(407, &[]), false).unwrap();
        assert_eq!(until_close.feed(input).unwrap(), input.len());
        assert!(!until_close.is_done() && until_close.until_close());
        let mut huge = BodySkipper::new(
            &head_with(407, &[("Content-Length", "18446744073709551615")]),
            false,
        )
        .unwrap();
        assert_eq!(huge.feed(input).unwrap(), input.len());
        assert!(!huge.is_done());
    }

    fn chunked() -> BodySkipper {
        BodySkipper::new(&head_with(407, &[("Transfer-Encoding", "chunked")]), false).unwrap()
    }

    /// Feeds `input` split at `offset`, re-offering unconsumed bytes the
    /// way a caller would; returns the total consumed.
    fn feed_split(
        skipper: &mut BodySkipper,
        input: &[u8],
        offset: usize,
    ) -> Result<usize, HeadError> {
        let first = skipper.feed(&input[..offset])?;
        if first < offset {
            assert!(skipper.is_done(), "stopped early at {first} of {offset}");
            return Ok(first);
        }
        Ok(first + skipper.feed(&input[offset..])?)
    }

    #[test]
    fn chunked_body_split_at_every_offset_is_skipped_exactly() {
        let bodies: [&[u8]; 6] = [
            b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
            b"4;name=value;flag\r\nWiki\r\n0;last\r\n\r\n",
            b"1a \t;ext=\"q;uoted\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nExpires: never\r\nX-Trailer: a\r\n\r\n",
            b"3\nabc\n0\n\n",
            b"0000000000000000000000000003\r\nabc\r\n00\r\nT: 1\n\r\n",
            b"0\r\n\r\n",
        ];
        let after = b"HTTP/1.1 200 Connection established\r\n\r\n";
        for body in bodies {
            let input = [body, &after[..]].concat();
            for_each_split(&input, |offset, _, _| {
                let mut skipper = chunked();
                let used = feed_split(&mut skipper, &input, offset)
                    .unwrap_or_else(|e| panic!("at {offset}: {e}\n{}", hexdump(&input)));
                assert_eq!(used, body.len(), "at {offset}\n{}", hexdump(&input));
                assert!(skipper.is_done() && !skipper.until_close());
            });
            let mut bytewise = chunked();
            let mut used = 0;
            for byte in input.chunks(1) {
                used += bytewise.feed(byte).unwrap();
            }
            assert_eq!(used, body.len());
        }
    }

    #[test]
    fn reading_at_most_min_remaining_never_takes_a_byte_past_the_body() {
        let chunked_bodies: [&[u8]; 6] = [
            b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
            b"4;name=value;flag\r\nWiki\r\n0;last\r\n\r\n",
            b"1a \t;ext=\"q;uoted\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nExpires: never\r\nX-Trailer: a\r\n\r\n",
            b"3\nabc\n0\n\n",
            b"0000000000000000000000000003\r\nabc\r\n00\r\nT: 1\n\r\n",
            b"0\n\n",
        ];
        let chunked = head_with(200, &[("Transfer-Encoding", "chunked")]);
        let sized = head_with(200, &[("Content-Length", "7")]);
        let cases = chunked_bodies
            .iter()
            .map(|body| (&chunked, *body))
            .chain([(&sized, &b"exactly"[..])]);
        let after = b"HTTP/1.1 200 OK\r\n\r\n";
        for (head, body) in cases {
            let input = [body, &after[..]].concat();
            let mut reader = BodyReader::new(head, "GET").unwrap();
            let mut out = [0u8; 64];
            let mut taken = 0;
            let mut reads = 0;
            while !reader.is_done() {
                let bound = reader.min_remaining();
                assert!(bound >= 1, "not done but bound 0 at {taken}");
                // Read as a connection would: up to the bound, never beyond.
                let want = usize::try_from(bound)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - taken);
                let chunk = &input[taken..taken + want];
                let mut at = 0;
                while at < chunk.len() {
                    let (used, _) = reader.read(&chunk[at..], &mut out).unwrap();
                    assert!(used > 0, "stuck at {}\n{}", taken + at, hexdump(&input));
                    at += used;
                }
                taken += want;
                reads += 1;
                assert!(
                    taken <= body.len(),
                    "read past the body: {taken} of {}\n{}",
                    body.len(),
                    hexdump(&input)
                );
            }
            assert_eq!(taken, body.len());
            assert_eq!(reader.min_remaining(), 0);
            assert!(reads < body.len(), "one byte a read is too slow: {reads}");
        }
        let until_close = BodyReader::new(&head_with(200, &[]), "GET").unwrap();
        assert_eq!(until_close.min_remaining(), u64::MAX);
        let bodiless = BodyReader::new(&sized, "HEAD").unwrap();
        assert_eq!(bodiless.min_remaining(), 0);
    }

    #[test]
    fn hostile_chunk_sizes_and_lines_are_refused() {
        let long_extension = [&b"1;"[..], &[b'x'; MAX_CHUNK_LINE]].concat();
        let long_digits = [&[b'0'; MAX_CHUNK_LINE + 1][..], b"\r\n"].concat();
        let cases: &[(&[u8], &str)] = &[
            (b"ffffffffffffffffff\r\n", "too large"),
            (b"10000000000000000\r\n", "too large"),
            (&long_extension, "longer than 4096"),
            (&long_digits, "longer than 4096"),
            (b"\r\n", "no size"),
            (b";ext\r\n", "no size"),
            (b" 1\r\n", "no size"),
            (b"g\r\n", "no size"),
            (b"-1\r\n", "no size"),
            (b"0x1\r\n", "bad character"),
            (b"1 2\r\n", "bad character"),
            (b"1\rX", "CR without LF"),
            (b"1;a\0\r\n", "NUL"),
            (b"1\r\nXY", "not followed by CRLF"),
            (b"1\r\nX\r\r\n", "not followed by CRLF"),
        ];
        for (input, needle) in cases {
            let mut skipper = chunked();
            let Err(HeadError(message)) = skipper.feed(input) else {
                panic!("accepted\n{}", hexdump(input));
            };
            assert!(message.contains(needle), "{message}\n{}", hexdump(input));
            // The error sticks.
            assert_eq!(skipper.feed(b"0\r\n\r\n").unwrap_err().0, message);
            assert!(!skipper.is_done());
        }
        // The largest size that fits is a size, not an error.
        let mut skipper = chunked();
        assert_eq!(skipper.feed(b"ffffffffffffffff\r\nabc").unwrap(), 21);
        assert!(!skipper.is_done());
        // Endless trailers hit their cap.
        let mut skipper = chunked();
        skipper.feed(b"0\r\n").unwrap();
        let line = b"X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut result = Ok(0);
        for _ in 0..(MAX_TRAILER_BYTES / line.len() + 2) {
            result = skipper.feed(line);
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().0.contains("trailers longer"));
    }

    #[test]
    fn random_chunked_input_never_panics_or_over_consumes() {
        let mut garbage = Garbage::new(0xC0FFEE);
        let alphabet = b"0123456789abcdefABCDEFxg;= \t\r\n\r\n";
        for _ in 0..20_000 {
            let len = (garbage.next_u64() % 64) as usize;
            let input: Vec<u8> = garbage
                .bytes(len)
                .into_iter()
                .map(|b| alphabet[usize::from(b) % alphabet.len()])
                .collect();
            let mut skipper = chunked();
            if let Ok(used) = skipper.feed(&input) {
                assert!(used <= input.len());
                if used < input.len() {
                    assert!(skipper.is_done(), "\n{}", hexdump(&input));
                }
            }
        }
    }

    // ---- BodyReader ----

    fn reader(status: u16, headers: Fields, method: &str) -> BodyReader {
        BodyReader::new(&head_with(status, headers), method).unwrap()
    }

    fn chunked_reader() -> BodyReader {
        reader(200, &[("Transfer-Encoding", "chunked")], "GET")
    }

    /// Reads `input` as a caller would: first only the bytes before
    /// `offset` have arrived, then all of them; unconsumed bytes are offered
    /// again, `out` is `out_size` bytes. Returns the body and the bytes
    /// consumed.
    fn read_split(
        reader: &mut BodyReader,
        input: &[u8],
        offset: usize,
        out_size: usize,
    ) -> Result<(Vec<u8>, usize), HeadError> {
        let mut body = Vec::new();
        let mut used = 0;
        let mut out = vec![0u8; out_size];
        for available in [offset, input.len()] {
            loop {
                let (consumed, produced) = reader.read(&input[used..available], &mut out)?;
                assert!(produced <= out_size && used + consumed <= available);
                body.extend_from_slice(&out[..produced]);
                used += consumed;
                if consumed == 0 && produced == 0 {
                    break;
                }
            }
        }
        Ok((body, used))
    }

    #[test]
    fn reader_framing_follows_method_status_and_headers() {
        // (status, headers, method, done at once, until close, content length)
        let cases: &[FramingRow] = &[
            (
                200,
                &[("Content-Length", "10")],
                "GET",
                false,
                false,
                Some(10),
            ),
            (200, &[("Content-Length", "10")], "HEAD", true, false, None),
            (200, &[("Content-Length", "x")], "HEAD", true, false, None),
            (
                200,
                &[("Content-Length", "10")],
                "head",
                false,
                false,
                Some(10),
            ),
            (200, &[], "CONNECT", true, false, None),
            (407, &[], "CONNECT", false, true, None),
            (200, &[], "POST", false, true, None),
            (200, &[("Content-Length", "0")], "GET", true, false, Some(0)),
            (101, &[("Connection", "upgrade")], "GET", true, false, None),
            (103, &[("Content-Length", "3")], "GET", true, false, None),
            (
                204,
                &[("Transfer-Encoding", "chunked")],
                "GET",
                true,
                false,
                None,
            ),
            (304, &[("Content-Length", "10")], "GET", true, false, None),
            (
                200,
                &[("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
                "GET",
                false,
                false,
                None,
            ),
            (
                200,
                &[("Transfer-Encoding", "gzip, chunked")],
                "GET",
                false,
                false,
                None,
            ),
            (
                200,
                &[("Transfer-Encoding", "gzip")],
                "GET",
                false,
                true,
                None,
            ),
            (200, &[("Transfer-Encoding", "")], "GET", false, true, None),
            (500, &[], "DELETE", false, true, None),
        ];
        for (status, headers, method, done, close, length) in cases {
            let r = reader(*status, headers, method);
            assert_eq!(
                (r.is_done(), r.until_close(), r.content_length()),
                (*done, *close, *length),
                "{status} {headers:?} {method}"
            );
        }
        for headers in [
            &[("Content-Length", "1"), ("Content-Length", "2")][..],
            &[("Content-Length", "-1")],
        ] {
            assert!(BodyReader::new(&head_with(200, headers), "GET").is_err());
        }
        // A length out of libcurl's range is ignored, as libcurl ignores
        // it (curl test 395): read until the server closes, then not kept.
        let huge = head_with(200, &[("Content-Length", "18446744073709551616")]);
        let r = BodyReader::new(&huge, "GET").unwrap();
        assert!(r.until_close() && r.content_length().is_none());
        assert!(!keep_alive(&huge));
    }

    #[test]
    fn chunked_body_split_at_every_offset_with_small_outputs_is_decoded_exactly() {
        let cases: [(&[u8], &[u8], Fields); 6] = [
            (
                b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
                b"Wikipedia in\r\n\r\nchunks.",
                &[],
            ),
            (b"4;name=value;flag\r\nWiki\r\n0;last\r\n\r\n", b"Wiki", &[]),
            (
                b"1a \t;ext=\"q;uoted\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\
                  Expires: never\r\nX-Trailer: a\r\n  folded\r\n\r\n",
                b"abcdefghijklmnopqrstuvwxyz",
                &[("Expires", "never"), ("X-Trailer", "a folded")],
            ),
            (b"3\nabc\n0\n\n", b"abc", &[]),
            (
                b"0000000000000000000000000003\r\nabc\r\n00\r\nT: 1\n\r\n",
                b"abc",
                &[("T", "1")],
            ),
            (b"0\r\n\r\n", b"", &[]),
        ];
        let after = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        for (framed, body, trailers) in cases {
            let input = [framed, &after[..]].concat();
            let trailers: Vec<(String, String)> = trailers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            for out_size in 1..=7 {
                for_each_split(&input, |offset, _, _| {
                    let mut r = chunked_reader();
                    let (decoded, used) = read_split(&mut r, &input, offset, out_size)
                        .unwrap_or_else(|e| {
                            panic!("at {offset}/{out_size}: {e}\n{}", hexdump(&input))
                        });
                    let context = format!("at {offset}, out {out_size}\n{}", hexdump(&input));
                    assert_eq!(decoded, body, "{context}");
                    assert_eq!(used, framed.len(), "{context}");
                    assert!(r.is_done() && !r.until_close(), "{context}");
                    assert_eq!(r.trailers(), trailers, "{context}");
                    assert_eq!(r.read(after, &mut [0; 8]), Ok((0, 0)));
                });
            }
        }
    }

    #[test]
    fn content_length_body_stops_exactly_before_the_next_response() {
        let head = head_with(200, &[("Content-Length", "5")]);
        let input = b"helloHTTP/1.1 200 OK\r\n\r\n";
        for out_size in 1..=7 {
            for_each_split(input, |offset, _, _| {
                let mut r = BodyReader::new(&head, "GET").unwrap();
                let (body, used) = read_split(&mut r, input, offset, out_size).unwrap();
                assert_eq!((body.as_slice(), used), (&b"hello"[..], 5), "at {offset}");
                assert!(r.is_done());
                assert_eq!(r.on_close(), Ok(()));
            });
        }
        // An empty output takes nothing, and says so.
        let mut r = BodyReader::new(&head, "GET").unwrap();
        assert_eq!(r.read(input, &mut []), Ok((0, 0)));
        assert!(!r.is_done());
        // The largest length is a length, not an overflow.
        let mut huge = reader(200, &[("Content-Length", "9223372036854775807")], "GET");
        assert_eq!(
            huge.read(input, &mut [0; 64]),
            Ok((input.len(), input.len()))
        );
        assert_eq!(huge.content_length(), Some(i64::MAX as u64));
        assert!(!huge.is_done());
    }

    #[test]
    fn until_close_body_takes_everything_and_ends_on_close() {
        let input = b"HTTP/1.1 200 OK\r\n\r\nnot a response, just body";
        for out_size in 1..=7 {
            for_each_split(input, |offset, _, _| {
                let mut r = reader(200, &[("Connection", "close")], "GET");
                let (body, used) = read_split(&mut r, input, offset, out_size).unwrap();
                assert_eq!((body.as_slice(), used), (&input[..], input.len()));
                assert!(!r.is_done() && r.until_close());
                assert_eq!(r.on_close(), Ok(()));
                assert!(r.is_done() && r.until_close());
                assert_eq!(r.read(b"more", &mut [0; 4]), Ok((0, 0)));
            });
        }
    }

    #[test]
    fn truncated_bodies_are_an_error_on_close() {
        let chunked_cuts: [&[u8]; 7] = [
            b"",
            b"1",
            b"5\r\nhel",
            b"5\r\nhello",
            b"5\r\nhello\r",
            b"0\r\n",
            b"0\r\nX-Trailer: a\r\n",
        ];
        for cut in chunked_cuts {
            let mut r = chunked_reader();
            let (_, used) = read_split(&mut r, cut, cut.len(), 16).unwrap();
            assert_eq!(used, cut.len());
            let message = r.on_close().unwrap_err().0;
            assert!(
                message.contains("outstanding read data"),
                "{message}\n{}",
                hexdump(cut)
            );
            // The error sticks.
            assert_eq!(r.read(b"0\r\n\r\n", &mut [0; 8]).unwrap_err().0, message);
            assert_eq!(r.on_close().unwrap_err().0, message);
            assert!(!r.is_done());
        }
        let mut r = reader(200, &[("Content-Length", "10")], "GET");
        assert_eq!(r.read(b"hello", &mut [0; 16]), Ok((5, 5)));
        let message = r.on_close().unwrap_err().0;
        assert_eq!(message, "transfer closed with 5 bytes remaining to read");
        assert_eq!(r.read(b"world", &mut [0; 16]).unwrap_err().0, message);
        // Complete and bodiless responses close cleanly.
        let mut complete = chunked_reader();
        assert_eq!(complete.read(b"0\r\n\r\n", &mut []), Ok((5, 0)));
        assert_eq!(complete.on_close(), Ok(()));
        assert_eq!(reader(304, &[], "GET").on_close(), Ok(()));
        assert_eq!(
            reader(200, &[("Content-Length", "3")], "HEAD").on_close(),
            Ok(())
        );
    }

    #[test]
    fn framing_is_consumed_even_when_the_output_is_full() {
        let input = b"3\r\nabc\r\n0\r\nT: x\r\n\r\nNEXT";
        let mut out = [0u8; 3];
        let mut r = chunked_reader();
        assert_eq!(r.read(input, &mut out), Ok((input.len() - 4, 3)));
        assert_eq!(&out, b"abc");
        assert!(r.is_done());
        // Data waits for room; framing before it does not.
        let mut r = chunked_reader();
        assert_eq!(r.read(input, &mut []), Ok((3, 0)));
        assert_eq!(r.read(&input[3..], &mut [0; 1]), Ok((1, 1)));
    }

    #[test]
    fn body_bytes_before_bad_framing_come_first_then_the_error() {
        let input = b"5\r\nhello\r\nZ\r\n";
        let mut r = chunked_reader();
        let mut out = [0u8; 16];
        assert_eq!(r.read(input, &mut out), Ok((10, 5)));
        assert_eq!(&out[..5], b"hello");
        let message = r.read(&input[10..], &mut out).unwrap_err().0;
        assert!(message.contains("no size"), "{message}");
        assert_eq!(r.read(b"", &mut out).unwrap_err().0, message);
        assert!(!r.is_done());
    }

    #[test]
    fn malformed_trailers_are_refused() {
        let cases: &[(&[u8], &str)] = &[
            (b"0\r\nNo colon here\r\n\r\n", "no colon"),
            (b"0\r\n folded: first\r\n\r\n", "folded"),
            (b"0\r\nBad Name: x\r\n\r\n", "bad header name"),
            (b"0\r\nA: b\x01\r\n\r\n", "control character"),
            (b"0\r\nA: b\r\r\n\r\n", "control character"),
        ];
        for (input, needle) in cases {
            let Err(HeadError(message)) = chunked_reader().read(input, &mut [0; 8]) else {
                panic!("accepted\n{}", hexdump(input));
            };
            assert!(
                message.contains("in chunked trailers") && message.contains(needle),
                "{message}\n{}",
                hexdump(input)
            );
        }
    }

    #[test]
    fn random_chunked_input_never_panics_or_overruns_the_reader() {
        let mut garbage = Garbage::new(0x00B0_D1E5);
        let alphabet = b"0123456789abcdefABCDEFxg;=: \t\r\n\r\n";
        for _ in 0..20_000 {
            let len = (garbage.next_u64() % 64) as usize;
            let input: Vec<u8> = garbage
                .bytes(len)
                .into_iter()
                .map(|b| alphabet[usize::from(b) % alphabet.len()])
                .collect();
            let out_size = (garbage.next_u64() % 8) as usize;
            let mut out = vec![0u8; out_size];
            let mut r = chunked_reader();
            let mut used = 0;
            while let Ok((consumed, produced)) = r.read(&input[used..], &mut out) {
                assert!(used + consumed <= input.len() && produced <= consumed.min(out_size));
                used += consumed;
                if consumed == 0 && produced == 0 {
                    assert!(
                        r.is_done() || used == input.len() || out_size == 0,
                        "stuck at {used}\n{}",
                        hexdump(&input)
                    );
                    break;
                }
            }
            let _ = r.on_close();
        }
    }

    // ---- keep_alive ----

    #[test]
    fn keep_alive_follows_version_connection_and_framing() {
        // (minor version, status, headers, method, reusable)
        let cases: &[(u8, u16, Fields, &str, bool)] = &[
            (1, 200, &[("Content-Length", "0")], "GET", true),
            (1, 200, &[("Content-Length", "5")], "GET", true),
            (1, 200, &[("Transfer-Encoding", "chunked")], "GET", true),
            (
                1,
                200,
                &[("Connection", "close"), ("Content-Length", "0")],
                "GET",
                false,
            ),
            (
                1,
                200,
                &[("Connection", "Keep-Alive, CLOSE"), ("Content-Length", "0")],
                "GET",
                false,
            ),
            (
                1,
                200,
                &[("Connection", "closed"), ("Content-Length", "0")],
                "GET",
                true,
            ),
            (
                1,
                200,
                &[("Proxy-Connection", "close"), ("Content-Length", "0")],
                "GET",
                false,
            ),
            (1, 200, &[], "GET", false),
            (1, 200, &[("Transfer-Encoding", "gzip")], "GET", false),
            (1, 200, &[("Content-Length", "x")], "GET", false),
            (1, 200, &[], "HEAD", true),
            (1, 204, &[], "GET", true),
            (1, 304, &[], "GET", true),
            (1, 100, &[], "POST", true),
            (
                1,
                101,
                &[("Connection", "upgrade"), ("Upgrade", "websocket")],
                "GET",
                false,
            ),
            (1, 200, &[], "CONNECT", false),
            (1, 407, &[("Content-Length", "0")], "CONNECT", true),
            (1, 407, &[], "CONNECT", false),
            (0, 200, &[("Content-Length", "0")], "GET", false),
            (
                0,
                200,
                &[("Connection", "keep-alive"), ("Content-Length", "0")],
                "GET",
                true,
            ),
            (0, 200, &[("Connection", "Keep-Alive")], "GET", false),
            (
                0,
                200,
                &[("Connection", "keep-alive, close"), ("Content-Length", "0")],
                "GET",
                false,
            ),
            (0, 204, &[("Connection", "keep-alive")], "GET", true),
            (9, 200, &[("Content-Length", "0")], "GET", true),
        ];
        for (minor, status, headers, method, expected) in cases {
            let mut head = head_with(*status, headers);
            head.minor_version = *minor;
            assert_eq!(
                keep_alive_after(&head, method),
                *expected,
                "HTTP/1.{minor} {status} {headers:?} after {method}"
            );
            if *method == "GET" {
                assert_eq!(keep_alive(&head), *expected);
            }
        }
    }

    #[test]
    fn proxy_connection_keep_alive_counts_only_with_an_http_proxy() {
        // (minor version, headers, reusable direct, reusable via a proxy)
        let cases: &[(u8, Fields, bool, bool)] = &[
            (0, &[("Proxy-Connection", "keep-alive")], false, true),
            (0, &[("Proxy-Connection", "Keep-Alive")], false, true),
            (0, &[("Connection", "keep-alive")], true, true),
            (0, &[], false, false),
            (
                0,
                &[("Proxy-Connection", "keep-alive"), ("Connection", "close")],
                false,
                false,
            ),
            (1, &[], true, true),
            (1, &[("Proxy-Connection", "close")], false, false),
            (1, &[("Proxy-Connection", "keep-alive")], true, true),
        ];
        for (minor, headers, direct, proxied) in cases {
            let mut fields = headers.to_vec();
            fields.push(("Content-Length", "0"));
            let mut head = head_with(200, &fields);
            head.minor_version = *minor;
            let what = format!("HTTP/1.{minor} {headers:?}");
            assert_eq!(keep_alive_via(&head, "GET", Via::Direct), *direct, "{what}");
            assert_eq!(keep_alive_after(&head, "GET"), *direct, "{what}");
            assert_eq!(
                keep_alive_via(&head, "GET", Via::HttpProxy),
                *proxied,
                "{what}"
            );
            // The proxy's own answer to CONNECT (a 407) follows the same rule.
            head.status = 407;
            assert_eq!(
                keep_alive_via(&head, "CONNECT", Via::HttpProxy),
                *proxied,
                "407 {what}"
            );
        }
    }
}
