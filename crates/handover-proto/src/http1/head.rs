//! Response heads: the status line and header section, read from bytes
//! as they arrive.
//!
//! ```text
//!   bytes as they arrive ──> HeadReader::feed ──> (used, None)        read more; all was used
//!                                 │  resumes  ├──> (used, Some(head)) bytes from `used` on are not the head's
//!                                 └───────────└──> HeadError          malformed, too large (sticks)
//!
//!   a whole buffer ──> parse_response_head ──> Partial | Complete { head, len } | HeadError
//! ```
//!
//! [`HeadReader`] keeps the line being received and where it stopped, so a
//! head costs time linear in its size however the peer splits it; the
//! CONNECT tunnel and the HTTP exchange both read heads with it.
//! [`parse_response_head`] is the one-shot form for a buffer held whole.
//! Lines may end in CRLF or a bare LF (as curl accepts); folded
//! (`obs-fold`) header lines are joined to the previous value with one
//! space. Header names must be tokens and values may hold no control
//! character but HTAB; bytes that are not UTF-8 are replaced with U+FFFD.
//! The same field rules apply to the trailers of a chunked body.

/// A parsed status line and header section.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{parse_response_head, Limits, Parsed};
///
/// let received = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
///                  Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello";
/// let Parsed::Complete { head, len } = parse_response_head(received, Limits::DEFAULT)? else {
///     panic!("the whole head is there");
/// };
/// assert_eq!((head.status, head.reason.as_str()), (200, "OK"));
/// assert_eq!(head.header("content-type"), Some("text/plain"));
/// assert_eq!(head.headers_named("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
/// assert_eq!(head.content_length()?, Some(5));
/// assert!(!head.is_chunked());
/// assert_eq!(&received[len..], b"hello"); // the body starts at len
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The `x` of `HTTP/1.x`.
    pub minor_version: u8,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase, trimmed; may be empty.
    pub reason: String,
    /// Header fields in arrival order: names as sent, values trimmed, folded
    /// continuation lines joined with one space.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    fn empty() -> ResponseHead {
        ResponseHead {
            minor_version: 0,
            status: 0,
            reason: String::new(),
            headers: Vec::new(),
        }
    }

    /// The head as verbose output shows it, one line each and without line
    /// ends: the status line (`HTTP/1.1 200 OK`), then `Name: value` per
    /// field, folded values joined. (The header callback gets the lines as
    /// they arrived: [`HeadReader::head_bytes`].)
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(format!(
            "HTTP/1.{} {} {}",
            self.minor_version, self.status, self.reason
        ))
        .chain(self.headers.iter().map(|(n, v)| format!("{n}: {v}")))
    }

    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every header called `name`, in arrival order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body length `Content-Length` announces, if any.
    ///
    /// Repeated headers and comma-separated lists are accepted when every
    /// value is the same number (RFC 9110 §8.6); differing or non-numeric
    /// values (a negative one too) are an error, because the message
    /// framing is then unknown. A number too large for libcurl's signed
    /// 64-bit `curl_off_t` (above [`MAX_CONTENT_LENGTH`]) is ignored, as
    /// libcurl ignores it: no real body is that long, and the body is then
    /// read until the server closes.
    pub fn content_length(&self) -> Result<Option<u64>, HeadError> {
        let mut found = None;
        for value in self.headers_named("content-length") {
            add_content_length(value.as_bytes(), &mut found)?;
        }
        Ok(found)
    }

    /// Whether the last transfer coding (over all `Transfer-Encoding`
    /// headers) is `chunked`.
    pub fn is_chunked(&self) -> bool {
        self.transfer_codings()
            .last()
            .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
    }

    /// The transfer codings of all `Transfer-Encoding` headers in order,
    /// without their parameters; empty list items are skipped.
    pub fn transfer_codings(&self) -> impl Iterator<Item = &str> {
        self.headers_named("transfer-encoding")
            .flat_map(|value| value.split(','))
            .map(|coding| {
                coding
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim_matches([' ', '\t'])
            })
            .filter(|coding| !coding.is_empty())
    }

    /// Refuses a response with more than [`MAX_TRANSFER_CODINGS`] transfer
    /// codings other than `chunked`, as libcurl does: each would be one
    /// more decoding stage, so a long chain is a cheap way for a server to
    /// make a client work (or, undecoded, a body nobody can read).
    pub fn check_transfer_codings(&self) -> Result<(), HeadError> {
        let stages = self
            .transfer_codings()
            .filter(|coding| !coding.eq_ignore_ascii_case("chunked"))
            .count();
        if stages > MAX_TRANSFER_CODINGS {
            return Err(HeadError(format!(
                "Reject response due to more than {MAX_TRANSFER_CODINGS} content encodings"
            )));
        }
        Ok(())
    }
}

/// Largest `Content-Length` taken as a length: libcurl's `curl_off_t`
/// holds no more.
pub const MAX_CONTENT_LENGTH: u64 = i64::MAX as u64;

/// Most transfer codings besides `chunked` a response may stack, as
/// libcurl's limit on its decoding stages (`CURLE_BAD_CONTENT_ENCODING`
/// beyond it).
pub const MAX_TRANSFER_CODINGS: usize = 5;

/// Takes the lengths of one `Content-Length` value (a comma-separated
/// list) into `found`, the length the earlier ones gave: every item must be
/// digits and agree with it. An item too large for a `curl_off_t` is
/// skipped (see [`ResponseHead::content_length`]).
fn add_content_length(value: &[u8], found: &mut Option<u64>) -> Result<(), HeadError> {
    for item in value.split(|&b| b == b',') {
        let item = trim_ows(item);
        let digits = !item.is_empty() && item.iter().all(u8::is_ascii_digit);
        if !digits {
            return Err(HeadError("Invalid Content-Length: value".into()));
        }
        let Some(length) = parse_decimal(item).filter(|&n| n <= MAX_CONTENT_LENGTH) else {
            continue;
        };
        match *found {
            Some(previous) if previous != length => {
                return Err(HeadError(
                    "conflicting Content-Length values in response".into(),
                ));
            }
            _ => *found = Some(length),
        }
    }
    Ok(())
}

/// A non-empty string of decimal digits that fits in a `u64`.
fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    text.iter().try_fold(0u64, |value, digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// Bounds on the response heads a reader takes, so a hostile peer cannot
/// make the caller buffer without end. The defaults are libcurl 8's.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{parse_response_head, Limits};
///
/// let tight = Limits { max_line_bytes: 64, ..Limits::DEFAULT };
/// let long = format!("HTTP/1.1 200 OK\r\nX-Padding: {}\r\n\r\n", "x".repeat(100));
/// assert!(parse_response_head(long.as_bytes(), tight).is_err());
/// assert!(parse_response_head(long.as_bytes(), Limits::default()).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest line accepted, its line end included; a longer one is
    /// refused as soon as that many bytes of it came
    /// ([`HeadRefusal::LineTooLong`]).
    pub max_line_bytes: usize,
    /// Most bytes of complete lines taken in all, over every head one
    /// reader reads (interim `1xx` heads and the final one: one request's);
    /// the line that goes past it is taken, then refused
    /// ([`HeadRefusal::TooLarge`]).
    pub max_head_bytes: usize,
    /// Most header fields, over every head one reader reads (a folded line
    /// is part of its field; [`HeadRefusal::TooManyFields`]).
    pub max_headers: usize,
}

impl Limits {
    /// libcurl 8's: a line shorter than `CURL_MAX_HTTP_HEADER` (100 KiB:
    /// its buffer holds the line and a NUL), 300 KiB of heads for a request
    /// (`MAX_HTTP_RESP_HEADER_SIZE`) and 5000 fields
    /// (`MAX_HTTP_RESP_HEADER_COUNT`).
    pub const DEFAULT: Limits = Limits {
        max_line_bytes: 100 * 1024 - 1,
        max_head_bytes: 300 * 1024,
        max_headers: 5000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What [`parse_response_head`] found.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{parse_response_head, Limits, Parsed};
///
/// let mut received = b"HTTP/1.1 204 No Content\r\n".to_vec();
/// assert_eq!(parse_response_head(&received, Limits::DEFAULT)?, Parsed::Partial);
/// received.extend_from_slice(b"\r\n");
/// assert!(matches!(
///     parse_response_head(&received, Limits::DEFAULT)?,
///     Parsed::Complete { len: 27, .. }
/// ));
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet: read more and call again with all of it.
    Partial,
    /// The head is complete.
    Complete {
        /// The parsed head.
        head: ResponseHead,
        /// Length of the head in the buffer, including the blank line that
        /// ends it; the bytes from `len` on are not part of it.
        len: usize,
    },
}

message_error! {
    /// A response head or body that is malformed or exceeds its limits.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::http1::{parse_response_head, Limits};
    ///
    /// let error = parse_response_head(b"SSH-2.0-OpenSSH_9.6\r\n", Limits::DEFAULT).unwrap_err();
    /// println!("{error}"); // says what is wrong with the head
    /// ```
    HeadError
}

pub(super) fn malformed(what: impl Into<String>) -> HeadError {
    HeadError(what.into())
}

/// Parses a response head from the start of `buf`, which holds everything
/// received so far: a one-shot [`HeadReader`].
///
/// `Partial` until the blank line arrives. Errors as soon as they show,
/// even while partial: a first line that cannot become `HTTP/1.x NNN`, a
/// complete line that is malformed, a line longer than
/// `limits.max_line_bytes` (complete or not), more than
/// `limits.max_headers` fields, or complete lines of more than
/// `limits.max_head_bytes` in all.
///
/// Each call reads `buf` from its start. A caller that receives a head in
/// pieces keeps a [`HeadReader`] instead, which resumes where it stopped.
pub fn parse_response_head(buf: &[u8], limits: Limits) -> Result<Parsed, HeadError> {
    match HeadReader::new(limits).feed(buf)? {
        (len, Some(head)) => Ok(Parsed::Complete { head, len }),
        (_, None) => Ok(Parsed::Partial),
    }
}

/// Why a [`HeadReader`] refused what it read: libcurl answers each with a
/// code of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeadRefusal {
    /// Not a head (a status line or field line that is malformed, an
    /// invalid `Content-Length`): `CURLE_WEIRD_SERVER_REPLY` (8).
    Malformed,
    /// A status line that names HTTP, but a version other than 1.0 and 1.1
    /// or a status code that is not three digits from 100 on:
    /// `CURLE_UNSUPPORTED_PROTOCOL` (1).
    Unsupported,
    /// A line of more than [`Limits::max_line_bytes`]: `CURLE_TOO_LARGE`
    /// (100), as libcurl 8.6 and later (7.x: `CURLE_OUT_OF_MEMORY`, 27).
    LineTooLong,
    /// More than [`Limits::max_headers`] fields: `CURLE_TOO_LARGE` (100).
    TooManyFields,
    /// More than [`Limits::max_head_bytes`] of lines: libcurl's "Too large
    /// response headers", `CURLE_RECV_ERROR` (56).
    TooLarge,
}

/// Reads response heads from bytes as they arrive, resuming where the last
/// call stopped: it keeps the line being received and how far it has
/// looked, so every byte is looked at once for a line end and once more
/// when its line is checked, however the peer splits its writes. (A parser
/// that re-reads a growing buffer from its start turns a peer sending one
/// byte per segment into O(n²) work.)
///
/// [`feed`](HeadReader::feed) takes bytes up to the end of the head and no
/// further: what follows is the body's, the tunnel's or the next head's.
/// Once a head is complete the reader starts over, so one reader reads a
/// `100 Continue` and the final head behind it (the [`Limits`] count over
/// both). The rules are those of [`parse_response_head`]; an error sticks,
/// and [`taken_lines`](HeadReader::taken_lines) then holds the lines of the
/// refused head that came before the refused line, which libcurl has given
/// its header callback by then.
///
/// # Examples
///
/// A head arriving one byte per call, the body right behind it:
///
/// ```
/// use handover_proto::http1::{HeadReader, Limits};
///
/// let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
/// let mut reader = HeadReader::new(Limits::DEFAULT);
/// let mut at = 0;
/// let head = loop {
///     let (used, head) = reader.feed(&wire[at..at + 1])?;
///     at += used;
///     if let Some(head) = head {
///         break head;
///     }
/// };
/// assert_eq!(head.status, 200);
/// assert_eq!(&wire[at..], b"hi"); // not consumed: the body's
/// assert!(reader.scanned() <= 2 * at as u64); // linear, not quadratic
/// # Ok::<(), handover_proto::http1::HeadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HeadReader {
    limits: Limits,
    /// The first line is a status line (a head), not a field (trailers).
    status_line: bool,
    /// `Content-Length` lines are checked as they come (see
    /// [`HeadReader::checking_content_length`]).
    check_content_length: bool,
    /// The line being received, when it began in an earlier call.
    partial: Vec<u8>,
    /// Bytes of the current head taken so far.
    taken: usize,
    /// Bytes of complete lines taken, over every head.
    total: usize,
    line_no: usize,
    /// Fields of the current head, and over every head.
    fields: usize,
    all_fields: usize,
    /// The length the current head's `Content-Length` lines gave so far.
    content_length: Option<u64>,
    /// The head being built, one line at a time.
    head: ResponseHead,
    /// The lines of the head being built as they arrived, line ends kept.
    raw: Vec<u8>,
    /// The same of the last complete head.
    last_raw: Vec<u8>,
    scanned: u64,
    error: Option<HeadError>,
    /// What kind of refusal the error is.
    refusal: HeadRefusal,
}

/// `HTTP/1.x ` is all a partial first line can be checked against.
const STATUS_PREFIX_LEN: usize = b"HTTP/1.x ".len();

impl HeadReader {
    /// A reader for response heads within `limits`.
    pub fn new(limits: Limits) -> HeadReader {
        HeadReader {
            limits,
            status_line: true,
            check_content_length: false,
            partial: Vec::new(),
            taken: 0,
            total: 0,
            line_no: 0,
            fields: 0,
            all_fields: 0,
            content_length: None,
            head: ResponseHead::empty(),
            raw: Vec::new(),
            last_raw: Vec::new(),
            scanned: 0,
            error: None,
            refusal: HeadRefusal::Malformed,
        }
    }

    /// The same reader, refusing a `Content-Length` line as it arrives
    /// when its value is not a list of numbers that agree with each other
    /// and with the head's earlier ones — except in a head that has no body
    /// whatever it says (1xx, 204, 304). libcurl checks each line of an
    /// HTTP response so, before it reads the next: the lines before the
    /// bad one have reached the application (curl's tests 178 and 415).
    /// (A proxy's answer to `CONNECT` is read by other rules.)
    pub fn checking_content_length(self) -> HeadReader {
        HeadReader {
            check_content_length: true,
            ..self
        }
    }

    /// A reader for the trailer section of a chunked body: field lines
    /// only, no status line, no byte limit of its own.
    fn trailers() -> HeadReader {
        HeadReader {
            status_line: false,
            ..HeadReader::new(Limits {
                max_line_bytes: usize::MAX,
                max_head_bytes: usize::MAX,
                max_headers: Limits::DEFAULT.max_headers,
            })
        }
    }

    /// Takes bytes of a head from the front of `input`; returns how many it
    /// used and the head once its blank line arrived. Stops right after the
    /// blank line: the bytes after it are not consumed. Until the head is
    /// complete every byte offered is used (within the limits).
    ///
    /// Errors as [`parse_response_head`] does, as soon as the problem shows;
    /// after an error every call returns it again.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseHead>), HeadError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        self.scan(input)
            .inspect_err(|error| self.error = Some(error.clone()))
    }

    /// What kind of refusal the reader's error is; `None` before an error.
    pub fn refusal(&self) -> Option<HeadRefusal> {
        self.error.as_ref().map(|_| self.refusal)
    }

    /// Whether the reader failed on a status line that names HTTP but a
    /// version other than 1.0 and 1.1, or a status code that is not three
    /// digits from 100 on: libcurl answers those with
    /// `CURLE_UNSUPPORTED_PROTOCOL` (1), other malformed heads with
    /// `CURLE_WEIRD_SERVER_REPLY` (8).
    pub fn is_unsupported(&self) -> bool {
        self.refusal() == Some(HeadRefusal::Unsupported)
    }

    /// The last complete head as it arrived: every line with its own line
    /// end (CRLF, or a bare LF), folded lines apart, nothing trimmed. It is
    /// what libcurl gives its header callback, one line at a time.
    pub fn head_bytes(&self) -> &[u8] {
        &self.last_raw
    }

    /// The complete lines of the head being read, as
    /// [`head_bytes`](HeadReader::head_bytes) gives a complete one. After
    /// an error: the lines before the refused one (with
    /// [`HeadRefusal::TooLarge`], up to the line that went past the limit,
    /// which libcurl delivers before it counts).
    pub fn taken_lines(&self) -> &[u8] {
        &self.raw
    }

    /// The head being read, as far as its lines were taken: the status
    /// (0 before the status line) and the fields of
    /// [`taken_lines`](HeadReader::taken_lines).
    pub fn taken_head(&self) -> &ResponseHead {
        &self.head
    }

    /// True once bytes of a head that is not complete yet have arrived.
    pub fn is_started(&self) -> bool {
        self.taken > 0
    }

    /// How many bytes the reader has looked at, over every head it read:
    /// each input byte once while looking for its line end, and once more
    /// when its complete line is checked. It grows with the input, never
    /// with the number of calls it came in (a measure for tests).
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Records the kind of a refusal and makes its error.
    fn refuse(&mut self, refusal: HeadRefusal, message: String) -> HeadError {
        self.refusal = refusal;
        malformed(message)
    }

    fn scan(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseHead>), HeadError> {
        let mut used = 0;
        loop {
            let rest = input.get(used..).unwrap_or_default();
            let newline = rest.iter().position(|&b| b == b'\n');
            // The start of a status line is checked before the line's length,
            // so that a line refused for both gets the same answer however
            // its bytes came.
            self.check_first_line_start(rest.get(..newline.unwrap_or(rest.len())))?;
            let Some(newline) = newline else {
                self.count(rest.len());
                // A line that cannot end within the limit is refused before
                // it is held.
                if self.partial.len() + rest.len() >= self.limits.max_line_bytes {
                    return Err(self.line_too_long());
                }
                self.partial.extend_from_slice(rest);
                self.taken += rest.len();
                return Ok((input.len(), None));
            };
            self.count(newline + 1);
            if self.partial.len() + newline + 1 > self.limits.max_line_bytes {
                return Err(self.line_too_long());
            }
            let piece = rest.get(..newline).unwrap_or_default();
            used += newline + 1;
            self.taken += newline + 1;
            let ended = if self.partial.is_empty() {
                self.take_line(piece)?
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(piece);
                let ended = self.take_line(&line);
                line.clear();
                self.partial = line;
                ended?
            };
            if ended {
                return Ok((used, Some(self.restart())));
            }
        }
    }

    /// Fails early on the start of a first line that can never become a
    /// status line: `more` is what follows the bytes held, up to the line
    /// end if it is there. Only the first bytes are looked at.
    fn check_first_line_start(&mut self, more: Option<&[u8]>) -> Result<(), HeadError> {
        if !self.status_line || self.line_no != 0 || self.partial.len() >= STATUS_PREFIX_LEN {
            return Ok(());
        }
        let more = more.unwrap_or_default();
        let wanted = more.len().min(STATUS_PREFIX_LEN - self.partial.len());
        let mut start = self.partial.clone();
        start.extend_from_slice(more.get(..wanted).unwrap_or_default());
        check_status_prefix(&start).inspect_err(|_| {
            if unsupported_status(&start) {
                self.refusal = HeadRefusal::Unsupported;
            }
        })
    }

    fn line_too_long(&mut self) -> HeadError {
        let max = self.limits.max_line_bytes;
        self.refuse(
            HeadRefusal::LineTooLong,
            format!("response head line longer than {max} bytes"),
        )
    }

    fn count(&mut self, bytes: usize) {
        self.scanned = self.scanned.saturating_add(bytes as u64);
    }

    /// Checks one complete line (without its LF) and adds it to the head,
    /// then counts it against the limit of all heads; true when it is the
    /// blank line that ends the head.
    fn take_line(&mut self, line: &[u8]) -> Result<bool, HeadError> {
        let ended = self.line(line)?;
        self.raw.extend_from_slice(line);
        self.raw.push(b'\n');
        self.total = self.total.saturating_add(line.len() + 1);
        if self.total > self.limits.max_head_bytes {
            let max = self.limits.max_head_bytes;
            return Err(self.refuse(
                HeadRefusal::TooLarge,
                format!("response headers larger than {max} bytes in all"),
            ));
        }
        Ok(ended)
    }

    /// Checks one complete line (without its LF) and adds it to the head;
    /// true when it is the blank line that ends the head.
    fn line(&mut self, line: &[u8]) -> Result<bool, HeadError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.count(line.len());
        self.line_no += 1;
        let line_no = self.line_no;
        if self.status_line && line_no == 1 {
            let status = parse_status_line(line);
            if status.is_err() && unsupported_status(line) {
                self.refusal = HeadRefusal::Unsupported;
            }
            build(&mut self.head, status?);
            return Ok(false);
        }
        match line.first() {
            None => return Ok(true),
            Some(b' ' | b'\t') => {
                if self.fields == 0 {
                    return Err(malformed("folded header line without a header before it"));
                }
                let text = trim_ows(line);
                if !text.iter().all(|&b| is_field_byte(b)) {
                    return Err(malformed(format!(
                        "control character in header line {line_no}"
                    )));
                }
                build(&mut self.head, Line::Continuation(text));
            }
            Some(_) => {
                self.fields += 1;
                self.all_fields += 1;
                if self.all_fields > self.limits.max_headers {
                    let max = self.limits.max_headers;
                    return Err(self.refuse(
                        HeadRefusal::TooManyFields,
                        format!("more than {max} header fields in response"),
                    ));
                }
                let field = parse_field(line, line_no)?;
                if let Line::Field { name, value } = &field {
                    let bodyless = matches!(self.head.status, 100..=199 | 204 | 304);
                    if self.check_content_length
                        && !bodyless
                        && name.eq_ignore_ascii_case(b"content-length")
                    {
                        add_content_length(value, &mut self.content_length)?;
                    }
                }
                build(&mut self.head, field);
            }
        }
        Ok(false)
    }

    /// Hands out the finished head and gets ready for the next one.
    fn restart(&mut self) -> ResponseHead {
        self.partial = Vec::new();
        self.last_raw = std::mem::take(&mut self.raw);
        self.taken = 0;
        self.line_no = 0;
        self.fields = 0;
        self.content_length = None;
        std::mem::replace(&mut self.head, ResponseHead::empty())
    }
}

/// One complete line of a head, already checked.
enum Line<'a> {
    Status {
        minor_version: u8,
        status: u16,
        reason: &'a [u8],
    },
    Field {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// An obs-fold continuation, trimmed.
    Continuation(&'a [u8]),
}

/// Fails early on a first line that can never become a status line.
fn check_status_prefix(partial: &[u8]) -> Result<(), HeadError> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = partial.len().min(PREFIX.len());
    let prefix_ok = partial
        .get(..n)
        .zip(PREFIX.get(..n))
        .is_some_and(|(got, want)| got.eq_ignore_ascii_case(want));
    let minor_ok = partial
        .get(PREFIX.len())
        .is_none_or(|&b| b == b'0' || b == b'1');
    let space_ok = partial.get(PREFIX.len() + 1).is_none_or(|&b| b == b' ');
    if prefix_ok && minor_ok && space_ok {
        Ok(())
    } else {
        Err(malformed("response status line is not HTTP/1.x"))
    }
}

/// Whether a refused first line (whole or its start) names HTTP, but a
/// version other than 1.0 and 1.1 or a status code other than three
/// digits from 100 on, libcurl's `CURLE_UNSUPPORTED_PROTOCOL` cases (curl
/// tests 129 and 1430 to 1433: `HTTP/1.2`, `-12`, `2`, a 100-digit code,
/// a 100-digit minor version).
fn unsupported_status(line: &[u8]) -> bool {
    let Some(after) = line
        .get(..5)
        .filter(|http| http.eq_ignore_ascii_case(b"HTTP/"))
        .and_then(|_| line.get(5..))
    else {
        return false;
    };
    let Some(code) = after
        .strip_prefix(b"1.0 ")
        .or_else(|| after.strip_prefix(b"1.1 "))
    else {
        // Anything but a whole `1.0 ` or `1.1 `. The reader asks only about
        // a refused line: a complete one (`HTTP/1.1` and no code is refused
        // too), or a start already refused, so never one still too short to
        // tell — and a line gets the same answer however its bytes came
        // (the exchange fuzz target's whole/split oracle found one that did
        // not: `HTTP/1.1` then CRLF).
        return true;
    };
    let code = trim_start(code, b" ");
    let digits = code.iter().take_while(|b| b.is_ascii_digit()).count();
    digits != 3 || code.first() == Some(&b'0')
}

/// `HTTP/1.x SP NNN [SP reason]`. The version is compared
/// case-insensitively and several spaces are tolerated, like curl.
fn parse_status_line(line: &[u8]) -> Result<Line<'_>, HeadError> {
    let not_http1 = || malformed("response status line is not HTTP/1.x");
    let version = line.get(..7).ok_or_else(not_http1)?;
    if !version.eq_ignore_ascii_case(b"HTTP/1.") {
        return Err(not_http1());
    }
    let (&minor, rest) = line
        .get(7..)
        .and_then(<[u8]>::split_first)
        .ok_or_else(not_http1)?;
    // HTTP/1.2 and later minor versions are not HTTP/1.1 (curl test 129).
    if !matches!(minor, b'0' | b'1') || rest.first() != Some(&b' ') {
        return Err(not_http1());
    }
    let rest = trim_start(rest, b" ");
    let bad_status = || malformed("response status code is not three digits");
    let (code, after) = rest.split_at_checked(3).ok_or_else(bad_status)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return Err(bad_status());
    }
    let status = code
        .iter()
        .fold(0u16, |value, digit| value * 10 + u16::from(digit - b'0'));
    if status < 100 {
        return Err(malformed("response status code below 100"));
    }
    let reason = match after.first() {
        None => after,
        Some(b' ' | b'\t') => trim_ows(after),
        Some(_) => return Err(bad_status()),
    };
    if !reason.iter().all(|&b| is_field_byte(b)) {
        return Err(malformed("control character in response reason phrase"));
    }
    Ok(Line::Status {
        minor_version: minor - b'0',
        status,
        reason,
    })
}

fn parse_field(line: &[u8], line_no: usize) -> Result<Line<'_>, HeadError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| malformed(format!("header line {line_no} has no colon")))?;
    let (name, value) = line.split_at(colon);
    let value = trim_ows(value.get(1..).unwrap_or_default());
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(malformed(format!("bad header name in line {line_no}")));
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(malformed(format!(
            "control character in header line {line_no}"
        )));
    }
    Ok(Line::Field { name, value })
}

fn build(head: &mut ResponseHead, line: Line<'_>) {
    match line {
        Line::Status {
            minor_version,
            status,
            reason,
        } => {
            head.minor_version = minor_version;
            head.status = status;
            head.reason = String::from_utf8_lossy(reason).into_owned();
        }
        field => push_field(&mut head.headers, field),
    }
}

/// Adds a field line to `fields`, or joins a continuation to the last one.
fn push_field(fields: &mut Vec<(String, String)>, line: Line<'_>) {
    match line {
        Line::Status { .. } => {}
        Line::Field { name, value } => fields.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        )),
        Line::Continuation(text) => {
            if let Some((_, value)) = fields.last_mut() {
                if !text.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(&String::from_utf8_lossy(text));
                }
            }
        }
    }
}

/// Parses the trailer section of a chunked body: field lines up to and
/// including the blank line that ends them, with the rules of a head.
pub(super) fn parse_trailers(section: &[u8]) -> Result<Vec<(String, String)>, HeadError> {
    match HeadReader::trailers().feed(section) {
        Ok((_, Some(fields))) => Ok(fields.headers),
        Ok((_, None)) => Err(malformed("chunked trailers end without a blank line")),
        Err(HeadError(message)) => Err(HeadError(format!("in chunked trailers: {message}"))),
    }
}

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte allowed in a field value or reason phrase: HTAB, SP, VCHAR,
/// obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

fn trim_start<'a>(mut bytes: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some((first, rest)) = bytes.split_first() {
        if !set.contains(first) {
            break;
        }
        bytes = rest;
    }
    bytes
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let mut bytes = trim_start(bytes, b" \t");
    while let Some((last, rest)) = bytes.split_last() {
        if !matches!(last, b' ' | b'\t') {
            break;
        }
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::http1::BodySkipper;
    use crate::testing::{for_each_split, hexdump, Garbage};

    /// Header values of one name, for table rows.
    type Values<'a> = &'a [&'a str];

    fn complete(buf: &[u8]) -> (ResponseHead, usize) {
        match parse_response_head(buf, Limits::default()) {
            Ok(Parsed::Complete { head, len }) => (head, len),
            other => panic!("expected a complete head, got {other:?}\n{}", hexdump(buf)),
        }
    }

    fn error(buf: &[u8], limits: Limits) -> String {
        match parse_response_head(buf, limits) {
            Err(HeadError(message)) => message,
            other => panic!("expected an error, got {other:?}\n{}", hexdump(buf)),
        }
    }

    /// A head with `status` and `headers`, for framing tables.
    pub(in crate::http1) fn head_with(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
        ResponseHead {
            minor_version: 1,
            status,
            reason: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    const CONNECT_407: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
        Proxy-Authenticate: Basic realm=\"proxy\"\r\n\
        Proxy-Authenticate: Digest realm=\"proxy\",\r\n  nonce=\"abc\"\r\n\
        Content-Length: 5\r\n\
        \r\n";

    #[test]
    fn connect_reply_split_at_every_offset_is_partial_then_complete() {
        let expected = ResponseHead {
            minor_version: 1,
            status: 407,
            reason: "Proxy Authentication Required".into(),
            headers: vec![
                ("Proxy-Authenticate".into(), "Basic realm=\"proxy\"".into()),
                (
                    "Proxy-Authenticate".into(),
                    "Digest realm=\"proxy\", nonce=\"abc\"".into(),
                ),
                ("Content-Length".into(), "5".into()),
            ],
        };
        let heads: [(&[u8], Option<&ResponseHead>); 4] = [
            (CONNECT_407, Some(&expected)),
            (b"HTTP/1.0 200 Connection established\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\nVia: 1.1 p\n\n", None),
            (b"HTTP/1.1 200\r\nA:\r\nB: x\n\r\n", None),
        ];
        for (head_bytes, expected) in heads {
            let input = [head_bytes, b"body!\r\n\r\nTUNNEL"].concat();
            for_each_split(&input, |offset, prefix, tail| {
                let result = parse_response_head(prefix, Limits::default());
                if offset < head_bytes.len() {
                    assert_eq!(
                        result,
                        Ok(Parsed::Partial),
                        "at {offset}\n{}",
                        hexdump(prefix)
                    );
                } else {
                    let Ok(Parsed::Complete { head, len }) = result else {
                        panic!("at {offset}: {result:?}\n{}", hexdump(prefix));
                    };
                    assert_eq!(len, head_bytes.len(), "at {offset}\n{}", hexdump(prefix));
                    if let Some(expected) = expected {
                        assert_eq!(&head, expected);
                    }
                }
                // A suffix starts mid-head: any answer but a panic will do.
                let _ = parse_response_head(tail, Limits::default());
            });
        }
    }

    /// Feeds `input` to one reader `piece` bytes per call until a head is
    /// complete; returns it, the bytes used and the bytes scanned.
    fn feed_in_pieces(input: &[u8], piece: usize, limits: Limits) -> (ResponseHead, usize, u64) {
        let mut reader = HeadReader::new(limits);
        let mut at = 0;
        while at < input.len() {
            let offered = &input[at..(at + piece).min(input.len())];
            let (used, head) = reader
                .feed(offered)
                .unwrap_or_else(|e| panic!("{e} at {at}"));
            at += used;
            if let Some(head) = head {
                return (head, at, reader.scanned());
            }
            assert_eq!(used, offered.len(), "a partial head takes all it is given");
        }
        panic!("no complete head in {} bytes", input.len());
    }

    /// The issue's repro: `HTTP/1.1 200 OK\r\nX: ` + `a`×N + `\r\n\r\n`,
    /// `total` bytes in all.
    fn one_long_line(total: usize) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        head.resize(total - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        head
    }

    /// A head of `total` bytes made of `line`-byte header lines (the last
    /// one shorter).
    fn many_lines(total: usize, line: usize) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        let push = |head: &mut Vec<u8>, len: usize| {
            let start = head.len();
            head.extend_from_slice(b"X-Filler: ");
            head.resize(start + len - 2, b'b');
            head.extend_from_slice(b"\r\n");
        };
        while head.len() + line + 2 <= total {
            push(&mut head, line);
        }
        let rest = total - 2 - head.len();
        assert!(rest >= 12, "no room for a last line");
        push(&mut head, rest);
        head.extend_from_slice(b"\r\n");
        head
    }

    #[test]
    fn a_head_fed_in_small_pieces_is_scanned_in_linear_time() {
        const N: usize = 100 * 1024;
        let limits = Limits {
            max_line_bytes: N,
            max_head_bytes: N,
            max_headers: usize::MAX,
        };
        for (what, input) in [
            ("one long line", one_long_line(N)),
            ("500-byte lines", many_lines(N, 500)),
        ] {
            assert_eq!(input.len(), N, "{what}");
            let Parsed::Complete { head: whole, len } = parse_response_head(&input, limits)
                .unwrap_or_else(|e| panic!("{what}: {e}\n{}", hexdump(&input[..64])))
            else {
                panic!("{what}: the whole head is there");
            };
            assert_eq!(len, N);
            let mut counts = Vec::new();
            for piece in [1, 7, N] {
                let (head, used, scanned) = feed_in_pieces(&input, piece, limits);
                assert_eq!(head, whole, "{what}, {piece} bytes per call");
                assert_eq!(used, N, "{what}, {piece} bytes per call");
                // Each byte once for its line end, once when its line is
                // checked: at most 2n, whatever the pieces.
                assert!(
                    scanned <= 2 * N as u64,
                    "{what}: {scanned} bytes scanned for a {N}-byte head fed {piece} per call"
                );
                counts.push(scanned);
            }
            // The pieces change nothing: the work is the same as in one call.
            assert!(
                counts.windows(2).all(|w| w[0] == w[1]),
                "{what}: {counts:?}"
            );
        }
    }

    #[test]
    fn a_head_split_at_every_offset_reads_as_in_one_piece() {
        let input = [CONNECT_407, b"body!"].concat();
        let (whole, whole_len) = complete(&input);
        for_each_split(&input, |offset, first, second| {
            let mut reader = HeadReader::new(Limits::default());
            let (a, head) = reader.feed(first).unwrap();
            let (b, head) = match head {
                Some(head) => (0, Some(head)),
                None => {
                    assert_eq!(a, first.len(), "at {offset}");
                    assert_eq!(reader.is_started(), offset > 0, "at {offset}");
                    reader.feed(second).unwrap()
                }
            };
            assert_eq!(
                head.as_ref(),
                Some(&whole),
                "at {offset}\n{}",
                hexdump(&input)
            );
            assert_eq!(a + b, whole_len, "at {offset}");
            assert!(!reader.is_started(), "the reader starts over");
        });
    }

    #[test]
    fn one_reader_reads_an_interim_head_then_the_final_one() {
        let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\nrest";
        let mut reader = HeadReader::new(Limits::default());
        let (first, head) = reader.feed(input).unwrap();
        assert_eq!(head.map(|h| h.status), Some(100));
        let (second, head) = reader.feed(&input[first..]).unwrap();
        let head = head.unwrap();
        assert_eq!((head.status, head.header("a")), (204, Some("b")));
        assert_eq!(&input[first + second..], b"rest");
    }

    #[test]
    fn a_reader_error_sticks_and_limits_count_across_calls() {
        let limits = Limits {
            max_line_bytes: 24,
            ..Limits::DEFAULT
        };
        let mut reader = HeadReader::new(limits);
        reader.feed(b"HTTP/1.1 200 OK\r\n").unwrap();
        assert!(reader.is_started());
        reader.feed(b"X-Long: aaaaaaa").unwrap();
        let error = reader.feed(b"aaaaaaaaa").unwrap_err();
        assert!(error.0.contains("longer than 24 bytes"), "{error}");
        assert_eq!(reader.refusal(), Some(HeadRefusal::LineTooLong));
        assert_eq!(reader.feed(b"\r\n\r\n"), Err(error));
        assert_eq!(reader.taken_lines(), b"HTTP/1.1 200 OK\r\n");

        let mut reader = HeadReader::new(Limits::default());
        reader.feed(b"HTT").unwrap();
        let error = reader.feed(b"P/2").unwrap_err();
        assert!(error.0.contains("not HTTP/1.x"), "{error}");
        assert_eq!(reader.feed(b""), Err(error));
    }

    #[test]
    fn head_lines_are_what_verbose_output_shows() {
        let (head, _) = complete(CONNECT_407);
        assert_eq!(
            head.lines().collect::<Vec<_>>(),
            [
                "HTTP/1.1 407 Proxy Authentication Required",
                "Proxy-Authenticate: Basic realm=\"proxy\"",
                "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"abc\"",
                "Content-Length: 5",
            ]
        );
    }

    #[test]
    fn tunnel_bytes_after_the_head_are_not_part_of_it() {
        let input = b"HTTP/1.1 200 Connection established\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
        let (head, len) = complete(input);
        assert_eq!(len, 39);
        assert_eq!(&input[len..], b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(head.status, 200);
        assert_eq!(head.reason, "Connection established");
        assert!(head.headers.is_empty());
    }

    #[test]
    fn bare_lf_and_mixed_line_endings_are_accepted() {
        let cases: [(&[u8], usize); 4] = [
            (b"HTTP/1.1 204 No Content\n\n", 25),
            (b"HTTP/1.1 204 No Content\nA: b\n\nX", 30),
            (b"HTTP/1.1 204 No Content\r\nA: b\n\r\nX", 32),
            (b"HTTP/1.1 204 No Content\nA: b\r\n\nX", 31),
        ];
        for (input, expected_len) in cases {
            let (head, len) = complete(input);
            assert_eq!(len, expected_len, "\n{}", hexdump(input));
            assert_eq!(head.status, 204);
        }
    }

    #[test]
    fn status_lines_parse_into_their_parts() {
        let cases: &[(&[u8], u8, u16, &str)] = &[
            (b"HTTP/1.1 200 OK\r\n\r\n", 1, 200, "OK"),
            (b"HTTP/1.0 407 Proxy Auth\r\n\r\n", 0, 407, "Proxy Auth"),
            (b"HTTP/1.1 200\r\n\r\n", 1, 200, ""),
            (b"HTTP/1.1 200 \r\n\r\n", 1, 200, ""),
            (b"HTTP/1.1  503   Busy  \r\n\r\n", 1, 503, "Busy"),
            (b"http/1.1 200 ok\r\n\r\n", 1, 200, "ok"),
            (b"HTTP/1.0 999 Odd\r\n\r\n", 0, 999, "Odd"),
            (
                b"HTTP/1.1 200 Caf\xc3\xa9\tOK\r\n\r\n",
                1,
                200,
                "Caf\u{e9}\tOK",
            ),
            (b"HTTP/1.1 200 \xff\r\n\r\n", 1, 200, "\u{fffd}"),
        ];
        for (input, minor, status, reason) in cases {
            let (head, _) = complete(input);
            assert_eq!(
                (head.minor_version, head.status, head.reason.as_str()),
                (*minor, *status, *reason),
                "\n{}",
                hexdump(input)
            );
        }
    }

    #[test]
    fn headers_keep_names_trim_values_and_join_folded_lines() {
        let input = b"HTTP/1.1 200 OK\r\n\
            X-Plain:   spaced out \t\r\n\
            X-Folded: first\r\n   second  \r\n\tthird\r\n\
            X-Empty-Then-Folded:\r\n  later\r\n\
            X-Empty:\r\n\
            X-Fold-Blank: a\r\n \t \r\n\
            x-plain: again\r\n\
            \r\n";
        let (head, _) = complete(input);
        let expected: Vec<(String, String)> = [
            ("X-Plain", "spaced out"),
            ("X-Folded", "first second third"),
            ("X-Empty-Then-Folded", "later"),
            ("X-Empty", ""),
            ("X-Fold-Blank", "a"),
            ("x-plain", "again"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(head.headers, expected);
        assert_eq!(head.header("X-PLAIN"), Some("spaced out"));
        assert_eq!(
            head.headers_named("x-Plain").collect::<Vec<_>>(),
            ["spaced out", "again"]
        );
        assert_eq!(head.header("missing"), None);
        assert_eq!(head.headers_named("missing").count(), 0);
    }

    #[test]
    fn malformed_heads_are_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"HTTP/1.1 20 OK\r\n\r\n", "three digits"),
            (b"HTTP/1.1 2000 OK\r\n\r\n", "three digits"),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "three digits"),
            (b"HTTP/1.1 200OK\r\n\r\n", "three digits"),
            (b"HTTP/1.1 \r\n\r\n", "three digits"),
            (b"HTTP/1.1 099 Low\r\n\r\n", "below 100"),
            (b"HTTP/2 200\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/2.0 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.x 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.10 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.1\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.\r\n\r\n", "not HTTP/1.x"),
            (b"ICY 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"\r\nHTTP/1.1 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.1 200 O\x01K\r\n\r\n", "reason phrase"),
            (b"HTTP/1.1 200 O\rK\r\n\r\n", "reason phrase"),
            (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "no colon"),
            (b"HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "bad header name"),
            (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "bad header name"),
            (b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", "bad header name"),
            (
                b"HTTP/1.1 200 OK\r\nN\xc3\xa4me: x\r\n\r\n",
                "bad header name",
            ),
            (
                b"HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n",
                "control character in header line 2",
            ),
            (b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "control character"),
            (b"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "control character"),
            (
                b"HTTP/1.1 200 OK\r\nA: b\r\n c\x1b\r\n\r\n",
                "control character in header line 3",
            ),
            (
                b"HTTP/1.1 200 OK\r\n folded: first\r\n\r\n",
                "folded header line",
            ),
            (b"HTTP/1.1 200 OK\r\n\r \r\n\r\n", "no colon"),
        ];
        for (input, needle) in cases {
            let message = error(input, Limits::default());
            assert!(message.contains(needle), "{message:?}\n{}", hexdump(input));
        }
    }

    #[test]
    fn garbage_first_lines_fail_before_the_line_ends() {
        for input in [
            &b"X"[..],
            b"GET / HTTP/1.1",
            b"HTTP/2",
            b"HTTP/1.a",
            b"HTTP/1.1x",
            b"\x16\x03\x01\x02\x00",
            b"SSH-2.0-OpenSSH",
        ] {
            error(input, Limits::default());
        }
        for input in [
            &b""[..],
            b"H",
            b"http/",
            b"HTTP/1.",
            b"HTTP/1.1",
            b"HTTP/1.1 ",
            b"HTTP/1.1 2",
        ] {
            assert_eq!(
                parse_response_head(input, Limits::default()),
                Ok(Parsed::Partial),
                "\n{}",
                hexdump(input)
            );
        }
    }

    #[test]
    fn malformed_header_lines_fail_while_the_head_is_partial() {
        let input = b"HTTP/1.1 200 OK\r\nGood: yes\r\nBad header\r\nMore: ";
        assert!(error(input, Limits::default()).contains("line 3"));
    }

    #[test]
    fn long_lines_are_refused_even_while_partial() {
        let limits = Limits {
            max_line_bytes: 24,
            ..Limits::DEFAULT
        };
        let status = b"HTTP/1.1 200 OK\r\n";
        let field = |n: usize| {
            let mut v = status.to_vec();
            v.extend_from_slice(b"X: ");
            v.resize(status.len() + n, b'a');
            v
        };
        // Incomplete: 23 bytes may still end within the limit, 24 cannot.
        assert_eq!(parse_response_head(&field(23), limits), Ok(Parsed::Partial));
        assert!(error(&field(24), limits).contains("longer than 24 bytes"));
        assert!(error(&field(10_000), limits).contains("longer than 24 bytes"));
        // A line of exactly the limit, its line end included, passes.
        let mut exact = field(22);
        exact.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(
            parse_response_head(&exact, limits),
            Ok(Parsed::Complete { .. })
        ));
        let mut over = field(23);
        over.extend_from_slice(b"\r\n\r\n");
        assert!(error(&over, limits).contains("longer than"));
        // The status line too.
        let long_reason = format!("HTTP/1.1 200 {}\r\n\r\n", "a".repeat(30));
        assert!(error(long_reason.as_bytes(), limits).contains("longer than"));

        // libcurl 8's limit: a line shorter than 100 KiB (curl's test 1154
        // sends a 100 KiB value, refused with CURLE_TOO_LARGE).
        let line = |value: usize| {
            let mut head = status.to_vec();
            head.extend_from_slice(b"Long: ");
            head.resize(head.len() + value, b'A');
            head.extend_from_slice(b"\r\n\r\n");
            head
        };
        let longest = 100 * 1024 - 1 - b"Long: \r\n".len();
        assert!(matches!(
            parse_response_head(&line(longest), Limits::DEFAULT),
            Ok(Parsed::Complete { .. })
        ));
        for value in [longest + 1, 100 * 1024] {
            let mut reader = HeadReader::new(Limits::DEFAULT);
            let error = reader.feed(&line(value)).unwrap_err();
            assert!(error.0.contains("longer than 102399 bytes"), "{error}");
            assert_eq!(reader.refusal(), Some(HeadRefusal::LineTooLong));
            assert_eq!(reader.taken_lines(), status, "the lines before it");
        }
    }

    #[test]
    fn heads_count_against_one_limit_and_the_line_past_it_is_taken() {
        let limits = Limits {
            max_head_bytes: 64,
            ..Limits::DEFAULT
        };
        // 48 bytes, then 17 of a status line: past 64.
        let interim = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n";
        let mut reader = HeadReader::new(limits);
        let (used, head) = reader.feed(interim).unwrap();
        assert_eq!((used, head.map(|h| h.status)), (interim.len(), Some(103)));
        // The final head's status line goes past the limit: taken, refused.
        let refused = reader.feed(b"HTTP/1.1 200 OK\r\n\r\n").unwrap_err();
        assert!(
            refused.0.contains("larger than 64 bytes in all"),
            "{refused}"
        );
        assert_eq!(reader.refusal(), Some(HeadRefusal::TooLarge));
        assert_eq!(reader.taken_lines(), b"HTTP/1.1 200 OK\r\n");
        // A head of exactly the limit passes; one byte more does not.
        let mut exact = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        exact.resize(60, b'a');
        exact.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(
            parse_response_head(&exact, limits),
            Ok(Parsed::Complete { len: 64, .. })
        ));
        exact.insert(20, b'a');
        assert!(error(&exact, limits).contains("larger than 64 bytes"));
        // libcurl 8's limit is 300 KiB of lines.
        let filler = format!("X-Filler: {}\r\n", "a".repeat(1000));
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() <= 300 * 1024 {
            big.extend_from_slice(filler.as_bytes());
        }
        assert!(error(&big, Limits::DEFAULT).contains("larger than 307200 bytes"));
        assert_eq!(
            parse_response_head(&big[..250_000], Limits::DEFAULT),
            Ok(Parsed::Partial)
        );
    }

    #[test]
    fn content_length_lines_are_checked_as_they_come_when_asked() {
        let bad = b"HTTP/1.1 200 OK swsclose\r\nDate: today\r\nContent-Length: -6\r\n";
        let before: &[u8] = b"HTTP/1.1 200 OK swsclose\r\nDate: today\r\n";
        let mut reader = HeadReader::new(Limits::DEFAULT).checking_content_length();
        let error = reader.feed(bad).unwrap_err();
        assert_eq!(error.0, "Invalid Content-Length: value");
        assert_eq!(reader.refusal(), Some(HeadRefusal::Malformed));
        assert_eq!(reader.taken_lines(), before);
        // Split anywhere: the same refusal, the same lines before it.
        for_each_split(bad, |offset, first, second| {
            let mut reader = HeadReader::new(Limits::DEFAULT).checking_content_length();
            let error = reader
                .feed(first)
                .and_then(|_| reader.feed(second))
                .unwrap_err();
            assert_eq!(error.0, "Invalid Content-Length: value", "at {offset}");
            assert_eq!(reader.taken_lines(), before, "at {offset}");
        });
        let refused: &[&[u8]] = &[
            b"Content-Length: -6\r\n",
            b"Content-Length: 5\r\nContent-Length: 6\r\n",
            b"Content-Length: 5, 6\r\n",
            b"Content-Length: abc\r\n",
            b"content-length:\r\n",
        ];
        for fields in refused {
            let input = [&b"HTTP/1.1 200 OK\r\n"[..], fields, b"\r\n"].concat();
            let mut reader = HeadReader::new(Limits::DEFAULT).checking_content_length();
            assert!(reader.feed(&input).is_err(), "{}", hexdump(&input));
        }
        // Accepted: agreeing values; a head that has no body whatever it
        // says; a reader that does not check (the default).
        let accepted: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5, 5\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\nContent-Length: -1\r\n\r\n",
        ];
        for input in accepted {
            let mut reader = HeadReader::new(Limits::DEFAULT).checking_content_length();
            assert!(
                matches!(reader.feed(input), Ok((_, Some(_)))),
                "{}",
                hexdump(input)
            );
        }
        let mut reader = HeadReader::new(Limits::DEFAULT);
        assert!(matches!(reader.feed(bad), Ok((_, None))));
        // Each head starts afresh: a 103's length is not the final head's.
        let two = b"HTTP/1.1 103 Hints\r\nContent-Length: 7\r\n\r\n\
                    HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let mut reader = HeadReader::new(Limits::DEFAULT).checking_content_length();
        let (used, _) = reader.feed(two).unwrap();
        assert!(matches!(reader.feed(&two[used..]), Ok((_, Some(_)))));
    }

    #[test]
    fn too_many_headers_are_refused_even_while_partial() {
        let limits = Limits {
            max_headers: 3,
            ..Limits::DEFAULT
        };
        let three = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n  folded\r\nC: 3\r\n";
        assert_eq!(parse_response_head(three, limits), Ok(Parsed::Partial));
        let complete_three = [&three[..], b"\r\n"].concat();
        assert!(matches!(
            parse_response_head(&complete_three, limits),
            Ok(Parsed::Complete { .. })
        ));
        let four = [&three[..], b"D: 4\r\n"].concat();
        assert!(error(&four, limits).contains("more than 3 header fields"));
        // Counted over every head of the reader.
        let mut reader = HeadReader::new(limits);
        reader
            .feed(b"HTTP/1.1 103 Hints\r\nA: 1\r\nB: 2\r\n\r\n")
            .unwrap();
        assert!(reader.feed(b"HTTP/1.1 200 OK\r\nC: 3\r\nD: 4\r\n").is_err());
        assert_eq!(reader.refusal(), Some(HeadRefusal::TooManyFields));
        // libcurl 8's limit: 5000.
        assert_eq!(Limits::default().max_headers, 5000);
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for _ in 0..5001 {
            many.extend_from_slice(b"A: b\r\n");
        }
        assert!(error(&many, Limits::default()).contains("more than 5000"));
    }

    #[test]
    fn garbage_never_panics_and_complete_lengths_stay_in_bounds() {
        let mut garbage = Garbage::new(0x4854_5450);
        let alphabet = b"HTTP/1.0 2\r\n\n:\t aZ\x00\x7f\xff";
        let limits = Limits {
            max_line_bytes: 40,
            max_head_bytes: 200,
            max_headers: 8,
        };
        for round in 0..20_000 {
            let len = (garbage.next_u64() % 120) as usize;
            let mut input = garbage.bytes(len);
            if round % 2 == 0 {
                for b in &mut input {
                    *b = alphabet[usize::from(*b) % alphabet.len()];
                }
                if round % 4 == 0 {
                    input.splice(0..0, b"HTTP/1.1 200 OK\r\n".iter().copied());
                }
            }
            for limits in [limits, Limits::default()] {
                if let Ok(Parsed::Complete { head, len }) = parse_response_head(&input, limits) {
                    assert!(len <= input.len() && len <= limits.max_head_bytes);
                    let _ = head.content_length();
                    let _ = head.is_chunked();
                    if let Ok(mut skipper) = BodySkipper::new(&head, false) {
                        if let Ok(used) = skipper.feed(&input[len..]) {
                            assert!(used <= input.len() - len);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn content_length_accepts_agreeing_duplicates_only() {
        let cases: &[(Values, Result<Option<u64>, ()>)] = &[
            (&[], Ok(None)),
            (&["0"], Ok(Some(0))),
            (&["42"], Ok(Some(42))),
            (&["42", "42"], Ok(Some(42))),
            (&["42, 42"], Ok(Some(42))),
            (&["42,42", " 42 "], Ok(Some(42))),
            (&["0042"], Ok(Some(42))),
            (&["9223372036854775807"], Ok(Some(MAX_CONTENT_LENGTH))),
            // Out of range: ignored, as libcurl ignores it (curl test 395).
            (&["9223372036854775808"], Ok(None)),
            (&["36893488147419103232"], Ok(None)),
            (&["36893488147419103232", "5"], Ok(Some(5))),
            (&["42", "43"], Err(())),
            (&["42, 43"], Err(())),
            (&["42,"], Err(())),
            (&[""], Err(())),
            (&["abc"], Err(())),
            (&["-1"], Err(())),
            (&["+1"], Err(())),
            (&["1 2"], Err(())),
            (&["0x10"], Err(())),
            (&["-6"], Err(())),
        ];
        for (values, expected) in cases {
            let headers: Vec<(&str, &str)> =
                values.iter().map(|v| ("Content-Length", *v)).collect();
            let head = head_with(200, &headers);
            assert_eq!(
                head.content_length().map_err(|_| ()),
                *expected,
                "{values:?}"
            );
        }
        let head = head_with(200, &[("content-length", "7"), ("CONTENT-LENGTH", "8")]);
        assert!(head.content_length().unwrap_err().0.contains("conflicting"));
    }

    #[test]
    fn chunked_means_the_last_transfer_coding_is_chunked() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["chunked"], true),
            (&["Chunked"], true),
            (&["gzip, chunked"], true),
            (&["gzip,chunked  "], true),
            (&["chunked, gzip"], false),
            (&["gzip", "chunked"], true),
            (&["chunked", "gzip"], false),
            (&["chunked, "], true),
            (&["gzip"], false),
            (&["chunkedx"], false),
            (&[""], false),
        ];
        for (values, expected) in cases {
            let headers: Vec<(&str, &str)> =
                values.iter().map(|v| ("Transfer-Encoding", *v)).collect();
            assert_eq!(
                head_with(200, &headers).is_chunked(),
                *expected,
                "{values:?}"
            );
        }
    }

    #[test]
    fn more_than_five_transfer_codings_are_refused() {
        let five = [
            ("Transfer-Encoding", "gzip, gzip,gzip"),
            ("Transfer-Encoding", "gzip,gzip, chunked"),
        ];
        assert!(head_with(200, &five).check_transfer_codings().is_ok());
        let one_line = "gzip,".repeat(6);
        let error = head_with(200, &[("Transfer-Encoding", one_line.as_str())])
            .check_transfer_codings()
            .unwrap_err();
        assert!(error.0.contains("more than 5"), "{error}");
        let many: Vec<(&str, &str)> = (0..100).map(|_| ("Transfer-Encoding", "gzip")).collect();
        assert!(head_with(200, &many).check_transfer_codings().is_err());
        assert!(head_with(200, &[]).check_transfer_codings().is_ok());
    }

    #[test]
    fn status_lines_libcurl_calls_unsupported_are_told_apart() {
        let long = format!("HTTP/1.1 {} OK\r\n\r\n", "0123456789".repeat(10));
        let long_minor = format!("HTTP/1.{} 200 OK\r\n\r\n", "0123456789".repeat(10));
        let unsupported: &[&[u8]] = &[
            b"HTTP/1.2 200 OK\r\n\r\n",
            b"HTTP/1.1 -12 OK\r\n\r\n",
            b"HTTP/1.1 2 OK\r\n\r\n",
            b"HTTP/1.1 099 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/2 200\r\n\r\n",
            b"HTTP/1.x 200\r\n\r\n",
            // No code at all; byte by byte its start `HTTP/1.1\r` is
            // refused early, whole the line: the same answer either way.
            b"HTTP/1.1\r\n\r\n",
            long.as_bytes(),
            long_minor.as_bytes(),
        ];
        for wire in unsupported {
            for piece in [1, wire.len()] {
                let mut reader = HeadReader::new(Limits::DEFAULT);
                let failed = wire.chunks(piece).find_map(|part| reader.feed(part).err());
                assert!(failed.is_some(), "{:?}", String::from_utf8_lossy(wire));
                assert!(
                    reader.is_unsupported(),
                    "{:?}",
                    String::from_utf8_lossy(wire)
                );
            }
        }
        // Malformed, but not for its version or code: a weird reply.
        let weird: &[&[u8]] = &[
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"HTTP/1.1 200 OK\x01\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ];
        for wire in weird {
            let mut reader = HeadReader::new(Limits::DEFAULT);
            assert!(reader.feed(wire).is_err());
            assert!(
                !reader.is_unsupported(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
        let mut reader = HeadReader::new(Limits::DEFAULT);
        assert!(reader.feed(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().1.is_some());
        assert!(!reader.is_unsupported());
    }
}
